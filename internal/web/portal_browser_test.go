package web

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"abusedesk/internal/store"
	"abusedesk/internal/store/storetest"
)

// TestBrowserPortal is a customer in real Chromium: open the magic link of
// a notice, continue, read the case without the identity of a reporter who
// did not consent, answer "action taken", see the confirmation; then that
// reporter consents, and a reload names them.
func TestBrowserPortal(t *testing.T) {
	ctx := browserContext(t)
	st := storetest.OpenSQLite(t)
	f := portalServer(t, st)
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }

	if err := chromedp.Do(ctx,
		chromedp.Navigate(f.srv.URL+f.magicLink(t, "acct-1", f.Main)),
		chromedp.WaitVisible(css("#continue")),
		chromedp.Click(css("#continue")),
		chromedp.WaitVisible(css("#case-id")),
	); err != nil {
		t.Fatalf("logging in by the magic link: %v", err)
	}
	if id := browserRun(t, ctx, "case id", chromedp.Text(css("#case-id"))); id != f.Main {
		t.Errorf("landed on case %q, want %s", id, f.Main)
	}
	if n := browserRun(t, ctx, "scripts", chromedp.Evaluate[int](`document.scripts.length`)); n != 0 {
		t.Errorf("%d script elements on the portal (one from a hostile description?)", n)
	}
	reports := browserRun(t, ctx, "reports", chromedp.Text(css("#reports")))
	if strings.Contains(reports, withholdingRep) {
		t.Errorf("the reporter who did not consent is named: %q", reports)
	}
	if !strings.Contains(reports, consentingRep) || !strings.Contains(reports, `<script>alert("desc")</script>`) {
		t.Errorf("the reports section lacks the consenting reporter or the description as text: %q", reports)
	}

	// Answer "action taken".
	if err := chromedp.Do(ctx,
		chromedp.Click(css("#answer-action_taken")),
		chromedp.SendKeys(css("#answer-text"), "Instance stopped and reimaged."),
		chromedp.Click(css("#do-answer")),
		chromedp.WaitVisible(css("#flash")),
	); err != nil {
		t.Fatalf("answering: %v", err)
	}
	if msg := browserRun(t, ctx, "flash", chromedp.Text(css("#flash"))); !strings.Contains(msg, "answer was sent") {
		t.Errorf("confirmation %q", msg)
	}
	if s := browserRun(t, ctx, "status", chromedp.Text(css("#case-status"))); s != "customer responded" {
		t.Errorf("status after the answer %q", s)
	}
	if m := browserRun(t, ctx, "messages", chromedp.Text(css("#messages"))); !strings.Contains(m, "Instance stopped and reimaged.") {
		t.Errorf("the answer is not among the messages: %q", m)
	}

	// The reporter consents; a reload names them.
	main, _ := st.CaseByPublicID(t.Context(), f.Main)
	reps, err := st.CaseReports(t.Context(), main.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reps {
		if r.ReporterEmail == withholdingRep {
			if err := st.RecordConsent(t.Context(), store.Consent{Party: store.PartyReporter, ReportID: r.ID, Subject: r.ReporterEmail,
				Granted: true, Channel: "status_page", Actor: "reporter:" + r.PublicID}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(css("#reports"))); err != nil {
		t.Fatal(err)
	}
	if reports := browserRun(t, ctx, "reports", chromedp.Text(css("#reports"))); !strings.Contains(reports, withholdingRep) {
		t.Errorf("the reporter is not named after consenting: %q", reports)
	}
}
