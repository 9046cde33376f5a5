// Package demodata is demo data: a synthetic provider's address space and
// inventory, deterministic from a seed.
//
// A Provider is a plan of a few thousand address blocks with their counts;
// everything else (each address's assignment history, each resource, each
// host name) is a pure function of the seed and an index. So the files are
// written as a stream at any size (WriteRanges, WriteInventory), and the
// verdict attribution must give for an (address, time) is computed from the
// plan without reading them back (Probes).
//
// The space is reserved or clearly synthetic, nobody's real network: IPv4
// from 100.64.0.0/10 (shared address space, RFC 6598) and 198.18.0.0/15
// (benchmarking, RFC 2544), IPv6 from 2001:db8::/32 (documentation, RFC
// 3849). Addresses that are not ours come from the TEST-NETs (RFC 5737),
// 3fff::/20 (RFC 9637) and the holes left in those blocks. Account mail
// domains are under .example (RFC 2606).
//
// What the inventory holds, as a cloud provider's would:
//   - EC2 blocks: elastic IPs (long holds, moving between accounts),
//     instances (autoscaling churn over the last Span/8), NAT gateways;
//     wider prefixes held by one resource with single addresses inside held
//     by others: IPv4 /24 address pools and /28 subnets, IPv6 /56 VPCs and
//     /64 subnets;
//   - ELB blocks: load balancers whose addresses churn;
//   - SES blocks: dedicated sending addresses, held for months;
//   - S3 and CLOUDFRONT blocks: no customer holds their addresses (a report
//     about one is "ours, unassigned"); buckets, distributions and SES
//     identities hold host names instead (exact names and *. wildcards,
//     some changing hands over time).
//
// Intervals are half-open [from, to) in whole seconds; a hold still running
// at Now has no to. Gaps between holds are times when nobody held the
// address.
package demodata

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"time"
)

// Config says what to generate. Zero fields take their defaults.
type Config struct {
	Seed uint64
	// Addresses is the number of single addresses (/32, /128) with an
	// assignment history; 0 means 300,000.
	Addresses int
	// Intervals is the mean number of holds per address: each address has
	// between 1 and 2×Intervals−1, and all of them together exactly
	// Addresses×Intervals. 0 means 3.
	Intervals int
	// Wider is the number of wider prefixes (IPv4 /24 and /28, IPv6 /56 and
	// /64), each held once by its own resource; 0 means Addresses/50, a
	// negative value none. It is capped at half of what the EC2 blocks
	// can hold (about 300,000).
	Wider int
	// Hosts is the number of host names (exact and *. wildcards) with one to
	// three holders over time; 0 means Addresses/100, at least 64.
	Hosts int
	// Now ends the history: nothing starts after it and the holds still
	// running are open. Zero means today at 00:00 UTC.
	Now time.Time
	// Span is how far back the history goes; 0 means 730 days.
	Span time.Duration
}

// ForRecords is a configuration with exactly records assignment lines in
// the benchmark's shape (DESIGN.md measures the index on 10M records over 1M
// addresses and 200k wider prefixes): 10 holds per address and 2% of the
// records for wider prefixes. 10,000,000 gives 980,000 addresses and
// 200,000 wider prefixes. Beyond about 15M records the wider prefixes hit
// their cap (Config.Wider) and Stats.Assignments falls short of records.
func ForRecords(records int) Config {
	const intervals = 10
	if records < 50 { // too few for the shape: one address holds them all
		return Config{Addresses: 1, Intervals: max(1, records), Wider: -1}
	}
	wider := records / 50
	addrs := (records - wider) / intervals
	wider = records - addrs*intervals // the remainder too: exactly records
	return Config{Addresses: addrs, Intervals: intervals, Wider: wider}
}

// Stats counts what the files hold.
type Stats struct {
	Prefixes     int // distinct prefixes of ip-ranges.json
	RangeEntries int // its entries (a prefix under AMAZON and a service counts twice)
	Accounts     int
	Resources    int
	Assignments  int // assignment lines: Addresses×Intervals + wider prefixes
	Wider        int // of which wider prefixes
	Hostnames    int // hostname lines
}

// Provider is one synthetic provider. It is immutable and safe for
// concurrent use.
type Provider struct {
	cfg       Config
	seed      uint64
	now, span int64 // Unix seconds, seconds

	blocks []block     // sorted by family then start; disjoint
	aggs   []aggregate // AMAZON-only supernets over some blocks
	addrN  int         // single addresses: Σ blocks[i].n
	widerN int         // Σ layers' w
	hostN  int
	acctN  int
	// Resources are numbered globally: the blocks' pools, then the wider
	// prefixes' holders, then distributions, buckets, identities (rs).
	distRes, bucketRes, identRes int
	distN, bucketN, identN       int
	resN                         int
	rs                           []resRange
	stats                        Stats
}

