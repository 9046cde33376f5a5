package notify

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"abusedesk/internal/disclosure"
	"abusedesk/internal/dmca"
	"abusedesk/internal/outbox"
	"abusedesk/internal/store"
)

// compose reads what the mails of one event need and returns them, not yet
// queued (their links are made in the queueing transaction).
func (n *Notifier) compose(ctx context.Context, ev store.MailEvent) ([]pending, error) {
	var mails []pending
	var err error
	key := func(s string) string { return fmt.Sprintf("%s:%d", s, ev.ID) }
	switch ev.Kind {
	case store.EventReportReceived:
		mails, err = n.reportReceived(ctx, ev)
	case store.EventLegalReceived:
		mails, err = n.legalReceived(ctx, ev)
	case store.EventCaseNotified:
		mails, err = n.toCustomer(ctx, ev.CaseID, "customer_notice", key("notice"), nil, func(d *outbox.Data, dc *disclosure.Case) {
			d.Question = str(ev.Detail["note"])
		})
	case store.EventCaseEscalated:
		mails, err = n.toCustomer(ctx, ev.CaseID, "customer_escalation", key("escalation"), nil, nil)
	case store.EventCaseExtended:
		mails, err = n.toCustomer(ctx, ev.CaseID, "customer_extension", key("extension"), nil, func(d *outbox.Data, dc *disclosure.Case) {
			d.NewDeadline = dc.Deadline
		})
	case store.EventInfoRequested:
		mails, err = n.toReporters(ctx, ev.CaseID, "reporter_need_info", key("need_info"), 0, nil, func(d *outbox.Data, _ *disclosure.Case, _ disclosure.Report) bool {
			d.Question = str(ev.Detail["question"])
			return true
		})
	case store.EventCaseClosed:
		// A report is closed when the last of its cases closes: only then
		// does its reporter get the outcome.
		mails, err = n.toReporters(ctx, ev.CaseID, "reporter_outcome", key("outcome"), 0, nil, func(d *outbox.Data, _ *disclosure.Case, r disclosure.Report) bool {
			d.Outcome = r.Outcome
			return r.Status == "closed"
		})
	case store.EventPortalLogin:
		mails, err = n.portalLogin(ctx, ev)
	case store.EventCounterNotice:
		mails, err = n.counterNotice(ctx, ev)
	case store.EventMailIncomplete:
		mails = mailIncomplete(ev)
	default:
		n.log.Warn("unknown mail event, dropped", "kind", ev.Kind, "id", ev.ID)
	}
	return mails, err
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// reportReceived acknowledges a report: the status link, or, when none of
// its items is ours, the "not our address" answer.
func (n *Notifier) reportReceived(ctx context.Context, ev store.MailEvent) ([]pending, error) {
	r, err := n.st.MailReportByID(ctx, ev.ReportID)
	if err == store.ErrNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	kind := "reporter_ack"
	if r.Items > 0 && r.NotOurs == r.Items {
		kind = "reporter_not_ours"
	}
	l := lang(r.Language)
	return []pending{{key: fmt.Sprintf("ack:%d", r.ID), kind: kind, reportID: r.ID, party: store.PartyReporter, to: r.ReporterEmail, lang: l,
		data: outbox.Data{ReportID: r.PublicID, Category: r.Type, Subtype: r.Subtype, ReceivedAt: r.CreatedAt, Items: r.Items, NotOurs: r.NotOurs, Outcome: r.Outcome},
		link: n.statusLink(r.ID, r.PublicID, l)}}, nil
}

func (n *Notifier) legalReceived(ctx context.Context, ev store.MailEvent) ([]pending, error) {
	id, _ := ev.Detail["legal_id"].(float64)
	l, err := n.st.MailLegalByID(ctx, int64(id))
	if err == store.ErrNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return []pending{{key: fmt.Sprintf("legal:%d", int64(id)), kind: "legal_ack", party: "authority", to: l.Email, lang: lang(l.Language),
		data: outbox.Data{LegalID: l.PublicID, ReceivedAt: l.CreatedAt}}}, nil
}

// mailIncomplete tells a person who mailed abuse@ what their mail lacks to
// be a report (internal/mailbox decided it, and that they are no robot).
func mailIncomplete(ev store.MailEvent) []pending {
	to := str(ev.Detail["to"])
	if to == "" {
		return nil
	}
	var missing []string
	if l, ok := ev.Detail["missing"].([]any); ok {
		for _, x := range l {
			missing = append(missing, str(x))
		}
	}
	at, _ := ev.Detail["received_at"].(float64)
	mailID := str(ev.Detail["mail"])
	return []pending{{key: "mail_missing:" + mailID, kind: "reporter_missing", party: "reporter", to: to, lang: lang(str(ev.Detail["lang"])),
		data: outbox.Data{MailID: mailID, MailSubject: str(ev.Detail["subject"]), Missing: missing, ReceivedAt: time.UnixMilli(int64(at)).UTC()}}}
}

// customerView loads a case as its customer sees it.
func (n *Notifier) customerView(ctx context.Context, caseID int64, prep func(*disclosure.Case)) (*disclosure.Case, []disclosure.Disclosure, *store.Case, *store.Account, error) {
	full, c, err := n.st.DisclosureCase(ctx, caseID, store.CaseLoad{Customer: true, Evidence: true})
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if prep != nil {
		prep(full)
	}
	a, err := n.st.AccountIdentity(ctx, c.Account)
	if err == store.ErrNotFound {
		return nil, nil, c, nil, nil
	}
	if err != nil {
		return nil, nil, nil, nil, err
	}
	// A mail goes out because the customer is being told of the case: it
	// sees what the portal will show from now on.
	full.Notified = true
	v, ds, ok := disclosure.View(disclosure.Viewer{Role: disclosure.Customer, Account: c.Account}, *full)
	if !ok {
		return nil, nil, c, nil, nil
	}
	return &v, ds, c, a, nil
}

// toCustomer writes to the account's security contact (or its email).
func (n *Notifier) toCustomer(ctx context.Context, caseID int64, kind, key string, prep func(*disclosure.Case), fill func(*outbox.Data, *disclosure.Case)) ([]pending, error) {
	v, ds, c, a, err := n.customerView(ctx, caseID, prep)
	if err != nil || v == nil {
		if err == nil && c != nil {
			n.log.Warn("case has no customer contact: mail not sent", "case", c.PublicID, "account", c.Account, "mail", kind)
		}
		return nil, err
	}
	l := lang(a.Language)
	d := outbox.Data{CaseID: v.PublicID, Category: v.Category, Resource: v.Resource, ReceivedAt: c.CreatedAt, Deadline: v.Deadline}
	for _, r := range v.Reports {
		if d.Description == "" {
			d.Description = r.Description
		}
	}
	if len(c.Subtypes) > 0 {
		d.Subtype = c.Subtypes[0]
	}
	d.Items = c.Items
	for _, e := range v.Evidence[:min(len(v.Evidence), n.cfg.Evidence)] {
		t := ""
		if !e.Time.IsZero() {
			t = e.Time.UTC().Format(time.RFC3339)
		}
		d.Evidence = append(d.Evidence, outbox.Evidence{Time: t, Source: e.Source, Target: e.Target, Detail: e.Detail})
	}
	// The view loads the first items only; the case counts them all.
	if len(d.Evidence) > 0 {
		d.EvidenceMore = max(c.Items, len(v.Evidence)) - len(d.Evidence)
	}
	if fill != nil {
		fill(&d, v)
	}
	to := a.ContactEmail()
	// A notice names no reporter unless they agreed; the reporters it may
	// name (in the reports' text it carries) are audited. Other mails to the
	// customer name no reporter, but a relayed message (see relay).
	var disc []disclosure.Disclosure
	if kind == "customer_notice" {
		disc = ds
	}
	return []pending{{key: key, kind: kind, caseID: c.ID, party: store.PartyCustomer, to: to, lang: l, data: d, casePub: c.PublicID,
		disclosed: disc, link: n.portalLink(c.Account, to, c.ID, n.cfg.NoticeLink, l)}}, nil
}

// toReporters writes to each reporter of a case (or only reportID's), as
// each sees the case; keep says whether a reporter gets the mail.
func (n *Notifier) toReporters(ctx context.Context, caseID int64, kind, key string, reportID int64, prep func(*disclosure.Case),
	keep func(*outbox.Data, *disclosure.Case, disclosure.Report) bool) ([]pending, error) {
	full, c, err := n.st.DisclosureCase(ctx, caseID, store.CaseLoad{Customer: true})
	if err != nil {
		if err == store.ErrNotFound {
			return nil, nil
		}
		return nil, err
	}
	if prep != nil {
		prep(full)
	}
	// Every reporter of the case, not only the reports the view loaded
	// (a DDoS case may have thousands).
	ids := []int64{reportID}
	if reportID == 0 {
		if ids, err = n.st.CaseReportIDs(ctx, caseID); err != nil {
			return nil, err
		}
	}
	loaded := map[int64]bool{}
	for _, r := range full.Reports {
		loaded[r.ID] = true
	}
	var out []pending
	for _, id := range ids {
		view := *full
		if !loaded[id] {
			r, err := n.st.DisclosureReport(ctx, caseID, id)
			if err == store.ErrNotFound {
				continue
			}
			if err != nil {
				return nil, err
			}
			view.Reports = append(slices.Clip(full.Reports), *r)
		}
		r := disclosure.Report{ID: id}
		v, _, ok := disclosure.View(disclosure.Viewer{Role: disclosure.Reporter, ReportID: r.ID}, view)
		if !ok || len(v.Reports) == 0 {
			continue
		}
		mr, err := n.st.MailReportByID(ctx, r.ID)
		if err != nil {
			return nil, err
		}
		r = v.Reports[0]
		d := outbox.Data{ReportID: r.PublicID, Category: mr.Type, Subtype: mr.Subtype, ReceivedAt: mr.CreatedAt, Items: mr.Items}
		if !keep(&d, &v, v.Reports[0]) {
			continue
		}
		l := lang(mr.Language)
		// No mail to a reporter names the customer but a relayed message
		// (see relay) and a forwarded counter-notice.
		out = append(out, pending{key: fmt.Sprintf("%s:%d", key, r.ID), kind: kind, caseID: c.ID, reportID: r.ID, party: store.PartyReporter,
			to: mr.ReporterEmail, lang: l, data: d, casePub: c.PublicID, link: n.statusLink(r.ID, r.PublicID, l)})
	}
	return out, nil
}

// loginWindow is the shortest interval between two login links to one
// address.
const loginWindow = 5 * time.Minute

// portalLogin sends a magic link the customer asked for on the portal.
func (n *Notifier) portalLogin(ctx context.Context, ev store.MailEvent) ([]pending, error) {
	account, email := str(ev.Detail["account"]), str(ev.Detail["email"])
	if account == "" || email == "" {
		return nil, nil
	}
	l := "en"
	if a, err := n.st.AccountIdentity(ctx, account); err == nil {
		l = lang(a.Language)
	}
	var caseID int64
	if f, ok := ev.Detail["case_id"].(float64); ok {
		caseID = int64(f)
	}
	// One link per address per window: the login form is public, and
	// asking again and again must not flood a customer's mailbox.
	window := ev.At.Truncate(loginWindow).Unix()
	return []pending{{key: fmt.Sprintf("login:%s:%d", strings.ToLower(email), window), kind: "customer_login", party: store.PartyCustomer, to: email, lang: l,
		link: n.portalLink(account, email, caseID, n.cfg.LoginLink, l)}}, nil
}

// counterNotice forwards a complete counter-notice to the complainants,
// 17 U.S.C. § 512(g)(2)(B): a disclosure the law makes, audited as such.
func (n *Notifier) counterNotice(ctx context.Context, ev store.MailEvent) ([]pending, error) {
	id, _ := ev.Detail["counter_notice"].(float64)
	rows, err := n.st.CounterNotices(ctx, ev.CaseID)
	if err != nil {
		return nil, err
	}
	var row *store.CounterNoticeRow
	for i := range rows {
		if rows[i].ID == int64(id) {
			row = &rows[i]
		}
	}
	if row == nil {
		return nil, nil
	}
	var cn dmca.CounterNotice
	if err := json.Unmarshal(row.Notice, &cn); err != nil {
		return nil, err
	}
	mails, err := n.toReporters(ctx, ev.CaseID, "complainant_counter_notice", fmt.Sprintf("counter_notice:%d", row.ID), 0, nil,
		func(d *outbox.Data, _ *disclosure.Case, _ disclosure.Report) bool {
			d.RestoreEarliest, d.RestoreLatest = row.RestoreEarliest, row.RestoreLatest
			return true
		})
	if err != nil {
		return nil, err
	}
	for i := range mails {
		mails[i].data.CounterNotice = cn.Text(mails[i].lang)
		mails[i].disclosed = append(mails[i].disclosed, disclosure.Disclosure{Field: disclosure.FieldCustomerIdentity})
		mails[i].queued = func(ctx context.Context, t *sql.Tx) error {
			return n.st.SetCounterNoticeForwardedTx(ctx, t, row.ID, n.Now())
		}
	}
	return mails, nil
}
