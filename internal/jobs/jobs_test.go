package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"abusedesk/internal/store"
	"abusedesk/internal/store/storetest"
)

// newRunner makes a Runner with test timings: 50ms polls, no stagger of the
// leader's services. Its logs go to the test's output (and to also, if set).
func newRunner(t *testing.T, st *store.Store, also io.Writer) *Runner {
	t.Helper()
	var w io.Writer = t.Output()
	if also != nil {
		w = io.MultiWriter(w, also)
	}
	r, err := New(st, Config{
		PollInterval: 50 * time.Millisecond,
		Logger:       slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn})),
		testOnly:     true,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := r.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return r
}

func migrated(t *testing.T, st *store.Store) *store.Store {
	t.Helper()
	if err := Migrate(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	return st
}

// waitFor polls cond until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: still waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func countJobs(t *testing.T, st *store.Store, kind string) int {
	t.Helper()
	var n int
	if err := st.R.QueryRow("SELECT count(*) FROM river_job WHERE kind = $1", kind).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// syncBuffer collects log output written from River's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestMigrate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		for i := range 2 {
			if err := Migrate(ctx, st); err != nil {
				t.Fatalf("Migrate #%d: %v", i+1, err)
			}
		}
		// River's tables and ours side by side, each with its own version table.
		for _, table := range []string{"river_job", "river_leader", "river_migration", "goose_db_version"} {
			var n int
			if err := st.R.QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
				t.Errorf("table %s: %v", table, err)
			}
		}
		var gooseMax int
		if err := st.R.QueryRowContext(ctx, "SELECT max(version_id) FROM goose_db_version").Scan(&gooseMax); err != nil {
			t.Fatal(err)
		}
		if err := st.Migrate(ctx); err != nil {
			t.Fatalf("goose after River: %v", err)
		}
		var gooseMax2 int
		if err := st.R.QueryRowContext(ctx, "SELECT max(version_id) FROM goose_db_version").Scan(&gooseMax2); err != nil {
			t.Fatal(err)
		}
		if gooseMax2 != gooseMax || gooseMax < 1 {
			t.Errorf("goose version %d, then %d", gooseMax, gooseMax2)
		}
	})
}

func TestStartNeedsMigrate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		r := newRunner(t, st, nil)
		r.Handle("test.noop", func(context.Context, json.RawMessage) error { return nil })
		err := r.Start(context.Background())
		if err == nil || !strings.Contains(err.Error(), "migrate") {
			t.Fatalf("Start before Migrate: %v, want an error telling to migrate", err)
		}
	})
}

func TestHandledJobRuns(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		migrated(t, st)
		r := newRunner(t, st, nil)
		got := make(chan string, 1)
		r.Handle("test.echo", func(ctx context.Context, args json.RawMessage) error {
			got <- string(args)
			return nil
		})
		if err := r.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := r.Enqueue(context.Background(), "test.echo", map[string]any{"report": "R-1", "n": 2}); err != nil {
			t.Fatal(err)
		}
		select {
		case args := <-got:
			var v struct {
				Report string
				N      int
			}
			if err := json.Unmarshal([]byte(args), &v); err != nil || v.Report != "R-1" || v.N != 2 {
				t.Errorf("handler got %s (%v)", args, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("job did not run")
		}
	})
}

