package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"sync"

	"abusedesk/internal/report"
)

// insertBatch is the group-commit path on SQLite: the reports of one commit
// go in a few multi-row INSERTs instead of five statements each. Statement
// overhead through database/sql and modernc was most of the writer's time,
// and the writer is SQLite's bottleneck (bench/json.sh).
//
// It relies on SQLite giving the rows of one INSERT into a rowid table
// consecutive ids, ending at last_insert_rowid(): each new rowid is the
// largest so far plus one (https://sqlite.org/autoinc.html), and this
// connection is the only writer.
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
	args := make([]any, 0, n*18)
	for _, j := range plain {
		if j.nr.Raw == nil {
			j.nr.Raw = []byte{}
		}
		sum := sha256.Sum256(j.nr.Raw)
		args = append(args, hex.EncodeToString(sum[:]), j.nr.ContentType, int64(len(j.nr.Raw)), j.nr.Channel, j.nr.ReceivedAt.UTC(), j.nr.Raw)
	}
	firstRaw, err := s.insertRows(ctx, t, "raw_submissions", rawColumns, n, args)
	if err != nil {
		return err
	}
	args = args[:0]
	for i, j := range plain {
		r := j.nr.Report
		j.rc = Receipt{PublicID: NewPublicID("R-"), Token: NewToken(), Status: report.StatusReceived}
		args = append(args, j.rc.PublicID, HashToken(j.rc.Token), r.Type, r.Subtype, j.nr.Channel, j.rc.Status, r.Lane, r.Language,
			r.Reporter.Name, r.Reporter.Email, r.Reporter.Organization, r.Reporter.Kind,
			r.ShareContactWithCustomer, r.Description, reportDetails(r), itemCount(r), firstRaw+int64(i), j.nr.ReceivedAt.UTC())
	}
	firstReport, err := s.insertRows(ctx, t, "reports", reportColumns, n, args)
	if err != nil {
		return err
	}
	args = args[:0]
	rows := 0
	for i, j := range plain {
		j.rc.ID = firstReport + int64(i)
		incs, urls := itemsOf(j.nr.Report)
		for k := range incs {
			args = appendIncidentArgs(args, j.rc.ID, k+1, &incs[k])
			if rows++; rows == incidentBatch {
				if err := t.exec(ctx, s.incidentInsert(rows), args...); err != nil {
					return err
				}
				args, rows = args[:0], 0
			}
		}
		for k, u := range urls {
			if err := t.exec(ctx, s.Q("insert-url"), j.rc.ID, k+1, u.URL, u.Description, u.VideoTimestamp); err != nil {
				return err
			}
		}
		if err := s.recordConsent(ctx, t, j.rc.ID, j.nr.Report.ShareContactWithCustomer, j.nr.Channel, j.nr.ReceivedAt.UTC()); err != nil {
			return err
		}
	}
	if rows > 0 {
		if err := t.exec(ctx, s.incidentInsert(rows), args...); err != nil {
			return err
		}
	}
	return nil
}

var (
	rawColumns    = []string{"sha256", "content_type", "size", "channel", "received_at", "body"}
	reportColumns = []string{"public_id", "token_hash", "type", "subtype", "channel", "status", "lane", "language",
		"reporter_name", "reporter_email", "reporter_org", "reporter_kind", "share_contact", "description",
		"details", "item_count", "raw_id", "created_at"}
	multiInserts sync.Map // "table/rows" → statement
)

// insertRows inserts n rows in one statement and returns the first id.
func (s *Store) insertRows(ctx context.Context, t sqlTx, table string, cols []string, n int, args []any) (int64, error) {
	key := table + "/" + strconv.Itoa(n)
	q, ok := multiInserts.Load(key)
	if !ok {
		row := "(" + strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",") + ")"
		q = "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES " + strings.TrimSuffix(strings.Repeat(row+",", n), ",")
		multiInserts.Store(key, q)
	}
	res, err := t.ExecContext(ctx, q.(string), args...)
	if err != nil {
		return 0, err
	}
	last, err := res.LastInsertId()
	return last - int64(n) + 1, err
}
