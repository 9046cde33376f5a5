package logscan

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"time"
)

// Kind is what a line turned out to be.
type Kind uint8

const (
	// Noise is a line read and understood that shows no abuse (a cron job,
	// a successful request, an sshd connection already counted).
	Noise Kind = iota
	// Abuse is a line that shows abuse from Event.Addr.
	Abuse
	// Unreadable is a line of no known format, or of a known one with a
	// time, an address or a structure that does not read.
	Unreadable
	// LoggedIn is a successful login from Event.Addr (sshd's "Accepted"):
	// the address is likely a user of the machine, not an attacker.
	LoggedIn
	// RepeatLast is syslogd's "last message repeated N times": the line
	// before it happened Event.Count more times.
	RepeatLast
)

// Event is what a line says. Its byte slices alias the line (or the
// Parser's buffers) and are valid until the next line is parsed.
type Event struct {
	Addr netip.Addr
	// Count is how many events the line stands for: 1, or N for rsyslog's
	// "message repeated N times: [ … ]" and dovecot's "N attempts".
	Count int
	// Line is the line to show as evidence.
	Line []byte
	// Target is the attacked address or host name when the line names it
	// (a firewall's DST=, dovecot's lip=, the virtual host of an access
	// log); empty otherwise.
	Target []byte
	// TargetPort and SourcePort are -1 when the line does not say.
	TargetPort, SourcePort int
	// Protocol is a short lower-case name ("ssh", "tcp", "http", "smtp"…)
	// or "".
	Protocol string

	stamp stamp
	role  sshRole
	conn  uint64 // connKey of an sshd event: computed by the worker that parses the line
}

// reset readies ev for a line. The stamp is left: every timestamp parser
// sets it whole.
func (ev *Event) reset(line []byte) {
	ev.Addr = netip.Addr{}
	ev.Count = 1
	ev.Line = line
	ev.Target = nil
	ev.TargetPort, ev.SourcePort = -1, -1
	ev.Protocol = ""
	ev.role = sshNone
}

// Parser reads log lines one at a time. It keeps a little state between
// lines (the connections sshd already reported, the last minute it
// resolved), so it reads one stream; it is not safe for concurrent use.
type Parser struct {
	// Location is the zone of times written without one (syslog's RFC 3164
	// timestamps, fail2ban, nginx's error log…). Nil means time.Local.
	Location *time.Location
	// Reference is the time year-less dates are inferred against (the
	// file's modification time, or --now): see inferYear.
	Reference time.Time
	// HTTPStatus is the set of access-log statuses that count as abuse;
	// nil means DefaultHTTPStatus.
	HTTPStatus *StatusSet

	conns connCache

	// The last minute resolved: logs are in time order, so most lines
	// resolve without time.Date.
	minKey  stamp
	minBase int64
	minLoc  *time.Location
	minOK   bool
	fixed   map[int]*time.Location

	jbuf []byte // a journal entry's line
}

func (p *Parser) loc() *time.Location {
	if p.Location == nil {
		return time.Local
	}
	return p.Location
}

// Time is the instant of an event, in the zone its line gave (an offset),
// or in Location when it gave none.
func (p *Parser) Time(ev *Event) time.Time {
	st := &ev.stamp
	if st.zone == zoneUnix {
		return time.Unix(st.unix, int64(st.nsec)).In(p.loc())
	}
	sec, nsec := st.sec, st.nsec
	if sec == 60 { // a leap second: Go's time has none
		sec, nsec = 59, 999_999_999
	}
	k := &p.minKey
	if !p.minOK || k.minute != st.minute || k.hour != st.hour || k.day != st.day || k.mon != st.mon ||
		k.year != st.year || k.zone != st.zone || k.off != st.off {
		key := *st
		key.sec, key.nsec = 0, 0
		loc := p.loc()
		if st.zone == zoneOffset {
			loc = p.fixedZone(st.off)
		}
		year := st.year
		if year == 0 {
			year = inferYear(st, p.Reference, loc)
		}
		p.minKey, p.minLoc, p.minOK = key, loc, true
		p.minBase = time.Date(year, st.mon, st.day, st.hour, st.minute, 0, 0, loc).Unix()
	}
	return time.Unix(p.minBase+int64(sec), int64(nsec)).In(p.minLoc)
}

