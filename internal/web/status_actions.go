package web

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"

	"abusedesk/internal/cases"
	"abusedesk/internal/store"
)

// What the reporter does through the status link, shared by the page's
// forms and the JSON API: each checks what the report may do to which of
// its cases, then writes in one transaction.

// Why a reporter's action was refused; the page and the API word them.
var (
	errStatusNoCase      = errors.New("the report is not part of a case yet")
	errStatusWhichCase   = errors.New("the report feeds several cases: name one")
	errStatusUnknownCase = errors.New("the report does not feed this case")
	errStatusNotPossible = errors.New("not possible for this case now")
)

// statusTarget is a case of the report, with what its reporter may do to it.
type statusTarget struct {
	ID         string
	caseID     int64
	NeedsInfo  bool
	Open       bool
	CanMessage bool
	CourtOpen  bool // a copyright case whose counter-notice awaits restoration
}

// statusTargets lists the cases of st's report for an action (no view is
// shown, so nothing is disclosed or audited).
func (s *Server) statusTargets(ctx context.Context, st *store.ReportStatus) ([]statusTarget, error) {
	pubs, err := s.store.ReportCases(ctx, st.ID)
	if err != nil {
		return nil, err
	}
	var out []statusTarget
	for _, pub := range pubs {
		c, err := s.store.CaseByPublicID(ctx, pub)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		notified, err := s.store.CaseNotified(ctx, c.ID)
		if err != nil {
			return nil, err
		}
		t := statusTarget{ID: c.PublicID, caseID: c.ID, NeedsInfo: c.Status == cases.NeedsInfo, Open: c.Status.Open()}
		t.CanMessage = t.Open && notified
		if c.Category == "dmca" {
			cns, err := s.store.CounterNotices(ctx, c.ID)
			if err != nil {
				return nil, err
			}
			if len(cns) > 0 {
				cn := cns[len(cns)-1]
				t.CourtOpen = cn.CourtActionAt.IsZero() && cn.RestoredAt.IsZero()
			}
		}
		out = append(out, t)
	}
	return out, nil
}

// pickTargets chooses the cases an action goes to: the one named (it must
// be one of the report's), else those pick accepts, else the only case.
func pickTargets(ts []statusTarget, named string, pick func(statusTarget) bool) ([]statusTarget, error) {
	if named != "" {
		i := slices.IndexFunc(ts, func(t statusTarget) bool { return t.ID == named })
		if i < 0 {
			return nil, errStatusUnknownCase
		}
		return ts[i : i+1], nil
	}
	var out []statusTarget
	for _, t := range ts {
		if pick(t) {
			out = append(out, t)
		}
	}
	switch {
	case len(out) > 0:
		return out, nil
	case len(ts) == 1:
		return ts, nil
	case len(ts) == 0:
		return nil, errStatusNoCase
	}
	return nil, errStatusWhichCase
}

// answerDesk stores the reporter's answer for the desk in each target
// case; a case waiting for it (needs_info) goes back to the desk's queue
// (info_received) in the same transaction. Without a named case the answer
// goes to every case that asked.
func (s *Server) answerDesk(ctx context.Context, st *store.ReportStatus, named, text string) ([]string, error) {
	ts, err := s.statusTargets(ctx, st)
	if err != nil {
		return nil, err
	}
	targets, err := pickTargets(ts, named, func(t statusTarget) bool { return t.NeedsInfo })
	if err != nil {
		return nil, err
	}
	now, actor := s.now(), reporterActor(st)
	var ids []string
	for _, t := range targets {
		m := &store.Message{CaseID: t.caseID, ReportID: st.ID, Sender: store.PartyReporter, Recipient: store.PartyDesk,
			Kind: "answer", Body: text, State: store.MessageKept, CreatedAt: now}
		err := errStatusNotPossible
		if t.NeedsInfo {
			_, _, err = s.store.ApplyCase(ctx, t.ID, actor, cases.Command{Action: cases.InfoReceived, Note: "the reporter answered through the status link"},
				s.Policy, now, func(ctx context.Context, tx *sql.Tx, _ *store.Case) error {
					_, err := s.store.AddMessageTx(ctx, tx, m, actor)
					return err
				})
		}
		// Not (or no longer, an analyst was quicker) waiting for it: the
		// answer is kept for the desk all the same.
		var ce *cases.Error
		if errors.Is(err, errStatusNotPossible) || errors.As(err, &ce) {
			m.ID = 0
			_, err = s.store.AddMessage(ctx, m, actor)
		}
		if err != nil {
			return ids, err
		}
		ids = append(ids, t.ID)
	}
	return ids, nil
}

// messageCustomer queues the reporter's message to the customer of one
// case: pending, relayed after RelayDelay unless an analyst holds it. Only
// while the case is open and its customer was notified: the customer must
// not learn of a case from the reporter before the desk told them.
func (s *Server) messageCustomer(ctx context.Context, st *store.ReportStatus, named, text string) (string, error) {
	ts, err := s.statusTargets(ctx, st)
	if err != nil {
		return "", err
	}
	targets, err := pickTargets(ts, named, func(statusTarget) bool { return false })
	if err != nil {
		return "", err
	}
	t := targets[0]
	if !t.CanMessage {
		return "", errStatusNotPossible
	}
	now := s.now()
	_, err = s.store.AddMessage(ctx, &store.Message{CaseID: t.caseID, ReportID: st.ID, Sender: store.PartyReporter, Recipient: store.PartyCustomer,
		Kind: "message", Body: text, State: store.MessagePending, RelayAt: now.Add(s.cfg.RelayDelay), CreatedAt: now}, reporterActor(st))
	return t.ID, err
}

// recordReporterConsent writes the reporter's choice to the consent
// ledger (and the audit trail of each case of the report).
func (s *Server) recordReporterConsent(ctx context.Context, st *store.ReportStatus, share bool, channel string) error {
	rep, err := s.store.MailReportByID(ctx, st.ID)
	if err != nil {
		return err
	}
	return s.store.RecordConsent(ctx, store.Consent{Party: store.PartyReporter, ReportID: st.ID, Subject: rep.ReporterEmail,
		Granted: share, Channel: channel, Actor: reporterActor(st), At: s.now()})
}

// declareCourtAction records that the complainant of a copyright case
// filed an action seeking a court order (17 U.S.C. § 512(g)(2)(C)): the
// counter-notice's material is not put back. The note and the counter-
// notice change are one transaction.
func (s *Server) declareCourtAction(ctx context.Context, st *store.ReportStatus, named string, at time.Time) (string, error) {
	ts, err := s.statusTargets(ctx, st)
	if err != nil {
		return "", err
	}
	targets, err := pickTargets(ts, named, func(t statusTarget) bool { return t.CourtOpen })
	if err != nil {
		return "", err
	}
	t := targets[0]
	if !t.CourtOpen || len(targets) > 1 {
		return "", errStatusNotPossible
	}
	note := "complainant reported a court action seeking to restrain the subscriber (17 U.S.C. § 512(g)(2)(C)), through the status link of " + st.PublicID + ": the material stays down"
	_, _, err = s.store.ApplyCase(ctx, t.ID, reporterActor(st), cases.Command{Action: cases.Note, Note: note}, s.Policy, at,
		func(ctx context.Context, tx *sql.Tx, c *store.Case) error {
			ok, err := s.store.RecordCourtActionTx(ctx, tx, c.ID, at)
			if err == nil && !ok {
				err = errStatusNotPossible // restored or ended meanwhile
			}
			return err
		})
	return t.ID, err
}
