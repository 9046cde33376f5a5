package store

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"abusedesk/internal/report"
)

// NewReport is a validated report about to be stored, with its raw
// submission kept unchanged.
type NewReport struct {
	Report         *report.Report
	Channel        string // api, form, xarf, csv, mail
	Raw            []byte
	ContentType    string
	IdempotencyKey string
	ReceivedAt     time.Time
	// NoAck keeps the acknowledgement mail of a channel that has one (a
	// mail) from going out: machine senders (feedback loops, feeds) are
	// never answered.
	NoAck bool

	p *preparedReport
}

// preparedReport is what can be computed before the writer takes a report:
// the group-commit writer is SQLite's one bottleneck, so hashing and id
// drawing happen on the request's goroutine (Writer.Submit).
type preparedReport struct {
	sha       string
	publicID  string
	token     string
	tokenHash []byte
	details   any
}

func (nr *NewReport) prepare() *preparedReport {
	if nr.p == nil {
		if nr.Raw == nil {
			nr.Raw = []byte{} // an empty submission is stored as empty, not NULL
		}
		sum := sha256.Sum256(nr.Raw)
		tok := NewToken()
		nr.p = &preparedReport{sha: hex.EncodeToString(sum[:]), publicID: NewPublicID("R-"), token: tok,
			tokenHash: HashToken(tok), details: reportDetails(nr.Report)}
	}
	return nr.p
}

// Receipt is what the reporter gets back.
type Receipt struct {
	ID       int64
	PublicID string
	Status   string
	Token    string
	Replayed bool // an Idempotency-Key matched a report of the last 24 h
}

// IdempotencyWindow is how long an Idempotency-Key is remembered.
const IdempotencyWindow = 24 * time.Hour

// RawChunkSize bounds one stored piece of a raw submission.
const RawChunkSize = 1 << 20

var errIdempotencyRace = errors.New("idempotency key claimed concurrently")

// insertReport writes one report and everything it carries inside t.
func (s *Store) insertReport(ctx context.Context, t tx, nr *NewReport) (Receipt, error) {
	r := nr.Report
	at := nr.ReceivedAt.UTC()
	if nr.IdempotencyKey != "" {
		var rc Receipt
		ok, err := t.scan(ctx, s.Q("idempotent-report"),
			[]any{r.Reporter.Email, nr.IdempotencyKey, at.Add(-IdempotencyWindow)},
			&rc.PublicID, &rc.Status, &rc.Token)
		if err != nil {
			return rc, err
		}
		if ok {
			rc.Replayed = true
			return rc, nil
		}
	}
	p := nr.prepare()
	rawID, err := s.insertRaw(ctx, t, p.sha, nr.ContentType, int64(len(nr.Raw)), nr.Channel, at, nr.Raw)
	if err != nil {
		return Receipt{}, err
	}
	incs, _ := itemsOf(r)
	var first int64
	if s.Dialect == SQLite && len(incs) > 0 {
		if first, err = s.nextIncidentID(ctx, t); err != nil {
			return Receipt{}, err
		}
	}
	rc := Receipt{PublicID: p.publicID, Token: p.token, Status: report.StatusReceived}
	rc.ID, err = s.insertReportRow(ctx, t, rc, nr, rawID, itemCount(r), s.firstIncident(first, len(incs)), len(incs))
	if err != nil {
		return rc, err
	}
	if err := s.insertItems(ctx, t, rc.ID, first, r); err != nil {
		return rc, err
	}
	if err := s.queueForCases(ctx, t, rc.ID, hasAssigned(r), nr.ackChannel()); err != nil {
		return rc, err
	}
	if err := s.recordConsent(ctx, t, rc.ID, r.ShareContactWithCustomer, nr.Channel, at); err != nil {
		return rc, err
	}
	if nr.IdempotencyKey != "" {
		var got int64
		ok, err := t.scan(ctx, s.Q("claim-idempotency-key"),
			[]any{r.Reporter.Email, nr.IdempotencyKey, rc.ID, rc.Token, at, at.Add(-IdempotencyWindow)}, &got)
		if err != nil {
			return rc, err
		}
		if !ok {
			return rc, errIdempotencyRace
		}
	}
	return rc, nil
}

func outcomeOrNil(o string) any {
	if o == "" {
		return nil
	}
	return o
}

func itemCount(r *report.Report) int {
	n := len(r.Incidents) + len(r.URLs)
	if r.DMCA != nil {
		n += len(r.DMCA.Infringing)
	}
	return n
}

