package intake

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"

	"abusedesk/internal/intake/csvreport"
	"abusedesk/internal/report"
	"abusedesk/internal/store"
)

// BulkLimits bound a CSV upload. Zero values take the defaults.
type BulkLimits struct {
	MaxRows  int   // default 1,000,000
	MaxBytes int64 // default 200 MB
	// MaxListedRejects caps the rejected rows listed in the answer and kept
	// on record; the count is always exact.
	MaxListedRejects int
}

func (l BulkLimits) withDefaults() BulkLimits {
	if l.MaxRows == 0 {
		l.MaxRows = 1_000_000
	}
	if l.MaxBytes == 0 {
		l.MaxBytes = 200 << 20
	}
	if l.MaxListedRejects == 0 {
		l.MaxListedRejects = 1000
	}
	return l
}

// BulkOutcome answers an upload.
type BulkOutcome struct {
	store.BulkResult
	Rejected      []store.BulkReject
	RejectedCount int
}

// ErrTooLarge is returned when an upload exceeds MaxBytes.
var ErrTooLarge = errors.New("upload too large")

// SubmitBulk stores a report whose incidents are the rows of a CSV file,
// streamed: the file is parsed on its own goroutine while rows are inserted,
// and spooled to a temporary file on the way so that it can be stored
// unchanged (as it comes, on SQLite) without being held in memory. Good
// rows are kept, bad ones listed by line; a file with no good row stores
// nothing.
//
// An idempotencyKey already used by the same reporter within 24 h returns
// the first upload's receipt (Replayed) without reading the file, so a
// client may retry an upload whose answer it lost.
func (s *Service) SubmitBulk(ctx context.Context, common *report.Report, file io.Reader, contentType, idempotencyKey string) (*BulkOutcome, report.Errors, error) {
	started := s.Now()
	if es := s.Validator.ValidateBulk(common); len(es) > 0 {
		countRejects(ChannelCSV, es.Codes())
		return nil, es, nil
	}
	if idempotencyKey != "" {
		rc, ok, err := s.Store.IdempotentReport(ctx, common.Reporter.Email, idempotencyKey, started)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			return s.replayBulk(ctx, rc)
		}
	}
	spool, err := os.CreateTemp("", "abusedesk-upload-*.csv")
	if err != nil {
		return nil, nil, err
	}
	defer os.Remove(spool.Name())
	defer spool.Close()
	h := sha256.New()
	lim := &limitReader{r: file, n: s.Bulk.MaxBytes}
	// Written through a buffer: the multipart reader hands the file over
	// 4 KB at a time, which was a system call each.
	spooled := &countingWriter{w: spool}
	buffered := bufio.NewWriterSize(spooled, 256<<10)
	tee := io.TeeReader(lim, io.MultiWriter(h, buffered))

	rd, err := csvreport.NewReader(tee, csvreport.Options{MaxRows: s.Bulk.MaxRows, Validator: s.Validator})
	if err != nil {
		if lim.over {
			return nil, nil, ErrTooLarge
		}
		es := report.Errors{{Field: "file", Code: report.CodeInvalid, Message: err.Error()}}
		countRejects(ChannelCSV, es.Codes())
		return nil, es, nil
	}
	attr := s.attr.Load()
	seen := &bulkSeen{}
	src := newRowSource(ctx, rd, s.Bulk.MaxListedRejects, func(in *report.Incident) bool { return seen.attribute(s, attr, in) }, s.Store.NewIncidentBatch)
	defer src.stop()
	res, err := s.Store.InsertBulk(ctx, &store.NewBulk{
		Report: common, Channel: ChannelCSV, ReceivedAt: started, IdempotencyKey: idempotencyKey,
		Finish: func() store.BulkFinish {
			// Read once the rows are all in (the parser is done).
			var f store.BulkFinish
			f.Lane, f.Rule = s.routeBulk(common, seen)
			f.Group = seen.assigned
			if attr != nil {
				f.NotOurs = src.accepted - src.ours
				if src.accepted > 0 && src.ours == 0 {
					f.Outcome = report.OutcomeNotResolvable
				}
			}
			return f
		},
		Raw: func() (io.Reader, string, string, int64, error) {
			// Whatever the parser did not read (after a fatal error there is
			// nothing to store anyway) is not part of a stored upload.
			if err := buffered.Flush(); err != nil {
				return nil, "", "", 0, err
			}
			if _, err := spool.Seek(0, io.SeekStart); err != nil {
				return nil, "", "", 0, err
			}
			return spool, contentType, hex.EncodeToString(h.Sum(nil)), lim.read, nil
		},
		// The store may store the upload's bytes as they are spooled.
		RawSoFar: func() (io.ReaderAt, int64) { return spool, spooled.n.Load() },
	}, src, src.rejects)
	src.stop() // the parser goroutine is done: its counts can be read
	out := &BulkOutcome{BulkResult: res}
	out.RejectedCount, out.Rejected = src.rejects()
	switch {
	case lim.over:
		return nil, nil, ErrTooLarge
	case src.fatal != nil:
		es := report.Errors{{Field: "file", Code: report.CodeInvalid, Message: src.fatal.Error()}}
		countRejects(ChannelCSV, es.Codes())
		return out, es, nil
	case errors.Is(err, store.ErrBulkEmpty):
		countRejects(ChannelCSV, []string{"no_valid_row"})
		if _, err := s.Store.RecordRejectedImport(ctx, out.RejectedCount, out.Rejected, started); err != nil {
			return nil, nil, err
		}
		return out, report.Errors{{Field: "file", Code: "no_valid_row", Message: fmt.Sprintf("no row of the file is valid (%d rejected): nothing was stored", out.RejectedCount)}}, nil
	case err != nil:
		return nil, nil, err
	}
	if out.Replayed { // lost a race against the same upload
		return s.replayBulk(ctx, out.Receipt)
	}
	reportsAccepted.WithLabelValues(common.Type, ChannelCSV).Inc()
	itemsAccepted.WithLabelValues(ChannelCSV).Add(float64(res.Accepted))
	return out, nil, nil
}

