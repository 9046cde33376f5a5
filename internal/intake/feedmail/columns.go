package feedmail

import (
	"regexp"
	"strings"
)

// role is what a column means for the incident.
type role int

const (
	roleNone role = iota
	roleIP
	roleTime
	roleSrcPort
	roleTarget
	roleDstPort
	roleProto
	roleHint
)

// roleAliases are the header names of each role, best first: when a header
// has several columns of one role, the best-ranked name wins (ip over
// source, timestamp over first_seen), and among equals the leftmost. The
// names are normalised as by normName.
var roleAliases = map[role][]string{
	roleIP:      {"ip", "srcip", "sourceip", "ipaddress", "src", "source"},
	roleTime:    {"timestamputc", "timestamp", "datetime", "eventtime", "time", "date", "firstseen", "lastseen", "ts"},
	roleSrcPort: {"port", "srcport", "sourceport"},
	roleTarget:  {"dstip", "destip", "destinationip", "destination", "target", "dst"},
	roleDstPort: {"dstport", "destport", "destinationport", "targetport"},
	roleProto:   {"protocol", "proto", "transport"},
	roleHint:    {"tag", "type", "infection", "category", "malware", "reporttype", "event"},
}

// roleNames are the roles as the missing entries name them.
var roleNames = map[role]string{
	roleIP: "source IP", roleTime: "time", roleSrcPort: "source port", roleTarget: "target",
	roleDstPort: "target port", roleProto: "protocol",
}

// normName folds a header name: lower case, and only letters and digits
// kept, so that "Source IP", "source-ip" and "source_ip" compare equal (and
// "Time (UTC)" reads as "timeutc"). A UTF-8 byte order mark goes too.
func normName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// columns is the header read: the index of the column of each role (-1
// when absent), the hint columns, and what the names say about zones.
type columns struct {
	names   []string // as written, trimmed and cleaned, for logs and messages
	idx     map[role]int
	hints   []int
	utc     bool // the time column's name says UTC or GMT
	date    int  // a "date" column beside a "time" one (see readHeader), or -1
	clock   int  // the "time" column beside it, or -1
	hasData bool // the header's first cell is an IP address: no header at all
}

// readHeader maps a header record to roles.
func readHeader(rec []string) *columns {
	c := &columns{idx: map[role]int{}}
	rank := map[role]int{}
	n := min(len(rec), MaxColumns)
	for i := 0; i < n; i++ {
		raw := rec[i]
		if i == 0 {
			raw = strings.TrimPrefix(raw, "\ufeff")
		}
		c.names = append(c.names, clean(raw, 64))
		key := normName(raw)
		r, k, utc := lookup(key)
		if r == roleNone {
			continue
		}
		if r == roleHint {
			c.hints = append(c.hints, i)
			continue
		}
		if best, seen := rank[r]; !seen || k < best {
			rank[r] = k
			c.idx[r] = i
			if r == roleTime {
				c.utc = utc
			}
		}
	}
	for _, r := range []role{roleIP, roleTime, roleSrcPort, roleTarget, roleDstPort, roleProto} {
		if _, ok := c.idx[r]; !ok {
			c.idx[r] = -1
		}
	}
	// A "date" column holding the day and a "time" column holding the
	// time of day name one instant in two halves: keep both, to join them
	// on the rows whose values are such halves.
	c.date, c.clock = -1, -1
	for i := 0; i < n; i++ {
		switch k := normName(rec[i]); {
		case k == "date" && c.date < 0:
			c.date = i
		case (k == "time" || k == "timeutc" || k == "timegmt") && c.clock < 0:
			c.clock = i
		}
	}
	if t := c.idx[roleTime]; c.date < 0 || c.clock < 0 || (t != c.date && t != c.clock) {
		c.date, c.clock = -1, -1
	}
	if len(rec) > 0 {
		if _, ok := parseIPCell(rec[0]); ok {
			c.hasData = true
		}
	}
	return c
}

// lookup finds the role and rank of a normalised name. A time column whose
// name ends or starts with utc or gmt ("timestamp_utc", "Time (UTC)",
// "utc_time") states the zone of its zone-less values.
func lookup(key string) (role, int, bool) {
	for r, names := range roleAliases {
		for k, n := range names {
			if key == n {
				return r, k, r == roleTime && (strings.HasSuffix(key, "utc") || strings.HasSuffix(key, "gmt"))
			}
		}
	}
	for _, z := range []string{"utc", "gmt"} {
		base, ok := strings.CutSuffix(key, z)
		if !ok {
			base, ok = strings.CutPrefix(key, z)
		}
		if !ok || base == "" {
			continue
		}
		for k, n := range roleAliases[roleTime] {
			if base == n {
				return roleTime, k, true
			}
		}
	}
	return roleNone, 0, false
}

