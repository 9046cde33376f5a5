package mailbox

import (
	"context"
	"database/sql"
	"errors"
	"regexp"
	"strings"

	"abusedesk/internal/cases"
	"abusedesk/internal/intake/mailparse"
	"abusedesk/internal/store"
)

// ParserReply names replies in the metrics and the console.
const ParserReply = "reply"

// routeReply joins a reply to its case. It says whether the mail was a
// reply (handled, or sent to review because its token is unknown or old).
// The token is the +TOKEN of the recipient (the Reply-To of every mail the
// desk sends); a reply that lost it still names the desk's mail in
// In-Reply-To or References (RFC 5322 §3.6.4).
func (b *Mailbox) routeReply(ctx context.Context, m *store.InboundMail, res *mailparse.Result, v store.InboundVerdict) (bool, error) {
	var token string
	for _, r := range m.RcptTo {
		if _, tok, ok := b.split(r); ok && tok != "" {
			token = strings.ToLower(tok)
			break
		}
	}
	var ob *store.OutboxMail
	var err error
	if token != "" {
		ob, err = b.cfg.Store.OutboxByReplyToken(ctx, token)
		if errors.Is(err, store.ErrNotFound) {
			v.Parser, v.State = ParserReply, store.InboundReview
			v.Detail["reason"] = "a reply to an address whose token the desk does not know (abuse+" + clipString(token, 40) + "@)"
			return true, b.finish(ctx, m, v)
		}
		if err != nil {
			return true, err
		}
	} else {
		for _, id := range res.InReplyTo {
			ob, err = b.cfg.Store.OutboxByMessageID(ctx, id)
			if err == nil {
				break
			}
			if !errors.Is(err, store.ErrNotFound) {
				return true, err
			}
			ob = nil
		}
		if ob == nil {
			return false, nil
		}
	}
	v.Parser = ParserReply
	v.Detail["in_reply_to"] = ob.MessageID
	v.Detail["reply_to_kind"] = ob.Kind
	if b.cfg.Now().Sub(ob.CreatedAt) > b.cfg.ReplyTTL {
		v.State = store.InboundReview
		v.Detail["reason"] = "a reply to a mail the desk sent on " + ob.CreatedAt.Format("2006-01-02") + ": its token has expired"
		return true, b.finish(ctx, m, v)
	}
	caseID := ob.CaseID
	if caseID == 0 && ob.ReportID == 0 {
		// A reply to a mail that belongs to no case (what a report lacks):
		// the person completes their report, so it is read as a new one.
		return false, nil
	}
	if caseID == 0 {
		pubs, err := b.cfg.Store.ReportCases(ctx, ob.ReportID)
		if err != nil {
			return true, err
		}
		if len(pubs) != 1 {
			v.State = store.InboundReview
			v.Detail["reason"] = "a reply about a report that feeds no case yet, or several: an analyst decides where it goes"
			return true, b.finish(ctx, m, v)
		}
		c, err := b.cfg.Store.CaseByPublicID(ctx, pubs[0])
		if err != nil {
			return true, err
		}
		caseID = c.ID
	}
	c, err := b.cfg.Store.CaseByID(ctx, caseID)
	if err != nil {
		return true, err
	}
	v.CaseID = c.ID
	text := StripQuoted(res.Part.BodyText())
	clean, problem, _ := store.MessageText(text)
	switch problem {
	case "required":
		v.State = store.InboundReview
		v.Detail["reason"] = "a reply with no text of its own (only the quoted mail)"
		return true, b.finish(ctx, m, v)
	case "too_large":
		clean = string([]rune(clean)[:store.MaxMessageLen])
	case "invalid":
		clean = strings.ToValidUTF8(clean, "\uFFFD")
	}
	v.State = store.InboundReply
	return true, b.joinCase(ctx, m, res, v, ob, c, clean)
}

