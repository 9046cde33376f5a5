package inventory_test

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"abusedesk/internal/attribution"
	"abusedesk/internal/inventory"
	"abusedesk/internal/store/storetest"
)

// TestModelMemoryMatchesTables drives two instances with random batches
// (opens, closes, replays, reassignments, nested prefixes, host names, some
// of them refused) and checks after each that the writer's index, the
// follower's after catching up, and an index rebuilt from the tables give the
// same verdict for every address and time probed, and that the tables never
// hold two overlapping assignments of one prefix.
func TestModelMemoryMatchesTables(t *testing.T) {
	if testing.Short() {
		t.Skip("model test writes hundreds of transactions; skipped with -short")
	}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	prefixes := []string{"198.18.0.1/32", "198.18.0.2/32", "198.18.0.0/30", "198.18.0.0/24", "2001:db8::1/128", "2001:db8::/64"}
	hosts := []string{"a.example.net", "*.example.net", "b.example.net"}
	probes := []string{"198.18.0.1", "198.18.0.2", "198.18.0.3", "198.18.0.77", "2001:db8::1", "2001:db8::2", "::ffff:198.18.0.1"}
	rapid.Check(t, func(rt *rapid.T) {
		st := storetest.OpenSQLite(t)
		a, b := load(t, st), load(t, st)
		var lines strings.Builder
		fmt.Fprintln(&lines, `{"kind":"account","id":"acct-1","name":"One","email":"one@one.example"}`)
		fmt.Fprintln(&lines, `{"kind":"account","id":"acct-2","name":"Two","email":"two@two.example"}`)
		for r := range 3 {
			fmt.Fprintf(&lines, `{"kind":"resource","id":"r-%d","account":"acct-%d","type":"instance","service":"EC2","region":"eu-west-3"}`+"\n", r, r%2+1)
		}
		if _, errs, err := a.Import(t.Context(), strings.NewReader(lines.String())); err != nil || len(errs) > 0 {
			rt.Fatal(err, errs)
		}
		hour := func(h int) string { return base.Add(time.Duration(h) * time.Hour).Format(time.RFC3339) }
		steps := rapid.IntRange(1, 6).Draw(rt, "steps")
		for s := range steps {
			w := a
			if rapid.Bool().Draw(rt, "via b") {
				w = b
			}
			var batch strings.Builder
			for range rapid.IntRange(1, 5).Draw(rt, "lines") {
				res := rapid.IntRange(0, 2).Draw(rt, "res")
				from := rapid.IntRange(0, 20).Draw(rt, "from")
				to := ""
				if rapid.Bool().Draw(rt, "closed") {
					to = fmt.Sprintf(`,"to":%q`, hour(from+rapid.IntRange(1, 10).Draw(rt, "len")))
				}
				if rapid.IntRange(0, 4).Draw(rt, "kind") == 0 {
					h := rapid.SampledFrom(hosts).Draw(rt, "host")
					fmt.Fprintf(&batch, `{"kind":"hostname","resource":"r-%d","host":%q,"from":%q%s}`+"\n", res, h, hour(from), to)
				} else {
					p := rapid.SampledFrom(prefixes).Draw(rt, "prefix")
					fmt.Fprintf(&batch, `{"kind":"assignment","resource":"r-%d","prefix":%q,"from":%q%s}`+"\n", res, p, hour(from), to)
				}
			}
			if _, _, err := w.Import(t.Context(), strings.NewReader(batch.String())); err != nil {
				rt.Fatalf("step %d: %v", s, err)
			}
		}
		if err := a.CatchUp(t.Context()); err != nil {
			rt.Fatal(err)
		}
		if err := b.CatchUp(t.Context()); err != nil {
			rt.Fatal(err)
		}
		fresh := load(t, st)
		// abusedesk attribute reads only the rows that can decide.
		partial := map[string]*attribution.Attributor{}
		for _, p := range probes {
			part, err := st.LoadInventoryFor(t.Context(), netip.MustParseAddr(p), "")
			if err != nil {
				rt.Fatal(err)
			}
			partial[p] = inventory.Attributor(part)
		}
		for _, host := range []string{"a.example.net", "b.example.net", "c.example.net", "x.y.example.net"} {
			part, err := st.LoadInventoryFor(t.Context(), netip.Addr{}, host)
			if err != nil {
				rt.Fatal(err)
			}
			partial[host] = inventory.Attributor(part)
		}
		for h := -1; h <= 32; h++ {
			tm := base.Add(time.Duration(h) * time.Hour)
			for _, p := range probes {
				addr := netip.MustParseAddr(p)
				va, vb, vf := a.Attributor().Addr(addr, tm), b.Attributor().Addr(addr, tm), fresh.Attributor().Addr(addr, tm)
				if va != vb || va != vf {
					rt.Fatalf("%s at %s: a %+v, b %+v, tables %+v", p, tm.Format(time.RFC3339), va, vb, vf)
				}
				if vp := partial[p].Addr(addr, tm); vp != vf {
					rt.Fatalf("%s at %s: from its rows only %+v, from all %+v", p, tm.Format(time.RFC3339), vp, vf)
				}
			}
			for _, host := range []string{"a.example.net", "b.example.net", "c.example.net", "x.y.example.net"} {
				u := "https://" + host + "/"
				va, _ := a.Attributor().URL(u, tm)
				vb, _ := b.Attributor().URL(u, tm)
				vf, _ := fresh.Attributor().URL(u, tm)
				if va != vb || va != vf {
					rt.Fatalf("%s at %s: a %+v, b %+v, tables %+v", u, tm.Format(time.RFC3339), va, vb, vf)
				}
				if vp, _ := partial[host].URL(u, tm); vp != vf {
					rt.Fatalf("%s at %s: from its rows only %+v, from all %+v", u, tm.Format(time.RFC3339), vp, vf)
				}
			}
		}
		var overlaps int
		st.R.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM assignments x JOIN assignments y ON x.prefix = y.prefix AND x.id < y.id
			WHERE x.valid_from < COALESCE(y.valid_to, '9999') AND y.valid_from < COALESCE(x.valid_to, '9999')`).Scan(&overlaps)
		if overlaps > 0 {
			rt.Fatalf("%d overlapping stored assignments", overlaps)
		}
	})
}
