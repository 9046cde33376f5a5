package web

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"abusedesk/internal/cases"
)

// The staff console: /console/… pages for analysts and admins, server-
// rendered, no JavaScript (the CSP forbids scripts), every form a POST
// with the session's CSRF token.

func (s *Server) now() time.Time { return s.intake.Now() }

// consoleFuncs are the console templates' helpers.
var consoleFuncs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"iso": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	},
	"join":  strings.Join,
	"hours": shortDuration,
	"add":   func(a, b int) int { return a + b },
	"list4": func() []int { return []int{1, 2, 3, 4} },
	"list3": func() []string { return []string{"queued", "sent", "failed"} },
	"subject": func(raw []byte) string {
		for _, h := range mailHeader(raw) {
			if h[0] == "Subject" {
				return h[1]
			}
		}
		return ""
	},
}

// shortDuration words a duration as the queue shows it: 3d, 5h, 20m.
func shortDuration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	if d >= 48*time.Hour {
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	}
	if d >= time.Hour {
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	if d >= time.Minute {
		return fmt.Sprintf("%dm", int(d.Minutes()))
	}
	return fmt.Sprintf("%ds", int(d.Seconds()))
}

// consoleLang is the console's language: ?lang=, else the analyst's own.
func consoleLang(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); l == "fr" || l == "en" {
		return l
	}
	if sess := sessionOf(r); sess != nil && sess.User.Language == "fr" {
		return "fr"
	}
	if strings.HasPrefix(r.Header.Get("Accept-Language"), "fr") && sessionOf(r) == nil {
		return "fr"
	}
	return "en"
}

// renderConsole executes a console page; templates see .D (the page's
// data), .Lang, .User, .CSRF and .Now.
func (s *Server) renderConsole(w http.ResponseWriter, r *http.Request, code int, page string, data any) {
	t, ok := s.pages.tmpl[page]
	if !ok {
		s.internalError(w, r, fmt.Errorf("no page %q", page))
		return
	}
	lang := consoleLang(r)
	t, err := t.Clone()
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	t.Funcs(template.FuncMap{"T": func(key string) string { return s.pages.T(lang, key) }})
	m := map[string]any{"D": data, "Lang": lang, "Now": s.now(), "Path": r.URL.Path, "URI": r.URL.RequestURI(), "Sink": s.Sink != nil}
	if sess := sessionOf(r); sess != nil {
		m["User"], m["CSRF"] = sess.User, sess.CSRF
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

// caseView is a case as the console's lists and pages show it.
type caseView struct {
	PublicID, Account, Resource, Category, Subtypes, Lane string
	Status                                                cases.Status
	Outcome                                               cases.Outcome
	Priority, Level                                       int
	Escalated                                             bool
	Assignee                                              string
	Deadline                                              time.Time
	Overdue                                               bool
	DueIn                                                 time.Duration
	Reports, Reporters, Items                             int
	LastIncident, CreatedAt, UpdatedAt, ClosedAt          time.Time
	MergedInto                                            string
}
