package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"abusedesk/internal/cases"
	"abusedesk/internal/disclosure"
	"abusedesk/internal/store"
	"abusedesk/internal/store/storetest"
)

// TestConsoleConversation: an analyst sees the conversation of a case,
// holds a pending message and releases it; sees the mails of the case and
// a failed one in the outbox, with the relay's refusal, and queues it again.
func TestConsoleConversation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		srv, _ := consoleServer(t, st)
		c := staffClient(t)
		login(t, srv, c)
		_, body := get(t, c, srv.URL+"/console?q=203.0.113.9")
		id := caseLink.FindStringSubmatch(body)[1]
		cs, err := st.CaseByPublicID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := st.ApplyCase(ctx, id, staffEmail, cases.Command{Action: cases.Notify}, cases.DefaultPolicy(), time.Now()); err != nil {
			t.Fatal(err)
		}
		hostile := `<script>alert("relay")</script> please stop`
		m := &store.Message{CaseID: cs.ID, Sender: store.PartyCustomer, Recipient: store.PartyReporter, Kind: "message", Body: hostile,
			State: store.MessagePending, RelayAt: time.Now().Add(time.Hour), CreatedAt: time.Now()}
		if _, err := st.AddMessage(ctx, m, "customer:acct-2"); err != nil {
			t.Fatal(err)
		}
		// A mail of the case that the relay refused for good.
		tx, err := st.W.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		mid, err := st.InsertOutboxTx(ctx, tx, &store.OutboxMail{MessageID: "<x@desk>", DedupeKey: "test:1", Kind: "customer_notice", CaseID: cs.ID,
			Party: "customer", Recipient: "soc@acct-2.example", From: "desk@x", Subject: "Abuse report", Language: "en", ReplyToken: "tok1",
			Raw: []byte("Subject: Abuse report\r\n\r\nhello <b>\r\n"), State: store.OutboxQueued, CreatedAt: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if err := st.MarkOutboxFailed(ctx, mid, 1, 550, "5.1.1 <soc@acct-2.example>: mailbox unknown", time.Now()); err != nil {
			t.Fatal(err)
		}

		// Three page views naming the reporter to the customer: three audit
		// entries, one timeline line.
		for i := 0; i < 3; i++ {
			if err := st.AuditDisclosures(ctx, cs.ID, cs.PublicID, "customer:acct-2", "portal",
				[]disclosure.Disclosure{{Field: disclosure.FieldReporterIdentity, ReportID: 1}}, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		_, body = get(t, c, srv.URL+"/console/cases/"+id)
		if strings.Count(body, "identity disclosed") != 1 || !strings.Contains(body, "×3") {
			t.Errorf("three identical disclosures are not one timeline line ×3")
		}
		if strings.Contains(body, "<script>alert") || !strings.Contains(body, "&lt;script&gt;alert") {
			t.Error("the customer's message is not escaped on the case page")
		}
		if !strings.Contains(body, `id="hold-`+strconv.FormatInt(m.ID, 10)+`"`) || !strings.Contains(body, "/console/outbox/"+strconv.FormatInt(mid, 10)) {
			t.Fatalf("case page lacks the hold button or the mail:\n%s", body)
		}
		csrf := csrfField.FindStringSubmatch(body)[1]
		hold := srv.URL + "/console/cases/" + id + "/messages/" + strconv.FormatInt(m.ID, 10)
		if resp, _ := postForm(t, c, hold+"/hold", url.Values{}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("hold without CSRF: %d", resp.StatusCode)
		}
		resp, _ := postForm(t, c, hold+"/hold", url.Values{"csrf": {csrf}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("hold: %d", resp.StatusCode)
		}
		if got, _ := st.MessageByID(ctx, m.ID); got.State != store.MessageHeld {
			t.Fatalf("after hold: %s", got.State)
		}
		postForm(t, c, hold+"/release", url.Values{"csrf": {csrf}})
		got, _ := st.MessageByID(ctx, m.ID)
		if got.State != store.MessagePending || got.RelayAt.After(time.Now().Add(time.Second)) {
			t.Fatalf("after release: %s due %v", got.State, got.RelayAt)
		}
		es, _ := st.CaseAudit(ctx, cs.ID)
		var acts []string
		for _, e := range es {
			acts = append(acts, e.Action)
		}
		if j := strings.Join(acts, ","); !strings.Contains(j, "message_held") || !strings.Contains(j, "message_released") {
			t.Errorf("hold and release not audited: %s", j)
		}

		// The outbox lists the failed mail with the relay's answer; retry queues it.
		_, body = get(t, c, srv.URL+"/console/outbox?state=failed")
		if !strings.Contains(body, "mailbox unknown") || !strings.Contains(body, "soc@acct-2.example") {
			t.Fatalf("failed mail not listed:\n%s", body)
		}
		_, body = get(t, c, srv.URL+"/console/outbox/"+strconv.FormatInt(mid, 10))
		if !strings.Contains(body, "hello &lt;b&gt;") || !strings.Contains(body, `id="retry"`) {
			t.Fatalf("mail page: raw not escaped or no retry:\n%s", body)
		}
		resp, _ = postForm(t, c, srv.URL+"/console/outbox/"+strconv.FormatInt(mid, 10)+"/retry", url.Values{"csrf": {csrf}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("retry: %d", resp.StatusCode)
		}
		if om, _ := st.OutboxByID(ctx, mid); om.State != store.OutboxQueued {
			t.Errorf("after retry: %s", om.State)
		}
		// No sink outside the demo.
		if resp, _ := get(t, c, srv.URL+"/console/sink"); resp.StatusCode != http.StatusNotFound {
			t.Errorf("sink page without a sink: %d", resp.StatusCode)
		}
	})
}

// TestStaffAPIConversation: the staff API shows a case's messages and
// mails, and holds and releases a message.
func TestStaffAPIConversation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		srv, _ := consoleServer(t, st)
		u, err := st.UserByEmail(ctx, staffEmail)
		if err != nil {
			t.Fatal(err)
		}
		token, err := st.AddStaffToken(ctx, u.ID, "test")
		if err != nil {
			t.Fatal(err)
		}
		code, list := apiDo(t, "GET", srv.URL+"/api/v1/cases?ip=203.0.113.9", token, "")
		if code != 200 {
			t.Fatal(code, list)
		}
		id := list["cases"].([]any)[0].(map[string]any)["id"].(string)
		cs, _ := st.CaseByPublicID(ctx, id)
		m := &store.Message{CaseID: cs.ID, Sender: store.PartyReporter, ReportID: 1, Recipient: store.PartyCustomer, Kind: "message",
			Body: "please stop", State: store.MessagePending, RelayAt: time.Now().Add(time.Hour), CreatedAt: time.Now()}
		if _, err := st.AddMessage(ctx, m, "reporter:R-1"); err != nil {
			t.Fatal(err)
		}
		code, body := apiDo(t, "GET", srv.URL+"/api/v1/cases/"+id, token, "")
		msgs, _ := body["messages"].([]any)
		if code != 200 || len(msgs) != 1 || msgs[0].(map[string]any)["hold_url"] == nil {
			t.Fatalf("case: %d messages %v", code, body["messages"])
		}
		hold := srv.URL + msgs[0].(map[string]any)["hold_url"].(string)
		if code, body := apiDo(t, "POST", hold, token, ""); code != 200 || body["state"] != "held" {
			t.Fatalf("hold: %d %v", code, body)
		}
		if code, body := apiDo(t, "POST", hold, token, ""); code != 200 || body["state"] != "held" {
			t.Errorf("holding a held message again: %d %v", code, body)
		}
		release := strings.Replace(hold, "/hold", "/release", 1)
		if code, body := apiDo(t, "POST", release, token, ""); code != 200 || body["state"] != "pending" {
			t.Fatalf("release: %d %v", code, body)
		}
		if code, _ := apiDo(t, "POST", srv.URL+"/api/v1/cases/"+id+"/messages/999999/hold", token, ""); code != 404 {
			t.Errorf("unknown message: %d", code)
		}
		if code, _ := apiDo(t, "POST", release, "", ""); code != 401 {
			t.Errorf("without a token: %d", code)
		}
	})
}
