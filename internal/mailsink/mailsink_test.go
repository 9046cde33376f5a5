package mailsink_test

import (
	"fmt"
	"net/smtp"
	"strings"
	"testing"

	gosmtp "github.com/emersion/go-smtp"

	"abusedesk/internal/mailsink"
)

func TestSinkKeepsLastN(t *testing.T) {
	s, err := mailsink.Start("127.0.0.1:0", 2)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := 1; i <= 3; i++ {
		msg := fmt.Sprintf("Subject: %d\r\n\r\nbody %d\r\n", i, i)
		if err := smtp.SendMail(s.Addr(), nil, "a@example.org", []string{"b@example.net", "c@example.net"}, []byte(msg)); err != nil {
			t.Fatal(err)
		}
	}
	if s.Count() != 3 {
		t.Errorf("Count = %d", s.Count())
	}
	ms := s.Messages()
	if len(ms) != 2 || ms[0].ID != 2 || ms[1].ID != 3 {
		t.Fatalf("Messages = %+v", ms)
	}
	m, ok := s.Message(3)
	if !ok || m.From != "a@example.org" || strings.Join(m.To, ",") != "b@example.net,c@example.net" ||
		string(m.Raw) != "Subject: 3\r\n\r\nbody 3\r\n" || m.At.IsZero() {
		t.Errorf("Message(3) = %+v %v", m, ok)
	}
	if _, ok := s.Message(1); ok {
		t.Error("Message(1) still kept")
	}
}

func TestSinkRejectAndAuth(t *testing.T) {
	s, err := mailsink.Start("127.0.0.1:0", 10)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.SetReject(func(from string, to []string) *gosmtp.SMTPError {
		if to[0] == "nobody@example.net" {
			return &gosmtp.SMTPError{Code: 550, EnhancedCode: gosmtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		}
		return nil
	})
	// net/smtp sends AUTH PLAIN without TLS only to localhost.
	auth := smtp.PlainAuth("", "user", "secret", "127.0.0.1")
	err = smtp.SendMail(s.Addr(), auth, "a@example.org", []string{"nobody@example.net"}, []byte("Subject: x\r\n\r\nx\r\n"))
	if err == nil || !strings.Contains(err.Error(), "550") {
		t.Errorf("rejected mail: %v", err)
	}
	if err := smtp.SendMail(s.Addr(), nil, "a@example.org", []string{"b@example.net"}, []byte("Subject: y\r\n\r\ny\r\n")); err != nil {
		t.Errorf("accepted mail: %v", err)
	}
	if s.Count() != 1 {
		t.Errorf("Count = %d, want 1", s.Count())
	}
}
