package demodata

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"abusedesk/internal/attribution"
)

var testNow = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

func small(seed uint64) Config {
	return Config{Seed: seed, Addresses: 3000, Intervals: 4, Wider: 400, Hosts: 240, Now: testNow}
}

// built is a provider's files read back by the parsers and indexed, as the
// desk does.
type built struct {
	p             *Provider
	attr          *attribution.Attributor
	inv           *attribution.Inventory
	ranges, lines []byte
}

func build(t *testing.T, cfg Config) *built {
	t.Helper()
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var rb, ib bytes.Buffer
	if err := p.WriteRanges(&rb); err != nil {
		t.Fatal(err)
	}
	if err := p.WriteInventory(&ib); err != nil {
		t.Fatal(err)
	}
	b := &built{p: p, ranges: rb.Bytes(), lines: ib.Bytes()}

	space, errs, err := attribution.ParseRanges(bytes.NewReader(b.ranges))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range errs {
		t.Errorf("ranges: %s: %s", e.Field, e.Message)
	}
	inv, lerrs, err := attribution.ParseInventory(bytes.NewReader(b.lines))
	if err != nil {
		t.Fatal(err)
	}
	lerrs = append(lerrs, inv.Validate(attribution.Known{})...)
	for i, e := range lerrs {
		if i == 10 {
			t.Fatalf("… %d line errors", len(lerrs))
		}
		t.Errorf("inventory: %v", e)
	}
	b.inv = inv

	handles := map[string]uint32{}
	var infos []attribution.ResourceInfo
	for _, r := range inv.Resources {
		handles[r.ID] = uint32(len(infos))
		infos = append(infos, attribution.ResourceInfo{ID: r.ID, Type: r.Type, Service: r.Service, Region: r.Region, Account: r.Account})
	}
	handle := func(id string) (uint32, bool) { h, ok := handles[id]; return h, ok }
	as, alines, aerrs := inv.AssignmentsFor(handle)
	hs, hlines, herrs := inv.HostAssignmentsFor(handle)
	for _, e := range append(aerrs, herrs...) {
		t.Errorf("inventory: %v", e)
	}
	ix, cs := attribution.Build(as)
	for i, e := range attribution.ConflictLineErrors(cs, alines, "prefix") {
		if i == 10 {
			t.Fatalf("… %d conflicts", len(cs))
		}
		t.Errorf("assignments: %v", e)
	}
	hx, hcs := attribution.BuildHosts(hs)
	for _, e := range attribution.ConflictLineErrors(hcs, hlines, "host") {
		t.Errorf("host names: %v", e)
	}
	b.attr = &attribution.Attributor{Space: space, Index: ix, Hosts: hx, Resources: infos}

	st := p.Stats()
	got := Stats{Prefixes: space.Len(), RangeEntries: st.RangeEntries, Accounts: len(inv.Accounts), Resources: len(inv.Resources),
		Assignments: len(inv.Assignments), Wider: st.Wider, Hostnames: len(inv.Hostnames)}
	if got != st {
		t.Errorf("files hold %+v, Stats says %+v", got, st)
	}
	return b
}

