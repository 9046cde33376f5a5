package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"abusedesk/internal/cases"
	"abusedesk/internal/report"
	"abusedesk/internal/store"
)

func (s *Server) view(c *store.Case, now time.Time) caseView {
	v := caseView{PublicID: c.PublicID, Account: c.Account, Resource: c.Resource, Category: c.Category,
		Subtypes: strings.Join(c.Subtypes, ", "), Lane: c.Lane, Status: c.Status, Outcome: c.Outcome, Priority: c.Priority,
		Level: s.Policy.Level(c.Priority), Escalated: c.Escalated, Assignee: c.Assignee, Deadline: c.Deadline,
		Reports: c.Reports, Reporters: c.Reporters, Items: c.Items, LastIncident: c.LastIncident, CreatedAt: c.CreatedAt,
		UpdatedAt: c.UpdatedAt, ClosedAt: c.ClosedAt, MergedInto: c.MergedInto}
	if !c.Deadline.IsZero() && c.Status.Open() {
		v.DueIn = c.Deadline.Sub(now)
		v.Overdue = v.DueIn < 0
	}
	return v
}

type queuePage struct {
	Cases    []caseView
	Next     string
	NextURL  string
	Q        string
	Filter   store.CaseFilter
	Level    string
	Lanes    []string
	Statuses []cases.Status
	Actions  []cases.Action
	Outcomes []cases.Outcome
	Error    string
	Done     string // result of a bulk action
	Search   bool
}

// handleQueue is the console's home: the queue of open cases (the oldest
// overdue first), filtered by lane, status, priority, overdue; with q, a
// search over every case.
func (s *Server) handleQueue(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	p := queuePage{Q: v.Get("q"), Lanes: []string{report.LaneGeneral, report.LaneEmailAbuse, report.LaneCopyright, report.LaneLegal},
		Statuses: cases.Statuses, Level: v.Get("priority"), Done: v.Get("done"), Search: v.Get("q") != "",
		Actions: bulkActions, Outcomes: cases.Outcomes}
	f, err := queueFilter(v)
	p.Filter = f
	code := http.StatusOK
	if err != nil {
		p.Error = err.Error()
		code = http.StatusBadRequest
	} else {
		page, err := s.store.ListCases(r.Context(), f, s.Policy, s.now())
		if err != nil {
			p.Error = err.Error()
			code = http.StatusBadRequest
		} else {
			now := s.now()
			for i := range page.Cases {
				p.Cases = append(p.Cases, s.view(&page.Cases[i], now))
			}
			if page.Next != "" {
				nv := url.Values{}
				for k, vs := range v {
					if k != "after" && k != "done" {
						nv[k] = vs
					}
				}
				nv.Set("after", page.Next)
				p.NextURL = "/console?" + nv.Encode()
			}
		}
	}
	s.renderConsole(w, r, code, "console_queue", p)
}
