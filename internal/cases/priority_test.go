package cases

import (
	"testing"
	"time"

	"abusedesk/internal/report"
)

func TestScoreMoreReportsNeverLower(t *testing.T) {
	p := DefaultPolicy()
	for _, cat := range report.Types {
		for _, sub := range append([]string{""}, report.Subtypes[cat]...) {
			for _, esc := range []bool{false, true} {
				c := Case{Category: cat, Escalated: esc, LastIncident: t0}
				if sub != "" {
					c.Subtypes = []string{sub}
				}
				prev := p.Score(c, t0)
				for n := 1; n <= 2000; n++ {
					c.Reports = n
					c.Reporters = min(n, 1+n/3)
					s := p.Score(c, t0)
					if s < prev || s < 0 || s > 100 {
						t.Fatalf("%s/%s esc=%v: %d reports score %d after %d", cat, sub, esc, n, s, prev)
					}
					prev = s
				}
			}
		}
	}
}

func TestScoreMoreReportersNeverLower(t *testing.T) {
	p := DefaultPolicy()
	c := Case{Category: "network", Subtypes: []string{"intrusion"}, Reports: 5000}
	prev := p.Score(c, t0)
	for n := 1; n <= 5000; n++ {
		c.Reporters = n
		if s := p.Score(c, t0); s < prev {
			t.Fatalf("%d reporters: %d < %d", n, s, prev)
		} else {
			prev = s
		}
	}
}

// Learning another subtype never lowers the score: every category weighs at
// most its lightest subtype and the base is a maximum.
func TestScoreSubtypeNeverLower(t *testing.T) {
	p := DefaultPolicy()
	for _, cat := range report.Types {
		base := Case{Category: cat, Reports: 1, Reporters: 1, LastIncident: t0}
		for _, sub := range report.Subtypes[cat] {
			with := base
			with.Subtypes = []string{sub}
			if p.Score(with, t0) < p.Score(base, t0) {
				t.Errorf("%s: subtype %s lowers the score", cat, sub)
			}
		}
	}
}

func TestScoreEscalationRaises(t *testing.T) {
	p := DefaultPolicy()
	for _, sub := range []string{"port_scan", "intrusion", "malware", "ddos"} {
		c := Case{Category: "network", Subtypes: []string{sub}, Reports: 1, Reporters: 1}
		e := c
		e.Escalated = true
		if p.Score(e, t0) <= p.Score(c, t0) {
			t.Errorf("%s: escalation does not raise %d", sub, p.Score(c, t0))
		}
	}
	// A negative bump is taken as none rather than lowering escalated cases.
	p.EscalationBump = -50
	c := Case{Category: "network", Reports: 1, Reporters: 1}
	e := c
	e.Escalated = true
	if p.Score(e, t0) < p.Score(c, t0) {
		t.Error("negative bump lowers the score")
	}
}

func TestScoreOrder(t *testing.T) {
	p := DefaultPolicy()
	mk := func(sub string, last time.Time) Case {
		return Case{Category: "network", Subtypes: []string{sub}, Reports: 3, Reporters: 2, LastIncident: last}
	}
	ongoing := p.Score(mk("ddos", t0.Add(-10*time.Minute)), t0)
	skewed := p.Score(mk("ddos", t0.Add(10*time.Minute)), t0)
	old := p.Score(mk("ddos", t0.Add(-3*time.Hour)), t0)
	never := p.Score(mk("ddos", time.Time{}), t0)
	scan := p.Score(mk("port_scan", t0), t0)
	if !(ongoing > old && old > scan) {
		t.Errorf("ongoing DDoS %d, old DDoS %d, port scan %d", ongoing, old, scan)
	}
	if skewed != ongoing || never != old {
		t.Errorf("clock skew %d, no time %d", skewed, never)
	}
	if got := p.Level(p.Score(Case{Category: "network", Subtypes: []string{"ddos"}, Reports: 1, Reporters: 1, LastIncident: t0}, t0)); got != 1 {
		t.Errorf("a fresh ongoing DDoS is P%d", got)
	}
	if got := p.Level(p.Score(Case{Category: "network", Subtypes: []string{"port_scan"}, Reports: 1, Reporters: 1}, t0)); got != 4 {
		t.Errorf("a single port scan is P%d", got)
	}
	malware := p.Score(Case{Category: "content", Subtypes: []string{"malware"}, Reports: 1, Reporters: 1}, t0)
	if malware <= p.Score(Case{Category: "network", Subtypes: []string{"intrusion"}, Reports: 1, Reporters: 1}, t0) {
		t.Error("malware does not outrank intrusion")
	}
}

func TestScoreBounds(t *testing.T) {
	p := DefaultPolicy()
	p.EscalationBump = 1000
	c := Case{Category: "network", Subtypes: []string{"ddos"}, Reports: 1 << 40, Reporters: 1 << 40, LastIncident: t0, Escalated: true}
	if s := p.Score(c, t0); s != 100 {
		t.Errorf("max score %d", s)
	}
	if s := p.Score(Case{Reports: -5, Reporters: -5}, t0); s < 0 || s > 100 {
		t.Errorf("score %d", s)
	}
}

func TestLevel(t *testing.T) {
	p := DefaultPolicy()
	for score, want := range map[int]int{100: 1, 70: 1, 69: 2, 50: 2, 49: 3, 30: 3, 29: 4, 0: 4} {
		if got := p.Level(score); got != want {
			t.Errorf("Level(%d) = %d; want %d", score, got, want)
		}
	}
	p.Thresholds = [3]int{90, 60, 10}
	if p.Level(89) != 2 || p.Level(10) != 3 || p.Level(9) != 4 {
		t.Error("custom thresholds ignored")
	}
	if (Policy{}).Level(70) != 1 || (Policy{}).Level(29) != 4 {
		t.Error("zero Policy does not use the default thresholds")
	}
}

func TestZeroPolicyDurations(t *testing.T) {
	var p Policy
	if p.TriageFor("network") != 72*time.Hour || p.ResponseFor("x") != 72*time.Hour || p.maxExtension() != 30*24*time.Hour {
		t.Error("zero Policy durations do not fall back")
	}
	d := DefaultPolicy()
	d.Triage["network"] = 0 // a zero entry is no entry, not "due at once"
	if d.TriageFor("network") != 72*time.Hour {
		t.Errorf("zero entry: %s", d.TriageFor("network"))
	}
}
