package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"abusedesk/internal/store"
)

// The abuse@ mailbox's review queue. Everything a mail's sender wrote
// (From, subject, the raw text, the reason and missing messages the
// processor copied from it) is hostile: the templates show it as text
// only, and the raw download is text/plain.

// rawShown is how much of a raw mail the page shows; the rest is in the
// download.
const rawShown = 256 << 10

// mailboxRow is one mail of the list, with its review reason cut short.
type mailboxRow struct {
	store.InboundMail
	Reason string
}

// parserLine is one parser's line of the per-parser table, over one
// window.
type parserLine struct {
	Seen, Parsed, Review, Machine int
}

// MachinePct is the share of mails sent by software, in percent.
func (l parserLine) MachinePct() int {
	if l.Seen == 0 {
		return 0
	}
	return (l.Machine*100 + l.Seen/2) / l.Seen
}

// parserRow is one parser over the last 24 hours and the last 7 days.
type parserRow struct {
	Parser    string
	Day, Week parserLine
}

type mailboxPage struct {
	State   string // "all" or one of store.InboundStates
	Parser  string
	States  []string
	Counts  map[string]int
	Total   int
	Parsers []parserRow
	Mails   []mailboxRow
	Next    int64
}

// missingItem is one thing a report lacked.
type missingItem struct{ Field, Code, Message string }

type mailboxMailPage struct {
	Mail      *store.InboundMail
	Raw       string
	Truncated bool
	Handle    bool // the mail waits for an analyst: it may be marked handled
	Error     string

	Reason, Answered, MachineWhy, Language, InReplyTo, MessageKind string
	BouncedMessageID, Recipient, HandledNote, LastError            string
	OutboxID                                                       int64
	Missing                                                        []missingItem
	Reports                                                        []string
	Case                                                           string // the case's public id
	Other                                                          [][2]string
}

// handleMailbox is GET /console/mailbox: the mails received at abuse@,
// newest first, by state — the review queue first — with a per-parser
// table where a sender's format change shows as a drop in one line.
func (s *Server) handleMailbox(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	v := r.URL.Query()
	p := mailboxPage{State: v.Get("state"), Parser: v.Get("parser"), States: store.InboundStates}
	if p.State == "" {
		p.State = store.InboundReview
	}
	known := p.State == "all"
	for _, st := range store.InboundStates {
		known = known || st == p.State
	}
	if !known {
		p.State = store.InboundReview
	}
	before, _ := strconv.ParseInt(v.Get("before"), 10, 64)
	var err error
	if p.Counts, err = s.store.InboundStateCounts(ctx); err != nil {
		s.internalError(w, r, err)
		return
	}
	for _, n := range p.Counts {
		p.Total += n
	}
	if p.Parsers, err = s.parserTable(r, s.now()); err != nil {
		s.internalError(w, r, err)
		return
	}
	f := store.InboundFilter{State: p.State, Parser: p.Parser, Before: before, Limit: 100}
	if f.State == "all" {
		f.State = ""
	}
	mails, err := s.store.ListInbound(ctx, f)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	for _, m := range mails {
		reason, _ := m.Detail["reason"].(string)
		p.Mails = append(p.Mails, mailboxRow{InboundMail: m, Reason: clipRunes(reason, 80)})
	}
	if len(mails) == f.Limit {
		p.Next = mails[f.Limit-1].ID
	}
	s.renderConsole(w, r, http.StatusOK, "console_mailbox", p)
}

// parserTable counts, per parser, the mails of the last 24 hours and the
// last 7 days.
func (s *Server) parserTable(r *http.Request, now time.Time) ([]parserRow, error) {
	rows := map[string]*parserRow{}
	for i, since := range []time.Time{now.Add(-24 * time.Hour), now.Add(-7 * 24 * time.Hour)} {
		counts, err := s.store.InboundCounts(r.Context(), since)
		if err != nil {
			return nil, err
		}
		for _, c := range counts {
			row := rows[c.Parser]
			if row == nil {
				row = &parserRow{Parser: c.Parser}
				rows[c.Parser] = row
			}
			l := &row.Day
			if i == 1 {
				l = &row.Week
			}
			l.Seen += c.N
			switch c.State {
			case store.InboundReport, store.InboundReply:
				l.Parsed += c.N
			case store.InboundReview, store.InboundIncomplete:
				l.Review += c.N
			}
			if c.Machine {
				l.Machine += c.N
			}
		}
	}
	out := make([]parserRow, 0, len(rows))
	for _, row := range rows {
		out = append(out, *row)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Parser < out[j].Parser })
	return out, nil
}