func (p *Parser) fixedZone(off int) *time.Location {
	if off == 0 {
		return time.UTC
	}
	if z := p.fixed[off]; z != nil {
		return z
	}
	if p.fixed == nil {
		p.fixed = map[int]*time.Location{}
	}
	z := time.FixedZone("", off)
	p.fixed[off] = z
	return z
}

// ParseLine reads one line (without or with its line end) into ev.
func (p *Parser) ParseLine(line []byte, ev *Event) Kind {
	return p.settle(p.parse(line, ev), ev)
}

// parse is ParseLine without the decisions that depend on the lines before
// (settle): what the workers of a parallel scan do.
func (p *Parser) parse(line []byte, ev *Event) Kind {
	line = trimEOL(line)
	ev.reset(line)
	if len(line) == 0 {
		return Noise
	}
	b := line
	if b[0] == '<' { // a syslog PRI part, as received from the network (RFC 5424 §6.2.1, RFC 3164 §4.1.1)
		end := bytes.IndexByte(b[:min(len(b), 6)], '>')
		if end < 2 {
			return Unreadable
		}
		if _, ok := atoi(b[1:end]); !ok {
			return Unreadable
		}
		b = b[end+1:]
		if len(b) > 2 && b[0] == '1' && b[1] == ' ' {
			return p.rfc5424(b[2:], ev)
		}
	}
	if len(b) == 0 {
		return Unreadable
	}
	c := b[0]
	switch {
	case isDigit(c) && len(b) >= 19 && b[4] == '-' && b[7] == '-':
		switch b[10] {
		case 'T': // rsyslog's precise format, journalctl -o short-iso
			n, ok := parseISO(b, 'T', &ev.stamp)
			if !ok || n >= len(b) || b[n] != ' ' {
				return Unreadable
			}
			return p.syslogBody(b[n+1:], ev)
		case ' ': // fail2ban.log, exim's mainlog
			n, ok := parseISO(b, ' ', &ev.stamp)
			if !ok || n >= len(b) || b[n] != ' ' {
				return Unreadable
			}
			rest := b[n+1:]
			if bytes.HasPrefix(rest, []byte("fail2ban.")) {
				return p.fail2ban(rest, ev)
			}
			return p.eximLine(rest, ev)
		}
		return Unreadable
	case isDigit(c) && len(b) >= 19 && b[4] == '/' && b[7] == '/':
		return p.nginxError(b, ev)
	case c == '[':
		if k := p.apacheError(b, ev); k != Unreadable || len(b) < 4 || isWeekday(b[1:4]) {
			return k
		}
		// "[2001:db8::7] - - […]": an access log of a bracketed address.
	case c >= 'A' && c <= 'Z':
		if n, ok := parseRFC3164(b, &ev.stamp); ok && n < len(b) && b[n] == ' ' {
			return p.syslogBody(b[n+1:], ev)
		}
		if k, ok := p.shortFull(b, ev); ok {
			return k
		}
	case c == '-':
		// journalctl's markers: "-- Logs begin at …", "-- Boot 4f2… --",
		// "-- No entries --".
		if bytes.HasPrefix(b, []byte("-- ")) {
			return Noise
		}
		return Unreadable
	case isDigit(c):
		if n, ok := parseEpoch(b, &ev.stamp); ok && n < len(b) && b[n] == ' ' {
			return p.syslogBody(b[n+1:], ev)
		}
	}
	// An access log line starts with the client's address (or the
	// virtual host, then the address).
	return p.access(b, ev)
}

// shortFull reads journalctl -o short-full: "Mon 2026-03-02 10:00:00 CET
// host prog[pid]: msg". The zone is an abbreviation: it is accepted when it
// is UTC/GMT or the one Location uses at that time, never guessed.
func (p *Parser) shortFull(b []byte, ev *Event) (Kind, bool) {
	if len(b) < 29 || b[3] != ' ' {
		return 0, false
	}
	var st stamp
	n, ok := parseISO(b[4:], ' ', &st)
	if !ok || st.zone != zoneLocal || 4+n >= len(b) || b[4+n] != ' ' {
		return 0, false
	}
	rest := b[4+n+1:]
	sp := bytes.IndexByte(rest, ' ')
	if sp < 1 || sp > 6 {
		return Unreadable, true
	}
	abbr := string(rest[:sp])
	var t time.Time
	switch abbr {
	case "UTC", "GMT":
		t = time.Date(st.year, st.mon, st.day, st.hour, st.minute, st.sec, st.nsec, time.UTC)
	default:
		loc := p.loc()
		t = time.Date(st.year, st.mon, st.day, st.hour, st.minute, st.sec, st.nsec, loc)
		if name, _ := t.Zone(); name != abbr {
			// The other side of a DST change, an hour away.
			found := false
			for _, d := range []time.Duration{-time.Hour, time.Hour} {
				u := t.Add(d)
				if name, off := u.Zone(); name == abbr {
					_, off0 := t.Zone()
					t = t.Add(time.Duration(off0-off) * time.Second)
					found = true
					break
				}
			}
			if !found {
				return Unreadable, true
			}
		}
	}
	ev.stamp = stamp{zone: zoneUnix, unix: t.Unix(), nsec: t.Nanosecond()}
	return p.syslogBody(rest[sp+1:], ev), true
}

