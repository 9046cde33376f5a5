package attribution

// The provider's address space, read from AWS's published ip-ranges.json
// format (https://docs.aws.amazon.com/vpc/latest/userguide/aws-ip-ranges.html):
//
//	{"syncToken": "1767225600", "createDate": "2026-01-01-00-00-00",
//	 "prefixes":      [{"ip_prefix": "3.5.140.0/22", "region": "ap-northeast-2",
//	                    "service": "AMAZON", "network_border_group": "ap-northeast-2"}, …],
//	 "ipv6_prefixes": [{"ipv6_prefix": "2600:1f14::/35", "region": "us-west-2",
//	                    "service": "EC2", "network_border_group": "us-west-2"}, …]}

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"

	"abusedesk/internal/report"
)

// Range is one prefix of the provider's address space.
type Range struct {
	Prefix             netip.Prefix
	Service            string
	Region             string
	NetworkBorderGroup string
}

// ServiceAmazon is the generic service of AWS's file: every prefix of EC2,
// S3, … is listed under AMAZON too.
const ServiceAmazon = "AMAZON"

// MaxRangesBytes bounds the size of a ranges document (AWS's own file is a
// few MB; 200,000 prefixes take about 25 MB).
var MaxRangesBytes int64 = 256 << 20

// AddressSpace is an immutable set of prefixes with their service, region and
// network border group, safe for concurrent readers. It is built from flat
// arrays only (the index's wider-prefix layout: nodes sorted by family and
// start, elementary ranges with their most specific owner, one binary search
// per lookup), so it adds nothing to a GC cycle beyond a few small string
// tables.
type AddressSpace struct {
	SyncToken  string
	CreateDate string

	c    core        // nodes, b4/o4/t4, b6/o6; no host slots, no records
	meta []rangeMeta // meta[i] describes c.nodes[i]
	strs []string    // interned services, regions, border groups
}

type rangeMeta struct{ svc, region, nbg uint32 }

// Len reports the number of distinct prefixes.
func (s *AddressSpace) Len() int {
	if s == nil {
		return 0
	}
	return len(s.c.nodes)
}

func (s *AddressSpace) rangeOf(i uint32) Range {
	m := s.meta[i]
	return Range{
		Prefix:             s.c.nodes[i].prefix(),
		Service:            s.strs[m.svc],
		Region:             s.strs[m.region],
		NetworkBorderGroup: s.strs[m.nbg],
	}
}

// Contains returns the most specific prefix of the address space containing
// addr. The address's zone is ignored and an IPv4-mapped IPv6 address is
// looked up as IPv4 (as Index.Lookup does).
func (s *AddressSpace) Contains(addr netip.Addr) (Range, bool) {
	if s == nil || !addr.IsValid() {
		return Range{}, false
	}
	hi, lo := addrKey(addr)
	i := s.c.cover(hi, lo)
	if i == noNode {
		return Range{}, false
	}
	return s.rangeOf(i), true
}

// Prefixes lists the address space (one entry per distinct prefix, with the
// service kept by ParseRanges), IPv4 first, then by start address and length:
// what the store persists and NewAddressSpace rebuilds from.
func (s *AddressSpace) Prefixes() []Range {
	if s == nil {
		return nil
	}
	out := make([]Range, len(s.c.nodes))
	for i := range out {
		out[i] = s.rangeOf(uint32(i))
	}
	return out
}

// rangeEntry is one parsed entry on its way into an AddressSpace.
type rangeEntry struct {
	k                pkey
	svc, region, nbg string
}

// rangePreferred orders two entries of the same prefix: the first one is kept.
// A service other than AMAZON beats AMAZON (AMAZON is the generic listing);
// between two specific services (AWS lists some prefixes under, e.g., both
// EC2 and ROUTE53_HEALTHCHECKS) the byte-wise smaller service name is kept,
// then the smaller region, then the smaller border group, so the result does
// not depend on the order of the file.
func rangePreferred(a, b *rangeEntry) int {
	aa, ba := a.svc == ServiceAmazon, b.svc == ServiceAmazon
	if aa != ba {
		if ba {
			return -1
		}
		return 1
	}
	if d := strings.Compare(a.svc, b.svc); d != 0 {
		return d
	}
	if d := strings.Compare(a.region, b.region); d != 0 {
		return d
	}
	return strings.Compare(a.nbg, b.nbg)
}

