package attribution

import (
	"math/bits"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Close ends the open assignment of Prefix that started at From: it is held
// until To (exclusive) and no longer.
type Close struct {
	Prefix netip.Prefix
	From   time.Time
	To     time.Time
}

// DefaultMaxDelta is the overlay size (records) at which Live.Apply merges the
// overlay into a freshly built base index.
const DefaultMaxDelta = 1 << 16

// Live is an index behind an atomic pointer: readers (Load, then Lookup) are
// never blocked; writers (Apply) are serialised and publish a new immutable
// Index.
//
// Apply does not rebuild the whole index for each change (10M records take
// seconds to build): the published Index shares the base arrays and carries a
// small overlay index of the changed and new records plus a bitset of the base
// records they supersede. Applying a change rebuilds only the overlay
// (O(overlay)); when the overlay grows past MaxDelta records, Apply merges it
// into a new base (O(all), amortised to O(all/MaxDelta) per change). A lookup
// asks the base (skipping superseded records) and the overlay and keeps the
// more specific valid prefix; with an empty overlay it is the plain lookup.
type Live struct {
	// MaxDelta is the overlay size at which Apply merges; 0 means
	// DefaultMaxDelta. Set it before the first Apply.
	MaxDelta int

	mu sync.Mutex // serialises writers
	p  atomic.Pointer[Index]
}

// NewLive publishes ix (nil: an empty index).
func NewLive(ix *Index) *Live {
	if ix == nil {
		ix, _ = Build(nil)
	}
	l := &Live{}
	l.p.Store(ix)
	return l
}

// Load returns the current index; it stays valid (and unchanged) as long as
// the caller holds it.
func (l *Live) Load() *Index { return l.p.Load() }

// Apply closes open assignments and adds new ones, then publishes the result;
// a Load after Apply returns sees all of it. Closes are applied first (so a
// reassignment is "close the old holder at T, add the new one from T"), then
// the adds in order. An add that overlaps an assignment of the same prefix
// (already in the index or added earlier in this call) is rejected. Conflict
// indexes: 0..len(add)-1 name adds, len(add)+j names closeAt[j]; B is the
// earlier add an add overlaps, or -1.
func (l *Live) Apply(add []Assignment, closeAt []Close) []Conflict {
	l.mu.Lock()
	defer l.mu.Unlock()
	cur := l.p.Load()

	var ditems []item
	if cur.delta != nil {
		ditems = cur.delta.items(nil)
	}
	byKey := map[pkey][]int{} // transient: overlay items per prefix
	for i, it := range ditems {
		byKey[it.k] = append(byKey[it.k], i)
	}
	var dead []uint64
	deadCloned := false
	markDead := func(i uint32) {
		if !deadCloned {
			dead = make([]uint64, (len(cur.recs)+63)/64)
			copy(dead, cur.dead)
			deadCloned = true
		}
		dead[i>>6] |= 1 << (i & 63)
	}
	curDead := func() []uint64 {
		if deadCloned {
			return dead
		}
		return cur.dead
	}
	var conflicts []Conflict

	for j, c := range closeAt {
		ci := len(add) + j
		k, ok := normPrefix(c.Prefix)
		from, okF := encBound(c.From, tSince)
		to, okT := encBound(c.To, tOpen)
		switch {
		case !ok:
			conflicts = append(conflicts, Conflict{A: ci, B: -1, Reason: "invalid prefix"})
			continue
		case !okF || !okT || c.To.IsZero():
			conflicts = append(conflicts, Conflict{A: ci, B: -1, Reason: "close time outside 1970..2106 or missing"})
			continue
		case to <= from:
			conflicts = append(conflicts, Conflict{A: ci, B: -1, Reason: "close time is not after from"})
			continue
		}
		done := false
		for _, di := range byKey[k] {
			if ditems[di].from == from && ditems[di].to == tOpen {
				ditems[di].to = to
				done = true
				break
			}
		}
		if !done {
			if off, n, found := cur.exact(k); found {
				for r := off; r < off+n; r++ {
					rc := cur.recs[r]
					if rc.from == from && rc.to == tOpen && !isDead(curDead(), r) {
						markDead(r)
						byKey[k] = append(byKey[k], len(ditems))
						ditems = append(ditems, item{k: k, from: from, to: to, res: rc.res, idx: -1})
						done = true
						break
					}
				}
			}
		}
		if !done {
			conflicts = append(conflicts, Conflict{A: ci, B: -1, Reason: "no open assignment of this prefix from this time"})
		}
	}

	for i, a := range add {
		it, reason := toItem(a, i)
		if reason != "" {
			conflicts = append(conflicts, Conflict{A: i, B: -1, Reason: reason})
			continue
		}
		other, clash := -2, false
		for _, di := range byKey[it.k] {
			d := ditems[di]
			if d.from < it.to && it.from < d.to {
				other, clash = int(d.idx), true
				break
			}
		}
		if !clash {
			if off, n, found := cur.exact(it.k); found {
				for r := off; r < off+n; r++ {
					rc := cur.recs[r]
					if rc.from < it.to && it.from < rc.to && !isDead(curDead(), r) {
						other, clash = -1, true
						break
					}
				}
			}
		}
		if clash {
			conflicts = append(conflicts, Conflict{A: i, B: other, Reason: "overlaps an assignment of the same prefix"})
			continue
		}
		byKey[it.k] = append(byKey[it.k], len(ditems))
		ditems = append(ditems, it)
	}

	dead = curDead()
	ndead := 0
	for _, w := range dead {
		ndead += bits.OnesCount64(w)
	}
	next := &Index{core: cur.core, dead: dead}
	if len(ditems) > 0 {
		d, _ := buildCore(ditems)
		next.delta = d
	}
	next.nrec = len(cur.recs) - ndead + len(ditems)
	maxDelta := l.MaxDelta
	if maxDelta <= 0 {
		maxDelta = DefaultMaxDelta
	}
	if len(ditems) > maxDelta {
		all := next.core.items(next.dead)
		all = append(all, ditems...)
		c, _ := buildCore(all)
		next = &Index{core: *c, nrec: len(c.recs)}
	}
	l.p.Store(next)
	return conflicts
}

// exact finds the records of exactly prefix k.
func (c *core) exact(k pkey) (off, n uint32, ok bool) {
	if k.host() {
		if len(c.slots) == 0 {
			return 0, 0, false
		}
		i := hash(k.hi, k.lo) & c.mask
		for {
			s := &c.slots[i]
			if s.used == 0 {
				return 0, 0, false
			}
			if s.hi == k.hi && s.lo == k.lo {
				return s.off, s.n, true
			}
			i = (i + 1) & c.mask
		}
	}
	p := c.cover(k.hi, k.lo)
	for p != noNode && c.nodes[p].bits > k.bits {
		p = c.nodes[p].parent
	}
	if p == noNode || c.nodes[p].key() != k {
		return 0, 0, false
	}
	return c.nodes[p].off, c.nodes[p].n, true
}

// items lists the live records of c as build items.
func (c *core) items(dead []uint64) []item {
	out := make([]item, 0, len(c.recs))
	add := func(k pkey, off, n uint32) {
		for r := off; r < off+n; r++ {
			if isDead(dead, r) {
				continue
			}
			rc := c.recs[r]
			out = append(out, item{k: k, from: rc.from, to: rc.to, res: rc.res, idx: -1})
		}
	}
	for i := range c.slots {
		s := &c.slots[i]
		if s.used != 0 {
			k := pkey{hi: s.hi, lo: s.lo, bits: 128}
			if isV4Key(s.hi, s.lo) {
				k.bits, k.v4 = 32, true
			}
			add(k, s.off, s.n)
		}
	}
	for i := range c.nodes {
		add(c.nodes[i].key(), c.nodes[i].off, c.nodes[i].n)
	}
	return slices.Clip(out)
}

// Assignments lists the index's live records (for inspection and tests),
// in no particular order.
func (ix *Index) Assignments() []Assignment {
	its := ix.core.items(ix.dead)
	if ix.delta != nil {
		its = append(its, ix.delta.items(nil)...)
	}
	out := make([]Assignment, len(its))
	for i, it := range its {
		var p netip.Prefix
		if it.k.host() {
			p = hostPrefix(it.k.hi, it.k.lo)
		} else {
			n := node{hi: it.k.famStart().hi, lo: it.k.famStart().lo, bits: it.k.bits, v4: it.k.v4}
			p = n.prefix()
		}
		out[i] = Assignment{Prefix: p, From: decBound(it.from), To: decBound(it.to), Resource: it.res}
	}
	return out
}

// Held returns the assignment of exactly prefix p (not a covering or nested
// one) that is valid at t. The inventory feed uses it to tell a close or a
// replayed line from a new assignment.
func (ix *Index) Held(p netip.Prefix, t time.Time) (Assignment, bool) {
	k, ok := normPrefix(p)
	if !ok {
		return Assignment{}, false
	}
	et := encLookup(t)
	find := func(c *core, dead []uint64) (Assignment, bool) {
		off, n, found := c.exact(k)
		if !found {
			return Assignment{}, false
		}
		for r := off; r < off+n; r++ {
			rc := c.recs[r]
			if rc.from <= et && et < rc.to && !isDead(dead, r) {
				return Assignment{Prefix: p.Masked(), From: decBound(rc.from), To: decBound(rc.to), Resource: rc.res}, true
			}
		}
		return Assignment{}, false
	}
	if ix.delta != nil {
		if a, ok := find(ix.delta, nil); ok {
			return a, true
		}
	}
	return find(&ix.core, ix.dead)
}
