package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Outbox states. A mail is queued until delivered (sent) or given up on
// (failed: refused by the relay, or out of attempts).
const (
	OutboxQueued = "queued"
	OutboxSent   = "sent"
	OutboxFailed = "failed"
)

// Results of a delivery attempt (outbox_attempts.result).
const (
	AttemptSent     = "sent"
	AttemptDeferred = "deferred"
	AttemptFailed   = "failed"
)

// OutboxMail is a mail of the outbox, composed once: Raw holds its RFC 5322
// bytes as they go on the wire.
type OutboxMail struct {
	ID         int64
	MessageID  string
	DedupeKey  string // one mail per occasion: inserting the same key twice is ErrExists
	Kind       string
	CaseID     int64 // 0 = none
	ReportID   int64 // 0 = none
	Party      string
	Recipient  string
	From       string
	Subject    string
	Language   string
	ReplyToken string
	Raw        []byte
	State      string
	Attempts   int
	// RoundStart is Attempts when the mail was last queued again from the
	// console: the attempts of the current round are Attempts-RoundStart.
	RoundStart int
	LastError  string

	NextAttemptAt time.Time // zero = NULL
	CreatedAt     time.Time
	SentAt        time.Time // zero = NULL
}

// OutboxAttempt is one delivery attempt of a mail.
type OutboxAttempt struct {
	Attempt int
	At      time.Time
	Result  string // AttemptSent, AttemptDeferred, AttemptFailed
	Code    int    // the relay's reply code, 0 when none (network error)
	Detail  string
}

// OutboxFilter selects mails for ListOutbox; zero fields do not filter.
type OutboxFilter struct {
	State    string
	CaseID   int64
	ReportID int64
	Before   int64 // keyset: mails with a smaller id; 0 = from the newest
	Limit    int   // default 50
}

func outboxNullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func outboxTime(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMilli(v.Int64)
}

// InsertOutboxTx inserts m, queued, inside the caller's transaction and
// returns its id. When a mail with the same DedupeKey exists it returns
// ErrExists and the transaction stays usable (ON CONFLICT DO NOTHING: on
// PostgreSQL a failed statement would abort it). A zero CreatedAt means now.
func (s *Store) InsertOutboxTx(ctx context.Context, tx *sql.Tx, m *OutboxMail) (int64, error) {
	created := m.CreatedAt
	if created.IsZero() {
		created = time.Now()
	}
	raw := m.Raw
	if raw == nil {
		raw = []byte{}
	}
	var id int64
	ok, err := sqlTx{tx, s}.scan(ctx, s.Q("insert-outbox"), []any{m.MessageID, m.DedupeKey, m.Kind,
		outboxNullID(m.CaseID), outboxNullID(m.ReportID), m.Party, m.Recipient, m.From, m.Subject, m.Language,
		m.ReplyToken, raw, created.UnixMilli()}, &id)
	if err != nil {
		return 0, fmt.Errorf("outbox insert: %w", err)
	}
	if !ok {
		return 0, fmt.Errorf("outbox mail %q: %w", m.DedupeKey, ErrExists)
	}
	return id, nil
}

// scanOutbox reads a row of outbox-by-id (withRaw) or outbox-list.
func scanOutbox(row interface{ Scan(...any) error }, withRaw bool) (*OutboxMail, error) {
	var (
		m                     OutboxMail
		caseID, reportID      sql.NullInt64
		next, created, sentAt sql.NullInt64
	)
	dest := []any{&m.ID, &m.MessageID, &m.DedupeKey, &m.Kind, &caseID, &reportID, &m.Party, &m.Recipient,
		&m.From, &m.Subject, &m.Language, &m.ReplyToken}
	if withRaw {
		dest = append(dest, &m.Raw)
	}
	dest = append(dest, &m.State, &m.Attempts, &m.RoundStart, &m.LastError, &next, &created, &sentAt)
	if err := row.Scan(dest...); err != nil {
		if isNoRows(err) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	m.CaseID, m.ReportID = caseID.Int64, reportID.Int64
	m.NextAttemptAt, m.CreatedAt, m.SentAt = outboxTime(next), outboxTime(created), outboxTime(sentAt)
	return &m, nil
}

// OutboxByID returns a mail with its raw bytes.
func (s *Store) OutboxByID(ctx context.Context, id int64) (*OutboxMail, error) {
	return scanOutbox(s.R.QueryRowContext(ctx, s.Q("outbox-by-id"), id), true)
}

// OutboxByReplyToken returns the mail whose Reply-To carried token, to
// attribute a reply to its case and recipient.
func (s *Store) OutboxByReplyToken(ctx context.Context, token string) (*OutboxMail, error) {
	return scanOutbox(s.R.QueryRowContext(ctx, s.Q("outbox-by-reply-token"), token), true)
}

// ListOutbox returns mails newest first, without their raw bytes.
func (s *Store) ListOutbox(ctx context.Context, f OutboxFilter) ([]OutboxMail, error) {
	var (
		where []string
		args  []any
	)
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.State != "" {
		add("state = $%d", f.State)
	}
	if f.CaseID != 0 {
		add("case_id = $%d", f.CaseID)
	}
	if f.ReportID != 0 {
		add("report_id = $%d", f.ReportID)
	}
	if f.Before != 0 {
		add("id < $%d", f.Before)
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	q := s.Q("outbox-list")
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, f.Limit)
	q += fmt.Sprintf(" ORDER BY id DESC LIMIT $%d", len(args))
	rows, err := s.R.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []OutboxMail
	for rows.Next() {
		m, err := scanOutbox(rows, false)
		if err != nil {
			return nil, err
		}
		out = append(out, *m)
	}
	return out, rows.Err()
}

// OutboxAttempts returns a mail's delivery attempts, oldest first.
func (s *Store) OutboxAttempts(ctx context.Context, id int64) ([]OutboxAttempt, error) {
	rows, err := s.R.QueryContext(ctx, s.Q("outbox-attempts"), id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []OutboxAttempt
	for rows.Next() {
		var a OutboxAttempt
		var at int64
		if err := rows.Scan(&a.Attempt, &at, &a.Result, &a.Code, &a.Detail); err != nil {
			return nil, err
		}
		a.At = time.UnixMilli(at)
		out = append(out, a)
	}
	return out, rows.Err()
}

// OutboxCounts returns how many mails are in each state.
func (s *Store) OutboxCounts(ctx context.Context) (map[string]int, error) {
	return s.countBy(ctx, s.Q("outbox-counts"))
}

// countBy reads a query of (key, count) rows into a map.
func (s *Store) countBy(ctx context.Context, q string) (map[string]int, error) {
	rows, err := s.R.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return nil, err
		}
		out[state] = n
	}
	return out, rows.Err()
}

