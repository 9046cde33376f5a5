package demodata

import (
	"bufio"
	"cmp"
	"encoding/json"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"
)

// File names written by WriteFiles.
const (
	RangesFile    = "ip-ranges.json"
	InventoryFile = "inventory.jsonl"
)

type rangeJSON struct {
	IPPrefix           string `json:"ip_prefix,omitempty"`
	IPv6Prefix         string `json:"ipv6_prefix,omitempty"`
	Region             string `json:"region"`
	Service            string `json:"service"`
	NetworkBorderGroup string `json:"network_border_group"`
}

type rangesJSON struct {
	SyncToken    string      `json:"syncToken"`
	CreateDate   string      `json:"createDate"`
	Prefixes     []rangeJSON `json:"prefixes"`
	IPv6Prefixes []rangeJSON `json:"ipv6_prefixes"`
}

// WriteRanges writes the address space in AWS's ip-ranges.json format:
// every block under AMAZON and under its service (as AWS lists them), some
// blocks under AMAZON only, and AMAZON /16 supernets over some blocks.
func (p *Provider) WriteRanges(w io.Writer) error {
	type entry struct {
		pf               netip.Prefix
		svc, region, nbg string
	}
	var es []entry
	for _, b := range p.blocks {
		es = append(es, entry{b.prefix, "AMAZON", b.region, b.nbg})
		if b.svc != "AMAZON" {
			es = append(es, entry{b.prefix, b.svc, b.region, b.nbg})
		}
	}
	for _, a := range p.aggs {
		es = append(es, entry{a.prefix, "AMAZON", a.region, a.region})
	}
	slices.SortStableFunc(es, func(x, y entry) int {
		if d := x.pf.Addr().Compare(y.pf.Addr()); d != 0 {
			return d
		}
		return cmp.Compare(x.pf.Bits(), y.pf.Bits())
	})
	doc := rangesJSON{
		SyncToken:  strconv.FormatInt(p.now, 10),
		CreateDate: time.Unix(p.now, 0).UTC().Format("2006-01-02-15-04-05"),
		Prefixes:   []rangeJSON{}, IPv6Prefixes: []rangeJSON{},
	}
	for _, e := range es {
		r := rangeJSON{Region: e.region, Service: e.svc, NetworkBorderGroup: e.nbg}
		if e.pf.Addr().Is4() {
			r.IPPrefix = e.pf.String()
			doc.Prefixes = append(doc.Prefixes, r)
		} else {
			r.IPv6Prefix = e.pf.String()
			doc.IPv6Prefixes = append(doc.IPv6Prefixes, r)
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// WriteInventory writes the inventory as JSON Lines: accounts, resources,
// the single addresses' assignments block by block, the wider prefixes'
// assignments, host names. It streams: memory stays flat at any size.
func (p *Provider) WriteInventory(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	var line []byte
	flush := func() error {
		_, err := bw.Write(line)
		line = line[:0]
		return err
	}
	for i := range p.acctN {
		a := p.account(i)
		line = append(line, `{"kind":"account","id":`...)
		line = appendJSONString(line, a.id)
		line = append(line, `,"name":`...)
		line = appendJSONString(line, a.name)
		if a.securityEmail != "" {
			line = append(line, `,"security_email":`...)
			line = appendJSONString(line, a.securityEmail)
		}
		line = append(line, `,"email":`...)
		line = appendJSONString(line, a.email)
		line = append(line, `,"language":"`...)
		line = append(line, a.language...)
		line = append(line, "\"}\n"...)
		if err := flush(); err != nil {
			return err
		}
	}
	rs := p.rs
	for ri, rr := range rs {
		end := p.resN
		if ri+1 < len(rs) {
			end = rs[ri+1].start
		}
		for g := rr.start; g < end; g++ {
			r := p.resource(rs, g)
			line = append(line, `{"kind":"resource","id":"`...)
			line = p.appendResID(line, rr.t, g)
			line = append(line, `","account":"`...)
			line = append(line, r.account...)
			line = append(line, `","type":"`...)
			line = append(line, r.typ...)
			line = append(line, `","service":"`...)
			line = append(line, r.svc...)
			line = append(line, `","region":"`...)
			line = append(line, r.region...)
			line = append(line, "\"}\n"...)
			if err := flush(); err != nil {
				return err
			}
		}
	}
	typeOf := func(g int) *rtype {
		i, _ := slices.BinarySearchFunc(rs, g, func(r resRange, g int) int { return cmp.Compare(r.start, g+1) })
		return rs[i-1].t
	}
	assignment := func(pf []byte, iv interval) error {
		line = append(line, `{"kind":"assignment","resource":"`...)
		line = p.appendResID(line, typeOf(iv.res), iv.res)
		line = append(line, `","prefix":"`...)
		line = append(line, pf...)
		line = appendInterval(line, iv)
		return flush()
	}
	g := newGen()
	var pf []byte
	for bi := range p.blocks {
		b := &p.blocks[bi]
		bits := "/32"
		if b.v6() {
			bits = "/128"
		}
		emit := func(k int) error {
			pf = append(b.addr(k).AppendTo(pf[:0]), bits...)
			for _, iv := range p.addrHistory(g, bi, k) {
				if err := assignment(pf, iv); err != nil {
					return err
				}
			}
			return nil
		}
		if b.v6() { // by VPC, then subnet (layout.go)
			for vs := range 256 * 16 {
				for k := vs>>4 | (vs&15)<<8; k < b.n; k += 1 << 12 {
					if err := emit(k); err != nil {
						return err
					}
				}
			}
			continue
		}
		// IPv4 in address order: a reader (and a database index) sees
		// neighbours together.
		for off := range uint64(1) << b.hostBits() {
			if k := unpermute(off, b.hostBits(), b.key); k < uint64(b.n) {
				if err := emit(int(k)); err != nil {
					return err
				}
			}
		}
	}
	for bi := range p.blocks {
		b := &p.blocks[bi]
		for l := range b.layers {
			for i := range b.layers[l].w {
				pf = b.wider(&b.layers[l], i).AppendTo(pf[:0])
				if err := assignment(pf, p.widerInterval(g, bi, l, i)); err != nil {
					return err
				}
			}
		}
	}
	for h := range p.hostN {
		host := p.hostPattern(h)
		for _, iv := range p.hostHistory(g, h) {
			line = append(line, `{"kind":"hostname","resource":"`...)
			line = p.appendResID(line, typeOf(iv.res), iv.res)
			line = append(line, `","host":"`...)
			line = append(line, host...)
			line = appendInterval(line, iv)
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return bw.Flush()
}

// appendInterval ends a line with its from and to (none when still held).
func appendInterval(dst []byte, iv interval) []byte {
	dst = append(dst, `","from":"`...)
	dst = time.Unix(iv.from, 0).UTC().AppendFormat(dst, time.RFC3339)
	if iv.to != 0 {
		dst = append(dst, `","to":"`...)
		dst = time.Unix(iv.to, 0).UTC().AppendFormat(dst, time.RFC3339)
	}
	return append(dst, "\"}\n"...)
}

// appendJSONString quotes s for JSON: our strings are printable UTF-8, only
// quotes and backslashes need escaping.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x20:
			dst = append(dst, `\u00`...)
			dst = append(dst, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}

// WriteFiles writes dir/ip-ranges.json and dir/inventory.jsonl (dir is
// created when missing).
func (p *Provider) WriteFiles(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	write := func(name string, f func(io.Writer) error) error {
		out, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		if err := f(out); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	}
	if err := write(RangesFile, p.WriteRanges); err != nil {
		return err
	}
	return write(InventoryFile, p.WriteInventory)
}
