package outbox_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"abusedesk/internal/jobs"
	"abusedesk/internal/mailsink"
	"abusedesk/internal/outbox"
	"abusedesk/internal/store"
	"abusedesk/internal/store/storetest"
)

// wait is how long a test waits for what should take well under a second:
// long enough for a slow shared CI machine.
const wait = 30 * time.Second

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// newDeliverer returns a Deliverer on a new Runner (50ms polls) sending to
// addr with a 100ms backoff; tune may change it before Register. The
// Runner is not started.
func newDeliverer(t testing.TB, st *store.Store, addr string, workers int, tune func(*outbox.Deliverer)) *outbox.Deliverer {
	t.Helper()
	ctx := context.Background()
	if err := jobs.Migrate(ctx, st); err != nil {
		t.Fatal(err)
	}
	r, err := jobs.New(st, jobs.Config{Workers: workers, PollInterval: 50 * time.Millisecond, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	relay := &outbox.Relay{Addr: addr, HeloName: "desk.example", Timeout: 10 * time.Second, MaxIdle: workers}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := r.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
		relay.Close()
	})
	d := &outbox.Deliverer{
		Store:   st,
		Relay:   relay,
		Jobs:    r,
		Backoff: func(int) time.Duration { return 100 * time.Millisecond },
		Log:     testLogger(t),
	}
	if tune != nil {
		tune(d)
	}
	d.Register()
	return d
}

func start(t testing.TB, d *outbox.Deliverer) {
	t.Helper()
	if err := d.Jobs.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func startSink(t testing.TB, addr string) *mailsink.Sink {
	t.Helper()
	s, err := mailsink.Start(addr, 10000)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// composeMail returns the n-th test mail, composed.
func composeMail(n int) *store.OutboxMail {
	token := outbox.NewReplyToken()
	m := outbox.Mail{
		From:      "Example Cloud abuse desk <abuse@desk.example>",
		To:        fmt.Sprintf("Reporter %d <reporter%d@example.org>", n, n),
		ReplyTo:   outbox.ReplyAddress("abuse", "desk.example", token),
		Subject:   fmt.Sprintf("[R-%d] Your abuse report was received", n),
		Body:      "Hello,\n\nWe received your report.\n\n-- \nExample Cloud abuse desk\n",
		MessageID: outbox.NewMessageID("desk.example"),
		Language:  "en",
		Headers:   [][2]string{{"X-Abusedesk-Report", fmt.Sprintf("R-%d", n)}},
	}
	return &store.OutboxMail{
		MessageID: m.MessageID, DedupeKey: fmt.Sprintf("reporter_ack:R-%d:%s", n, token), Kind: "reporter_ack",
		ReportID: int64(n), Party: "reporter", Recipient: m.To, From: m.From, Subject: m.Subject,
		Language: m.Language, ReplyToken: token, Raw: m.Bytes(),
	}
}

// queue inserts mails and their jobs, in transactions of up to 100.
func queue(t testing.TB, d *outbox.Deliverer, first, n int) []int64 {
	t.Helper()
	ctx := context.Background()
	var ids []int64
	for i := 0; i < n; {
		tx, err := d.Store.W.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		for end := min(n, i+100); i < end; i++ {
			id, err := d.Store.InsertOutboxTx(ctx, tx, composeMail(first+i))
			if err != nil {
				t.Fatal(err)
			}
			if err := d.EnqueueTx(ctx, tx, id); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

// waitFor polls cond until it holds, or fails the test after wait.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: still waiting for %s", wait, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func mailState(t testing.TB, st *store.Store, id int64) *store.OutboxMail {
	t.Helper()
	m, err := st.OutboxByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func waitState(t testing.TB, st *store.Store, id int64, state string) *store.OutboxMail {
	t.Helper()
	var m *store.OutboxMail
	waitFor(t, "mail "+state, func() bool {
		m = mailState(t, st, id)
		return m.State == state
	})
	return m
}

func attempts(t testing.TB, st *store.Store, id int64) string {
	t.Helper()
	as, err := st.OutboxAttempts(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range as {
		out = append(out, fmt.Sprintf("%d:%s:%d", a.Attempt, a.Result, a.Code))
	}
	return strings.Join(out, " ")
}

// completedJobs counts the outbox jobs River finished.
func completedJobs(t testing.TB, st *store.Store) int {
	t.Helper()
	var n int
	if err := st.R.QueryRow("SELECT count(*) FROM river_job WHERE kind = $1 AND state = 'completed'", outbox.JobKind).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// refuse makes the sink answer code to the first n mails (n < 0: all).
func refuse(sink *mailsink.Sink, code, n int) {
	var mu sync.Mutex
	calls := 0
	sink.SetReject(func(string, []string) *smtp.SMTPError {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if n >= 0 && calls > n {
			return nil
		}
		return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{code / 100, 0, 0}, Message: fmt.Sprintf("refused (%d)", calls)}
	})
}

func TestDeliverOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		sink := startSink(t, "127.0.0.1:0")
		d := newDeliverer(t, st, sink.Addr(), 2, nil)
		id := queue(t, d, 1, 1)[0]
		start(t, d)
		m := waitState(t, st, id, store.OutboxSent)
		if sink.Count() != 1 {
			t.Fatalf("sink got %d mails", sink.Count())
		}
		got := sink.Messages()[0]
		if !bytes.Equal(got.Raw, m.Raw) {
			t.Errorf("relayed bytes differ from the outbox's:\n%q\n%q", got.Raw, m.Raw)
		}
		if got.From != "abuse@desk.example" || len(got.To) != 1 || got.To[0] != "reporter1@example.org" {
			t.Errorf("envelope %s -> %v", got.From, got.To)
		}
		if m.SentAt.IsZero() || m.Attempts != 1 || m.LastError != "" || !m.NextAttemptAt.IsZero() {
			t.Errorf("row after delivery: %+v", m)
		}
		if a := attempts(t, st, id); a != "1:sent:250" {
			t.Errorf("attempts %s", a)
		}
	})
}

func TestDeliverRetriesTransient(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		sink := startSink(t, "127.0.0.1:0")
		refuse(sink, 451, 2)
		d := newDeliverer(t, st, sink.Addr(), 2, nil)
		id := queue(t, d, 1, 1)[0]
		start(t, d)
		m := waitState(t, st, id, store.OutboxSent)
		if sink.Count() != 1 || m.Attempts != 3 {
			t.Errorf("sink got %d mails, %d attempts", sink.Count(), m.Attempts)
		}
		if a := attempts(t, st, id); a != "1:deferred:451 2:deferred:451 3:sent:250" {
			t.Errorf("attempts %s", a)
		}
	})
}

func TestDeliverPermanentFailure(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		sink := startSink(t, "127.0.0.1:0")
		refuse(sink, 550, -1)
		d := newDeliverer(t, st, sink.Addr(), 2, nil)
		id := queue(t, d, 1, 1)[0]
		start(t, d)
		m := waitState(t, st, id, store.OutboxFailed)
		if m.Attempts != 1 || !strings.HasPrefix(m.LastError, "550 5.0.0 refused") || !m.SentAt.IsZero() {
			t.Errorf("row: %+v", m)
		}
		if a := attempts(t, st, id); a != "1:failed:550" {
			t.Errorf("attempts %s", a)
		}
		if sink.Count() != 0 {
			t.Errorf("sink kept %d mails", sink.Count())
		}
	})
}

