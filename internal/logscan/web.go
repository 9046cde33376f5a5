package logscan

import (
	"bytes"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Web server logs.
//
// Access logs are the Common/Combined Log Format of Apache (mod_log_config)
// and nginx (log_format combined), optionally after the virtual host
// (Apache's vhost_combined, "%v:%p %h …"):
//
//	203.0.113.7 - - [02/Mar/2026:10:00:00 +0100] "GET /wp-login.php HTTP/1.1" 404 153 "-" "Mozilla/5.0"
//
// A request is an event when its status is in the configured set
// (DefaultHTTPStatus: the 4xx a probe or a password guess draws). Both
// servers escape a double quote inside the request (\" and \x22), so the
// request ends at the first bare one.
//
// Error logs: nginx's "YYYY/MM/DD hh:mm:ss [level] pid#tid: *cid message,
// client: IP, server: …" and Apache 2.2/2.4's "[Www Mmm dd hh:mm:ss[.us]
// yyyy] [module:level] [pid …] [client IP:port] message". A line is an
// event at level error or worse when it names the client, except the
// server's own failures (nginx's upstream errors, Apache's proxy modules),
// which any visitor meets. nginx writes the client after a message that
// may quote the request path: a line in which two different addresses read
// as the client is unreadable rather than guessed.

// StatusSet is a set of HTTP statuses (100–599).
type StatusSet struct{ bits [10]uint64 }

// Has reports whether the set holds status s.
func (s *StatusSet) Has(s2 int) bool {
	return s2 >= 0 && s2 < 640 && s.bits[s2>>6]&(1<<(s2&63)) != 0
}

func (s *StatusSet) add(lo, hi int) {
	for i := lo; i <= hi; i++ {
		s.bits[i>>6] |= 1 << (i & 63)
	}
}

// Empty reports whether the set holds no status.
func (s *StatusSet) Empty() bool { return s.bits == [10]uint64{} }

// DefaultHTTPStatusSpec is the default of ParseStatusSet's input: client
// errors, what probes for /wp-login.php and /.env, password guesses (401,
// 403) and refused methods draw. 5xx are the server's own failures, which
// innocent visitors meet during an outage; add them with "400-599".
const DefaultHTTPStatusSpec = "400-499"

// DefaultHTTPStatus is the set DefaultHTTPStatusSpec names.
var DefaultHTTPStatus = func() *StatusSet {
	s, err := ParseStatusSet(DefaultHTTPStatusSpec)
	if err != nil {
		panic(err)
	}
	return s
}()

// ParseStatusSet reads a comma-separated list of statuses and ranges
// ("400-499", "401,403,404,444", "4xx,5xx"); "off" or "none" is the empty
// set (access logs read, no request counted).
func ParseStatusSet(spec string) (*StatusSet, error) {
	s := &StatusSet{}
	spec = strings.TrimSpace(spec)
	if spec == "off" || spec == "none" || spec == "" {
		return s, nil
	}
	for _, f := range strings.Split(spec, ",") {
		f = strings.TrimSpace(f)
		if len(f) == 3 && (f[1:] == "xx" || f[1:] == "XX") && f[0] >= '1' && f[0] <= '5' {
			base := int(f[0]-'0') * 100
			s.add(base, base+99)
			continue
		}
		lo, hi, isRange := strings.Cut(f, "-")
		a, err1 := strconv.Atoi(strings.TrimSpace(lo))
		b := a
		var err2 error
		if isRange {
			b, err2 = strconv.Atoi(strings.TrimSpace(hi))
		}
		if err1 != nil || err2 != nil || a < 100 || b > 599 || a > b {
			return nil, fmt.Errorf("%q is not an HTTP status (100–599), a range such as 400-499, or 4xx", f)
		}
		s.add(a, b)
	}
	return s, nil
}

func (p *Parser) status() *StatusSet {
	if p.HTTPStatus == nil {
		return DefaultHTTPStatus
	}
	return p.HTTPStatus
}

// access reads an access log line.
func (p *Parser) access(b []byte, ev *Event) Kind {
	sp := bytes.IndexByte(b, ' ')
	if sp < 1 {
		return Unreadable
	}
	a, ok := parseAddr(b[:sp])
	rest := b[sp+1:]
	var vhost []byte
	vport := -1
	if !ok {
		// vhost_combined: "host[:port] IP …".
		vhost = b[:sp]
		sp2 := bytes.IndexByte(rest, ' ')
		if sp2 < 1 {
			return Unreadable
		}
		if a, ok = parseAddr(rest[:sp2]); !ok {
			return Unreadable
		}
		rest = rest[sp2+1:]
		if c := bytes.LastIndexByte(vhost, ':'); c > 0 {
			if n, ok := atoi(vhost[c+1:]); ok && n <= 65535 {
				vport = n
				vhost = vhost[:c]
			}
		}
		if !validHost(vhost) {
			return Unreadable
		}
	}
	// "ident user [time]": the user is whatever authentication gave,
	// without spaces in practice; the time is fixed-width.
	lb := bytes.IndexByte(rest, '[')
	if lb < 2 || lb > 512 || rest[lb-1] != ' ' || len(rest) < lb+29 || rest[lb+27] != ']' {
		return Unreadable
	}
	if !parseCLF(rest[lb+1:lb+27], &ev.stamp) {
		return Unreadable
	}
	r := rest[lb+28:]
	if len(r) < 2 || r[0] != ' ' || r[1] != '"' {
		return Unreadable
	}
	r = r[2:]
	status := -1
	for off := 0; ; {
		j := bytes.IndexByte(r[off:], '"')
		if j < 0 {
			return Unreadable
		}
		j += off
		if j > 0 && r[j-1] == '\\' {
			off = j + 1
			continue
		}
		t := r[j+1:]
		if len(t) >= 4 && t[0] == ' ' && isDigit(t[1]) && isDigit(t[2]) && isDigit(t[3]) && (len(t) == 4 || t[4] == ' ') {
			status = int(t[1]-'0')*100 + int(t[2]-'0')*10 + int(t[3]-'0')
			break
		}
		off = j + 1
	}
	ev.Addr = a
	ev.Protocol = "http"
	if vhost != nil {
		ev.Target, ev.TargetPort = vhost, vport
	}
	if !p.status().Has(status) {
		return Noise
	}
	return Abuse
}

// validHost accepts a DNS name or an address (the virtual host field).
func validHost(b []byte) bool {
	if len(b) == 0 || len(b) > 253 {
		return false
	}
	for _, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == ':' || c == '[' || c == ']') {
			return false
		}
	}
	return true
}

