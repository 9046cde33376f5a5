package store

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"sync"

	"abusedesk/internal/report"
)

// insertBatch is the group-commit path: the reports of one commit go in a
// few multi-row INSERTs instead of five statements each. On SQLite the
// statement overhead through database/sql and modernc was most of the
// writer's time, and the writer is SQLite's bottleneck; on PostgreSQL each
// statement is a round trip (bench/json.sh).
func (s *Store) insertBatch(ctx context.Context, t sqlTx, jobs []*job) error {
	plain := make([]*job, 0, len(jobs))
	for _, j := range jobs {
		if j.nr.IdempotencyKey != "" {
			// A keyed report checks for its twin first, one at a time.
			rc, err := s.insertReport(ctx, t, j.nr)
			if err != nil {
				return err
			}
			j.rc = rc
			continue
		}
		plain = append(plain, j)
	}
	if len(plain) == 0 {
		return nil
	}
	n := len(plain)
	args := make([]any, 0, n*len(reportColumns))
	for _, j := range plain {
		p := j.nr.prepare()
		args = append(args, p.sha, j.nr.ContentType, int64(len(j.nr.Raw)), j.nr.Channel, j.nr.ReceivedAt.UTC(), j.nr.Raw)
	}
	rawIDs, err := s.insertRows(ctx, t, "raw_submissions", rawColumns, n, args, true)
	if err != nil {
		return err
	}
	// On SQLite each report's incident rows get the next range of ids, which
	// its row names (see incidents.go).
	var next int64
	if s.Dialect == SQLite {
		if next, err = s.nextIncidentID(ctx, t); err != nil {
			return err
		}
	}
	firsts := make([]int64, n)
	args = args[:0]
	for i, j := range plain {
		r := j.nr.Report
		p := j.nr.prepare()
		j.rc = Receipt{PublicID: p.publicID, Token: p.token, Status: report.StatusReceived}
		incs, _ := itemsOf(r)
		firsts[i] = next
		next += int64(len(incs))
		args = append(args, p.publicID, p.tokenHash, r.Type, r.Subtype, j.nr.Channel, j.rc.Status, r.Lane, r.Language,
			r.Reporter.Name, r.Reporter.Email, r.Reporter.Organization, r.Reporter.Kind,
			r.ShareContactWithCustomer, r.Description, p.details, itemCount(r), rawIDs[i], j.nr.ReceivedAt.UTC(), outcomeOrNil(r.Outcome), r.NotOurs,
			s.firstIncident(firsts[i], len(incs)), len(incs), r.Rule)
	}
	reportIDs, err := s.insertRows(ctx, t, "reports", reportColumns, n, args, true)
	if err != nil {
		return err
	}
	args = args[:0]
	rows := 0
	var buf []byte
	for i, j := range plain {
		j.rc.ID = reportIDs[i]
		incs, urls := itemsOf(j.nr.Report)
		for k := range incs {
			args, buf = s.appendIncidentRow(args, j.rc.ID, firsts[i], k+1, &incs[k], buf)
			if rows++; rows == maxChunk {
				if _, err := s.insertRows(ctx, t, "incidents", s.incidentColumns(), rows, args, false); err != nil {
					return err
				}
				args, rows = args[:0], 0
			}
		}
		for k, u := range urls {
			if err := t.exec(ctx, s.Q("insert-url"), j.rc.ID, k+1, u.URL, u.Description, u.VideoTimestamp, u.Verdict, u.Resource, u.Account); err != nil {
				return err
			}
		}
		if err := s.recordConsent(ctx, t, j.rc.ID, j.nr.Report.ShareContactWithCustomer, j.nr.Channel, j.nr.ReceivedAt.UTC()); err != nil {
			return err
		}
		if err := s.queueForCases(ctx, t, j.rc.ID, hasAssigned(j.nr.Report), j.nr.ackChannel()); err != nil {
			return err
		}
	}
	if rows > 0 {
		if _, err := s.insertRows(ctx, t, "incidents", s.incidentColumns(), rows, args, false); err != nil {
			return err
		}
	}
	return nil
}

