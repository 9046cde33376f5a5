package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"abusedesk/internal/cases"
	"abusedesk/internal/report"
	"abusedesk/internal/store"
	"abusedesk/internal/store/storetest"
)

const (
	portalContact  = "security@acct1.example"
	consentingRep  = "pat@consenting.example"
	withholdingRep = "rita@example.org" // consoleServer's reporter, who did not consent
	hostileDesc    = `<script>alert("desc")</script> seen on port 22`
)

// portalFixture is consoleServer's desk plus what the portal needs: the
// accounts, a second report on acct-1's case from a reporter who consents
// (its description hostile), a case of acct-1 not notified yet, and a
// copyright case of acct-1. Main, DMCA and acct-2's Other are notified.
type portalFixture struct {
	srv                      *httptest.Server
	w                        *Server
	st                       *store.Store
	Main, DMCA, Quiet, Other string
}

func portalReport(t *testing.T, st *store.Store, ip, acct, res, email string, share bool, desc string) {
	t.Helper()
	r := &report.Report{Type: "network", Subtype: "intrusion", Reporter: report.Reporter{Name: "Pat", Email: email},
		ShareContactWithCustomer: share, Description: desc,
		Incidents: []report.Incident{{SourceIP: ip, Target: "198.51.100.1", Timestamp: time.Now().UTC().Add(-time.Minute).Format(time.RFC3339), Log: "sshd: Failed password"}}}
	if es := (&report.Validator{}).Validate(r); len(es) > 0 {
		t.Fatal(es)
	}
	r.Incidents[0].Attribution = report.Attribution{Verdict: "assigned", Account: acct, Resource: res}
	if _, err := st.InsertReport(context.Background(), &store.NewReport{Report: r, Channel: "api", Raw: []byte("{}"), ContentType: "application/json", ReceivedAt: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
}

// errorField is the field of the first error of an API answer.
func errorField(m map[string]any) string {
	f, _, _ := strings.Cut(append(errorFields(m), ":")[0], ":")
	return f
}

func caseOf(t *testing.T, st *store.Store, acct, res string) string {
	t.Helper()
	var id string
	if err := st.R.QueryRowContext(context.Background(), "SELECT public_id FROM cases WHERE account = $1 AND resource = $2", acct, res).Scan(&id); err != nil {
		t.Fatalf("case of %s/%s: %v", acct, res, err)
	}
	return id
}

func portalServer(t *testing.T, st *store.Store) *portalFixture {
	t.Helper()
	srv, w := consoleServer(t, st)
	ctx := context.Background()
	for _, a := range [][3]string{{"acct-1", portalContact, "billing@acct1.example"}, {"acct-2", "", "owner@acct2.example"}} {
		if _, err := st.W.ExecContext(ctx, `INSERT INTO accounts (ext_id, name, security_email, email, language) VALUES ($1, $2, $3, $4, 'en')`,
			a[0], "Customer "+a[0], a[1], a[2]); err != nil {
			t.Fatal(err)
		}
	}
	portalReport(t, st, "203.0.113.7", "acct-1", "i-0abc", consentingRep, true, hostileDesc)
	portalReport(t, st, "203.0.113.20", "acct-1", "i-0quiet", "q@reporter.example", false, "quiet")
	portalReport(t, st, "203.0.113.30", "acct-1", "i-0dmca", "rights@label.example", false, "copyright")
	if _, err := st.GroupPending(ctx, cases.DefaultPolicy(), time.Now); err != nil {
		t.Fatal(err)
	}
	f := &portalFixture{srv: srv, w: w, st: st, Main: caseOf(t, st, "acct-1", "i-0abc"), Quiet: caseOf(t, st, "acct-1", "i-0quiet"),
		DMCA: caseOf(t, st, "acct-1", "i-0dmca"), Other: caseOf(t, st, "acct-2", "i-0def")}
	if _, err := st.W.ExecContext(ctx, "UPDATE cases SET category = 'dmca' WHERE public_id = $1", f.DMCA); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{f.Main, f.DMCA, f.Other} {
		if _, _, err := st.ApplyCase(ctx, id, staffEmail, cases.Command{Action: cases.Notify}, srvPolicy, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// magicLink makes a login link as the notifier does.
func (f *portalFixture) magicLink(t *testing.T, acct, caseID string) string {
	t.Helper()
	ctx := context.Background()
	var cid int64
	if caseID != "" {
		c, err := f.st.CaseByPublicID(ctx, caseID)
		if err != nil {
			t.Fatal(err)
		}
		cid = c.ID
	}
	tx, err := f.st.W.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	tok, err := f.st.CreatePortalLoginTx(ctx, tx, acct, portalContact, cid, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return "/portal/login/" + tok
}

// portalLogin opens a magic link and continues; it returns the client and
// the CSRF token of the page it lands on.
func (f *portalFixture) portalLogin(t *testing.T, caseID string) (*http.Client, string) {
	t.Helper()
	c := staffClient(t)
	link := f.magicLink(t, "acct-1", caseID)
	resp, _ := postForm(t, c, f.srv.URL+link, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("continue: %d", resp.StatusCode)
	}
	_, body := get(t, c, f.srv.URL+"/portal")
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no CSRF token on the portal")
	}
	return c, m[1]
}

func TestPortalLoginAndCases(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := portalServer(t, st)
		ctx := context.Background()
		c := staffClient(t)

		// Not logged in: to the login page.
		if resp, _ := get(t, c, f.srv.URL+"/portal/cases/"+f.Main); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/portal/login" {
			t.Fatalf("anonymous case page: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		// The login form answers the same for a contact address and for an
		// unknown one; only the first gets a mail event.
		resp, known := postForm(t, c, f.srv.URL+"/portal/login", url.Values{"email": {"Security@ACCT1.example"}})
		_, unknown := postForm(t, c, f.srv.URL+"/portal/login", url.Values{"email": {"nobody@elsewhere.example"}})
		if resp.StatusCode != 200 || known != unknown || !strings.Contains(known, `id="login-sent"`) {
			t.Errorf("login answers differ (%d): account enumeration", resp.StatusCode)
		}
		// The billing address is not the contact: acct-1 has a security contact.
		postForm(t, c, f.srv.URL+"/portal/login", url.Values{"email": {"billing@acct1.example"}})
		postForm(t, c, f.srv.URL+"/fr/portal/login", url.Values{"email": {"owner@acct2.example"}})
		evs, _ := st.MailEvents(ctx, 0, 100)
		var logins []string
		for _, ev := range evs {
			if ev.Kind == store.EventPortalLogin {
				logins = append(logins, ev.Detail["account"].(string)+" "+ev.Detail["email"].(string))
			}
		}
		if strings.Join(logins, ",") != "acct-1 "+portalContact+",acct-2 owner@acct2.example" {
			t.Errorf("portal login events %v", logins)
		}
		if _, body := get(t, c, f.srv.URL+"/fr/portal/login"); !strings.Contains(body, `lang="fr"`) || !strings.Contains(body, "Adresse de contact") {
			t.Error("the French login page is not French")
		}

		// The magic link: GET shows a button and does not use the link.
		link := f.magicLink(t, "acct-1", f.Main)
		for range 2 {
			resp, body := get(t, c, f.srv.URL+link)
			if resp.StatusCode != 200 || !strings.Contains(body, `id="continue"`) || !strings.Contains(body, `method="post"`) {
				t.Fatalf("magic link page: %d", resp.StatusCode)
			}
		}
		resp, _ = postForm(t, c, f.srv.URL+link, nil)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/portal/cases/"+f.Main {
			t.Fatalf("continue: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		var ck *http.Cookie
		for _, k := range resp.Cookies() {
			if k.Name == portalCookie {
				ck = k
			}
		}
		if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/portal" {
			t.Fatalf("portal cookie %+v", ck)
		}
		// One use.
		if resp, body := postForm(t, staffClient(t), f.srv.URL+link, nil); resp.StatusCode != 404 || !strings.Contains(body, `id="link-invalid"`) {
			t.Errorf("second use of the link: %d", resp.StatusCode)
		}

		// The list: acct-1's notified cases only.
		_, body := get(t, c, f.srv.URL+"/portal")
		for id, want := range map[string]bool{f.Main: true, f.DMCA: true, f.Quiet: false, f.Other: false} {
			if strings.Contains(body, id) != want {
				t.Errorf("case %s listed: %v, want %v", id, !want, want)
			}
		}
		// Another account's case, a case not notified: not found, as an unknown one.
		for _, id := range []string{f.Other, f.Quiet, "C-00000000000000"} {
			if resp, body := get(t, c, f.srv.URL+"/portal/cases/"+id); resp.StatusCode != 404 || !strings.Contains(body, `id="notfound"`) {
				t.Errorf("case %s: %d, want 404", id, resp.StatusCode)
			}
		}

		// The case page: the consenting reporter is named, the other not;
		// the hostile description is text.
		_, body = get(t, c, f.srv.URL+"/portal/cases/"+f.Main)
		if !strings.Contains(body, consentingRep) {
			t.Error("the consenting reporter's email is not on the page")
		}
		if strings.Contains(body, withholdingRep) {
			t.Error("the reporter who did not consent is named on the page")
		}
		if strings.Contains(body, "<script>alert") || !strings.Contains(body, "&lt;script&gt;alert(&#34;desc&#34;)&lt;/script&gt;") {
			t.Error("the hostile description is not escaped")
		}
		main, _ := st.CaseByPublicID(ctx, f.Main)
		audit, _ := st.CaseAudit(ctx, main.ID)
		disclosed := 0
		for _, e := range audit {
			if e.Action == "disclosed" && e.Actor == "customer:acct-1" && strings.Contains(e.Detail, `"portal"`) {
				disclosed++
			}
		}
		if disclosed == 0 {
			t.Error("showing the reporter's identity was not audited")
		}

		// Logout ends the session on the server.
		csrf := csrfField.FindStringSubmatch(body)[1]
		if resp, _ := postForm(t, c, f.srv.URL+"/portal/logout", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("logout: %d", resp.StatusCode)
		}
		if _, err := st.PortalSessionByToken(ctx, ck.Value, time.Now()); err == nil {
			t.Error("the session outlived the logout")
		}
	})
}

func TestPortalActions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := portalServer(t, st)
		ctx := context.Background()
		c, csrf := f.portalLogin(t, f.Main)
		base := f.srv.URL + "/portal/cases/" + f.Main
		main, _ := st.CaseByPublicID(ctx, f.Main)
		messages := func() []store.Message {
			ms, err := st.CaseMessages(ctx, main.ID)
			if err != nil {
				t.Fatal(err)
			}
			return ms
		}

		// Without the CSRF token: refused.
		if resp, _ := postForm(t, c, base+"/answer", url.Values{"kind": {"action_taken"}, "message": {"done"}}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("answer without CSRF: %d", resp.StatusCode)
		}
		// An empty answer: the page again, the reason next to the field.
		resp, body := postForm(t, c, base+"/answer", url.Values{"csrf": {csrf}, "kind": {"dispute"}, "message": {"  "}})
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="answer-error"`) || !strings.Contains(body, `value="dispute" id="answer-dispute" checked`) {
			t.Errorf("empty answer: %d", resp.StatusCode)
		}
		// Action taken: the case moves on, the answer is in it.
		resp, _ = postForm(t, c, base+"/answer", url.Values{"csrf": {csrf}, "kind": {"action_taken"}, "message": {"Instance i-0abc stopped, keys rotated."}})
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/portal/cases/"+f.Main+"?done=answer") {
			t.Fatalf("answer: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		if got, _ := st.CaseByPublicID(ctx, f.Main); got.Status != cases.CustomerResponded {
			t.Errorf("status after the answer: %s", got.Status)
		}
		ms := messages()
		if len(ms) != 1 || ms[0].Kind != "action_taken" || ms[0].Sender != store.PartyCustomer || ms[0].Recipient != store.PartyDesk || ms[0].State != store.MessageKept {
			t.Fatalf("messages after the answer: %+v", ms)
		}
		_, body = get(t, c, f.srv.URL+resp.Header.Get("Location"))
		if !strings.Contains(body, `id="flash"`) || !strings.Contains(body, "Instance i-0abc stopped") {
			t.Error("the case page lacks the confirmation or the answer")
		}
		// Answering again: a message alone, still audited.
		postForm(t, c, base+"/answer", url.Values{"csrf": {csrf}, "kind": {"need_info"}, "message": {"Which port?"}})
		if ms := messages(); len(ms) != 2 || ms[1].Kind != "need_info" {
			t.Errorf("second answer: %+v", ms)
		}

		// An extension: out of range refused, then asked; the page says it waits.
		if resp, _ := postForm(t, c, base+"/extension", url.Values{"csrf": {csrf}, "days": {"31"}, "reason": {"x"}}); resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("31 days: %d", resp.StatusCode)
		}
		resp, _ = postForm(t, c, base+"/extension", url.Values{"csrf": {csrf}, "days": {"5"}, "reason": {"waiting for the vendor's patch"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("extension: %d", resp.StatusCode)
		}
		if ms := messages(); ms[len(ms)-1].Kind != "extension_request" || !strings.Contains(ms[len(ms)-1].Body, "5 days") {
			t.Errorf("extension message %+v", ms[len(ms)-1])
		}
		if _, body := get(t, c, base); !strings.Contains(body, `id="extension-pending"`) {
			t.Error("the pending extension is not shown")
		}
		// Granted by the desk: no longer pending.
		if _, _, err := st.ApplyCase(ctx, f.Main, staffEmail, cases.Command{Action: cases.Extend, Extend: 48 * time.Hour}, srvPolicy, time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, body := get(t, c, base); strings.Contains(body, `id="extension-pending"`) {
			t.Error("the granted extension is still shown as pending")
		}

		// A message to the reporters: pending, relayed after the delay.
		before := time.Now()
		resp, _ = postForm(t, c, base+"/messages", url.Values{"csrf": {csrf}, "message": {"We fixed it, thanks."}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("message: %d", resp.StatusCode)
		}
		ms = messages()
		m := ms[len(ms)-1]
		if m.Recipient != store.PartyReporter || m.ReportID != 0 || m.State != store.MessagePending || m.RelayAt.Before(before.Add(f.w.cfg.RelayDelay-time.Second)) {
			t.Errorf("relayed message %+v", m)
		}

		// Consent: the ledger and the audit trail.
		resp, _ = postForm(t, c, base+"/consent", url.Values{"csrf": {csrf}, "share_identity": {"true"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("consent: %d", resp.StatusCode)
		}
		if ok, _ := st.CustomerConsent(ctx, main.ID); !ok {
			t.Error("consent not recorded")
		}
		cs, _ := st.CaseConsents(ctx, main.ID)
		last := cs[len(cs)-1]
		if last.Party != store.PartyCustomer || last.Channel != "portal" || last.Actor != "customer:acct-1" || last.Subject != "acct-1" || !last.Granted {
			t.Errorf("consent row %+v", last)
		}
		postForm(t, c, base+"/consent", url.Values{"csrf": {csrf}, "share_identity": {"false"}})
		if ok, _ := st.CustomerConsent(ctx, main.ID); ok {
			t.Error("withdrawal not recorded")
		}
		audit, _ := st.CaseAudit(ctx, main.ID)
		acts := map[string]int{}
		for _, e := range audit {
			if e.Actor == "customer:acct-1" {
				acts[e.Action]++
			}
		}
		if acts["consent_granted"] != 1 || acts["consent_withdrawn"] != 1 || acts["customer_response"] != 1 || acts["message"] < 3 {
			t.Errorf("audit entries of the customer: %v", acts)
		}

		// A reporter grants consent later: the page names them from then on.
		if _, body := get(t, c, base); strings.Contains(body, withholdingRep) {
			t.Fatal("named before consenting")
		}
		reps, _ := st.CaseReports(ctx, main.ID, 10)
		for _, r := range reps {
			if r.ReporterEmail == withholdingRep {
				if err := st.RecordConsent(ctx, store.Consent{Party: store.PartyReporter, ReportID: r.ID, Subject: r.ReporterEmail, Granted: true, Channel: "status_page", Actor: "reporter:" + r.PublicID}); err != nil {
					t.Fatal(err)
				}
			}
		}
		if _, body := get(t, c, base); !strings.Contains(body, withholdingRep) {
			t.Error("not named after consenting")
		}

		// Closed: no more answers.
		if _, _, err := st.ApplyCase(ctx, f.Main, staffEmail, cases.Command{Action: cases.Resolve, Outcome: cases.Actioned}, srvPolicy, time.Now()); err != nil {
			t.Fatal(err)
		}
		if resp, _ := postForm(t, c, base+"/answer", url.Values{"csrf": {csrf}, "kind": {"dispute"}, "message": {"no"}}); resp.StatusCode != http.StatusConflict {
			t.Errorf("answer on a closed case: %d", resp.StatusCode)
		}
		// Not another account's case, even with a valid session.
		if resp, _ := postForm(t, c, f.srv.URL+"/portal/cases/"+f.Other+"/answer", url.Values{"csrf": {csrf}, "kind": {"dispute"}, "message": {"no"}}); resp.StatusCode != 404 {
			t.Errorf("answer on another account's case: %d", resp.StatusCode)
		}

		// API keys: created once shown, listed, revoked.
		_, body = postForm(t, c, f.srv.URL+"/portal/keys", url.Values{"csrf": {csrf}, "label": {"ticketing"}})
		key := regexp.MustCompile(`id="new-key">(acp_[A-Za-z0-9_-]+)<`).FindStringSubmatch(body)
		if key == nil {
			t.Fatal("no new key on the page")
		}
		if acct, err := st.AccountByPortalKey(ctx, key[1]); err != nil || acct != "acct-1" {
			t.Fatalf("new key: %q %v", acct, err)
		}
		_, body = get(t, c, f.srv.URL+"/portal/keys")
		if strings.Contains(body, key[1]) || !strings.Contains(body, "ticketing") {
			t.Error("the keys page shows the key again, or not its label")
		}
		keys, _ := st.PortalAPIKeys(ctx, "acct-1")
		if resp, _ := postForm(t, c, f.srv.URL+"/portal/keys/"+keys[0].ID+"/revoke", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("revoke: %d", resp.StatusCode)
		}
		if _, err := st.AccountByPortalKey(ctx, key[1]); err == nil {
			t.Error("the revoked key still works")
		}
	})
}

func TestPortalCounterNotice(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := portalServer(t, st)
		ctx := context.Background()
		c, csrf := f.portalLogin(t, "")

		// Only on copyright cases.
		if resp, _ := get(t, c, f.srv.URL+"/portal/cases/"+f.Main+"/counter-notice"); resp.StatusCode != 404 {
			t.Errorf("counter-notice form on a network case: %d", resp.StatusCode)
		}
		if _, body := get(t, c, f.srv.URL+"/portal/cases/"+f.Main); strings.Contains(body, "file-counter-notice") {
			t.Error("a network case offers a counter-notice")
		}
		u := f.srv.URL + "/portal/cases/" + f.DMCA + "/counter-notice"
		resp, body := get(t, c, u)
		if resp.StatusCode != 200 || !strings.Contains(body, "penalty of perjury") || !strings.Contains(body, `id="cn-warning"`) {
			t.Fatalf("counter-notice form: %d", resp.StatusCode)
		}
		// Incomplete: each missing element named by clause, what was typed kept.
		resp, body = postForm(t, c, u, url.Values{"csrf": {csrf}, "name": {"Jane Doe"}, "material": {"<b>my video</b>"}})
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("incomplete counter-notice: %d", resp.StatusCode)
		}
		for _, want := range []string{`id="signature-error"`, `id="location-error"`, `id="good_faith_statement-error"`, `id="address-error"`,
			`id="phone-error"`, `id="accept_service-error"`, "§ 512(g)(3)(A)", "§ 512(g)(3)(B)", "§ 512(g)(3)(C)", "§ 512(g)(3)(D)",
			`value="Jane Doe"`, "&lt;b&gt;my video&lt;/b&gt;"} {
			if !strings.Contains(body, want) {
				t.Errorf("the refused counter-notice page lacks %q", want)
			}
		}
		if strings.Contains(body, `id="name-error"`) || strings.Contains(body, `id="material-error"`) {
			t.Error("a given element is reported missing")
		}
		dc, _ := st.CaseByPublicID(ctx, f.DMCA)
		if cns, _ := st.CounterNotices(ctx, dc.ID); len(cns) != 0 {
			t.Fatal("an incomplete counter-notice was stored")
		}
		// Complete: stored with its window, shown on the case.
		resp, _ = postForm(t, c, u, url.Values{"csrf": {csrf}, "signature": {"/s/ Jane Doe"}, "material": {"my video"},
			"location": {"https://files.acct1.example/v/1"}, "good_faith_statement": {"on"}, "name": {"Jane Doe"},
			"address": {"1 Main St, Springfield"}, "country": {"US"}, "phone": {"+1 555 0100 200"},
			"consent_to_jurisdiction": {"on"}, "accept_service": {"on"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("complete counter-notice: %d", resp.StatusCode)
		}
		cns, _ := st.CounterNotices(ctx, dc.ID)
		if len(cns) != 1 || cns[0].Account != "acct-1" || !cns[0].RestoreEarliest.After(cns[0].ReceivedAt) || !strings.Contains(string(cns[0].Notice), "Jane Doe") {
			t.Fatalf("stored counter-notices %+v", cns)
		}
		_, body = get(t, c, f.srv.URL+resp.Header.Get("Location"))
		if !strings.Contains(body, cns[0].RestoreEarliest.UTC().Format("2006-01-02")) || !strings.Contains(body, cns[0].RestoreLatest.UTC().Format("2006-01-02")) ||
			!strings.Contains(body, "waiting: the law") {
			t.Error("the case page lacks the restore window")
		}
		evs, _ := st.MailEvents(ctx, 0, 100)
		found := false
		for _, ev := range evs {
			found = found || (ev.Kind == store.EventCounterNotice && ev.CaseID == dc.ID)
		}
		if !found {
			t.Error("no counter_notice.filed event")
		}
		audit, _ := st.CaseAudit(ctx, dc.ID)
		if last := audit[len(audit)-1]; last.Action != "note" || !strings.Contains(last.Detail, "restore window") || last.Actor != "customer:acct-1" {
			t.Errorf("last audit entry %+v", last)
		}
	})
}

func TestPortalAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := portalServer(t, st)
		ctx := context.Background()
		key, err := st.AddPortalAPIKey(ctx, "acct-1", "ci", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		api := f.srv.URL + "/api/v1/portal/cases"
		if code, _ := apiDo(t, "GET", api, "", ""); code != 401 {
			t.Errorf("no key: %d", code)
		}
		if code, _ := apiDo(t, "GET", api, "acp_wrong", ""); code != 401 {
			t.Errorf("wrong key: %d", code)
		}
		code, m := apiDo(t, "GET", api, key, "")
		list, _ := m["cases"].([]any)
		if code != 200 || len(list) != 2 {
			t.Fatalf("cases: %d %v", code, m)
		}
		if code, m := apiDo(t, "GET", api+"?status=bogus", key, ""); code != 422 || errorField(m) != "status" {
			t.Errorf("bad status filter: %d %v", code, m)
		}
		for _, id := range []string{f.Other, f.Quiet} {
			if code, m := apiDo(t, "GET", api+"/"+id, key, ""); code != 404 || errorField(m) != "id" {
				t.Errorf("case %s: %d %v", id, code, m)
			}
			if code, _ := apiDo(t, "POST", api+"/"+id+"/answer", key, `{"kind":"dispute","message":"no"}`); code != 404 {
				t.Errorf("answer on %s: %d", id, code)
			}
		}
		code, m = apiDo(t, "GET", api+"/"+f.Main, key, "")
		if code != 200 || m["status"] != "customer_notified" || m["awaiting_answer"] != true {
			t.Fatalf("case: %d %v", code, m)
		}
		named := 0
		for _, r := range m["reports"].([]any) {
			rep := r.(map[string]any)
			if p, ok := rep["reporter"].(map[string]any); ok {
				named++
				if p["email"] != consentingRep {
					t.Errorf("reporter named: %v", p)
				}
			}
		}
		if named != 1 {
			t.Errorf("%d reporters named, want the one who consented", named)
		}

		// Validation, then the answer.
		if code, m := apiDo(t, "POST", api+"/"+f.Main+"/answer", key, `{"kind":"bogus","message":"x"}`); code != 422 || errorField(m) != "kind" {
			t.Errorf("bad kind: %d %v", code, m)
		}
		if code, m := apiDo(t, "POST", api+"/"+f.Main+"/answer", key, `{"kind":"dispute","mesage":"x"}`); code != 400 || errorField(m) != "mesage" {
			t.Errorf("misspelt field: %d %v", code, m)
		}
		code, m = apiDo(t, "POST", api+"/"+f.Main+"/answer", key, `{"kind":"dispute","message":"Not us: the address was reassigned."}`)
		if code != 200 || m["status"] != "customer_responded" {
			t.Fatalf("answer: %d %v", code, m)
		}
		if code, m := apiDo(t, "POST", api+"/"+f.Main+"/extension", key, `{"days":0,"reason":"x"}`); code != 422 || errorField(m) != "days" {
			t.Errorf("0 days: %d %v", code, m)
		}
		if code, m := apiDo(t, "POST", api+"/"+f.Main+"/extension", key, `{"days":3,"reason":"patch pending"}`); code != 200 || m["extension_requested_at"] == nil {
			t.Errorf("extension: %d %v", code, m)
		}
		if code, _ := apiDo(t, "POST", api+"/"+f.Main+"/messages", key, `{"message":"Fixed."}`); code != 200 {
			t.Errorf("message: %d", code)
		}
		if code, m := apiDo(t, "POST", api+"/"+f.Main+"/consent", key, `{}`); code != 422 || errorField(m) != "share_identity" {
			t.Errorf("consent without a value: %d %v", code, m)
		}
		if code, m := apiDo(t, "POST", api+"/"+f.Main+"/consent", key, `{"share_identity":true}`); code != 200 || m["share_identity"] != true {
			t.Errorf("consent: %d %v", code, m)
		}
		main, _ := st.CaseByPublicID(ctx, f.Main)
		cs, _ := st.CaseConsents(ctx, main.ID)
		if last := cs[len(cs)-1]; last.Channel != "portal_api" {
			t.Errorf("consent channel %q", last.Channel)
		}

		// Counter-notices: copyright cases only; missing elements by clause.
		if code, m := apiDo(t, "POST", api+"/"+f.Main+"/counter-notice", key, `{}`); code != 409 {
			t.Errorf("counter-notice on a network case: %d %v", code, m)
		}
		code, m = apiDo(t, "POST", api+"/"+f.DMCA+"/counter-notice", key, `{"name":"Jane Doe"}`)
		if code != 422 {
			t.Fatalf("incomplete counter-notice: %d %v", code, m)
		}
		clauses := map[string]bool{}
		for _, e := range m["errors"].([]any) {
			clauses[e.(map[string]any)["clause"].(string)] = true
		}
		if len(clauses) != 4 {
			t.Errorf("clauses named: %v", clauses)
		}
		code, m = apiDo(t, "POST", api+"/"+f.DMCA+"/counter-notice", key, `{"signature":"Jane Doe","material":"video","location":"https://x.example/v",
			"good_faith_statement":true,"name":"Jane Doe","address":"10 rue de Rivoli, Paris","country":"FR","phone":"+33 1 23 45 67 89",
			"consent_to_jurisdiction":true,"accept_service":true}`)
		if cns, _ := m["counter_notices"].([]any); code != 201 || len(cns) != 1 {
			t.Fatalf("counter-notice: %d %v", code, m)
		}

		// Closed: 409.
		if _, _, err := st.ApplyCase(ctx, f.Main, staffEmail, cases.Command{Action: cases.Resolve, Outcome: cases.Actioned}, srvPolicy, time.Now()); err != nil {
			t.Fatal(err)
		}
		if code, m := apiDo(t, "POST", api+"/"+f.Main+"/answer", key, `{"kind":"dispute","message":"no"}`); code != 409 {
			t.Errorf("answer on a closed case: %d %v", code, m)
		}
		if code, _ := apiDo(t, "GET", api+"?status=resolved", key, ""); code != 200 {
			t.Errorf("resolved cases: %d", code)
		}
	})
}
