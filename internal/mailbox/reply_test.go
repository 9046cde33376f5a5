package mailbox_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"abusedesk/internal/cases"
	"abusedesk/internal/outbox"
	"abusedesk/internal/report"
	"abusedesk/internal/store"
	"abusedesk/internal/store/storetest"
)

const (
	reporterEmail = "carla@reporter.example"
	custEmail     = "soc@customer.example"
)

// seedCase stores an account and a report about its server, groups it into
// a case and returns the case.
func seedCase(t *testing.T, st *store.Store) *store.Case {
	t.Helper()
	ctx := context.Background()
	if _, err := st.W.ExecContext(ctx, `INSERT INTO accounts (ext_id, name, security_email, email, language) VALUES ($1, $2, $3, $4, $5)`,
		"acct-7", "Customer Hosting", custEmail, "billing@customer.example", "en"); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	r := &report.Report{Type: "network", Subtype: "intrusion", Language: "en",
		Reporter:    report.Reporter{Name: "Carla", Email: reporterEmail},
		Description: "ssh brute force",
		Incidents: []report.Incident{{SourceIP: "203.0.113.50", Target: "198.51.100.1",
			Timestamp: now.Add(-time.Minute).Format(time.RFC3339), Log: "Failed password for root"}}}
	if es := (&report.Validator{}).Validate(r); len(es) > 0 {
		t.Fatal(es)
	}
	r.Incidents[0].Attribution = report.Attribution{Verdict: "assigned", Account: "acct-7", Resource: "i-0mail"}
	if _, err := st.InsertReport(ctx, &store.NewReport{Report: r, Channel: "api", Raw: []byte("{}"), ContentType: "application/json", ReceivedAt: now}); err != nil {
		t.Fatal(err)
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

func replyMail(from, subject, inReplyTo, body string, extra ...string) []byte {
	h := "From: " + from + "\r\nTo: abuse@desk.example\r\nSubject: " + subject + "\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\n" +
		"Message-ID: <r" + time.Now().Format("150405.000000000") + "@" + strings.SplitN(from, "@", 2)[1] + ">\r\n"
	if inReplyTo != "" {
		h += "In-Reply-To: " + inReplyTo + "\r\n"
	}
	for _, x := range extra {
		h += x + "\r\n"
	}
	return []byte(h + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + strings.ReplaceAll(body, "\n", "\r\n"))
}

func (e *env) act(t *testing.T, c *store.Case, a cases.Action, note string) {
	t.Helper()
	if _, _, err := e.st.ApplyCase(context.Background(), c.PublicID, "analyst@desk", cases.Command{Action: a, Note: note}, cases.DefaultPolicy(), time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.n.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (e *env) status(t *testing.T, c *store.Case) cases.Status {
	t.Helper()
	got, err := e.st.CaseByID(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got.Status
}

func lastMessage(t *testing.T, st *store.Store, c *store.Case) store.Message {
	t.Helper()
	ms, err := st.CaseMessages(context.Background(), c.ID)
	if err != nil || len(ms) == 0 {
		t.Fatalf("messages: %v %d", err, len(ms))
	}
	return ms[len(ms)-1]
}

func TestRepliesJoinTheirCase(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := setup(t, st)
		ctx := context.Background()
		c := seedCase(t, st)

		// The customer answers the notice by replying to it: its response.
		e.act(t, c, cases.Notify, "")
		notice := sent(t, st, "customer_notice")
		if len(notice) != 1 {
			t.Fatalf("notices: %d", len(notice))
		}
		to := outbox.ReplyAddress("abuse", domain, notice[0].ReplyToken)
		body := "We suspended the VM and are investigating.\n\nOn Tue, 24 Nov 2026, Example abuse desk wrote:\n> Your server attacked someone\n> quoted text\n"
		if err := e.send(t, custEmail, []string{to}, replyMail(custEmail, "Re: "+notice[0].Subject, "", body)); err != nil {
			t.Fatal(err)
		}
		e.drain(t)
		m := e.last(t)
		if m.State != store.InboundReply || m.CaseID != c.ID || m.Parser != "reply" {
			t.Fatalf("customer reply: state %s case %d parser %s detail %v", m.State, m.CaseID, m.Parser, m.Detail)
		}
		if s := e.status(t, c); s != cases.CustomerResponded {
			t.Fatalf("case status after the customer's reply: %s", s)
		}
		msg := lastMessage(t, st, c)
		if msg.Sender != store.PartyCustomer || msg.Body != "We suspended the VM and are investigating." {
			t.Fatalf("message: %+v", msg)
		}

		// The desk asks the reporter; the reporter's reply answers it.
		e.act(t, c, cases.RequestInfo, "Which port was attacked?")
		q := sent(t, st, "reporter_need_info")
		if len(q) != 1 {
			t.Fatalf("questions: %d", len(q))
		}
		if err := e.send(t, reporterEmail, []string{outbox.ReplyAddress("abuse", domain, q[0].ReplyToken)},
			replyMail(reporterEmail, "Re: question", "", "Port 22, see the logs again.\n-- \nCarla, SOC\n")); err != nil {
			t.Fatal(err)
		}
		e.drain(t)
		if s := e.status(t, c); s == cases.NeedsInfo {
			t.Fatalf("the reporter's answer left the case waiting for it")
		}
		msg = lastMessage(t, st, c)
		if msg.Sender != store.PartyReporter || msg.Kind != "answer" || msg.Body != "Port 22, see the logs again." {
			t.Fatalf("reporter answer: %+v", msg)
		}

		// A reply that lost the +token still names the notice in
		// In-Reply-To: it joins the case all the same.
		if err := e.send(t, custEmail, []string{"abuse@desk.example"},
			replyMail(custEmail, "Re: notice", notice[0].MessageID, "One more thing: the VM is deleted now.")); err != nil {
			t.Fatal(err)
		}
		e.drain(t)
		if m := e.last(t); m.State != store.InboundReply || m.CaseID != c.ID {
			t.Fatalf("In-Reply-To reply: state %s case %d detail %v", m.State, m.CaseID, m.Detail)
		}
		if msg := lastMessage(t, st, c); !strings.Contains(msg.Body, "deleted now") || msg.Sender != store.PartyCustomer {
			t.Fatalf("In-Reply-To message: %+v", msg)
		}

		// An out-of-office answer is kept, and moves nothing.
		before := e.status(t, c)
		if err := e.send(t, custEmail, []string{to},
			replyMail(custEmail, "Automatic reply: away", "", "I am away until Monday.", "Auto-Submitted: auto-replied")); err != nil {
			t.Fatal(err)
		}
		e.drain(t)
		if msg := lastMessage(t, st, c); msg.Kind != "auto_reply" || e.status(t, c) != before {
			t.Fatalf("auto reply: %+v, status %s → %s", msg, before, e.status(t, c))
		}

		// An unknown token, and an expired one: review.
		if err := e.send(t, custEmail, []string{"abuse+nosuchtoken00@desk.example"}, replyMail(custEmail, "Re: ?", "", "hello")); err != nil {
			t.Fatal(err)
		}
		e.drain(t)
		if m := e.last(t); m.State != store.InboundReview || m.CaseID != 0 {
			t.Fatalf("unknown token: %s %v", m.State, m.Detail)
		}
		if _, err := st.W.ExecContext(ctx, `UPDATE outbox SET created_at = $1 WHERE id = $2`, time.Now().Add(-200*24*time.Hour).UnixMilli(), notice[0].ID); err != nil {
			t.Fatal(err)
		}
		if err := e.send(t, custEmail, []string{to}, replyMail(custEmail, "Re: old", "", "very late answer")); err != nil {
			t.Fatal(err)
		}
		e.drain(t)
		if m := e.last(t); m.State != store.InboundReview || !strings.Contains(m.Detail["reason"].(string), "expired") {
			t.Fatalf("expired token: %s %v", m.State, m.Detail)
		}

		// The customer's server bounces a later mail: a bounce entry on
		// the case, naming the desk's mail and why.
		dsn := "From: MAILER-DAEMON@mx.customer.example\r\nTo: abuse@desk.example\r\nSubject: Undelivered Mail\r\nMessage-ID: <b1@mx.customer.example>\r\n" +
			"Content-Type: multipart/report; report-type=delivery-status; boundary=\"d\"\r\n\r\n--d\r\n\r\nSorry.\r\n" +
			"--d\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.customer.example\r\n\r\nFinal-Recipient: rfc822; " + custEmail +
			"\r\nAction: failed\r\nStatus: 5.2.2\r\nDiagnostic-Code: smtp; 552 mailbox full\r\n\r\n" +
			"--d\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: abuse@desk.example\r\nMessage-ID: " + notice[0].MessageID + "\r\n--d--\r\n"
		if err := e.send(t, "", []string{"postmaster@desk.example"}, []byte(dsn)); err != nil {
			t.Fatal(err)
		}
		e.drain(t)
		if m := e.last(t); m.State != store.InboundBounce || m.CaseID != c.ID || !strings.Contains(m.Detail["bounce_status"].(string), "5.2.2 "+custEmail) {
			t.Fatalf("bounce: %s case %d %v", m.State, m.CaseID, m.Detail)
		}

		// The desk's own mail coming back is never answered nor reported.
		own := notice[0].Raw
		if err := e.send(t, "abuse@desk.example", []string{"abuse@desk.example"}, own); err != nil {
			t.Fatal(err)
		}
		e.drain(t)
		if m := e.last(t); m.State != store.InboundIgnored {
			t.Fatalf("own mail: %s %v", m.State, m.Detail)
		}
		if n := e.count(t, `SELECT count(*) FROM reports WHERE channel = 'mail'`); n != 0 {
			t.Fatalf("replies made %d reports", n)
		}
		if n := e.count(t, `SELECT count(*) FROM mail_events`); n != 0 {
			t.Fatalf("replies left %d mail events (answers to replies?)", n)
		}
	})
}
