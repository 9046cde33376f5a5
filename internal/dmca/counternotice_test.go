package dmca

import (
	"encoding/json"
	"strings"
	"testing"

	"abusedesk/internal/report"
)

func complete() CounterNotice {
	return CounterNotice{
		Signature:     "/s/ Jane Q. Doe",
		Material:      "The photograph \"Harbour at dusk\" in my portfolio",
		Location:      "https://portfolio.example.net/harbour.jpg",
		GoodFaith:     true,
		Name:          "  Jane  Q. Doe ",
		Address:       "12 Elm Street\nSpringfield, IL 62701",
		Country:       "us",
		Phone:         "+1 (217) 555-0142",
		Email:         "jane@example.net",
		Jurisdiction:  true,
		AcceptService: true,
	}
}

func TestCheckComplete(t *testing.T) {
	if ps := complete().Check(); ps != nil {
		t.Fatalf("complete notice: %v", report.Errors(ps))
	}
	c := complete()
	c.Email = ""
	c.Signature = "jane q.   DOE"
	c.Country = "FR"
	if ps := c.Check(); ps != nil {
		t.Fatalf("no email, plain signature: %v", report.Errors(ps))
	}
}

// Each element removed in turn is named with its clause, and nothing else.
func TestCheckNamesEachClause(t *testing.T) {
	for _, c := range []struct {
		field, clause string
		drop          func(*CounterNotice)
	}{
		{"signature", ClauseA, func(c *CounterNotice) { c.Signature = " " }},
		{"signature", ClauseA, func(c *CounterNotice) { c.Signature = "/s/" }},
		{"material", ClauseB, func(c *CounterNotice) { c.Material = "" }},
		{"location", ClauseB, func(c *CounterNotice) { c.Location = "\t" }},
		{"good_faith_statement", ClauseC, func(c *CounterNotice) { c.GoodFaith = false }},
		{"address", ClauseD, func(c *CounterNotice) { c.Address = "" }},
		{"country", ClauseD, func(c *CounterNotice) { c.Country = "" }},
		{"phone", ClauseD, func(c *CounterNotice) { c.Phone = "" }},
		{"consent_to_jurisdiction", ClauseD, func(c *CounterNotice) { c.Jurisdiction = false }},
		{"accept_service", ClauseD, func(c *CounterNotice) { c.AcceptService = false }},
	} {
		n := complete()
		c.drop(&n)
		ps := n.Check()
		if len(ps) != 1 || ps[0].Field != c.field || ps[0].Clause != c.clause || ps[0].Code != report.CodeDMCAElement {
			t.Errorf("%s removed: %+v", c.field, ps)
			continue
		}
		if !strings.HasPrefix(ps[0].Message, "§ "+c.clause+": ") || !strings.HasSuffix(ps[0].Message, " is missing") {
			t.Errorf("%s: message %q", c.field, ps[0].Message)
		}
	}
	// The name is (D), and the signature can then not be checked against it.
	n := complete()
	n.Name = ""
	if ps := n.Check(); len(ps) != 1 || ps[0].Field != "name" || ps[0].Clause != ClauseD {
		t.Errorf("name removed: %+v", ps)
	}
	n = complete()
	n.Phone = ""
	if ps := n.Check(); len(ps) != 1 || ps[0].Message != "§ 512(g)(3)(D): the subscriber's telephone number is missing" {
		t.Errorf("phone: %+v", ps)
	}
	// Everything missing: every field, in the statute's order.
	var got []string
	for _, p := range (CounterNotice{}).Check() {
		got = append(got, p.Clause+" "+p.Field)
	}
	want := "512(g)(3)(A) signature|512(g)(3)(B) material|512(g)(3)(B) location|512(g)(3)(C) good_faith_statement|" +
		"512(g)(3)(D) name|512(g)(3)(D) address|512(g)(3)(D) country|512(g)(3)(D) phone|512(g)(3)(D) consent_to_jurisdiction|512(g)(3)(D) accept_service"
	if strings.Join(got, "|") != want {
		t.Errorf("empty notice:\n got %s\nwant %s", strings.Join(got, "|"), want)
	}
}

func TestCheckInvalid(t *testing.T) {
	long := strings.Repeat("é", MaxFieldLen+1)
	for _, c := range []struct {
		name, field, code string
		set               func(*CounterNotice)
	}{
		{"signature of someone else", "signature", report.CodeInvalid, func(c *CounterNotice) { c.Signature = "/s/ John Roe" }},
		{"short phone", "phone", report.CodeInvalid, func(c *CounterNotice) { c.Phone = "12-34-5" }},
		{"letters for phone", "phone", report.CodeInvalid, func(c *CounterNotice) { c.Phone = "call me maybe" }},
		{"three-letter country", "country", report.CodeInvalid, func(c *CounterNotice) { c.Country = "USA" }},
		{"digit country", "country", report.CodeInvalid, func(c *CounterNotice) { c.Country = "U1" }},
		{"bad email", "email", report.CodeInvalidEmail, func(c *CounterNotice) { c.Email = "Jane <jane@example.net>" }},
		{"long material", "material", report.CodeTooLarge, func(c *CounterNotice) { c.Material = long }},
		{"long address", "address", report.CodeTooLarge, func(c *CounterNotice) { c.Address = long }},
		{"long email", "email", report.CodeTooLarge, func(c *CounterNotice) { c.Email = long }},
		{"not UTF-8", "location", report.CodeInvalid, func(c *CounterNotice) { c.Location = "https://x.example/\xff" }},
		{"newline in name", "name", report.CodeInvalid, func(c *CounterNotice) { c.Name = "Jane\nQ. Doe"; c.Signature = "Jane Q. Doe" }},
		{"escape in location", "location", report.CodeInvalid, func(c *CounterNotice) { c.Location = "https://x.example/\x1b[2J" }},
	} {
		n := complete()
		c.set(&n)
		ps := n.Check()
		if len(ps) != 1 || ps[0].Field != c.field || ps[0].Code != c.code {
			t.Errorf("%s: %+v", c.name, ps)
			continue
		}
		if len(ps[0].Message) > 400 {
			t.Errorf("%s: message of %d bytes", c.name, len(ps[0].Message))
		}
	}
	n := complete()
	n.Signature = "Someone"
	ps := n.Check()
	if len(ps) != 1 || ps[0].Clause != ClauseA || !strings.Contains(ps[0].Message, "subscriber's name") {
		t.Errorf("signature mismatch: %+v", ps)
	}
	// A field exactly at the limit is fine.
	n = complete()
	n.Material = strings.Repeat("é", MaxFieldLen)
	if ps := n.Check(); ps != nil {
		t.Errorf("material at the limit: %+v", ps)
	}
}

