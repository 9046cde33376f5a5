package web

import (
	"bufio"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"abusedesk/internal/intake"
	"abusedesk/internal/report"
	"abusedesk/internal/store"
)

// The public report form works without JavaScript: GET /report shows a type
// picker, GET /report?type=X the form of that type, POST /report stores the
// report or shows the same form again with every value kept and each error
// next to its field. /fr/report is the same in French.
//
// The form is sent as multipart/form-data with the CSV file input last (a
// browser sends the parts in document order), so the POST handler streams
// it: the small fields are read first, then the file part is handed to
// intake.SubmitBulk as a reader, which parses and spools it once. Nothing is
// spooled by net/http (no ParseMultipartForm), so a 200 MB upload costs one
// temporary file, not two. A client that sends fields after the file part
// gets them ignored, as POST /api/v1/reports/bulk ignores parts after its
// file. application/x-www-form-urlencoded is accepted too (without a file).

// routeForm registers the public report form (/report, /fr/report).
func (s *Server) routeForm(mux *http.ServeMux, limited func(string, http.HandlerFunc)) {
	mux.HandleFunc("GET /report", s.handleFormPage)
	mux.HandleFunc("GET /fr/report", s.handleFormPage)
	limited("POST /report", s.handleFormPost)
	limited("POST /fr/report", s.handleFormPost)
}

// formMaxParts bounds the parts of one POST (the form has about 20); the
// small fields share Config.MaxBodyBytes, the CSV file has its own limit
// (intake.BulkLimits.MaxBytes).
const formMaxParts = 100

// formField is one input as a template renders it: labels, hints and
// errors are already in the page's language.
type formField struct {
	Name         string // the input's name and id
	Kind         string // text, email, tel, textarea, select, checkbox, file
	Label        string
	Hint         string
	Value        string
	Placeholder  string
	Autocomplete string
	Checked      bool
	Required     bool
	Optional     bool
	Rows         int
	Accept       string
	Options      []formOption
	Errors       []string
}

type formOption struct {
	Value, Label string
	Selected     bool
}

// DescribedBy is the aria-describedby list: the hint, then the error.
func (f *formField) DescribedBy() string {
	var ids []string
	if f.Hint != "" {
		ids = append(ids, f.Name+"-hint")
	}
	if len(f.Errors) > 0 {
		ids = append(ids, f.Name+"-error")
	}
	return strings.Join(ids, " ")
}

type formGroup struct {
	Legend string
	Intro  string
	Fields []*formField
}

type summaryItem struct {
	Href string // an input id, or empty when the error matches no input
	Text string
}

type rejectRow struct {
	Line    int
	Field   string
	Message string
}

// formView is the data of form.html.
type formView struct {
	Type      string
	Title     string
	Language  string
	Nonce     string
	Groups    []formGroup
	Summary   []summaryItem
	Nothing   bool // "nothing was stored" under the summary
	FileAgain bool
	Rejects   rejectList

	fields map[string]*formField
	order  []string
}

// rejectList is the rejected CSV lines shown to the reporter: the first
// formMaxRejects problems and the total.
type rejectList struct {
	Rows      []rejectRow
	Count     int    // rejected rows in total
	CountText string // "Rows rejected: 3"
	FirstText string // "The first 100 problems:" when cut
}

const formMaxRejects = 100

// formDone is the data of form_done.html.
type formDone struct {
	ID        string
	StatusURL string
	Replayed  bool
	Bulk      bool
	Accepted  string
	Rejects   rejectList
}

// formPick is the data of form_pick.html.
type formPick struct {
	Choices []pickChoice
	Error   string
}

type pickChoice struct {
	Type, Title, Need string
}

// tr is the page's translator.
type tr struct {
	s    *Server
	lang string
}

func (t tr) T(key string) string { return t.s.pages.T(t.lang, key) }

func (t tr) has(key string) bool {
	_, ok := t.s.pages.locales["en"][key]
	return ok
}

// with replaces {name} placeholders in a translated string.
func (t tr) with(key string, kv ...string) string {
	return strings.NewReplacer(kv...).Replace(t.T(key))
}

