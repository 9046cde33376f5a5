package disclosure

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// Markers: each is a string that appears in exactly one place of the case,
// so finding it in a view means the viewer saw that place.
const (
	r1Email    = "alice@rep1.example"
	r1Name     = "Alice Reporterson"
	r2Email    = "bob@rep2.example"
	custEmail  = "security@cust.example"
	custName   = "Customer Corp Ltd"
	account    = "acct-123456"
	resource   = "i-res456789"
	desc1      = "desc-one"
	desc2      = "desc-two"
	note       = "internal-note-xyz"
	heldMsg    = "held-message-body"
	pendingMsg = "pending-message-body"
	askR1      = "desk-asks-r1"
	askAll     = "desk-asks-everyone"
	custSays   = "customer-says-to-reporters"
	r1Says     = "r1-says-to-customer"
	r2Says     = "r2-says-to-customer"
	evidence1  = "log-line-one"
	evidence2  = "log-line-two"
)

func sample(reporterConsent, customerConsent, notified bool) Case {
	at := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	return Case{
		ID: 7, PublicID: "C-TEST", Status: "customer_notified", Category: "network",
		Account: account, Resource: resource,
		Customer:        Party{Name: custName, Email: custEmail},
		CustomerConsent: customerConsent, Notified: notified,
		Reports: []Report{
			// The description signs with the reporter's own address: it
			// must be cut when the identity is withheld.
			{ID: 1, PublicID: "R-1", Reporter: Party{Name: r1Name, Email: r1Email}, Consent: reporterConsent, Description: desc1 + " signed " + r1Email},
			{ID: 2, PublicID: "R-2", Reporter: Party{Name: "Bob Other", Email: r2Email}, Consent: false, Description: desc2},
		},
		Evidence: []Evidence{{ReportID: 1, Time: at, Source: "192.0.2.1", Detail: evidence1}, {ReportID: 2, Time: at, Source: "192.0.2.1", Detail: evidence2}},
		Messages: []Message{
			{ID: 1, ReportID: 1, Sender: "desk", Recipient: "reporter", Body: askR1, State: "relayed"},
			{ID: 2, Sender: "desk", Recipient: "reporter", Body: askAll, State: "relayed"},
			{ID: 3, Sender: "customer", Recipient: "reporter", Body: custSays + " from " + custName, State: "relayed"},
			{ID: 4, ReportID: 1, Sender: "reporter", Recipient: "customer", Body: r1Says + " — " + r1Name, State: "relayed"},
			{ID: 5, ReportID: 2, Sender: "reporter", Recipient: "customer", Body: r2Says, State: "relayed"},
			{ID: 6, ReportID: 2, Sender: "reporter", Recipient: "customer", Body: heldMsg, State: "held"},
			{ID: 7, Sender: "customer", Recipient: "reporter", Body: pendingMsg, State: "pending"},
		},
		Notes: []string{note}, Assignee: "analyst@desk.example",
	}
}

type viewerCase struct {
	name string
	v    Viewer
}

var viewers = []viewerCase{
	{"reporter-1", Viewer{Role: Reporter, ReportID: 1}},
	{"reporter-2", Viewer{Role: Reporter, ReportID: 2}},
	{"reporter-of-another-case", Viewer{Role: Reporter, ReportID: 99}},
	{"customer", Viewer{Role: Customer, Account: account}},
	{"other-customer", Viewer{Role: Customer, Account: "acct-other"}},
	{"analyst", Viewer{Role: Analyst}},
	{"admin", Viewer{Role: Admin}},
}

// expected is the policy written out marker by marker, independently of
// May: the list of markers viewer may find in its view.
func expected(name string, reporterConsent, customerConsent, notified bool) map[string]bool {
	all := []string{r1Email, r1Name, r2Email, custEmail, custName, account, resource, desc1, desc2, note, heldMsg, pendingMsg,
		askR1, askAll, custSays, r1Says, r2Says, evidence1, evidence2}
	want := map[string]bool{}
	set := func(ms ...string) {
		for _, m := range ms {
			want[m] = true
		}
	}
	switch name {
	case "analyst", "admin":
		set(all...)
	case "reporter-1":
		set(r1Email, r1Name, desc1, evidence1, askR1, askAll, custSays, r1Says)
		if customerConsent {
			set(custEmail, custName)
		}
	case "reporter-2":
		set(r2Email, desc2, evidence2, askAll, custSays, r2Says, heldMsg)
		if customerConsent {
			set(custEmail, custName)
		}
	case "customer":
		if !notified {
			return want
		}
		set(account, resource, custEmail, custName, desc1, desc2, evidence1, evidence2, custSays, r1Says, r2Says, pendingMsg)
		if reporterConsent {
			set(r1Email, r1Name)
		}
	}
	return want
}