func TestProblemsAreFieldErrors(t *testing.T) {
	n := complete()
	n.Phone = "1"
	var es report.Errors = n.Check()
	b, _ := json.Marshal(es)
	if got := string(b); !strings.Contains(got, `"field":"phone"`) || !strings.Contains(got, `"clause":"512(g)(3)(D)"`) {
		t.Errorf("json: %s", got)
	}
	if es.Error() == "" {
		t.Error("no error text")
	}
}

func TestText(t *testing.T) {
	n := complete()
	n.Material = "<b>my photo</b> & more"
	for _, lang := range []string{"en", "fr"} {
		txt := n.Text(lang)
		norm := n.Normalized()
		for _, v := range []string{norm.Signature, norm.Material, norm.Location, norm.Name, "12 Elm Street", "Springfield, IL 62701", "US", norm.Phone, norm.Email} {
			if !strings.Contains(txt, v) {
				t.Errorf("%s: text lacks %q:\n%s", lang, v, txt)
			}
		}
		good, _, service := Statements(lang)
		for _, s := range []string{good, service, JurisdictionStatement(lang, "US")} {
			if !strings.Contains(txt, "[x] "+s) {
				t.Errorf("%s: text lacks statement %q", lang, s)
			}
		}
		if strings.Contains(txt, JurisdictionStatement(lang, "FR")) {
			t.Errorf("%s: a US address gets the non-US wording", lang)
		}
		if strings.Contains(txt, "&amp;") || strings.Contains(txt, "&lt;") {
			t.Errorf("%s: text is escaped", lang)
		}
	}
	if en, fr := n.Text("en"), n.Text("fr"); !strings.Contains(en, "DMCA COUNTER-NOTICE") || !strings.Contains(fr, "CONTRE-NOTIFICATION DMCA") || !strings.Contains(fr, "Adresse:") {
		t.Errorf("headings:\n%s\n%s", en, fr)
	}
	if n.Text("de") != n.Text("en") {
		t.Error("an unknown language is not English")
	}

	// Outside the United States: any district where the provider is found.
	n.Country = "ca"
	txt := n.Text("en")
	if !strings.Contains(txt, "any judicial district in which the service provider may be found") ||
		strings.Contains(txt, "the judicial district in which my address is located") {
		t.Errorf("non-US wording:\n%s", txt)
	}
	if !strings.Contains(n.Text("fr"), "hors des États-Unis") {
		t.Error("French non-US wording")
	}
	// Puerto Rico is in the United States (17 U.S.C. § 101).
	n.Country = "PR"
	if !strings.Contains(n.Text("en"), JurisdictionStatement("en", "US")) {
		t.Error("Puerto Rico")
	}

	// A multi-line field cannot forge a heading: its lines are indented.
	n.Material = "a photo\nSignature: /s/ Someone Else"
	if txt := n.Text("en"); strings.Contains(txt, "\nSignature: /s/ Someone Else") || !strings.Contains(txt, "\n    Signature: /s/ Someone Else") {
		t.Errorf("multi-line field:\n%s", txt)
	}
	// A statement not agreed to shows as not agreed.
	n.AcceptService = false
	if !strings.Contains(n.Text("en"), "[ ] (no) I will accept service") {
		t.Error("unchecked statement")
	}
}

func TestStatements(t *testing.T) {
	for _, lang := range []string{"en", "fr"} {
		g, j, s := Statements(lang)
		if g == "" || j == "" || s == "" {
			t.Fatalf("%s: empty statement", lang)
		}
	}
	g, j, s := Statements("en")
	for _, w := range []string{"penalty of perjury", "good faith", "mistake or misidentification"} {
		if !strings.Contains(g, w) {
			t.Errorf("good faith statement lacks %q", w)
		}
	}
	for _, w := range []string{"Federal District Court", "judicial district in which my address is located", "outside of the United States", "any judicial district in which the service provider may be found"} {
		if !strings.Contains(j, w) {
			t.Errorf("jurisdiction statement lacks %q", w)
		}
	}
	if !strings.Contains(s, "accept service of process") || !strings.Contains(s, "512(c)(1)(C)") {
		t.Errorf("service statement: %q", s)
	}
	if g2, _, _ := Statements("FR"); g2 == g {
		t.Error("FR is not French")
	}
}
