package xarfmail

import (
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"abusedesk/internal/intake/mailpart"
	"abusedesk/internal/report"
)

// clock is after every sample, so none is "in the future".
func validator() *report.Validator {
	return &report.Validator{Now: func() time.Time { return time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) }}
}

func load(t *testing.T, name string) *mailpart.Part {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return mailpart.Parse(raw)
}

// fillReporter does what the mailbox does: a reporter the format left
// empty comes from the mail's From header.
func fillReporter(m *mailpart.Part, r *report.Report) {
	a, err := mail.ParseAddress(m.Header.Get("From"))
	if err != nil {
		return
	}
	if r.Reporter.Email == "" {
		r.Reporter.Email = a.Address
	}
	if r.Reporter.Name == "" {
		r.Reporter.Name = a.Name
		if a.Name == "" {
			r.Reporter.Name = a.Address
		}
	}
}

func TestParseSamples(t *testing.T) {
	tests := []struct {
		file, typ, subtype string
		check              func(t *testing.T, r *report.Report)
	}{
		{"login-attack.eml", "network", "intrusion", func(t *testing.T, r *report.Report) {
			in := r.Incidents[0]
			eq(t, "source", in.SourceIP, "192.0.2.44")
			eq(t, "target", in.Target, "198.51.100.7")
			eq(t, "port", *in.TargetPort, 22)
			eq(t, "protocol", in.Protocol, "ssh")
			eq(t, "timestamp", in.Timestamp, "2026-02-14T09:12:03+01:00")
			contains(t, in.Log, "Failed password for root from 192.0.2.44 port 51122")
			contains(t, in.Log, "Report-ID: 4711@hoster.example.org")
			contains(t, r.Description, "Login attack (X-ARF 0.2, abuse/login-attack) from 192.0.2.44 against 198.51.100.7 port 22 (ssh), 37 occurrences.")
			contains(t, r.Description, "TLP:GREEN")
			contains(t, r.Description, "password guessing attack")
			eq(t, "reporter", r.Reporter.Email, "abuse-reports@hoster.example.org")
			eq(t, "language", r.Language, "")
			eq(t, "target optional", r.TargetOptional, true)
		}},
		{"malware-attack.eml", "network", "other", func(t *testing.T, r *report.Report) {
			in := r.Incidents[0]
			eq(t, "source", in.SourceIP, "203.0.113.9")
			eq(t, "timestamp", in.Timestamp, "2026-03-03T13:59:12+0100")
			eq(t, "target", in.Target, "")
			contains(t, in.Log, "[SMBD] connection from 203.0.113.9:4431")
			contains(t, in.Log, "Download-Link: http://203.0.113.9:8080/x/mipsel")
			contains(t, in.Log, "Antivirus-Result: Trojan.Linux.Mirai")
			contains(t, r.Description, "Grüße") // ISO-8859-1, quoted-printable
			eq(t, "target optional", r.TargetOptional, true)
		}},
		{"bot-infection.eml", "network", "other", func(t *testing.T, r *report.Report) {
			in := r.Incidents[0]
			eq(t, "source", in.SourceIP, "2001:db8:5::20")
			eq(t, "source port", *in.SourcePort, 49152)
			eq(t, "target", in.Target, "192.0.2.200")
			eq(t, "target port", *in.TargetPort, 80)
			eq(t, "timestamp", in.Timestamp, "2026-03-04T05:41:09Z")
			eq(t, "reporter", r.Reporter, report.Reporter{Name: "Sinkhole Ops", Email: "sinkhole@shadow.example.org"})
			contains(t, in.Log, "Bot-Name: Conficker.C")
			contains(t, in.Log, "Feedback-Link: https://shadow.example.org/feedback?id= sh-20260304-0001")
		}},
		{"compromised-account.eml", "network", "other", func(t *testing.T, r *report.Report) {
			in := r.Incidents[0]
			eq(t, "source", in.SourceIP, "198.51.100.23")
			eq(t, "timestamp", in.Timestamp, "2026-03-05T09:47:30+01:00")
			contains(t, in.Log, "Account: jane.doe@customer.example")
			contains(t, in.Log, "rcpts=412")
			contains(t, r.Description, "TLP:AMBER")
		}},
		{"fraud-phishing.eml", "content", "phishing", func(t *testing.T, r *report.Report) {
			eq(t, "url", r.URLs[0].URL, "https://login-bank.example.net/secure/verify.php?id=8812")
			contains(t, r.Description, "Phishing (X-ARF 0.2, fraud/phishing) at https://login-bank.example.net/")
			contains(t, r.Description, "Please take down the phishing site below.")
			contains(t, r.Description, "Notes: The kit imitates our login page. It posts credentials")
			eq(t, "incidents", len(r.Incidents), 0)
		}},
		{"fraud-infected.eml", "content", "malware", func(t *testing.T, r *report.Report) {
			eq(t, "url", r.URLs[0].URL, "http://shop.customer.example/js/jquery.min.js")
		}},
		{"fraud-spam.eml", "email", "spam_sent", func(t *testing.T, r *report.Report) {
			contains(t, r.EmailMessage.Headers, "Received: from mail.customer.example ([192.0.2.77])")
			contains(t, r.EmailMessage.Headers, "Message-ID: <abc123@customer.example>")
			contains(t, r.EmailMessage.Body, "Buy now!")
			in := r.Incidents[0]
			eq(t, "source", in.SourceIP, "192.0.2.77")
			eq(t, "protocol", in.Protocol, "smtp")
			eq(t, "timestamp", in.Timestamp, "2026-03-07T10:58:41Z")
			eq(t, "source port", *in.SourcePort, 25) // fraud: Port is the Source's service
		}},
		{"info-dnsbl.eml", "network", "other", func(t *testing.T, r *report.Report) {
			in := r.Incidents[0]
			eq(t, "source", in.SourceIP, "203.0.113.80")
			eq(t, "timestamp", in.Timestamp, "2026-03-08T00:05:00+0000")
			contains(t, in.Log, "DNSBL: bl.dnsbl.example")
			contains(t, r.Description, "Listed on a DNSBL (X-ARF 0.2, info/dnsbl-listed) from 203.0.113.80")
		}},
		{"xarf01.eml", "network", "intrusion", func(t *testing.T, r *report.Report) {
			in := r.Incidents[0]
			eq(t, "source", in.SourceIP, "198.51.100.99")
			eq(t, "port", *in.TargetPort, 21)
			eq(t, "protocol", in.Protocol, "ftp")
			contains(t, r.Description, "X-ARF 0.1,")
			contains(t, in.Log, "Authentication failed for user [admin]")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			m := load(t, tc.file)
			reps, missing, ok := Parse(m)
			if !ok {
				t.Fatal("not recognised")
			}
			if len(missing) > 0 {
				t.Fatalf("missing: %v", missing)
			}
			if len(reps) != 1 {
				t.Fatalf("%d reports", len(reps))
			}
			r := reps[0]
			if r.Type != tc.typ || r.Subtype != tc.subtype {
				t.Fatalf("filed as %s/%s, want %s/%s", r.Type, r.Subtype, tc.typ, tc.subtype)
			}
			if strings.TrimSpace(r.Description) == "" {
				t.Fatal("no description")
			}
			tc.check(t, r)
			fillReporter(m, r)
			if es := validator().Validate(r); len(es) > 0 {
				t.Fatalf("Validate: %v", es)
			}
		})
	}
}

