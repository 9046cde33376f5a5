package report

import (
	"bufio"
	"net/netip"
	"net/textproto"
	"strings"
	"time"
)

// ParseHeaderBlock reads an RFC 5322 §2.2 header block (folded lines allowed).
// It tolerates LF-only lines and a missing blank line at the end, as pasted
// headers rarely have one.
func ParseHeaderBlock(s string) (textproto.MIMEHeader, bool) {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.TrimLeft(s, "\n")
	if i := strings.Index(s, "\n\n"); i >= 0 {
		s = s[:i] // a pasted body after the headers is not a header
	}
	r := textproto.NewReader(bufio.NewReader(strings.NewReader(s + "\n\n")))
	h, err := r.ReadMIMEHeader()
	if err != nil || len(h) == 0 {
		return nil, false
	}
	return h, true
}

// ReceivedSource finds the address that handed the message to the reporter's
// side: the topmost Received header (RFC 5321 §4.4) whose "from" clause names
// a public address. Hops inside private networks are the reporter's own
// relays and are skipped. It also returns that hop's date when it parses.
func ReceivedSource(h textproto.MIMEHeader) (netip.Addr, time.Time, bool) {
	for _, rcv := range h.Values("Received") {
		from := rcv
		if i := strings.Index(strings.ToLower(from), " by "); i >= 0 {
			from = from[:i]
		}
		if !strings.HasPrefix(strings.ToLower(strings.TrimSpace(from)), "from") {
			continue
		}
		for _, cand := range addrCandidates(from) {
			a, ok := ParseIP(cand)
			if !ok || !a.IsGlobalUnicast() || a.IsPrivate() {
				continue
			}
			var at time.Time
			if i := strings.LastIndex(rcv, ";"); i >= 0 {
				if t, err := parseMailDate(strings.TrimSpace(rcv[i+1:])); err == nil {
					at = t
				}
			}
			return a, at, true
		}
	}
	return netip.Addr{}, time.Time{}, false
}

// addrCandidates returns the bracketed literals of a Received from clause
// ("[192.0.2.1]", "[IPv6:2001:db8::1]") and then its bare words.
func addrCandidates(s string) []string {
	var out []string
	rest := s
	for {
		i := strings.IndexByte(rest, '[')
		if i < 0 {
			break
		}
		j := strings.IndexByte(rest[i:], ']')
		if j < 0 {
			break
		}
		lit := rest[i+1 : i+j]
		lit = strings.TrimPrefix(strings.TrimPrefix(lit, "IPv6:"), "ipv6:")
		out = append(out, lit)
		rest = rest[i+j+1:]
	}
	for _, w := range strings.FieldsFunc(s, func(r rune) bool {
		return r == ' ' || r == '(' || r == ')' || r == '\t' || r == '\n' || r == '\r' || r == '=' || r == ','
	}) {
		out = append(out, w)
	}
	return out
}

func parseMailDate(s string) (time.Time, error) {
	if i := strings.Index(s, " ("); i > 0 { // trailing "(UTC)" comment
		s = s[:i]
	}
	for _, layout := range []string{time.RFC1123Z, "Mon, 2 Jan 2006 15:04:05 -0700", "2 Jan 2006 15:04:05 -0700"} {
		if t, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, ErrTimestamp
}
