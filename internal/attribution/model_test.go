package attribution

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// The model: a linear scan over the assignments, written from the issue's
// words with netip only (no code shared with the index).

// modelNorm normalises a prefix the way the issue says: zone stripped,
// IPv4-mapped IPv6 (::ffff:a.b.c.d) treated as IPv4, host bits masked.
func modelNorm(p netip.Prefix) netip.Prefix {
	a := p.Addr().WithZone("")
	bits := p.Bits()
	if a.Is4In6() && bits >= 96 {
		a, bits = a.Unmap(), bits-96
	}
	return netip.PrefixFrom(a, bits).Masked()
}

func modelValid(a Assignment) bool {
	if !a.Prefix.IsValid() {
		return false
	}
	return a.To.IsZero() || a.From.IsZero() || a.To.Unix() > a.From.Unix()
}

// modelHeld: was [From, To) valid at t (zero From: since always, zero To: open)?
// Times are whole seconds in the generators; t is floored like the index does.
func modelHeld(a Assignment, t time.Time) bool {
	ts := t.Unix()
	if !a.From.IsZero() && ts < a.From.Unix() {
		return false
	}
	return a.To.IsZero() || ts < a.To.Unix()
}

func modelOverlap(a, b Assignment) bool {
	// a.from < b.to && b.from < a.to with -inf/+inf for zero times
	lt := func(from, to time.Time) bool {
		if from.IsZero() || to.IsZero() {
			return true
		}
		return from.Unix() < to.Unix()
	}
	return lt(a.From, b.To) && lt(b.From, a.To)
}

// modelBad returns, per input, whether Build must leave it out: invalid, or
// overlapping another valid input of the same prefix.
func modelBad(as []Assignment) []bool {
	bad := make([]bool, len(as))
	for i := range as {
		if !modelValid(as[i]) {
			bad[i] = true
		}
	}
	for i := range as {
		for j := i + 1; j < len(as); j++ {
			if !modelValid(as[i]) || !modelValid(as[j]) {
				continue
			}
			if modelNorm(as[i].Prefix) == modelNorm(as[j].Prefix) && modelOverlap(as[i], as[j]) {
				bad[i], bad[j] = true, true
			}
		}
	}
	return bad
}

func modelLookup(as []Assignment, bad []bool, addr netip.Addr, t time.Time) (uint32, netip.Prefix, bool) {
	addr = addr.WithZone("").Unmap()
	best := -1
	for i, a := range as {
		if bad != nil && bad[i] {
			continue
		}
		p := modelNorm(a.Prefix)
		if !p.Contains(addr) || !modelHeld(a, t) {
			continue
		}
		if best < 0 || p.Bits() > modelNorm(as[best].Prefix).Bits() {
			best = i
		}
	}
	if best < 0 {
		return 0, netip.Prefix{}, false
	}
	return as[best].Resource, modelNorm(as[best].Prefix), true
}

// Generators: a few nearby base addresses so prefixes nest, lengths from /0
// to host routes, times on a small grid so boundaries collide.

var (
	base4 = []string{"10.0.0.0", "10.0.0.1", "10.0.0.7", "10.0.1.5", "10.1.0.0", "192.0.2.1", "0.0.0.0", "255.255.255.255"}
	base6 = []string{"2001:db8::", "2001:db8::1", "2001:db8::7", "2001:db8:0:1::5", "2001:db8:1::", "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::fffe:0:1"}
	len4  = []int{0, 1, 8, 16, 24, 29, 31, 32, 32, 32}
	len6  = []int{0, 1, 32, 48, 64, 96, 120, 127, 128, 128, 128}
	t0    = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
)

func genAddr(t *rapid.T, label string) netip.Addr {
	if rapid.Bool().Draw(t, label+"v4") {
		a := netip.MustParseAddr(rapid.SampledFrom(base4).Draw(t, label+"a4"))
		if rapid.IntRange(0, 3).Draw(t, label+"near") == 0 {
			a = a.Next()
			if !a.IsValid() {
				a = netip.MustParseAddr("10.0.0.2")
			}
		}
		return a
	}
	a := netip.MustParseAddr(rapid.SampledFrom(base6).Draw(t, label+"a6"))
	if rapid.IntRange(0, 3).Draw(t, label+"near") == 0 {
		a = a.Next()
		if !a.IsValid() {
			a = netip.MustParseAddr("2001:db8::2")
		}
	}
	return a
}

func genPrefix(t *rapid.T) netip.Prefix {
	a := genAddr(t, "p")
	var bits int
	if a.Is4() {
		bits = rapid.SampledFrom(len4).Draw(t, "len4")
		if rapid.IntRange(0, 4).Draw(t, "mapped") == 0 {
			// the same prefix written as IPv4-mapped IPv6
			return netip.PrefixFrom(netip.AddrFrom16(a.As16()), bits+96)
		}
	} else {
		bits = rapid.SampledFrom(len6).Draw(t, "len6")
	}
	p := netip.PrefixFrom(a, bits)
	if rapid.Bool().Draw(t, "masked") {
		p = p.Masked()
	}
	return p
}

