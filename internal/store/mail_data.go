package store

import (
	"context"
	"database/sql"
	"time"
)

// MailReport is what a mail to a reporter needs of their report.
type MailReport struct {
	ID            int64
	PublicID      string
	Type, Subtype string
	Channel       string
	Status        string
	Outcome       string
	Language      string
	ReporterName  string
	ReporterEmail string
	Items         int
	NotOurs       int
	CreatedAt     time.Time
}

// MailReportByID reads a report for a mail.
func (s *Store) MailReportByID(ctx context.Context, id int64) (*MailReport, error) {
	var r MailReport
	var created any
	err := s.R.QueryRowContext(ctx, s.Q("mail-report"), id).Scan(&r.ID, &r.PublicID, &r.Type, &r.Subtype, &r.Channel, &r.Status,
		&r.Outcome, &r.Language, &r.ReporterName, &r.ReporterEmail, &r.Items, &r.NotOurs, &created)
	if isNoRows(err) {
		return nil, ErrNotFound
	}
	r.CreatedAt = anyTime(created)
	return &r, err
}

// MailLegal is what the acknowledgement of a legal request needs.
type MailLegal struct {
	PublicID, Language, Name, Email, Reference string
	CreatedAt                                  time.Time
}

// MailLegalByID reads a legal request for its acknowledgement.
func (s *Store) MailLegalByID(ctx context.Context, id int64) (*MailLegal, error) {
	var l MailLegal
	var created any
	err := s.R.QueryRowContext(ctx, s.Q("mail-legal-request"), id).Scan(&l.PublicID, &l.Language, &l.Name, &l.Email, &l.Reference, &created)
	if isNoRows(err) {
		return nil, ErrNotFound
	}
	l.CreatedAt = anyTime(created)
	return &l, err
}

// ReminderCandidates lists notified cases whose deadline falls in (from, to].
func (s *Store) ReminderCandidates(ctx context.Context, from, to time.Time, limit int) ([]int64, error) {
	return s.ids(ctx, s.Q("reminder-candidates"), from.UnixMilli(), to.UnixMilli(), limit)
}

// LastNotifyAt is when the customer was last notified of a case (zero: never).
func (s *Store) LastNotifyAt(ctx context.Context, caseID int64) (time.Time, error) {
	var at sql.NullInt64
	err := s.R.QueryRowContext(ctx, s.Q("last-notify-at"), caseID).Scan(&at)
	return fromMs(at), err
}

// OutboxHas says whether a mail with this dedupe key was already composed.
func (s *Store) OutboxHas(ctx context.Context, key string) (bool, error) {
	var one int
	err := s.R.QueryRowContext(ctx, s.Q("outbox-dedupe-exists"), key).Scan(&one)
	if isNoRows(err) {
		return false, nil
	}
	return err == nil, err
}
