package web

import (
	"errors"
	"net/http"
	"net/mail"
	"strings"
	"time"

	"abusedesk/internal/store"
)

// Logging in to the portal: the customer gives the address the desk writes
// to, and gets a magic link there (the notifier composes the mail from the
// portal.login event). The answer is the same whether the address is known
// or not, so the form does not tell who is a customer.

type portalLoginPage struct {
	Email  string
	Sent   bool
	Error  string
	Prefix string // "/fr" on French pages: forms post back to them
}

func langPrefix(r *http.Request) string {
	if strings.HasPrefix(r.URL.Path, "/fr/") {
		return "/fr"
	}
	return ""
}

func (s *Server) handlePortalLoginPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	s.renderPortal(w, r, http.StatusOK, "portal_login", portalLoginPage{Prefix: langPrefix(r)})
}

func (s *Server) handlePortalLoginRequest(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	email := strings.TrimSpace(r.PostFormValue("email"))
	p := portalLoginPage{Email: email, Prefix: langPrefix(r)}
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email || len(email) > 254 {
		p.Error = "portal.login.bad_email"
		s.renderPortal(w, r, http.StatusUnprocessableEntity, "portal_login", p)
		return
	}
	acct, err := s.store.AccountByContactEmail(r.Context(), email)
	switch {
	case err == nil:
		a, err := s.store.AccountIdentity(r.Context(), acct)
		if err != nil {
			s.internalError(w, r, err)
			return
		}
		// The link goes to the address of the inventory, as written there.
		if err := s.store.AddMailEvent(r.Context(), store.MailEvent{Kind: store.EventPortalLogin, At: s.now(),
			Detail: map[string]any{"account": acct, "email": a.ContactEmail(), "lang": portalLang(r)}}); err != nil {
			s.internalError(w, r, err)
			return
		}
	case errors.Is(err, store.ErrNotFound):
		// Nothing to send; the page says the same.
	default:
		s.internalError(w, r, err)
		return
	}
	p.Sent = true
	s.renderPortal(w, r, http.StatusOK, "portal_login", p)
}

type portalLinkPage struct {
	Valid  bool
	Action string
	Prefix string
}

// handlePortalLink shows a magic link's page: a button that uses it. A GET
// never uses the link, since mail scanners fetch the links of every mail.
func (s *Server) handlePortalLink(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	p := portalLinkPage{Action: r.URL.Path, Prefix: langPrefix(r)}
	_, _, err := s.store.PortalLoginInfo(r.Context(), r.PathValue("token"), s.now())
	switch {
	case err == nil:
		p.Valid = true
		s.renderPortal(w, r, http.StatusOK, "portal_link", p)
	case errors.Is(err, store.ErrNotFound):
		s.renderPortal(w, r, http.StatusNotFound, "portal_link", p)
	default:
		s.internalError(w, r, err)
	}
}

// handlePortalRedeem uses the link: one session, then the case the notice
// was about (or the list of cases).
func (s *Server) handlePortalRedeem(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	sess, tok, err := s.store.RedeemPortalLogin(r.Context(), r.PathValue("token"), s.now())
	if errors.Is(err, store.ErrNotFound) {
		s.renderPortal(w, r, http.StatusNotFound, "portal_link", portalLinkPage{Prefix: langPrefix(r)})
		return
	}
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: portalCookie, Value: tok, Path: "/portal", HttpOnly: true,
		Secure: s.secureCookies(r), SameSite: http.SameSiteLaxMode, MaxAge: int(store.SessionMax / time.Second)})
	if langPrefix(r) == "/fr" {
		s.setPortalLang(w, r, "fr")
	} else {
		// An English link (or one support staff made): the account's language.
		http.SetCookie(w, &http.Cookie{Name: portalLangCookie, Path: "/portal", HttpOnly: true, Secure: s.secureCookies(r),
			SameSite: http.SameSiteLaxMode, MaxAge: -1})
	}
	to := "/portal"
	if sess.CaseID != 0 {
		if c, err := s.store.CaseByID(r.Context(), sess.CaseID); err == nil {
			to = "/portal/cases/" + c.PublicID
		}
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// handlePortalLogout ends the session on the server, not only the cookie.
func (s *Server) handlePortalLogout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(portalCookie); err == nil {
		if err := s.store.DeletePortalSession(r.Context(), c.Value); err != nil {
			s.internalError(w, r, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: portalCookie, Value: "", Path: "/portal", HttpOnly: true,
		Secure: s.secureCookies(r), SameSite: http.SameSiteLaxMode, MaxAge: -1})
	http.Redirect(w, r, "/portal/login", http.StatusSeeOther)
}
