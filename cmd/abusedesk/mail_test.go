package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"abusedesk/internal/mailsink"
	"abusedesk/internal/store"
)

// TestMailFlow runs the real binary against a real SMTP server on
// 127.0.0.1 as its relay: notifying a case mails the customer's security
// contact in French, with a portal link and without the reporter's
// address, even though the relay first answers 451 (delivered once, after
// a retry); a question reaches the reporter with a status link; after a
// restart nothing is sent twice.
func TestMailFlow(t *testing.T) {
	bin := binary(t)
	eachDB(t, "abusedesk_mail", func(t *testing.T, db string) {
		sink, err := mailsink.Start("127.0.0.1:0", 100)
		if err != nil {
			t.Fatal(err)
		}
		defer sink.Close()
		var refusals atomic.Int32
		sink.SetReject(func(from string, to []string) *smtp.SMTPError {
			if refusals.Add(1) == 1 {
				return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
			}
			return nil
		})
		pw := []string{"ABUSEDESK_PASSWORD=a long enough password"}
		if out, err := runBin(t, bin, pw, "user", "add", "--db", db, "ana@provider.example"); err != nil {
			t.Fatalf("user add: %v\n%s", err, out)
		}
		out, err := runBin(t, bin, nil, "token", "add", "--db", db, "ana@provider.example")
		if err != nil {
			t.Fatal(err)
		}
		token := strings.Fields(out)[0]
		seedProvider(t, bin, db)
		mx := freePort(t)
		flags := []string{"--smtp-relay", sink.Addr(), "--smtp-retry-first", "300ms", "--mail-domain", "desk.example", "--base-url", "https://desk.example",
			"--smtp-listen", mx}
		base, cmd := startServe(t, bin, db, flags...)
		resp, err := http.Post(base+"/api/v1/reports", "application/json", strings.NewReader(`{"type":"network","subtype":"intrusion",
			"reporter":{"name":"Olga Ops","email":"olga@reporter.example"},"incidents":[{"source_ip":"203.0.113.7","target":"198.51.100.20",
			"timestamp":"`+time.Now().Add(-time.Hour).Format(time.RFC3339)+`","log":"sshd: Failed password"}]}`))
		if err != nil || resp.StatusCode != 201 {
			t.Fatalf("report: %v %v", err, resp.Status)
		}
		resp.Body.Close()
		// The analyst notifies the customer.
		var id string
		for deadline := time.Now().Add(30 * time.Second); id == "" && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			var m map[string]any
			staffAPI(t, base, token, "GET", "/api/v1/cases?ip=203.0.113.7", "", &m)
			if list, _ := m["cases"].([]any); len(list) == 1 {
				id = list[0].(map[string]any)["id"].(string)
			}
		}
		if id == "" {
			t.Fatal("no case within 30 s")
		}
		if code := staffAPI(t, base, token, "POST", "/api/v1/cases/"+id+"/actions", `{"action":"notify"}`, nil); code != 200 {
			t.Fatalf("notify: %d", code)
		}
		notice := waitMail(t, sink, func(m mailsink.Message) bool { return has(m.To, "sec@example.fr") })
		if refusals.Load() < 2 {
			t.Errorf("the relay was asked %d times: the 451 was not retried", refusals.Load())
		}
		raw := string(notice.Raw)
		if !strings.Contains(raw, "Content-Language: fr") || !strings.Contains(raw, "/fr/portal/login/") || !strings.Contains(raw, id) {
			t.Errorf("notice: not French, or no portal link, or no case id:\n%s", raw)
		}
		if strings.Contains(raw, "olga") {
			t.Errorf("LEAK: the notice names the reporter, who did not consent:\n%s", raw)
		}
		// The analyst asks the reporter: the question and a status link
		// reach them (a program's API report has no acknowledgement mail).
		if code := staffAPI(t, base, token, "POST", "/api/v1/cases/"+id+"/actions", `{"action":"request_info","note":"Which port?"}`, nil); code != 200 {
			t.Fatalf("request_info: %d", code)
		}
		ask := waitMail(t, sink, func(m mailsink.Message) bool { return has(m.To, "olga@reporter.example") })
		if raw := string(ask.Raw); !strings.Contains(raw, "https://desk.example/status/R-") || strings.Contains(raw, "Example SARL") {
			t.Errorf("question without its status link, or naming the customer:\n%s", raw)
		}
		// The reporter answers by replying to the question: the reply comes
		// to the desk's mailbox over SMTP and joins the case.
		replyTo := ""
		if _, after, ok := strings.Cut(string(ask.Raw), "Reply-To: "); ok {
			replyTo = strings.Trim(strings.TrimSpace(strings.SplitN(after, "\n", 2)[0]), "<>")
		}
		if !strings.HasPrefix(replyTo, "abuse+") {
			t.Fatalf("question without a reply address: %q", replyTo)
		}
		reply := "From: Olga Ops <olga@reporter.example>\r\nTo: " + replyTo + "\r\nSubject: Re: question\r\nMessage-ID: <olga-1@reporter.example>\r\n\r\nPort 22, on both servers.\r\n\r\n> Which port?\r\n"
		mxSend(t, mx, "olga@reporter.example", replyTo, reply)
		var detail struct {
			Status   string `json:"status"`
			Messages []struct{ From, Kind, Text string }
		}
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			staffAPI(t, base, token, "GET", "/api/v1/cases/"+id, "", &detail)
			if detail.Status != "needs_info" || time.Now().After(deadline) {
				break
			}
		}
		last := detail.Messages[len(detail.Messages)-1]
		if detail.Status == "needs_info" || last.From != "reporter" || last.Text != "Port 22, on both servers." {
			t.Fatalf("the mailed answer did not join the case: status %s, last message %+v", detail.Status, last)
		}
		// A person's complaint by mail becomes a report and is acknowledged.
		complaint := "From: Pat <pat@victim.example>\r\nTo: abuse@desk.example\r\nSubject: ssh attacks\r\nMessage-ID: <pat-1@victim.example>\r\n\r\n" +
			"Your address 203.0.113.7 is attacking our server 198.51.100.20 (times are UTC):\r\n" + time.Now().Add(-time.Hour).UTC().Format(time.RFC3339) +
			" sshd[1]: Failed password for root from 203.0.113.7 port 4022 ssh2\r\n"
		mxSend(t, mx, "pat@victim.example", "abuse@desk.example", complaint)
		ack := waitMail(t, sink, func(m mailsink.Message) bool { return has(m.To, "pat@victim.example") })
		_, body, _ := strings.Cut(string(ack.Raw), "\r\n\r\n")
		if raw := strings.ReplaceAll(body, "=\r\n", ""); !strings.Contains(raw, "https://desk.example/status/R-") { // quoted-printable soft breaks
			t.Errorf("the mailed report's acknowledgement has no status link:\n%s", raw)
		}
		sent := sink.Count()
		// Restart: nothing is sent again.
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		startServe(t, bin, db, flags...)
		time.Sleep(3 * time.Second)
		if sink.Count() != sent {
			t.Errorf("after a restart the relay received %d mails, before %d: a mail was sent twice", sink.Count(), sent)
		}
		st, err := store.Open(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		counts, err := st.OutboxCounts(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if counts[store.OutboxSent] != sent || counts[store.OutboxQueued] != 0 || counts[store.OutboxFailed] != 0 {
			t.Errorf("outbox %v, sink received %d", counts, sent)
		}
	})
}

