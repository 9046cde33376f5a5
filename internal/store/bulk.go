package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"

	"abusedesk/internal/report"
)

// NewBulk is a report whose incidents stream in from a CSV upload.
type NewBulk struct {
	Report     *report.Report // the common fields; Incidents come from the source
	Channel    string
	ReceivedAt time.Time
	// IdempotencyKey, when set, is claimed for this report in the same
	// transaction (see NewReport).
	IdempotencyKey string
	// Finish, asked once every incident is read, gives what depends on all
	// of them: the lane, the outcome (every row outside the address space)
	// and the count of rows outside it.
	Finish func() BulkFinish
	// Raw is called once every incident has been read, to store the upload
	// unchanged: the reader of its bytes, their SHA-256 (hex) and size.
	Raw func() (r io.Reader, contentType, sha string, size int64, err error)
}

// IncidentSource yields validated incidents in file order, io.EOF at the end.
// The pointer may be reused by the next call.
type IncidentSource interface {
	Next() (line int, in *report.Incident, err error)
}

// BulkReject is one CSV row that was refused.
type BulkReject struct {
	Line    int    `json:"line"`
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// BulkFinish is what an upload's rows decide about its report.
type BulkFinish struct {
	Lane    string // "" keeps the report's
	Outcome string // "" for none yet
	NotOurs int
}

// BulkResult is the outcome of a stored upload.
type BulkResult struct {
	Receipt
	ImportID int64
	Accepted int
}

// ErrBulkEmpty: no row of the upload was good, so nothing was stored.
var ErrBulkEmpty = errors.New("no valid row in the file")

// InsertBulk stores the report, its incidents as they stream from src, the
// raw upload and the import session in one transaction: the upload is
// committed whole or not at all. rejects is asked at the end for the total
// number of refused rows and the ones to keep on record.
func (s *Store) InsertBulk(ctx context.Context, nb *NewBulk, src IncidentSource, rejects func() (int, []BulkReject)) (BulkResult, error) {
	if s.Dialect == Postgres {
		return s.insertBulkPostgres(ctx, nb, src, rejects)
	}
	t, err := s.W.BeginTx(ctx, nil)
	if err != nil {
		return BulkResult{}, err
	}
	defer t.Rollback()
	res, rawID, err := s.bulkHead(ctx, sqlTx{t, s}, nb)
	if err != nil {
		return res, err
	}
	full, err := t.PrepareContext(ctx, s.incidentInsert(incidentBatch))
	if err != nil {
		return res, err
	}
	defer full.Close()
	args := make([]any, 0, incidentBatch*incidentCols)
	rows := 0
	for {
		_, in, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return res, err
		}
		res.Accepted++
		args = appendIncidentArgs(args, res.ID, res.Accepted, in)
		if rows++; rows == incidentBatch {
			if _, err := full.ExecContext(ctx, args...); err != nil {
				return res, err
			}
			args, rows = args[:0], 0
		}
	}
	if rows > 0 {
		if _, err := t.ExecContext(ctx, s.incidentInsert(rows), args...); err != nil {
			return res, err
		}
	}
	if res.Accepted == 0 {
		return res, ErrBulkEmpty
	}
	if err := s.bulkTail(ctx, sqlTx{t, s}, nb, &res, rawID, rejects); err != nil {
		return s.bulkRace(ctx, nb, res, err)
	}
	return res, t.Commit()
}

// bulkRace turns a lost Idempotency-Key race into the winner's receipt: the
// same upload sent twice at once is stored once.
func (s *Store) bulkRace(ctx context.Context, nb *NewBulk, res BulkResult, err error) (BulkResult, error) {
	if !errors.Is(err, errIdempotencyRace) {
		return res, err
	}
	rc, ok, lerr := s.IdempotentReport(ctx, nb.Report.Reporter.Email, nb.IdempotencyKey, nb.ReceivedAt)
	if lerr != nil || !ok {
		return res, errors.Join(err, lerr)
	}
	return BulkResult{Receipt: rc}, nil
}

// insertBulkPostgres is InsertBulk on native pgx, for COPY: DESIGN.md
// measured ~600k rows/s where INSERTs do a fraction of that.
func (s *Store) insertBulkPostgres(ctx context.Context, nb *NewBulk, src IncidentSource, rejects func() (int, []BulkReject)) (BulkResult, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return BulkResult{}, err
	}
	defer conn.Release()
	ptx, err := conn.Begin(ctx)
	if err != nil {
		return BulkResult{}, err
	}
	defer ptx.Rollback(ctx)
	t := pgxTx{ptx}
	res, rawID, err := s.bulkHead(ctx, t, nb)
	if err != nil {
		return res, err
	}
	row := make([]any, 0, incidentCols)
	n, err := ptx.CopyFrom(ctx, pgx.Identifier{"incidents"}, incidentColumns, pgx.CopyFromFunc(func() ([]any, error) {
		_, in, err := src.Next()
		if err == io.EOF {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		res.Accepted++
		row = appendIncidentArgs(row[:0], res.ID, res.Accepted, in)
		return row, nil
	}))
	if err != nil {
		return res, err
	}
	if n == 0 {
		return res, ErrBulkEmpty
	}
	if err := s.bulkTail(ctx, t, nb, &res, rawID, rejects); err != nil {
		ptx.Rollback(ctx)
		return s.bulkRace(ctx, nb, res, err)
	}
	return res, ptx.Commit(ctx)
}

