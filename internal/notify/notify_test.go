package notify_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"abusedesk/internal/cases"
	"abusedesk/internal/notify"
	"abusedesk/internal/report"
	"abusedesk/internal/store"
	"abusedesk/internal/store/storetest"
)

const (
	consenting = "carla@reporter-one.example"
	private    = "pavel@reporter-two.example"
	custEmail  = "soc@customer.example"
	custName   = "Customer Hosting SARL"
)

// seed stores an account and two reports about one of its servers (the
// first reporter agrees to be named to the customer, the second does not),
// groups them into a case and returns it.
func seed(t *testing.T, st *store.Store) *store.Case { return seedVia(t, st, "form") }

// seedVia is seed with the reports' channel (only the web form's get an
// acknowledgement by mail).
func seedVia(t *testing.T, st *store.Store, channel string) *store.Case {
	t.Helper()
	ctx := context.Background()
	if _, err := st.W.ExecContext(ctx, `INSERT INTO accounts (ext_id, name, security_email, email, language) VALUES ($1, $2, $3, $4, $5)`,
		"acct-9", custName, custEmail, "billing@customer.example", "fr"); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	for i, rep := range []struct {
		email   string
		consent bool
		lang    string
	}{{consenting, true, "en"}, {private, false, "fr"}} {
		r := &report.Report{Type: "network", Subtype: "intrusion", Language: rep.lang,
			Reporter:                 report.Reporter{Name: "Reporter " + rep.email, Email: rep.email},
			ShareContactWithCustomer: rep.consent,
			Description:              "ssh brute force; contact me at " + rep.email,
			Incidents: []report.Incident{{SourceIP: "203.0.113.50", Target: "198.51.100.1",
				Timestamp: now.Add(-time.Duration(i+1) * time.Minute).Format(time.RFC3339), Log: "Failed password for root"}}}
		if es := (&report.Validator{}).Validate(r); len(es) > 0 {
			t.Fatal(es)
		}
		r.Incidents[0].Attribution = report.Attribution{Verdict: "assigned", Account: "acct-9", Resource: "i-0notify"}
		if _, err := st.InsertReport(ctx, &store.NewReport{Report: r, Channel: channel, Raw: []byte("{}"), ContentType: "application/json", ReceivedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.GroupPending(ctx, cases.DefaultPolicy(), time.Now); err != nil {
		t.Fatal(err)
	}
	list, err := st.ListCases(ctx, store.CaseFilter{Limit: 10}, cases.DefaultPolicy(), time.Now())
	if err != nil || len(list.Cases) != 1 {
		t.Fatalf("cases: %v %+v", err, list)
	}
	return &list.Cases[0]
}

func mails(t *testing.T, st *store.Store) map[string][]store.OutboxMail {
	t.Helper()
	list, err := st.ListOutbox(context.Background(), store.OutboxFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]store.OutboxMail{}
	for _, m := range list {
		full, err := st.OutboxByID(context.Background(), m.ID)
		if err != nil {
			t.Fatal(err)
		}
		out[m.Kind] = append(out[m.Kind], *full)
	}
	return out
}

func run(t *testing.T, n *notify.Notifier) int {
	t.Helper()
	k, err := n.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestConversation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		c := seed(t, st)
		n := notify.New(st, nil, notify.Config{BaseURL: "https://desk.example", ReplyDomain: "desk.example", Desk: "Example abuse desk"}, nil)
		if k := run(t, n); k != 2 {
			t.Fatalf("acknowledgements queued = %d, want 2", k)
		}
		if k := run(t, n); k != 0 {
			t.Fatalf("second run queued %d mails: events must be handled once", k)
		}
		m := mails(t, st)
		if len(m["reporter_ack"]) != 2 {
			t.Fatalf("acks = %d", len(m["reporter_ack"]))
		}
		for _, a := range m["reporter_ack"] {
			raw := decoded(t, a.Raw)
			if !strings.Contains(raw, "https://desk.example/") || !strings.Contains(string(a.Raw), "abuse+"+a.ReplyToken+"@desk.example") {
				t.Errorf("ack lacks its status link or reply address:\n%s", raw)
			}
			if a.Recipient == private && (a.Language != "fr" || !strings.Contains(raw, "/fr/status/")) {
				t.Errorf("French reporter got %s mail: %s", a.Language, raw)
			}
		}
		// The status link in the ack opens the report (a token minted for the mail).
		ack := decoded(t, m["reporter_ack"][0].Raw)
		i := strings.Index(ack, "/status/")
		pub, tok, _ := strings.Cut(strings.Fields(ack[i+len("/status/"):])[0], "?token=")
		if _, err := st.ReportByStatusToken(ctx, pub, tok); err != nil {
			t.Errorf("the mailed status link %s?token=%s does not open the report: %v", pub, tok, err)
		}

		// Notify the customer: French (the account's language), the
		// consenting reporter named, the other one nowhere, not even in
		// the description they signed.
		now := time.Now()
		if _, _, err := st.ApplyCase(ctx, c.PublicID, "analyst@desk", cases.Command{Action: cases.Notify}, cases.DefaultPolicy(), now); err != nil {
			t.Fatal(err)
		}
		if _, _, err := st.ApplyCase(ctx, c.PublicID, "analyst@desk", cases.Command{Action: cases.Note, Note: "internal only"}, cases.DefaultPolicy(), now); err != nil {
			t.Fatal(err)
		}
		if k := run(t, n); k != 1 {
			t.Fatalf("notify queued %d mails, want 1 (a note sends nothing)", k)
		}
		m = mails(t, st)
		notice := m["customer_notice"]
		if len(notice) != 1 || notice[0].Recipient != custEmail || notice[0].Language != "fr" {
			t.Fatalf("notice: %+v", notice)
		}
		body := decoded(t, notice[0].Raw)
		if strings.Contains(body, private) || strings.Contains(body, "pavel") {
			t.Errorf("LEAK: the notice names the reporter who did not consent:\n%s", body)
		}
		if !strings.Contains(body, consenting) {
			t.Errorf("the notice hides the reporter who agreed to be named:\n%s", body)
		}
		if !strings.Contains(body, "/fr/portal/login/") || !strings.Contains(body, "203.0.113.50") {
			t.Errorf("notice lacks the portal link or the evidence:\n%s", body)
		}
		// Ask the reporters for more: both get the question; neither learns the customer.
		if _, _, err := st.ApplyCase(ctx, c.PublicID, "analyst@desk", cases.Command{Action: cases.RequestInfo, Note: "Which port was targeted?"}, cases.DefaultPolicy(), now); err != nil {
			t.Fatal(err)
		}
		if k := run(t, n); k != 2 {
			t.Fatalf("request_info queued %d, want 2", k)
		}
		for _, q := range mails(t, st)["reporter_need_info"] {
			b := decoded(t, q.Raw)
			if !strings.Contains(b, "Which port was targeted?") {
				t.Errorf("need-info mail lacks the question:\n%s", b)
			}
			if strings.Contains(b, custName) || strings.Contains(b, custEmail) || strings.Contains(b, "acct-9") {
				t.Errorf("LEAK: need-info mail names the customer:\n%s", b)
			}
		}
		// Mediation: the customer writes to the reporters. Held: nothing
		// goes; released: relayed without the customer's identity.
		msg := &store.Message{CaseID: c.ID, Sender: store.PartyCustomer, Recipient: store.PartyReporter, Kind: "message",
			Body: "We blocked it. — " + custName, State: store.MessagePending, RelayAt: now.Add(-time.Second), CreatedAt: now}
		if _, err := st.AddMessage(ctx, msg, "customer:acct-9"); err != nil {
			t.Fatal(err)
		}
		if err := st.HoldMessage(ctx, msg.ID, "analyst@desk", now); err != nil {
			t.Fatal(err)
		}
		if k := run(t, n); k != 0 {
			t.Fatalf("a held message was relayed (%d mails)", k)
		}
		if err := st.ReleaseMessage(ctx, msg.ID, "analyst@desk", now); err != nil {
			t.Fatal(err)
		}
		if k := run(t, n); k != 2 {
			t.Fatalf("released message: %d mails, want 2", k)
		}
		for _, r := range mails(t, st)["reporter_message"] {
			b := decoded(t, r.Raw)
			if !strings.Contains(b, "We blocked it.") || strings.Contains(b, custName) {
				t.Errorf("relayed message wrong or leaking:\n%s", b)
			}
		}
		if got, _ := st.MessageByID(ctx, msg.ID); got.State != store.MessageRelayed {
			t.Errorf("message state %s", got.State)
		}
		// The customer consents: the next relay names it.
		if err := st.RecordConsent(ctx, store.Consent{Party: store.PartyCustomer, CaseID: c.ID, Subject: "acct-9", Granted: true, Channel: "portal", Actor: "customer:acct-9"}); err != nil {
			t.Fatal(err)
		}
		msg2 := &store.Message{CaseID: c.ID, Sender: store.PartyCustomer, Recipient: store.PartyReporter, Kind: "message",
			Body: "Fixed for good.", State: store.MessagePending, RelayAt: now.Add(-time.Second), CreatedAt: now}
		if _, err := st.AddMessage(ctx, msg2, "customer:acct-9"); err != nil {
			t.Fatal(err)
		}
		run(t, n)
		named := 0
		for _, r := range mails(t, st)["reporter_message"] {
			if b := decoded(t, r.Raw); strings.Contains(b, "Fixed for good.") && strings.Contains(b, custName) {
				named++
			}
		}
		if named != 2 {
			t.Errorf("after consent, %d of 2 relays name the customer", named)
		}
		// Resolve: each reporter gets the outcome, once.
		if _, _, err := st.ApplyCase(ctx, c.PublicID, "analyst@desk", cases.Command{Action: cases.InfoReceived}, cases.DefaultPolicy(), now); err != nil {
			t.Fatal(err)
		}
		if _, _, err := st.ApplyCase(ctx, c.PublicID, "analyst@desk", cases.Command{Action: cases.Resolve, Outcome: "ACTIONED"}, cases.DefaultPolicy(), now); err != nil {
			t.Fatal(err)
		}
		if k := run(t, n); k != 2 {
			t.Fatalf("resolve queued %d, want 2", k)
		}
		for _, o := range mails(t, st)["reporter_outcome"] {
			if !strings.Contains(decoded(t, o.Raw), "ACTIONED") {
				t.Errorf("outcome mail lacks the code")
			}
		}
		// Every identity a mail showed is in the audit trail.
		es, err := st.CaseAudit(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		disclosed := 0
		for _, e := range es {
			if e.Action == "disclosed" {
				disclosed++
			}
		}
		if disclosed != 3 { // the notice (one consenting reporter) and two relays naming the customer
			t.Errorf("disclosures audited: %d", disclosed)
		}
		if n, _, err := st.VerifyAudit(ctx); err != nil {
			t.Fatalf("audit chain after %d entries: %v", n, err)
		}
	})
}

// TestNoAckForPrograms: a report sent through the API gets its receipt in
// the HTTP answer, not by mail; later mails (a question) still reach it.
func TestNoAckForPrograms(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		c := seedVia(t, st, "api")
		n := notify.New(st, nil, notify.Config{}, nil)
		if k := run(t, n); k != 0 {
			t.Fatalf("API reports acknowledged by %d mails", k)
		}
		if _, _, err := st.ApplyCase(context.Background(), c.PublicID, "a", cases.Command{Action: cases.RequestInfo, Note: "When?"}, cases.DefaultPolicy(), time.Now()); err != nil {
			t.Fatal(err)
		}
		if k := run(t, n); k != 2 {
			t.Fatalf("questions to API reporters: %d mails, want 2", k)
		}
	})
}

