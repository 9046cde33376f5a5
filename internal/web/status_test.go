package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"abusedesk/internal/cases"
	"abusedesk/internal/report"
	"abusedesk/internal/store"
	"abusedesk/internal/store/storetest"
)

const (
	statusQuestion  = `Please send the full headers <script>alert(1)</script>`
	customerName    = "Example Hosting Ltd"
	customerSecMail = "security@hosting.example"
	otherEmail      = "otto@other.example"
	hostileMessage  = `Fixed it <script>alert(1)</script>`
)

// statusFix is consoleServer (an analyst and two cases) plus one case of
// two reports by two reporters, on an account of the inventory.
type statusFix struct {
	srv         *httptest.Server
	w           *Server
	st          *store.Store
	mine, other store.Receipt
	casePub     string
	caseID      int64
}

func statusFixture(t *testing.T, st *store.Store) *statusFix {
	t.Helper()
	ctx := context.Background()
	srv, w := consoleServer(t, st)
	if _, err := st.W.ExecContext(ctx, `INSERT INTO accounts (ext_id, name, security_email, email, language) VALUES ($1, $2, $3, $4, 'en')`,
		"acct-3", customerName, customerSecMail, "billing@hosting.example"); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	f := &statusFix{srv: srv, w: w, st: st}
	for i, who := range []report.Reporter{{Name: "Mina", Email: "mina@reporter.example"}, {Name: "Otto", Email: otherEmail}} {
		r := &report.Report{Type: "network", Subtype: "intrusion", Reporter: who, Description: "ssh brute force",
			Incidents: []report.Incident{{SourceIP: "203.0.113.50", Target: "198.51.100.1", Timestamp: now.Add(-time.Minute).Format(time.RFC3339), Log: "sshd: Failed password"}}}
		if es := (&report.Validator{}).Validate(r); len(es) > 0 {
			t.Fatal(es)
		}
		r.Incidents[0].Attribution = report.Attribution{Verdict: "assigned", Account: "acct-3", Resource: "i-0xyz"}
		rc, err := st.InsertReport(ctx, &store.NewReport{Report: r, Channel: "api", Raw: []byte("{}"), ContentType: "application/json", ReceivedAt: now})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			f.mine = rc
		} else {
			f.other = rc
		}
	}
	if _, err := st.GroupPending(ctx, cases.DefaultPolicy(), time.Now); err != nil {
		t.Fatal(err)
	}
	ids, err := st.ReportCases(ctx, f.mine.ID)
	if err != nil || len(ids) != 1 {
		t.Fatalf("cases of the report: %v %v", ids, err)
	}
	if o, _ := st.ReportCases(ctx, f.other.ID); len(o) != 1 || o[0] != ids[0] {
		t.Fatalf("the two reports are not in one case: %v %v", ids, o)
	}
	f.casePub = ids[0]
	c, err := st.CaseByPublicID(ctx, f.casePub)
	if err != nil {
		t.Fatal(err)
	}
	f.caseID = c.ID
	return f
}

func (f *statusFix) pageURL(rc store.Receipt) string {
	return f.srv.URL + "/status/" + rc.PublicID + "?token=" + url.QueryEscape(rc.Token)
}

func (f *statusFix) apply(t *testing.T, a cases.Action, note string) {
	t.Helper()
	if _, _, err := f.st.ApplyCase(context.Background(), f.casePub, staffEmail, cases.Command{Action: a, Note: note}, cases.DefaultPolicy(), time.Now()); err != nil {
		t.Fatalf("%s: %v", a, err)
	}
}

func (f *statusFix) status(t *testing.T) cases.Status {
	t.Helper()
	c, err := f.st.CaseByPublicID(context.Background(), f.casePub)
	if err != nil {
		t.Fatal(err)
	}
	return c.Status
}