type block struct {
	prefix   netip.Prefix
	svc      string
	region   string
	nbg      string
	key      uint64
	n        int // single addresses with a history
	cumN     int // single addresses in the blocks before
	pool     int // global index of the first resource holding its addresses
	npool    int
	eip, nat int      // EC2 pool: [0,eip) elastic IPs, [eip, npool-nat) instances, the rest NAT gateways
	layers   [2]layer // wider prefixes, most specific first
}

type layer struct {
	bits int // prefix length: 28 or 24 (IPv4), 64 or 56 (IPv6)
	cap  int
	w    int // held prefixes
	res  int // global index of the holder of the first one
	cumW int // wider prefixes in the layers before
	key  uint64
}

type aggregate struct {
	prefix netip.Prefix
	region string
}

const (
	defaultAddresses = 300_000
	defaultIntervals = 3
	v6Share          = 0.15 // of the single addresses
	v6Blocks         = 160  // /48s of 2001:db8::/32
	minHosts         = 64
)

// Salts keep the random streams of different things apart.
const (
	saltRanges uint64 = iota + 0x5eed_0000_0000
	saltBlock
	saltAddr
	saltPair
	saltWider
	saltHost
	saltRes
	saltAcct
	saltProbe
	saltReassign
	saltName
)

// New plans a provider. It fails on a configuration it cannot honour.
func New(cfg Config) (*Provider, error) {
	if cfg.Addresses == 0 {
		cfg.Addresses = defaultAddresses
	}
	if cfg.Intervals == 0 {
		cfg.Intervals = defaultIntervals
	}
	if cfg.Wider == 0 {
		cfg.Wider = cfg.Addresses / 50
	}
	if cfg.Hosts == 0 {
		cfg.Hosts = max(minHosts, cfg.Addresses/100)
	}
	if cfg.Now.IsZero() {
		cfg.Now = time.Now().UTC().Truncate(24 * time.Hour)
	}
	cfg.Now = cfg.Now.UTC().Truncate(time.Second)
	if cfg.Span == 0 {
		cfg.Span = 730 * 24 * time.Hour
	}
	switch {
	case cfg.Addresses < 0 || cfg.Intervals < 0 || cfg.Hosts < 0:
		return nil, errors.New("demodata: negative count")
	case cfg.Addresses > 1<<40:
		return nil, errors.New("demodata: too many addresses")
	case cfg.Span < 24*time.Hour:
		return nil, errors.New("demodata: the history must span at least a day")
	case cfg.Now.Unix()-int64(cfg.Span/time.Second) < 0:
		return nil, errors.New("demodata: the history must start after 1970")
	}
	p := &Provider{cfg: cfg, seed: cfg.Seed, now: cfg.Now.Unix(), span: int64(cfg.Span / time.Second)}
	p.carve()
	if err := p.placeAddresses(); err != nil {
		return nil, err
	}
	p.placeWider(max(cfg.Wider, 0))
	p.placeResources()
	p.rs = p.resRanges()
	p.count()
	return p, nil
}

// Config returns the configuration with its defaults filled in.
func (p *Provider) Config() Config { return p.cfg }

// Stats counts what WriteRanges and WriteInventory write.
func (p *Provider) Stats() Stats { return p.stats }

var regions = []string{"us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-west-3", "eu-central-1", "ap-northeast-1", "ca-central-1", "sa-east-1"}

// pickService chooses a block's service; "AMAZON" is a block listed only
// under AMAZON (the provider's own use).
func pickService(r *rand.Rand, v6 bool) string {
	u := r.Float64()
	if v6 {
		switch {
		case u < 0.62:
			return "EC2"
		case u < 0.72:
			return "ELB"
		case u < 0.82:
			return "S3"
		case u < 0.92:
			return "CLOUDFRONT"
		case u < 0.95:
			return "SES"
		}
		return "AMAZON"
	}
	switch {
	case u < 0.55:
		return "EC2"
	case u < 0.65:
		return "ELB"
	case u < 0.75:
		return "S3"
	case u < 0.83:
		return "CLOUDFRONT"
	case u < 0.88:
		return "SES"
	}
	return "AMAZON"
}

func (p *Provider) newBlock(r *rand.Rand, pf netip.Prefix) block {
	b := block{prefix: pf, svc: pickService(r, pf.Addr().Is6())}
	b.region = regions[r.IntN(len(regions))]
	b.nbg = b.region
	switch {
	case b.svc == "CLOUDFRONT":
		b.region, b.nbg = "GLOBAL", "GLOBAL"
	case b.svc == "EC2" && b.region == "us-west-2" && r.IntN(4) == 0:
		b.nbg = "us-west-2-lax-1" // a local zone: its own border group, as AWS lists them
	}
	return b
}

