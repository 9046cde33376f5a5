// Package attribution answers "who held address X at time T" from the
// provider's assignment history (DESIGN.md, "Time-aware attribution").
//
// An assignment is (prefix, [From, To), resource). Lookup(addr, t) takes,
// among the prefixes containing addr, the most specific one that had an
// assignment valid at t; when the most specific prefix was not assigned at t
// the covering prefixes are asked in turn (plain longest-prefix match would
// answer "nobody" or the wrong holder there).
//
// # Layout
//
// The index is a handful of flat arrays and nothing else, so a live index adds
// nothing to a GC cycle (no maps, no per-entry pointers):
//
//   - host routes (/32, /128) live in an open-addressing hash table keyed by
//     the 128-bit address (IPv4 in its ::ffff:a.b.c.d form), linear probing,
//     load ≤ 0.5, 32-byte slots (two per cache line; 24-byte slots would
//     straddle lines). A slot holds the key, the offset and count of its
//     interval records, and where the fallback list (below) of the most
//     specific wider prefix that covers the address starts, so the
//     covering-prefix fallback costs no search.
//   - interval records are 12 bytes {from, to, resource uint32}, grouped per
//     prefix and sorted by from (the intervals of one prefix do not overlap,
//     so they are sorted by to as well).
//   - wider prefixes are nodes in one array (sorted by family, start, length)
//     with a parent link to the nearest covering prefix, and, per family, a
//     sorted array of elementary-range starts with the most specific node
//     owning each range: one binary search finds the most specific wider
//     prefix containing an address; the parent links then give the fallback
//     chain. For IPv4, a directory per /16 (and per /24 in /16s where many
//     ranges start) mostly answers without the search.
//   - each wider prefix's fallback chain is also flattened into one sorted
//     list of 16-byte pieces (time span, resource, answering prefix), so the
//     fallback is one search of a line or two whatever the chain's length.
//     Lists that would be long (deep chains of fragmented histories) are
//     not kept; those lookups climb the parent links.
//
// # Time
//
// Times are stored as unsigned 32-bit Unix seconds, shifted by one so that 0
// means "since always" (a zero From) and MaxUint32 means "still assigned"
// (a zero To). Reports carry seconds, so one second is the right resolution;
// times are truncated to the second (floor) at build and at lookup. The
// representable range is 1970-01-01 .. 2106-02-07; an assignment outside it is
// rejected at build, and lookups outside it are still exact (before 1970 only
// "since always" assignments match, after 2106 only open ones).
package attribution

import (
	"cmp"
	"encoding/binary"
	"math"
	"net/netip"
	"slices"
	"time"
	"unsafe"
)

// Assignment is one entry of the assignment history: Prefix was held by
// Resource during [From, To). A zero To means still assigned; a zero From
// means assigned since always.
type Assignment struct {
	Prefix   netip.Prefix
	From, To time.Time // To.IsZero() = open
	Resource uint32
}

// Conflict names one or two inputs that cannot go into the index. A and B are
// indexes into the input (A < B when both are set); B is -1 when the input is
// invalid on its own or, in Live.Apply, conflicts with what the index already
// holds.
type Conflict struct {
	A, B   int
	Reason string
}

// Result is one answer of LookupBatch.
type Result struct {
	Resource uint32
	Prefix   netip.Prefix
	OK       bool
}

const (
	tSince  = 0              // encoded zero From: since always
	tOpen   = math.MaxUint32 // encoded zero To: still assigned
	tAfter  = math.MaxUint32 - 1
	maxUnix = math.MaxUint32 - 3 // largest representable Unix second
	noNode  = math.MaxUint32
	hostHit = math.MaxUint32 - 1 // hit.node for a host route
)

// encLookup encodes a lookup time. Times before 1970 encode to 0 (only
// since-always intervals start there); times after the representable range
// encode above every closed To.
func encLookup(t time.Time) uint32 {
	u := t.Unix()
	if u < 0 {
		return tSince
	}
	if u > maxUnix {
		return tAfter
	}
	return uint32(u) + 1
}

func encBound(t time.Time, zero uint32) (uint32, bool) {
	if t.IsZero() {
		return zero, true
	}
	u := t.Unix()
	if u < 0 || u > maxUnix {
		return 0, false
	}
	return uint32(u) + 1, true
}