func (f *statusFix) messages(t *testing.T) []store.Message {
	t.Helper()
	ms, err := f.st.CaseMessages(context.Background(), f.caseID)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// auditCount counts a case's audit entries of an action by an actor whose
// detail contains want.
func (f *statusFix) auditCount(t *testing.T, action, actor, want string) int {
	t.Helper()
	es, err := f.st.CaseAudit(context.Background(), f.caseID)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range es {
		if e.Action == action && e.Actor == actor && strings.Contains(e.Detail, want) {
			n++
		}
	}
	return n
}

func (f *statusFix) post(t *testing.T, rc store.Receipt, action string, v url.Values) (*http.Response, string) {
	t.Helper()
	if v.Get("token") == "" {
		v.Set("token", rc.Token)
	}
	return postForm(t, staffClient(t), f.srv.URL+"/status/"+rc.PublicID+"/"+action, v)
}

func mustContain(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s lacks %q", what, w)
		}
	}
}

func mustNotContain(t *testing.T, what, body string, bad ...string) {
	t.Helper()
	for _, b := range bad {
		if strings.Contains(body, b) {
			t.Errorf("%s shows %q", what, b)
		}
	}
}

// TestStatusConversation: the reporter sees their case, the desk's
// question, answers it (the case goes back to the desk), writes to the
// customer; the customer's identity shows only after its consent, and
// other reporters' never.
func TestStatusConversation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := statusFixture(t, st)
		c := staffClient(t)
		actor := "reporter:" + f.mine.PublicID

		resp, body := get(t, c, f.pageURL(f.mine))
		if resp.StatusCode != 200 || resp.Header.Get("Referrer-Policy") != "no-referrer" || resp.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("status page: %d %v", resp.StatusCode, resp.Header)
		}
		mustContain(t, "the page of a new case", body, f.casePub, "Being reviewed by our team", "Withheld: our customer has not agreed")
		mustNotContain(t, "the page of a new case", body, customerName, customerSecMail, otherEmail, "acct-3", "i-0xyz")

		// The analyst asks for more: the question and the answer form.
		f.apply(t, cases.RequestInfo, statusQuestion)
		_, body = get(t, c, f.pageURL(f.mine))
		mustContain(t, "the page after request_info", body, "What our team asked", "Please send the full headers &lt;script&gt;alert(1)&lt;/script&gt;",
			`action="/status/`+f.mine.PublicID+`/answer"`, `name="message"`, "We need more information from you")
		mustNotContain(t, "the page after request_info", body, "<script>alert(1)")
		// The French page too.
		_, fr := get(t, c, f.srv.URL+"/fr/status/"+f.mine.PublicID+"?token="+url.QueryEscape(f.mine.Token))
		mustContain(t, "the French page", fr, "Ce que notre équipe a demandé", `action="/fr/status/`+f.mine.PublicID+`/answer"`)

		// Empty and too long: the form again, the text kept, the reason given.
		resp, body = f.post(t, f.mine, "answer", url.Values{"case": {f.casePub}, "message": {"  \r\n "}})
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("empty answer: %d", resp.StatusCode)
		}
		mustContain(t, "the refused empty answer", body, "The text is empty", `aria-invalid="true"`)
		long := strings.Repeat("é", store.MaxMessageLen+1)
		resp, body = f.post(t, f.mine, "answer", url.Values{"case": {f.casePub}, "message": {long}})
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("long answer: %d", resp.StatusCode)
		}
		mustContain(t, "the refused long answer", body, "20001 characters long; the limit is 20000", ">"+long+"</textarea>")
		// A case the report does not feed: refused, said at the top.
		resp, body = f.post(t, f.mine, "answer", url.Values{"case": {"C-NOTMINE"}, "message": {"x"}})
		if resp.StatusCode != http.StatusConflict || !strings.Contains(body, `id="form-error"`) {
			t.Errorf("answer to another case: %d", resp.StatusCode)
		}
		// The token in the URL of a POST is not taken.
		resp, _ = postForm(t, c, f.srv.URL+"/status/"+f.mine.PublicID+"/answer?token="+url.QueryEscape(f.mine.Token), url.Values{"message": {"x"}})
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("answer with the token in the URL: %d", resp.StatusCode)
		}
		if len(f.messages(t)) != 1 || f.status(t) != cases.NeedsInfo {
			t.Fatal("a refused answer changed the case")
		}

		// The answer: stored for the desk, the case back to new.
		answer := "Full headers:\nReceived: from x <b>bold</b>"
		resp, _ = f.post(t, f.mine, "answer", url.Values{"case": {f.casePub}, "message": {answer}})
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/status/"+f.mine.PublicID+"?token=") || !strings.Contains(loc, "done=answer") {
			t.Fatalf("answer: %d %q", resp.StatusCode, loc)
		}
		if s := f.status(t); s != cases.New {
			t.Errorf("case after the answer: %s, want new (info_received)", s)
		}
		ms := f.messages(t)
		last := ms[len(ms)-1]
		if len(ms) != 2 || last.Sender != store.PartyReporter || last.Recipient != store.PartyDesk || last.Kind != "answer" ||
			last.State != store.MessageKept || last.ReportID != f.mine.ID || last.Body != answer {
			t.Fatalf("messages after the answer: %+v", ms)
		}
		if f.auditCount(t, "info_received", actor, "") != 1 || f.auditCount(t, "message", actor, `"answer"`) != 1 {
			t.Error("the answer is not in the audit trail as info_received and message by the reporter")
		}
		_, body = get(t, c, f.srv.URL+loc)
		mustContain(t, "the page after the answer", body, `id="done"`, "your answer was sent to our team",
			"Full headers:\nReceived: from x &lt;b&gt;bold&lt;/b&gt;", "received by our team")

		// Writing to the customer needs the customer notified.
		if strings.Contains(body, `/message"`) {
			t.Error("a message form before the customer was notified")
		}
		resp, body = f.post(t, f.mine, "message", url.Values{"case": {f.casePub}, "message": {"hello"}})
		if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "not possible for this case now") || !strings.Contains(body, ">hello</textarea>") {
			t.Errorf("message before notify: %d", resp.StatusCode)
		}
		f.apply(t, cases.Notify, "")
		_, body = get(t, c, f.pageURL(f.mine))
		mustContain(t, "the page after notify", body, `action="/status/`+f.mine.PublicID+`/message"`, "reviews every message before it is relayed", "Your identity is withheld unless you agree")
		before := time.Now()
		resp, _ = f.post(t, f.mine, "message", url.Values{"case": {f.casePub}, "message": {"Please remove it"}})
		if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "done=message") {
			t.Fatalf("message: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		ms = f.messages(t)
		msg := ms[len(ms)-1]
		if msg.Sender != store.PartyReporter || msg.Recipient != store.PartyCustomer || msg.Kind != "message" || msg.State != store.MessagePending ||
			msg.ReportID != f.mine.ID || msg.RelayAt.Before(before.Add(f.w.cfg.RelayDelay-time.Second)) {
			t.Fatalf("the message to the customer: %+v", msg)
		}
		_, body = get(t, c, f.pageURL(f.mine))
		mustContain(t, "the page with a pending message", body, "Please remove it", "waiting for review before it is relayed")
		// Held by an analyst: still visible to its writer.
		if err := st.HoldMessage(ctx, msg.ID, staffEmail, time.Now()); err != nil {
			t.Fatal(err)
		}
		_, body = get(t, c, f.pageURL(f.mine))
		mustContain(t, "the page with a held message", body, "Please remove it", "held by our team")

		// The other reporter writes, signing with their address; the
		// customer answers (relayed), with hostile text.
		if _, err := st.AddMessage(ctx, &store.Message{CaseID: f.caseID, ReportID: f.other.ID, Sender: store.PartyReporter, Recipient: store.PartyCustomer,
			Kind: "message", Body: "Otto here, " + otherEmail, State: store.MessagePending, RelayAt: time.Now()}, "reporter:"+f.other.PublicID); err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		if _, err := st.AddMessage(ctx, &store.Message{CaseID: f.caseID, Sender: store.PartyCustomer, Recipient: store.PartyReporter,
			Kind: "message", Body: hostileMessage, State: store.MessageRelayed, CreatedAt: now, RelayedAt: now}, "customer:acct-3"); err != nil {
			t.Fatal(err)
		}
		_, body = get(t, c, f.pageURL(f.mine))
		mustContain(t, "the page with the customer's message", body, "Fixed it &lt;script&gt;alert(1)&lt;/script&gt;", "our customer to you")
		mustNotContain(t, "the page of the first reporter", body, "<script>alert(1)", otherEmail, "Otto here", customerName, customerSecMail)
		// The other reporter sees their own, not the first reporter's.
		_, body = get(t, c, f.pageURL(f.other))
		mustContain(t, "the other reporter's page", body, "Otto here", "Fixed it")
		mustNotContain(t, "the other reporter's page", body, "Please remove it", "Full headers", "mina@reporter.example")
		if n := f.auditCount(t, "disclosed", actor, ""); n != 0 {
			t.Errorf("%d disclosures audited before the customer consented", n)
		}

		// The customer consents: its identity shows, and is audited.
		if err := st.RecordConsent(ctx, store.Consent{Party: store.PartyCustomer, CaseID: f.caseID, Subject: "acct-3", Granted: true,
			Channel: "portal", Actor: "customer:acct-3"}); err != nil {
			t.Fatal(err)
		}
		_, body = get(t, c, f.pageURL(f.mine))
		mustContain(t, "the page after the customer's consent", body, customerName, customerSecMail, "customer-identity")
		mustNotContain(t, "the page after the customer's consent", body, otherEmail, "billing@hosting.example")
		if n := f.auditCount(t, "disclosed", actor, `"status_page"`); n != 1 {
			t.Errorf("%d disclosed entries for the page view, want 1", n)
		}

		// A mailed status link opens the page and its forms.
		tx, err := st.W.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		mailed, err := st.AddStatusTokenTx(ctx, tx, f.mine.ID, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		mailedRC := f.mine
		mailedRC.Token = mailed
		if resp, body := get(t, c, f.pageURL(mailedRC)); resp.StatusCode != 200 || !strings.Contains(body, f.casePub) {
			t.Errorf("mailed link: %d", resp.StatusCode)
		}
		if resp, _ := f.post(t, mailedRC, "answer", url.Values{"message": {"more, from the mailed link"}}); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("answer through the mailed link: %d", resp.StatusCode)
		}

		// A wrong token, another report's token, an unknown id: 404 everywhere.
		n := len(f.messages(t))
		for _, tc := range []struct{ id, tok string }{{f.mine.PublicID, "wrong"}, {f.mine.PublicID, f.other.Token}, {"R-0000000000UNKN", f.mine.Token}, {f.mine.PublicID, ""}} {
			if resp, _ := get(t, c, f.srv.URL+"/status/"+tc.id+"?token="+url.QueryEscape(tc.tok)); resp.StatusCode != 404 {
				t.Errorf("GET page %s/%q: %d", tc.id, tc.tok, resp.StatusCode)
			}
			for _, a := range []string{"answer", "message", "consent", "court-action"} {
				resp, _ := postForm(t, c, f.srv.URL+"/status/"+tc.id+"/"+a, url.Values{"token": {tc.tok}, "message": {"x"}, "share": {"on"}, "confirm": {"on"}})
				if resp.StatusCode != 404 {
					t.Errorf("POST %s %s/%q: %d", a, tc.id, tc.tok, resp.StatusCode)
				}
			}
			if code, _ := apiDo(t, "GET", f.srv.URL+"/api/v1/reports/"+tc.id, tc.tok, ""); code != 404 {
				t.Errorf("API GET %s/%q: %d", tc.id, tc.tok, code)
			}
			for _, a := range []string{"answer", "messages", "consent"} {
				if code, _ := apiDo(t, "POST", f.srv.URL+"/api/v1/reports/"+tc.id+"/"+a, tc.tok, `{"message":"x"}`); code != 404 {
					t.Errorf("API POST %s %s/%q: %d", a, tc.id, tc.tok, code)
				}
			}
		}
		if len(f.messages(t)) != n {
			t.Error("a request with a wrong token stored a message")
		}
		if ok, _ := st.ReporterConsent(ctx, f.mine.ID); ok {
			t.Error("a request with a wrong token recorded a consent")
		}
	})
}

