package inventory_test

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"abusedesk/internal/attribution"
	"abusedesk/internal/inventory"
	"abusedesk/internal/store"
	"abusedesk/internal/store/storetest"
)

const testRanges = `{"syncToken":"1","createDate":"2026-01-01-00-00-00","prefixes":[
 {"ip_prefix":"203.0.113.0/24","region":"eu-west-3","service":"AMAZON","network_border_group":"eu-west-3"},
 {"ip_prefix":"203.0.113.0/24","region":"eu-west-3","service":"EC2","network_border_group":"eu-west-3"}],
 "ipv6_prefixes":[{"ipv6_prefix":"2001:db8::/32","region":"eu-west-3","service":"EC2","network_border_group":"eu-west-3"}]}`

const testInventory = `{"kind":"account","id":"acct-1001","name":"Example SARL","security_email":"sec@example.fr","email":"owner@example.fr","language":"fr"}
{"kind":"account","id":"acct-2002","name":"Other Ltd","email":"ops@other.example"}
{"kind":"resource","id":"i-0abc","account":"acct-1001","type":"instance","service":"EC2","region":"eu-west-3"}
{"kind":"resource","id":"i-0def","account":"acct-2002","type":"instance","service":"EC2","region":"eu-west-3"}
{"kind":"resource","id":"bucket-9","account":"acct-2002","type":"bucket","service":"S3","region":"eu-west-3"}
{"kind":"assignment","resource":"i-0abc","prefix":"203.0.113.7/32","from":"2026-01-01T00:00:00Z","to":"2026-03-01T00:00:00Z"}
{"kind":"assignment","resource":"i-0def","prefix":"203.0.113.0/28","from":"2025-06-01T00:00:00Z"}
{"kind":"assignment","resource":"i-0def","prefix":"203.0.113.7","from":"2026-02-01T00:00:00Z"}
{"kind":"hostname","resource":"bucket-9","host":"*.example-cdn.net","from":"2026-01-01T00:00:00Z"}
`

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func load(t *testing.T, st *store.Store) *inventory.Keeper {
	t.Helper()
	k := inventory.New(st, nil)
	if err := k.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	return k
}

func imp(t *testing.T, k *inventory.Keeper, lines string) (inventory.Counts, []attribution.LineError) {
	t.Helper()
	n, errs, err := k.Import(t.Context(), strings.NewReader(lines))
	if err != nil {
		t.Fatal(err)
	}
	return n, errs
}

type want struct{ addr, when, verdict, resource, account string }

func check(t *testing.T, who string, a *attribution.Attributor, ws ...want) {
	t.Helper()
	for _, w := range ws {
		v := a.Addr(netip.MustParseAddr(w.addr), at(w.when))
		if v.Verdict != w.verdict || v.Resource != w.resource || v.Account != w.account {
			t.Errorf("%s: %s at %s: %+v, want %s %s %s", who, w.addr, w.when, v, w.verdict, w.resource, w.account)
		}
	}
}

// Ranges and inventory go in, verdicts come out as of the time asked, an
// overlapping line is refused by number, and importing the same file again
// changes nothing.
func TestImportAndAttribution(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := t.Context()
		k := load(t, st)
		space, es, err := attribution.ParseRanges(strings.NewReader(testRanges))
		if err != nil || len(es) > 0 {
			t.Fatal(err, es)
		}
		if err := k.ReplaceRanges(ctx, space); err != nil {
			t.Fatal(err)
		}
		n, ierrs := imp(t, k, testInventory)
		// Line 8 (i-0def on .7 from February) overlaps line 6 (i-0abc until March).
		if len(ierrs) != 2 || ierrs[0].Line != 6 || ierrs[1].Line != 8 || ierrs[0].Code != attribution.CodeOverlap {
			t.Fatalf("import errors %v", ierrs)
		}
		if n.Accounts != 2 || n.Resources != 3 || n.Assignments != 1 || n.Hostnames != 1 || n.LinesRefused != 2 {
			t.Errorf("counts %+v", n)
		}
		n2, ierrs2 := imp(t, k, testInventory)
		if n2.Assignments != 0 || n2.Hostnames != 0 || n2.Resources != 0 || len(ierrs2) != 2 {
			t.Errorf("re-import: %+v %v", n2, ierrs2)
		}
		ws := []want{
			{"203.0.113.7", "2026-01-15T00:00:00Z", attribution.Assigned, "i-0def", "acct-2002"}, // the /28: line 6 was refused
			{"203.0.113.9", "2026-03-02T09:00:00Z", attribution.Assigned, "i-0def", "acct-2002"},
			{"203.0.113.9", "2025-01-01T00:00:00Z", attribution.Unassigned, "", ""},
			{"203.0.113.200", "2026-03-02T09:00:00Z", attribution.Unassigned, "", ""},
			{"2001:db8::1", "2026-03-02T09:00:00Z", attribution.Unassigned, "", ""},
			{"198.51.100.1", "2026-03-02T09:00:00Z", attribution.NotOurs, "", ""},
		}
		check(t, "live", k.Attributor(), ws...)
		// What the database holds answers the same after a restart.
		check(t, "reloaded", load(t, st).Attributor(), ws...)
		a := k.Attributor()
		if v, ok := a.URL("https://media.example-cdn.net/x.mp4", at("2026-03-02T09:00:00Z")); !ok || v.Resource != "bucket-9" {
			t.Errorf("hosted URL: %+v", v)
		}
		if v, _ := a.URL("https://elsewhere.example/", at("2026-03-02T09:00:00Z")); v.Verdict != attribution.NotOurs {
			t.Errorf("foreign URL: %+v", v)
		}
	})
}

