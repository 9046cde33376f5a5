package intake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

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
// unchanged afterwards without being held in memory. Good rows are kept, bad
// ones listed by line; a file with no good row stores nothing.
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
	tee := io.TeeReader(lim, io.MultiWriter(h, spool))

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
	src := newRowSource(ctx, rd, s.Bulk.MaxListedRejects, func(in *report.Incident) bool { return seen.attribute(s, attr, in) })
	defer src.stop()
	res, err := s.Store.InsertBulk(ctx, &store.NewBulk{
		Report: common, Channel: ChannelCSV, ReceivedAt: started, IdempotencyKey: idempotencyKey,
		Finish: func() store.BulkFinish {
			// Read once the rows are all in (the parser is done).
			var f store.BulkFinish
			f.Lane = s.routeBulk(common, seen)
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
			if _, err := spool.Seek(0, io.SeekStart); err != nil {
				return nil, "", "", 0, err
			}
			return spool, contentType, hex.EncodeToString(h.Sum(nil)), lim.read, nil
		},
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

// rowSource feeds the store from a parser goroutine, in batches so that the
// channel costs little per row.
type rowSource struct {
	batches chan []csvreport.Row
	cur     []csvreport.Row
	i       int
	done    chan struct{}
	fatal   error // set by the parser before it closes batches
	nrej    int
	rej     []store.BulkReject
	maxList int
	// attribute gives a good row its verdict and tells whether it is ours;
	// it runs here, on the parser's goroutine, beside the inserts.
	attribute      func(*report.Incident) bool
	accepted, ours int
}

const rowBatch = 512

func newRowSource(ctx context.Context, rd *csvreport.Reader, maxList int, attribute func(*report.Incident) bool) *rowSource {
	s := &rowSource{batches: make(chan []csvreport.Row, 8), done: make(chan struct{}), maxList: maxList, attribute: attribute}
	go func() {
		defer close(s.batches)
		batch := make([]csvreport.Row, 0, rowBatch)
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
			batch = append(batch, *row)
			if len(batch) == rowBatch {
				select {
				case s.batches <- batch:
				case <-s.done:
					return
				case <-ctx.Done():
					s.fatal = ctx.Err()
					return
				}
				batch = make([]csvreport.Row, 0, rowBatch)
			}
		}
		if len(batch) > 0 {
			select {
			case s.batches <- batch:
			case <-s.done:
			}
		}
	}()
	return s
}

// Next implements store.IncidentSource. A fatal parse error ends the stream
// with that error, so the store rolls the whole upload back.
func (s *rowSource) Next() (int, *report.Incident, error) {
	for s.i >= len(s.cur) {
		b, ok := <-s.batches
		if !ok {
			if s.fatal != nil {
				return 0, nil, s.fatal
			}
			return 0, nil, io.EOF
		}
		s.cur, s.i = b, 0
	}
	r := &s.cur[s.i]
	s.i++
	return r.Line, &r.Incident, nil
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