func (s *Store) bulkHead(ctx context.Context, t tx, nb *NewBulk) (BulkResult, int64, error) {
	var res BulkResult
	at := nb.ReceivedAt.UTC()
	// The hash and size are known only once the upload is read: the row is
	// completed in bulkTail, inside the same transaction.
	rawID, err := s.insertRaw(ctx, t, "", "", 0, nb.Channel, at, nil)
	if err != nil {
		return res, 0, err
	}
	res.Receipt = Receipt{PublicID: NewPublicID("R-"), Token: NewToken(), Status: report.StatusReceived}
	res.ID, err = s.insertReportRow(ctx, t, res.Receipt, &NewReport{Report: nb.Report, Channel: nb.Channel, ReceivedAt: at}, rawID, 0)
	if err != nil {
		return res, 0, err
	}
	if err := s.recordConsent(ctx, t, res.ID, nb.Report.ShareContactWithCustomer, nb.Channel, at); err != nil {
		return res, 0, err
	}
	return res, rawID, nil
}

func (s *Store) bulkTail(ctx context.Context, t tx, nb *NewBulk, res *BulkResult, rawID int64, rejects func() (int, []BulkReject)) error {
	r, ct, sha, size, err := nb.Raw()
	if err != nil {
		return fmt.Errorf("raw upload: %w", err)
	}
	buf := make([]byte, RawChunkSize)
	for seq := 0; ; seq++ {
		n, err := io.ReadFull(r, buf)
		if n > 0 || seq == 0 {
			if err := t.exec(ctx, s.Q("insert-raw-chunk"), rawID, seq, buf[:n]); err != nil {
				return err
			}
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return fmt.Errorf("raw upload: %w", err)
		}
	}
	if err := t.exec(ctx, s.Q("update-raw-meta"), rawID, sha, size, ct); err != nil {
		return err
	}
	var fin BulkFinish
	if nb.Finish != nil {
		fin = nb.Finish()
	}
	if fin.Lane == "" {
		fin.Lane = nb.Report.Lane
	}
	if err := t.exec(ctx, s.Q("finish-bulk-report"), res.ID, res.Accepted, fin.NotOurs, fin.Lane, outcomeOrNil(fin.Outcome)); err != nil {
		return err
	}
	nrej, list := rejects()
	if res.ImportID, err = s.insertImport(ctx, t, &res.ID, "finished", res.Accepted, nrej, list, nb.ReceivedAt); err != nil {
		return err
	}
	if nb.IdempotencyKey != "" {
		at := nb.ReceivedAt.UTC()
		var got int64
		ok, err := t.scan(ctx, s.Q("claim-idempotency-key"),
			[]any{nb.Report.Reporter.Email, nb.IdempotencyKey, res.ID, res.Token, at, at.Add(-IdempotencyWindow)}, &got)
		if err != nil {
			return err
		}
		if !ok {
			return errIdempotencyRace
		}
	}
	return nil
}

func (s *Store) insertImport(ctx context.Context, t tx, reportID *int64, status string, accepted, rejected int, list []BulkReject, started time.Time) (int64, error) {
	var id int64
	if _, err := t.scan(ctx, s.Q("insert-bulk-import"), []any{reportID, status, accepted, rejected, started.UTC(), time.Now().UTC()}, &id); err != nil {
		return 0, err
	}
	for _, r := range list {
		if err := t.exec(ctx, s.Q("insert-bulk-reject"), id, r.Line, r.Field, r.Code, r.Message); err != nil {
			return 0, err
		}
	}
	return id, nil
}

// RecordRejectedImport keeps the session of an upload that stored nothing,
// so operators see failed uploads too.
func (s *Store) RecordRejectedImport(ctx context.Context, rejected int, list []BulkReject, started time.Time) (int64, error) {
	t, err := s.W.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer t.Rollback()
	id, err := s.insertImport(ctx, sqlTx{t, s}, nil, "rejected", 0, rejected, list, started)
	if err != nil {
		return 0, err
	}
	return id, t.Commit()
}

// BulkImportOf reads back the import session of a bulk report, with its
// kept rejects, so a replayed upload is answered like the first.
func (s *Store) BulkImportOf(ctx context.Context, publicID string) (accepted, rejected int, list []BulkReject, err error) {
	var id int64
	if err = s.R.QueryRowContext(ctx, s.Q("bulk-import-by-report"), publicID).Scan(&id, &accepted, &rejected); err != nil {
		return
	}
	rows, err := s.R.QueryContext(ctx, s.Q("bulk-rejects"), id)
	if err != nil {
		return
	}
	defer rows.Close()
	list = []BulkReject{}
	for rows.Next() {
		var r BulkReject
		if err = rows.Scan(&r.Line, &r.Field, &r.Code, &r.Message); err != nil {
			return
		}
		list = append(list, r)
	}
	err = rows.Err()
	return
}
