package web

import "net/http"

// routeStatus registers the reporter's status page actions (answer,
// consent, messages).
func (s *Server) routeStatus(mux *http.ServeMux, limited func(string, http.HandlerFunc)) {
}