// A failing job and a panicking one are each retried, then succeed; the
// failures are logged and the process lives on.
func TestRetry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		migrated(t, st)
		var logs syncBuffer
		r := newRunner(t, st, &logs)
		var mu sync.Mutex
		attempts := map[string]int{}
		done := map[string]bool{}
		r.Handle("test.flaky", func(ctx context.Context, args json.RawMessage) error {
			var a struct{ Mode string }
			json.Unmarshal(args, &a)
			mu.Lock()
			attempts[a.Mode]++
			n := attempts[a.Mode]
			mu.Unlock()
			if n == 1 {
				if a.Mode == "panic" {
					panic("boom")
				}
				return errors.New("transient failure")
			}
			mu.Lock()
			done[a.Mode] = true
			mu.Unlock()
			return nil
		})
		ctx := context.Background()
		if err := r.Start(ctx); err != nil {
			t.Fatal(err)
		}
		for _, mode := range []string{"error", "panic"} {
			if err := r.Enqueue(ctx, "test.flaky", map[string]string{"mode": mode}); err != nil {
				t.Fatal(err)
			}
		}
		// River's first retry comes after about 1s.
		waitFor(t, 40*time.Second, "both jobs to succeed on their second attempt", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return done["error"] && done["panic"]
		})
		mu.Lock()
		if attempts["error"] != 2 || attempts["panic"] != 2 {
			t.Errorf("attempts %v, want 2 each", attempts)
		}
		mu.Unlock()
		out := logs.String()
		for _, want := range []string{"job failed; will retry", "transient failure", "job panicked", "boom"} {
			if !strings.Contains(out, want) {
				t.Errorf("log lacks %q:\n%s", want, out)
			}
		}
	})
}

// A job enqueued by a Runner that stops before running it is run by the
// next Runner on the database.
func TestSurvivesRestart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		migrated(t, st)
		ctx := context.Background()
		var ran atomic.Int32
		count := func(context.Context, json.RawMessage) error { ran.Add(1); return nil }

		r1 := newRunner(t, st, nil)
		r1.Handle("test.durable", count)
		if err := r1.Start(ctx); err != nil {
			t.Fatal(err)
		}
		if err := r1.Enqueue(ctx, "test.durable", nil, ScheduledAt(time.Now().Add(time.Second))); err != nil {
			t.Fatal(err)
		}
		if err := r1.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		if err := r1.Enqueue(ctx, "test.durable", nil); !errors.Is(err, ErrStopped) {
			t.Errorf("Enqueue after Stop: %v, want ErrStopped", err)
		}
		time.Sleep(1200 * time.Millisecond) // past its time: nobody may run it
		if n := ran.Load(); n != 0 {
			t.Fatalf("ran %d times with its runner stopped", n)
		}
		if n := countJobs(t, st, "test.durable"); n != 1 {
			t.Fatalf("%d jobs in river_job, want 1", n)
		}

		r2 := newRunner(t, st, nil)
		r2.Handle("test.durable", count)
		if err := r2.Start(ctx); err != nil {
			t.Fatal(err)
		}
		// The new runner must first be elected leader (the stopped one's
		// lease lapses) and River releases scheduled jobs every 5 s: on a
		// loaded CI machine this took more than 10 s once.
		waitFor(t, 45*time.Second, "the new runner to run the job", func() bool { return ran.Load() == 1 })
	})
}

