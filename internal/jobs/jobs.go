// Package jobs runs abusedesk's background jobs on its own database with
// River (github.com/riverqueue/river): a job is a row, so it survives a
// restart, is retried with backoff when it fails, and can be inserted in the
// same transaction as the data it concerns (EnqueueTx: the outbox pattern).
//
// Jobs are identified by a kind (a name such as "outbox.deliver") and carry
// JSON arguments. A process registers a function per kind (Handle), the
// periodic kinds (Periodic), then Starts the Runner. On PostgreSQL several
// instances share the queue: each job is worked by one of them, and periodic
// jobs are enqueued by the elected leader only.
//
// Drivers: on PostgreSQL, River's riverpgxv5 on the store's pgx pool works the
// jobs (LISTEN/NOTIFY wakes it on insert); inserts go through riverdatabasesql
// on the store's database/sql handle, because the application's transactions
// are *sql.Tx. On SQLite, riversqlite on a *sql.DB of its own to the same file
// (store.OpenJobsDB), one connection, so River's polling and bookkeeping
// never wait in line for the application's single writer connection (the two
// meet only at SQLite's write lock, under busy_timeout); EnqueueTx takes any
// *sql.Tx on the file, typically one from the store's writer.
//
// River keeps its tables (river_job, river_leader, river_migration…) next to
// ours and migrates them itself: call Migrate at startup, after store.Open.
package jobs

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sort"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"abusedesk/internal/store"
)

// Config tunes a Runner; the zero value is usable.
type Config struct {
	// Workers is how many jobs this process runs at once (default 2).
	Workers int
	// Logger receives job failures and River's own messages (default
	// slog.Default()).
	Logger *slog.Logger
	// PollInterval is how often the queue is polled for jobs when no
	// notification arrived (default 1s). Inserts notify the workers, so
	// this bounds the latency only when a notification is lost.
	PollInterval time.Duration

	// testOnly turns off River's random 0–1s stagger of the leader's
	// services (scheduler, periodic enqueuer) so tests stay short.
	testOnly bool
}

// Runner runs abusedesk's background jobs with River on the Store's database,
// so jobs survive restarts and, on PostgreSQL, periodic jobs run once across
// several instances (River's leader election).
//
// A Runner with no handlers is an enqueue-only runner: it may Enqueue any
// kind (another process works them) and is not Started.
type Runner struct {
	st  *store.Store
	cfg Config
	log *slog.Logger

	jobsDB *sql.DB                // SQLite: River's own handle on the file
	ins    *river.Client[*sql.Tx] // insert-only client: Enqueue, EnqueueTx

	mu       sync.Mutex
	state    int // stateNew → stateStarted → stateStopping → stateStopped
	handlers map[string]*handler
	periodic map[string]time.Duration
	work     workClient // the client that works jobs, from Start
}

const (
	stateNew = iota
	stateStarted
	stateStopping // Stop called: no Start; Enqueue still works (running jobs may use it)
	stateStopped  // resources released
)

// workClient is what the Runner needs of a working River client, whatever
// its driver's transaction type.
type workClient interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	StopAndCancel(ctx context.Context) error
}

type handler struct {
	fn      func(ctx context.Context, args json.RawMessage) error
	timeout time.Duration
}

// ErrStopped is returned by Enqueue, EnqueueTx and Start once the Runner is
// stopped.
var ErrStopped = errors.New("jobs: runner stopped")

// kindRE is River's rule for job kinds (rivercommon.UserSpecifiedIDOrKindRE).
var kindRE = regexp.MustCompile(`\A[\w][\w\-\[\]<>\/.·:+]+\z`)

