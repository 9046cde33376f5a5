package web

import (
	"errors"
	"mime"
	"net/http"
	"slices"
	"strings"

	"abusedesk/internal/attribution"
	"abusedesk/internal/report"
	"abusedesk/internal/store"
)

// MaxInventoryBytes bounds one POST /api/v1/inventory body. A feed sends
// changes as they happen; a whole inventory goes through abusedesk import.
const MaxInventoryBytes = 64 << 20

var inventoryTypes = []string{"application/x-ndjson", "application/jsonl", "application/jsonlines", "application/x-jsonlines", "application/json"}

// handleInventory is POST /api/v1/inventory: a batch of inventory changes as
// JSON Lines, from a system holding a token with the inventory scope. Good
// lines are stored and take effect at once (in this instance's index before
// the answer, in the others' within their poll interval); bad ones are
// answered by line number.
func (s *Server) handleInventory(w http.ResponseWriter, r *http.Request) {
	if !s.requireToken(w, r, store.ScopeInventory) {
		return
	}
	if s.Inventory == nil {
		writeError(w, http.StatusServiceUnavailable, "", "unavailable", "this server keeps no inventory")
		return
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "" && !slices.Contains(inventoryTypes, mt) {
		writeError(w, http.StatusUnsupportedMediaType, "", "unsupported_media_type",
			"send JSON Lines with Content-Type: "+strings.Join(inventoryTypes[:2], " or "))
		return
	}
	body := http.MaxBytesReader(w, r.Body, MaxInventoryBytes)
	n, lerrs, err := s.Inventory.Import(r.Context(), body)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		writeError(w, http.StatusRequestEntityTooLarge, "", report.CodeTooLarge,
			"a batch is at most 64 MB; nothing was stored (split it, or use abusedesk import for a whole inventory)")
		return
	case err != nil:
		s.log.Error("inventory import", "err", err)
		writeError(w, http.StatusInternalServerError, "", "internal", "the batch could not be stored; nothing was kept, please retry")
		return
	}
	if lerrs == nil {
		lerrs = []attribution.LineError{}
	}
	code := http.StatusOK
	changed := n.Accounts + n.Resources + n.Assignments + n.Closed + n.Hostnames + n.HostsClosed + n.Unchanged
	if changed == 0 {
		code = http.StatusUnprocessableEntity
		if len(lerrs) == 0 {
			lerrs = append(lerrs, attribution.LineError{FieldError: report.FieldError{Code: report.CodeRequired, Message: "the body holds no inventory line"}})
		}
	}
	writeJSON(w, code, struct {
		Accepted any                     `json:"accepted"`
		Errors   []attribution.LineError `json:"errors"`
	}{n, lerrs})
}

// requireToken checks the request's bearer token for scope; on failure it
// answers 401 (no or unknown token) or 403 (another scope).
func (s *Server) requireToken(w http.ResponseWriter, r *http.Request, scope string) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	tok = strings.TrimSpace(tok)
	if !ok || tok == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="abusedesk"`)
		writeError(w, http.StatusUnauthorized, "", "unauthorized", "send a token made with abusedesk token add as Authorization: Bearer TOKEN")
		return false
	}
	t, err := s.store.LookupToken(r.Context(), tok)
	switch {
	case errors.Is(err, store.ErrNotFound):
		w.Header().Set("WWW-Authenticate", `Bearer realm="abusedesk", error="invalid_token"`)
		writeError(w, http.StatusUnauthorized, "", "unauthorized", "unknown or revoked token")
		return false
	case err != nil:
		s.internalError(w, r, err)
		return false
	case t.Scope != scope:
		writeError(w, http.StatusForbidden, "", "forbidden", "this token may not do this (its scope is "+t.Scope+")")
		return false
	}
	return true
}
