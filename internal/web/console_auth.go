package web

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"abusedesk/internal/auth"
	"abusedesk/internal/store"
)

// The staff console's session cookie. HttpOnly (no script reads it),
// SameSite=Lax (not sent on cross-site POSTs), Secure whenever the desk is
// served over HTTPS (the request or --base-url says so), scoped to /console.
const sessionCookie = "abusedesk_console"

type ctxKey int

const sessionKey ctxKey = 1

func sessionOf(r *http.Request) *store.Session {
	s, _ := r.Context().Value(sessionKey).(*store.Session)
	return s
}

func (s *Server) secureCookies(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(s.cfg.BaseURL, "https://")
}

// requireSession sends a visitor without a live session to the login page
// (GET) or answers 401 (other methods); a POST must carry the session's
// CSRF token (a synchronizer token, on top of CrossOriginProtection's
// Sec-Fetch-Site check, for browsers that send neither Origin nor
// Sec-Fetch-Site).
func (s *Server) requireSession(role string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var sess *store.Session
		if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
			var err error
			sess, err = s.store.SessionByToken(r.Context(), c.Value, s.now())
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				s.internalError(w, r, err)
				return
			}
		}
		if sess == nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/console/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			http.Error(w, "not logged in", http.StatusUnauthorized)
			return
		}
		if role == store.RoleAdmin && sess.User.Role != store.RoleAdmin {
			http.Error(w, "this page is for admins", http.StatusForbidden)
			return
		}
		if r.Method == http.MethodPost {
			if subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(sess.CSRF)) != 1 {
				http.Error(w, "the form is stale or was not sent from the console (CSRF check): reload the page and retry", http.StatusForbidden)
				return
			}
		}
		w.Header().Set("Cache-Control", "no-store")
		h(w, r.WithContext(context.WithValue(r.Context(), sessionKey, sess)))
	}
}

type loginPage struct {
	Email string
	Next  string
	Error string
}

func (s *Server) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	s.renderConsole(w, r, http.StatusOK, "console_login", loginPage{Next: safeNext(r.URL.Query().Get("next"))})
}

// safeNext keeps a post-login redirect inside the console (no open redirect).
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/console") || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		return "/console"
	}
	return next
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	email := strings.TrimSpace(r.PostFormValue("email"))
	pw := r.PostFormValue("password")
	next := safeNext(r.PostFormValue("next"))
	fail := func() {
		s.renderConsole(w, r, http.StatusUnauthorized, "console_login", loginPage{Email: email, Next: next, Error: "console.login.failed"})
	}
	u, err := s.store.UserByEmail(r.Context(), email)
	if errors.Is(err, store.ErrNotFound) {
		auth.DummyCheck(pw) // same time as a wrong password
		fail()
		return
	}
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	if err := auth.CheckPassword(u.PasswordHash, pw); err != nil || u.Disabled {
		fail()
		return
	}
	if auth.NeedsRehash(u.PasswordHash) {
		if h, err := auth.HashPassword(pw); err == nil {
			s.store.SetPassword(r.Context(), u.ID, h, u.Role)
		}
	}
	tok, _, err := s.store.CreateSession(r.Context(), u.ID, s.now())
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: tok, Path: "/console", HttpOnly: true,
		Secure: s.secureCookies(r), SameSite: http.SameSiteLaxMode, MaxAge: int(store.SessionMax / time.Second)})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := s.store.DeleteSession(r.Context(), c.Value); err != nil {
			s.internalError(w, r, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/console", HttpOnly: true,
		Secure: s.secureCookies(r), SameSite: http.SameSiteLaxMode, MaxAge: -1})
	http.Redirect(w, r, "/console/login", http.StatusSeeOther)
}

// requireStaffToken authenticates the staff API: "Authorization: Bearer
// ads_…" made with abusedesk token add EMAIL.
func (s *Server) requireStaffToken(h func(http.ResponseWriter, *http.Request, *store.User)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || tok == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="abusedesk staff"`)
			writeError(w, http.StatusUnauthorized, "Authorization", "unauthorized", "a staff token is required: Authorization: Bearer ads_… (abusedesk token add --db DB EMAIL)")
			return
		}
		u, err := s.store.StaffByToken(r.Context(), strings.TrimSpace(tok))
		if errors.Is(err, store.ErrNotFound) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="abusedesk staff", error="invalid_token"`)
			writeError(w, http.StatusUnauthorized, "Authorization", "unauthorized", "unknown or revoked staff token")
			return
		}
		if err != nil {
			s.internalError(w, r, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		h(w, r, u)
	}
}
