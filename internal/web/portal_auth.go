package web

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"abusedesk/internal/store"
)

// The customer portal's session cookie: HttpOnly, SameSite=Lax, Secure
// over HTTPS, scoped to /portal, like the console's. The language chosen
// (a /fr/ magic link, the switch in the header) is remembered in a second
// cookie, since the session cookie's path leaves out /fr/portal.
const (
	portalCookie     = "abusedesk_portal"
	portalLangCookie = "abusedesk_portal_lang"
)

const portalSessionKey ctxKey = 101

func portalSessionOf(r *http.Request) *store.PortalSession {
	s, _ := r.Context().Value(portalSessionKey).(*store.PortalSession)
	return s
}

// requirePortal sends a visitor without a live session to the login page
// (GET) or answers 401; a POST must carry the session's CSRF token, on top
// of CrossOriginProtection (see requireSession).
func (s *Server) requirePortal(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var sess *store.PortalSession
		if c, err := r.Cookie(portalCookie); err == nil && c.Value != "" {
			var err error
			sess, err = s.store.PortalSessionByToken(r.Context(), c.Value, s.now())
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				s.internalError(w, r, err)
				return
			}
		}
		if sess == nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/portal/login", http.StatusSeeOther)
				return
			}
			http.Error(w, "not logged in: open the link of your last notice again, or ask for a new one at /portal/login", http.StatusUnauthorized)
			return
		}
		if r.Method == http.MethodPost {
			if subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(sess.CSRF)) != 1 {
				http.Error(w, "the form is stale or was not sent from the portal (CSRF check): reload the page and retry", http.StatusForbidden)
				return
			}
		}
		w.Header().Set("Cache-Control", "no-store")
		h(w, r.WithContext(context.WithValue(r.Context(), portalSessionKey, sess)))
	}
}

// portalLang is the portal's language: a /fr/ path (the magic link of a
// French notice), else ?lang=, else the one chosen before (cookie), else
// the account's (as the console uses the analyst's), else the browser's
// for a visitor not logged in, else English.
func portalLang(r *http.Request) string {
	if strings.HasPrefix(r.URL.Path, "/fr/") {
		return "fr"
	}
	if l := r.URL.Query().Get("lang"); l == "fr" || l == "en" {
		return l
	}
	if c, err := r.Cookie(portalLangCookie); err == nil && (c.Value == "fr" || c.Value == "en") {
		return c.Value
	}
	if sess := portalSessionOf(r); sess != nil {
		if sess.Language == "fr" {
			return "fr"
		}
		return "en"
	}
	if strings.HasPrefix(r.Header.Get("Accept-Language"), "fr") {
		return "fr"
	}
	return "en"
}

func (s *Server) setPortalLang(w http.ResponseWriter, r *http.Request, lang string) {
	http.SetCookie(w, &http.Cookie{Name: portalLangCookie, Value: lang, Path: "/portal", HttpOnly: true,
		Secure: s.secureCookies(r), SameSite: http.SameSiteLaxMode, MaxAge: int(365 * 24 * time.Hour / time.Second)})
}

// renderPortal executes a portal page; templates see .D (the page's data),
// .Lang, .Session, .CSRF, .Path and the other language's link .OtherURL.
func (s *Server) renderPortal(w http.ResponseWriter, r *http.Request, code int, page string, data any) {
	t, ok := s.pages.tmpl[page]
	if !ok {
		s.internalError(w, r, fmt.Errorf("no page %q", page))
		return
	}
	lang := portalLang(r)
	if l := r.URL.Query().Get("lang"); (l == "fr" || l == "en") && strings.HasPrefix(r.URL.Path, "/portal") {
		s.setPortalLang(w, r, l) // the switch in the header: remembered
	}
	t, err := t.Clone()
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	t.Funcs(template.FuncMap{"T": func(key string) string { return s.pages.T(lang, key) }})
	other := "fr"
	if lang == "fr" {
		other = "en"
	}
	otherURL := r.URL.Path + "?lang=" + other
	if strings.HasPrefix(r.URL.Path, "/fr/portal/login") {
		otherURL = strings.TrimPrefix(r.URL.Path, "/fr")
	} else if strings.HasPrefix(r.URL.Path, "/portal/login") {
		otherURL = "/fr" + r.URL.Path
	}
	m := map[string]any{"D": data, "Lang": lang, "Path": r.URL.Path, "OtherLang": other, "OtherURL": otherURL, "Now": s.now()}
	if sess := portalSessionOf(r); sess != nil {
		m["Session"], m["CSRF"] = sess, sess.CSRF
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, m); err != nil {
		s.internalError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}

// requirePortalKey authenticates the portal's JSON API: "Authorization:
// Bearer acp_…", a key made in the portal or with abusedesk customer key.
func (s *Server) requirePortalKey(h func(http.ResponseWriter, *http.Request, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || strings.TrimSpace(tok) == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="abusedesk portal"`)
			writeError(w, http.StatusUnauthorized, "Authorization", "unauthorized", "a portal API key is required: Authorization: Bearer acp_… (create one on the portal's API keys page)")
			return
		}
		acct, err := s.store.AccountByPortalKey(r.Context(), strings.TrimSpace(tok))
		if errors.Is(err, store.ErrNotFound) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="abusedesk portal", error="invalid_token"`)
			writeError(w, http.StatusUnauthorized, "Authorization", "unauthorized", "unknown or revoked portal API key")
			return
		}
		if err != nil {
			s.internalError(w, r, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		h(w, r, acct)
	}
}
