package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"abusedesk/internal/auth"
	"abusedesk/internal/cases"
	"abusedesk/internal/intake"
	"abusedesk/internal/report"
	"abusedesk/internal/store"
	"abusedesk/internal/store/storetest"
)

const (
	staffEmail    = "analyst@provider.example"
	staffPassword = "correct horse battery"
	hostileNote   = `<script>alert("note")</script>`
	hostileLog    = `sshd: Failed password <img src=x onerror=alert(1)>`
)

// consoleServer is a server on st with one analyst, and two cases built
// from attributed reports (one of them with a hostile log line).
func consoleServer(t *testing.T, st *store.Store) (*httptest.Server, *Server) {
	t.Helper()
	ctx := context.Background()
	h, err := auth.HashPassword(staffPassword)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.AddUser(ctx, staffEmail, "Ana", store.RoleAnalyst, "en", h); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	for i, it := range []struct{ ip, acct, res, sub string }{
		{"203.0.113.7", "acct-1", "i-0abc", "ddos"},
		{"203.0.113.9", "acct-2", "i-0def", "intrusion"},
	} {
		r := &report.Report{Type: "network", Subtype: it.sub, Reporter: report.Reporter{Name: "Rita", Email: "rita@example.org"},
			Description: "seen from our honeypot",
			Incidents:   []report.Incident{{SourceIP: it.ip, Target: "198.51.100.1", Timestamp: now.Add(-time.Duration(i+1) * time.Minute).Format(time.RFC3339), Log: hostileLog}}}
		if es := (&report.Validator{}).Validate(r); len(es) > 0 {
			t.Fatal(es)
		}
		r.Incidents[0].Attribution = report.Attribution{Verdict: "assigned", Account: it.acct, Resource: it.res}
		if _, err := st.InsertReport(ctx, &store.NewReport{Report: r, Channel: "api", Raw: []byte("{}"), ContentType: "application/json", ReceivedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.GroupPending(ctx, cases.DefaultPolicy(), time.Now); err != nil {
		t.Fatal(err)
	}
	in := intake.New(st, nil, intake.BulkLimits{})
	t.Cleanup(in.Close)
	w := New(Config{DisableRateLimit: true}, in, nil)
	srv := httptest.NewServer(w.Handler())
	t.Cleanup(srv.Close)
	return srv, w
}

// staffClient follows no redirect (so that tests see them) and keeps cookies.
func staffClient(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func postForm(t *testing.T, c *http.Client, u string, v url.Values, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", u, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
var caseLink = regexp.MustCompile(`/console/cases/(C-[0-9A-Z]{14})"`)

func login(t *testing.T, srv *httptest.Server, c *http.Client) {
	t.Helper()
	resp, _ := postForm(t, c, srv.URL+"/console/login", url.Values{"email": {staffEmail}, "password": {staffPassword}, "next": {"/console"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console" {
		t.Fatalf("login: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestConsoleLoginQueueCase(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		srv, _ := consoleServer(t, st)
		c := staffClient(t)

		// Not logged in: to the login page, the queue remembered.
		resp, _ := get(t, c, srv.URL+"/console?lane=general")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/console/login?next=") {
			t.Fatalf("anonymous queue: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		// A wrong password, an unknown user: the same answer.
		for _, v := range []url.Values{{"email": {staffEmail}, "password": {"wrong password!"}}, {"email": {"nobody@x.example"}, "password": {staffPassword}}} {
			resp, body := postForm(t, c, srv.URL+"/console/login", v)
			if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "Wrong email or password") {
				t.Errorf("bad login %v: %d", v["email"], resp.StatusCode)
			}
		}
		// An open redirect is not followed after login.
		resp, _ = postForm(t, c, srv.URL+"/console/login", url.Values{"email": {staffEmail}, "password": {staffPassword}, "next": {"//evil.example/"}})
		if resp.Header.Get("Location") != "/console" {
			t.Errorf("next=//evil.example led to %q", resp.Header.Get("Location"))
		}
		var session *http.Cookie
		for _, ck := range resp.Cookies() {
			if ck.Name == sessionCookie {
				session = ck
			}
		}
		if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Path != "/console" {
			t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Lax, Path=/console", session)
		}

		// The queue lists both cases, with their ids.
		resp, body := get(t, c, srv.URL+"/console")
		if resp.StatusCode != 200 {
			t.Fatalf("queue: %d", resp.StatusCode)
		}
		ids := caseLink.FindAllStringSubmatch(body, -1)
		if len(ids) != 2 {
			t.Fatalf("queue lists %d cases, want 2", len(ids))
		}
		csrf := csrfField.FindStringSubmatch(body)[1]

		// Bulk: assign both to the analyst; the queue says how many.
		resp, _ = postForm(t, c, srv.URL+"/console/cases/bulk", url.Values{"csrf": {csrf}, "case": {ids[0][1], ids[1][1]},
			"action": {"assign"}, "assignee": {staffEmail}, "back": {"/console?lane=general"}})
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/console?lane=general&done=2%2F2") {
			t.Fatalf("bulk assign: %d %q", resp.StatusCode, loc)
		}
		for _, id := range ids {
			if c, _ := st.CaseByPublicID(context.Background(), id[1]); c.Assignee != staffEmail {
				t.Errorf("%s assigned to %q after the bulk action", id[1], c.Assignee)
			}
		}
		resp, _ = postForm(t, c, srv.URL+"/console/cases/bulk", url.Values{"csrf": {csrf}, "case": {ids[0][1]}, "action": {"reopen"}, "back": {"https://evil.example/"}})
		if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, "/console?done=0%2F1") {
			t.Errorf("refused bulk action, foreign back link: %q", loc)
		}

		// Search by IP finds the one case of that address.
		_, body = get(t, c, srv.URL+"/console?q=203.0.113.9")
		found := caseLink.FindAllStringSubmatch(body, -1)
		if len(found) != 1 {
			t.Fatalf("search by IP: %d cases", len(found))
		}
		id := found[0][1]
		_, body = get(t, c, srv.URL+"/console?q=not+a+%3Cprefix%3E/99")
		if !strings.Contains(body, "not a CIDR prefix") || strings.Contains(body, "<prefix>") {
			t.Error("a bad search is not explained, or not escaped")
		}

		// The case page shows the evidence, escaped.
		_, body = get(t, c, srv.URL+"/console/cases/"+id)
		if strings.Contains(body, "<img src=x") || !strings.Contains(body, "&lt;img src=x onerror=alert(1)&gt;") {
			t.Error("the hostile log line is not escaped on the case page")
		}
		if !strings.Contains(body, "i-0def") || !strings.Contains(body, "rita@example.org") {
			t.Error("the case page lacks its resource or reporter")
		}

		// Actions: without the CSRF token refused; cross-site refused; with it applied.
		resp, _ = postForm(t, c, srv.URL+"/console/cases/"+id+"/actions", url.Values{"action": {"note"}, "note": {hostileNote}})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("action without CSRF token: %d", resp.StatusCode)
		}
		resp, _ = postForm(t, c, srv.URL+"/console/cases/"+id+"/actions", url.Values{"csrf": {csrf}, "action": {"note"}, "note": {hostileNote}},
			"Sec-Fetch-Site", "cross-site")
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("cross-site action: %d", resp.StatusCode)
		}
		for _, v := range []url.Values{
			{"action": {"note"}, "note": {hostileNote}},
			{"action": {"notify"}},
			{"action": {"resolve"}, "outcome": {"ACTIONED"}},
		} {
			v.Set("csrf", csrf)
			resp, _ = postForm(t, c, srv.URL+"/console/cases/"+id+"/actions", v)
			if resp.StatusCode != http.StatusSeeOther || strings.Contains(resp.Header.Get("Location"), "error=") {
				t.Fatalf("action %s: %d %s", v.Get("action"), resp.StatusCode, resp.Header.Get("Location"))
			}
		}
		// An illegal one comes back with the reason.
		resp, _ = postForm(t, c, srv.URL+"/console/cases/"+id+"/actions", url.Values{"csrf": {csrf}, "action": {"notify"}})
		loc := resp.Header.Get("Location")
		if !strings.Contains(loc, "error=") {
			t.Fatalf("notify on a resolved case: %q", loc)
		}
		_, frBody := get(t, c, srv.URL+strings.Replace(loc, "?", "?lang=fr&", 1))
		if !strings.Contains(frBody, "pas possible dans l&#39;état actuel") {
			t.Error("the refusal is not explained in French")
		}
		_, body = get(t, c, srv.URL+loc)
		if !strings.Contains(body, `id="action-error"`) || strings.Contains(body, hostileNote) || !strings.Contains(body, "&lt;script&gt;alert(") {
			t.Error("case page after a refused action: no error shown, or the note unescaped")
		}
		c2, err := st.CaseByPublicID(context.Background(), id)
		if err != nil || c2.Status != cases.Resolved || c2.Outcome != cases.Actioned {
			t.Fatalf("case after resolve: %+v %v", c2, err)
		}

		// The customer's identity: its view is audited.
		resp, _ = get(t, c, srv.URL+"/console/cases/"+id+"/customer")
		if resp.StatusCode != 200 {
			t.Fatalf("customer view: %d", resp.StatusCode)
		}
		es, _ := st.CaseAudit(context.Background(), c2.ID)
		if last := es[len(es)-1]; last.Action != "customer_viewed" || last.Actor != staffEmail {
			t.Errorf("last audit entry %s by %s, want customer_viewed by %s", last.Action, last.Actor, staffEmail)
		}

		// French.
		_, body = get(t, c, srv.URL+"/console?lang=fr")
		if !strings.Contains(body, "Se déconnecter") {
			t.Error("the console in French lacks its French strings")
		}
		// Dashboard.
		resp, body = get(t, c, srv.URL+"/console/dashboard")
		if resp.StatusCode != 200 || !strings.Contains(body, "<svg") {
			t.Errorf("dashboard: %d, svg=%v", resp.StatusCode, strings.Contains(body, "<svg"))
		}

		// Logout ends the session on the server: the old cookie is dead.
		postForm(t, c, srv.URL+"/console/logout", url.Values{"csrf": {csrf}})
		c3 := staffClient(t)
		u, _ := url.Parse(srv.URL + "/console")
		c3.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: session.Value, Path: "/console"}})
		if resp, _ := get(t, c3, srv.URL+"/console"); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("the logged-out session still opens the queue: %d", resp.StatusCode)
		}
	})
}

