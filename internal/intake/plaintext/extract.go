package plaintext

import (
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"abusedesk/internal/report"
)

// ipHit is one address found in a line.
type ipHit struct {
	Addr       netip.Addr
	Start, End int
	Port       int    // the port written with it (ip:port, "port N", SPT=), or -1
	Role       string // "src", "dst" or "" when the line does not say
}

var (
	// An IPv4 dotted quad not glued to other digits, dots or letters, so
	// that versions (1.2.3.4.5, v1.2.3.4) and OIDs are not read.
	ipv4Re = regexp.MustCompile(`\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}`)
	// IPv6 candidates: hex groups with at least two colons (RFC 4291 §2.2),
	// optionally ending in a dotted quad; parsed by netip afterwards, which
	// refuses times (10:00:00) and MAC addresses.
	ipv6Re = regexp.MustCompile(`(?i)[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}(?:\.\d{1,3}){0,3}`)
	// tcpdump writes address.port: "IP 203.0.113.9.53 > 198.51.100.20.41234:".
	tcpdumpRe = regexp.MustCompile(`\bIP6? (\S+?)\.(\d{1,5}) > (\S+?)\.(\d{1,5}):`)
	cgnat     = netip.MustParsePrefix("100.64.0.0/10")
	// A dotted quad after a software name or "version" is a version number.
	versionBefore = regexp.MustCompile(`(?i)(?:\bversion|\bver\.?|\brelease|\bfirmware|\bopenssh|\bopenssl|\bapache|\bnginx|\bphp|\bpostfix|\bexim|\blinux|\bkernel|\bwindows|\bbuild|\bv)[ _/-]?$`)
)

// findIPs returns the addresses in line with the role the line gives them.
func findIPs(line string) []ipHit {
	var out []ipHit
	if m := tcpdumpRe.FindStringSubmatchIndex(line); m != nil {
		for k, role := range []string{"src", "dst"} {
			a, ok := report.ParseIP(line[m[2+4*k]:m[3+4*k]])
			if !ok {
				continue
			}
			p, _ := strconv.Atoi(line[m[4+4*k]:m[5+4*k]])
			out = append(out, ipHit{Addr: a, Start: m[2+4*k], End: m[3+4*k], Port: p, Role: role})
		}
		if len(out) > 0 {
			return out
		}
	}
	for _, loc := range ipv4Re.FindAllStringIndex(line, 16) {
		s, e := loc[0], loc[1]
		if s > 0 && (isWordByte(line[s-1]) || line[s-1] == '.') || e < len(line) && (isWordByte(line[e]) || line[e] == '.' && e+1 < len(line) && isDigit(line[e+1])) {
			continue
		}
		if versionBefore.MatchString(line[max(0, s-24):s]) {
			continue
		}
		a, err := netip.ParseAddr(line[s:e])
		if err != nil {
			continue
		}
		out = append(out, hit(line, a, s, e))
	}
	for _, loc := range ipv6Re.FindAllStringIndex(line, 16) {
		s, e := loc[0], loc[1]
		if s > 0 && (isWordByte(line[s-1]) || line[s-1] == ':') {
			continue
		}
		cand := strings.TrimRight(line[s:e], ":.")
		if strings.Count(cand, ":") < 2 {
			continue
		}
		a, err := netip.ParseAddr(cand)
		if err != nil || !a.Is6() || a.Is4In6() {
			continue
		}
		out = append(out, hit(line, a, s, s+len(cand)))
	}
	sortHits(out)
	return out
}

func sortHits(h []ipHit) {
	for i := 1; i < len(h); i++ {
		for j := i; j > 0 && h[j].Start < h[j-1].Start; j-- {
			h[j], h[j-1] = h[j-1], h[j]
		}
	}
}

var (
	portAfter = regexp.MustCompile(`^(?:\]?:(\d{1,5})\b|\s+port\s+(\d{1,5})\b|\.(\d{1,5})\b)`)
	srcBefore = regexp.MustCompile(`(?i)(?:\bsrc=|\bsource(?: network)? address:\s*|\bsource(?: ip)?:?\s*|\bfrom\s+(?:unknown)?\[?|\brhost=|\bclient:?\s*|\bban\s+|\bfound\s+|\bdepuis\s+(?:l'adresse\s+)?|\bpar\s+(?:l'adresse\s+)?|\battaquant\s*:?\s*|\battacker\s*:?\s*|\[)$`)
	dstBefore = regexp.MustCompile(`(?i)(?:\bdst=|\bdestination(?: address| ip)?:?\s*|\bto\s+|->\s*|>\s*|\btarget(?: ip)?:?\s*|\bcible\s*:?\s*|\bvers\s+)$`)
	sptRe     = regexp.MustCompile(`\bSPT=(\d{1,5})\b`)
	dptRe     = regexp.MustCompile(`\bDPT=(\d{1,5})\b`)
)

