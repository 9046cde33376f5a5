package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"

	"abusedesk/internal/cases"
	"abusedesk/internal/intake"
	"abusedesk/internal/intake/mailparse"
	"abusedesk/internal/intake/mailpart"
	"abusedesk/internal/mailbox"
	"abusedesk/internal/report"
	"abusedesk/internal/smtpd"
)

// cmdBenchMailbox measures the abuse@ mailbox: mails through SMTP into the
// database (each one committed before its 250), then processed into
// reports, and the parsers alone. Each figure has its baseline from the same
// process: the SMTP listener with a Deliver that stores nothing, and the
// MIME reader alone.
func cmdBenchMailbox(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench mailbox", flag.ExitOnError)
	n := fs.Int("mails", 5000, "mails to send")
	clients := fs.Int("clients", 8, "concurrent SMTP clients")
	db := fs.String("db", "", "empty: a fresh SQLite file; postgres://…: a scratch database is created next to this one")
	fs.Parse(args)
	dir, err := os.MkdirTemp("", "abusedesk-bench-mailbox-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	st, done, err := benchDB(ctx, dir, *db, "mailbox")
	if err != nil {
		return err
	}
	defer done()
	mails := benchMails(*n)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	fmt.Printf("bench mailbox: %d mails (in sevenths: two of plain-text complaints, ARF, X-ARF, DMCA notices, CSV scan feeds of 20 rows, unreadable), %d SMTP clients, %s\n", *n, *clients, st.Dialect)

	in := intake.New(st, &report.Validator{}, intake.BulkLimits{})
	defer in.Close()
	box := mailbox.New(mailbox.Config{Store: st, Intake: in, Policy: cases.DefaultPolicy(), Domain: "desk.example", DeskAddress: "abuse@desk.example", Log: quiet})

	// 1. SMTP: a Deliver that keeps nothing, then the mailbox's.
	discard := func(context.Context, smtpd.Envelope, []byte) error { return nil }
	base, err := benchSMTP(mails, *clients, box.Accept, discard, quiet)
	if err != nil {
		return err
	}
	stored, err := benchSMTP(mails, *clients, box.Accept, box.Deliver, quiet)
	if err != nil {
		return err
	}
	fmt.Printf("  SMTP, nothing stored (baseline)     %8.0f mails/s\n", base)
	fmt.Printf("  SMTP into the database (250 after commit) %6.0f mails/s   ratio %.2f\n", stored, stored/base)

	// 2. Processing what was stored: parse, validate, store the reports.
	t0 := time.Now()
	k, err := box.Drain(ctx)
	if err != nil {
		return err
	}
	el := time.Since(t0)
	counts, err := st.InboundStateCounts(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("  processed into reports               %8.0f mails/s   (%d mails: %v)\n", float64(k)/el.Seconds(), k, counts)

	// 3. Parsing alone, on one core: the MIME reader, then the whole choice
	// of parser with validation.
	rounds := max(1, 20000/len(mails))
	t0 = time.Now()
	for range rounds {
		for _, m := range mails {
			mailpart.Parse(m)
		}
	}
	mime := float64(rounds*len(mails)) / time.Since(t0).Seconds()
	t0 = time.Now()
	for range rounds {
		for _, m := range mails {
			mailparse.Parse(m, mailparse.Options{})
		}
	}
	parse := float64(rounds*len(mails)) / time.Since(t0).Seconds()
	fmt.Printf("  MIME reading only (baseline)         %8.0f mails/s\n", mime)
	fmt.Printf("  parse only (format, reports, validation) %4.0f mails/s   ratio %.2f\n", parse, parse/mime)
	return nil
}

// benchSMTP sends every mail over loopback from clients connections, each
// reusing its connection (RSET-free: one transaction after another), and
// returns mails per second.
func benchSMTP(mails [][]byte, clients int, accept func(string) bool, deliver func(context.Context, smtpd.Envelope, []byte) error, log *slog.Logger) (float64, error) {
	srv := smtpd.New(smtpd.Config{Hostname: "mx.desk.example", MaxMessageBytes: 25 << 20, MaxRecipients: 10, Accept: accept, Deliver: deliver, Logger: log})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	go srv.Serve(ln)
	defer func() {
		ctx, c := context.WithTimeout(context.Background(), 5*time.Second)
		defer c()
		srv.Shutdown(ctx)
	}()
	work := make(chan []byte)
	errc := make(chan error, clients)
	var wg sync.WaitGroup
	t0 := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := smtp.Dial(ln.Addr().String())
			if err != nil {
				errc <- err
				return
			}
			defer c.Close()
			for m := range work {
				if err := c.SendMail("ops@victim.example", []string{"abuse@desk.example"}, bytes.NewReader(m)); err != nil {
					errc <- err
					for range work {
					}
					return
				}
			}
			c.Quit()
		}()
	}
	for _, m := range mails {
		work <- m
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errc:
		return 0, err
	default:
	}
	return float64(len(mails)) / time.Since(t0).Seconds(), nil
}