// rfc5424 reads the rest of an RFC 5424 message after "<PRI>1 ":
// TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [MSG] (§6).
func (p *Parser) rfc5424(b []byte, ev *Event) Kind {
	n, ok := parseISO(b, 'T', &ev.stamp)
	if !ok || n >= len(b) || b[n] != ' ' {
		return Unreadable // "-" (no time) included: an event needs one
	}
	b = b[n+1:]
	var f [4][]byte // host, app, procid, msgid
	for i := range f {
		sp := bytes.IndexByte(b, ' ')
		if sp < 1 {
			return Unreadable
		}
		f[i], b = b[:sp], b[sp+1:]
	}
	// STRUCTURED-DATA: "-" or [id param="value"…]… with \] escaped.
	switch {
	case len(b) > 0 && b[0] == '-':
		b = b[1:]
	case len(b) > 0 && b[0] == '[':
		for len(b) > 0 && b[0] == '[' {
			i := 1
			for ; i < len(b); i++ {
				if b[i] == '\\' {
					i++
					continue
				}
				if b[i] == ']' {
					break
				}
			}
			if i >= len(b) {
				return Unreadable
			}
			b = b[i+1:]
		}
	default:
		return Unreadable
	}
	if len(b) > 0 && b[0] == ' ' {
		b = b[1:]
	}
	b = bytes.TrimPrefix(b, []byte("\xEF\xBB\xBF")) // the BOM of a UTF-8 MSG (§6.4)
	app := f[1]
	if string(app) == "-" {
		app = nil
	}
	return p.message(app, b, ev)
}

// syslogBody reads what follows the timestamp of a BSD syslog line (RFC
// 3164 §4.1.3, and the same layout after rsyslog's and journalctl's other
// timestamps): "HOST TAG: MSG", where TAG is "prog[pid]" or "prog". The host
// is absent in some files (dovecot's own log: "imap-login: Info: …").
func (p *Parser) syslogBody(b []byte, ev *Event) Kind {
	sp := bytes.IndexByte(b, ' ')
	if sp < 0 {
		return Unreadable
	}
	first := b[:sp]
	if len(first) == 0 || first[len(first)-1] != ':' {
		// first is the host; the tag follows.
		if bytes.HasPrefix(b[sp+1:], []byte("last message repeated ")) {
			return p.repeatLast(b[sp+1+len("last message repeated "):], ev)
		}
		b = b[sp+1:]
		sp = bytes.IndexByte(b, ' ')
		if sp < 0 {
			return Noise // a host and a word: nothing to read
		}
		first = b[:sp]
		if len(first) == 0 || first[len(first)-1] != ':' {
			return Noise // not "tag:" (a continuation line of some program)
		}
	}
	tag := first[:len(first)-1]
	if i := bytes.IndexByte(tag, '['); i >= 0 {
		tag = tag[:i]
	}
	return p.message(tag, b[sp+1:], ev)
}

var (
	prefixRepeated = []byte("message repeated ")
)

// message reads the message of program prog.
func (p *Parser) message(prog, msg []byte, ev *Event) Kind {
	// rsyslog's reduction of repeated messages: "message repeated 5 times:
	// [ Failed password for root from 203.0.113.7 port 51234 ssh2]".
	if bytes.HasPrefix(msg, prefixRepeated) {
		rest := msg[len(prefixRepeated):]
		sp := bytes.IndexByte(rest, ' ')
		if sp < 1 {
			return Unreadable
		}
		n, ok := atoi(rest[:sp])
		rest = rest[sp:]
		if !ok || n < 1 || !bytes.HasPrefix(rest, []byte(" times: [")) || rest[len(rest)-1] != ']' {
			return Unreadable
		}
		inner := bytes.TrimPrefix(rest[len(" times: ["):len(rest)-1], []byte(" "))
		k := p.program(prog, inner, ev)
		ev.Count *= n
		return k
	}
	return p.program(prog, msg, ev)
}

