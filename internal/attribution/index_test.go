package attribution

import (
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }

// The issue's example: 203.0.113.7 held by one resource from 2026-01-01 to
// 2026-03-01; the /24 around it held by another over a longer time.
var issueExample = []Assignment{
	{Prefix: pfx("203.0.113.7/32"), From: ts("2026-01-01T00:00:00Z"), To: ts("2026-03-01T00:00:00Z"), Resource: 1},
	{Prefix: pfx("203.0.113.0/24"), From: ts("2025-01-01T00:00:00Z"), Resource: 2},
	{Prefix: pfx("2001:db8::/32"), From: ts("2025-06-01T00:00:00Z"), To: ts("2027-01-01T00:00:00Z"), Resource: 3},
	{Prefix: pfx("2001:db8::1/128"), From: ts("2026-01-01T00:00:00Z"), Resource: 4},
	{Prefix: pfx("2001:db8::/48"), From: ts("2026-02-01T00:00:00Z"), To: ts("2026-02-02T00:00:00Z"), Resource: 5},
	{Prefix: pfx("198.18.0.0/15"), Resource: 6}, // since always, open
}

func TestIssueExamples(t *testing.T) {
	ix, conflicts := Build(issueExample)
	if len(conflicts) != 0 {
		t.Fatalf("conflicts: %+v", conflicts)
	}
	if ix.Len() != len(issueExample) {
		t.Fatalf("Len = %d", ix.Len())
	}
	tests := []struct {
		addr, at string
		res      uint32
		prefix   string // "" = not held
	}{
		{"203.0.113.7", "2026-03-02T10:00:00+01:00", 2, "203.0.113.0/24"}, // the /24 holder, not the /32's former one
		{"203.0.113.7", "2026-02-15T12:00:00Z", 1, "203.0.113.7/32"},
		{"203.0.113.7", "2026-01-01T00:00:00Z", 1, "203.0.113.7/32"},      // at from: held
		{"203.0.113.7", "2025-12-31T23:59:59Z", 2, "203.0.113.0/24"},      // a second before
		{"203.0.113.7", "2026-03-01T00:00:00Z", 2, "203.0.113.0/24"},      // at to: no longer
		{"203.0.113.7", "2026-03-01T00:59:59+01:00", 1, "203.0.113.7/32"}, // a second before to, other zone
		{"203.0.113.7", "2026-03-01T00:00:00.999Z", 2, "203.0.113.0/24"},
		{"203.0.113.7", "2026-02-28T23:59:59.999Z", 1, "203.0.113.7/32"}, // floored to the second
		{"::ffff:203.0.113.7", "2026-02-15T12:00:00Z", 1, "203.0.113.7/32"},
		{"::ffff:203.0.113.7", "2026-03-02T10:00:00+01:00", 2, "203.0.113.0/24"},
		{"203.0.113.8", "2026-02-15T12:00:00Z", 2, "203.0.113.0/24"},
		{"203.0.113.7", "2024-12-31T23:59:59Z", 0, ""}, // before anything
		{"203.0.114.1", "2026-02-15T12:00:00Z", 0, ""}, // outside
		{"2001:db8::1", "2026-01-01T00:00:00Z", 4, "2001:db8::1/128"},
		{"2001:db8::1%eth0", "2030-01-01T00:00:00Z", 4, "2001:db8::1/128"}, // zone ignored, still open
		{"2001:db8::1", "2025-12-31T23:59:59Z", 3, "2001:db8::/32"},
		{"2001:db8::2", "2026-02-01T10:00:00Z", 5, "2001:db8::/48"},
		{"2001:db8::2", "2026-02-02T00:00:00Z", 3, "2001:db8::/32"}, // /48 ended, /32 still
		{"2001:db8::2", "2027-01-01T00:00:00Z", 0, ""},
		{"2001:db9::", "2026-02-01T10:00:00Z", 0, ""},
		{"198.19.255.255", "1960-01-01T00:00:00Z", 6, "198.18.0.0/15"}, // since always
		{"198.18.0.0", "2300-01-01T00:00:00Z", 6, "198.18.0.0/15"},     // still open
		{"::ffff:198.18.0.1", "2026-01-01T00:00:00Z", 6, "198.18.0.0/15"},
		{"::198.18.0.1", "2026-01-01T00:00:00Z", 0, ""}, // IPv4-compatible is IPv6, not IPv4
	}
	for _, tc := range tests {
		addr := netip.MustParseAddr(tc.addr)
		res, p, ok := ix.Lookup(addr, ts(tc.at))
		want := Result{Resource: tc.res}
		if tc.prefix != "" {
			want.Prefix, want.OK = pfx(tc.prefix), true
		}
		if got := (Result{res, p, ok}); got != want {
			t.Errorf("Lookup(%s, %s) = %+v, want %+v", tc.addr, tc.at, got, want)
		}
		out := make([]Result, 1)
		ix.LookupBatch([]netip.Addr{addr}, []time.Time{ts(tc.at)}, out)
		if out[0] != want {
			t.Errorf("LookupBatch(%s, %s) = %+v, want %+v", tc.addr, tc.at, out[0], want)
		}
	}
	if _, _, ok := ix.Lookup(netip.Addr{}, ts("2026-01-01T00:00:00Z")); ok {
		t.Error("zero Addr found")
	}
}

