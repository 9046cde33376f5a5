package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"abusedesk/internal/cases"
	"abusedesk/internal/store"
)

// The staff API: what the console does, as JSON, with a staff bearer token
// (api/openapi.yaml, tag "cases").

type caseJSON struct {
	ID           string         `json:"id"`
	Account      string         `json:"account"`
	Resource     string         `json:"resource"`
	Category     string         `json:"category"`
	Subtypes     []string       `json:"subtypes"`
	Lane         string         `json:"lane"`
	Status       cases.Status   `json:"status"`
	Outcome      cases.Outcome  `json:"outcome,omitempty"`
	Priority     int            `json:"priority"`
	Level        string         `json:"level"`
	Escalated    bool           `json:"escalated"`
	Assignee     string         `json:"assignee,omitempty"`
	Deadline     *time.Time     `json:"deadline,omitempty"`
	Overdue      bool           `json:"overdue"`
	Reports      int            `json:"reports"`
	Reporters    int            `json:"reporters"`
	Items        int            `json:"items"`
	LastIncident *time.Time     `json:"last_incident,omitempty"`
	CreatedAt    time.Time      `json:"created_at"`
	UpdatedAt    time.Time      `json:"updated_at"`
	ClosedAt     *time.Time     `json:"closed_at,omitempty"`
	MergedInto   string         `json:"merged_into,omitempty"`
	Allowed      []cases.Action `json:"allowed_actions"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (s *Server) caseJSON(c *store.Case, now time.Time) caseJSON {
	v := s.view(c, now)
	return caseJSON{ID: c.PublicID, Account: c.Account, Resource: c.Resource, Category: c.Category, Subtypes: append([]string{}, c.Subtypes...),
		Lane: c.Lane, Status: c.Status, Outcome: c.Outcome, Priority: c.Priority, Level: "P" + strconv.Itoa(v.Level),
		Escalated: c.Escalated, Assignee: c.Assignee, Deadline: timePtr(c.Deadline), Overdue: v.Overdue, Reports: c.Reports,
		Reporters: c.Reporters, Items: c.Items, LastIncident: timePtr(c.LastIncident), CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
		ClosedAt: timePtr(c.ClosedAt), MergedInto: c.MergedInto, Allowed: append([]cases.Action{}, cases.Allowed(c.Status)...)}
}

func (s *Server) apiListCases(w http.ResponseWriter, r *http.Request, u *store.User) {
	f, err := queueFilter(r.URL.Query())
	if err != nil {
		field, _, _ := strings.Cut(err.Error(), ":")
		writeError(w, http.StatusBadRequest, field, "invalid", err.Error())
		return
	}
	page, err := s.store.ListCases(r.Context(), f, s.Policy, s.now())
	if err != nil {
		writeError(w, http.StatusBadRequest, "", "invalid", err.Error())
		return
	}
	now := s.now()
	out := struct {
		Cases []caseJSON `json:"cases"`
		Next  string     `json:"next,omitempty"`
	}{Cases: []caseJSON{}, Next: page.Next}
	for i := range page.Cases {
		out.Cases = append(out.Cases, s.caseJSON(&page.Cases[i], now))
	}
	writeJSON(w, http.StatusOK, out)
}

type caseDetailJSON struct {
	caseJSON
	Reports  []caseReportJSON `json:"linked_reports"`
	Evidence []evidenceJSON   `json:"evidence"`
	Timeline []timelineJSON   `json:"timeline"`
	// The conversation, as disclosure.View gives it to staff.
	Messages        []staffMessageJSON `json:"messages"`
	CustomerConsent bool               `json:"customer_shares_identity"`
	Mails           []staffMailJSON    `json:"mails"`
}

type staffMessageJSON struct {
	ID         int64     `json:"id"`
	Report     int64     `json:"report_id,omitempty"`
	From       string    `json:"from"`
	To         string    `json:"to"`
	Kind       string    `json:"kind"`
	Text       string    `json:"text"`
	State      string    `json:"state"`
	At         time.Time `json:"at"`
	HoldURL    string    `json:"hold_url,omitempty"`
	ReleaseURL string    `json:"release_url,omitempty"`
}

type staffMailJSON struct {
	ID        int64      `json:"id"`
	Kind      string     `json:"kind"`
	To        string     `json:"to"`
	Party     string     `json:"party"`
	State     string     `json:"state"`
	Attempts  int        `json:"attempts"`
	LastError string     `json:"last_error,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	SentAt    *time.Time `json:"sent_at,omitempty"`
}

