package arf

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"abusedesk/internal/intake/mailpart"
	"abusedesk/internal/report"
)

// clock is far ahead of every sample, so no sample is "in the future".
func validator() *report.Validator {
	return &report.Validator{Now: func() time.Time { return time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) }}
}

func load(t testing.TB, path string) *mailpart.Part {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return mailpart.Parse(raw)
}

// validates runs the desk's validator as the mailbox will, with the
// reporter the caller takes from the mail's From header.
func validates(t *testing.T, r *report.Report) {
	t.Helper()
	c := *r
	c.Reporter = report.Reporter{Name: "Feedback loop", Email: "fbl@example.org"}
	if es := validator().Validate(&c); len(es) > 0 {
		t.Errorf("report does not validate: %v", es)
	}
}

// The samples in testdata are written from RFC 5965 Appendix B, RFC 6591
// Appendix B, RFC 7489 §7.3 and RFC 6430, plus the real-world deviations
// the package tolerates.
func TestSamples(t *testing.T) {
	tests := []struct {
		file     string
		ftype    string
		ip       string
		ipFrom   string
		ts       string // incident timestamp; "" when none
		reports  int
		missing  []string
		contains []string // in the description
	}{
		{file: "rfc5965-simple.eml", ftype: "abuse", ip: "192.0.2.1", ipFrom: FromReceived, ts: "2005-03-08T18:00:00Z", reports: 1,
			contains: []string{"Feedback-Type: abuse", "User-Agent: SomeGenerator/1.0", "taken from the reported message's Received headers", "Subject: Earn money", "received from IP\n192.0.2.1"}},
		{file: "rfc5965-complete.eml", ftype: "abuse", ip: "192.0.2.1", ipFrom: FromFeedback, ts: "2005-03-08T18:00:00Z", reports: 1,
			contains: []string{"Reported-Domain: example.net", "Reported-URI: http://example.net/earn_money.html, mailto:user@example.com", "Incidents: 12", "spf=fail"}},
		{file: "rfc6591-dkim.eml", ftype: "auth-failure", ip: "192.0.2.1", ipFrom: FromFeedback, ts: "2005-03-08T18:00:00Z", reports: 1,
			contains: []string{"authentication failure report (RFC 6591)", "Auth-Failure: bodyhash", "DKIM-Domain: example.net", "DKIM-Selector: news", "Delivery-Result: delivered"}},
		{file: "rfc7489-dmarc.eml", ftype: "auth-failure", ip: "2001:db8::25", ipFrom: FromFeedback, ts: "2026-03-02T08:58:12Z", reports: 1,
			contains: []string{"Auth-Failure: dmarc", "Identity-Alignment: none", `SPF-DNS: txt : example.net : "v=spf1 -all"`}},
		{file: "rfc6430-not-spam.eml", ftype: "not-spam", ip: "192.0.2.77", ipFrom: FromFeedback, missing: []string{report.CodeNotApplicable}},
		{file: "forwarded.eml", ftype: "fraud", ip: "198.51.100.20", ipFrom: FromFeedback, ts: "2026-03-04T10:59:00Z", reports: 1,
			contains: []string{"forwarded as an attachment", "Reported-URI: http://phish.example.com/login"}},
		{file: "loose-textplain.eml", ftype: "abuse", ip: "203.0.113.9", ipFrom: FromFeedback, ts: "2026-03-05T08:55:00Z", reports: 1,
			contains: []string{"reported as spam by a user"}},
		{file: "draft-mixed-crlf.eml", ftype: "abuse", ip: "192.0.2.140", ipFrom: FromReceived, ts: "2026-03-07T09:30:00Z", reports: 1,
			contains: []string{"Version: 0.1", "Reported-Domain: example.com", "This is an email abuse report."}},
		{file: "nothing-usable.eml", ftype: "abuse", missing: []string{report.CodeNoSourceIP, report.CodeRequired}},
		{file: "no-date.eml", ftype: "abuse", ip: "192.0.2.55", ipFrom: FromFeedback, reports: 1, missing: []string{report.CodeRequired}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			m := load(t, filepath.Join("testdata", tc.file))
			fb, ok := ReadFeedback(m)
			if !ok {
				t.Fatal("ReadFeedback: not recognised")
			}
			if fb.FeedbackType != tc.ftype {
				t.Errorf("FeedbackType %q, want %q", fb.FeedbackType, tc.ftype)
			}
			ip := ""
			if fb.SourceIP.IsValid() {
				ip = fb.SourceIP.String()
			}
			if ip != tc.ip || fb.SourceIPFrom != tc.ipFrom {
				t.Errorf("SourceIP %q from %q, want %q from %q", ip, fb.SourceIPFrom, tc.ip, tc.ipFrom)
			}
			reps, missing, ok := Parse(m)
			if !ok {
				t.Fatal("Parse: not recognised")
			}
			if len(reps) != tc.reports {
				t.Fatalf("%d reports, want %d", len(reps), tc.reports)
			}
			if got := missing.Codes(); !slices.Equal(got, tc.missing) {
				t.Errorf("missing %v, want codes %v", missing, tc.missing)
			}
			for _, e := range missing {
				if e.Field == "" || e.Message == "" {
					t.Errorf("incomplete missing entry %+v", e)
				}
			}
			if tc.reports == 0 {
				return
			}
			r := reps[0]
			if r.Type != report.TypeEmail || r.Subtype != "spam_sent" || r.Reporter != (report.Reporter{}) || r.Language != "" {
				t.Errorf("type %q/%q reporter %+v language %q", r.Type, r.Subtype, r.Reporter, r.Language)
			}
			if len(r.Incidents) != 1 {
				t.Fatalf("%d incidents", len(r.Incidents))
			}
			in := r.Incidents[0]
			if in.SourceIP != tc.ip || in.Timestamp != tc.ts || in.Protocol != "smtp" {
				t.Errorf("incident %s at %q over %s, want %s at %q", in.SourceIP, in.Timestamp, in.Protocol, tc.ip, tc.ts)
			}
			if r.EmailMessage == nil || !strings.Contains(r.EmailMessage.Headers, "Received:") && !strings.Contains(r.EmailMessage.Headers, "received:") {
				t.Errorf("email message %+v", r.EmailMessage)
			}
			for _, s := range tc.contains {
				if !strings.Contains(r.Description, s) {
					t.Errorf("description lacks %q:\n%s", s, r.Description)
				}
			}
			if len(tc.missing) == 0 {
				validates(t, r)
			}
		})
	}
}

