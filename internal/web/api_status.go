package web

import (
	"errors"
	"net/http"
	"time"

	"abusedesk/internal/store"
)

// The JSON twins of the status page's forms, for automated reporters: the
// same token, as ?token= or "Authorization: Bearer TOKEN".

type statusQuestionBody struct {
	At   time.Time `json:"at"`
	Text string    `json:"text"`
}

type statusMessageBody struct {
	ID    int64     `json:"id"`
	From  string    `json:"from"`
	To    string    `json:"to"`
	Kind  string    `json:"kind"`
	Text  string    `json:"text"`
	State string    `json:"state"`
	At    time.Time `json:"at"`
	// FromIdentity only when the viewer may know the sender.
	FromIdentity string `json:"from_identity,omitempty"`
}

type statusCustomerBody struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

type statusCounterBody struct {
	ReceivedAt          time.Time  `json:"received_at"`
	RestoreEarliest     time.Time  `json:"restore_earliest"`
	RestoreLatest       time.Time  `json:"restore_latest"`
	CourtActionAt       *time.Time `json:"court_action_at"`
	RestoredAt          *time.Time `json:"restored_at"`
	CourtActionPossible bool       `json:"court_action_possible"`
}

type statusCaseBody struct {
	ID            string               `json:"id"`
	Status        string               `json:"status"`
	Outcome       *string              `json:"outcome"`
	Questions     []statusQuestionBody `json:"questions"`
	Messages      []statusMessageBody  `json:"messages"`
	Customer      *statusCustomerBody  `json:"customer,omitempty"`
	CounterNotice *statusCounterBody   `json:"counter_notice,omitempty"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// statusCaseBodies turns the views of statusCases into the API's shape.
func statusCaseBodies(cs []statusCase) []statusCaseBody {
	out := make([]statusCaseBody, 0, len(cs))
	for _, c := range cs {
		b := statusCaseBody{ID: c.ID, Status: c.Status, Questions: []statusQuestionBody{}, Messages: []statusMessageBody{}}
		if c.Outcome != "" {
			o := c.Outcome
			b.Outcome = &o
		}
		for _, q := range c.Questions {
			b.Questions = append(b.Questions, statusQuestionBody{At: q.At.UTC(), Text: q.Text})
		}
		for _, m := range c.Messages {
			b.Messages = append(b.Messages, statusMessageBody{ID: m.ID, From: m.From, To: m.To, Kind: m.Kind, Text: m.Text,
				State: m.State, At: m.At.UTC(), FromIdentity: m.FromIdentity})
		}
		if c.Customer != nil {
			b.Customer = &statusCustomerBody{Name: c.Customer.Name, Email: c.Customer.Email}
		}
		if cn := c.CounterNotice; cn != nil {
			b.CounterNotice = &statusCounterBody{ReceivedAt: cn.ReceivedAt.UTC(), RestoreEarliest: cn.RestoreEarliest.UTC(),
				RestoreLatest: cn.RestoreLatest.UTC(), CourtActionAt: optTime(cn.CourtActionAt), RestoredAt: optTime(cn.RestoredAt),
				CourtActionPossible: cn.CourtActionOpen}
		}
		out = append(out, b)
	}
	return out
}

type statusMessageRequest struct {
	Message string `json:"message"`
	// Case names the case when the report feeds several.
	Case string `json:"case,omitempty"`
}

// statusAPIMessage reads and checks the body of the answer and message
// routes; on a problem it has answered.
func (s *Server) statusAPIMessage(w http.ResponseWriter, r *http.Request) (*store.ReportStatus, *statusMessageRequest, bool) {
	st, err := s.lookupStatus(r)
	if s.statusFailed(w, r, err, true) {
		return nil, nil, false
	}
	var req statusMessageRequest
	if _, ok := s.decodeBody(w, r, &req); !ok {
		return nil, nil, false
	}
	clean, code, n := store.MessageText(req.Message)
	req.Message = clean
	switch code {
	case "invalid":
		writeError(w, http.StatusUnprocessableEntity, "message", code, "the message is not UTF-8 text")
		return nil, nil, false
	case "required":
		writeError(w, http.StatusUnprocessableEntity, "message", code, "the message is empty: write the text to send")
		return nil, nil, false
	case "too_large":
		writeError(w, http.StatusUnprocessableEntity, "message", code,
			"the message is "+itoa(int64(n))+" characters long; the limit is "+itoa(store.MaxMessageLen)+": shorten it or send it in parts")
		return nil, nil, false
	}
	return st, &req, true
}

// statusAPIRefused answers a refused action; it says whether it did.
func (s *Server) statusAPIRefused(w http.ResponseWriter, r *http.Request, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, errStatusUnknownCase):
		writeError(w, http.StatusUnprocessableEntity, "case", "invalid_choice", "this report does not feed the case named in case (see cases in GET /api/v1/reports/{id})")
	case errors.Is(err, errStatusWhichCase):
		writeError(w, http.StatusUnprocessableEntity, "case", "required", "the report feeds several cases: name one in case (see cases in GET /api/v1/reports/{id})")
	case errors.Is(err, errStatusNoCase):
		writeError(w, http.StatusConflict, "", "not_possible", "the report is not part of a case yet: there is nobody to write to")
	case errors.Is(err, errStatusNotPossible):
		writeError(w, http.StatusConflict, "case", "not_possible", "not possible for this case now: it is closed, or its customer has not been notified")
	default:
		s.internalError(w, r, err)
	}
	return true
}

// handleAPIStatusAnswer is POST /api/v1/reports/{id}/answer.
func (s *Server) handleAPIStatusAnswer(w http.ResponseWriter, r *http.Request) {
	st, req, ok := s.statusAPIMessage(w, r)
	if !ok {
		return
	}
	ids, err := s.answerDesk(r.Context(), st, req.Case, req.Message)
	if s.statusAPIRefused(w, r, err) {
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"cases": ids, "state": store.MessageKept})
}

// handleAPIStatusMessage is POST /api/v1/reports/{id}/messages.
func (s *Server) handleAPIStatusMessage(w http.ResponseWriter, r *http.Request) {
	st, req, ok := s.statusAPIMessage(w, r)
	if !ok {
		return
	}
	id, err := s.messageCustomer(r.Context(), st, req.Case, req.Message)
	if s.statusAPIRefused(w, r, err) {
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"case": id, "state": store.MessagePending,
		"relay_after": s.now().Add(s.cfg.RelayDelay).UTC()})
}

// handleAPIStatusConsent is POST /api/v1/reports/{id}/consent.
func (s *Server) handleAPIStatusConsent(w http.ResponseWriter, r *http.Request) {
	st, err := s.lookupStatus(r)
	if s.statusFailed(w, r, err, true) {
		return
	}
	var req struct {
		Share *bool `json:"share_contact_with_customer"`
	}
	if _, ok := s.decodeBody(w, r, &req); !ok {
		return
	}
	if req.Share == nil {
		writeError(w, http.StatusUnprocessableEntity, "share_contact_with_customer", "required", "say true (share your name, organisation and email with the customer) or false")
		return
	}
	if err := s.recordReporterConsent(r.Context(), st, *req.Share, "status_api"); err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"share_contact_with_customer": *req.Share})
}
