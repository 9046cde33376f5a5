package web

import (
	"encoding/hex"
	"errors"
	"net/http"
	"time"

	"abusedesk/internal/cases"
	"abusedesk/internal/store"
)

// adminPage is what only admins see: the staff, and the audit trail with
// its verification (who changed what, who looked at which customer).
type adminPage struct {
	Staff    []store.User
	Entries  []timelineEntry
	Verified int64
	Head     string // the last entry's hash
	Broken   *cases.ChainError
	Checked  time.Time
}

func (s *Server) handleAdmin(w http.ResponseWriter, r *http.Request) {
	p := adminPage{Checked: s.now()}
	var err error
	if p.Staff, err = s.store.Users(r.Context()); err != nil {
		s.internalError(w, r, err)
		return
	}
	var head []byte
	p.Verified, head, err = s.store.VerifyAudit(r.Context())
	p.Head = hex.EncodeToString(head)
	if !errors.As(err, &p.Broken) && err != nil {
		s.internalError(w, r, err)
		return
	}
	es, err := s.store.RecentAudit(r.Context(), 200)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	for _, e := range es {
		te := timelineEntry{At: e.At, Kind: "audit", Actor: e.Actor, Action: e.Action, Report: e.CaseID, Seq: e.Seq, Hash: hex.EncodeToString(e.Hash[:min(4, len(e.Hash))])}
		p.Entries = append(p.Entries, te)
	}
	s.renderConsole(w, r, http.StatusOK, "console_admin", p)
}
