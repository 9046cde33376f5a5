package mailbox

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"abusedesk/internal/intake"
	"abusedesk/internal/intake/mailparse"
	"abusedesk/internal/report"
	"abusedesk/internal/store"
)

// MaxAttempts is how often a mail is processed before it goes to review.
const MaxAttempts = 5

// Process makes one mail what it is and records the verdict. An error
// leaves the mail waiting (it is tried again); a mail nobody can read is
// not an error, it is a review entry.
func (b *Mailbox) Process(ctx context.Context, id int64) error {
	m, err := b.cfg.Store.InboundByID(ctx, id)
	if err != nil {
		return err
	}
	if m.State != store.InboundNew {
		return nil
	}
	if m.Attempts >= MaxAttempts {
		// A mail that fails every time (a bug in a parser, data the
		// database refuses) must not be retried for ever: an analyst looks.
		last, _ := m.Detail["last_error"].(string)
		return b.finish(ctx, m, store.InboundVerdict{State: store.InboundReview, Parser: "failed", At: b.cfg.Now(),
			Detail: map[string]any{"reason": fmt.Sprintf("processing failed %d times; the last error: %s", m.Attempts, last)}})
	}
	err = b.process(ctx, m)
	if err != nil && !errors.Is(err, store.ErrInboundDone) && ctx.Err() == nil {
		b.cfg.Log.Warn("mailbox: processing failed, will retry", "mail", m.PublicID, "err", err)
		if ferr := b.cfg.Store.InboundAttemptFailed(ctx, m.ID, err.Error()); ferr != nil {
			return ferr
		}
	}
	return err
}

func (b *Mailbox) process(ctx context.Context, m *store.InboundMail) error {
	now := b.cfg.Now()
	res := mailparse.Parse(m.Raw, mailparse.Options{Validator: b.cfg.Intake.Validator, NullSender: m.MailFrom == ""})
	v := store.InboundVerdict{Parser: res.Parser, From: res.From, Subject: res.Subject, MessageID: res.MessageID,
		Machine: res.Machine, At: now, Detail: map[string]any{}}
	if res.Machine {
		v.Detail["machine"] = res.MachineReason
	}

	// The desk's own mail come back (a relay looping it, a customer's
	// forward of it to abuse@): kept, never answered.
	if b.own(res) {
		v.State, v.Parser = store.InboundIgnored, "own"
		v.Detail["reason"] = "the desk's own mail"
		return b.finish(ctx, m, v)
	}
	if res.Parser == mailparse.ParserDSN {
		return b.bounce(ctx, m, res, v)
	}
	if res.Legal != nil {
		return b.legal(ctx, m, res, v)
	}
	// A reply to one of the desk's mails joins its case.
	if handled, err := b.routeReply(ctx, m, res, v); handled || err != nil {
		return err
	}
	return b.reports(ctx, m, res, v)
}

// own spots the desk's mails: From the desk's address, or a Message-ID the
// outbox wrote.
func (b *Mailbox) own(res *mailparse.Result) bool {
	if b.cfg.DeskAddress != "" && strings.EqualFold(res.From, b.cfg.DeskAddress) {
		return true
	}
	if res.MessageID != "" && strings.HasSuffix(strings.ToLower(strings.Trim(res.MessageID, "<>")), "@"+strings.ToLower(b.cfg.Domain)) {
		return true
	}
	return false
}

