package smtpd

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/time/rate"
)

func TestReceivedField(t *testing.T) {
	at := time.Date(2024, 1, 2, 15, 4, 5, 0, time.FixedZone("", 3600))
	for _, tc := range []struct {
		name string
		in   receivedInfo
		want string
	}{
		{"plain one rcpt", receivedInfo{helo: "mail.example.org", remote: netip.MustParseAddr("192.0.2.1"),
			by: "mx.example.net", rcpts: []string{"abuse@example.net"}, at: at, eol: "\r\n"},
			"Received: from mail.example.org ([192.0.2.1])\r\n\tby mx.example.net with ESMTP\r\n" +
				"\tfor <abuse@example.net>;\r\n\tTue, 02 Jan 2024 15:04:05 +0100\r\n"},
		{"tls ipv6 two rcpts", receivedInfo{helo: "[IPv6:2001:db8::1]", remote: netip.MustParseAddr("2001:db8::1"),
			by: "mx.example.net", tls: true, rcpts: []string{"a@x", "b@x"}, at: at, eol: "\r\n"},
			"Received: from [IPv6:2001:db8::1] ([IPv6:2001:db8::1])\r\n\tby mx.example.net with ESMTPS;\r\n" +
				"\tTue, 02 Jan 2024 15:04:05 +0100\r\n"},
		{"smtputf8 lf", receivedInfo{helo: "x", remote: netip.MustParseAddr("::ffff:198.51.100.7"),
			by: "mx", utf8: true, rcpts: []string{"abus\u00e9@example.net"}, at: at, eol: "\n"},
			"Received: from x ([198.51.100.7])\n\tby mx with UTF8SMTP\n\tfor <abus\u00e9@example.net>;\n" +
				"\tTue, 02 Jan 2024 15:04:05 +0100\n"},
		{"hostile helo and rcpt", receivedInfo{helo: "evil\r\nX-Injected: 1", remote: netip.MustParseAddr("192.0.2.9"),
			by: "mx", utf8: true, tls: true, rcpts: []string{"a>\r\nX: y"}, at: at, eol: "\r\n"},
			"Received: from unknown ([192.0.2.9])\r\n\tby mx with UTF8SMTPS;\r\n\tTue, 02 Jan 2024 15:04:05 +0100\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(receivedField(tc.in)); got != tc.want {
				t.Errorf("got\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

func TestSanitizeDomain(t *testing.T) {
	for in, ok := range map[string]bool{
		"mail.example.org": true, "mail.example.org.": true, "x": true, "under_score.example": true,
		"[192.0.2.1]": true, "[IPv6:2001:db8::1]": true,
		"": false, "a..b": false, "-a.example": false, "a b": false, "[]": false, "[IPv6:]": false,
		"[192.0.2.1": false, "[x-y]": false, "exa(mple)": false, "\u00e9.example": false,
		strings.Repeat("a", 64) + ".example": false, strings.Repeat("a.", 128) + "x": false,
	} {
		if got := sanitizeDomain(in) != ""; got != ok {
			t.Errorf("sanitizeDomain(%q) valid = %v, want %v", in, got, ok)
		}
	}
}

func TestLineEnding(t *testing.T) {
	for in, want := range map[string]string{
		"a: b\r\n\r\nx": "\r\n", "a: b\n\nx": "\n", "\n": "\n", "": "\r\n", "no break": "\r\n",
	} {
		if got := lineEnding([]byte(in)); got != want {
			t.Errorf("lineEnding(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestClientKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1":            "192.0.2.1",
		"::ffff:192.0.2.1":     "192.0.2.1",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::",
		"2001:db8:1:2::9":      "2001:db8:1:2::",
	} {
		if got := clientKey(netip.MustParseAddr(in)); got.String() != want {
			t.Errorf("clientKey(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestClientTableSweep(t *testing.T) {
	now := epoch
	tab := newClientTable(rate.Limit(1), 2, 1, func() time.Time { return now })
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	if why := tab.admit(a); why != "" {
		t.Fatal(why)
	}
	if why := tab.admit(a); why == "" {
		t.Fatal("second connection over a cap of 1 admitted")
	}
	tab.release(a)
	if why := tab.admit(b); why != "" {
		t.Fatal(why)
	}
	tab.release(b)
	// Two seconds refill a bucket of 2 at 1/s: both entries are then the
	// same as new ones, and the next sweep drops them.
	now = now.Add(sweepEvery)
	tab.admit(netip.MustParseAddr("192.0.2.3"))
	if n := tab.len(); n != 1 {
		t.Errorf("%d entries after sweep, want 1", n)
	}
	// Without a rate, an entry lives only while connections are open.
	open := newClientTable(0, 0, 10, func() time.Time { return now })
	open.admit(a)
	open.release(a)
	if n := open.len(); n != 0 {
		t.Errorf("%d entries without rate, want 0", n)
	}
}

// FuzzReceived checks that no HELO name or recipient a client sends can make
// the trace field anything but one well-formed header field: every line but
// the first is a fold, no bare CR or LF, valid UTF-8, lines under 998 octets
// (RFC 5322 §2.1.1, §2.2.3).
func FuzzReceived(f *testing.F) {
	f.Add("mail.example.org", "abuse@example.net", true, false)
	f.Add("[IPv6:2001:db8::1]", "a@b", false, true)
	f.Add("evil\r\nX: y", "x>\r\n", true, true)
	f.Add(strings.Repeat("a.", 200), strings.Repeat("b", 300), false, false)
	f.Fuzz(func(t *testing.T, helo, rcpt string, tls, utf bool) {
		for _, eol := range []string{"\r\n", "\n"} {
			out := receivedField(receivedInfo{helo: helo, remote: netip.MustParseAddr("192.0.2.1"), by: helo,
				tls: tls, utf8: utf, rcpts: []string{rcpt}, at: epoch, eol: eol})
			if !utf8.Valid(out) {
				t.Fatalf("invalid UTF-8: %q", out)
			}
			if !bytes.HasSuffix(out, []byte(eol)) {
				t.Fatalf("no final line end: %q", out)
			}
			lines := strings.Split(strings.TrimSuffix(string(out), eol), eol)
			for i, l := range lines {
				if strings.ContainsAny(l, "\r\n") {
					t.Fatalf("bare CR/LF in line %d: %q", i, l)
				}
				if len(l) > 998 {
					t.Fatalf("line %d of %d octets", i, len(l))
				}
				if (i == 0) != strings.HasPrefix(l, "Received: ") || i > 0 && l[0] != '\t' {
					t.Fatalf("line %d not a fold: %q", i, l)
				}
			}
		}
	})
}
