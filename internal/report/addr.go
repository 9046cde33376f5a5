package report

import (
	"net/netip"
	"strings"
)

// ParseIP reads an IPv4 or IPv6 address. Zones (fe80::1%eth0) are stripped,
// since they mean nothing outside the reporter's host, and IPv4-mapped IPv6
// (::ffff:192.0.2.1) becomes plain IPv4 so that one address has one form.
// Brackets around an IPv6 address are tolerated.
func ParseIP(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
		s = s[1 : len(s)-1]
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.WithZone("").Unmap(), true
}

// ValidHost reports whether s is a DNS host name (RFC 1123 §2.1 labels:
// letters, digits, hyphens, not starting or ending with a hyphen; an
// underscore is tolerated as real zones have them).
func ValidHost(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}