func (s *Server) handleFormPage(w http.ResponseWriter, r *http.Request) {
	lang := langOf(r)
	typ := r.URL.Query().Get("type")
	if !slices.Contains(report.Types, typ) {
		s.render(w, r, http.StatusOK, "form_pick", s.pickView(lang, ""))
		return
	}
	v := url.Values{}
	v.Set("form_nonce", rand.Text())
	s.render(w, r, http.StatusOK, "form", s.newFormView(lang, typ, v))
}

func (s *Server) pickView(lang, errKey string) formPick {
	t := tr{s, lang}
	p := formPick{}
	for _, typ := range report.Types {
		p.Choices = append(p.Choices, pickChoice{Type: typ, Title: t.T("form.type." + typ), Need: t.T("form.type." + typ + ".need")})
	}
	if errKey != "" {
		p.Error = t.T(errKey)
	}
	return p
}

// newFormView lays out the form of typ with the values of v.
func (s *Server) newFormView(lang, typ string, v url.Values) *formView {
	t := tr{s, lang}
	// The hidden language is the page's: the report's mail will be in the
	// language the reporter read the form in.
	fv := &formView{Type: typ, Title: t.T("form.type." + typ), Language: lang, Nonce: v.Get("form_nonce"), fields: map[string]*formField{}}
	field := func(name, kind string) *formField {
		f := &formField{Name: name, Kind: kind, Label: t.T("form.f." + name)}
		for _, k := range []string{"form.f." + name + ".hint." + typ, "form.f." + name + ".hint"} {
			if t.has(k) {
				f.Hint = t.T(k)
				break
			}
		}
		switch kind {
		case "checkbox":
			f.Checked = v.Get(name) != ""
		case "file":
		default:
			f.Value = v.Get(name)
		}
		if kind == "textarea" {
			f.Rows = 5
		}
		fv.fields[name] = f
		fv.order = append(fv.order, name)
		return f
	}
	opt := func(f *formField) *formField { f.Optional = true; return f }
	req := func(f *formField) *formField { f.Required = true; return f }
	ph := func(f *formField, p string) *formField { f.Placeholder = p; return f }
	ac := func(f *formField, a string) *formField { f.Autocomplete = a; return f }
	group := func(legendKey, introKey string, fs ...*formField) {
		g := formGroup{Legend: t.T(legendKey), Fields: fs}
		if introKey != "" {
			g.Intro = t.T(introKey)
		}
		fv.Groups = append(fv.Groups, g)
	}

	subtype := req(field("subtype", "select"))
	subs := report.Subtypes[typ]
	if len(subs) > 1 {
		subtype.Options = append(subtype.Options, formOption{Value: "", Label: t.T("form.choose"), Selected: subtype.Value == ""})
	}
	for _, st := range subs {
		subtype.Options = append(subtype.Options, formOption{Value: st, Label: t.T("form.subtype." + typ + "." + st),
			Selected: subtype.Value == st || len(subs) == 1})
	}
	description := field("description", "textarea")
	if typ == report.TypeContent {
		req(description)
	} else {
		opt(description)
	}

	switch typ {
	case report.TypeNetwork:
		ts := ph(field("timestamp", "text"), "2026-03-02T10:00:00+01:00")
		ts.Autocomplete = "off"
		inc := []*formField{
			ph(field("source_ip", "text"), "192.0.2.10"),
			opt(ph(field("source_port", "text"), "51234")),
			ph(field("target", "text"), "198.51.100.20"),
			opt(ph(field("target_port", "text"), "22")),
			opt(ph(field("protocol", "text"), "tcp")),
			ts,
			field("log", "textarea"),
		}
		for _, f := range inc {
			if f.Autocomplete == "" {
				f.Autocomplete = "off"
			}
		}
		group("form.legend.about", "", subtype, description)
		group("form.legend.incident", "form.legend.incident.intro", inc...)
	case report.TypeContent:
		urls := req(ph(field("urls", "textarea"), "https://example.com/page"))
		vt := opt(ph(field("video_timestamp", "text"), "1:23:45"))
		group("form.legend.about", "", subtype)
		group("form.legend.content", "", urls, vt, description)
	case report.TypeEmail:
		h := req(field("email_headers", "textarea"))
		h.Rows = 10
		group("form.legend.about", "", subtype)
		group("form.legend.email", "", h,
			opt(field("email_body", "textarea")),
			opt(ph(field("email_source_ip", "text"), "192.0.2.10")),
			opt(ph(field("email_timestamp", "text"), "2026-03-02T10:00:00+01:00")),
			description)
	case report.TypeDMCA:
		group("form.legend.about", "form.dmca.intro", subtype)
		group("form.legend.dmca_work", "",
			req(field("dmca_works", "textarea")),
			req(ph(field("dmca_infringing", "textarea"), "https://example.com/copy.mp4")),
			description)
		group("form.legend.dmca_contact", "",
			req(ac(field("contact_name", "text"), "name")),
			req(ac(field("contact_address", "textarea"), "street-address")),
			req(ac(field("contact_phone", "tel"), "tel")),
			req(ac(field("contact_email", "email"), "email")))
		fv.fields["contact_address"].Rows = 3
		group("form.legend.dmca_statements", "",
			req(field("dmca_good_faith", "checkbox")),
			req(field("dmca_accuracy", "checkbox")),
			req(ac(field("dmca_signature", "text"), "off")))
	}

	kind := field("reporter_kind", "select")
	for _, k := range report.ReporterKinds {
		kind.Options = append(kind.Options, formOption{Value: k, Label: t.T("form.kind." + k), Selected: kind.Value == k})
	}
	group("form.legend.reporter", "",
		req(ac(field("reporter_name", "text"), "name")),
		req(ac(field("reporter_email", "email"), "email")),
		opt(ac(field("reporter_organization", "text"), "organization")),
		kind,
		field("share_contact_with_customer", "checkbox"))

	if typ == report.TypeNetwork {
		// Last: the POST handler streams the file after every other field.
		f := opt(field("file", "file"))
		f.Accept = ".csv,text/csv"
		f.Hint = t.with("form.f.file.hint", "{max}", humanBytes(s.intake.Bulk.MaxBytes))
		group("form.legend.csv", "form.legend.csv.intro", f)
	}
	return fv
}

