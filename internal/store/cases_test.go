package store_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"abusedesk/internal/cases"
	"abusedesk/internal/report"
	"abusedesk/internal/store"
	"abusedesk/internal/store/storetest"
)

// attributed is a validated report whose incidents were attributed to the
// given (account, resource) pairs ("" resource: not ours).
func attributed(t *testing.T, typ, subtype, email string, items ...[3]string) *report.Report {
	t.Helper()
	r := &report.Report{Type: typ, Subtype: subtype, Reporter: report.Reporter{Name: "N", Email: email}}
	for _, it := range items {
		r.Incidents = append(r.Incidents, report.Incident{SourceIP: it[0], Target: "198.51.100.1", Timestamp: "2026-11-20T10:00:00Z", Log: "<b>flood</b>"})
	}
	if typ == "email" {
		r.EmailMessage = &report.EmailMessage{Headers: "Received: from mail.example (mail.example [203.0.113.7]) by mx.example.org; Fri, 20 Nov 2026 10:00:00 +0000\nFrom: x@example.com\nDate: Fri, 20 Nov 2026 10:00:00 +0000\nSubject: buy\n"}
	}
	if es := (&report.Validator{}).Validate(r); len(es) > 0 {
		t.Fatal(es)
	}
	for i, it := range items {
		a := &r.Incidents[i].Attribution
		switch {
		case it[1] == "":
			a.Verdict = "not_ours"
		case it[1] == "-":
			a.Verdict = "unassigned"
		default:
			a.Verdict, a.Account, a.Resource = "assigned", it[1], it[2]
		}
	}
	return r
}

func submit(t *testing.T, s *store.Store, r *report.Report, at time.Time) store.Receipt {
	t.Helper()
	rc, err := s.InsertReport(context.Background(), &store.NewReport{Report: r, Channel: "api", Raw: []byte("{}"), ContentType: "application/json", ReceivedAt: at})
	if err != nil {
		t.Fatal(err)
	}
	return rc
}

func list(t *testing.T, s *store.Store, f store.CaseFilter, now time.Time) []store.Case {
	t.Helper()
	p, err := s.ListCases(context.Background(), f, cases.DefaultPolicy(), now)
	if err != nil {
		t.Fatal(err)
	}
	return p.Cases
}

func TestGroupingIntoCases(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		p := cases.DefaultPolicy()
		now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
		clock := func() time.Time { return now }
		// Fifty DDoS reports about one instance from two reporters: one case.
		for i := 0; i < 50; i++ {
			email := "a@example.org"
			if i%2 == 1 {
				email = "b@example.org"
			}
			submit(t, s, attributed(t, "network", "ddos", email, [3]string{"203.0.113.7", "acct-1", "i-1"}), now)
		}
		// One report about two accounts feeds two cases; its not_ours and
		// unassigned items feed none.
		mixed := submit(t, s, attributed(t, "network", "port_scan", "c@example.org",
			[3]string{"203.0.113.7", "acct-1", "i-1"}, [3]string{"203.0.113.9", "acct-2", "i-2"},
			[3]string{"192.0.2.1", "", ""}, [3]string{"203.0.113.200", "-", ""}), now)
		notOurs := submit(t, s, attributed(t, "network", "ddos", "d@example.org", [3]string{"192.0.2.1", "", ""}), now)
		// Same resource, other category: its own case.
		submit(t, s, attributed(t, "email", "spam_sent", "e@example.org", [3]string{"203.0.113.7", "acct-1", "i-1"}), now)

		n, err := s.GroupPending(ctx, p, clock)
		if err != nil {
			t.Fatal(err)
		}
		if n != 52 {
			t.Errorf("grouped %d reports, want 52 (the not-ours report is never queued)", n)
		}
		if n, _ := s.GroupPending(ctx, p, clock); n != 0 {
			t.Errorf("second run grouped %d", n)
		}
		all := list(t, s, store.CaseFilter{Status: "all", Sort: store.SortNewest}, now)
		if len(all) != 3 {
			t.Fatalf("%d cases, want 3: %+v", len(all), all)
		}
		ddos := list(t, s, store.CaseFilter{Account: "acct-1", Category: "network", Status: "all"}, now)
		if len(ddos) != 1 {
			t.Fatalf("acct-1 network cases: %d", len(ddos))
		}
		c := ddos[0]
		if c.Reports != 51 || c.Reporters != 3 || c.Items != 51 || c.Status != cases.New || c.Deadline.IsZero() {
			t.Errorf("ddos case: reports %d reporters %d items %d status %s deadline %v", c.Reports, c.Reporters, c.Items, c.Status, c.Deadline)
		}
		if len(c.Subtypes) != 2 {
			t.Errorf("subtypes %v, want ddos and port_scan", c.Subtypes)
		}
		// The report fed two cases; the not-ours one none, and stays
		// searchable by its id with no case.
		if ids, _ := s.ReportCases(ctx, mixed.ID); len(ids) != 2 {
			t.Errorf("mixed report feeds %v", ids)
		}
		if ids, _ := s.ReportCases(ctx, notOurs.ID); len(ids) != 0 {
			t.Errorf("not-ours report feeds %v", ids)
		}
		if st, _ := s.ReportByPublicID(ctx, mixed.PublicID); st.Status != "in_review" {
			t.Errorf("grouped report status %q", st.Status)
		}
		// Search.
		for name, f := range map[string]store.CaseFilter{
			"ip":       {Status: "all", IP: netip.MustParseAddr("203.0.113.9")},
			"cidr":     {Status: "all", Prefix: netip.MustParsePrefix("203.0.113.8/29")},
			"reporter": {Status: "all", Reporter: "C@example.org"},
			"report":   {Status: "all", Report: mixed.PublicID},
			"account":  {Status: "all", Account: "acct-2"},
		} {
			got := list(t, s, f, now)
			want := map[string]int{"ip": 1, "cidr": 1, "reporter": 2, "report": 2, "account": 1}[name]
			if len(got) != want {
				t.Errorf("search %s: %d cases, want %d", name, len(got), want)
			}
		}
		if got := list(t, s, store.CaseFilter{Status: "all", IP: netip.MustParseAddr("192.0.2.1")}, now); len(got) != 0 {
			t.Errorf("a not-ours address found %d cases", len(got))
		}
		if got := list(t, s, store.CaseFilter{Status: "all", Prefix: netip.MustParsePrefix("203.0.113.0/24")}, now); len(got) != 3 {
			t.Errorf("cidr /24: %d cases, want 3", len(got))
		}
	})
}