func genTime(t *rapid.T, label string) time.Time {
	return t0.Add(time.Duration(rapid.IntRange(0, 12).Draw(t, label)) * time.Hour)
}

func genAssignment(t *rapid.T) Assignment {
	a := Assignment{Prefix: genPrefix(t), Resource: uint32(rapid.IntRange(1, 50).Draw(t, "res"))}
	if rapid.IntRange(0, 9).Draw(t, "since") > 0 {
		a.From = genTime(t, "from")
	}
	switch rapid.IntRange(0, 9).Draw(t, "toKind") {
	case 0, 1, 2: // open
	case 3: // possibly empty or reversed: invalid
		a.To = genTime(t, "to")
	default:
		from := a.From
		if from.IsZero() {
			from = t0
		}
		a.To = from.Add(time.Duration(rapid.IntRange(1, 6).Draw(t, "dur")) * time.Hour)
	}
	return a
}

func lookupAddrVariant(t *rapid.T, a netip.Addr) netip.Addr {
	switch rapid.IntRange(0, 5).Draw(t, "variant") {
	case 0:
		if a.Is4() {
			return netip.AddrFrom16(a.As16()) // ::ffff:a.b.c.d
		}
	case 1:
		if a.Is6() {
			return a.WithZone("eth0")
		}
	}
	return a
}

func lookupTime(t *rapid.T, as []Assignment) time.Time {
	switch rapid.IntRange(0, 4).Draw(t, "tkind") {
	case 0, 1:
		if len(as) > 0 {
			a := as[rapid.IntRange(0, len(as)-1).Draw(t, "tof")]
			var b time.Time
			if rapid.Bool().Draw(t, "atTo") && !a.To.IsZero() {
				b = a.To
			} else if !a.From.IsZero() {
				b = a.From
			} else {
				b = t0
			}
			switch rapid.IntRange(0, 3).Draw(t, "delta") {
			case 0:
				return b.Add(-time.Second)
			case 1:
				return b.Add(time.Second)
			case 2:
				return b.Add(-time.Millisecond) // floor: the second before
			}
			return b.In(time.FixedZone("", 3600))
		}
	case 2:
		return t0.Add(-time.Duration(rapid.IntRange(1, 100000).Draw(t, "before")) * time.Hour)
	case 3:
		return t0.Add(time.Duration(rapid.IntRange(13, 100000).Draw(t, "after")) * time.Hour)
	}
	return genTime(t, "tgrid").Add(time.Duration(rapid.IntRange(0, 3599).Draw(t, "sec")) * time.Second)
}

func checkAgainstModel(t *rapid.T, ix *Index, as []Assignment, bad []bool, nq int) {
	addrs := make([]netip.Addr, nq)
	ts := make([]time.Time, nq)
	for q := range nq {
		addrs[q] = lookupAddrVariant(t, genAddr(t, "q"))
		if rapid.IntRange(0, 49).Draw(t, "invalid") == 0 {
			addrs[q] = netip.Addr{}
		}
		ts[q] = lookupTime(t, as)
	}
	out := make([]Result, nq)
	ix.LookupBatch(addrs, ts, out)
	for q := range nq {
		wr, wp, wok := modelLookup(as, bad, addrs[q], ts[q])
		r, p, ok := ix.Lookup(addrs[q], ts[q])
		if r != wr || p != wp || ok != wok {
			t.Fatalf("Lookup(%v, %v) = %d %v %v, model %d %v %v", addrs[q], ts[q], r, p, ok, wr, wp, wok)
		}
		if out[q] != (Result{Resource: wr, Prefix: wp, OK: wok}) {
			t.Fatalf("LookupBatch[%d](%v, %v) = %+v, model %d %v %v", q, addrs[q], ts[q], out[q], wr, wp, wok)
		}
	}
}

func TestModelBuild(t *testing.T) { rapid.Check(t, modelBuild) }

// TestModelBuildFirstLevel runs the model with the IPv4 first-level table
// and directory that large indexes get.
func TestModelBuildFirstLevel(t *testing.T) {
	defer func(m, d int) { t4Min, dirMin = m, d }(t4Min, dirMin)
	t4Min, dirMin = 0, 0
	rapid.Check(t, modelBuild)
}

// TestModelBuildClimb runs the model with most flattened fallback lists not
// kept, so that lookups climb the parent links (as for deep chains of
// fragmented histories).
func TestModelBuildClimb(t *testing.T) {
	defer func(s int) { effSlack = s }(effSlack)
	effSlack = 0
	rapid.Check(t, modelBuild)
}

