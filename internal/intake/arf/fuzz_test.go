package arf

import (
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"abusedesk/internal/intake/mailpart"
)

// FuzzParse: Parse never panics, keeps the contract (ok=false means nothing
// returned; ok=true means a report or a reason), keeps its text within its
// bounds and valid UTF-8, agrees with ReadFeedback, and what it returns
// validates without panicking.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*.eml"))
	// The shared corpus seeds the run when present (read, never copied).
	more, _ := filepath.Glob(filepath.Join(corpusDir, "*", "*.eml"))
	for _, p := range append(seeds, more...) {
		if raw, err := os.ReadFile(p); err == nil {
			f.Add(raw)
		}
	}
	f.Add([]byte("Content-Type: message/feedback-report\n\nFeedback-Type: abuse\nSource-IP: 192.0.2.1\n"))
	f.Add([]byte("Content-Type: multipart/report; report-type=feedback-report; boundary=b\n\n--b\n\nFeedback-Type: not-spam\n--b"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		m := mailpart.Parse(raw)
		reps, missing, ok := Parse(m)
		_, rok := ReadFeedback(m)
		if ok != rok {
			t.Fatalf("Parse ok %v, ReadFeedback ok %v", ok, rok)
		}
		if !ok {
			if reps != nil || missing != nil {
				t.Fatalf("not recognised but returned %v, %v", reps, missing)
			}
			return
		}
		if len(reps) == 0 && len(missing) == 0 {
			t.Fatal("recognised, yet no report and no reason")
		}
		for _, e := range missing {
			if e.Field == "" || e.Code == "" || e.Message == "" {
				t.Fatalf("incomplete missing entry %+v", e)
			}
		}
		for _, r := range reps {
			if len(r.Description) > MaxDescriptionBytes || !utf8.ValidString(r.Description) {
				t.Fatalf("description of %d bytes, valid UTF-8 %v", len(r.Description), utf8.ValidString(r.Description))
			}
			if r.EmailMessage != nil && (len(r.EmailMessage.Body) > MaxBodyBytes || !utf8.ValidString(r.EmailMessage.Headers)) {
				t.Fatalf("email message out of bounds")
			}
			validator().Validate(r)
		}
	})
}
