package web

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"abusedesk/internal/store"
	"abusedesk/internal/store/storetest"
)

// TestBrowserConsole works a case as an analyst does, in real Chromium:
// log in, open the queue, open a case, resolve it, search by IP.
func TestBrowserConsole(t *testing.T) {
	ctx := browserContext(t)
	st := storetest.OpenSQLite(t)
	srv, _ := consoleServer(t, st)
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }

	// Log in: the console sends the anonymous visitor to the login page and
	// back to the queue.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/console"),
		chromedp.WaitVisible(css("#email")),
		chromedp.SendKeys(css("#email"), staffEmail),
		chromedp.SendKeys(css("#password"), staffPassword),
		chromedp.Click(css("#login")),
		chromedp.WaitVisible(css("#queue")),
	); err != nil {
		t.Fatalf("logging in: %v", err)
	}
	if loc := browserRun(t, ctx, "location", chromedp.Location()); !strings.HasSuffix(loc, "/console") {
		t.Errorf("after login at %q, want the queue", loc)
	}
	rows := browserRun(t, ctx, "rows", chromedp.Evaluate[int](`document.querySelectorAll('#queue tbody a[href^="/console/cases/"]').length`))
	if rows != 2 {
		t.Fatalf("the queue shows %d cases, want 2", rows)
	}
	if n := browserRun(t, ctx, "scripts", chromedp.Evaluate[int](`document.scripts.length`)); n != 0 {
		t.Errorf("%d script elements in the console", n)
	}

	// Open the first case of the queue.
	first := browserRun(t, ctx, "first case", chromedp.Text(css("#queue tbody a")))
	if err := chromedp.Do(ctx,
		chromedp.Click(css("#queue tbody a")),
		chromedp.WaitVisible(css("#case-id")),
	); err != nil {
		t.Fatalf("opening the case: %v", err)
	}
	if id := browserRun(t, ctx, "case id", chromedp.Text(css("#case-id"))); id != first {
		t.Errorf("case page of %q, clicked %q", id, first)
	}
	// The hostile log line is shown as text, not as an element.
	if n := browserRun(t, ctx, "images", chromedp.Evaluate[int](`document.querySelectorAll('#evidence img').length`)); n != 0 {
		t.Error("the hostile log line became an element")
	}
	if log := browserRun(t, ctx, "log", chromedp.Text(css("#evidence pre.log"))); !strings.Contains(log, "<img src=x") {
		t.Errorf("evidence log shows %q", log)
	}

	// Resolve it with an outcome.
	if err := chromedp.Do(ctx,
		chromedp.SetValue(css("#resolve-outcome"), "CONTENT_DOWN_OR_INACCESSIBLE"),
		chromedp.Click(css("#do-resolve")),
		chromedp.WaitVisible(css("#case-outcome")),
	); err != nil {
		t.Fatalf("resolving: %v", err)
	}
	if s := browserRun(t, ctx, "status", chromedp.Text(css("#case-status"))); s != "resolved" {
		t.Errorf("status after resolve %q", s)
	}
	if o := browserRun(t, ctx, "outcome", chromedp.Text(css("#case-outcome"))); o != "CONTENT_DOWN_OR_INACCESSIBLE" {
		t.Errorf("outcome %q", o)
	}
	if tl := browserRun(t, ctx, "timeline", chromedp.Text(css("#timeline"))); !strings.Contains(tl, "resolved by "+staffEmail) {
		t.Errorf("the timeline lacks the resolution: %q", tl)
	}
	// The resolved case has left the queue.
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/console"), chromedp.WaitVisible(css("#queue"))); err != nil {
		t.Fatal(err)
	}
	if n := browserRun(t, ctx, "rows", chromedp.Evaluate[int](`document.querySelectorAll('#queue tbody a[href^="/console/cases/"]').length`)); n != 1 {
		t.Errorf("the queue shows %d cases after the resolution, want 1", n)
	}

	// Search by IP from the header's box: the one case of that address,
	// resolved ones included.
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(css("#q"), "203.0.113.7\n"),
		chromedp.WaitVisible(css("h1 code")), // the search page's title names the query
	); err != nil {
		t.Fatalf("searching: %v", err)
	}
	ids := browserRun(t, ctx, "found", chromedp.Evaluate[[]string](`[...document.querySelectorAll('#queue tbody a')].map(a => a.textContent)`))
	c, _ := st.ListCases(t.Context(), mustFilter(t, "203.0.113.7"), srvPolicy, srvNow())
	if len(ids) != 1 || len(c.Cases) != 1 || ids[0] != c.Cases[0].PublicID {
		t.Errorf("search by IP found %v, want the case of 203.0.113.7", ids)
	}
	if h1 := browserRun(t, ctx, "h1", chromedp.Text(css("h1"))); !strings.Contains(h1, "203.0.113.7") {
		t.Errorf("search page title %q", h1)
	}
}

