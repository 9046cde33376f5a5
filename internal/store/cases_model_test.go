package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"abusedesk/internal/cases"
	"abusedesk/internal/report"
	"abusedesk/internal/store"
)

// TestCasesModel drives the store with random reports, grouping runs and
// analyst actions, and checks it against a model of what the grouping rule
// means: one open case per (account, resource, category) at most; each
// report linked to exactly the open case of each key it had items for when
// it was grouped; report counts that add up; every action's audit entry,
// and a chain that verifies.
func TestCasesModel(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		dir, err := os.MkdirTemp("", "casesmodel")
		if err != nil {
			rt.Fatal(err)
		}
		defer os.RemoveAll(dir)
		ctx := context.Background()
		s, err := store.Open(ctx, filepath.Join(dir, "m.db"))
		if err != nil {
			rt.Fatal(err)
		}
		defer s.Close()
		p := cases.DefaultPolicy()
		now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
		type key struct{ acct, res, cat string }
		open := map[key]string{}    // key → open case id (after grouping)
		reports := map[string]int{} // case id → reports linked
		var pending [][]key         // reports stored, not yet grouped
		audits := 0

		group := func() {
			if _, err := s.GroupPending(ctx, p, func() time.Time { return now }); err != nil {
				rt.Fatal(err)
			}
			for _, keys := range pending {
				for _, k := range keys {
					id, ok := open[k]
					if !ok {
						cs, err := s.ListCases(ctx, store.CaseFilter{Account: k.acct, Category: k.cat}, p, now)
						if err != nil {
							rt.Fatal(err)
						}
						for _, c := range cs.Cases {
							if c.Resource == k.res {
								id = c.PublicID
							}
						}
						if id == "" {
							rt.Fatalf("no open case for %v after grouping", k)
						}
						open[k] = id
						audits++ // opened
					}
					reports[id]++
				}
			}
			pending = nil
		}
		rt.Repeat(map[string]func(*rapid.T){
			"report": func(rt *rapid.T) {
				cat := rapid.SampledFrom([]string{"network", "email"}).Draw(rt, "cat")
				n := rapid.IntRange(1, 3).Draw(rt, "items")
				r := &report.Report{Type: cat, Subtype: map[string]string{"network": "ddos", "email": "spam_sent"}[cat],
					Reporter: report.Reporter{Name: "N", Email: fmt.Sprintf("r%d@example.org", rapid.IntRange(0, 2).Draw(rt, "reporter"))}}
				if cat == "email" {
					r.EmailMessage = &report.EmailMessage{Headers: "Received: from a (a [203.0.113.7]) by b; Fri, 20 Nov 2026 10:00:00 +0000\nFrom: x@example.com\nDate: Fri, 20 Nov 2026 10:00:00 +0000\nSubject: s\n"}
				}
				for i := 0; i < n; i++ {
					r.Incidents = append(r.Incidents, report.Incident{SourceIP: fmt.Sprintf("203.0.113.%d", i+1), Target: "198.51.100.1", Timestamp: "2026-11-20T10:00:00Z", Log: "x"})
				}
				if es := (&report.Validator{}).Validate(r); len(es) > 0 {
					rt.Fatal(es)
				}
				seen := map[key]bool{}
				var keys []key
				for i := range r.Incidents {
					switch v := rapid.IntRange(0, 4).Draw(rt, "verdict"); v {
					case 0:
						r.Incidents[i].Verdict = "not_ours"
					default:
						k := key{fmt.Sprintf("a%d", v%2), fmt.Sprintf("i%d", v), cat}
						r.Incidents[i].Attribution = report.Attribution{Verdict: "assigned", Account: k.acct, Resource: k.res}
						if !seen[k] {
							seen[k] = true
							keys = append(keys, k)
						}
					}
				}
				if _, err := s.InsertReport(ctx, &store.NewReport{Report: r, Channel: "api", Raw: []byte("{}"), ContentType: "application/json", ReceivedAt: now}); err != nil {
					rt.Fatal(err)
				}
				if len(keys) > 0 {
					pending = append(pending, keys)
				}
			},
			"group": func(rt *rapid.T) { group() },
			"act": func(rt *rapid.T) {
				group()
				if len(open) == 0 {
					rt.Skip("no open case")
				}
				var ks []key
				for k := range open {
					ks = append(ks, k)
				}
				k := rapid.SampledFrom(sortedKeys(ks)).Draw(rt, "case")
				id := open[k]
				a := rapid.SampledFrom([]cases.Action{cases.Notify, cases.Note, cases.Resolve, cases.Dismiss, cases.Escalate, cases.Reopen}).Draw(rt, "action")
				cmd := cases.Command{Action: a, Note: "n", Outcome: map[cases.Action]cases.Outcome{cases.Resolve: cases.Actioned}[a]}
				c, _, err := s.ApplyCase(ctx, id, "analyst", cmd, p, now)
				var ce *cases.Error
				if errors.As(err, &ce) {
					return // refused: nothing changed (the next checks see it)
				}
				if err != nil {
					rt.Fatal(err)
				}
				audits++
				if !c.Status.Open() {
					delete(open, k)
				}
			},
			"": func(rt *rapid.T) {
				cs, err := s.ListCases(ctx, store.CaseFilter{Status: "open", Limit: 500}, p, now)
				if err != nil {
					rt.Fatal(err)
				}
				got := map[key]string{}
				for _, c := range cs.Cases {
					k := key{c.Account, c.Resource, c.Category}
					if _, dup := got[k]; dup {
						rt.Fatalf("two open cases for %v", k)
					}
					got[k] = c.PublicID
				}
				for k, id := range open {
					if got[k] != id {
						rt.Fatalf("open case of %v: store %q, model %q", k, got[k], id)
					}
				}
				if len(got) != len(open) {
					rt.Fatalf("store has %d open cases, model %d", len(got), len(open))
				}
				for id, n := range reports {
					c, err := s.CaseByPublicID(ctx, id)
					if err != nil {
						rt.Fatal(err)
					}
					if c.Reports != n {
						rt.Fatalf("case %s: %d reports, model %d", id, c.Reports, n)
					}
				}
				n, _, err := s.VerifyAudit(ctx)
				if err != nil || int(n) != audits {
					rt.Fatalf("audit: %d entries (%v), model %d", n, err, audits)
				}
			},
		})
	})
}

// sortedKeys orders map keys, so that rapid's draws replay.
func sortedKeys[K comparable](ks []K) []K {
	out := slices.Clone(ks)
	slices.SortFunc(out, func(a, b K) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
	return out
}
