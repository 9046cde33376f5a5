package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"abusedesk/internal/attribution"
	"abusedesk/internal/demodata"
	"abusedesk/internal/intake"
	"abusedesk/internal/inventory"
	"abusedesk/internal/routing"
	"abusedesk/internal/store"
)

// TestDemoProviderImports stores a small synthetic provider through the
// import path (no line refused), reloads it from the database as serve
// does, checks the probes against what was loaded, then seeds the sample
// reports and checks that they hit every verdict.
func TestDemoProviderImports(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "demo.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// Now: today (the default), so that the sample reports' times are not
	// in the future for the validator.
	p, err := demodata.New(demodata.Config{Seed: 5, Addresses: 3000})
	if err != nil {
		t.Fatal(err)
	}
	imp := inventory.New(st, nil)
	if err := imp.Load(ctx); err != nil {
		t.Fatal(err)
	}
	n, err := importProvider(ctx, imp, p)
	if err != nil {
		t.Fatal(err)
	}
	s := p.Stats()
	if n.Accounts != s.Accounts || n.Resources != s.Resources || n.Assignments != s.Assignments || n.Hostnames != s.Hostnames {
		t.Errorf("imported %+v, the provider has %+v", n, s)
	}
	k := inventory.New(st, nil)
	if err := k.Load(ctx); err != nil {
		t.Fatal(err)
	}
	a := k.Attributor()
	for i, pr := range p.Probes(400) {
		var v attribution.Verdict
		if pr.Kind == demodata.ProbeURL {
			v, _ = a.URL(pr.URL, pr.Time)
		} else {
			v = a.Addr(pr.Addr, pr.Time)
		}
		if v.Verdict != pr.Verdict || v.Resource != pr.Resource || v.Account != pr.Account || v.Matched != pr.Matched {
			t.Errorf("probe %d (%s %v%s at %s): loaded %+v, want %+v", i, pr.Kind, pr.Addr, pr.URL, pr.Time, v, pr)
		}
	}

	f := serverFlags{sendingServiceList: "mail-service.example.net"}
	in := intake.New(st, f.validator(), intake.BulkLimits{})
	if in.Routing, err = routing.Load(""); err != nil {
		t.Fatal(err)
	}
	in.SetAttributor(a)
	d, err := seedDemo(ctx, in, "http://demo.test", p)
	in.Close()
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(d.links, "\n")
	for _, want := range []string{"(EC2, acct-", "held by nobody then", "→ not_ours", "?id=<b>1</b> → assigned to E", "(SES, acct-",
		"lane email-abuse", "lane copyright", "CSV: 5 rows accepted, 1 refused"} {
		if !strings.Contains(text, want) {
			t.Errorf("the sample reports do not show %q:\n%s", want, text)
		}
	}
	if n := strings.Count(text, "→ assigned to "); n < 4 {
		t.Errorf("%d sample reports attributed to a resource, want 4 (intrusion, phishing, spam, DMCA):\n%s", n, text)
	}
}

func TestDemoCount(t *testing.T) {
	for in, want := range map[string]int{"300000": 300000, "300_000": 300000, "300,000": 300000, "300k": 300000, "10M": 10_000_000, "1.5M": 1_500_000} {
		if got, err := demoCount(in); err != nil || got != want {
			t.Errorf("demoCount(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "x", "-3", "0", "10G"} {
		if _, err := demoCount(in); err == nil {
			t.Errorf("demoCount(%q) accepted", in)
		}
	}
}
