package web

import (
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"abusedesk/internal/store"
)

// The portal's API keys page: a customer automates answers with keys
// (Authorization: Bearer acp_…). A new key is shown once, on the page that
// answers its creation (not stored anywhere it could be shown again).

const maxKeyLabel = 100

type portalKeysPage struct {
	Keys    []store.PortalKey
	NewKey  string
	Label   string
	Error   string
	Revoked bool
}

func (s *Server) portalKeys(w http.ResponseWriter, r *http.Request, code int, p portalKeysPage) {
	sess := portalSessionOf(r)
	keys, err := s.store.PortalAPIKeys(r.Context(), sess.Account)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	p.Keys = keys
	s.renderPortal(w, r, code, "portal_keys", p)
}

func (s *Server) handlePortalKeys(w http.ResponseWriter, r *http.Request) {
	s.portalKeys(w, r, http.StatusOK, portalKeysPage{Revoked: r.URL.Query().Get("done") == "revoked"})
}

func (s *Server) handlePortalKeyCreate(w http.ResponseWriter, r *http.Request) {
	sess := portalSessionOf(r)
	label := strings.TrimSpace(r.PostFormValue("label"))
	if label == "" || utf8.RuneCountInString(label) > maxKeyLabel || !utf8.ValidString(label) {
		s.portalKeys(w, r, http.StatusUnprocessableEntity, portalKeysPage{Label: label, Error: "portal.keys.bad_label"})
		return
	}
	key, err := s.store.AddPortalAPIKey(r.Context(), sess.Account, label, s.now())
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	if err := s.store.RecordAudit(r.Context(), store.Audit{Actor: portalActor(sess.Account), Action: "portal_key_created",
		Detail: map[string]any{"account": sess.Account, "label": label}, At: s.now()}); err != nil {
		s.internalError(w, r, err)
		return
	}
	s.portalKeys(w, r, http.StatusOK, portalKeysPage{NewKey: key})
}

func (s *Server) handlePortalKeyRevoke(w http.ResponseWriter, r *http.Request) {
	sess := portalSessionOf(r)
	id := r.PathValue("id")
	err := s.store.RevokePortalAPIKey(r.Context(), sess.Account, id, s.now())
	if errors.Is(err, store.ErrNotFound) {
		s.portalKeys(w, r, http.StatusNotFound, portalKeysPage{Error: "portal.keys.unknown"})
		return
	}
	if err == nil {
		err = s.store.RecordAudit(r.Context(), store.Audit{Actor: portalActor(sess.Account), Action: "portal_key_revoked",
			Detail: map[string]any{"account": sess.Account, "key": id}, At: s.now()})
	}
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	http.Redirect(w, r, "/portal/keys?done=revoked", http.StatusSeeOther)
}
