package web

import (
	"net/http"

	"abusedesk/internal/intake"
	"abusedesk/internal/intake/xarf"
	"abusedesk/internal/report"
)

// handleXARF is POST /api/v1/xarf: an XARF v4 document (v3 converted),
// mapped onto a report and then treated like any other.
func (s *Server) handleXARF(w http.ResponseWriter, r *http.Request) {
	body, ok := s.readJSONBody(w, r)
	if !ok {
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if len(key) > 255 {
		writeError(w, http.StatusBadRequest, "Idempotency-Key", report.CodeTooLarge, "an Idempotency-Key is at most 255 characters")
		return
	}
	rep, es := xarf.Map(body)
	if len(es) > 0 {
		writeErrors(w, http.StatusUnprocessableEntity, es)
		return
	}
	rc, es, err := s.intake.Submit(r.Context(), intake.Submission{
		Report: rep, Channel: intake.ChannelXARF, Raw: body, ContentType: r.Header.Get("Content-Type"),
		IdempotencyKey: key,
	})
	s.answerSubmit(w, r, rc, rep.Language, es, err)
}