// ClaimOutbox takes a queued mail for one delivery attempt: it succeeds
// only if the mail is still queued with the given number of attempts and
// is due at now (next_attempt_at NULL or past). The claim holds until
// leaseUntil (stored as next_attempt_at), so a duplicate job for the same
// mail neither sends it again meanwhile nor, if the worker dies, forever.
func (s *Store) ClaimOutbox(ctx context.Context, id int64, attempts int, now, leaseUntil time.Time) (bool, error) {
	res, err := s.outboxExec(ctx, nil, s.Q("outbox-claim"), id, attempts, now.UnixMilli(), leaseUntil.UnixMilli())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// outboxExec runs q on tx, or on the writer when tx is nil, with the
// statement prepared at open on SQLite.
func (s *Store) outboxExec(ctx context.Context, tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	st := s.stmts[q] // nil map on PostgreSQL: pgx caches statements itself
	switch {
	case st != nil && tx != nil:
		return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	case st != nil:
		return st.ExecContext(ctx, args...)
	case tx != nil:
		return tx.ExecContext(ctx, q, args...)
	}
	return s.W.ExecContext(ctx, q, args...)
}

// markOutbox writes attempt's row and the mail's new state in tx. The
// update is conditional on the mail being queued; the attempts' primary
// key refuses a second record of the same attempt.
func (s *Store) markOutbox(ctx context.Context, tx *sql.Tx, id int64, attempt, code int, result, detail string, at time.Time, update string, args ...any) error {
	t := sqlTx{tx, s}
	if err := t.exec(ctx, s.Q("outbox-insert-attempt"), id, attempt, at.UnixMilli(), result, code, detail); err != nil {
		return fmt.Errorf("outbox %d attempt %d: %w", id, attempt, err)
	}
	res, err := s.outboxExec(ctx, tx, s.Q(update), append([]any{id, attempt}, args...)...)
	if err != nil {
		return fmt.Errorf("outbox %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n != 1 {
		return fmt.Errorf("outbox %d is not queued: %w", id, ErrNotFound)
	}
	return nil
}

// outboxTx runs fn in a transaction of the writer and commits it.
func (s *Store) outboxTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.W.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// MarkOutboxSent records a delivered attempt: the relay took the mail.
func (s *Store) MarkOutboxSent(ctx context.Context, id int64, attempt int, code int, detail string, at time.Time) error {
	return s.outboxTx(ctx, func(tx *sql.Tx) error {
		return s.markOutbox(ctx, tx, id, attempt, code, AttemptSent, detail, at, "outbox-mark-sent", at.UnixMilli())
	})
}

// MarkOutboxDeferred records a transient failure; the mail stays queued
// until next.
func (s *Store) MarkOutboxDeferred(ctx context.Context, id int64, attempt int, code int, detail string, next time.Time, at time.Time) error {
	return s.outboxTx(ctx, func(tx *sql.Tx) error {
		return s.MarkOutboxDeferredTx(ctx, tx, id, attempt, code, detail, next, at)
	})
}

// MarkOutboxDeferredTx is MarkOutboxDeferred in the caller's transaction,
// which also enqueues the job of the next attempt.
func (s *Store) MarkOutboxDeferredTx(ctx context.Context, tx *sql.Tx, id int64, attempt, code int, detail string, next, at time.Time) error {
	return s.markOutbox(ctx, tx, id, attempt, code, AttemptDeferred, detail, at, "outbox-mark-deferred", detail, next.UnixMilli())
}

// MarkOutboxFailed records a permanent failure (or the last attempt): the
// mail is failed and shown as such in the console.
func (s *Store) MarkOutboxFailed(ctx context.Context, id int64, attempt int, code int, detail string, at time.Time) error {
	return s.outboxTx(ctx, func(tx *sql.Tx) error {
		return s.markOutbox(ctx, tx, id, attempt, code, AttemptFailed, detail, at, "outbox-mark-failed", detail)
	})
}

// RequeueOutboxTx puts a failed mail back in the queue, due at once (the
// console's "retry"), for a fresh round of attempts (the attempts so far
// stay in its history). The caller enqueues its
// job in the same transaction. A mail that is not failed is ErrNotFound.
func (s *Store) RequeueOutboxTx(ctx context.Context, tx *sql.Tx, id int64, at time.Time) error {
	res, err := s.outboxExec(ctx, tx, s.Q("outbox-requeue"), id, at.UnixMilli())
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n != 1 {
		return fmt.Errorf("outbox %d is not failed: %w", id, ErrNotFound)
	}
	return nil
}