// New prepares a Runner on st. It does not touch the database: Migrate
// creates River's tables, Start begins working.
func New(st *store.Store, cfg Config) (*Runner, error) {
	if cfg.Workers <= 0 {
		cfg.Workers = 2
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	r := &Runner{
		st:       st,
		cfg:      cfg,
		log:      cfg.Logger.With("component", "jobs"),
		handlers: map[string]*handler{},
		periodic: map[string]time.Duration{},
	}
	insCfg := r.riverConfig()
	insCfg.SkipUnknownJobCheck = true // the Runner checks kinds itself (Enqueue)
	var err error
	switch st.Dialect {
	case store.SQLite:
		if r.jobsDB, err = st.OpenJobsDB(); err != nil {
			return nil, err
		}
		r.ins, err = river.NewClient(riversqlite.New(r.jobsDB), insCfg)
	case store.Postgres:
		// riverpgxv5's transactions are pgx.Tx; the application's are
		// *sql.Tx over the same pgx pool, which riverdatabasesql takes.
		r.ins, err = river.NewClient(riverdatabasesql.New(st.W), insCfg)
	default:
		err = fmt.Errorf("jobs: unknown dialect %q", st.Dialect)
	}
	if err != nil {
		if r.jobsDB != nil {
			r.jobsDB.Close()
		}
		return nil, fmt.Errorf("jobs: %w", err)
	}
	return r, nil
}

// riverConfig is the part of River's configuration common to the insert-only
// and the working client.
func (r *Runner) riverConfig() *river.Config {
	return &river.Config{
		Logger:       r.cfg.Logger.With("component", "river"),
		ErrorHandler: errorLogger{r.log},
		TestOnly:     r.cfg.testOnly,
	}
}

// HandleOption tunes how a kind is worked.
type HandleOption func(*handler)

// Timeout bounds one attempt of the kind: its context is cancelled after d
// (River's default is one minute; -1 means no limit).
func Timeout(d time.Duration) HandleOption {
	return func(h *handler) { h.timeout = d }
}

// Handle registers a job kind with its function; args are the JSON given to
// Enqueue. A returned error (or a panic) fails the attempt: River retries
// it later with exponential backoff (about attempt⁴ seconds), up to the
// job's MaxAttempts (default 25), then discards it; return Permanent(err) to
// give up at once. It must be called before Start; a kind is registered once
// and must match River's kind syntax (letters, digits, _ - . : / + and a few
// more, at least two characters). Mistakes panic, as they are programming
// errors.
func (r *Runner) Handle(kind string, fn func(ctx context.Context, args json.RawMessage) error, opts ...HandleOption) {
	if !kindRE.MatchString(kind) {
		panic(fmt.Sprintf("jobs: invalid kind %q (must match %s)", kind, kindRE))
	}
	if fn == nil {
		panic("jobs: nil handler for " + kind)
	}
	h := &handler{fn: fn}
	for _, o := range opts {
		o(h)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.state != stateNew {
		panic("jobs: Handle(" + kind + ") after Start")
	}
	if _, dup := r.handlers[kind]; dup {
		panic("jobs: kind " + kind + " registered twice")
	}
	r.handlers[kind] = h
}

// Periodic runs kind every interval, and once when the Runner becomes the
// leader (at start). Only the leader enqueues periodic jobs, so with several
// instances each period's job runs once. When every is 1s or more, each job
// is also unique for its period (aligned to multiples of every from the Unix
// epoch), which covers the moment leadership changes hands: the new leader's
// run at start is dropped if the period's job already ran or waits, and so
// is a restart's. The job's args are {}. The kind must be Handled; call
// Periodic before Start.
func (r *Runner) Periodic(kind string, every time.Duration) {
	if every <= 0 {
		panic(fmt.Sprintf("jobs: Periodic(%s, %s): interval must be positive", kind, every))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.state != stateNew {
		panic("jobs: Periodic(" + kind + ") after Start")
	}
	r.periodic[kind] = every
}

// Permanent wraps err so that the job fails without further attempts.
func Permanent(err error) error { return river.JobCancel(err) }

// EnqueueOption tunes one job.
type EnqueueOption func(*river.InsertOpts)

// MaxAttempts sets how many times the job is tried before it is discarded
// (default 25).
func MaxAttempts(n int) EnqueueOption {
	return func(o *river.InsertOpts) { o.MaxAttempts = n }
}

// ScheduledAt runs the job no earlier than t. A time in the past or now means
// at once. River's scheduler makes scheduled jobs available every 5s,
// looking 5s ahead, so they start on time rather than up to 5s late only if
// t is at least that far ahead or a scheduler pass falls between.
func ScheduledAt(t time.Time) EnqueueOption {
	return func(o *river.InsertOpts) {
		if t.After(time.Now()) {
			o.ScheduledAt = t
		}
	}
}

// UniqueFor drops the job, without error, when a job of the same kind and
// args (compared as JSON with sorted keys) is already waiting, running or
// completed in the same period of length d. Periods are aligned to multiples
// of d from the Unix epoch (of the job's scheduled time), not a sliding
// window: two jobs 1s apart may fall into two periods.
func UniqueFor(d time.Duration) EnqueueOption {
	return func(o *river.InsertOpts) {
		o.UniqueOpts = river.UniqueOpts{ByArgs: true, ByPeriod: d}
	}
}

// Enqueue inserts a job in a transaction of its own. args is marshalled to
// JSON (a json.RawMessage or []byte is taken as is) and must be a JSON object;
// nil means {}. Inside a transaction use EnqueueTx: on SQLite, Enqueue while
// the same goroutine holds a write transaction on st.W waits for that
// transaction's lock and fails after the busy timeout (10s).
func (r *Runner) Enqueue(ctx context.Context, kind string, args any, opts ...EnqueueOption) error {
	a, o, err := r.prepare(kind, args, opts)
	if err != nil {
		return err
	}
	if _, err := r.ins.Insert(ctx, a, o); err != nil {
		return fmt.Errorf("jobs: enqueue %s: %w", kind, err)
	}
	return nil
}

// EnqueueTx inserts a job inside the caller's transaction: it exists, and
// runs, only if tx commits. On SQLite tx is on the store's file (usually from
// st.W); on PostgreSQL on the store's database.
func (r *Runner) EnqueueTx(ctx context.Context, tx *sql.Tx, kind string, args any, opts ...EnqueueOption) error {
	a, o, err := r.prepare(kind, args, opts)
	if err != nil {
		return err
	}
	if _, err := r.ins.InsertTx(ctx, tx, a, o); err != nil {
		return fmt.Errorf("jobs: enqueue %s: %w", kind, err)
	}
	return nil
}

func (r *Runner) prepare(kind string, args any, opts []EnqueueOption) (rawArgs, *river.InsertOpts, error) {
	r.mu.Lock()
	state, n := r.state, len(r.handlers)
	_, known := r.handlers[kind]
	r.mu.Unlock()
	if state == stateStopped {
		return rawArgs{}, nil, ErrStopped
	}
	if !kindRE.MatchString(kind) {
		return rawArgs{}, nil, fmt.Errorf("jobs: invalid kind %q", kind)
	}
	if n > 0 && !known {
		return rawArgs{}, nil, fmt.Errorf("jobs: no handler for kind %q", kind)
	}
	raw, err := encodeArgs(args)
	if err != nil {
		return rawArgs{}, nil, fmt.Errorf("jobs: %s args: %w", kind, err)
	}
	o := &river.InsertOpts{}
	for _, opt := range opts {
		opt(o)
	}
	return rawArgs{kind: kind, raw: raw}, o, nil
}

func encodeArgs(args any) (json.RawMessage, error) {
	var b []byte
	switch v := args.(type) {
	case nil:
		return json.RawMessage("{}"), nil
	case json.RawMessage:
		b = v
	case []byte:
		b = v
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			return nil, err
		}
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return json.RawMessage("{}"), nil
	}
	if b[0] != '{' || !json.Valid(b) {
		return nil, errors.New("not a JSON object")
	}
	return bytes.Clone(b), nil
}

// rawArgs carries a job's kind and JSON through River, which otherwise wants
// a Go type per kind.
type rawArgs struct {
	kind string
	raw  json.RawMessage
}

func (a rawArgs) Kind() string                  { return a.kind }
func (a rawArgs) MarshalJSON() ([]byte, error)  { return a.raw, nil }
func (a *rawArgs) UnmarshalJSON(b []byte) error { a.raw = bytes.Clone(b); return nil }

type worker struct {
	river.WorkerDefaults[rawArgs]
	h *handler
}

func (w *worker) Work(ctx context.Context, job *river.Job[rawArgs]) error {
	return w.h.fn(ctx, job.Args.raw)
}

func (w *worker) Timeout(*river.Job[rawArgs]) time.Duration { return w.h.timeout }

// Start begins working jobs in the background and, if this instance is
// elected leader, scheduling retries and periodic jobs. Cancelling ctx stops
// the Runner as Stop does (without a time limit for running jobs); call Stop
// anyway to release its resources. River's tables must exist (Migrate).
func (r *Runner) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch r.state {
	case stateStarted:
		return errors.New("jobs: runner already started")
	case stateStopping, stateStopped:
		return ErrStopped
	}
	if len(r.handlers) == 0 {
		return errors.New("jobs: Start without any Handle")
	}
	cfg := r.riverConfig()
	cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: r.cfg.Workers}}
	cfg.FetchPollInterval = r.cfg.PollInterval
	cfg.FetchCooldown = min(r.cfg.PollInterval, river.FetchCooldownDefault)
	// A process that does not know a kind leaves its jobs to one that does
	// (a rolling upgrade adding a kind) instead of failing their attempts.
	cfg.FetchOnlyKnownKinds = true
	cfg.Workers = river.NewWorkers()
	kinds := make([]string, 0, len(r.handlers))
	for kind := range r.handlers {
		kinds = append(kinds, kind)
	}
	sort.Strings(kinds)
	for _, kind := range kinds {
		// AddWorkerArgs registers a worker for a kind known at run time (River
		// otherwise takes it from a Go type's Kind method). River's docs call
		// it rarely needed; if it ever goes, one River kind carrying ours in
		// its args would do.
		river.AddWorkerArgs(cfg.Workers, rawArgs{kind: kind}, &worker{h: r.handlers[kind]})
	}
	periodic := make([]string, 0, len(r.periodic))
	for kind := range r.periodic {
		periodic = append(periodic, kind)
	}
	sort.Strings(periodic)
	for _, kind := range periodic {
		if _, ok := r.handlers[kind]; !ok {
			return fmt.Errorf("jobs: Periodic(%s) has no Handle", kind)
		}
		every := r.periodic[kind]
		opts := &river.InsertOpts{}
		if every >= time.Second { // River's smallest ByPeriod
			opts.UniqueOpts = river.UniqueOpts{ByPeriod: every}
		}
		cfg.PeriodicJobs = append(cfg.PeriodicJobs, river.NewPeriodicJob(
			river.PeriodicInterval(every),
			func() (river.JobArgs, *river.InsertOpts) {
				o := *opts
				return rawArgs{kind: kind, raw: json.RawMessage("{}")}, &o
			},
			&river.PeriodicJobOpts{RunOnStart: true},
		))
	}

	var (
		work workClient
		err  error
	)
	switch r.st.Dialect {
	case store.SQLite:
		if err = validate(ctx, riversqlite.New(r.jobsDB)); err == nil {
			work, err = river.NewClient(riversqlite.New(r.jobsDB), cfg)
		}
	case store.Postgres:
		if err = validate(ctx, riverpgxv5.New(r.st.Pool())); err == nil {
			work, err = river.NewClient(riverpgxv5.New(r.st.Pool()), cfg)
		}
	}
	if err != nil {
		return fmt.Errorf("jobs: %w", err)
	}
	if err := work.Start(ctx); err != nil {
		return fmt.Errorf("jobs: start: %w", err)
	}
	r.work, r.state = work, stateStarted
	return nil
}