// lines splits a textarea into its non-blank lines, trimmed, with their
// 1-based line numbers.
func lines(s string) (items []string, nums []int) {
	for i, l := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			items = append(items, l)
			nums = append(nums, i+1)
		}
	}
	return items, nums
}

// textarea normalises the CRLF line ends a browser sends.
func textarea(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }

// builtForm is a report made from form values, with what the errors need
// to find their inputs.
type builtForm struct {
	rep  *report.Report
	pre  report.Errors    // problems found reading the form itself (ports)
	nums map[string][]int // item index → textarea line, per input
}

func parsePort(field, s string, pre *report.Errors) *int {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 65535 {
		*pre = append(*pre, report.FieldError{Field: field, Code: report.CodeInvalidPort, Message: "a port is a number between 0 and 65535"})
		return nil
	}
	return &n
}

// incidentInputs are the network incident fields; with a CSV file they
// must be empty.
var incidentInputs = []string{"source_ip", "source_port", "target", "target_port", "protocol", "timestamp", "log"}

// buildReport makes the report of typ from the form values. withIncident is
// false for a CSV upload, whose incidents are the file's rows.
func buildReport(typ, lang string, v url.Values, withIncident bool) *builtForm {
	g := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	b := &builtForm{nums: map[string][]int{}}
	rep := &report.Report{
		Type:    typ,
		Subtype: g("subtype"),
		Reporter: report.Reporter{
			Name: g("reporter_name"), Email: g("reporter_email"),
			Organization: g("reporter_organization"), Kind: g("reporter_kind"),
		},
		ShareContactWithCustomer: v.Get("share_contact_with_customer") != "",
		Language:                 g("language"),
		Description:              strings.TrimSpace(textarea(v.Get("description"))),
	}
	if rep.Language == "" {
		rep.Language = lang
	}
	b.rep = rep
	switch typ {
	case report.TypeNetwork:
		if !withIncident {
			break
		}
		rep.Incidents = []report.Incident{{
			SourceIP:   g("source_ip"),
			SourcePort: parsePort("incidents[0].source_port", v.Get("source_port"), &b.pre),
			Target:     g("target"),
			TargetPort: parsePort("incidents[0].target_port", v.Get("target_port"), &b.pre),
			Protocol:   g("protocol"),
			Timestamp:  g("timestamp"),
			Log:        strings.TrimRight(textarea(v.Get("log")), "\n"),
		}}
	case report.TypeContent:
		urls, nums := lines(v.Get("urls"))
		b.nums["urls"] = nums
		for _, u := range urls {
			rep.URLs = append(rep.URLs, report.URLItem{URL: u, VideoTimestamp: g("video_timestamp")})
		}
	case report.TypeEmail:
		rep.EmailMessage = &report.EmailMessage{Headers: textarea(v.Get("email_headers")), Body: textarea(v.Get("email_body"))}
		if ip, ts := g("email_source_ip"), g("email_timestamp"); ip != "" || ts != "" {
			if ts == "" {
				// The time the message was sent, from its Date header.
				if h, ok := report.ParseHeaderBlock(rep.EmailMessage.Headers); ok {
					if d, err := mail.ParseDate(h.Get("Date")); err == nil {
						ts = d.Format(time.RFC3339)
					}
				}
			}
			rep.Incidents = []report.Incident{{SourceIP: ip, Timestamp: ts, Protocol: "smtp"}}
		}
	case report.TypeDMCA:
		d := &report.DMCANotice{
			Signature: g("dmca_signature"),
			Contact: report.DMCAContact{
				Name: g("contact_name"), Address: strings.TrimSpace(textarea(v.Get("contact_address"))),
				Phone: g("contact_phone"), Email: g("contact_email"),
			},
			GoodFaith:                     v.Get("dmca_good_faith") != "",
			AccuracyUnderPenaltyOfPerjury: v.Get("dmca_accuracy") != "",
		}
		d.Works, _ = lines(v.Get("dmca_works"))
		items, nums := lines(v.Get("dmca_infringing"))
		b.nums["dmca_infringing"] = nums
		for _, it := range items {
			d.Infringing = append(d.Infringing, infringingItem(it))
		}
		rep.DMCA = d
	}
	return b
}