var (
	rawColumns    = []string{"sha256", "content_type", "size", "channel", "received_at", "body"}
	reportColumns = []string{"public_id", "token_hash", "type", "subtype", "channel", "status", "lane", "language",
		"reporter_name", "reporter_email", "reporter_org", "reporter_kind", "share_contact", "description",
		"details", "item_count", "raw_id", "created_at", "outcome", "not_ours", "first_incident", "incident_count", "lane_rule"}
	multiInserts sync.Map // "table/rows" → statement
)

// Multi-row statements come in sizes that are powers of two up to
// maxChunk, prepared when the store opens: parsing a fresh statement for
// every batch size cost a fifth of the writer's time (pprof of serve under
// bench/json.sh). A batch of 24 rows is then a statement of 16 and one of 8.
const maxChunk = 64

func chunkSizes() []int { return []int{64, 32, 16, 8, 4, 2, 1} }

// multiInsert is the text of an n-row INSERT into table (SQLite "?" form).
func multiInsert(table string, cols []string, n int) string {
	key := table + "/" + strconv.Itoa(n)
	if q, ok := multiInserts.Load(key); ok {
		return q.(string)
	}
	row := "(" + strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",") + ")"
	q := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES " + strings.TrimSuffix(strings.Repeat(row+",", n), ",")
	multiInserts.Store(key, q)
	return q
}

// batchStatements lists the statements insertBatch uses, for prepare.
func batchStatements() []string {
	var out []string
	for _, k := range chunkSizes() {
		out = append(out, multiInsert("raw_submissions", rawColumns, k), multiInsert("reports", reportColumns, k),
			multiInsert("incidents", incidentColumnsSQLite, k))
	}
	return out
}

// insertRows inserts n rows (args holds len(cols) values per row) and, if
// wantIDs, returns their ids in order.
func (s *Store) insertRows(ctx context.Context, t sqlTx, table string, cols []string, n int, args []any, wantIDs bool) ([]int64, error) {
	if s.Dialect == Postgres {
		return s.insertRowsPostgres(ctx, t, table, cols, n, args, wantIDs)
	}
	// SQLite gives the rows of one INSERT into a rowid table consecutive
	// ids ending at last_insert_rowid(): each new rowid is the largest so
	// far plus one (https://sqlite.org/autoinc.html), and this connection
	// is the only writer.
	var ids []int64
	for done := 0; done < n; {
		k := maxChunk
		for k > n-done {
			k /= 2
		}
		q := multiInsert(table, cols, k)
		st, err := t.stmt(ctx, q)
		if err != nil {
			return nil, err
		}
		chunk := args[done*len(cols) : (done+k)*len(cols)]
		var res sql.Result
		if st != nil {
			res, err = st.ExecContext(ctx, chunk...)
		} else {
			res, err = t.ExecContext(ctx, q, chunk...)
		}
		if err != nil {
			return nil, err
		}
		if wantIDs {
			last, err := res.LastInsertId()
			if err != nil {
				return nil, err
			}
			for id := last - int64(k) + 1; id <= last; id++ {
				ids = append(ids, id)
			}
		}
		done += k
	}
	return ids, nil
}

// insertRowsPostgres draws the ids from the table's sequence first (other
// writers draw too, so they need not be consecutive) and inserts them
// explicitly: RETURNING's row order is not promised.
func (s *Store) insertRowsPostgres(ctx context.Context, t sqlTx, table string, cols []string, n int, args []any, wantIDs bool) ([]int64, error) {
	var ids []int64
	if wantIDs {
		rows, err := t.QueryContext(ctx, "SELECT nextval(pg_get_serial_sequence($1, 'id')) FROM generate_series(1, $2)", table, n)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		withID := make([]any, 0, n*(len(cols)+1))
		for i := 0; i < n; i++ {
			withID = append(withID, ids[i])
			withID = append(withID, args[i*len(cols):(i+1)*len(cols)]...)
		}
		args, cols = withID, append([]string{"id"}, cols...)
	}
	var b strings.Builder
	b.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ")")
	if wantIDs {
		b.WriteString(" OVERRIDING SYSTEM VALUE")
	}
	b.WriteString(" VALUES ")
	p := 1
	for r := 0; r < n; r++ {
		if r > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for c := range cols {
			if c > 0 {
				b.WriteByte(',')
			}
			b.WriteString("$" + strconv.Itoa(p))
			p++
		}
		b.WriteByte(')')
	}
	_, err := t.ExecContext(ctx, b.String(), args...)
	return ids, err
}