func TestBuildConflicts(t *testing.T) {
	as := []Assignment{
		0: {Prefix: pfx("203.0.113.7/32"), From: ts("2026-01-01T00:00:00Z"), To: ts("2026-03-01T00:00:00Z"), Resource: 1},
		1: {Prefix: pfx("203.0.113.0/24"), From: ts("2025-01-01T00:00:00Z"), Resource: 2},                                         // nested: fine
		2: {Prefix: pfx("::ffff:203.0.113.7/128"), From: ts("2026-02-28T00:00:00Z"), To: ts("2026-04-01T00:00:00Z"), Resource: 3}, // same /32, overlaps 0
		3: {Prefix: pfx("203.0.113.7/32"), From: ts("2026-03-01T00:00:00Z"), Resource: 4},                                         // starts at 0's to: fine, overlaps 2
		4: {Prefix: pfx("203.0.113.9/24"), From: ts("2024-01-01T00:00:00Z"), To: ts("2025-01-01T00:00:01Z"), Resource: 5},         // = 1 (host bits masked), overlaps by a second
		5: {Prefix: pfx("10.0.0.0/8"), From: ts("2026-01-01T00:00:00Z"), To: ts("2026-01-01T00:00:00Z")},                          // empty
		6: {Prefix: netip.Prefix{}, From: ts("2026-01-01T00:00:00Z")},                                                             // invalid prefix
		7: {Prefix: pfx("10.0.0.0/8"), From: ts("1969-12-31T23:59:59Z")},                                                          // before 1970
		8: {Prefix: pfx("10.0.0.0/8"), From: ts("2026-01-01T00:00:00Z"), To: ts("2026-01-01T00:00:00.5Z")},                        // empty at 1 s
		9: {Prefix: pfx("2001:db8::/48"), From: ts("2026-01-01T00:00:00Z"), Resource: 9},                                          // alone: fine
	}
	ix, conflicts := Build(as)
	want := []Conflict{
		{A: 0, B: 2}, {A: 1, B: 4}, {A: 2, B: 3}, {A: 5, B: -1}, {A: 6, B: -1}, {A: 7, B: -1}, {A: 8, B: -1},
	}
	if len(conflicts) != len(want) {
		t.Fatalf("conflicts = %+v, want pairs %+v", conflicts, want)
	}
	for i, c := range conflicts {
		if c.A != want[i].A || c.B != want[i].B || c.Reason == "" {
			t.Errorf("conflict %d = %+v, want %+v", i, c, want[i])
		}
	}
	if ix.Len() != 1 {
		t.Errorf("Len = %d, want 1 (only input 9 is clean)", ix.Len())
	}
	// Conflicting inputs are left out: nothing answers for 203.0.113.7 now.
	if res, p, ok := ix.Lookup(netip.MustParseAddr("203.0.113.7"), ts("2026-02-15T00:00:00Z")); ok {
		t.Errorf("conflicting input answered: %d %v", res, p)
	}
	if res, _, ok := ix.Lookup(netip.MustParseAddr("2001:db8::5"), ts("2026-02-15T00:00:00Z")); !ok || res != 9 {
		t.Errorf("clean input lost: %d %v", res, ok)
	}
}

func TestEmptyIndex(t *testing.T) {
	ix, c := Build(nil)
	if len(c) != 0 || ix.Len() != 0 {
		t.Fatal(c, ix.Len())
	}
	if _, _, ok := ix.Lookup(netip.MustParseAddr("10.0.0.1"), time.Now()); ok {
		t.Fatal("found in empty index")
	}
	out := make([]Result, 2)
	ix.LookupBatch([]netip.Addr{netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("::1")}, []time.Time{time.Now(), time.Now()}, out)
	if out[0].OK || out[1].OK {
		t.Fatal(out)
	}
}

