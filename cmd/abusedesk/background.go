package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"abusedesk/internal/cases"
	"abusedesk/internal/jobs"
	"abusedesk/internal/notify"
	"abusedesk/internal/outbox"
	"abusedesk/internal/store"
)

// background is the server's work besides requests: grouping stored
// reports into cases, turning mail events into mails, and the jobs
// (escalation of cases past their deadline, reminders, mail delivery,
// expired sessions).
type background struct {
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	runner    *jobs.Runner
	deliverer *outbox.Deliverer // nil without a relay
	relay     *outbox.Relay
	notifier  *notify.Notifier
}

// notifyEvery is how often mail events and due messages are turned into
// mails.
const notifyEvery = time.Second

// groupEvery is how often the grouper looks at its queue: a report shows
// in its case within about this long.
const groupEvery = 300 * time.Millisecond

func startBackground(ctx context.Context, st *store.Store, p cases.Policy, now func() time.Time, log *slog.Logger, mail mailSetup) (*background, error) {
	ctx, cancel := context.WithCancel(ctx)
	b := &background{cancel: cancel, relay: mail.relay}
	b.every(ctx, groupEvery, func(ctx context.Context) error {
		n, err := st.GroupPending(ctx, p, now)
		if n > 0 {
			log.Debug("grouped reports into cases", "reports", n)
		}
		return err
	}, log, "grouping reports into cases")
	if err := b.startJobs(ctx, st, p, now, log, mail); err != nil {
		cancel()
		b.wg.Wait()
		return nil, err
	}
	if b.deliverer == nil {
		log.Warn("no SMTP relay (--smtp-relay): mails are composed and kept in the outbox, not delivered")
	}
	b.every(ctx, notifyEvery, func(ctx context.Context) error {
		k, err := b.notifier.Run(ctx)
		if k > 0 {
			log.Debug("mails queued", "mails", k)
		}
		return err
	}, log, "composing mails")
	return b, nil
}

// every runs fn every d until ctx ends, logging its failures.
func (b *background) every(ctx context.Context, d time.Duration, fn func(context.Context) error, log *slog.Logger, what string) {
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			if err := fn(ctx); err != nil && ctx.Err() == nil {
				log.Error(what, "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

func (b *background) stop() {
	if b.runner != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		b.runner.Stop(ctx)
		cancel()
	}
	b.cancel()
	b.wg.Wait()
	if b.relay != nil {
		b.relay.Close()
	}
}

// startJobs runs the periodic jobs on River (internal/jobs): durable, and
// on PostgreSQL run by one instance at a time.
func (b *background) startJobs(ctx context.Context, st *store.Store, p cases.Policy, now func() time.Time, log *slog.Logger, mail mailSetup) error {
	if err := jobs.Migrate(ctx, st); err != nil {
		return err
	}
	// 32 workers: a delivery job mostly waits on the relay, and River
	// fetches at most (workers ÷ its fetch cooldown) jobs a second, so
	// the workers bound the outbox's pace (about 600 mails/s at 32, 80 at 4:
	// BenchmarkOutboxThroughput).
	r, err := jobs.New(st, jobs.Config{Logger: log, Workers: 32})
	if err != nil {
		return err
	}
	r.Handle("escalate_due", func(ctx context.Context, _ json.RawMessage) error {
		n, err := st.EscalateDue(ctx, p, now())
		if n > 0 {
			log.Info("escalated cases past their deadline", "cases", n)
		}
		return err
	})
	r.Periodic("escalate_due", envDuration("ABUSEDESK_ESCALATION_EVERY", time.Minute))
	// An attack that stopped an hour ago no longer outranks the rest.
	r.Handle("refresh_priorities", func(ctx context.Context, _ json.RawMessage) error {
		_, err := st.RefreshPriorities(ctx, p, now())
		return err
	})
	r.Periodic("refresh_priorities", 5*time.Minute)
	r.Handle("expire_sessions", func(ctx context.Context, _ json.RawMessage) error {
		if _, err := st.DeleteExpiredSessions(ctx, now()); err != nil {
			return err
		}
		_, err := st.DeleteExpiredPortal(ctx, now())
		return err
	})
	r.Periodic("expire_sessions", time.Hour)
	var queue notify.Queue // nil without a relay: mails wait in the outbox
	if mail.relay != nil {
		b.deliverer = &outbox.Deliverer{Store: st, Relay: mail.relay, Jobs: r, MaxAttempts: mail.maxAttempts, Backoff: mail.backoff, Log: log}
		b.deliverer.Register()
		queue = b.deliverer
	}
	b.notifier = notify.New(st, queue, mail.notify, log)
	b.notifier.Now = now
	r.Handle("customer_reminders", func(ctx context.Context, _ json.RawMessage) error {
		_, err := b.notifier.Remind(ctx)
		return err
	})
	r.Periodic("customer_reminders", 5*time.Minute)
	if err := r.Start(ctx); err != nil {
		return err
	}
	b.runner = r
	if b.deliverer != nil {
		// Mails queued while no relay was set, or whose job was lost.
		if n, err := b.deliverer.Kick(ctx); err != nil {
			log.Error("queueing waiting mails", "err", err)
		} else if n > 0 {
			log.Info("mails waiting in the outbox queued for delivery", "mails", n)
		}
	}
	return nil
}
