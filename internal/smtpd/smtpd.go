// Package smtpd is the abuse@ mailbox's inbound SMTP listener (an MX, RFC
// 5321), built on github.com/emersion/go-smtp. It hands each message, as
// received plus one Received: trace field (RFC 5321 §4.4), to a Deliver
// function and acknowledges it with 250 only once Deliver has committed it
// (RFC 5321 §6.1: a server that says 250 has taken responsibility for the
// message). It offers SIZE (RFC 1870), 8BITMIME (RFC 6152), SMTPUTF8 (RFC
// 6531), PIPELINING (RFC 2920), CHUNKING (RFC 3030, always on in go-smtp)
// and, when configured, STARTTLS (RFC 3207); never AUTH (RFC 4954), since an
// MX takes mail from anyone for its own recipients only.
//
// Hostile-client limits: a per-client token bucket (one token per
// connection, one per further MAIL on that connection), a cap of
// MaxConnsPerClient concurrent connections per client, a message size cap
// (MaxMessageBytes, read at most once plus one byte), a recipient cap, and
// read/write timeouts. A client is an IPv4 address or an IPv6 /64 (a single
// IPv6 host usually owns a whole /64, so per-address buckets would be free to
// evade).
//
// Known deviation, from go-smtp v0.25.1: DATA (or BDAT) with no accepted
// recipient is answered 502 5.5.1 by the library before any hook runs,
// where RFC 5321 §4.1.1.4 suggests 503 or 554; the transaction is refused
// all the same. SIZE advertises MaxMessageBytes+1 (see New).
package smtpd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"
	"golang.org/x/time/rate"
)

// Envelope is the SMTP envelope of one delivered message (RFC 5321 §2.3.1).
type Envelope struct {
	Remote     netip.AddrPort
	Helo       string   // the EHLO/HELO argument as sent (not verified)
	From       string   // reverse-path, "" for the null sender <> (bounces must be accepted, RFC 5321 §4.5.5)
	To         []string // accepted recipients, as written by the client
	TLS        bool     // the transaction ran over STARTTLS
	ReceivedAt time.Time
}

// Config configures a Server. Zero values take the documented defaults.
type Config struct {
	Addr            string        // listen address for ListenAndServe (default ":25")
	Hostname        string        // greeting and Received "by" host (default os.Hostname)
	MaxMessageBytes int64         // beyond: 552 5.3.4, nothing delivered (default 25 MiB)
	MaxRecipients   int           // beyond: 452 4.5.3 (default 100, RFC 5321 §4.5.3.1.8)
	ReadTimeout     time.Duration // per command, and per read while DATA flows (default 60 s)
	WriteTimeout    time.Duration // per reply (default 60 s)
	Rate            rate.Limit    // per client: connections and messages per second; 0: unlimited
	Burst           int           // bucket size (default 10 when Rate > 0)
	TLS             *tls.Config   // nil: no STARTTLS offered
	// MaxConnsPerClient caps concurrent connections per client; more get
	// 421 4.7.0 at connect (default 10). Raise it for load tests from one host.
	MaxConnsPerClient int

	// Accept is asked at RCPT TO with the address as the client wrote it
	// (it should compare case-insensitively: abuse@ and postmaster@ are matched in any case); false →
	// 550 5.1.1. nil accepts every recipient.
	Accept func(rcpt string) bool
	// Deliver receives the whole message (Received field prepended). nil
	// error → 250; an error → 451 4.3.0 and the client retries.
	Deliver func(ctx context.Context, env Envelope, raw []byte) error
	Logger  *slog.Logger
}

const (
	defaultMaxMessageBytes = 25 << 20
	defaultMaxRecipients   = 100
	defaultTimeout         = 60 * time.Second
	defaultBurst           = 10

	// defaultMaxConnsPerClient caps concurrent connections from one client;
	// more get 421 4.7.0 at connect (RFC 5321 §3.1 lets a server open with
	// 421 instead of 220).
	defaultMaxConnsPerClient = 10
	// dataTimeoutFactor bounds a whole DATA phase to this many ReadTimeouts
	// (10 min by default, the client's own "DATA termination" timeout of
	// RFC 5321 §4.5.3.2.6), while each read may idle ReadTimeout
	// ("data block", §4.5.3.2.5).
	dataTimeoutFactor = 10
	// deliverTimeout bounds the context given to Deliver: the client waits
	// 10 minutes for the reply to the final dot (RFC 5321 §4.5.3.2.6), so a
	// reply after that is lost anyway.
	deliverTimeout = 5 * time.Minute
	// maxRefusing bounds the goroutines writing 421 to refused connections.
	maxRefusing = 64
)

