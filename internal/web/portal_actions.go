package web

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"abusedesk/internal/cases"
	"abusedesk/internal/disclosure"
	"abusedesk/internal/dmca"
	"abusedesk/internal/report"
	"abusedesk/internal/store"
)

// What a customer may do on a case, shared by the portal's pages and its
// JSON API (api_portal.go): each function checks that the customer may see
// the case (disclosure.May: its account's, notified), validates, and writes
// in one transaction, audited with the actor "customer:ACCOUNT".

// portalError is a refusal of a customer's request: the API answers it as
// {"errors":[{field, code, message}]} with Status, a page shows Message next
// to Field.
type portalError struct {
	Status               int
	Field, Code, Message string
}

func (e *portalError) Error() string { return e.Message }

func invalid(field, code, msg string) *portalError {
	return &portalError{Status: http.StatusUnprocessableEntity, Field: field, Code: code, Message: msg}
}

// Answer kinds a customer picks from.
const (
	answerActionTaken = "action_taken"
	answerDispute     = "dispute"
	answerNeedInfo    = "need_info"
	kindExtension     = "extension_request"
	maxExtensionDays  = 30
)

var answerKinds = []string{answerActionTaken, answerDispute, answerNeedInfo}

func portalActor(account string) string { return "customer:" + account }

func customerViewer(account string) disclosure.Viewer {
	return disclosure.Viewer{Role: disclosure.Customer, Account: account}
}