// infringingItem reads one line of the infringing list: a URL, or an IP
// address followed by the time it was seen.
func infringingItem(line string) report.InfringingItem {
	f := strings.Fields(line)
	if len(f) > 0 && !strings.Contains(f[0], "/") {
		if _, ok := report.ParseIP(f[0]); ok {
			return report.InfringingItem{IP: f[0], Timestamp: strings.Join(f[1:], " ")}
		}
	}
	return report.InfringingItem{URL: line}
}

// inputOf finds the input an error belongs to, and the textarea line of
// list items. An empty id means the error goes to the summary only.
func (fv *formView) inputOf(field string, nums map[string][]int) (id string, line int) {
	if i := strings.IndexByte(field, '['); i > 0 {
		j := strings.IndexByte(field[i:], ']')
		if j < 0 {
			return "", 0
		}
		prefix, rest := field[:i], strings.TrimPrefix(field[i+j+1:], ".")
		idx, err := strconv.Atoi(field[i+1 : i+j])
		if err != nil {
			return "", 0
		}
		lineOf := func(input string) int {
			if n := nums[input]; idx < len(n) {
				return n[idx]
			}
			return 0
		}
		switch prefix {
		case "incidents":
			if fv.Type == report.TypeEmail {
				id = map[string]string{"source_ip": "email_source_ip", "timestamp": "email_timestamp"}[rest]
			} else if slices.Contains(incidentInputs, rest) {
				id = rest
			}
		case "urls":
			switch rest {
			case "video_timestamp":
				id = "video_timestamp"
			case "description":
				id = "description"
			default:
				id, line = "urls", lineOf("urls")
			}
		case "dmca.infringing":
			id, line = "dmca_infringing", lineOf("dmca_infringing")
		}
	} else {
		id = map[string]string{
			"subtype":                                "subtype",
			"description":                            "description",
			"reporter.name":                          "reporter_name",
			"reporter.email":                         "reporter_email",
			"reporter.organization":                  "reporter_organization",
			"reporter.kind":                          "reporter_kind",
			"share_contact_with_customer":            "share_contact_with_customer",
			"urls":                                   "urls",
			"email_message":                          "email_headers",
			"email_message.headers":                  "email_headers",
			"email_message.body":                     "email_body",
			"dmca.signature":                         "dmca_signature",
			"dmca.works":                             "dmca_works",
			"dmca.infringing":                        "dmca_infringing",
			"dmca.contact.name":                      "contact_name",
			"dmca.contact.address":                   "contact_address",
			"dmca.contact.phone":                     "contact_phone",
			"dmca.contact.email":                     "contact_email",
			"dmca.good_faith":                        "dmca_good_faith",
			"dmca.accuracy_under_penalty_of_perjury": "dmca_accuracy",
			"file":                                   "file",
		}[field]
	}
	if fv.fields[id] == nil {
		return "", 0
	}
	return id, line
}

