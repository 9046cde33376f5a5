// Package dmca holds the rules of the DMCA counter-notice procedure, 17
// U.S.C. § 512(g): the elements of a complete counter-notice (§ 512(g)(3)),
// the text forwarded to the complainant (§ 512(g)(2)(B)) and the business
// day window in which removed material is put back (§ 512(g)(2)(C)). It is
// pure: no SQL, no HTTP. The notice itself, § 512(c)(3), is checked in
// internal/report.
package dmca

import (
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"abusedesk/internal/report"
)

// CounterNotice is a subscriber's counter-notice as the form or the API
// submits it. Every field is attacker-controlled text.
type CounterNotice struct {
	Signature     string `json:"signature"`               // (A) typed full name as electronic signature
	Material      string `json:"material"`                // (B) what was removed
	Location      string `json:"location"`                // (B) URL/where it appeared
	GoodFaith     bool   `json:"good_faith_statement"`    // (C) the statement under penalty of perjury
	Name          string `json:"name"`                    // (D)
	Address       string `json:"address"`                 // (D) postal address
	Country       string `json:"country"`                 // (D) ISO 3166-1 alpha-2 of the address
	Phone         string `json:"phone"`                   // (D)
	Email         string `json:"email"`                   // optional
	Jurisdiction  bool   `json:"consent_to_jurisdiction"` // (D) consent statement
	AcceptService bool   `json:"accept_service"`          // (D) will accept service of process
}

// Problem is one missing or invalid element: the JSON field, a code
// (report.CodeDMCAElement when an element is missing, report.CodeInvalid or
// report.CodeTooLarge otherwise), the clause ("512(g)(3)(D)") and an
// English sentence naming the clause. It is report.FieldError, so a list of
// problems converts to report.Errors and is answered like any field error.
type Problem = report.FieldError

// MaxFieldLen is the longest a text field may be, in characters.
const MaxFieldLen = 4000

// MinPhoneDigits is how many digits a telephone number has at least.
const MinPhoneDigits = 6

// Clauses of § 512(g)(3), in the statute's words, shortened.
const (
	ClauseA = "512(g)(3)(A)"
	ClauseB = "512(g)(3)(B)"
	ClauseC = "512(g)(3)(C)"
	ClauseD = "512(g)(3)(D)"
)

// Normalized returns c with spaces trimmed around every text field and the
// country in upper case: what Check checks, Text prints, and should be
// stored.
func (c CounterNotice) Normalized() CounterNotice {
	for _, p := range []*string{&c.Signature, &c.Material, &c.Location, &c.Name, &c.Address, &c.Country, &c.Phone, &c.Email} {
		*p = strings.TrimSpace(*p)
	}
	c.Country = strings.ToUpper(c.Country)
	return c
}

// Check lists what keeps c from being a complete counter-notice under
// § 512(g)(3), one Problem per missing or invalid field, in the order of the
// statute; nil when complete.
func (c CounterNotice) Check() []Problem {
	c = c.Normalized()
	var ps []Problem
	add := func(field, code, clause, format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		if clause != "" {
			msg = "§ " + clause + ": " + msg
		}
		ps = append(ps, Problem{Field: field, Code: code, Clause: clause, Message: msg})
	}
	missing := func(field, clause, what string) {
		add(field, report.CodeDMCAElement, clause, "%s is missing", what)
	}
	// text checks a text field's form; false when it is unusable (too long,
	// not UTF-8, control characters) and was reported.
	text := func(field, clause, s string, multiline bool) bool {
		switch {
		case utf8.RuneCountInString(s) > MaxFieldLen:
			add(field, report.CodeTooLarge, clause, "%s is longer than %d characters", field, MaxFieldLen)
		case !utf8.ValidString(s):
			add(field, report.CodeInvalid, clause, "%s is not valid UTF-8 text", field)
		case hasControl(s, multiline):
			add(field, report.CodeInvalid, clause, "%s contains control characters", field)
		default:
			return true
		}
		return false
	}

	// (A) signature.
	if text("signature", ClauseA, c.Signature, false) {
		sig := signatureName(c.Signature)
		switch {
		case sig == "":
			missing("signature", ClauseA, "the subscriber's physical or electronic signature (type your full name)")
		case c.Name != "" && !strings.EqualFold(sig, collapse(c.Name)):
			add("signature", report.CodeInvalid, ClauseA, "the signature must be the subscriber's name as given in name (%q), typed in full", clip(c.Name))
		}
	}
	// (B) the material and where it was.
	if text("material", ClauseB, c.Material, true) && c.Material == "" {
		missing("material", ClauseB, "identification of the material that has been removed or to which access has been disabled")
	}
	if text("location", ClauseB, c.Location, true) && c.Location == "" {
		missing("location", ClauseB, "the location at which the material appeared before it was removed or access to it was disabled")
	}
	// (C) the statement under penalty of perjury.
	if !c.GoodFaith {
		missing("good_faith_statement", ClauseC, "the statement under penalty of perjury that the material was removed or disabled as a result of mistake or misidentification")
	}
	// (D) name, address, telephone, consent to jurisdiction, service.
	if text("name", ClauseD, c.Name, false) && c.Name == "" {
		missing("name", ClauseD, "the subscriber's name")
	}
	if text("address", ClauseD, c.Address, true) && c.Address == "" {
		missing("address", ClauseD, "the subscriber's postal address")
	}
	if text("country", ClauseD, c.Country, false) {
		switch {
		case c.Country == "":
			missing("country", ClauseD, "the country of the subscriber's address")
		case !isAlpha2(c.Country):
			add("country", report.CodeInvalid, ClauseD, "%q is not a two-letter ISO 3166 country code (such as US, CA, FR)", clip(c.Country))
		}
	}
	if text("phone", ClauseD, c.Phone, false) {
		switch {
		case c.Phone == "":
			missing("phone", ClauseD, "the subscriber's telephone number")
		case digits(c.Phone) < MinPhoneDigits:
			add("phone", report.CodeInvalid, ClauseD, "%q is not a telephone number (at least %d digits)", clip(c.Phone), MinPhoneDigits)
		}
	}
	if !c.Jurisdiction {
		missing("consent_to_jurisdiction", ClauseD, "the subscriber's consent to the jurisdiction of the Federal District Court")
	}
	if !c.AcceptService {
		missing("accept_service", ClauseD, "the subscriber's statement that they will accept service of process from the complainant or its agent")
	}
	// Not an element, but the complainant's answer goes there when given.
	if text("email", "", c.Email, false) && c.Email != "" {
		if a, err := mail.ParseAddress(c.Email); err != nil || a.Name != "" || a.Address != c.Email || len(c.Email) > 254 {
			add("email", report.CodeInvalidEmail, "", "%q is not an email address (expected name@example.org)", clip(c.Email))
		}
	}
	return ps
}

