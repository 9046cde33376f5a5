package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"abusedesk/internal/store"
	"abusedesk/internal/store/storetest"
)

const hostileScript = `<script>alert(1)</script>`

// inboundMail stores one received mail and the processor's verdict on it.
func inboundMail(t *testing.T, st *store.Store, at time.Time, raw string, v store.InboundVerdict) *store.InboundMail {
	t.Helper()
	ctx := context.Background()
	m := &store.InboundMail{ReceivedAt: at, RemoteAddr: "192.0.2.25:41000", Helo: "mx.sender.example", MailFrom: "bounces@sender.example",
		RcptTo: []string{"abuse@provider.example"}, TLS: true, Raw: []byte(raw)}
	if err := st.InsertInbound(ctx, m); err != nil {
		t.Fatal(err)
	}
	if v.State == "" {
		return m
	}
	if v.At.IsZero() {
		v.At = at.Add(time.Second)
	}
	if err := st.FinishInbound(ctx, m.ID, v); err != nil {
		t.Fatal(err)
	}
	return m
}

var (
	tagRe  = regexp.MustCompile(`<[^>]*>`)
	cellRe = regexp.MustCompile(`(?s)<td>(.*?)</td>`)
)

// rowCells returns the text of the cells of the table row with the given id.
func rowCells(body, id string) []string {
	i := strings.Index(body, `id="`+id+`"`)
	if i < 0 {
		return nil
	}
	row := body[i:]
	row = row[:strings.Index(row, "</tr>")]
	var out []string
	for _, m := range cellRe.FindAllStringSubmatch(row, -1) {
		out = append(out, strings.TrimSpace(tagRe.ReplaceAllString(m[1], "")))
	}
	return out
}

