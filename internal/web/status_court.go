package web

import "net/http"

// handleStatusCourt is POST /status/{id}/court-action: the complainant of
// a copyright case says they filed an action seeking a court order against
// the subscriber, so the material of the counter-notice is not put back
// (17 U.S.C. § 512(g)(2)(C)). The confirm box makes it a deliberate act.
func (s *Server) handleStatusCourt(w http.ResponseWriter, r *http.Request) {
	st, err := s.statusFormReport(w, r)
	if s.statusFailed(w, r, err, false) {
		return
	}
	tok, named := r.PostFormValue("token"), r.PostFormValue("case")
	if r.PostFormValue("confirm") != "on" {
		s.renderStatus(w, r, st, tok, http.StatusUnprocessableEntity, "", &statusFormError{Form: "court", Case: named, Code: "confirm"})
		return
	}
	_, err = s.declareCourtAction(r.Context(), st, named, s.now())
	if s.statusRefused(w, r, st, tok, err, &statusFormError{Form: "court", Case: named}) {
		return
	}
	statusRedirect(w, r, st, tok, "court")
}
