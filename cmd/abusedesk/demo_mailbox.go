package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/emersion/go-smtp"

	"abusedesk/internal/demodata"
)

// seedDemoMail sends the demo's mailbox a few mails over SMTP, as outside
// senders would: a person's complaint (a report, acknowledged), a feedback
// loop's ARF report (a report, not answered), a French complaint whose log
// times have no zone (told what is missing, in French), and a mail nobody
// can read (the review queue). It returns what it sent, for the banner.
func seedDemoMail(ctx context.Context, addr, domain string, p *demodata.Provider) ([]string, error) {
	d, err := pickDemoProbes(p)
	if err != nil {
		return nil, err
	}
	a := d.assigned
	at := a.Time.UTC()
	rcpt := "abuse@" + domain
	date := time.Now().UTC().Format(time.RFC1123Z)
	mails := []struct{ what, from, raw string }{
		{"a person's complaint in English (becomes a report, acknowledged by mail)", "olivia@victim.example", fmt.Sprintf(
			"From: Olivia Ops <olivia@victim.example>\r\nTo: %s\r\nSubject: SSH brute force from %s\r\nDate: %s\r\nMessage-ID: <demo-1@victim.example>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"+
				"Hello,\r\n\r\nYour address %s has been attacking our server 198.51.100.7 with SSH logins. Times below are UTC.\r\n\r\n"+
				"%s sshd[4242]: Failed password for root from %s port 40022 ssh2\r\n%s sshd[4242]: Failed password for invalid user oracle from %s port 40031 ssh2\r\n\r\nOlivia\r\n",
			rcpt, a.Addr, date, a.Addr, at.Format(time.RFC3339), a.Addr, at.Add(4*time.Second).Format(time.RFC3339), a.Addr)},
		{"a feedback loop's ARF report (a report; robots get no answer)", "fbl@mailbox-provider.example", fmt.Sprintf(
			"From: <fbl@mailbox-provider.example>\r\nTo: %s\r\nSubject: FW: You won\r\nDate: %s\r\nMessage-ID: <demo-2@mailbox-provider.example>\r\nMIME-Version: 1.0\r\n"+
				"Content-Type: multipart/report; report-type=feedback-report; boundary=\"fb\"\r\n\r\n--fb\r\nContent-Type: text/plain\r\n\r\nThis is an abuse report for a message received from %s.\r\n"+
				"--fb\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nUser-Agent: DemoFBL/1.0\r\nVersion: 1\r\nSource-IP: %s\r\nArrival-Date: %s\r\n\r\n"+
				"--fb\r\nContent-Type: message/rfc822\r\n\r\nReceived: from vm.customer.example ([%s]) by mx.mailbox-provider.example; %s\r\nFrom: deals@customer.example\r\nSubject: You won\r\nDate: %s\r\n\r\nClaim your prize\r\n--fb--\r\n",
			rcpt, date, a.Addr, a.Addr, at.Format(time.RFC1123Z), a.Addr, at.Format(time.RFC1123Z), at.Format(time.RFC1123Z))},
		{"a French complaint whose log times have no zone (told in French what is missing)", "jean@exemple-victime.fr", fmt.Sprintf(
			"From: Jean Dupont <jean@exemple-victime.fr>\r\nTo: %s\r\nSubject: Tentatives de connexion SSH\r\nDate: %s\r\nMessage-ID: <demo-3@exemple-victime.fr>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"+
				"Bonjour,\r\n\r\nVotre adresse %s mène des tentatives de connexion par force brute sur notre serveur 198.51.100.9 :\r\n\r\n"+
				"%s srv sshd[99]: Failed password for root from %s port 50122 ssh2\r\n\r\nMerci.\r\n",
			rcpt, date, a.Addr, at.Format(time.Stamp), a.Addr)},
		{"a mail nobody can read (waits in the review queue with its raw text)", "someone@elsewhere.example", fmt.Sprintf(
			"From: someone@elsewhere.example\r\nTo: %s\r\nSubject: <b>help</b>\r\nDate: %s\r\nMessage-ID: <demo-4@elsewhere.example>\r\nContent-Type: text/plain\r\n\r\nHi, my website is down since yesterday <script>alert(1)</script>, can you help?\r\n",
			rcpt, date)},
	}
	var sent []string
	for _, m := range mails {
		if err := sendDemoMail(ctx, addr, m.from, rcpt, m.raw); err != nil {
			return sent, err
		}
		sent = append(sent, "    "+m.what)
	}
	return sent, nil
}

func sendDemoMail(ctx context.Context, addr, from, rcpt, raw string) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SendMail(from, []string{rcpt}, strings.NewReader(raw)); err != nil {
		return err
	}
	return c.Quit()
}