func decBound(v uint32) time.Time {
	if v == tSince || v == tOpen {
		return time.Time{}
	}
	return time.Unix(int64(v)-1, 0).UTC()
}

// rec is one interval record: the prefix was held by res during [from, to).
type rec struct {
	from, to, res uint32
}

// slot is one host-route entry of the hash table; 32 bytes, two per line.
type slot struct {
	hi, lo uint64 // address, IPv4 as ::ffff:a.b.c.d
	off, n uint32 // records recs[off : off+n]
	fb     uint32 // eff index of the fallback list of the most specific wider prefix containing the address, or noNode
	used   uint32
}

// node is one wider prefix.
type node struct {
	hi, lo uint64 // prefix start in its family's space (IPv4: lo = the 32-bit address)
	off, n uint32
	parent uint32 // nearest covering prefix, or noNode
	bits   uint8  // prefix length within its family
	v4     bool
	_      [2]byte
}

// seg is one entry of a node's fallback list (see core.eff). In a piece: at
// times [from, to) the first prefix of the chain node, parent,
// grandparent… with an assignment valid then is node>>8 (whose length is
// node&0xff, so that an answer needs no node load), held by res. In a
// list's header: from is the number of pieces that follow, to is effSlow
// when the list was not kept, node is the node.
type seg struct {
	from, to, res, node uint32
}

const (
	effSlow     = math.MaxUint32 // header.to of a node whose lookups climb instead
	effMaxNodes = 1 << 24        // piece.node holds a node index in 24 bits
	effMaxLen   = 1 << 31        // keeps eff indexes (and d4 entries) in range
)

// effSlack is the number of pieces a list may have beyond twice its node's
// own records (tests lower it to have lists not kept).
var effSlack = 16

type u128 struct{ hi, lo uint64 }

// core is one immutable set of flat arrays.
type core struct {
	slots []slot
	mask  uint64
	recs  []rec
	nodes []node
	b4    []uint32 // IPv4 elementary range starts, ascending
	o4    []uint32 // owner node of each range, or noNode
	t4    []uint32 // t4[x]: first range whose start is ≥ x<<16 (65537 entries, when b4 is large)
	b6    []u128
	o6    []uint32
	// eff[eoff[p]] heads node p's fallback chain flattened into one sorted
	// list of pieces, so that a lookup whose most specific prefix has
	// nothing at t costs one search instead of one per covering prefix,
	// and a host slot leads to its list with no other load.
	eoff []uint32
	eff  []seg
	// d4 answers the IPv4 cover without the binary search (a few cache
	// misses each): per /16, and in /16s where many ranges start per /24
	// (d4b, 256 entries per such /16), the fallback list of the range the
	// whole /16 or /24 lies in. Built with t4.
	d4, d4b []uint32
}

// Index is an immutable attribution index, safe for concurrent readers.
// An Index made by Live.Apply may carry a small overlay (delta) of recent
// changes and a set of superseded base records (dead).
type Index struct {
	core
	delta *core
	dead  []uint64 // bit i set: base record i is superseded
	nrec  int      // live records
}

// Len reports the number of interval records the index answers from.
func (ix *Index) Len() int { return ix.nrec }

// Bytes reports the memory held by the index's arrays.
func (ix *Index) Bytes() int {
	n := ix.core.bytes() + len(ix.dead)*8
	if ix.delta != nil {
		n += ix.delta.bytes()
	}
	return n
}

func (c *core) bytes() int {
	return cap(c.slots)*int(unsafe.Sizeof(slot{})) +
		cap(c.recs)*int(unsafe.Sizeof(rec{})) +
		cap(c.nodes)*int(unsafe.Sizeof(node{})) +
		cap(c.b4)*4 + cap(c.o4)*4 + cap(c.t4)*4 + cap(c.b6)*16 + cap(c.o6)*4 +
		cap(c.eoff)*4 + cap(c.eff)*int(unsafe.Sizeof(seg{})) + cap(c.d4)*4 + cap(c.d4b)*4
}

