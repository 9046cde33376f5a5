package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"abusedesk/internal/cases"
	"abusedesk/internal/mailsink"
	"abusedesk/internal/outbox"
	"abusedesk/internal/report"
	"abusedesk/internal/store"
)

// cmdBenchMail measures the mail pipeline as serve runs it: N stored
// reports, each with its acknowledgement to write, are turned into mails
// (the notifier), queued in the outbox and delivered by the River jobs to
// an SMTP server on loopback; beside it, in the same process, the same
// bytes sent by a bare SMTP client in a loop, the ceiling.
func cmdBenchMail(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench mail", flag.ExitOnError)
	n := fs.Int("mails", 5000, "reports to acknowledge, one mail each")
	db := fs.String("db", "", "empty: a fresh SQLite file; postgres://…: a scratch database is created next to this one")
	fs.Parse(args)
	dir, err := os.MkdirTemp("", "abusedesk-bench-mail-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	st, done, err := benchDB(ctx, dir, *db, "mail")
	if err != nil {
		return err
	}
	defer done()
	now := time.Now().UTC()
	for i := range *n {
		r := &report.Report{Type: "network", Subtype: "intrusion", Reporter: report.Reporter{Name: "Ops", Email: fmt.Sprintf("ops%d@reporter.example", i)},
			Description: "ssh brute force", Incidents: []report.Incident{{SourceIP: "192.0.2.7", Target: "198.51.100.1",
				Timestamp: now.Add(-time.Minute).Format(time.RFC3339), Log: "sshd: Failed password"}}}
		if es := (&report.Validator{}).Validate(r); len(es) > 0 {
			return es
		}
		if _, err := st.InsertReport(ctx, &store.NewReport{Report: r, Channel: "form", Raw: []byte("{}"), ContentType: "application/json", ReceivedAt: now}); err != nil {
			return err
		}
	}
	sink, err := mailsink.Start("127.0.0.1:0", *n+10)
	if err != nil {
		return err
	}
	defer sink.Close()
	var f mailFlags
	f.register(flag.NewFlagSet("", flag.ContinueOnError))
	mail, err := f.setup("http://127.0.0.1:8080", "", sink)
	if err != nil {
		return err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	fmt.Printf("bench mail: %d reports to acknowledge on %s; relay: an SMTP server on %s\n", *n, st.Dialect, sink.Addr())
	t0 := time.Now()
	bg, err := startBackground(ctx, st, cases.DefaultPolicy(), time.Now, quiet, mail)
	if err != nil {
		return err
	}
	var composed time.Duration
	for {
		if composed == 0 {
			if left, err := st.PendingMailEvents(ctx); err != nil {
				return err
			} else if left == 0 {
				composed = time.Since(t0)
			}
		}
		if sink.Count() >= *n {
			break
		}
		if time.Since(t0) > 10*time.Minute {
			return fmt.Errorf("after 10 minutes the relay has %d of %d mails", sink.Count(), *n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	delivered := time.Since(t0)
	bg.stop()
	counts, err := st.OutboxCounts(ctx)
	if err != nil {
		return err
	}
	if counts[store.OutboxSent] != *n || sink.Count() != *n {
		return fmt.Errorf("outbox %v, relay received %d: want %d sent once each", counts, sink.Count(), *n)
	}
	// The ceiling: the same messages, sent in a loop on one connection.
	msgs := sink.Messages()
	relay := &outbox.Relay{Addr: sink.Addr()}
	defer relay.Close()
	t1 := time.Now()
	for _, m := range msgs {
		if _, _, err := relay.Send(ctx, m.From, m.To, m.Raw); err != nil {
			return err
		}
	}
	raw := time.Since(t1)
	rate := func(d time.Duration) float64 { return float64(*n) / d.Seconds() }
	fmt.Printf("  composed and queued (events → outbox)   %8.0f mails/s  (%s)\n", rate(composed), composed.Round(time.Millisecond))
	fmt.Printf("  delivered end to end (→ SMTP server)     %8.0f mails/s  (%s)\n", rate(delivered), delivered.Round(time.Millisecond))
	fmt.Printf("  bare SMTP client, same bytes, 1 conn     %8.0f mails/s  (%s)\n", rate(raw), raw.Round(time.Millisecond))
	fmt.Printf("  ratio end to end / bare client           %8.3f\n", raw.Seconds()/delivered.Seconds())
	return nil
}
