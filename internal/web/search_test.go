package web

import (
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"abusedesk/internal/store"
)

func TestSearchFilter(t *testing.T) {
	for q, check := range map[string]func(store.CaseFilter) bool{
		"C-2Q84Q0ENXZAJDZ":        func(f store.CaseFilter) bool { return f.Case == "C-2Q84Q0ENXZAJDZ" },
		"R-2Q84Q0ENXZAJDZ":        func(f store.CaseFilter) bool { return f.Report == "R-2Q84Q0ENXZAJDZ" },
		" 203.0.113.7 ":           func(f store.CaseFilter) bool { return f.IP == netip.MustParseAddr("203.0.113.7") },
		"::ffff:203.0.113.7":      func(f store.CaseFilter) bool { return f.IP == netip.MustParseAddr("203.0.113.7") },
		"[2001:db8::1]":           func(f store.CaseFilter) bool { return f.IP == netip.MustParseAddr("2001:db8::1") },
		"203.0.113.9/24":          func(f store.CaseFilter) bool { return f.Prefix == netip.MustParsePrefix("203.0.113.0/24") },
		"https://x.example/a?b=1": func(f store.CaseFilter) bool { return f.URL == "https://x.example/a?b=1" },
		"Soc@Example.org":         func(f store.CaseFilter) bool { return f.Reporter == "soc@example.org" },
		"Bucket.Example-CDN.net.": func(f store.CaseFilter) bool { return f.Host == "bucket.example-cdn.net" },
		"acct-1001":               func(f store.CaseFilter) bool { return f.Account == "acct-1001" },
	} {
		f, err := searchFilter(q)
		if err != nil || !check(f) || f.Status != "all" || f.Sort != store.SortNewest {
			t.Errorf("searchFilter(%q) = %+v, %v", q, f, err)
		}
	}
	for _, q := range []string{"", "10.0.0.0/33", "http://", "not a/prefix"} {
		if _, err := searchFilter(q); err == nil {
			t.Errorf("searchFilter(%q) accepted", q)
		}
	}
}

func TestQueueFilterErrors(t *testing.T) {
	for raw, field := range map[string]string{"status=later": "status", "sort=random": "sort", "priority=P9": "priority",
		"ip=300.1.1.1": "ip", "cidr=1.2.3.4/40": "cidr", "limit=0": "limit"} {
		v, _ := url.ParseQuery(raw)
		if _, err := queueFilter(v); err == nil || !strings.HasPrefix(err.Error(), field+":") {
			t.Errorf("queueFilter(%s) = %v, want an error naming %s", raw, err, field)
		}
	}
}

func FuzzSearchFilter(f *testing.F) {
	for _, s := range []string{"C-2Q84Q0ENXZAJDZ", "203.0.113.7", "10.0.0.0/8", "https://a.example/", "a@b", "host.example", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		fl, err := searchFilter(q)
		if err != nil {
			return
		}
		if fl.Prefix.IsValid() && fl.Prefix != fl.Prefix.Masked() {
			t.Errorf("%q: prefix %v not masked", q, fl.Prefix)
		}
		if fl.IP.IsValid() && fl.IP.Is4In6() {
			t.Errorf("%q: mapped address %v kept mapped", q, fl.IP)
		}
		v := url.Values{"q": {q}, "lane": {"general"}}
		if _, err := queueFilter(v); err != nil {
			t.Errorf("%q: accepted alone, refused in the queue: %v", q, err)
		}
	})
}

func FuzzParseExtension(f *testing.F) {
	for _, s := range []string{"24h", "2d", "36", "90m", "-1h", "99999999999d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		parseExtension(s) // must not panic; the limits are the cases package's
	})
}

func TestDetailLines(t *testing.T) {
	got := detailLines(map[string]any{
		"status":   map[string]any{"from": "new", "to": "customer_notified"},
		"deadline": map[string]any{"from": nil, "to": "2026-11-25T22:51:33.555499314Z"},
		"reason":   "response deadline passed",
	})
	want := []string{"deadline: — → 2026-11-25 22:51 UTC", "reason: response deadline passed", "status: new → customer_notified"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("detailLines = %q, want %q", got, want)
	}
}
