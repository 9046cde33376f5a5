package mailparse

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"abusedesk/internal/report"
)

const corpus = "../../../../shared/corpus"

// readCorpusTable reads the README's set-of-emails table: file → kind and
// what it says of the feedback type and source IP.
func readCorpusTable(t *testing.T) map[string][3]string {
	b, err := os.ReadFile(filepath.Join(corpus, "README.md"))
	if err != nil {
		t.Skipf("corpus not present (%v): the shared corpus sits beside the repository in CI", err)
	}
	row := regexp.MustCompile("(?m)^\\| `(maildir/[a-z]+/arf-\\d+\\.eml)` \\| ([^|]+) \\|(.*)$")
	ft := regexp.MustCompile(`Feedback-Type=([a-z-]+)`)
	ip := regexp.MustCompile(`Source-IP=([0-9.:a-f-]+)`)
	out := map[string][3]string{}
	for _, m := range row.FindAllStringSubmatch(string(b), -1) {
		var f, i string
		if x := ft.FindStringSubmatch(m[3]); x != nil {
			f = x[1]
		}
		if x := ip.FindStringSubmatch(m[3]); x != nil {
			i = strings.TrimSuffix(x[1], ";")
		}
		out[m[1]] = [3]string{strings.TrimSpace(m[2]), f, i}
	}
	if len(out) < 19 {
		t.Fatalf("read %d rows of the corpus table", len(out))
	}
	return out
}

// Every ARF mail of the corpus, as the mailbox would read it: the arf
// parser, a machine sender, one email report with the source address the
// table gives (or, where the table says "-", the one the arf package
// derives from the original's Received headers, checked there).
func TestCorpusThroughTheMailbox(t *testing.T) {
	table := readCorpusTable(t)
	for name, row := range table {
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(corpus, "set-of-emails", name))
			if err != nil {
				t.Fatal(err)
			}
			res := Parse(raw, Options{})
			if _, err := json.Marshal(res); err != nil {
				t.Fatal(err)
			}
			kind := row[0]
			switch {
			case strings.HasPrefix(kind, "ARF"):
				if res.Parser != ParserARF || !res.Machine || len(res.Reports) != 1 {
					t.Fatalf("parser %s machine %v reports %d missing %v", res.Parser, res.Machine, len(res.Reports), res.Missing)
				}
				r := res.Reports[0]
				if r.Type != report.TypeEmail || len(r.Incidents) != 1 {
					t.Fatalf("report %s incidents %+v", r.Type, r.Incidents)
				}
				if want := row[2]; want != "-" && want != "" && r.Incidents[0].SourceIP != want {
					t.Errorf("source %s, want %s", r.Incidents[0].SourceIP, want)
				}
				if !strings.Contains(r.Description, "Feedback-Type") && !strings.Contains(strings.ToLower(r.Description), row[1]) {
					t.Errorf("description does not name the feedback type %s: %.200s", row[1], r.Description)
				}
				if r.Reporter.Email == "" {
					t.Errorf("no reporter address filled from From")
				}
			case strings.Contains(kind, "spam complaint") && !strings.Contains(row[0], "negative") && name != "maildir/bsd/arf-26.eml":
				// Microsoft JMRP-style: the forwarded spam's source.
				if res.Parser != ParserPlainText || len(res.Reports) != 1 || res.Reports[0].Incidents[0].SourceIP != "203.0.113.245" {
					t.Fatalf("JMRP: parser %s reports %+v missing %v", res.Parser, res.Reports, res.Missing)
				}
			default: // arf-26: an unsubscribe message, no report
				if len(res.Reports) != 0 {
					t.Fatalf("negative control made %d reports", len(res.Reports))
				}
			}
		})
	}
}