// carve lays out the address space: IPv4 pools cut into /19–/24 blocks (a
// few left out: holes that are not ours), 160 IPv6 /48s, and some AMAZON
// /16 supernets as AWS lists them.
func (p *Provider) carve() {
	r := rand.New(rand.NewPCG(p.seed, saltRanges))
	type pool struct {
		start   netip.Prefix
		lens    []int
		weights []float64
	}
	pools := []pool{
		{netip.MustParsePrefix("100.64.0.0/10"), []int{19, 20, 21, 22, 23, 24}, []float64{0.05, 0.45, 0.2, 0.15, 0.08, 0.07}},
		{netip.MustParsePrefix("198.18.0.0/15"), []int{22, 23, 24}, []float64{0.4, 0.3, 0.3}},
	}
	for _, pl := range pools {
		start := v4u(pl.start.Addr())
		end := uint64(start) + 1<<(32-pl.start.Bits())
		for pos := uint64(start); pos < end; {
			bits := pl.lens[len(pl.lens)-1]
			u, acc := r.Float64(), 0.0
			for i, w := range pl.weights {
				if acc += w; u < acc {
					bits = pl.lens[i]
					break
				}
			}
			for pos&(1<<(32-bits)-1) != 0 { // keep blocks aligned
				bits++
			}
			pf := netip.PrefixFrom(u32v4(uint32(pos)), bits)
			pos += 1 << (32 - bits)
			if r.Float64() < 0.08 {
				continue // a hole: not ours
			}
			p.blocks = append(p.blocks, p.newBlock(r, pf))
		}
	}
	// Supernets: a quarter of the /16s of 100.64.0.0/10 are also listed as
	// AMAZON aggregates, so their holes are ours (unassigned), not others'.
	for i := range 64 {
		if r.IntN(4) == 0 {
			pf := netip.PrefixFrom(u32v4(100<<24|uint32(64+i)<<16), 16)
			p.aggs = append(p.aggs, aggregate{pf, regions[r.IntN(len(regions))]})
		}
	}
	k6 := r.Uint64()
	var v6 []netip.Prefix
	for i := range v6Blocks {
		j := permute(uint64(i), 16, k6)
		var b [16]byte
		b[0], b[1], b[2], b[3] = 0x20, 0x01, 0x0d, 0xb8
		b[4], b[5] = byte(j>>8), byte(j)
		v6 = append(v6, netip.PrefixFrom(netip.AddrFrom16(b), 48))
	}
	slices.SortFunc(v6, func(a, b netip.Prefix) int { return a.Addr().Compare(b.Addr()) })
	for _, pf := range v6 {
		p.blocks = append(p.blocks, p.newBlock(r, pf))
	}
	for i := range p.blocks {
		p.blocks[i].key = mix64(p.seed ^ saltBlock ^ uint64(i)*0x9e3779b97f4a7c15)
	}
}

// holdsAddresses tells the services whose addresses customers hold.
func holdsAddresses(svc string) bool { return svc == "EC2" || svc == "ELB" || svc == "SES" }

// placeAddresses spreads the single addresses: IPv4 blocks in proportion
// to their size (at most half of a block), 15% (and whatever IPv4 cannot
// take) in IPv6.
func (p *Provider) placeAddresses() error {
	var idx []int
	var w []float64
	var caps []int
	for i, b := range p.blocks {
		if !holdsAddresses(b.svc) || b.prefix.Addr().Is6() {
			continue
		}
		size := 1 << (32 - b.prefix.Bits())
		f := map[string]float64{"EC2": 1, "ELB": 0.6, "SES": 0.3}[b.svc]
		idx, w, caps = append(idx, i), append(w, float64(size)*f), append(caps, size/2)
	}
	n4 := int(math.Round(float64(p.cfg.Addresses) * (1 - v6Share)))
	got := allocate(n4, w, caps)
	placed := 0
	for j, i := range idx {
		p.blocks[i].n = got[j]
		placed += got[j]
	}
	idx, w, caps = idx[:0], w[:0], caps[:0]
	for i, b := range p.blocks {
		if holdsAddresses(b.svc) && b.prefix.Addr().Is6() {
			f := map[string]float64{"EC2": 1, "ELB": 0.5, "SES": 0.2}[b.svc]
			idx, w, caps = append(idx, i), append(w, f), append(caps, 1<<40)
		}
	}
	got = allocate(p.cfg.Addresses-placed, w, caps)
	for j, i := range idx {
		p.blocks[i].n = got[j]
		placed += got[j]
	}
	if placed != p.cfg.Addresses {
		return fmt.Errorf("demodata: placed %d addresses of %d", placed, p.cfg.Addresses)
	}
	cum := 0
	for i := range p.blocks {
		p.blocks[i].cumN = cum
		cum += p.blocks[i].n
	}
	p.addrN = cum
	return nil
}

