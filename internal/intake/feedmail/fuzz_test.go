package feedmail

import (
	"os"
	"path/filepath"
	"testing"

	"abusedesk/internal/intake/mailpart"
	"abusedesk/internal/report"
)

// FuzzParse: Parse never panics, keeps to its contract (not recognised:
// nothing returned; recognised: a report or a missing entry), keeps every
// bound, and what it returns goes through the validator without panicking.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.eml"))
	for _, name := range files {
		raw, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	csv := []byte(goodCSV)
	f.Add(buildMail("Feed", "times are UTC", att{"application/zip", "feed.zip", buildZip(f, member{name: "a.csv", body: csv}, member{name: "b.zip", body: csv})}))
	f.Add(buildMail("Feed", "", att{"application/zip", "feed.zip", buildZip(f, member{name: "a.csv", body: csv, flags: 1})}))
	f.Add(buildMail("Feed", "", att{"text/csv", "f.csv", []byte("Date;Time;IP;tag\n2024-01-15;10:00;192.0.2.1;flood\n")}))
	f.Add(buildMail("Feed", "", att{"text/csv", "f.csv", []byte("ip,ts,dst,dst_port\n\"192.0.2.1\",1705312800,x..y,70000\n\"unterminated\n")}))
	f.Fuzz(func(t *testing.T, raw []byte) {
		reps, missing, ok := Parse(mailpart.Parse(raw))
		if !ok {
			if reps != nil || missing != nil {
				t.Fatalf("not recognised, yet %d reports and %v", len(reps), missing)
			}
			return
		}
		if len(reps) == 0 && len(missing) == 0 {
			t.Fatal("recognised with neither reports nor missing entries")
		}
		if len(missing) > MaxMissing+1 {
			t.Fatalf("%d missing entries", len(missing))
		}
		for _, e := range missing {
			if e.Field == "" || e.Code == "" || e.Message == "" {
				t.Fatalf("incomplete entry %+v", e)
			}
		}
		v := report.Validator{Now: clock}
		for _, r := range reps {
			if r.Type != report.TypeNetwork || r.Description == "" || len(r.Incidents) == 0 || len(r.Incidents) > MaxIncidentsPerReport {
				t.Fatalf("report %s/%s with %d incidents, description %q", r.Type, r.Subtype, len(r.Incidents), r.Description)
			}
			for _, in := range r.Incidents {
				if in.Log == "" || len(in.Log) > MaxLogBytes {
					t.Fatalf("log of %d bytes", len(in.Log))
				}
				if _, err := report.ParseTimestamp(in.Timestamp); err != nil {
					t.Fatalf("timestamp %q: %v", in.Timestamp, err)
				}
			}
			r.Reporter = report.Reporter{Name: "Feed", Email: "feed@example.org"}
			v.Validate(r)
		}
	})
}
