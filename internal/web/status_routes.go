package web

import "net/http"

// routeStatus registers the reporter's status page and its actions
// (answer, message, consent, court action), in English and French, and
// their JSON twins. The status token is the credential: in the URL of a
// GET, in a hidden field of a form post, as ?token= or Bearer for the API.
// http.CrossOriginProtection refuses cross-site form posts, so a page of
// another site cannot post with a token it does not know anyway. Every
// route is rate-limited per address.
func (s *Server) routeStatus(mux *http.ServeMux, limited func(string, http.HandlerFunc)) {
	for _, prefix := range []string{"", "/fr"} {
		limited("GET "+prefix+"/status/{id}", s.handleStatusPage)
		limited("POST "+prefix+"/status/{id}/answer", s.handleStatusAnswer)
		limited("POST "+prefix+"/status/{id}/message", s.handleStatusMessage)
		limited("POST "+prefix+"/status/{id}/consent", s.handleStatusConsent)
		limited("POST "+prefix+"/status/{id}/court-action", s.handleStatusCourt)
	}
	limited("POST /api/v1/reports/{id}/answer", s.handleAPIStatusAnswer)
	limited("POST /api/v1/reports/{id}/messages", s.handleAPIStatusMessage)
	limited("POST /api/v1/reports/{id}/consent", s.handleAPIStatusConsent)
}
