package logscan

import (
	"time"
)

// zoneKind says where a line's time gets its zone from.
type zoneKind uint8

const (
	zoneLocal  zoneKind = iota // none in the line: Parser.Location
	zoneOffset                 // a numeric offset (or Z) in the line
	zoneUnix                   // an instant (journald's microseconds, epoch seconds), shown in Parser.Location
)

// stamp is a line's time as written, resolved into a time.Time only for the
// events that are kept (Parser.Time): most lines never need one.
type stamp struct {
	year              int // 0: not in the line (RFC 3164), inferred
	mon               time.Month
	day, hour, minute int
	sec, nsec         int
	off               int   // seconds east of UTC, for zoneOffset
	unix              int64 // seconds since the epoch, for zoneUnix
	zone              zoneKind
}

// YearSlack is how far after the reference time a year-less date may lie
// and still be of the reference's year. It is the desk's own tolerance for
// skewed clocks (a timestamp more than a day ahead is refused there): a
// line a few minutes "ahead" of the file's modification time (a remote
// sender's clock) is this year's, not last year's.
const YearSlack = 24 * time.Hour

var monthNames = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// month reads a three-letter English month name ("Mar"; syslog and CLF are
// not localised).
func month(b []byte) (time.Month, bool) {
	if len(b) < 3 {
		return 0, false
	}
	for i, m := range monthNames {
		if b[0] == m[0] && b[1] == m[1] && b[2] == m[2] {
			return time.Month(i + 1), true
		}
	}
	return 0, false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// num2 reads two digits at b[i:].
func num2(b []byte, i int) (int, bool) {
	if i+2 > len(b) || !isDigit(b[i]) || !isDigit(b[i+1]) {
		return 0, false
	}
	return int(b[i]-'0')*10 + int(b[i+1]-'0'), true
}

func num4(b []byte, i int) (int, bool) {
	h, ok1 := num2(b, i)
	l, ok2 := num2(b, i+2)
	return h*100 + l, ok1 && ok2
}

// clock reads "hh:mm:ss" at b[i:] into st.
func clock(b []byte, i int, st *stamp) bool {
	if i+8 > len(b) || b[i+2] != ':' || b[i+5] != ':' {
		return false
	}
	var ok1, ok2, ok3 bool
	st.hour, ok1 = num2(b, i)
	st.minute, ok2 = num2(b, i+3)
	st.sec, ok3 = num2(b, i+6)
	return ok1 && ok2 && ok3
}

// frac reads an optional fraction ('.' or ',' and digits) at b[i:] into
// st.nsec and returns the index after it.
func frac(b []byte, i int, st *stamp) int {
	if i >= len(b) || (b[i] != '.' && b[i] != ',') || i+1 >= len(b) || !isDigit(b[i+1]) {
		return i
	}
	i++
	n, digits := 0, 0
	for ; i < len(b) && isDigit(b[i]); i++ {
		if digits < 9 {
			n = n*10 + int(b[i]-'0')
			digits++
		}
	}
	for ; digits < 9; digits++ {
		n *= 10
	}
	st.nsec = n
	return i
}

// valid checks the fields' ranges; the day against its month when the
// year is known (February 29 of an unknown year is left to year inference).
func (st *stamp) valid() bool {
	if st.mon < 1 || st.mon > 12 || st.day < 1 || st.hour > 23 || st.minute > 59 || st.sec > 60 {
		return false
	}
	max := daysIn(st.mon, st.year)
	return st.day <= max
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// daysIn is the length of month m of year y; y 0 means "some leap year".
func daysIn(m time.Month, y int) int {
	switch m {
	case time.February:
		if y == 0 || isLeap(y) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

// parseRFC3164 reads the BSD syslog timestamp "Mmm dd hh:mm:ss" (RFC 3164
// §4.1.2: the day is space-padded, "Mar  2"; journalctl -o short pads it
// with a zero, "Mar 02"), with the fraction journalctl -o short-precise
// adds. It returns the index after it.
func parseRFC3164(b []byte, st *stamp) (int, bool) {
	if len(b) < 15 || b[3] != ' ' || b[6] != ' ' {
		return 0, false
	}
	m, ok := month(b)
	if !ok {
		return 0, false
	}
	*st = stamp{mon: m}
	switch {
	case b[4] == ' ' && isDigit(b[5]):
		st.day = int(b[5] - '0')
	default:
		if st.day, ok = num2(b, 4); !ok {
			return 0, false
		}
	}
	if !clock(b, 7, st) {
		return 0, false
	}
	i := frac(b, 15, st)
	return i, st.valid()
}

// parseISO reads an RFC 3339 / ISO 8601 date-time "YYYY-MM-DDThh:mm:ss"
// with an optional fraction and zone ("Z", "+01:00", "+0100", "+01"), as
// rsyslog's high-precision format, RFC 5424 §6.2.3, and journalctl -o
// short-iso write it. sep is the date/time separator ('T', or ' ' for
// fail2ban and exim). Without a zone the time is local (zoneLocal).
func parseISO(b []byte, sep byte, st *stamp) (int, bool) {
	if !dateClock(b, '-', sep, st) {
		return 0, false
	}
	i := frac(b, 19, st)
	i, ok := zone(b, i, st)
	return i, ok && st.valid()
}

// zone reads an optional zone at b[i:]: "Z", or an offset "+hh:mm",
// "+hhmm", "+hh".
func zone(b []byte, i int, st *stamp) (int, bool) {
	if i >= len(b) {
		return i, true
	}
	switch b[i] {
	case 'Z', 'z':
		st.zone, st.off = zoneOffset, 0
		return i + 1, true
	case '+', '-':
	default:
		return i, true
	}
	sign := 1
	if b[i] == '-' {
		sign = -1
	}
	h, ok := num2(b, i+1)
	if !ok {
		return 0, false
	}
	j := i + 3
	m := 0
	if j < len(b) && b[j] == ':' {
		if m, ok = num2(b, j+1); !ok {
			return 0, false
		}
		j += 3
	} else if mm, ok := num2(b, j); ok {
		m = mm
		j += 2
	}
	if h > 23 || m > 59 {
		return 0, false
	}
	st.zone, st.off = zoneOffset, sign*(h*3600+m*60)
	return j, true
}

// parseSlashed reads nginx's error log time "YYYY/MM/DD hh:mm:ss" (local).
func parseSlashed(b []byte, st *stamp) (int, bool) {
	if !dateClock(b, '/', ' ', st) {
		return 0, false
	}
	return 19, st.valid()
}

// dateClock reads "YYYY<d>MM<d>DD<sep>hh:mm:ss" at the start of b into a
// fresh st.
func dateClock(b []byte, d, sep byte, st *stamp) bool {
	if len(b) < 19 || b[4] != d || b[7] != d || b[10] != sep {
		return false
	}
	*st = stamp{}
	var ok1, ok2, ok3 bool
	st.year, ok1 = num4(b, 0)
	var m int
	m, ok2 = num2(b, 5)
	st.day, ok3 = num2(b, 8)
	st.mon = time.Month(m)
	return ok1 && ok2 && ok3 && clock(b, 11, st)
}

// parseCLF reads the Common Log Format time "dd/Mmm/yyyy:hh:mm:ss +hhmm"
// (the inside of the brackets of an access log line).
func parseCLF(b []byte, st *stamp) bool {
	if len(b) != 26 || b[2] != '/' || b[6] != '/' || b[11] != ':' || b[20] != ' ' {
		return false
	}
	*st = stamp{}
	var ok bool
	if st.day, ok = num2(b, 0); !ok {
		return false
	}
	if st.mon, ok = month(b[3:]); !ok {
		return false
	}
	if st.year, ok = num4(b, 7); !ok {
		return false
	}
	if !clock(b, 12, st) {
		return false
	}
	i, ok := zone(b, 21, st)
	return ok && i == 26 && st.zone == zoneOffset && st.valid()
}

// parseCtime reads Apache's error log time "Www Mmm dd hh:mm:ss[.ffffff]
// yyyy" (local) and returns the index after it.
func parseCtime(b []byte, st *stamp) (int, bool) {
	if len(b) < 24 || b[3] != ' ' || b[7] != ' ' || b[10] != ' ' {
		return 0, false
	}
	*st = stamp{}
	var ok bool
	if st.mon, ok = month(b[4:]); !ok {
		return 0, false
	}
	if b[8] == ' ' && isDigit(b[9]) {
		st.day = int(b[9] - '0')
	} else if st.day, ok = num2(b, 8); !ok {
		return 0, false
	}
	if !clock(b, 11, st) {
		return 0, false
	}
	i := frac(b, 19, st)
	if i+5 > len(b) || b[i] != ' ' {
		return 0, false
	}
	if st.year, ok = num4(b, i+1); !ok {
		return 0, false
	}
	return i + 5, st.valid()
}

// parseEpoch reads "ssssssssss[.ffffff]" (journalctl -o short-unix).
func parseEpoch(b []byte, st *stamp) (int, bool) {
	i := 0
	var n int64
	for i < len(b) && isDigit(b[i]) && i < 12 {
		n = n*10 + int64(b[i]-'0')
		i++
	}
	if i < 9 || i >= 12 || n > maxUnix { // 2001-09-09 to 9999: the years logs come from
		return 0, false
	}
	*st = stamp{zone: zoneUnix, unix: n}
	return frac(b, i, st), true
}

// maxUnix is the last second of year 9999, the last an ISO 8601 timestamp
// writes with four digits.
const maxUnix = 253402300799

// inferYear gives a year-less date (RFC 3164) the latest year that does not
// put it more than YearSlack after ref: a December line read in January is
// last year's; February 29 goes back to the last leap year.
func inferYear(st *stamp, ref time.Time, loc *time.Location) int {
	limit := ref.Add(YearSlack)
	y := ref.In(loc).Year() + 1
	for yy := y; yy > y-10; yy-- {
		if st.day > daysIn(st.mon, yy) {
			continue
		}
		t := time.Date(yy, st.mon, st.day, st.hour, st.minute, 0, 0, loc)
		if !t.After(limit) {
			return yy
		}
	}
	return y - 1
}
