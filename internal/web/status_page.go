package web

import (
	"net/http"
	"slices"
	"time"

	"abusedesk/internal/store"
)

// statusPage is what the status page shows: the report, the cases it
// feeds as its reporter may see them, and the forms to answer, write and
// consent.
type statusPage struct {
	ID, Type, Subtype, Status, Outcome string
	Items, NotOurs                     int
	ReceivedAt                         string
	Token                              string // for the forms' hidden field
	Share                              bool   // the reporter lets the customer see who they are
	Cases                              []statusCase
	Done                               string // what the last form post did
	Form                               *statusFormError
	// FormElsewhere: the refused form names no case of the page (a
	// tampered or stale form); its reason is shown at the top.
	FormElsewhere bool
	MaxLen        int
}

// statusFormError is a refused form, shown where it was with the text kept.
type statusFormError struct {
	Form string // answer, message, court
	Case string
	Text string
	Code string // required, too_large, not_possible, confirm
	Len  int
}

// statusDone lists the flash messages a redirect may ask for; anything
// else in ?done= is ignored.
var statusDone = map[string]bool{"answer": true, "message": true, "consent_on": true, "consent_off": true, "court": true}

// handleStatusPage is the reporter's private status page, /status/{id}?token=….
func (s *Server) handleStatusPage(w http.ResponseWriter, r *http.Request) {
	st, err := s.lookupStatus(r)
	if s.statusFailed(w, r, err, false) {
		return
	}
	done := r.URL.Query().Get("done")
	if !statusDone[done] {
		done = ""
	}
	s.renderStatus(w, r, st, statusToken(r), http.StatusOK, done, nil)
}

// renderStatus builds and shows the page; the form posts use it to show a
// refused form again.
func (s *Server) renderStatus(w http.ResponseWriter, r *http.Request, st *store.ReportStatus, tok string, code int, done string, fe *statusFormError) {
	ctx := r.Context()
	cs, err := s.statusCases(ctx, st, "status_page")
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	share, err := s.store.ReporterConsent(ctx, st.ID)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	elsewhere := fe != nil && !slices.ContainsFunc(cs, func(c statusCase) bool { return c.ID == fe.Case })
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, code, "status", statusPage{
		FormElsewhere: elsewhere,
		ID:            st.PublicID, Type: st.Type, Subtype: st.Subtype, Status: st.Status, Outcome: st.Outcome,
		Items: st.Items, NotOurs: st.NotOurs, ReceivedAt: st.CreatedAt.UTC().Format(time.RFC3339),
		Token: tok, Share: share, Cases: cs, Done: done, Form: fe, MaxLen: store.MaxMessageLen,
	})
}
