package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

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
	// What RawSoFar let InsertBulk store already is skipped (by seeking, if
	// the reader is an io.Seeker).
	Raw func() (r io.Reader, contentType, sha string, size int64, err error)
	// RawSoFar, if set, gives the bytes of the upload read so far (the
	// start of what Raw will read) and their number: on SQLite, InsertBulk
	// stores whole chunks of them while rows arrive, so that the upload's
	// bytes do not all go to the log, and to the disk, after the last row.
	RawSoFar func() (io.ReaderAt, int64)
}

// rawProgress is how much of the raw upload is stored: stored bytes in
// chunks 0…seq-1.
type rawProgress struct {
	rawID  int64
	stored int64
	seq    int
}

// IncidentSource yields an upload's validated incidents in file order, in
// batches it encodes itself (Store.NewIncidentBatch, IncidentBatch.Add) on
// its own goroutine.
type IncidentSource interface {
	// Next returns the next batch, io.EOF after the last one.
	Next() (*IncidentBatch, error)
	// Release gives back a batch InsertBulk is done with, for reuse.
	Release(*IncidentBatch)
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
	Rule    string // the routing rule that chose Lane
	Outcome string // "" for none yet
	NotOurs int
	Group   bool // some row is attributed to a customer: queue the report for grouping into cases
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
	return s.insertBulkSQLite(ctx, nb, src, rejects)
}

