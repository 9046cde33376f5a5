package report

import (
	"slices"
	"strings"
	"testing"
	"time"
)

var testNow = func() time.Time { return time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC) }

func fields(es Errors) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Field + ":" + e.Code
	}
	return out
}

func network() *Report {
	return &Report{Type: "network", Subtype: "intrusion", Reporter: Reporter{Name: "A", Email: "a@example.org"},
		Incidents: []Incident{{SourceIP: "::ffff:203.0.113.7", Target: "host.example.net", Timestamp: "2026-03-02T10:00:00+01:00", Log: "sshd: Failed password"}}}
}

func TestValidateNetworkNormalises(t *testing.T) {
	v := &Validator{Now: testNow}
	r := network()
	r.Incidents[0].SourceIP = "fe80::1%eth0"
	if es := v.Validate(r); len(es) > 0 {
		t.Fatal(es)
	}
	in := r.Incidents[0]
	if in.SourceIP != "fe80::1" || in.At != time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) || in.Timestamp != "2026-03-02T10:00:00+01:00" {
		t.Errorf("normalised to %+v", in)
	}
	r = network()
	v.Validate(r)
	if r.Incidents[0].SourceIP != "203.0.113.7" || r.Language != "en" || r.Reporter.Kind != "individual" || r.Lane != LaneGeneral {
		t.Errorf("defaults/unmap: %+v", r)
	}
}

