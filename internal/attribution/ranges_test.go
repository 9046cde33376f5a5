package attribution

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

func TestParseRangesFile(t *testing.T) {
	f, err := os.Open("testdata/ip-ranges.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, errs, err := ParseRanges(f)
	if err != nil {
		t.Fatal(err)
	}
	if s.SyncToken != "1767225600" || s.CreateDate != "2026-01-01-00-00-00" {
		t.Errorf("sync token %q, create date %q", s.SyncToken, s.CreateDate)
	}
	var got []string
	for _, e := range errs {
		got = append(got, e.Field+" "+e.Code)
	}
	want := []string{
		"prefixes[8].ip_prefix invalid", // /33
		"prefixes[9].ip_prefix invalid", // host bits set
		"prefixes[10].ip_prefix wrong_type",
		"prefixes[11].ip_prefix required",
		"ipv6_prefixes[4].ipv6_prefix invalid", // IPv4 under ipv6_prefixes
	}
	if !slices.Equal(got, want) {
		t.Errorf("errors:\n got %q\nwant %q", got, want)
	}
	if !strings.Contains(errs[1].Message, "did you mean 198.51.100.0/24") {
		t.Errorf("host-bits message: %s", errs[1].Message)
	}
	// 3.5.140.0/22, 15.236.0.0/15, 15.236.100.0/24, 203.0.113.0/24,
	// 2a05:d012::/36, 2a05:d012:8000::/40, 2001:db8::/32.
	if s.Len() != 7 {
		t.Errorf("Len = %d, want 7: %v", s.Len(), s.Prefixes())
	}
	cases := []struct {
		addr, prefix, service, region string
	}{
		{"3.5.141.9", "3.5.140.0/22", "S3", "ap-northeast-2"},                // S3 beats AMAZON
		{"15.237.1.1", "15.236.0.0/15", "EC2", "eu-west-3"},                  // EC2 beats AMAZON
		{"15.236.100.20", "15.236.100.0/24", "EC2", "eu-west-3"},             // EC2 < ROUTE53_HEALTHCHECKS, most specific prefix
		{"::ffff:15.236.100.20", "15.236.100.0/24", "EC2", "eu-west-3"},      // v4-mapped
		{"203.0.113.7", "203.0.113.0/24", "AMAZON", "GLOBAL"},                // AMAZON only
		{"2a05:d012:8000::1%eth0", "2a05:d012:8000::/40", "S3", "eu-west-3"}, // zone stripped
		{"2a05:d012:100::1", "2a05:d012::/36", "EC2", "eu-west-3"},
		{"2001:db8::1", "2001:db8::/32", "CLOUDFRONT", "GLOBAL"},
		{"198.51.100.7", "", "", ""},
		{"192.0.2.1", "", "", ""},
		{"8.8.8.8", "", "", ""},
		{"2a05:d013::1", "", "", ""},
	}
	for _, c := range cases {
		r, ok := s.Contains(netip.MustParseAddr(c.addr))
		if c.prefix == "" {
			if ok {
				t.Errorf("Contains(%s) = %+v, want not found", c.addr, r)
			}
			continue
		}
		if !ok || r.Prefix.String() != c.prefix || r.Service != c.service || r.Region != c.region || r.NetworkBorderGroup != c.region {
			t.Errorf("Contains(%s) = %+v %v, want %s %s %s", c.addr, r, ok, c.prefix, c.service, c.region)
		}
	}
	if _, ok := s.Contains(netip.Addr{}); ok {
		t.Error("Contains(invalid) found something")
	}

	// Prefixes round-trips through NewAddressSpace.
	s2 := NewAddressSpace(s.Prefixes())
	if !slices.Equal(s.Prefixes(), s2.Prefixes()) {
		t.Errorf("round trip:\n%v\n%v", s.Prefixes(), s2.Prefixes())
	}
}

func TestParseRangesFatal(t *testing.T) {
	for _, doc := range []string{
		``,
		`[]`,
		`{"syncToken": "1"}`,
		"{\n\"prefixes\": [\n{,}]}",
		`{"prefixes": []} x`,
	} {
		if _, _, err := ParseRanges(strings.NewReader(doc)); err == nil {
			t.Errorf("%q: no error", doc)
		} else {
			t.Logf("%q: %v", doc, err)
		}
	}
	_, _, err := ParseRanges(strings.NewReader("{\n\"prefixes\": [\n{,}]}"))
	if !strings.Contains(err.Error(), "line 3, column 2") {
		t.Errorf("syntax error position: %v", err)
	}
	s, errs, err := ParseRanges(strings.NewReader(`{"prefixes": 7, "ipv6_prefixes": [7], "syncToken": 1}`))
	if err != nil || s.Len() != 0 || len(errs) != 3 {
		t.Fatalf("%v %v %v", s, errs, err)
	}
	if errs[0].Field != "syncToken" || errs[1].Field != "prefixes" || errs[2].Field != "ipv6_prefixes[0]" {
		t.Errorf("paths: %+v", errs)
	}
}

// The kept listing does not depend on the order of the file.
func TestParseRangesOrderIndependent(t *testing.T) {
	type ent struct {
		P   string `json:"ip_prefix"`
		R   string `json:"region"`
		S   string `json:"service"`
		NBG string `json:"network_border_group"`
	}
	es := []ent{
		{"10.0.0.0/8", "r1", "AMAZON", "r1"},
		{"10.0.0.0/8", "r1", "EC2", "r1"},
		{"10.0.0.0/8", "r1", "CLOUDFRONT", "r1"},
		{"10.1.0.0/16", "r2", "AMAZON", "r2"},
		{"10.1.0.0/16", "r1", "AMAZON", "r1"},
	}
	var first []Range
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20; i++ {
		rnd.Shuffle(len(es), func(i, j int) { es[i], es[j] = es[j], es[i] })
		doc, _ := json.Marshal(map[string]any{"prefixes": es})
		s, errs, err := ParseRanges(bytes.NewReader(doc))
		if err != nil || len(errs) != 0 {
			t.Fatal(err, errs)
		}
		got := s.Prefixes()
		if first == nil {
			first = got
			want := []Range{
				{netip.MustParsePrefix("10.0.0.0/8"), "CLOUDFRONT", "r1", "r1"},
				{netip.MustParsePrefix("10.1.0.0/16"), "AMAZON", "r1", "r1"},
			}
			if !slices.Equal(got, want) {
				t.Fatalf("got %v, want %v", got, want)
			}
		} else if !slices.Equal(got, first) {
			t.Fatalf("order dependent: %v vs %v", got, first)
		}
	}
}

// Model: Contains is the most specific containing prefix of a linear scan.
func TestAddressSpaceModel(t *testing.T) {
	saved := t4Min
	t4Min = 8 // exercise the first level too
	defer func() { t4Min = saved }()
	rapid.Check(t, func(t *rapid.T) {
		genPrefix := func(label string) netip.Prefix {
			if rapid.Bool().Draw(t, label+"v6") {
				a := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, byte(rapid.IntRange(0, 3).Draw(t, label+"b4")), 0, 0, 0, byte(rapid.IntRange(0, 3).Draw(t, label+"b8"))})
				return netip.PrefixFrom(a, rapid.IntRange(0, 128).Draw(t, label+"bits")).Masked()
			}
			a := netip.AddrFrom4([4]byte{10, byte(rapid.IntRange(0, 3).Draw(t, label+"b1")), byte(rapid.IntRange(0, 3).Draw(t, label+"b2")), byte(rapid.IntRange(0, 3).Draw(t, label+"b3"))})
			return netip.PrefixFrom(a, rapid.IntRange(0, 32).Draw(t, label+"bits")).Masked()
		}
		n := rapid.IntRange(0, 40).Draw(t, "n")
		var rs []Range
		for i := 0; i < n; i++ {
			rs = append(rs, Range{Prefix: genPrefix(fmt.Sprint("p", i)), Service: rapid.SampledFrom([]string{"AMAZON", "EC2", "S3"}).Draw(t, "svc")})
		}
		s := NewAddressSpace(rs)
		for q := 0; q < 20; q++ {
			addr := genPrefix(fmt.Sprint("q", q)).Addr()
			if rapid.Bool().Draw(t, "mapped") && addr.Is4() {
				addr = netip.AddrFrom16(addr.As16())
			}
			best := -1
			for i, r := range rs {
				if r.Prefix.Contains(addr.Unmap()) && (best < 0 || r.Prefix.Bits() > rs[best].Prefix.Bits() ||
					(r.Prefix.Bits() == rs[best].Prefix.Bits() && rangePreferred(&rangeEntry{svc: r.Service}, &rangeEntry{svc: rs[best].Service}) < 0)) {
					best = i
				}
			}
			got, ok := s.Contains(addr)
			if best < 0 {
				if ok {
					t.Fatalf("Contains(%s) = %v, want none", addr, got)
				}
				continue
			}
			if !ok || got.Prefix != rs[best].Prefix || got.Service != rs[best].Service {
				t.Fatalf("Contains(%s) = %v %v, want %v", addr, got, ok, rs[best])
			}
		}
	})
}