// insertBulkSQLite runs the upload's transaction on the writer connection
// itself (BEGIN and COMMIT as statements), so that the rows can go to the
// driver directly (IncidentBatch); the rest goes through database/sql.
//
// The raw submission and report rows are written last, with ids drawn
// first: a page that is written early in the transaction, pushed out to
// the log by the rows, and changed again at the end makes SQLite rewrite
// the checksum of every frame logged since, at commit (a third of a second
// for a million rows).
func (s *Store) insertBulkSQLite(ctx context.Context, nb *NewBulk, src IncidentSource, rejects func() (int, []BulkReject)) (BulkResult, error) {
	conn, err := s.W.Conn(ctx)
	if err != nil {
		return BulkResult{}, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return BulkResult{}, err
	}
	done := false
	defer func() {
		if done {
			return
		}
		if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
			// Never hand the pool a connection that may still be in a
			// transaction: have database/sql close it.
			conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	t := connTx{conn}
	// 8 MB of page cache for the upload (SQLite's default is 2 MB): the
	// pages it comes back to (the raw chunks' index) stay in memory instead
	// of going to the log twice, which costs a rewrite of the log's
	// checksums at commit too.
	var cacheSize int64
	if _, err := t.scan(ctx, "PRAGMA cache_size", nil, &cacheSize); err != nil {
		return BulkResult{}, err
	}
	if _, err := conn.ExecContext(ctx, "PRAGMA cache_size = -8192"); err != nil {
		return BulkResult{}, err
	}
	defer conn.ExecContext(context.Background(), "PRAGMA cache_size = "+strconv.FormatInt(cacheSize, 10))
	// This transaction is the only writer: the next ids are the largest
	// plus one. The rows get theirs from SQLite (the largest plus one too),
	// checked at the end all the same.
	var first int64
	raw := &rawProgress{}
	var res BulkResult
	if _, err := t.scan(ctx, s.Q("next-bulk-ids"), nil, &res.ID, &raw.rawID, &first); err != nil {
		return res, err
	}
	// raw_chunks name their raw submission, whose row comes at the end.
	if _, err := conn.ExecContext(ctx, "PRAGMA defer_foreign_keys = ON"); err != nil {
		return res, err
	}
	res.Receipt = Receipt{ID: res.ID, PublicID: NewPublicID("R-"), Token: NewToken(), Status: report.StatusReceived}
	var dbFile string
	if _, err := t.scan(ctx, "SELECT file FROM pragma_database_list WHERE name = 'main'", nil, &dbFile); err == nil && dbFile != "" {
		defer startWriteback(dbFile+"-wal", 100*time.Millisecond)()
	}
	var last int64
	err = conn.Raw(func(dc any) error {
		var err error
		last, err = s.bulkRowsSQLite(ctx, dc, nb, src, &res, raw)
		return err
	})
	if err != nil {
		return res, err
	}
	if res.Accepted == 0 {
		return res, ErrBulkEmpty
	}
	if last != first+int64(res.Accepted)-1 {
		return res, fmt.Errorf("bulk insert: incident ids from %d end at %d, want %d", first, last, first+int64(res.Accepted)-1)
	}
	r, ct, sha, size, err := nb.Raw()
	if err != nil {
		return res, fmt.Errorf("raw upload: %w", err)
	}
	at := nb.ReceivedAt.UTC()
	if err := t.exec(ctx, s.Q("insert-raw-id"), raw.rawID, sha, ct, size, nb.Channel, at, nil); err != nil {
		return res, err
	}
	if err := s.storeRawRest(ctx, t, r, raw); err != nil {
		return res, err
	}
	rep := *nb.Report
	fin := s.bulkFinish(nb, &rep)
	if err := s.queueForCases(ctx, t, res.ID, fin.Group, nb.Channel); err != nil {
		return res, err
	}
	nr := &NewReport{Report: &rep, Channel: nb.Channel, ReceivedAt: at}
	args := append([]any{res.ID}, s.reportArgs(res.Receipt, nr, raw.rawID, res.Accepted, s.firstIncident(first, res.Accepted), res.Accepted)...)
	if err := t.exec(ctx, s.Q("insert-report-id"), args...); err != nil {
		return res, err
	}
	if err := s.recordConsent(ctx, t, res.ID, rep.ShareContactWithCustomer, nb.Channel, at); err != nil {
		return res, err
	}
	if err := s.bulkSession(ctx, t, nb, &res, rejects); err != nil {
		return s.bulkRace(ctx, nb, res, err)
	}
	// The checkpoint is done after the answer (checkpointer).
	if _, err := conn.ExecContext(ctx, "PRAGMA wal_autocheckpoint = 0"); err != nil {
		return res, err
	}
	_, err = conn.ExecContext(ctx, "COMMIT")
	if err != nil {
		conn.ExecContext(context.Background(), "PRAGMA wal_autocheckpoint = "+strconv.Itoa(autoCheckpoint))
		return res, err
	}
	done = true
	s.checkpointLater()
	return res, nil
}

// bulkRowsSQLite inserts the rows of src on the driver connection dc, and
// the raw upload's chunks as they fill, and returns the id of the last row.
func (s *Store) bulkRowsSQLite(ctx context.Context, dc any, nb *NewBulk, src IncidentSource, res *BulkResult, raw *rawProgress) (int64, error) {
	pc, ok := dc.(driver.ConnPrepareContext)
	if !ok {
		return 0, fmt.Errorf("bulk insert: %T cannot prepare", dc)
	}
	prepare := func(rows int) (driver.StmtExecContext, func(), error) {
		st, err := pc.PrepareContext(ctx, bulkInsert(rows))
		if err != nil {
			return nil, nil, err
		}
		ex, ok := st.(driver.StmtExecContext)
		if !ok {
			st.Close()
			return nil, nil, fmt.Errorf("bulk insert: %T cannot execute", st)
		}
		return ex, func() { st.Close() }, nil
	}
	full, closeFull, err := prepare(bulkStatementRows)
	if err != nil {
		return 0, err
	}
	defer closeFull()
	// The driver watches a cancellable context with a goroutine per
	// statement; the context is checked once per batch instead.
	quiet := context.WithoutCancel(ctx)
	var storeChunks func() error
	if nb.RawSoFar != nil {
		st, err := pc.PrepareContext(ctx, s.Q("insert-raw-chunk"))
		if err != nil {
			return 0, err
		}
		defer st.Close()
		ex, ok := st.(driver.StmtExecContext)
		if !ok {
			return 0, fmt.Errorf("bulk insert: %T cannot execute", st)
		}
		buf := make([]byte, RawChunkSize)
		nv := []driver.NamedValue{{Ordinal: 1, Value: raw.rawID}, {Ordinal: 2}, {Ordinal: 3, Value: buf}}
		storeChunks = func() error {
			for {
				ra, n := nb.RawSoFar()
				if n-raw.stored < RawChunkSize {
					return nil
				}
				if _, err := ra.ReadAt(buf, raw.stored); err != nil {
					return fmt.Errorf("raw upload: %w", err)
				}
				nv[1].Value = int64(raw.seq)
				if _, err := ex.ExecContext(quiet, nv); err != nil {
					return err
				}
				raw.stored += RawChunkSize
				raw.seq++
			}
		}
	}
	rid := res.ID
	var last int64
	for {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		b, err := src.Next()
		if err == io.EOF {
			return last, nil
		}
		if err != nil {
			return 0, err
		}
		if b.err != nil {
			return 0, b.err
		}
		for i := 0; ; i++ {
			nv, rows := b.statement(i)
			if rows == 0 {
				break
			}
			nv[0].Value = rid
			ex, closeEx := full, func() {}
			if rows < bulkStatementRows {
				if ex, closeEx, err = prepare(rows); err != nil {
					return 0, err
				}
			}
			r, err := ex.ExecContext(quiet, nv)
			closeEx()
			if err != nil {
				return 0, err
			}
			if last, err = r.LastInsertId(); err != nil {
				return 0, err
			}
		}
		res.Accepted += b.n
		src.Release(b)
		if storeChunks != nil {
			if err := storeChunks(); err != nil {
				return 0, err
			}
		}
	}
}

// copyStream is the data of a binary COPY: the header, the batches' tuples
// with their report id filled in, the trailer.
type copyStream struct {
	src      IncidentSource
	reportID [8]byte
	pending  []byte // header or trailer
	b        *IncidentBatch
	off      int
	eof      bool
	rows     int
}

func (c *copyStream) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(c.pending) > 0 {
			k := copy(p[n:], c.pending)
			c.pending, n = c.pending[k:], n+k
			continue
		}
		if c.eof {
			if n > 0 {
				return n, nil
			}
			return 0, io.EOF
		}
		if c.b == nil {
			b, err := c.src.Next()
			if err == io.EOF {
				c.pending, c.eof = copyTrailer, true
				continue
			}
			if err != nil {
				return n, err
			}
			if b.err != nil {
				return n, b.err
			}
			for _, st := range b.starts {
				copy(b.copy[st+6:st+14], c.reportID[:])
			}
			c.b, c.off, c.rows = b, 0, c.rows+b.n
		}
		k := copy(p[n:], c.b.copy[c.off:])
		c.off, n = c.off+k, n+k
		if c.off == len(c.b.copy) {
			c.src.Release(c.b)
			c.b = nil
		}
	}
	return n, nil
}

