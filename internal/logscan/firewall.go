package logscan

import (
	"bytes"
)

// Firewall lines are the kernel's netfilter LOG target (iptables, ufw,
// nftables' "log"), one line per packet, written by nf_log_syslog as
//
//	[ 1234.567890] [UFW BLOCK] IN=eth0 OUT= MAC=… SRC=203.0.113.7 DST=198.51.100.20 LEN=44 … PROTO=TCP SPT=51234 DPT=23 …
//
// after the administrator's prefix ("[UFW BLOCK] ", "IPTables-Dropped: ").
// A packet is an event when it came in (IN= names an interface: with an
// empty IN= the machine sent it) and the prefix does not say it was let
// through ("ALLOW", "ACCEPT", or ufw's "AUDIT" lines, which log allowed
// traffic at high logging levels).

var (
	fwIn = []byte("IN=")
)

func (p *Parser) kernel(msg []byte, ev *Event) Kind {
	i := bytes.Index(msg, fwIn)
	if i < 0 || (i > 0 && msg[i-1] != ' ') {
		return Noise // another kernel message
	}
	prefix := msg[:i]
	if containsFold(prefix, "ALLOW") || containsFold(prefix, "ACCEPT") || containsFold(prefix, "AUDIT") {
		return Noise
	}
	var src, proto []byte
	inbound := false
	for f := msg[i:]; len(f) > 0; {
		sp := bytes.IndexByte(f, ' ')
		tok := f
		if sp >= 0 {
			tok, f = f[:sp], f[sp+1:]
		} else {
			f = nil
		}
		eq := bytes.IndexByte(tok, '=')
		if eq < 0 {
			continue
		}
		k, v := tok[:eq], tok[eq+1:]
		switch string(k) {
		case "IN":
			inbound = len(v) > 0
		case "SRC":
			src = v
		case "DST":
			ev.Target = v
		case "PROTO":
			proto = v
		case "SPT":
			if n, ok := atoi(v); ok && n <= 65535 {
				ev.SourcePort = n
			}
		case "DPT":
			if n, ok := atoi(v); ok && n <= 65535 {
				ev.TargetPort = n
			}
		}
	}
	if src == nil {
		return Noise
	}
	if !inbound {
		return Noise // a packet this machine sent
	}
	a, ok := parseAddr(src)
	if !ok {
		return Unreadable
	}
	if _, ok := parseAddr(ev.Target); !ok {
		ev.Target = nil
	}
	ev.Addr = a
	ev.Protocol = protoName(proto)
	return Abuse
}

// protoName is netfilter's PROTO= in lower case, as the desk wants it.
func protoName(b []byte) string {
	switch string(b) {
	case "TCP":
		return "tcp"
	case "UDP":
		return "udp"
	case "ICMP":
		return "icmp"
	case "ICMPv6":
		return "icmpv6"
	case "UDPLITE":
		return "udplite"
	case "SCTP":
		return "sctp"
	case "":
		return ""
	}
	if len(b) > 16 {
		return ""
	}
	out := make([]byte, 0, len(b))
	for _, c := range b {
		switch {
		case c >= 'A' && c <= 'Z':
			out = append(out, c+'a'-'A')
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
			out = append(out, c)
		default:
			return ""
		}
	}
	return string(out)
}

// containsFold reports whether b contains the upper-case ASCII word w, in
// any case.
func containsFold(b []byte, w string) bool {
	for i := 0; i+len(w) <= len(b); i++ {
		j := 0
		for ; j < len(w); j++ {
			c := b[i+j]
			if c >= 'a' && c <= 'z' {
				c -= 'a' - 'A'
			}
			if c != w[j] {
				break
			}
		}
		if j == len(w) {
			return true
		}
	}
	return false
}