func TestDetails(t *testing.T) {
	fb, _ := ReadFeedback(load(t, "testdata/rfc5965-complete.eml"))
	if fb.OriginalMailFrom != "<somespammer@example.net>" || !slices.Equal(fb.OriginalRcptTo, []string{"<user@example.com>"}) ||
		fb.ReportingMTA != "dns; mail.example.com" || fb.Incidents != 12 || fb.Version != "1" || fb.UserAgent != "SomeGenerator/1.0" ||
		!slices.Equal(fb.RemovalRecipient, []string{"user@example.com"}) || len(fb.AuthenticationResults) != 1 {
		t.Errorf("fields: %+v", fb)
	}
	if fb.ArrivalDateFrom != FromFeedback || !fb.ArrivalDate.Equal(time.Date(2005, 3, 8, 18, 0, 0, 0, time.UTC)) {
		t.Errorf("arrival %v from %q", fb.ArrivalDate, fb.ArrivalDateFrom)
	}
	if !strings.HasPrefix(fb.Text, "This is an email abuse report") {
		t.Errorf("text %q", fb.Text)
	}
	reps, _, _ := Parse(load(t, "testdata/rfc5965-complete.eml"))
	if b := reps[0].EmailMessage.Body; !strings.HasPrefix(b, "Spam Spam Spam") {
		t.Errorf("body %q", b)
	}

	fb, _ = ReadFeedback(load(t, "testdata/rfc6591-dkim.eml"))
	if fb.DKIMIdentity != "@example.net" || fb.DKIMCanonicalizedBody == "" || fb.Original == nil || fb.Original.Header.Get("Subject") != "Sale on Pink Bunnies!" {
		t.Errorf("auth-failure fields: %+v", fb)
	}
	// The complainant's address (Original-Rcpt-To, the original's To)
	// stays out of the description, which may reach the customer.
	reps, _, _ = Parse(load(t, "testdata/rfc6591-dkim.eml"))
	if strings.Contains(reps[0].Description, "user@example.com") {
		t.Errorf("description leaks the recipient:\n%s", reps[0].Description)
	}

	reps, _, _ = Parse(load(t, "testdata/rfc7489-dmarc.eml"))
	if p := reps[0].Incidents[0].SourcePort; p == nil || *p != 40123 {
		t.Errorf("source port %v", p)
	}

	fb, _ = ReadFeedback(load(t, "testdata/draft-mixed-crlf.eml"))
	if fb.Version != "0.1" || len(fb.Defects) != 2 || fb.ArrivalDateFrom != FromFeedback {
		t.Errorf("draft: version %q defects %v arrival from %q", fb.Version, fb.Defects, fb.ArrivalDateFrom)
	}
}

