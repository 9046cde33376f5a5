package dmca

import "time"

// Business days for the restore window of 17 U.S.C. § 512(g)(2)(C): the
// provider replaces removed material "not less than 10, nor more than 14,
// business days following receipt of the counter notice". A business day
// here is a weekday that is not a legal public holiday of 5 U.S.C. § 6103.
// Dates are the calendar dates of the instants in UTC, so a deadline does
// not depend on where the desk or the subscriber is.

// Clock states, from Clock.State.
const (
	StateWaiting     = "waiting"      // before the earliest restore date
	StateRestoreDue  = "restore_due"  // inside the 10–14 business day window
	StateOverdue     = "overdue"      // past the latest restore date
	StateRestored    = "restored"     // the material was put back
	StateCourtAction = "court_action" // the complainant filed an action: the material stays down
)

// Restore window bounds, in business days after receipt (§ 512(g)(2)(C)).
const (
	RestoreMinBusinessDays = 10
	RestoreMaxBusinessDays = 14
)

// IsFederalHoliday tells whether the calendar date of d (in d's own
// location) is a legal public holiday of 5 U.S.C. § 6103(a), or the day one
// is observed on: a holiday falling on a Saturday is observed the Friday
// before, one on a Sunday the Monday after (§ 6103(b); Executive Order
// 11582). The weekend date itself is also reported, being the holiday.
// Inauguration Day (§ 6103(c)) is left out: it is a holiday only in and
// around the District of Columbia.
func IsFederalHoliday(d time.Time) bool {
	y, m, day := d.Date()
	wd := d.Weekday()
	// Fixed-date holidays, on their date or observed on a weekday next to
	// it (New Year's Day on a Saturday is observed on December 31).
	var near time.Time
	switch wd {
	case time.Friday: // observed for a Saturday holiday
		near = time.Date(y, m, day+1, 0, 0, 0, 0, time.UTC)
	case time.Monday: // observed for a Sunday holiday
		near = time.Date(y, m, day-1, 0, 0, 0, 0, time.UTC)
	}
	for _, h := range fixedHolidays {
		if m == h.m && day == h.d {
			return true
		}
		if !near.IsZero() && near.Month() == h.m && near.Day() == h.d {
			return true
		}
	}
	// Holidays on the nth (or last) weekday of a month, never on a weekend.
	for _, h := range weekdayHolidays {
		if m != h.m || wd != h.wd {
			continue
		}
		if h.n > 0 && (day-1)/7+1 == h.n {
			return true
		}
		if h.n < 0 && day+7 > daysIn(y, m) {
			return true
		}
	}
	return false
}

var fixedHolidays = []struct {
	m time.Month
	d int
}{
	{time.January, 1},   // New Year's Day
	{time.June, 19},     // Juneteenth National Independence Day
	{time.July, 4},      // Independence Day
	{time.November, 11}, // Veterans Day
	{time.December, 25}, // Christmas Day
}

var weekdayHolidays = []struct {
	m  time.Month
	wd time.Weekday
	n  int // nth weekday of the month; -1: the last
}{
	{time.January, time.Monday, 3},    // Birthday of Martin Luther King, Jr.
	{time.February, time.Monday, 3},   // Washington's Birthday
	{time.May, time.Monday, -1},       // Memorial Day
	{time.September, time.Monday, 1},  // Labor Day
	{time.October, time.Monday, 2},    // Columbus Day
	{time.November, time.Thursday, 4}, // Thanksgiving Day
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// IsBusinessDay tells whether the calendar date of d (in d's location) is a
// weekday and not a federal holiday.
func IsBusinessDay(d time.Time) bool {
	if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return false
	}
	return !IsFederalHoliday(d)
}

// AddBusinessDays returns t moved by n business days, counted on the
// calendar dates of t in UTC: the nth business day after t's date (before
// it, for a negative n), at t's time of day, in UTC. n = 0 returns t (in
// UTC) whatever day it is. The cost is linear in n.
func AddBusinessDays(t time.Time, n int) time.Time {
	t = t.UTC()
	step := 1
	if n < 0 {
		step, n = -1, -n
	}
	d := t
	for i := 0; i < n; {
		d = d.AddDate(0, 0, step)
		if IsBusinessDay(d) {
			i++
		}
	}
	return d
}

// RestoreWindow is the § 512(g)(2)(C) window for a counter-notice received
// at received: the material goes back no sooner than 10 and no later than
// 14 business days after receipt.
func RestoreWindow(received time.Time) (earliest, latest time.Time) {
	return AddBusinessDays(received, RestoreMinBusinessDays), AddBusinessDays(received, RestoreMaxBusinessDays)
}

// Clock is where a counter-notice stands. Zero times are unset.
type Clock struct {
	Received, Earliest, Latest, CourtAction, Restored time.Time
}

// NewClock starts the clock of a counter-notice received at received.
func NewClock(received time.Time) Clock {
	e, l := RestoreWindow(received)
	return Clock{Received: received, Earliest: e, Latest: l}
}

// State names where the counter-notice stands at now: court_action once the
// designated agent has notice that the complainant filed an action seeking
// a court order (the material then stays down); restored once the
// material is back; otherwise waiting before Earliest, restore_due from
// Earliest to Latest inclusive, overdue after Latest.
func (c Clock) State(now time.Time) string {
	switch {
	case !c.CourtAction.IsZero():
		return StateCourtAction
	case !c.Restored.IsZero():
		return StateRestored
	case now.Before(c.Earliest):
		return StateWaiting
	case !now.After(c.Latest):
		return StateRestoreDue
	default:
		return StateOverdue
	}
}
