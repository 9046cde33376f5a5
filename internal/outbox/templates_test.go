package outbox_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"abusedesk/internal/outbox"
)

var wantKinds = []string{
	"complainant_counter_notice", "customer_escalation", "customer_extension", "customer_login",
	"customer_message", "customer_notice", "customer_reminder", "legal_ack", "reporter_ack",
	"reporter_message", "reporter_missing", "reporter_need_info", "reporter_not_ours", "reporter_outcome",
}

func fullData() outbox.Data {
	t0 := time.Date(2026, 3, 1, 9, 5, 0, 0, time.UTC)
	return outbox.Data{
		Desk:      "Example Cloud abuse desk",
		ReportID:  "R-7KQ2M",
		CaseID:    "C-3FX9A",
		StatusURL: "https://abuse.example.net/status/s3cr3tstatus",
		PortalURL: "https://abuse.example.net/portal/login/m4g1cl1nk",
		Category:  "network_abuse", Subtype: "ssh_bruteforce",
		ReceivedAt: t0, Deadline: t0.Add(48 * time.Hour), NewDeadline: t0.Add(96 * time.Hour),
		Outcome:      "ACTIONED",
		Question:     "Which destination port was attacked?\nPlease include logs.",
		Message:      "We fixed the server.\nSorry for the trouble.",
		FromIdentity: "",
		Resource:     "vm-1234",
		Evidence: []outbox.Evidence{
			{Time: "2026-03-01 08:00:01", Source: "198.51.100.7", Target: "203.0.113.9:22", Detail: "failed password for root"},
			{Time: "2026-03-01 08:00:02", Source: "198.51.100.7", Target: "203.0.113.9:22"},
		},
		EvidenceMore:    42,
		Description:     "Thousands of SSH login attempts from your address.",
		Items:           3,
		NotOurs:         1,
		CounterNotice:   "I swear under penalty of perjury that the material was removed by mistake.",
		RestoreEarliest: t0.Add(10 * 24 * time.Hour), RestoreLatest: t0.Add(14 * 24 * time.Hour),
		LegalID:      "L-9ZZ1",
		LoginExpires: t0.Add(15 * time.Minute),
		MailID:       "M-0Q8ZK3M1TW0ABX",
		MailSubject:  "ssh attacks",
		Missing:      []string{"incidents[0].timestamp: \"Nov 20 10:00:01\" has no time zone"},
	}
}

func TestRenderEveryKind(t *testing.T) {
	if got := outbox.Kinds(); !slices.Equal(got, wantKinds) {
		t.Fatalf("Kinds() = %v, want %v", got, wantKinds)
	}
	d := fullData()
	for _, kind := range wantKinds {
		texts := map[string]string{}
		for _, lang := range outbox.Languages {
			subject, body, err := outbox.Render(kind, lang, d)
			if err != nil {
				t.Fatalf("%s.%s: %v", kind, lang, err)
			}
			if subject == "" || strings.ContainsAny(subject, "\r\n") || len(body) < 100 {
				t.Errorf("%s.%s: subject %q, body of %d bytes", kind, lang, subject, len(body))
			}
			if strings.Contains(body, "<no value>") || strings.Contains(subject, "<no value>") {
				t.Errorf("%s.%s: missing field:\n%s", kind, lang, body)
			}
			if strings.Contains(body, "</") || strings.Contains(body, "<br") {
				t.Errorf("%s.%s: markup in a text/plain body", kind, lang)
			}
			if !strings.Contains(body, d.Desk) {
				t.Errorf("%s.%s: desk not named", kind, lang)
			}
			var want []string
			switch {
			case kind == "reporter_missing":
				want = []string{d.MailID, d.Missing[0]}
			case strings.HasPrefix(kind, "reporter_"), kind == "complainant_counter_notice":
				want = []string{d.StatusURL, d.ReportID}
			case strings.HasPrefix(kind, "customer_"):
				want = []string{d.PortalURL}
			case kind == "legal_ack":
				want = []string{d.LegalID}
			}
			switch kind {
			case "customer_notice":
				want = append(want, d.CaseID, d.Resource, "198.51.100.7", "42", "ssh_bruteforce")
			case "reporter_need_info":
				want = append(want, "> Which destination port", "> Please include logs.")
			case "reporter_outcome":
				want = append(want, "ACTIONED (")
			case "customer_message", "reporter_message":
				want = append(want, "> We fixed the server.")
			case "complainant_counter_notice":
				want = append(want, "> I swear", "512(g)(2)(B)")
			case "customer_extension":
				want = append(want, "2026")
			}
			for _, w := range want {
				if !strings.Contains(subject+"\n"+body, w) {
					t.Errorf("%s.%s: %q missing:\n%s\n\n%s", kind, lang, w, subject, body)
				}
			}
			texts[lang] = subject + body
		}
		if texts["en"] == texts["fr"] {
			t.Errorf("%s: en and fr are the same", kind)
		}
	}
}

func TestRenderDetails(t *testing.T) {
	d := fullData()
	_, en, _ := outbox.Render("customer_notice", "en", d)
	_, fr, _ := outbox.Render("customer_notice", "fr-CA", d)
	if !strings.Contains(en, "2026-03-03 09:05 UTC") || !strings.Contains(fr, "03/03/2026 09:05 UTC") {
		t.Errorf("deadline dates:\n%s\n%s", en, fr)
	}
	if _, de, err := outbox.Render("customer_notice", "de", d); err != nil || de != en {
		t.Errorf("unknown language does not fall back to English: %v", err)
	}
	if _, _, err := outbox.Render("nonsense", "en", d); err == nil {
		t.Error("unknown kind rendered")
	}
	_, withheld, _ := outbox.Render("customer_message", "en", d)
	d.FromIdentity = "Jane Doe <jane@example.org>"
	_, named, _ := outbox.Render("customer_message", "en", d)
	if !strings.Contains(withheld, "withheld") || strings.Contains(named, "withheld") || !strings.Contains(named, "Jane Doe") {
		t.Errorf("identity:\n%s\n%s", withheld, named)
	}
	d.Category = "spam\r\nBcc: x@example.org"
	if s, _, _ := outbox.Render("customer_notice", "en", d); strings.ContainsAny(s, "\r\n") {
		t.Errorf("subject with a line break: %q", s)
	}
}
