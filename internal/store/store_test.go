package store_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"abusedesk/internal/report"
	"abusedesk/internal/store"
	"abusedesk/internal/store/storetest"
)

func networkReport(t *testing.T, email string) *report.Report {
	t.Helper()
	r := &report.Report{Type: "network", Subtype: "ddos", Reporter: report.Reporter{Name: "N", Email: email},
		Incidents: []report.Incident{{SourceIP: "203.0.113.7", Target: "198.51.100.1", Timestamp: "2026-03-02T10:00:00+01:00", Log: "flood"}}}
	if es := (&report.Validator{}).Validate(r); len(es) > 0 {
		t.Fatal(es)
	}
	return r
}

func TestInsertAndReadBack(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		raw := []byte(`{"type":"network", "é": "unchanged bytes"}`)
		rc, err := s.InsertReport(ctx, &store.NewReport{Report: networkReport(t, "a@example.org"), Channel: "api", Raw: raw, ContentType: "application/json", ReceivedAt: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		st, err := s.ReportByPublicID(ctx, rc.PublicID)
		if err != nil {
			t.Fatal(err)
		}
		if st.Type != "network" || st.Subtype != "ddos" || st.Items != 1 || st.Status != "received" || st.Lane != "general" {
			t.Errorf("read back %+v", st)
		}
		if string(st.TokenHash) != string(store.HashToken(rc.Token)) {
			t.Error("stored token hash does not match the token given out")
		}
		var rawID int64
		if err := s.R.QueryRow("SELECT raw_id FROM reports WHERE public_id = $1", rc.PublicID).Scan(&rawID); err != nil {
			t.Fatal(err)
		}
		incs, err := s.ReportIncidents(ctx, rc.ID, 10)
		if err != nil || len(incs) != 1 {
			t.Fatalf("incidents %+v %v", incs, err)
		}
		if want := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC); !incs[0].At.Equal(want) {
			t.Errorf("occurred_at = %v, want %v", incs[0].At, want)
		}
		if in := incs[0]; in.SourceIP != "203.0.113.7" || in.Target != "198.51.100.1" || in.Timestamp != "2026-03-02T10:00:00+01:00" ||
			in.Log != "flood" || in.SourcePort != nil || in.TargetPort != nil || in.Protocol != "" || in.Verdict != "" {
			t.Errorf("incident read back %+v", in)
		}
		sha, body, err := s.RawSubmission(ctx, rawID)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(raw)
		if string(body) != string(raw) || sha != hex.EncodeToString(sum[:]) {
			t.Errorf("raw = %q sha %s", body, sha)
		}
		if _, err := s.ReportByPublicID(ctx, "R-NOPE"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown id: %v", err)
		}
	})
}

func TestGroupCommitAndIdempotency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		w := s.NewWriter()
		defer w.Close()
		const n = 300
		var wg sync.WaitGroup
		ids := make([]string, n)
		errs := make([]error, n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				key := ""
				if i%3 == 0 {
					key = "same-key" // 100 submissions, one reporter, one key
				}
				rc, err := w.Submit(ctx, &store.NewReport{Report: networkReport(t, "idem@example.org"), Channel: "api", Raw: []byte("{}"), IdempotencyKey: key, ReceivedAt: time.Now()})
				ids[i], errs[i] = rc.PublicID, err
			}()
		}
		wg.Wait()
		distinct := map[string]bool{}
		keyed := map[string]bool{}
		for i := range ids {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			distinct[ids[i]] = true
			if i%3 == 0 {
				keyed[ids[i]] = true
			}
		}
		if len(keyed) != 1 {
			t.Errorf("one Idempotency-Key gave %d reports, want 1", len(keyed))
		}
		if want := n - n/3 + 1; len(distinct) != want {
			t.Errorf("%d distinct reports, want %d", len(distinct), want)
		}
		reports, _, err := s.Counts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if reports != int64(len(distinct)) {
			t.Errorf("%d reports stored, %d acknowledged", reports, len(distinct))
		}
		// The same key from another reporter is another report; after the
		// window it is a new one too.
		other, _ := w.Submit(ctx, &store.NewReport{Report: networkReport(t, "other@example.org"), Channel: "api", Raw: []byte("{}"), IdempotencyKey: "same-key", ReceivedAt: time.Now()})
		later, _ := w.Submit(ctx, &store.NewReport{Report: networkReport(t, "idem@example.org"), Channel: "api", Raw: []byte("{}"), IdempotencyKey: "same-key", ReceivedAt: time.Now().Add(25 * time.Hour)})
		if keyed[other.PublicID] || keyed[later.PublicID] || other.Replayed || later.Replayed {
			t.Errorf("key reused across reporters or after 24 h: %+v %+v", other, later)
		}
	})
}