// signatureName is the name a signature gives: "/s/ Jane Doe" and
// "Jane  Doe" are both "Jane Doe".
func signatureName(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 3 && strings.EqualFold(s[:3], "/s/") {
		s = s[3:]
	}
	return collapse(s)
}

// collapse joins the words of s with one space.
func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }

func digits(s string) int {
	n := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			n++
		}
	}
	return n
}

func isAlpha2(s string) bool {
	return len(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z'
}

// hasControl reports control characters other than tab (and line breaks
// when multiline): they have no place in a form field and could disguise
// the forwarded text.
func hasControl(s string, multiline bool) bool {
	for _, r := range s {
		if r == '\t' || multiline && (r == '\n' || r == '\r') {
			continue
		}
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return true
		}
	}
	return false
}

// clip keeps attacker-chosen text short inside messages.
func clip(s string) string {
	if utf8.RuneCountInString(s) > 80 {
		return string([]rune(s)[:77]) + "..."
	}
	return s
}

// InUnitedStates tells whether an address in country (ISO 3166-1 alpha-2)
// is in the United States for the jurisdiction clause of § 512(g)(3)(D):
// 17 U.S.C. § 101 defines the United States, used geographically, as the
// States, the District of Columbia, Puerto Rico and the organized
// territories (Guam and the U.S. Virgin Islands have their own ISO codes).
func InUnitedStates(country string) bool {
	switch strings.ToUpper(strings.TrimSpace(country)) {
	case "US", "PR", "GU", "VI":
		return true
	}
	return false
}

// Language texts. Unknown languages get English.
type texts struct {
	goodFaith, jurisdictionAny, jurisdictionUS, jurisdictionAbroad, service string
	title, intro                                                            string
	signature, material, location, name, address, country, phone, email     string
	statements, no                                                          string
}

