package logscan

import (
	"net/netip"
	"time"
	"unicode/utf8"

	"abusedesk/internal/attribution"
	"abusedesk/internal/report"
)

// DefaultMaxPerIP is the default of Collector.MaxPerIP.
const DefaultMaxPerIP = 20

// MaxLogLine bounds the log text of one row (a line longer than this is cut
// and says so); the desk takes 64 KB per log sample, and a longer line is
// an attack's padding rather than evidence.
const MaxLogLine = 4096

// Collector groups the events by source address, keeping only the
// addresses of the provider's address space. Its memory is bounded by the
// number of those addresses, not by the size of the logs: per address, a
// count, the first and last times, and at most MaxPerIP lines: the
// earliest half and the latest half by time, so that a campaign's start
// and end are both shown (and attributed: addresses change hands). It is
// not safe for concurrent use.
type Collector struct {
	// Space is the provider's address space; nil keeps every global
	// unicast address (private, loopback, link-local and the like never
	// are a provider's).
	Space *attribution.AddressSpace
	// MaxPerIP bounds the lines kept per address; 0 means DefaultMaxPerIP.
	MaxPerIP int

	sources map[netip.Addr]*source
	seq     uint64
	free    []*row

	// Outside counts the events from addresses outside Space.
	Outside int64
}

type source struct {
	addr          netip.Addr
	events        int64
	first, last   time.Time
	firstN, lastN tkey   // their order
	early, late   []*row // sorted by (t, seq); early keeps the smallest, late the largest
	loggedIn      bool
}

type row struct {
	seq      uint64
	tn       tkey // t's order
	t        time.Time
	line     []byte
	target   []byte
	tport    int
	sport    int
	proto    string
	count    int
	inE, inL bool
}

func (c *Collector) maxPerIP() int {
	if c.MaxPerIP <= 0 {
		return DefaultMaxPerIP
	}
	return c.MaxPerIP
}

// ours reports whether a is an address of the provider.
func (c *Collector) ours(a netip.Addr) bool {
	if c.Space == nil {
		return a.IsGlobalUnicast() && !a.IsPrivate()
	}
	_, ok := c.Space.Contains(a)
	return ok
}

func (c *Collector) newSource(a netip.Addr) *source {
	if c.sources == nil {
		c.sources = map[netip.Addr]*source{}
	}
	keep := c.maxPerIP()
	s := &source{addr: a}
	rs := make([]*row, 0, keep+1) // one allocation for both lists
	s.early, s.late = rs[:0:(keep+1)/2], rs[(keep+1)/2:(keep+1)/2:keep+1]
	c.sources[a] = s
	return s
}

// loggedIn marks a as an address that logged in; ours is c.ours(a).
func (c *Collector) loggedIn(a netip.Addr, ours bool) {
	if !ours {
		return
	}
	s := c.sources[a]
	if s == nil {
		s = c.newSource(a)
	}
	s.loggedIn = true
}

// repeat counts n more events of a's last line.
func (c *Collector) repeat(a netip.Addr, n int) {
	if s := c.sources[a]; s != nil {
		s.events += int64(n)
		return
	}
	c.Outside += int64(n)
}

// add counts the event ev read by p.
func (c *Collector) add(p *Parser, ev *Event) {
	s := c.sources[ev.Addr]
	if s == nil {
		if !c.ours(ev.Addr) {
			c.Outside += int64(ev.Count)
			return
		}
		s = c.newSource(ev.Addr)
	}
	c.addTo(s, p.Time(ev), ev)
}

// addParsed counts an event whose address a worker looked up (ours is
// c.ours(ev.Addr)) and whose time it resolved (t, when ours).
func (c *Collector) addParsed(ev *Event, ours bool, t time.Time) {
	if !ours {
		c.Outside += int64(ev.Count)
		return
	}
	s := c.sources[ev.Addr]
	if s == nil {
		s = c.newSource(ev.Addr)
	}
	c.addTo(s, t, ev)
}