// message is an error in the page's language: the catalogue's sentence for
// its code when there is one, else the validator's English sentence. A DMCA
// element names its clause of 17 U.S.C. § 512(c)(3)(A).
func (t tr) message(e report.FieldError) string {
	msg := e.Message
	switch {
	case e.Code == report.CodeInvalid && e.Field == "file":
		// The CSV reader's header errors say which column is missing.
		msg = t.T("form.error.file_invalid") + " (" + e.Message + ")"
	case t.has("error." + e.Code):
		msg = t.with("error."+e.Code, "{max}", humanBytes(t.s.intake.Bulk.MaxBytes))
	}
	if e.Clause != "" {
		msg += " — 17 U.S.C. § 512(c)(3)(A)" + e.Clause
		if k := "form.dmca.clause" + e.Clause; t.has(k) {
			msg += t.T("form.colon") + t.T(k)
		}
	}
	return msg
}

// addErrors places es: each next to its input (and in the summary, linking
// to it), or in the summary only.
func (fv *formView) addErrors(t tr, es report.Errors, nums map[string][]int) {
	type placed struct {
		pos  int
		item summaryItem
	}
	var ps []placed
	seen := map[summaryItem]bool{}
	for _, e := range es {
		id, line := fv.inputOf(e.Field, nums)
		msg := t.message(e)
		label := e.Field
		if id != "" {
			label = fv.fields[id].Label
		}
		where := ""
		if line > 0 {
			where = t.with("form.error.line", "{n}", strconv.Itoa(line))
		}
		text := msg
		if where != "" {
			text = where + t.T("form.colon") + msg
		}
		it := summaryItem{Href: id, Text: label + t.T("form.colon") + text}
		if label == "" {
			it.Text = text
		}
		if seen[it] { // one value repeated on many items (a video position)
			continue
		}
		seen[it] = true
		pos := -1
		if id != "" {
			f := fv.fields[id]
			f.Errors = append(f.Errors, upperFirst(text))
			pos = slices.Index(fv.order, id)
		}
		ps = append(ps, placed{pos, it})
	}
	// The summary follows the order of the form.
	slices.SortStableFunc(ps, func(a, b placed) int { return a.pos - b.pos })
	for _, p := range ps {
		fv.Summary = append(fv.Summary, p.item)
	}
}

// upperFirst starts an error shown alone, under its label, with a capital.
func upperFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

func (t tr) rejects(count int, rej []store.BulkReject) rejectList {
	l := rejectList{Count: count}
	if count == 0 && len(rej) == 0 {
		return l
	}
	l.CountText = t.with("form.done.rejected", "{n}", strconv.Itoa(count))
	shown := rej
	if len(shown) > formMaxRejects {
		shown = shown[:formMaxRejects]
	}
	if len(shown) < len(rej) || len(shown) < count {
		l.FirstText = t.with("form.done.rejected_first", "{n}", strconv.Itoa(len(shown)))
	}
	for _, r := range shown {
		l.Rows = append(l.Rows, rejectRow{Line: r.Line, Field: r.Field,
			Message: t.message(report.FieldError{Field: "row." + r.Field, Code: r.Code, Message: r.Message})})
	}
	return l
}