// A live feed: a release closes the open assignment, the next holder's
// line opens a new one; the instance that took the batch answers with it at
// once, another instance after catching up with the log, and a restart
// from the tables agrees with both.
func TestLiveFeedAcrossInstances(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := t.Context()
		a, b := load(t, st), load(t, st) // two instances on one database
		n, errs := imp(t, a, `{"kind":"account","id":"acct-1","name":"One","email":"one@one.example"}
{"kind":"account","id":"acct-2","name":"Two","email":"two@two.example"}
{"kind":"resource","id":"eip-1","account":"acct-1","type":"elastic-ip","service":"EC2","region":"eu-west-3"}
{"kind":"resource","id":"eip-2","account":"acct-2","type":"elastic-ip","service":"EC2","region":"eu-west-3"}
{"kind":"assignment","resource":"eip-1","prefix":"198.18.0.7","from":"2026-01-01T00:00:00Z"}
{"kind":"hostname","resource":"eip-1","host":"www.one.example","from":"2026-01-01T00:00:00Z"}`)
		if len(errs) > 0 || n.Assignments != 1 || n.Hostnames != 1 {
			t.Fatalf("%+v %v", n, errs)
		}
		before := want{"198.18.0.7", "2026-02-10T12:00:00Z", attribution.Assigned, "eip-1", "acct-1"}
		check(t, "writer", a.Attributor(), before)
		if err := b.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		check(t, "follower", b.Attributor(), before)

		// Reassignment through the other instance, with a replayed line.
		n, errs = imp(t, b, `{"kind":"assignment","resource":"eip-1","prefix":"198.18.0.7/32","from":"2026-01-01T00:00:00Z","to":"2026-03-01T00:00:00Z"}
{"kind":"assignment","resource":"eip-2","prefix":"198.18.0.7/32","from":"2026-03-01T00:00:00Z"}
{"kind":"hostname","resource":"eip-1","host":"www.one.example","from":"2026-01-01T00:00:00Z"}
{"kind":"hostname","resource":"eip-1","host":"WWW.one.example.","from":"2026-01-01T00:00:00Z","to":"2026-03-01T00:00:00Z"}`)
		if len(errs) > 0 || n.Closed != 1 || n.Assignments != 1 || n.Unchanged != 1 || n.HostsClosed != 1 {
			t.Fatalf("reassignment: %+v %v", n, errs)
		}
		after := want{"198.18.0.7", "2026-03-02T09:00:00Z", attribution.Assigned, "eip-2", "acct-2"}
		gap := want{"198.18.0.7", "2025-12-31T23:59:59Z", attribution.NotOurs, "", ""}
		check(t, "writer b", b.Attributor(), before, after, gap)
		check(t, "a before catching up", a.Attributor(), want{"198.18.0.7", "2026-03-02T09:00:00Z", attribution.Assigned, "eip-1", "acct-1"})
		if err := a.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		check(t, "a", a.Attributor(), before, after, gap)
		check(t, "restart", load(t, st).Attributor(), before, after, gap)
		for name, k := range map[string]*inventory.Keeper{"a": a, "b": b, "restart": load(t, st)} {
			if v, ok := k.Attributor().URL("https://www.one.example/", at("2026-03-02T09:00:00Z")); !ok || v.Verdict != attribution.NotOurs {
				t.Errorf("%s: closed host name still attributed: %+v", name, v)
			}
		}

		// A writer that has not caught up is checked against the log first:
		// a's line overlapping what b stored is refused.
		if _, errs := imp(t, b, `{"kind":"assignment","resource":"eip-1","prefix":"198.18.0.8","from":"2026-04-01T00:00:00Z"}`); len(errs) > 0 {
			t.Fatal(errs)
		}
		_, errs = imp(t, a, `{"kind":"assignment","resource":"eip-2","prefix":"198.18.0.8","from":"2026-05-01T00:00:00Z"}`)
		if len(errs) != 1 || errs[0].Code != attribution.CodeOverlap {
			t.Errorf("overlap across instances: %v", errs)
		}

		// Closing what is not open, or changing an ended assignment.
		_, errs = imp(t, a, `{"kind":"assignment","resource":"eip-1","prefix":"198.18.0.7","from":"2026-01-01T00:00:00Z","to":"2026-02-01T00:00:00Z"}
{"kind":"assignment","resource":"eip-2","prefix":"198.18.0.9","from":"2026-01-01T00:00:00Z","to":"2026-02-01T00:00:00Z"}`)
		if len(errs) != 1 || errs[0].Line != 1 || errs[0].Field != "to" {
			t.Errorf("changing an ended assignment: %v", errs)
		}
	})
}

