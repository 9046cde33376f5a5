package web

import (
	"errors"
	"net/http"

	"abusedesk/internal/store"
)

// handleStatusAnswer is POST /status/{id}/answer: the reporter answers the
// desk's request for more information (or adds some), from the form of the
// status page. The token comes in a hidden field.
func (s *Server) handleStatusAnswer(w http.ResponseWriter, r *http.Request) {
	st, err := s.statusFormReport(w, r)
	if s.statusFailed(w, r, err, false) {
		return
	}
	tok, named, text := r.PostFormValue("token"), r.PostFormValue("case"), r.PostFormValue("message")
	if code, n := messageProblem(text); code != "" {
		s.renderStatus(w, r, st, tok, http.StatusUnprocessableEntity, "", &statusFormError{Form: "answer", Case: named, Text: text, Code: code, Len: n})
		return
	}
	_, err = s.answerDesk(r.Context(), st, named, cleanMessage(text))
	if s.statusRefused(w, r, st, tok, err, &statusFormError{Form: "answer", Case: named, Text: text}) {
		return
	}
	statusRedirect(w, r, st, tok, "answer")
}

// statusRefused shows the page again with the form's refusal (the text
// kept), or fails; it says whether it answered.
func (s *Server) statusRefused(w http.ResponseWriter, r *http.Request, st *store.ReportStatus, tok string, err error, fe *statusFormError) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, errStatusNoCase), errors.Is(err, errStatusWhichCase), errors.Is(err, errStatusUnknownCase), errors.Is(err, errStatusNotPossible):
		fe.Code = "not_possible"
		s.renderStatus(w, r, st, tok, http.StatusConflict, "", fe)
	default:
		s.internalError(w, r, err)
	}
	return true
}
