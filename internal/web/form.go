package web

import "net/http"

// routeForm registers the public report form (/report, /fr/report).
func (s *Server) routeForm(mux *http.ServeMux, limited func(string, http.HandlerFunc)) {
}
