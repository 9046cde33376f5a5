package plaintext

import (
	"net/mail"
	"net/netip"
	"regexp"
	"strings"
	"time"

	"abusedesk/internal/intake/mailpart"
	"abusedesk/internal/report"
)

// forwarded is a message the reporter passed on: the spam they complain
// about.
type forwarded struct {
	Headers string          // the header block as written
	Body    string          // its text, bounded
	Header  mailpart.Header // the same, read
	Where   string          // how it came: "message/rfc822 part", "inline forward", "pasted headers"
	// from, to are the lines of the body text it occupied (inline forms),
	// which are not the reporter's own words and are not read for logs.
	from, to int
}

// Limits on forwarded messages.
const (
	maxForwarded    = 10
	maxForwardBody  = 64 << 10
	maxHeaderLines  = 500
	maxReceivedHops = 50
)

// markers open a forwarded message in the body (Gmail, Outlook, Thunderbird
// and Apple Mail, in English and French). They are matched on folded lower
// case text.
var markers = regexp.MustCompile(`^\s*(?:-{2,}\s*(?:forwarded message|original message|message transfere|message d'origine|message original)\s*-*|begin forwarded message\s*:?|debut du message reexpedie\s*:?)\s*$`)

// headerLine is "Name: value" (RFC 5322 §2.2) as people paste it; French
// clients write "De :" and "À :".
var headerLine = regexp.MustCompile(`^[\p{L}][\p{L}\p{N}-]{0,60} ?:(?:\s|$)`)

var receivedLine = regexp.MustCompile(`(?i)^received:\s`)

// findForwarded returns the forwarded messages of m: its message/rfc822
// parts (RFC 2046 §5.2.1), else a message forwarded inline after a
// client's marker line, else a pasted header block with Received lines.
func findForwarded(m *mailpart.Part, lines []string) []forwarded {
	var out []forwarded
	for _, l := range m.Leaves() {
		if l.Message == nil || len(out) >= maxForwarded {
			continue
		}
		body := ""
		if l.MediaType != "text/rfc822-headers" {
			body = clipBytes(l.Message.BodyText(), maxForwardBody)
		}
		out = append(out, forwarded{Headers: l.Message.RawHeader, Body: body, Header: l.Message.Header, Where: l.MediaType + " part", from: -1, to: -1})
	}
	if len(out) > 0 {
		return out
	}
	for i, line := range lines {
		if !markers.MatchString(fold(strings.ToLower(line))) {
			continue
		}
		j := i + 1
		for j < len(lines) && strings.TrimSpace(lines[j]) == "" {
			j++
		}
		end := headerBlockEnd(lines, j)
		if end-j < 2 {
			continue
		}
		body := ""
		if end < len(lines) {
			body = clipBytes(strings.Join(lines[end:], "\n"), maxForwardBody)
		}
		return []forwarded{inline(lines[j:end], strings.TrimSpace(body), "inline forward", i, len(lines))}
	}
	for i, line := range lines {
		if !receivedLine.MatchString(line) {
			continue
		}
		start := i
		for start > 0 && i-start < maxHeaderLines && (headerLine.MatchString(lines[start-1]) || isContinuation(lines[start-1]) && start > 1) {
			start--
		}
		for start < i && isContinuation(lines[start]) {
			start++
		}
		end := headerBlockEnd(lines, start)
		return []forwarded{inline(lines[start:end], "", "pasted headers", start, end)}
	}
	return nil
}

func isContinuation(l string) bool {
	return len(l) > 0 && (l[0] == ' ' || l[0] == '\t') && strings.TrimSpace(l) != ""
}

// headerBlockEnd returns the index after the header lines starting at j
// (fields and their folded continuations, RFC 5322 §2.2.3).
func headerBlockEnd(lines []string, j int) int {
	k := j
	for k < len(lines) && k-j < maxHeaderLines {
		if headerLine.MatchString(lines[k]) || k > j && isContinuation(lines[k]) {
			k++
			continue
		}
		break
	}
	return k
}

func inline(hl []string, body, where string, from, to int) forwarded {
	hs := strings.Join(hl, "\n") + "\n"
	h := mailpart.ParseHeaderOnly([]byte(hs)).Header
	return forwarded{Headers: hs, Body: body, Header: h, Where: where, from: from, to: to}
}

// hop is one Received header field (RFC 5321 §4.4): "from" the sending
// host, "by" the receiving one, and the date the receiver stamped.
type hop struct {
	FromHosts []string // the HELO name and the reverse-DNS name, when host names
	FromAddr  netip.Addr
	By        string
	Date      string // as written after the ";"
}

var receivedWord = regexp.MustCompile(`[^\s()\[\];]+|\[[^\]]*\]`)

