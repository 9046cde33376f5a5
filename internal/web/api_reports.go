package web

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"abusedesk/internal/intake"
	"abusedesk/internal/report"
	"abusedesk/internal/store"
)

// readJSONBody enforces the content type (415) and the size limit (413), and
// returns the body unchanged: it is stored as the raw submission.
func (s *Server) readJSONBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		writeError(w, http.StatusUnsupportedMediaType, "", "unsupported_media_type", "send the report as Content-Type: application/json")
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, "", report.CodeTooLarge,
				"the body is larger than "+humanBytes(s.cfg.MaxBodyBytes)+"; send many incidents as a CSV to /api/v1/reports/bulk")
			return nil, false
		}
		writeError(w, http.StatusBadRequest, "", "read_error", "the body could not be read")
		return nil, false
	}
	return body, true
}

// decodeBody reads a JSON body (readJSONBody) and decodes it strictly into
// v; on any problem it has answered and returns false.
func (s *Server) decodeBody(w http.ResponseWriter, r *http.Request, v any) ([]byte, bool) {
	body, ok := s.readJSONBody(w, r)
	if !ok {
		return nil, false
	}
	if es := intake.DecodeStrict(body, v); len(es) > 0 {
		writeErrors(w, http.StatusUnprocessableEntity, es)
		return nil, false
	}
	return body, true
}

type createdBody struct {
	ID           string `json:"id"`
	Status       string `json:"status"`
	StatusURL    string `json:"status_url"`
	StatusAPIURL string `json:"status_api_url"`
}

// statusURL is the private link a reporter follows: a page in their
// language. statusAPIURL is the same status as JSON. The token in both is
// the only way to read it.
func (s *Server) statusURL(r *http.Request, rc store.Receipt, lang string) string {
	prefix := ""
	if lang == "fr" {
		prefix = "/fr"
	}
	return s.baseURL(r) + prefix + "/status/" + rc.PublicID + "?token=" + rc.Token
}

func (s *Server) statusAPIURL(r *http.Request, rc store.Receipt) string {
	return s.baseURL(r) + "/api/v1/reports/" + rc.PublicID + "?token=" + rc.Token
}

func (s *Server) created(r *http.Request, rc store.Receipt, lang string) createdBody {
	return createdBody{ID: rc.PublicID, Status: rc.Status, StatusURL: s.statusURL(r, rc, lang), StatusAPIURL: s.statusAPIURL(r, rc)}
}

// handleCreateReport is POST /api/v1/reports.
func (s *Server) handleCreateReport(w http.ResponseWriter, r *http.Request) {
	var rep report.Report
	body, ok := s.decodeBody(w, r, &rep)
	if !ok {
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if len(key) > 255 {
		writeError(w, http.StatusBadRequest, "Idempotency-Key", report.CodeTooLarge, "an Idempotency-Key is at most 255 characters")
		return
	}
	rc, es, err := s.intake.Submit(r.Context(), intake.Submission{
		Report: &rep, Channel: intake.ChannelAPI, Raw: body, ContentType: r.Header.Get("Content-Type"), IdempotencyKey: key,
	})
	s.answerSubmit(w, r, rc, rep.Language, es, err)
}

func (s *Server) answerSubmit(w http.ResponseWriter, r *http.Request, rc store.Receipt, lang string, es report.Errors, err error) {
	switch {
	case err != nil:
		s.internalError(w, r, err)
	case len(es) > 0:
		writeErrors(w, http.StatusUnprocessableEntity, es)
	case rc.Replayed:
		w.Header().Set("Idempotent-Replayed", "true")
		writeJSON(w, http.StatusOK, s.created(r, rc, lang))
	default:
		w.Header().Set("Location", "/api/v1/reports/"+rc.PublicID)
		writeJSON(w, http.StatusCreated, s.created(r, rc, lang))
	}
}

// handleValidateReport is POST /api/v1/reports/validate: the same checks as
// a submission, nothing stored. Clients use it to check a report before
// sending it; benchmarks use it as the ceiling of the server without a
// database.
func (s *Server) handleValidateReport(w http.ResponseWriter, r *http.Request) {
	var rep report.Report
	if _, ok := s.decodeBody(w, r, &rep); !ok {
		return
	}
	if es := s.intake.Validator.Validate(&rep); len(es) > 0 {
		writeErrors(w, http.StatusUnprocessableEntity, es)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"valid": true, "type": rep.Type, "subtype": rep.Subtype, "items": len(rep.Incidents) + len(rep.URLs)})
}

// statusToken reads the token from ?token= or "Authorization: Bearer".
func statusToken(r *http.Request) string {
	if t := r.URL.Query().Get("token"); t != "" {
		return t
	}
	if a, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return a
	}
	return ""
}

// lookupStatus returns the report only for the holder of one of its status
// tokens (the one given at intake or one mailed since). An unknown id and
// a wrong token look the same, so ids cannot be probed.
func (s *Server) lookupStatus(r *http.Request) (*store.ReportStatus, error) {
	tok := statusToken(r)
	if tok == "" {
		return nil, store.ErrNotFound
	}
	return s.store.ReportByStatusToken(r.Context(), r.PathValue("id"), tok)
}

type statusBody struct {
	ID      string  `json:"id"`
	Type    string  `json:"type"`
	Subtype string  `json:"subtype"`
	Status  string  `json:"status"`
	Outcome *string `json:"outcome"`
	Items   int     `json:"items"`
	// NotOurs counts the items outside the provider's address space: the
	// only attribution fact a reporter learns (never who holds the rest).
	NotOurs    int    `json:"not_ours"`
	Channel    string `json:"channel"`
	ReceivedAt string `json:"received_at"`
	// Cases the report feeds, as its reporter may see them
	// (disclosure.View): status, questions, the conversation, the customer
	// only if it consented, a counter-notice's dates.
	Cases []statusCaseBody `json:"cases"`
	// ShareContact: the reporter lets customers see who they are.
	ShareContact bool `json:"share_contact_with_customer"`
}

// handleReportStatus is GET /api/v1/reports/{id}: status and outcome, and
// the cases the report feeds as its reporter may see them; the customer's
// identity only when the customer consented, and then audited.
func (s *Server) handleReportStatus(w http.ResponseWriter, r *http.Request) {
	st, err := s.lookupStatus(r)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "", "not_found", "no report with this id and token")
		return
	}
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	b := statusBody{ID: st.PublicID, Type: st.Type, Subtype: st.Subtype, Status: st.Status, Items: st.Items, NotOurs: st.NotOurs,
		Channel: st.Channel, ReceivedAt: st.CreatedAt.UTC().Format(time.RFC3339)}
	if st.Outcome != "" {
		b.Outcome = &st.Outcome
	}
	cs, err := s.statusCases(r.Context(), st, "status_api")
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	b.Cases = statusCaseBodies(cs)
	if b.ShareContact, err = s.store.ReporterConsent(r.Context(), st.ID); err != nil {
		s.internalError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, b)
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return itoa(n>>20) + " MB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return itoa(n>>10) + " KB"
	}
	return itoa(n) + " bytes"
}