type caseReportJSON struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Subtype  string `json:"subtype"`
	Channel  string `json:"channel"`
	Reporter struct {
		Name  string `json:"name"`
		Email string `json:"email"`
		Org   string `json:"org,omitempty"`
		Kind  string `json:"kind"`
	} `json:"reporter"`
	ShareContact bool      `json:"share_contact_with_customer"`
	Items        int       `json:"items"`
	ReceivedAt   time.Time `json:"received_at"`
	SHA256       string    `json:"raw_sha256"`
	Size         int64     `json:"raw_size"`
}

type evidenceJSON struct {
	Report     string     `json:"report"`
	SourceIP   string     `json:"source_ip,omitempty"`
	OccurredAt *time.Time `json:"occurred_at,omitempty"`
	URL        string     `json:"url,omitempty"`
	Log        string     `json:"log,omitempty"`
	Matched    string     `json:"matched,omitempty"`
}

type timelineJSON struct {
	At     time.Time      `json:"at"`
	Kind   string         `json:"kind"`
	Actor  string         `json:"actor,omitempty"`
	Action string         `json:"action,omitempty"`
	Report string         `json:"report,omitempty"`
	Note   string         `json:"note,omitempty"`
	Detail map[string]any `json:"detail,omitempty"`
	Seq    int64          `json:"seq,omitempty"`
}

func (s *Server) apiGetCase(w http.ResponseWriter, r *http.Request, u *store.User) {
	p, c, err := s.loadCasePage(r, r.PathValue("id"))
	if s.caseFailed(w, r, err, true) {
		return
	}
	out := caseDetailJSON{caseJSON: s.caseJSON(c, s.now()), Reports: []caseReportJSON{}, Evidence: []evidenceJSON{}, Timeline: []timelineJSON{}}
	for _, rep := range p.Reports {
		j := caseReportJSON{ID: rep.PublicID, Type: rep.Type, Subtype: rep.Subtype, Channel: rep.Channel, ShareContact: rep.ShareContact,
			Items: rep.Items, ReceivedAt: rep.CreatedAt, SHA256: rep.SHA256, Size: rep.Size}
		j.Reporter.Name, j.Reporter.Email, j.Reporter.Org, j.Reporter.Kind = rep.ReporterName, rep.ReporterEmail, rep.ReporterOrg, rep.ReporterKind
		out.Reports = append(out.Reports, j)
	}
	for _, e := range p.Evidence {
		out.Evidence = append(out.Evidence, evidenceJSON{Report: e.Report, SourceIP: e.SourceIP, OccurredAt: timePtr(e.At), URL: e.URL, Log: e.Detail.Log, Matched: e.Why})
	}
	for _, t := range p.Timeline {
		out.Timeline = append(out.Timeline, timelineJSON{At: t.At, Kind: t.Kind, Actor: t.Actor, Action: t.Action, Report: t.Report, Note: t.Note, Detail: t.Detail, Seq: t.Seq})
	}
	out.Messages, out.Mails = []staffMessageJSON{}, []staffMailJSON{}
	if p.Talk != nil {
		out.CustomerConsent = p.Talk.CustomerNamed
		for _, m := range p.Talk.Case.Messages {
			j := staffMessageJSON{ID: m.ID, Report: m.ReportID, From: m.Sender, To: m.Recipient, Kind: m.Kind, Text: m.Body, State: m.State, At: m.At}
			base := "/api/v1/cases/" + c.PublicID + "/messages/" + strconv.FormatInt(m.ID, 10)
			switch m.State {
			case store.MessagePending:
				j.HoldURL = base + "/hold"
			case store.MessageHeld:
				j.ReleaseURL = base + "/release"
			}
			out.Messages = append(out.Messages, j)
		}
		for _, m := range p.Talk.Mails {
			out.Mails = append(out.Mails, staffMailJSON{ID: m.ID, Kind: m.Kind, To: m.Recipient, Party: m.Party, State: m.State,
				Attempts: m.Attempts, LastError: m.LastError, CreatedAt: m.CreatedAt, SentAt: timePtr(m.SentAt)})
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// apiMessageDecision is POST /api/v1/cases/{id}/messages/{mid}/{hold|release}.
func (s *Server) apiMessageDecision(w http.ResponseWriter, r *http.Request, u *store.User) {
	c, err := s.store.CaseByPublicID(r.Context(), r.PathValue("id"))
	if s.caseFailed(w, r, err, true) {
		return
	}
	mid, _ := strconv.ParseInt(r.PathValue("mid"), 10, 64)
	m, err := s.store.MessageByID(r.Context(), mid)
	if err != nil || m.CaseID != c.ID {
		writeError(w, http.StatusNotFound, "mid", "not_found", "no message "+r.PathValue("mid")+" in case "+c.PublicID)
		return
	}
	switch r.PathValue("decision") {
	case "hold":
		err = s.store.HoldMessage(r.Context(), mid, u.Email, s.now())
	case "release":
		err = s.store.ReleaseMessage(r.Context(), mid, u.Email, s.now())
	default:
		writeError(w, http.StatusNotFound, "decision", "not_found", "hold or release")
		return
	}
	if errors.Is(err, store.ErrMessageState) {
		writeError(w, http.StatusConflict, "mid", "message_state", "the message was already relayed or is kept for the desk")
		return
	}
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	m, _ = s.store.MessageByID(r.Context(), mid)
	writeJSON(w, http.StatusOK, staffMessageJSON{ID: m.ID, Report: m.ReportID, From: m.Sender, To: m.Recipient, Kind: m.Kind, Text: m.Body, State: m.State, At: m.CreatedAt})
}

// actionJSON is the body of an action (one case or a selection).
type actionJSON struct {
	Cases    []string `json:"cases,omitempty"` // bulk only
	Action   string   `json:"action"`
	Outcome  string   `json:"outcome,omitempty"`
	Assignee string   `json:"assignee,omitempty"`
	Note     string   `json:"note,omitempty"`
	Extend   string   `json:"extend,omitempty"` // "24h", "2d"
	Into     string   `json:"into,omitempty"`
}

func (a *actionJSON) get(k string) string {
	switch k {
	case "action":
		return a.Action
	case "outcome":
		return a.Outcome
	case "assignee":
		return a.Assignee
	case "note":
		return a.Note
	case "extend":
		return a.Extend
	case "into":
		return a.Into
	}
	return ""
}

func readAction(w http.ResponseWriter, r *http.Request) (*actionJSON, bool) {
	var a actionJSON
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		writeError(w, http.StatusBadRequest, "", "invalid_json", "the body is not the expected JSON object: "+err.Error())
		return nil, false
	}
	return &a, true
}

func caseErrorStatus(ce *cases.Error) int {
	if ce.Code == "illegal_transition" || ce.Code == "open_case_exists" || ce.Code == "merge_target_closed" {
		return http.StatusConflict
	}
	return http.StatusUnprocessableEntity
}

func (s *Server) apiCaseAction(w http.ResponseWriter, r *http.Request, u *store.User) {
	a, ok := readAction(w, r)
	if !ok {
		return
	}
	cmd, err := commandFrom(a.get)
	var c *store.Case
	if err == nil {
		c, _, err = s.applyCase(r, r.PathValue("id"), u.Email, cmd, s.Policy, s.now())
	}
	var ce *cases.Error
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "id", "not_found", "no case "+r.PathValue("id"))
	case errors.As(err, &ce):
		writeError(w, caseErrorStatus(ce), "action", ce.Code, ce.Message)
	case err != nil:
		s.internalError(w, r, err)
	default:
		writeJSON(w, http.StatusOK, s.caseJSON(c, s.now()))
	}
}

