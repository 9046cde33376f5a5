package smtpd

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"time"

	"github.com/emersion/go-smtp"
)

// Replies the session gives, with RFC 3463 enhanced codes.
var (
	errRateLimited = &smtp.SMTPError{Code: 450, EnhancedCode: smtp.EnhancedCode{4, 7, 1},
		Message: "Too many messages from your address, try again later"}
	errNoMailbox = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1},
		Message: "No such mailbox here"}
	errTooLarge = &smtp.SMTPError{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 3, 4},
		Message: "Message too large"}
	errLineTooLong = &smtp.SMTPError{Code: 500, EnhancedCode: smtp.EnhancedCode{5, 5, 2},
		Message: "Line too long"}
	errDeliver = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0},
		Message: "Temporary failure storing the message, try again later"}
	errCut = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 4, 2},
		Message: "Message transfer interrupted"}
	errShutdown = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2},
		Message: "Shutting down, try again later"}
)

type backend struct{ s *Server }

// NewSession runs at EHLO/HELO, again after STARTTLS (RFC 3207 §4.2: the
// client must start over with EHLO).
func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	if b.s.shuttingDown() {
		return nil, errShutdown
	}
	ss := &session{s: b.s, helo: c.Hostname()}
	nc := c.Conn()
	if tc, ok := nc.(*tls.Conn); ok {
		ss.tls = true
		nc = tc.NetConn()
	}
	if wc, ok := nc.(*conn); ok {
		ss.c = wc
		ss.remote = wc.remote
	} else {
		ss.remote = remoteAddrPort(nc.RemoteAddr())
	}
	return ss, nil
}

// session is one SMTP session (between EHLO and QUIT or STARTTLS).
type session struct {
	s      *Server
	c      *conn // nil only if go-smtp ever hands us a connection we did not wrap
	remote netip.AddrPort
	helo   string
	tls    bool

	// The transaction (RFC 5321 §3.3), cleared by Reset.
	from string
	to   []string
	utf8 bool
}

func (ss *session) Reset() { ss.from, ss.to, ss.utf8 = "", nil, false }

func (ss *session) Logout() error { return nil }

// Mail starts a transaction. go-smtp has already answered 501 to a malformed
// reverse-path (RFC 5321 §4.1.1.2) and parsed <> as "" (the null sender,
// which §4.5.5 requires us to accept).
func (ss *session) Mail(from string, opts *smtp.MailOptions) error {
	if ss.c != nil {
		// The connection's token paid for its first message; each further
		// MAIL on the same connection takes one more, so pipelining many
		// messages in one connection is not a way around the rate.
		if ss.c.mails.Add(1) > 1 && !ss.s.clients.allowMessage(ss.c.key) {
			ss.s.count(resultRateLimited)
			return errRateLimited
		}
	}
	// RFC 1870 §6.1: a declared size above the limit is refused at MAIL
	// with 552, before any data is sent.
	if opts != nil && opts.Size > ss.s.maxMsg {
		ss.s.count(resultTooLarge)
		return errTooLarge
	}
	ss.Reset()
	ss.from = from
	ss.utf8 = opts != nil && opts.UTF8
	return nil
}

// Rcpt accepts or refuses one recipient. go-smtp answers 452 4.5.3 itself
// beyond MaxRecipients (RFC 5321 §4.5.3.1.10) before asking us.
func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if acc := ss.s.cfg.Accept; acc != nil && !acc(to) {
		// RFC 5321 §3.3: a refused RCPT leaves the transaction and the
		// other recipients intact; 550 5.1.1 is "bad destination mailbox"
		// (RFC 3463).
		ss.s.count(resultRejectedRcpt)
		return errNoMailbox
	}
	ss.to = append(ss.to, to)
	return nil
}

// Data reads the message and delivers it. go-smtp refuses DATA itself when
// no recipient was accepted (502 5.5.1, see the package notes), so here
// there is at least one.
func (ss *session) Data(r io.Reader) (err error) {
	s := ss.s
	start := time.Now()
	if ss.c != nil {
		ss.c.dataUntil.Store(start.Add(dataTimeoutFactor * s.cfg.ReadTimeout).UnixNano())
		defer ss.c.dataUntil.Store(0)
	}

	// Read at most one byte beyond the limit: enough to know it is over.
	var buf bytes.Buffer
	_, rerr := buf.ReadFrom(io.LimitReader(r, s.maxMsg+1))
	switch {
	case errors.Is(rerr, smtp.ErrDataTooLarge) || int64(buf.Len()) > s.maxMsg:
		// RFC 5321 §4.5.3.1.10 / RFC 1870 §6.2: 552 and nothing kept.
		s.count(resultTooLarge)
		s.log.Info("smtp message too large", "remote", ss.remote.String(), "limit", s.maxMsg)
		return errTooLarge
	case errors.Is(rerr, smtp.ErrTooLongLine):
		// RFC 5321 §4.5.3.1.6 allows 1000 octets a line; go-smtp tolerates
		// twice that and then gives up on the connection.
		s.count(resultTooLarge)
		return errLineTooLong
	case rerr != nil:
		// The client closed or stalled before the final dot (or sent RSET
		// mid-BDAT): RFC 5321 §4.1.1.4 makes the message ours only after
		// the dot is acknowledged, so nothing is delivered and the client
		// resends.
		s.count(resultCut)
		s.log.Info("smtp message cut", "remote", ss.remote.String(), "err", rerr)
		return errCut
	}

	at := s.now()
	env := Envelope{
		Helo:       ss.helo,
		From:       ss.from,
		To:         append([]string(nil), ss.to...),
		TLS:        ss.tls,
		ReceivedAt: at,
	}
	env.Remote = ss.remote
	body := buf.Bytes()
	trace := receivedField(receivedInfo{
		helo: ss.helo, remote: env.Remote.Addr(), by: s.srv.Domain,
		tls: ss.tls, utf8: ss.utf8, rcpts: ss.to, at: at, eol: lineEnding(body),
	})
	raw := make([]byte, 0, len(trace)+len(body))
	raw = append(append(raw, trace...), body...)

	if ss.c != nil {
		if !ss.c.beginDeliver() {
			s.count(resultCut)
			return errCut
		}
		defer ss.c.endDeliver()
	}
	if err := ss.deliver(env, raw); err != nil {
		// 451: a transient failure, so the client keeps the message and
		// retries (RFC 5321 §4.2.5, §4.5.4.1); never a silent drop.
		s.count(resultDeliverError)
		s.log.Error("smtp deliver failed", "remote", ss.remote.String(), "from", env.From, "err", err)
		return errDeliver
	}
	s.count(resultAccepted)
	s.log.Info("smtp message accepted", "remote", ss.remote.String(), "from", env.From,
		"to", env.To, "bytes", len(raw), "tls", env.TLS, "took", time.Since(start))
	return nil
}

// deliver calls Config.Deliver, turning a panic into an error so that the
// client gets 451 (and retries) rather than a dropped connection.
func (ss *session) deliver(env Envelope, raw []byte) (err error) {
	if ss.s.cfg.Deliver == nil {
		return errors.New("smtpd: no Deliver configured")
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("smtpd: Deliver panicked: %v", p)
		}
	}()
	ctx, cancel := context.WithTimeout(ss.s.baseCtx, deliverTimeout)
	defer cancel()
	return ss.s.cfg.Deliver(ctx, env, raw)
}

var _ net.Conn = (*conn)(nil)