// TestStatusConsent: the toggle writes the ledger and the audit trail, and
// can be withdrawn.
func TestStatusConsent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := statusFixture(t, st)
		c := staffClient(t)
		actor := "reporter:" + f.mine.PublicID
		_, body := get(t, c, f.pageURL(f.mine))
		mustContain(t, "the page before consent", body, "Your identity is withheld from our customer.", "name, organisation and email", `name="share" value="on"`)

		resp, _ := f.post(t, f.mine, "consent", url.Values{"share": {"on"}})
		if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "done=consent_on") {
			t.Fatalf("consent on: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		if ok, err := st.ReporterConsent(ctx, f.mine.ID); err != nil || !ok {
			t.Fatalf("consent after share=on: %v %v", ok, err)
		}
		_, body = get(t, c, f.srv.URL+resp.Header.Get("Location"))
		mustContain(t, "the page after consent", body, "You share your contact details with our customer.", `name="share" value="off"`, "may now see your name")

		resp, _ = f.post(t, f.mine, "consent", url.Values{"share": {"off"}})
		if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "done=consent_off") {
			t.Fatalf("consent off: %d", resp.StatusCode)
		}
		if ok, _ := st.ReporterConsent(ctx, f.mine.ID); ok {
			t.Error("the withdrawal did not take")
		}
		if resp, _ := f.post(t, f.mine, "consent", url.Values{"share": {"maybe"}}); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("share=maybe: %d", resp.StatusCode)
		}
		rows, err := st.CaseConsents(ctx, f.caseID)
		if err != nil {
			t.Fatal(err)
		}
		var mine []store.Consent
		for _, r := range rows {
			if r.ReportID == f.mine.ID {
				mine = append(mine, r)
			}
		}
		if len(mine) != 2 || !mine[0].Granted || mine[1].Granted {
			t.Fatalf("ledger rows: %+v", mine)
		}
		for _, r := range mine {
			if r.Party != store.PartyReporter || r.Subject != "mina@reporter.example" || r.Channel != "status_page" || r.Actor != actor {
				t.Errorf("ledger row %+v", r)
			}
		}
		if f.auditCount(t, "consent_granted", actor, "status_page") != 1 || f.auditCount(t, "consent_withdrawn", actor, "status_page") != 1 {
			t.Error("the consent acts are not in the case's audit trail")
		}
	})
}