func modelBuild(t *rapid.T) {
	{
		as := rapid.SliceOfN(rapid.Custom(genAssignment), 0, 40).Draw(t, "assignments")
		ix, conflicts := Build(as)
		bad := modelBad(as)

		// Conflicts: every reported input is bad, every bad input is reported,
		// every reported pair is a real same-prefix overlap.
		reported := make([]bool, len(as))
		for _, c := range conflicts {
			if c.A < 0 || c.A >= len(as) || c.B >= len(as) || (c.B >= 0 && c.B <= c.A) {
				t.Fatalf("conflict indexes out of range: %+v", c)
			}
			reported[c.A] = true
			if c.B < 0 {
				if modelValid(as[c.A]) {
					t.Fatalf("input %d reported invalid (%s) but is valid: %+v", c.A, c.Reason, as[c.A])
				}
				continue
			}
			reported[c.B] = true
			a, b := as[c.A], as[c.B]
			if modelNorm(a.Prefix) != modelNorm(b.Prefix) || !modelOverlap(a, b) {
				t.Fatalf("reported pair is not an overlap of the same prefix: %+v / %+v", a, b)
			}
		}
		live := 0
		for i := range as {
			if reported[i] != bad[i] {
				t.Fatalf("input %d: reported=%v, model says left out=%v: %+v (conflicts %+v)", i, reported[i], bad[i], as[i], conflicts)
			}
			if !bad[i] {
				live++
			}
		}
		if ix.Len() != live {
			t.Fatalf("Len = %d, want %d", ix.Len(), live)
		}
		checkAgainstModel(t, ix, as, bad, 150) // more than one LookupBatch group
	}
}

// TestModelLive drives a Live index with random Apply calls (tiny MaxDelta so
// the overlay and the merges both run) against the model with Apply's
// sequential semantics.
func TestModelLive(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		init := rapid.SliceOfN(rapid.Custom(genAssignment), 0, 15).Draw(t, "init")
		ix, _ := Build(init)
		bad := modelBad(init)
		var model []Assignment
		for i, a := range init {
			if !bad[i] {
				model = append(model, a)
			}
		}
		l := NewLive(ix)
		l.MaxDelta = rapid.IntRange(1, 6).Draw(t, "maxDelta")
		steps := rapid.IntRange(1, 8).Draw(t, "steps")
		for range steps {
			add := rapid.SliceOfN(rapid.Custom(genAssignment), 0, 4).Draw(t, "add")
			var closes []Close
			for range rapid.IntRange(0, 3).Draw(t, "ncloses") {
				c := Close{To: genTime(t, "closeTo")}
				if len(model) > 0 && rapid.IntRange(0, 3).Draw(t, "closeReal") > 0 {
					m := model[rapid.IntRange(0, len(model)-1).Draw(t, "closeOf")]
					c.Prefix, c.From = m.Prefix, m.From
				} else {
					g := genAssignment(t)
					c.Prefix, c.From = g.Prefix, g.From
				}
				closes = append(closes, c)
			}
			// model Apply
			var wantBad []int
			for j, c := range closes {
				ok := false
				for m := range model {
					a := &model[m]
					if modelNorm(a.Prefix) == modelNorm(c.Prefix) && a.From.Unix() == c.From.Unix() && a.From.IsZero() == c.From.IsZero() && a.To.IsZero() {
						if a.From.IsZero() || c.To.Unix() > a.From.Unix() {
							a.To = c.To
							ok = true
						}
						break
					}
				}
				if !ok {
					wantBad = append(wantBad, len(add)+j)
				}
			}
			for i, a := range add {
				ok := modelValid(a)
				for _, m := range model {
					if ok && modelNorm(m.Prefix) == modelNorm(a.Prefix) && modelOverlap(m, a) {
						ok = false
					}
				}
				if ok {
					model = append(model, a)
				} else {
					wantBad = append(wantBad, i)
				}
			}
			conflicts := l.Apply(add, closes)
			var gotBad []int
			for _, c := range conflicts {
				gotBad = append(gotBad, c.A)
			}
			slices.Sort(gotBad)
			slices.Sort(wantBad)
			if !slices.Equal(gotBad, wantBad) {
				t.Fatalf("Apply conflicts %+v, model rejects %v", conflicts, wantBad)
			}
			cur := l.Load()
			if cur.Len() != len(model) {
				t.Fatalf("Len = %d, model %d", cur.Len(), len(model))
			}
			checkAgainstModel(t, cur, model, nil, 100)
		}
	})
}

func ExampleIndex_Lookup() {
	ix, _ := Build([]Assignment{
		{Prefix: netip.MustParsePrefix("203.0.113.7/32"), From: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), Resource: 1},
		{Prefix: netip.MustParsePrefix("203.0.113.0/24"), From: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), Resource: 2},
	})
	res, p, ok := ix.Lookup(netip.MustParseAddr("203.0.113.7"), time.Date(2026, 3, 2, 10, 0, 0, 0, time.FixedZone("", 3600)))
	fmt.Println(res, p, ok)
	// Output: 2 203.0.113.0/24 true
}
