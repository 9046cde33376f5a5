package casegen_test

import (
	"context"
	"testing"
	"time"

	"abusedesk/internal/cases"
	"abusedesk/internal/store"
	"abusedesk/internal/store/casegen"
	"abusedesk/internal/store/storetest"
)

// The generated rows must be what the console reads: countable, listable
// in every order, searchable, with the open-key index satisfied.
func TestGenerate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Now().UTC()
		if err := casegen.Generate(ctx, st, casegen.Config{Cases: 3000, Reports: 15500, Seed: 3, Now: now}); err != nil {
			t.Fatal(err)
		}
		var cs, reps, links, open, openKeys int
		st.R.QueryRow("SELECT count(*) FROM cases").Scan(&cs)
		st.R.QueryRow("SELECT count(*) FROM reports").Scan(&reps)
		st.R.QueryRow("SELECT count(*) FROM case_reports").Scan(&links)
		st.R.QueryRow("SELECT count(*) FROM cases WHERE is_open").Scan(&open)
		st.R.QueryRow("SELECT count(*) FROM (SELECT DISTINCT account, resource, category FROM cases WHERE is_open) k").Scan(&openKeys)
		if cs != 3000 || reps != 15500 || links != 15500 {
			t.Fatalf("%d cases, %d reports, %d links", cs, reps, links)
		}
		if open < 200 || open > 450 || openKeys != open {
			t.Errorf("%d open cases (%d distinct keys), want about 10%%", open, openKeys)
		}
		p, err := st.ListCases(ctx, store.CaseFilter{}, cases.DefaultPolicy(), now)
		if err != nil || len(p.Cases) != 50 || p.Next == "" {
			t.Fatalf("queue: %v", err)
		}
		for _, c := range p.Cases {
			if !c.Status.Open() {
				t.Errorf("queue lists %s in %s", c.PublicID, c.Status)
			}
		}
		var reporter string
		st.R.QueryRow("SELECT email FROM case_reporters LIMIT 1").Scan(&reporter)
		if p, err := st.ListCases(ctx, store.CaseFilter{Status: "all", Reporter: reporter}, cases.DefaultPolicy(), now); err != nil || len(p.Cases) == 0 {
			t.Errorf("search by a generated reporter finds nothing: %v", err)
		}
	})
}