// insertRaw records a submission; body is nil when it comes in chunks.
func (s *Store) insertRaw(ctx context.Context, t tx, sha, contentType string, size int64, channel string, at time.Time, body []byte) (int64, error) {
	var b any
	if body != nil {
		b = body
	}
	return t.insertID(ctx, s.Q("insert-raw"), s.Q("insert-raw:exec"), sha, contentType, size, channel, at, b)
}

// insertReportRow writes the report row; firstIncident and incidents say
// where its incident rows are (see firstIncident).
func (s *Store) insertReportRow(ctx context.Context, t tx, rc Receipt, nr *NewReport, rawID int64, items int, firstIncident any, incidents int) (int64, error) {
	return t.insertID(ctx, s.Q("insert-report"), s.Q("insert-report:exec"), s.reportArgs(rc, nr, rawID, items, firstIncident, incidents)...)
}

// reportArgs are the values of insert-report.
func (s *Store) reportArgs(rc Receipt, nr *NewReport, rawID int64, items int, firstIncident any, incidents int) []any {
	r := nr.Report
	return []any{rc.PublicID, HashToken(rc.Token), r.Type, r.Subtype, nr.Channel, rc.Status, r.Lane, r.Language,
		r.Reporter.Name, r.Reporter.Email, r.Reporter.Organization, r.Reporter.Kind,
		r.ShareContactWithCustomer, r.Description, nr.prepare().details, items, rawID, nr.ReceivedAt.UTC(), outcomeOrNil(r.Outcome), r.NotOurs,
		firstIncident, incidents, r.Rule}
}

// recordConsent writes the reporter's consent to the ledger. The ledger
// holds acts: a grant, later a revocation. No row means never granted, the
// default, so a report without consent writes none.
// reportDetails is the JSON of what a report carries besides items: the
// message of an email report, the notice of a DMCA report; NULL otherwise.
func reportDetails(r *report.Report) any {
	switch {
	case r.EmailMessage != nil:
		b, _ := json.Marshal(map[string]any{"email_message": r.EmailMessage})
		return string(b)
	case r.DMCA != nil:
		b, _ := json.Marshal(map[string]any{"dmca": r.DMCA})
		return string(b)
	}
	return nil
}

func (s *Store) recordConsent(ctx context.Context, t tx, reportID int64, granted bool, channel string, at time.Time) error {
	if !granted {
		return nil
	}
	return t.exec(ctx, s.Q("insert-consent"), reportID, "reporter", "share_contact_with_customer", true, channel, at)
}

// itemsOf lists what a report carries as incident rows (incidents, and DMCA
// locations given by IP) and url rows (URLs, and DMCA locations given by
// URL): attribution later reads items, whatever the report type.
func itemsOf(r *report.Report) ([]report.Incident, []report.URLItem) {
	incs, urls := r.Incidents, r.URLs
	if r.DMCA != nil {
		for _, it := range r.DMCA.Infringing {
			if it.URL != "" {
				urls = append(urls, report.URLItem{URL: it.URL, Description: "infringing material", Attribution: it.Attribution})
			} else {
				incs = append(incs, report.Incident{SourceIP: it.IP, SourcePort: it.Port, Timestamp: it.Timestamp, At: it.At, Log: "infringing material (DMCA notice)", Attribution: it.Attribution})
			}
		}
	}
	return incs, urls
}

// insertItems stores a report's items; first is the id of its first
// incident row on SQLite.
func (s *Store) insertItems(ctx context.Context, t tx, reportID, first int64, r *report.Report) error {
	incs, urls := itemsOf(r)
	cols := len(s.incidentColumns())
	var buf []byte
	for off := 0; off < len(incs); off += incidentChunk {
		end := min(off+incidentChunk, len(incs))
		args := make([]any, 0, (end-off)*cols)
		for i := off; i < end; i++ {
			args, buf = s.appendIncidentRow(args, reportID, first, i+1, &incs[i], buf)
		}
		if err := t.exec(ctx, s.incidentInsert(end-off), args...); err != nil {
			return err
		}
	}
	for i, u := range urls {
		if err := t.exec(ctx, s.Q("insert-url"), reportID, i+1, u.URL, u.Description, u.VideoTimestamp, u.Verdict, u.Resource, u.Account); err != nil {
			return err
		}
	}
	return nil
}

// The incidents of one report go in multi-row INSERTs: one statement per
// row costs SQLite a VDBE run each, a hundred rows per statement amortise
// it (DESIGN.md).
const incidentChunk = 100

var incidentInserts sync.Map // (dialect, rows) → statement text

type insertKey struct {
	dialect string
	rows    int
}

