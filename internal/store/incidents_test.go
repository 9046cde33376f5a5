package store

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/pressly/goose/v3"

	"abusedesk/internal/report"
)

// FuzzEvidence: the hand-written JSON is valid, and reads back to the
// incident exactly (a log that is not UTF-8 included).
func FuzzEvidence(f *testing.F) {
	f.Add("2026-03-02T10:00:00+01:00", "198.51.100.20", "tcp", "sshd[1]: Failed password", 22, -1)
	f.Add("", "", "", "quote \" backslash \\ \n\r\t \x00 \x1f <>& \u2028 é 😀", -1, 0)
	f.Add("t", "h", "p", "caf\xe9 \xff\xfe", 65535, 1)
	f.Fuzz(func(t *testing.T, ts, target, proto, log string, tport, sport int) {
		in := report.Incident{Timestamp: ts, Target: target, Protocol: proto, Log: log}
		if tport >= 0 {
			in.TargetPort = &tport
		}
		if sport >= 0 {
			in.SourcePort = &sport
		}
		b := AppendEvidence(nil, &in)
		if !json.Valid(b) {
			t.Fatalf("invalid JSON %q", b)
		}
		var back report.Incident
		if err := ParseEvidence(string(b), &back); err != nil {
			t.Fatal(err)
		}
		// Fields other than the log are validated text: JSON keeps what is
		// UTF-8 and, like encoding/json, makes the rest U+FFFD.
		want := in
		for _, p := range []*string{&want.Timestamp, &want.Target, &want.Protocol} {
			if !utf8.ValidString(*p) {
				*p = string([]rune(*p))
			}
		}
		if !reflect.DeepEqual(back, want) {
			t.Fatalf("read back %+v\nwant %+v\nfrom %s", back, want, b)
		}
		// The same object as encoding/json's, but for its HTML escaping.
		ev := Evidence{Timestamp: want.Timestamp, SourcePort: in.SourcePort, Target: want.Target, TargetPort: in.TargetPort, Protocol: want.Protocol}
		if utf8.ValidString(log) {
			ev.Log = log
		} else {
			ev.LogBase64 = []byte(log)
		}
		var ours, theirs any
		std, _ := json.Marshal(ev)
		json.Unmarshal(b, &ours)
		json.Unmarshal(std, &theirs)
		if !reflect.DeepEqual(ours, theirs) {
			t.Fatalf("%s\nencoding/json: %s", b, std)
		}
	})
}

// TestMigrateIncidents: rows stored before 00005 read back the same after.
func TestMigrateIncidents(t *testing.T) {
	t.Run(SQLite, func(t *testing.T) {
		testMigrateIncidents(t, filepath.Join(t.TempDir(), "m.db"))
	})
	t.Run(Postgres, func(t *testing.T) {
		admin := os.Getenv("ABUSEDESK_TEST_POSTGRES") // storetest.EnvPostgres (an import cycle here)
		if admin == "" {
			t.Skip("PostgreSQL run disabled: set ABUSEDESK_TEST_POSTGRES to enable it")
		}
		dsn, drop, err := CreateScratchDatabase(context.Background(), admin, "abusedesk_test")
		if err != nil {
			t.Fatal(err)
		}
		defer drop()
		testMigrateIncidents(t, dsn)
	})
}

func testMigrateIncidents(t *testing.T, dsn string) {
	ctx := context.Background()
	s, err := open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sub, _ := fs.Sub(migrations, "migrations/"+s.Dialect)
	d := goose.DialectSQLite3
	if s.Dialect == Postgres {
		d = goose.DialectPostgres
	}
	p, err := goose.NewProvider(d, s.W, sub)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 4); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 2, 9, 0, 0, 123_000_000, time.UTC)
	mustExec := func(q string, args ...any) {
		t.Helper()
		if _, err := s.W.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	mustExec(`INSERT INTO raw_submissions (sha256, content_type, size, channel, received_at, body) VALUES ('x', 'text/csv', 0, 'csv', $1, NULL)`, at)
	for r := 1; r <= 2; r++ {
		mustExec(`INSERT INTO reports (public_id, token_hash, type, subtype, channel, status, lane, language, reporter_name,
			reporter_email, reporter_org, reporter_kind, share_contact, description, item_count, raw_id, created_at)
			VALUES ($1, $2, 'network', 'ddos', 'api', 'received', 'general', 'en', 'N', 'n@example.org', '', '', false, '', 2, 1, $3)`,
			NewPublicID("R-"), []byte{1}, at)
	}
	// Interleaved ids, as a group commit of several reports could leave them.
	old := `INSERT INTO incidents (report_id, seq, source_ip, source_port, target, target_port, protocol, occurred_at, occurred_text, log, verdict, resource, account)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`
	mustExec(old, 2, 1, "203.0.113.9", nil, "", nil, "", at, "2026-03-02T10:00:00.123+01:00", "second report", "not_ours", "", "")
	mustExec(old, 1, 1, "203.0.113.7", 51234, "198.51.100.20", 22, "tcp", at, "2026-03-02T10:00:00.123+01:00", "a \"log\"\nline", "assigned", "i-1", "acct-1")
	mustExec(old, 1, 2, "2001:db8::1", nil, "x.example", nil, "", at.Add(time.Second), "2026-03-02T09:00:01.123Z", "two", "", "", "")
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := s.ReportIncidents(ctx, 1, 10)
	if err != nil {
		t.Fatal(err)
	}
	sp, tp := 51234, 22
	want := []report.Incident{
		{SourceIP: "203.0.113.7", SourcePort: &sp, Target: "198.51.100.20", TargetPort: &tp, Protocol: "tcp", Timestamp: "2026-03-02T10:00:00.123+01:00",
			Log: "a \"log\"\nline", At: at, Attribution: report.Attribution{Verdict: "assigned", Resource: "i-1", Account: "acct-1"}},
		{SourceIP: "2001:db8::1", Target: "x.example", Timestamp: "2026-03-02T09:00:01.123Z", Log: "two", At: at.Add(time.Second)},
	}
	if len(got) != len(want) {
		t.Fatalf("%d incidents after the migration: %+v", len(got), got)
	}
	for i := range want {
		if !got[i].At.Equal(want[i].At) {
			t.Errorf("incident %d at %v, want %v", i, got[i].At, want[i].At)
		}
		want[i].At, want[i].Source = got[i].At, got[i].Source
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("incident %d\n%+v\nwant\n%+v", i, got[i], want[i])
		}
	}
	if other, err := s.ReportIncidents(ctx, 2, 10); err != nil || len(other) != 1 || other[0].Log != "second report" || other[0].Verdict != "not_ours" {
		t.Errorf("report 2: %+v %v", other, err)
	}
	// And back down: the old table, its rows in order.
	if _, err := p.DownTo(ctx, 4); err != nil {
		t.Fatal(err)
	}
	var n int
	var log string
	if err := s.R.QueryRowContext(ctx, "SELECT count(*) FROM incidents").Scan(&n); err != nil || n != 3 {
		t.Fatalf("%d rows after down: %v", n, err)
	}
	if err := s.R.QueryRowContext(ctx, "SELECT log FROM incidents WHERE report_id = 1 AND seq = 2").Scan(&log); err != nil || log != "two" {
		t.Errorf("after down: %q %v", log, err)
	}
}