func TestDeliverRelayDown(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close() // nothing listens there now
		d := newDeliverer(t, st, addr, 2, func(d *outbox.Deliverer) { d.MaxAttempts = 1000 })
		id := queue(t, d, 1, 1)[0]
		start(t, d)
		waitFor(t, "two deferrals", func() bool {
			m := mailState(t, st, id)
			if m.State != store.OutboxQueued {
				t.Fatalf("relay down: %+v", m)
			}
			return m.Attempts >= 2
		})
		if a := attempts(t, st, id); !strings.HasPrefix(a, "1:deferred:0 2:deferred:0") {
			t.Errorf("attempts %s", a)
		}
		if m := mailState(t, st, id); !strings.Contains(m.LastError, "connect") {
			t.Errorf("last error %q", m.LastError)
		}
		sink := startSink(t, addr)
		m := waitState(t, st, id, store.OutboxSent)
		if sink.Count() != 1 || !bytes.Equal(sink.Messages()[0].Raw, m.Raw) {
			t.Errorf("sink got %d mails", sink.Count())
		}
	})
}

func TestDeliverGivesUp(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		sink := startSink(t, "127.0.0.1:0")
		refuse(sink, 451, -1)
		d := newDeliverer(t, st, sink.Addr(), 2, func(d *outbox.Deliverer) { d.MaxAttempts = 2 })
		id := queue(t, d, 1, 1)[0]
		start(t, d)
		m := waitState(t, st, id, store.OutboxFailed)
		if m.Attempts != 2 || !strings.HasPrefix(m.LastError, "gave up after 2 attempts: 451 ") {
			t.Errorf("row: %+v", m)
		}
		if a := attempts(t, st, id); a != "1:deferred:451 2:failed:451" {
			t.Errorf("attempts %s", a)
		}
		// Queued again from the console: a fresh round of attempts, its
		// history kept.
		ctx := context.Background()
		tx, err := st.W.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.RequeueOutboxTx(ctx, tx, id, time.Now()); err != nil {
			t.Fatal(err)
		}
		if err := d.EnqueueTx(ctx, tx, id); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the second round to fail", func() bool {
			m, err := st.OutboxByID(ctx, id)
			return err == nil && m.State == store.OutboxFailed && m.Attempts == 4
		})
		if a := attempts(t, st, id); a != "1:deferred:451 2:failed:451 3:deferred:451 4:failed:451" {
			t.Errorf("attempts after a retry %s", a)
		}
	})
}

