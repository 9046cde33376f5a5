package demodata

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"time"

	"abusedesk/internal/attribution"
)

// ProbeKind says which path of attribution a probe exercises.
type ProbeKind string

const (
	ProbeAssigned   ProbeKind = "assigned"   // an address held then by its own /32 or /128
	ProbeCovered    ProbeKind = "covered"    // not held itself then, but a covering wider prefix was
	ProbeUnassigned ProbeKind = "unassigned" // ours, held by nobody then
	ProbeNotOurs    ProbeKind = "not_ours"   // outside the address space
	ProbeURL        ProbeKind = "url"        // an https URL on a host name held then
)

// Probe is an (address or URL, time) with the verdict attribution must give
// on the provider's files.
type Probe struct {
	Kind ProbeKind
	Addr netip.Addr // the address; zero for ProbeURL
	URL  string     // ProbeURL only
	Time time.Time  // UTC, whole seconds, not after Now

	Verdict  string // attribution.Assigned, Unassigned or NotOurs
	Resource string // assigned: the resource's id
	Account  string // assigned: its account's id
	Service  string // assigned: the resource's service; unassigned: the range's
	Matched  string // the prefix or host pattern that decides; "" when not ours
	// HeldFrom and HeldUntil bound the deciding hold of an assigned probe
	// (any time in [HeldFrom, HeldUntil) gives the same verdict); a zero
	// HeldUntil means still held.
	HeldFrom, HeldUntil time.Time
}

// probeMix is the share of each kind in Probes, per 20.
var probeMix = [20]ProbeKind{
	ProbeAssigned, ProbeAssigned, ProbeAssigned, ProbeAssigned, ProbeAssigned, ProbeAssigned, ProbeAssigned, ProbeAssigned, ProbeAssigned,
	ProbeCovered, ProbeCovered,
	ProbeUnassigned, ProbeUnassigned, ProbeUnassigned, ProbeUnassigned,
	ProbeNotOurs, ProbeNotOurs, ProbeNotOurs,
	ProbeURL, ProbeURL,
}

// Probes returns n probes: 45% assigned, 10% covered (20% more assigned
// when there are no wider prefixes), 20% unassigned, 15% not ours, 10%
// URLs, interleaved. Probe i depends on the seed and i only: Probes(10) is
// the start of Probes(1000).
func (p *Provider) Probes(n int) []Probe {
	out := make([]Probe, 0, n)
	g := newGen()
	for i := range n {
		out = append(out, p.probe(g, i))
	}
	return out
}

func (p *Provider) probe(g *gen, i int) Probe {
	r := rand.New(rand.NewPCG(p.seed^saltProbe, uint64(i)))
	kind := probeMix[i%len(probeMix)]
	if kind == ProbeCovered && p.widerN == 0 {
		kind = ProbeAssigned
	}
	// Candidates are drawn where the kind is likely and labelled by the
	// model; a candidate of another kind is drawn again.
	for range 100_000 {
		if pr, ok := p.tryProbe(g, r, kind); ok {
			return pr
		}
	}
	pr, _ := p.tryProbe(g, r, ProbeAssigned) // always succeeds
	return pr
}

// truth is what attribution must answer for an address at a time, from the
// model: the address's own history, then the wider prefixes covering it
// from the most specific, then the ranges.
type truth struct {
	verdict string
	iv      interval // assigned: the deciding hold
	matched netip.Prefix
	svc     string // unassigned: the range's service
}

func (p *Provider) attribute(g *gen, a netip.Addr, t int64) truth {
	bi := p.blockOf(a)
	if bi < 0 {
		if agg, ok := p.aggregateOf(a); ok {
			return truth{verdict: attribution.Unassigned, matched: agg.prefix, svc: "AMAZON"}
		}
		return truth{verdict: attribution.NotOurs}
	}
	b := &p.blocks[bi]
	if k, ok := b.index(a); ok {
		for _, iv := range p.addrHistory(g, bi, k) {
			if iv.contains(t) {
				return truth{verdict: attribution.Assigned, iv: iv, matched: netip.PrefixFrom(a, a.BitLen())}
			}
		}
	}
	for l := range b.layers {
		ly := &b.layers[l]
		if ly.w == 0 {
			continue
		}
		if i, ok := b.widerOf(ly, a); ok {
			if iv := p.widerInterval(g, bi, l, i); iv.contains(t) {
				return truth{verdict: attribution.Assigned, iv: iv, matched: b.wider(ly, i)}
			}
		}
	}
	return truth{verdict: attribution.Unassigned, matched: b.prefix, svc: b.svc}
}

