package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"time"

	"abusedesk/internal/attribution"
	"abusedesk/internal/cases"
	"abusedesk/internal/report"
)

// Case is a case as the console and the staff API read it.
type Case struct {
	ID            int64
	PublicID      string
	Account       string
	Resource      string
	Category      string
	Subtypes      []string
	Lane          string
	Status        cases.Status
	Outcome       cases.Outcome
	Priority      int
	Escalated     bool
	Assignee      string
	Deadline      time.Time // zero: none
	Reports       int
	Reporters     int
	Items         int
	LastIncident  time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
	FirstActionAt time.Time
	ClosedAt      time.Time
	MergedInto    string // public id of the case it was merged into
}

// noDeadline is due_at for a case without a deadline: it sorts last.
const noDeadline = math.MaxInt64

func msOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

func fromMs(v sql.NullInt64) time.Time {
	if !v.Valid || v.Int64 == noDeadline {
		return time.Time{}
	}
	return time.UnixMilli(v.Int64).UTC()
}

func dueAt(t time.Time) int64 {
	if t.IsZero() {
		return noDeadline
	}
	return t.UnixMilli()
}

// casesLock serialises, on PostgreSQL, everything that appends to the
// audit chain or creates cases: two instances must not fork the chain nor
// open two cases for one key. SQLite has one writer anyway.
const casesLock = 0x6162_7573_6563_6173 // "abusecas"

func (s *Store) lockCases(ctx context.Context, t *sql.Tx) error {
	if s.Dialect != Postgres {
		return nil
	}
	_, err := t.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", int64(casesLock))
	return err
}

// ackByMail says which channels' reporters get their acknowledgement by
// mail: those who have no other receipt, the person at the web form (and
// the mail channel). A program calling the API, XARF or the bulk upload has
// the report id and status link in the answer to its request: a mail per
// call would flood its mailbox, and cost intake a third of its pace on
// SQLite (bench/json.sh).
func ackByMail(channel string) bool { return channel == "form" || channel == "mail" }

// ackChannel is the channel as far as acknowledgements go: none when the
// sender is a machine.
func (nr *NewReport) ackChannel() string {
	if nr.NoAck {
		return ""
	}
	return nr.Channel
}

// queueForCases notes, in the report's own transaction, what must follow
// a new report: its acknowledgement by mail when its channel has no other
// (a mail event; internal/notify writes it), and, when it has items
// attributed to a customer, its grouping into cases (the grouper).
func (s *Store) queueForCases(ctx context.Context, t tx, reportID int64, group bool, channel string) error {
	if ackByMail(channel) {
		if err := t.exec(ctx, s.Q("insert-mail-event"), EventReportReceived, nil, reportID, "{}", time.Now().UnixMilli()); err != nil {
			return err
		}
	}
	if !group {
		return nil
	}
	return t.exec(ctx, s.Q("queue-for-cases"), reportID)
}

func hasAssigned(r *report.Report) bool {
	incs, urls := itemsOf(r)
	for i := range incs {
		if incs[i].Verdict == "assigned" {
			return true
		}
	}
	for i := range urls {
		if urls[i].Verdict == "assigned" {
			return true
		}
	}
	return false
}

