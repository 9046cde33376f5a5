package report

import (
	"errors"
	"time"
)

// Timestamp errors; callers map them to CodeInvalidTimestamp and
// CodeTimezoneRequired.
var (
	ErrTimestamp       = errors.New("not an ISO 8601 date-time (expected e.g. 2026-03-02T10:00:00+01:00)")
	ErrTimezoneMissing = errors.New("the time has no zone: add Z or an offset such as +01:00; a time without a zone is never assumed")
)

// ParseTimestamp reads an ISO 8601 / RFC 3339 date-time that carries a zone:
// "Z" or an offset (+01:00, +0100, +01). Seconds and fractions are optional
// (ISO 8601 allows "2026-03-02T10:00+01:00"), the separator may be "T" or a
// space (RFC 3339 §5.6 note). A time without a zone is ErrTimezoneMissing:
// the instant it names is unknown, so it is never assumed.
// The result is in UTC.
func ParseTimestamp(s string) (time.Time, error) {
	p := s
	num := func(n int) (int, bool) {
		if len(p) < n {
			return 0, false
		}
		v := 0
		for i := 0; i < n; i++ {
			c := p[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		p = p[n:]
		return v, true
	}
	lit := func(c byte) bool {
		if len(p) > 0 && p[0] == c {
			p = p[1:]
			return true
		}
		return false
	}
	year, ok := num(4)
	if !ok || !lit('-') {
		return time.Time{}, ErrTimestamp
	}
	month, ok := num(2)
	if !ok || !lit('-') {
		return time.Time{}, ErrTimestamp
	}
	day, ok := num(2)
	if !ok {
		return time.Time{}, ErrTimestamp
	}
	if len(p) == 0 {
		// A date alone names a whole day in an unknown zone.
		return time.Time{}, ErrTimezoneMissing
	}
	if !(lit('T') || lit('t') || lit(' ')) {
		return time.Time{}, ErrTimestamp
	}
	hour, ok := num(2)
	if !ok || !lit(':') {
		return time.Time{}, ErrTimestamp
	}
	minute, ok := num(2)
	if !ok {
		return time.Time{}, ErrTimestamp
	}
	sec, nsec := 0, 0
	if lit(':') {
		if sec, ok = num(2); !ok {
			return time.Time{}, ErrTimestamp
		}
		if lit('.') || lit(',') { // ISO 8601 allows a decimal comma
			digits := 0
			for len(p) > 0 && p[0] >= '0' && p[0] <= '9' {
				if digits < 9 {
					nsec = nsec*10 + int(p[0]-'0')
				}
				digits++
				p = p[1:]
			}
			if digits == 0 {
				return time.Time{}, ErrTimestamp
			}
			for ; digits < 9; digits++ {
				nsec *= 10
			}
		}
	}
	if month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 60 {
		return time.Time{}, ErrTimestamp
	}
	if sec == 60 { // a leap second; Go's time has none, so it is the next second
		sec = 59
		nsec = 999999999
	}
	var offset int
	switch {
	case len(p) == 0:
		return time.Time{}, ErrTimezoneMissing
	case lit('Z') || lit('z'):
	case p[0] == '+' || p[0] == '-':
		sign := 1
		if p[0] == '-' {
			sign = -1
		}
		p = p[1:]
		oh, ok := num(2)
		if !ok {
			return time.Time{}, ErrTimestamp
		}
		om := 0
		if lit(':') {
			if om, ok = num(2); !ok {
				return time.Time{}, ErrTimestamp
			}
		} else if len(p) > 0 {
			if om, ok = num(2); !ok {
				return time.Time{}, ErrTimestamp
			}
		}
		if oh > 23 || om > 59 {
			return time.Time{}, ErrTimestamp
		}
		offset = sign * (oh*3600 + om*60)
	default:
		return time.Time{}, ErrTimestamp
	}
	if len(p) != 0 {
		return time.Time{}, ErrTimestamp
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.FixedZone("", offset))
	if t.Day() != day { // 2026-02-30 normalises to March: reject it
		return time.Time{}, ErrTimestamp
	}
	return t.UTC(), nil
}