// benchMails makes n mails of the kinds the mailbox meets, each unique.
func benchMails(n int) [][]byte {
	out := make([][]byte, n)
	now := time.Now().UTC().Add(-time.Hour)
	for i := range out {
		ip := fmt.Sprintf("203.0.%d.%d", 113+i%3, 1+i%250)
		at := now.Add(-time.Duration(i) * time.Second)
		date := at.Format(time.RFC1123Z)
		id := fmt.Sprintf("<bench-%d@sender.example>", i)
		var m string
		switch i % 7 {
		case 0, 1: // a person's complaint
			m = fmt.Sprintf("From: Ops %d <ops%d@victim.example>\r\nTo: abuse@desk.example\r\nSubject: SSH brute force from %s\r\nDate: %s\r\nMessage-ID: %s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"+
				"Hello,\r\n\r\nYour address %s keeps attacking our server 198.51.100.1 over SSH. Times are UTC.\r\n\r\n"+
				"%s sshd[1234]: Failed password for root from %s port 52144 ssh2\r\n%s sshd[1234]: Failed password for root from %s port 52150 ssh2\r\n\r\nRegards\r\n",
				i, i, ip, date, id, ip, at.Format(time.RFC3339), ip, at.Add(3*time.Second).Format(time.RFC3339), ip)
		case 2: // a feedback loop's ARF report
			m = fmt.Sprintf("From: <fbl@mailbox-provider.example>\r\nTo: abuse@desk.example\r\nSubject: FW: offer\r\nDate: %s\r\nMessage-ID: %s\r\nMIME-Version: 1.0\r\n"+
				"Content-Type: multipart/report; report-type=feedback-report; boundary=\"b%d\"\r\n\r\n--b%d\r\nContent-Type: text/plain\r\n\r\nAn abuse report.\r\n"+
				"--b%d\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nUser-Agent: Bench/1.0\r\nVersion: 1\r\nSource-IP: %s\r\nArrival-Date: %s\r\n\r\n"+
				"--b%d\r\nContent-Type: message/rfc822\r\n\r\nReceived: from mail.customer.example ([%s]) by mx.mailbox-provider.example; %s\r\nFrom: spam@customer.example\r\nSubject: offer\r\nDate: %s\r\n\r\nBuy now\r\n--b%d--\r\n",
				date, id, i, i, i, ip, date, i, ip, date, date, i)
		case 3: // an X-ARF 0.2 login-attack report
			m = fmt.Sprintf("From: <reports@xarf-sender.example>\r\nTo: abuse@desk.example\r\nSubject: abuse report about %s\r\nDate: %s\r\nMessage-ID: %s\r\nX-XARF: PLAIN\r\nMIME-Version: 1.0\r\n"+
				"Content-Type: multipart/mixed; boundary=\"x%d\"\r\n\r\n--x%d\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nLogin attack from %s.\r\n"+
				"--x%d\r\nContent-Type: text/plain; charset=utf-8; name=\"report.txt\"\r\n\r\n---\r\nReported-From: reports@xarf-sender.example\r\nCategory: abuse\r\nReport-Type: login-attack\r\n"+
				"Report-ID: %d@xarf-sender.example\r\nDate: %s\r\nSource: %s\r\nSource-Type: ipv4\r\nPort: 22\r\nService: ssh\r\nDestination: 198.51.100.1\r\nDestination-Type: ipv4\r\nAttachment: text/plain\r\nSchema-URL: http://www.x-arf.org/schema/abuse_login-attack_0.1.2.json\r\nUser-Agent: bench\r\nVersion: 0.2\r\n"+
				"--x%d\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s sshd: Failed password for root from %s\r\n--x%d--\r\n",
				ip, date, id, i, i, ip, i, i, date, ip, i, at.Format(time.RFC3339), ip, i)
		case 5: // a free-text DMCA notice with its six elements
			m = fmt.Sprintf("From: Rights Agent <notices@rights.example>\r\nTo: abuse@desk.example\r\nSubject: DMCA notice of copyright infringement %d\r\nDate: %s\r\nMessage-ID: %s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"+
				"Dear Sir or Madam,\r\n\r\nThis is a notice under 17 U.S.C. § 512(c). The following copyrighted work is infringed:\r\nTitle: The Great Film %d\r\n\r\n"+
				"Infringing material: https://files.customer.example/dl/film-%d.mkv\r\n\r\n"+
				"I have a good faith belief that use of the material in the manner complained of is not authorized by the copyright owner, its agent, or the law.\r\n"+
				"The information in this notification is accurate, and under penalty of perjury, I am authorized to act on behalf of the owner of an exclusive right that is allegedly infringed.\r\n\r\n"+
				"Contact:\r\nName: Rita Agent\r\nAddress: 1 Main Street, Springfield, USA\r\nPhone: +1 555 0100\r\nEmail: notices@rights.example\r\n\r\n/s/ Rita Agent\r\n",
				i, date, id, i, i)
		case 6: // a scan feed with a CSV attachment, times stated UTC
			var rows strings.Builder
			rows.WriteString("timestamp,ip,port,protocol,tag\r\n")
			for r := range 20 {
				fmt.Fprintf(&rows, "%s,%s,%d,tcp,scan\r\n", at.Add(-time.Duration(r)*time.Minute).Format("2006-01-02 15:04:05"), ip, 1000+r)
			}
			m = fmt.Sprintf("From: <feeds@scanwatch.example>\r\nTo: abuse@desk.example\r\nSubject: Scan report %d\r\nDate: %s\r\nMessage-ID: %s\r\nMIME-Version: 1.0\r\n"+
				"Content-Type: multipart/mixed; boundary=\"c%d\"\r\n\r\n--c%d\r\nContent-Type: text/plain\r\n\r\nScans seen from your network. All times are UTC.\r\n"+
				"--c%d\r\nContent-Type: text/csv; name=\"scan.csv\"\r\nContent-Disposition: attachment; filename=\"scan.csv\"\r\n\r\n%s--c%d--\r\n",
				i, date, id, i, i, i, rows.String(), i)
		case 4: // a reply to nothing the desk knows: review
			m = fmt.Sprintf("From: someone%d@elsewhere.example\r\nTo: abuse@desk.example\r\nSubject: hello\r\nDate: %s\r\nMessage-ID: %s\r\nContent-Type: text/plain\r\n\r\nHi, how do I reset my password?\r\n", i, date, id)
		}
		out[i] = []byte(m)
	}
	return out
}
