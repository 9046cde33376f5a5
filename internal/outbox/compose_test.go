package outbox_test

import (
	"bufio"
	"bytes"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"regexp"
	"strings"
	"testing"
	"time"

	"abusedesk/internal/outbox"
)

func sampleMail() outbox.Mail {
	return outbox.Mail{
		From:      "Example Cloud abuse desk <abuse@desk.example>",
		To:        "Zoë Müller <zoe@example.org>",
		ReplyTo:   outbox.ReplyAddress("abuse", "desk.example", "abcdefgh23456789"),
		Subject:   "Votre signalement R-1 a été reçu",
		Body:      "Bonjour,\n\nNous avons bien reçu votre signalement. Ligne très longue " + strings.Repeat("é", 80) + "\n",
		MessageID: "<abc@desk.example>",
		Language:  "fr",
		Date:      time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC),
		Headers:   [][2]string{{"X-Abusedesk-Case", "C-42"}},
	}
}

func TestComposeBytes(t *testing.T) {
	m := sampleMail()
	raw := m.Bytes()
	if bytes.Contains(bytes.ReplaceAll(raw, []byte("\r\n"), nil), []byte("\n")) {
		t.Error("bare LF in message")
	}
	for _, line := range bytes.Split(raw, []byte("\r\n")) {
		if len(line) > 78 && !bytes.HasPrefix(line, []byte("Subject: ")) {
			t.Errorf("line of %d characters: %q", len(line), line)
		}
		for _, c := range line {
			if c > 126 {
				t.Fatalf("8-bit byte in %q", line)
			}
		}
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	h := msg.Header
	var dec mime.WordDecoder
	subj, _ := dec.DecodeHeader(h.Get("Subject"))
	if subj != m.Subject {
		t.Errorf("Subject = %q", subj)
	}
	to, err := h.AddressList("To")
	if err != nil || len(to) != 1 || to[0].Name != "Zoë Müller" || to[0].Address != "zoe@example.org" {
		t.Errorf("To = %v, %v", to, err)
	}
	if rt := h.Get("Reply-To"); rt != "<abuse+abcdefgh23456789@desk.example>" {
		t.Errorf("Reply-To = %q", rt)
	}
	if d, err := h.Date(); err != nil || !d.Equal(m.Date) {
		t.Errorf("Date = %v, %v", d, err)
	}
	for k, v := range map[string]string{
		"Message-ID": "<abc@desk.example>", "MIME-Version": "1.0", "Content-Type": "text/plain; charset=utf-8",
		"Content-Transfer-Encoding": "quoted-printable", "Content-Language": "fr",
		"Auto-Submitted": "auto-generated", "X-Abusedesk-Case": "C-42",
	} {
		if got := h.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	body := decodeBody(t, msg)
	if body != strings.ReplaceAll(m.Body, "\n", "\r\n") {
		t.Errorf("body = %q", body)
	}
}

func decodeBody(t testing.TB, msg *mail.Message) string {
	t.Helper()
	var b strings.Builder
	_, err := io.Copy(&b, quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestComposeHeaderInjection(t *testing.T) {
	m := sampleMail()
	m.Subject = "hello\r\nBcc: victim@example.net\r\n\r\nbody"
	m.To = "a@example.org\r\nBcc: victim@example.net"
	m.Headers = [][2]string{{"X-Test", "x\nBcc: victim@example.net"}, {"Bad: Name", "v"}}
	msg, err := mail.ReadMessage(bytes.NewReader(m.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := msg.Header["Bcc"]; ok {
		t.Errorf("injected Bcc: %v", msg.Header)
	}
	if _, ok := msg.Header["Bad"]; ok {
		t.Error("invalid field name written")
	}
}

func TestTokens(t *testing.T) {
	tok := outbox.NewReplyToken()
	if !regexp.MustCompile(`^[a-z2-7]{16}$`).MatchString(tok) || tok == outbox.NewReplyToken() {
		t.Errorf("NewReplyToken = %q", tok)
	}
	id := outbox.NewMessageID("desk.example")
	if !regexp.MustCompile(`^<[a-z2-7]{24}@desk\.example>$`).MatchString(id) {
		t.Errorf("NewMessageID = %q", id)
	}
	if a, err := mail.ParseAddress(outbox.ReplyAddress("abuse", "desk.example", tok)); err != nil || a.Address != "abuse+"+tok+"@desk.example" {
		t.Errorf("ReplyAddress: %v %v", a, err)
	}
}

// FuzzBytes: whatever the subject, extra header and body, the message
// parses, the subject and header read back as given (less CR and LF), no
// header field is added, and the body reads back.
func FuzzBytes(f *testing.F) {
	f.Add("Report R-1 received", "C-1", "Hello\nworld\n")
	f.Add("Signalement reçu: =?utf-8?q?x?= ", " lead\ttab", "ligne\r\nsuivante\rx \n")
	f.Add("x\r\nBcc: a@b", "\n\n", "")
	f.Add(strings.Repeat("long subject ", 30), strings.Repeat("é", 100), strings.Repeat("a", 200))
	f.Fuzz(func(t *testing.T, subject, extra, body string) {
		m := sampleMail()
		m.Subject, m.Body = subject, body
		m.Headers = [][2]string{{"X-Extra", extra}}
		raw := m.Bytes()
		msg, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("parse: %v\n%q", err, raw)
		}
		want := []string{"Auto-Submitted", "Content-Language", "Content-Transfer-Encoding", "Content-Type",
			"Date", "From", "Message-Id", "Mime-Version", "Reply-To", "Subject", "To", "X-Extra"}
		if len(msg.Header) != len(want) {
			t.Fatalf("header fields %v, want %v", msg.Header, want)
		}
		for _, k := range want {
			if len(msg.Header[k]) != 1 {
				t.Fatalf("header %s: %q", k, msg.Header[k])
			}
		}
		var dec mime.WordDecoder
		strip := strings.NewReplacer("\r", "", "\n", "")
		for k, in := range map[string]string{"Subject": subject, "X-Extra": extra} {
			got, err := dec.DecodeHeader(msg.Header.Get(k))
			if err != nil {
				t.Fatalf("%s: %v", k, err)
			}
			if w := strip.Replace(in); got != w {
				t.Fatalf("%s = %q, want %q\n%q", k, got, w, raw)
			}
		}
		// Line breaks, whatever their form, become CRLF; a final one is added.
		wantBody := strings.ReplaceAll(strings.ReplaceAll(body, "\r\n", "\n"), "\r", "\n")
		if !strings.HasSuffix(wantBody, "\n") {
			wantBody += "\n"
		}
		if got := decodeBody(t, msg); got != strings.ReplaceAll(wantBody, "\n", "\r\n") {
			t.Fatalf("body = %q, want %q", got, wantBody)
		}
		sc := bufio.NewScanner(bytes.NewReader(raw))
		sc.Buffer(nil, len(raw)+1)
		for sc.Scan() {
			if len(sc.Bytes()) > 998 {
				t.Fatalf("line of %d characters", len(sc.Bytes()))
			}
		}
	})
}