// NewAddressSpace builds an address space from ranges (for instance
// Prefixes() read back from the store). Invalid prefixes are skipped; the
// same prefix given twice is kept once, chosen as ParseRanges does.
func NewAddressSpace(rs []Range) *AddressSpace {
	es := make([]rangeEntry, 0, len(rs))
	for _, r := range rs {
		k, ok := normPrefix(r.Prefix)
		if !ok {
			continue
		}
		es = append(es, rangeEntry{k: k, svc: r.Service, region: r.Region, nbg: r.NetworkBorderGroup})
	}
	return buildSpace(es)
}

func buildSpace(es []rangeEntry) *AddressSpace {
	slices.SortFunc(es, func(x, y rangeEntry) int {
		if d := pkeyCompare(x.k, y.k); d != 0 {
			return d
		}
		return rangePreferred(&x, &y)
	})
	es = slices.CompactFunc(es, func(x, y rangeEntry) bool { return x.k == y.k })

	s := &AddressSpace{}
	intern := map[string]uint32{} // transient, build only
	str := func(v string) uint32 {
		if i, ok := intern[v]; ok {
			return i
		}
		i := uint32(len(s.strs))
		intern[v] = i
		s.strs = append(s.strs, v)
		return i
	}
	str("")
	s.c.nodes = make([]node, len(es))
	s.meta = make([]rangeMeta, len(es))
	for i, e := range es {
		st := e.k.famStart()
		s.c.nodes[i] = node{hi: st.hi, lo: st.lo, parent: noNode, bits: e.k.bits, v4: e.k.v4}
		s.meta[i] = rangeMeta{svc: str(e.svc), region: str(e.region), nbg: str(e.nbg)}
	}
	s.strs = slices.Clip(s.strs)
	n4, _ := slices.BinarySearchFunc(s.c.nodes, false, func(n node, _ bool) int {
		if n.v4 {
			return -1
		}
		return 1
	})
	b4, o4 := ranges(s.c.nodes, 0, n4, 32)
	s.c.b4 = make([]uint32, len(b4))
	for i, b := range b4 {
		s.c.b4[i] = uint32(b.lo)
	}
	s.c.o4 = o4
	if len(s.c.b4) > t4Min {
		s.c.t4 = make([]uint32, 1<<16+1)
		j := 0
		for x := 0; x <= 1<<16; x++ {
			for j < len(s.c.b4) && uint64(s.c.b4[j]) < uint64(x)<<16 {
				j++
			}
			s.c.t4[x] = uint32(j)
		}
	}
	s.c.b6, s.c.o6 = ranges(s.c.nodes, n4, len(s.c.nodes), 128)
	return s
}

// rangesDoc is the top level of ip-ranges.json. Unknown fields are ignored:
// AWS adds fields from time to time and the file is theirs.
type rangesDoc struct {
	SyncToken    json.RawMessage `json:"syncToken"`
	CreateDate   json.RawMessage `json:"createDate"`
	Prefixes     json.RawMessage `json:"prefixes"`
	IPv6Prefixes json.RawMessage `json:"ipv6_prefixes"`
}

type rangeJSON struct {
	IPPrefix           *string `json:"ip_prefix"`
	IPv6Prefix         *string `json:"ipv6_prefix"`
	Region             *string `json:"region"`
	Service            *string `json:"service"`
	NetworkBorderGroup *string `json:"network_border_group"`
}

