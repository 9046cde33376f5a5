// Package mailbox is the abuse@ mailbox behind the SMTP listener
// (internal/smtpd): it decides which recipients are served, commits every
// accepted mail as received (with its SHA-256) before the listener answers
// 250, and then, in the background, makes each mail what it is: reports
// (internal/intake/mailparse picks the format parser), a reply that joins a
// case's timeline (the abuse+TOKEN@ address of the desk's own mails, or the
// In-Reply-To of a reply that lost it), a bounce of the desk's own mail, or
// an entry of the review queue with the raw mail. Nothing is dropped.
//
// A person who wrote gets an acknowledgement (the report's status link) or
// a precise "what is missing" mail in their language; software gets no
// answer, and the desk never answers its own mail.
package mailbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"abusedesk/internal/cases"
	"abusedesk/internal/intake"
	"abusedesk/internal/report"
	"abusedesk/internal/smtpd"
	"abusedesk/internal/store"
)

// Config wires a Mailbox.
type Config struct {
	Store  *store.Store
	Intake *intake.Service
	Policy cases.Policy
	// Domain is the mailbox's domain (--mail-domain); Locals the local
	// parts it serves (abuse, and postmaster as RFC 5321 §4.5.1 requires).
	// Subaddresses local+TOKEN are replies to the desk's mails.
	Domain string
	Locals []string
	// DeskAddress is the address the desk's own mails come from: one of
	// them coming back is never answered (no loops).
	DeskAddress string
	// RelayDelay is how long a message to the other side waits for an
	// analyst (as on the portal and the status page).
	RelayDelay time.Duration
	// ReplyTTL is how long a reply token is good after its mail was sent.
	ReplyTTL time.Duration
	// Workers process mails at once; the group-commit writer gathers their
	// reports into shared transactions.
	Workers int
	Poll    time.Duration
	Now     func() time.Time
	Log     *slog.Logger
}

// DefaultReplyTTL: a reply more than six months after the desk's mail is
// more likely a stray than a conversation; it goes to review.
const DefaultReplyTTL = 180 * 24 * time.Hour

// Mailbox is the mailbox.
type Mailbox struct {
	cfg  Config
	kick chan struct{}
	wg   sync.WaitGroup
}

