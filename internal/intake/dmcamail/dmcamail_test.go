package dmcamail

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"abusedesk/internal/intake/mailpart"
	"abusedesk/internal/report"
)

// clock is after every sample, so none is "in the future".
func clock() time.Time { return time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) }

func validator() *report.Validator { return &report.Validator{Now: clock} }

func load(t testing.TB, name string) *mailpart.Part {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return mailpart.Parse(raw)
}

// validate runs the validator as the mailbox does, the reporter filled from
// the From header, and returns the clauses it names.
func validate(t *testing.T, r *report.Report) (clauses []string, es report.Errors) {
	t.Helper()
	r.Reporter = report.Reporter{Name: "Sender", Email: "sender@example.org"}
	es = validator().Validate(r)
	for _, e := range es {
		if e.Clause != "" && !slices.Contains(clauses, e.Clause) {
			clauses = append(clauses, e.Clause)
		}
	}
	return clauses, es
}

func TestParseSamples(t *testing.T) {
	tests := []struct {
		file     string
		lang     string
		clauses  []string // the elements the validator names as missing
		works    []string
		infr     []string // URLs, or "ip port timestamp"
		contact  report.DMCAContact
		sig      string
		descHint string
	}{
		{
			file: "acns_inline_pgp.eml", lang: "en",
			works: []string{"The Lighthouse Keeper (file The.Lighthouse.Keeper.2025.1080p.WEB.mkv)"},
			infr:  []string{"198.51.100.23 51413 2026-03-01T21:04:33Z"},
			contact: report.DMCAContact{Name: "Rights Agent - Compliance", Address: "1200 Example Avenue, Suite 300, Los Angeles CA 90028, United States",
				Phone: "+1 (310) 555 0142", Email: "p2p@notices.rights-agent.example"},
			sig: "Dana Whitfield", descHint: "case 7f3a9c2e11d04b6a",
		},
		{
			file: "acns_attachment.eml", lang: "en",
			works: []string{"Café & Rain (album) (file cafe_and_rain.zip)"},
			infr: []string{"https://files.customer-site.example/dl/cafe_and_rain.zip",
				"https://files.customer-site.example/dl/cafe_and_rain_part2.zip", "203.0.113.80 - 2026-03-02T18:30:00Z"},
			contact: report.DMCAContact{Name: "Morgan Lee", Address: "14 Harbour Street, Bristol BS1 4XX, United Kingdom",
				Phone: "+44 117 496 0123", Email: "notices@antipiracy.example"},
			sig: "Morgan Lee", descHint: "WEB-2026-0412",
		},
		{
			file: "en_complete.eml", lang: "en",
			works: []string{`"Northern Lights", a photograph series by Jordan Avery (2024)`, `"Harbour at Dusk", photograph (2023)`},
			infr:  []string{"https://gallery.customer-site.example/albums/northern-lights/", "https://gallery.customer-site.example/img/harbour-dusk.jpg"},
			contact: report.DMCAContact{Name: "Jordan Avery", Address: "221 Example Road, Springfield, IL 62701, USA",
				Phone: "+1 217 555 0199", Email: "jordan@studio-owner.example"},
			sig: "Jordan Avery", descHint: "Northern Lights",
		},
		{
			file: "fr_complete.eml", lang: "fr",
			works: []string{`"Le Jardin des Heures", roman de Claire Dumas (2022)`},
			infr:  []string{"https://lecture.site-client.example/livres/jardin-des-heures.pdf"},
			contact: report.DMCAContact{Name: "Céline Morel", Address: "12 rue de l'Exemple, 75011 Paris, France",
				Phone: "+33 1 23 45 67 89", Email: "c.morel@editions-exemple.example"},
			sig: "Céline Morel", descHint: "Jardin des Heures",
		},
		{file: "missing_i.eml", lang: "en", clauses: []string{"(i)"}},
		{file: "missing_ii.eml", lang: "en", clauses: []string{"(ii)"}},
		{file: "missing_iii.eml", lang: "en", clauses: []string{"(iii)"}},
		{file: "missing_iv.eml", lang: "en", clauses: []string{"(iv)"}},
		{file: "missing_v.eml", lang: "en", clauses: []string{"(v)"}},
		{file: "missing_vi.eml", lang: "en", clauses: []string{"(vi)"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			reps, missing, ok := Parse(load(t, tt.file))
			if !ok || len(reps) != 1 || len(missing) != 0 {
				t.Fatalf("Parse: ok=%v, %d reports, missing %v", ok, len(reps), missing)
			}
			r := reps[0]
			if r.Type != report.TypeDMCA || r.Subtype != "copyright" || r.DMCA == nil {
				t.Fatalf("report %s/%s, dmca %v", r.Type, r.Subtype, r.DMCA)
			}
			if r.Reporter != (report.Reporter{}) {
				t.Errorf("reporter %+v: the caller fills it from From", r.Reporter)
			}
			if r.Description == "" || len(r.Description) > maxDescription {
				t.Errorf("description of %d bytes", len(r.Description))
			}
			if tt.descHint != "" && !strings.Contains(r.Description, tt.descHint) {
				t.Errorf("description %q lacks %q", r.Description, tt.descHint)
			}
			clauses, es := validate(t, r)
			if !slices.Equal(clauses, tt.clauses) {
				t.Fatalf("validator names clauses %v, want %v (%v)", clauses, tt.clauses, es)
			}
			for _, e := range es {
				if e.Code != report.CodeDMCAElement {
					t.Errorf("unexpected error %+v", e)
				}
				if e.Clause != "" && !strings.Contains(e.Message, "512(c)(3)(A)"+e.Clause) {
					t.Errorf("message %q does not name clause %s", e.Message, e.Clause)
				}
			}
			if r.Language != tt.lang {
				t.Errorf("language %q, want %q", r.Language, tt.lang)
			}
			if tt.works == nil {
				return
			}
			d := r.DMCA
			if !slices.Equal(d.Works, tt.works) {
				t.Errorf("works %q, want %q", d.Works, tt.works)
			}
			var infr []string
			for _, it := range d.Infringing {
				if it.URL != "" {
					infr = append(infr, it.URL)
					continue
				}
				p := "-"
				if it.Port != nil {
					p = strings.TrimSpace(strings.Repeat(" ", 0) + itoa(*it.Port))
				}
				infr = append(infr, it.IP+" "+p+" "+it.Timestamp)
			}
			if !slices.Equal(infr, tt.infr) {
				t.Errorf("infringing %q, want %q", infr, tt.infr)
			}
			if d.Contact != tt.contact {
				t.Errorf("contact %+v, want %+v", d.Contact, tt.contact)
			}
			if d.Signature != tt.sig || !d.GoodFaith || !d.AccuracyUnderPenaltyOfPerjury {
				t.Errorf("signature %q good faith %v perjury %v", d.Signature, d.GoodFaith, d.AccuracyUnderPenaltyOfPerjury)
			}
		})
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func TestParseOther(t *testing.T) {
	reps, missing, ok := Parse(load(t, "other.eml"))
	if ok || reps != nil || missing != nil {
		t.Fatalf("a spam complaint read as a notice: ok=%v %v %v", ok, reps, missing)
	}
	if _, _, ok := Parse(nil); ok {
		t.Fatal("nil part recognised")
	}
}

func mail(subject, body string) *mailpart.Part {
	return mailpart.Parse([]byte("From: a@example.org\nSubject: " + subject + "\nContent-Type: text/plain; charset=utf-8\n\n" + body))
}

// A mail that only mentions the DMCA in passing is not a notice; one whose
// subject says it is, but in which nothing can be read, is answered with
// every clause.
func TestRecognition(t *testing.T) {
	if _, _, ok := Parse(mail("Question", "Hello, I received a DMCA complaint about my site yesterday, what should I do?\n")); ok {
		t.Error("a customer's question read as a notice")
	}
	reps, missing, ok := Parse(mail("DMCA notice", "Please remove it.\n"))
	if !ok || reps != nil || len(missing) != 6 {
		t.Fatalf("ok=%v reps=%v missing=%v", ok, reps, missing)
	}
	for i, c := range []string{"(i)", "(ii)", "(iii)", "(iv)", "(v)", "(vi)"} {
		if missing[i].Clause != c || missing[i].Code != report.CodeDMCAElement {
			t.Errorf("missing[%d] = %+v", i, missing[i])
		}
	}
}

// A policy page or a reply quoting the desk's list of elements describes the
// statements without making them.
func TestStatementsNotDescribed(t *testing.T) {
	rd := Read("DMCA", strings.Join([]string{
		"A notice must include a statement that you have a good faith belief that the use is not authorized by the owner.",
		"",
		"> I have a good faith belief that the use is not authorized by the owner.",
		"> The information is accurate, under penalty of perjury.",
		"",
		"It should include a statement that the information is accurate and, under penalty of perjury, that you are authorized.",
	}, "\n"))
	if rd.Notice.GoodFaith || rd.Notice.AccuracyUnderPenaltyOfPerjury {
		t.Fatalf("statements found in a description: %+v", rd.Found)
	}
	rd = Read("DMCA", "I have a good faith belief that this use\nis not authorized by the copyright owner.\n\nI state under penalty\nof perjury that this notice is accurate.\n")
	if !rd.Notice.GoodFaith || !rd.Notice.AccuracyUnderPenaltyOfPerjury {
		t.Fatalf("wrapped statements not found: %+v", rd.Found)
	}
	if !rd.Has("(v)") || rd.Found[0].Line != 1 || rd.Found[1].Line != 4 {
		t.Errorf("found %+v", rd.Found)
	}
}

// Read tells where each element is, by line of the body text, for the
// review page.
func TestReadLines(t *testing.T) {
	m := load(t, "en_complete.eml")
	rd := Read(m.Header.Get("Subject"), m.BodyText())
	lines := strings.Split(m.BodyText(), "\n")
	if !rd.Recognised || rd.French {
		t.Fatalf("recognised %v french %v", rd.Recognised, rd.French)
	}
	want := map[string]bool{"(i)": false, "(ii)": false, "(iii)": false, "(iv)": false, "(v)": false, "(vi)": false}
	for _, f := range rd.Found {
		want[f.Clause] = true
		if f.Line < 1 || f.Line > len(lines) {
			t.Fatalf("line %d out of range", f.Line)
		}
		if f.Clause != "(v)" && f.Clause != "(vi)" && !strings.Contains(lines[f.Line-1], strings.SplitN(f.Value, ",", 2)[0]) {
			t.Errorf("%s %q is not on line %d: %q", f.Clause, f.Value, f.Line, lines[f.Line-1])
		}
	}
	for c, ok := range want {
		if !ok {
			t.Errorf("clause %s not found", c)
		}
	}
	if f := rd.Found[len(rd.Found)-1]; f.Clause != "(i)" || !strings.Contains(lines[f.Line-1], "Jordan Avery") {
		t.Errorf("signature at %+v", f)
	}
}

// The text form of peer-to-peer notices: labelled lines, and a table of
// addresses with times.
func TestFreeTextAddresses(t *testing.T) {
	rd := Read("Notice of Claimed Infringement", strings.Join([]string{
		"Evidentiary Information:",
		"Protocol: BITTORRENT",
		"Infringed Work: Example Show S01E02",
		"Infringer's IP Address: 198.51.100.7",
		"Infringer's Port: 6881",
		"Initial Infringement Timestamp: 2026-03-01 20:00:00 UTC",
		"",
		"Also seen:",
		"  2001:db8::7   2026-03-01T20:05:00+01:00",
		"  192.0.2.9     2026-03-01 20:06:00",
	}, "\n"))
	got := rd.Notice.Infringing
	if len(got) != 3 {
		t.Fatalf("infringing %+v", got)
	}
	if got[0].IP != "198.51.100.7" || got[0].Port == nil || *got[0].Port != 6881 || got[0].Timestamp != "2026-03-01T20:00:00Z" {
		t.Errorf("labelled item %+v", got[0])
	}
	if got[1].IP != "2001:db8::7" || got[1].Timestamp != "2026-03-01T20:05:00+01:00" {
		t.Errorf("table item %+v", got[1])
	}
	// No zone: kept as written, so the validator asks for it.
	r := &report.Report{Type: report.TypeDMCA, DMCA: &rd.Notice}
	_, es := validate(t, r)
	if !slices.Contains(es.Codes(), report.CodeTimezoneRequired) {
		t.Errorf("a time without a zone was not refused: %v", es)
	}
	if !slices.Equal(rd.Notice.Works, []string{"Example Show S01E02"}) {
		t.Errorf("works %q", rd.Notice.Works)
	}
}

func TestNormTime(t *testing.T) {
	for in, want := range map[string]string{
		"2026-03-01T20:00:00Z":           "2026-03-01T20:00:00Z",
		"2026-03-01 20:00:00 UTC":        "2026-03-01T20:00:00Z",
		"2026-03-01 20:00:00 EST":        "2026-03-01T20:00:00-05:00",
		"2026-03-01 20:00:00 +0100":      "2026-03-01T20:00:00+01:00",
		"March 1, 2026 20:00:00 GMT":     "2026-03-01T20:00:00Z",
		"01/03/2026 20:00:00 CET":        "2026-03-01T20:00:00+01:00",
		"2026-03-01 20:00:00":            "2026-03-01 20:00:00",
		"2026-03-01 20:00:00 XYZ":        "2026-03-01 20:00:00 XYZ",
		"yesterday":                      "yesterday",
		"Mon, 2 Mar 2026 10:00:00 +0000": "2026-03-02T10:00:00Z",
	} {
		if got := normTime(in); got != want {
			t.Errorf("normTime(%q) = %q, want %q", in, got, want)
		}
	}
}

// Inline ACNS without PGP armour or markers, with a prefix, a broken port,
// and a second, unreadable document.
func TestACNSInline(t *testing.T) {
	body := `Please see the notice below.

<a:Infringement xmlns:a="http://www.movielabs.com/ACNS"><a:Case><a:ID>X1</a:ID></a:Case>
<a:Complainant><a:Entity>Owner & Co</a:Entity><a:Phone>+1 555 0100 100</a:Phone><a:Email>n@owner.example</a:Email></a:Complainant>
<a:Source><a:IP_ADDRESS>192.0.2.5</a:IP_ADDRESS><a:Port>http</a:Port></a:Source>
<a:Content><a:Item><a:TimeStamp>2026-03-01T10:00:00-05:00</a:TimeStamp><a:FileName>song.mp3</a:FileName></a:Item></a:Content>
</a:Infringement>

<Infringement><Case><ID>X2
`
	reps, missing, ok := Parse(mail("notice", body))
	if !ok || len(reps) != 1 {
		t.Fatalf("ok=%v reps=%d missing=%v", ok, len(reps), missing)
	}
	if len(missing) != 2 || missing[1].Code != report.CodeInvalidPort || missing[1].Field != "acns.Source.Port" ||
		missing[0].Code != report.CodeInvalid || missing[0].Field != "acns[1] line 9" {
		t.Errorf("missing %+v", missing)
	}
	d := reps[0].DMCA
	if d.Contact.Name != "Owner & Co" || !slices.Equal(d.Works, []string{"song.mp3"}) ||
		len(d.Infringing) != 1 || d.Infringing[0].IP != "192.0.2.5" || d.Infringing[0].Timestamp != "2026-03-01T10:00:00-05:00" {
		t.Errorf("notice %+v", d)
	}
	clauses, _ := validate(t, reps[0])
	if !slices.Equal(clauses, []string{"(i)", "(iv)", "(v)", "(vi)"}) {
		t.Errorf("clauses %v", clauses)
	}
}

func TestReadACNSBounds(t *testing.T) {
	if _, err := ReadACNS([]byte("<StatusUpdate/>")); err != ErrNotACNS {
		t.Errorf("err %v", err)
	}
	deep := strings.Repeat("<a>", 100) + strings.Repeat("</a>", 100)
	if _, err := ReadACNS([]byte("<Infringement>" + deep + "</Infringement>")); err == nil {
		t.Error("depth not bounded")
	}
	if _, err := ReadACNS(make([]byte, MaxXMLBytes+1)); err == nil {
		t.Error("size not bounded")
	}
	many := "<Infringement><Content>" + strings.Repeat("<Item><Title>t</Title></Item>", MaxItems+10) + "</Content></Infringement>"
	a, err := ReadACNS([]byte(many))
	if err != nil || len(a.Items) != MaxItems {
		t.Errorf("items %v %v", err, a)
	}
}
