package cases

import (
	"maps"
	"strings"
	"testing"
	"time"
)

func TestParseDurations(t *testing.T) {
	for in, want := range map[string]map[string]time.Duration{
		"":                                   {},
		"  ":                                 {},
		"network=24h":                        {"network": 24 * time.Hour},
		"network=24h,email=2d,dmca=12h":      {"network": 24 * time.Hour, "email": 48 * time.Hour, "dmca": 12 * time.Hour},
		" Content = 1d12h , dmca=90m":        {"content": 36 * time.Hour, "dmca": 90 * time.Minute},
		"email=365d":                         {"email": 365 * 24 * time.Hour},
		"network=30s":                        {"network": 30 * time.Second},
		"network=1d0h,email=0d5m,content=7d": {"network": 24 * time.Hour, "email": 5 * time.Minute, "content": 7 * 24 * time.Hour},
	} {
		got, err := ParseDurations(in)
		if err != nil || !maps.Equal(got, want) {
			t.Errorf("ParseDurations(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
}

func TestParseDurationsErrors(t *testing.T) {
	for in, wantInErr := range map[string][]string{
		"network":                    {"element 1", "category=duration"},
		"network=24h,,dmca=1h":       {"element 2", "empty"},
		"network=24h,":               {"element 2", "empty"},
		"network=24h,legal=1h":       {"element 2", `"legal=1h"`, "unknown category"},
		"=1h":                        {"element 1", "unknown category"},
		"network=24h,network=12h":    {"element 2", "twice"},
		"email=2x":                   {"element 1", "bad duration"},
		"email=":                     {"element 1", "missing"},
		"email=0h":                   {"element 1", "positive"},
		"email=0d":                   {"element 1", "positive"},
		"email=-1h":                  {"element 1", "negative"},
		"email=-1d":                  {"element 1", "bad duration"},
		"email=1.5d":                 {"element 1", "bad duration"},
		"email=d":                    {"element 1", "bad duration"},
		"email=366d":                 {"element 1", "365 days"},
		"email=9999999999999999999d": {"element 1", "365 days"},
		"email=9000h":                {"element 1", "365 days"},
		"email=365d1h":               {"element 1", "365 days"},
		"email=1d-5h":                {"element 1", "negative"},
		"dmca=1h,email=2d2d":         {"element 2", "bad duration"},
	} {
		got, err := ParseDurations(in)
		if err == nil {
			t.Errorf("ParseDurations(%q) = %v; want an error", in, got)
			continue
		}
		for _, w := range wantInErr {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("ParseDurations(%q): %q does not mention %q", in, err, w)
			}
		}
	}
}

func TestFormatDurations(t *testing.T) {
	m := map[string]time.Duration{"network": 48 * time.Hour, "dmca": 90 * time.Minute}
	if got := FormatDurations(m); got != "dmca=1h30m0s,network=2d" {
		t.Errorf("FormatDurations = %q", got)
	}
	if got := FormatDurations(DefaultPolicy().Triage); got != "content=2d,dmca=1d,email=2d,network=1d" {
		t.Errorf("defaults: %q", got)
	}
}

func TestParseThresholds(t *testing.T) {
	for in, want := range map[string][3]int{"70,50,30": {70, 50, 30}, " 100 , 2 ,1": {100, 2, 1}} {
		if got, err := ParseThresholds(in); err != nil || got != want {
			t.Errorf("ParseThresholds(%q) = %v, %v", in, got, err)
		}
	}
	for in, wantInErr := range map[string]string{
		"":            "three",
		"70,50":       "three",
		"70,50,30,10": "three",
		"70,x,30":     "threshold 2",
		"70,50,0":     "threshold 3",
		"101,50,30":   "threshold 1",
		"70,70,30":    "threshold 2",
		"50,70,30":    "threshold 2",
		"70,50,60":    "threshold 3",
		"70,50,-30":   "threshold 3",
		"70,,30":      "threshold 2",
	} {
		if got, err := ParseThresholds(in); err == nil || !strings.Contains(err.Error(), wantInErr) {
			t.Errorf("ParseThresholds(%q) = %v, %v; want an error naming %q", in, got, err, wantInErr)
		}
	}
}

// FuzzParseDurations: never panics; what it accepts is within bounds, names
// only known categories, and survives a round trip through FormatDurations.
func FuzzParseDurations(f *testing.F) {
	for _, s := range []string{"", "network=24h,email=2d,dmca=12h", "content=1d12h", "email=2x", "=,=", "dmca=9999999999999999999d", "network=1d-5h", "email=0d5m"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseDurations(s)
		if err != nil {
			if m != nil {
				t.Fatalf("error with a map: %v", m)
			}
			return
		}
		for k, d := range m {
			if k != "network" && k != "email" && k != "content" && k != "dmca" {
				t.Fatalf("accepted category %q", k)
			}
			if d <= 0 || d > maxParsedDuration {
				t.Fatalf("accepted %s=%s", k, d)
			}
		}
		again, err := ParseDurations(FormatDurations(m))
		if err != nil || !maps.Equal(again, m) {
			t.Fatalf("round trip of %v via %q: %v, %v", m, FormatDurations(m), again, err)
		}
	})
}