// handleMailboxMail is GET /console/mailbox/{id}: one mail — its envelope,
// what the processor made of it, the raw text — and what an analyst can
// do with it.
func (s *Server) handleMailboxMail(w http.ResponseWriter, r *http.Request) {
	m, ok := s.mailboxMail(w, r)
	if !ok {
		return
	}
	p := mailboxMailPage{Mail: m}
	raw := m.Raw
	if len(raw) > rawShown {
		raw, p.Truncated = raw[:rawShown], true
	}
	p.Raw = strings.ToValidUTF8(string(raw), "\uFFFD")
	switch m.State {
	case store.InboundReview, store.InboundIncomplete, store.InboundBounce:
		p.Handle = true
	}
	if r.URL.Query().Get("error") == "handle" {
		p.Error = s.pages.T(consoleLang(r), "console.mailbox.error.handle")
	}
	texts := map[string]*string{
		"reason": &p.Reason, "answered": &p.Answered, "machine": &p.MachineWhy, "language": &p.Language,
		"in_reply_to": &p.InReplyTo, "message_kind": &p.MessageKind, "bounced_message_id": &p.BouncedMessageID,
		"recipient": &p.Recipient, "handled_note": &p.HandledNote, "last_error": &p.LastError,
	}
	for k, v := range m.Detail {
		if into, ok := texts[k]; ok {
			*into = detailText(v)
			continue
		}
		switch k {
		case "outbox_id":
			if id, err := strconv.ParseInt(detailText(v), 10, 64); err == nil && id > 0 {
				p.OutboxID = id
			} else {
				p.Other = append(p.Other, [2]string{k, detailText(v)})
			}
		case "missing":
			list, _ := v.([]any)
			for _, it := range list {
				mi, _ := it.(map[string]any)
				p.Missing = append(p.Missing, missingItem{Field: detailText(mi["field"]), Code: detailText(mi["code"]), Message: detailText(mi["message"])})
			}
		case "reports":
			list, _ := v.([]any)
			for _, it := range list {
				if id := detailText(it); id != "" {
					p.Reports = append(p.Reports, id)
				}
			}
		default:
			p.Other = append(p.Other, [2]string{k, detailText(v)})
		}
	}
	sort.Slice(p.Other, func(i, j int) bool { return p.Other[i][0] < p.Other[j][0] })
	if m.CaseID != 0 {
		c, err := s.store.CaseByID(r.Context(), m.CaseID)
		switch {
		case err == nil:
			p.Case = c.PublicID
		case !errors.Is(err, store.ErrNotFound):
			s.internalError(w, r, err)
			return
		}
	}
	s.renderConsole(w, r, http.StatusOK, "console_mailbox_mail", p)
}

// handleMailboxRaw is GET /console/mailbox/{id}/raw: the mail's bytes as
// received, as a text download — never as HTML or message/rfc822, which a
// browser might render.
func (s *Server) handleMailboxRaw(w http.ResponseWriter, r *http.Request) {
	m, ok := s.mailboxMail(w, r)
	if !ok {
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="`+m.PublicID+`.eml"`)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Content-Length", strconv.Itoa(len(m.Raw)))
	w.WriteHeader(http.StatusOK)
	w.Write(m.Raw)
}

// handleMailboxRequeue is POST /console/mailbox/{id}/requeue: the mail goes
// through the processor again (after a parser was fixed, say).
func (s *Server) handleMailboxRequeue(w http.ResponseWriter, r *http.Request) {
	m, ok := s.mailboxMail(w, r)
	if !ok {
		return
	}
	if err := s.store.RequeueInbound(r.Context(), m.ID); err != nil {
		s.internalError(w, r, err)
		return
	}
	if s.Mailbox != nil {
		s.Mailbox.Kick()
	}
	http.Redirect(w, r, "/console/mailbox/"+url.PathEscape(m.PublicID), http.StatusSeeOther)
}

// handleMailboxHandle is POST /console/mailbox/{id}/handle: an analyst
// dealt with a mail waiting for review, and says how in a note.
func (s *Server) handleMailboxHandle(w http.ResponseWriter, r *http.Request) {
	m, ok := s.mailboxMail(w, r)
	if !ok {
		return
	}
	sess := sessionOf(r)
	back := "/console/mailbox/" + url.PathEscape(m.PublicID)
	err := s.store.HandleInbound(r.Context(), m.ID, sess.User.Email, r.PostFormValue("note"), s.now())
	if errors.Is(err, store.ErrInboundDone) {
		http.Redirect(w, r, back+"?error=handle", http.StatusSeeOther)
		return
	}
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// mailboxMail reads the mail the path names, or answers 404.
func (s *Server) mailboxMail(w http.ResponseWriter, r *http.Request) (*store.InboundMail, bool) {
	id := r.PathValue("id")
	m, err := s.store.InboundByPublicID(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		s.renderConsole(w, r, http.StatusNotFound, "console_notfound", id)
		return nil, false
	}
	if err != nil {
		s.internalError(w, r, err)
		return nil, false
	}
	return m, true
}

// detailText words one value of a mail's detail as text.
func detailText(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	default:
		return fmt.Sprint(v)
	}
}

// clipRunes cuts s to n characters, with an ellipsis.
func clipRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
