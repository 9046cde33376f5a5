package smtpd

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// delivery is one call of Deliver seen by a test.
type delivery struct {
	env Envelope
	raw []byte
}

type harness struct {
	s    *Server
	addr string

	mu   sync.Mutex
	got  []delivery
	fail error // returned by Deliver while set
}

// fakeClock is a settable clock for rate limiting and Received dates.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var epoch = time.Date(2024, 1, 2, 15, 4, 5, 0, time.UTC)

// start runs a server on 127.0.0.1 with cfg (Deliver filled in unless set)
// and a fake clock when clk is non-nil.
func start(t testing.TB, cfg Config, clk *fakeClock) *harness {
	t.Helper()
	h := &harness{}
	if cfg.Hostname == "" {
		cfg.Hostname = "mx.example.net"
	}
	if cfg.Deliver == nil {
		cfg.Deliver = func(_ context.Context, env Envelope, raw []byte) error {
			h.mu.Lock()
			defer h.mu.Unlock()
			if h.fail != nil {
				return h.fail
			}
			h.got = append(h.got, delivery{env, append([]byte(nil), raw...)})
			return nil
		}
	}
	h.s = New(cfg)
	if clk != nil {
		h.s.now = clk.Now
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- h.s.Serve(l) }()
	h.addr = l.Addr().String()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := h.s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return h
}

func (h *harness) deliveries() []delivery {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]delivery(nil), h.got...)
}

func (h *harness) setFail(err error) {
	h.mu.Lock()
	h.fail = err
	h.mu.Unlock()
}

// waitFor polls cond until true or a deadline, for outcomes that happen on
// the server after the client is done (a cut connection).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// rawClient speaks SMTP line by line, to see exact replies.
type rawClient struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dialRaw(t *testing.T, addr string) (*rawClient, int, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	rc := &rawClient{t: t, c: c, br: bufio.NewReader(c)}
	code, text := rc.reply()
	return rc, code, text
}

// reply reads one (possibly multi-line) reply: its code and its lines
// joined with "\n". A closed connection gives code 0.
func (rc *rawClient) reply() (int, string) {
	rc.t.Helper()
	var lines []string
	for {
		line, err := rc.br.ReadString('\n')
		if err != nil {
			return 0, strings.Join(lines, "\n")
		}
		line = strings.TrimRight(line, "\r\n")
		if len(line) < 4 {
			rc.t.Fatalf("short reply line %q", line)
		}
		lines = append(lines, line[4:])
		if line[3] == ' ' {
			var code int
			fmt.Sscanf(line[:3], "%d", &code)
			return code, strings.Join(lines, "\n")
		}
	}
}

func (rc *rawClient) cmd(line string) (int, string) {
	rc.t.Helper()
	if _, err := rc.c.Write([]byte(line + "\r\n")); err != nil {
		return 0, err.Error()
	}
	return rc.reply()
}

// expect sends line and fails unless the reply has code want.
func (rc *rawClient) expect(line string, want int) string {
	rc.t.Helper()
	code, text := rc.cmd(line)
	if code != want {
		rc.t.Fatalf("%q: got %d %q, want %d", line, code, text, want)
	}
	return text
}

// dotStuff prepares msg for DATA (RFC 5321 §4.5.2): a leading "." is
// doubled, and the end marker appended.
func dotStuff(msg []byte) []byte {
	var b bytes.Buffer
	for line := range bytes.Lines(msg) {
		if line[0] == '.' {
			b.WriteByte('.')
		}
		b.Write(line)
	}
	if !bytes.HasSuffix(msg, []byte("\r\n")) {
		b.WriteString("\r\n")
	}
	b.WriteString(".\r\n")
	return b.Bytes()
}