// placeWider spreads the wider prefixes over the EC2 blocks' layers in
// proportion to what they can hold, at most half of each.
func (p *Provider) placeWider(total int) {
	type ref struct{ b, l int }
	var refs []ref
	var w []float64
	var caps []int
	for i := range p.blocks {
		b := &p.blocks[i]
		if b.svc != "EC2" {
			continue
		}
		if b.prefix.Addr().Is4() {
			s := 32 - b.prefix.Bits()
			b.layers[0] = layer{bits: 28, cap: 1 << (s - 4)}
			if b.prefix.Bits() <= 22 {
				b.layers[1] = layer{bits: 24, cap: 1 << (s - 8)}
			}
		} else {
			b.layers[0] = layer{bits: 64, cap: 1 << 12} // 16 /64s in each of the 256 /56s
			b.layers[1] = layer{bits: 56, cap: 1 << 8}
		}
		for l := range b.layers {
			if c := b.layers[l].cap; c > 0 {
				b.layers[l].key = mix64(b.key ^ uint64(l+1)*0xbf58476d1ce4e5b9)
				f := 1.0
				if b.layers[l].bits == 64 {
					f = 0.25 // leave room for IPv4 /28s
				}
				refs, w, caps = append(refs, ref{i, l}), append(w, float64(c)*f), append(caps, c/2)
			}
		}
	}
	got := allocate(total, w, caps)
	cum := 0
	for j, rf := range refs {
		ly := &p.blocks[rf.b].layers[rf.l]
		ly.w, ly.cumW = got[j], cum
		cum += got[j]
	}
	p.widerN = cum
}

// placeResources numbers the resources: each address block's pool (about
// one resource for two addresses, so holders recur), one holder per wider
// prefix, then the host names' distributions, buckets and identities.
func (p *Provider) placeResources() {
	g := 0
	for i := range p.blocks {
		b := &p.blocks[i]
		if b.n == 0 {
			continue
		}
		b.pool = g
		// A few holders even for few addresses, so that a reassignment
		// usually changes hands.
		b.npool = max(4, b.n/2)
		if b.svc == "EC2" {
			b.npool = max(8, b.npool)
			b.eip = max(2, b.npool*30/100)
			b.nat = max(1, b.npool*5/100)
		}
		g += b.npool
	}
	for i := range p.blocks {
		for l := range p.blocks[i].layers {
			ly := &p.blocks[i].layers[l]
			ly.res = g
			g += ly.w
		}
	}
	p.hostN = p.cfg.Hosts
	p.distN, p.bucketN, p.identN = p.hostN*5/16+1, p.hostN/4+1, p.hostN/8+1
	p.distRes, g = g, g+p.distN
	p.bucketRes, g = g, g+p.bucketN
	p.identRes, g = g, g+p.identN
	p.resN = g
	p.acctN = max(20, p.cfg.Addresses/50)
}

func (p *Provider) count() {
	s := Stats{Accounts: p.acctN, Resources: p.resN, Wider: p.widerN}
	s.Assignments = p.addrN*p.cfg.Intervals + p.widerN
	g := newGen()
	for h := range p.hostN {
		s.Hostnames += len(p.hostHistory(g, h))
	}
	s.Prefixes = len(p.blocks) + len(p.aggs)
	s.RangeEntries = len(p.aggs)
	for _, b := range p.blocks {
		s.RangeEntries++
		if b.svc != "AMAZON" {
			s.RangeEntries++
		}
	}
	p.stats = s
}

// allocate splits total over slots in proportion to weight, none above its
// cap (water-filling); the counts sum to min(total, Σcap).
func allocate(total int, weight []float64, caps []int) []int {
	out := make([]int, len(weight))
	fixed := make([]bool, len(weight))
	for {
		rem, wsum := total, 0.0
		for i := range weight {
			if fixed[i] {
				rem -= out[i]
			} else {
				wsum += weight[i]
			}
		}
		if wsum == 0 || rem <= 0 {
			for i := range out {
				if !fixed[i] {
					out[i] = 0
				}
			}
			return out
		}
		over := false
		cum, prev := 0.0, 0
		for i := range weight {
			if fixed[i] {
				continue
			}
			cum += weight[i]
			// Cumulative rounding: the parts sum to rem exactly.
			next := int(math.Round(float64(rem) * cum / wsum))
			out[i], prev = next-prev, next
			over = over || out[i] > caps[i]
		}
		if !over {
			return out
		}
		for i := range weight {
			if !fixed[i] && out[i] > caps[i] {
				out[i], fixed[i] = caps[i], true
			}
		}
	}
}
