package web

import (
	"net/http"
	"strconv"

	"abusedesk/internal/store"
)

type outboxPage struct {
	State  string
	Counts map[string]int
	Mails  []store.OutboxMail
	Next   int64
	Mail   *store.OutboxMail
	Raw    string
	Tries  []store.OutboxAttempt
	Relay  bool
	Events int
}

// handleOutbox is GET /console/outbox: every mail the desk wrote, newest
// first, by state; failed mails (refused by the relay, or out of
// attempts) are where an analyst looks first.
func (s *Server) handleOutbox(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p := outboxPage{State: r.URL.Query().Get("state"), Relay: s.Mail != nil}
	switch p.State {
	case "", store.OutboxQueued, store.OutboxSent, store.OutboxFailed:
	default:
		p.State = ""
	}
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	var err error
	if p.Counts, err = s.store.OutboxCounts(ctx); err != nil {
		s.internalError(w, r, err)
		return
	}
	if p.Events, err = s.store.PendingMailEvents(ctx); err != nil {
		s.internalError(w, r, err)
		return
	}
	const page = 100
	if p.Mails, err = s.store.ListOutbox(ctx, store.OutboxFilter{State: p.State, Before: before, Limit: page}); err != nil {
		s.internalError(w, r, err)
		return
	}
	if len(p.Mails) == page {
		p.Next = p.Mails[page-1].ID
	}
	s.renderConsole(w, r, http.StatusOK, "console_outbox", p)
}

// handleOutboxMail is GET /console/outbox/{mid}: one mail as sent (its
// raw bytes, shown as text) and its delivery attempts.
func (s *Server) handleOutboxMail(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PathValue("mid"), 10, 64)
	m, err := s.store.OutboxByID(r.Context(), id)
	if err != nil {
		s.renderConsole(w, r, http.StatusNotFound, "console_notfound", r.PathValue("mid"))
		return
	}
	p := outboxPage{Mail: m, Raw: string(m.Raw), Relay: s.Mail != nil}
	if p.Tries, err = s.store.OutboxAttempts(r.Context(), id); err != nil {
		s.internalError(w, r, err)
		return
	}
	s.renderConsole(w, r, http.StatusOK, "console_outbox_mail", p)
}

// handleOutboxRetry is POST /console/outbox/{mid}/retry: a failed mail is
// queued again (after the relay's refusal was dealt with).
func (s *Server) handleOutboxRetry(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PathValue("mid"), 10, 64)
	ctx := r.Context()
	t, err := s.store.W.BeginTx(ctx, nil)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	defer t.Rollback()
	if err := s.store.RequeueOutboxTx(ctx, t, id, s.now()); err != nil {
		http.Redirect(w, r, "/console/outbox/"+strconv.FormatInt(id, 10)+"?error=retry", http.StatusSeeOther)
		return
	}
	if s.Mail != nil {
		if err := s.Mail.EnqueueTx(ctx, t, id); err != nil {
			s.internalError(w, r, err)
			return
		}
	}
	if err := t.Commit(); err != nil {
		s.internalError(w, r, err)
		return
	}
	http.Redirect(w, r, "/console/outbox/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
}

// handleSink is GET /console/sink: the mails the demo's in-process SMTP
// server received, so a new user reads the whole conversation without a
// mail server.
func (s *Server) handleSink(w http.ResponseWriter, r *http.Request) {
	if s.Sink == nil {
		http.NotFound(w, r)
		return
	}
	msgs := s.Sink.Messages()
	// Newest first.
	for i, j := 0, len(msgs)-1; i < j; i, j = i+1, j-1 {
		msgs[i], msgs[j] = msgs[j], msgs[i]
	}
	s.renderConsole(w, r, http.StatusOK, "console_sink", map[string]any{"Messages": msgs})
}

// handleSinkMail is GET /console/sink/{n}: one received mail, decoded for
// reading (headers and the text body), links shown as text.
func (s *Server) handleSinkMail(w http.ResponseWriter, r *http.Request) {
	if s.Sink == nil {
		http.NotFound(w, r)
		return
	}
	n, _ := strconv.Atoi(r.PathValue("n"))
	m, ok := s.Sink.Message(n)
	if !ok {
		s.renderConsole(w, r, http.StatusNotFound, "console_notfound", r.PathValue("n"))
		return
	}
	hdr, body := readableMail(m.Raw)
	s.renderConsole(w, r, http.StatusOK, "console_sink_mail", map[string]any{"Message": m, "Header": hdr, "Body": body})
}