// connTx runs the statements of a transaction begun on conn.
type connTx struct{ *sql.Conn }

func (t connTx) exec(ctx context.Context, q string, args ...any) error {
	_, err := t.ExecContext(ctx, q, args...)
	return err
}

func (t connTx) scan(ctx context.Context, q string, args []any, dest ...any) (bool, error) {
	err := t.QueryRowContext(ctx, q, args...).Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

func (t connTx) insertID(ctx context.Context, _, qExec string, args ...any) (int64, error) {
	r, err := t.ExecContext(ctx, qExec, args...)
	if err != nil {
		return 0, err
	}
	return r.LastInsertId()
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
	stream := &copyStream{src: src, pending: copyHeader}
	binary.BigEndian.PutUint64(stream.reportID[:], uint64(res.ID))
	tag, err := ptx.Conn().PgConn().CopyFrom(ctx, stream, "COPY incidents ("+copyColumns+") FROM STDIN WITH (FORMAT binary)")
	if err != nil {
		return res, err
	}
	res.Accepted = stream.rows
	if tag.RowsAffected() != int64(res.Accepted) {
		return res, fmt.Errorf("bulk insert: COPY stored %d incidents of %d", tag.RowsAffected(), res.Accepted)
	}
	if res.Accepted == 0 {
		return res, ErrBulkEmpty
	}
	if err := s.bulkTail(ctx, t, nb, &res, rawID, rejects); err != nil {
		ptx.Rollback(ctx)
		return s.bulkRace(ctx, nb, res, err)
	}
	return res, ptx.Commit(ctx)
}

// bulkHead writes the raw submission and report rows (PostgreSQL), to be
// completed by bulkTail.
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
	// The counts are set at the end (an upload without a row is not stored
	// at all).
	res.ID, err = s.insertReportRow(ctx, t, res.Receipt, &NewReport{Report: nb.Report, Channel: nb.Channel, ReceivedAt: at}, rawID, 0, nil, 0)
	if err != nil {
		return res, 0, err
	}
	if err := s.recordConsent(ctx, t, res.ID, nb.Report.ShareContactWithCustomer, nb.Channel, at); err != nil {
		return res, 0, err
	}
	return res, rawID, nil
}

