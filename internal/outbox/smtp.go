package outbox

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Relay sends mail to one SMTP server, the provider's relay (RFC 5321),
// over connections it keeps open between mails. Safe for concurrent use.
type Relay struct {
	Addr     string // host:port
	HeloName string // the name given in EHLO (default "localhost")
	// Username and Password, when set, log in with AUTH PLAIN (RFC 4616),
	// only over TLS or to a loopback address: never a password in clear
	// text on a network.
	Username, Password string
	StartTLS           bool          // upgrade with STARTTLS (RFC 3207) before anything else
	TLSConfig          *tls.Config   // for STARTTLS; ServerName defaults to Addr's host
	Timeout            time.Duration // connecting and each command (default 1m); the reply to the data 5 times that
	MaxIdle            int           // connections kept open between mails (default 2)

	mu     sync.Mutex
	idle   []*relayConn
	closed bool
}

type relayConn struct {
	c  *smtp.Client
	nc net.Conn // under c, closed to interrupt it
}

// SendError is a failed delivery to the relay. Code is the relay's reply
// code, 0 when there was none (network error, timeout).
type SendError struct {
	Code      int
	Permanent bool // a 5yz reply: sending again will not help (RFC 5321 §4.2.1)
	Msg       string
}

func (e *SendError) Error() string {
	if e.Code == 0 {
		return e.Msg
	}
	return fmt.Sprintf("%d %s", e.Code, e.Msg)
}

// sendError classifies err after stage (the SMTP command that failed). A
// 5yz reply is permanent, a 4yz transient (RFC 5321 §4.2.1); a network
// error or timeout is transient, with no code.
func sendError(stage string, err error) *SendError {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		msg := se.Message
		if ec := se.EnhancedCode; ec != smtp.EnhancedCodeNotSet && ec != smtp.NoEnhancedCode {
			msg = fmt.Sprintf("%d.%d.%d %s", ec[0], ec[1], ec[2], msg) // RFC 3463
		}
		return &SendError{Code: se.Code, Permanent: se.Code/100 == 5, Msg: oneLine(msg) + " (" + stage + ")"}
	}
	return &SendError{Msg: stage + ": " + err.Error()}
}

func (r *Relay) timeout() time.Duration {
	if r.Timeout > 0 {
		return r.Timeout
	}
	return time.Minute
}

// Send delivers raw to the relay for the recipients, from the envelope
// sender from. It returns the relay's final reply, 250 and its text, or a
// *SendError.
func (r *Relay) Send(ctx context.Context, from string, to []string, raw []byte) (code int, detail string, err error) {
	for {
		rc, pooled, err := r.get(ctx)
		if err != nil {
			return 0, "", err
		}
		code, detail, stage, err := r.send(ctx, rc, from, to, raw)
		if err == nil {
			r.put(rc)
			return code, detail, nil
		}
		se := sendError(stage, err)
		var smtpErr *smtp.SMTPError
		if errors.As(err, &smtpErr) && se.Code != 421 && rc.c.Reset() == nil {
			// A refused mail leaves a sound connection (RSET ends the
			// transaction, RFC 5321 §4.1.1.5); 421 closes it (§3.8).
			r.put(rc)
		} else {
			rc.nc.Close()
		}
		// A kept connection the relay closed meanwhile fails at once, at
		// MAIL: try again on a new one. Never after DATA: the relay may
		// have taken the mail.
		if pooled && stage == "MAIL FROM" && (se.Code == 0 || se.Code == 421) && ctx.Err() == nil {
			continue
		}
		return se.Code, "", se
	}
}

func (r *Relay) send(ctx context.Context, rc *relayConn, from string, to []string, raw []byte) (code int, detail, stage string, err error) {
	// go-smtp's client knows no context: closing the connection
	// interrupts it.
	stop := context.AfterFunc(ctx, func() { rc.nc.Close() })
	defer stop()
	stage = "MAIL FROM"
	if err := rc.c.Mail(from, &smtp.MailOptions{Size: int64(len(raw))}); err != nil {
		return 0, "", stage, err
	}
	stage = "RCPT TO"
	for _, rcpt := range to {
		if err := rc.c.Rcpt(rcpt, nil); err != nil {
			return 0, "", stage, err
		}
	}
	stage = "DATA"
	w, err := rc.c.Data()
	if err != nil {
		return 0, "", stage, err
	}
	if _, err := w.Write(raw); err != nil {
		return 0, "", stage, err
	}
	stage = "end of DATA"
	resp, err := w.CloseWithResponse()
	if err != nil {
		return 0, "", stage, err
	}
	detail = "250 OK"
	if text := oneLine(resp.StatusText); text != "" {
		detail = "250 " + text
	}
	return 250, detail, "", nil
}

