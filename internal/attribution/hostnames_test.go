package attribution

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"
)

func day(d int) time.Time { return time.Date(2026, 1, d, 0, 0, 0, 0, time.UTC) }

func TestHostLookup(t *testing.T) {
	hs := []HostAssignment{
		{Host: "media.example-cdn.net", From: day(1), Resource: 1},              // 0
		{Host: "*.example-cdn.net", From: day(1), To: day(20), Resource: 2},     // 1
		{Host: "*.eu.example-cdn.net", From: day(10), To: day(15), Resource: 3}, // 2
		{Host: "Shop.Example.ORG.", From: day(1), To: day(5), Resource: 4},      // 3
		{Host: "shop.example.org", From: day(5), Resource: 5},                   // 4: follows 3, no overlap
		{Host: "old.example-cdn.net", From: day(1), To: day(3), Resource: 6},    // 5
		{Host: "*.example-cdn.net", From: day(19), To: day(25), Resource: 7},    // 6: overlaps 1
		{Host: "*.a.example", From: day(1), Resource: 8},                        // 7
		{Host: "x.*.example", From: day(1), Resource: 9},                        // 8: invalid
		{Host: "*.com", From: day(1), Resource: 9},                              // 9: invalid
		{Host: "192.0.2.1", From: day(1), Resource: 9},                          // 10: invalid
		{Host: "b.example", From: day(2), To: day(2), Resource: 9},              // 11: empty
		{Host: "*.a-b.example", From: day(1), Resource: 10},                     // 12
		{Host: "Ünïcode.example", From: day(1), Resource: 9},                    // 13: invalid
		{Host: "xn--nicode-2ya4c.example", From: day(1), Resource: 11},          // 14
	}
	hx, cs := BuildHosts(hs)
	var got []string
	for _, c := range cs {
		got = append(got, fmt.Sprintf("%d,%d", c.A, c.B))
	}
	if want := "1,6 8,-1 9,-1 10,-1 11,-1 13,-1"; strings.Join(got, " ") != want {
		t.Errorf("conflicts %q, want %q (%v)", strings.Join(got, " "), want, cs)
	}
	cases := []struct {
		host    string
		at      time.Time
		res     uint32
		matched string
	}{
		{"media.example-cdn.net", day(2), 1, "media.example-cdn.net"},
		{"MEDIA.example-cdn.net.", day(30), 1, "media.example-cdn.net"},
		{"media.example-cdn.net", day(1).Add(-time.Second), 0, ""}, // before from
		{"x.example-cdn.net", day(2), 0, ""},                       // wildcard lines 1 and 6 conflict: both out
		{"example-cdn.net", day(2), 0, ""},                         // a wildcard never matches its bare suffix
		{"img.eu.example-cdn.net", day(10), 3, "*.eu.example-cdn.net"},
		{"a.b.eu.example-cdn.net", day(14), 3, "*.eu.example-cdn.net"},
		{"img.eu.example-cdn.net", day(15), 0, ""}, // [from, to): to excluded
		{"eu.example-cdn.net", day(12), 0, ""},
		{"shop.example.org", day(4), 4, "shop.example.org"},
		{"shop.example.org", day(5), 5, "shop.example.org"},
		{"old.example-cdn.net", day(4), 0, ""},
		{"x.y.a.example", day(4), 8, "*.a.example"},
		{"a.example", day(4), 0, ""},
		{"q.a-b.example", day(4), 10, "*.a-b.example"},
		{"xn--nicode-2ya4c.example", day(4), 11, "xn--nicode-2ya4c.example"},
		{"", day(4), 0, ""},
		{".", day(4), 0, ""},
	}
	for _, c := range cases {
		r, m, ok := hx.Lookup(c.host, c.at)
		if ok != (c.matched != "") || r != c.res || m != c.matched {
			t.Errorf("Lookup(%q, %s) = %d %q %v, want %d %q", c.host, c.at, r, m, ok, c.res, c.matched)
		}
	}
	var nilIx *HostIndex
	if _, _, ok := nilIx.Lookup("a.b", day(1)); ok {
		t.Error("nil index found something")
	}
}

// A more specific pattern not assigned at t does not hide a wider one that was.
func TestHostFallback(t *testing.T) {
	hx, cs := BuildHosts([]HostAssignment{
		{Host: "img.eu.cdn.example", From: day(1), To: day(3), Resource: 1},
		{Host: "*.eu.cdn.example", From: day(5), To: day(7), Resource: 2},
		{Host: "*.cdn.example", Resource: 3}, // since always, still assigned
	})
	if len(cs) != 0 {
		t.Fatal(cs)
	}
	for _, c := range []struct {
		at      time.Time
		res     uint32
		matched string
	}{
		{day(2), 1, "img.eu.cdn.example"},
		{day(4), 3, "*.cdn.example"},
		{day(6), 2, "*.eu.cdn.example"},
		{time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), 3, "*.cdn.example"},
		{time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC), 3, "*.cdn.example"},
	} {
		r, m, ok := hx.Lookup("img.eu.cdn.example", c.at)
		if !ok || r != c.res || m != c.matched {
			t.Errorf("at %s: %d %q %v, want %d %q", c.at, r, m, ok, c.res, c.matched)
		}
	}
}

