package attribution

// Benchmarks on a synthetic provider (seeded, deterministic): by default
// 1,000,000 host addresses (80% IPv4, 20% IPv6) with 10 intervals each of
// reassignment history (10M records), plus 200,000 wider prefixes (/16, /20,
// /24, /48, /56) with 1–2 intervals each. Benchmarks only run with -bench;
// the data set is generated once per run and shared. ABUSEDESK_BENCH_HOSTS
// scales the host count.
//
//	go test -run=NONE -bench=. -benchtime=2s ./internal/attribution/
//	ABUSEDESK_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable go test -run=NONE -bench=. ./internal/attribution/

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	benchIntervals = 10
	benchWide      = 200_000
	benchBatch     = 1024
	benchQueries   = 1 << 20
)

var (
	histStart = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	histEnd   = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
)

type benchData struct {
	as      []Assignment
	hosts   []netip.Addr
	qAddr   []netip.Addr
	qTime   []time.Time
	ix      *Index
	buildS  float64
	records int

	singleOnce sync.Once
	singleNs   float64 // single-lookup cost on all the queries
}

// single measures, once per run, the single-lookup cost on the same queries
// as the batched benchmark, so that the batched figure comes with a ratio
// from the same run (the machine is shared and noisy).
func (d *benchData) single() float64 {
	d.singleOnce.Do(func() { d.singleNs = indexNs(d.ix, d.qAddr, d.qTime) })
	return d.singleNs
}

var (
	benchOnce sync.Once
	bench     *benchData
)

func benchHosts() int {
	if s := os.Getenv("ABUSEDESK_BENCH_HOSTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err == nil && n > 0 {
			return n
		}
	}
	return 1_000_000
}

func v4(x uint32) netip.Addr {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], x)
	return netip.AddrFrom4(b)
}

func v6(hi, lo uint64) netip.Addr {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], hi)
	binary.BigEndian.PutUint64(b[8:], lo)
	return netip.AddrFrom16(b)
}

// the provider's space: IPv4 3.0.0.0/8 and 52.0.0.0/8, IPv6 2600:1f00::/24.
func v4Space(i uint32) uint32 { // i < 2^25, a permutation of the two /8s
	j := (i * 2654435761) & (1<<25 - 1)
	if j < 1<<24 {
		return 3<<24 | j
	}
	return 52<<24 | (j - 1<<24)
}

const v6Base = 0x26001f0000000000

func genBench(nHosts int) *benchData {
	rng := rand.New(rand.NewPCG(1, 2))
	span := histEnd.Unix() - histStart.Unix()
	d := &benchData{}
	d.as = make([]Assignment, 0, nHosts*benchIntervals+benchWide*2) // wide prefixes have 1–2 intervals
	res := uint32(1)
	history := func(p netip.Prefix, n int) {
		// n intervals in [histStart, histEnd), with gaps, the last one open half of the time.
		cuts := make([]int64, 2*n)
		for k := range cuts {
			cuts[k] = rng.Int64N(span)
		}
		sortInt64(cuts)
		for k := 0; k < n; k++ {
			from, to := cuts[2*k], cuts[2*k+1]
			if to == from {
				continue // empty: skip (the neighbours may touch it)
			}
			a := Assignment{Prefix: p, From: time.Unix(histStart.Unix()+from, 0), To: time.Unix(histStart.Unix()+to, 0), Resource: res}
			if k == n-1 && rng.IntN(2) == 0 {
				a.To = time.Time{}
			}
			res++
			d.as = append(d.as, a)
		}
	}
	d.hosts = make([]netip.Addr, nHosts)
	for i := range nHosts {
		var a netip.Addr
		if i%5 != 4 {
			a = v4(v4Space(uint32(i)))
		} else {
			hi := uint64(v6Base) | uint64(rng.IntN(1<<16))<<16 | uint64(rng.IntN(4))<<8
			a = v6(hi, uint64(i)*0x9e3779b97f4a7c15)
		}
		d.hosts[i] = a
		history(netip.PrefixFrom(a, a.BitLen()), benchIntervals)
	}
	// Wider prefixes: 512 /16, 8,192 /20, 120,000 /24 in the IPv4 space;
	// 50,000 /48 and the rest /56 in the IPv6 space.
	nw := 0
	wide := func(p netip.Prefix) {
		history(p, 1+rng.IntN(2))
		nw++
	}
	for i := range 512 {
		base := uint32(3 << 24)
		if i >= 256 {
			base = 52 << 24
		}
		wide(netip.PrefixFrom(v4(base|uint32(i%256)<<16), 16))
	}
	for i := range 8192 {
		x := uint32(i) * 2654435761 & (1<<12 - 1) // distinct /20s of one /8
		base := uint32(3 << 24)
		if i >= 4096 {
			base = 52 << 24
		}
		wide(netip.PrefixFrom(v4(base|x<<12), 20))
	}
	for i := range 120_000 {
		j := uint32(i) * 2654435761 & (1<<17 - 1)
		base, x := uint32(3<<24), j
		if j >= 1<<16 {
			base, x = 52<<24, j-1<<16
		}
		wide(netip.PrefixFrom(v4(base|x<<8), 24))
	}
	for i := range 50_000 {
		wide(netip.PrefixFrom(v6(v6Base|uint64(i)<<16, 0), 48))
	}
	for i := 0; nw < benchWide; i++ {
		wide(netip.PrefixFrom(v6(v6Base|uint64(i%(1<<16))<<16|uint64(i/(1<<16)+1)<<8, 0), 56))
	}
	// Queries: 90% a known host, 10% any address of the provider's space; times uniform over the history.
	d.qAddr = make([]netip.Addr, benchQueries)
	d.qTime = make([]time.Time, benchQueries)
	for q := range benchQueries {
		if rng.IntN(10) != 0 {
			d.qAddr[q] = d.hosts[rng.IntN(nHosts)]
		} else if rng.IntN(5) != 0 {
			d.qAddr[q] = v4(v4Space(uint32(rng.IntN(1 << 25))))
		} else {
			d.qAddr[q] = v6(uint64(v6Base)|uint64(rng.IntN(1<<16))<<16|uint64(rng.IntN(4))<<8, rng.Uint64())
		}
		d.qTime[q] = time.Unix(histStart.Unix()+rng.Int64N(span), 0)
	}
	return d
}

