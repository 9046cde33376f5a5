package web

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
)

//go:embed templates/*.html templates/style.css locales/*.json
var assets embed.FS

// pages holds one template set per page (each with the shared layout) and
// the locale catalogues.
type pages struct {
	tmpl    map[string]*template.Template
	locales map[string]map[string]string
}

func mustPages() *pages {
	p, err := loadPages()
	if err != nil {
		panic(err)
	}
	return p
}

func loadPages() (*pages, error) {
	p := &pages{tmpl: map[string]*template.Template{}, locales: map[string]map[string]string{}}
	// A catalogue may be split over files: en.json, form.en.json, … all
	// merge into "en".
	names, err := fs.Glob(assets, "locales/*.json")
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		base := strings.TrimSuffix(path.Base(name), ".json")
		lang := base[strings.LastIndex(base, ".")+1:]
		b, err := assets.ReadFile(name)
		if err != nil {
			return nil, err
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if p.locales[lang] == nil {
			p.locales[lang] = map[string]string{}
		}
		for k, v := range m {
			if _, dup := p.locales[lang][k]; dup {
				return nil, fmt.Errorf("%s: key %q defined twice", name, k)
			}
			p.locales[lang][k] = v
		}
	}
	// Every key of the English catalogue must exist in French: a missing
	// translation is a build-time error, not a blank on a page.
	for k := range p.locales["en"] {
		if _, ok := p.locales["fr"][k]; !ok {
			return nil, fmt.Errorf("the French catalogue lacks %q", k)
		}
	}
	for k := range p.locales["fr"] {
		if _, ok := p.locales["en"][k]; !ok {
			return nil, fmt.Errorf("the English catalogue lacks %q", k)
		}
	}
	files, err := fs.Glob(assets, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if name == "layout" || name == "console_layout" || name == "portal_layout" {
			continue
		}
		// The staff console's pages have their own layout, and so do the
		// customer portal's.
		layout := "layout.html"
		if strings.HasPrefix(name, "console_") {
			layout = "console_layout.html"
		} else if strings.HasPrefix(name, "portal_") {
			layout = "portal_layout.html"
		}
		t, err := template.New(layout).Funcs(template.FuncMap{
			"T":    func(string) string { return "" }, // replaced per request
			"dict": dict,
		}).Funcs(consoleFuncs).ParseFS(assets, "templates/"+layout, f)
		if err != nil {
			return nil, err
		}
		p.tmpl[name] = t
	}
	return p, nil
}

func dict(kv ...any) map[string]any {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[fmt.Sprint(kv[i])] = kv[i+1]
	}
	return m
}

// langOf is the page language: /fr/... is French, else ?lang=fr, else English.
func langOf(r *http.Request) string {
	if strings.HasPrefix(r.URL.Path, "/fr/") || r.URL.Path == "/fr" {
		return "fr"
	}
	if r.URL.Query().Get("lang") == "fr" {
		return "fr"
	}
	return "en"
}

// T translates key in lang; a missing key shows as the key itself so that
// it is noticed.
func (p *pages) T(lang, key string) string {
	if s, ok := p.locales[lang][key]; ok {
		return s
	}
	if s, ok := p.locales["en"][key]; ok {
		return s
	}
	return key
}

// render executes page with data; data is available as .D, the language as
// .Lang and its path prefix as .Prefix.
func (s *Server) render(w http.ResponseWriter, r *http.Request, code int, page string, data any) {
	t, ok := s.pages.tmpl[page]
	if !ok {
		s.internalError(w, r, fmt.Errorf("no page %q", page))
		return
	}
	lang := langOf(r)
	prefix := ""
	if lang == "fr" {
		prefix = "/fr"
	}
	t, err := t.Clone()
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	t.Funcs(template.FuncMap{"T": func(key string) string { return s.pages.T(lang, key) }})
	var buf bytes.Buffer
	other, otherPath := "fr", "/fr"+r.URL.Path
	if lang == "fr" {
		other, otherPath = "en", strings.TrimPrefix(r.URL.Path, "/fr")
		if otherPath == "" {
			otherPath = "/"
		}
	}
	if r.URL.RawQuery != "" && !r.URL.Query().Has("token") {
		otherPath += "?" + r.URL.RawQuery
	} else if r.URL.Query().Has("token") {
		otherPath += "?token=" + url.QueryEscape(r.URL.Query().Get("token"))
	}
	if err := t.Execute(&buf, map[string]any{
		"D": data, "Lang": lang, "Prefix": prefix, "OtherLang": other, "OtherPath": otherPath,
	}); err != nil {
		s.internalError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}

func (s *Server) handleCSS(w http.ResponseWriter, r *http.Request) {
	b, _ := assets.ReadFile("templates/style.css")
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(b)
}
