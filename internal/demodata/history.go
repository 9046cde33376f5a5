package demodata

// Assignment histories. Each one is drawn from a random stream seeded by
// (seed, what, index) alone, so the writer and the probes draw the same
// history for the same address without sharing any state.

import (
	"math/rand/v2"
)

// interval is one hold: [from, to) in Unix seconds, to == 0 still held; res
// is a global resource index.
type interval struct {
	from, to int64
	res      int
}

func (iv interval) contains(t int64) bool { return t >= iv.from && (iv.to == 0 || t < iv.to) }

// gen is a reusable random stream plus scratch space (not for concurrent use).
type gen struct {
	pcg rand.PCG
	r   *rand.Rand
	ws  []float64
	buf []interval
}

func newGen() *gen {
	g := &gen{}
	g.r = rand.New(&g.pcg)
	return g
}

func (g *gen) seed(a, b uint64) { g.pcg.Seed(a, b) }

// timing of one kind of holder.
type timing struct {
	recent  bool    // within the last Span/8 (autoscaling), else the whole Span
	zeroGap float64 // chance that a hold starts the second the previous ends
	open    float64 // chance that the last hold is still running
}

var (
	longHolds  = timing{recent: false, zeroGap: 0.35, open: 0.55} // elastic IPs, NAT, SES dedicated addresses
	churnHolds = timing{recent: true, zeroGap: 0.15, open: 0.3}   // instances, load balancers
	hostHolds  = timing{recent: false, zeroGap: 0.1, open: 0.7}
)

// place draws c holds in [start, end): 2c+1 exponential pieces alternate
// gap, hold, …, hold, tail.
func (g *gen) place(c int, start, end int64, tm timing) []interval {
	g.buf = g.buf[:0]
	g.ws = g.ws[:0]
	total := 0.0
	for range 2*c + 1 {
		e := g.r.ExpFloat64()
		g.ws = append(g.ws, e)
		total += e
	}
	span := float64(end - start)
	acc, prevTo := 0.0, start
	for i := range c {
		acc += g.ws[2*i]
		from := start + int64(span*acc/total)
		acc += g.ws[2*i+1]
		to := start + int64(span*acc/total)
		if i > 0 && g.r.Float64() < tm.zeroGap {
			from = prevTo // reassigned at once
		}
		from = max(from, prevTo)
		to = max(to, from+1)
		g.buf = append(g.buf, interval{from: from, to: to})
		prevTo = to
	}
	if c > 0 && g.r.Float64() < tm.open {
		g.buf[c-1].to = 0
	}
	return g.buf
}

// holds is the number of holds of address k of block bi: pairs of
// addresses get Intervals+d and Intervals−d, so the total is exact.
func (p *Provider) holds(bi, k int) int {
	iv := p.cfg.Intervals
	b := &p.blocks[bi]
	if k%2 == 0 && k == b.n-1 {
		return iv
	}
	h := mix64(p.seed ^ saltPair ^ uint64(bi)<<40 ^ uint64(k>>1))
	d := int(h%uint64(2*iv-1)) - (iv - 1)
	if k%2 == 1 {
		d = -d
	}
	return iv + d
}

// addrHistory is the history of address k of block bi (valid until the
// next call on g).
func (p *Provider) addrHistory(g *gen, bi, k int) []interval {
	b := &p.blocks[bi]
	g.seed(p.seed^saltAddr, uint64(bi)<<40|uint64(k))
	tm, sub := churnHolds, [2]int{0, b.npool} // the pool range to draw holders from
	switch b.svc {
	case "SES":
		tm = longHolds
	case "EC2":
		switch u := g.r.Float64(); {
		case u < 0.3:
			tm, sub = longHolds, [2]int{0, b.eip}
		case u < 0.95:
			sub = [2]int{b.eip, b.npool - b.nat}
		default:
			tm, sub = longHolds, [2]int{b.npool - b.nat, b.npool}
		}
	}
	start := p.now - p.span
	if tm.recent {
		start = p.now - p.span/8
	}
	hs := g.place(p.holds(bi, k), start, p.now, tm)
	for i := range hs {
		hs[i].res = b.pool + sub[0] + g.r.IntN(sub[1]-sub[0])
	}
	return hs
}

// widerInterval is the one hold of the i-th prefix of layer l of block bi.
func (p *Provider) widerInterval(g *gen, bi, l, i int) interval {
	g.seed(p.seed^saltWider^uint64(l), uint64(bi)<<40|uint64(i))
	from := p.now - p.span + g.r.Int64N(p.span*9/10)
	iv := interval{from: from, res: p.blocks[bi].layers[l].res + i}
	if g.r.Float64() >= 0.6 {
		iv.to = from + 1 + g.r.Int64N(p.now-from)
	}
	return iv
}

// Host names, by h%8.
type hostKind uint8

const (
	hostCDN      hostKind = iota // d….example-cdn.net, one distribution, never reused
	hostWildcard                 // *.name.example-cdn.net, distributions
	hostCustom                   // www.name.example, an alternate name of distributions
	hostBucket                   // name.s3.example-storage.net, buckets (names are reused after deletion)
	hostMail                     // name.mail-service.example.net, SES identities (tracking links)
)

func hostKindOf(h int) hostKind {
	return [8]hostKind{hostCDN, hostCDN, hostCDN, hostWildcard, hostCustom, hostBucket, hostBucket, hostMail}[h%8]
}

// hostHistory is the history of host name h (valid until the next call on g).
func (p *Provider) hostHistory(g *gen, h int) []interval {
	g.seed(p.seed^saltHost, uint64(h))
	kind := hostKindOf(h)
	c := 1
	if kind != hostCDN {
		switch u := g.r.Float64(); {
		case u < 0.2:
			c = 2
		case u < 0.3 && kind != hostBucket && kind != hostMail:
			c = 3
		}
	}
	hs := g.place(c, p.now-p.span, p.now, hostHolds)
	for i := range hs {
		switch kind {
		case hostBucket:
			hs[i].res = p.bucketRes + g.r.IntN(p.bucketN)
		case hostMail:
			hs[i].res = p.identRes + g.r.IntN(p.identN)
		default:
			hs[i].res = p.distRes + g.r.IntN(p.distN)
		}
	}
	return hs
}