// get returns an idle connection (pooled) or a new one.
func (r *Relay) get(ctx context.Context) (rc *relayConn, pooled bool, err error) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil, false, &SendError{Msg: "relay closed"}
	}
	if n := len(r.idle); n > 0 {
		rc = r.idle[n-1]
		r.idle = r.idle[:n-1]
		r.mu.Unlock()
		return rc, true, nil
	}
	r.mu.Unlock()
	rc, err = r.dial(ctx)
	return rc, false, err
}

// put keeps rc for the next mail, or closes it.
func (r *Relay) put(rc *relayConn) {
	maxIdle := r.MaxIdle
	if maxIdle <= 0 {
		maxIdle = 2
	}
	r.mu.Lock()
	if !r.closed && len(r.idle) < maxIdle {
		r.idle = append(r.idle, rc)
		rc = nil
	}
	r.mu.Unlock()
	if rc != nil {
		quit(rc)
	}
}

func quit(rc *relayConn) {
	rc.nc.SetDeadline(time.Now().Add(5 * time.Second))
	if rc.c.Quit() != nil {
		rc.nc.Close()
	}
}

// dial connects and readies a connection: greeting, EHLO, STARTTLS, AUTH.
func (r *Relay) dial(ctx context.Context) (*relayConn, error) {
	t := r.timeout()
	d := net.Dialer{Timeout: t}
	nc, err := d.DialContext(ctx, "tcp", r.Addr)
	if err != nil {
		return nil, sendError("connect", err)
	}
	// The client's own timeouts start after the greeting and STARTTLS;
	// this one bounds the whole set-up.
	setup, cancel := context.WithTimeout(ctx, t)
	defer cancel()
	stop := context.AfterFunc(setup, func() { nc.Close() })
	defer stop()
	fail := func(stage string, err error) (*relayConn, error) {
		nc.Close()
		if setup.Err() != nil && ctx.Err() == nil {
			err = fmt.Errorf("timeout after %s: %w", t, err)
		}
		return nil, sendError(stage, err)
	}
	host, _, _ := net.SplitHostPort(r.Addr)
	helo := r.HeloName
	if helo == "" {
		helo = "localhost"
	}
	var c *smtp.Client
	if r.StartTLS {
		cfg := r.TLSConfig
		if cfg == nil {
			cfg = &tls.Config{}
		}
		if cfg.ServerName == "" {
			cfg = cfg.Clone()
			cfg.ServerName = host
		}
		// go-smtp says EHLO localhost before STARTTLS; HeloName after.
		if c, err = smtp.NewClientStartTLS(nc, cfg); err != nil {
			return fail("STARTTLS", err)
		}
	} else {
		c = smtp.NewClient(nc)
	}
	c.CommandTimeout = t
	c.SubmissionTimeout = 5 * t
	if err := c.Hello(helo); err != nil {
		return fail("EHLO", err)
	}
	if r.Username != "" {
		_, tlsOn := c.TLSConnectionState()
		if !tlsOn && !isLoopback(host) {
			nc.Close()
			return nil, &SendError{Msg: "refusing to log in to " + r.Addr + " without TLS: set StartTLS"}
		}
		if err := c.Auth(sasl.NewPlainClient("", r.Username, r.Password)); err != nil {
			return fail("AUTH", err)
		}
	}
	return &relayConn{c: c, nc: nc}, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Close closes the idle connections; Send fails afterwards.
func (r *Relay) Close() error {
	r.mu.Lock()
	idle := r.idle
	r.idle, r.closed = nil, true
	r.mu.Unlock()
	for _, rc := range idle {
		quit(rc)
	}
	return nil
}
