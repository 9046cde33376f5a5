package arf

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"abusedesk/internal/report"
)

// errDate is returned for a date that does not read, and errZone for one
// whose zone is absent or unknown: the instant it names is then unknown,
// and the desk never assumes one (report.ErrTimezoneMissing says why).
var (
	errDate = errors.New("not an RFC 5322 date-time")
	errZone = errors.New("the date has no zone this reader knows")
)

// zones are the alphabetic zones a date may carry. RFC 5322 §4.3 defines
// UT, GMT and the North American ones; the others are abbreviations that
// feedback generators in the wild write (the corpus has "JST") and whose
// meaning is not in doubt. Ambiguous ones (IST, BST, ...) are left out on
// purpose: RFC 5322 §4.3 says an unknown zone SHOULD be read as -0000, but
// a wrong offset would attribute the address to the wrong customer, so an
// unknown zone makes the date unusable and the next source of a date is
// tried instead.
var zones = map[string]int{
	"UT": 0, "UTC": 0, "GMT": 0, "Z": 0,
	"EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
	"JST": 9, "KST": 9, "CET": 1, "CEST": 2, "MET": 1, "MEST": 2, "EET": 2, "EEST": 3, "WET": 0, "WEST": 1,
}

var months = map[string]time.Month{
	"jan": time.January, "feb": time.February, "mar": time.March, "apr": time.April,
	"may": time.May, "jun": time.June, "jul": time.July, "aug": time.August,
	"sep": time.September, "oct": time.October, "nov": time.November, "dec": time.December,
}

// parseDate reads a date-time as feedback reports write it: RFC 5322 §3.3
// ("Thu, 8 Mar 2005 14:00:00 -0400"), with or without the day name, with
// comments such as "(UTC)" anywhere, the obsolete forms of §4.3 (two-digit
// years, alphabetic zones), or an RFC 3339 date-time, which some generators
// use for Arrival-Date. The result is in UTC.
func parseDate(s string) (time.Time, error) {
	s = stripComments(s)
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 200 {
		return time.Time{}, errDate
	}
	if len(s) >= 10 && s[4] == '-' && s[7] == '-' { // 2026-03-02T10:00:00Z
		if t, err := report.ParseTimestamp(s); err == nil {
			return t, nil
		} else if errors.Is(err, report.ErrTimezoneMissing) {
			return time.Time{}, errZone
		}
	}
	// The day of the week is informative only (§3.3: it must agree with
	// the date, but generators get it wrong, as in the corpus).
	if i := strings.IndexByte(s, ','); i >= 0 && i <= 10 {
		s = s[i+1:]
	}
	f := strings.Fields(s)
	if len(f) > 0 && len(f[0]) >= 3 && isAlpha(f[0]) {
		if _, isMonth := months[strings.ToLower(f[0][:3])]; !isMonth {
			f = f[1:] // "Thu 29 Apr 2009 ..." without the comma
		}
	}
	if len(f) < 4 {
		return time.Time{}, errDate
	}
	day, err := strconv.Atoi(f[0])
	if err != nil || day < 1 || day > 31 {
		return time.Time{}, errDate
	}
	if len(f[1]) < 3 {
		return time.Time{}, errDate
	}
	month, ok := months[strings.ToLower(f[1][:3])]
	if !ok {
		return time.Time{}, errDate
	}
	year, err := strconv.Atoi(f[2])
	if err != nil || year < 0 || len(f[2]) > 4 {
		return time.Time{}, errDate
	}
	switch { // §4.3: two-digit years from 50 are 19xx, three-digit add 1900
	case len(f[2]) == 2 && year < 50:
		year += 2000
	case len(f[2]) <= 3:
		year += 1900
	}
	hms := strings.Split(f[3], ":")
	if len(hms) < 2 || len(hms) > 3 {
		return time.Time{}, errDate
	}
	var clock [3]int
	for i, p := range hms {
		if i == 2 {
			p, _, _ = strings.Cut(p, ".") // fractions of a second are dropped
		}
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || len(p) > 2 {
			return time.Time{}, errDate
		}
		clock[i] = n
	}
	if clock[0] > 23 || clock[1] > 59 || clock[2] > 60 {
		return time.Time{}, errDate
	}
	if clock[2] == 60 { // a leap second
		clock[2] = 59
	}
	if len(f) < 5 {
		return time.Time{}, errZone
	}
	off, ok := zoneOffset(f[4])
	if !ok {
		return time.Time{}, errZone
	}
	t := time.Date(year, month, day, clock[0], clock[1], clock[2], 0, time.FixedZone("", off))
	if t.Day() != day {
		return time.Time{}, errDate
	}
	return t.UTC(), nil
}

// zoneOffset reads "+hhmm", "-hhmm", "+hh:mm" (§3.3; -0000 is UTC with no
// local zone known, which still names the instant) or an alphabetic zone.
func zoneOffset(z string) (int, bool) {
	if z == "" {
		return 0, false
	}
	if z[0] == '+' || z[0] == '-' {
		d := strings.ReplaceAll(z[1:], ":", "")
		if len(d) != 4 {
			return 0, false
		}
		n, err := strconv.Atoi(d)
		if err != nil || n < 0 || n/100 > 23 || n%100 > 59 {
			return 0, false
		}
		off := (n/100)*3600 + (n%100)*60
		if z[0] == '-' {
			off = -off
		}
		return off, true
	}
	h, ok := zones[strings.ToUpper(z)]
	return h * 3600, ok
}

// stripComments drops RFC 5322 §3.2.2 comments, "(UTC)", nested or not; an
// unclosed one runs to the end.
func stripComments(s string) string {
	if !strings.Contains(s, "(") {
		return s
	}
	var b strings.Builder
	depth := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case depth == 0:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isAlpha(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}