func TestCaseWorkflowAndAudit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		p := cases.DefaultPolicy()
		now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
		clock := func() time.Time { return now }
		submit(t, s, attributed(t, "network", "intrusion", "a@example.org", [3]string{"203.0.113.7", "acct-1", "i-1"}), now)
		submit(t, s, attributed(t, "network", "intrusion", "a@example.org", [3]string{"203.0.113.8", "acct-1", "i-2"}), now)
		if _, err := s.GroupPending(ctx, p, clock); err != nil {
			t.Fatal(err)
		}
		cs := list(t, s, store.CaseFilter{}, now)
		if len(cs) != 2 {
			t.Fatalf("%d open cases", len(cs))
		}
		a, b := cs[0].PublicID, cs[1].PublicID
		apply := func(id string, cmd cases.Command) (*store.Case, error) {
			c, _, err := s.ApplyCase(ctx, id, "analyst@example.net", cmd, p, now)
			return c, err
		}
		// Illegal: resolving without an outcome, reopening an open case.
		if _, err := apply(a, cases.Command{Action: cases.Resolve}); err == nil {
			t.Error("resolve without outcome accepted")
		}
		var ce *cases.Error
		if _, err := apply(a, cases.Command{Action: cases.Reopen}); !errors.As(err, &ce) || ce.Code != "illegal_transition" {
			t.Errorf("reopen of an open case: %v", err)
		}
		c, err := apply(a, cases.Command{Action: cases.Notify})
		if err != nil || c.Status != cases.CustomerNotified {
			t.Fatalf("notify: %v %v", c, err)
		}
		if _, err := apply(a, cases.Command{Action: cases.Note, Note: "called the customer <script>"}); err != nil {
			t.Fatal(err)
		}
		if _, err := apply(a, cases.Command{Action: cases.Assign, Assignee: "analyst@example.net"}); err != nil {
			t.Fatal(err)
		}
		// The deadline passes: the job escalates it, once.
		now = now.Add(25 * time.Hour)
		if n, err := s.EscalateDue(ctx, p, now); err != nil || n != 1 {
			t.Fatalf("escalated %d, %v", n, err)
		}
		if n, _ := s.EscalateDue(ctx, p, now); n != 0 {
			t.Errorf("escalated again: %d", n)
		}
		c, _ = s.CaseByPublicID(ctx, a)
		if c.Status != cases.Escalated || !c.Escalated {
			t.Errorf("after the deadline: %s escalated=%v", c.Status, c.Escalated)
		}
		// Merge b into a; then resolve a: its reports are closed with the outcome.
		if _, err := apply(b, cases.Command{Action: cases.Merge, Into: b}); err == nil {
			t.Error("merge into itself accepted")
		}
		if _, err := apply(b, cases.Command{Action: cases.Merge, Into: a}); err != nil {
			t.Fatal(err)
		}
		c, _ = s.CaseByPublicID(ctx, a)
		if c.Reports != 2 {
			t.Errorf("after merge the target has %d reports", c.Reports)
		}
		if c, err = apply(a, cases.Command{Action: cases.Resolve, Outcome: cases.Actioned}); err != nil || c.Status != cases.Resolved {
			t.Fatalf("resolve: %v", err)
		}
		var closed int
		s.R.QueryRow("SELECT count(*) FROM reports WHERE status = 'closed' AND outcome = 'ACTIONED'").Scan(&closed)
		if closed != 2 {
			t.Errorf("%d reports closed with ACTIONED, want 2", closed)
		}
		if len(list(t, s, store.CaseFilter{}, now)) != 0 {
			t.Error("open cases remain")
		}
		// A new report about the resource opens a new case; the old one can
		// then not be reopened beside it.
		submit(t, s, attributed(t, "network", "intrusion", "a@example.org", [3]string{"203.0.113.7", "acct-1", "i-1"}), now)
		s.GroupPending(ctx, p, clock)
		if _, err := apply(a, cases.Command{Action: cases.Reopen}); !errors.As(err, &ce) || ce.Code != "open_case_exists" {
			t.Errorf("reopen beside an open case: %v", err)
		}
		// The audit trail holds every change and verifies; tampering breaks it.
		es, err := s.CaseAudit(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range es {
			actions = append(actions, e.Action)
		}
		want := []string{"opened", "notify", "note", "assign", "escalate", "merged_in", "resolve"}
		if len(actions) != len(want) {
			t.Fatalf("audit of %s: %v, want %v", a, actions, want)
		}
		for i := range want {
			if actions[i] != want[i] {
				t.Fatalf("audit of %s: %v, want %v", a, actions, want)
			}
		}
		total, head, err := s.VerifyAudit(ctx)
		if err != nil || total < 10 || len(head) != 32 {
			t.Fatalf("verify: %d entries, head %x, %v", total, head, err)
		}
		if _, err := s.W.Exec("UPDATE audit_log SET detail = '{\"note\":\"edited\"}' WHERE action = 'note'"); err != nil {
			t.Fatal(err)
		}
		var br *cases.ChainError
		if _, _, err := s.VerifyAudit(ctx); !errors.As(err, &br) {
			t.Fatalf("tampered trail verified: %v", err)
		}
	})
}

