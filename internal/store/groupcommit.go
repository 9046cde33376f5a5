package store

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Writer stores reports with group commit: requests that arrive while a
// transaction is being committed wait for the next one, so one fsync
// acknowledges many reports. Each Submit returns only after its transaction
// has committed: a 201 is never sent for data that could still be lost.
type Writer struct {
	s        *Store
	jobs     chan *job
	wg       sync.WaitGroup
	maxBatch int
	once     sync.Once
}

type job struct {
	nr   *NewReport
	rc   Receipt
	err  error
	done chan struct{}
}

// ErrClosed is returned by Submit after Close.
var ErrClosed = errors.New("store writer closed")

// NewWriter starts the committers: one on SQLite (it has one writer anyway),
// several on PostgreSQL, which commits concurrently.
func (s *Store) NewWriter() *Writer {
	w := &Writer{s: s, jobs: make(chan *job, 4096), maxBatch: 512}
	n := 1
	if s.Dialect == Postgres {
		n = 4
	}
	for i := 0; i < n; i++ {
		w.wg.Add(1)
		go w.loop()
	}
	return w
}

// Submit stores nr and returns once it is committed.
func (w *Writer) Submit(ctx context.Context, nr *NewReport) (rc Receipt, err error) {
	nr.prepare()
	j := &job{nr: nr, done: make(chan struct{})}
	defer func() {
		if recover() != nil { // send on closed channel: shutting down
			rc, err = Receipt{}, ErrClosed
		}
	}()
	select {
	case w.jobs <- j:
	case <-ctx.Done():
		return Receipt{}, ctx.Err()
	}
	// Once queued the job is committed or failed; waiting for it even if the
	// client went away keeps the answer and the data in step.
	<-j.done
	return j.rc, j.err
}

// Close stops accepting and waits for queued reports to be committed.
func (w *Writer) Close() {
	w.once.Do(func() { close(w.jobs) })
	w.wg.Wait()
}

var (
	commitBatch = promauto.NewHistogram(prometheus.HistogramOpts{
		Name:    "abusedesk_store_commit_batch_reports",
		Help:    "Reports per group commit.",
		Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512},
	})
	commitSeconds = promauto.NewHistogram(prometheus.HistogramOpts{
		Name:    "abusedesk_store_commit_seconds",
		Help:    "Time to insert and commit one group of reports.",
		Buckets: []float64{.0005, .001, .002, .004, .008, .016, .032, .064, .128, .5, 2},
	})
)

func (w *Writer) loop() {
	defer w.wg.Done()
	batch := make([]*job, 0, w.maxBatch)
	for j := range w.jobs {
		batch = append(batch[:0], j)
	drain:
		for len(batch) < w.maxBatch {
			select {
			case j, ok := <-w.jobs:
				if !ok {
					break drain
				}
				batch = append(batch, j)
			default:
				break drain
			}
		}
		start := time.Now()
		err := w.commit(batch)
		commitBatch.Observe(float64(len(batch)))
		commitSeconds.Observe(time.Since(start).Seconds())
		if err != nil && (len(batch) > 1 || errors.Is(err, errIdempotencyRace)) {
			// One bad report must not fail the others: retry each alone.
			for _, j := range batch {
				j.err = w.commitAlone(j)
			}
		} else {
			for _, j := range batch {
				j.err = err
			}
		}
		for _, j := range batch {
			close(j.done)
		}
	}
}

// commitAlone commits one job. A lost race for an Idempotency-Key (possible
// on PostgreSQL, where several committers run) is retried: the claim waited
// for the winner to commit, so the retry finds the winner's report.
func (w *Writer) commitAlone(j *job) error {
	var err error
	for try := 0; try < 3; try++ {
		if err = w.commit([]*job{j}); !errors.Is(err, errIdempotencyRace) {
			return err
		}
	}
	return err
}

func (w *Writer) commit(batch []*job) error {
	ctx := context.Background()
	t, err := w.s.W.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer t.Rollback()
	if err := w.s.insertBatch(ctx, sqlTx{t, w.s}, batch); err != nil {
		return err
	}
	return t.Commit()
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// Checkpoints. In WAL mode a commit is durable once the log is synced;
// copying the log into the database file (a checkpoint) is housekeeping,
// which SQLite does inside the commit that takes the log past 1000 pages,
// on the committing connection. That suits group commit, but for a CSV
// upload of a million rows it was 0.4–1.2 s before the answer (abusedesk
// bench csv). So an upload commits with the writer's automatic checkpoint
// off, and a goroutine checkpoints on a reader connection (PASSIVE: it
// blocks neither the writer nor readers; a commit that checkpoints
// meanwhile finds it busy and goes on), then turns it back on.
type checkpointer struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// autoCheckpoint is SQLite's default wal_autocheckpoint, in pages.
const autoCheckpoint = 1000

func (s *Store) startCheckpointer() {
	if s.Dialect == SQLite {
		ctx, cancel := context.WithCancel(context.Background())
		s.ckpt = &checkpointer{ctx: ctx, cancel: cancel}
	}
}

// checkpointLater checkpoints in the background and turns the writer's
// automatic checkpoint back on (see checkpointer).
func (s *Store) checkpointLater() {
	c := s.ckpt
	if c == nil {
		return
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		// An error (busy, closing) leaves the work to the next checkpoint.
		s.R.ExecContext(c.ctx, "PRAGMA wal_checkpoint(PASSIVE)")
		s.W.ExecContext(c.ctx, "PRAGMA wal_autocheckpoint = "+strconv.Itoa(autoCheckpoint))
	}()
}

func (s *Store) stopCheckpointer() {
	if s.ckpt != nil {
		s.ckpt.cancel()
		s.ckpt.wg.Wait()
		s.ckpt = nil
	}
}