func TestParseBrokenYAML(t *testing.T) {
	reps, missing, ok := Parse(load(t, "broken-yaml.eml"))
	if !ok || len(reps) != 0 || len(missing) != 1 {
		t.Fatalf("ok=%v reps=%d missing=%v", ok, len(reps), missing)
	}
	e := missing[0]
	eq(t, "field", e.Field, "report.txt line 5")
	eq(t, "code", e.Code, report.CodeInvalid)
	contains(t, e.Message, "nested mapping")
}

func TestParseNotOurs(t *testing.T) {
	reps, missing, ok := Parse(load(t, "not-xarf.eml"))
	if ok || reps != nil || missing != nil {
		t.Fatalf("ok=%v reps=%v missing=%v", ok, reps, missing)
	}
	if _, _, ok := Parse(nil); ok {
		t.Fatal("nil mail recognised")
	}
}

func TestParseJSONAttachment(t *testing.T) {
	reps, missing, ok := Parse(load(t, "xarf4-attached.eml"))
	if !ok || len(reps) != 1 {
		t.Fatalf("ok=%v reps=%d missing=%v", ok, len(reps), missing)
	}
	r := reps[0]
	eq(t, "type", r.Type+"/"+r.Subtype, "network/intrusion")
	eq(t, "source", r.Incidents[0].SourceIP, "198.51.100.77")
	if len(missing) == 0 {
		t.Fatal("broken.json gave no missing entries")
	}
	for _, e := range missing {
		if !strings.HasPrefix(e.Field, "attachment[broken.json]") {
			t.Fatalf("field %q not prefixed", e.Field)
		}
	}
	if es := validator().Validate(r); len(es) > 0 {
		t.Fatalf("Validate: %v", es)
	}
}