// The group-commit writer (the JSON API's path) queues reports for grouping
// like the single-report path.
func TestGroupCommitFeedsCases(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		w := s.NewWriter()
		defer w.Close()
		now := time.Now()
		for i := 0; i < 5; i++ {
			r := attributed(t, "network", "intrusion", "a@example.org", [3]string{"203.0.113.7", "acct-1", "i-1"})
			if _, err := w.Submit(ctx, &store.NewReport{Report: r, Channel: "api", Raw: []byte("{}"), ContentType: "application/json", ReceivedAt: now}); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := s.GroupPending(ctx, cases.DefaultPolicy(), time.Now); err != nil || n != 5 {
			t.Fatalf("grouped %d, %v", n, err)
		}
		if cs := list(t, s, store.CaseFilter{}, now); len(cs) != 1 || cs[0].Reports != 5 {
			t.Fatalf("cases %+v", cs)
		}
	})
}

// An ongoing DDoS outranks the rest only while it lasts.
func TestRefreshPriorities(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		p := cases.DefaultPolicy()
		now := time.Now().UTC()
		r := attributed(t, "network", "ddos", "a@example.org", [3]string{"203.0.113.7", "acct-1", "i-1"})
		r.Incidents[0].At = now.Add(-10 * time.Minute)
		submit(t, s, r, now)
		if _, err := s.GroupPending(ctx, p, func() time.Time { return now }); err != nil {
			t.Fatal(err)
		}
		before := list(t, s, store.CaseFilter{}, now)[0].Priority
		if n, err := s.RefreshPriorities(ctx, p, now); err != nil || n != 0 {
			t.Fatalf("refresh during the attack changed %d (%v)", n, err)
		}
		later := now.Add(3 * time.Hour)
		if n, err := s.RefreshPriorities(ctx, p, later); err != nil || n != 1 {
			t.Fatalf("refresh after the attack changed %d (%v)", n, err)
		}
		after := list(t, s, store.CaseFilter{}, later)[0].Priority
		if after >= before || p.Level(before) != 1 {
			t.Errorf("priority %d (P%d) during the attack, %d after", before, p.Level(before), after)
		}
	})
}

func TestDashboard(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		p := cases.DefaultPolicy()
		now := time.Now().UTC()
		for _, r := range []struct {
			ago int
			n   int
		}{{10, 3}, {3, 2}, {0, 4}} {
			for i := 0; i < r.n; i++ {
				submit(t, s, attributed(t, "network", "intrusion", "a@example.org", [3]string{"203.0.113.7", "acct-1", fmt.Sprintf("i-%d", i)}), now.AddDate(0, 0, -r.ago))
			}
		}
		if _, err := s.GroupPending(ctx, p, func() time.Time { return now }); err != nil {
			t.Fatal(err)
		}
		d, err := s.Dashboard(ctx, 7, now)
		if err != nil {
			t.Fatal(err)
		}
		got := d.ReportsPerType["network"]
		if len(d.Days) != 7 || len(got) != 7 || got[6] != 4 || got[3] != 2 || sum(got) != 6 {
			t.Errorf("reports per day %v over %d days, want 2 three days ago and 4 today", got, len(d.Days))
		}
		if c := d.CasesPerType["network"]; sum(c) != 4 {
			t.Errorf("cases opened per day %v, want 4 (one per resource, today)", c)
		}
		if d.OpenByLane["general"]["new"] != 4 {
			t.Errorf("open by lane %v", d.OpenByLane)
		}
	})
}

func sum(xs []int) int {
	n := 0
	for _, x := range xs {
		n += x
	}
	return n
}