func hash(hi, lo uint64) uint64 {
	x := lo ^ (hi * 0x9e3779b97f4a7c15)
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

// pkey is a normalised prefix: start (masked) in the 128-bit space with IPv4
// mapped to ::ffff:0:0/96, bits within the family.
type pkey struct {
	hi, lo uint64
	bits   uint8
	v4     bool
}

// pkeyCompare orders prefixes IPv4 first, then by start, then shorter first.
func pkeyCompare(x, y pkey) int {
	if x.v4 != y.v4 {
		if x.v4 {
			return -1
		}
		return 1
	}
	if d := cmp.Compare(x.hi, y.hi); d != 0 {
		return d
	}
	if d := cmp.Compare(x.lo, y.lo); d != 0 {
		return d
	}
	return cmp.Compare(x.bits, y.bits)
}

func (k pkey) host() bool { return (k.v4 && k.bits == 32) || (!k.v4 && k.bits == 128) }

// famStart returns the prefix start in its family's space.
func (k pkey) famStart() u128 {
	if k.v4 {
		return u128{0, k.lo & 0xffffffff}
	}
	return u128{k.hi, k.lo}
}

// normPrefix normalises a prefix: zone stripped, IPv4-mapped IPv6 prefixes of
// length ≥ 96 become IPv4 prefixes, host bits masked.
func normPrefix(p netip.Prefix) (pkey, bool) {
	if !p.IsValid() {
		return pkey{}, false
	}
	a, bits := p.Addr(), p.Bits()
	b := a.As16()
	hi, lo := binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
	v4 := a.Is4() || (a.Is4In6() && bits >= 96)
	total := bits
	if a.Is4() {
		total += 96
	} else if v4 {
		bits -= 96
	}
	hi, lo = mask128(hi, lo, total)
	return pkey{hi: hi, lo: lo, bits: uint8(bits), v4: v4}, true
}

func mask128(hi, lo uint64, bits int) (uint64, uint64) {
	switch {
	case bits <= 0:
		return 0, 0
	case bits < 64:
		return hi &^ (math.MaxUint64 >> bits), 0
	case bits == 64:
		return hi, 0
	case bits < 128:
		return hi, lo &^ (math.MaxUint64 >> (bits - 64))
	}
	return hi, lo
}

// addrKey returns the address as a 128-bit key, IPv4 as ::ffff:a.b.c.d.
// Not As16: its [16]byte result is copied with one 16-byte load of two
// 8-byte stores, which cannot be forwarded and waits for the stores to
// retire, that is for every older cache miss (in a batched lookup: all of
// them, serialised). AsSlice's array is read back with loads that forward.
func addrKey(a netip.Addr) (hi, lo uint64) {
	if a.Is4() {
		b := a.As4()
		return 0, 0xffff<<32 | uint64(binary.BigEndian.Uint32(b[:]))
	}
	b := a.AsSlice()
	if len(b) != 16 {
		return 0, 0 // the zero Addr
	}
	return binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:16])
}

func isV4Key(hi, lo uint64) bool { return hi == 0 && lo>>32 == 0xffff }

func hostPrefix(hi, lo uint64) netip.Prefix {
	if isV4Key(hi, lo) {
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], uint32(lo))
		return netip.PrefixFrom(netip.AddrFrom4(b), 32)
	}
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], hi)
	binary.BigEndian.PutUint64(b[8:], lo)
	return netip.PrefixFrom(netip.AddrFrom16(b), 128)
}

func (n *node) prefix() netip.Prefix {
	if n.v4 {
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], uint32(n.lo))
		return netip.PrefixFrom(netip.AddrFrom4(b), int(n.bits))
	}
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], n.hi)
	binary.BigEndian.PutUint64(b[8:], n.lo)
	return netip.PrefixFrom(netip.AddrFrom16(b), int(n.bits))
}

func (n *node) key() pkey {
	k := pkey{hi: n.hi, lo: n.lo, bits: n.bits, v4: n.v4}
	if n.v4 {
		k.hi, k.lo = 0, 0xffff<<32|n.lo
	}
	return k
}

// item is one validated input on its way into an index.
type item struct {
	k        pkey
	from, to uint32
	res      uint32
	idx      int32 // input index, -1 when it comes from an existing index
}