func (p *Provider) makeProbe(kind ProbeKind, a netip.Addr, t int64, tr truth) Probe {
	pr := Probe{Kind: kind, Addr: a, Time: time.Unix(t, 0).UTC(), Verdict: tr.verdict}
	switch tr.verdict {
	case attribution.Assigned:
		p.setHolder(&pr, tr.iv)
		pr.Matched = tr.matched.String()
	case attribution.Unassigned:
		pr.Service, pr.Matched = tr.svc, tr.matched.String()
	}
	return pr
}

func (p *Provider) setHolder(pr *Probe, iv interval) {
	r := p.resource(p.rs, iv.res)
	pr.Resource, pr.Account, pr.Service = r.id, r.account, r.svc
	pr.HeldFrom = time.Unix(iv.from, 0).UTC()
	if iv.to != 0 {
		pr.HeldUntil = time.Unix(iv.to, 0).UTC()
	}
}

// end is the last instant of a hold worth probing (Now for a running one).
func (p *Provider) end(iv interval) int64 {
	if iv.to == 0 {
		return max(p.now, iv.from+1)
	}
	return iv.to
}

func randTime(r *rand.Rand, from, end int64) int64 {
	if end <= from {
		return from
	}
	return from + r.Int64N(end-from)
}

// randomIn draws an address of pf.
func randomIn(r *rand.Rand, pf netip.Prefix) netip.Addr {
	if pf.Addr().Is4() {
		size := uint64(1) << (32 - pf.Bits())
		return u32v4(v4u(pf.Addr()) + uint32(r.Uint64N(size)))
	}
	a := pf.Addr().As16()
	for i := pf.Bits(); i < 128; i++ {
		if r.IntN(2) == 1 {
			a[i/8] |= 0x80 >> (i % 8)
		}
	}
	return netip.AddrFrom16(a)
}

var (
	notOursNets = []netip.Prefix{
		netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("203.0.113.0/24"),
		netip.MustParsePrefix("3fff::/20"), netip.MustParsePrefix("2001:db8::/32"),
		// The pools the space is carved from: their holes are not ours.
		netip.MustParsePrefix("100.64.0.0/10"), netip.MustParsePrefix("100.64.0.0/10"), netip.MustParsePrefix("198.18.0.0/15"),
	}
	urlSubdomains = []string{"login", "shop", "static", "secure-update", "img"}
	urlPaths      = []string{"/", "/index.html", "/login/verify.php", "/downloads/setup.exe", "/media/video-5.mp4", "/track/c/8f3a?u=42"}
)