// xarfMail builds an X-ARF 0.2 mail around a report.txt and an optional
// evidence part.
func xarfMail(yaml, evidenceType, evidence string) []byte {
	var b strings.Builder
	b.WriteString("From: r@reporter.example\nX-XARF: PLAIN\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=B\n\n")
	b.WriteString("--B\nContent-Type: text/plain\n\nHuman text.\n")
	b.WriteString("--B\nContent-Type: text/plain; name=report.txt\n\n" + yaml + "\n")
	if evidenceType != "" {
		b.WriteString("--B\nContent-Type: " + evidenceType + "\n\n" + evidence + "\n")
	}
	b.WriteString("--B--\n")
	return []byte(b.String())
}

const baseYAML = "Reported-From: r@reporter.example\nReport-ID: 1@reporter.example\n"

func TestParseVariants(t *testing.T) {
	tests := []struct {
		name     string
		yaml     string
		evType   string
		evidence string
		typ      string   // "" when no report is expected
		missing  []string // fields of the missing entries
		vcodes   []string // validator codes expected
	}{
		{"no zone", "Report-Type: login-attack\nSource: 192.0.2.1\nDate: 2026-01-02 10:00:00\n", "", "", "network/intrusion", nil, []string{report.CodeTimezoneRequired}},
		{"unknown zone abbreviation", "Report-Type: login-attack\nSource: 192.0.2.1\nDate: Fri, 02 Jan 2026 10:00:00 CEST\n", "", "", "network/intrusion", nil, []string{report.CodeInvalidTimestamp}},
		{"no date", "Report-Type: malware-attack\nSource: 192.0.2.1\n", "", "", "network/other", nil, []string{report.CodeRequired}},
		{"no source", "Report-Type: malware-attack\nDate: 2026-01-02T10:00:00Z\n", "", "", "", []string{"report.txt.Source"}, nil},
		{"bad ip", "Report-Type: malware-attack\nSource: 192.0.2.300\nSource-Type: ipv4\n", "", "", "", []string{"report.txt.Source"}, nil},
		{"bad port", "Report-Type: login-attack\nSource: 192.0.2.1\nPort: 99999\nDate: 2026-01-02T10:00:00Z\n", "", "", "network/intrusion", []string{"report.txt.Port"}, nil},
		{"bad destination", "Report-Type: login-attack\nSource: 192.0.2.1\nDestination: not a host\nDate: 2026-01-02T10:00:00Z\n", "", "", "network/intrusion", []string{"report.txt.Destination"}, nil},
		{"malware uri", "Report-Type: malware-attack\nSource: http://bad.example/x.exe\nSource-Type: uri\n", "", "", "content/malware", nil, nil},
		{"domain source", "Category: info\nReport-Type: dnsbl-listed\nSource: spam-domain.example\nSource-Type: domain\n", "", "", "content/web_content", nil, nil},
		{"spamvertized", "Report-Type: spamvertized\nSource: 192.0.2.9\nURL: http://pills.example/buy\n", "", "", "content/web_content", nil, nil},
		{"port scan", "Report-Type: portscan\nSource: 192.0.2.9\nDate: 2026-01-02T10:00:00Z\n", "", "", "network/port_scan", nil, nil},
		{"spam without message, ip", "Report-Type: spam\nSource: 192.0.2.9\nDate: 2026-01-02T10:00:00Z\n", "", "", "network/other", nil, nil},
		{"spam without message, email", "Report-Type: spam\nSource: bad@spammer.example\nSource-Type: email\n", "", "", "", []string{"report.txt.Attachment"}, nil},
		{"spam by email source, message", "Report-Type: spam\nSource: bad@spammer.example\nSource-Type: email\n", "message/rfc822",
			"Received: from x ([203.0.113.5]) by mx; Fri, 02 Jan 2026 10:00:00 +0000\nFrom: bad@spammer.example\nSubject: hi\n\nbody", "email/spam_sent", nil, nil},
		{"message as text", "Report-Type: spam\nSource: 203.0.113.5\nDate: 2026-01-02T10:00:00Z\n", "text/plain",
			"Received: from x ([203.0.113.5]) by mx; Fri, 02 Jan 2026 10:00:00 +0000\nFrom: bad@spammer.example\n\nbody", "email/spam_sent", nil, nil},
		{"unknown type, uri", "Category: private\nReport-Type: whatever\nSource: https://x.example/\n", "", "", "content/web_content", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := mailpart.Parse(xarfMail(baseYAML+tc.yaml, tc.evType, tc.evidence))
			reps, missing, ok := Parse(m)
			if !ok {
				t.Fatal("not recognised")
			}
			var fields []string
			for _, e := range missing {
				fields = append(fields, e.Field)
				if e.Code == "" || e.Message == "" {
					t.Fatalf("incomplete %+v", e)
				}
			}
			eq(t, "missing", strings.Join(fields, ","), strings.Join(tc.missing, ","))
			if tc.typ == "" {
				if len(reps) != 0 {
					t.Fatalf("unexpected report %+v", reps[0])
				}
				return
			}
			if len(reps) != 1 {
				t.Fatalf("%d reports", len(reps))
			}
			r := reps[0]
			eq(t, "type", r.Type+"/"+r.Subtype, tc.typ)
			fillReporter(m, r)
			es := validator().Validate(r)
			eq(t, "validator", strings.Join(es.Codes(), ","), strings.Join(tc.vcodes, ","))
		})
	}
}