func TestAssignmentsRoundTrip(t *testing.T) {
	ix, _ := Build(issueExample)
	again, c := Build(ix.Assignments())
	if len(c) != 0 || again.Len() != ix.Len() {
		t.Fatalf("%+v %d", c, again.Len())
	}
	for _, a := range issueExample {
		for _, at := range []time.Time{a.From, a.From.Add(-time.Second), a.To, a.To.Add(-time.Second)} {
			r1, p1, ok1 := ix.Lookup(a.Prefix.Addr(), at)
			r2, p2, ok2 := again.Lookup(a.Prefix.Addr(), at)
			if r1 != r2 || p1 != p2 || ok1 != ok2 {
				t.Errorf("%v at %v: %d %v %v vs %d %v %v", a.Prefix, at, r1, p1, ok1, r2, p2, ok2)
			}
		}
	}
}

func TestLiveReassignment(t *testing.T) {
	ix, _ := Build(issueExample)
	l := NewLive(ix)
	a := netip.MustParseAddr("2001:db8::1")
	// i-new takes 2001:db8::1 at T; the old holder (resource 4) is closed at T.
	T := ts("2026-05-01T00:00:00Z")
	c := l.Apply(
		[]Assignment{{Prefix: pfx("2001:db8::1/128"), From: T, Resource: 40}},
		[]Close{{Prefix: pfx("2001:db8::1/128"), From: ts("2026-01-01T00:00:00Z"), To: T}},
	)
	if len(c) != 0 {
		t.Fatalf("conflicts %+v", c)
	}
	cur := l.Load()
	for _, tc := range []struct {
		at  time.Time
		res uint32
	}{{T.Add(-time.Second), 4}, {T, 40}, {ts("2030-01-01T00:00:00Z"), 40}} {
		if res, _, ok := cur.Lookup(a, tc.at); !ok || res != tc.res {
			t.Errorf("at %v: %d %v, want %d", tc.at, res, ok, tc.res)
		}
	}
	if cur.Len() != ix.Len()+1 {
		t.Errorf("Len %d, want %d", cur.Len(), ix.Len()+1)
	}
	// The old index is unchanged.
	if res, _, _ := ix.Lookup(a, ts("2030-01-01T00:00:00Z")); res != 4 {
		t.Errorf("old snapshot changed: %d", res)
	}
	// Overlap and unknown close are rejected.
	c = l.Apply(
		[]Assignment{{Prefix: pfx("2001:db8::1/128"), From: ts("2026-06-01T00:00:00Z"), Resource: 41}},
		[]Close{{Prefix: pfx("10.9.9.9/32"), From: T, To: T.Add(time.Hour)}},
	)
	if len(c) != 2 || c[0].A != 1 || c[1].A != 0 || c[1].B != -1 {
		t.Errorf("conflicts %+v", c)
	}
}

// TestLiveConcurrent runs readers during Apply calls (meant for -race): every
// reader sees either the state before or after each Apply, never a mix, and
// an Apply's result is visible as soon as it returns.
func TestLiveConcurrent(t *testing.T) {
	base := make([]Assignment, 0, 2000)
	t0 := ts("2026-01-01T00:00:00Z")
	for i := range 1000 {
		a := netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
		base = append(base, Assignment{Prefix: netip.PrefixFrom(a, 32), From: t0, Resource: uint32(i)})
	}
	base = append(base, Assignment{Prefix: pfx("10.0.0.0/16"), From: t0, Resource: 99999})
	ix, _ := Build(base)
	l := NewLive(ix)
	l.MaxDelta = 50 // merges happen during the test too

	var stop atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for r := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			addrs := make([]netip.Addr, 64)
			tt := make([]time.Time, 64)
			out := make([]Result, 64)
			for n := 0; !stop.Load(); n++ {
				cur := l.Load()
				for k := range addrs {
					addrs[k] = netip.AddrFrom4([4]byte{10, 0, byte((n + k + r) >> 8 & 3), byte(n + k)})
					tt[k] = t0.Add(time.Duration(n%500) * time.Hour)
				}
				cur.LookupBatch(addrs, tt, out)
				for k := range addrs {
					res, p, ok := cur.Lookup(addrs[k], tt[k])
					if !ok || out[k] != (Result{res, p, ok}) {
						select {
						case errs <- "inconsistent answer":
						default:
						}
						return
					}
				}
			}
		}()
	}
	// Writer: move addresses to new resources one hour at a time.
	for step := range 200 {
		i := step % 1000
		a := netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
		T := t0.Add(time.Duration(step+1) * time.Hour)
		prevFrom := t0
		if step >= 1000 {
			prevFrom = T.Add(-1000 * time.Hour)
		}
		c := l.Apply(
			[]Assignment{{Prefix: netip.PrefixFrom(a, 32), From: T, Resource: uint32(100000 + step)}},
			[]Close{{Prefix: netip.PrefixFrom(a, 32), From: prevFrom, To: T}},
		)
		if len(c) != 0 {
			t.Fatalf("step %d: %+v", step, c)
		}
		// Visible as soon as Apply returns.
		if res, _, ok := l.Load().Lookup(a, T); !ok || res != uint32(100000+step) {
			t.Fatalf("step %d: not visible: %d %v", step, res, ok)
		}
		if res, _, ok := l.Load().Lookup(a, T.Add(-time.Second)); !ok || res != uint32(i) {
			t.Fatalf("step %d: history lost: %d %v", step, res, ok)
		}
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if got, want := l.Load().Len(), len(base)+200; got != want {
		t.Errorf("Len %d, want %d", got, want)
	}
}

