package attribution

import (
	"net/netip"
	"runtime"
	"time"
)

// hit is an internal answer: node is hostHit for the host route itself, a
// node index for a wider prefix.
type hit struct {
	res  uint32
	node uint32
	ok   bool
}

func isDead(dead []uint64, i uint32) bool {
	return dead != nil && dead[i>>6]&(1<<(i&63)) != 0
}

// lastFrom returns the index of the last record of rs (not empty, sorted by
// from) whose from is ≤ t, or 0 when there is none. The halving is written
// as arithmetic so that it compiles without a data-dependent branch (the
// compiler keeps an if here as a branch): the outcome of each comparison is
// a coin toss, and a mispredicted branch costs more than the whole search.
func lastFrom(rs []rec, t uint32) int {
	base := 0
	for n := len(rs); n > 1; {
		half := n >> 1
		gt := int((uint64(t) - uint64(rs[base+half].from)) >> 63) // from > t
		base += half & (gt - 1)
		n -= half
	}
	return base
}

// lastSeg is lastFrom for flattened pieces.
func lastSeg(ss []seg, t uint32) int {
	base := 0
	for n := len(ss); n > 1; {
		half := n >> 1
		gt := int((uint64(t) - uint64(ss[base+half].from)) >> 63)
		base += half & (gt - 1)
		n -= half
	}
	return base
}

// within is 1 when from ≤ t < to, else 0, without a branch.
func within(from, to, t uint32) uint32 {
	return uint32((uint64(t)-uint64(from))>>63^1) & uint32((uint64(t)-uint64(to))>>63)
}

// search finds the record of recs[off:off+n] valid at t.
func (c *core) search(off, n, t uint32, dead []uint64) (uint32, bool) {
	if n == 0 {
		return 0, false
	}
	rs := c.recs[off : off+n]
	j := lastFrom(rs, t)
	if r := &rs[j]; r.from <= t && t < r.to && !isDead(dead, off+uint32(j)) {
		return r.res, true
	}
	return 0, false
}

// find answers for one address key at encoded time t.
func (c *core) find(hi, lo uint64, t uint32, dead []uint64) hit {
	fb := uint32(noNode)
	found := false
	if len(c.slots) > 0 {
		i := hash(hi, lo) & c.mask
		for {
			s := &c.slots[i]
			if s.used == 0 {
				break
			}
			if s.hi == hi && s.lo == lo {
				if r, ok := c.search(s.off, s.n, t, dead); ok {
					return hit{res: r, node: hostHit, ok: true}
				}
				fb, found = s.fb, true
				break
			}
			i = (i + 1) & c.mask
		}
	}
	if !found {
		fb = c.coverFB(hi, lo)
	}
	return c.fallback(fb, t, dead)
}

// fallback answers from the fallback list at eff[fb] (noNode: none): a node
// and then its covering prefixes in turn.
func (c *core) fallback(fb, t uint32, dead []uint64) hit {
	if fb == noNode {
		return hit{}
	}
	h := c.eff[fb]
	if h.to == effSlow {
		return c.climb(h.node, t, dead)
	}
	if h.from == 0 {
		return hit{}
	}
	ss := c.eff[fb+1 : fb+1+h.from]
	s := &ss[lastSeg(ss, t)]
	if t < s.from || t >= s.to {
		return hit{}
	}
	return c.checkDead(s.res, s.node>>8, t, dead)
}

// checkDead confirms a flattened answer when some base records are
// superseded: the piece's record may be one of them, and then the answer
// lies further up the chain (no prefix between had anything at t).
func (c *core) checkDead(res, p, t uint32, dead []uint64) hit {
	if dead != nil {
		nd := &c.nodes[p]
		if _, ok := c.search(nd.off, nd.n, t, dead); !ok {
			return c.climb(nd.parent, t, dead)
		}
	}
	return hit{res: res, node: p, ok: true}
}

// climb asks p and then its covering prefixes in turn.
func (c *core) climb(p, t uint32, dead []uint64) hit {
	for p != noNode {
		nd := &c.nodes[p]
		if r, ok := c.search(nd.off, nd.n, t, dead); ok {
			return hit{res: r, node: p, ok: true}
		}
		p = nd.parent
	}
	return hit{}
}

func (c *core) prefixOf(h hit, hi, lo uint64) netip.Prefix {
	if h.node == hostHit {
		return hostPrefix(hi, lo)
	}
	return c.nodes[h.node].prefix()
}