func (p *Provider) tryProbe(g *gen, r *rand.Rand, kind ProbeKind) (Probe, bool) {
	switch kind {
	case ProbeAssigned:
		bi, k := p.randomAddress(r)
		hs := p.addrHistory(g, bi, k)
		iv := hs[r.IntN(len(hs))]
		a, t := p.blocks[bi].addr(k), randTime(r, iv.from, p.end(iv))
		tr := p.attribute(g, a, t)
		return p.makeProbe(kind, a, t, tr), tr.verdict == attribution.Assigned && tr.matched.Bits() == a.BitLen()
	case ProbeCovered:
		x := r.IntN(p.widerN)
		bi, l := p.layerByWider(x)
		b := &p.blocks[bi]
		i := x - b.layers[l].cumW
		iv := p.widerInterval(g, bi, l, i)
		a, t := randomIn(r, b.wider(&b.layers[l], i)), randTime(r, iv.from, p.end(iv))
		tr := p.attribute(g, a, t)
		return p.makeProbe(kind, a, t, tr), tr.verdict == attribution.Assigned && tr.matched.Bits() < a.BitLen()
	case ProbeUnassigned:
		var a netip.Addr
		var t int64
		switch src := r.IntN(3); {
		case src == 0 && p.widerN > 0: // inside a wider prefix, when it was not held
			x := r.IntN(p.widerN)
			bi, l := p.layerByWider(x)
			b := &p.blocks[bi]
			a = randomIn(r, b.wider(&b.layers[l], x-b.layers[l].cumW))
			t = randTime(r, p.now-p.span, p.now)
		case src == 1: // an address with a history, in one of its gaps
			bi, k := p.randomAddress(r)
			a = p.blocks[bi].addr(k)
			hs := p.addrHistory(g, bi, k)
			var gaps [][2]int64
			prev := p.now - p.span
			for _, iv := range hs {
				if iv.from > prev {
					gaps = append(gaps, [2]int64{prev, iv.from})
				}
				prev = iv.to
			}
			if last := hs[len(hs)-1]; last.to != 0 && last.to < p.now {
				gaps = append(gaps, [2]int64{last.to, p.now})
			}
			if len(gaps) == 0 {
				return Probe{}, false
			}
			gp := gaps[r.IntN(len(gaps))]
			t = randTime(r, gp[0], gp[1])
		default: // anywhere in the space
			a = randomIn(r, p.blocks[r.IntN(len(p.blocks))].prefix)
			t = randTime(r, p.now-p.span, p.now)
		}
		tr := p.attribute(g, a, t)
		return p.makeProbe(kind, a, t, tr), tr.verdict == attribution.Unassigned
	case ProbeNotOurs:
		a := randomIn(r, notOursNets[r.IntN(len(notOursNets))])
		t := randTime(r, p.now-p.span, p.now)
		tr := p.attribute(g, a, t)
		return p.makeProbe(kind, a, t, tr), tr.verdict == attribution.NotOurs
	case ProbeURL:
		h := r.IntN(p.hostN)
		hs := p.hostHistory(g, h)
		iv := hs[r.IntN(len(hs))]
		pat := p.hostPattern(h)
		host := pat
		if pat[0] == '*' {
			host = urlSubdomains[r.IntN(len(urlSubdomains))] + pat[1:]
		}
		pr := Probe{Kind: kind, URL: "https://" + host + urlPaths[r.IntN(len(urlPaths))],
			Time: time.Unix(randTime(r, iv.from, p.end(iv)), 0).UTC(), Verdict: attribution.Assigned, Matched: pat}
		p.setHolder(&pr, iv)
		return pr, true
	}
	return Probe{}, false
}

// randomAddress draws one of the single addresses: its block and index.
func (p *Provider) randomAddress(r *rand.Rand) (int, int) {
	x := r.IntN(p.addrN)
	bi := p.blockByAddress(x)
	return bi, x - p.blocks[bi].cumN
}

// Reassignment returns two assigned probes of one IPv4 address at two
// times, held by resources of two different accounts, each hold lasting at
// least an hour: a reassignment to show. ok is false when the provider has
// none (a tiny one).
func (p *Provider) Reassignment() (before, after Probe, ok bool) {
	r := rand.New(rand.NewPCG(p.seed^saltReassign, 0))
	g := newGen()
	for range 100_000 {
		bi, k := p.randomAddress(r)
		b := &p.blocks[bi]
		if b.v6() {
			continue
		}
		hs := slices.Clone(p.addrHistory(g, bi, k))
		for j := 0; j+1 < len(hs); j++ {
			x, y := hs[j], hs[j+1]
			if p.accountOf(x.res) == p.accountOf(y.res) || p.end(x)-x.from < 3600 || p.end(y)-y.from < 3600 {
				continue
			}
			a := b.addr(k)
			mid := func(iv interval) int64 { // a round minute inside the hold
				t := iv.from + (p.end(iv)-iv.from)/2
				return max(iv.from, t-t%60)
			}
			t1, t2 := mid(x), mid(y)
			return p.makeProbe(ProbeAssigned, a, t1, p.attribute(g, a, t1)), p.makeProbe(ProbeAssigned, a, t2, p.attribute(g, a, t2)), true
		}
	}
	return Probe{}, Probe{}, false
}