// stopHardTimeout bounds the wait for cancelled jobs to return once the
// soft stop ran out of time.
const stopHardTimeout = 10 * time.Second

// Stop stops fetching jobs and waits for running ones to finish until ctx is
// done; then it cancels their contexts and waits for them to return (up to
// 10s more), and returns ctx's error. Jobs that did not finish are run again
// later (by River's rescuer, after RescueStuckJobsAfter, 1h by default, if they
// did not return at all). Stop releases the Runner's resources; it is safe to
// call more than once, and on a Runner never started.
func (r *Runner) Stop(ctx context.Context) error {
	r.mu.Lock()
	if r.state >= stateStopping {
		r.mu.Unlock()
		return nil
	}
	r.state = stateStopping
	work := r.work
	r.mu.Unlock() // running jobs may Enqueue meanwhile

	var err error
	stopped := true
	if work != nil {
		if err = work.Stop(ctx); err != nil {
			r.log.WarnContext(ctx, "jobs still running at stop; cancelling them", "error", err)
			hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopHardTimeout)
			if herr := work.StopAndCancel(hctx); herr != nil {
				stopped = false
				err = errors.Join(err, herr)
			}
			cancel()
		}
	}
	r.mu.Lock()
	r.state = stateStopped
	r.mu.Unlock()
	if r.jobsDB != nil && stopped {
		// Only once River is done with it; otherwise leak it rather than
		// pull it from under running goroutines.
		err = errors.Join(err, r.jobsDB.Close())
	}
	if err != nil {
		return fmt.Errorf("jobs: stop: %w", err)
	}
	return nil
}