func TestFilesParseIndexAndMatchProbes(t *testing.T) {
	b := build(t, small(7))
	p := b.p
	if n := p.Stats().Assignments; n != 3000*4+400 {
		t.Errorf("%d assignments, want %d", n, 3000*4+400)
	}

	probes := p.Probes(3000)
	kinds := map[ProbeKind]int{}
	v6 := 0
	coveredBy := map[int]int{} // prefix length of the covering prefix that decided
	for i, pr := range probes {
		kinds[pr.Kind]++
		if pr.Kind == ProbeCovered {
			coveredBy[netip.MustParsePrefix(pr.Matched).Bits()]++
		}
		if pr.Time.After(testNow) || pr.Time.Before(testNow.Add(-p.Config().Span)) {
			t.Errorf("probe %d: time %v outside the history", i, pr.Time)
		}
		checkProbe(t, b.attr, i, pr)
		if pr.Kind == ProbeAssigned && pr.Addr.Is6() {
			v6++
		}
		// Every time in the deciding hold gives the same answer.
		if pr.Kind == ProbeAssigned || pr.Kind == ProbeURL {
			edge := pr
			edge.Time = pr.HeldFrom
			checkProbe(t, b.attr, i, edge)
			if !pr.HeldUntil.IsZero() {
				edge.Time = pr.HeldUntil.Add(-time.Second)
				checkProbe(t, b.attr, i, edge)
			}
		}
	}
	for _, k := range []ProbeKind{ProbeAssigned, ProbeCovered, ProbeUnassigned, ProbeNotOurs, ProbeURL} {
		if kinds[k] < 3000/20 {
			t.Errorf("%d probes of kind %s", kinds[k], k)
		}
	}
	if v6 == 0 {
		t.Error("no IPv6 address among the assigned probes")
	}
	for _, bits := range []int{24, 28, 56, 64} {
		if coveredBy[bits] == 0 {
			t.Errorf("no covered probe decided by a /%d (%v)", bits, coveredBy)
		}
	}

	// Probe i does not depend on how many are asked for.
	first := p.Probes(25)
	for i := range first {
		if first[i] != probes[i] {
			t.Fatalf("Probes(25)[%d] = %+v, Probes(3000)[%d] = %+v", i, first[i], i, probes[i])
		}
	}

	before, after, ok := p.Reassignment()
	if !ok {
		t.Fatal("no reassignment found")
	}
	checkProbe(t, b.attr, -1, before)
	checkProbe(t, b.attr, -2, after)
	if before.Addr != after.Addr || before.Account == after.Account || !before.Time.Before(after.Time) {
		t.Errorf("not a reassignment: %+v then %+v", before, after)
	}
}

func checkProbe(t *testing.T, a *attribution.Attributor, i int, pr Probe) {
	t.Helper()
	var v attribution.Verdict
	if pr.Kind == ProbeURL {
		var ok bool
		if v, ok = a.URL(pr.URL, pr.Time); !ok {
			t.Errorf("probe %d: %q is not a URL", i, pr.URL)
			return
		}
	} else {
		v = a.Addr(pr.Addr, pr.Time)
	}
	want := attribution.Verdict{Verdict: pr.Verdict, Matched: pr.Matched}
	if pr.Verdict == attribution.Assigned {
		want.Resource, want.Account, want.Service = pr.Resource, pr.Account, pr.Service
	} else if pr.Verdict == attribution.Unassigned {
		want.Service = pr.Service
	}
	got := attribution.Verdict{Verdict: v.Verdict, Resource: v.Resource, Account: v.Account, Service: v.Service, Matched: v.Matched}
	if got != want {
		t.Errorf("probe %d (%s %v %s at %s): index says %+v, want %+v", i, pr.Kind, pr.Addr, pr.URL, pr.Time.Format(time.RFC3339), got, want)
	}
}

