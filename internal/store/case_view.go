package store

import (
	"context"
	"fmt"
	"slices"
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

// CaseLoad says what DisclosureCase reads besides the case, its reports,
// consents and messages.
type CaseLoad struct {
	// Customer: the account's name and contact (staff see them on
	// request only; a reporter only if the customer consented).
	Customer bool
	// Evidence: the items of the reports (a customer's views).
	Evidence bool
	// Include names reports that must be there even in a case fed by more
	// than the view loads (the viewer's own).
	Include []int64
	// Reports, when the caller has read CaseReports already (the console's
	// case page), are used instead of reading them again.
	Reports []CaseReport
}

// DisclosureCase loads what viewers might see of a case, in the shape
// internal/disclosure filters: pages, mails and API answers pass it through
// disclosure.View, never around it.
func (s *Store) DisclosureCase(ctx context.Context, caseID int64, load CaseLoad) (*disclosure.Case, *Case, error) {
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
	if load.Customer {
		a, err := s.AccountIdentity(ctx, c.Account)
		if err != nil && err != ErrNotFound {
			return nil, nil, err
		}
		if a != nil {
			dc.Customer = disclosure.Party{Name: a.Name, Email: a.ContactEmail()}
		}
	}
	reps := load.Reports
	if reps == nil {
		if reps, err = s.CaseReports(ctx, c.ID, viewReports); err != nil {
			return nil, nil, err
		}
	}
	for _, id := range load.Include {
		if !slices.ContainsFunc(reps, func(r CaseReport) bool { return r.ID == id }) {
			r, err := s.CaseReportOf(ctx, c.ID, id)
			if err == ErrNotFound {
				continue
			}
			if err != nil {
				return nil, nil, err
			}
			reps = append(reps, *r)
		}
	}
	byPub := map[string]int64{}
	for _, r := range reps {
		dr, err := s.disclosureReport(ctx, &r)
		if err != nil {
			return nil, nil, err
		}
		dc.Reports = append(dc.Reports, *dr)
		byPub[r.PublicID] = r.ID
	}
	if load.Evidence {
		if err := s.loadEvidence(ctx, c, dc, byPub); err != nil {
			return nil, nil, err
		}
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

// disclosureReport is a report of a case with its reporter's consent as
// the ledger has it now.
func (s *Store) disclosureReport(ctx context.Context, r *CaseReport) (*disclosure.Report, error) {
	consent, err := s.ReporterConsent(ctx, r.ID)
	if err != nil {
		return nil, err
	}
	return &disclosure.Report{ID: r.ID, PublicID: r.PublicID, Reporter: disclosure.Party{Name: r.ReporterName, Email: r.ReporterEmail, Org: r.ReporterOrg},
		Consent: consent, Description: r.Description, Status: r.Status, Outcome: r.Outcome}, nil
}

// DisclosureReport loads one report of a case as DisclosureCase does;
// ErrNotFound when it does not feed the case.
func (s *Store) DisclosureReport(ctx context.Context, caseID, reportID int64) (*disclosure.Report, error) {
	r, err := s.CaseReportOf(ctx, caseID, reportID)
	if err != nil {
		return nil, err
	}
	return s.disclosureReport(ctx, r)
}

// CaseReportIDs lists every report of a case (mails to all its reporters).
func (s *Store) CaseReportIDs(ctx context.Context, caseID int64) ([]int64, error) {
	return s.ids(ctx, s.Q("case-report-ids"), caseID)
}

// loadEvidence adds the items of the case's reports.
func (s *Store) loadEvidence(ctx context.Context, c *Case, dc *disclosure.Case, byPub map[string]int64) error {
	items, err := s.CaseEvidence(ctx, c, viewEvidence)
	if err != nil {
		return err
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
	return nil
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
