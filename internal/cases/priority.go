package cases

import (
	"math"
	"slices"
	"time"

	"abusedesk/internal/report"
)

// Score is a case's priority, 0..100:
//
//	score = clamp(0, 100, base + volume(reports, 6, 20) + volume(reporters, 8, 24) + bump)
//	base  = max(category weight, weight of each subtype seen)
//	volume(n, k, cap) = min(cap, round(k·log2(1+n)))
//	bump  = EscalationBump when the case has been escalated, else 0
//
// Weights: ddos 60 while ongoing (LastIncident less than an hour from now,
// either side, to tolerate clock skew) and 35 once over; malware, phishing
// 45; intrusion, spam_sent, copyright 25; spam_hosted, web_content 20;
// non_copyright_ip 15; port_scan, other 10. Categories weigh as their
// lightest subtype (network 10, content 15, email 20, dmca 25), so that
// learning a subtype never lowers the score. An unknown subtype or category
// weighs 10.
//
// The logarithms make the tenth report add less than the second (a botnet
// reported by one scanner 500 times is not 500 times worse), and distinct
// reporters weigh more than reports because independent confirmation is
// what makes a report credible. With the default thresholds (70/50/30): an
// ongoing DDoS with one report is P1 (60+6+8 = 74); malware P2 (59); an
// intrusion P3 (39), a port scan P4 (24) until several reporters confirm it.
//
// The score reads now only for "ongoing", so a stored Priority ages: the
// store recomputes it when it lists cases if that matters to it.
func (p Policy) Score(c Case, now time.Time) int {
	base := weightOf(categoryWeight, c.Category)
	for _, s := range c.Subtypes {
		w := weightOf(subtypeWeight, s)
		if s == "ddos" && ongoing(c.LastIncident, now) {
			w = ongoingDDoSWeight
		}
		base = max(base, w)
	}
	score := base + volume(c.Reports, 6, 20) + volume(c.Reporters, 8, 24)
	if c.Escalated {
		score += max(p.EscalationBump, 0)
	}
	return min(max(score, 0), 100)
}

const (
	ongoingDDoSWeight = 60
	unknownWeight     = 10
	ongoingWindow     = time.Hour
)

var subtypeWeight = map[string]int{
	"ddos":    35,
	"malware": 45, "phishing": 45,
	"intrusion": 25, "spam_sent": 25, "copyright": 25,
	"spam_hosted": 20, "web_content": 20,
	"non_copyright_ip": 15,
	"port_scan":        10, "other": 10,
}

var categoryWeight = map[string]int{
	report.TypeNetwork: 10, report.TypeContent: 15, report.TypeEmail: 20, report.TypeDMCA: 25,
}

func weightOf(m map[string]int, k string) int {
	if w, ok := m[k]; ok {
		return w
	}
	return unknownWeight
}

func ongoing(last, now time.Time) bool {
	if last.IsZero() {
		return false
	}
	age := now.Sub(last)
	return age < ongoingWindow && age > -ongoingWindow
}

func volume(n, k, limit int) int {
	if n <= 0 {
		return 0
	}
	return min(limit, int(math.Round(float64(k)*math.Log2(1+float64(n)))))
}

// Level maps a score to P1..P4 (1 is the most urgent) by Thresholds.
func (p Policy) Level(score int) int {
	t := p.thresholds()
	if i := slices.IndexFunc(t[:], func(cut int) bool { return score >= cut }); i >= 0 {
		return i + 1
	}
	return 4
}
