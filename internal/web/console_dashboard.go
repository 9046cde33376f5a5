package web

import (
	"html/template"
	"math"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"

	"abusedesk/internal/store"
	"abusedesk/internal/web/svgchart"
)

// The dashboard's figures scan the reports of the period; they are kept a
// minute, so that a room of analysts reloading it costs one scan.
type dashCache struct {
	mu   sync.Mutex
	at   time.Time
	days int
	d    *store.Dashboard
}

// dashboard returns the figures and when they were computed.
func (s *Server) dashboard(r *http.Request, days int) (*store.Dashboard, time.Time, error) {
	s.dash.mu.Lock()
	defer s.dash.mu.Unlock()
	now := s.now()
	if s.dash.d != nil && s.dash.days == days && now.Sub(s.dash.at) < time.Minute && r.URL.Query().Get("fresh") == "" {
		return s.dash.d, s.dash.at, nil
	}
	d, err := s.store.Dashboard(r.Context(), days, now)
	if err != nil {
		return nil, time.Time{}, err
	}
	s.dash.d, s.dash.at, s.dash.days = d, now, days
	return d, now, nil
}

type dashRow struct {
	Label  string
	Values []int
	Total  int
}

type dashPage struct {
	Days         int
	Labels       []string
	ReportsChart template.HTML
	CasesChart   template.HTML
	LaneChart    template.HTML
	FirstChart   template.HTML
	BreachChart  template.HTML
	Reports      []dashRow
	Cases        []dashRow
	Lanes        []dashRow // per lane: open cases by status (Statuses order)
	LaneStatuses []string
	FirstAction  []string // median per day in FirstUnit ("—" when none)
	FirstUnit    string   // h or min
	FirstActionN []int
	Escalations  []int
	Overdue      int
	GeneratedAt  time.Time
}

func dashDays(r *http.Request) int {
	if n, err := strconv.Atoi(r.URL.Query().Get("days")); err == nil && n >= 7 && n <= 365 {
		return n
	}
	return 30
}

func rowsOf(m map[string][]int) []dashRow {
	var out []dashRow
	for k, vs := range m {
		row := dashRow{Label: k, Values: vs}
		for _, v := range vs {
			row.Total += v
		}
		out = append(out, row)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Label < out[j].Label })
	return out
}

func seriesOf(rows []dashRow) []svgchart.Series {
	var out []svgchart.Series
	for _, r := range rows {
		vals := make([]float64, len(r.Values))
		for i, v := range r.Values {
			vals[i] = float64(v)
		}
		out = append(out, svgchart.Series{Name: r.Label, Values: vals})
	}
	return out
}

func (s *Server) dashPage(r *http.Request) (*dashPage, error) {
	days := dashDays(r)
	d, at, err := s.dashboard(r, days)
	if err != nil {
		return nil, err
	}
	p := &dashPage{Days: days, Reports: rowsOf(d.ReportsPerType), Cases: rowsOf(d.CasesPerType), Escalations: d.Escalations,
		Overdue: d.Overdue, FirstActionN: d.FirstActionN, GeneratedAt: at}
	for _, day := range d.Days {
		p.Labels = append(p.Labels, day.Format("01-02"))
	}
	p.ReportsChart = svgchart.Bars(svgchart.Chart{Title: "reports per type per day", Labels: p.Labels, Series: seriesOf(p.Reports)})
	p.CasesChart = svgchart.Bars(svgchart.Chart{Title: "cases opened per category per day", Labels: p.Labels, Series: seriesOf(p.Cases)})
	// Hours, or minutes when every median is under an hour (a fast desk,
	// or the demo), so that the axis does not read 0.0000008h.
	scale, unit := 1.0, "h"
	top := 0.0
	for i, h := range d.FirstActionH {
		if d.FirstActionN[i] > 0 && !math.IsNaN(h) {
			top = max(top, h)
		}
	}
	if top < 1 {
		scale, unit = 60, "min"
	}
	p.FirstUnit = unit
	first := make([]float64, days)
	for i, h := range d.FirstActionH {
		if d.FirstActionN[i] == 0 || math.IsNaN(h) {
			p.FirstAction = append(p.FirstAction, "—")
			continue
		}
		first[i] = math.Round(h*scale*10) / 10 // as the table shows it
		p.FirstAction = append(p.FirstAction, strconv.FormatFloat(h*scale, 'f', 1, 64))
	}
	p.FirstChart = svgchart.Lines(svgchart.Chart{Title: "median time to first action (" + unit + "), by day the case opened", Labels: p.Labels,
		Series: []svgchart.Series{{Name: "median", Values: first}}, Unit: unit})
	esc := make([]float64, days)
	for i, n := range d.Escalations {
		esc[i] = float64(n)
	}
	p.BreachChart = svgchart.Bars(svgchart.Chart{Title: "deadline breaches (escalations) per day", Labels: p.Labels,
		Series: []svgchart.Series{{Name: "escalated", Values: esc}}})
	statusSet := map[string]bool{}
	for _, byStatus := range d.OpenByLane {
		for st := range byStatus {
			statusSet[st] = true
		}
	}
	for st := range statusSet {
		p.LaneStatuses = append(p.LaneStatuses, st)
	}
	sort.Strings(p.LaneStatuses)
	var laneLabels []string
	var laneTotals []float64
	for lane, byStatus := range d.OpenByLane {
		row := dashRow{Label: lane}
		for _, st := range p.LaneStatuses {
			row.Values = append(row.Values, byStatus[st])
			row.Total += byStatus[st]
		}
		p.Lanes = append(p.Lanes, row)
	}
	sort.Slice(p.Lanes, func(i, j int) bool { return p.Lanes[i].Label < p.Lanes[j].Label })
	for _, l := range p.Lanes {
		laneLabels = append(laneLabels, l.Label)
		laneTotals = append(laneTotals, float64(l.Total))
	}
	p.LaneChart = svgchart.HBars(svgchart.Chart{Title: "open cases by lane", Labels: laneLabels, Series: []svgchart.Series{{Name: "open", Values: laneTotals}}})
	return p, nil
}

func (s *Server) handleDashboard(w http.ResponseWriter, r *http.Request) {
	p, err := s.dashPage(r)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	s.renderConsole(w, r, http.StatusOK, "console_dashboard", p)
}