func TestHostOfURL(t *testing.T) {
	for _, c := range []struct {
		url, host string
	}{
		{"https://Media.Example-CDN.net./a/b?c#d", "media.example-cdn.net"},
		{"  http://user:pw@shop.example.org:8080/x  ", "shop.example.org"},
		{"HTTP://shop.example.org", "shop.example.org"},
		{"http://192.0.2.1/phish", "192.0.2.1"},
		{"http://[2001:DB8::1]:80/", "2001:db8::1"},
		{"http://[::ffff:192.0.2.1]/", "192.0.2.1"},
		{"http://[fe80::1%25eth0]/", "fe80::1"},
		{"http://example.com:80@evil.example/", "evil.example"},
		{"ftp://files.example.org/", ""},
		{"//shop.example.org/", ""},
		{"shop.example.org/path", ""},
		{"http:///path", ""},
		{"http://exa mple.org/", ""},
		{"http://ex_am-ple.org/", "ex_am-ple.org"},
		{"http://-bad.org/", ""},
		{"javascript:alert(1)", ""},
		{"http://" + strings.Repeat("a", 8200) + ".org/", ""},
		{"http://%41.example/", ""},
		{"http://bücher.example/", ""},
	} {
		h, ok := HostOfURL(c.url)
		if ok != (c.host != "") || h != c.host {
			t.Errorf("HostOfURL(%.40q) = %q %v, want %q", c.url, h, ok, c.host)
		}
	}
}

// The model: a linear scan over the host assignments, from the rules in
// hostnames.go's comment (exact beats wildcard, longer wildcard beats
// shorter, the most specific pattern assigned at t wins, overlapping
// assignments of one pattern are both out).
func TestHostIndexModel(t *testing.T) {
	labels := []string{"a", "b", "cdn", "Eu", "x-y"}
	genName := func(t *rapid.T, label string, minLabels int) string {
		n := rapid.IntRange(minLabels, 4).Draw(t, label+"n")
		parts := make([]string, n)
		for i := range parts {
			parts[i] = rapid.SampledFrom(labels).Draw(t, label+"l")
		}
		return strings.Join(parts, ".")
	}
	genTime := func(t *rapid.T, label string) time.Time {
		if rapid.IntRange(0, 5).Draw(t, label+"zero") == 0 {
			return time.Time{}
		}
		return day(1).Add(time.Duration(rapid.IntRange(0, 10).Draw(t, label)) * time.Hour)
	}
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 30).Draw(t, "n")
		hs := make([]HostAssignment, n)
		for i := range hs {
			h := genName(t, "h", 1)
			if rapid.Bool().Draw(t, "wild") {
				h = "*." + genName(t, "w", 2)
			}
			if rapid.Bool().Draw(t, "dot") {
				h += "."
			}
			hs[i] = HostAssignment{Host: h, From: genTime(t, "from"), To: genTime(t, "to"), Resource: uint32(i)}
		}
		hx, cs := BuildHosts(hs)

		norm := func(s string) string { return strings.ToLower(strings.TrimSuffix(s, ".")) }
		valid := func(h HostAssignment) bool {
			p := norm(h.Host)
			if s, ok := strings.CutPrefix(p, "*."); ok && !strings.Contains(s, ".") {
				return false
			}
			return h.From.IsZero() || h.To.IsZero() || h.To.After(h.From)
		}
		overlap := func(a, b HostAssignment) bool {
			lt := func(from, to time.Time) bool { return from.IsZero() || to.IsZero() || from.Before(to) }
			return lt(a.From, b.To) && lt(b.From, a.To)
		}
		bad := make([]bool, n)
		for i := range hs {
			if !valid(hs[i]) {
				bad[i] = true
			}
		}
		for i := range hs {
			for j := i + 1; j < n; j++ {
				if valid(hs[i]) && valid(hs[j]) && norm(hs[i].Host) == norm(hs[j].Host) && overlap(hs[i], hs[j]) {
					bad[i], bad[j] = true, true
				}
			}
		}
		// The index reports each overlapping pair it sees against the
		// interval reaching furthest so far, which may be fewer pairs than
		// all overlapping pairs; every left-out input is in some conflict.
		inConf := make([]bool, n)
		for _, c := range cs {
			inConf[c.A] = true
			if c.B >= 0 {
				inConf[c.B] = true
			}
		}
		for i := range hs {
			if inConf[i] != bad[i] {
				t.Fatalf("input %d %+v: in a conflict %v, model says bad %v (%v)", i, hs[i], inConf[i], bad[i], cs)
			}
		}
		held := func(h HostAssignment, at time.Time) bool {
			return (h.From.IsZero() || !at.Before(h.From)) && (h.To.IsZero() || at.Before(h.To))
		}
		// rank: exact = 1000, wildcard = length of its suffix.
		rank := func(pat, host string) int {
			if pat == host {
				return 1000
			}
			if s, ok := strings.CutPrefix(pat, "*."); ok && strings.HasSuffix(host, "."+s) {
				return len(s)
			}
			return -1
		}
		for q := 0; q < 20; q++ {
			host := genName(t, "q", 1)
			if rapid.Bool().Draw(t, "qdot") {
				host += "."
			}
			at := genTime(t, "at")
			if at.IsZero() {
				at = day(1).Add(-time.Hour)
			}
			best, bestRank := -1, -1
			for i, h := range hs {
				if bad[i] || !held(h, at) {
					continue
				}
				if r := rank(norm(h.Host), norm(host)); r > bestRank {
					best, bestRank = i, r
				}
			}
			res, matched, ok := hx.Lookup(host, at)
			if best < 0 {
				if ok {
					t.Fatalf("Lookup(%q, %s) = %d %q, want nothing", host, at, res, matched)
				}
				continue
			}
			if !ok || res != hs[best].Resource || matched != norm(hs[best].Host) {
				t.Fatalf("Lookup(%q, %s) = %d %q %v, want %d %q", host, at, res, matched, ok, hs[best].Resource, norm(hs[best].Host))
			}
		}
	})
}
