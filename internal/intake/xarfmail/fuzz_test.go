package xarfmail

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"abusedesk/internal/intake/mailpart"
	"abusedesk/internal/report"
)

// FuzzParse: Parse never panics on any mail; it answers nothing when it does
// not recognise the mail and something when it does; every missing entry is
// complete; what it returns stays within the contract's limits and goes
// through the validator without panicking.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.eml"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add(xarfMail(baseYAML+"Report-Type: spam\nSource: a@b.example\nSource-Type: email\n", "message/rfc822", "Received: from x ([203.0.113.5]) by y\n\nbody"))
	f.Add(xarfMail("A: |+\n  x\n\nB: \"\\U0001F600\"\n", "", ""))
	f.Add(inlineMail([]byte(`{"xarf_version":"4.0.0","reporter":{"contact":"a@b.c"},"source_identifier":"192.0.2.1"}`)))
	f.Add([]byte("X-XARF: PLAIN\nContent-Type: multipart/mixed; boundary=a\n\n--a\n\n--a\nContent-Type: text/plain; name=report.txt\n\nSource: ::1\nReport-Type: x\n--a--\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		reps, missing, ok := Parse(mailpart.Parse(raw))
		if !ok {
			if reps != nil || missing != nil {
				t.Fatalf("not recognised, yet reps=%v missing=%v", reps, missing)
			}
			return
		}
		if len(reps) == 0 && len(missing) == 0 {
			t.Fatal("recognised with neither reports nor missing entries")
		}
		for _, e := range missing {
			if e.Field == "" || e.Code == "" || e.Message == "" {
				t.Fatalf("incomplete missing entry %+v", e)
			}
		}
		for _, r := range reps {
			if r == nil {
				t.Fatal("nil report")
			}
			if strings.TrimSpace(r.Description) == "" {
				t.Fatalf("report without a description: %+v", r)
			}
			if len(r.Description) > report.DefaultLimits.MaxTextBytes {
				t.Fatalf("description of %d bytes", len(r.Description))
			}
			for _, in := range r.Incidents {
				if len(in.Log) > report.DefaultLimits.MaxLogBytes {
					t.Fatalf("log of %d bytes", len(in.Log))
				}
			}
			validator().Validate(r)
		}
	})
}

// FuzzYAML: ParseYAML never panics; an error names a line of the input;
// a result has unique, non-empty keys on real lines and values no larger
// than the input allows. And any valid UTF-8 text, written as a YAML
// double-quoted scalar (Go's quoting uses only escapes YAML shares), reads
// back unchanged.
func FuzzYAML(f *testing.F) {
	for _, s := range []string{
		"A: 1\nB: two\n", "---\nA: |\n  x\n  y\n...\n", "A: >-\n  a\n\n  b\n", "A: 'it''s'\nB: \"\\x41\\u00e9\"\n",
		"A:\n  b: c\n", "A: [1]\n", "  A: 1\n  B: |2\n     x\n", "A: \"x\n\n  y \\\n z\"\n", "A: x\n  y # c\n", "\ufeff%YAML 1.2\n---\r\nA: 1\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		lines := strings.Count(string(b), "\n") + strings.Count(string(b), "\r") + 1
		fs, err := ParseYAML(b)
		if err != nil {
			var ye *YAMLError
			if !errors.As(err, &ye) || ye.Line < 1 || ye.Line > lines || ye.Msg == "" {
				t.Fatalf("error %v does not name a line of %d", err, lines)
			}
		} else {
			seen := map[string]bool{}
			total := 0
			for _, fl := range fs {
				if fl.Key == "" || seen[fl.Key] || fl.Line < 1 || fl.Line > lines {
					t.Fatalf("bad field %+v", fl)
				}
				seen[fl.Key] = true
				total += len(fl.Key) + len(fl.Value)
			}
			if total > 2*len(b)+lines {
				t.Fatalf("%d bytes of fields from %d bytes of input", total, len(b))
			}
		}
		if s := string(b); utf8.ValidString(s) {
			doc := "K: " + strconv.Quote(s) + "\n"
			fs, err := ParseYAML([]byte(doc))
			if len(doc) <= MaxYAMLBytes && (err != nil || len(fs) != 1 || fs[0].Value != s) {
				t.Fatalf("round trip of %q: %+v %v", s, fs, err)
			}
		}
	})
}
