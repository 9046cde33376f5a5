package routing

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"abusedesk/internal/report"
)

func parse(t *testing.T, text string) *Rules {
	t.Helper()
	r, err := Parse("t.rules", strings.NewReader(text))
	if err != nil {
		t.Fatalf("Parse:\n%v", err)
	}
	return r
}

// lineOf finds the line of the built-in file that starts with prefix, so the
// tests follow the file when comments are edited.
func lineOf(t *testing.T, prefix string) int {
	t.Helper()
	for i, l := range strings.Split(defaultText, "\n") {
		if strings.HasPrefix(l, prefix) {
			return i + 1
		}
	}
	t.Fatalf("default.rules has no line %q", prefix)
	return 0
}

func TestDefaultRoutes(t *testing.T) {
	legal := lineOf(t, "route legal        reporter_kind=government")
	legalChannel := lineOf(t, "route legal        channel=legal")
	dmca := lineOf(t, "route copyright")
	ses := lineOf(t, "route email-abuse  type=email service=SES")
	via := lineOf(t, "route email-abuse  type=email via=sending-service")
	def := lineOf(t, "default general")
	for _, tc := range []struct {
		name string
		in   Input
		lane string
		line int
	}{
		{"dmca", Input{Type: "dmca", Subtype: "copyright", ReporterKind: "organization", Channel: "api"}, report.LaneCopyright, dmca},
		// Legal comes first: an authority's copyright notice is read by legal.
		{"government dmca", Input{Type: "dmca", Subtype: "copyright", ReporterKind: "government", Channel: "form"}, report.LaneLegal, legal},
		{"government network", Input{Type: "network", Subtype: "ddos", ReporterKind: "government"}, report.LaneLegal, legal},
		{"legal channel", Input{Type: "content", Subtype: "phishing", ReporterKind: "individual", Channel: "legal"}, report.LaneLegal, legalChannel},
		{"spam from SES", Input{Type: "email", Subtype: "spam_sent", ReporterKind: "isp", Services: []string{"EC2", "SES"}}, report.LaneEmailAbuse, ses},
		{"service case-insensitive", Input{Type: "email", Subtype: "spam_sent", Services: []string{"ses"}}, report.LaneEmailAbuse, ses},
		{"spam via the sending service", Input{Type: "email", Subtype: "spam_sent", Channel: "mail", ViaSendingService: true}, report.LaneEmailAbuse, via},
		{"spam elsewhere", Input{Type: "email", Subtype: "spam_sent", Services: []string{"EC2"}}, report.LaneGeneral, def},
		{"network from an SES address", Input{Type: "network", Subtype: "port_scan", Services: []string{"SES"}}, report.LaneGeneral, def},
		{"phishing", Input{Type: "content", Subtype: "phishing", ReporterKind: "cert", Channel: "xarf"}, report.LaneGeneral, def},
		{"empty input", Input{}, report.LaneGeneral, def},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lane, rule := Default().Route(tc.in)
			if lane != tc.lane || rule.Line != tc.line || rule.Lane != lane || rule.File != defaultName {
				t.Errorf("Route = %q by %v; want %q by line %d", lane, rule, tc.lane, tc.line)
			}
			if rule.Default != (tc.line == def) {
				t.Errorf("rule.Default = %v", rule.Default)
			}
		})
	}
}

func TestDefaultText(t *testing.T) {
	want := `default general
route legal        reporter_kind=government
route legal        channel=legal
route copyright    type=dmca
route email-abuse  type=email service=SES
route email-abuse  type=email via=sending-service
`
	if got := Default().String(); got != want {
		t.Errorf("Default().String():\n%s\nwant:\n%s", got, want)
	}
	// The built-in file routes only to lanes the desk knows: a custom lane
	// nobody watches must be an operator's choice.
	known := []string{report.LaneGeneral, report.LaneLegal, report.LaneCopyright, report.LaneEmailAbuse}
	if got := Default().Lanes(); strings.Join(got, " ") != strings.Join(known, " ") {
		t.Errorf("Lanes() = %v, want %v", got, known)
	}
}

