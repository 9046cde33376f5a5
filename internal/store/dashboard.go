package store

import (
	"context"
	"sort"
	"time"
)

// Dashboard holds the figures of the console's dashboard over Days days
// ending today (UTC).
type Dashboard struct {
	Days           []time.Time               // each day's start
	ReportsPerType map[string][]int          // type → count per day
	CasesPerType   map[string][]int          // category → cases opened per day
	OpenByLane     map[string]map[string]int // lane → status → open cases
	FirstActionH   []float64                 // median hours to first action of the cases opened that day (NaN: none)
	FirstActionN   []int
	Escalations    []int // deadline breaches escalated per day
	Overdue        int   // open cases past their deadline now
}

// Dashboard computes the dashboard's figures.
func (s *Store) Dashboard(ctx context.Context, days int, now time.Time) (*Dashboard, error) {
	today := now.UTC().Truncate(24 * time.Hour)
	from := today.AddDate(0, 0, -(days - 1))
	d := &Dashboard{ReportsPerType: map[string][]int{}, CasesPerType: map[string][]int{}, OpenByLane: map[string]map[string]int{},
		FirstActionH: make([]float64, days), FirstActionN: make([]int, days), Escalations: make([]int, days)}
	for i := 0; i < days; i++ {
		d.Days = append(d.Days, from.AddDate(0, 0, i))
	}
	day0 := from.Unix() / 86400
	idx := func(day int64) int {
		i := int(day - day0)
		if i < 0 || i >= days {
			return -1
		}
		return i
	}
	perDay := func(name string, into map[string][]int, args ...any) error {
		rows, err := s.R.QueryContext(ctx, s.Q(name), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k string
			var day int64
			var n int
			if err := rows.Scan(&k, &day, &n); err != nil {
				return err
			}
			if i := idx(day); i >= 0 {
				if into[k] == nil {
					into[k] = make([]int, days)
				}
				into[k][i] += n
			}
		}
		return rows.Err()
	}
	first, err := s.firstReportSince(ctx, from)
	if err != nil {
		return nil, err
	}
	if err := perDay("dash-reports-per-day", d.ReportsPerType, from, first); err != nil {
		return nil, err
	}
	if err := perDay("dash-cases-per-day", d.CasesPerType, from.UnixMilli()); err != nil {
		return nil, err
	}
	rows, err := s.R.QueryContext(ctx, s.Q("dash-open-by-lane"))
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var lane, status string
		var n int
		if err := rows.Scan(&lane, &status, &n); err != nil {
			rows.Close()
			return nil, err
		}
		if d.OpenByLane[lane] == nil {
			d.OpenByLane[lane] = map[string]int{}
		}
		d.OpenByLane[lane][status] = n
	}
	rows.Close()
	waits := make([][]int64, days)
	rows, err = s.R.QueryContext(ctx, s.Q("dash-first-action"), from.UnixMilli())
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var day, ms int64
		if err := rows.Scan(&day, &ms); err != nil {
			rows.Close()
			return nil, err
		}
		if i := idx(day); i >= 0 {
			waits[i] = append(waits[i], ms)
		}
	}
	rows.Close()
	for i, w := range waits {
		d.FirstActionN[i] = len(w)
		if len(w) == 0 {
			continue
		}
		sort.Slice(w, func(a, b int) bool { return w[a] < w[b] })
		d.FirstActionH[i] = float64(w[len(w)/2]) / float64(time.Hour/time.Millisecond)
	}
	rows, err = s.R.QueryContext(ctx, s.Q("dash-escalations-per-day"), from.UnixMilli())
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var day int64
		var n int
		if err := rows.Scan(&day, &n); err != nil {
			rows.Close()
			return nil, err
		}
		if i := idx(day); i >= 0 {
			d.Escalations[i] = n
		}
	}
	rows.Close()
	if err := s.R.QueryRowContext(ctx, s.Q("dash-overdue"), now.UnixMilli()).Scan(&d.Overdue); err != nil {
		return nil, err
	}
	return d, nil
}

// firstReportSince finds, by bisection on the primary key, an id at or
// before the first report received at from: report ids grow with time
// (give or take the reports of one group commit), and reports have no
// index on their time. 5M reports: ~25 lookups instead of a full scan.
// The query still checks created_at, so an early id only costs a few rows.
func (s *Store) firstReportSince(ctx context.Context, from time.Time) (int64, error) {
	var lo, hi int64
	if err := s.R.QueryRowContext(ctx, s.Q("dash-report-bounds")).Scan(&lo, &hi); err != nil {
		return 0, err
	}
	const slack = 1000 // ids a group commit may hold out of time order
	for lo < hi {
		mid := lo + (hi-lo)/2
		var id int64
		var at any
		if err := s.R.QueryRowContext(ctx, s.Q("dash-report-at"), mid).Scan(&id, &at); err != nil {
			if isNoRows(err) {
				hi = mid
				continue
			}
			return 0, err
		}
		if anyTime(at).Before(from) {
			lo = id + 1
		} else {
			hi = mid
		}
	}
	return max(0, lo-slack), nil
}
