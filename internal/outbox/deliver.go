package outbox

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/mail"
	"time"

	"abusedesk/internal/jobs"
	"abusedesk/internal/store"
)

// JobKind is the background job that delivers one outbox mail.
const JobKind = "outbox.deliver"

// Sender hands a mail to the next hop; *Relay is one.
type Sender interface {
	Send(ctx context.Context, from string, to []string, raw []byte) (int, string, error)
}

// Deliverer works the outbox jobs: one job, one attempt of one mail. It
// does its own retries, so the backoff is exponential with a cap and each
// attempt is visible in the mail's row and in outbox_attempts; River only
// retries a job whose bookkeeping failed.
type Deliverer struct {
	Store *store.Store
	Relay Sender
	Jobs  *jobs.Runner

	MaxAttempts int                             // attempts before a mail is failed (default 12)
	Backoff     func(attempt int) time.Duration // delay after the attempt-th failure (default: defaultBackoff)
	Now         func() time.Time                // default time.Now
	Log         *slog.Logger                    // default slog.Default()
}

const (
	// jobTimeout bounds one attempt: the relay's set-up, commands and the
	// reply to the data (Relay.Timeout's defaults: 1m each, 5m for the data).
	jobTimeout = 10 * time.Minute
	// lease is how long a worker holds a mail while it sends it: longer than
	// the job may take, so no other job sends the mail meanwhile, and the
	// delay before a mail whose worker died becomes due again.
	lease = jobTimeout + 5*time.Minute
	// shortWait: River's scheduler makes scheduled jobs available only every
	// 5s, so a due time closer than this is awaited in the worker instead
	// (only a short Backoff, as in tests, comes this close).
	shortWait = 5 * time.Second
	// jobRetries: River's own attempts of a job, for errors of the store
	// (the delivery's retries are ours).
	jobRetries = 5
)

// jobArgs are a job's arguments. Attempt, when set, is the number of
// attempts the mail had when the job was enqueued: a job whose attempt was
// made meanwhile by another job (Kick's, a duplicate) does nothing.
type jobArgs struct {
	ID      int64 `json:"id"`
	Attempt *int  `json:"attempt,omitempty"`
}

// defaultBackoff waits 1m, 2m, 4m… after each failed attempt, at most 6h,
// give or take 10% so mails deferred together do not come back together.
func defaultBackoff(attempt int) time.Duration {
	d := 6 * time.Hour
	if attempt >= 1 && attempt <= 10 { // 2^9 minutes is past the cap already
		d = min(d, time.Minute<<(attempt-1))
	}
	return time.Duration(float64(d) * (0.9 + 0.2*rand.Float64()))
}

func (d *Deliverer) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Deliverer) log() *slog.Logger {
	if d.Log != nil {
		return d.Log
	}
	return slog.Default()
}

func (d *Deliverer) maxAttempts() int {
	if d.MaxAttempts > 0 {
		return d.MaxAttempts
	}
	return 12
}

func (d *Deliverer) backoff(attempt int) time.Duration {
	if d.Backoff != nil {
		return d.Backoff(attempt)
	}
	return defaultBackoff(attempt)
}

// Register makes d.Jobs work the outbox's jobs; call it before Start.
func (d *Deliverer) Register() {
	d.Jobs.Handle(JobKind, d.work, jobs.Timeout(jobTimeout))
}

// EnqueueTx enqueues the delivery of mail id in tx, the transaction that
// inserted it: the job exists if and only if the mail does.
func (d *Deliverer) EnqueueTx(ctx context.Context, tx *sql.Tx, id int64) error {
	return d.Jobs.EnqueueTx(ctx, tx, JobKind, jobArgs{ID: id}, jobs.MaxAttempts(jobRetries))
}

// enqueueTx enqueues the job of the mail's next attempt, due at at. A job
// due within shortWait is made available at once, and waits in the worker.
func (d *Deliverer) enqueueTx(ctx context.Context, tx *sql.Tx, id int64, attempt int, at time.Time) error {
	opts := []jobs.EnqueueOption{jobs.MaxAttempts(jobRetries)}
	if at.Sub(d.now()) > shortWait {
		opts = append(opts, jobs.ScheduledAt(at))
	}
	return d.Jobs.EnqueueTx(ctx, tx, JobKind, jobArgs{ID: id, Attempt: &attempt}, opts...)
}

// Kick enqueues a job for every queued mail, due when the mail is; run at
// start-up, it recovers mails whose job was lost. A mail that still has its
// job gets a second one, which does nothing: a worker takes a mail for an
// attempt only if no other did (store.ClaimOutbox).
func (d *Deliverer) Kick(ctx context.Context) (int, error) {
	n := 0
	var before int64
	for {
		ms, err := d.Store.ListOutbox(ctx, store.OutboxFilter{State: store.OutboxQueued, Before: before, Limit: 500})
		if err != nil || len(ms) == 0 {
			return n, err
		}
		tx, err := d.Store.W.BeginTx(ctx, nil)
		if err != nil {
			return n, err
		}
		for _, m := range ms {
			if err := d.enqueueTx(ctx, tx, m.ID, m.Attempts, m.NextAttemptAt); err != nil {
				tx.Rollback()
				return n, err
			}
		}
		if err := tx.Commit(); err != nil {
			return n, err
		}
		n += len(ms)
		before = ms[len(ms)-1].ID
	}
}

