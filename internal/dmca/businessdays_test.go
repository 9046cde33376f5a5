package dmca

import (
	"testing"
	"time"
)

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// The weekdays federal offices close, written out by hand from the OPM
// holiday calendars.
var observed = map[int][]time.Time{
	2025: {
		date(2025, 1, 1),   // Wed New Year's Day
		date(2025, 1, 20),  // MLK Day
		date(2025, 2, 17),  // Washington's Birthday
		date(2025, 5, 26),  // Memorial Day
		date(2025, 6, 19),  // Thu Juneteenth
		date(2025, 7, 4),   // Fri Independence Day
		date(2025, 9, 1),   // Labor Day
		date(2025, 10, 13), // Columbus Day
		date(2025, 11, 11), // Tue Veterans Day
		date(2025, 11, 27), // Thanksgiving
		date(2025, 12, 25), // Thu Christmas
	},
	2026: {
		date(2026, 1, 1),   // Thu
		date(2026, 1, 19),  // MLK Day
		date(2026, 2, 16),  // Washington's Birthday
		date(2026, 5, 25),  // Memorial Day
		date(2026, 6, 19),  // Fri Juneteenth
		date(2026, 7, 3),   // Fri: July 4 is a Saturday
		date(2026, 9, 7),   // Labor Day
		date(2026, 10, 12), // Columbus Day
		date(2026, 11, 11), // Wed Veterans Day
		date(2026, 11, 26), // Thanksgiving
		date(2026, 12, 25), // Fri Christmas
	},
	2027: {
		date(2027, 1, 1),   // Fri
		date(2027, 1, 18),  // MLK Day
		date(2027, 2, 15),  // Washington's Birthday
		date(2027, 5, 31),  // Memorial Day (May has five Mondays)
		date(2027, 6, 18),  // Fri: June 19 is a Saturday
		date(2027, 7, 5),   // Mon: July 4 is a Sunday
		date(2027, 9, 6),   // Labor Day
		date(2027, 10, 11), // Columbus Day
		date(2027, 11, 11), // Thu Veterans Day
		date(2027, 11, 25), // Thanksgiving
		date(2027, 12, 24), // Fri: Christmas is a Saturday
		date(2027, 12, 31), // Fri: New Year's Day 2028 is a Saturday
	},
}

func TestFederalHolidays(t *testing.T) {
	for y, days := range observed {
		want := map[time.Time]bool{}
		for _, d := range days {
			if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
				t.Fatalf("table error: %s is a %s", d.Format(time.DateOnly), wd)
			}
			want[d] = true
		}
		for d := date(y, 1, 1); d.Year() == y; d = d.AddDate(0, 0, 1) {
			if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
				if IsBusinessDay(d) {
					t.Errorf("%s (%s) is a business day", d.Format(time.DateOnly), wd)
				}
				continue
			}
			if got := IsFederalHoliday(d); got != want[d] {
				t.Errorf("IsFederalHoliday(%s %s) = %v, want %v", d.Format(time.DateOnly), d.Weekday(), got, want[d])
			}
			if IsBusinessDay(d) == want[d] {
				t.Errorf("IsBusinessDay(%s) = %v", d.Format(time.DateOnly), !want[d])
			}
		}
	}
	// The legal date on a weekend is the holiday too.
	for _, d := range []time.Time{date(2026, 7, 4), date(2027, 6, 19), date(2027, 7, 4), date(2027, 12, 25), date(2028, 1, 1)} {
		if !IsFederalHoliday(d) {
			t.Errorf("IsFederalHoliday(%s) = false", d.Format(time.DateOnly))
		}
	}
	// The calendar date is the one in d's own location.
	ny, _ := time.LoadLocation("America/New_York")
	if ny != nil && !IsFederalHoliday(time.Date(2026, 12, 25, 23, 0, 0, 0, ny)) {
		t.Error("Christmas evening in New York is not a holiday")
	}
}