func TestNotARF(t *testing.T) {
	for _, raw := range []string{
		"",
		"From: a@example.com\nSubject: hi\n\nplain text\n",
		// A JMRP-style complaint: the reported message alone, no feedback part.
		"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: message/rfc822\n\nReceived: from x ([192.0.2.1]) by y; Thu, 8 Mar 2005 14:00:00 -0400\nSubject: spam\n\nbody\n--b--\n",
		// A multipart/report of another report type (a bounce, RFC 3464).
		"Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n--b\nContent-Type: text/plain\n\nFeedback-Type: abuse\n--b--\n",
	} {
		m := mailpart.Parse([]byte(raw))
		if _, ok := ReadFeedback(m); ok {
			t.Errorf("ReadFeedback recognised %q", raw)
		}
		if reps, missing, ok := Parse(m); ok || reps != nil || missing != nil {
			t.Errorf("Parse(%q) = %v, %v, %v", raw, reps, missing, ok)
		}
	}
	if _, ok := ReadFeedback(nil); ok {
		t.Error("ReadFeedback(nil) recognised")
	}
}

func TestParseDate(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Thu, 8 Mar 2005 14:00:00 -0400", "2005-03-08T18:00:00Z"},
		{"8 Mar 2005 14:00:00 -0400", "2005-03-08T18:00:00Z"},
		{"Thu, 8 Mar 2005 14:00:00 EDT", "2005-03-08T18:00:00Z"},
		{"Thu, 29 Apr 2009 00:00:00 -0000 (EST)", "2009-04-29T00:00:00Z"}, // the numeric zone wins over the comment
		{"Sat, 31 Oct 2020 18:02:57 +0000 (UTC)", "2020-10-31T18:02:57Z"},
		{"Thu, 29 Apr 2013 23:45:50 PST", "2013-04-30T07:45:50Z"},
		{"Thu, 9 Apr 2006 23:34:45 JST", "2006-04-09T14:34:45Z"},
		{"Thu 08 Mar 05 14:00 GMT", "2005-03-08T14:00:00Z"}, // RFC 5322 §4.3 two-digit year, no seconds
		{"8 mar 1999 14:00:00 +01:00", "1999-03-08T13:00:00Z"},
		{"2026-03-02T09:58:12+01:00", "2026-03-02T08:58:12Z"},
		{"Mon, 2 Mar 2026 10:00:60 +0000", "2026-03-02T10:00:59Z"},
		{"Thu, 8 Mar 2005 14:00:00", ""},     // no zone
		{"Thu, 8 Mar 2005 14:00:00 IST", ""}, // ambiguous zone
		{"2026-03-02T09:58:12", ""},
		{"Thu, 31 Feb 2005 14:00:00 +0000", ""},
		{"Thu, 8 Foo 2005 14:00:00 +0000", ""},
		{"Thu, 8 Mar 2005 25:00:00 +0000", ""},
		{"", ""},
		{"(UTC)", ""},
	} {
		got, err := parseDate(tc.in)
		s := ""
		if err == nil {
			s = got.Format(time.RFC3339)
		}
		if s != tc.want {
			t.Errorf("parseDate(%q) = %q (%v), want %q", tc.in, s, err, tc.want)
		}
	}
}