func (s *Server) handleFormPost(w http.ResponseWriter, r *http.Request) {
	t := tr{s, langOf(r)}
	// The answer holds what the reporter typed (and, on success, the
	// status token): no cache keeps it.
	w.Header().Set("Cache-Control", "no-store")
	v := url.Values{}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "multipart/form-data":
		// The fields and the file; the file's own limit is checked exactly
		// while it streams, this one bounds the whole body.
		r.Body = http.MaxBytesReader(w, r.Body, s.intake.Bulk.MaxBytes+s.cfg.MaxBodyBytes)
		mr, err := r.MultipartReader()
		if err != nil {
			s.formFail(w, r, t, v, http.StatusBadRequest, "form.error.read")
			return
		}
		budget := s.cfg.MaxBodyBytes // for all the small fields together
		for n := 0; ; n++ {
			part, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				s.formReadError(w, r, t, v, err)
				return
			}
			if n >= formMaxParts {
				s.formFail(w, r, t, v, http.StatusRequestEntityTooLarge, "form.error.too_large")
				return
			}
			name := part.FormName()
			if name == "file" {
				br := bufio.NewReader(part)
				if _, err := br.Peek(1); err == io.EOF {
					continue // no file chosen: browsers send an empty part
				} else if err != nil {
					s.formReadError(w, r, t, v, err)
					return
				}
				ct := part.Header.Get("Content-Type")
				if ct == "" || ct == "application/octet-stream" {
					ct = "text/csv"
				}
				s.formBulk(w, r, t, v, br, ct)
				return // parts after the file are not read: the answer is given
			}
			if name == "" || part.FileName() != "" {
				continue // not a field of this form
			}
			b, err := io.ReadAll(io.LimitReader(part, budget+1))
			if err != nil {
				s.formReadError(w, r, t, v, err)
				return
			}
			if budget -= int64(len(b)); budget < 0 {
				s.formFail(w, r, t, v, http.StatusRequestEntityTooLarge, "form.error.too_large")
				return
			}
			v.Add(name, string(b))
		}
	case "application/x-www-form-urlencoded":
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
		if err := r.ParseForm(); err != nil {
			s.formReadError(w, r, t, v, err)
			return
		}
		v = r.PostForm
	default:
		s.formFail(w, r, t, v, http.StatusUnsupportedMediaType, "form.error.unsupported")
		return
	}
	s.formSubmit(w, r, t, v)
}

// formType is the type of the posted form, or "" (then the picker is shown
// again).
func formType(v url.Values) string {
	if typ := v.Get("type"); slices.Contains(report.Types, typ) {
		return typ
	}
	return ""
}

// formFail answers a form that could not be read or processed: the same
// form again with a message at the top (the picker when the type is lost).
func (s *Server) formFail(w http.ResponseWriter, r *http.Request, t tr, v url.Values, code int, key string) {
	typ := formType(v)
	if typ == "" {
		s.render(w, r, code, "form_pick", s.pickView(t.lang, key))
		return
	}
	fv := s.newFormView(t.lang, typ, v)
	fv.Summary = []summaryItem{{Text: t.with(key, "{max}", humanBytes(s.cfg.MaxBodyBytes))}}
	fv.Nothing = true
	s.render(w, r, code, "form", fv)
}

func (s *Server) formReadError(w http.ResponseWriter, r *http.Request, t tr, v url.Values, err error) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		s.formFail(w, r, t, v, http.StatusRequestEntityTooLarge, "form.error.too_large")
		return
	}
	s.log.Warn("report form", "err", err)
	s.formFail(w, r, t, v, http.StatusBadRequest, "form.error.read")
}

// formInvalid shows the form again with the errors in place: 422, and
// nothing was stored.
func (s *Server) formInvalid(w http.ResponseWriter, r *http.Request, t tr, fv *formView, code int, es report.Errors, nums map[string][]int) {
	fv.addErrors(t, es, nums)
	fv.Nothing = true
	s.render(w, r, code, "form", fv)
}

