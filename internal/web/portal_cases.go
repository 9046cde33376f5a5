package web

import (
	"context"
	"net/http"
	"slices"
	"time"

	"abusedesk/internal/cases"
	"abusedesk/internal/disclosure"
)

// portalListLimit bounds the list of cases (the newest first).
const portalListLimit = 500

// portalListItem is a line of the customer's list of cases.
type portalListItem struct {
	PublicID, Status, Outcome, Category, Resource string
	Deadline, CreatedAt, UpdatedAt                time.Time
}

// customerCaseList lists the cases the customer of account was notified
// of, each passed through disclosure.View like a case page.
func (s *Server) customerCaseList(ctx context.Context, account, status string) ([]portalListItem, error) {
	rows, err := s.store.CustomerCases(ctx, account, status, portalListLimit)
	if err != nil {
		return nil, err
	}
	out := []portalListItem{}
	for _, c := range rows {
		dc := disclosure.Case{ID: c.ID, PublicID: c.PublicID, Status: string(c.Status), Outcome: string(c.Outcome), Category: c.Category,
			Account: c.Account, Resource: c.Resource, Deadline: c.Deadline, Notified: true} // notified: CustomerCases lists no other
		v, _, ok := disclosure.View(customerViewer(account), dc)
		if !ok {
			continue
		}
		out = append(out, portalListItem{PublicID: v.PublicID, Status: v.Status, Outcome: v.Outcome, Category: v.Category,
			Resource: v.Resource, Deadline: v.Deadline, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt})
	}
	return out, nil
}

// validStatus says whether a ?status= filter names a status.
func validStatus(st string) bool {
	return st == "" || slices.Contains(cases.Statuses, cases.Status(st))
}

type portalCasesPage struct {
	Cases    []portalListItem
	Status   string
	Statuses []cases.Status
}

func (s *Server) handlePortalCases(w http.ResponseWriter, r *http.Request) {
	sess := portalSessionOf(r)
	status := r.URL.Query().Get("status")
	if !validStatus(status) {
		status = ""
	}
	list, err := s.customerCaseList(r.Context(), sess.Account, status)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	s.renderPortal(w, r, http.StatusOK, "portal_cases", portalCasesPage{Cases: list, Status: status, Statuses: cases.Statuses})
}