func TestEnqueueTx(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		migrated(t, st)
		ctx := context.Background()
		if _, err := st.W.ExecContext(ctx, "CREATE TABLE jobs_test_note (id integer PRIMARY KEY, body text NOT NULL, handled integer NOT NULL DEFAULT 0)"); err != nil {
			t.Fatal(err)
		}
		r := newRunner(t, st, nil)
		var mu sync.Mutex
		seen := map[int]string{} // note id → its body as the job found it
		r.Handle("test.note", func(ctx context.Context, args json.RawMessage) error {
			var a struct{ ID int }
			if err := json.Unmarshal(args, &a); err != nil {
				return Permanent(err)
			}
			var body string
			if err := st.R.QueryRowContext(ctx, "SELECT body FROM jobs_test_note WHERE id = $1", a.ID).Scan(&body); err != nil {
				body = "error: " + err.Error()
			}
			// The job writes through the application's writer.
			if _, err := st.W.ExecContext(ctx, "UPDATE jobs_test_note SET handled = handled + 1 WHERE id = $1", a.ID); err != nil {
				return err
			}
			mu.Lock()
			seen[a.ID] = body
			mu.Unlock()
			return nil
		})
		if err := r.Start(ctx); err != nil {
			t.Fatal(err)
		}
		note := func(id int, commit bool) {
			tx, err := st.W.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO jobs_test_note (id, body) VALUES ($1, $2)", id, fmt.Sprint("note ", id)); err != nil {
				t.Fatal(err)
			}
			if err := r.EnqueueTx(ctx, tx, "test.note", map[string]int{"id": id}); err != nil {
				t.Fatal(err)
			}
			time.Sleep(150 * time.Millisecond) // a few polls while uncommitted
			if commit {
				err = tx.Commit()
			} else {
				err = tx.Rollback()
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		note(1, false)
		note(2, true)
		waitFor(t, 30*time.Second, "the committed job to run", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return seen[2] != ""
		})
		time.Sleep(300 * time.Millisecond) // a rolled-back job would have run by now
		mu.Lock()
		defer mu.Unlock()
		if seen[2] != "note 2" {
			t.Errorf("committed job saw %q, want its note", seen[2])
		}
		if _, ran := seen[1]; ran {
			t.Errorf("the rolled-back job ran (saw %q)", seen[1])
		}
		if n := countJobs(t, st, "test.note"); n != 1 {
			t.Errorf("%d test.note jobs in river_job, want 1", n)
		}
		var handled int
		if err := st.R.QueryRowContext(ctx, "SELECT handled FROM jobs_test_note WHERE id = 2").Scan(&handled); err != nil || handled != 1 {
			t.Errorf("note 2 handled %d times (%v)", handled, err)
		}
	})
}

func TestPeriodicRepeats(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		migrated(t, st)
		r := newRunner(t, st, nil)
		var ticks, hourly atomic.Int32
		r.Handle("test.tick", func(context.Context, json.RawMessage) error { ticks.Add(1); return nil })
		r.Handle("test.hourly", func(context.Context, json.RawMessage) error { hourly.Add(1); return nil })
		r.Periodic("test.tick", 200*time.Millisecond)
		r.Periodic("test.hourly", time.Hour)
		start := time.Now()
		if err := r.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, "4 ticks", func() bool { return ticks.Load() >= 4 })
		if d := time.Since(start); d < 500*time.Millisecond {
			t.Errorf("4 ticks every 200ms took only %s", d)
		}
		// Runs once at start, then not before the hour.
		waitFor(t, 20*time.Second, "the hourly job's run at start", func() bool { return hourly.Load() >= 1 })
		time.Sleep(300 * time.Millisecond)
		if n := hourly.Load(); n != 1 {
			t.Errorf("hourly job ran %d times in its first second", n)
		}
	})
}

// Two instances on one database, each with the same periodic kind: each
// period's job runs once, not once per instance.
func TestPeriodicOnceAcrossInstances(t *testing.T) {
	t.Run(store.SQLite, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "test.db")
		periodicPair(t, openStore(t, path), openStore(t, path))
	})
	t.Run(store.Postgres, func(t *testing.T) {
		admin := os.Getenv(storetest.EnvPostgres)
		if admin == "" {
			t.Skipf("PostgreSQL run disabled: set %s=postgres://user@host:port/db to enable it", storetest.EnvPostgres)
		}
		dsn, drop, err := store.CreateScratchDatabase(context.Background(), admin, "abusedesk_test")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(drop) // after both stores closed (cleanups run last-in first-out)
		periodicPair(t, openStore(t, dsn), openStore(t, dsn))
	})
}