func sortInt64(x []int64) {
	for i := 1; i < len(x); i++ {
		v := x[i]
		j := i
		for j > 0 && x[j-1] > v {
			x[j] = x[j-1]
			j--
		}
		x[j] = v
	}
}

func loadBench(b *testing.B) *benchData {
	benchOnce.Do(func() {
		t0 := time.Now()
		d := genBench(benchHosts())
		gen := time.Since(t0)
		runtime.GC()
		t1 := time.Now()
		ix, conflicts := Build(d.as)
		d.buildS = time.Since(t1).Seconds()
		d.ix, d.records = ix, ix.Len()
		if len(conflicts) != 0 {
			panic(fmt.Sprintf("bench data has %d conflicts, first %+v", len(conflicts), conflicts[0]))
		}
		// Sanity: batch and single agree.
		out := make([]Result, 1<<14)
		ix.LookupBatch(d.qAddr[:len(out)], d.qTime[:len(out)], out)
		found := 0
		for q := range out {
			r, p, ok := ix.Lookup(d.qAddr[q], d.qTime[q])
			if out[q] != (Result{r, p, ok}) {
				panic(fmt.Sprintf("batch/single mismatch at %d", q))
			}
			if ok {
				found++
			}
		}
		fmt.Fprintf(os.Stderr, "bench data: %d records (%d hosts, %d wider prefixes), generated in %v, built in %.2fs, %d bytes, %.1f%% of queries answered\n",
			ix.Len(), len(d.hosts), benchWide, gen.Round(time.Millisecond), d.buildS, ix.Bytes(), 100*float64(found)/float64(len(out)))
		if b, err := os.ReadFile("/proc/self/smaps_rollup"); err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				if strings.HasPrefix(line, "AnonHugePages") || strings.HasPrefix(line, "Rss") {
					fmt.Fprintln(os.Stderr, "bench process:", line)
				}
			}
		}
		bench = d
	})
	return bench
}

// BenchmarkBuild builds the whole index per op.
func BenchmarkBuild(b *testing.B) {
	d := loadBench(b)
	b.ResetTimer()
	var ix *Index
	for b.Loop() {
		ix, _ = Build(d.as)
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "build_s")
	b.ReportMetric(float64(ix.Len()), "records")
	b.ReportMetric(float64(ix.Bytes())/float64(ix.Len()), "bytes/record")
	b.ReportMetric(d.buildS, "first_build_s")
}

func BenchmarkLookup(b *testing.B) {
	d := loadBench(b)
	ix := d.ix
	var sink uint32
	q := 0
	for b.Loop() {
		r, _, _ := ix.Lookup(d.qAddr[q], d.qTime[q])
		sink += r
		q = (q + 1) & (benchQueries - 1)
	}
	ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(ns, "ns/lookup")
	b.ReportMetric(1e9/ns, "lookups/s")
	b.ReportMetric(float64(ix.Bytes())/float64(ix.Len()), "bytes/record")
	_ = sink
}

