package web

import (
	"net/http"

	"abusedesk/api"
)

func (s *Server) handleHome(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "home", nil)
}

func (s *Server) handleLegalPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "legal", nil)
}

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	w.Write(api.OpenAPI)
}