func TestValidateListsEveryProblem(t *testing.T) {
	v := &Validator{Now: testNow}
	big := strings.Repeat("x", 64<<10+1)
	p70000 := 70000
	r := &Report{Type: "network", Subtype: "smurf", Reporter: Reporter{Email: "not-an-email", Kind: "alien"}, Language: "de",
		Incidents: []Incident{
			{SourceIP: "203.0.113.7", Target: "198.51.100.1", Timestamp: "2026-03-02T10:00:00", Log: "x"},
			{SourceIP: "300.1.1.1", Target: "bad host!", Timestamp: "2027-03-02T10:00:00Z", Log: big, TargetPort: &p70000},
			{},
		}}
	es := v.Validate(r)
	want := []string{
		"subtype:invalid_choice", "reporter.name:required", "reporter.email:invalid_email", "reporter.kind:invalid_choice",
		"language:invalid_choice",
		"incidents[0].timestamp:timezone_required",
		"incidents[1].source_ip:invalid_ip", "incidents[1].target:invalid_host", "incidents[1].target_port:invalid_port",
		"incidents[1].timestamp:timestamp_in_future", "incidents[1].log:too_large",
		"incidents[2].source_ip:required", "incidents[2].target:required", "incidents[2].timestamp:required", "incidents[2].log:required",
	}
	if got := fields(es); !slices.Equal(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
}

func TestValidateTypes(t *testing.T) {
	v := &Validator{Now: testNow}
	cases := []struct {
		name string
		r    Report
		want []string
	}{
		{"no type", Report{Reporter: Reporter{Name: "a", Email: "a@b.c"}}, []string{"type:required"}},
		{"network needs incidents", Report{Type: "network", Subtype: "ddos", Reporter: Reporter{Name: "a", Email: "a@b.c"}}, []string{"incidents:required"}},
		{"content needs url and description", Report{Type: "content", Subtype: "phishing", Reporter: Reporter{Name: "a", Email: "a@b.c"}}, []string{"urls:required", "description:required"}},
		{"content bad urls", Report{Type: "content", Subtype: "malware", Reporter: Reporter{Name: "a", Email: "a@b.c"}, Description: "d",
			URLs: []URLItem{{URL: "ftp://x.example/a"}, {URL: "/relative"}, {URL: "javascript:alert(1)"}, {URL: "https://ok.example/", VideoTimestamp: "soon"}}},
			[]string{"urls[0].url:invalid_url", "urls[1].url:invalid_url", "urls[2].url:invalid_url", "urls[3].video_timestamp:invalid"}},
		{"content ok with per-url description", Report{Type: "content", Subtype: "web_content", Reporter: Reporter{Name: "a", Email: "a@b.c"},
			URLs: []URLItem{{URL: "https://x.example/v", Description: "d", VideoTimestamp: "1:02:03"}}}, nil},
		{"email needs headers", Report{Type: "email", Subtype: "spam_sent", Reporter: Reporter{Name: "a", Email: "a@b.c"}}, []string{"email_message.headers:required"}},
		{"email headers unparsable", Report{Type: "email", Subtype: "spam_sent", Reporter: Reporter{Name: "a", Email: "a@b.c"}, EmailMessage: &EmailMessage{Headers: "just some text"}}, []string{"email_message.headers:invalid_headers"}},
		{"email without public Received", Report{Type: "email", Subtype: "spam_sent", Reporter: Reporter{Name: "a", Email: "a@b.c"}, EmailMessage: &EmailMessage{Headers: "Received: from a (a [10.0.0.1]) by b; Tue, 3 Mar 2026 09:15:02 +0100\nSubject: x"}}, []string{"incidents[0].source_ip:source_ip_not_found"}},
		{"items of another type", Report{Type: "dmca", Reporter: Reporter{Name: "a", Email: "a@b.c"}, URLs: []URLItem{{URL: "https://x.example"}}, DMCA: fullDMCA()}, []string{"urls:not_applicable"}},
		{"government asking for customer data", Report{Type: "network", Subtype: "other", Reporter: Reporter{Name: "a", Email: "a@police.example", Kind: "government"},
			Description: "Merci de nous communiquer l'identité du client, réquisition judiciaire jointe", Incidents: network().Incidents}, []string{"description:legal_request"}},
	}
	for _, c := range cases {
		r := c.r
		if got := fields(v.Validate(&r)); !slices.Equal(got, c.want) && !(len(got) == 0 && len(c.want) == 0) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

func TestEmailSourceFromReceived(t *testing.T) {
	v := &Validator{Now: testNow, SendingServiceHosts: []string{"mail-service.example.net"}}
	h := "Received: from relay.internal (relay.internal [10.1.2.3])\n by mx.reporter.example; Tue, 3 Mar 2026 09:15:09 +0100\n" +
		"Received: from out-7.mail-service.example.net (out-7.mail-service.example.net [203.0.113.25])\n\tby relay.internal with ESMTPS; Tue, 3 Mar 2026 09:15:02 +0100\n" +
		"Received: from localhost ([127.0.0.1]) by out-7; Tue, 3 Mar 2026 09:15:00 +0100\nSubject: buy\nFrom: a@b.example\n\nbody here"
	r := &Report{Type: "email", Subtype: "spam_sent", Reporter: Reporter{Name: "a", Email: "a@b.c"}, EmailMessage: &EmailMessage{Headers: h}}
	if es := v.Validate(r); len(es) > 0 {
		t.Fatal(es)
	}
	if len(r.Incidents) != 1 || r.Incidents[0].SourceIP != "203.0.113.25" || !r.Incidents[0].At.Equal(time.Date(2026, 3, 3, 8, 15, 2, 0, time.UTC)) {
		t.Errorf("derived incident %+v", r.Incidents)
	}
	if r.Lane != LaneEmailAbuse {
		t.Errorf("spam through the sending service: lane %q, want %q", r.Lane, LaneEmailAbuse)
	}
}

func fullDMCA() *DMCANotice {
	return &DMCANotice{Signature: "/J. Doe/", Works: []string{"Song"}, Infringing: []InfringingItem{{URL: "https://x.example/song.mp3"}},
		Contact: DMCAContact{Name: "J", Address: "1 St", Phone: "+1 555 0100", Email: "j@x.example"}, GoodFaith: true, AccuracyUnderPenaltyOfPerjury: true}
}

func TestDMCAClauses(t *testing.T) {
	v := &Validator{Now: testNow}
	r := &Report{Type: "dmca", Reporter: Reporter{Name: "a", Email: "a@b.c"}, DMCA: fullDMCA()}
	if es := v.Validate(r); len(es) > 0 || r.Subtype != "copyright" || r.Lane != LaneCopyright {
		t.Fatalf("complete notice: %v %q %q", es, r.Subtype, r.Lane)
	}
	r = &Report{Type: "dmca", Reporter: Reporter{Name: "a", Email: "a@b.c"}, DMCA: &DMCANotice{
		Infringing: []InfringingItem{{IP: "203.0.113.9"}, {}}, Contact: DMCAContact{Email: "j@x.example"}}}
	var clauses []string
	for _, e := range v.Validate(r) {
		if e.Code != CodeDMCAElement {
			t.Errorf("unexpected %+v", e)
		}
		if !strings.Contains(e.Message, "512(c)(3)(A)"+e.Clause) {
			t.Errorf("message does not name its clause: %q", e.Message)
		}
		clauses = append(clauses, e.Clause)
	}
	want := []string{"(i)", "(ii)", "(iii)", "(iii)", "(iv)", "(iv)", "(iv)", "(v)", "(vi)"}
	if !slices.Equal(clauses, want) {
		t.Errorf("clauses %v, want %v", clauses, want)
	}
}

func TestValidateLegal(t *testing.T) {
	v := &Validator{}
	q := &LegalRequest{Language: "de"}
	if got := fields(v.ValidateLegal(q)); !slices.Equal(got, []string{"authority.name:required", "authority.organization:required", "authority.email:required", "language:invalid_choice", "description:required"}) {
		t.Errorf("got %v", got)
	}
}