func apiDo(t *testing.T, method, u, token, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func TestStaffAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		srv, _ := consoleServer(t, st)
		u, _ := st.UserByEmail(context.Background(), staffEmail)
		tok, err := st.AddStaffToken(context.Background(), u.ID, "test")
		if err != nil {
			t.Fatal(err)
		}
		if code, _ := apiDo(t, "GET", srv.URL+"/api/v1/cases", "", ""); code != 401 {
			t.Errorf("no token: %d", code)
		}
		if code, _ := apiDo(t, "GET", srv.URL+"/api/v1/cases", "ads_wrong", ""); code != 401 {
			t.Errorf("wrong token: %d", code)
		}
		code, m := apiDo(t, "GET", srv.URL+"/api/v1/cases?ip=203.0.113.7", tok, "")
		list, _ := m["cases"].([]any)
		if code != 200 || len(list) != 1 {
			t.Fatalf("cases?ip=: %d %v", code, m)
		}
		c := list[0].(map[string]any)
		id := c["id"].(string)
		if c["resource"] != "i-0abc" || c["status"] != "new" || c["level"] == "" {
			t.Errorf("case %v", c)
		}
		if code, m := apiDo(t, "GET", srv.URL+"/api/v1/cases?cidr=203.0.113.0/24&status=all", tok, ""); code != 200 || len(m["cases"].([]any)) != 2 {
			t.Errorf("cases?cidr=: %d %v", code, m)
		}
		if code, m := apiDo(t, "GET", srv.URL+"/api/v1/cases?ip=not-an-ip", tok, ""); code != 400 || !strings.Contains(m["errors"].([]any)[0].(map[string]any)["field"].(string), "ip") {
			t.Errorf("bad ip: %d %v", code, m)
		}
		code, m = apiDo(t, "GET", srv.URL+"/api/v1/cases/"+id, tok, "")
		if code != 200 || len(m["linked_reports"].([]any)) != 1 || len(m["evidence"].([]any)) != 1 {
			t.Fatalf("case detail: %d %v", code, m)
		}
		// Illegal transition: 409 with the code; unknown action: 422.
		if code, m := apiDo(t, "POST", srv.URL+"/api/v1/cases/"+id+"/actions", tok, `{"action":"reopen"}`); code != 409 ||
			m["errors"].([]any)[0].(map[string]any)["code"] != "illegal_transition" {
			t.Errorf("reopen an open case: %d %v", code, m)
		}
		if code, m := apiDo(t, "POST", srv.URL+"/api/v1/cases/"+id+"/actions", tok, `{"action":"assign","assignee":"stranger@example.net"}`); code != 422 ||
			m["errors"].([]any)[0].(map[string]any)["code"] != "assignee_unknown" {
			t.Errorf("assign to a stranger: %d %v", code, m)
		}
		if code, _ := apiDo(t, "POST", srv.URL+"/api/v1/cases/"+id+"/actions", tok, `{"action":"explode"}`); code != 422 {
			t.Errorf("unknown action: %d", code)
		}
		if code, m := apiDo(t, "POST", srv.URL+"/api/v1/cases/"+id+"/actions", tok, `{"action":"resolve","outcome":"ACTIONED"}`); code != 200 || m["status"] != "resolved" {
			t.Errorf("resolve: %d %v", code, m)
		}
		// Bulk: the other case is dismissed, the resolved one refused.
		code, m = apiDo(t, "GET", srv.URL+"/api/v1/cases?status=open", tok, "")
		other := m["cases"].([]any)[0].(map[string]any)["id"].(string)
		code, m = apiDo(t, "POST", srv.URL+"/api/v1/cases/actions", tok, `{"cases":["`+other+`","`+id+`"],"action":"dismiss"}`)
		if code != 200 || m["done"] != float64(1) || len(m["refused"].([]any)) != 1 {
			t.Errorf("bulk dismiss: %d %v", code, m)
		}
		if code, m := apiDo(t, "GET", srv.URL+"/api/v1/dashboard", tok, ""); code != 200 || m["open_by_lane"] == nil {
			t.Errorf("dashboard: %d %v", code, m)
		}
	})
}

