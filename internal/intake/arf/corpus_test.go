package arf

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"abusedesk/internal/report"
)

// The third-party corpus lives beside the repository (../shared/corpus from
// its root) and is absent from a fresh clone; it is never copied in.
var corpusDir = filepath.Join("..", "..", "..", "..", "shared", "corpus", "set-of-emails", "maildir")

func corpus(t *testing.T) string {
	t.Helper()
	if fi, err := os.Stat(corpusDir); err != nil || !fi.IsDir() {
		t.Skipf("corpus not found at %s: skipping", corpusDir)
	}
	return corpusDir
}

// TestCorpus checks every file of sisimai's set-of-emails against the
// corpus README's table (Feedback-Type and Source-IP per file).
func TestCorpus(t *testing.T) {
	dir := corpus(t)
	type want struct {
		ftype, ip, from string
	}
	arf := map[string]want{
		"bsd/arf-01.eml": {"abuse", "192.0.2.89", FromFeedback},
		"dos/arf-01.eml": {"abuse", "192.0.2.89", FromFeedback},
		"mac/arf-01.eml": {"abuse", "192.0.2.89", FromFeedback},
		// Source-IP "-" in the README: the draft-era Yahoo loop writes no
		// Source-IP. The reported message's topmost Received header,
		// "from 127.0.0.1 (EHLO mx8.example.com) (192.0.2.8) by
		// mta34.mail.g9.yahoo.com", is Yahoo's MX taking the message from
		// 192.0.2.8 (the 127.0.0.1 is the sender's own HELO claim);
		// Yahoo's X-Originating-IP [192.0.2.8] agrees.
		"bsd/arf-02.eml": {"abuse", "192.0.2.8", FromReceived},
		// Source-IP absent: the only Received of the reported message is
		// "from mx53.example.net (mx53.example.net [192.0.2.2]) by
		// example.com", and the report's text says "received from IP
		// 192.0.2.2".
		"bsd/arf-11.eml": {"abuse", "192.0.2.2", FromReceived},
		// Source-IP absent, the original's header block sent as the
		// misspelt text/rfc822-header: "from mx90.example.net
		// (mx90.example.net [192.0.2.89]) by example.com"; the text says
		// "received from IP 192.0.2.89".
		"bsd/arf-12.eml": {"opt-out", "192.0.2.89", FromReceived},
		// Source-IP absent: "from 127.0.0.1 (EHLO a2-22.smtp-out.amazonses.com)
		// (192.0.2.2) by mta2222.mail.bf2.yahoo.com" is the hop Yahoo
		// recorded, and X-SES-Outgoing "2017.04.29-192.0.2.2" agrees. The
		// X-Originating-IP [192.0.2.1] above it contradicts both and is
		// not taken: Received is the trace the receiver wrote (RFC 5321
		// §4.4).
		"bsd/arf-14.eml": {"abuse", "192.0.2.2", FromReceived},
		"bsd/arf-15.eml": {"abuse", "192.0.2.222", FromFeedback},
		"bsd/arf-16.eml": {"abuse", "192.0.2.1", FromFeedback},
		"bsd/arf-17.eml": {"abuse", "192.0.2.3", FromFeedback},
		"bsd/arf-18.eml": {"auth-failure", "192.0.2.222", FromFeedback},
		"bsd/arf-19.eml": {"auth-failure", "203.0.113.2", FromFeedback},
		"bsd/arf-20.eml": {"auth-failure", "203.0.113.2", FromFeedback},
		"bsd/arf-21.eml": {"abuse", "198.51.100.224", FromFeedback},
		// A private address, as the report says; attribution will find it
		// is not the provider's. Its reported message is "REDACTED", so
		// the report names the original as missing.
		"bsd/arf-25.eml": {"abuse", "10.0.0.1", FromFeedback},
	}
	notARF := []string{"bsd/arf-22.eml", "bsd/arf-23.eml", "bsd/arf-24.eml", "bsd/arf-26.eml"}

	seen := 0
	for name, w := range arf {
		t.Run(name, func(t *testing.T) {
			m := load(t, filepath.Join(dir, name))
			fb, ok := ReadFeedback(m)
			if !ok {
				t.Fatal("not recognised")
			}
			if fb.FeedbackType != w.ftype || fb.SourceIP.String() != w.ip || fb.SourceIPFrom != w.from {
				t.Errorf("got %s from %s (%s), want %s from %s (%s)", fb.FeedbackType, fb.SourceIP, fb.SourceIPFrom, w.ftype, w.ip, w.from)
			}
			if fb.ArrivalDate.IsZero() {
				t.Error("no arrival date")
			}
			reps, missing, ok := Parse(m)
			if !ok || len(reps) != 1 {
				t.Fatalf("Parse: ok %v, %d reports, missing %v", ok, len(reps), missing)
			}
			if in := reps[0].Incidents; len(in) != 1 || in[0].SourceIP != w.ip {
				t.Errorf("incidents %+v", in)
			}
			if name == "bsd/arf-25.eml" && !strings.Contains(reps[0].Description, "redacted") {
				// The original is "REDACTED": the feedback fields stand in.
				t.Errorf("arf-25: the redaction is not said: %s", reps[0].Description)
			}
			if len(missing) > 0 {
				t.Errorf("missing %v", missing)
			}
			validates(t, reps[0])
		})
		seen++
	}
	for _, name := range notARF {
		m := load(t, filepath.Join(dir, name))
		if _, ok := ReadFeedback(m); ok {
			t.Errorf("%s: recognised as ARF", name)
		}
		if reps, missing, ok := Parse(m); ok || reps != nil || missing != nil {
			t.Errorf("%s: Parse = %d reports, %v, %v", name, len(reps), missing, ok)
		}
		seen++
	}
	// Every file of the corpus is in one list or the other.
	files, _ := filepath.Glob(filepath.Join(dir, "*", "*.eml"))
	if len(files) != seen {
		t.Errorf("%d files in the corpus, %d checked", len(files), seen)
	}
}

// The same report with LF, CRLF and CR-only line ends gives one result.
func TestCorpusLineEnds(t *testing.T) {
	dir := corpus(t)
	var first []*report.Report
	for _, d := range []string{"bsd", "dos", "mac"} {
		reps, missing, ok := Parse(load(t, filepath.Join(dir, d, "arf-01.eml")))
		if !ok || len(missing) > 0 {
			t.Fatalf("%s: ok %v missing %v", d, ok, missing)
		}
		if first == nil {
			first = reps
			continue
		}
		if !reflect.DeepEqual(reps, first) {
			t.Errorf("%s/arf-01.eml differs from bsd:\n%+v\n%+v", d, reps[0], first[0])
		}
	}
}