// BenchmarkRangesContains: Contains on 200,000 prefixes (IPv4 /16–/28 and
// IPv6 /32–/64, nested), random addresses inside the covered space.
//
//	go test -run=NONE -bench=RangesContains ./internal/attribution/
func BenchmarkRangesContains(b *testing.B) {
	rnd := rand.New(rand.NewPCG(7, 7))
	const n = 200_000
	rs := make([]Range, 0, n)
	svcs := []string{"AMAZON", "EC2", "S3", "CLOUDFRONT"}
	for len(rs) < n {
		var p netip.Prefix
		if rnd.IntN(5) == 0 {
			var a [16]byte
			a[0], a[1] = 0x2a, 0x05
			for i := 2; i < 8; i++ {
				a[i] = byte(rnd.Uint32())
			}
			p = netip.PrefixFrom(netip.AddrFrom16(a), 32+rnd.IntN(33)).Masked()
		} else {
			var a [4]byte
			for i := range a {
				a[i] = byte(rnd.Uint32())
			}
			p = netip.PrefixFrom(netip.AddrFrom4(a), 16+rnd.IntN(13)).Masked()
		}
		rs = append(rs, Range{Prefix: p, Service: svcs[rnd.IntN(len(svcs))], Region: "eu-west-3", NetworkBorderGroup: "eu-west-3"})
	}
	s := NewAddressSpace(rs)
	qs := make([]netip.Addr, 1<<16)
	for i := range qs {
		p := rs[rnd.IntN(len(rs))].Prefix
		b16 := p.Addr().As16()
		off := 0
		if p.Addr().Is4() {
			off = 12
		}
		for j := off + p.Bits()/8 + 1; j < 16; j++ {
			b16[j] = byte(rnd.Uint32())
		}
		a := netip.AddrFrom16(b16)
		if p.Addr().Is4() {
			a = a.Unmap()
		}
		qs[i] = a
	}
	b.ResetTimer()
	found := 0
	for i := 0; b.Loop(); i++ {
		if _, ok := s.Contains(qs[i&(len(qs)-1)]); ok {
			found++
		}
	}
	b.ReportMetric(float64(s.Len()), "prefixes")
	if found == 0 {
		b.Fatal("nothing found")
	}
}

