package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"abusedesk/internal/report"
)

// CounterNoticeRow is a stored DMCA counter-notice (17 U.S.C. § 512(g)),
// with its restore window. Zero times are NULL.
type CounterNoticeRow struct {
	ID, CaseID int64
	Account    string
	Notice     []byte // the submitted dmca.CounterNotice, as JSON

	ReceivedAt, ForwardedAt, RestoreEarliest, RestoreLatest, CourtActionAt, RestoredAt time.Time
}

// ErrCourtAction is returned when material is to be put back although the
// complainant has filed an action seeking a court order: it stays down.
var ErrCourtAction = errors.New("court action filed: the material stays down")

// InsertCounterNoticeTx stores a complete counter-notice in the caller's
// transaction (the caller also writes the audit entry and a mail event).
// ReceivedAt and the restore window are required.
func (s *Store) InsertCounterNoticeTx(ctx context.Context, tx *sql.Tx, r *CounterNoticeRow) (int64, error) {
	if r.ReceivedAt.IsZero() || r.RestoreEarliest.IsZero() || r.RestoreLatest.IsZero() {
		return 0, errors.New("store: counter-notice without its receipt time or restore window")
	}
	var id int64
	err := tx.QueryRowContext(ctx, s.Q("insert-counter-notice"), r.CaseID, r.Account, string(r.Notice),
		r.ReceivedAt.UnixMilli(), msOrNil(r.ForwardedAt), r.RestoreEarliest.UnixMilli(), r.RestoreLatest.UnixMilli(),
		msOrNil(r.CourtActionAt), msOrNil(r.RestoredAt)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("insert counter-notice: %w", err)
	}
	r.ID = id
	return id, nil
}

// CounterNotices lists a case's counter-notices, oldest first.
func (s *Store) CounterNotices(ctx context.Context, caseID int64) ([]CounterNoticeRow, error) {
	rows, err := s.R.QueryContext(ctx, s.Q("counter-notices-of-case"), caseID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []CounterNoticeRow
	for rows.Next() {
		var r CounterNoticeRow
		var notice string
		var received, earliest, latest int64
		var forwarded, court, restored sql.NullInt64
		if err := rows.Scan(&r.ID, &r.CaseID, &r.Account, &notice, &received, &forwarded, &earliest, &latest, &court, &restored); err != nil {
			return nil, err
		}
		r.Notice = []byte(notice)
		r.ReceivedAt, r.RestoreEarliest, r.RestoreLatest = time.UnixMilli(received).UTC(), time.UnixMilli(earliest).UTC(), time.UnixMilli(latest).UTC()
		r.ForwardedAt, r.CourtActionAt, r.RestoredAt = fromMs(forwarded), fromMs(court), fromMs(restored)
		out = append(out, r)
	}
	return out, rows.Err()
}

// SetCounterNoticeForwarded records when the counter-notice was forwarded
// to the complainant (§ 512(g)(2)(B)); the first time is kept.
func (s *Store) SetCounterNoticeForwarded(ctx context.Context, id int64, at time.Time) error {
	res, err := s.W.ExecContext(ctx, s.Q("set-counter-notice-forwarded"), id, at.UnixMilli())
	return cnAffected(res, err)
}

// SetCounterNoticeForwardedTx is SetCounterNoticeForwarded inside the
// transaction that queues the forwarding mails.
func (s *Store) SetCounterNoticeForwardedTx(ctx context.Context, t *sql.Tx, id int64, at time.Time) error {
	res, err := t.ExecContext(ctx, s.Q("set-counter-notice-forwarded"), id, at.UnixMilli())
	return cnAffected(res, err)
}

// RecordCourtActionTx records, in the caller's transaction, that the
// designated agent received notice of an action seeking a court order
// against the subscriber: it ends the restore window of the case's open
// counter-notices (neither restored nor already ended). It reports false
// when the case has none.
func (s *Store) RecordCourtActionTx(ctx context.Context, tx *sql.Tx, caseID int64, at time.Time) (bool, error) {
	res, err := tx.ExecContext(ctx, s.Q("record-court-action"), caseID, at.UnixMilli())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// MarkRestored records that the material of a counter-notice was put back.
// A counter-notice already restored keeps its first time (nil error); one
// ended by a court action gets ErrCourtAction; an unknown id ErrNotFound.
func (s *Store) MarkRestored(ctx context.Context, id int64, at time.Time) error {
	res, err := s.W.ExecContext(ctx, s.Q("mark-counter-notice-restored"), id, at.UnixMilli())
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return err
	}
	var court, restored sql.NullInt64
	if err := s.W.QueryRowContext(ctx, s.Q("counter-notice-state"), id).Scan(&court, &restored); err != nil {
		if isNoRows(err) {
			return ErrNotFound
		}
		return err
	}
	if court.Valid {
		return ErrCourtAction
	}
	return nil
}

// DMCAStrikes counts an account's strikes as a repeat infringer (§
// 512(i)(1)(A)) since a time: its DMCA cases (category dmca) closed at or
// after since with outcome ACTIONED or CONTENT_DOWN_OR_INACCESSIBLE, except
// those with a counter-notice and no court action after it, whose material
// came back lawfully (a counter-notice still in its window counts as such:
// the subscriber disputes the claim).
func (s *Store) DMCAStrikes(ctx context.Context, account string, since time.Time) (int, error) {
	var n int
	err := s.R.QueryRowContext(ctx, s.Q("dmca-strikes"), account, report.OutcomeActioned, report.OutcomeContentDown, since.UnixMilli()).Scan(&n)
	return n, err
}

// cnAffected turns an UPDATE of one row by id into ErrNotFound when no row
// matched.
func cnAffected(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}
