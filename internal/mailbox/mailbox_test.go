package mailbox_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"mime/quotedprintable"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"abusedesk/internal/cases"
	"abusedesk/internal/intake"
	"abusedesk/internal/mailbox"
	"abusedesk/internal/notify"
	"abusedesk/internal/report"
	"abusedesk/internal/smtpd"
	"abusedesk/internal/store"
	"abusedesk/internal/store/storetest"
)

const domain = "desk.example"

type env struct {
	st   *store.Store
	in   *intake.Service
	box  *mailbox.Mailbox
	addr string
	n    *notify.Notifier
}

func setup(t *testing.T, st *store.Store) *env {
	t.Helper()
	in := intake.New(st, &report.Validator{}, intake.BulkLimits{})
	t.Cleanup(in.Close)
	box := mailbox.New(mailbox.Config{Store: st, Intake: in, Policy: cases.DefaultPolicy(), Domain: domain,
		DeskAddress: "abuse@" + domain, RelayDelay: time.Minute})
	srv := smtpd.New(smtpd.Config{Hostname: "mx." + domain, MaxMessageBytes: 256 << 10, MaxRecipients: 5,
		Accept: box.Accept, Deliver: box.Deliver})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, c := context.WithTimeout(context.Background(), 5*time.Second)
		defer c()
		srv.Shutdown(ctx)
	})
	n := notify.New(st, nil, notify.Config{BaseURL: "https://" + domain, ReplyLocal: "abuse", ReplyDomain: domain, Desk: "Example abuse desk",
		From: "Example abuse desk <abuse@" + domain + ">"}, nil)
	return &env{st: st, in: in, box: box, addr: ln.Addr().String(), n: n}
}