// formSubmit stores a report of one incident (or URLs, a message, a
// notice) through intake.Submit.
func (s *Server) formSubmit(w http.ResponseWriter, r *http.Request, t tr, v url.Values) {
	typ := formType(v)
	if typ == "" {
		s.render(w, r, http.StatusUnprocessableEntity, "form_pick", s.pickView(t.lang, "form.error.bad_type"))
		return
	}
	fv := s.newFormView(t.lang, typ, v)
	b := buildReport(typ, t.lang, v, true)
	if len(b.pre) > 0 {
		// Every problem at once: the validator's too. Nothing is submitted.
		es := append(b.pre, s.intake.Validator.Validate(b.rep)...)
		s.formInvalid(w, r, t, fv, http.StatusUnprocessableEntity, es, b.nums)
		return
	}
	// The raw submission is the form as it came: every value by name, as
	// JSON (a file is never part of it: a CSV goes through formBulk).
	raw, err := json.Marshal(v)
	if err != nil {
		s.formError(w, r, t, fv, err)
		return
	}
	rc, es, err := s.intake.Submit(r.Context(), intake.Submission{
		Report: b.rep, Channel: intake.ChannelForm, Raw: raw, ContentType: "application/json",
		IdempotencyKey: formIdempotencyKey(v, raw),
	})
	switch {
	case err != nil:
		s.formError(w, r, t, fv, err)
	case len(es) > 0:
		s.formInvalid(w, r, t, fv, http.StatusUnprocessableEntity, es, b.nums)
	default:
		code := http.StatusCreated
		if rc.Replayed {
			code = http.StatusOK
		}
		s.render(w, r, code, "form_done", formDone{ID: rc.PublicID, StatusURL: s.statusURL(r, rc, t.lang), Replayed: rc.Replayed})
	}
}

// formIdempotencyKey makes a resent form (a double click, or reloading the
// confirmation page, which posts again) answer with the report it already
// made, while an edited form is a new report: the key is the hash of the
// whole submission, whose form_nonce is drawn when the form is shown.
func formIdempotencyKey(v url.Values, raw []byte) string {
	if n := v.Get("form_nonce"); n == "" || len(n) > 64 {
		return ""
	}
	h := sha256.Sum256(raw)
	return "form:" + hex.EncodeToString(h[:16])
}

func (s *Server) formError(w http.ResponseWriter, r *http.Request, t tr, fv *formView, err error) {
	s.log.Error("report form: not stored", "err", err)
	fv.Summary = []summaryItem{{Text: t.T("form.error.internal")}}
	s.render(w, r, http.StatusInternalServerError, "form", fv)
}

// formBulk stores a network report whose incidents are the rows of the
// uploaded CSV, through intake.SubmitBulk, which streams and keeps the file.
func (s *Server) formBulk(w http.ResponseWriter, r *http.Request, t tr, v url.Values, file io.Reader, contentType string) {
	typ := formType(v)
	if typ == "" {
		s.render(w, r, http.StatusUnprocessableEntity, "form_pick", s.pickView(t.lang, "form.error.bad_type"))
		return
	}
	fv := s.newFormView(t.lang, typ, v)
	fv.FileAgain = true
	if typ != report.TypeNetwork {
		s.formInvalid(w, r, t, fv, http.StatusUnprocessableEntity,
			report.Errors{{Field: "file", Code: "file_not_network", Message: "a CSV file is accepted only for network reports"}}, nil)
		return
	}
	for _, name := range incidentInputs {
		if strings.TrimSpace(v.Get(name)) != "" {
			// Not silently dropped: the reporter would believe the
			// incident was received.
			s.formInvalid(w, r, t, fv, http.StatusUnprocessableEntity,
				report.Errors{{Field: "file", Code: "file_and_incident", Message: "fill in the incident fields or upload a CSV file, not both"}}, nil)
			return
		}
	}
	b := buildReport(typ, t.lang, v, false)
	// No Idempotency-Key: the form fields do not tell one file from another.
	out, es, err := s.intake.SubmitBulk(r.Context(), b.rep, file, contentType, "")
	var mbe *http.MaxBytesError
	switch {
	case errors.Is(err, intake.ErrTooLarge) || errors.As(err, &mbe):
		s.formInvalid(w, r, t, fv, http.StatusRequestEntityTooLarge,
			report.Errors{{Field: "file", Code: "file_too_large", Message: "the file is too large"}}, nil)
	case err != nil:
		s.formError(w, r, t, fv, err)
	case len(es) > 0:
		if out != nil {
			fv.Rejects = t.rejects(out.RejectedCount, out.Rejected)
		}
		s.formInvalid(w, r, t, fv, http.StatusUnprocessableEntity, es, b.nums)
	default:
		s.render(w, r, http.StatusCreated, "form_done", formDone{
			ID: out.PublicID, StatusURL: s.statusURL(r, out.Receipt, t.lang), Bulk: true,
			Accepted: t.with("form.done.accepted", "{n}", strconv.Itoa(out.Accepted)),
			Rejects:  t.rejects(out.RejectedCount, out.Rejected),
		})
	}
}