func FuzzParseRanges(f *testing.F) {
	if data, err := os.ReadFile("testdata/ip-ranges.json"); err == nil {
		f.Add(data)
	}
	f.Add([]byte(`{"prefixes":[{"ip_prefix":"10.0.0.0/8","service":"EC2"},{"ip_prefix":"10.0.0.0/8","service":"AMAZON"}],"ipv6_prefixes":[{"ipv6_prefix":"::ffff:10.1.0.0/112","service":"S3"}]}`))
	f.Add([]byte(`{"prefixes":[{"ip_prefix":"0.0.0.0/0","service":"X"}],"ipv6_prefixes":[{"ipv6_prefix":"::/0","service":"Y"}]}`))
	f.Add([]byte(`{"prefixes":null,"ipv6_prefixes":[null,{},[],"x"]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, errs, err := ParseRanges(bytes.NewReader(data))
		if err != nil {
			if s != nil || errs != nil {
				t.Fatal("fatal error with results")
			}
			return
		}
		ps := s.Prefixes()
		if len(ps) != s.Len() {
			t.Fatal("Len and Prefixes disagree")
		}
		for i, r := range ps {
			if i > 0 && !(pkeyLess(ps[i-1].Prefix, r.Prefix)) {
				t.Fatalf("Prefixes not sorted/unique: %v %v", ps[i-1], r)
			}
			got, ok := s.Contains(r.Prefix.Addr())
			if !ok || got.Prefix.Bits() < r.Prefix.Bits() || !got.Prefix.Contains(r.Prefix.Addr()) {
				t.Fatalf("Contains(%s) = %v %v", r.Prefix.Addr(), got, ok)
			}
		}
		if !slices.Equal(NewAddressSpace(ps).Prefixes(), ps) {
			t.Fatal("round trip")
		}
	})
}

func pkeyLess(a, b netip.Prefix) bool {
	ka, _ := normPrefix(a)
	kb, _ := normPrefix(b)
	return pkeyCompare(ka, kb) < 0
}
