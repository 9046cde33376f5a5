package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"abusedesk/internal/disclosure"
)

// CaseViewLimits bound what a case view loads (a case fed by a big CSV has
// many reports and items; a view shows the first ones).
const (
	viewReports  = 200
	viewEvidence = 200
)

// DisclosureCase loads everything of a case that any viewer might see, in
// the shape internal/disclosure filters: pages, mails and API answers pass
// it through disclosure.View, never around it. The customer's identity is
// loaded only when withCustomer (staff see it on request only). A case
// fed by many reports loads its first ones; include names reports that
// must be there all the same (the viewer's own).
func (s *Store) DisclosureCase(ctx context.Context, caseID int64, withCustomer bool, include ...int64) (*disclosure.Case, *Case, error) {
	c, err := s.CaseByID(ctx, caseID)
	if err != nil {
		return nil, nil, err
	}
	dc := &disclosure.Case{ID: c.ID, PublicID: c.PublicID, Status: string(c.Status), Outcome: string(c.Outcome),
		Category: c.Category, Account: c.Account, Resource: c.Resource, Deadline: c.Deadline, Assignee: c.Assignee}
	if dc.Notified, err = s.CaseNotified(ctx, c.ID); err != nil {
		return nil, nil, err
	}
	if dc.CustomerConsent, err = s.CustomerConsent(ctx, c.ID); err != nil {
		return nil, nil, err
	}
	if withCustomer {
		a, err := s.AccountIdentity(ctx, c.Account)
		if err != nil && err != ErrNotFound {
			return nil, nil, err
		}
		if a != nil {
			dc.Customer = disclosure.Party{Name: a.Name, Email: a.ContactEmail()}
		}
	}
	reps, err := s.CaseReporters(ctx, c.ID, viewReports)
	if err != nil {
		return nil, nil, err
	}
	byPub := map[string]int64{}
	for _, r := range reps {
		consent, err := s.ReporterConsent(ctx, r.ReportID)
		if err != nil {
			return nil, nil, err
		}
		dc.Reports = append(dc.Reports, disclosure.Report{ID: r.ReportID, PublicID: r.PublicID,
			Reporter: disclosure.Party{Name: r.Name, Email: r.Email, Org: r.Org}, Consent: consent,
			Description: r.Description, Status: r.Status, Outcome: r.Outcome})
		byPub[r.PublicID] = r.ReportID
	}
	for _, id := range include {
		if _, ok := byID(dc.Reports, id); ok {
			continue
		}
		r, err := s.DisclosureReport(ctx, c.ID, id)
		if err == ErrNotFound {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		dc.Reports = append(dc.Reports, *r)
		byPub[r.PublicID] = r.ID
	}
	items, err := s.CaseEvidence(ctx, c, viewEvidence)
	if err != nil {
		return nil, nil, err
	}
	for _, it := range items {
		e := disclosure.Evidence{ReportID: byPub[it.Report], Time: it.At, Source: it.SourceIP, Detail: it.Detail.Log}
		if it.URL != "" {
			e.Source = it.URL
		}
		if it.Detail.Target != "" {
			e.Target = it.Detail.Target
			if it.Detail.TargetPort != nil {
				e.Target += ":" + strconv.Itoa(*it.Detail.TargetPort)
			}
		}
		if it.Detail.Protocol != "" {
			e.Detail = fmt.Sprintf("[%s] %s", it.Detail.Protocol, e.Detail)
		}
		dc.Evidence = append(dc.Evidence, e)
	}
	msgs, err := s.CaseMessages(ctx, c.ID)
	if err != nil {
		return nil, nil, err
	}
	for _, m := range msgs {
		dc.Messages = append(dc.Messages, disclosure.Message{ID: m.ID, ReportID: m.ReportID, Sender: m.Sender,
			Recipient: m.Recipient, Kind: m.Kind, Body: m.Body, State: m.State, At: m.CreatedAt})
	}
	return dc, c, nil
}

func byID(rs []disclosure.Report, id int64) (*disclosure.Report, bool) {
	for i := range rs {
		if rs[i].ID == id {
			return &rs[i], true
		}
	}
	return nil, false
}

// DisclosureReport loads one report of a case with its reporter and their
// consent, as DisclosureCase does; ErrNotFound when it does not feed the
// case.
func (s *Store) DisclosureReport(ctx context.Context, caseID, reportID int64) (*disclosure.Report, error) {
	var r CaseReporter
	err := s.R.QueryRowContext(ctx, s.Q("case-report-reporter"), caseID, reportID).Scan(&r.ReportID, &r.PublicID, &r.Name, &r.Email,
		&r.Org, &r.Language, &r.Type, &r.Status, &r.Outcome, &r.Description)
	if isNoRows(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	consent, err := s.ReporterConsent(ctx, r.ReportID)
	if err != nil {
		return nil, err
	}
	return &disclosure.Report{ID: r.ReportID, PublicID: r.PublicID, Reporter: disclosure.Party{Name: r.Name, Email: r.Email, Org: r.Org},
		Consent: consent, Description: r.Description, Status: r.Status, Outcome: r.Outcome}, nil
}

// CaseReportIDs lists every report of a case (mails to all its reporters).
func (s *Store) CaseReportIDs(ctx context.Context, caseID int64) ([]int64, error) {
	return s.ids(ctx, s.Q("case-report-ids"), caseID)
}

// ContactEmail is where the desk writes to an account: its security
// contact, or the account's email when it has none.
func (a *Account) ContactEmail() string {
	if a.SecurityEmail != "" {
		return a.SecurityEmail
	}
	return a.Email
}

// AuditDisclosures writes one audit entry per identity a view showed across
// sides (disclosure.View's list): to whom, through which channel.
func (s *Store) AuditDisclosures(ctx context.Context, caseID int64, casePub, to, channel string, ds []disclosure.Disclosure, at time.Time) error {
	for _, d := range ds {
		detail := map[string]any{"field": string(d.Field), "to": to, "channel": channel}
		if d.ReportID != 0 {
			detail["report_id"] = d.ReportID
		}
		if err := s.RecordAudit(ctx, Audit{Actor: to, Action: "disclosed", CaseID: caseID, CasePub: casePub, Detail: detail, At: at}); err != nil {
			return err
		}
	}
	return nil
}