func TestRuleString(t *testing.T) {
	_, rule := Default().Route(Input{Type: "dmca"})
	if got, want := rule.String(), "builtin:default.rules:"+strconv.Itoa(lineOf(t, "route copyright"))+": route copyright type=dmca"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	r := parse(t, "route legal type=dmca\n")
	_, rule = r.Route(Input{Type: "network"})
	if got, want := rule.String(), "t.rules: default general (implicit: no default line)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if !rule.Default || rule.Line != 0 {
		t.Errorf("implicit default: %+v", rule)
	}
}

func TestFirstMatchWins(t *testing.T) {
	r := parse(t, `
default triage
route abuse-b   type=network subtype=ddos
route abuse-a   type=network
route abuse-c   type=network subtype=ddos,port_scan   # never for ddos: line 3 wins
`)
	for _, tc := range []struct {
		in   Input
		lane string
		line int
	}{
		{Input{Type: "network", Subtype: "ddos"}, "abuse-b", 3},
		{Input{Type: "network", Subtype: "port_scan"}, "abuse-a", 4},
		{Input{Type: "content", Subtype: "malware"}, "triage", 2},
	} {
		lane, rule := r.Route(tc.in)
		if lane != tc.lane || rule.Line != tc.line {
			t.Errorf("Route(%+v) = %q line %d, want %q line %d", tc.in, lane, rule.Line, tc.lane, tc.line)
		}
	}
	if got := strings.Join(r.Lanes(), " "); got != "triage abuse-b abuse-a abuse-c" {
		t.Errorf("Lanes() = %s", got)
	}
}

func TestConditions(t *testing.T) {
	for _, tc := range []struct {
		cond string
		in   Input
		want bool
	}{
		{"type=email,dmca", Input{Type: "dmca"}, true},
		{"type=email,dmca", Input{Type: "network"}, false},
		{"type!=email,dmca", Input{Type: "network"}, true},
		{"type!=email,dmca", Input{Type: "email"}, false},
		{"subtype=phishing", Input{Subtype: "phishing"}, true},
		{"subtype!=phishing", Input{Subtype: "malware"}, true},
		{"reporter_kind=cert,isp", Input{ReporterKind: "isp"}, true},
		{"reporter_kind!=government", Input{ReporterKind: "government"}, false},
		{"reporter_kind!=government", Input{}, true},
		{"channel=mail", Input{Channel: "mail"}, true},
		{"channel!=mail", Input{Channel: "api"}, true},
		{"service=SES", Input{Services: []string{"EC2", "Ses"}}, true},
		{"service=SES", Input{}, false},
		{"service!=SES", Input{Services: []string{"EC2", "SES"}}, false},
		{"service!=SES", Input{Services: []string{"EC2"}}, true},
		{"service!=SES", Input{}, true},
		{"region=eu-west-3", Input{Regions: []string{"us-east-1", "eu-west-3"}}, true},
		{"region=eu-west-3", Input{Regions: []string{"EU-WEST-3"}}, false},
		{"verdict=assigned", Input{Verdicts: []string{"not_ours", "assigned"}}, true},
		// "None of the items is ours", also when nothing was attributed.
		{"verdict!=assigned,unassigned", Input{Verdicts: []string{"not_ours", "not_ours"}}, true},
		{"verdict!=assigned,unassigned", Input{Verdicts: []string{"not_ours", "unassigned"}}, false},
		{"verdict!=assigned,unassigned", Input{}, true},
		{"via=sending-service", Input{ViaSendingService: true}, true},
		{"via=sending-service", Input{}, false},
		{"via!=sending-service", Input{}, true},
	} {
		r := parse(t, "default no\nroute yes "+tc.cond+"\n")
		if lane, _ := r.Route(tc.in); (lane == "yes") != tc.want {
			t.Errorf("%s on %+v: got %s, want match=%v", tc.cond, tc.in, lane, tc.want)
		}
	}
	// All conditions of a rule must match.
	r := parse(t, "route yes type=email service=SES region=eu-west-3\n")
	for in, want := range map[*Input]string{
		{Type: "email", Services: []string{"SES"}, Regions: []string{"eu-west-3"}}: "yes",
		{Type: "email", Services: []string{"SES"}, Regions: []string{"eu-west-1"}}: "general",
		{Type: "dmca", Services: []string{"SES"}, Regions: []string{"eu-west-3"}}:  "general",
	} {
		if lane, _ := r.Route(*in); lane != want {
			t.Errorf("Route(%+v) = %s, want %s", *in, lane, want)
		}
	}
}

