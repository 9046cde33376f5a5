package web

import (
	"net/http"

	"abusedesk/internal/report"
)

// handleLegalRequest is POST /api/v1/legal-requests: a request from an
// authority for customer information, recorded in the legal queue. It is
// not an abuse report and opens no case.
func (s *Server) handleLegalRequest(w http.ResponseWriter, r *http.Request) {
	var q report.LegalRequest
	body, ok := s.decodeBody(w, r, &q)
	if !ok {
		return
	}
	id, es, err := s.intake.SubmitLegal(r.Context(), &q, body, r.Header.Get("Content-Type"))
	switch {
	case err != nil:
		s.internalError(w, r, err)
	case len(es) > 0:
		writeErrors(w, http.StatusUnprocessableEntity, es)
	default:
		page := "/legal"
		msg := "Your request is recorded in our legal queue. Requests for customer information follow the law-enforcement process described at the process_url; our legal team answers by email."
		if q.Language == "fr" {
			page = "/fr/legal"
			msg = "Votre demande est enregistrée dans notre file juridique. Les demandes d'informations sur nos clients suivent la procédure décrite à l'adresse process_url ; notre équipe juridique répond par courriel."
		}
		writeJSON(w, http.StatusCreated, map[string]string{
			"id": id, "status": "received", "queue": report.LaneLegal,
			"process_url": s.baseURL(r) + page, "message": msg,
		})
	}
}