// TestFallbackChains checks the flattened fallback lists against the model
// on nested prefixes with fragmented histories, with the lists kept, partly
// kept and not kept (lookups then climb the parent links).
func TestFallbackChains(t *testing.T) {
	var as []Assignment
	res := uint32(1)
	add := func(p string, spans ...[2]int) {
		for _, s := range spans {
			a := Assignment{Prefix: pfx(p), From: t0.Add(time.Duration(s[0]) * time.Hour), Resource: res}
			if s[1] > 0 {
				a.To = t0.Add(time.Duration(s[1]) * time.Hour)
			}
			as = append(as, a)
			res++
		}
	}
	add("10.0.0.0/8", [2]int{0, 10}, [2]int{20, 30}, [2]int{40, 0})
	add("10.1.0.0/16", [2]int{5, 12}, [2]int{25, 45})
	add("10.1.2.0/24", [2]int{1, 2}, [2]int{8, 22}, [2]int{28, 29}, [2]int{50, 60})
	add("10.1.2.0/28", [2]int{3, 4}, [2]int{21, 26})
	add("10.1.2.3/32", [2]int{0, 1}, [2]int{23, 24})
	add("2001:db8::/32", [2]int{0, 0})
	add("2001:db8:1::/48", [2]int{10, 20})
	add("2001:db8:1::/64", [2]int{15, 30})
	add("2001:db8:1::1/128", [2]int{16, 17})
	var addrs []netip.Addr
	var times []time.Time
	for _, a := range []string{"10.1.2.3", "10.1.2.4", "10.1.2.200", "10.1.3.1", "10.2.0.0", "11.0.0.0", "2001:db8:1::1", "2001:db8:1::2", "2001:db8:1:1::", "2001:db8:2::", "2001:db9::"} {
		for h := -1; h <= 62; h++ {
			addrs = append(addrs, netip.MustParseAddr(a))
			times = append(times, t0.Add(time.Duration(h)*time.Hour))
		}
	}
	for _, slack := range []int{effSlack, 0, -1 << 20} {
		t.Run(fmt.Sprint("slack", slack), func(t *testing.T) {
			defer func(s int) { effSlack = s }(effSlack)
			effSlack = slack
			ix, conflicts := Build(as)
			if len(conflicts) != 0 {
				t.Fatal(conflicts)
			}
			out := make([]Result, len(addrs))
			ix.LookupBatch(addrs, times, out)
			for q := range addrs {
				wr, wp, wok := modelLookup(as, nil, addrs[q], times[q])
				want := Result{Resource: wr, Prefix: wp, OK: wok}
				r, p, ok := ix.Lookup(addrs[q], times[q])
				if got := (Result{r, p, ok}); got != want || out[q] != want {
					t.Fatalf("(%v, %v): Lookup %+v, LookupBatch %+v, model %+v", addrs[q], times[q], got, out[q], want)
				}
			}
		})
	}
}

// TestLookupBatchAllocs guards the key extraction (addrKey relies on
// AsSlice being inlined and its array staying on the stack).
func TestLookupBatchAllocs(t *testing.T) {
	ix, _ := Build(issueExample)
	addrs := []netip.Addr{netip.MustParseAddr("203.0.113.7"), netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2%eth0"), {}}
	times := make([]time.Time, len(addrs))
	for i := range times {
		times[i] = ts("2026-02-01T10:00:00Z")
	}
	out := make([]Result, len(addrs))
	if n := testing.AllocsPerRun(100, func() { ix.LookupBatch(addrs, times, out) }); n != 0 {
		t.Errorf("LookupBatch allocates %v times per call", n)
	}
	if n := testing.AllocsPerRun(100, func() { ix.Lookup(addrs[1], times[1]) }); n != 0 {
		t.Errorf("Lookup allocates %v times per call", n)
	}
}