// rows is an IncidentSource of n generated incidents; the 7th has a log
// that is not UTF-8, the 8th every field and a log JSON must escape.
type rows struct {
	s       *store.Store
	n, i    int
	verdict string // for every row, if set
}

func (r *rows) Next() (*store.IncidentBatch, error) {
	if r.i >= r.n {
		return nil, io.EOF
	}
	b := r.s.NewIncidentBatch()
	for r.i < r.n && !b.Full() {
		r.i++
		in := bulkRow(r.i)
		if r.verdict != "" {
			in.Verdict = r.verdict
		}
		b.Add(r.i, &in)
	}
	return b, nil
}

func (r *rows) Release(*store.IncidentBatch) {}

func bulkRow(i int) report.Incident {
	in := report.Incident{SourceIP: fmt.Sprintf("203.0.113.%d", i%250), Timestamp: "2026-03-02T10:00:00Z",
		At: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Millisecond), Log: fmt.Sprintf("line %d", i)}
	switch i {
	case 7:
		in.Log = "caf\xe9 \x00\xff latin-1"
	case 8:
		sp, tp := 51234, 22
		in.SourcePort, in.TargetPort, in.Target, in.Protocol = &sp, &tp, "198.51.100.20", "tcp"
		in.Timestamp = "2026-03-02T11:00:00.001+01:00"
		in.Log = "quote \" backslash \\ newline\n\r\ttab \x01 <html> & \u2028 é 😀"
		in.Attribution = report.Attribution{Verdict: "assigned", Resource: "i-1", Account: "acct-1"}
	case 9:
		in.Verdict = "not_ours"
	}
	return in
}

func TestBulk(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		raw := strings.Repeat("x", store.RawChunkSize+10) // two chunks
		common := &report.Report{Type: "network", Subtype: "port_scan", Reporter: report.Reporter{Name: "B", Email: "b@example.org"}}
		if es := (&report.Validator{}).ValidateBulk(common); len(es) > 0 {
			t.Fatal(es)
		}
		nb := &store.NewBulk{Report: common, Channel: "csv", ReceivedAt: time.Now(),
			Raw: func() (io.Reader, string, string, int64, error) {
				return strings.NewReader(raw), "text/csv", "abc", int64(len(raw)), nil
			},
			// All of it at once: SQLite stores the first chunk with the rows.
			RawSoFar: func() (io.ReaderAt, int64) { return strings.NewReader(raw), int64(len(raw)) }}
		rej := func() (int, []store.BulkReject) {
			return 1, []store.BulkReject{{Line: 7, Field: "ip", Code: "invalid_ip", Message: "bad"}}
		}
		res, err := s.InsertBulk(ctx, nb, &rows{s: s, n: 1234}, rej)
		if err != nil {
			t.Fatal(err)
		}
		if res.Accepted != 1234 {
			t.Errorf("accepted %d", res.Accepted)
		}
		reports, incidents, _ := s.Counts(ctx)
		if reports != 1 || incidents != 1234 {
			t.Errorf("counts %d reports %d incidents", reports, incidents)
		}
		st, _ := s.ReportByPublicID(ctx, res.PublicID)
		if st.Items != 1234 {
			t.Errorf("item_count %d", st.Items)
		}
		incs, err := s.ReportIncidents(ctx, res.ID, 2000)
		if err != nil || len(incs) != 1234 {
			t.Fatalf("%d incidents read back: %v", len(incs), err)
		}
		for i, in := range incs {
			want := bulkRow(i + 1)
			if !in.At.Equal(want.At) || in.Source.String() != want.SourceIP {
				t.Fatalf("incident %d: at %v source %v", i+1, in.At, in.Source)
			}
			want.At, want.Source = in.At, in.Source
			if !reflect.DeepEqual(in, want) {
				t.Fatalf("incident %d read back\n%+v\nwant\n%+v", i+1, in, want)
			}
		}
		var rawID int64
		s.R.QueryRow("SELECT raw_id FROM reports WHERE id = $1", res.ID).Scan(&rawID)
		if _, body, _ := s.RawSubmission(ctx, rawID); string(body) != raw {
			t.Errorf("raw upload not kept unchanged (%d bytes back of %d)", len(body), len(raw))
		}
		var nrej int
		s.R.QueryRow("SELECT count(*) FROM bulk_rejects WHERE import_id = $1", res.ImportID).Scan(&nrej)
		if nrej != 1 {
			t.Errorf("%d rejects kept", nrej)
		}
		// No good row: nothing at all is stored.
		if _, err := s.InsertBulk(ctx, nb, &rows{s: s, n: 0}, rej); !errors.Is(err, store.ErrBulkEmpty) {
			t.Fatalf("empty bulk: %v", err)
		}
		if r2, i2, _ := s.Counts(ctx); r2 != reports || i2 != incidents {
			t.Errorf("empty bulk stored something: %d %d", r2, i2)
		}
		// A verdict the store does not know is refused, not stored as NULL.
		if _, err := s.InsertBulk(ctx, nb, &rows{s: s, n: 3, verdict: "maybe"}, rej); err == nil || !strings.Contains(err.Error(), "maybe") {
			t.Errorf("unknown verdict: %v", err)
		}
		if r2, i2, _ := s.Counts(ctx); r2 != reports || i2 != incidents {
			t.Errorf("a refused bulk stored something: %d %d", r2, i2)
		}
	})
}