func (c *Collector) addTo(s *source, t time.Time, ev *Event) {
	tn := tkey{t.Unix(), int32(t.Nanosecond())}
	if s.events == 0 || tn.less(s.firstN) {
		s.first, s.firstN = t, tn
	}
	if s.events == 0 || s.lastN.less(tn) {
		s.last, s.lastN = t, tn
	}
	s.events += int64(ev.Count)
	c.seq++
	seq := c.seq
	keep := c.maxPerIP()
	he, hl := (keep+1)/2, keep/2
	toE := len(s.early) < he || before(tn, seq, s.early[len(s.early)-1])
	toL := hl > 0 && (len(s.late) < hl || before2(s.late[0], tn, seq))
	if !toE && !toL {
		return
	}
	r := c.newRow()
	r.seq, r.t, r.tn, r.count = seq, t, tn, ev.Count
	// A recycled row keeps its buffer: 256 bytes hold most lines, so that
	// most buffers are never grown; one a long line grew is dropped (held
	// by every row, such buffers would grow with the logs).
	if n := len(ev.Line); cap(r.line) < n || cap(r.line) > 512 && cap(r.line) > 2*n {
		r.line = make([]byte, 0, max(256, n+n/8))
	}
	r.line = appendLog(r.line[:0], ev.Line)
	r.target = r.target[:0]
	if len(ev.Target) > 0 {
		if ta, ok := parseAddr(ev.Target); ok {
			r.target = ta.AppendTo(r.target) // canonical: ip6tables writes every zero
		} else if report.ValidHost(string(ev.Target)) { // a name the desk takes
			r.target = append(r.target, ev.Target...)
		}
	}
	r.tport, r.sport, r.proto = ev.TargetPort, ev.SourcePort, ev.Protocol
	if toE {
		if len(s.early) == he {
			old := s.early[he-1]
			s.early = s.early[:he-1]
			old.inE = false
			c.release(old)
		}
		s.early = insertSorted(s.early, r)
		r.inE = true
	}
	if toL {
		if len(s.late) == hl {
			old := s.late[0]
			copy(s.late, s.late[1:])
			s.late = s.late[:hl-1]
			old.inL = false
			c.release(old)
		}
		s.late = insertSorted(s.late, r)
		r.inL = true
	}
}

// tkey orders times cheaply (time.Time's comparisons weigh on the hot
// path), over any year a log may write (Unix nanoseconds would not).
type tkey struct {
	sec  int64
	nsec int32
}

func (a tkey) less(b tkey) bool { return a.sec < b.sec || a.sec == b.sec && a.nsec < b.nsec }

// before orders (tn, seq) before row r.
func before(tn tkey, seq uint64, r *row) bool {
	return tn.less(r.tn) || tn == r.tn && seq < r.seq
}

// before2 orders row r before (tn, seq).
func before2(r *row, tn tkey, seq uint64) bool {
	return r.tn.less(tn) || r.tn == tn && r.seq < seq
}

// insertSorted inserts r into rs, sorted by (t, seq); in-order input
// appends.
func insertSorted(rs []*row, r *row) []*row {
	i := len(rs)
	for i > 0 && before(r.tn, r.seq, rs[i-1]) {
		i--
	}
	rs = append(rs, nil)
	copy(rs[i+1:], rs[i:])
	rs[i] = r
	return rs
}

func (c *Collector) newRow() *row {
	if n := len(c.free); n > 0 {
		r := c.free[n-1]
		c.free = c.free[:n-1]
		return r
	}
	return &row{}
}

// release recycles r once neither list holds it.
func (c *Collector) release(r *row) {
	if !r.inE && !r.inL {
		c.free = append(c.free, r)
	}
}

// appendLog appends line as a log sample: valid UTF-8, the control
// characters other than tab written as \xNN (as nginx writes them; a NUL
// would not even be stored), cut at MaxLogLine bytes.
func appendLog(dst, line []byte) []byte {
	clean := true
	for _, c := range line {
		if c < 0x20 && c != '\t' || c >= 0x7f {
			clean = false
			break
		}
	}
	if clean && len(line) <= MaxLogLine {
		return append(dst, line...)
	}
	start := len(dst)
	for i := 0; i < len(line); {
		if len(dst)-start >= MaxLogLine {
			dst = append(dst, "… [cut: the line has "...)
			dst = appendInt(dst, int64(len(line)))
			dst = append(dst, " bytes]"...)
			break
		}
		c := line[i]
		switch {
		case c < 0x20 && c != '\t', c == 0x7f:
			dst = append(dst, '\\', 'x', hexDigit[c>>4], hexDigit[c&15])
			i++
		case c < 0x80:
			dst = append(dst, c)
			i++
		default:
			r, n := utf8.DecodeRune(line[i:])
			if r == utf8.RuneError && n <= 1 {
				dst = append(dst, '\\', 'x', hexDigit[c>>4], hexDigit[c&15])
				i++
				continue
			}
			dst = append(dst, line[i:i+n]...)
			i += n
		}
	}
	return dst
}

const hexDigit = "0123456789abcdef"

func appendInt(dst []byte, n int64) []byte {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return append(dst, b[i:]...)
}
