// Package notify decides who is told what, and when: it turns the mail
// events that case actions, intake and the portals write (store.MailEvent)
// into mails in the outbox, relays the mediated messages whose review
// window has passed, and sends reminders before customer deadlines.
//
// Every mail about a case is built from disclosure.View for its recipient,
// exactly as that recipient's page would be, so a mail cannot say more than
// the page; the identities it shows are written to the audit trail. Each
// event is handled in one transaction: its mails are queued (rows in the
// outbox plus their delivery jobs) and the event deleted together, and each
// mail has a dedupe key, so a crash or a second instance never composes a
// mail twice.
package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"time"

	"abusedesk/internal/disclosure"
	"abusedesk/internal/outbox"
	"abusedesk/internal/store"
)

// Queue starts the delivery of a queued mail inside the transaction that
// queued it (outbox.Deliverer). Nil: mails wait in the outbox.
type Queue interface {
	EnqueueTx(ctx context.Context, tx *sql.Tx, id int64) error
}

// Config is what mails need to know about the desk.
type Config struct {
	BaseURL     string        // public URL of the desk, for links (no trailing slash)
	From        string        // e.g. "Example Cloud abuse desk <abuse@example.net>"
	ReplyLocal  string        // local part of the Reply-To: abuse → abuse+TOKEN@domain
	ReplyDomain string        // domain of the Reply-To and of Message-IDs
	Desk        string        // the desk's name, signing mails
	NoticeLink  time.Duration // how long the portal link in a notice works (default 72h)
	LoginLink   time.Duration // how long a requested login link works (default 1h)
	RemindAhead time.Duration // reminder this long before a customer deadline (default 24h)
	Evidence    int           // evidence lines in a notice (default 10)
}

func (c Config) withDefaults() Config {
	if c.NoticeLink == 0 {
		c.NoticeLink = 72 * time.Hour
	}
	if c.LoginLink == 0 {
		c.LoginLink = time.Hour
	}
	if c.RemindAhead == 0 {
		c.RemindAhead = 24 * time.Hour
	}
	if c.Evidence == 0 {
		c.Evidence = 10
	}
	if c.Desk == "" {
		c.Desk = "Abuse desk"
	}
	if c.ReplyLocal == "" {
		c.ReplyLocal = "abuse"
	}
	if c.ReplyDomain == "" {
		c.ReplyDomain = "abusedesk.invalid"
	}
	if c.From == "" {
		c.From = c.Desk + " <" + c.ReplyLocal + "@" + c.ReplyDomain + ">"
	}
	c.BaseURL = strings.TrimSuffix(c.BaseURL, "/")
	return c
}

// FromAddress is the address the desk's mails come from, defaults applied:
// the mailbox never answers a mail from it (no loops).
func (c Config) FromAddress() string {
	c = c.withDefaults()
	if a, err := mail.ParseAddress(c.From); err == nil {
		return a.Address
	}
	return c.From
}

// Notifier composes mails into the outbox.
type Notifier struct {
	st    *store.Store
	queue Queue
	cfg   Config
	log   *slog.Logger
	Now   func() time.Time
}

// New returns a notifier; queue may be nil (no relay configured).
func New(st *store.Store, queue Queue, cfg Config, log *slog.Logger) *Notifier {
	if log == nil {
		log = slog.Default()
	}
	return &Notifier{st: st, queue: queue, cfg: cfg.withDefaults(), log: log.With("component", "notify"), Now: time.Now}
}

// eventBatch is how many events share one transaction: on SQLite each
// commit waits for the disk, so a burst of acknowledgements is written in
// batches.
const eventBatch = 100