func TestSyntax(t *testing.T) {
	// Tabs, trailing comments, CRLF line ends and an editor's BOM are fine.
	r := parse(t, "\ufeff# rules\r\n\r\n\tdefault\tgeneral  # fallback\r\nroute\tcopyright\ttype=dmca#inline\r\n")
	if got := r.String(); got != "default general\nroute copyright  type=dmca\n" {
		t.Errorf("String() = %q", got)
	}
	// Conditions come out in the canonical key order, values as written.
	r = parse(t, "route x via=sending-service type=email\nroute longer-lane region=b,a service=ses verdict!=assigned reporter_kind=cert\n")
	want := "default general\n" +
		"route x            type=email via=sending-service\n" +
		"route longer-lane  reporter_kind=cert service=ses region=b,a verdict!=assigned\n"
	if got := r.String(); got != want {
		t.Errorf("String():\n%s\nwant:\n%s", got, want)
	}
	if _, rule := r.Route(Input{Type: "email", ViaSendingService: true}); rule.Text != "route x type=email via=sending-service" {
		t.Errorf("Text = %q", rule.Text)
	}
	// An empty file routes everything to general.
	if lane, rule := parse(t, "").Route(Input{Type: "dmca"}); lane != report.LaneGeneral || !rule.Default {
		t.Errorf("empty file: %s %v", lane, rule)
	}
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"rout legal type=dmca", `t.rules:1: unknown directive "rout" (a line is route LANE key=value ... or default LANE)`},
		{"legal type=dmca", `t.rules:1: unknown directive "legal" (a line is route LANE key=value ... or default LANE)`},
		{"# x\n\nroute email-abuse servce=SES", `t.rules:3: unknown key "servce" (one of type, subtype, reporter_kind, channel, service, region, verdict, via)`},
		{"route x =email", `t.rules:1: missing key in "=email" (key=value or key!=value)`},
		{"route x type=DMCA", `t.rules:1: "DMCA" is not a type (one of network, content, email, dmca)`},
		{"route x subtype=phising", `t.rules:1: "phising" is not a subtype (one of intrusion, ddos, port_scan, other, web_content, non_copyright_ip, phishing, malware, spam_sent, spam_hosted, copyright)`},
		{"route x reporter_kind=gov", `t.rules:1: "gov" is not a reporter_kind (one of individual, organization, isp, cert, government)`},
		{"route x channel!=web", `t.rules:1: "web" is not a channel (one of api, form, xarf, csv, mail, legal)`},
		{"route x verdict=ours", `t.rules:1: "ours" is not a verdict (one of not_ours, unassigned, assigned)`},
		{"route x via=ses", `t.rules:1: "ses" is not a via (one of sending-service)`},
		{"route x service=S*S", `t.rules:1: invalid service "S*S" (letters, digits and . _ : / -, at most 128)`},
		{"route x region=" + strings.Repeat("a", 129), `t.rules:1: invalid region "` + strings.Repeat("a", 129) + `" (letters, digits and . _ : / -, at most 128)`},
		{"route x type=", `t.rules:1: empty value in "type="`},
		{"route x type=email,", `t.rules:1: empty value in "type=email,"`},
		{"route x type=email,email", `t.rules:1: type value "email" listed twice`},
		{"route x type=email,email,dmca,email", `t.rules:1: type value "email" listed twice`},
		{"route x service=SES,ses", `t.rules:1: service value "ses" listed twice`},
		{"route x type=email type=dmca", `t.rules:1: type given twice (list the values in one condition: type=a,b)`},
		{"route x type=email type!=dmca", `t.rules:1: type given twice (list the values in one condition: type=a,b)`},
		{"route x government", `t.rules:1: "government" is not a condition (key=value or key!=value)`},
		{"route x type=network subtype=phishing", `t.rules:1: subtype "phishing" is not a subtype of network (its subtypes: intrusion, ddos, port_scan, other)`},
		{"route x type=email,dmca subtype!=ddos", `t.rules:1: subtype "ddos" is not a subtype of email or dmca (its subtypes: spam_sent, spam_hosted, copyright)`},
		{"route type=dmca", `t.rules:1: missing lane: route LANE key=value ...`},
		{"route", `t.rules:1: missing lane: route LANE key=value ...`},
		{"route legal", `t.rules:1: route legal has no condition: a rule for every report is written default legal`},
		{"route Legal type=dmca", `t.rules:1: invalid lane "Legal" (lowercase letters, digits and '-', at most 64, e.g. email-abuse)`},
		{"route -x type=dmca", `t.rules:1: invalid lane "-x" (lowercase letters, digits and '-', at most 64, e.g. email-abuse)`},
		{"default email_abuse", `t.rules:1: invalid lane "email_abuse" (lowercase letters, digits and '-', at most 64, e.g. email-abuse)`},
		{"default", `t.rules:1: default needs a lane (default general)`},
		{"default legal type=dmca", `t.rules:1: default takes a lane only, not "type=dmca" (conditions belong on route lines)`},
		{"default general\n\ndefault legal", `t.rules:3: second default line (the first is line 1)`},
		{"default Legal\ndefault general", "t.rules:1: invalid lane \"Legal\" (lowercase letters, digits and '-', at most 64, e.g. email-abuse)\nt.rules:2: second default line (the first is line 1)"},
		{"route Legal", "t.rules:1: invalid lane \"Legal\" (lowercase letters, digits and '-', at most 64, e.g. email-abuse)\nt.rules:1: route LANE has no condition: a rule for every report is written default LANE"},
		{"route a type=email service=SES\nroute b service=ses type=email", `t.rules:2: same conditions as line 1, which comes first: this rule can never match`},
		{"route a type=email,dmca\nroute a type=dmca,email", `t.rules:2: same conditions as line 1, which comes first: this rule can never match`},
		{strings.Repeat("#", maxFileSize+1), `t.rules: larger than 1048576 bytes: not a rules file`},
	} {
		_, err := Parse("t.rules", strings.NewReader(tc.text))
		if err == nil {
			t.Errorf("%.40q: no error, want %s", tc.text, tc.want)
			continue
		}
		if err.Error() != tc.want {
			t.Errorf("%.40q:\n got %s\nwant %s", tc.text, err, tc.want)
		}
	}
}