func crlf(b []byte) []byte {
	return bytes.ReplaceAll(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n"))
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return crlf(b)
}

// send runs DATA with msg and returns the final reply.
func (rc *rawClient) send(msg []byte) (int, string) {
	rc.t.Helper()
	rc.expect("DATA", 354)
	if _, err := rc.c.Write(dotStuff(msg)); err != nil {
		rc.t.Fatal(err)
	}
	return rc.reply()
}

// splitReceived splits a delivered message into its first (Received) field
// and the rest.
func splitReceived(t *testing.T, raw []byte) (field string, rest []byte) {
	t.Helper()
	if !bytes.HasPrefix(raw, []byte("Received: ")) {
		t.Fatalf("delivered message does not start with Received: %q", raw[:min(len(raw), 80)])
	}
	// The field ends at the first line break not followed by a fold.
	for i := 0; i < len(raw)-1; i++ {
		if raw[i] == '\n' && raw[i+1] != '\t' && raw[i+1] != ' ' {
			return string(raw[:i+1]), raw[i+1:]
		}
	}
	t.Fatal("no end of Received field")
	return "", nil
}

func TestDeliverByteExact(t *testing.T) {
	clk := &fakeClock{t: epoch}
	h := start(t, Config{Accept: acceptAddrs("abuse@example.net")}, clk)
	msg := readTestdata(t, "report.eml")

	rc, code, greet := dialRaw(t, h.addr)
	if code != 220 || !strings.Contains(greet, "mx.example.net") {
		t.Fatalf("greeting %d %q", code, greet)
	}
	ehlo := rc.expect("EHLO reporter.example.org", 250)
	for _, ext := range []string{"SIZE", "8BITMIME", "SMTPUTF8", "PIPELINING"} {
		if !strings.Contains(ehlo, ext) {
			t.Errorf("EHLO lacks %s: %q", ext, ehlo)
		}
	}
	for _, ext := range []string{"STARTTLS", "AUTH"} {
		if strings.Contains(ehlo, ext) {
			t.Errorf("EHLO offers %s without reason: %q", ext, ehlo)
		}
	}
	rc.expect("MAIL FROM:<reporter@example.org> BODY=8BITMIME", 250)
	rc.expect("RCPT TO:<abuse@example.net>", 250)
	if code, text := rc.send(msg); code != 250 {
		t.Fatalf("DATA: %d %q", code, text)
	}
	rc.expect("QUIT", 221)

	got := h.deliveries()
	if len(got) != 1 {
		t.Fatalf("%d deliveries, want 1", len(got))
	}
	d := got[0]
	field, rest := splitReceived(t, d.raw)
	if !bytes.Equal(rest, msg) {
		t.Errorf("message altered:\n got %q\nwant %q", rest, msg)
	}
	wantField := "Received: from reporter.example.org ([127.0.0.1])\r\n" +
		"\tby mx.example.net with ESMTP\r\n" +
		"\tfor <abuse@example.net>;\r\n" +
		"\tTue, 02 Jan 2024 15:04:05 +0000\r\n"
	if field != wantField {
		t.Errorf("Received field:\n got %q\nwant %q", field, wantField)
	}
	env := d.env
	if env.Remote.Addr() != netip.MustParseAddr("127.0.0.1") || env.Remote.Port() == 0 {
		t.Errorf("Remote = %v", env.Remote)
	}
	if env.Helo != "reporter.example.org" || env.From != "reporter@example.org" ||
		len(env.To) != 1 || env.To[0] != "abuse@example.net" || env.TLS || !env.ReceivedAt.Equal(epoch) {
		t.Errorf("envelope = %+v", env)
	}
	if n := h.s.results[resultAccepted].Load(); n != 1 {
		t.Errorf("accepted count = %d", n)
	}
}

func TestNullSenderAndClientPackage(t *testing.T) {
	h := start(t, Config{}, nil)
	c, err := smtp.Dial(h.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// SendMail with from "" sends MAIL FROM:<> (RFC 5321 §4.5.5).
	if err := c.SendMail("", []string{"abuse@example.net"}, bytes.NewReader(readTestdata(t, "bounce.eml"))); err != nil {
		t.Fatal(err)
	}
	if err := c.Quit(); err != nil {
		t.Fatal(err)
	}
	got := h.deliveries()
	if len(got) != 1 || got[0].env.From != "" {
		t.Fatalf("deliveries = %+v", got)
	}
}

func TestSize(t *testing.T) {
	const limit = 1000
	h := start(t, Config{MaxMessageBytes: limit}, nil)
	rc, _, _ := dialRaw(t, h.addr)
	ehlo := rc.expect("EHLO c.example", 250)
	if !strings.Contains(ehlo, "SIZE ") {
		t.Errorf("no SIZE in EHLO: %q", ehlo)
	}
	body := func(n int) []byte {
		// Lines of 78 octets (well within RFC 5321 §4.5.3.1.6), the
		// last one cut to make n.
		b := []byte("Subject: x\r\n\r\n")
		for len(b) < n {
			line := strings.Repeat("a", min(76, n-len(b)-2)) + "\r\n"
			b = append(b, line...)
		}
		if len(b) != n {
			t.Fatalf("built %d bytes", len(b))
		}
		return b
	}

	// Exactly the limit: accepted.
	rc.expect("MAIL FROM:<a@example.org>", 250)
	rc.expect("RCPT TO:<abuse@example.net>", 250)
	if code, text := rc.send(body(limit)); code != 250 {
		t.Fatalf("message of exactly the limit: %d %q", code, text)
	}
	// One byte over: 552 5.3.4, nothing delivered.
	rc.expect("MAIL FROM:<a@example.org>", 250)
	rc.expect("RCPT TO:<abuse@example.net>", 250)
	if code, text := rc.send(body(limit + 1)); code != 552 || !strings.HasPrefix(text, "5.3.4") {
		t.Fatalf("oversized: %d %q", code, text)
	}
	// Far over: still 552 and the connection goes on.
	rc.expect("MAIL FROM:<a@example.org>", 250)
	rc.expect("RCPT TO:<abuse@example.net>", 250)
	if code, _ := rc.send(body(100 * limit)); code != 552 {
		t.Fatalf("far oversized: %d", code)
	}
	// Declared too large at MAIL (RFC 1870 §6.1).
	if text := rc.expect(fmt.Sprintf("MAIL FROM:<a@example.org> SIZE=%d", limit+1), 552); !strings.HasPrefix(text, "5.3.4") {
		t.Errorf("SIZE= over: %q", text)
	}
	rc.expect("NOOP", 250)
	if got := h.deliveries(); len(got) != 1 {
		t.Fatalf("%d deliveries, want 1", len(got))
	}
	if n := h.s.results[resultTooLarge].Load(); n != 3 {
		t.Errorf("too_large = %d, want 3", n)
	}
}

func TestLongLine(t *testing.T) {
	h := start(t, Config{}, nil)
	rc, _, _ := dialRaw(t, h.addr)
	rc.expect("EHLO c.example", 250)
	rc.expect("MAIL FROM:<a@example.org>", 250)
	rc.expect("RCPT TO:<abuse@example.net>", 250)
	// go-smtp allows lines of 2000 octets (twice RFC 5321 §4.5.3.1.6),
	// then refuses the message and ends the connection.
	msg := []byte("Subject: x\r\n\r\n" + strings.Repeat("a", 3000) + "\r\n")
	if code, text := rc.send(msg); code != 500 {
		t.Fatalf("long line: %d %q", code, text)
	}
	waitFor(t, "session end", func() bool { return h.s.connsClosed.Load() == 1 })
	if got := h.deliveries(); len(got) != 0 {
		t.Fatal("message with an over-long line delivered")
	}
	if n := h.s.results[resultTooLarge].Load(); n != 1 {
		t.Errorf("too_large = %d", n)
	}
}

func TestRecipients(t *testing.T) {
	h := start(t, Config{
		Accept:        acceptAddrs("abuse@example.net", "postmaster@example.net", "spam@example.net"),
		MaxRecipients: 2,
	}, nil)
	rc, _, _ := dialRaw(t, h.addr)
	rc.expect("EHLO c.example", 250)
	// DATA before any accepted recipient is refused (go-smtp: 502 5.5.1).
	rc.expect("MAIL FROM:<a@example.org>", 250)
	if text := rc.expect("RCPT TO:<nobody@example.net>", 550); !strings.HasPrefix(text, "5.1.1") {
		t.Errorf("unknown recipient: %q", text)
	}
	if code, _ := rc.cmd("DATA"); code < 500 || code > 554 {
		t.Errorf("DATA without recipient: %d", code)
	}
	rc.expect("RSET", 250)

	rc.expect("MAIL FROM:<a@example.org>", 250)
	rc.expect("RCPT TO:<nobody@example.net>", 550)
	rc.expect("RCPT TO:<ABUSE@Example.NET>", 250) // case-insensitive, kept as written
	rc.expect("RCPT TO:<Postmaster@example.net>", 250)
	if text := rc.expect("RCPT TO:<spam@example.net>", 452); !strings.HasPrefix(text, "4.5.3") {
		t.Errorf("too many recipients: %q", text)
	}
	if code, text := rc.send([]byte("Subject: hi\r\n\r\nbody\r\n")); code != 250 {
		t.Fatalf("DATA: %d %q", code, text)
	}
	got := h.deliveries()
	if len(got) != 1 {
		t.Fatalf("%d deliveries", len(got))
	}
	if to := got[0].env.To; len(to) != 2 || to[0] != "ABUSE@Example.NET" || to[1] != "Postmaster@example.net" {
		t.Errorf("To = %q", to)
	}
	// Two recipients: no "for" clause (RFC 5321 §7.2).
	if field, _ := splitReceived(t, got[0].raw); strings.Contains(field, "for <") {
		t.Errorf("for clause with two recipients: %q", field)
	}
	if n := h.s.results[resultRejectedRcpt].Load(); n != 2 {
		t.Errorf("rejected_rcpt = %d, want 2", n)
	}
}

func TestMailSyntax(t *testing.T) {
	h := start(t, Config{}, nil)
	rc, _, _ := dialRaw(t, h.addr)
	rc.expect("EHLO c.example", 250)
	rc.expect("MAIL <a@example.org>", 501)
	rc.expect("MAIL FROM:<a b@example.org>", 501)
	rc.expect("MAIL FROM:<a@example.org", 501)
	rc.expect("MAIL FROM:<>", 250)
}

func TestCutMidData(t *testing.T) {
	for _, tc := range []struct{ name, partial string }{
		{"mid-line", "Subject: cut\r\n\r\nhalf a li"},
		{"before-dot", "Subject: cut\r\n\r\nwhole line\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := start(t, Config{}, nil)
			rc, _, _ := dialRaw(t, h.addr)
			rc.expect("EHLO c.example", 250)
			rc.expect("MAIL FROM:<a@example.org>", 250)
			rc.expect("RCPT TO:<abuse@example.net>", 250)
			rc.expect("DATA", 354)
			rc.c.Write([]byte(tc.partial))
			rc.c.Close()
			waitFor(t, "session end", func() bool { return h.s.connsClosed.Load() == 1 })
			if n := h.s.results[resultCut].Load(); n != 1 {
				t.Errorf("cut = %d", n)
			}
			if got := h.deliveries(); len(got) != 0 {
				t.Fatalf("cut message delivered: %q", got[0].raw)
			}
		})
	}
}

func TestDeliverError(t *testing.T) {
	h := start(t, Config{}, nil)
	h.setFail(errors.New("database down"))
	rc, _, _ := dialRaw(t, h.addr)
	rc.expect("EHLO c.example", 250)
	rc.expect("MAIL FROM:<a@example.org>", 250)
	rc.expect("RCPT TO:<abuse@example.net>", 250)
	if code, text := rc.send([]byte("Subject: x\r\n\r\ny\r\n")); code != 451 || !strings.HasPrefix(text, "4.3.0") {
		t.Fatalf("Deliver error: %d %q", code, text)
	}
	// The client retries once the store is back.
	h.setFail(nil)
	rc.expect("MAIL FROM:<a@example.org>", 250)
	rc.expect("RCPT TO:<abuse@example.net>", 250)
	if code, _ := rc.send([]byte("Subject: x\r\n\r\ny\r\n")); code != 250 {
		t.Fatalf("retry: %d", code)
	}
	if n := h.s.results[resultDeliverError].Load(); n != 1 {
		t.Errorf("deliver_error = %d", n)
	}
}

func TestDeliverPanic(t *testing.T) {
	h := start(t, Config{Deliver: func(context.Context, Envelope, []byte) error { panic("boom") }}, nil)
	rc, _, _ := dialRaw(t, h.addr)
	rc.expect("EHLO c.example", 250)
	rc.expect("MAIL FROM:<a@example.org>", 250)
	rc.expect("RCPT TO:<abuse@example.net>", 250)
	if code, _ := rc.send([]byte("Subject: x\r\n\r\ny\r\n")); code != 451 {
		t.Fatalf("Deliver panic: %d", code)
	}
}

func TestRateLimit(t *testing.T) {
	clk := &fakeClock{t: epoch}
	h := start(t, Config{Rate: 10, Burst: 2}, clk)
	msg := []byte("Subject: x\r\n\r\ny\r\n")

	// The connection takes token 1; its first message is free.
	rc, code, _ := dialRaw(t, h.addr)
	if code != 220 {
		t.Fatalf("greeting %d", code)
	}
	rc.expect("EHLO c.example", 250)
	rc.expect("MAIL FROM:<a@example.org>", 250)
	rc.expect("RCPT TO:<abuse@example.net>", 250)
	if code, _ := rc.send(msg); code != 250 {
		t.Fatal("first message refused")
	}
	// The second message takes token 2, the third finds none: 450 4.7.1.
	rc.expect("MAIL FROM:<a@example.org>", 250)
	rc.expect("RSET", 250)
	if text := rc.expect("MAIL FROM:<a@example.org>", 450); !strings.HasPrefix(text, "4.7.1") {
		t.Errorf("MAIL over rate: %q", text)
	}
	// A new connection finds the bucket empty: 421 4.7.0 and closed.
	rc2, code, text := dialRaw(t, h.addr)
	if code != 421 || !strings.HasPrefix(text, "4.7.0") {
		t.Fatalf("connection over rate: %d %q", code, text)
	}
	if code, _ := rc2.reply(); code != 0 {
		t.Errorf("refused connection left open")
	}
	// 100 ms later a token is back (rate 10/s).
	clk.Add(100 * time.Millisecond)
	rc.expect("MAIL FROM:<a@example.org>", 250)
	clk.Add(100 * time.Millisecond)
	if _, code, _ := dialRaw(t, h.addr); code != 220 {
		t.Fatalf("after refill: %d", code)
	}
	if n := h.s.results[resultRateLimited].Load(); n != 2 {
		t.Errorf("rate_limited = %d, want 2", n)
	}
}

func TestConnectionCap(t *testing.T) {
	h := start(t, Config{}, nil)
	var open []*rawClient
	for i := range defaultMaxConnsPerClient {
		rc, code, _ := dialRaw(t, h.addr)
		if code != 220 {
			t.Fatalf("connection %d: %d", i, code)
		}
		open = append(open, rc)
	}
	if _, code, text := dialRaw(t, h.addr); code != 421 || !strings.HasPrefix(text, "4.7.0") {
		t.Fatalf("connection over cap: %d %q", code, text)
	}
	open[0].expect("QUIT", 221)
	waitFor(t, "slot released", func() bool { return h.s.connsClosed.Load() == 1 })
	if _, code, _ := dialRaw(t, h.addr); code != 220 {
		t.Fatalf("after a slot freed: %d", code)
	}
}

// selfSigned makes a certificate for mx.example.net valid for an hour.
func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "mx.example.net"},
		DNSNames:              []string{"mx.example.net"},
		NotBefore:             time.Now().Add(-time.Minute),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

func TestSTARTTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	h := start(t, Config{TLS: &tls.Config{Certificates: []tls.Certificate{cert}}}, nil)

	// DialStartTLS fails unless STARTTLS is offered (RFC 3207 §4).
	c, err := smtp.DialStartTLS(h.addr, &tls.Config{ServerName: "mx.example.net", RootCAs: pool})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if ok, _ := c.Extension("AUTH"); ok {
		t.Error("AUTH offered")
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		t.Error("STARTTLS offered again inside TLS")
	}
	if err := c.SendMail("reporter@example.org", []string{"abuse@example.net"},
		strings.NewReader("Subject: over TLS\r\n\r\nsecret\r\n")); err != nil {
		t.Fatal(err)
	}
	c.Quit()
	got := h.deliveries()
	if len(got) != 1 || !got[0].env.TLS || got[0].env.Helo != "localhost" {
		t.Fatalf("deliveries = %+v", got)
	}
	if field, _ := splitReceived(t, got[0].raw); !strings.Contains(field, "with ESMTPS") {
		t.Errorf("Received over TLS: %q", field)
	}
}

func TestShutdownWaitsForDelivery(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{})
	h := start(t, Config{Deliver: func(context.Context, Envelope, []byte) error {
		close(entered)
		<-release
		return nil
	}}, nil)
	busy, _, _ := dialRaw(t, h.addr)
	idle, _, _ := dialRaw(t, h.addr)
	idle.expect("EHLO idle.example", 250)
	busy.expect("EHLO c.example", 250)
	busy.expect("MAIL FROM:<a@example.org>", 250)
	busy.expect("RCPT TO:<abuse@example.net>", 250)
	busy.expect("DATA", 354)
	busy.c.Write(dotStuff([]byte("Subject: x\r\n\r\ny\r\n")))
	<-entered

	done := make(chan error, 1)
	go func() { done <- h.s.Shutdown(context.Background()) }()
	// The idle connection is closed at once.
	if code, _ := idle.reply(); code != 0 {
		t.Errorf("idle connection got %d, want closed", code)
	}
	close(release)
	// The delivering one gets its 250, then is closed.
	if code, text := busy.reply(); code != 250 {
		t.Fatalf("delivered during shutdown: %d %q", code, text)
	}
	if code, _ := busy.reply(); code != 0 {
		t.Errorf("connection left open after shutdown")
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := net.DialTimeout("tcp", h.addr, time.Second); err == nil {
		t.Error("still listening after Shutdown")
	}
}