// hit reads the role and the port of the address at line[s:e] from the
// words around it.
func hit(line string, a netip.Addr, s, e int) ipHit {
	h := ipHit{Addr: a.WithZone("").Unmap(), Start: s, End: e, Port: -1}
	before := line[max(0, s-40):s]
	switch {
	case srcBefore.MatchString(before) && !strings.HasSuffix(before, "["):
		h.Role = "src"
	case strings.HasSuffix(before, "[") && strings.Contains(strings.ToLower(before), "from"):
		h.Role = "src" // postfix: "connect from unknown[203.0.113.5]"
	case dstBefore.MatchString(before):
		h.Role = "dst"
	}
	if m := portAfter.FindStringSubmatch(line[e:min(len(line), e+20)]); m != nil {
		for _, g := range m[1:] {
			if g != "" {
				h.Port, _ = strconv.Atoi(g)
			}
		}
	}
	return h
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// usableSource says whether a can be where abuse came from: a unicast
// address outside private networks (not 0.0.0.0, broadcast, multicast,
// loopback, RFC 1918/4193 or link-local, RFC 6890). The shared space of RFC
// 6598 (100.64.0.0/10) is kept: a carrier hands it to its customers, and a
// complaint to that carrier's desk names one of them (the demo's provider
// lives there too). A Received hop from it is still inside (insideAddr).
func usableSource(a netip.Addr) bool {
	return a.IsValid() && a.IsGlobalUnicast() && !a.IsPrivate() &&
		a != netip.AddrFrom4([4]byte{255, 255, 255, 255})
}

// insideAddr is an address of a private network: a Received hop from it is
// the reporter's own relay (RFC 1918, RFC 4193, RFC 6598 CGNAT, loopback,
// link-local).
func insideAddr(a netip.Addr) bool {
	return a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast() || cgnat.Contains(a) || a.IsUnspecified()
}

// Defanging, as threat-intelligence writers do it, undone before URLs are
// read: hxxp, [.], (.), [dot], [:]. The URLs are stored, never followed.
var (
	refanger = strings.NewReplacer("[.]", ".", "(.)", ".", "{.}", ".", "[dot]", ".", "(dot)", ".", "[:]", ":", "[://]", "://", "[/]", "/")
	schemeRe = regexp.MustCompile(`(?i)\b(?:hxxps?|hXXps?|h\*\*ps?|https?|meows?)(?:\[:\]|:)//`)
	urlRe    = regexp.MustCompile(`(?i)\bhttps?://(?:\[[0-9a-f:.]+\]|[^\s/?#<>"'\x60\[\]{}|\\^]+)[^\s<>"'\x60{}|\\^]*`)
)

// refang undoes the defanging of s.
func refang(s string) string {
	s = schemeRe.ReplaceAllStringFunc(s, func(m string) string {
		l := strings.ToLower(m)
		if strings.Contains(l, "s:") || strings.Contains(l, "s[") {
			return "https://"
		}
		return "http://"
	})
	return refanger.Replace(s)
}

// findURLs returns the http(s) URLs of line (defanged forms refanged),
// trailing punctuation trimmed.
func findURLs(line string) []string {
	if !strings.Contains(strings.ToLower(line), "://") && !strings.Contains(strings.ToLower(line), "[:]//") {
		return nil
	}
	line = refang(line)
	var out []string
	for _, u := range urlRe.FindAllString(line, 32) {
		u = trimURL(u)
		if s, ok := report.CheckURL(u); ok {
			out = append(out, s)
		}
	}
	return out
}

// trimURL drops the punctuation that ends the sentence around a URL, and
// a closing bracket that has no opening one inside the URL.
func trimURL(u string) string {
	for len(u) > 0 {
		c := u[len(u)-1]
		switch {
		case strings.IndexByte(".,;:!?'\"*", c) >= 0:
			u = u[:len(u)-1]
		case c == ')' && strings.Count(u, "(") < strings.Count(u, ")"),
			c == ']' && strings.Count(u, "[") < strings.Count(u, "]"),
			c == '>':
			u = u[:len(u)-1]
		default:
			return u
		}
	}
	return u
}

// logLike recognises lines that are log output rather than prose: the
// daemons and firewalls whose lines reporters paste.
var logLike = regexp.MustCompile(`(?i)\bsshd\[|\bsshd:|failed password|invalid user|authentication failure|\bSRC=|\bDST=|\bUFW (?:BLOCK|ALLOW|AUDIT)|\bIN=\S* OUT=|\bnft|iptables|fail2ban|\bBan\b|\bpostfix/|\bsmtpd\[|\bdovecot|\bexim|\bnginx|\bapache|"(?:GET|POST|HEAD|PUT|OPTIONS|DELETE|CONNECT|PROPFIND) [^"]*HTTP/\d|\bHTTP/[12]|\bEventID\b|\bEvent ID\b|\b4625\b|An account failed to log on|Source Network Address|\bkernel:|\bDROP\b|\bREJECT\b|\bdenied\b|\bblocked\b|\bIP6? \S+ > \S+:|\bconnect from\b|\blost connection\b|\bNOQUEUE\b|\bSYN\b|\bproto(?:col)?[ =]`)

// syslogStart is a line that begins with a time stamp (syslog, ISO, ctime
// or a bracketed time): with an address in it, it is log output.
var syslogStart = regexp.MustCompile(`^\s*(?:\[?\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}|[A-Z][a-z]{2}\s+\d{1,2}\s+\d{2}:\d{2}:\d{2}|\[?\d{2}/[A-Za-z]{3}/\d{4}:|\[?\d{4}/\d{2}/\d{2} \d{2}:\d{2}|\d{2}:\d{2}:\d{2}\.\d+ IP)|^\s*\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3} \S+ \S+ \[`)

func isLogLine(line string) bool {
	return syslogStart.MatchString(line) || logLike.MatchString(line)
}

// protocolOf guesses the protocol of a log line from the daemon that wrote
// it (a short name the validator accepts).
func protocolOf(line string) string {
	l := strings.ToLower(line)
	switch {
	case strings.Contains(l, "sshd") || strings.Contains(l, " ssh2"):
		return "ssh"
	case strings.Contains(l, "postfix/") || strings.Contains(l, "smtpd") || strings.Contains(l, "exim"):
		return "smtp"
	case strings.Contains(l, "http/1") || strings.Contains(l, "http/2"):
		return "http"
	case strings.Contains(l, "4625") || strings.Contains(l, "rdp") || strings.Contains(l, "termservice"):
		return "rdp"
	case strings.Contains(l, "proto=tcp") || strings.Contains(l, "flags [s]"):
		return "tcp"
	case strings.Contains(l, "proto=udp") || strings.Contains(l, ": udp"):
		return "udp"
	case strings.Contains(l, "proto=icmp"):
		return "icmp"
	}
	return ""
}

// iptables ports: SPT= is the source port, DPT= the destination's.
func firewallPorts(line string) (spt, dpt int) {
	spt, dpt = -1, -1
	if m := sptRe.FindStringSubmatch(line); m != nil {
		spt, _ = strconv.Atoi(m[1])
	}
	if m := dptRe.FindStringSubmatch(line); m != nil {
		dpt, _ = strconv.Atoi(m[1])
	}
	return spt, dpt
}

// targetPhrase names what the reporter says was attacked: the address or
// host just after it is a target, not a source.
var targetPhrase = regexp.MustCompile(`(?i)\b(?:my|our)\s+(?:web\s*|mail\s*|ssh\s*|dns\s*)?(?:server|servers|host|hosts|machine|ip|ip address|address|network|site|vps)\b|\b(?:notre|mon|nos|mes)\s+(?:serveur|serveurs|machine|machines|adresse(?:\s+ip)?|ip|r[ée]seau|site|h[ôo]te)\b|\bdestination\b|\btarget(?:ed)?\b|\bcible\b|\bvictim\b|\bvictime\b`)

// hostRe is a DNS name with at least one dot and an alphabetic last label.
var hostRe = regexp.MustCompile(`(?i)\b(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}\b`)

// findTargets returns the addresses and host names the line names as
// attacked: the first one within a few words after a target phrase.
func findTargets(line string, ips []ipHit) []string {
	var out []string
	for _, loc := range targetPhrase.FindAllStringIndex(line, 4) {
		after := line[loc[1]:min(len(line), loc[1]+48)]
		best, bestAt := "", len(after)+1
		for _, h := range ips {
			if h.Start >= loc[1] && h.Start-loc[1] < bestAt && h.Start-loc[1] < 48 {
				best, bestAt = h.Addr.String(), h.Start-loc[1]
			}
		}
		if m := hostRe.FindStringIndex(after); m != nil && m[0] < bestAt && (m[0] == 0 || after[m[0]-1] != '@') {
			host := strings.ToLower(after[m[0]:m[1]])
			if _, isIP := report.ParseIP(host); !isIP && report.ValidHost(host) && !strings.Contains(host, "@") {
				best = host
			}
		}
		if best != "" {
			out = append(out, best)
		}
	}
	return out
}