// Server is the SMTP listener. Create it with New.
type Server struct {
	cfg     Config
	maxMsg  int64
	log     *slog.Logger
	srv     *smtp.Server
	clients *clientTable
	now     func() time.Time // the clock of rate limiting and Received dates; tests replace it

	baseCtx context.Context // parent of Deliver's contexts; cancelled when Shutdown gives up
	cancel  context.CancelFunc

	refusing chan struct{} // semaphore of goroutines writing 421 at connect

	mu       sync.Mutex
	ln       net.Listener
	conns    map[*conn]struct{}
	shutdown bool

	// Local counts, beside the Prometheus ones, so tests can wait for an
	// outcome of this server without reading global metrics.
	connsClosed atomic.Int64
	results     [numResults]atomic.Int64
}

// New returns a Server for cfg, not yet listening.
func New(cfg Config) *Server {
	if cfg.Addr == "" {
		cfg.Addr = ":25"
	}
	if cfg.Hostname == "" {
		h, err := os.Hostname()
		if err != nil || h == "" {
			h = "localhost"
		}
		cfg.Hostname = h
	}
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = defaultMaxMessageBytes
	}
	if cfg.MaxRecipients <= 0 {
		cfg.MaxRecipients = defaultMaxRecipients
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = defaultTimeout
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = defaultTimeout
	}
	if cfg.MaxConnsPerClient <= 0 {
		cfg.MaxConnsPerClient = defaultMaxConnsPerClient
	}
	if cfg.Rate > 0 && cfg.Burst <= 0 {
		cfg.Burst = defaultBurst
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		cfg:      cfg,
		maxMsg:   cfg.MaxMessageBytes,
		log:      log,
		now:      time.Now,
		conns:    make(map[*conn]struct{}),
		refusing: make(chan struct{}, maxRefusing),
	}
	s.baseCtx, s.cancel = context.WithCancel(context.Background())
	s.clients = newClientTable(cfg.Rate, cfg.Burst, cfg.MaxConnsPerClient, func() time.Time { return s.now() })

	srv := smtp.NewServer(backend{s})
	srv.Domain = sanitizeDomain(cfg.Hostname)
	if srv.Domain == "" {
		srv.Domain = "localhost"
	}
	// go-smtp refuses a message once it has read MaxMessageBytes bytes and
	// is asked for more, so a message of exactly the limit would be refused;
	// one byte more makes the configured size the largest accepted one.
	// (The SIZE keyword then advertises that +1, RFC 1870 §4; a MAIL that
	// declares more than the configured size is still refused, see Mail.)
	srv.MaxMessageBytes = cfg.MaxMessageBytes + 1
	srv.MaxRecipients = cfg.MaxRecipients
	srv.ReadTimeout = cfg.ReadTimeout
	srv.WriteTimeout = cfg.WriteTimeout
	srv.TLSConfig = cfg.TLS
	srv.EnableSMTPUTF8 = true
	// An MX offers no AUTH: the session does not implement smtp.AuthSession.
	srv.AllowInsecureAuth = false
	srv.ErrorLog = slogAdapter{log}
	s.srv = srv
	return s
}

// Serve accepts connections on l until Shutdown. It returns nil after
// Shutdown, otherwise the listener's error.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.shutdown {
		s.mu.Unlock()
		return smtp.ErrServerClosed
	}
	s.ln = l
	s.mu.Unlock()
	err := s.srv.Serve(&listener{Listener: l, s: s})
	if errors.Is(err, smtp.ErrServerClosed) {
		err = nil
	}
	return err
}

// ListenAndServe listens on Config.Addr (TCP) and serves.
func (s *Server) ListenAndServe() error {
	l, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return err
	}
	return s.Serve(l)
}

// Addr is the address the server listens on, nil before Serve.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Shutdown stops accepting, closes idle connections at once (nothing they
// sent is acknowledged, so their clients retry, RFC 5321 §4.5.4.1) and lets a
// connection whose message is being delivered send its reply before closing.
// It returns when all connections are gone, or with ctx's error when ctx
// ends first; then Deliver's contexts are cancelled and every connection is
// closed.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.shutdown = true
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()

	done := make(chan error, 1)
	go func() { done <- s.srv.Shutdown(context.Background()) }()
	for _, c := range conns {
		c.closeWhenIdle()
	}
	select {
	case err := <-done:
		if errors.Is(err, smtp.ErrServerClosed) {
			err = nil
		}
		return err
	case <-ctx.Done():
		s.cancel()
		s.mu.Lock()
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		return ctx.Err()
	}
}