var srvPolicy = cases.DefaultPolicy()

func srvNow() time.Time { return time.Now() }

func mustFilter(t *testing.T, q string) store.CaseFilter {
	t.Helper()
	f, err := searchFilter(q)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// A report with nothing of a customer's makes no case but stays findable:
// by its id, and among its reporter's reports.
func TestConsoleSearchReports(t *testing.T) {
	st := storetest.OpenSQLite(t)
	srv, _ := consoleServer(t, st)
	r := &report.Report{Type: "network", Subtype: "port_scan", Reporter: report.Reporter{Name: "Rita", Email: "rita@example.org"},
		Incidents: []report.Incident{{SourceIP: "192.0.2.1", Target: "198.51.100.1", Timestamp: time.Now().Add(-time.Hour).Format(time.RFC3339), Log: "scan"}}}
	if es := (&report.Validator{}).Validate(r); len(es) > 0 {
		t.Fatal(es)
	}
	r.Incidents[0].Verdict = "not_ours"
	r.NotOurs, r.Outcome = 1, report.OutcomeNotResolvable
	rc, err := st.InsertReport(context.Background(), &store.NewReport{Report: r, Channel: "api", Raw: []byte("{}"), ContentType: "application/json", ReceivedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	c := staffClient(t)
	login(t, srv, c)
	_, body := get(t, c, srv.URL+"/console?q="+rc.PublicID)
	if !strings.Contains(body, `id="reports-found"`) || !strings.Contains(body, rc.PublicID) || !strings.Contains(body, "NOT_RESOLVABLE_TO_PROVIDER") {
		t.Error("a search by the id of a not-ours report does not show it")
	}
	if len(caseLink.FindAllString(body, -1)) != 0 {
		t.Error("the not-ours report shows a case")
	}
	_, body = get(t, c, srv.URL+"/console?q=RITA@example.org")
	if n := strings.Count(body, "<code>R-"); n != 3 {
		t.Errorf("the reporter's search lists %d reports, want 3", n)
	}
	if n := len(caseLink.FindAllString(body, -1)); n < 2 {
		t.Errorf("the reporter's search lists %d case links, want her 2 cases", n)
	}
}

// Only admins see the admin page: the staff and the audit trail, verified.
func TestConsoleAdmin(t *testing.T) {
	st := storetest.OpenSQLite(t)
	srv, _ := consoleServer(t, st)
	c := staffClient(t)
	login(t, srv, c)
	if resp, _ := get(t, c, srv.URL+"/console/admin"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("an analyst opens the admin page: %d", resp.StatusCode)
	}
	if _, body := get(t, c, srv.URL+"/console"); strings.Contains(body, `href="/console/admin"`) {
		t.Error("an analyst is offered the admin page")
	}
	h, _ := auth.HashPassword(staffPassword)
	if _, err := st.AddUser(context.Background(), "boss@provider.example", "Boss", store.RoleAdmin, "en", h); err != nil {
		t.Fatal(err)
	}
	a := staffClient(t)
	resp, _ := postForm(t, a, srv.URL+"/console/login", url.Values{"email": {"boss@provider.example"}, "password": {staffPassword}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatal("admin login")
	}
	resp, body := get(t, a, srv.URL+"/console/admin")
	if resp.StatusCode != 200 || !strings.Contains(body, "audit trail is intact") || !strings.Contains(body, staffEmail) || !strings.Contains(body, "case opened") {
		t.Fatalf("admin page: %d", resp.StatusCode)
	}
	if _, err := st.W.Exec("DELETE FROM audit_log WHERE seq = 1"); err != nil {
		t.Fatal(err)
	}
	if _, body := get(t, a, srv.URL+"/console/admin"); !strings.Contains(body, "BROKEN at entry #1") {
		t.Error("the admin page does not show the broken chain")
	}
}
