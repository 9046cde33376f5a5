package plaintext

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"abusedesk/internal/intake/mailpart"
	"abusedesk/internal/report"
)

// FuzzParse: Parse never panics, keeps within its bounds, and what it
// returns validates without panicking.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.eml")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("Subject: x\n\nhxxp://[::1]:x/ 1.2.3.4 Nov 31 25:61:61 0.0.0.0 ::"))
	f.Add([]byte("\n\n---------- Forwarded message ---------\nReceived: from a [203.0.113.1] by b; 1 Jan 2026 00:00 +0000\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		reps, missing, ok := Parse(mailpart.Parse(raw))
		if !ok && (len(reps) > 0 || len(missing) > 0) {
			t.Fatal("not ok, yet reports or missing")
		}
		if ok && len(reps) == 0 && len(missing) == 0 {
			t.Fatal("ok with neither reports nor missing")
		}
		for _, e := range missing {
			if e.Field == "" || e.Code == "" || e.Message == "" {
				t.Fatalf("incomplete missing entry %+v", e)
			}
		}
		v := report.Validator{Now: fixedNow}
		for _, r := range reps {
			if r.Description == "" || len(r.Description) > maxDescription {
				t.Fatalf("description of %d bytes", len(r.Description))
			}
			if len(r.Incidents) > maxIncidents || len(r.URLs) > maxURLs {
				t.Fatalf("%d incidents, %d urls", len(r.Incidents), len(r.URLs))
			}
			for _, u := range r.URLs {
				if _, ok := report.CheckURL(u.URL); !ok {
					t.Fatalf("invalid URL %q returned", u.URL)
				}
			}
			r.Reporter = report.Reporter{Name: "x", Email: "x@example.org"}
			v.Validate(r)
		}
	})
}

// FuzzFindTimes: the timestamp reader never panics, its spans are in the
// line, and a zoned time is one report.ParseTimestamp reads back.
func FuzzFindTimes(f *testing.F) {
	for _, s := range []string{"2026-11-20T10:00:00Z", "Nov 20 10:00:00 host", "20/Nov/2026:10:00:00 +0100",
		"le 20 novembre 2026 à 10h00 heure de Paris", "Thu, 19 Nov 2026 10:00:03 +0000 (UTC)", "20/11/2026 10h00 UTC+1",
		"Fri Nov 20 10:00:00 UTC 2026", "2026/11/20 10:00:00 GMT-05:30"} {
		f.Add(s, true)
	}
	mail := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, line string, dayFirst bool) {
		for _, st := range findTimes(line, &timeEnv{mailDate: mail, dayFirst: dayFirst}) {
			if st.Start < 0 || st.End > len(line) || st.Start > st.End || line[st.Start:st.End] != st.Text {
				t.Fatalf("span %d:%d %q in %q", st.Start, st.End, st.Text, line)
			}
			_, err := report.ParseTimestamp(st.Value())
			if st.Zoned && err != nil || !st.Zoned && err != report.ErrTimezoneMissing {
				t.Fatalf("%q -> %q zoned=%v: %v", st.Text, st.Value(), st.Zoned, err)
			}
		}
	})
}