func BenchmarkLookupBatch(b *testing.B) {
	d := loadBench(b)
	ix := d.ix
	out := make([]Result, benchBatch)
	q := 0
	for b.Loop() {
		ix.LookupBatch(d.qAddr[q:q+benchBatch], d.qTime[q:q+benchBatch], out)
		q = (q + benchBatch) & (benchQueries - 1)
	}
	ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N*benchBatch)
	b.ReportMetric(ns, "ns/lookup")
	b.ReportMetric(1e9/ns, "lookups/s")
	b.ReportMetric(ns/d.single(), "x_single")
}

// indexNs measures the index's single-lookup cost on the given queries, for
// ratios reported by the baselines.
func indexNs(ix *Index, addrs []netip.Addr, times []time.Time) float64 {
	var sink uint32
	n := 0
	t0 := time.Now()
	for n < 2_000_000 {
		for q := range addrs {
			r, _, _ := ix.Lookup(addrs[q], times[q])
			sink += r
		}
		n += len(addrs)
	}
	_ = sink
	return float64(time.Since(t0).Nanoseconds()) / float64(n)
}

type mapInterval struct {
	from, to int64 // unix seconds, to = MaxInt64 when open
	res      uint32
}

// BenchmarkBaselineMap is DESIGN.md's "obvious code": map[netip.Addr][]interval
// for the host routes (it does not even handle the wider prefixes, so it
// answers less than the index does).
func BenchmarkBaselineMap(b *testing.B) {
	d := loadBench(b)
	t0 := time.Now()
	m := make(map[netip.Addr][]mapInterval)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	nrec := 0
	for _, a := range d.as {
		if !a.Prefix.IsSingleIP() {
			continue
		}
		to := int64(1<<63 - 1)
		if !a.To.IsZero() {
			to = a.To.Unix()
		}
		m[a.Prefix.Addr()] = append(m[a.Prefix.Addr()], mapInterval{a.From.Unix(), to, a.Resource})
		nrec++
	}
	buildS := time.Since(t0).Seconds()
	runtime.GC()
	runtime.ReadMemStats(&after)
	ixNs := indexNs(d.ix, d.qAddr[:1<<16], d.qTime[:1<<16])
	var sink uint32
	q := 0
	b.ResetTimer()
	for b.Loop() {
		t := d.qTime[q].Unix()
		for _, iv := range m[d.qAddr[q]] {
			if iv.from <= t && t < iv.to {
				sink += iv.res
				break
			}
		}
		q = (q + 1) & (benchQueries - 1)
	}
	ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(ns, "ns/lookup")
	b.ReportMetric(1e9/ns, "lookups/s")
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(nrec), "bytes/record")
	b.ReportMetric(buildS, "build_s")
	b.ReportMetric(ns/ixNs, "x_index_single")
	_ = sink
	runtime.KeepAlive(m)
}

// BenchmarkLookupClasses splits the single-lookup cost by path: the host's
// own record answers; the host is known but its records do not cover t (the
// covering prefixes answer or nothing does); the address is no host route.
func BenchmarkLookupClasses(b *testing.B) {
	d := loadBench(b)
	ix := d.ix
	var cls [3][]int
	for q := range 1 << 16 {
		hi, lo := addrKey(d.qAddr[q])
		h := ix.core.find(hi, lo, encLookup(d.qTime[q]), nil)
		_, _, known := ix.core.exact(pkeyOfAddr(d.qAddr[q]))
		switch {
		case h.ok && h.node == hostHit:
			cls[0] = append(cls[0], q)
		case known:
			cls[1] = append(cls[1], q)
		default:
			cls[2] = append(cls[2], q)
		}
	}
	for c, name := range []string{"host", "host-fallback", "not-host"} {
		b.Run(name, func(b *testing.B) {
			qs := cls[c]
			var sink uint32
			i := 0
			for b.Loop() {
				q := qs[i]
				r, _, _ := ix.Lookup(d.qAddr[q], d.qTime[q])
				sink += r
				if i++; i == len(qs) {
					i = 0
				}
			}
			b.ReportMetric(float64(len(qs))/float64(1<<16), "share")
			_ = sink
		})
	}
}

func pkeyOfAddr(a netip.Addr) pkey {
	k, _ := normPrefix(netip.PrefixFrom(a, a.BitLen()))
	return k
}
