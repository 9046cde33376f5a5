package attribution

// Time-aware host → resource matching, for attributing URLs: "who served
// media.example-cdn.net at T".
//
// Patterns are exact host names (media.example-cdn.net) or wildcards with one
// leading "*." label (*.example-cdn.net). A wildcard matches every deeper name
// (a.example-cdn.net, a.b.example-cdn.net) but not the bare suffix
// (example-cdn.net), as in DNS (RFC 4592 §2.2) and TLS certificates. Names are
// compared case-insensitively (ASCII) with a trailing dot ignored. IDNA is not
// done: an internationalised name must be given, and is looked up, in its
// ASCII (xn--…) form; any other non-ASCII name is not a valid pattern.
//
// Lookup(host, t) asks, in turn, the exact pattern and then the wildcards
// from the longest suffix to the shortest, and answers with the first one
// that had an assignment valid at t. Like the covering-prefix fallback of
// the address index, a more specific pattern that was not assigned at t does
// not hide a less specific one that was.

import (
	"cmp"
	"net/url"
	"slices"
	"strings"
	"time"

	"abusedesk/internal/report"
)

// HostAssignment is one entry of the host history: Host (an exact name or a
// "*." wildcard) was served by Resource during [From, To). A zero To means
// still assigned; a zero From means since always. Times have one-second
// resolution, as in Assignment.
type HostAssignment struct {
	Host     string
	From, To time.Time
	Resource uint32
}

// NormalizeHostPattern checks and normalises a host pattern: ASCII lowercase,
// trailing dot removed. It returns a reason when the pattern is not a valid
// host name (RFC 1123 labels, see report.ValidHost), is an IP address (those
// are assignments, not host names), or is a wildcard other than one leading
// "*." label in front of a name of at least two labels.
func NormalizeHostPattern(s string) (string, string) {
	h := lowerASCII(strings.TrimSuffix(s, "."))
	name, wild := strings.CutPrefix(h, "*.")
	switch {
	case h == "":
		return "", "empty host name"
	case strings.HasSuffix(h, "."):
		return "", "empty label"
	case len(h) > 255:
		return "", "host name longer than 253 characters"
	case strings.Contains(name, "*"):
		return "", "a wildcard is only allowed as the whole first label (*.example.org)"
	case !report.ValidHost(name):
		return "", "not a host name (letters, digits, hyphens; internationalised names in their xn-- form)"
	}
	if _, ok := report.ParseIP(name); ok {
		return "", "an IP address is not a host name: give it as an assignment"
	}
	if wild && !strings.Contains(name, ".") {
		return "", "a wildcard needs at least two labels after *. (*.example.org)"
	}
	return h, ""
}

// lowerASCII lowercases ASCII letters, allocating only when there is one.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; c >= 'A' && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// HostIndex is an immutable host → resource index, safe for concurrent
// readers. Flat arrays only: the patterns are one string, entries point into
// it and into the interval records (the address index's 12-byte records).
type HostIndex struct {
	keys  string      // all patterns, concatenated
	exact []hostEntry // sorted by pattern
	wild  []hostEntry // sorted by pattern; a pattern here starts with "*."
	c     core        // recs only
}

type hostEntry struct {
	koff, klen uint32 // pattern: keys[koff : koff+klen]
	off, n     uint32 // records c.recs[off : off+n], sorted by from
}

// Len reports the number of interval records the index answers from.
func (hx *HostIndex) Len() int { return len(hx.c.recs) }

func (hx *HostIndex) key(e *hostEntry) string { return hx.keys[e.koff : e.koff+e.klen] }

// find searches es for the pattern whose text from byte skip on is s.
func (hx *HostIndex) find(es []hostEntry, s string, skip uint32) (*hostEntry, bool) {
	i, ok := slices.BinarySearchFunc(es, s, func(e hostEntry, s string) int {
		return strings.Compare(hx.keys[e.koff+skip:e.koff+e.klen], s)
	})
	if !ok {
		return nil, false
	}
	return &es[i], true
}

// Lookup answers which resource served host at t, and the pattern that
// matched (the host itself or a "*." wildcard). host is matched
// case-insensitively with a trailing dot ignored.
func (hx *HostIndex) Lookup(host string, t time.Time) (resource uint32, matched string, ok bool) {
	if hx == nil {
		return 0, "", false
	}
	h := lowerASCII(strings.TrimSuffix(host, "."))
	et := encLookup(t)
	if e, ok := hx.find(hx.exact, h, 0); ok {
		if r, ok := hx.c.search(e.off, e.n, et, nil); ok {
			return r, hx.key(e), true
		}
	}
	for s := h; ; {
		i := strings.IndexByte(s, '.')
		if i < 0 {
			break
		}
		s = s[i+1:]
		if e, ok := hx.find(hx.wild, s, 2); ok {
			if r, ok := hx.c.search(e.off, e.n, et, nil); ok {
				return r, hx.key(e), true
			}
		}
	}
	return 0, "", false
}