// ParseRanges reads an ip-ranges.json document.
//
// Entries are checked one by one: a bad entry is reported in errs with its
// JSON path (e.g. "prefixes[12].ip_prefix"), a code of report.FieldError and a
// reason, and skipped; the good ones are kept. An entry needs its prefix
// (ip_prefix under prefixes, an IPv4 prefix; ipv6_prefix under ipv6_prefixes,
// an IPv6 prefix) with no host bits set, and a service; region and
// network_border_group may be empty. An IPv4-mapped IPv6 prefix of length ≥ 96
// is stored as the IPv4 prefix it maps (as the index does). Unknown fields are
// ignored.
//
// The same prefix listed several times is one prefix; which listing is kept
// is decided by rangePreferred: a specific service beats AMAZON, then the smallest
// service name, region, border group.
//
// err is set when nothing can be read: a document that is not JSON (with the
// line and column of the syntax error), not an object, with neither prefixes
// nor ipv6_prefixes, larger than MaxRangesBytes, or a read error.
func ParseRanges(r io.Reader) (space *AddressSpace, errs report.Errors, err error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxRangesBytes+1))
	if err != nil {
		return nil, nil, fmt.Errorf("reading ranges: %w", err)
	}
	if int64(len(data)) > MaxRangesBytes {
		return nil, nil, fmt.Errorf("ranges document larger than %d bytes", MaxRangesBytes)
	}
	var doc rangesDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, nil, jsonDocError(data, err)
	}
	if doc.Prefixes == nil && doc.IPv6Prefixes == nil {
		return nil, nil, errors.New("not an ip-ranges.json document: it has neither \"prefixes\" nor \"ipv6_prefixes\"")
	}
	str := func(path string, raw json.RawMessage) string {
		if raw == nil || string(raw) == "null" {
			return ""
		}
		var v string
		if json.Unmarshal(raw, &v) != nil {
			errs = append(errs, report.FieldError{Field: path, Code: report.CodeWrongType, Message: "must be a string"})
		}
		return v
	}
	sync := str("syncToken", doc.SyncToken)
	created := str("createDate", doc.CreateDate)

	var es []rangeEntry
	list := func(name, field string, v6 bool, raw json.RawMessage) {
		if raw == nil || string(raw) == "null" {
			return
		}
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			errs = append(errs, report.FieldError{Field: name, Code: report.CodeWrongType, Message: "must be an array of objects"})
			return
		}
		for i, it := range items {
			path := fmt.Sprintf("%s[%d]", name, i)
			e, fe := parseRangeEntry(path, field, v6, it)
			if fe != nil {
				errs = append(errs, *fe)
				continue
			}
			es = append(es, e)
		}
	}
	list("prefixes", "ip_prefix", false, doc.Prefixes)
	list("ipv6_prefixes", "ipv6_prefix", true, doc.IPv6Prefixes)
	space = buildSpace(es)
	space.SyncToken, space.CreateDate = sync, created
	return space, errs, nil
}

func parseRangeEntry(path, field string, v6 bool, raw json.RawMessage) (rangeEntry, *report.FieldError) {
	fe := func(sub, code, format string, args ...any) *report.FieldError {
		f := path
		if sub != "" {
			f += "." + sub
		}
		return &report.FieldError{Field: f, Code: code, Message: fmt.Sprintf(format, args...)}
	}
	var j rangeJSON
	if err := json.Unmarshal(raw, &j); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return rangeEntry{}, fe(te.Field, report.CodeWrongType, "must be a %s", jsonKind(te))
		}
		return rangeEntry{}, fe("", report.CodeWrongType, "must be an object")
	}
	ps := j.IPPrefix
	if v6 {
		ps = j.IPv6Prefix
	}
	if ps == nil || *ps == "" {
		return rangeEntry{}, fe(field, report.CodeRequired, "a prefix is required")
	}
	p, err := netip.ParsePrefix(*ps)
	if err != nil {
		return rangeEntry{}, fe(field, report.CodeInvalid, "%q is not a prefix in CIDR notation", clipText(*ps))
	}
	if p.Addr().Is4() == v6 {
		want := "an IPv4 prefix (IPv6 prefixes go under ipv6_prefixes)"
		if v6 {
			want = "an IPv6 prefix (IPv4 prefixes go under prefixes)"
		}
		return rangeEntry{}, fe(field, report.CodeInvalid, "%q is not %s", clipText(*ps), want)
	}
	if p.Masked() != p {
		return rangeEntry{}, fe(field, report.CodeInvalid, "%q has host bits set (did you mean %s?)", clipText(*ps), p.Masked())
	}
	k, _ := normPrefix(p)
	if j.Service == nil || *j.Service == "" {
		return rangeEntry{}, fe("service", report.CodeRequired, "a service is required")
	}
	deref := func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	}
	return rangeEntry{k: k, svc: *j.Service, region: deref(j.Region), nbg: deref(j.NetworkBorderGroup)}, nil
}

func jsonKind(te *json.UnmarshalTypeError) string {
	if te.Type == nil {
		return "value of another type"
	}
	switch te.Type.Kind().String() {
	case "string", "ptr":
		return "string"
	}
	return te.Type.String()
}

// jsonDocError turns a json error on a whole document into one that says where.
func jsonDocError(data []byte, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := jsonLineCol(data, se.Offset-1) // Offset is just past the bad byte
		return fmt.Errorf("not valid JSON at line %d, column %d: %v", line, col, se)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field == "" {
			return errors.New("not an ip-ranges.json document: the top level must be an object")
		}
		return fmt.Errorf("%s: must not be a JSON %s", te.Field, te.Value)
	}
	return fmt.Errorf("not valid JSON: %v", err)
}

func jsonLineCol(data []byte, off int64) (int, int) {
	off = min(max(off, 0), int64(len(data)))
	line, col := 1, 1
	for _, c := range data[:off] {
		if c == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}

// clip keeps file-supplied text short inside messages.
func clipText(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}