func TestAddBusinessDays(t *testing.T) {
	at := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, time.UTC) }
	for _, c := range []struct {
		name string
		from time.Time
		n    int
		want time.Time
	}{
		{"zero", at(2026, 3, 7, 9, 30), 0, at(2026, 3, 7, 9, 30)},
		{"next day", at(2026, 3, 2, 9, 30), 1, at(2026, 3, 3, 9, 30)},
		{"over a weekend", at(2026, 3, 6, 17, 5), 1, at(2026, 3, 9, 17, 5)},
		{"from a Saturday", at(2026, 3, 7, 8, 0), 1, at(2026, 3, 9, 8, 0)},
		{"two weeks", at(2026, 3, 2, 12, 0), 10, at(2026, 3, 16, 12, 0)},
		{"over Thanksgiving", at(2026, 11, 25, 10, 0), 1, at(2026, 11, 27, 10, 0)},
		{"over Christmas and New Year", at(2026, 12, 24, 10, 0), 2, at(2026, 12, 29, 10, 0)},
		{"observed Friday", at(2026, 7, 2, 10, 0), 1, at(2026, 7, 6, 10, 0)},
		{"backwards", at(2026, 7, 6, 10, 0), -1, at(2026, 7, 2, 10, 0)},
		{"UTC date decides", time.Date(2026, 7, 2, 22, 0, 0, 0, time.FixedZone("EDT", -4*3600)), 1, at(2026, 7, 6, 2, 0)},
	} {
		if got := AddBusinessDays(c.from, c.n); !got.Equal(c.want) || got.Location() != time.UTC {
			t.Errorf("%s: AddBusinessDays(%s, %d) = %s, want %s", c.name, c.from, c.n, got, c.want)
		}
	}
}

func TestRestoreWindow(t *testing.T) {
	at := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 14, 45, 0, 0, time.UTC) }
	for _, c := range []struct {
		name                     string
		received, earliest, last time.Time
	}{
		// Mon Nov 16: Thanksgiving (Thu Nov 26) is skipped.
		{"Thanksgiving", at(11, 16), at(12, 1), at(12, 7)},
		// Fri Dec 18: Christmas (Fri Dec 25) and New Year's Day (Fri Jan 1).
		{"Christmas", at(12, 18), time.Date(2027, 1, 5, 14, 45, 0, 0, time.UTC), time.Date(2027, 1, 11, 14, 45, 0, 0, time.UTC)},
		// Wed Jul 1: the observed Friday Jul 3.
		{"Independence Day", at(7, 1), at(7, 16), at(7, 22)},
		// Received on a Saturday: counting starts Monday.
		{"weekend receipt", at(3, 7), at(3, 20), at(3, 26)},
	} {
		e, l := RestoreWindow(c.received)
		if !e.Equal(c.earliest) || !l.Equal(c.last) {
			t.Errorf("%s: RestoreWindow(%s) = %s .. %s, want %s .. %s", c.name, c.received.Format(time.DateOnly),
				e.Format(time.DateOnly), l.Format(time.DateOnly), c.earliest.Format(time.DateOnly), c.last.Format(time.DateOnly))
		}
	}
}

func TestClockState(t *testing.T) {
	rcv := time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC)
	c := NewClock(rcv)
	for _, x := range []struct {
		now  time.Time
		want string
	}{
		{rcv, StateWaiting},
		{c.Earliest.Add(-time.Millisecond), StateWaiting},
		{c.Earliest, StateRestoreDue},
		{c.Latest, StateRestoreDue},
		{c.Latest.Add(time.Millisecond), StateOverdue},
	} {
		if got := c.State(x.now); got != x.want {
			t.Errorf("State(%s) = %s, want %s", x.now, got, x.want)
		}
	}
	r := c
	r.Restored = c.Earliest
	if got := r.State(c.Latest.AddDate(0, 1, 0)); got != StateRestored {
		t.Errorf("restored: %s", got)
	}
	r.CourtAction = rcv.AddDate(0, 0, 3) // court action wins, whatever else is set
	if got := r.State(c.Earliest); got != StateCourtAction {
		t.Errorf("court action: %s", got)
	}
}