// TestLargeFile parses the largest file Parse reads, one long condition:
// checking values for duplicates must not take quadratic time.
func TestLargeFile(t *testing.T) {
	var b strings.Builder
	b.WriteString("route x service=")
	for i := 0; b.Len() < maxFileSize-16; i++ {
		b.WriteString("s" + strconv.Itoa(i) + ",")
	}
	b.WriteString("last")
	if _, err := Parse("t.rules", strings.NewReader(b.String())); err != nil {
		t.Fatal(err)
	}
}

func TestAllErrorsAtOnce(t *testing.T) {
	text := `# a file with many mistakes
default general
route legal   reporter_kind=government
route Legal   reporter_kind=goverment
route copyright type=dmca
default legal
route email-abuse type=email servce=SES via=sending
route copyright   type=dmca
`
	_, err := Parse("routing.rules", strings.NewReader(text))
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("err = %T %v, want Errors", err, err)
	}
	want := `routing.rules:4: invalid lane "Legal" (lowercase letters, digits and '-', at most 64, e.g. email-abuse)
routing.rules:4: "goverment" is not a reporter_kind (one of individual, organization, isp, cert, government)
routing.rules:6: second default line (the first is line 2)
routing.rules:7: unknown key "servce" (one of type, subtype, reporter_kind, channel, service, region, verdict, via)
routing.rules:7: "sending" is not a via (one of sending-service)
routing.rules:8: same conditions as line 5, which comes first: this rule can never match`
	if err.Error() != want {
		t.Errorf("got:\n%v\nwant:\n%s", err, want)
	}
	if es[0].File != "routing.rules" || es[0].Line != 4 || !strings.HasPrefix(es[0].Msg, "invalid lane") {
		t.Errorf("es[0] = %+v", *es[0])
	}
}