// TestStatusAPI: the JSON twins, with the token as Bearer or ?token=.
func TestStatusAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := statusFixture(t, st)
		base := f.srv.URL + "/api/v1/reports/" + f.mine.PublicID
		tok := f.mine.Token
		f.apply(t, cases.RequestInfo, statusQuestion)

		code, m := apiDo(t, "GET", base+"?token="+url.QueryEscape(tok), "", "")
		cs, _ := m["cases"].([]any)
		if code != 200 || len(cs) != 1 || m["share_contact_with_customer"] != false {
			t.Fatalf("GET: %d %v", code, m)
		}
		c0 := cs[0].(map[string]any)
		qs, _ := c0["questions"].([]any)
		if c0["id"] != f.casePub || c0["status"] != "needs_info" || len(qs) != 1 || qs[0].(map[string]any)["text"] != statusQuestion {
			t.Errorf("case: %v", c0)
		}
		if _, ok := c0["customer"]; ok {
			t.Error("the customer is in the answer without its consent")
		}
		raw, _ := json.Marshal(m)
		mustNotContain(t, "the JSON status", string(raw), otherEmail, customerSecMail, "acct-3", "i-0xyz")

		// Refusals.
		if code, m := apiDo(t, "POST", base+"/answer", tok, `{"message":"  "}`); code != 422 || !strings.Contains(strings.Join(errorFields(m), ","), "message:required") {
			t.Errorf("empty answer: %d %v", code, m)
		}
		long, _ := json.Marshal(map[string]string{"message": strings.Repeat("x", store.MaxMessageLen+1)})
		if code, m := apiDo(t, "POST", base+"/answer", tok, string(long)); code != 422 || !strings.Contains(strings.Join(errorFields(m), ","), "message:too_large") {
			t.Errorf("long answer: %d %v", code, m)
		}
		if code, m := apiDo(t, "POST", base+"/answer", tok, `{"message":"x","case":"C-NOTMINE"}`); code != 422 || !strings.Contains(strings.Join(errorFields(m), ","), "case:invalid_choice") {
			t.Errorf("another case: %d %v", code, m)
		}
		if code, m := apiDo(t, "POST", base+"/answer", tok, `{"text":"x"}`); code != 422 || !strings.Contains(strings.Join(errorFields(m), ","), "unknown_field") {
			t.Errorf("unknown member: %d %v", code, m)
		}
		if resp, _ := post(t, base+"/answer", "text/plain", `{"message":"x"}`, "Authorization", "Bearer "+tok); resp.StatusCode != 415 {
			t.Errorf("text/plain: %d", resp.StatusCode)
		}
		if code, m := apiDo(t, "POST", base+"/messages", tok, `{"message":"hello"}`); code != 409 || !strings.Contains(strings.Join(errorFields(m), ","), "not_possible") {
			t.Errorf("message before notify: %d %v", code, m)
		}

		// The answer: the case goes back to the desk.
		if code, m := apiDo(t, "POST", base+"/answer", tok, `{"message":"Received: from mx.example"}`); code != 201 {
			t.Fatalf("answer: %d %v", code, m)
		}
		if f.status(t) != cases.New {
			t.Errorf("case after the API answer: %s", f.status(t))
		}
		f.apply(t, cases.Notify, "")
		if code, m := apiDo(t, "POST", base+"/messages", tok, `{"message":"hello customer"}`); code != 201 || m["state"] != "pending" || m["case"] != f.casePub {
			t.Fatalf("message: %d %v", code, m)
		}
		if code, m := apiDo(t, "POST", base+"/consent", tok, `{"share_contact_with_customer":true}`); code != 200 || m["share_contact_with_customer"] != true {
			t.Fatalf("consent: %d %v", code, m)
		}
		if code, m := apiDo(t, "POST", base+"/consent", tok, `{}`); code != 422 || !strings.Contains(strings.Join(errorFields(m), ","), "share_contact_with_customer:required") {
			t.Errorf("consent without a value: %d %v", code, m)
		}
		if err := st.RecordConsent(ctx, store.Consent{Party: store.PartyCustomer, CaseID: f.caseID, Subject: "acct-3", Granted: true, Channel: "portal", Actor: "customer:acct-3"}); err != nil {
			t.Fatal(err)
		}
		code, m = apiDo(t, "GET", base, tok, "")
		c0 = m["cases"].([]any)[0].(map[string]any)
		cust, _ := c0["customer"].(map[string]any)
		if code != 200 || m["share_contact_with_customer"] != true || cust["name"] != customerName || cust["email"] != customerSecMail {
			t.Fatalf("GET after both consents: %d %v", code, m)
		}
		var kinds []string
		for _, x := range c0["messages"].([]any) {
			mm := x.(map[string]any)
			kinds = append(kinds, mm["kind"].(string)+"/"+mm["state"].(string))
			if mm["from"] == "reporter" && mm["from_identity"] == nil {
				t.Errorf("the reporter's own message lacks their identity: %v", mm)
			}
		}
		if strings.Join(kinds, ",") != "question/relayed,answer/kept,message/pending" {
			t.Errorf("messages %v", kinds)
		}
		es, _ := st.CaseAudit(ctx, f.caseID)
		found := false
		for _, e := range es {
			found = found || (e.Action == "disclosed" && e.Actor == "reporter:"+f.mine.PublicID && strings.Contains(e.Detail, "status_api"))
		}
		if !found {
			t.Error("the customer's identity shown by the API is not audited")
		}
	})
}