type hostItem struct {
	pat      string
	from, to uint32
	res      uint32
	idx      int32
}

// BuildHosts makes a host index. Like Build: an invalid input is a Conflict
// with B = -1; two assignments of the same pattern (after normalisation)
// whose intervals overlap are a Conflict and both are left out. An exact name
// and a wildcard covering it are not a conflict (the exact one wins).
func BuildHosts(hs []HostAssignment) (*HostIndex, []Conflict) {
	var conflicts []Conflict
	items := make([]hostItem, 0, len(hs))
	for i, h := range hs {
		pat, reason := NormalizeHostPattern(h.Host)
		if reason != "" {
			conflicts = append(conflicts, Conflict{A: i, B: -1, Reason: "invalid host: " + reason})
			continue
		}
		it, reason := timesOnly(h, i)
		if reason != "" {
			conflicts = append(conflicts, Conflict{A: i, B: -1, Reason: reason})
			continue
		}
		items = append(items, hostItem{pat: pat, from: it.from, to: it.to, res: h.Resource, idx: int32(i)})
	}
	slices.SortFunc(items, func(x, y hostItem) int {
		if d := strings.Compare(x.pat, y.pat); d != 0 {
			return d
		}
		if d := cmp.Compare(x.from, y.from); d != 0 {
			return d
		}
		if d := cmp.Compare(x.to, y.to); d != 0 {
			return d
		}
		return cmp.Compare(x.idx, y.idx)
	})
	hx := &HostIndex{}
	var keys strings.Builder
	bad := make([]bool, len(items))
	for lo := 0; lo < len(items); {
		hi := lo + 1
		for hi < len(items) && items[hi].pat == items[lo].pat {
			hi++
		}
		maxJ := -1
		for j := lo; j < hi; j++ {
			if maxJ >= 0 && items[j].from < items[maxJ].to {
				a, b := int(items[maxJ].idx), int(items[j].idx)
				if a > b {
					a, b = b, a
				}
				conflicts = append(conflicts, Conflict{A: a, B: b, Reason: "overlapping assignments of the same host"})
				bad[j], bad[maxJ] = true, true
			}
			if maxJ < 0 || items[j].to > items[maxJ].to {
				maxJ = j
			}
		}
		e := hostEntry{off: uint32(len(hx.c.recs))}
		for j := lo; j < hi; j++ {
			if !bad[j] {
				hx.c.recs = append(hx.c.recs, rec{from: items[j].from, to: items[j].to, res: items[j].res})
			}
		}
		e.n = uint32(len(hx.c.recs)) - e.off
		if e.n > 0 {
			e.koff, e.klen = uint32(keys.Len()), uint32(len(items[lo].pat))
			keys.WriteString(items[lo].pat)
			if strings.HasPrefix(items[lo].pat, "*.") {
				hx.wild = append(hx.wild, e)
			} else {
				hx.exact = append(hx.exact, e)
			}
		}
		lo = hi
	}
	hx.keys = keys.String()
	// Every wildcard pattern starts with "*.", so in pattern order the
	// wildcards are in suffix order too, as find needs.
	slices.SortFunc(conflicts, func(x, y Conflict) int {
		if d := cmp.Compare(x.A, y.A); d != 0 {
			return d
		}
		return cmp.Compare(x.B, y.B)
	})
	return hx, conflicts
}

// timesOnly validates the interval of a host assignment the way toItem does
// for an address assignment.
func timesOnly(h HostAssignment, i int) (item, string) {
	from, ok := encBound(h.From, tSince)
	if !ok {
		return item{}, "from outside 1970..2106"
	}
	to, ok := encBound(h.To, tOpen)
	if !ok {
		return item{}, "to outside 1970..2106"
	}
	if to <= from {
		return item{}, "empty interval: to is not after from (at one-second resolution)"
	}
	return item{from: from, to: to, idx: int32(i)}, ""
}

// HostOfURL returns the host of an absolute http or https URL, lowercased and
// without a trailing dot; for an IP literal (http://192.0.2.1/,
// http://[2001:db8::1]/) the address in its normal form (report.ParseIP), for
// the address index. The URL is only parsed, never fetched. ok is false for
// anything else (relative URLs, other schemes, no host, a host that is
// neither an address nor a host name).
func HostOfURL(rawURL string) (string, bool) {
	s := strings.TrimSpace(rawURL)
	if len(s) > 8192 {
		return "", false
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", false
	}
	h := u.Hostname()
	if h == "" {
		return "", false
	}
	if a, ok := report.ParseIP(h); ok {
		return a.String(), true
	}
	h = lowerASCII(strings.TrimSuffix(h, "."))
	if !report.ValidHost(h) {
		return "", false
	}
	return h, true
}