// bounce records a delivery status notification. When it names one of the
// desk's mails, the case (if any) shows it in its mails list through the
// outbox; the entry waits in the bounce list for an analyst.
func (b *Mailbox) bounce(ctx context.Context, m *store.InboundMail, res *mailparse.Result, v store.InboundVerdict) error {
	v.State = store.InboundBounce
	if res.BounceStatus != "" {
		v.Detail["bounce_status"] = res.BounceStatus
	}
	if res.Bounced != "" {
		v.Detail["bounced_message_id"] = res.Bounced
		if ob, err := b.cfg.Store.OutboxByMessageID(ctx, res.Bounced); err == nil {
			v.CaseID = ob.CaseID
			v.Detail["outbox_id"] = ob.ID
			v.Detail["recipient"] = ob.Recipient
			v.Detail["kind"] = ob.Kind
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return b.finish(ctx, m, v)
}

// reports stores the reports the mail carries, or says what is missing.
func (b *Mailbox) reports(ctx context.Context, m *store.InboundMail, res *mailparse.Result, v store.InboundVerdict) error {
	if made, _ := m.Detail["reports"].([]any); len(made) > 0 {
		// Processed again after it made reports (a requeue from the
		// console): they stand; idempotency keys are remembered only a
		// day, so they are not submitted again.
		v.State, v.Detail["reports"] = store.InboundReport, made
		v.Detail["language"] = res.Language
		return b.finish(ctx, m, v)
	}
	var ids []string
	for i, r := range res.Reports {
		rc, es, err := b.cfg.Intake.Submit(ctx, intake.Submission{
			Report: r, Channel: intake.ChannelMail, Raw: m.Raw, ContentType: "message/rfc822",
			// Processing the mail again (a crash, a requeue, a second
			// instance) finds the same reports instead of making new ones.
			IdempotencyKey: fmt.Sprintf("mail:%s:%d", m.PublicID, i),
			NoAck:          res.Machine,
		})
		if err != nil {
			return err
		}
		if len(es) > 0 { // the mailparse validator and the desk's agree; kept for safety
			res.Missing = append(res.Missing, es...)
			continue
		}
		ids = append(ids, rc.PublicID)
	}
	if len(res.Missing) > 0 {
		v.Detail["missing"] = res.Missing
	}
	v.Detail["language"] = res.Language
	switch {
	case len(ids) > 0:
		v.State = store.InboundReport
		v.Detail["reports"] = ids
		parserResults.WithLabelValues(res.Parser, "parsed").Inc()
		return b.finish(ctx, m, v)
	case legal(res.Missing):
		v.State = store.InboundReview
		v.Detail["reason"] = "a request from an authority for customer data: forward it to the legal team"
	case res.Machine || res.From == "":
		v.State = store.InboundReview
		v.Detail["reason"] = "no report could be made from this mail, and its sender is software: nobody was answered"
	case len(res.Missing) > 0 && res.Rejected > 0:
		// Understood, but incomplete: the person is told what is missing.
		v.State = store.InboundIncomplete
	default:
		// Nothing understood: an analyst looks, and the person is told
		// what a report needs.
		v.State = store.InboundReview
		v.Detail["reason"] = "no report found in this mail"
	}
	parserResults.WithLabelValues(res.Parser, "review").Inc()
	var events []store.MailEvent
	if !res.Machine && res.From != "" && !legal(res.Missing) {
		v.Detail["answered"] = res.From
		events = append(events, store.MailEvent{Kind: store.EventMailIncomplete, Detail: map[string]any{
			"to": res.From, "lang": res.Language, "subject": res.Subject, "mail": m.PublicID,
			"received_at": m.ReceivedAt.UnixMilli(), "missing": missingTexts(res.Missing, res.Language, 30), "parser": res.Parser,
		}, At: b.cfg.Now()})
	}
	return b.finish(ctx, m, v, events...)
}

// legal files a request from an authority in the legal queue; the
// authority gets the legal team's acknowledgement (legal_ack).
func (b *Mailbox) legal(ctx context.Context, m *store.InboundMail, res *mailparse.Result, v store.InboundVerdict) error {
	id, es, err := b.cfg.Intake.SubmitLegal(ctx, res.Legal, m.Raw, "message/rfc822")
	if err != nil {
		return err
	}
	if len(es) > 0 {
		v.State = store.InboundReview
		v.Detail["reason"] = "a request from an authority the legal queue refused: forward it to the legal team"
		v.Detail["missing"] = es
		return b.finish(ctx, m, v)
	}
	v.State = store.InboundReport
	v.Detail["legal_request"] = id
	parserResults.WithLabelValues(res.Parser, "parsed").Inc()
	return b.finish(ctx, m, v)
}

func legal(es report.Errors) bool {
	for _, e := range es {
		if e.Code == report.CodeLegalRequest {
			return true
		}
	}
	return false
}

// finish records the verdict and the mails it sends, and counts it.
func (b *Mailbox) finish(ctx context.Context, m *store.InboundMail, v store.InboundVerdict, events ...store.MailEvent) error {
	parserSeen.WithLabelValues(v.Parser).Inc()
	if v.State == store.InboundReview {
		reviewTotal.WithLabelValues(v.Parser).Inc()
	}
	return b.cfg.Store.FinishInbound(ctx, m.ID, v, events...)
}