// bits of a hit, for choosing between the base and the overlay.
func (c *core) bitsOf(h hit) int {
	if h.node == hostHit {
		return 200
	}
	return int(c.nodes[h.node].bits)
}

// resolve combines a base hit with the overlay's answer: the more specific
// valid prefix wins (both cannot be valid for the same prefix: Apply rejects
// such overlaps).
func (ix *Index) resolve(h hit, hi, lo uint64, t uint32) (uint32, netip.Prefix, bool) {
	if ix.delta != nil {
		d := ix.delta.find(hi, lo, t, nil)
		if d.ok && (!h.ok || ix.delta.bitsOf(d) >= ix.core.bitsOf(h)) {
			return d.res, ix.delta.prefixOf(d, hi, lo), true
		}
	}
	if !h.ok {
		return 0, netip.Prefix{}, false
	}
	return h.res, ix.core.prefixOf(h, hi, lo), true
}

// Lookup answers who held addr at t: the resource of the most specific prefix
// containing addr that had an assignment valid at t, and that prefix; ok is
// false when nothing held addr at t. The address's zone is ignored and an
// IPv4-mapped IPv6 address is looked up as IPv4.
func (ix *Index) Lookup(addr netip.Addr, t time.Time) (res uint32, p netip.Prefix, ok bool) {
	if !addr.IsValid() {
		return 0, netip.Prefix{}, false
	}
	hi, lo := addrKey(addr)
	et := encLookup(t)
	h := ix.core.find(hi, lo, et, ix.dead)
	if ix.delta != nil {
		return ix.resolve(h, hi, lo, et)
	}
	if !h.ok {
		return 0, netip.Prefix{}, false
	}
	bits := -1
	if h.node != hostHit {
		bits = int(ix.nodes[h.node].bits)
	}
	return h.res, answerPrefix(addr, bits), true
}

// answerPrefix is the prefix of length bits (-1: the host route) that
// contains addr, made from the address itself: no byte-array round trip.
func answerPrefix(addr netip.Addr, bits int) netip.Prefix {
	a := addr.Unmap()
	if bits < 0 {
		bits = a.BitLen()
	}
	p, _ := a.Prefix(bits)
	return p
}

// batchGroup is the number of lookups LookupBatch overlaps (64 measured a
// few percent faster than 32; 128 no faster).
const batchGroup = 64

// LookupBatch answers out[i] for (addrs[i], ts[i]) for every i of addrs (ts
// and out must be at least as long). It works in groups of independent
// lookups, each step a separate pass over the group, so that the memory
// misses of one group overlap instead of following each other: first loads
// whose only purpose is to start the misses (Go has no prefetch), then the
// work on lines that have arrived meanwhile. A plain load cannot retire
// before its line arrives, so running ahead is bounded by the reorder
// buffer: what pays is few lines per lookup and no mispredicted branches,
// not distance (pipelining the steps across groups measured no faster).
func (ix *Index) LookupBatch(addrs []netip.Addr, ts []time.Time, out []Result) {
	n := len(addrs)
	ts, out = ts[:n], out[:n]
	var sink uint64 // loads made only to start misses early
	for base := 0; base < n; base += batchGroup {
		end := min(base+batchGroup, n)
		sink ^= ix.batch(addrs[base:end], ts[base:end], out[base:end])
	}
	runtime.KeepAlive(sink)
}