func TestSourceIP(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1":                "192.0.2.1",
		" [192.0.2.1] ":            "192.0.2.1",
		"192.0.2.1 (mail.example)": "192.0.2.1",
		"::ffff:192.0.2.1":         "192.0.2.1",
		"2001:db8::1":              "2001:db8::1",
		"-":                        "",
		"":                         "",
		"0.0.0.0":                  "",
		"127.0.0.1":                "",
		"unknown":                  "",
	} {
		a, ok := sourceIP(in)
		got := ""
		if ok {
			got = a.String()
		}
		if got != want {
			t.Errorf("sourceIP(%q) = %q, want %q", in, got, want)
		}
	}
}

// Bounds hold on a hostile report: many fields, a huge field, a huge body.
func TestBounds(t *testing.T) {
	var b strings.Builder
	b.WriteString("Content-Type: multipart/report; report-type=feedback-report; boundary=b\n\n--b\nContent-Type: text/plain\n\n")
	b.WriteString(strings.Repeat("é", 20000) + "\n")
	b.WriteString("--b\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\nSource-IP: 192.0.2.1\nArrival-Date: Thu, 8 Mar 2005 14:00:00 -0400\n")
	b.WriteString("User-Agent: " + strings.Repeat("x", 10000) + "\n")
	for i := 0; i < 3000; i++ {
		b.WriteString("Reported-Domain: d.example\n")
	}
	b.WriteString("--b\nContent-Type: message/rfc822\n\nReceived: from a ([192.0.2.1]) by b; Thu, 8 Mar 2005 14:00:00 -0400\n\n")
	b.WriteString(strings.Repeat("spam ", 300000) + "\n--b--\n")
	m := mailpart.Parse([]byte(b.String()))
	fb, ok := ReadFeedback(m)
	if !ok || len(fb.Fields) > MaxFields || len(fb.ReportedDomain) > MaxListItems || len(fb.Text) > MaxTextBytes {
		t.Fatalf("ok %v fields %d domains %d text %d", ok, len(fb.Fields), len(fb.ReportedDomain), len(fb.Text))
	}
	reps, _, _ := Parse(m)
	r := reps[0]
	if len(r.Description) > MaxDescriptionBytes || len(r.EmailMessage.Body) > MaxBodyBytes {
		t.Fatalf("description %d body %d", len(r.Description), len(r.EmailMessage.Body))
	}
	if !strings.Contains(r.Description, "User-Agent: xxx") || !strings.Contains(r.Description, "…") {
		t.Errorf("long value not clipped with a mark")
	}
}

// A mail forwarding several reports gives one report each, and names the
// gaps of each by its attachment.
func TestSeveralForwarded(t *testing.T) {
	arf := func(ip string) string {
		return "Content-Type: message/rfc822\n\nContent-Type: multipart/report; report-type=feedback-report; boundary=i\n\n" +
			"--i\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\nSource-IP: " + ip + "\nArrival-Date: Thu, 8 Mar 2005 14:00:00 -0400\n" +
			"--i\nContent-Type: text/rfc822-headers\n\nReceived: from a ([192.0.2.9]) by b; Thu, 8 Mar 2005 14:00:00 -0400\nSubject: s\n--i--\n"
	}
	raw := "Content-Type: multipart/mixed; boundary=o\n\n--o\nContent-Type: text/plain\n\nTwo complaints.\n--o\n" + arf("192.0.2.1") + "--o\n" + arf("-") + "--o--\n"
	reps, missing, ok := Parse(mailpart.Parse([]byte(raw)))
	if !ok || len(reps) != 2 || len(missing) != 0 {
		t.Fatalf("ok %v, %d reports, missing %v", ok, len(reps), missing)
	}
	if reps[0].Incidents[0].SourceIP != "192.0.2.1" || reps[1].Incidents[0].SourceIP != "192.0.2.9" {
		t.Errorf("sources %s, %s", reps[0].Incidents[0].SourceIP, reps[1].Incidents[0].SourceIP)
	}
	raw = strings.Replace(raw, "Received: from a ([192.0.2.9]) by b; Thu, 8 Mar 2005 14:00:00 -0400\n", "", -1)
	_, missing, _ = Parse(mailpart.Parse([]byte(raw)))
	if len(missing) != 1 || missing[0].Field != "attachment[1].feedback-report.Source-IP" {
		t.Errorf("missing %v", missing)
	}
}
