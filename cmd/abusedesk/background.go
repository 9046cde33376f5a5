package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"abusedesk/internal/cases"
	"abusedesk/internal/jobs"
	"abusedesk/internal/store"
)

// background is the server's work besides requests: grouping stored
// reports into cases, and the periodic jobs (escalation of cases past
// their deadline, expired sessions).
type background struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	runner *jobs.Runner
}

// groupEvery is how often the grouper looks at its queue: a report shows
// in its case within about this long.
const groupEvery = 300 * time.Millisecond

func startBackground(ctx context.Context, st *store.Store, p cases.Policy, now func() time.Time, log *slog.Logger) (*background, error) {
	ctx, cancel := context.WithCancel(ctx)
	b := &background{cancel: cancel}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		t := time.NewTicker(groupEvery)
		defer t.Stop()
		for {
			if n, err := st.GroupPending(ctx, p, now); err != nil && ctx.Err() == nil {
				log.Error("grouping reports into cases", "err", err)
			} else if n > 0 {
				log.Debug("grouped reports into cases", "reports", n)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	if err := b.startJobs(ctx, st, p, now, log); err != nil {
		cancel()
		b.wg.Wait()
		return nil, err
	}
	return b, nil
}

func (b *background) stop() {
	if b.runner != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		b.runner.Stop(ctx)
		cancel()
	}
	b.cancel()
	b.wg.Wait()
}

// startJobs runs the periodic jobs on River (internal/jobs): durable, and
// on PostgreSQL run by one instance at a time.
func (b *background) startJobs(ctx context.Context, st *store.Store, p cases.Policy, now func() time.Time, log *slog.Logger) error {
	if err := jobs.Migrate(ctx, st); err != nil {
		return err
	}
	r, err := jobs.New(st, jobs.Config{Logger: log})
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
		_, err := st.DeleteExpiredSessions(ctx, now())
		return err
	})
	r.Periodic("expire_sessions", time.Hour)
	if err := r.Start(ctx); err != nil {
		return err
	}
	b.runner = r
	return nil
}