func (s *Server) track(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutdown {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) untrack(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

func (s *Server) shuttingDown() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.shutdown
}

// count records one outcome in Prometheus and in the server's own counts.
func (s *Server) count(r result) {
	s.results[r].Add(1)
	messages.WithLabelValues(r.String()).Inc()
}

// listener refuses, before the greeting, clients over their rate or
// connection cap, and wraps the others' connections.
type listener struct {
	net.Listener
	s *Server
}

func (l *listener) Accept() (net.Conn, error) {
	for {
		nc, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		remote := remoteAddrPort(nc.RemoteAddr())
		key := clientKey(remote.Addr())
		if why := l.s.clients.admit(key); why != "" {
			l.s.count(resultRateLimited)
			l.s.log.Info("smtp connection refused", "remote", remote, "reason", why)
			l.refuse(nc, why)
			continue
		}
		c := &conn{Conn: nc, s: l.s, key: key, remote: remote}
		if !l.s.track(c) {
			l.s.clients.release(key)
			nc.Close()
			continue
		}
		sessions.Inc()
		return c, nil
	}
}

// refuse answers 421 4.7.0 before any greeting and closes: RFC 5321 §3.1
// lets a server open with 421 instead of 220 and then close, and the client
// treats it as a temporary failure and retries later (§4.2.5). The write is
// done off the accept loop, bounded, and silently skipped (just closed) when
// too many refusals are in flight.
func (l *listener) refuse(nc net.Conn, why string) {
	select {
	case l.s.refusing <- struct{}{}:
	default:
		nc.Close()
		return
	}
	go func() {
		defer func() { <-l.s.refusing }()
		nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprintf(nc, "421 4.7.0 %s %s, try again later\r\n", l.s.srv.Domain, why)
		nc.Close()
	}()
}

// conn wraps an accepted connection: it releases the client's slot on
// close, extends the read deadline while DATA flows, and can close itself
// right after the reply to a message delivered during Shutdown.
type conn struct {
	net.Conn
	s      *Server
	key    netip.Addr
	remote netip.AddrPort

	closeOnce sync.Once
	mails     atomic.Int64 // MAIL commands seen; the first is paid by the connection's token

	dataUntil  atomic.Int64 // unix nanos: while non-zero, reads are in DATA and may idle ReadTimeout each
	closeAfter atomic.Bool  // close right after the next write (the reply to a delivered message)

	mu         sync.Mutex
	delivering bool
	closing    bool // Shutdown asked while delivering
	closed     bool
}

func (c *conn) Read(b []byte) (int, error) {
	if until := c.dataUntil.Load(); until != 0 {
		// go-smtp sets one read deadline per command line, which would bound
		// a whole DATA phase to ReadTimeout; RFC 5321 §4.5.3.2.5 times each
		// data block instead, so each read gets ReadTimeout again, up to the
		// overall cap.
		d := time.Now().Add(c.s.cfg.ReadTimeout)
		if u := time.Unix(0, until); d.After(u) {
			d = u
		}
		c.Conn.SetReadDeadline(d)
	}
	return c.Conn.Read(b)
}

func (c *conn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	if c.closeAfter.Load() {
		c.Close()
	}
	return n, err
}

func (c *conn) Close() error {
	var err error
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()
		err = c.Conn.Close()
		c.s.clients.release(c.key)
		c.s.untrack(c)
		c.s.connsClosed.Add(1)
	})
	return err
}

// closeWhenIdle closes the connection now unless a message is being
// delivered; then it closes after that message's reply.
func (c *conn) closeWhenIdle() {
	c.mu.Lock()
	if c.delivering {
		c.closing = true
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	c.Close()
}

// beginDeliver marks the connection as delivering; false when it is already
// closed (then the client will not see a reply and will resend, so
// delivering now would only make a duplicate).
func (c *conn) beginDeliver() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.delivering = true
	return true
}

func (c *conn) endDeliver() {
	c.mu.Lock()
	c.delivering = false
	if c.closing {
		c.closeAfter.Store(true)
	}
	c.mu.Unlock()
}

func remoteAddrPort(a net.Addr) netip.AddrPort {
	if ta, ok := a.(*net.TCPAddr); ok {
		ap := ta.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	if a != nil {
		if ap, err := netip.ParseAddrPort(a.String()); err == nil {
			return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
		}
	}
	return netip.AddrPort{}
}

// slogAdapter gives go-smtp's internal error log to slog.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Printf(format string, v ...any) {
	a.l.Warn("smtp server", "msg", fmt.Sprintf(format, v...))
}
func (a slogAdapter) Println(v ...any) { a.l.Warn("smtp server", "msg", fmt.Sprint(v...)) }
