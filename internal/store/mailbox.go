package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// States of an inbound mail (see migration 00008).
const (
	InboundNew        = "new"
	InboundReport     = "report"
	InboundReply      = "reply"
	InboundIncomplete = "incomplete"
	InboundReview     = "review"
	InboundBounce     = "bounce"
	InboundIgnored    = "ignored"
	InboundDone       = "done"
)

// InboundStates in the order the console lists them.
var InboundStates = []string{InboundReview, InboundIncomplete, InboundBounce, InboundNew, InboundReport, InboundReply, InboundIgnored, InboundDone}

// InboundMail is one mail the SMTP listener accepted.
type InboundMail struct {
	ID         int64
	PublicID   string // M-…
	ReceivedAt time.Time
	RemoteAddr string
	Helo       string
	MailFrom   string   // the envelope's reverse-path; "" for <>
	RcptTo     []string // the envelope's accepted recipients
	TLS        bool
	Size       int
	SHA256     string
	Raw        []byte // nil when listed

	State       string
	Parser      string
	From        string // the From header's address
	Subject     string
	MessageID   string
	Machine     bool
	CaseID      int64
	Detail      map[string]any
	Attempts    int
	ProcessedAt time.Time
	HandledBy   string
	HandledAt   time.Time
}

// InsertInbound commits a mail as received, with its SHA-256, before the
// SMTP listener says 250. It fills ID, PublicID, SHA256 and Size.
func (s *Store) InsertInbound(ctx context.Context, m *InboundMail) error {
	sum := sha256.Sum256(m.Raw)
	m.SHA256, m.Size, m.PublicID, m.State = hex.EncodeToString(sum[:]), len(m.Raw), NewPublicID("M-"), InboundNew
	if m.ReceivedAt.IsZero() {
		m.ReceivedAt = time.Now()
	}
	return s.W.QueryRowContext(ctx, s.Q("insert-inbound"), m.PublicID, m.ReceivedAt.UnixMilli(), m.RemoteAddr, m.Helo,
		m.MailFrom, strings.Join(m.RcptTo, ","), m.TLS, m.Size, m.SHA256, m.Raw).Scan(&m.ID)
}

