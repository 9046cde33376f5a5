package web

import "net/http"

// handleStatusMessage is POST /status/{id}/message: the reporter writes to
// the customer of a case. The message waits RelayDelay for an analyst to
// hold it, then is relayed; the reporter's identity goes with it only if
// they consented.
func (s *Server) handleStatusMessage(w http.ResponseWriter, r *http.Request) {
	st, err := s.statusFormReport(w, r)
	if s.statusFailed(w, r, err, false) {
		return
	}
	tok, named, text := r.PostFormValue("token"), r.PostFormValue("case"), r.PostFormValue("message")
	if code, n := messageProblem(text); code != "" {
		s.renderStatus(w, r, st, tok, http.StatusUnprocessableEntity, "", &statusFormError{Form: "message", Case: named, Text: text, Code: code, Len: n})
		return
	}
	_, err = s.messageCustomer(r.Context(), st, named, cleanMessage(text))
	if s.statusRefused(w, r, st, tok, err, &statusFormError{Form: "message", Case: named, Text: text}) {
		return
	}
	statusRedirect(w, r, st, tok, "message")
}