// work is one job: one delivery attempt of a mail, if it is still due.
func (d *Deliverer) work(ctx context.Context, raw json.RawMessage) error {
	var a jobArgs
	if err := json.Unmarshal(raw, &a); err != nil || a.ID == 0 {
		return jobs.Permanent(fmt.Errorf("outbox job args %s: %v", raw, err))
	}
	for range 3 { // claims lost to another job: look again, a few times
		m, err := d.Store.OutboxByID(ctx, a.ID)
		if errors.Is(err, store.ErrNotFound) {
			return jobs.Permanent(fmt.Errorf("outbox mail %d: %w", a.ID, err))
		}
		if err != nil {
			return err
		}
		// Sent or failed already: a restart or a duplicate job never sends
		// a mail twice.
		if m.State != store.OutboxQueued {
			return nil
		}
		if a.Attempt == nil {
			a.Attempt = &m.Attempts
		} else if *a.Attempt != m.Attempts {
			return nil // another job made this attempt
		}
		now := d.now()
		if wait := m.NextAttemptAt.Sub(now); wait > 0 {
			if wait > shortWait {
				// Early (or the mail is being sent by another job): come
				// back when it is due.
				return d.later(ctx, m.ID, m.Attempts, m.NextAttemptAt)
			}
			select {
			case <-time.After(wait):
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		ok, err := d.Store.ClaimOutbox(ctx, m.ID, m.Attempts, now, now.Add(lease))
		if err != nil {
			return err
		}
		if ok {
			return d.deliver(ctx, m)
		}
	}
	return nil
}

// later enqueues the job again for at.
func (d *Deliverer) later(ctx context.Context, id int64, attempt int, at time.Time) error {
	tx, err := d.Store.W.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := d.enqueueTx(ctx, tx, id, attempt, at); err != nil {
		return err
	}
	return tx.Commit()
}

// envelope returns the bare address of a header address, for MAIL FROM
// and RCPT TO; text that does not parse goes as it is, for the relay to
// refuse.
func envelope(s string) string {
	if a, err := mail.ParseAddress(s); err == nil {
		return a.Address
	}
	return s
}

// deliver makes one attempt of the claimed mail m and records it.
func (d *Deliverer) deliver(ctx context.Context, m *store.OutboxMail) error {
	attempt := m.Attempts + 1
	code, detail, err := d.Relay.Send(ctx, envelope(m.From), []string{envelope(m.Recipient)}, m.Raw)
	at := d.now()
	log := d.log().With("outbox_id", m.ID, "kind", m.Kind, "attempt", attempt)

	// The attempt was made: record it even if the job's context ended
	// meanwhile (timeout, shutdown).
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()

	if err == nil {
		if code == 0 {
			code = 250
		}
		// If this write fails the job fails and River runs it again, which
		// sends the mail again once the lease ends: the only way a mail
		// goes twice. It keeps its Message-ID, by which receivers can tell.
		// A few tries first make that rarer.
		for try := 0; ; try++ {
			err = d.Store.MarkOutboxSent(ctx, m.ID, attempt, code, detail, at)
			if err == nil || try == 2 {
				break
			}
			time.Sleep(time.Duration(try+1) * 500 * time.Millisecond)
		}
		if err != nil {
			log.Error("mail sent but not recorded; it may be sent again", "error", err)
			return err
		}
		log.Info("mail sent", "reply", detail)
		return nil
	}

	var se *SendError
	permanent := errors.As(err, &se) && se.Permanent
	if se != nil {
		code = se.Code
	}
	msg := err.Error()
	switch {
	case permanent:
		log.Warn("mail refused by the relay", "error", msg)
		return d.Store.MarkOutboxFailed(ctx, m.ID, attempt, code, msg, at)
	case attempt-m.RoundStart >= d.maxAttempts():
		log.Warn("mail not delivered; giving up", "error", msg)
		return d.Store.MarkOutboxFailed(ctx, m.ID, attempt, code,
			fmt.Sprintf("gave up after %d attempts: %s", attempt-m.RoundStart, msg), at)
	}
	next := at.Add(d.backoff(attempt - m.RoundStart))
	log.Info("mail deferred", "error", msg, "next", next)
	// The deferral and the next attempt's job commit together. Before the
	// commit, a crash leaves the mail claimed: it is due again when the
	// lease ends, for this job once River rescues it, or for Kick's.
	tx, err := d.Store.W.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := d.Store.MarkOutboxDeferredTx(ctx, tx, m.ID, attempt, code, msg, next, at); err != nil {
		return err
	}
	if err := d.enqueueTx(ctx, tx, m.ID, attempt, next); err != nil {
		return err
	}
	return tx.Commit()
}