// replayBulk answers a repeated upload with the first one's receipt and
// counts.
func (s *Service) replayBulk(ctx context.Context, rc store.Receipt) (*BulkOutcome, report.Errors, error) {
	out := &BulkOutcome{BulkResult: store.BulkResult{Receipt: rc}}
	var err error
	out.Accepted, out.RejectedCount, out.Rejected, err = s.Store.BulkImportOf(ctx, rc.PublicID)
	return out, nil, err
}

// rowSource feeds the store from a parser goroutine, which also attributes
// each row and encodes it for the insert (store.IncidentBatch): on SQLite
// the one writer connection limits a bulk upload, so the writer's goroutine
// does nothing but insert. Batches go round between the two goroutines
// through free, so that memory stays flat whatever the size of the file.
type rowSource struct {
	batches  chan *store.IncidentBatch
	free     chan *store.IncidentBatch
	newBatch func() *store.IncidentBatch
	done     chan struct{}
	fatal    error // set by the parser before it closes batches
	nrej     int
	rej      []store.BulkReject
	maxList  int
	// attribute gives a good row its verdict and tells whether it is ours.
	attribute      func(*report.Incident) bool
	accepted, ours int
}

// queuedBatches bounds the batches between parser and writer.
const queuedBatches = 4

func newRowSource(ctx context.Context, rd *csvreport.Reader, maxList int, attribute func(*report.Incident) bool, newBatch func() *store.IncidentBatch) *rowSource {
	s := &rowSource{batches: make(chan *store.IncidentBatch, queuedBatches), free: make(chan *store.IncidentBatch, queuedBatches+2),
		newBatch: newBatch, done: make(chan struct{}), maxList: maxList, attribute: attribute}
	go func() {
		defer close(s.batches)
		batch := s.batch()
		send := func() bool {
			select {
			case s.batches <- batch:
				return true
			case <-s.done:
			case <-ctx.Done():
				s.fatal = ctx.Err()
			}
			return false
		}
		for {
			row, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				s.fatal = err
				return
			}
			if len(row.Errors) > 0 {
				s.nrej++
				for _, e := range row.Errors {
					if len(s.rej) < s.maxList {
						s.rej = append(s.rej, store.BulkReject{Line: row.Line, Field: e.Field, Code: e.Code, Message: e.Message})
					}
				}
				continue
			}
			s.accepted++
			if s.attribute(&row.Incident) {
				s.ours++
			}
			batch.Add(s.accepted, &row.Incident)
			if batch.Full() {
				if !send() {
					return
				}
				batch = s.batch()
			}
		}
		if batch.Len() > 0 {
			send()
		}
	}()
	return s
}

// batch is an empty batch, a released one when there is one.
func (s *rowSource) batch() *store.IncidentBatch {
	select {
	case b := <-s.free:
		b.Reset()
		return b
	default:
		return s.newBatch()
	}
}

// Next implements store.IncidentSource. A fatal parse error ends the stream
// with that error, so the store rolls the whole upload back.
func (s *rowSource) Next() (*store.IncidentBatch, error) {
	b, ok := <-s.batches
	if !ok {
		if s.fatal != nil {
			return nil, s.fatal
		}
		return nil, io.EOF
	}
	return b, nil
}

// Release implements store.IncidentSource.
func (s *rowSource) Release(b *store.IncidentBatch) {
	select {
	case s.free <- b:
	default:
	}
}

// rejects is read once the stream has ended (batches closed).
func (s *rowSource) rejects() (int, []store.BulkReject) { return s.nrej, s.rej }

func (s *rowSource) stop() {
	select {
	case <-s.done:
	default:
		close(s.done)
	}
	for range s.batches { // let the parser goroutine finish
	}
}

// countingWriter counts what was written to w, for another goroutine.
type countingWriter struct {
	w io.Writer
	n atomic.Int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	k, err := c.w.Write(p)
	c.n.Add(int64(k))
	return k, err
}

// limitReader fails once more than n bytes were read, and remembers it.
type limitReader struct {
	r    io.Reader
	n    int64
	read int64
	over bool
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.read >= l.n {
		// One byte more tells a file of exactly n bytes from a longer one.
		var one [1]byte
		if k, _ := l.r.Read(one[:]); k > 0 {
			l.over = true
			return 0, ErrTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(p)) > l.n-l.read {
		p = p[:l.n-l.read]
	}
	k, err := l.r.Read(p)
	l.read += int64(k)
	return k, err
}