// toItem validates and normalises one assignment.
func toItem(a Assignment, i int) (item, string) {
	k, ok := normPrefix(a.Prefix)
	if !ok {
		return item{}, "invalid prefix"
	}
	from, ok := encBound(a.From, tSince)
	if !ok {
		return item{}, "from outside 1970..2106"
	}
	to, ok := encBound(a.To, tOpen)
	if !ok {
		return item{}, "to outside 1970..2106"
	}
	if to <= from {
		return item{}, "empty interval: to is not after from (at one-second resolution)"
	}
	return item{k: k, from: from, to: to, res: a.Resource, idx: int32(i)}, ""
}

// Build makes an index of the assignments. Two assignments of the same prefix
// whose intervals overlap are a conflict; both are left out of the index and
// reported (every input left out appears in at least one Conflict). Invalid
// inputs are reported with B = -1. Nested prefixes are not conflicts.
func Build(as []Assignment) (*Index, []Conflict) {
	items := make([]item, 0, len(as))
	var conflicts []Conflict
	for i, a := range as {
		it, reason := toItem(a, i)
		if reason != "" {
			conflicts = append(conflicts, Conflict{A: i, B: -1, Reason: reason})
			continue
		}
		items = append(items, it)
	}
	c, cs := buildCore(items)
	conflicts = append(conflicts, cs...)
	slices.SortFunc(conflicts, func(x, y Conflict) int {
		if d := cmp.Compare(x.A, y.A); d != 0 {
			return d
		}
		return cmp.Compare(x.B, y.B)
	})
	return &Index{core: *c, nrec: len(c.recs)}, conflicts
}

// hostTab is the host table under construction; slot.off holds the host id.
type hostTab struct {
	slots []slot
	mask  uint64
	n     uint32
}

func (h *hostTab) insert(hi, lo uint64) uint32 {
	if uint64(h.n+1)*2 > uint64(len(h.slots)) {
		h.grow()
	}
	i := hash(hi, lo) & h.mask
	for {
		s := &h.slots[i]
		if s.used == 0 {
			*s = slot{hi: hi, lo: lo, off: h.n, fb: noNode, used: 1}
			h.n++
			return s.off
		}
		if s.hi == hi && s.lo == lo {
			return s.off
		}
		i = (i + 1) & h.mask
	}
}

func (h *hostTab) grow() {
	size := max(64, 2*len(h.slots))
	old := h.slots
	h.slots = make([]slot, size)
	adviseHuge(h.slots, false)
	h.mask = uint64(size - 1)
	for _, s := range old {
		if s.used == 0 {
			continue
		}
		i := hash(s.hi, s.lo) & h.mask
		for h.slots[i].used != 0 {
			i = (i + 1) & h.mask
		}
		h.slots[i] = s
	}
}

// grec is an item reduced to what its group needs.
type grec struct {
	from, to, res uint32
	idx           int32
}

