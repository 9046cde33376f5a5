package store

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Mail event kinds: what happened that someone must be told of. They are
// written in the transaction of the change itself; internal/notify turns
// each into mails (or none) and deletes it.
const (
	EventReportReceived = "report.received"      // reporter: acknowledgement, or "not our address"
	EventLegalReceived  = "legal.received"       // authority: legal-request acknowledgement
	EventCaseNotified   = "case.notified"        // customer: the notice
	EventInfoRequested  = "case.info_requested"  // reporters: need more information
	EventCaseClosed     = "case.closed"          // reporters: the outcome
	EventCaseEscalated  = "case.escalated"       // customer: deadline passed
	EventCaseExtended   = "case.extended"        // customer: extension granted
	EventPortalLogin    = "portal.login"         // customer: a magic link asked for
	EventCounterNotice  = "counter_notice.filed" // complainant: the counter-notice forwarded
	EventMailIncomplete = "mail.incomplete"      // a person who mailed abuse@: what their report lacks
)

// MailEvent is one row of mail_events.
type MailEvent struct {
	ID       int64
	Kind     string
	CaseID   int64 // 0: none
	ReportID int64 // 0: none
	Detail   map[string]any
	At       time.Time
}

func idOrNil(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// AddMailEventTx writes an event inside the caller's transaction.
func (s *Store) AddMailEventTx(ctx context.Context, t *sql.Tx, ev MailEvent) error {
	args, err := s.mailEventArgs(ev)
	if err != nil {
		return err
	}
	_, err = t.ExecContext(ctx, s.Q("insert-mail-event"), args...)
	return err
}

// AddMailEvent writes an event in a transaction of its own.
func (s *Store) AddMailEvent(ctx context.Context, ev MailEvent) error {
	args, err := s.mailEventArgs(ev)
	if err != nil {
		return err
	}
	_, err = s.W.ExecContext(ctx, s.Q("insert-mail-event"), args...)
	return err
}

func (s *Store) mailEventArgs(ev MailEvent) ([]any, error) {
	detail := []byte("{}")
	if len(ev.Detail) > 0 {
		var err error
		if detail, err = json.Marshal(ev.Detail); err != nil {
			return nil, err
		}
	}
	if ev.At.IsZero() {
		ev.At = time.Now()
	}
	return []any{ev.Kind, idOrNil(ev.CaseID), idOrNil(ev.ReportID), string(detail), ev.At.UnixMilli()}, nil
}

// MailEvents reads the oldest pending events after id after.
func (s *Store) MailEvents(ctx context.Context, after int64, limit int) ([]MailEvent, error) {
	rows, err := s.R.QueryContext(ctx, s.Q("mail-events"), after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []MailEvent
	for rows.Next() {
		var ev MailEvent
		var caseID, reportID sql.NullInt64
		var detail string
		var at int64
		if err := rows.Scan(&ev.ID, &ev.Kind, &caseID, &reportID, &detail, &at); err != nil {
			return nil, err
		}
		ev.CaseID, ev.ReportID, ev.At = caseID.Int64, reportID.Int64, time.UnixMilli(at).UTC()
		if err := json.Unmarshal([]byte(detail), &ev.Detail); err != nil {
			return nil, fmt.Errorf("mail event %d: %w", ev.ID, err)
		}
		out = append(out, ev)
	}
	return out, rows.Err()
}

// DeleteMailEventTx removes a handled event inside the transaction that
// queued its mails: an event is handled once.
func (s *Store) DeleteMailEventTx(ctx context.Context, t *sql.Tx, id int64) error {
	_, err := t.ExecContext(ctx, s.Q("delete-mail-event"), id)
	return err
}

// PendingMailEvents counts the events not yet turned into mails.
func (s *Store) PendingMailEvents(ctx context.Context) (int, error) {
	var n int
	err := s.R.QueryRowContext(ctx, s.Q("count-mail-events")).Scan(&n)
	return n, err
}

// AddStatusTokenTx makes a new status link for a report and returns its
// token: each mail to a reporter carries one, since only the hash of the
// token given at intake is kept.
func (s *Store) AddStatusTokenTx(ctx context.Context, t *sql.Tx, reportID int64, at time.Time) (string, error) {
	tok := NewToken()
	_, err := t.ExecContext(ctx, s.Q("insert-status-token"), HashToken(tok), reportID, at.UnixMilli())
	return tok, err
}

// ReportByStatusToken finds the report a status token opens: the token
// given at intake or one mailed since. ErrNotFound otherwise.
func (s *Store) ReportByStatusToken(ctx context.Context, publicID, token string) (*ReportStatus, error) {
	st, err := s.ReportByPublicID(ctx, publicID)
	if err != nil {
		return nil, err
	}
	h := HashToken(token)
	if constantEqual(st.TokenHash, h) {
		return st, nil
	}
	var rid int64
	err = s.R.QueryRowContext(ctx, s.Q("status-token"), h).Scan(&rid)
	if err != nil || rid != st.ID {
		if err != nil && !isNoRows(err) {
			return nil, err
		}
		return nil, ErrNotFound
	}
	return st, nil
}

// Consent parties and scopes.
const (
	PartyReporter = "reporter"
	PartyCustomer = "customer"
	PartyDesk     = "desk"

	ScopeReporterIdentity = "share_contact_with_customer"
	ScopeCustomerIdentity = "share_identity_with_reporter"
)

// Consent is one act in the ledger.
type Consent struct {
	ID       int64
	ReportID int64 // reporter consents
	CaseID   int64 // customer consents
	Party    string
	Scope    string
	Subject  string // the reporter's email, the account id
	Granted  bool   // false: withdrawn
	Channel  string // web_form, api, status_page, portal, portal_api, counter_notice…
	Actor    string
	At       time.Time
}

// RecordConsent appends an act to the ledger and to the audit trail of the
// cases it concerns, in one transaction.
func (s *Store) RecordConsent(ctx context.Context, c Consent) error {
	t, err := s.W.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer t.Rollback()
	if err := s.RecordConsentTx(ctx, t, c); err != nil {
		return err
	}
	return t.Commit()
}

// RecordConsentTx is RecordConsent inside the caller's transaction.
func (s *Store) RecordConsentTx(ctx context.Context, t *sql.Tx, c Consent) error {
	if c.At.IsZero() {
		c.At = time.Now()
	}
	switch {
	case c.Party == PartyReporter && c.ReportID != 0:
		c.Scope = ScopeReporterIdentity
	case c.Party == PartyCustomer && c.CaseID != 0:
		c.Scope = ScopeCustomerIdentity
	default:
		return fmt.Errorf("consent: party %q needs its report (reporter) or case (customer)", c.Party)
	}
	if err := s.lockCases(ctx, t); err != nil {
		return err
	}
	if _, err := t.ExecContext(ctx, s.Q("insert-consent-row"), idOrNil(c.ReportID), idOrNil(c.CaseID), c.Party, c.Scope,
		c.Subject, c.Granted, c.Channel, c.Actor, c.At.UTC()); err != nil {
		return err
	}
	act := "consent_withdrawn"
	if c.Granted {
		act = "consent_granted"
	}
	detail := map[string]any{"party": c.Party, "scope": c.Scope, "channel": c.Channel}
	caseIDs := []int64{c.CaseID}
	if c.ReportID != 0 {
		detail["report_id"] = c.ReportID
		ids, err := s.idsTx(ctx, t, s.Q("cases-of-report"), c.ReportID)
		if err != nil {
			return err
		}
		caseIDs = ids
		if len(ids) == 0 {
			caseIDs = []int64{0}
		}
	}
	for _, id := range caseIDs {
		pub := ""
		if id != 0 {
			if err := t.QueryRowContext(ctx, s.Q("case-public-id"), id).Scan(&pub); err != nil {
				return err
			}
		}
		if err := s.appendAudit(ctx, t, Audit{Actor: c.Actor, Action: act, CaseID: id, CasePub: pub, Detail: detail, At: c.At}); err != nil {
			return err
		}
	}
	return nil
}

// ReporterConsent says whether the reporter of a report agrees, now, to
// have their identity shown to the customer.
func (s *Store) ReporterConsent(ctx context.Context, reportID int64) (bool, error) {
	return s.latestConsent(ctx, "reporter-consent", reportID)
}

// CustomerConsent says whether the customer of a case agrees, now, to have
// its identity shown to the case's reporters.
func (s *Store) CustomerConsent(ctx context.Context, caseID int64) (bool, error) {
	return s.latestConsent(ctx, "customer-consent", caseID)
}

func (s *Store) latestConsent(ctx context.Context, q string, id int64) (bool, error) {
	var g bool
	err := s.R.QueryRowContext(ctx, s.Q(q), id).Scan(&g)
	if isNoRows(err) {
		return false, nil // never granted: the default
	}
	return g, err
}

// CaseConsents lists the ledger rows of a case and of its reports.
func (s *Store) CaseConsents(ctx context.Context, caseID int64) ([]Consent, error) {
	rows, err := s.R.QueryContext(ctx, s.Q("case-consents"), caseID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Consent
	for rows.Next() {
		var c Consent
		if err := rows.Scan(&c.ID, &c.ReportID, &c.CaseID, &c.Party, &c.Scope, &c.Subject, &c.Granted, &c.Channel, &c.Actor, &c.At); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Message states.
const (
	MessagePending = "pending" // relayed at RelayAt unless held
	MessageHeld    = "held"    // an analyst stopped it
	MessageRelayed = "relayed"
	MessageKept    = "kept" // for the desk only: nothing to relay
)

// Message is one message of a case's conversation.
type Message struct {
	ID        int64
	CaseID    int64
	ReportID  int64  // the reporter side: whose report (0: every reporter of the case)
	Sender    string // reporter, customer, desk
	Recipient string // reporter, customer, desk
	Kind      string // message, answer, question, notice…
	Body      string
	State     string
	RelayAt   time.Time
	DecidedBy string
	CreatedAt time.Time
	RelayedAt time.Time
}

// MaxMessageLen bounds a message's text, in characters.
const MaxMessageLen = 20000

// MessageText is the one rule for a message's text, whoever writes it: the
// text as stored (a form's line ends normalised, surrounding blank space
// gone), what is wrong with it ("required", "invalid" for text that is not
// UTF-8, "too_large" beyond MaxMessageLen characters, or ""), and its
// length in characters.
func MessageText(text string) (clean, problem string, chars int) {
	clean = strings.TrimSpace(strings.ReplaceAll(text, "\r\n", "\n"))
	chars = utf8.RuneCountInString(clean)
	switch {
	case clean == "":
		problem = "required"
	case !utf8.ValidString(clean):
		problem = "invalid"
	case chars > MaxMessageLen:
		problem = "too_large"
	}
	return clean, problem, chars
}

// AddMessageTx records a message inside the caller's transaction and
// audits it.
func (s *Store) AddMessageTx(ctx context.Context, t *sql.Tx, m *Message, actor string) (int64, error) {
	if m.CreatedAt.IsZero() {
		m.CreatedAt = time.Now()
	}
	if err := s.lockCases(ctx, t); err != nil {
		return 0, err
	}
	id, err := s.insertMessageTx(ctx, t, m)
	if err != nil {
		return 0, err
	}
	var pub string
	if err := t.QueryRowContext(ctx, s.Q("case-public-id"), m.CaseID).Scan(&pub); err != nil {
		return 0, err
	}
	return id, s.appendAudit(ctx, t, Audit{Actor: actor, Action: "message", CaseID: m.CaseID, CasePub: pub,
		Detail: map[string]any{"message": id, "from": m.Sender, "to": m.Recipient, "kind": m.Kind, "state": m.State}, At: m.CreatedAt})
}

// insertMessageTx writes the row only: a message that is part of a case
// action (the question of request_info) is audited with the action.
func (s *Store) insertMessageTx(ctx context.Context, t *sql.Tx, m *Message) (int64, error) {
	err := t.QueryRowContext(ctx, s.Q("insert-message"), m.CaseID, idOrNil(m.ReportID), m.Sender, m.Recipient, m.Kind, m.Body,
		m.State, msOrNil(m.RelayAt), m.DecidedBy, m.CreatedAt.UnixMilli(), msOrNil(m.RelayedAt)).Scan(&m.ID)
	return m.ID, err
}

// AddMessage is AddMessageTx in a transaction of its own.
func (s *Store) AddMessage(ctx context.Context, m *Message, actor string) (int64, error) {
	t, err := s.W.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer t.Rollback()
	id, err := s.AddMessageTx(ctx, t, m, actor)
	if err != nil {
		return 0, err
	}
	return id, t.Commit()
}

func scanMessage(row interface{ Scan(...any) error }) (*Message, error) {
	var m Message
	var relayAt, relayedAt sql.NullInt64
	var created int64
	if err := row.Scan(&m.ID, &m.CaseID, &m.ReportID, &m.Sender, &m.Recipient, &m.Kind, &m.Body, &m.State, &relayAt, &m.DecidedBy, &created, &relayedAt); err != nil {
		if isNoRows(err) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	m.RelayAt, m.RelayedAt, m.CreatedAt = fromMs(relayAt), fromMs(relayedAt), time.UnixMilli(created).UTC()
	return &m, nil
}

// CaseMessages lists a case's conversation, oldest first.
func (s *Store) CaseMessages(ctx context.Context, caseID int64) ([]Message, error) {
	rows, err := s.R.QueryContext(ctx, s.Q("case-messages"), caseID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *m)
	}
	return out, rows.Err()
}

// MessageByID reads one message.
func (s *Store) MessageByID(ctx context.Context, id int64) (*Message, error) {
	return scanMessage(s.R.QueryRowContext(ctx, s.Q("message"), id))
}

// MessageByIDTx reads one message inside t.
func (s *Store) MessageByIDTx(ctx context.Context, t *sql.Tx, id int64) (*Message, error) {
	return scanMessage(t.QueryRowContext(ctx, s.Q("message"), id))
}

// DueMessages lists pending messages whose relay time has come.
func (s *Store) DueMessages(ctx context.Context, now time.Time, limit int) ([]int64, error) {
	return s.ids(ctx, s.Q("due-messages"), now.UnixMilli(), limit)
}

// ErrMessageState refuses a hold or release that does not fit the
// message's state (already relayed, say).
var ErrMessageState = fmt.Errorf("message: not in a state that allows this")

// HoldMessage stops a pending message from being relayed; ReleaseMessage
// relays a held (or pending) one now. Both are audited.
func (s *Store) HoldMessage(ctx context.Context, id int64, actor string, now time.Time) error {
	return s.decideMessage(ctx, id, actor, now, MessageHeld)
}

// ReleaseMessage: see HoldMessage.
func (s *Store) ReleaseMessage(ctx context.Context, id int64, actor string, now time.Time) error {
	return s.decideMessage(ctx, id, actor, now, MessagePending)
}

func (s *Store) decideMessage(ctx context.Context, id int64, actor string, now time.Time, to string) error {
	t, err := s.W.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer t.Rollback()
	if err := s.lockCases(ctx, t); err != nil {
		return err
	}
	m, err := s.MessageByIDTx(ctx, t, id)
	if err != nil {
		return err
	}
	if m.State != MessagePending && m.State != MessageHeld {
		return ErrMessageState
	}
	var relayAt any
	action := "message_held"
	if to == MessagePending {
		relayAt, action = now.UnixMilli(), "message_released"
	}
	if _, err := t.ExecContext(ctx, s.Q("set-message-state"), id, to, relayAt, actor, nil); err != nil {
		return err
	}
	var pub string
	if err := t.QueryRowContext(ctx, s.Q("case-public-id"), m.CaseID).Scan(&pub); err != nil {
		return err
	}
	if err := s.appendAudit(ctx, t, Audit{Actor: actor, Action: action, CaseID: m.CaseID, CasePub: pub,
		Detail: map[string]any{"message": id}, At: now}); err != nil {
		return err
	}
	return t.Commit()
}

// MarkMessageRelayedTx records, in the transaction that queues the relay
// mail, that a message went out.
// It fails with ErrMessageState when the message is no longer pending (an
// analyst held it meanwhile): the caller rolls back, and nothing is sent.
func (s *Store) MarkMessageRelayedTx(ctx context.Context, t *sql.Tx, id int64, at time.Time) error {
	res, err := t.ExecContext(ctx, s.Q("relay-message"), id, at.UnixMilli())
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n != 1 {
		return ErrMessageState
	}
	return nil
}

// CaseByID reads a case by its internal id.
func (s *Store) CaseByID(ctx context.Context, id int64) (*Case, error) {
	c, err := s.caseIn(ctx, s.R, id)
	if isNoRows(err) {
		return nil, ErrNotFound
	}
	return c, err
}

func constantEqual(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }

// caseNotified says whether the customer was ever notified of a case: only
// then may the customer see it, and only then do later changes concern them.
func (s *Store) caseNotified(ctx context.Context, q queryer, caseID int64) (bool, error) {
	var one int
	err := q.QueryRowContext(ctx, s.Q("case-notified"), caseID).Scan(&one)
	if isNoRows(err) {
		return false, nil
	}
	return err == nil, err
}

// CaseNotified: see caseNotified.
func (s *Store) CaseNotified(ctx context.Context, caseID int64) (bool, error) {
	return s.caseNotified(ctx, s.R, caseID)
}

// AppendAuditTx adds an audit entry inside the caller's transaction (taking
// the cases lock on PostgreSQL, which orders the chain).
func (s *Store) AppendAuditTx(ctx context.Context, t *sql.Tx, a Audit) error {
	if err := s.lockCases(ctx, t); err != nil {
		return err
	}
	return s.appendAudit(ctx, t, a)
}
