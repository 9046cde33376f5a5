package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"time"

	"abusedesk/internal/mailsink"
	"abusedesk/internal/notify"
	"abusedesk/internal/outbox"
)

// mailFlags configure the mails the desk sends: where they go (an SMTP
// relay; none means they wait in the outbox), who they are from, and the
// pace of the conversation.
type mailFlags struct {
	relay       string
	user        string
	password    string
	startTLS    bool
	from        string
	domain      string
	desk        string
	relayDelay  time.Duration
	remindAhead time.Duration
	maxAttempts int64
	retryFirst  time.Duration
}

func (m *mailFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&m.relay, "smtp-relay", env("ABUSEDESK_SMTP_RELAY", ""), "SMTP relay `HOST:PORT` that delivers the desk's mails ($ABUSEDESK_SMTP_RELAY; none: mails are composed and kept in the outbox)")
	fs.StringVar(&m.user, "smtp-user", env("ABUSEDESK_SMTP_USER", ""), "user for AUTH PLAIN at the relay ($ABUSEDESK_SMTP_USER; the password comes from $ABUSEDESK_SMTP_PASSWORD only)")
	fs.BoolVar(&m.startTLS, "smtp-starttls", env("ABUSEDESK_SMTP_STARTTLS", "") == "1", "use STARTTLS with the relay ($ABUSEDESK_SMTP_STARTTLS=1)")
	fs.StringVar(&m.from, "mail-from", env("ABUSEDESK_MAIL_FROM", ""), "From of the desk's mails, e.g. \"Example Cloud abuse desk <abuse@example.net>\" ($ABUSEDESK_MAIL_FROM; default: the desk name at abuse@ the mail domain)")
	fs.StringVar(&m.domain, "mail-domain", env("ABUSEDESK_MAIL_DOMAIN", "abusedesk.invalid"), "domain of the desk's mailbox: replies come to abuse+TOKEN@ it ($ABUSEDESK_MAIL_DOMAIN)")
	fs.StringVar(&m.desk, "desk-name", env("ABUSEDESK_DESK_NAME", "Abuse desk"), "name signing the desk's mails ($ABUSEDESK_DESK_NAME)")
	fs.DurationVar(&m.relayDelay, "relay-delay", envDuration("ABUSEDESK_RELAY_DELAY", 10*time.Minute), "how long a message between reporter and customer waits, so an analyst can hold it ($ABUSEDESK_RELAY_DELAY)")
	fs.DurationVar(&m.remindAhead, "remind-ahead", envDuration("ABUSEDESK_REMIND_AHEAD", 24*time.Hour), "remind a notified customer this long before its deadline ($ABUSEDESK_REMIND_AHEAD)")
	fs.Int64Var(&m.maxAttempts, "smtp-max-attempts", envInt("ABUSEDESK_SMTP_MAX_ATTEMPTS", 12), "delivery attempts before a mail is marked failed ($ABUSEDESK_SMTP_MAX_ATTEMPTS)")
	fs.DurationVar(&m.retryFirst, "smtp-retry-first", envDuration("ABUSEDESK_SMTP_RETRY_FIRST", time.Minute), "wait after a first refused or failed delivery; it doubles at each attempt, up to 6h ($ABUSEDESK_SMTP_RETRY_FIRST)")
}

// mailSetup is what the background needs to write and deliver mail.
type mailSetup struct {
	notify      notify.Config
	relay       *outbox.Relay // nil: no delivery
	maxAttempts int
	backoff     func(attempt int) time.Duration
}

// setup checks the flags; baseURL (or the listen address) makes the links.
func (m *mailFlags) setup(baseURL, listen string, sink *mailsink.Sink) (mailSetup, error) {
	if baseURL == "" {
		host, port, _ := net.SplitHostPort(listen)
		if host == "" || host == "::" || host == "0.0.0.0" {
			host = "127.0.0.1"
		}
		baseURL = "http://" + net.JoinHostPort(host, port)
	}
	if m.retryFirst <= 0 {
		return mailSetup{}, fmt.Errorf("--smtp-retry-first %s: must be positive", m.retryFirst)
	}
	first := m.retryFirst
	backoff := func(attempt int) time.Duration {
		d := first
		for i := 1; i < attempt && d < 6*time.Hour; i++ {
			d *= 2
		}
		d = min(d, 6*time.Hour)
		// ±10%: mails refused together do not all come back together.
		return time.Duration(float64(d) * (0.9 + 0.2*rand.Float64()))
	}
	out := mailSetup{maxAttempts: int(m.maxAttempts), backoff: backoff, notify: notify.Config{BaseURL: strings.TrimSuffix(baseURL, "/"), From: m.from,
		ReplyLocal: "abuse", ReplyDomain: m.domain, Desk: m.desk, RemindAhead: m.remindAhead}}
	relay := m.relay
	if sink != nil {
		relay = sink.Addr()
	}
	if relay != "" {
		if _, _, err := net.SplitHostPort(relay); err != nil {
			return out, fmt.Errorf("--smtp-relay %q: want HOST:PORT: %w", relay, err)
		}
		out.relay = &outbox.Relay{Addr: relay, Username: m.user, Password: env("ABUSEDESK_SMTP_PASSWORD", ""), StartTLS: m.startTLS}
	}
	return out, nil
}
