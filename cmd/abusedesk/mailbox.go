package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"abusedesk/internal/cases"
	"abusedesk/internal/intake"
	"abusedesk/internal/intake/mailparse"
	"abusedesk/internal/mailbox"
	"abusedesk/internal/smtpd"
	"abusedesk/internal/store"
)

// mailboxFlags configure the abuse@ mailbox: the SMTP listener that takes
// reports by mail and replies to the desk's mails.
type mailboxFlags struct {
	listen   string
	bound    string // the listener's address once open
	anyPort  bool   // the demo: another port when this one is taken
	hostname string
	locals   string
	maxBytes int64
	maxRcpt  int64
	timeout  time.Duration
	rate     float64
	burst    int64
	tlsCert  string
	tlsKey   string
}

func (m *mailboxFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&m.listen, "smtp-listen", env("ABUSEDESK_SMTP_LISTEN", ""), "address `HOST:PORT` of the abuse@ mailbox's SMTP listener, e.g. :25 ($ABUSEDESK_SMTP_LISTEN; none: no mailbox)")
	fs.StringVar(&m.hostname, "smtp-hostname", env("ABUSEDESK_SMTP_HOSTNAME", ""), "host name the listener greets with ($ABUSEDESK_SMTP_HOSTNAME; default: the machine's)")
	fs.StringVar(&m.locals, "mailbox-locals", env("ABUSEDESK_MAILBOX_LOCALS", "abuse,postmaster"), "local parts served at --mail-domain; local+TOKEN@ are replies ($ABUSEDESK_MAILBOX_LOCALS)")
	fs.Int64Var(&m.maxBytes, "smtp-max-bytes", envInt("ABUSEDESK_SMTP_MAX_BYTES", 25<<20), "largest mail in bytes ($ABUSEDESK_SMTP_MAX_BYTES)")
	fs.Int64Var(&m.maxRcpt, "smtp-max-recipients", envInt("ABUSEDESK_SMTP_MAX_RECIPIENTS", 50), "recipients per mail ($ABUSEDESK_SMTP_MAX_RECIPIENTS)")
	fs.DurationVar(&m.timeout, "smtp-timeout", envDuration("ABUSEDESK_SMTP_TIMEOUT", 5*time.Minute), "idle time before a session is cut, RFC 5321 §4.5.3.2 ($ABUSEDESK_SMTP_TIMEOUT)")
	fs.Float64Var(&m.rate, "smtp-rate", envFloat("ABUSEDESK_SMTP_RATE", 2), "mails per second per client address ($ABUSEDESK_SMTP_RATE)")
	fs.Int64Var(&m.burst, "smtp-rate-burst", envInt("ABUSEDESK_SMTP_RATE_BURST", 60), "burst of mails per client address ($ABUSEDESK_SMTP_RATE_BURST)")
	fs.StringVar(&m.tlsCert, "smtp-tls-cert", env("ABUSEDESK_SMTP_TLS_CERT", ""), "PEM certificate `file` for STARTTLS ($ABUSEDESK_SMTP_TLS_CERT; with --smtp-tls-key)")
	fs.StringVar(&m.tlsKey, "smtp-tls-key", env("ABUSEDESK_SMTP_TLS_KEY", ""), "PEM key `file` for STARTTLS ($ABUSEDESK_SMTP_TLS_KEY)")
}

// mailboxRun is the running mailbox: its listener and processor.
type mailboxRun struct {
	srv    *smtpd.Server
	box    *mailbox.Mailbox
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// start opens the listener (when --smtp-listen is set) and the processor.
// The processor runs on every instance: mails committed by one are
// processed by whichever is free.
func (m *mailboxFlags) start(ctx context.Context, st *store.Store, in *intake.Service, p cases.Policy, mf *mailFlags, mail mailSetup, log *slog.Logger) (*mailboxRun, error) {
	ctx, cancel := context.WithCancel(ctx)
	r := &mailboxRun{cancel: cancel}
	var locals []string
	for _, l := range strings.Split(m.locals, ",") {
		if l = strings.TrimSpace(l); l != "" {
			locals = append(locals, l)
		}
	}
	r.box = mailbox.New(mailbox.Config{Store: st, Intake: in, Policy: p, Domain: mf.domain, Locals: locals, DeskAddress: mail.notify.FromAddress(),
		RelayDelay: mf.relayDelay, Now: in.Now, Log: log})
	r.wg.Add(1)
	go func() { defer r.wg.Done(); r.box.Run(ctx) }()
	if m.listen == "" {
		return r, nil
	}
	cfg := smtpd.Config{Addr: m.listen, Hostname: m.hostname, MaxMessageBytes: m.maxBytes, MaxRecipients: int(m.maxRcpt),
		ReadTimeout: m.timeout, WriteTimeout: m.timeout, Rate: rate.Limit(m.rate), Burst: int(m.burst),
		Accept: r.box.Accept, Deliver: r.box.Deliver, Logger: log}
	if cfg.Hostname == "" {
		cfg.Hostname, _ = os.Hostname()
	}
	if (m.tlsCert == "") != (m.tlsKey == "") {
		cancel()
		return nil, errors.New("--smtp-tls-cert and --smtp-tls-key go together")
	}
	if m.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(m.tlsCert, m.tlsKey)
		if err != nil {
			cancel()
			return nil, fmt.Errorf("STARTTLS certificate: %w", err)
		}
		cfg.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	ln, err := net.Listen("tcp", m.listen)
	if err != nil && m.anyPort {
		host, _, _ := net.SplitHostPort(m.listen)
		ln, err = net.Listen("tcp", net.JoinHostPort(host, "0"))
	}
	if err != nil {
		cancel()
		return nil, fmt.Errorf("--smtp-listen: %w", err)
	}
	m.bound = ln.Addr().String()
	r.srv = smtpd.New(cfg)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		if err := r.srv.Serve(ln); err != nil && ctx.Err() == nil {
			log.Error("smtp listener", "err", err)
		}
	}()
	log.Info("abuse mailbox listening", "smtp", ln.Addr().String(), "domain", mf.domain, "locals", strings.Join(locals, ","), "starttls", cfg.TLS != nil)
	return r, nil
}

// stop closes the listener (sessions in DATA finish) and the processor.
func (r *mailboxRun) stop() {
	if r == nil {
		return
	}
	if r.srv != nil {
		sctx, c := context.WithTimeout(context.Background(), 10*time.Second)
		r.srv.Shutdown(sctx)
		c()
	}
	r.cancel()
	r.wg.Wait()
}

// cmdMail is `abusedesk mail parse FILE.eml…`: what each mail becomes,
// as JSON, without storing anything.
func cmdMail(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "parse" {
		return errors.New("usage: abusedesk mail parse FILE.eml… (\"-\" reads standard input)")
	}
	fs := flag.NewFlagSet("mail parse", flag.ExitOnError)
	fs.Parse(args[1:])
	if fs.NArg() == 0 {
		return errors.New("usage: abusedesk mail parse FILE.eml… (\"-\" reads standard input)")
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	for _, name := range fs.Args() {
		var raw []byte
		var err error
		if name == "-" {
			raw, err = io.ReadAll(io.LimitReader(os.Stdin, 256<<20))
		} else {
			raw, err = os.ReadFile(name)
		}
		if err != nil {
			return err
		}
		res := mailparse.Parse(raw, mailparse.Options{})
		if err := enc.Encode(res); err != nil {
			return err
		}
	}
	return nil
}