// aliasList names the accepted names of a role for a message.
func aliasList(r role) string {
	return strings.Join(roleAliasesWritten[r], ", ")
}

var roleAliasesWritten = map[role][]string{
	roleIP:   {"ip", "src_ip", "source_ip", "ip_address", "src", "source", "srcip"},
	roleTime: {"timestamp", "time", "date", "datetime", "first_seen", "last_seen", "event_time", "timestamp_utc", "ts"},
}

// Statements of the zone. A sentence counts only when it says the times
// are UTC or GMT outright: "times are UTC+1" or "times are not UTC" are no
// such statement (the offset and negation are checked by utcAt).
var (
	timeWord = `(?:times?|timestamps?|dates?|datetimes?|date/times?|date and time|heures?|horodatages?|horaires?|dates et heures)`
	linkWord = `(?:are|is|were|all|always|given|shown|expressed|reported|listed|displayed|stated|in|en|sont|est|tous|toutes|exprim[ée]e?s?|indiqu[ée]e?s?|donn[ée]e?s?|affich[ée]e?s?)`
	utcTexts = []*regexp.Regexp{
		regexp.MustCompile(`(?i)\b` + timeWord + `(?:[ \t]+` + linkWord + `)*[ \t]+(?:UTC|GMT)\b`),
		regexp.MustCompile(`(?i)\b` + timeWord + `[ \t]*\([ \t]*(?:UTC|GMT)[ \t]*\)`),
		regexp.MustCompile(`(?i)\b(?:UTC|GMT)[ \t]+` + timeWord + `\b`),
		regexp.MustCompile(`(?i)\b(?:time\s*zone|timezone|fuseau horaire)[ \t]*(?:is|est|:)?[ \t]*(?:UTC|GMT)\b`),
	}
	offsetAfter = regexp.MustCompile(`^\s*[+\-−]\s*\d`)
)

// mailUTCStatement returns the first sentence of text stating that times
// are UTC, clipped for quoting, or "".
func mailUTCStatement(text string) string {
	for _, re := range utcTexts {
		for _, loc := range re.FindAllStringIndex(text, 20) {
			rest := text[loc[1]:]
			if strings.HasSuffix(text[:loc[1]], ")") {
				rest = ""
			}
			if offsetAfter.MatchString(rest) {
				continue
			}
			return clean(text[loc[0]:loc[1]], 120)
		}
	}
	return ""
}

// fileUTC reports whether a file name says UTC or GMT as a word of its own
// ("scan-2024-01-15-utc.csv"), not followed by an offset ("utc+1",
// "utc-05"). "-" followed by a year is a date, not an offset.
var fileZone = regexp.MustCompile(`(?i)(?:^|[^a-z0-9])(?:utc|gmt)(?:$|[^a-z0-9])`)
var fileOffset = regexp.MustCompile(`(?i)(?:utc|gmt)(?:\+|-\d{1,2}(?:$|[^0-9])|-(?:0\d|1[0-4])\d\d(?:$|[^0-9]))`)

func fileUTC(name string) bool {
	return fileZone.MatchString(name) && !fileOffset.MatchString(name)
}

// Subtypes from words of the feed. Order matters: a brute-force or DDoS
// word says more than "scan" ("ssh brute force scanner" is an intrusion
// attempt), and "ssh" alone (an open SSH service scanned, "scan_ssh") says
// less than "scan".
var subtypeWords = []struct {
	subtype string
	words   []string
}{
	{"intrusion", []string{"brute", "login", "auth"}},
	{"ddos", []string{"ddos", "amplification", "amplifier", "flood"}},
	{"port_scan", []string{"portscan", "scan"}},
	{"intrusion", []string{"ssh"}},
}

// classify returns the subtype a text names, or "".
func classify(s string) string {
	s = strings.ToLower(s)
	for _, sw := range subtypeWords {
		for _, w := range sw.words {
			if strings.Contains(s, w) {
				return sw.subtype
			}
		}
	}
	return ""
}
