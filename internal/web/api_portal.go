package web

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"abusedesk/internal/cases"
	"abusedesk/internal/dmca"
	"abusedesk/internal/report"
	"abusedesk/internal/store"
)

// The portal's JSON API (api/openapi.yaml, tag "portal"): what a customer
// does on the portal, for their ticketing systems, with a portal API key.
// Every case answer is built from disclosure.View, as the pages are.

// maxPortalBody bounds a request body: the longest is a counter-notice.
const maxPortalBody = 256 << 10

type portalCaseJSON struct {
	ID        string     `json:"id"`
	Status    string     `json:"status"`
	Outcome   string     `json:"outcome,omitempty"`
	Category  string     `json:"category"`
	Resource  string     `json:"resource"`
	Deadline  *time.Time `json:"deadline,omitempty"`
	CreatedAt *time.Time `json:"created_at,omitempty"`
	UpdatedAt *time.Time `json:"updated_at,omitempty"`
}

type portalPartyJSON struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	Org   string `json:"org,omitempty"`
}

type portalReportJSON struct {
	ID          string           `json:"id"`
	Reporter    *portalPartyJSON `json:"reporter,omitempty"`
	Description string           `json:"description,omitempty"`
	Status      string           `json:"status"`
	Outcome     string           `json:"outcome,omitempty"`
}

type portalEvidenceJSON struct {
	Time   *time.Time `json:"time,omitempty"`
	Source string     `json:"source"`
	Target string     `json:"target,omitempty"`
	Detail string     `json:"detail,omitempty"`
}

type portalMessageJSON struct {
	ID           int64     `json:"id"`
	From         string    `json:"from"`
	To           string    `json:"to"`
	Kind         string    `json:"kind"`
	Body         string    `json:"body"`
	State        string    `json:"state"`
	At           time.Time `json:"at"`
	FromIdentity string    `json:"from_identity,omitempty"`
}

type portalCNJSON struct {
	ID              int64      `json:"id"`
	ReceivedAt      time.Time  `json:"received_at"`
	ForwardedAt     *time.Time `json:"forwarded_at,omitempty"`
	RestoreEarliest time.Time  `json:"restore_earliest"`
	RestoreLatest   time.Time  `json:"restore_latest"`
	CourtActionAt   *time.Time `json:"court_action_at,omitempty"`
	RestoredAt      *time.Time `json:"restored_at,omitempty"`
	State           string     `json:"state"`
}

type portalCaseDetailJSON struct {
	portalCaseJSON
	Account              string               `json:"account"`
	ShareIdentity        bool                 `json:"share_identity"`
	AwaitingAnswer       bool                 `json:"awaiting_answer"`
	ExtensionRequestedAt *time.Time           `json:"extension_requested_at,omitempty"`
	Reports              []portalReportJSON   `json:"reports"`
	Evidence             []portalEvidenceJSON `json:"evidence"`
	Messages             []portalMessageJSON  `json:"messages"`
	CounterNotices       []portalCNJSON       `json:"counter_notices,omitempty"`
}

func portalDetailJSON(p *portalCase) portalCaseDetailJSON {
	v := p.View
	_, answerErr := cases.Next(p.Row.Status, cases.CustomerResponse)
	out := portalCaseDetailJSON{
		portalCaseJSON: portalCaseJSON{ID: v.PublicID, Status: v.Status, Outcome: v.Outcome, Category: v.Category, Resource: v.Resource,
			Deadline: timePtr(v.Deadline), CreatedAt: timePtr(p.Row.CreatedAt), UpdatedAt: timePtr(p.Row.UpdatedAt)},
		Account: v.Account, ShareIdentity: v.CustomerConsent, AwaitingAnswer: answerErr == nil,
		ExtensionRequestedAt: timePtr(p.ExtensionRequested),
		Reports:              []portalReportJSON{}, Evidence: []portalEvidenceJSON{}, Messages: []portalMessageJSON{},
	}
	for _, r := range v.Reports {
		rj := portalReportJSON{ID: r.PublicID, Description: r.Description, Status: r.Status, Outcome: r.Outcome}
		if !r.Reporter.Empty() {
			rj.Reporter = &portalPartyJSON{Name: r.Reporter.Name, Email: r.Reporter.Email, Org: r.Reporter.Org}
		}
		out.Reports = append(out.Reports, rj)
	}
	for _, e := range v.Evidence {
		out.Evidence = append(out.Evidence, portalEvidenceJSON{Time: timePtr(e.Time), Source: e.Source, Target: e.Target,
			Detail: excerpt(e.Detail, evidenceExcerptLen)})
	}
	for _, m := range v.Messages {
		out.Messages = append(out.Messages, portalMessageJSON{ID: m.ID, From: m.Sender, To: m.Recipient, Kind: m.Kind, Body: m.Body,
			State: m.State, At: m.At, FromIdentity: m.FromIdentity})
	}
	for _, cn := range p.CounterNotices {
		out.CounterNotices = append(out.CounterNotices, portalCNJSON{ID: cn.ID, ReceivedAt: cn.Received, ForwardedAt: timePtr(cn.Forwarded),
			RestoreEarliest: cn.RestoreEarliest, RestoreLatest: cn.RestoreLatest, CourtActionAt: timePtr(cn.CourtAction),
			RestoredAt: timePtr(cn.Restored), State: cn.State})
	}
	return out
}