// incidentInsert builds the statement for rows rows, with their keys. On
// SQLite its placeholders are anonymous "?": with numbered ones ($1…$1000)
// modernc's bind looks each name up in a list, quadratic in the number of
// parameters, and that cost 4× the insert itself (measured with abusedesk
// bench csv --cpuprofile). PostgreSQL only knows $N.
func (s *Store) incidentInsert(rows int) string {
	k := insertKey{s.Dialect, rows}
	if q, ok := incidentInserts.Load(k); ok {
		return q.(string)
	}
	cols := s.incidentColumns()
	var b strings.Builder
	b.WriteString("INSERT INTO incidents (" + strings.Join(cols, ", ") + ") VALUES ")
	n := 1
	for r := 0; r < rows; r++ {
		if r > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for c := range cols {
			if c > 0 {
				b.WriteByte(',')
			}
			if s.Dialect == Postgres {
				b.WriteString("$" + strconv.Itoa(n))
				n++
			} else {
				b.WriteByte('?')
			}
		}
		b.WriteByte(')')
	}
	q := b.String()
	incidentInserts.Store(k, q)
	return q
}

// InsertReport stores one report in its own transaction. The group-commit
// Writer is the fast path; this one serves tools and tests.
func (s *Store) InsertReport(ctx context.Context, nr *NewReport) (Receipt, error) {
	t, err := s.W.BeginTx(ctx, nil)
	if err != nil {
		return Receipt{}, err
	}
	defer t.Rollback()
	rc, err := s.insertReport(ctx, sqlTx{t, s}, nr)
	if err != nil {
		return rc, err
	}
	return rc, t.Commit()
}

// IdempotentReport finds the report an Idempotency-Key of this reporter
// named within the window before at.
func (s *Store) IdempotentReport(ctx context.Context, email, key string, at time.Time) (Receipt, bool, error) {
	var rc Receipt
	err := s.R.QueryRowContext(ctx, s.Q("idempotent-report"), email, key, at.UTC().Add(-IdempotencyWindow)).Scan(&rc.PublicID, &rc.Status, &rc.Token)
	if isNoRows(err) {
		return rc, false, nil
	}
	rc.Replayed = err == nil
	return rc, err == nil, err
}

// ReportStatus is what a status token lets its holder read: never anything
// about the customer.
type ReportStatus struct {
	ID        int64
	PublicID  string
	TokenHash []byte
	Type      string
	Subtype   string
	Channel   string
	Status    string
	Outcome   string
	Lane      string
	Language  string
	Items     int
	NotOurs   int // items outside the provider's address space
	CreatedAt time.Time
}

// ErrNotFound is returned for unknown ids.
var ErrNotFound = errors.New("not found")

// ReportsByReporter lists a reporter's reports, the newest first (the
// email as given and in lower case).
func (s *Store) ReportsByReporter(ctx context.Context, email string, limit int) ([]ReportStatus, error) {
	// One index walk per spelling (an IN list would make PostgreSQL sort
	// every report of a big reporter).
	out, err := s.reportsByEmail(ctx, email, limit)
	if lower := strings.ToLower(email); err == nil && lower != email {
		var more []ReportStatus
		if more, err = s.reportsByEmail(ctx, lower, limit); err == nil {
			out = append(out, more...)
			slices.SortFunc(out, func(a, b ReportStatus) int { return cmp.Compare(b.ID, a.ID) })
			out = out[:min(len(out), limit)]
		}
	}
	return out, err
}

func (s *Store) reportsByEmail(ctx context.Context, email string, limit int) ([]ReportStatus, error) {
	rows, err := s.R.QueryContext(ctx, s.Q("reports-by-reporter"), email, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ReportStatus
	for rows.Next() {
		var st ReportStatus
		var outcome *string
		if err := rows.Scan(&st.ID, &st.PublicID, &st.TokenHash, &st.Type, &st.Subtype, &st.Channel, &st.Status, &outcome,
			&st.Lane, &st.Language, &st.Items, &st.NotOurs, &st.CreatedAt); err != nil {
			return nil, err
		}
		if outcome != nil {
			st.Outcome = *outcome
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

// ReportByPublicID reads a report's status row.
func (s *Store) ReportByPublicID(ctx context.Context, id string) (*ReportStatus, error) {
	var st ReportStatus
	var outcome *string
	err := s.R.QueryRowContext(ctx, s.Q("report-by-public-id"), id).Scan(&st.ID, &st.PublicID, &st.TokenHash,
		&st.Type, &st.Subtype, &st.Channel, &st.Status, &outcome, &st.Lane, &st.Language, &st.Items, &st.NotOurs, &st.CreatedAt)
	if err != nil {
		if isNoRows(err) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("report %s: %w", id, err)
	}
	if outcome != nil {
		st.Outcome = *outcome
	}
	return &st, nil
}