func TestSenderAndKinds(t *testing.T) {
	dsn := "From: MAILER-DAEMON@mx.customer.example\r\nTo: abuse@desk.example\r\nSubject: Undelivered Mail Returned to Sender\r\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"d\"\r\n\r\n--d\r\nContent-Type: text/plain\r\n\r\nI'm sorry.\r\n" +
		"--d\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.customer.example\r\n\r\nFinal-Recipient: rfc822; soc@customer.example\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n" +
		"--d\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: abuse@desk.example\r\nMessage-ID: <n1@desk.example>\r\nSubject: [C-1] notice\r\n--d--\r\n"
	res := Parse([]byte(dsn), Options{})
	if res.Parser != ParserDSN || !res.Machine || res.Bounced != "<n1@desk.example>" || len(res.Reports) != 0 ||
		res.BounceStatus != "failed 5.1.1 soc@customer.example" {
		t.Errorf("DSN: %+v", res)
	}
	person := "From: \"Jeanne Martin\" <Jeanne@Exemple.fr>\r\nSubject: Hameçonnage\r\nIn-Reply-To: <a@desk.example>\r\nReferences: <z@desk.example> <y@desk.example>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
		"Bonjour, le site hxxps://banque-exemple[.]com/connexion est une page d'hameçonnage qui imite notre banque et vole les identifiants de nos clients.\r\n"
	res = Parse([]byte(person), Options{})
	if res.Machine || res.Language != "fr" || res.From != "jeanne@exemple.fr" || res.Parser != ParserPlainText {
		t.Errorf("person: machine %v lang %s from %s parser %s", res.Machine, res.Language, res.From, res.Parser)
	}
	if len(res.Reports) != 1 || res.Reports[0].Reporter.Name != "Jeanne Martin" || res.Reports[0].Reporter.Email != "jeanne@exemple.fr" ||
		res.Reports[0].Type != report.TypeContent || res.Reports[0].Language != "fr" {
		t.Errorf("person's report: %+v missing %v", res.Reports, res.Missing)
	}
	if strings.Join(res.InReplyTo, " ") != "<a@desk.example> <y@desk.example> <z@desk.example>" {
		t.Errorf("thread ids: %v", res.InReplyTo)
	}
	for hdr, want := range map[string]bool{
		"Auto-Submitted: auto-replied": true, "Auto-Submitted: no": false, "Precedence: bulk": true,
		"List-Id: <x.lists.example>": true, "X-Auto-Response-Suppress: All": true, "": false,
	} {
		raw := "From: a@b.example\r\n" + hdr + "\r\nSubject: x\r\n\r\nhello\r\n"
		if got := Parse([]byte(raw), Options{}).Machine; got != want {
			t.Errorf("%q: machine %v, want %v", hdr, got, want)
		}
	}
	if !Parse([]byte("From: a@b.example\r\n\r\nhi\r\n"), Options{NullSender: true}).Machine {
		t.Error("a null reverse-path is a machine")
	}
}

// A request from an authority goes to the legal queue; a complaint that
// speaks of stolen customer data does not.
func TestLegalRequest(t *testing.T) {
	police := "From: \"Lt. Marie Curie\" <m.curie@police.gouv.example>\r\nSubject: Réquisition judiciaire 2026/123\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
		"Madame, Monsieur,\r\n\r\nDans le cadre d'une enquête, par réquisition judiciaire, nous vous prions de nous communiquer l'identité de l'abonné " +
		"ayant utilisé l'adresse 203.0.113.7 le 20/11/2026 à 10h00 (heure de Paris).\r\n\r\nLt. Curie\r\n"
	res := Parse([]byte(police), Options{})
	if res.Parser != ParserLegal || res.Legal == nil || len(res.Reports) != 0 {
		t.Fatalf("police request: parser %s legal %+v reports %d", res.Parser, res.Legal, len(res.Reports))
	}
	q := res.Legal
	if q.Authority.Email != "m.curie@police.gouv.example" || q.Authority.Organization != "police.gouv.example" || q.Language != "fr" ||
		len(q.Identifiers) != 1 || q.Identifiers[0] != "203.0.113.7" {
		t.Errorf("legal request: %+v", q)
	}
	if es := (&report.Validator{}).ValidateLegal(q); len(es) > 0 {
		t.Errorf("the request does not validate: %v", es)
	}
	phish := "From: cert@bank.example\r\nSubject: phishing\r\n\r\nThe page https://login-bank.example/ steals customer data and identity of our clients.\r\n"
	if res := Parse([]byte(phish), Options{}); res.Parser == ParserLegal {
		t.Errorf("a phishing complaint read as a legal request")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("From: a@b.example\r\nSubject: ssh\r\n\r\n2026-11-23T09:58:01Z Failed password for root from 203.0.113.50 port 22\r\n"))
	f.Add([]byte("Content-Type: multipart/report; report-type=feedback-report; boundary=a\n\n--a\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\nSource-IP: 192.0.2.1\n--a--\n"))
	f.Add([]byte("X-XARF: PLAIN\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\nhi\n--b\nContent-Type: text/plain; name=report.txt\n\nReport-Type: login-attack\nSource: 192.0.2.1\n--b--\n"))
	f.Add([]byte("Subject: DMCA notice\n\nI have a good faith belief. /s/ Someone\n"))
	if ents, err := os.ReadDir(filepath.Join(corpus, "set-of-emails/maildir/bsd")); err == nil {
		for _, e := range ents {
			if b, err := os.ReadFile(filepath.Join(corpus, "set-of-emails/maildir/bsd", e.Name())); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		res := Parse(raw, Options{})
		if res.Parser == "" || res.Reports == nil || res.Missing == nil {
			t.Fatalf("incomplete result %+v", res)
		}
		if _, err := json.Marshal(res); err != nil {
			t.Fatal(err)
		}
		for _, r := range res.Reports {
			// What Parse returns is ready to store: validated.
			if es := (&report.Validator{}).Validate(r); len(es) > 0 {
				t.Fatalf("a returned report does not validate: %v", es)
			}
		}
	})
}
