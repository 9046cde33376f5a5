package outbox

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"text/template"
	"time"
)

// The mails' texts: templates/<kind>.<lang>.txt, a "Subject: …" line, a
// blank line, then the body. Plain text (text/template): a mail is
// text/plain, there is nothing to escape, and never any HTML.
//
//go:embed templates/*.txt
var templateFS embed.FS

// Evidence is a line of a customer notice's evidence excerpt.
type Evidence struct{ Time, Source, Target, Detail string }

// Data is what a template may show. Zero fields are left out where a
// template can do without them.
type Data struct {
	Desk      string // the provider's desk name, e.g. "Example Cloud abuse desk"
	ReportID  string // R-…
	CaseID    string // C-…
	StatusURL string // the reporter's private status link
	PortalURL string // the customer's magic link into the portal (to the case)

	Category, Subtype                 string
	ReceivedAt, Deadline, NewDeadline time.Time

	Outcome      string // ACTIONED, NOT_RESOLVABLE_TO_PROVIDER, REVIEWED_NO_ACTION, CONTENT_DOWN_OR_INACCESSIBLE, NEED_MORE_INFORMATION
	Question     string // what the analyst asks (need-info), or a note
	Message      string // a relayed message's text
	FromIdentity string // the sender's name or address when disclosure is allowed; "" = withheld
	Resource     string // the customer's resource id

	Evidence     []Evidence // an excerpt: the first lines
	EvidenceMore int        // how many more there are
	Description  string
	Items        int
	NotOurs      int

	CounterNotice                  string // a DMCA counter-notice's full text (complainant_counter_notice)
	RestoreEarliest, RestoreLatest time.Time

	LegalID string // a legal request's id (legal_ack)

	// reporter_missing: a mail to abuse@ that is not yet a report.
	MailID       string    // M-…
	MailSubject  string    // the mail's subject, as the sender wrote it
	Missing      []string  // what is missing, one line each (field: reason)
	LoginExpires time.Time // customer_login
}

// Languages are the languages mails are written in; the first is the
// default.
var Languages = []string{"en", "fr"}

// Date formats per language, always in UTC: the reader's zone is unknown.
var dateLayouts = map[string]string{
	"en": "2006-01-02 15:04 UTC",
	"fr": "02/01/2006 15:04 UTC",
}

// outcomes explain the outcome codes, which the mails show too: they are
// what the desk's other channels (status page, API) say.
var outcomes = map[string]map[string]string{
	"en": {
		"ACTIONED":                     "action was taken: the reported activity or content was dealt with",
		"NOT_RESOLVABLE_TO_PROVIDER":   "the reported addresses or resources are not operated by us",
		"REVIEWED_NO_ACTION":           "we reviewed the report and found nothing that calls for action under our policy",
		"CONTENT_DOWN_OR_INACCESSIBLE": "the reported content was already removed or inaccessible when we checked",
		"NEED_MORE_INFORMATION":        "we could not act without more information, which we did not receive",
	},
	"fr": {
		"ACTIONED":                     "des mesures ont été prises : l'activité ou le contenu signalé a été traité",
		"NOT_RESOLVABLE_TO_PROVIDER":   "les adresses ou ressources signalées ne sont pas exploitées par nous",
		"REVIEWED_NO_ACTION":           "nous avons examiné le signalement et n'avons rien trouvé qui appelle une mesure selon nos règles",
		"CONTENT_DOWN_OR_INACCESSIBLE": "le contenu signalé était déjà retiré ou inaccessible lors de notre vérification",
		"NEED_MORE_INFORMATION":        "nous ne pouvions pas agir sans informations complémentaires, que nous n'avons pas reçues",
	},
}

func funcs(lang string) template.FuncMap {
	return template.FuncMap{
		"date": func(t time.Time) string {
			if t.IsZero() {
				return "-"
			}
			return t.UTC().Format(dateLayouts[lang])
		},
		"outcome": func(code string) string {
			if text, ok := outcomes[lang][code]; ok {
				return code + " (" + text + ")"
			}
			return code
		},
		// quote sets relayed text apart, "> " before each line as in a
		// reply, so it cannot pass for the desk's own words.
		"quote": func(s string) string {
			s = strings.TrimRight(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
			return "> " + strings.ReplaceAll(s, "\n", "\n> ")
		},
	}
}

// mailTemplate is a kind's text in one language.
type mailTemplate struct{ subject, body *template.Template }

// templates holds kind → language → template, parsed at start-up: a
// broken template fails every test, not a mail in production.
var templates = func() map[string]map[string]mailTemplate {
	out := map[string]map[string]mailTemplate{}
	names, err := fs.Glob(templateFS, "templates/*.txt")
	if err != nil {
		panic(err)
	}
	for _, name := range names {
		kind, lang, ok := strings.Cut(strings.TrimSuffix(path.Base(name), ".txt"), ".")
		if !ok {
			panic("outbox: template name " + name + " is not kind.lang.txt")
		}
		text, err := templateFS.ReadFile(name)
		if err != nil {
			panic(err)
		}
		subject, body, ok := strings.Cut(string(text), "\n\n")
		subject, hasSubject := strings.CutPrefix(subject, "Subject: ")
		if !ok || !hasSubject || strings.Contains(subject, "\n") {
			panic("outbox: " + name + ` must start with a "Subject: " line and a blank line`)
		}
		t := mailTemplate{
			subject: template.Must(template.New(name + ":subject").Funcs(funcs(lang)).Parse(subject)),
			body:    template.Must(template.New(name).Funcs(funcs(lang)).Parse(body)),
		}
		if out[kind] == nil {
			out[kind] = map[string]mailTemplate{}
		}
		out[kind][lang] = t
	}
	return out
}()

// Kinds returns the kinds of mail there are templates for, sorted.
func Kinds() []string {
	out := make([]string, 0, len(templates))
	for k := range templates {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Render returns the subject and body of a kind of mail in lang (a tag
// such as "fr" or "fr-CA"; one without templates falls back to English).
// The subject is one line: line breaks in the data become spaces.
func Render(kind, lang string, d Data) (subject, body string, err error) {
	byLang, ok := templates[kind]
	if !ok {
		return "", "", fmt.Errorf("outbox: no template for mail kind %q", kind)
	}
	primary, _, _ := strings.Cut(strings.ToLower(lang), "-")
	t, ok := byLang[primary]
	if !ok {
		t = byLang[Languages[0]]
	}
	var s, b strings.Builder
	if err := t.subject.Execute(&s, d); err != nil {
		return "", "", err
	}
	if err := t.body.Execute(&b, d); err != nil {
		return "", "", err
	}
	subject = strings.Join(strings.Fields(s.String()), " ")
	return subject, b.String(), nil
}
