package demodata

// Where things are: the k-th address of a block and back, the i-th wider
// prefix of a layer and back. Both directions are O(1) bijections, so that a
// probe can tell which (block, k) an arbitrary address is without a table.
//
// IPv4 block of 2^s addresses: address k is start + permute(k, s); a
// layer of /L prefixes numbers them j = 0 .. 2^(L-bits)-1 and holds
// j = permute(i, L-bits) for i < w.
//
// IPv6 block (a /48): byte 6 is the /56 (a VPC), byte 7 the /64 inside it
// (a subnet, 0..15 used), bytes 8..15 the interface id. Address k is
// VPC k&255, subnet (k>>8)&15, interface id permute(k>>12, 64); the /64
// layer numbers subnets j = vpc<<4 | subnet, the /56 layer VPCs.

import (
	"encoding/binary"
	"net/netip"
	"sort"
)

// Odd multipliers (bijective modulo any power of two) and their inverses.
const (
	m1 = 0x9e3779b97f4a7c15
	m2 = 0xd6e8feb86659fd93
)

var m1inv, m2inv = inverse(m1), inverse(m2)

// inverse is the multiplicative inverse of an odd number modulo 2^64
// (Newton's iteration doubles the correct bits each step).
func inverse(m uint64) uint64 {
	x := m
	for range 6 {
		x *= 2 - m*x
	}
	return x
}

// permute is a keyed bijection of [0, 2^s). Each step is invertible on s
// bits: xor, odd multiply, and x ^= x>>r with 2r ≥ s (its own inverse).
func permute(x uint64, s uint, key uint64) uint64 {
	mask := uint64(1)<<s - 1 // s = 64: Go's shift gives 0, mask all ones
	r := (s + 1) / 2
	x = (x ^ key) & mask
	x = x * m1 & mask
	x ^= x >> r
	x = x * m2 & mask
	x ^= x >> r
	return (x ^ key>>32) & mask
}

func unpermute(y uint64, s uint, key uint64) uint64 {
	mask := uint64(1)<<s - 1
	r := (s + 1) / 2
	y = (y ^ key>>32) & mask
	y ^= y >> r
	y = y * m2inv & mask
	y ^= y >> r
	y = y * m1inv & mask
	return (y ^ key) & mask
}

// mix64 is splitmix64's finaliser: a hash of 64 bits.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

func v4u(a netip.Addr) uint32 { b := a.As4(); return binary.BigEndian.Uint32(b[:]) }

func u32v4(x uint32) netip.Addr {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], x)
	return netip.AddrFrom4(b)
}

func (b *block) v6() bool { return b.prefix.Addr().Is6() }

// hostBits is the size of a block in bits (IPv4 only).
func (b *block) hostBits() uint { return uint(32 - b.prefix.Bits()) }

// addr is the block's k-th single address.
func (b *block) addr(k int) netip.Addr {
	if !b.v6() {
		return u32v4(v4u(b.prefix.Addr()) + uint32(permute(uint64(k), b.hostBits(), b.key)))
	}
	a := b.prefix.Addr().As16()
	a[6], a[7] = byte(k), byte(k>>8)&15
	binary.BigEndian.PutUint64(a[8:], permute(uint64(k)>>12, 64, b.key))
	return netip.AddrFrom16(a)
}

// index is the inverse of addr: ok when a is one of the block's single
// addresses.
func (b *block) index(a netip.Addr) (int, bool) {
	if !b.v6() {
		k := unpermute(uint64(v4u(a)-v4u(b.prefix.Addr())), b.hostBits(), b.key)
		return int(k), k < uint64(b.n)
	}
	x := a.As16()
	if x[7] >= 16 {
		return 0, false
	}
	q := unpermute(binary.BigEndian.Uint64(x[8:]), 64, b.key)
	if q >= uint64(b.n)>>12+1 {
		return 0, false
	}
	k := q<<12 | uint64(x[7])<<8 | uint64(x[6])
	return int(k), k < uint64(b.n)
}

// slotBits is the number of bits numbering a layer's prefixes.
func (b *block) slotBits(ly *layer) uint {
	if b.v6() {
		if ly.bits == 64 {
			return 12
		}
		return 8
	}
	return uint(ly.bits - b.prefix.Bits())
}

// wider is the layer's i-th held prefix.
func (b *block) wider(ly *layer, i int) netip.Prefix {
	j := permute(uint64(i), b.slotBits(ly), ly.key)
	if !b.v6() {
		start := v4u(b.prefix.Addr()) + uint32(j)<<(32-ly.bits)
		return netip.PrefixFrom(u32v4(start), ly.bits)
	}
	a := b.prefix.Addr().As16()
	if ly.bits == 64 {
		a[6], a[7] = byte(j>>4), byte(j&15)
	} else {
		a[6] = byte(j)
	}
	return netip.PrefixFrom(netip.AddrFrom16(a), ly.bits)
}

// widerOf returns i such that wider(ly, i) contains a (a in the block).
func (b *block) widerOf(ly *layer, a netip.Addr) (int, bool) {
	var j uint64
	if !b.v6() {
		j = uint64(v4u(a)-v4u(b.prefix.Addr())) >> (32 - ly.bits)
	} else {
		x := a.As16()
		if ly.bits == 64 {
			if x[7] >= 16 {
				return 0, false
			}
			j = uint64(x[6])<<4 | uint64(x[7])
		} else {
			j = uint64(x[6])
		}
	}
	i := unpermute(j, b.slotBits(ly), ly.key)
	return int(i), i < uint64(ly.w)
}

// blockOf finds the block containing a, or -1.
func (p *Provider) blockOf(a netip.Addr) int {
	a = a.Unmap()
	// Blocks are sorted, IPv4 first, and disjoint: the last start ≤ a.
	i := sort.Search(len(p.blocks), func(i int) bool { return p.blocks[i].prefix.Addr().Compare(a) > 0 }) - 1
	if i >= 0 && p.blocks[i].prefix.Contains(a) {
		return i
	}
	return -1
}

func (p *Provider) aggregateOf(a netip.Addr) (aggregate, bool) {
	for _, g := range p.aggs {
		if g.prefix.Contains(a) {
			return g, true
		}
	}
	return aggregate{}, false
}

// blockByAddress finds the block holding the x-th single address overall.
func (p *Provider) blockByAddress(x int) int {
	return sort.Search(len(p.blocks), func(i int) bool { return p.blocks[i].cumN+p.blocks[i].n > x })
}

// layerByWider finds the (block, layer) holding the x-th wider prefix.
func (p *Provider) layerByWider(x int) (int, int) {
	for i := range p.blocks {
		for l := range p.blocks[i].layers {
			ly := &p.blocks[i].layers[l]
			if ly.w > 0 && x >= ly.cumW && x < ly.cumW+ly.w {
				return i, l
			}
		}
	}
	return -1, -1
}
