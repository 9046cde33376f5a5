package cases

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"abusedesk/internal/report"
)

// Policy holds the numbers a provider tunes. Start from DefaultPolicy; zero
// durations and zero thresholds fall back to the defaults, so a Policy that
// is only partly filled never yields a case that is due at once.
type Policy struct {
	// Triage is, per category, the time for the desk's move when the ball is
	// in its court: a new or reopened case, a customer's answer, an escalation.
	Triage map[string]time.Duration
	// Response is, per category, the time the customer has after a notice.
	Response map[string]time.Duration
	// Fallback serves categories missing from Triage or Response.
	Fallback time.Duration
	// MaxExtension bounds one extension, so a deadline is pushed in steps a
	// reviewer can see in the audit trail rather than once into next year.
	MaxExtension time.Duration
	// Thresholds are the lowest scores of P1, P2 and P3; below the last is P4.
	Thresholds [3]int
	// EscalationBump is added to the score of an escalated case.
	EscalationBump int
}

const (
	day                 = 24 * time.Hour
	defaultFallback     = 72 * time.Hour
	defaultMaxExtension = 30 * day
	// maxParsedDuration keeps configured durations sane (and far from overflow).
	maxParsedDuration = 365 * day
)

var defaultThresholds = [3]int{70, 50, 30}

// DefaultPolicy: network and DMCA abuse is answered within a day (attacks
// are ongoing; a DMCA notice needs "expeditious" action to keep the safe
// harbour), mail and content within two.
func DefaultPolicy() Policy {
	return Policy{
		Triage:         map[string]time.Duration{report.TypeNetwork: 24 * time.Hour, report.TypeEmail: 48 * time.Hour, report.TypeContent: 48 * time.Hour, report.TypeDMCA: 24 * time.Hour},
		Response:       map[string]time.Duration{report.TypeNetwork: 24 * time.Hour, report.TypeEmail: 48 * time.Hour, report.TypeContent: 48 * time.Hour, report.TypeDMCA: 24 * time.Hour},
		Fallback:       defaultFallback,
		MaxExtension:   defaultMaxExtension,
		Thresholds:     defaultThresholds,
		EscalationBump: 25,
	}
}

// TriageFor is the desk's time for category.
func (p Policy) TriageFor(category string) time.Duration { return p.lookup(p.Triage, category) }

// ResponseFor is the customer's time for category.
func (p Policy) ResponseFor(category string) time.Duration { return p.lookup(p.Response, category) }

func (p Policy) lookup(m map[string]time.Duration, category string) time.Duration {
	if d := m[category]; d > 0 {
		return d
	}
	if p.Fallback > 0 {
		return p.Fallback
	}
	return defaultFallback
}

func (p Policy) maxExtension() time.Duration {
	if p.MaxExtension > 0 {
		return p.MaxExtension
	}
	return defaultMaxExtension
}

func (p Policy) thresholds() [3]int {
	if p.Thresholds == [3]int{} {
		return defaultThresholds
	}
	return p.Thresholds
}

// ParseDurations reads per-category durations such as
// "network=24h,email=2d,dmca=12h": Go durations, plus a leading whole number
// of days ("2d", "1d12h"). Only the four report types are accepted, so a typo
// in a category is an error rather than a setting silently ignored. The empty
// string is an empty map (no overrides).
func ParseDurations(s string) (map[string]time.Duration, error) {
	m := map[string]time.Duration{}
	if strings.TrimSpace(s) == "" {
		return m, nil
	}
	for i, el := range strings.Split(s, ",") {
		bad := func(format string, args ...any) error {
			return fmt.Errorf("element %d %q: %s", i+1, el, fmt.Sprintf(format, args...))
		}
		name, val, ok := strings.Cut(el, "=")
		if !ok {
			if strings.TrimSpace(el) == "" {
				return nil, bad("empty")
			}
			return nil, bad("want category=duration")
		}
		name = strings.ToLower(strings.TrimSpace(name))
		if !slices.Contains(report.Types, name) {
			return nil, bad("unknown category %q (want one of %s)", name, strings.Join(report.Types, ", "))
		}
		if _, dup := m[name]; dup {
			return nil, bad("category %s given twice", name)
		}
		d, err := parseDuration(strings.TrimSpace(val))
		if err != nil {
			return nil, bad("%v", err)
		}
		m[name] = d
	}
	return m, nil
}

// parseDuration is time.ParseDuration with an optional leading "<n>d".
func parseDuration(s string) (time.Duration, error) {
	const maxDays = int(maxParsedDuration / day)
	if s == "" {
		return 0, fmt.Errorf("missing duration")
	}
	var d time.Duration
	rest := s
	if i := strings.IndexByte(s, 'd'); i > 0 && isDigits(s[:i]) {
		n, err := strconv.Atoi(s[:i])
		if err != nil || n > maxDays {
			return 0, fmt.Errorf("duration %q is longer than %d days", s, maxDays)
		}
		d = time.Duration(n) * day
		rest = s[i+1:]
	}
	if rest != "" {
		r, err := time.ParseDuration(rest)
		if err != nil {
			return 0, fmt.Errorf("bad duration %q (want e.g. 12h, 90m, 2d)", s)
		}
		if r < 0 {
			return 0, fmt.Errorf("duration %q is negative", s)
		}
		if r > maxParsedDuration {
			return 0, fmt.Errorf("duration %q is longer than %d days", s, maxDays)
		}
		d += r // both parts are at most a year: no overflow
	}
	if d <= 0 {
		return 0, fmt.Errorf("duration %q must be positive", s)
	}
	if d > maxParsedDuration {
		return 0, fmt.Errorf("duration %q is longer than %d days", s, maxDays)
	}
	return d, nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// FormatDurations is the inverse of ParseDurations (categories sorted,
// whole days written as "Nd"), for showing the configuration in force.
func FormatDurations(m map[string]time.Duration) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		d := m[k]
		v := d.String()
		if d > 0 && d%day == 0 {
			v = strconv.FormatInt(int64(d/day), 10) + "d"
		}
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, ",")
}

// ParseThresholds reads the P1, P2, P3 cut-offs, e.g. "70,50,30": three
// scores in 1..100, strictly decreasing (otherwise a level could never be
// reached).
func ParseThresholds(s string) ([3]int, error) {
	var t [3]int
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return t, fmt.Errorf("thresholds %q: want three scores for P1,P2,P3 such as 70,50,30", s)
	}
	for i, p := range parts {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil {
			return t, fmt.Errorf("threshold %d (P%d) %q: not a whole number", i+1, i+1, p)
		}
		if n < 1 || n > 100 {
			return t, fmt.Errorf("threshold %d (P%d) %d: want 1..100", i+1, i+1, n)
		}
		if i > 0 && n >= t[i-1] {
			return t, fmt.Errorf("threshold %d (P%d) %d: must be below P%d's %d", i+1, i+1, n, i, t[i-1])
		}
		t[i] = n
	}
	return t, nil
}
