package web

import "net/http"

// handleStatusConsent is POST /status/{id}/consent, share=on|off: the
// reporter lets the customer see their name, organisation and email, or
// withdraws that. The ledger keeps every act; the latest one counts.
func (s *Server) handleStatusConsent(w http.ResponseWriter, r *http.Request) {
	st, err := s.statusFormReport(w, r)
	if s.statusFailed(w, r, err, false) {
		return
	}
	var share bool
	switch r.PostFormValue("share") {
	case "on":
		share = true
	case "off":
	default:
		http.Error(w, "share must be on or off", http.StatusBadRequest)
		return
	}
	if err := s.recordReporterConsent(r.Context(), st, share, "status_page"); err != nil {
		s.internalError(w, r, err)
		return
	}
	done := "consent_off"
	if share {
		done = "consent_on"
	}
	statusRedirect(w, r, st, r.PostFormValue("token"), done)
}