// TestMatrix walks every viewer × every marked field × consent given or
// not (and notified or not): a marker found where the policy does not
// allow it is a leak; one missing where it does is an over-redaction.
func TestMatrix(t *testing.T) {
	for _, rc := range []bool{false, true} {
		for _, cc := range []bool{false, true} {
			for _, notified := range []bool{false, true} {
				for _, vc := range viewers {
					name := fmt.Sprintf("%s/reporterConsent=%v/customerConsent=%v/notified=%v", vc.name, rc, cc, notified)
					t.Run(name, func(t *testing.T) {
						c := sample(rc, cc, notified)
						view, disclosed, ok := View(vc.v, c)
						b, _ := json.Marshal(view)
						got := string(b)
						want := expected(vc.name, rc, cc, notified)
						if !ok && len(want) > 0 {
							t.Fatalf("case refused, want %d markers", len(want))
						}
						for _, m := range []string{r1Email, r1Name, r2Email, custEmail, custName, account, resource, desc1, desc2, note, heldMsg, pendingMsg,
							askR1, askAll, custSays, r1Says, r2Says, evidence1, evidence2} {
							if seen := strings.Contains(got, m); seen != want[m] {
								if seen {
									t.Errorf("LEAK: %q is visible", m)
								} else {
									t.Errorf("%q is hidden but the policy shows it", m)
								}
							}
						}
						// Each identity shown across sides is reported for the audit.
						var wantDisc []Disclosure
						switch {
						case vc.name == "customer" && notified && rc:
							wantDisc = []Disclosure{{Field: FieldReporterIdentity, ReportID: 1}}
						case strings.HasPrefix(vc.name, "reporter-") && vc.name != "reporter-of-another-case" && cc:
							wantDisc = []Disclosure{{Field: FieldCustomerIdentity}}
						case vc.name == "analyst" || vc.name == "admin":
							wantDisc = []Disclosure{{Field: FieldCustomerIdentity}}
						}
						if fmt.Sprint(disclosed) != fmt.Sprint(wantDisc) {
							t.Errorf("disclosures = %v, want %v", disclosed, wantDisc)
						}
					})
				}
			}
		}
	}
}

// TestMayMatrix checks May field by field against the same rules.
func TestMayMatrix(t *testing.T) {
	for _, rc := range []bool{false, true} {
		for _, cc := range []bool{false, true} {
			c := sample(rc, cc, true)
			for _, vc := range viewers {
				for _, f := range Fields {
					for _, rid := range []int64{0, 1, 2} {
						got := May(vc.v, f, &c, rid)
						var want bool
						switch vc.name {
						case "analyst", "admin":
							want = true
						case "reporter-1", "reporter-2":
							own := (vc.name == "reporter-1" && rid == 1) || (vc.name == "reporter-2" && rid == 2)
							want = f == FieldCase || (f == FieldCustomerIdentity && cc) || ((f == FieldReporterIdentity || f == FieldReport) && own)
						case "customer":
							want = f == FieldCase || f == FieldAccount || f == FieldReport || f == FieldCustomerIdentity ||
								(f == FieldReporterIdentity && rid == 1 && rc)
						}
						if got != want {
							t.Errorf("%s rc=%v cc=%v May(%s, report %d) = %v, want %v", vc.name, rc, cc, f, rid, got, want)
						}
					}
				}
			}
		}
	}
}

func TestMessageIdentity(t *testing.T) {
	c := sample(true, false, true)
	view, _, _ := View(Viewer{Role: Customer, Account: account}, c)
	for _, m := range view.Messages {
		if m.ID == 4 && !strings.Contains(m.FromIdentity, r1Email) {
			t.Errorf("consenting reporter's message: FromIdentity = %q", m.FromIdentity)
		}
		if m.ID == 5 && m.FromIdentity != "" {
			t.Errorf("non-consenting reporter's message carries %q", m.FromIdentity)
		}
	}
	view, _, _ = View(Viewer{Role: Reporter, ReportID: 1}, c)
	for _, m := range view.Messages {
		if m.Sender == "customer" && (m.FromIdentity != "" || strings.Contains(m.Body, custName)) {
			t.Errorf("customer identity leaked in %+v", m)
		}
	}
}

func TestRedactFold(t *testing.T) {
	got := redact("Contact ALICE@Rep1.example or alice", []string{"alice@rep1.example", "alice"})
	if got != "Contact [withheld] or [withheld]" {
		t.Errorf("redact = %q", got)
	}
}

func FuzzRedact(f *testing.F) {
	f.Add("hello alice@example.com", "alice@example.com")
	f.Add("İstanbul", "i̇")
	f.Fuzz(func(t *testing.T, s, h string) {
		if len(h) < 3 {
			return
		}
		out := redact(s, []string{h})
		if strings.Contains(out, h) && !strings.Contains(Withheld, h) {
			t.Fatalf("redact(%q, %q) = %q still contains it", s, h, out)
		}
	})
}