// New makes a Mailbox.
func New(cfg Config) *Mailbox {
	if len(cfg.Locals) == 0 {
		cfg.Locals = []string{"abuse", "postmaster"}
	}
	if cfg.ReplyTTL == 0 {
		cfg.ReplyTTL = DefaultReplyTTL
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.RelayDelay == 0 {
		cfg.RelayDelay = 10 * time.Minute
	}
	return &Mailbox{cfg: cfg, kick: make(chan struct{}, 1)}
}

// Accept says whether the mailbox serves rcpt: local@Domain for one of
// Locals, or a subaddress local+token@Domain (RFC 5233). Everything else is
// refused at RCPT, so the desk is no open relay and a typo bounces at once.
func (b *Mailbox) Accept(rcpt string) bool {
	local, _, ok := b.split(rcpt)
	return ok && local != ""
}

// split returns the local part's base and its +token.
func (b *Mailbox) split(rcpt string) (local, token string, ok bool) {
	rcpt = strings.Trim(strings.TrimSpace(rcpt), "<>")
	at := strings.LastIndexByte(rcpt, '@')
	if at <= 0 || !strings.EqualFold(rcpt[at+1:], b.cfg.Domain) {
		return "", "", false
	}
	base, tok, _ := strings.Cut(rcpt[:at], "+")
	for _, l := range b.cfg.Locals {
		if strings.EqualFold(base, l) {
			return strings.ToLower(base), tok, true
		}
	}
	return "", "", false
}

// Deliver commits a mail as received. The SMTP listener answers 250 only
// when it returns nil; the mail is then processed in the background.
func (b *Mailbox) Deliver(ctx context.Context, env smtpd.Envelope, raw []byte) error {
	m := &store.InboundMail{ReceivedAt: env.ReceivedAt, RemoteAddr: env.Remote.String(), Helo: env.Helo,
		MailFrom: env.From, RcptTo: env.To, TLS: env.TLS, Raw: raw}
	if err := b.cfg.Store.InsertInbound(ctx, m); err != nil {
		mailsStored.WithLabelValues("error").Inc()
		return err
	}
	mailsStored.WithLabelValues("ok").Inc()
	b.Kick()
	return nil
}

// Kick wakes the processor.
func (b *Mailbox) Kick() {
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

// Run processes waiting mails until ctx ends: at once when kicked, and
// every Poll for mails left by a crash or another instance.
func (b *Mailbox) Run(ctx context.Context) {
	t := time.NewTicker(b.cfg.Poll)
	defer t.Stop()
	for {
		if _, err := b.Drain(ctx); err != nil && ctx.Err() == nil {
			b.cfg.Log.Error("mailbox", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-b.kick:
		case <-t.C:
		}
	}
}

// Drain processes every waiting mail and returns how many it processed.
func (b *Mailbox) Drain(ctx context.Context) (int, error) {
	done := 0
	var after int64
	for {
		ids, err := b.cfg.Store.PendingInbound(ctx, after, 200)
		if err != nil || len(ids) == 0 {
			return done, err
		}
		after = ids[len(ids)-1]
		work := make(chan int64)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var first error
		for w := 0; w < b.cfg.Workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for id := range work {
					err := b.Process(ctx, id)
					mu.Lock()
					if err != nil && first == nil && !errors.Is(err, store.ErrInboundDone) {
						first = err
					}
					done++
					mu.Unlock()
				}
			}()
		}
		for _, id := range ids {
			work <- id
		}
		close(work)
		wg.Wait()
		if first != nil {
			return done, first
		}
	}
}

// missingTexts turns field errors into the lines of the "what is missing"
// mail: the field path, then the reason. The reasons are written in
// English by the validator; a French mail leads each with the French name
// of the problem, by its stable code.
func missingTexts(es report.Errors, lang string, max int) []string {
	var out []string
	for i, e := range es {
		if i == max {
			out = append(out, fmt.Sprintf("… (+%d)", len(es)-max))
			break
		}
		msg := e.Message
		if e.Clause != "" && !strings.Contains(msg, e.Clause) {
			msg += " " + e.Clause
		}
		if lang == "fr" {
			if fr, ok := codesFR[e.Code]; ok {
				msg = fr + " — " + msg
			}
		}
		line := msg
		if e.Field != "" {
			line = e.Field + " : " + msg
			if lang != "fr" {
				line = e.Field + ": " + msg
			}
		}
		out = append(out, line)
	}
	return out
}

// codesFR names the validator's error codes in French.
var codesFR = map[string]string{
	report.CodeRequired:         "élément manquant",
	report.CodeInvalid:          "valeur invalide",
	report.CodeInvalidIP:        "adresse IP invalide",
	report.CodeInvalidHost:      "nom d'hôte invalide",
	report.CodeInvalidURL:       "URL invalide",
	report.CodeInvalidEmail:     "adresse e-mail invalide",
	report.CodeInvalidTimestamp: "date ou heure illisible",
	report.CodeTimezoneRequired: "heure sans fuseau horaire",
	report.CodeFutureTimestamp:  "date dans le futur",
	report.CodeInvalidPort:      "port invalide",
	report.CodeInvalidChoice:    "choix invalide",
	report.CodeTooLarge:         "trop volumineux",
	report.CodeTooMany:          "trop d'éléments",
	report.CodeInvalidHeaders:   "en-têtes illisibles",
	report.CodeNoSourceIP:       "adresse source introuvable",
	report.CodeDMCAElement:      "élément obligatoire de l'avis DMCA manquant",
	report.CodeNotApplicable:    "ne relève pas d'un signalement",
}
