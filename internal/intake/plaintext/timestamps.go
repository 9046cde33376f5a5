package plaintext

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// stamp is one date-time found in a line of text.
type stamp struct {
	Text       string    // as written (the date, the time and the zone when one was read)
	Start, End int       // byte offsets in the line
	T          time.Time // the instant when Zoned; otherwise the civil time carried in UTC
	Zoned      bool      // the text (or the mail-wide statement) gave the zone
	Assumed    bool      // the zone came from the mail-wide statement ("all times UTC")
	Ambiguous  string    // a zone word that was read but names several zones (IST)
}

// Value is the incident timestamp: RFC 3339 when zoned, else the civil
// date-time without a zone, which report.ParseTimestamp refuses with
// ErrTimezoneMissing (a time without a zone is never assumed).
func (s stamp) Value() string {
	if s.Zoned {
		return s.T.Format(time.RFC3339)
	}
	return s.T.Format("2006-01-02T15:04:05")
}

// timeEnv is what the whole mail tells about its times.
type timeEnv struct {
	// mailDate is the mail's Date header (RFC 5322 §3.6.1): syslog lines
	// carry no year (RFC 3164 §4.1.2), so it is the year of the mail, or the
	// previous year when that would put the line after the mail was sent.
	mailDate time.Time
	// zone is the zone the mail states for all its times, if any.
	zone *zone
	// dayFirst reads 01/02/2026 as 1 February (the French order); without
	// it an all-small numeric date is ambiguous and not read.
	dayFirst bool
}

// zone is a fixed offset, or the legal time of metropolitan France, whose
// offset depends on the date (EU summer time, Directive 2000/84/EC).
type zone struct {
	offset int // seconds east of UTC
	paris  bool
	name   string
}

// at returns the instant of a civil date-time read in z.
func (z zone) at(y int, mo time.Month, d, h, mi, s int) time.Time {
	if !z.paris {
		return time.Date(y, mo, d, h, mi, s, 0, time.FixedZone("", z.offset))
	}
	// Summer time runs from the last Sunday of March to the last Sunday of
	// October, 01:00 UTC both (Directive 2000/84/EC art. 2 and 3).
	t := time.Date(y, mo, d, h, mi, s, 0, time.FixedZone("", 3600))
	start, end := lastSunday(y, time.March), lastSunday(y, time.October)
	if !t.Before(start) && t.Before(end) {
		return time.Date(y, mo, d, h, mi, s, 0, time.FixedZone("", 7200))
	}
	return t
}