// Migrate creates or upgrades River's own tables (rivermigrate) for the
// store's dialect; it is idempotent. River records its versions in
// river_migration, apart from goose's table. On PostgreSQL a session advisory
// lock serializes instances migrating at the same time.
func Migrate(ctx context.Context, st *store.Store) error {
	cfg := &rivermigrate.Config{Logger: slog.Default().With("component", "rivermigrate")}
	switch st.Dialect {
	case store.SQLite:
		db, err := st.OpenJobsDB()
		if err != nil {
			return err
		}
		defer db.Close()
		return migrateUp(ctx, riversqlite.New(db), cfg)
	case store.Postgres:
		conn, err := st.Pool().Acquire(ctx)
		if err != nil {
			return fmt.Errorf("jobs: migrate: %w", err)
		}
		defer conn.Release()
		if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrateLockKey); err != nil {
			return fmt.Errorf("jobs: migrate: lock: %w", err)
		}
		defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrateLockKey)
		return migrateUp(ctx, riverpgxv5.New(st.Pool()), cfg)
	}
	return fmt.Errorf("jobs: unknown dialect %q", st.Dialect)
}

// migrateLockKey is the advisory lock held while River's tables migrate
// ("abusedesk jobs" in ASCII).
const migrateLockKey int64 = 0x6162757365_6a6f