// PendingInbound returns ids of mails waiting for the processor, oldest
// first, after the given id.
func (s *Store) PendingInbound(ctx context.Context, after int64, limit int) ([]int64, error) {
	rows, err := s.R.QueryContext(ctx, s.Q("pending-inbound"), after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

func scanInbound(row interface{ Scan(...any) error }) (*InboundMail, error) {
	var (
		m                  InboundMail
		rcpt, detail       string
		received           int64
		processed, handled sql.NullInt64
	)
	err := row.Scan(&m.ID, &m.PublicID, &received, &m.RemoteAddr, &m.Helo, &m.MailFrom, &rcpt, &m.TLS, &m.Size, &m.SHA256, &m.Raw,
		&m.State, &m.Parser, &m.From, &m.Subject, &m.MessageID, &m.Machine, &m.CaseID, &detail, &m.Attempts, &processed,
		&m.HandledBy, &handled)
	if err == sql.ErrNoRows {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	m.ReceivedAt = time.UnixMilli(received).UTC()
	if rcpt != "" {
		m.RcptTo = strings.Split(rcpt, ",")
	}
	m.ProcessedAt, m.HandledAt = fromMs(processed), fromMs(handled)
	if err := json.Unmarshal([]byte(detail), &m.Detail); err != nil {
		m.Detail = map[string]any{"unreadable_detail": detail}
	}
	return &m, nil
}

// InboundByID returns a mail with its raw bytes.
func (s *Store) InboundByID(ctx context.Context, id int64) (*InboundMail, error) {
	return scanInbound(s.R.QueryRowContext(ctx, s.Q("inbound-by-id"), id))
}

// InboundByPublicID returns a mail with its raw bytes.
func (s *Store) InboundByPublicID(ctx context.Context, pub string) (*InboundMail, error) {
	return scanInbound(s.R.QueryRowContext(ctx, s.Q("inbound-by-public-id"), pub))
}

func (s *Store) listInbound(ctx context.Context, q string, args ...any) ([]InboundMail, error) {
	rows, err := s.R.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []InboundMail
	for rows.Next() {
		m, err := scanInbound(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *m)
	}
	return out, rows.Err()
}

// InboundVerdict is what the processor decided for a mail.
type InboundVerdict struct {
	State     string
	Parser    string
	From      string
	Subject   string
	MessageID string
	Machine   bool
	CaseID    int64
	Detail    map[string]any
	At        time.Time
}

// ErrInboundDone is returned when a mail was no longer waiting: another
// processor finished it first.
var ErrInboundDone = fmt.Errorf("inbound mail already processed")

// FinishInboundTx records the verdict inside the caller's transaction, so
// that what the mail caused (a message on a case, a mail event) and its
// state change commit together.
func (s *Store) FinishInboundTx(ctx context.Context, t *sql.Tx, id int64, v InboundVerdict) error {
	detail, err := json.Marshal(v.Detail)
	if err != nil {
		return err
	}
	res, err := t.ExecContext(ctx, s.Q("finish-inbound"), id, v.State, v.Parser, clipText(v.From, 320), clipText(v.Subject, 998),
		clipText(v.MessageID, 998), v.Machine, idOrNil(v.CaseID), string(detail), v.At.UnixMilli())
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrInboundDone
	}
	return nil
}

// FinishInbound is FinishInboundTx in a transaction of its own, with the
// mail events it must send (an acknowledgement, what is missing).
func (s *Store) FinishInbound(ctx context.Context, id int64, v InboundVerdict, events ...MailEvent) error {
	t, err := s.W.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer t.Rollback()
	if err := s.FinishInboundTx(ctx, t, id, v); err != nil {
		return err
	}
	for _, ev := range events {
		if err := s.AddMailEventTx(ctx, t, ev); err != nil {
			return err
		}
	}
	return t.Commit()
}

// InboundAttemptFailed counts a failed processing attempt (the mail stays
// new and is tried again) and notes the error.
func (s *Store) InboundAttemptFailed(ctx context.Context, id int64, problem string) error {
	d, _ := json.Marshal(map[string]any{"last_error": clipText(problem, 2000)})
	_, err := s.W.ExecContext(ctx, s.Q("inbound-failed-attempt"), id, string(d))
	return err
}

// HandleInbound marks a review entry handled by an analyst, with a note.
func (s *Store) HandleInbound(ctx context.Context, id int64, actor, note string, now time.Time) error {
	m, err := s.InboundByID(ctx, id)
	if err != nil {
		return err
	}
	if m.Detail == nil {
		m.Detail = map[string]any{}
	}
	m.Detail["handled_note"] = clipText(note, 2000)
	d, _ := json.Marshal(m.Detail)
	res, err := s.W.ExecContext(ctx, s.Q("handle-inbound"), id, actor, now.UnixMilli(), string(d))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrInboundDone
	}
	return nil
}

// RequeueInbound sends a mail through the processor again (after a parser
// was fixed, say). Reports it already made are not made twice: their
// idempotency keys name the mail.
func (s *Store) RequeueInbound(ctx context.Context, id int64) error {
	_, err := s.W.ExecContext(ctx, s.Q("requeue-inbound"), id)
	return err
}

// InboundFilter selects mails for the console.
type InboundFilter struct {
	State  string
	Parser string
	Before int64
	Limit  int
}

// ListInbound returns mails newest first, without their raw bytes.
func (s *Store) ListInbound(ctx context.Context, f InboundFilter) ([]InboundMail, error) {
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
	if f.Parser != "" {
		add("parser = $%d", f.Parser)
	}
	if f.Before != 0 {
		add("id < $%d", f.Before)
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	q := `SELECT id, public_id, received_at, remote_addr, helo, mail_from, rcpt_to, tls, size, sha256, NULL, state, parser,
    from_addr, subject, message_id, machine, coalesce(case_id, 0), detail, attempts, processed_at, handled_by, handled_at
FROM inbound_mails`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, f.Limit)
	q += fmt.Sprintf(" ORDER BY id DESC LIMIT $%d", len(args))
	return s.listInbound(ctx, q, args...)
}

// ParserCount is how many mails one parser saw since a time, by outcome.
type ParserCount struct {
	Parser  string
	State   string
	Machine bool
	N       int
}

// InboundCounts counts mails received since a time by parser and state:
// the console's "per parser" table, where a sender's format change shows
// as a drop in one line.
func (s *Store) InboundCounts(ctx context.Context, since time.Time) ([]ParserCount, error) {
	rows, err := s.R.QueryContext(ctx, s.Q("inbound-counts"), since.UnixMilli())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ParserCount
	for rows.Next() {
		var c ParserCount
		if err := rows.Scan(&c.Parser, &c.State, &c.Machine, &c.N); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// InboundStateCounts counts every mail by state.
func (s *Store) InboundStateCounts(ctx context.Context) (map[string]int, error) {
	return s.countBy(ctx, s.Q("inbound-state-counts"))
}

// OutboxByMessageID finds one of the desk's mails by its Message-ID: a reply
// that lost the Reply-To token still names it in In-Reply-To (RFC 5322
// §3.6.4).
func (s *Store) OutboxByMessageID(ctx context.Context, messageID string) (*OutboxMail, error) {
	return scanOutbox(s.R.QueryRowContext(ctx, s.Q("outbox-by-message-id"), messageID), true)
}

func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
