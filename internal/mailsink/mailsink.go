// Package mailsink is an SMTP server that accepts every mail and keeps the
// last few in memory: the relay of tests, benchmarks and demos, so mail
// goes over a real SMTP conversation (RFC 5321) without leaving the host.
package mailsink

import (
	"bytes"
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Message is a mail the sink accepted.
type Message struct {
	ID   int // 1, 2, … in order of acceptance
	From string
	To   []string
	Raw  []byte
	At   time.Time
}

// Sink is a running SMTP server.
type Sink struct {
	srv  *smtp.Server
	ln   net.Listener
	keep int
	done chan struct{}

	mu     sync.Mutex
	msgs   []Message // the last keep, oldest first
	n      int       // accepted so far
	reject func(from string, to []string) *smtp.SMTPError
}

// Start listens on addr ("127.0.0.1:0" for any free port) and serves until
// Close. It keeps the last keep messages (at least 1).
func Start(addr string, keep int) (*Sink, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Sink{ln: ln, keep: max(keep, 1), done: make(chan struct{})}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &session{sink: s}, nil
	}))
	s.srv.Domain = "sink.local"
	s.srv.AllowInsecureAuth = true
	s.srv.MaxMessageBytes = 32 << 20
	s.srv.MaxRecipients = 100
	s.srv.ReadTimeout = time.Minute
	s.srv.WriteTimeout = time.Minute
	go func() {
		defer close(s.done)
		s.srv.Serve(ln)
	}()
	return s, nil
}

// Addr is the host:port the sink listens on.
func (s *Sink) Addr() string { return s.ln.Addr().String() }

// SetReject installs fn, asked once per mail with its envelope at the end
// of DATA (so a counting fn counts attempts): a non-nil reply refuses the
// mail with it, a 4yz for a temporary failure, a 5yz for a permanent one
// (RFC 5321 §4.2.1). nil accepts all.
func (s *Sink) SetReject(fn func(from string, to []string) *smtp.SMTPError) {
	s.mu.Lock()
	s.reject = fn
	s.mu.Unlock()
}

func (s *Sink) rejectFn() func(string, []string) *smtp.SMTPError {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reject
}

// Messages returns the kept messages, oldest first (a copy).
func (s *Sink) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, len(s.msgs))
	copy(out, s.msgs)
	return out
}

// Message returns the message with the given ID, if still kept.
func (s *Sink) Message(id int) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.msgs {
		if m.ID == id {
			return m, true
		}
	}
	return Message{}, false
}

// Count is how many mails were accepted since Start, kept or not.
func (s *Sink) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// Close stops the server and closes its connections.
func (s *Sink) Close() error {
	err := s.srv.Close()
	<-s.done
	if errors.Is(err, smtp.ErrServerClosed) {
		err = nil
	}
	return err
}

func (s *Sink) add(from string, to []string, raw []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	s.msgs = append(s.msgs, Message{ID: s.n, From: from, To: to, Raw: raw, At: time.Now()})
	if len(s.msgs) > s.keep {
		// Copy down rather than reslice, so the dropped mails are freed.
		n := copy(s.msgs, s.msgs[len(s.msgs)-s.keep:])
		clear(s.msgs[n:])
		s.msgs = s.msgs[:n]
	}
}

// session is one SMTP connection's state.
type session struct {
	sink *Sink
	from string
	to   []string
}

var _ smtp.AuthSession = (*session)(nil)

func (ss *session) AuthMechanisms() []string { return []string{sasl.Plain} }

// Auth accepts any credentials: the sink checks that a client can log in,
// not who it is.
func (ss *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error { return nil }), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	ss.from, ss.to = from, nil
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	var b bytes.Buffer
	if _, err := b.ReadFrom(r); err != nil {
		return err
	}
	// A mail refused at the end of DATA is refused as a whole (RFC 5321
	// §4.2.5): nothing is kept.
	if fn := ss.sink.rejectFn(); fn != nil {
		if e := fn(ss.from, ss.to); e != nil {
			return e
		}
	}
	ss.sink.add(ss.from, ss.to, b.Bytes())
	return nil
}

func (ss *session) Reset() { ss.from, ss.to = "", nil }

func (ss *session) Logout() error { return nil }
