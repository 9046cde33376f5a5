package web

import (
	"errors"
	"net/http"
	"time"

	"abusedesk/api"
	"abusedesk/internal/store"
)

func (s *Server) handleHome(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "home", nil)
}

func (s *Server) handleLegalPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "legal", nil)
}

// handleStatusPage is the reporter's private status page, /status/{id}?token=….
func (s *Server) handleStatusPage(w http.ResponseWriter, r *http.Request) {
	st, err := s.lookupStatus(r)
	if errors.Is(err, store.ErrNotFound) {
		s.render(w, r, http.StatusNotFound, "notfound", nil)
		return
	}
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, http.StatusOK, "status", map[string]any{
		"ID": st.PublicID, "Type": st.Type, "Subtype": st.Subtype, "Status": st.Status,
		"Outcome": st.Outcome, "Items": st.Items, "NotOurs": st.NotOurs, "ReceivedAt": st.CreatedAt.UTC().Format(time.RFC3339),
	})
}

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	w.Write(api.OpenAPI)
}
