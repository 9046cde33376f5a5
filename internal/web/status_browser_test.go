package web

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"abusedesk/internal/cases"
	"abusedesk/internal/store"
	"abusedesk/internal/store/storetest"
)

// TestBrowserStatusAnswer is a reporter in real Chromium: they open their
// status link after the desk asked for more, read the question, answer it
// with the page's form, see the confirmation and their answer; the
// customer's identity shows only after the customer consented.
func TestBrowserStatusAnswer(t *testing.T) {
	ctx := browserContext(t)
	st := storetest.OpenSQLite(t)
	f := statusFixture(t, st)
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	f.apply(t, cases.RequestInfo, statusQuestion)

	if err := chromedp.Do(ctx,
		chromedp.Navigate(f.pageURL(f.mine)),
		chromedp.WaitVisible(css("ol.questions")),
	); err != nil {
		t.Fatalf("opening the status link: %v", err)
	}
	if q := browserRun(t, ctx, "question", chromedp.Text(css("blockquote.question"))); q != statusQuestion {
		t.Errorf("the question reads %q", q)
	}
	if n := browserRun(t, ctx, "scripts", chromedp.Evaluate[int](`document.scripts.length`)); n != 0 {
		t.Errorf("%d script elements on the status page: the question was not escaped", n)
	}
	if c := browserRun(t, ctx, "customer", chromedp.Text(css("dd.customer"))); strings.Contains(c, customerName) || !strings.Contains(c, "Withheld") {
		t.Errorf("the customer before its consent: %q", c)
	}

	// Answer with the form.
	answer := "Here are the full headers: Received: from mx.example"
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(css("form.answer textarea"), answer),
		chromedp.Click(css("form.answer button")),
		chromedp.WaitVisible(css("#done")),
	); err != nil {
		t.Fatalf("answering: %v", err)
	}
	if d := browserRun(t, ctx, "done", chromedp.Text(css("#done"))); !strings.Contains(d, "your answer was sent") {
		t.Errorf("confirmation %q", d)
	}
	if conv := browserRun(t, ctx, "conversation", chromedp.Text(css("ol.conversation"))); !strings.Contains(conv, answer) {
		t.Errorf("the conversation lacks the answer: %q", conv)
	}
	if s := browserRun(t, ctx, "case status", chromedp.Evaluate[string](`document.querySelector("dd.case-status").dataset.status`)); s != "new" {
		t.Errorf("case status on the page after the answer: %q", s)
	}
	if f.status(t) != cases.New {
		t.Errorf("case after the answer: %s", f.status(t))
	}

	// The customer consents; a reload shows who it is.
	if err := st.RecordConsent(t.Context(), store.Consent{Party: store.PartyCustomer, CaseID: f.caseID, Subject: "acct-3", Granted: true,
		Channel: "portal", Actor: "customer:acct-3"}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(css(".customer-identity"))); err != nil {
		t.Fatalf("reloading: %v", err)
	}
	if c := browserRun(t, ctx, "customer", chromedp.Text(css(".customer-identity"))); !strings.Contains(c, customerName) || !strings.Contains(c, customerSecMail) {
		t.Errorf("the customer after its consent: %q", c)
	}
}