var (
	ngxClient   = []byte(", client: ")
	ngxServer   = []byte(", server: ")
	ngxUpstream = []byte("upstream")
)

// severe reports whether a log level is error or worse.
func severe(level []byte) bool {
	switch string(level) {
	case "error", "crit", "alert", "emerg":
		return true
	}
	return false
}

// nginxError reads an nginx error log line.
func (p *Parser) nginxError(b []byte, ev *Event) Kind {
	n, ok := parseSlashed(b, &ev.stamp)
	if !ok || len(b) < n+4 || b[n] != ' ' || b[n+1] != '[' {
		return Unreadable
	}
	rest := b[n+2:]
	rb := bytes.IndexByte(rest, ']')
	if rb < 1 || rb > 8 {
		return Unreadable
	}
	if !severe(rest[:rb]) {
		return Noise
	}
	msg := rest[rb+1:]
	var a netip.Addr
	found := false
	for off := 0; ; {
		i := bytes.Index(msg[off:], ngxClient)
		if i < 0 {
			break
		}
		i += off + len(ngxClient)
		off = i
		end := i
		for end < len(msg) && msg[end] != ',' {
			end++
		}
		c, ok := parseAddr(msg[i:end])
		if !ok || (end < len(msg) && !bytes.HasPrefix(msg[end:], ngxServer)) {
			continue
		}
		if found && c != a {
			return Unreadable // two clients: one of them is the request's text
		}
		a, found = c, true
	}
	if !found {
		return Noise // an error of the server's own (startup, configuration)
	}
	ev.Addr = a
	ev.Protocol = "http"
	if bytes.Contains(msg, ngxUpstream) {
		return Noise
	}
	return Abuse
}

var apacheClient = []byte("client ")

// apacheError reads an Apache error log line.
func (p *Parser) apacheError(b []byte, ev *Event) Kind {
	n, ok := parseCtime(b[1:], &ev.stamp)
	if !ok || 1+n >= len(b) || b[1+n] != ']' {
		return Unreadable
	}
	rest := b[1+n+1:]
	var level, module, client []byte
	for first := true; len(rest) > 2 && rest[0] == ' ' && rest[1] == '['; first = false {
		from := 2
		if bytes.HasPrefix(rest[2:], []byte("client [")) { // "[client [2001:db8::1]:51234]"
			from = 2 + len("client [")
			if i := bytes.IndexByte(rest[from:], ']'); i >= 0 {
				from += i + 1
			}
		}
		end := bytes.IndexByte(rest[from:], ']')
		if end < 0 {
			return Unreadable
		}
		end += from
		g := rest[2:end]
		rest = rest[end+1:]
		if first {
			level = g
			if c := bytes.IndexByte(g, ':'); c >= 0 { // 2.4: "module:level"
				module, level = g[:c], g[c+1:]
			}
			continue
		}
		if bytes.HasPrefix(g, apacheClient) {
			client = g[len(apacheClient):]
			break // what follows is the message
		}
		if bytes.HasPrefix(g, []byte("pid ")) || bytes.HasPrefix(g, []byte("remote ")) {
			continue
		}
		break
	}
	if level == nil {
		return Unreadable
	}
	if !severe(level) || bytes.HasPrefix(module, []byte("proxy")) {
		return Noise
	}
	if client == nil {
		return Noise
	}
	a, port, ok := parseHostPort(client)
	if !ok {
		return Unreadable
	}
	ev.Addr, ev.SourcePort = a, port
	ev.Protocol = "http"
	return Abuse
}