func (p *Parser) program(prog, msg []byte, ev *Event) Kind {
	if len(prog) < 3 {
		return Noise
	}
	switch prog[0] {
	case 's':
		if bytes.HasPrefix(prog, []byte("sshd")) { // sshd, sshd-session (OpenSSH ≥ 9.8), sshd-auth
			return p.sshd(msg, ev)
		}
		if bytes.HasSuffix(prog, []byte("-login")) { // dovecot's submission-login
			return p.dovecot(prog, msg, ev)
		}
	case 'k':
		if string(prog) == "kernel" {
			return p.kernel(msg, ev)
		}
	case 'p':
		if bytes.HasPrefix(prog, []byte("postfix")) {
			return p.postfix(prog, msg, ev)
		}
		if bytes.HasSuffix(prog, []byte("-login")) {
			return p.dovecot(prog, msg, ev)
		}
	case 'd':
		if string(prog) == "dovecot" {
			return p.dovecot(prog, msg, ev)
		}
	case 'i', 'm':
		if bytes.HasSuffix(prog, []byte("-login")) { // dovecot's own log: "imap-login: Info: …"
			return p.dovecot(prog, msg, ev)
		}
	case 'e':
		if bytes.HasPrefix(prog, []byte("exim")) {
			return p.exim(msg, ev)
		}
	case 'f':
		if bytes.HasPrefix(prog, []byte("fail2ban")) { // fail2ban with logtarget = SYSLOG
			return p.fail2banMsg(msg, ev)
		}
	case 'n', 'h', 'a':
		switch string(prog) {
		case "nginx", "httpd", "apache2", "apache":
			// An access log sent to syslog: the line after the tag.
			if len(msg) > 0 && msg[0] != '[' && !isDigit4Slash(msg) {
				k := p.access(msg, ev)
				if k == Unreadable {
					return Noise // not an access line: an error, a notice…
				}
				return k
			}
		}
	}
	return Noise
}

func isWeekday(b []byte) bool {
	switch string(b) {
	case "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun":
		return true
	}
	return false
}

func isDigit4Slash(b []byte) bool { return len(b) > 4 && b[4] == '/' }

// repeatLast reads the rest of "last message repeated N times".
func (p *Parser) repeatLast(b []byte, ev *Event) Kind {
	sp := bytes.IndexByte(b, ' ')
	if sp < 1 {
		return Unreadable
	}
	n, ok := atoi(b[:sp])
	if !ok || n < 1 || !bytes.HasPrefix(b[sp:], []byte(" time")) {
		return Unreadable
	}
	ev.Count = n
	return RepeatLast
}

func trimEOL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// connCache remembers, in a small direct-mapped table, the (address, port)
// connections that already yielded an event, so that the lines closing a
// connection ("Connection closed by … [preauth]") count only for those that
// showed nothing else. It is bounded (a recent window is all it needs: a
// connection's lines are seconds apart); a collision can only count a
// closing line once more.
type connCache struct {
	slots [4096]uint64 // a key with bit 0 set: the event was provisional
}

func connKey(a netip.Addr, port int) uint64 {
	b := a.As16()
	hi := binary.BigEndian.Uint64(b[:8])
	lo := binary.BigEndian.Uint64(b[8:])
	// A multiply-xorshift mix (as in splitmix64): the slot is the top
	// bits.
	h := (hi*0x9e3779b97f4a7c15 ^ lo) * 0xbf58476d1ce4e5b9
	h ^= uint64(port+1) * 0x94d049bb133111eb
	h ^= h >> 31
	h *= 0x9e3779b97f4a7c15
	return h&^1 | 2 // never 0, the empty slot; bit 0 is the flag
}

// lookup reports whether the connection of key k (connKey) is known, and
// whether its event was provisional.
func (c *connCache) lookup(k uint64) (known, provisional bool) {
	s := c.slots[k>>52]
	return s&^1 == k, s == k|1
}

func (c *connCache) set(k uint64, provisional bool) {
	if provisional {
		k |= 1
	}
	c.slots[k>>52] = k
}
