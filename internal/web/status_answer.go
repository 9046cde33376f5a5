package web

import (
	"context"
	"errors"
	"net/http"

	"abusedesk/internal/store"
)

// handleStatusAnswer is POST /status/{id}/answer: the reporter answers the
// desk's request for more information (or adds some), from the form of the
// status page. The token comes in a hidden field.
func (s *Server) handleStatusAnswer(w http.ResponseWriter, r *http.Request) {
	s.statusTextForm(w, r, "answer", func(ctx context.Context, st *store.ReportStatus, named, text string) error {
		_, err := s.answerDesk(ctx, st, named, text)
		return err
	})
}

// handleStatusMessage is POST /status/{id}/message: the reporter writes to
// the customer of a case. The message waits RelayDelay for an analyst to
// hold it, then is relayed; the reporter's identity goes with it only if
// they consented.
func (s *Server) handleStatusMessage(w http.ResponseWriter, r *http.Request) {
	s.statusTextForm(w, r, "message", func(ctx context.Context, st *store.ReportStatus, named, text string) error {
		_, err := s.messageCustomer(ctx, st, named, text)
		return err
	})
}

// statusTextForm handles a form of the status page that sends a text about
// a case: checks the text (kept in the form when refused), does act, and
// goes back to the page.
func (s *Server) statusTextForm(w http.ResponseWriter, r *http.Request, form string, act func(ctx context.Context, st *store.ReportStatus, named, text string) error) {
	st, err := s.statusFormReport(w, r)
	if s.statusFailed(w, r, err, false) {
		return
	}
	tok, named, text := r.PostFormValue("token"), r.PostFormValue("case"), r.PostFormValue("message")
	clean, code, n := store.MessageText(text)
	if code != "" {
		s.renderStatus(w, r, st, tok, http.StatusUnprocessableEntity, "", &statusFormError{Form: form, Case: named, Text: text, Code: code, Len: n})
		return
	}
	err = act(r.Context(), st, named, clean)
	if s.statusRefused(w, r, st, tok, err, &statusFormError{Form: form, Case: named, Text: text}) {
		return
	}
	statusRedirect(w, r, st, tok, form)
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