func TestLegalRequestAndKeys(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		q := &report.LegalRequest{Authority: report.Authority{Name: "Officer", Email: "o@police.example", Organization: "Police"}, Language: "fr", Description: "réquisition"}
		id, err := s.InsertLegalRequest(ctx, q, []byte("{}"), "application/json", "legal", time.Now())
		if err != nil || !strings.HasPrefix(id, "L-") {
			t.Fatalf("%q %v", id, err)
		}
		key, err := s.AddAPIKey(ctx, "partner")
		if err != nil {
			t.Fatal(err)
		}
		if k, err := s.LookupAPIKey(ctx, key); err != nil || k.Name != "partner" {
			t.Errorf("lookup: %+v %v", k, err)
		}
		if _, err := s.LookupAPIKey(ctx, key+"x"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("wrong key found: %v", err)
		}
		if err := s.Migrate(ctx); err != nil {
			t.Errorf("second migration: %v", err)
		}
	})
}

// TestGroupCommitKeepsRowsTogether: in a batch, each report gets its own
// raw submission, incidents and id (the SQLite path inserts a batch with
// multi-row statements and derives the ids).
func TestGroupCommitKeepsRowsTogether(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		w := s.NewWriter()
		defer w.Close()
		const n = 200
		rcs := make([]store.Receipt, n)
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := networkReport(t, fmt.Sprintf("r%d@example.org", i))
				r.Incidents = append(r.Incidents, r.Incidents[0])
				r.Incidents[0].Log, r.Incidents[1].Log = fmt.Sprintf("first %d", i), fmt.Sprintf("second %d", i)
				r.ShareContactWithCustomer = i%2 == 0
				rc, err := w.Submit(ctx, &store.NewReport{Report: r, Channel: "api", Raw: []byte(fmt.Sprintf(`{"n":%d}`, i)), ReceivedAt: time.Now()})
				if err != nil {
					t.Error(err)
				}
				rcs[i] = rc
			}()
		}
		wg.Wait()
		for i, rc := range rcs {
			var id, rawID int64
			var email string
			if err := s.R.QueryRow("SELECT id, raw_id, reporter_email FROM reports WHERE public_id = $1", rc.PublicID).Scan(&id, &rawID, &email); err != nil {
				t.Fatal(err)
			}
			if id != rc.ID || email != fmt.Sprintf("r%d@example.org", i) {
				t.Fatalf("report %d: id %d (receipt says %d), email %s", i, id, rc.ID, email)
			}
			var logs []string
			incs, err := s.ReportIncidents(ctx, id, 10)
			if err != nil {
				t.Fatal(err)
			}
			for _, in := range incs {
				logs = append(logs, in.Log)
			}
			if fmt.Sprint(logs) != fmt.Sprintf("[first %d second %d]", i, i) {
				t.Errorf("report %d incidents %v", i, logs)
			}
			if _, body, _ := s.RawSubmission(ctx, rawID); string(body) != fmt.Sprintf(`{"n":%d}`, i) {
				t.Errorf("report %d raw %q", i, body)
			}
			var consents int
			s.R.QueryRow("SELECT count(*) FROM consents WHERE report_id = $1 AND granted", id).Scan(&consents)
			if want := map[bool]int{true: 1, false: 0}[i%2 == 0]; consents != want {
				t.Errorf("report %d: %d consent rows, want %d", i, consents, want)
			}
		}
	})
}