func lastSunday(y int, m time.Month) time.Time {
	t := time.Date(y, m+1, 1, 1, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
	for t.Weekday() != time.Sunday {
		t = t.AddDate(0, 0, -1)
	}
	return t
}

// zoneAbbrev are the abbreviations read as zones. RFC 5322 §4.3 names UT,
// GMT and the North American ones; the European and Asian ones are those
// abuse reporters write. IST (India, Ireland, Israel) and other ambiguous
// names are deliberately absent: guessing would move the time by hours.
var zoneAbbrev = map[string]int{
	"UT": 0, "UTC": 0, "GMT": 0, "Z": 0, "WET": 0,
	"BST": 1, "CET": 1, "WEST": 1, "MET": 1,
	"CEST": 2, "EET": 2, "MEST": 2, "SAST": 2,
	"EEST": 3, "MSK": 3,
	"HKT": 8, "SGT": 8, "AWST": 8,
	"JST": 9, "KST": 9,
	"AEST": 10, "AEDT": 11, "NZST": 12, "NZDT": 13,
	"AST": -4, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5,
	"MST": -7, "MDT": -6, "PST": -8, "PDT": -7, "AKST": -9, "AKDT": -8, "HST": -10,
}

// ambiguousZones are read (so that the time is not left looking zoneless
// without a reason) but never used.
var ambiguousZones = map[string]bool{"IST": true, "CT": true, "ET": true, "PT": true, "MT": true}

// parseZone reads a zone as written after a time: Z, an offset (+0100,
// +01:00, +01), UTC/GMT with an offset (UTC+1), an abbreviation, or the
// French "heure de Paris".
func parseZone(s string) (zone, bool) {
	s = strings.TrimSpace(strings.Trim(strings.TrimSpace(s), "()"))
	if s == "" {
		return zone{}, false
	}
	low := fold(strings.ToLower(s))
	if strings.HasPrefix(low, "heure") {
		return zone{paris: true, name: "heure de Paris"}, true
	}
	if off, ok := zoneAbbrev[s]; ok {
		return zone{offset: off * 3600, name: s}, true
	}
	base := ""
	for _, p := range []string{"UTC", "GMT", "UT"} {
		if strings.HasPrefix(s, p) {
			base, s = p, strings.TrimSpace(s[len(p):])
			break
		}
	}
	if s == "" || len(s) < 2 || (s[0] != '+' && s[0] != '-') {
		return zone{}, false
	}
	sign := 1
	if s[0] == '-' {
		sign = -1
	}
	digits := strings.ReplaceAll(s[1:], ":", "")
	for _, c := range digits {
		if c < '0' || c > '9' {
			return zone{}, false
		}
	}
	var h, m int
	switch {
	case len(digits) <= 2 && (base != "" || len(digits) == 2):
		h, _ = strconv.Atoi(digits)
	case len(digits) == 3 && base != "":
		h, _ = strconv.Atoi(digits[:1])
		m, _ = strconv.Atoi(digits[1:])
	case len(digits) == 4:
		h, _ = strconv.Atoi(digits[:2])
		m, _ = strconv.Atoi(digits[2:])
	default:
		return zone{}, false
	}
	if h > 14 || m > 59 {
		return zone{}, false
	}
	return zone{offset: sign * (h*3600 + m*60), name: strings.TrimSpace(base + s)}, true
}

const (
	monthsEN = `jan(?:uary|\.)?|feb(?:ruary|\.)?|mar(?:ch|\.)?|apr(?:il|\.)?|may|june?|july?|aug(?:ust|\.)?|sep(?:t(?:ember)?|\.)?|oct(?:ober|\.)?|nov(?:ember|\.)?|dec(?:ember|\.)?`
	monthsFR = `janvier|f[ée]vrier|mars|avril|mai|juin|juillet|ao[ûu]t|septembre|octobre|novembre|d[ée]cembre`
	days     = `(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+`
	// zonePart is what may follow a time: abbreviations are matched in
	// upper case only, since "est" is also French for "is".
	zonePart = `(?:\s*\(?\s*(?P<zone>(?-i:Z\b|(?:UTC|GMT|UT)\s?[+-]\d{1,2}(?::?\d{2})?|[A-Z]{2,5}\b)|[+-]\d{2}:?\d{2}\b|[+-]\d{2}\b|heure de paris|heure fran[çc]aise)\)?)?`
)

// The date-time forms read. Each names its groups; the reader below takes
// whichever are present.
var timeForms = []*regexp.Regexp{
	// ISO 8601 / RFC 3339 §5.6, with T or a space; also 2026/11/20 (nginx).
	regexp.MustCompile(`(?i)\b(?P<y>\d{4})[-/](?P<mo>\d{2})[-/](?P<d>\d{2})[T ]\s?(?P<h>\d{2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,]\d{1,9})?)?` + zonePart),
	// Apache/nginx common log format: 20/Nov/2026:10:00:00 +0100.
	regexp.MustCompile(`(?i)\b(?P<d>\d{2})/(?P<mon>[a-z]{3})/(?P<y>\d{4}):(?P<h>\d{2}):(?P<mi>\d{2}):(?P<s>\d{2})` + zonePart),
	// RFC 5322 §3.3: [Thu, ]20 Nov 2026 10:00[:00] +0100; also "20 November 2026 10:00 UTC".
	regexp.MustCompile(`(?i)\b(?:` + days + `)?(?P<d>\d{1,2})\s+(?P<mon>` + monthsEN + `)\s+(?P<y>\d{4}),?\s+(?:at\s+)?(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2}))?` + zonePart),
	// Syslog (RFC 3164 §4.1.2) "Nov 20 10:00:00", ctime "Fri Nov 20 10:00:00 UTC 2026",
	// and "November 20, 2026 at 10:00 UTC".
	regexp.MustCompile(`(?i)\b(?:` + days + `)?(?P<mon>` + monthsEN + `)\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(?P<y>\d{4}))?,?\s+(?:at\s+)?(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2}))?` + zonePart + `(?:\s+(?P<y2>\d{4})\b)?`),
	// French numeric: 20/11/2026 10:00, 20/11/2026 à 10h00, 20.11.2026 10:00.
	regexp.MustCompile(`(?i)\b(?P<d>\d{1,2})[/.](?P<mo>\d{1,2})[/.](?P<y>\d{4})(?:\s+(?:à|a)\s+|\s*[-,]?\s+)(?P<h>\d{1,2})[:h](?P<mi>\d{2})(?:[:m](?P<s>\d{2}))?` + zonePart),
	// French long: 20 novembre 2026 à 10h00, 1er mars 2026 à 9h.
	regexp.MustCompile(`(?i)\b(?P<d>\d{1,2})(?:er)?\s+(?P<monfr>` + monthsFR + `)\s+(?P<y>\d{4}),?\s*(?:(?:à|a|vers)\s+)?(?P<h>\d{1,2})\s?[h:]\s?(?P<mi>\d{2})?(?:[:m](?P<s>\d{2}))?` + zonePart),
}

var frMonths = map[string]time.Month{
	"janvier": 1, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6, "juillet": 7,
	"aout": 8, "septembre": 9, "octobre": 10, "novembre": 11, "decembre": 12,
}

func enMonth(s string) time.Month {
	s = strings.ToLower(strings.TrimSuffix(s, "."))
	if len(s) < 3 {
		return 0
	}
	i := strings.Index("janfebmaraprmayjunjulaugsepoctnovdec", s[:3])
	if i < 0 || i%3 != 0 {
		return 0
	}
	return time.Month(i/3 + 1)
}

// maxLineForTimes bounds the text one call reads; log lines are short.
const maxLineForTimes = 4096

// findTimes returns the date-times written in line, in order, without
// overlaps. A time whose zone is missing is returned with Zoned false
// (or read in env's mail-wide zone, with Assumed set).
func findTimes(line string, env *timeEnv) []stamp {
	if len(line) > maxLineForTimes {
		line = line[:maxLineForTimes]
	}
	if env == nil {
		env = &timeEnv{}
	}
	var out []stamp
	for _, re := range timeForms {
		for _, loc := range re.FindAllStringSubmatchIndex(line, 8) {
			if s, ok := readStamp(re, line, loc, env); ok {
				out = append(out, s)
			}
		}
	}
	// Keep the earliest (then longest) of overlapping readings.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && (out[j].Start < out[j-1].Start || out[j].Start == out[j-1].Start && out[j].End > out[j-1].End); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	kept := out[:0]
	end := -1
	for _, s := range out {
		if s.Start >= end {
			kept = append(kept, s)
			end = s.End
		}
	}
	return kept
}

func readStamp(re *regexp.Regexp, line string, loc []int, env *timeEnv) (stamp, bool) {
	g := map[string]string{}
	zoneStart := -1
	for i, name := range re.SubexpNames() {
		if name == "" || loc[2*i] < 0 {
			continue
		}
		g[name] = line[loc[2*i]:loc[2*i+1]]
		if name == "zone" {
			zoneStart = loc[2*i]
		}
	}
	atoi := func(k string) int {
		n, err := strconv.Atoi(g[k])
		if err != nil {
			return -1
		}
		return n
	}
	st := stamp{Start: loc[0], End: loc[1]}
	y, d, h, mi, s := atoi("y"), atoi("d"), atoi("h"), atoi("mi"), atoi("s")
	if y < 0 {
		y = atoi("y2")
	}
	if g["mi"] == "" {
		mi = 0 // "à 10h"
	}
	if g["s"] == "" {
		s = 0
	}
	var mo time.Month
	switch {
	case g["mon"] != "":
		mo = enMonth(g["mon"])
	case g["monfr"] != "":
		mo = frMonths[fold(strings.ToLower(g["monfr"]))]
	default:
		a, b := atoi("mo"), d
		if g["y"] != "" && len(g["y"]) == 4 && strings.Index(line[loc[0]:loc[1]], g["y"]) == 0 {
			mo = time.Month(a) // year first: always Y-M-D
		} else {
			// Numeric D/M/Y: the day comes first in French; a value
			// above 12 settles the order; otherwise it is ambiguous.
			switch {
			case a > 12 && b <= 12:
				d, mo = a, time.Month(b)
			case b > 12 && a <= 12:
				mo = time.Month(a)
			case env.dayFirst:
				mo = time.Month(a)
			default:
				return stamp{}, false
			}
		}
	}
	if mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60 {
		return stamp{}, false
	}
	if s == 60 {
		s = 59 // a leap second; Go's time has none
	}
	noYear := y < 0
	if noYear {
		if env.mailDate.IsZero() {
			return stamp{}, false
		}
		y = env.mailDate.Year()
		civilMail := time.Date(env.mailDate.Year(), env.mailDate.Month(), env.mailDate.Day(), env.mailDate.Hour(), env.mailDate.Minute(), 0, 0, time.UTC)
		if time.Date(y, mo, d, h, mi, s, 0, time.UTC).After(civilMail.Add(24 * time.Hour)) {
			y--
		}
	}
	if y < 1970 || y > 9999 {
		return stamp{}, false
	}
	civil := time.Date(y, mo, d, h, mi, s, 0, time.UTC)
	if civil.Day() != d { // 31 November
		return stamp{}, false
	}
	var z zone
	zoned := false
	if zs, ok := g["zone"]; ok {
		if zz, ok := parseZone(zs); ok {
			z, zoned = zz, true
		} else {
			if ambiguousZones[strings.TrimSpace(zs)] {
				st.Ambiguous = strings.TrimSpace(zs)
			}
			// Not a zone (a word that follows the time): the match ends
			// before it.
			st.End = zoneStart
			for st.End > st.Start && (line[st.End-1] == ' ' || line[st.End-1] == '(' || line[st.End-1] == '\t') {
				st.End--
			}
		}
	}
	st.Text = line[st.Start:st.End]
	switch {
	case zoned:
		st.T, st.Zoned = z.at(y, mo, d, h, mi, s), true
	case env.zone != nil && st.Ambiguous == "":
		st.T, st.Zoned, st.Assumed = env.zone.at(y, mo, d, h, mi, s), true, true
	default:
		st.T = civil
	}
	return st, true
}

// mailWideZone finds a statement that gives the zone of every time in the
// mail: "all times are UTC", "times in CET", "timezone: +01:00",
// "toutes les heures sont en UTC", "heure de Paris". It returns the zone
// and the statement as written.
func mailWideZone(text string) (*zone, string) {
	for _, re := range zoneStatements {
		for _, m := range re.FindAllStringSubmatchIndex(text, 16) {
			zs := "heure de Paris"
			if len(m) > 2 && m[2] >= 0 {
				zs = text[m[2]:m[3]]
			}
			if z, ok := parseZone(zs); ok {
				return &z, strings.TrimSpace(text[m[0]:m[1]])
			}
		}
	}
	return nil, ""
}

const zoneWord = `((?-i:UTC|GMT|UT)(?:\s?[+-]\d{1,2}(?::?\d{2})?)?|(?-i:[A-Z]{2,5})|[+-]\d{2}:?\d{2})`

var zoneStatements = []*regexp.Regexp{
	regexp.MustCompile(`(?i)\b(?:all\s+)?(?:the\s+)?(?:times?(?:tamps)?|dates?)\s+(?:(?:are|is)\s+)?(?:(?:given|shown|expressed|listed)\s+)?(?:in\s+)?` + zoneWord + `\b`),
	regexp.MustCompile(`(?i)\btime\s?zone\s*(?:is|:|=)?\s*` + zoneWord + `\b`),
	regexp.MustCompile(`(?i)\b(?:toutes\s+les\s+)?(?:heures?|horodatages?|dates)\s+(?:sont\s+|est\s+)?(?:indiqu[ée]es?\s+|exprim[ée]es?\s+|donn[ée]es?\s+)?en\s+` + zoneWord + `\b`),
	regexp.MustCompile(`(?i)\bfuseau(?:\s+horaire)?\s*:?\s*` + zoneWord + `\b`),
	regexp.MustCompile(`(?i)\bheures?\s+(?:de\s+paris|fran[çc]aises?|l[ée]gales?\s+fran[çc]aises?)\b`),
}