// send speaks SMTP to the listener over TCP, as any sender would.
func (e *env) send(t *testing.T, from string, to []string, raw []byte) error {
	t.Helper()
	c, err := smtp.Dial(e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("client.example"); err != nil {
		return err
	}
	if err := c.Mail(from, nil); err != nil {
		return err
	}
	for _, r := range to {
		if err := c.Rcpt(r, nil); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(raw); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

func (e *env) drain(t *testing.T) {
	t.Helper()
	if _, err := e.box.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (e *env) last(t *testing.T) *store.InboundMail {
	t.Helper()
	l, err := e.st.ListInbound(context.Background(), store.InboundFilter{Limit: 1})
	if err != nil || len(l) != 1 {
		t.Fatalf("inbound: %v %d", err, len(l))
	}
	m, err := e.st.InboundByPublicID(context.Background(), l[0].PublicID)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (e *env) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := e.st.R.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func sample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sent(t *testing.T, st *store.Store, kind string) []store.OutboxMail {
	t.Helper()
	list, err := st.ListOutbox(context.Background(), store.OutboxFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var out []store.OutboxMail
	for _, m := range list {
		if m.Kind == kind {
			full, err := st.OutboxByID(context.Background(), m.ID)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, *full)
		}
	}
	return out
}

func TestMailsBecomeReports(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := setup(t, st)
		ctx := context.Background()

		// A person's complaint in English: a report, acknowledged by mail.
		if err := e.send(t, "ops@victim.example", []string{"Abuse@Desk.Example"}, sample(t, "ssh-en.eml")); err != nil {
			t.Fatal(err)
		}
		e.drain(t)
		m := e.last(t)
		sum := sha256.Sum256(m.Raw)
		if m.SHA256 != hex.EncodeToString(sum[:]) || !strings.HasPrefix(string(m.Raw), "Received: from client.example") ||
			!strings.Contains(string(m.Raw), "Your address 203.0.113.50 has been attacking") {
			t.Fatalf("stored raw or hash wrong: %s…", string(m.Raw[:min(200, len(m.Raw))]))
		}
		if m.State != store.InboundReport || m.Parser != "plaintext" || m.Machine {
			t.Fatalf("ssh-en: state %s parser %s machine %v detail %v", m.State, m.Parser, m.Machine, m.Detail)
		}
		if n := e.count(t, `SELECT count(*) FROM reports WHERE channel = 'mail' AND reporter_email = 'ops@victim.example' AND type = 'network'`); n != 1 {
			t.Fatalf("reports from the mail: %d", n)
		}
		if _, err := e.n.Run(ctx); err != nil {
			t.Fatal(err)
		}
		if acks := sent(t, st, "reporter_ack"); len(acks) != 1 || acks[0].Recipient != "ops@victim.example" {
			t.Fatalf("acknowledgements: %+v", acks)
		}

		// Processing the same mail again makes no second report.
		if err := st.RequeueInbound(ctx, m.ID); err != nil {
			t.Fatal(err)
		}
		e.drain(t)
		if n := e.count(t, `SELECT count(*) FROM reports WHERE channel = 'mail'`); n != 1 {
			t.Fatalf("requeued mail made %d reports", n)
		}

		// A feedback loop's ARF report: a report, and no answer to a robot.
		if err := e.send(t, "fbl@mailbox-provider.example", []string{"abuse@desk.example"}, sample(t, "arf.eml")); err != nil {
			t.Fatal(err)
		}
		e.drain(t)
		m = e.last(t)
		if m.State != store.InboundReport || m.Parser != "arf" || !m.Machine {
			t.Fatalf("arf: state %s parser %s machine %v detail %v", m.State, m.Parser, m.Machine, m.Detail)
		}
		if n := e.count(t, `SELECT count(*) FROM reports WHERE channel = 'mail' AND type = 'email' AND reporter_email = 'fbl@mailbox-provider.example'`); n != 1 {
			t.Fatalf("ARF reports: %d", n)
		}

		// A French complaint whose log times have no zone: nothing stored as
		// a report, and the person is told, in French, what is missing.
		if err := e.send(t, "jean@exemple-victime.fr", []string{"abuse@desk.example"}, sample(t, "ssh-fr-nozone.eml")); err != nil {
			t.Fatal(err)
		}
		e.drain(t)
		m = e.last(t)
		if m.State != store.InboundIncomplete || m.Detail["answered"] != "jean@exemple-victime.fr" {
			t.Fatalf("fr no zone: state %s detail %v", m.State, m.Detail)
		}
		// Software that says nothing useful: review, never answered.
		if err := e.send(t, "monitor@robots.example", []string{"abuse@desk.example"}, sample(t, "robot-noise.eml")); err != nil {
			t.Fatal(err)
		}
		e.drain(t)
		m = e.last(t)
		if m.State != store.InboundReview || !m.Machine {
			t.Fatalf("robot: state %s machine %v", m.State, m.Machine)
		}
		if _, err := e.n.Run(ctx); err != nil {
			t.Fatal(err)
		}
		missing := sent(t, st, "reporter_missing")
		if len(missing) != 1 || missing[0].Recipient != "jean@exemple-victime.fr" || missing[0].Language != "fr" {
			t.Fatalf("what-is-missing mails: %+v", missing)
		}
		body := decodeQP(string(missing[0].Raw))
		if !strings.Contains(body, "fuseau horaire") || !strings.Contains(body, "timestamp") {
			t.Errorf("the French answer does not name the missing zone:\n%s", body)
		}
		if n := e.count(t, `SELECT count(*) FROM outbox WHERE recipient = 'monitor@robots.example' OR recipient = 'fbl@mailbox-provider.example'`); n != 0 {
			t.Errorf("a machine sender was answered (%d mails)", n)
		}
	})
}

func TestSMTPRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := setup(t, st)
		raw := sample(t, "ssh-en.eml")
		for _, rcpt := range []string{"nobody@desk.example", "abuse@other.example", "abuse@desk.example.evil"} {
			err := e.send(t, "ops@victim.example", []string{rcpt}, raw)
			if se, ok := err.(*smtp.SMTPError); !ok || se.Code != 550 {
				t.Errorf("RCPT %s: %v, want 550", rcpt, err)
			}
		}
		big := append(append([]byte(nil), raw...), []byte(strings.Repeat("x", 300<<10))...)
		if err := e.send(t, "ops@victim.example", []string{"abuse@desk.example"}, big); err == nil {
			t.Error("an oversized mail was accepted")
		}
		// A connection cut in the middle of DATA: nothing stored.
		c, err := net.Dial("tcp", e.addr)
		if err != nil {
			t.Fatal(err)
		}
		r := bufio.NewReader(c)
		expect := func(code string) {
			t.Helper()
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(line, code) {
					t.Fatalf("got %q, want %s", line, code)
				}
				if len(line) > 3 && line[3] == ' ' {
					return
				}
			}
		}
		expect("220")
		for _, step := range []struct{ cmd, code string }{{"EHLO client.example", "250"}, {"MAIL FROM:<ops@victim.example>", "250"},
			{"RCPT TO:<abuse@desk.example>", "250"}, {"DATA", "354"}} {
			fmt.Fprintf(c, "%s\r\n", step.cmd)
			expect(step.code)
		}
		fmt.Fprintf(c, "Subject: half\r\n\r\nthe first half of a mail")
		c.Close()
		time.Sleep(100 * time.Millisecond)
		e.drain(t)
		if n := e.count(t, `SELECT count(*) FROM inbound_mails`); n != 0 {
			t.Fatalf("%d mails stored from refused or cut sessions", n)
		}
	})
}