// apiPortalFailed answers an error of the portal API: 404 for a case the
// key's account may not see (as for one that does not exist), the refusal's
// own status for a *portalError, 409 for a workflow refusal, 500 otherwise.
func (s *Server) apiPortalFailed(w http.ResponseWriter, r *http.Request, err error) {
	var pe *portalError
	var ce *cases.Error
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "id", "not_found", "no case "+r.PathValue("id")+" for this account")
	case errors.As(err, &pe):
		writeError(w, pe.Status, pe.Field, pe.Code, pe.Message)
	case errors.As(err, &ce):
		writeError(w, http.StatusConflict, "", ce.Code, ce.Message)
	default:
		s.internalError(w, r, err)
	}
}

// decodePortal reads a JSON body into v: unknown fields are refused (a
// misspelt field would otherwise be silently dropped).
func decodePortal(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxPortalBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.Decode(&struct{}{}) != io.EOF {
		err = errors.New("one JSON object expected, with nothing after it")
	}
	if err == nil {
		return true
	}
	var mbe *http.MaxBytesError
	var ute *json.UnmarshalTypeError
	switch {
	case errors.As(err, &mbe):
		writeError(w, http.StatusRequestEntityTooLarge, "", report.CodeTooLarge, "the body is larger than 256 KB")
	case errors.As(err, &ute):
		writeError(w, http.StatusBadRequest, ute.Field, report.CodeWrongType, "expected "+ute.Type.String()+", got a JSON "+ute.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		writeError(w, http.StatusBadRequest, field, report.CodeUnknownField, "unknown field "+field)
	default:
		writeError(w, http.StatusBadRequest, "", report.CodeInvalidJSON, "the body is not a JSON object of the expected fields: "+err.Error())
	}
	return false
}

func (s *Server) apiPortalCases(w http.ResponseWriter, r *http.Request, account string) {
	status := r.URL.Query().Get("status")
	if !validStatus(status) {
		writeError(w, http.StatusUnprocessableEntity, "status", report.CodeInvalidChoice, "status: one of the case statuses (customer_notified, customer_responded, resolved, …)")
		return
	}
	list, err := s.customerCaseList(r.Context(), account, status)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	out := struct {
		Cases []portalCaseJSON `json:"cases"`
	}{Cases: []portalCaseJSON{}}
	for _, c := range list {
		out.Cases = append(out.Cases, portalCaseJSON{ID: c.PublicID, Status: c.Status, Outcome: c.Outcome, Category: c.Category,
			Resource: c.Resource, Deadline: timePtr(c.Deadline), CreatedAt: timePtr(c.CreatedAt), UpdatedAt: timePtr(c.UpdatedAt)})
	}
	writeJSON(w, http.StatusOK, out)
}

// apiPortalShow answers the case as the account's customer sees it, and
// audits the identities the answer disclosed.
func (s *Server) apiPortalShow(w http.ResponseWriter, r *http.Request, account string, code int) {
	p, err := s.loadPortalCase(r.Context(), account, r.PathValue("id"))
	if err != nil {
		s.apiPortalFailed(w, r, err)
		return
	}
	if err := s.auditPortalView(r.Context(), account, "portal_api", p); err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, code, portalDetailJSON(p))
}

func (s *Server) apiPortalCase(w http.ResponseWriter, r *http.Request, account string) {
	s.apiPortalShow(w, r, account, http.StatusOK)
}

func (s *Server) apiPortalAnswer(w http.ResponseWriter, r *http.Request, account string) {
	var in struct {
		Kind    string `json:"kind"`
		Message string `json:"message"`
	}
	if !decodePortal(w, r, &in) {
		return
	}
	if err := s.portalAnswer(r.Context(), account, r.PathValue("id"), in.Kind, in.Message); err != nil {
		s.apiPortalFailed(w, r, err)
		return
	}
	s.apiPortalShow(w, r, account, http.StatusOK)
}

func (s *Server) apiPortalExtension(w http.ResponseWriter, r *http.Request, account string) {
	var in struct {
		Days   int    `json:"days"`
		Reason string `json:"reason"`
	}
	if !decodePortal(w, r, &in) {
		return
	}
	if err := s.portalExtension(r.Context(), account, r.PathValue("id"), in.Days, in.Reason); err != nil {
		s.apiPortalFailed(w, r, err)
		return
	}
	s.apiPortalShow(w, r, account, http.StatusOK)
}

func (s *Server) apiPortalMessage(w http.ResponseWriter, r *http.Request, account string) {
	var in struct {
		Message string `json:"message"`
	}
	if !decodePortal(w, r, &in) {
		return
	}
	if err := s.portalMessage(r.Context(), account, r.PathValue("id"), in.Message); err != nil {
		s.apiPortalFailed(w, r, err)
		return
	}
	s.apiPortalShow(w, r, account, http.StatusOK)
}

func (s *Server) apiPortalConsent(w http.ResponseWriter, r *http.Request, account string) {
	var in struct {
		Share *bool `json:"share_identity"`
	}
	if !decodePortal(w, r, &in) {
		return
	}
	if in.Share == nil {
		writeError(w, http.StatusUnprocessableEntity, "share_identity", report.CodeRequired, "share_identity: true or false")
		return
	}
	if err := s.portalConsent(r.Context(), account, r.PathValue("id"), *in.Share, "portal_api"); err != nil {
		s.apiPortalFailed(w, r, err)
		return
	}
	s.apiPortalShow(w, r, account, http.StatusOK)
}

func (s *Server) apiPortalCounterNotice(w http.ResponseWriter, r *http.Request, account string) {
	var cn dmca.CounterNotice
	if !decodePortal(w, r, &cn) {
		return
	}
	_, problems, err := s.portalCounterNotice(r.Context(), account, r.PathValue("id"), cn)
	if err != nil {
		s.apiPortalFailed(w, r, err)
		return
	}
	if len(problems) > 0 {
		writeErrors(w, http.StatusUnprocessableEntity, problems)
		return
	}
	s.apiPortalShow(w, r, account, http.StatusCreated)
}