// buildCore builds the arrays from validated items and reports same-prefix
// overlaps. Conflicting items are left out.
func buildCore(items []item) (*core, []Conflict) {
	// 1. Group ids: host routes get ids from the host table, wider prefixes
	// after them in first-seen order.
	var ht hostTab
	ht.grow()
	group := make([]uint32, len(items))
	var wide []pkey
	wideID := map[pkey]uint32{} // transient, build only
	for i := range items {
		k := items[i].k
		if k.host() {
			group[i] = ht.insert(k.hi, k.lo)
			continue
		}
		id, ok := wideID[k]
		if !ok {
			id = uint32(len(wide))
			wideID[k] = id
			wide = append(wide, k)
		}
		group[i] = ^id // temporarily: complemented wide id
	}
	nh := ht.n
	ng := int(nh) + len(wide)
	for i, g := range group {
		if !items[i].k.host() {
			group[i] = nh + ^g
		}
	}

	// 2. Counting sort of the items by group.
	start := make([]uint32, ng+1)
	for _, g := range group {
		start[g+1]++
	}
	for g := 1; g <= ng; g++ {
		start[g] += start[g-1]
	}
	grouped := make([]grec, len(items))
	fill := slices.Clone(start[:ng])
	for i := range items {
		g := group[i]
		it := &items[i]
		grouped[fill[g]] = grec{from: it.from, to: it.to, res: it.res, idx: it.idx}
		fill[g]++
	}
	fill, group = nil, nil

	// 3. Per group: sort by from, report overlaps, keep the rest.
	c := &core{recs: make([]rec, 0, len(items))}
	adviseHuge(c.recs[:cap(c.recs)], false)
	goff := make([]uint32, ng)
	gn := make([]uint32, ng)
	var conflicts []Conflict
	var bad []bool
	for g := 0; g < ng; g++ {
		gs := grouped[start[g]:start[g+1]]
		sortGroup(gs)
		goff[g] = uint32(len(c.recs))
		if len(bad) < len(gs) {
			bad = make([]bool, len(gs))
		}
		bad := bad[:len(gs)]
		clear(bad)
		anyBad := false
		maxJ := -1
		for j := range gs {
			if maxJ >= 0 && gs[j].from < gs[maxJ].to {
				a, b := int(gs[maxJ].idx), int(gs[j].idx)
				if a > b {
					a, b = b, a
				}
				conflicts = append(conflicts, Conflict{A: a, B: b, Reason: "overlapping assignments of the same prefix"})
				bad[j], bad[maxJ], anyBad = true, true, true
			}
			if maxJ < 0 || gs[j].to > gs[maxJ].to {
				maxJ = j
			}
		}
		for j := range gs {
			if !anyBad || !bad[j] {
				c.recs = append(c.recs, rec{from: gs[j].from, to: gs[j].to, res: gs[j].res})
			}
		}
		gn[g] = uint32(len(c.recs)) - goff[g]
	}
	grouped, start = nil, nil
	c.recs = slices.Clip(c.recs)

	// 4. Wider prefixes: nodes sorted by family and start, parents, ranges.
	c.nodes = make([]node, len(wide))
	for w, k := range wide {
		s := k.famStart()
		g := int(nh) + w
		c.nodes[w] = node{hi: s.hi, lo: s.lo, off: goff[g], n: gn[g], parent: noNode, bits: k.bits, v4: k.v4}
	}
	slices.SortFunc(c.nodes, func(x, y node) int {
		return pkeyCompare(pkey{hi: x.hi, lo: x.lo, bits: x.bits, v4: x.v4}, pkey{hi: y.hi, lo: y.lo, bits: y.bits, v4: y.v4})
	})
	n4, _ := slices.BinarySearchFunc(c.nodes, false, func(n node, _ bool) int {
		if n.v4 {
			return -1
		}
		return 1
	})
	b4, o4 := ranges(c.nodes, 0, n4, 32)
	c.b4 = make([]uint32, len(b4))
	for i, b := range b4 {
		c.b4[i] = uint32(b.lo)
	}
	c.o4 = o4
	if len(c.b4) > t4Min {
		// A first level on the top 16 bits: the binary search then runs
		// over the few ranges of one /16 instead of the whole array.
		c.t4 = make([]uint32, 1<<16+1)
		j := 0
		for x := 0; x <= 1<<16; x++ {
			for j < len(c.b4) && uint64(c.b4[j]) < uint64(x)<<16 {
				j++
			}
			c.t4[x] = uint32(j)
		}
	}
	c.b6, c.o6 = ranges(c.nodes, n4, len(c.nodes), 128)
	c.eoff, c.eff = flatten(c.nodes, c.recs)
	c.directory()

	// 5. Host slots: final record ranges and covering prefix.
	c.slots, c.mask = ht.slots, ht.mask
	for i := range c.slots {
		s := &c.slots[i]
		if s.used == 0 {
			continue
		}
		g := s.off
		s.off, s.n = goff[g], gn[g]
		s.fb = c.coverFB(s.hi, s.lo)
	}
	// Where the advice came too late (reused memory already faulted in with
	// small pages), collapse now.
	adviseHuge(c.slots, true)
	adviseHuge(c.recs, true)
	adviseHuge(c.nodes, true)
	return c, conflicts
}