// portalCaseRow reads a case the customer of account may see, or
// store.ErrNotFound: a case of another account and one not notified yet
// are answered as if they did not exist (never "forbidden", which would
// confirm that they do). The rule is disclosure's, not repeated here.
func (s *Server) portalCaseRow(ctx context.Context, account, publicID string) (*store.Case, error) {
	c, err := s.store.CaseByPublicID(ctx, publicID)
	if err != nil {
		return nil, err
	}
	notified, err := s.store.CaseNotified(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	dc := disclosure.Case{Account: c.Account, Notified: notified}
	if !disclosure.May(customerViewer(account), disclosure.FieldCase, &dc, 0) {
		return nil, store.ErrNotFound
	}
	return c, nil
}

// portalCase is a case as its customer sees it: disclosure.View's output
// and what the customer themselves filed.
type portalCase struct {
	Row       *store.Case
	View      disclosure.Case
	Disclosed []disclosure.Disclosure
	// ExtensionRequested is when the customer's latest extension request
	// was written, if the desk has not extended the deadline since (zero
	// otherwise): the page says it waits for the desk.
	ExtensionRequested time.Time
	CounterNotices     []counterNoticeView
}

type counterNoticeView struct {
	ID              int64
	Received        time.Time
	Forwarded       time.Time
	RestoreEarliest time.Time
	RestoreLatest   time.Time
	CourtAction     time.Time
	Restored        time.Time
	State           string
}

// loadPortalCase builds the customer's view of a case. The caller renders
// it and then audits View's disclosures (auditPortalView).
func (s *Server) loadPortalCase(ctx context.Context, account, publicID string) (*portalCase, error) {
	c, err := s.portalCaseRow(ctx, account, publicID)
	if err != nil {
		return nil, err
	}
	dc, row, err := s.store.DisclosureCase(ctx, c.ID, store.CaseLoad{Customer: true, Evidence: true})
	if err != nil {
		return nil, err
	}
	v, ds, ok := disclosure.View(customerViewer(account), *dc)
	if !ok {
		return nil, store.ErrNotFound
	}
	p := &portalCase{Row: row, View: v, Disclosed: ds}
	// The latest extension request is pending until an extend action of the
	// desk follows it. Only that yes/no is read from the audit trail.
	var asked time.Time
	for _, m := range v.Messages {
		if m.Sender == store.PartyCustomer && m.Kind == kindExtension && m.At.After(asked) {
			asked = m.At
		}
	}
	if !asked.IsZero() {
		audit, err := s.store.CaseAudit(ctx, c.ID)
		if err != nil {
			return nil, err
		}
		granted := slices.ContainsFunc(audit, func(e cases.Entry) bool { return e.Action == string(cases.Extend) && !e.At.Before(asked) })
		if !granted {
			p.ExtensionRequested = asked
		}
	}
	if row.Category == "dmca" {
		cns, err := s.store.CounterNotices(ctx, c.ID)
		if err != nil {
			return nil, err
		}
		now := s.now()
		for _, cn := range cns {
			clock := dmca.Clock{Received: cn.ReceivedAt, Earliest: cn.RestoreEarliest, Latest: cn.RestoreLatest, CourtAction: cn.CourtActionAt, Restored: cn.RestoredAt}
			p.CounterNotices = append(p.CounterNotices, counterNoticeView{ID: cn.ID, Received: cn.ReceivedAt, Forwarded: cn.ForwardedAt,
				RestoreEarliest: cn.RestoreEarliest, RestoreLatest: cn.RestoreLatest, CourtAction: cn.CourtActionAt, Restored: cn.RestoredAt,
				State: clock.State(now)})
		}
	}
	return p, nil
}

// auditPortalView writes the identities a view showed to the customer.
func (s *Server) auditPortalView(ctx context.Context, account, channel string, p *portalCase) error {
	return s.store.AuditDisclosures(ctx, p.Row.ID, p.Row.PublicID, portalActor(account), channel, p.Disclosed, s.now())
}

// checkText validates a free text a customer wrote.
func checkText(field, text string) (string, error) {
	clean, problem, n := store.MessageText(text)
	switch problem {
	case "required":
		return "", invalid(field, report.CodeRequired, field+" is required")
	case "invalid":
		return "", invalid(field, report.CodeInvalid, field+" is not valid UTF-8 text")
	case "too_large":
		return "", invalid(field, report.CodeTooLarge, fmt.Sprintf("%s is %d characters long; the limit is %d", field, n, store.MaxMessageLen))
	}
	return clean, nil
}

// openCase refuses what only makes sense while the case is open.
func openCase(c *store.Case, a cases.Action) error {
	if c.Status.Open() {
		return nil
	}
	return &cases.Error{Code: cases.CodeCaseClosed, From: c.Status, Action: a,
		Message: fmt.Sprintf("case %s is %s: it takes no more answers here (write to the abuse desk if you disagree)", c.PublicID, c.Status)}
}

// portalAnswer records a customer's answer. While the desk waits for one
// (customer_notified, escalated) it is the customer_response action, with
// the answer as a message to the desk in the same transaction; afterwards
// (already answered, say) it is the message alone, still audited.
func (s *Server) portalAnswer(ctx context.Context, account, publicID, kind, text string) error {
	if !slices.Contains(answerKinds, kind) {
		return invalid("kind", report.CodeInvalid, "kind must be one of "+strings.Join(answerKinds, ", "))
	}
	text, err := checkText("message", text)
	if err != nil {
		return err
	}
	c, err := s.portalCaseRow(ctx, account, publicID)
	if err != nil {
		return err
	}
	if err := openCase(c, cases.CustomerResponse); err != nil {
		return err
	}
	now, actor := s.now(), portalActor(account)
	msg := &store.Message{CaseID: c.ID, Sender: store.PartyCustomer, Recipient: store.PartyDesk, Kind: kind, Body: text,
		State: store.MessageKept, CreatedAt: now}
	if _, err := cases.Next(c.Status, cases.CustomerResponse); err == nil {
		_, _, err := s.store.ApplyCase(ctx, publicID, actor, cases.Command{Action: cases.CustomerResponse, Note: text}, s.Policy, now,
			func(ctx context.Context, t *sql.Tx, _ *store.Case) error {
				_, err := s.store.AddMessageTx(ctx, t, msg, actor)
				return err
			})
		var ce *cases.Error
		if !errors.As(err, &ce) {
			return err
		}
		// The status moved since it was read: the answer is kept all the same.
	}
	_, err = s.store.AddMessage(ctx, msg, actor)
	return err
}

// portalExtension asks the desk for more time: a message to the desk; an
// analyst grants it with the extend action. Refused (409) when the desk
// could not extend the deadline in the case's status.
func (s *Server) portalExtension(ctx context.Context, account, publicID string, days int, reason string) error {
	if days < 1 || days > maxExtensionDays {
		return invalid("days", report.CodeInvalid, fmt.Sprintf("days must be a whole number from 1 to %d", maxExtensionDays))
	}
	reason, err := checkText("reason", reason)
	if err != nil {
		return err
	}
	c, err := s.portalCaseRow(ctx, account, publicID)
	if err != nil {
		return err
	}
	if err := openCase(c, cases.Extend); err != nil {
		return err
	}
	if _, err := cases.Next(c.Status, cases.Extend); err != nil {
		return err
	}
	now := s.now()
	_, err = s.store.AddMessage(ctx, &store.Message{CaseID: c.ID, Sender: store.PartyCustomer, Recipient: store.PartyDesk,
		Kind: kindExtension, Body: fmt.Sprintf("Extension of %d days requested.\n\n%s", days, reason), State: store.MessageKept,
		CreatedAt: now}, portalActor(account))
	return err
}

// portalMessage writes to the case's reporters: it waits RelayDelay so that
// the desk may hold it, and is relayed without the customer's identity
// unless the customer consented.
func (s *Server) portalMessage(ctx context.Context, account, publicID, text string) error {
	text, err := checkText("message", text)
	if err != nil {
		return err
	}
	c, err := s.portalCaseRow(ctx, account, publicID)
	if err != nil {
		return err
	}
	if err := openCase(c, cases.Note); err != nil {
		return err
	}
	now := s.now()
	_, err = s.store.AddMessage(ctx, &store.Message{CaseID: c.ID, Sender: store.PartyCustomer, Recipient: store.PartyReporter,
		Kind: "message", Body: text, State: store.MessagePending, RelayAt: now.Add(s.cfg.RelayDelay), CreatedAt: now}, portalActor(account))
	return err
}

// portalConsent grants or withdraws the customer's consent to be named to
// the case's reporters (the ledger and the audit trail, one transaction).
func (s *Server) portalConsent(ctx context.Context, account, publicID string, share bool, channel string) error {
	c, err := s.portalCaseRow(ctx, account, publicID)
	if err != nil {
		return err
	}
	return s.store.RecordConsent(ctx, store.Consent{Party: store.PartyCustomer, CaseID: c.ID, Subject: account, Granted: share,
		Channel: channel, Actor: portalActor(account), At: s.now()})
}

// portalCounterNotice files a DMCA counter-notice on a copyright case. An
// incomplete one is refused with each missing element named by clause; a
// complete one is stored with its restore window, an audit note and the
// event that forwards it to the complainant, in one transaction.
func (s *Server) portalCounterNotice(ctx context.Context, account, publicID string, cn dmca.CounterNotice) (int64, report.Errors, error) {
	c, err := s.portalCaseRow(ctx, account, publicID)
	if err != nil {
		return 0, nil, err
	}
	if c.Category != "dmca" {
		return 0, nil, &portalError{Status: http.StatusConflict, Field: "id", Code: "not_copyright",
			Message: "a counter-notice answers a copyright (DMCA) notice; case " + c.PublicID + " is not a copyright case"}
	}
	cn = cn.Normalized()
	if ps := cn.Check(); len(ps) > 0 {
		return 0, report.Errors(ps), nil
	}
	notice, err := json.Marshal(cn)
	if err != nil {
		return 0, nil, err
	}
	now := s.now()
	earliest, latest := dmca.RestoreWindow(now)
	note := fmt.Sprintf("DMCA counter-notice received; restore window %s to %s (17 U.S.C. § 512(g)(2)(C)) unless the complainant files a court action",
		earliest.UTC().Format("2006-01-02"), latest.UTC().Format("2006-01-02"))
	var id int64
	_, _, err = s.store.ApplyCase(ctx, publicID, portalActor(account), cases.Command{Action: cases.Note, Note: note}, s.Policy, now,
		func(ctx context.Context, t *sql.Tx, c *store.Case) error {
			var err error
			id, err = s.store.InsertCounterNoticeTx(ctx, t, &store.CounterNoticeRow{CaseID: c.ID, Account: c.Account, Notice: notice,
				ReceivedAt: now, RestoreEarliest: earliest, RestoreLatest: latest})
			if err != nil {
				return err
			}
			return s.store.AddMailEventTx(ctx, t, store.MailEvent{Kind: store.EventCounterNotice, CaseID: c.ID,
				Detail: map[string]any{"counter_notice": id}, At: now})
		})
	return id, nil, err
}