// decodeQP returns a composed mail's body, its quoted-printable undone.
func decodeQP(s string) string {
	_, body, _ := strings.Cut(s, "\r\n\r\n")
	b, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(body)))
	if err != nil {
		return "undecodable: " + err.Error()
	}
	return string(b)
}

// A mail whose processing failed MaxAttempts times goes to review with the
// last error, instead of being tried for ever.
func TestFailingMailGoesToReview(t *testing.T) {
	st := storetest.OpenSQLite(t)
	e := setup(t, st)
	ctx := context.Background()
	m := &store.InboundMail{RemoteAddr: "127.0.0.1:1", Helo: "x", MailFrom: "a@b.example", RcptTo: []string{"abuse@desk.example"}, Raw: sample(t, "ssh-en.eml")}
	if err := st.InsertInbound(ctx, m); err != nil {
		t.Fatal(err)
	}
	for range mailbox.MaxAttempts {
		if err := st.InboundAttemptFailed(ctx, m.ID, "database refused the row"); err != nil {
			t.Fatal(err)
		}
	}
	e.drain(t)
	got, err := st.InboundByID(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != store.InboundReview || got.Parser != "failed" || !strings.Contains(got.Detail["reason"].(string), "database refused the row") {
		t.Fatalf("state %s parser %s detail %v", got.State, got.Parser, got.Detail)
	}
}

// A request from an authority mailed to abuse@ lands in the legal queue,
// and the authority gets the legal team's acknowledgement.
func TestLegalRequestByMail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := setup(t, st)
		raw := "From: \"Lt. Marie Curie\" <m.curie@police.gouv.example>\r\nTo: abuse@desk.example\r\nSubject: Réquisition judiciaire 2026/123\r\n" +
			"Content-Type: text/plain; charset=utf-8\r\n\r\nPar réquisition judiciaire, communiquez-nous l'identité de l'abonné ayant utilisé l'adresse 203.0.113.7 le 20/11/2026.\r\n"
		if err := e.send(t, "m.curie@police.gouv.example", []string{"abuse@desk.example"}, []byte(raw)); err != nil {
			t.Fatal(err)
		}
		e.drain(t)
		m := e.last(t)
		if m.State != store.InboundReport || m.Parser != "legal" || m.Detail["legal_request"] == nil {
			t.Fatalf("legal request: %s %s %v", m.State, m.Parser, m.Detail)
		}
		if n := e.count(t, `SELECT count(*) FROM reports`); n != 0 {
			t.Fatalf("a legal request made %d abuse reports", n)
		}
		if _, err := e.n.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		if acks := sent(t, st, "legal_ack"); len(acks) != 1 || acks[0].Recipient != "m.curie@police.gouv.example" || acks[0].Language != "fr" {
			t.Fatalf("legal acknowledgement: %+v", acks)
		}
	})
}
