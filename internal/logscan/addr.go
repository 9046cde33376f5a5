package logscan

import (
	"bytes"
	"net/netip"
)

// parseAddr reads one address token as logs write it: IPv4, IPv6 (any
// form netip reads, a zone dropped), IPv6 in brackets ("[2001:db8::1]"),
// and IPv4-mapped IPv6 ("::ffff:203.0.113.7"), which is returned as the
// IPv4 address it maps so that one source has one key. IPv4 is read without
// allocating: it is most of what logs hold.
func parseAddr(b []byte) (netip.Addr, bool) {
	if len(b) >= 2 && b[0] == '[' && b[len(b)-1] == ']' {
		b = b[1 : len(b)-1]
	}
	if a, ok := parseIPv4(b); ok {
		return a, true
	}
	if len(b) < 2 || len(b) > 64 {
		return netip.Addr{}, false
	}
	colon := false
	for _, c := range b {
		switch {
		case c == ':':
			colon = true
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f', c >= 'A' && c <= 'F', c == '.', c == '%':
		default:
			if !colon { // a zone may hold other characters, an address may not
				return netip.Addr{}, false
			}
		}
	}
	if !colon {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(string(b))
	if err != nil {
		return netip.Addr{}, false
	}
	return a.WithZone("").Unmap(), true
}

// parseIPv4 reads dotted-quad IPv4 (no leading zeros beyond one digit
// groups of at most three digits, as netip does not accept "010.0.0.1"
// either: an octal-looking quad is not something a log writes).
func parseIPv4(b []byte) (netip.Addr, bool) {
	var ip [4]byte
	part, digits, val := 0, 0, 0
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= '0' && c <= '9':
			if digits == 1 && val == 0 {
				return netip.Addr{}, false // leading zero
			}
			val = val*10 + int(c-'0')
			digits++
			if val > 255 {
				return netip.Addr{}, false
			}
		case c == '.' && digits > 0 && part < 3:
			ip[part] = byte(val)
			part++
			digits, val = 0, 0
		default:
			return netip.Addr{}, false
		}
	}
	if part != 3 || digits == 0 {
		return netip.Addr{}, false
	}
	ip[3] = byte(val)
	return netip.AddrFrom4(ip), true
}

// parseHostPort reads "IP", "IP:port" (IPv4 only: an IPv6 address has
// colons of its own) or "[IPv6]:port", as Apache's "[client …]" and exim's
// "[ip]:port" write them. port is -1 when absent.
func parseHostPort(b []byte) (netip.Addr, int, bool) {
	if len(b) > 0 && b[0] == '[' {
		end := bytes.IndexByte(b, ']')
		if end < 0 {
			return netip.Addr{}, -1, false
		}
		a, ok := parseAddr(b[1:end])
		if !ok {
			return netip.Addr{}, -1, false
		}
		rest := b[end+1:]
		if len(rest) == 0 {
			return a, -1, true
		}
		if rest[0] != ':' {
			return netip.Addr{}, -1, false
		}
		p, ok := atoi(rest[1:])
		if !ok || p > 65535 {
			return netip.Addr{}, -1, false
		}
		return a, p, true
	}
	if a, ok := parseAddr(b); ok {
		return a, -1, true
	}
	// IPv4:port
	c := bytes.LastIndexByte(b, ':')
	if c < 0 {
		return netip.Addr{}, -1, false
	}
	a, ok := parseIPv4(b[:c])
	if !ok {
		return netip.Addr{}, -1, false
	}
	p, ok := atoi(b[c+1:])
	if !ok || p > 65535 {
		return netip.Addr{}, -1, false
	}
	return a, p, true
}

// atoi reads a non-negative decimal of at most 9 digits.
func atoi(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