// Run handles every pending event, relays due messages and returns how many
// mails it queued. Several instances may run it: the dedupe keys keep one
// mail per occasion. An event that cannot be handled is logged and left
// for the next run; it does not hold up the others.
func (n *Notifier) Run(ctx context.Context) (int, error) {
	total := 0
	var after int64
	for {
		evs, err := n.st.MailEvents(ctx, after, eventBatch)
		if err != nil {
			return total, err
		}
		if len(evs) == 0 {
			break
		}
		after = evs[len(evs)-1].ID
		k, err := n.handleBatch(ctx, evs)
		total += k
		if err != nil {
			return total, err
		}
	}
	k, err := n.RelayDue(ctx)
	return total + k, err
}

// handleBatch composes the events' mails, then queues them and deletes the
// events in one transaction; if that fails, each event in its own.
func (n *Notifier) handleBatch(ctx context.Context, evs []store.MailEvent) (int, error) {
	type composed struct {
		ev    store.MailEvent
		mails []pending
	}
	var all []composed
	for _, ev := range evs {
		mails, err := n.compose(ctx, ev)
		if err != nil {
			n.log.Error("composing the mails of an event; retried later", "event", ev.ID, "kind", ev.Kind, "err", err)
			continue
		}
		all = append(all, composed{ev, mails})
	}
	queue := func(cs []composed) (int, error) {
		t, err := n.st.W.BeginTx(ctx, nil)
		if err != nil {
			return 0, err
		}
		defer t.Rollback()
		total := 0
		for _, c := range cs {
			k, err := n.queueMailsTx(ctx, t, c.mails)
			if err != nil {
				return 0, fmt.Errorf("mail event %d (%s): %w", c.ev.ID, c.ev.Kind, err)
			}
			if err := n.st.DeleteMailEventTx(ctx, t, c.ev.ID); err != nil {
				return 0, err
			}
			total += k
		}
		return total, t.Commit()
	}
	k, err := queue(all)
	if err == nil || len(all) == 1 || ctx.Err() != nil {
		return k, err
	}
	total := 0
	for _, c := range all {
		k, err := queue([]composed{c})
		if err != nil {
			n.log.Error("queueing the mails of an event; retried later", "event", c.ev.ID, "kind", c.ev.Kind, "err", err)
			continue
		}
		total += k
	}
	return total, nil
}

// pending is a mail composed but not yet queued.
type pending struct {
	key      string
	kind     string
	caseID   int64
	reportID int64
	party    string
	to       string
	lang     string
	data     outbox.Data
	// disclosed identities, audited when queued.
	disclosed []disclosure.Disclosure
	casePub   string
	// token makes a link inside the transaction (status or portal link).
	link func(ctx context.Context, t *sql.Tx, d *outbox.Data) error
	// queued, if set, records in the same transaction that the mail is
	// queued (a counter-notice forwarded).
	queued func(ctx context.Context, t *sql.Tx) error
}

// queue writes mails in one transaction with what else must go with them
// (deleting the event, marking a message relayed).
func (n *Notifier) queueMails(ctx context.Context, mails []pending, also func(context.Context, *sql.Tx) error) (int, error) {
	t, err := n.st.W.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer t.Rollback()
	queued, err := n.queueMailsTx(ctx, t, mails)
	if err != nil {
		return 0, err
	}
	if also != nil {
		if err := also(ctx, t); err != nil {
			return 0, err
		}
	}
	return queued, t.Commit()
}