func sortGroup(gs []grec) {
	less := func(a, b grec) bool {
		if a.from != b.from {
			return a.from < b.from
		}
		if a.to != b.to {
			return a.to < b.to
		}
		return a.idx < b.idx
	}
	if len(gs) <= 24 {
		for i := 1; i < len(gs); i++ {
			x := gs[i]
			j := i
			for j > 0 && less(x, gs[j-1]) {
				gs[j] = gs[j-1]
				j--
			}
			gs[j] = x
		}
		return
	}
	slices.SortFunc(gs, func(a, b grec) int {
		if less(a, b) {
			return -1
		}
		if less(b, a) {
			return 1
		}
		return 0
	})
}

func (a u128) less(b u128) bool { return a.hi < b.hi || (a.hi == b.hi && a.lo < b.lo) }

// lastAddr is the last address of a prefix of the given family width.
func lastAddr(n *node, width int) u128 {
	hostBits := width - int(n.bits)
	var mhi, mlo uint64
	switch {
	case hostBits >= 128:
		mhi, mlo = math.MaxUint64, math.MaxUint64
	case hostBits > 64:
		mhi, mlo = math.MaxUint64>>(128-hostBits), math.MaxUint64
	case hostBits > 0:
		mlo = math.MaxUint64 >> (64 - hostBits)
	}
	return u128{n.hi | mhi, n.lo | mlo}
}

// ranges sets the parent links of nodes[lo:hi] (sorted by start, then length)
// and returns the elementary ranges: starts ascending, each with the most
// specific node containing it (noNode where none does).
func ranges(nodes []node, lo, hi int, width int) ([]u128, []uint32) {
	famMax := u128{0, math.MaxUint32}
	if width == 128 {
		famMax = u128{math.MaxUint64, math.MaxUint64}
	}
	var starts []u128
	var owners []uint32
	emit := func(s u128, o uint32) {
		if k := len(starts); k > 0 && starts[k-1] == s {
			owners[k-1] = o
			return
		}
		starts = append(starts, s)
		owners = append(owners, o)
	}
	var stack []uint32
	pop := func() {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		top := uint32(noNode)
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		end := lastAddr(&nodes[x], width)
		if end != famMax {
			next := u128{end.hi, end.lo + 1}
			if next.lo == 0 {
				next.hi++
			}
			emit(next, top)
		}
	}
	for i := lo; i < hi; i++ {
		n := &nodes[i]
		s := u128{n.hi, n.lo}
		for len(stack) > 0 && lastAddr(&nodes[stack[len(stack)-1]], width).less(s) {
			pop()
		}
		if len(stack) > 0 {
			n.parent = stack[len(stack)-1]
		}
		stack = append(stack, uint32(i))
		emit(s, uint32(i))
	}
	for len(stack) > 0 {
		pop()
	}
	return slices.Clip(starts), slices.Clip(owners)
}

// t4Min is the number of IPv4 ranges from which the first level is built
// (tests lower it).
var t4Min = 4096

// cover returns the most specific wider prefix containing the address, or
// noNode.
func (c *core) cover(hi, lo uint64) uint32 {
	if isV4Key(hi, lo) {
		a := uint32(lo)
		b := c.b4
		l, h := 0, len(b)
		if c.t4 != nil {
			l, h = int(c.t4[a>>16]), int(c.t4[a>>16+1])
		}
		for l < h {
			m := int(uint(l+h) >> 1)
			if b[m] <= a {
				l = m + 1
			} else {
				h = m
			}
		}
		if l == 0 {
			return noNode
		}
		return c.o4[l-1]
	}
	b := c.b6
	l, h := 0, len(b)
	for l < h {
		m := int(uint(l+h) >> 1)
		if b[m].hi < hi || (b[m].hi == hi && b[m].lo <= lo) {
			l = m + 1
		} else {
			h = m
		}
	}
	if l == 0 {
		return noNode
	}
	return c.o6[l-1]
}

// d4 and d4b entries: fb+1 of the range a whole /16 or /24 lies in (0: no
// wider prefix contains it), dirBlock+b for a /16 whose /24s are at
// d4b[b<<8:], or dirSearch where ranges start inside: search b4.
const (
	dirBlock  = 1 << 31
	dirSearch = math.MaxUint32
)

// dirMin is the number of ranges starting inside a /16 from which its /24s
// get entries (fewer: a short binary search). It bounds d4b at 32 bytes per
// range (tests lower it).
var dirMin = 32