// A batch that opens and closes an assignment stores one closed assignment;
// a large batch makes the followers reload instead of replaying.
func TestBatchShapes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := t.Context()
		a, b := load(t, st), load(t, st)
		old := inventory.MaxLoggedLines
		inventory.MaxLoggedLines = 5
		t.Cleanup(func() { inventory.MaxLoggedLines = old })
		var lines strings.Builder
		lines.WriteString(`{"kind":"account","id":"acct-1","name":"One","email":"one@one.example"}
{"kind":"resource","id":"i-1","account":"acct-1","type":"instance","service":"EC2","region":"eu-west-3"}
{"kind":"assignment","resource":"i-1","prefix":"198.18.1.1","from":"2026-01-01T00:00:00Z"}
{"kind":"assignment","resource":"i-1","prefix":"198.18.1.1","from":"2026-01-01T00:00:00Z","to":"2026-01-02T00:00:00Z"}
`)
		for i := range 10 {
			fmt.Fprintf(&lines, `{"kind":"assignment","resource":"i-1","prefix":"198.18.2.%d","from":"2026-01-01T00:00:00Z"}`+"\n", i)
		}
		n, errs := imp(t, a, lines.String())
		if len(errs) > 0 || n.Assignments != 11 {
			t.Fatalf("%+v %v", n, errs)
		}
		var rows int
		st.R.QueryRowContext(ctx, "SELECT COUNT(*) FROM assignments WHERE prefix = '198.18.1.1/32' AND valid_to IS NOT NULL").Scan(&rows)
		if rows != 1 {
			t.Errorf("open then closed in one batch: %d closed rows, want 1", rows)
		}
		if err := b.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		ws := []want{
			{"198.18.1.1", "2026-01-01T12:00:00Z", attribution.Assigned, "i-1", "acct-1"},
			{"198.18.1.1", "2026-01-02T00:00:00Z", attribution.Unassigned, "", ""},
			{"198.18.2.9", "2026-06-01T00:00:00Z", attribution.Assigned, "i-1", "acct-1"},
		}
		// No address space imported: outside every assignment is not_ours.
		ws[1].verdict = attribution.NotOurs
		check(t, "writer", a.Attributor(), ws...)
		check(t, "follower (reloaded)", b.Attributor(), ws...)
	})
}

// A whole inventory streamed in chunks: line numbers stay those of the
// file, a chunk sees what earlier chunks stored, the large chunks take the
// batched insert, and a follower reloads once for them all.
func TestImportStream(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := t.Context()
		a, b := load(t, st), load(t, st)
		old := inventory.ChunkLines
		oldLogged := inventory.MaxLoggedLines
		inventory.ChunkLines, inventory.MaxLoggedLines = 3000, 1000
		t.Cleanup(func() { inventory.ChunkLines, inventory.MaxLoggedLines = old, oldLogged })
		var f strings.Builder
		f.WriteString(`{"kind":"account","id":"acct-1","name":"One","email":"one@one.example"}
{"kind":"resource","id":"i-1","account":"acct-1","type":"instance","service":"EC2","region":"eu-west-3"}
`)
		for i := range 5000 { // lines 3..5002
			fmt.Fprintf(&f, `{"kind":"assignment","resource":"i-1","prefix":"100.64.%d.%d","from":"2026-01-01T00:00:00Z"}`+"\n", i/256, i%256)
		}
		f.WriteString(`{"kind":"assignment","resource":"i-1","prefix":"100.64.0.5","from":"2026-02-01T00:00:00Z"}
not json
{"kind":"resource","id":"i-2","account":"acct-1","type":"instance","service":"EC2","region":"eu-west-3"}
{"kind":"assignment","resource":"i-2","prefix":"100.65.0.0/24","from":"2026-01-01T00:00:00Z"}
`)
		n, errs, err := a.ImportStream(ctx, strings.NewReader(f.String()))
		if err != nil {
			t.Fatal(err)
		}
		if n.Assignments != 5001 || n.Resources != 2 || len(errs) != 2 || errs[0].Line != 5003 || errs[0].Code != attribution.CodeOverlap || errs[1].Line != 5004 {
			t.Fatalf("counts %+v errors %v", n, errs)
		}
		var rows int
		st.R.QueryRowContext(ctx, "SELECT COUNT(*) FROM assignments").Scan(&rows)
		if rows != 5001 {
			t.Errorf("%d assignments stored, want 5001", rows)
		}
		if err := b.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		for name, k := range map[string]*inventory.Keeper{"writer": a, "follower": b, "restart": load(t, st)} {
			check(t, name, k.Attributor(),
				want{"100.64.19.135", "2026-03-01T00:00:00Z", attribution.Assigned, "i-1", "acct-1"},
				want{"100.65.0.77", "2026-03-01T00:00:00Z", attribution.Assigned, "i-2", "acct-1"},
				want{"100.64.0.5", "2025-12-01T00:00:00Z", attribution.NotOurs, "", ""})
		}
	})
}