func TestReminder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		c := seed(t, st)
		base := time.Now()
		n := notify.New(st, nil, notify.Config{}, nil)
		if _, _, err := st.ApplyCase(ctx, c.PublicID, "a", cases.Command{Action: cases.Notify}, cases.DefaultPolicy(), base); err != nil {
			t.Fatal(err)
		}
		// 24 h deadline: nothing at once, a reminder after half of it, once.
		n.Now = func() time.Time { return base.Add(time.Hour) }
		if k, err := n.Remind(ctx); err != nil || k != 0 {
			t.Fatalf("reminder an hour after the notice: %d %v", k, err)
		}
		n.Now = func() time.Time { return base.Add(13 * time.Hour) }
		if k, err := n.Remind(ctx); err != nil || k != 1 {
			t.Fatalf("reminder after 13 h: %d %v", k, err)
		}
		if k, err := n.Remind(ctx); err != nil || k != 0 {
			t.Fatalf("second reminder for the same deadline: %d %v", k, err)
		}
	})
}

// TestLoginLinks: a link asked for on the portal is mailed once per
// address per five minutes, however often the form is sent, and opens the
// portal for its account.
func TestLoginLinks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		seed(t, st)
		at := time.Now()
		for i := 0; i < 3; i++ {
			if err := st.AddMailEvent(ctx, store.MailEvent{Kind: store.EventPortalLogin, At: at,
				Detail: map[string]any{"account": "acct-9", "email": custEmail}}); err != nil {
				t.Fatal(err)
			}
		}
		n := notify.New(st, nil, notify.Config{BaseURL: "https://desk.example"}, nil)
		run(t, n)
		links := mails(t, st)["customer_login"]
		if len(links) != 1 || links[0].Recipient != custEmail {
			t.Fatalf("login mails: %d, want 1 to %s", len(links), custEmail)
		}
		body := decoded(t, links[0].Raw)
		i := strings.Index(body, "/portal/login/")
		if i < 0 {
			t.Fatalf("no link:\n%s", body)
		}
		tok := strings.Fields(body[i+len("/portal/login/"):])[0]
		if acct, _, err := st.PortalLoginInfo(ctx, tok, time.Now()); err != nil || acct != "acct-9" {
			t.Errorf("the mailed link opens %q (%v), want acct-9", acct, err)
		}
		if pending, _ := st.PendingMailEvents(ctx); pending != 0 {
			t.Errorf("%d events left", pending)
		}
	})
}