// directory builds d4 and d4b.
func (c *core) directory() {
	if c.t4 == nil || len(c.eff) >= effMaxLen-1 {
		return
	}
	// starts reports whether a range starts in (a, a+size).
	starts := func(a, size uint32) bool {
		j, _ := slices.BinarySearch(c.b4, a+1)
		return j < len(c.b4) && uint64(c.b4[j]) < uint64(a)+uint64(size)
	}
	entry := func(a uint32) uint32 {
		if fb := c.fbOf(c.cover(0, 0xffff<<32|uint64(a))); fb != noNode {
			return fb + 1
		}
		return 0
	}
	c.d4 = make([]uint32, 1<<16)
	for x := range 1 << 16 {
		a := uint32(x) << 16
		if !starts(a, 1<<16) {
			c.d4[x] = entry(a)
			continue
		}
		if c.t4[x+1]-c.t4[x] < uint32(dirMin) {
			c.d4[x] = dirSearch
			continue
		}
		c.d4[x] = dirBlock + uint32(len(c.d4b)>>8)
		for y := range 256 {
			e := uint32(dirSearch)
			if b := a | uint32(y)<<8; !starts(b, 1<<8) {
				e = entry(b)
			}
			c.d4b = append(c.d4b, e)
		}
	}
	c.d4b = slices.Clip(c.d4b)
}

// coverFB returns the fallback list of the most specific wider prefix
// containing the address, or noNode.
func (c *core) coverFB(hi, lo uint64) uint32 {
	if c.d4 != nil && isV4Key(hi, lo) {
		a := uint32(lo)
		e := c.d4[a>>16]
		if e >= dirBlock && e != dirSearch {
			e = c.d4b[(e-dirBlock)<<8|a>>8&0xff]
		}
		if e < dirBlock {
			return e - 1 // 0 - 1 is noNode
		}
	}
	return c.fbOf(c.cover(hi, lo))
}

// fbOf returns the eff index of node p's fallback list, or noNode.
func (c *core) fbOf(p uint32) uint32 {
	if p == noNode {
		return noNode
	}
	return c.eoff[p]
}

// flatten computes every node's fallback chain as one sorted list of pieces:
// the node's own records, and in their gaps the parent's list. Parents sort
// before their children, so a parent's list is ready when its children need
// it. A list longer than 2×own+effSlack pieces is not kept (nor are its
// descendants'), which bounds the whole at 2×records + (1+effSlack)×nodes
// entries.
func flatten(nodes []node, recs []rec) ([]uint32, []seg) {
	eoff := make([]uint32, len(nodes))
	eff := make([]seg, 0, len(nodes)*4)
	for p := range nodes {
		nd := &nodes[p]
		h := len(eff)
		eoff[p] = uint32(h)
		eff = append(eff, seg{node: uint32(p)}) // the header
		var par []seg
		if q := nd.parent; q != noNode {
			ph := eff[eoff[q]]
			par = eff[eoff[q]+1 : eoff[q]+1+ph.from]
			if ph.to == effSlow {
				eff[h].to = effSlow
				continue
			}
		}
		if len(nodes) >= effMaxNodes || h >= effMaxLen {
			eff[h].to = effSlow
			continue
		}
		j := 0
		// fill appends the parent's pieces clipped to the gap [a, b).
		fill := func(a, b uint32) {
			if a >= b {
				return
			}
			for j < len(par) && par[j].to <= a {
				j++
			}
			for k := j; k < len(par) && par[k].from < b; k++ {
				s := par[k]
				s.from, s.to = max(s.from, a), min(s.to, b)
				eff = append(eff, s)
			}
		}
		end := uint32(tSince)
		for _, r := range recs[nd.off : nd.off+nd.n] {
			fill(end, r.from)
			eff = append(eff, seg{from: r.from, to: r.to, res: r.res, node: uint32(p)<<8 | uint32(nd.bits)})
			end = r.to
		}
		fill(end, tOpen)
		if n := len(eff) - h - 1; n > 2*int(nd.n)+effSlack {
			eff = eff[:h+1]
			eff[h].to = effSlow
		} else {
			eff[h].from = uint32(n)
		}
	}
	eff = slices.Clone(eff) // the exact size: Bytes counts it
	adviseHuge(eff, true)
	return eoff, eff
}