func TestParseWithoutHeader(t *testing.T) {
	raw := strings.Replace(string(xarfMail(baseYAML+"Report-Type: login-attack\nSource: 192.0.2.1\n", "", "")), "X-XARF: PLAIN\n", "", 1)
	if _, _, ok := Parse(mailpart.Parse([]byte(raw))); !ok {
		t.Fatal("report.txt with X-ARF fields not recognised without the header")
	}
	raw = strings.Replace(raw, "Reported-From", "Reporter", 1)
	if _, _, ok := Parse(mailpart.Parse([]byte(raw))); ok {
		t.Fatal("a report.txt without X-ARF fields recognised")
	}
}

func TestParseMarkedWithoutReport(t *testing.T) {
	raw := "From: a@b.example\nX-XARF: PLAIN\nContent-Type: text/plain\n\nno report here\n"
	reps, missing, ok := Parse(mailpart.Parse([]byte(raw)))
	if !ok || len(reps) != 0 || len(missing) != 1 || missing[0].Field != "report.txt" {
		t.Fatalf("ok=%v reps=%d missing=%v", ok, len(reps), missing)
	}
}

func TestTimestamp(t *testing.T) {
	for in, want := range map[string]string{
		"Thu, 07 Jun 2007 13:11:07 +0200":        "2007-06-07T13:11:07+02:00",
		"7 Jun 2007 13:11:07 GMT":                "2007-06-07T13:11:07Z",
		"Thu, 07 Jun 2007 13:11:07 EDT":          "2007-06-07T13:11:07-04:00",
		"Thu, 07 Jun 2007 13:11:07 +0200 (CEST)": "2007-06-07T13:11:07+02:00",
		"Thu, 07 Jun 2007 13:11:07 CEST":         "Thu, 07 Jun 2007 13:11:07 CEST",
		"2007-06-07 13:11:07 +02:00":             "2007-06-07T13:11:07+02:00",
		"2007-06-07 13:11:07 UTC":                "2007-06-07T13:11:07Z",
		"2007-06-07T13:11:07+02:00":              "2007-06-07T13:11:07+02:00",
		"2007-06-07 13:11:07":                    "2007-06-07 13:11:07",
	} {
		eq(t, in, timestamp(in), want)
	}
}

func eq[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
}

func contains(t *testing.T, s, sub string) {
	t.Helper()
	if !strings.Contains(s, sub) {
		t.Fatalf("%q not found in:\n%s", sub, s)
	}
}
