package web

import (
	"errors"
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
	Reports  []reportRow // a search by report id or reporter: the reports themselves, cases or not
}

// reportRow is a report in a search result, with the cases it feeds (none
// when no item is a customer's: such a report has its outcome already).
type reportRow struct {
	store.ReportStatus
	Cases []string
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
	if err == nil && p.Search {
		if err := s.searchReports(r, f, &p); err != nil {
			s.internalError(w, r, err)
			return
		}
	}
	s.renderConsole(w, r, code, "console_queue", p)
}

func (s *Server) searchReports(r *http.Request, f store.CaseFilter, p *queuePage) error {
	var list []store.ReportStatus
	switch {
	case f.Report != "":
		st, err := s.store.ReportByPublicID(r.Context(), f.Report)
		if err == nil {
			list = append(list, *st)
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
	case f.Reporter != "":
		var err error
		if list, err = s.store.ReportsByReporter(r.Context(), f.Reporter, 50); err != nil {
			return err
		}
	}
	for _, st := range list {
		ids, err := s.store.ReportCases(r.Context(), st.ID)
		if err != nil {
			return err
		}
		p.Reports = append(p.Reports, reportRow{ReportStatus: st, Cases: ids})
	}
	return nil
}