func parseHop(v string) hop {
	var h hop
	if i := strings.LastIndexByte(v, ';'); i >= 0 {
		h.Date = strings.TrimSpace(v[i+1:])
		v = v[:i]
	}
	low := strings.ToLower(v)
	from := ""
	if strings.HasPrefix(strings.TrimSpace(low), "from ") {
		from = strings.TrimSpace(v)[5:]
		if i := strings.Index(strings.ToLower(from), " by "); i >= 0 {
			from = from[:i]
		}
	}
	rest := ""
	if strings.HasPrefix(strings.TrimSpace(low), "by ") {
		rest = strings.TrimSpace(v)[3:]
	} else if i := strings.Index(low, " by "); i >= 0 {
		rest = v[i+4:]
	}
	if f := strings.Fields(rest); len(f) > 0 {
		h.By = strings.ToLower(strings.TrimSuffix(f[0], "."))
	}
	for _, w := range receivedWord.FindAllString(from, 32) {
		w = strings.TrimSuffix(strings.TrimPrefix(w, "["), "]")
		w = strings.TrimPrefix(strings.TrimPrefix(w, "IPv6:"), "ipv6:")
		w = strings.TrimSuffix(w, ".")
		if a, ok := report.ParseIP(w); ok {
			if !h.FromAddr.IsValid() {
				h.FromAddr = a
			}
			continue
		}
		if strings.HasPrefix(strings.ToLower(w), "helo=") || strings.HasPrefix(strings.ToLower(w), "ehlo=") {
			w = w[5:]
		}
		if strings.Contains(w, ".") && report.ValidHost(w) {
			h.FromHosts = append(h.FromHosts, strings.ToLower(w))
		}
	}
	return h
}

// twoLevelSuffixes are public suffixes of two labels under which domains
// are registered (a short list, not the Public Suffix List: enough to tell
// example.co.uk from co.uk).
var twoLevelSuffixes = map[string]bool{
	"co.uk": true, "org.uk": true, "ac.uk": true, "gov.uk": true, "me.uk": true, "ltd.uk": true, "plc.uk": true, "net.uk": true,
	"com.au": true, "net.au": true, "org.au": true, "edu.au": true, "gov.au": true,
	"co.nz": true, "org.nz": true, "co.jp": true, "ne.jp": true, "or.jp": true, "ac.jp": true, "go.jp": true,
	"co.za": true, "com.br": true, "net.br": true, "com.cn": true, "net.cn": true, "com.mx": true, "com.tr": true,
	"co.in": true, "co.kr": true, "com.sg": true, "com.hk": true, "com.tw": true, "com.ar": true, "co.il": true,
	"gouv.fr": true, "asso.fr": true, "com.fr": true, "qc.ca": true,
}

// regDomain approximates the registrable domain of a host: its last two
// labels, or three under a known two-level suffix.
func regDomain(host string) string {
	host = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(host), "."))
	if _, isIP := report.ParseIP(host); isIP || !report.ValidHost(host) {
		return ""
	}
	labels := strings.Split(host, ".")
	if len(labels) < 2 {
		return ""
	}
	n := 2
	if len(labels) >= 3 && twoLevelSuffixes[strings.Join(labels[len(labels)-2:], ".")] {
		n = 3
	}
	if len(labels) < n {
		return ""
	}
	return strings.Join(labels[len(labels)-n:], ".")
}

func inDomains(host string, doms []string) bool {
	for _, d := range doms {
		if d != "" && (host == d || strings.HasSuffix(host, "."+d)) {
			return true
		}
	}
	return false
}

// addrDomain is the registrable domain of an address's domain part.
func addrDomain(from string) string {
	s := from
	if a, err := mail.ParseAddress(from); err == nil {
		s = a.Address
	}
	i := strings.LastIndexByte(s, '@')
	if i < 0 {
		return ""
	}
	return regDomain(strings.Trim(s[i+1:], "<> \t"))
}

// spamSource finds where the spam entered the reporter's side: walking the
// Received fields from the top (the most recent, RFC 5321 §4.4), the first
// hop whose sender is outside the reporter's network. A hop is inside when
// its from-address is private, loopback, link-local or CGNAT, or when its
// from-host names belong to the reporter's domain or to the domain of the
// topmost receiving host. Host names are weaker evidence than addresses
// (the HELO name is the sender's claim, and anonymised samples put every
// host under one domain): when the names leave no hop outside, the walk is
// done again trusting the reporter's domain only, then addresses only.
func spamSource(h mailpart.Header, reporterDomain string) (hop, bool) {
	vals := h.Values("Received")
	if len(vals) > maxReceivedHops {
		vals = vals[:maxReceivedHops]
	}
	hops := make([]hop, len(vals))
	for i, v := range vals {
		hops[i] = parseHop(v)
	}
	topBy := ""
	for _, hp := range hops {
		if hp.By != "" {
			topBy = regDomain(hp.By)
			break
		}
	}
	for _, doms := range [][]string{{reporterDomain, topBy}, {reporterDomain}, nil} {
		for _, hp := range hops {
			if !hp.FromAddr.IsValid() || insideAddr(hp.FromAddr) || !hp.FromAddr.IsGlobalUnicast() {
				continue
			}
			inside := false
			for _, n := range hp.FromHosts {
				inside = inside || inDomains(n, doms)
			}
			if !inside {
				return hp, true
			}
		}
	}
	return hop{}, false
}

// hopTime reads the hop's date (RFC 5322 §3.3), else the message's Date.
func hopTime(hp hop, h mailpart.Header) (stamp, bool) {
	for _, s := range []string{hp.Date, h.Get("Date")} {
		if s == "" {
			continue
		}
		if ts := findTimes(s, nil); len(ts) > 0 && ts[0].Zoned {
			return ts[0], true
		}
	}
	return stamp{}, false
}

// mailDate reads a Date header, zero when it does not read.
func mailDate(h mailpart.Header) time.Time {
	d := h.Get("Date")
	if d == "" {
		return time.Time{}
	}
	if t, err := mail.ParseDate(d); err == nil {
		return t
	}
	if ts := findTimes(d, nil); len(ts) > 0 && ts[0].Zoned {
		return ts[0].T
	}
	return time.Time{}
}