// TestHistoryShape checks what the demo promises beyond validity: holds
// that move between accounts, gaps, open holds, zero-gap reassignments,
// single addresses inside held wider prefixes, wildcards, French accounts.
func TestHistoryShape(t *testing.T) {
	b := build(t, small(11))
	acct := map[string]string{}
	for _, r := range b.inv.Resources {
		acct[r.ID] = r.Account
	}
	type hold struct {
		res      string
		from, to time.Time
	}
	byPrefix := map[string][]hold{}
	for _, a := range b.inv.Assignments {
		byPrefix[a.Prefix.String()] = append(byPrefix[a.Prefix.String()], hold{a.Resource, a.From, a.To})
	}
	var moved, gaps, zeroGaps, open, nested int
	for pf, hs := range byPrefix {
		for i := range hs {
			if hs[i].to.IsZero() {
				open++
			}
			if i == 0 {
				continue
			}
			switch d := hs[i].from.Sub(hs[i-1].to); {
			case d == 0:
				zeroGaps++
			case d > 0:
				gaps++
			default:
				t.Fatalf("%s: holds out of order: %+v", pf, hs)
			}
			if acct[hs[i].res] != acct[hs[i-1].res] {
				moved++
			}
		}
	}
	for _, a := range b.inv.Assignments {
		if a.Prefix.Bits() != a.Prefix.Addr().BitLen() {
			continue
		}
		for bits := a.Prefix.Bits() - 1; bits >= a.Prefix.Bits()-72 && bits > 0; bits-- {
			if up, _ := a.Prefix.Addr().Prefix(bits); len(byPrefix[up.String()]) > 0 {
				nested++
				break
			}
		}
	}
	wild, fr := 0, 0
	for _, h := range b.inv.Hostnames {
		if strings.HasPrefix(h.Host, "*.") {
			wild++
		}
	}
	for _, a := range b.inv.Accounts {
		if a.Language == "fr" {
			fr++
		}
	}
	t.Logf("%d prefixes: %d moves between accounts, %d gaps, %d zero gaps, %d open; %d addresses inside wider prefixes; %d wildcards; %d/%d accounts in French",
		len(byPrefix), moved, gaps, zeroGaps, open, nested, wild, fr, len(b.inv.Accounts))
	for name, n := range map[string]int{"moves": moved, "gaps": gaps, "zero gaps": zeroGaps, "open holds": open, "nested addresses": nested, "wildcards": wild, "French accounts": fr} {
		if n < 10 {
			t.Errorf("only %d %s", n, name)
		}
	}
}

func digest(t *testing.T, cfg Config) [32]byte {
	t.Helper()
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	if err := p.WriteRanges(h); err != nil {
		t.Fatal(err)
	}
	if err := p.WriteInventory(h); err != nil {
		t.Fatal(err)
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

func TestDeterministic(t *testing.T) {
	cfg := small(3)
	cfg.Addresses = 500
	a, b := digest(t, cfg), digest(t, cfg)
	if a != b {
		t.Error("the same configuration wrote different files")
	}
	cfg.Seed++
	if digest(t, cfg) == a {
		t.Error("another seed wrote the same files")
	}
}

func TestForRecordsIsExact(t *testing.T) {
	for _, n := range []int{1, 49, 50, 1000, 4321, 20_000} {
		cfg := ForRecords(n)
		cfg.Now = testNow
		p, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(p.WriteInventory(pw)) }()
		got := 0
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if bytes.HasPrefix(sc.Bytes(), []byte(`{"kind":"assignment"`)) {
				got++
			}
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		if got != n || p.Stats().Assignments != n {
			t.Errorf("ForRecords(%d): %d assignment lines, Stats %d", n, got, p.Stats().Assignments)
		}
	}
}

func TestPermute(t *testing.T) {
	for _, s := range []uint{0, 1, 3, 8, 13} {
		seen := map[uint64]bool{}
		for x := range uint64(1) << s {
			y := permute(x, s, 0xfeedface12345678)
			if y >= 1<<s || seen[y] {
				t.Fatalf("s=%d: permute(%d) = %d repeats or leaves the range", s, x, y)
			}
			seen[y] = true
			if back := unpermute(y, s, 0xfeedface12345678); back != x {
				t.Fatalf("s=%d: unpermute(permute(%d)) = %d", s, x, back)
			}
		}
	}
	for _, x := range []uint64{0, 1, 1 << 63, 0xdeadbeefcafebabe} {
		if back := unpermute(permute(x, 64, 42), 64, 42); back != x {
			t.Fatalf("64 bits: %x round-trips to %x", x, back)
		}
	}
}

func BenchmarkWriteInventory(b *testing.B) {
	p, err := New(Config{Addresses: 20_000, Now: testNow})
	if err != nil {
		b.Fatal(err)
	}
	lines := p.Stats().Accounts + p.Stats().Resources + p.Stats().Assignments + p.Stats().Hostnames
	for b.Loop() {
		if err := p.WriteInventory(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}
