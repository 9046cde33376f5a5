package routing

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParse: Parse never panics; every error names a line of the input; what
// parses prints canonically and parses back to the same rules.
func FuzzParse(f *testing.F) {
	f.Add(defaultText)
	f.Add("default general\nroute legal reporter_kind=government\nroute copyright type=dmca\n")
	f.Add("route z service!=ses,EC2 region=eu-west-3 verdict!=assigned,unassigned via=sending-service\n")
	f.Add("route x type=content,network subtype=phishing,intrusion channel=mail # c\r\n")
	f.Add("\ufeffdefault triage\n\tdefault legal\nroute legal\nroute type=dmca\nroute x type=email type=dmca\n")
	f.Add("route a type=email,dmca\nroute a type=dmca,email\nroute b =x y\n")
	inputs := []Input{
		{},
		{Type: "dmca", Subtype: "copyright", ReporterKind: "government", Channel: "legal"},
		{Type: "email", Subtype: "spam_sent", Services: []string{"SES", "ec2"}, Regions: []string{"eu-west-3"}, Verdicts: []string{"assigned"}, ViaSendingService: true},
	}
	f.Fuzz(func(t *testing.T, text string) {
		r, err := Parse("f", strings.NewReader(text))
		if err != nil {
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("error is not Errors: %T %v", err, err)
			}
			lines := strings.Count(text, "\n") + 1
			for _, e := range es {
				if e.Line < 0 || e.Line > lines || e.Msg == "" || e.File != "f" {
					t.Fatalf("bad error %+v for %d lines", *e, lines)
				}
			}
			return
		}
		s := r.String()
		r2, err := Parse("f", strings.NewReader(s))
		if err != nil {
			t.Fatalf("canonical text does not parse:\n%s\n%v", s, err)
		}
		if !equal(r, r2) || r2.String() != s {
			t.Fatalf("round trip differs:\n%s\n%s", s, r2)
		}
		for _, in := range inputs {
			l1, ru1 := r.Route(in)
			l2, ru2 := r2.Route(in)
			if l1 != l2 || ru1.Text != ru2.Text || l1 != ru1.Lane {
				t.Fatalf("%+v routes to %s (%v) and after round trip %s (%v)", in, l1, ru1, l2, ru2)
			}
		}
	})
}
