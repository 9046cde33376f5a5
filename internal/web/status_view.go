package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"abusedesk/internal/cases"
	"abusedesk/internal/disclosure"
	"abusedesk/internal/store"
)

// The status link is the reporter's capability: whoever holds it is the
// reporter of that one report. What it shows of the cases the report feeds
// is what disclosure.View lets that reporter see, nothing read around it.

// statusCase is one case a report feeds, as its reporter may see it.
type statusCase struct {
	ID        string
	Status    string
	Outcome   string
	Category  string
	Questions []statusMessage // what the desk asked the reporters
	Messages  []statusMessage // the conversation View lets them see, oldest first
	// Customer is the account's name and contact, only when View returned
	// it (the customer consented).
	Customer      *disclosure.Party
	CounterNotice *statusCounterNotice
	// What the page offers.
	Open       bool // the desk still works on it: more information is welcome
	NeedsInfo  bool // the desk waits for this reporter's answer
	CanMessage bool // mediation with the customer is possible
}

type statusMessage struct {
	ID           int64
	From, To     string
	Kind         string
	Text         string
	State        string
	At           time.Time
	FromIdentity string
}

// statusCounterNotice is the latest counter-notice of a copyright case:
// its dates are what the complainant needs to go to court in time.
type statusCounterNotice struct {
	ReceivedAt, RestoreEarliest, RestoreLatest, CourtActionAt, RestoredAt time.Time
	// CourtActionOpen: the material is still down and no court action was
	// reported; the complainant may say they filed one.
	CourtActionOpen bool
}

// reporterActor names the holder of a status link in the audit trail.
func reporterActor(st *store.ReportStatus) string { return "reporter:" + st.PublicID }

// statusCases builds, for the holder of st's status link, the view of every
// case the report feeds, and audits the identities it shows (channel
// status_page or status_api).
func (s *Server) statusCases(ctx context.Context, st *store.ReportStatus, channel string) ([]statusCase, error) {
	pubs, err := s.store.ReportCases(ctx, st.ID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	viewer := disclosure.Viewer{Role: disclosure.Reporter, ReportID: st.ID}
	var out []statusCase
	for _, pub := range pubs {
		c, err := s.store.CaseByPublicID(ctx, pub)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		dc, _, err := s.store.DisclosureCase(ctx, c.ID, store.CaseLoad{Customer: true, Include: []int64{st.ID}})
		if err != nil {
			return nil, err
		}
		v, ds, ok := disclosure.View(viewer, *dc)
		if !ok {
			continue
		}
		sc := statusCase{ID: v.PublicID, Status: v.Status, Outcome: v.Outcome, Category: v.Category,
			NeedsInfo: v.Status == string(cases.NeedsInfo)}
		sc.Open = cases.Status(v.Status).Open()
		// A reporter writes to a customer who knows of the case, while it is
		// open: before the notice the customer must not learn of it from
		// the reporter.
		sc.CanMessage = sc.Open && v.Notified
		if !v.Customer.Empty() {
			p := v.Customer
			sc.Customer = &p
		}
		for _, m := range v.Messages {
			sm := statusMessage{ID: m.ID, From: m.Sender, To: m.Recipient, Kind: m.Kind, Text: m.Body, State: m.State,
				At: m.At, FromIdentity: m.FromIdentity}
			if m.Sender == store.PartyDesk && m.Recipient == store.PartyReporter && m.Kind == "question" {
				sc.Questions = append(sc.Questions, sm)
			}
			sc.Messages = append(sc.Messages, sm)
		}
		if v.Category == "dmca" {
			cns, err := s.store.CounterNotices(ctx, v.ID)
			if err != nil {
				return nil, err
			}
			if len(cns) > 0 {
				cn := cns[len(cns)-1]
				sc.CounterNotice = &statusCounterNotice{ReceivedAt: cn.ReceivedAt, RestoreEarliest: cn.RestoreEarliest,
					RestoreLatest: cn.RestoreLatest, CourtActionAt: cn.CourtActionAt, RestoredAt: cn.RestoredAt,
					CourtActionOpen: cn.CourtActionAt.IsZero() && cn.RestoredAt.IsZero()}
			}
		}
		if err := s.store.AuditDisclosures(ctx, v.ID, v.PublicID, reporterActor(st), channel, ds, now); err != nil {
			return nil, err
		}
		out = append(out, sc)
	}
	return out, nil
}

// statusFormReport finds the report of a status page's form post by the
// token in its hidden field: it is in no URL the POST leaves behind.
func (s *Server) statusFormReport(w http.ResponseWriter, r *http.Request) (*store.ReportStatus, error) {
	r.Body = http.MaxBytesReader(w, r.Body, statusFormMax)
	if err := r.ParseForm(); err != nil {
		return nil, errStatusForm
	}
	tok := r.PostFormValue("token")
	if tok == "" {
		return nil, store.ErrNotFound
	}
	return s.store.ReportByStatusToken(r.Context(), r.PathValue("id"), tok)
}

// statusFormMax bounds a status form's body: a message of MaxMessageLen
// characters of four bytes each, percent-encoded, and the other fields.
const statusFormMax = store.MaxMessageLen*4*3 + 4096

var errStatusForm = errors.New("status form: unreadable body")

// statusFailed answers a status request that found no report for its
// token (404, the same for an unknown id and a wrong token) or failed, as
// a page or JSON; it says whether it answered.
func (s *Server) statusFailed(w http.ResponseWriter, r *http.Request, err error, api bool) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, store.ErrNotFound) && api:
		writeError(w, http.StatusNotFound, "", "not_found", "no report with this id and token")
	case errors.Is(err, store.ErrNotFound):
		w.Header().Set("Cache-Control", "no-store")
		s.render(w, r, http.StatusNotFound, "notfound", nil)
	case errors.Is(err, errStatusForm):
		http.Error(w, "the form could not be read", http.StatusBadRequest)
	default:
		s.internalError(w, r, err)
	}
	return true
}

// statusRedirect sends the browser back to the status page after a form
// post, with what was done. The token is back in the URL of a GET (the
// page's own link); Referrer-Policy no-referrer keeps it on the site.
func statusRedirect(w http.ResponseWriter, r *http.Request, st *store.ReportStatus, tok, done string) {
	prefix := ""
	if langOf(r) == "fr" {
		prefix = "/fr"
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, prefix+"/status/"+st.PublicID+"?token="+url.QueryEscape(tok)+"&done="+done+"#done", http.StatusSeeOther)
}