func migrateUp[TTx any](ctx context.Context, d riverdriver.Driver[TTx], cfg *rivermigrate.Config) error {
	m, err := rivermigrate.New(d, cfg)
	if err != nil {
		return fmt.Errorf("jobs: migrate: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("jobs: migrate: %w", err)
	}
	return nil
}

// validate reports, with the way out, when River's tables are missing or
// behind.
func validate[TTx any](ctx context.Context, d riverdriver.Driver[TTx]) error {
	m, err := rivermigrate.New(d, &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	res, err := m.Validate(ctx, nil)
	if err != nil {
		return fmt.Errorf("checking River's tables (run abusedesk migrate): %w", err)
	}
	if !res.OK {
		return fmt.Errorf("River's tables are not up to date (run abusedesk migrate): %v", res.Messages)
	}
	return nil
}

// errorLogger logs failed attempts; River retries them on its own.
type errorLogger struct{ log *slog.Logger }

func (e errorLogger) HandleError(ctx context.Context, job *rivertype.JobRow, err error) *river.ErrorHandlerResult {
	level, msg := slog.LevelWarn, "job failed; will retry"
	var cancel *river.JobCancelError
	switch {
	case errors.As(err, &cancel):
		level, msg = slog.LevelError, "job failed permanently"
	case job.Attempt >= job.MaxAttempts:
		level, msg = slog.LevelError, "job failed; no attempts left, discarded"
	}
	e.log.Log(ctx, level, msg, "kind", job.Kind, "job_id", job.ID,
		"attempt", job.Attempt, "max_attempts", job.MaxAttempts, "error", err)
	return nil
}

func (e errorLogger) HandlePanic(ctx context.Context, job *rivertype.JobRow, panicVal any, trace string) *river.ErrorHandlerResult {
	e.log.ErrorContext(ctx, "job panicked", "kind", job.Kind, "job_id", job.ID,
		"attempt", job.Attempt, "max_attempts", job.MaxAttempts, "panic", fmt.Sprint(panicVal), "trace", trace)
	return nil
}