// batch answers one group of at most batchGroup lookups.
func (ix *Index) batch(addrs []netip.Addr, ts []time.Time, out []Result) (sink uint64) {
	g := len(addrs)
	ts, out = ts[:g], out[:g]
	c := &ix.core
	dead := ix.dead
	var (
		his, los [batchGroup]uint64
		et       [batchGroup]uint32
		pos      [batchGroup]uint32 // slot index
		fb       [batchGroup]uint32 // fallback list, or noNode
		res      [batchGroup]uint32
		ans      [batchGroup]uint32 // answering node, hostHit, or noNode
		bits     [batchGroup]uint8  // the answering node's prefix length
		hosts    [batchGroup]uint8  // lookups whose host slot was found
		misses   [batchGroup]uint8  // lookups that are no host route
		falls    [batchGroup]uint8  // lookups that fall back to a wider prefix
	)
	var invalid [batchGroup]bool
	slots, recs, eff, mask := c.slots, c.recs, c.eff, c.mask
	// 1. Keys, times, hash positions: no memory misses here.
	for k := range addrs {
		hi, lo := addrKey(addrs[k])
		his[k], los[k] = hi, lo
		et[k] = encLookup(ts[k])
		pos[k] = uint32(hash(hi, lo) & mask)
		ans[k] = noNode
		invalid[k] = !addrs[k].IsValid()
	}
	// 2. Touch the home slots, then probe on lines that have arrived.
	nh, nm := 0, 0
	if len(slots) > 0 {
		for k := 0; k < g; k++ {
			sink ^= slots[pos[k]].lo
		}
		for k := 0; k < g; k++ {
			i := uint64(pos[k])
			for {
				s := &slots[i]
				if s.used == 0 {
					misses[nm] = uint8(k)
					nm++
					break
				}
				if s.hi == his[k] && s.lo == los[k] {
					pos[k] = uint32(i)
					fb[k] = s.fb
					hosts[nh] = uint8(k)
					nh++
					break
				}
				i = (i + 1) & mask
			}
		}
	} else {
		for k := 0; k < g; k++ {
			misses[k] = uint8(k)
		}
		nm = g
	}
	// 3. Touch the host records; find the covering prefixes of the other
	// addresses (cache-resident work) while those lines arrive.
	for _, k := range hosts[:nh] {
		s := &slots[pos[k]]
		if off, n := s.off, s.n; n > 0 {
			sink ^= uint64(recs[off].from ^ recs[off+n/2].from ^ recs[off+n-1].from)
		}
	}
	nf := 0
	for _, k := range misses[:nm] {
		fb[k] = c.coverFB(his[k], los[k])
		falls[nf] = k
		nf++
	}
	// 4. Search the host records. No branch depends on the outcome (a
	// coin toss here): the lookup is appended to the fallback list in any
	// case, and the list's length grows only when the host has nothing.
	for _, k := range hosts[:nh] {
		s := &slots[pos[k]]
		off, n := s.off, s.n
		var r, ok uint32
		if n > 0 {
			rs := recs[off : off+n]
			j := lastFrom(rs, et[k])
			rc := &rs[j]
			r, ok = rc.res, within(rc.from, rc.to, et[k])
			if dead != nil {
				i := off + uint32(j)
				ok &^= uint32(dead[i>>6]>>(i&63)) & 1
			}
		}
		res[k], ans[k] = r, noNode-ok // noNode-1 is hostHit
		falls[nf] = k
		nf += int(ok ^ 1)
	}
	// 5. Fallbacks: touch the lists' first lines, then one search each.
	if len(eff) > 0 {
		last := uint32(len(eff) - 1)
		for _, k := range falls[:nf] {
			sink ^= uint64(eff[min(fb[k], last)].from)
		}
	}
	for _, k := range falls[:nf] {
		f, t := fb[k], et[k]
		if f == noNode {
			continue
		}
		h := &eff[f]
		if h.to == effSlow || dead != nil {
			if a := c.fallback(f, t, dead); a.ok {
				res[k], ans[k], bits[k] = a.res, a.node, c.nodes[a.node].bits
			}
			continue
		}
		if h.from == 0 {
			continue
		}
		ss := eff[f+1 : f+1+h.from]
		sg := &ss[lastSeg(ss, t)]
		ok := within(sg.from, sg.to, t)
		res[k], ans[k], bits[k] = sg.res, noNode^(noNode^sg.node>>8)&-ok, uint8(sg.node)
	}
	// 6. Results (and the overlay, when there is one).
	for k := 0; k < g; k++ {
		p := ans[k]
		switch {
		case invalid[k]:
			out[k] = Result{}
		case ix.delta != nil:
			h := hit{res: res[k], node: p, ok: p != noNode}
			r, pf, ok := ix.resolve(h, his[k], los[k], et[k])
			out[k] = Result{Resource: r, Prefix: pf, OK: ok}
		case p == noNode:
			out[k] = Result{}
		case p == hostHit:
			out[k] = Result{Resource: res[k], Prefix: answerPrefix(addrs[k], -1), OK: true}
		default:
			out[k] = Result{Resource: res[k], Prefix: answerPrefix(addrs[k], int(bits[k])), OK: true}
		}
	}
	return sink
}