// scanCase reads a row of case-by-id's columns.
func scanCase(row interface{ Scan(...any) error }) (*Case, error) {
	var c Case
	var subtypes, status string
	var outcome, merged sql.NullString
	var due, last, created, updated, first, closed sql.NullInt64
	err := row.Scan(&c.ID, &c.PublicID, &c.Account, &c.Resource, &c.Category, &subtypes, &c.Lane, &status, &outcome,
		&c.Priority, &c.Escalated, &c.Assignee, &due, &c.Reports, &c.Reporters, &c.Items, &last, &created, &updated,
		&first, &closed, &merged)
	if err != nil {
		if isNoRows(err) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	if subtypes != "" {
		c.Subtypes = strings.Split(subtypes, ",")
	}
	c.Status, c.Outcome, c.MergedInto = cases.Status(status), cases.Outcome(outcome.String), merged.String
	c.Deadline, c.LastIncident, c.CreatedAt, c.UpdatedAt = fromMs(due), fromMs(last), fromMs(created), fromMs(updated)
	c.FirstActionAt, c.ClosedAt = fromMs(first), fromMs(closed)
	return &c, nil
}

func (c *Case) domain() cases.Case {
	return cases.Case{Status: c.Status, Outcome: c.Outcome, Category: c.Category, Subtypes: append([]string(nil), c.Subtypes...),
		Deadline: c.Deadline, Escalated: c.Escalated, Assignee: c.Assignee, MergedInto: c.MergedInto,
		Reports: c.Reports, Reporters: c.Reporters, LastIncident: c.LastIncident, Priority: c.Priority,
		CreatedAt: c.CreatedAt, FirstActionAt: c.FirstActionAt, ClosedAt: c.ClosedAt}
}

func (c *Case) setDomain(d cases.Case) {
	c.Status, c.Outcome, c.Subtypes, c.Deadline, c.Escalated = d.Status, d.Outcome, d.Subtypes, d.Deadline, d.Escalated
	c.Assignee, c.MergedInto, c.Reports, c.Reporters, c.LastIncident = d.Assignee, d.MergedInto, d.Reports, d.Reporters, d.LastIncident
	c.Priority, c.FirstActionAt, c.ClosedAt = d.Priority, d.FirstActionAt, d.ClosedAt
}

func (s *Store) caseIn(ctx context.Context, q queryer, id int64) (*Case, error) {
	return scanCase(q.QueryRowContext(ctx, s.Q("case-by-id"), id))
}

type queryer interface {
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

// CaseByPublicID reads a case.
func (s *Store) CaseByPublicID(ctx context.Context, id string) (*Case, error) {
	var n int64
	if err := s.R.QueryRowContext(ctx, s.Q("case-id-by-public-id"), id).Scan(&n); err != nil {
		if isNoRows(err) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	return s.caseIn(ctx, s.R, n)
}

func (s *Store) writeCase(ctx context.Context, t *sql.Tx, c *Case, mergedInto any) error {
	_, err := t.ExecContext(ctx, s.Q("update-case"), c.ID, strings.Join(c.Subtypes, ","), string(c.Status), c.Status.Open(),
		nullString(string(c.Outcome)), c.Priority, c.Escalated, c.Assignee, dueAt(c.Deadline), c.Reports, c.Reporters, c.Items,
		msOrNil(c.LastIncident), c.UpdatedAt.UnixMilli(), msOrNil(c.FirstActionAt), msOrNil(c.ClosedAt), mergedInto)
	return err
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Audit is one entry of the audit trail to append.
type Audit struct {
	Actor   string
	Action  string
	CaseID  int64 // 0: not about a case
	CasePub string
	Detail  any // marshalled to JSON
	At      time.Time
}

// appendAudit seals and writes an entry after the chain's head, inside t
// (which holds the cases lock on PostgreSQL).
func (s *Store) appendAudit(ctx context.Context, t *sql.Tx, a Audit) error {
	var seq int64
	prev := cases.Genesis
	var head []byte
	err := t.QueryRowContext(ctx, s.Q("audit-head")).Scan(&seq, &head)
	switch {
	case isNoRows(err):
	case err != nil:
		return err
	default:
		prev = head
	}
	detail := "{}"
	if a.Detail != nil {
		b, err := json.Marshal(a.Detail)
		if err != nil {
			return err
		}
		detail = string(b)
	}
	e := cases.Entry{Seq: seq + 1, At: a.At.UTC().Truncate(time.Millisecond), Actor: a.Actor, Action: a.Action, CaseID: a.CasePub, Detail: detail}
	e.Seal(prev)
	var caseID any
	if a.CaseID != 0 {
		caseID = a.CaseID
	}
	_, err = t.ExecContext(ctx, s.Q("insert-audit"), e.Seq, e.At.UnixMilli(), e.Actor, e.Action, caseID, a.CasePub, e.Detail, e.Prev, e.Hash)
	return err
}

// RecordAudit appends one entry in its own transaction (e.g. a view of a
// customer's identity).
func (s *Store) RecordAudit(ctx context.Context, a Audit) error {
	t, err := s.W.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer t.Rollback()
	if err := s.lockCases(ctx, t); err != nil {
		return err
	}
	if err := s.appendAudit(ctx, t, a); err != nil {
		return err
	}
	return t.Commit()
}

// AuditEntries reads the trail in order after seq, n at a time.
func (s *Store) AuditEntries(ctx context.Context, after int64, n int) ([]cases.Entry, error) {
	rows, err := s.R.QueryContext(ctx, s.Q("audit-all"), after, n)
	if err != nil {
		return nil, err
	}
	return scanAudit(rows)
}

// RecentAudit reads the newest n entries, newest first.
func (s *Store) RecentAudit(ctx context.Context, n int) ([]cases.Entry, error) {
	rows, err := s.R.QueryContext(ctx, s.Q("audit-recent"), n)
	if err != nil {
		return nil, err
	}
	return scanAudit(rows)
}

// CaseAudit reads a case's entries.
func (s *Store) CaseAudit(ctx context.Context, caseID int64) ([]cases.Entry, error) {
	rows, err := s.R.QueryContext(ctx, s.Q("case-audit"), caseID)
	if err != nil {
		return nil, err
	}
	return scanAudit(rows)
}

func scanAudit(rows *sql.Rows) ([]cases.Entry, error) {
	defer rows.Close()
	var out []cases.Entry
	for rows.Next() {
		var e cases.Entry
		var at int64
		if err := rows.Scan(&e.Seq, &at, &e.Actor, &e.Action, &e.CaseID, &e.Detail, &e.Prev, &e.Hash); err != nil {
			return nil, err
		}
		e.At = time.UnixMilli(at).UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

// VerifyAudit walks the whole trail and returns the number of entries and
// the head's hash (kept elsewhere, it also shows a trail cut short), or
// the first break (*cases.ChainError).
func (s *Store) VerifyAudit(ctx context.Context) (int64, []byte, error) {
	var v cases.Verifier
	var after int64
	for {
		es, err := s.AuditEntries(ctx, after, 5000)
		if err != nil {
			return v.Count(), nil, err
		}
		for _, e := range es {
			if err := v.Next(e); err != nil {
				return v.Count(), nil, err
			}
		}
		if len(es) < 5000 {
			_, head := v.Head()
			return v.Count(), head, nil
		}
		after = es[len(es)-1].Seq
	}
}

// ApplyCase applies an analyst's command to a case in one transaction:
// the rules of internal/cases decide, the row and the audit trail are
// written together.
func (s *Store) ApplyCase(ctx context.Context, publicID, actor string, cmd cases.Command, p cases.Policy, now time.Time, also ...func(context.Context, *sql.Tx, *Case) error) (*Case, cases.Change, error) {
	var ch cases.Change
	t, err := s.W.BeginTx(ctx, nil)
	if err != nil {
		return nil, ch, err
	}
	defer t.Rollback()
	if err := s.lockCases(ctx, t); err != nil {
		return nil, ch, err
	}
	var id int64
	if err := t.QueryRowContext(ctx, s.Q("case-id-by-public-id"), publicID).Scan(&id); err != nil {
		if isNoRows(err) {
			return nil, ch, ErrNotFound
		}
		return nil, ch, err
	}
	c, err := s.caseIn(ctx, t, id)
	if err != nil {
		return nil, ch, err
	}
	d := c.domain()
	cmd.Self = c.PublicID
	var target *Case
	if cmd.Action == cases.Merge && cmd.Into != "" && cmd.Into != c.PublicID {
		var tid int64
		if err := t.QueryRowContext(ctx, s.Q("case-id-by-public-id"), cmd.Into).Scan(&tid); err != nil {
			if isNoRows(err) {
				return nil, ch, &cases.Error{Code: "merge_target_unknown", Message: fmt.Sprintf("no case %s to merge into", cmd.Into), From: c.Status, Action: cmd.Action}
			}
			return nil, ch, err
		}
		if target, err = s.caseIn(ctx, t, tid); err != nil {
			return nil, ch, err
		}
		if !target.Status.Open() {
			return nil, ch, &cases.Error{Code: "merge_target_closed", Message: fmt.Sprintf("case %s is %s: merge into an open case", target.PublicID, target.Status), From: c.Status, Action: cmd.Action}
		}
	}
	ch, err = d.Apply(cmd, now, p)
	if err != nil {
		return nil, ch, err
	}
	c.setDomain(d)
	c.UpdatedAt = now
	var mergedInto any
	if target != nil {
		mergedInto = target.ID
	}
	if cmd.Action == cases.Reopen {
		var other int64
		err := t.QueryRowContext(ctx, s.Q("open-case-by-key"), c.Account, c.Resource, c.Category).Scan(&other)
		if err == nil {
			o, _ := s.caseIn(ctx, t, other)
			return nil, ch, &cases.Error{Code: "open_case_exists", Message: fmt.Sprintf("case %s is open for the same resource and category: merge into it instead", o.PublicID), From: c.Status, Action: cmd.Action}
		} else if !isNoRows(err) {
			return nil, ch, err
		}
	}
	if err := s.writeCase(ctx, t, c, mergedInto); err != nil {
		return nil, ch, err
	}
	switch {
	case target != nil:
		if err := s.mergeInto(ctx, t, c, target, p, now); err != nil {
			return nil, ch, err
		}
		if ch.Detail == nil {
			ch.Detail = map[string]any{}
		}
		ch.Detail["into"] = target.PublicID
	case !c.Status.Open():
		if _, err := t.ExecContext(ctx, s.Q("close-case-reports"), c.ID, string(c.Outcome)); err != nil {
			return nil, ch, err
		}
	case cmd.Action == cases.Reopen:
		if _, err := t.ExecContext(ctx, s.Q("reopen-case-reports"), c.ID); err != nil {
			return nil, ch, err
		}
	}
	if err := s.appendAudit(ctx, t, Audit{Actor: actor, Action: string(cmd.Action), CaseID: c.ID, CasePub: c.PublicID, Detail: changeDetail(ch), At: now}); err != nil {
		return nil, ch, err
	}
	if err := s.caseEventsTx(ctx, t, c, cmd, ch, now); err != nil {
		return nil, ch, err
	}
	for _, fn := range also {
		if err := fn(ctx, t, c); err != nil {
			return nil, ch, err
		}
	}
	if err := t.Commit(); err != nil {
		return nil, ch, err
	}
	return c, ch, nil
}

// caseEventsTx writes, in the action's transaction, what the action tells
// the parties: the mail events, and the desk's question or notice text as a
// message of the conversation. Each action has its own event (a note tells
// no one; a second notify is a new notice, not a resend of the first).
func (s *Store) caseEventsTx(ctx context.Context, t *sql.Tx, c *Case, cmd cases.Command, ch cases.Change, now time.Time) error {
	ev := MailEvent{CaseID: c.ID, At: now, Detail: map[string]any{}}
	var msg *Message
	switch cmd.Action {
	case cases.Notify:
		ev.Kind = EventCaseNotified
		ev.Detail["note"] = cmd.Note
		ev.Detail["deadline"] = c.Deadline.UnixMilli()
		if cmd.Note != "" {
			msg = &Message{Sender: PartyDesk, Recipient: PartyCustomer, Kind: "notice"}
		}
	case cases.RequestInfo:
		ev.Kind = EventInfoRequested
		ev.Detail["question"] = cmd.Note
		msg = &Message{Sender: PartyDesk, Recipient: PartyReporter, Kind: "question"}
	case cases.Resolve, cases.Dismiss:
		ev.Kind = EventCaseClosed
		ev.Detail["outcome"] = string(c.Outcome)
	case cases.Escalate:
		// The customer hears of it only if they had been told of the case.
		if ch.From != cases.CustomerNotified && ch.From != cases.CustomerResponded {
			return nil
		}
		ev.Kind = EventCaseEscalated
	case cases.Extend:
		if c.Status != cases.CustomerNotified && c.Status != cases.CustomerResponded && c.Status != cases.Escalated {
			return nil // the desk's own deadline: nobody outside to tell
		}
		if ok, err := s.caseNotified(ctx, t, c.ID); err != nil || !ok {
			return err
		}
		ev.Kind = EventCaseExtended
		ev.Detail["deadline"] = c.Deadline.UnixMilli()
	default:
		return nil
	}
	if msg != nil && cmd.Note != "" {
		msg.CaseID, msg.Body, msg.State, msg.CreatedAt, msg.RelayedAt = c.ID, cmd.Note, MessageRelayed, now, now
		if _, err := s.insertMessageTx(ctx, t, msg); err != nil {
			return err
		}
	}
	return s.AddMailEventTx(ctx, t, ev)
}

func changeDetail(ch cases.Change) map[string]any {
	d := map[string]any{}
	if ch.From != ch.To {
		d["status"] = map[string]any{"from": ch.From, "to": ch.To}
	}
	for k, v := range ch.Detail {
		d[k] = v
	}
	return d
}

// mergeInto moves what case c holds (reports, reporters, addresses,
// hosts) to target and recomputes target's counts and priority.
func (s *Store) mergeInto(ctx context.Context, t *sql.Tx, c, target *Case, p cases.Policy, now time.Time) error {
	for _, q := range []string{"merge-reports", "merge-reporters", "merge-ips", "merge-hosts"} {
		if _, err := t.ExecContext(ctx, s.Q(q), c.ID, target.ID); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	if err := t.QueryRowContext(ctx, s.Q("case-counts"), target.ID).Scan(&target.Reports, &target.Reporters, &target.Items); err != nil {
		return err
	}
	for _, st := range c.Subtypes {
		if !slices.Contains(target.Subtypes, st) {
			target.Subtypes = append(target.Subtypes, st)
		}
	}
	sort.Strings(target.Subtypes)
	if c.LastIncident.After(target.LastIncident) {
		target.LastIncident = c.LastIncident
	}
	d := target.domain()
	target.Priority = p.Score(d, now)
	target.UpdatedAt = now
	if err := s.writeCase(ctx, t, target, nil); err != nil {
		return err
	}
	return s.appendAudit(ctx, t, Audit{Actor: "system", Action: "merged_in", CaseID: target.ID, CasePub: target.PublicID,
		Detail: map[string]any{"from": c.PublicID, "reports": target.Reports}, At: now})
}

// EscalateDue escalates the customer_notified cases whose deadline passed
// without an answer (the background job); it returns how many it changed.
func (s *Store) EscalateDue(ctx context.Context, p cases.Policy, now time.Time) (int, error) {
	n := 0
	for {
		ids, err := s.ids(ctx, s.Q("due-for-escalation"), now.UnixMilli(), 200)
		if err != nil || len(ids) == 0 {
			return n, err
		}
		t, err := s.W.BeginTx(ctx, nil)
		if err != nil {
			return n, err
		}
		if err := s.lockCases(ctx, t); err != nil {
			t.Rollback()
			return n, err
		}
		changed := 0
		for _, id := range ids {
			c, err := s.caseIn(ctx, t, id)
			if err != nil {
				t.Rollback()
				return n, err
			}
			d := c.domain()
			ch, ok := d.EscalateIfDue(now, p)
			if !ok {
				continue // answered meanwhile
			}
			c.setDomain(d)
			c.UpdatedAt = now
			if err := s.writeCase(ctx, t, c, nil); err != nil {
				t.Rollback()
				return n, err
			}
			if err := s.appendAudit(ctx, t, Audit{Actor: "system", Action: "escalate", CaseID: c.ID, CasePub: c.PublicID, Detail: changeDetail(ch), At: now}); err != nil {
				t.Rollback()
				return n, err
			}
			if err := s.AddMailEventTx(ctx, t, MailEvent{Kind: EventCaseEscalated, CaseID: c.ID, At: now}); err != nil {
				t.Rollback()
				return n, err
			}
			changed++
		}
		if err := t.Commit(); err != nil {
			return n, err
		}
		n += changed
		if changed == 0 {
			return n, nil
		}
	}
}

// RefreshPriorities recomputes the priority of open DDoS cases, whose
// score falls once the attack is no longer ongoing (no incident for an
// hour); other scores change only with the case. Returns how many changed.
func (s *Store) RefreshPriorities(ctx context.Context, p cases.Policy, now time.Time) (int, error) {
	var after int64
	changed := 0
	for {
		ids, err := s.ids(ctx, s.Q("open-ddos-cases"), after, 500)
		if err != nil || len(ids) == 0 {
			return changed, err
		}
		after = ids[len(ids)-1]
		for _, id := range ids {
			t, err := s.W.BeginTx(ctx, nil)
			if err != nil {
				return changed, err
			}
			c, err := s.caseIn(ctx, t, id)
			if err != nil {
				t.Rollback()
				return changed, err
			}
			if score := p.Score(c.domain(), now); score != c.Priority && c.Status.Open() {
				c.Priority = score
				if err := s.writeCase(ctx, t, c, nil); err != nil {
					t.Rollback()
					return changed, err
				}
				changed++
			}
			if err := t.Commit(); err != nil {
				return changed, err
			}
		}
	}
}

// Account is a customer as the inventory names it: its identity, shown
// to staff only on request (and audited).
type Account struct {
	ExtID         string
	Name          string
	SecurityEmail string
	Email         string
	Language      string
}

// AccountIdentity reads a customer's identity; the caller audits the view.
func (s *Store) AccountIdentity(ctx context.Context, ext string) (*Account, error) {
	var a Account
	err := s.R.QueryRowContext(ctx, s.Q("account-by-ext"), ext).Scan(&a.ExtID, &a.Name, &a.SecurityEmail, &a.Email, &a.Language)
	if isNoRows(err) {
		return nil, ErrNotFound
	}
	return &a, err
}

// ResourceInfo is what the inventory says of a resource.
type ResourceInfo struct {
	ExtID, Type, Service, Region string
}

// ResourceInfo reads a resource of the inventory.
func (s *Store) ResourceInfo(ctx context.Context, ext string) (*ResourceInfo, error) {
	var r ResourceInfo
	err := s.R.QueryRowContext(ctx, s.Q("resource-by-ext"), ext).Scan(&r.ExtID, &r.Type, &r.Service, &r.Region)
	if isNoRows(err) {
		return nil, ErrNotFound
	}
	return &r, err
}

// CaseReport is a report linked to a case, as the case page lists it.
type CaseReport struct {
	ID            int64
	PublicID      string
	Type, Subtype string
	Channel       string
	ReporterName  string
	ReporterEmail string
	ReporterOrg   string
	ReporterKind  string
	ShareContact  bool
	Description   string
	CreatedAt     time.Time
	Items         int
	AddedAt       time.Time
	SHA256        string
	Size          int64
	Language      string // the reporter's
	Status        string // the report's
	Outcome       string
}

// CaseReports lists the reports of a case, oldest first.
func (s *Store) CaseReports(ctx context.Context, caseID int64, limit int) ([]CaseReport, error) {
	rows, err := s.R.QueryContext(ctx, s.Q("case-reports"), caseID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []CaseReport
	for rows.Next() {
		r, err := scanCaseReport(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *r)
	}
	return out, rows.Err()
}

// CaseReportOf reads one report of a case; ErrNotFound when it does not
// feed the case.
func (s *Store) CaseReportOf(ctx context.Context, caseID, reportID int64) (*CaseReport, error) {
	r, err := scanCaseReport(s.R.QueryRowContext(ctx, s.Q("case-report"), caseID, reportID))
	if isNoRows(err) {
		return nil, ErrNotFound
	}
	return r, err
}

func scanCaseReport(row interface{ Scan(...any) error }) (*CaseReport, error) {
	var r CaseReport
	var added int64
	var created any
	if err := row.Scan(&r.ID, &r.PublicID, &r.Type, &r.Subtype, &r.Channel, &r.ReporterName, &r.ReporterEmail, &r.ReporterOrg,
		&r.ReporterKind, &r.ShareContact, &r.Description, &created, &r.Items, &added, &r.SHA256, &r.Size,
		&r.Language, &r.Status, &r.Outcome); err != nil {
		return nil, err
	}
	r.CreatedAt = anyTime(created)
	r.AddedAt = time.UnixMilli(added).UTC()
	return &r, nil
}

// anyTime reads a time column that is a DATETIME (time.Time), Unix
// milliseconds (int64) or SQLite's text.
func anyTime(v any) time.Time {
	switch x := v.(type) {
	case time.Time:
		return x.UTC()
	case int64:
		return time.UnixMilli(x).UTC()
	case string:
		for _, f := range []string{"2006-01-02 15:04:05.999999999-07:00", time.RFC3339Nano, "2006-01-02 15:04:05"} {
			if t, err := time.Parse(f, x); err == nil {
				return t.UTC()
			}
		}
	case []byte:
		return anyTime(string(x))
	}
	return time.Time{}
}

// CaseItem is one item of a case: an incident (address and time) or a URL,
// from the report that carried it.
type CaseItem struct {
	Report   string
	SourceIP string
	At       time.Time
	URL      string
	Detail   report.Incident // the reporter's fields (log, ports, …)
}

// CaseEvidence lists the items of a case's reports that concern its
// resource, the newest first.
func (s *Store) CaseEvidence(ctx context.Context, c *Case, limit int) ([]CaseItem, error) {
	rows, err := s.R.QueryContext(ctx, s.Q("case-evidence"), c.ID, c.Account, c.Resource, limit)
	if err != nil {
		return nil, err
	}
	var out []CaseItem
	for rows.Next() {
		var e CaseItem
		var at any
		var ev string
		if err := rows.Scan(&e.SourceIP, &at, &ev, &e.Report); err != nil {
			rows.Close()
			return nil, err
		}
		e.At = anyTime(at)
		if err := ParseEvidence(ev, &e.Detail); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	urows, err := s.R.QueryContext(ctx, s.Q("case-urls"), c.ID, c.Account, c.Resource, limit)
	if err != nil {
		return nil, err
	}
	defer urows.Close()
	for urows.Next() {
		var e CaseItem
		var desc string
		if err := urows.Scan(&e.URL, &desc, &e.Report); err != nil {
			return nil, err
		}
		e.Detail.Log = desc
		out = append(out, e)
	}
	return out, urows.Err()
}

// ReportCases lists the public ids of the cases a report feeds.
func (s *Store) ReportCases(ctx context.Context, reportID int64) ([]string, error) {
	rows, err := s.R.QueryContext(ctx, s.Q("report-cases"), reportID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// ipKey is the indexed form of an address in case_ips: 16 bytes, IPv4 as
// IPv4-mapped (As16's form), so that a CIDR is one range of keys.
func ipKey(a netip.Addr) []byte {
	b := a.As16()
	return b[:]
}

// prefixRange is the first and last key of a prefix.
func prefixRange(p netip.Prefix) (lo, hi []byte) {
	p = p.Masked()
	bits := p.Bits()
	if p.Addr().Is4() {
		bits += 96
	}
	l := ipKey(p.Addr())
	h := append([]byte(nil), l...)
	for i := bits; i < 128; i++ {
		h[i/8] |= 0x80 >> (i % 8)
	}
	return l, h
}

// hostOf is a URL's host as attribution matches it (lower case, no
// trailing dot, an address literal in its normal form), for case_hosts.
func hostOf(raw string) string {
	h, _ := attribution.HostOfURL(raw)
	return h
}

// ids runs a query of one integer column on the readers.
func (s *Store) ids(ctx context.Context, q string, args ...any) ([]int64, error) {
	return s.idsOn(ctx, s.R, q, args...)
}

// idsTx is ids inside a transaction.
func (s *Store) idsTx(ctx context.Context, t *sql.Tx, q string, args ...any) ([]int64, error) {
	return s.idsOn(ctx, t, q, args...)
}

func (s *Store) idsOn(ctx context.Context, db interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, q string, args ...any) ([]int64, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
