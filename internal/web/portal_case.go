package web

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"abusedesk/internal/cases"
	"abusedesk/internal/disclosure"
	"abusedesk/internal/store"
)

// The portal's case page, and the forms on it: answer, ask for more time,
// write to the reporters, share or withhold the customer's identity. Each
// form posts, and comes back to the page (POST/redirect/GET) with a
// confirmation; a refused one shows the page again with the reason next to
// the field and what was typed.

// evidenceExcerptLen bounds the text of an evidence item on the page.
const evidenceExcerptLen = 2000

type portalCasePage struct {
	C        *portalCase
	Evidence []disclosure.Evidence // excerpts
	// AwaitingAnswer: the desk waits for the customer's answer (the
	// answer moves the case on); Open: the case takes messages at all.
	AwaitingAnswer, Open, CanExtend, IsDMCA bool
	Kinds                                   []string
	MaxDays                                 int
	RelayDelay                              string
	Done                                    string // a confirmation's locale key
	Errors                                  map[string]string
	Form                                    map[string]string
}

// portalDone are the confirmations ?done= may name.
var portalDone = []string{"answer", "extension", "message", "consent_granted", "consent_withdrawn", "counter_notice"}

func excerpt(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + " …"
}

func (s *Server) portalCasePage(r *http.Request, account, id string) (*portalCasePage, error) {
	pc, err := s.loadPortalCase(r.Context(), account, id)
	if err != nil {
		return nil, err
	}
	st := pc.Row.Status
	_, answerErr := cases.Next(st, cases.CustomerResponse)
	_, extendErr := cases.Next(st, cases.Extend)
	p := &portalCasePage{C: pc, AwaitingAnswer: answerErr == nil, Open: st.Open(), CanExtend: st.Open() && extendErr == nil,
		IsDMCA: pc.Row.Category == "dmca", Kinds: answerKinds, MaxDays: maxExtensionDays, RelayDelay: shortDuration(s.cfg.RelayDelay),
		Errors: map[string]string{}, Form: map[string]string{}}
	for _, e := range pc.View.Evidence {
		e.Detail = excerpt(e.Detail, evidenceExcerptLen)
		p.Evidence = append(p.Evidence, e)
	}
	if d := r.URL.Query().Get("done"); slices.Contains(portalDone, d) {
		p.Done = "portal.done." + d
	}
	return p, nil
}

func (s *Server) handlePortalCase(w http.ResponseWriter, r *http.Request) {
	sess := portalSessionOf(r)
	p, err := s.portalCasePage(r, sess.Account, r.PathValue("id"))
	if s.portalFailed(w, r, err) {
		return
	}
	s.showPortalCase(w, r, http.StatusOK, sess.Account, p)
}

// showPortalCase renders the page, then audits the identities it showed.
func (s *Server) showPortalCase(w http.ResponseWriter, r *http.Request, code int, account string, p *portalCasePage) {
	s.renderPortal(w, r, code, "portal_case", p)
	if err := s.auditPortalView(r.Context(), account, "portal", p.C); err != nil {
		s.log.Error("auditing a portal view", "case", p.C.Row.PublicID, "err", err)
	}
}

// portalFailed answers a case that could not be read or acted on: the
// not-found page for a case the customer may not see (whether or not it
// exists), 500 otherwise; false when err is nil.
func (s *Server) portalFailed(w http.ResponseWriter, r *http.Request, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, store.ErrNotFound):
		s.renderPortal(w, r, http.StatusNotFound, "portal_notfound", r.PathValue("id"))
	default:
		s.internalError(w, r, err)
	}
	return true
}

// portalRefused shows the case page again after a refused form: the reason
// next to its field, what was typed kept. It reports whether err was such
// a refusal (a *portalError or a *cases.Error) and was answered.
func (s *Server) portalRefused(w http.ResponseWriter, r *http.Request, err error, form map[string]string) bool {
	var pe *portalError
	var ce *cases.Error
	field, code, msg, status := "", "", "", 0
	switch {
	case errors.As(err, &pe):
		field, code, msg, status = pe.Field, pe.Code, pe.Message, pe.Status
	case errors.As(err, &ce):
		field, code, msg, status = "form", ce.Code, ce.Message, http.StatusConflict
	default:
		return false
	}
	sess := portalSessionOf(r)
	p, lerr := s.portalCasePage(r, sess.Account, r.PathValue("id"))
	if s.portalFailed(w, r, lerr) {
		return true
	}
	lang := portalLang(r)
	if t := s.pages.T(lang, "portal.error."+code); t != "portal.error."+code {
		msg = t
	}
	p.Errors[form["form"]+"."+field] = msg
	p.Form = form
	s.showPortalCase(w, r, status, sess.Account, p)
	return true
}

func (s *Server) portalDoneRedirect(w http.ResponseWriter, r *http.Request, done string) {
	http.Redirect(w, r, "/portal/cases/"+r.PathValue("id")+"?done="+done+"#flash", http.StatusSeeOther)
}

func (s *Server) handlePortalAnswer(w http.ResponseWriter, r *http.Request) {
	sess := portalSessionOf(r)
	form := map[string]string{"form": "answer", "kind": r.PostFormValue("kind"), "message": r.PostFormValue("message")}
	err := s.portalAnswer(r.Context(), sess.Account, r.PathValue("id"), form["kind"], form["message"])
	if err == nil {
		s.portalDoneRedirect(w, r, "answer")
		return
	}
	if !s.portalRefused(w, r, err, form) {
		s.portalFailed(w, r, err)
	}
}

func (s *Server) handlePortalExtension(w http.ResponseWriter, r *http.Request) {
	sess := portalSessionOf(r)
	form := map[string]string{"form": "extension", "days": r.PostFormValue("days"), "reason": r.PostFormValue("reason")}
	days, perr := strconv.Atoi(strings.TrimSpace(form["days"]))
	if perr != nil {
		days = 0 // refused below as out of range
	}
	err := s.portalExtension(r.Context(), sess.Account, r.PathValue("id"), days, form["reason"])
	if err == nil {
		s.portalDoneRedirect(w, r, "extension")
		return
	}
	if !s.portalRefused(w, r, err, form) {
		s.portalFailed(w, r, err)
	}
}

func (s *Server) handlePortalMessage(w http.ResponseWriter, r *http.Request) {
	sess := portalSessionOf(r)
	form := map[string]string{"form": "relay", "message": r.PostFormValue("message")}
	err := s.portalMessage(r.Context(), sess.Account, r.PathValue("id"), form["message"])
	if err == nil {
		s.portalDoneRedirect(w, r, "message")
		return
	}
	if !s.portalRefused(w, r, err, form) {
		s.portalFailed(w, r, err)
	}
}

func (s *Server) handlePortalConsent(w http.ResponseWriter, r *http.Request) {
	sess := portalSessionOf(r)
	share := r.PostFormValue("share_identity") == "true"
	err := s.portalConsent(r.Context(), sess.Account, r.PathValue("id"), share, "portal")
	if s.portalFailed(w, r, err) {
		return
	}
	done := "consent_withdrawn"
	if share {
		done = "consent_granted"
	}
	s.portalDoneRedirect(w, r, done)
}
