package attribution

import (
	"encoding/binary"
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

// search finds the record of recs[off:off+n] valid at t.
func (c *core) search(off, n, t uint32, dead []uint64) (uint32, bool) {
	rs := c.recs[off : off+n]
	// j = index of the last record with from <= t.
	j := len(rs) - 1
	if len(rs) <= 8 {
		for j >= 0 && rs[j].from > t {
			j--
		}
	} else {
		l, h := 0, len(rs)
		for l < h {
			m := int(uint(l+h) >> 1)
			if rs[m].from <= t {
				l = m + 1
			} else {
				h = m
			}
		}
		j = l - 1
	}
	if j < 0 || t >= rs[j].to || isDead(dead, off+uint32(j)) {
		return 0, false
	}
	return rs[j].res, true
}

// find answers for one address key at encoded time t.
func (c *core) find(hi, lo uint64, t uint32, dead []uint64) hit {
	parent := uint32(noNode)
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
				parent, found = s.parent, true
				break
			}
			i = (i + 1) & c.mask
		}
	}
	if !found {
		parent = c.cover(hi, lo)
	}
	return c.climb(parent, t, dead)
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
	if ix.delta == nil {
		if !h.ok {
			return 0, netip.Prefix{}, false
		}
		return h.res, ix.core.prefixOf(h, hi, lo), true
	}
	return ix.resolve(h, hi, lo, et)
}

const batchGroup = 32

// LookupBatch answers out[i] for (addrs[i], ts[i]) for every i of addrs (ts
// and out must be at least as long). It works in groups of independent
// lookups, each step a separate pass over the group (keys and hash positions
// first, then the slot loads, then the record loads), so that the memory
// misses of one group overlap instead of following each other.
func (ix *Index) LookupBatch(addrs []netip.Addr, ts []time.Time, out []Result) {
	n := len(addrs)
	ts, out = ts[:n], out[:n]
	c := &ix.core
	var (
		his, los [batchGroup]uint64
		pos      [batchGroup]uint64
		et       [batchGroup]uint32
		state    [batchGroup]uint8
		noff, nn [batchGroup]uint32
		npar     [batchGroup]uint32
	)
	const (
		stProbe = iota
		stSlot
		stMiss
		stInvalid
		stHit
		stClimb
		stNodeHit
		stNone
	)
	slots, recs := c.slots, c.recs
	mask := c.mask
	var sink uint64 // loads made only to start misses early
	for base := 0; base < n; base += batchGroup {
		g := min(batchGroup, n-base)
		// Pass 1: keys, times, hash positions (no memory misses here).
		for k := 0; k < g; k++ {
			a := addrs[base+k]
			b := a.As16()
			hi, lo := binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
			his[k], los[k] = hi, lo
			et[k] = encLookup(ts[base+k])
			pos[k] = hash(hi, lo) & mask
			state[k] = stProbe
			if !a.IsValid() {
				state[k] = stInvalid
			} else if len(slots) == 0 {
				state[k] = stMiss
			}
		}
		// Pass 2: slot loads, independent across the group. First only
		// touch the slots (no branch depends on the loaded data, so a
		// mispredicted branch cannot hold the next lookups' loads back),
		// then compare on cached lines.
		for k := 0; k < g; k++ {
			if state[k] == stProbe {
				sink ^= slots[pos[k]].lo
			}
		}
		for k := 0; k < g; k++ {
			if state[k] != stProbe {
				continue
			}
			i := pos[k]
			for {
				s := &slots[i]
				if s.used == 0 {
					state[k] = stMiss
					break
				}
				if s.hi == his[k] && s.lo == los[k] {
					state[k] = stSlot
					break
				}
				i = (i + 1) & mask
			}
			pos[k] = i
		}
		// Pass 3: records of the found slots: touch them (and the covering
		// prefix, needed when the records do not cover t), then search.
		for k := 0; k < g; k++ {
			if state[k] != stSlot {
				continue
			}
			s := &slots[pos[k]]
			if off, n := s.off, s.n; n > 0 {
				sink ^= uint64(recs[off].from ^ recs[off+n/2].from ^ recs[off+n-1].from)
			}
			if p := s.parent; p != noNode {
				sink ^= uint64(c.nodes[p].off)
			}
		}
		for k := 0; k < g; k++ {
			if state[k] != stSlot {
				continue
			}
			s := &slots[pos[k]]
			if r, ok := c.search(s.off, s.n, et[k], ix.dead); ok {
				out[base+k] = Result{Resource: r, OK: true}
				state[k] = stHit // answered; prefix below
			} else {
				pos[k] = uint64(s.parent)
			}
		}
		// Pass 4: the covering prefixes, one level per round so that the
		// node and record loads of the group overlap too.
		for k := 0; k < g; k++ {
			switch state[k] {
			case stMiss:
				pos[k] = uint64(c.cover(his[k], los[k]))
				state[k] = stClimb
			case stSlot:
				state[k] = stClimb
			}
		}
		for pending := true; pending; {
			pending = false
			for k := 0; k < g; k++ {
				if state[k] != stClimb {
					continue
				}
				if pos[k] == noNode {
					state[k] = stNone
					continue
				}
				nd := &c.nodes[pos[k]]
				noff[k], nn[k], npar[k] = nd.off, nd.n, nd.parent
			}
			for k := 0; k < g; k++ {
				if state[k] == stClimb && nn[k] > 0 {
					sink ^= uint64(recs[noff[k]].from ^ recs[noff[k]+nn[k]-1].from)
				}
			}
			for k := 0; k < g; k++ {
				if state[k] != stClimb {
					continue
				}
				if r, ok := c.search(noff[k], nn[k], et[k], ix.dead); ok {
					out[base+k].Resource = r
					state[k] = stNodeHit
				} else {
					pos[k] = uint64(npar[k])
					pending = true
				}
			}
		}
		// Pass 5: results (and the overlay, when there is one).
		for k := 0; k < g; k++ {
			var h hit
			switch state[k] {
			case stInvalid:
				out[base+k] = Result{}
				continue
			case stHit:
				h = hit{res: out[base+k].Resource, node: hostHit, ok: true}
			case stNodeHit:
				h = hit{res: out[base+k].Resource, node: uint32(pos[k]), ok: true}
			}
			if ix.delta != nil {
				r, p, ok := ix.resolve(h, his[k], los[k], et[k])
				out[base+k] = Result{Resource: r, Prefix: p, OK: ok}
				continue
			}
			if !h.ok {
				out[base+k] = Result{}
				continue
			}
			out[base+k] = Result{Resource: h.res, Prefix: c.prefixOf(h, his[k], los[k]), OK: true}
		}
	}
	runtime.KeepAlive(sink)
}