// joinCase writes the reply into the case, with the mail's verdict, in one
// transaction: what the reply does depends on who wrote and to what.
//
//   - Software (an out-of-office answer): kept for the desk, nothing else.
//   - The reporter, while the desk waits for their answer (needs_info): the
//     answer, and the case goes back to the desk (info_received).
//   - The reporter answering a message relayed from the customer: a message
//     to the customer, relayed after RelayDelay unless an analyst holds it.
//   - The customer, while the desk waits for its answer (notified,
//     escalated): its response (customer_response).
//   - The customer answering a message relayed from a reporter: a message
//     to the reporters, relayed the same way.
//   - Otherwise: a message for the desk.
//
// Relayed messages pass through the disclosure rules when they are mailed
// (internal/notify), as those written on the portal and status page do.
func (b *Mailbox) joinCase(ctx context.Context, m *store.InboundMail, res *mailparse.Result, v store.InboundVerdict, ob *store.OutboxMail, c *store.Case, text string) error {
	now := b.cfg.Now()
	msg := &store.Message{CaseID: c.ID, Recipient: store.PartyDesk, Kind: "reply", Body: text, State: store.MessageKept, CreatedAt: now}
	var actor string
	var action cases.Action
	closed := c.Status == cases.Resolved || c.Status == cases.Dismissed || c.Status == cases.Merged
	switch ob.Party {
	case store.PartyReporter:
		msg.Sender, msg.ReportID = store.PartyReporter, ob.ReportID
		actor = "reporter:" + b.reportPublicID(ctx, ob.ReportID) + " by mail"
		switch {
		case res.Machine:
			msg.Kind = "auto_reply"
		case c.Status == cases.NeedsInfo:
			msg.Kind, action = "answer", cases.InfoReceived
		case ob.Kind == "reporter_message" && !closed:
			if notified, err := b.cfg.Store.CaseNotified(ctx, c.ID); err == nil && notified {
				msg.Recipient, msg.Kind, msg.State, msg.RelayAt = store.PartyCustomer, "message", store.MessagePending, now.Add(b.cfg.RelayDelay)
			} else if err != nil {
				return err
			}
		}
	case store.PartyCustomer:
		msg.Sender = store.PartyCustomer
		actor = "customer:" + c.Account + " by mail"
		switch {
		case res.Machine:
			msg.Kind = "auto_reply"
		case ob.Kind == "customer_message" && !closed:
			msg.Recipient, msg.Kind, msg.State, msg.RelayAt = store.PartyReporter, "message", store.MessagePending, now.Add(b.cfg.RelayDelay)
		default:
			if _, err := cases.Next(c.Status, cases.CustomerResponse); err == nil {
				msg.Kind, action = "answer", cases.CustomerResponse
			}
		}
	default:
		v.State = store.InboundReview
		v.Detail["reason"] = "a reply from the " + ob.Party + " of a " + ob.Kind + " mail: an analyst decides where it goes"
		v.CaseID = 0
		return b.finish(ctx, m, v)
	}
	v.Detail["message_kind"] = msg.Kind
	v.Detail["message_to"] = msg.Recipient
	parserSeen.WithLabelValues(ParserReply).Inc()
	also := func(ctx context.Context, t *sql.Tx, _ *store.Case) error {
		if _, err := b.cfg.Store.AddMessageTx(ctx, t, msg, actor); err != nil {
			return err
		}
		return b.cfg.Store.FinishInboundTx(ctx, t, m.ID, v)
	}
	if action != "" {
		note := "answered by mail " + m.PublicID
		_, _, err := b.cfg.Store.ApplyCase(ctx, c.PublicID, actor, cases.Command{Action: action, Note: note}, b.cfg.Policy, now, also)
		var ce *cases.Error
		if !errors.As(err, &ce) {
			return err
		}
		// The case moved since it was read: the reply is kept all the same.
		msg.ID = 0
	}
	t, err := b.cfg.Store.W.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer t.Rollback()
	if err := also(ctx, t, c); err != nil {
		return err
	}
	return t.Commit()
}

func (b *Mailbox) reportPublicID(ctx context.Context, id int64) string {
	if r, err := b.cfg.Store.MailReportByID(ctx, id); err == nil {
		return r.PublicID
	}
	return "?"
}

// Lines that start the quoted mail in a reply: the attribution line of the
// common clients, in English and French, and Outlook's separators.
var quoteStart = regexp.MustCompile(`(?i)^(on\s.{0,200}\swrote:|le\s.{0,200}\sa\s[ée]crit\s?:|-{2,}\s*original message\s*-{2,}|-{2,}\s*message d'origine\s*-{2,}|_{20,}|from:\s.+|de\s?:\s.+|envoy[ée] par\s?:.*|sent from my .*)$`)

// StripQuoted returns the reply's own text: up to the attribution line of
// the quoted mail, without ">" quoted lines and without a signature
// ("-- " line, RFC 3676 §4.3).
func StripQuoted(body string) string {
	lines := strings.Split(strings.ReplaceAll(body, "\r\n", "\n"), "\n")
	var out []string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if l == "-- " || quoteStart.MatchString(t) {
			break
		}
		if strings.HasPrefix(t, ">") {
			continue
		}
		out = append(out, strings.TrimRight(l, " \t"))
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

func clipString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