// queueMailsTx composes and queues mails inside t.
func (n *Notifier) queueMailsTx(ctx context.Context, t *sql.Tx, mails []pending) (int, error) {
	now := n.Now()
	queued := 0
	for _, p := range mails {
		if p.to == "" {
			n.log.Warn("no address to write to", "kind", p.kind, "case", p.casePub, "report", p.reportID)
			continue
		}
		if has, err := n.st.OutboxHas(ctx, p.key); err != nil {
			return 0, err
		} else if has {
			continue
		}
		d := p.data
		d.Desk = n.cfg.Desk
		if p.link != nil {
			if err := p.link(ctx, t, &d); err != nil {
				return 0, err
			}
		}
		subject, body, err := outbox.Render(p.kind, p.lang, d)
		if err != nil {
			return 0, err
		}
		tok := outbox.NewReplyToken()
		m := outbox.Mail{From: n.cfg.From, To: p.to, ReplyTo: outbox.ReplyAddress(n.cfg.ReplyLocal, n.cfg.ReplyDomain, tok),
			Subject: subject, Body: body, MessageID: outbox.NewMessageID(n.cfg.ReplyDomain), Language: p.lang, Date: now}
		if d.CaseID != "" {
			m.Headers = append(m.Headers, [2]string{"X-Abusedesk-Case", d.CaseID})
		}
		if d.ReportID != "" {
			m.Headers = append(m.Headers, [2]string{"X-Abusedesk-Report", d.ReportID})
		}
		row := &store.OutboxMail{MessageID: m.MessageID, DedupeKey: p.key, Kind: p.kind, CaseID: p.caseID, ReportID: p.reportID,
			Party: p.party, Recipient: p.to, From: n.cfg.From, Subject: subject, Language: p.lang, ReplyToken: tok,
			Raw: m.Bytes(), State: store.OutboxQueued, CreatedAt: now}
		id, err := n.st.InsertOutboxTx(ctx, t, row)
		if errors.Is(err, store.ErrExists) {
			continue // composed meanwhile by another instance
		}
		if err != nil {
			return 0, err
		}
		if n.queue != nil {
			if err := n.queue.EnqueueTx(ctx, t, id); err != nil {
				return 0, err
			}
		}
		queued++
		if p.queued != nil {
			if err := p.queued(ctx, t); err != nil {
				return 0, err
			}
		}
		for _, ds := range p.disclosed {
			if err := n.auditTx(ctx, t, p, ds, now); err != nil {
				return 0, err
			}
		}
	}
	return queued, nil
}

// auditTx records an identity a mail discloses.
func (n *Notifier) auditTx(ctx context.Context, t *sql.Tx, p pending, ds disclosure.Disclosure, at time.Time) error {
	detail := map[string]any{"field": string(ds.Field), "to": p.party + ":" + p.to, "channel": "mail", "mail": p.kind}
	if ds.ReportID != 0 {
		detail["report_id"] = ds.ReportID
	}
	return n.st.AppendAuditTx(ctx, t, store.Audit{Actor: "system", Action: "disclosed", CaseID: p.caseID, CasePub: p.casePub, Detail: detail, At: at})
}

// statusLink returns a link function minting a status link for a report.
func (n *Notifier) statusLink(reportID int64, publicID, lang string) func(context.Context, *sql.Tx, *outbox.Data) error {
	return func(ctx context.Context, t *sql.Tx, d *outbox.Data) error {
		tok, err := n.st.AddStatusTokenTx(ctx, t, reportID, n.Now())
		if err != nil {
			return err
		}
		prefix := ""
		if lang == "fr" {
			prefix = "/fr"
		}
		d.StatusURL = n.cfg.BaseURL + prefix + "/status/" + publicID + "?token=" + tok
		return nil
	}
}

// portalLink returns a link function minting a one-use login link into the
// portal, to a case (caseID) or to the case list (0).
func (n *Notifier) portalLink(account, email string, caseID int64, ttl time.Duration, lang string) func(context.Context, *sql.Tx, *outbox.Data) error {
	return func(ctx context.Context, t *sql.Tx, d *outbox.Data) error {
		now := n.Now()
		tok, err := n.st.CreatePortalLoginTx(ctx, t, account, email, caseID, now, ttl)
		if err != nil {
			return err
		}
		prefix := ""
		if lang == "fr" {
			prefix = "/fr"
		}
		d.PortalURL = n.cfg.BaseURL + prefix + "/portal/login/" + tok
		d.LoginExpires = now.Add(ttl)
		return nil
	}
}

func lang(l string) string {
	if l == "fr" {
		return "fr"
	}
	return "en"
}