// BenchmarkLoopback is the baseline of messages per second over loopback on
// one connection with a no-op Deliver (the database path compares to it).
func BenchmarkLoopback(b *testing.B) {
	h := start(b, Config{Deliver: func(context.Context, Envelope, []byte) error { return nil }}, nil)
	msg := readTestdata(b, "report.eml")
	c, err := smtp.Dial(h.addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("bench.example"); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(msg)))
	b.ResetTimer()
	for b.Loop() {
		if err := c.SendMail("a@example.org", []string{"abuse@example.net"}, bytes.NewReader(msg)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// acceptAddrs returns an Accept function that accepts exactly the given
// addresses, compared case-insensitively. RFC 5321 §2.4 lets a local part be
// case-sensitive, but mailbox names like abuse@ and postmaster@ (which
// §4.5.1 requires to be accepted in any case) are not, and senders vary.
func acceptAddrs(addrs ...string) func(rcpt string) bool {
	set := make(map[string]struct{}, len(addrs))
	for _, a := range addrs {
		set[foldASCII(a)] = struct{}{}
	}
	return func(rcpt string) bool {
		_, ok := set[foldASCII(rcpt)]
		return ok
	}
}

// foldASCII lower-cases ASCII letters only: domain names and the local parts
// we serve are ASCII, and Unicode case folding of a hostile address would
// make unrelated addresses collide.
func foldASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
