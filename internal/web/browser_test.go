package web

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's chromium; CI installs it.
const chromiumPath = "/usr/bin/chromium"

// browserContext starts a headless chromium for t, or skips (fails on CI)
// when it is not installed.
func browserContext(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("chromium not installed at %s: CI must install it (apt-get install chromium)", chromiumPath)
		}
		t.Skip("chromium not installed at /usr/bin/chromium: browser test skipped (apt-get install chromium; CI installs it)")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.WindowSize(1200, 1600),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	// Cleanups run in reverse: the browser is gone before its temporary
	// profile directory is removed.
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
		cancel()
	})
	// Start the browser now, so that a broken install fails here clearly.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("starting %s: %v", chromiumPath, err)
	}
	return bctx
}

// browserRun runs one action that returns a value, failing t on error.
func browserRun[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// TestBrowserReportForm drives the form as a person would, without
// JavaScript of ours: pick the type, fill the incident with a time lacking
// its zone, see the error where it belongs with everything else kept, fix
// it, and follow the status link of the confirmation.
func TestBrowserReportForm(t *testing.T) {
	ctx := browserContext(t)
	srv, st := formServer(t)
	zoned, naive := formTimes()
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }

	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/report"),
		chromedp.WaitVisible(css("#pick-network")),
		chromedp.Click(css("#pick-network")),
		chromedp.WaitVisible(css("#timestamp")),
		chromedp.SetValue(css("#subtype"), "intrusion"),
		chromedp.SendKeys(css("#source_ip"), "192.0.2.10"),
		chromedp.SendKeys(css("#source_port"), "51234"),
		chromedp.SendKeys(css("#target"), "198.51.100.20"),
		chromedp.SendKeys(css("#target_port"), "22"),
		chromedp.SendKeys(css("#protocol"), "ssh"),
		chromedp.SendKeys(css("#timestamp"), naive),
		chromedp.SendKeys(css("#log"), formHostileLog),
		chromedp.SendKeys(css("#description"), "SSH brute force"),
		chromedp.SendKeys(css("#reporter_name"), "Alice Example"),
		chromedp.SendKeys(css("#reporter_email"), "alice@example.org"),
		chromedp.SetValue(css("#reporter_kind"), "cert"),
		chromedp.Click(css("#share_contact_with_customer")),
		chromedp.Click(css("button[type=submit]")),
		chromedp.WaitVisible(css("#timestamp-error")),
	); err != nil {
		t.Fatalf("filling and sending the form: %v", err)
	}

	// The error is inside the timestamp field, alone, and the input points
	// to it.
	errText := browserRun(t, ctx, "error text", chromedp.Text(css("#timestamp-field #timestamp-error")))
	if !strings.Contains(errText, "no time zone") {
		t.Errorf("timestamp error %q", errText)
	}
	if n := browserRun(t, ctx, "errors", chromedp.Evaluate[int](`document.querySelectorAll('.error').length`)); n != 1 {
		t.Errorf("%d error messages on the page, want 1", n)
	}
	if s := browserRun(t, ctx, "summary", chromedp.Text(css("#error-summary a[href='#timestamp']"))); !strings.Contains(s, "Date and time") {
		t.Errorf("summary link %q does not name the field", s)
	}
	for attr, want := range map[string]string{"aria-invalid": "true", "aria-describedby": "timestamp-hint timestamp-error"} {
		if a := browserRun(t, ctx, attr, chromedp.AttributeValue(css("#timestamp"), attr)); a.Value != want {
			t.Errorf("%s=%q, want %q", attr, a.Value, want)
		}
	}
	// Every other value is kept, the hostile log sample as text.
	for id, want := range map[string]string{"source_ip": "192.0.2.10", "source_port": "51234", "target": "198.51.100.20",
		"target_port": "22", "protocol": "ssh", "timestamp": naive, "log": formHostileLog, "description": "SSH brute force",
		"reporter_name": "Alice Example", "reporter_email": "alice@example.org", "subtype": "intrusion", "reporter_kind": "cert"} {
		if got := browserRun(t, ctx, id, chromedp.Value(css("#"+id))); got != want {
			t.Errorf("%s kept as %q, want %q", id, got, want)
		}
	}
	if !browserRun(t, ctx, "consent", chromedp.Evaluate[bool](`document.querySelector('#share_contact_with_customer').checked`)) {
		t.Error("the consent box was not kept ticked")
	}
	if n := browserRun(t, ctx, "scripts", chromedp.Evaluate[int](`document.scripts.length`)); n != 0 {
		t.Errorf("%d script elements on the page", n)
	}

	// Fixed, the report is stored and the confirmation gives the link.
	if err := chromedp.Do(ctx,
		chromedp.SetValue(css("#timestamp"), zoned),
		chromedp.Click(css("button[type=submit]")),
		chromedp.WaitVisible(css("#status-link")),
	); err != nil {
		t.Fatalf("sending the fixed form: %v", err)
	}
	id := browserRun(t, ctx, "report id", chromedp.Text(css("#report-id")))
	href := browserRun(t, ctx, "status link", chromedp.AttributeValue(css("#status-link"), "href")).Value
	if id == "" || !strings.HasPrefix(href, srv.URL+"/status/"+id+"?token=") {
		t.Fatalf("confirmation: id %q, link %q", id, href)
	}

	// The link leads to the status page of the report.
	if err := chromedp.Do(ctx,
		chromedp.Click(css("#status-link")),
		chromedp.WaitVisible(css("dl.status")),
	); err != nil {
		t.Fatalf("following the status link: %v", err)
	}
	loc := browserRun(t, ctx, "location", chromedp.Location())
	h1 := browserRun(t, ctx, "title", chromedp.Text(css("h1")))
	if loc != href || !strings.Contains(h1, id) {
		t.Errorf("status page at %q: h1 %q, want the report %s", loc, h1, id)
	}
	if n, inc := formCounts(t, st); n != 1 || inc != 1 {
		t.Errorf("stored %d reports, %d incidents; want 1, 1", n, inc)
	}
}