// TestStatusCourtAction: on a copyright case with a counter-notice in its
// window, the complainant reports a court action; the material stays down.
func TestStatusCourtAction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := statusFixture(t, st)
		c := staffClient(t)
		// Not a copyright case: nothing to offer, and refused.
		if resp, _ := f.post(t, f.mine, "court-action", url.Values{"case": {f.casePub}, "confirm": {"on"}}); resp.StatusCode != http.StatusConflict {
			t.Errorf("court action on a network case: %d", resp.StatusCode)
		}
		if _, err := st.W.ExecContext(ctx, "UPDATE cases SET category = 'dmca' WHERE id = $1", f.caseID); err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC()
		tx, err := st.W.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.InsertCounterNoticeTx(ctx, tx, &store.CounterNoticeRow{CaseID: f.caseID, Account: "acct-3", Notice: []byte("{}"),
			ReceivedAt: now.Add(-48 * time.Hour), RestoreEarliest: now.Add(10 * 24 * time.Hour), RestoreLatest: now.Add(14 * 24 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		_, body := get(t, c, f.pageURL(f.mine))
		mustContain(t, "the page with a counter-notice", body, "Counter-notice", now.Add(14*24*time.Hour).Format("2006-01-02"), `/court-action"`, `name="confirm"`)
		code, m := apiDo(t, "GET", f.srv.URL+"/api/v1/reports/"+f.mine.PublicID, f.mine.Token, "")
		cn, _ := m["cases"].([]any)[0].(map[string]any)["counter_notice"].(map[string]any)
		if code != 200 || cn["court_action_possible"] != true || cn["restore_latest"] == nil || cn["court_action_at"] != nil {
			t.Errorf("counter_notice in the API: %v", cn)
		}

		// Without the box ticked: asked again.
		resp, body := f.post(t, f.mine, "court-action", url.Values{"case": {f.casePub}})
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Tick the box") {
			t.Errorf("court action unconfirmed: %d", resp.StatusCode)
		}
		resp, _ = f.post(t, f.mine, "court-action", url.Values{"case": {f.casePub}, "confirm": {"on"}})
		if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "done=court") {
			t.Fatalf("court action: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		cns, err := st.CounterNotices(ctx, f.caseID)
		if err != nil || len(cns) != 1 || cns[0].CourtActionAt.IsZero() {
			t.Fatalf("counter-notice after the court action: %+v %v", cns, err)
		}
		if f.auditCount(t, "note", "reporter:"+f.mine.PublicID, "complainant reported a court action") != 1 {
			t.Error("the court action is not in the audit trail")
		}
		_, body = get(t, c, f.pageURL(f.mine))
		mustContain(t, "the page after the court action", body, "Court action reported")
		if strings.Contains(body, `/court-action"`) {
			t.Error("the court-action form is still offered")
		}
		if resp, _ := f.post(t, f.mine, "court-action", url.Values{"case": {f.casePub}, "confirm": {"on"}}); resp.StatusCode != http.StatusConflict {
			t.Errorf("a second court action: %d", resp.StatusCode)
		}
	})
}
