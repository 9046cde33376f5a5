package web

import "net/http"

// routePortal registers the customer portal and its JSON API.
func (s *Server) routePortal(mux *http.ServeMux, limited func(string, http.HandlerFunc)) {
}