func TestConsoleMailbox(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		srv, _ := consoleServer(t, st)
		c := staffClient(t)

		// Not logged in: the list and the download lead to the login page;
		// a POST is refused.
		for _, p := range []string{"/console/mailbox", "/console/mailbox/M-X/raw"} {
			resp, _ := get(t, c, srv.URL+p)
			if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/console/login?next=") {
				t.Fatalf("anonymous %s: %d %q", p, resp.StatusCode, resp.Header.Get("Location"))
			}
		}
		if resp, _ := postForm(t, c, srv.URL+"/console/mailbox/M-X/handle", url.Values{"note": {"x"}}); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("anonymous handle: %d", resp.StatusCode)
		}
		login(t, srv, c)

		// A case of the harness, for a reply that joined it.
		_, queue := get(t, c, srv.URL+"/console")
		casePub := caseLink.FindStringSubmatch(queue)[1]
		cs, err := st.CaseByPublicID(ctx, casePub)
		if err != nil {
			t.Fatal(err)
		}

		now := time.Now().UTC()
		report := inboundMail(t, st, now.Add(-time.Hour), "Subject: X-ARF\r\n\r\n{}", store.InboundVerdict{State: store.InboundReport, Parser: "xarf",
			From: "robot@sender.example", Subject: "X-ARF report", Machine: true, Detail: map[string]any{"reports": []string{"R-0123456789ABCD"}, "machine": "X-XARF header"}})
		inboundMail(t, st, now.Add(-3*24*time.Hour), "Subject: X-ARF\r\n\r\n{}", store.InboundVerdict{State: store.InboundReport, Parser: "xarf",
			From: "robot@sender.example", Subject: "older X-ARF report", Machine: true, Detail: map[string]any{}})
		review := inboundMail(t, st, now.Add(-2*time.Hour), "Subject: strange\r\n\r\n???", store.InboundVerdict{State: store.InboundReview, Parser: "xarf",
			From: "someone@sender.example", Subject: "strange", Detail: map[string]any{"reason": "the X-ARF part is not JSON"}})
		hostile := inboundMail(t, st, now.Add(-30*time.Minute), "From: <mallory@evil.example>\r\nSubject: "+hostileScript+"\r\n\r\nbody "+hostileScript+"\r\n",
			store.InboundVerdict{State: store.InboundIncomplete, Parser: "plaintext", From: "mallory@evil.example", Subject: hostileScript,
				Detail: map[string]any{"reason": "missing " + hostileScript, "answered": "mallory@evil.example",
					"missing": []map[string]any{{"field": "incidents[0].timestamp", "code": "required", "message": "When did it happen? " + hostileScript}}}})
		old := inboundMail(t, st, now.Add(-10*24*time.Hour), "Subject: old\r\n\r\n", store.InboundVerdict{State: store.InboundReview, Parser: "arf",
			From: "old@sender.example", Subject: "too old for the table", Detail: map[string]any{"reason": "old"}})
		reply := inboundMail(t, st, now.Add(-time.Hour), "Subject: Re: your case\r\n\r\nfixed", store.InboundVerdict{State: store.InboundReply, Parser: "reply",
			From: "customer@acct.example", Subject: "Re: your case", CaseID: cs.ID, Detail: map[string]any{"language": "en"}})
		bounce := inboundMail(t, st, now.Add(-5*time.Hour), "Subject: Undelivered\r\n\r\n", store.InboundVerdict{State: store.InboundBounce, Parser: "dsn",
			From: "mailer-daemon@sender.example", Subject: "Undelivered Mail", Machine: true, Detail: map[string]any{"outbox_id": 7, "recipient": "gone@x.example"}})
		waiting := inboundMail(t, st, now.Add(-time.Minute), "Subject: waiting\r\n\r\n", store.InboundVerdict{})

		// The list: the review queue first, newest first.
		resp, body := get(t, c, srv.URL+"/console/mailbox")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("list: %d", resp.StatusCode)
		}
		// Newest first by id (the order of arrival).
		if i, j := strings.Index(body, old.PublicID), strings.Index(body, review.PublicID); i < 0 || j < 0 || i > j {
			t.Errorf("review tab: %s at %d, %s at %d", old.PublicID, i, review.PublicID, j)
		}
		for _, m := range []*store.InboundMail{report, hostile, reply, bounce, waiting} {
			if strings.Contains(body, m.PublicID) {
				t.Errorf("review tab shows %s (%s)", m.PublicID, m.State)
			}
		}
		if !strings.Contains(body, "the X-ARF part is not JSON") || !strings.Contains(body, `id="nav-mailbox"`) {
			t.Error("review tab: no reason, or no nav link")
		}
		for id, want := range map[string]string{"review": "to review (2)", "incomplete": "incomplete (1)", "bounce": "bounce (1)",
			"new": "new (1)", "report": "report (2)", "reply": "reply (1)", "ignored": "ignored (0)", "all": "All (8)"} {
			re := regexp.MustCompile(`id="mailbox-` + id + `"[^>]*>([^<]*)</a>`)
			if m := re.FindStringSubmatch(body); m == nil || m[1] != want {
				t.Errorf("tab %s: %v, want %q", id, m, want)
			}
		}
		if i, j := strings.Index(body, `id="mailbox-review"`), strings.Index(body, `id="mailbox-new"`); i > j {
			t.Error("the review tab is not first")
		}
		// The per-parser table: 24 hours, then 7 days: seen, parsed, to
		// review, machine share.
		for parser, want := range map[string]string{
			"xarf":      "2 1 1 50 % 3 2 1 67 %",
			"plaintext": "1 0 1 0 % 1 0 1 0 %",
			"reply":     "1 1 0 0 % 1 1 0 0 %",
			"dsn":       "1 0 0 100 % 1 0 0 100 %",
			"none":      "1 0 0 0 % 1 0 0 0 %",
		} {
			if got := strings.Join(rowCells(body, "parser-"+parser), " "); got != want {
				t.Errorf("parser %s: %q, want %q", parser, got, want)
			}
		}
		if strings.Contains(body, `id="parser-arf"`) {
			t.Error("a mail of 10 days ago is in the 7-day table")
		}

		// All states, filtered by parser; then the next page's keyset.
		_, body = get(t, c, srv.URL+"/console/mailbox?state=all&parser=xarf")
		if !strings.Contains(body, report.PublicID) || !strings.Contains(body, review.PublicID) || strings.Contains(body, hostile.PublicID) {
			t.Error("parser filter")
		}
		_, body = get(t, c, srv.URL+"/console/mailbox?state=all&before="+strconv.FormatInt(hostile.ID, 10))
		if strings.Contains(body, hostile.PublicID) || strings.Contains(body, bounce.PublicID) || !strings.Contains(body, review.PublicID) {
			t.Error("before= does not page by id")
		}
		// The incomplete tab: the hostile subject as text.
		_, body = get(t, c, srv.URL+"/console/mailbox?state=incomplete")
		if !strings.Contains(body, hostile.PublicID) || strings.Contains(body, hostileScript) || !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
			t.Error("incomplete tab: the hostile subject is not escaped")
		}
		// French.
		if _, body = get(t, c, srv.URL+"/console/mailbox?lang=fr"); !strings.Contains(body, "à revoir (2)") {
			t.Error("no French tab")
		}

		// One mail: escaped, the missing list, the raw text.
		resp, body = get(t, c, srv.URL+"/console/mailbox/"+hostile.PublicID)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("detail: %d", resp.StatusCode)
		}
		if strings.Contains(body, hostileScript) || strings.Count(body, "&lt;script&gt;alert(1)&lt;/script&gt;") < 4 {
			t.Errorf("detail: the hostile text is not escaped everywhere")
		}
		if !strings.Contains(body, "<code>incidents[0].timestamp</code> — When did it happen?") {
			t.Error("detail: no missing list")
		}
		for _, want := range []string{"192.0.2.25:41000", "mx.sender.example", "&lt;bounces@sender.example&gt;", "abuse@provider.example",
			hostile.SHA256, `id="raw-mail"`, "body &lt;script&gt;", `action="/console/mailbox/` + hostile.PublicID + `/handle"`, `id="requeue"`} {
			if !strings.Contains(body, want) {
				t.Errorf("detail lacks %q", want)
			}
		}
		if strings.Contains(body, `id="raw-truncated"`) {
			t.Error("a small mail is said truncated")
		}
		_, body = get(t, c, srv.URL+"/console/mailbox/"+report.PublicID)
		if !strings.Contains(body, `href="/console?q=R-0123456789ABCD"`) || strings.Contains(body, `id="handle"`) {
			t.Error("report mail: no report link, or a handle button")
		}
		_, body = get(t, c, srv.URL+"/console/mailbox/"+reply.PublicID)
		if !strings.Contains(body, `href="/console/cases/`+casePub+`"`) {
			t.Error("reply mail: no case link")
		}
		_, body = get(t, c, srv.URL+"/console/mailbox/"+bounce.PublicID)
		if !strings.Contains(body, `href="/console/outbox/7"`) || !strings.Contains(body, "gone@x.example") {
			t.Error("bounce: no outbox link or recipient")
		}

		// The raw download: text, an attachment, never sniffed.
		resp, body = get(t, c, srv.URL+"/console/mailbox/"+hostile.PublicID+"/raw")
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" ||
			resp.Header.Get("Content-Disposition") != `attachment; filename="`+hostile.PublicID+`.eml"` ||
			resp.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(body, "body "+hostileScript) {
			t.Errorf("raw: %d %v", resp.StatusCode, resp.Header)
		}

		// A big mail is cut on the page, whole in the download.
		big := inboundMail(t, st, now.Add(-20*24*time.Hour), "Subject: big\r\n\r\n"+strings.Repeat("0123456789abcdef\n", 20000)+"THE END",
			store.InboundVerdict{State: store.InboundIgnored, Parser: "feed"})
		_, body = get(t, c, srv.URL+"/console/mailbox/"+big.PublicID)
		if !strings.Contains(body, `id="raw-truncated"`) || strings.Contains(body, "THE END") {
			t.Error("big mail: not truncated")
		}
		if _, body = get(t, c, srv.URL+"/console/mailbox/"+big.PublicID+"/raw"); !strings.HasSuffix(body, "THE END") {
			t.Error("big mail: the download is not whole")
		}

		// Unknown ids.
		for _, p := range []string{"/console/mailbox/M-NOPE", "/console/mailbox/M-NOPE/raw"} {
			if resp, _ := get(t, c, srv.URL+p); resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s: %d", p, resp.StatusCode)
			}
		}
		_, page := get(t, c, srv.URL+"/console/mailbox/"+review.PublicID)
		csrf := csrfField.FindStringSubmatch(page)[1]
		if resp, _ := postForm(t, c, srv.URL+"/console/mailbox/M-NOPE/handle", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusNotFound {
			t.Errorf("handle unknown: %d", resp.StatusCode)
		}
		// No CSRF token: refused.
		if resp, _ := postForm(t, c, srv.URL+"/console/mailbox/"+review.PublicID+"/handle", url.Values{"note": {"x"}}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("handle without csrf: %d", resp.StatusCode)
		}

		// Process again: back to new.
		resp, _ = postForm(t, c, srv.URL+"/console/mailbox/"+report.PublicID+"/requeue", url.Values{"csrf": {csrf}})
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/mailbox/"+report.PublicID {
			t.Fatalf("requeue: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		if m, _ := st.InboundByPublicID(ctx, report.PublicID); m.State != store.InboundNew {
			t.Errorf("requeued mail is %s", m.State)
		}

		// Mark handled, with a note; a second time is refused, not an error.
		resp, _ = postForm(t, c, srv.URL+"/console/mailbox/"+review.PublicID+"/handle", url.Values{"csrf": {csrf}, "note": {"asked the sender " + hostileScript}})
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/mailbox/"+review.PublicID {
			t.Fatalf("handle: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		m, _ := st.InboundByPublicID(ctx, review.PublicID)
		if m.State != store.InboundDone || m.HandledBy != staffEmail || m.Detail["handled_note"] != "asked the sender "+hostileScript {
			t.Errorf("handled: %s %q %v", m.State, m.HandledBy, m.Detail)
		}
		_, body = get(t, c, srv.URL+"/console/mailbox/"+review.PublicID)
		if !strings.Contains(body, "asked the sender &lt;script&gt;") || strings.Contains(body, `id="handle"`) || !strings.Contains(body, staffEmail) {
			t.Error("handled mail: no note, or still a handle button")
		}
		resp, _ = postForm(t, c, srv.URL+"/console/mailbox/"+review.PublicID+"/handle", url.Values{"csrf": {csrf}, "note": {"again"}})
		if resp.StatusCode != http.StatusSeeOther || !strings.HasSuffix(resp.Header.Get("Location"), "?error=handle") {
			t.Fatalf("second handle: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		if _, body = get(t, c, srv.URL+resp.Header.Get("Location")); !strings.Contains(body, `id="action-error"`) || !strings.Contains(body, "Refused") {
			t.Error("second handle: the refusal is not shown")
		}
		if m, _ := st.InboundByPublicID(ctx, review.PublicID); m.Detail["handled_note"] != "asked the sender "+hostileScript {
			t.Error("the refused handle changed the note")
		}
	})
}