var langs = map[string]*texts{
	"en": {
		goodFaith:          "I swear, under penalty of perjury, that I have a good faith belief that the material was removed or disabled as a result of mistake or misidentification of the material to be removed or disabled.",
		jurisdictionAny:    "I consent to the jurisdiction of the Federal District Court for the judicial district in which my address is located or, if my address is outside of the United States, for any judicial district in which the service provider may be found.",
		jurisdictionUS:     "I consent to the jurisdiction of the Federal District Court for the judicial district in which my address is located.",
		jurisdictionAbroad: "My address is outside of the United States: I consent to the jurisdiction of the Federal District Court for any judicial district in which the service provider may be found.",
		service:            "I will accept service of process from the person who provided notification under 17 U.S.C. § 512(c)(1)(C) or an agent of such person.",
		title:              "DMCA COUNTER-NOTICE (17 U.S.C. § 512(g)(3))",
		intro:              "The subscriber whose material was removed or disabled in response to your notice has sent the following counter-notice.",
		signature:          "Signature",
		material:           "Material removed or disabled",
		location:           "Location before removal",
		name:               "Name",
		address:            "Address",
		country:            "Country",
		phone:              "Telephone",
		email:              "Email",
		statements:         "Statements of the subscriber",
		no:                 "no",
	},
	"fr": {
		goodFaith:          "Je déclare, sous peine de parjure, avoir la conviction de bonne foi que le contenu a été retiré ou rendu inaccessible à la suite d'une erreur ou d'une identification erronée du contenu à retirer ou à rendre inaccessible.",
		jurisdictionAny:    "J'accepte la compétence de la Cour fédérale de district (Federal District Court) du district judiciaire où se trouve mon adresse ou, si mon adresse est située hors des États-Unis, de tout district judiciaire où le prestataire de services peut être trouvé.",
		jurisdictionUS:     "J'accepte la compétence de la Cour fédérale de district (Federal District Court) du district judiciaire où se trouve mon adresse.",
		jurisdictionAbroad: "Mon adresse est située hors des États-Unis : j'accepte la compétence de la Cour fédérale de district (Federal District Court) de tout district judiciaire où le prestataire de services peut être trouvé.",
		service:            "J'accepterai la signification des actes de procédure (service of process) par la personne qui a fourni la notification prévue au 17 U.S.C. § 512(c)(1)(C) ou par un mandataire de cette personne.",
		title:              "CONTRE-NOTIFICATION DMCA (17 U.S.C. § 512(g)(3))",
		intro:              "L'abonné dont le contenu a été retiré ou rendu inaccessible à la suite de votre notification a envoyé la contre-notification suivante.",
		signature:          "Signature",
		material:           "Contenu retiré ou rendu inaccessible",
		location:           "Emplacement avant le retrait",
		name:               "Nom",
		address:            "Adresse",
		country:            "Pays",
		phone:              "Téléphone",
		email:              "Courriel",
		statements:         "Déclarations de l'abonné",
		no:                 "non",
	},
}

func lookup(lang string) *texts {
	if t, ok := langs[strings.ToLower(strings.TrimSpace(lang))]; ok {
		return t
	}
	return langs["en"]
}

// Statements returns the wording the form shows next to its three
// checkboxes, in lang (en, fr; others get English). The jurisdiction
// statement covers both cases of § 512(g)(3)(D), an address in the United
// States and one outside, since the form does not know the country yet;
// JurisdictionStatement gives the one that applies.
func Statements(lang string) (goodFaith, jurisdiction, service string) {
	t := lookup(lang)
	return t.goodFaith, t.jurisdictionAny, t.service
}

// JurisdictionStatement is the consent to jurisdiction that applies to an
// address in country: the district of the address in the United States,
// any district where the service provider may be found otherwise.
func JurisdictionStatement(lang, country string) string {
	t := lookup(lang)
	if InUnitedStates(country) {
		return t.jurisdictionUS
	}
	return t.jurisdictionAbroad
}

// Text is the counter-notice as plain text, to forward to the complainant
// (§ 512(g)(2)(B)), with headings in lang (en, fr; others get English): the
// fields as given (trimmed; continuation lines indented so that no field
// can pass for a heading) and the statements in full, with the
// jurisdiction wording for the address's country. It is not HTML: a page
// showing it must escape it.
func (c CounterNotice) Text(lang string) string {
	c = c.Normalized()
	t := lookup(lang)
	var b strings.Builder
	b.WriteString(t.title + "\n\n" + t.intro + "\n\n")
	field := func(label, v string) {
		v = strings.ReplaceAll(strings.ReplaceAll(v, "\r\n", "\n"), "\r", "\n")
		b.WriteString(label + ":")
		if strings.Contains(v, "\n") {
			for line := range strings.SplitSeq(v, "\n") {
				b.WriteString("\n    " + line)
			}
		} else if v != "" {
			b.WriteString(" " + v)
		}
		b.WriteString("\n")
	}
	field(t.material, c.Material)
	field(t.location, c.Location)
	b.WriteString("\n")
	field(t.name, c.Name)
	field(t.address, c.Address)
	field(t.country, c.Country)
	field(t.phone, c.Phone)
	if c.Email != "" {
		field(t.email, c.Email)
	}
	b.WriteString("\n" + t.statements + ":\n\n")
	stmt := func(agreed bool, s string) {
		mark := "[x] "
		if !agreed {
			mark = "[ ] (" + t.no + ") "
		}
		b.WriteString(mark + s + "\n\n")
	}
	stmt(c.GoodFaith, t.goodFaith)
	stmt(c.Jurisdiction, JurisdictionStatement(lang, c.Country))
	stmt(c.AcceptService, t.service)
	field(t.signature, c.Signature)
	return b.String()
}