// mxSend mails the desk's mailbox over SMTP.
func mxSend(t *testing.T, addr, from, to, raw string) {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SendMail(from, []string{to}, strings.NewReader(raw)); err != nil {
		t.Fatalf("mailing %s: %v", to, err)
	}
}

func has(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// waitMail waits for the first mail the sink received that matches.
func waitMail(t *testing.T, s *mailsink.Sink, match func(mailsink.Message) bool) mailsink.Message {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		for _, m := range s.Messages() {
			if match(m) {
				return m
			}
		}
	}
	t.Fatalf("no such mail within 30 s; the relay received %d", s.Count())
	return mailsink.Message{}
}

func staffAPI(t *testing.T, base, token, method, path, body string, into any) int {
	t.Helper()
	req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if into != nil {
		json.NewDecoder(resp.Body).Decode(into)
	}
	return resp.StatusCode
}

// TestMailParse runs `abusedesk mail parse` on a mail: the JSON names the
// parser, holds the report as the API takes it, and lists what is missing.
func TestMailParse(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	at := time.Now().Add(-time.Hour).UTC()
	good := "From: Pat <pat@victim.example>\r\nSubject: ssh\r\n\r\nYour address 203.0.113.7 is attacking our server 198.51.100.20 (times are UTC):\r\n" +
		at.Format(time.RFC3339) + " sshd[1]: Failed password for root from 203.0.113.7 port 4022 ssh2\r\n"
	bad := "From: Pat <pat@victim.example>\r\nSubject: ssh\r\nDate: " + time.Now().UTC().Format(time.RFC1123Z) + "\r\n\r\nYour address 203.0.113.7 is attacking our server 198.51.100.20:\r\n" +
		at.Format(time.Stamp) + " sshd[1]: Failed password for root from 203.0.113.7 port 4022 ssh2\r\n"
	for name, body := range map[string]string{"good.eml": good, "bad.eml": bad} {
		if err := os.WriteFile(dir+"/"+name, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, err := runBin(t, bin, nil, "mail", "parse", dir+"/good.eml", dir+"/bad.eml")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	dec := json.NewDecoder(strings.NewReader(out))
	var res [2]struct {
		Parser  string           `json:"parser"`
		Reports []map[string]any `json:"reports"`
		Missing []struct{ Field, Code string }
	}
	for i := range res {
		if err := dec.Decode(&res[i]); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
	}
	if r := res[0]; r.Parser != "plaintext" || len(r.Reports) != 1 || len(r.Missing) != 0 || r.Reports[0]["type"] != "network" ||
		r.Reports[0]["reporter"].(map[string]any)["email"] != "pat@victim.example" {
		t.Errorf("good mail: %+v", r)
	}
	if r := res[1]; len(r.Reports) != 0 || len(r.Missing) == 0 || r.Missing[0].Code != "timezone_required" {
		t.Errorf("mail without zones: %+v", r)
	}
}