func openStore(t *testing.T, dsn string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func periodicPair(t *testing.T, a, b *store.Store) {
	migrated(t, a)
	migrated(t, b)
	const every = 200 * time.Millisecond
	var runs atomic.Int32
	tick := func(context.Context, json.RawMessage) error { runs.Add(1); return nil }
	for _, st := range []*store.Store{a, b} {
		r := newRunner(t, st, nil)
		r.Handle("test.tick", tick)
		r.Periodic("test.tick", every)
		if err := r.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	// The leader runs at start and then every 200ms: about 11 runs in 2s.
	// Both instances enqueueing would make about 22.
	const window = 2 * time.Second
	time.Sleep(window)
	n := int(runs.Load())
	periods := int(window / every)
	t.Logf("%d runs in %s at one per %s", n, window, every)
	if n < periods/2 || n > periods+3 {
		t.Errorf("%d runs in %s, want about %d (one per period)", n, window, periods+1)
	}
}

func TestUniqueFor(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		migrated(t, st)
		ctx := context.Background()
		r := newRunner(t, st, nil) // enqueue only: not started
		for range 2 {
			if err := r.Enqueue(ctx, "test.uniq", map[string]any{"a": 1, "b": 2}, UniqueFor(time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
		// Same args, other key order: still the same job.
		if err := r.Enqueue(ctx, "test.uniq", json.RawMessage(`{"b":2,"a":1}`), UniqueFor(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := r.Enqueue(ctx, "test.uniq", map[string]any{"a": 2}, UniqueFor(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if n := countJobs(t, st, "test.uniq"); n != 2 {
			t.Errorf("%d jobs, want 2 (one per distinct args)", n)
		}
		for range 2 {
			if err := r.Enqueue(ctx, "test.plain", map[string]any{"a": 1}, MaxAttempts(3)); err != nil {
				t.Fatal(err)
			}
		}
		if n := countJobs(t, st, "test.plain"); n != 2 {
			t.Errorf("%d jobs without UniqueFor, want 2", n)
		}
		var maxAttempts int
		if err := st.R.QueryRowContext(ctx, "SELECT max(max_attempts) FROM river_job WHERE kind = 'test.plain'").Scan(&maxAttempts); err != nil || maxAttempts != 3 {
			t.Errorf("max_attempts %d (%v), want 3", maxAttempts, err)
		}
	})
}

func TestEnqueueRejects(t *testing.T) {
	st := migrated(t, storetest.OpenSQLite(t))
	ctx := context.Background()
	r := newRunner(t, st, nil)
	r.Handle("test.known", func(context.Context, json.RawMessage) error { return nil })
	for _, c := range []struct {
		kind string
		args any
		want string
	}{
		{"test.unknown", nil, "no handler"},
		{"x", nil, "invalid kind"},
		{"test.known", []int{1}, "not a JSON object"},
		{"test.known", json.RawMessage(`{"a":`), "not a JSON object"},
	} {
		if err := r.Enqueue(ctx, c.kind, c.args); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Enqueue(%s, %v) = %v, want %q", c.kind, c.args, err, c.want)
		}
	}
	if err := r.Enqueue(ctx, "test.known", nil); err != nil {
		t.Errorf("valid Enqueue: %v", err)
	}
}

// On SQLite the queue has its own connection: an Enqueue while the
// application's writer holds the write lock waits for it (busy_timeout)
// rather than failing, and the writer is never queued behind River.
func TestSQLiteWriterContention(t *testing.T) {
	st := migrated(t, storetest.OpenSQLite(t))
	ctx := context.Background()
	r := newRunner(t, st, nil)
	var ran atomic.Int32
	r.Handle("test.contend", func(context.Context, json.RawMessage) error { ran.Add(1); return nil })
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	tx, err := st.W.BeginTx(ctx, nil) // BEGIN IMMEDIATE: holds the write lock
	if err != nil {
		t.Fatal(err)
	}
	const hold = 300 * time.Millisecond
	errc := make(chan error, 1)
	begun := time.Now()
	go func() { errc <- r.Enqueue(ctx, "test.contend", nil) }()
	time.Sleep(hold)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("Enqueue while the writer held the lock: %v", err)
	}
	if d := time.Since(begun); d < hold {
		t.Errorf("Enqueue returned after %s, before the writer let go", d)
	}
	waitFor(t, 30*time.Second, "the job to run", func() bool { return ran.Load() == 1 })
	// And the writer gets the lock back promptly while River polls.
	for range 20 {
		begun := time.Now()
		if _, err := st.W.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS jobs_test_w (x integer)"); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(begun); d > time.Second {
			t.Fatalf("a write waited %s behind the job queue", d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