// TestBrowserMailbox works the review queue in real Chromium: a mail nobody
// could read is listed first, its hostile subject and body stay text, and
// the analyst marks it handled with a note.
func TestBrowserMailbox(t *testing.T) {
	ctx := browserContext(t)
	st := storetest.OpenSQLite(t)
	srv, _ := consoleServer(t, st)
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	bg := context.Background()
	m := &store.InboundMail{RemoteAddr: "192.0.2.9:4000", Helo: "mx.sender.example", MailFrom: "x@sender.example", RcptTo: []string{"abuse@desk.example"},
		Raw: []byte("From: x@sender.example\r\nSubject: <img src=x onerror=alert(1)>\r\n\r\nhello <script>document.title='pwned'</script>\r\n")}
	if err := st.InsertInbound(bg, m); err != nil {
		t.Fatal(err)
	}
	if err := st.FinishInbound(bg, m.ID, store.InboundVerdict{State: store.InboundReview, Parser: "plaintext", From: "x@sender.example",
		Subject: "<img src=x onerror=alert(1)>", At: time.Now(), Detail: map[string]any{"reason": "no report found in this mail"}}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/console/mailbox"),
		chromedp.WaitVisible(css("#email")),
		chromedp.SendKeys(css("#email"), staffEmail),
		chromedp.SendKeys(css("#password"), staffPassword),
		chromedp.Click(css("#login")),
		chromedp.WaitVisible(css("#parsers")),
		chromedp.Click(css(`a[href="/console/mailbox/`+m.PublicID+`"]`)),
		chromedp.WaitVisible(css("#raw-mail")),
	); err != nil {
		t.Fatalf("opening the review entry: %v", err)
	}
	if n := browserRun(t, ctx, "images", chromedp.Evaluate[int](`document.querySelectorAll('main img, #mail-subject img').length`)); n != 0 {
		t.Error("the hostile subject became an element")
	}
	if title := browserRun(t, ctx, "title", chromedp.Title()); strings.Contains(title, "pwned") {
		t.Error("the mail's script ran")
	}
	if raw := browserRun(t, ctx, "raw", chromedp.Text(css("#raw-mail"))); !strings.Contains(raw, "<script>document.title='pwned'</script>") {
		t.Errorf("raw text shows %q", raw)
	}
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(css("#note"), "asked the sender by phone"),
		chromedp.Click(css("#handle")),
		chromedp.WaitVisible(css("#handled-note")),
	); err != nil {
		t.Fatalf("handling: %v", err)
	}
	if s := browserRun(t, ctx, "state", chromedp.Text(css("#mail-state"))); !strings.Contains(strings.ToLower(s), "handled") {
		t.Errorf("state after handling %q", s)
	}
	got, err := st.InboundByID(bg, m.ID)
	if err != nil || got.State != store.InboundDone || got.HandledBy != staffEmail {
		t.Fatalf("stored: %v %+v", err, got)
	}
}
