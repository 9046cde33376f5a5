package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"abusedesk/internal/disclosure"
	"abusedesk/internal/dmca"
	"abusedesk/internal/store"
)

// conversationView is the case page's account of the talking: the
// messages (through disclosure.View for staff, like every other reader),
// who agreed to be named, the mails sent, and a DMCA counter-notice's
// restore clock.
type conversationView struct {
	Case           disclosure.Case
	CustomerNamed  bool
	Consents       []store.Consent
	Mails          []store.OutboxMail
	CounterNotices []consoleCounterNotice
	Strikes        int // the account's DMCA strikes over the last year
	ShowStrikes    bool
}

type consoleCounterNotice struct {
	store.CounterNoticeRow
	State string
}

func (s *Server) loadConversation(ctx context.Context, c *store.Case, reports []store.CaseReport, now time.Time) (*conversationView, error) {
	full, _, err := s.store.DisclosureCase(ctx, c.ID, store.CaseLoad{Reports: reports})
	if err != nil {
		return nil, err
	}
	v, _, _ := disclosure.View(disclosure.Viewer{Role: disclosure.Analyst}, *full)
	cv := &conversationView{Case: v, CustomerNamed: full.CustomerConsent}
	if cv.Consents, err = s.store.CaseConsents(ctx, c.ID); err != nil {
		return nil, err
	}
	if cv.Mails, err = s.store.ListOutbox(ctx, store.OutboxFilter{CaseID: c.ID, Limit: 100}); err != nil {
		return nil, err
	}
	if c.Category == "dmca" {
		rows, err := s.store.CounterNotices(ctx, c.ID)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			clock := dmca.Clock{Received: r.ReceivedAt, Earliest: r.RestoreEarliest, Latest: r.RestoreLatest, CourtAction: r.CourtActionAt, Restored: r.RestoredAt}
			cv.CounterNotices = append(cv.CounterNotices, consoleCounterNotice{CounterNoticeRow: r, State: clock.State(now)})
		}
		cv.ShowStrikes = true
		if cv.Strikes, err = s.store.DMCAStrikes(ctx, c.Account, now.AddDate(-1, 0, 0)); err != nil {
			return nil, err
		}
	}
	return cv, nil
}

// handleMessageDecision is POST /console/cases/{id}/messages/{mid}/{decision}:
// an analyst holds a message between reporter and customer before it is
// relayed, or releases it now.
func (s *Server) handleMessageDecision(w http.ResponseWriter, r *http.Request) {
	sess := sessionOf(r)
	id := r.PathValue("id")
	c, err := s.store.CaseByPublicID(r.Context(), id)
	if s.caseFailed(w, r, err, false) {
		return
	}
	mid, _ := strconv.ParseInt(r.PathValue("mid"), 10, 64)
	m, err := s.store.MessageByID(r.Context(), mid)
	if err != nil || m.CaseID != c.ID {
		s.renderConsole(w, r, http.StatusNotFound, "console_notfound", id)
		return
	}
	switch r.PathValue("decision") {
	case "hold":
		err = s.store.HoldMessage(r.Context(), mid, sess.User.Email, s.now())
	case "release":
		err = s.store.ReleaseMessage(r.Context(), mid, sess.User.Email, s.now())
	default:
		http.NotFound(w, r)
		return
	}
	if errors.Is(err, store.ErrMessageState) {
		http.Redirect(w, r, "/console/cases/"+id+"?error=message_state#conversation", http.StatusSeeOther)
		return
	}
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	http.Redirect(w, r, "/console/cases/"+id+"#conversation", http.StatusSeeOther)
}