// bulkTail stores the raw upload, the report's final counts and the import
// session (PostgreSQL).
func (s *Store) bulkTail(ctx context.Context, t tx, nb *NewBulk, res *BulkResult, rawID int64, rejects func() (int, []BulkReject)) error {
	r, ct, sha, size, err := nb.Raw()
	if err != nil {
		return fmt.Errorf("raw upload: %w", err)
	}
	if err := s.storeRawRest(ctx, t, r, &rawProgress{rawID: rawID}); err != nil {
		return err
	}
	if err := t.exec(ctx, s.Q("update-raw-meta"), rawID, sha, size, ct); err != nil {
		return err
	}
	fin := s.bulkFinish(nb, &report.Report{})
	if err := t.exec(ctx, s.Q("finish-bulk-report"), res.ID, res.Accepted, fin.NotOurs, fin.Lane, outcomeOrNil(fin.Outcome), fin.Rule); err != nil {
		return err
	}
	if err := s.queueForCases(ctx, t, res.ID, fin.Group, nb.Channel); err != nil {
		return err
	}
	return s.bulkSession(ctx, t, nb, res, rejects)
}

// bulkFinish asks nb what the rows decided (lane, outcome, count of rows
// not ours) and sets it on rep.
func (s *Store) bulkFinish(nb *NewBulk, rep *report.Report) BulkFinish {
	var fin BulkFinish
	if nb.Finish != nil {
		fin = nb.Finish()
	}
	if fin.Lane == "" {
		fin.Lane, fin.Rule = nb.Report.Lane, nb.Report.Rule
	}
	rep.Lane, rep.Outcome, rep.NotOurs, rep.Rule = fin.Lane, fin.Outcome, fin.NotOurs, fin.Rule
	return fin
}

// storeRawRest stores the raw upload r after the part raw says is stored.
func (s *Store) storeRawRest(ctx context.Context, t tx, r io.Reader, raw *rawProgress) error {
	if raw.stored > 0 {
		var err error
		if sk, ok := r.(io.Seeker); ok {
			_, err = sk.Seek(raw.stored, io.SeekStart)
		} else {
			_, err = io.CopyN(io.Discard, r, raw.stored)
		}
		if err != nil {
			return fmt.Errorf("raw upload: %w", err)
		}
	}
	buf := make([]byte, RawChunkSize)
	for seq := raw.seq; ; seq++ {
		n, err := io.ReadFull(r, buf)
		if n > 0 || seq == 0 {
			if err := t.exec(ctx, s.Q("insert-raw-chunk"), raw.rawID, seq, buf[:n]); err != nil {
				return err
			}
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("raw upload: %w", err)
		}
	}
}

// bulkSession records the import session and claims the Idempotency-Key.
func (s *Store) bulkSession(ctx context.Context, t tx, nb *NewBulk, res *BulkResult, rejects func() (int, []BulkReject)) error {
	nrej, list := rejects()
	var err error
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