func (s *Server) apiBulkAction(w http.ResponseWriter, r *http.Request, u *store.User) {
	a, ok := readAction(w, r)
	if !ok {
		return
	}
	if len(a.Cases) == 0 {
		writeError(w, http.StatusUnprocessableEntity, "cases", "required", "list the case ids to act on")
		return
	}
	done, refused := s.applyBulk(r, u.Email, a.Cases, a.get, func(ce *cases.Error) string { return ce.Code + ": " + ce.Message })
	writeJSON(w, http.StatusOK, map[string]any{"done": done, "refused": append([]string{}, refused...)})
}

func (s *Server) apiCustomer(w http.ResponseWriter, r *http.Request, u *store.User) {
	c, err := s.store.CaseByPublicID(r.Context(), r.PathValue("id"))
	if s.caseFailed(w, r, err, true) {
		return
	}
	acct, err := s.customerIdentity(r, c, u.Email, "api")
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "account", "not_found", "the inventory has no account "+c.Account)
		return
	}
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"account": acct.ExtID, "name": acct.Name, "security_email": acct.SecurityEmail,
		"email": acct.Email, "language": acct.Language})
}

func (s *Server) apiDashboard(w http.ResponseWriter, r *http.Request, u *store.User) {
	days := dashDays(r)
	d, _, err := s.dashboard(r, days)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	var dayStr []string
	for _, day := range d.Days {
		dayStr = append(dayStr, day.Format("2006-01-02"))
	}
	first := make([]*float64, len(d.FirstActionH))
	for i := range d.FirstActionH {
		if d.FirstActionN[i] > 0 {
			first[i] = &d.FirstActionH[i]
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"days": dayStr, "reports_per_type": d.ReportsPerType, "cases_per_category": d.CasesPerType,
		"open_by_lane": d.OpenByLane, "median_hours_to_first_action": first, "cases_with_first_action": d.FirstActionN,
		"escalations": d.Escalations, "overdue_now": d.Overdue})
}