// equal compares what routes: lanes and conditions, not line numbers, which
// String does not keep.
func equal(a, b *Rules) bool {
	if a.def.Lane != b.def.Lane || len(a.rules) != len(b.rules) {
		return false
	}
	for i := range a.rules {
		x, y := a.rules[i], b.rules[i]
		if x.Lane != y.Lane || x.Text != y.Text || condsText(x.conds) != condsText(y.conds) {
			return false
		}
	}
	return true
}

func TestRoundTrip(t *testing.T) {
	for _, text := range []string{
		defaultText,
		"",
		"default legal",
		"route z-1 service=ses,EC2 region!=eu-west-3,us-east-1 verdict=not_ours\n# c\nroute a subtype!=ddos channel=csv,mail via!=sending-service\n",
		"route sec type=content,network subtype=phishing,malware,intrusion\ndefault triage\n",
	} {
		r := parse(t, text)
		s := r.String()
		r2, err := Parse("t.rules", strings.NewReader(s))
		if err != nil {
			t.Fatalf("Parse(String()) of %q:\n%v\n%s", text, err, s)
		}
		if !equal(r, r2) || r2.String() != s {
			t.Errorf("round trip of %q:\n%s\n%s", text, s, r2)
		}
	}
}

func TestLoad(t *testing.T) {
	r, err := Load("")
	if err != nil || r != Default() {
		t.Fatalf("Load(\"\") = %v, %v; want Default()", r, err)
	}
	dir := t.TempDir()
	if _, err := Load(filepath.Join(dir, "none.rules")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	good := filepath.Join(dir, "good.rules")
	os.WriteFile(good, []byte("default triage\nroute legal reporter_kind=government\n"), 0o644)
	r, err = Load(good)
	if err != nil {
		t.Fatal(err)
	}
	// A file replaces the defaults: no copyright rule here.
	if lane, rule := r.Route(Input{Type: "dmca"}); lane != "triage" || rule.File != good || rule.Line != 1 {
		t.Errorf("Route = %s %v", lane, rule)
	}
	bad := filepath.Join(dir, "bad.rules")
	os.WriteFile(bad, []byte("default triage\nroute legal\n"), 0o644)
	if _, err := Load(bad); err == nil || !strings.HasPrefix(err.Error(), bad+":2: ") {
		t.Errorf("bad file: %v", err)
	}
}

func TestNilRules(t *testing.T) {
	var r *Rules
	if lane, _ := r.Route(Input{Type: "dmca"}); lane != report.LaneCopyright {
		t.Errorf("nil Route = %s", lane)
	}
	if r.String() != Default().String() || len(r.Lanes()) != 4 {
		t.Error("nil Rules is not the default")
	}
}