// A restart, or any second job for a mail already sent, sends nothing.
func TestDeliverNeverTwice(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		sink := startSink(t, "127.0.0.1:0")
		d := newDeliverer(t, st, sink.Addr(), 2, nil)
		id := queue(t, d, 1, 1)[0]
		start(t, d)
		waitState(t, st, id, store.OutboxSent)
		waitFor(t, "the job completed", func() bool { return completedJobs(t, st) == 1 })
		if err := d.Jobs.Stop(ctx); err != nil {
			t.Fatal(err)
		}

		// "Restart": a new runner, and the mail's job enqueued again.
		d2 := newDeliverer(t, st, sink.Addr(), 2, nil)
		tx, err := st.W.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := d2.EnqueueTx(ctx, tx, id); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if n, err := d2.Kick(ctx); err != nil || n != 0 {
			t.Errorf("Kick = %d, %v; want nothing queued", n, err)
		}
		start(t, d2)
		waitFor(t, "the second job completed", func() bool { return completedJobs(t, st) == 2 })
		if sink.Count() != 1 {
			t.Errorf("sink got %d mails", sink.Count())
		}
		if a := attempts(t, st, id); a != "1:sent:250" {
			t.Errorf("attempts %s", a)
		}
	})
}

// Kick recovers a queued mail that lost its job, and a mail with two jobs
// (its own and Kick's) is sent once.
func TestKick(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		sink := startSink(t, "127.0.0.1:0")
		d := newDeliverer(t, st, sink.Addr(), 4, nil)
		withJob := queue(t, d, 1, 5)
		tx, err := st.W.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		orphan, err := st.InsertOutboxTx(ctx, tx, composeMail(99))
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if n, err := d.Kick(ctx); err != nil || n != 6 {
			t.Fatalf("Kick = %d, %v", n, err)
		}
		start(t, d)
		for _, id := range append(withJob, orphan) {
			waitState(t, st, id, store.OutboxSent)
		}
		waitFor(t, "all jobs completed", func() bool { return completedJobs(t, st) == 11 })
		if sink.Count() != 6 {
			t.Errorf("sink got %d mails, want 6", sink.Count())
		}
		for _, id := range withJob {
			if a := attempts(t, st, id); a != "1:sent:250" {
				t.Errorf("mail %d: attempts %s", id, a)
			}
		}
	})
}

// A long backoff is River's to wait: the next attempt's job is scheduled
// for the mail's next_attempt_at, and the mail stays queued meanwhile.
func TestDeliverLongBackoffScheduled(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		sink := startSink(t, "127.0.0.1:0")
		refuse(sink, 451, -1)
		d := newDeliverer(t, st, sink.Addr(), 2, func(d *outbox.Deliverer) {
			d.Backoff = func(int) time.Duration { return time.Hour }
		})
		id := queue(t, d, 1, 1)[0]
		start(t, d)
		var m *store.OutboxMail
		waitFor(t, "the first deferral", func() bool {
			m = mailState(t, st, id)
			return m.Attempts == 1
		})
		if m.State != store.OutboxQueued || time.Until(m.NextAttemptAt) < 59*time.Minute || !strings.HasPrefix(m.LastError, "451 ") {
			t.Errorf("row: %+v", m)
		}
		waitFor(t, "the next job, scheduled", func() bool {
			var n int
			if err := st.R.QueryRow("SELECT count(*) FROM river_job WHERE kind = $1 AND state = 'scheduled'", outbox.JobKind).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n == 1
		})
	})
}
