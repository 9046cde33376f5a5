package logscan

import (
	"strings"
	"testing"
	"time"
)

func TestParseLine(t *testing.T) {
	web5xx, _ := ParseStatusSet("500-599")
	for _, tc := range []struct {
		line   string
		kind   Kind
		addr   string
		count  int
		time   string // as written, for Abuse
		target string
		tport  int
		sport  int
		proto  string
		status *StatusSet
	}{
		{line: "Mar  2 10:00:00 h sshd[1]: message repeated 3 times: [ Invalid user x from 203.0.113.7 port 1]", kind: Abuse, addr: "203.0.113.7", count: 3, time: "2026-03-02T10:00:00Z", sport: 1, proto: "ssh"},
		{line: "Mar  2 10:00:00 h sshd[1]: message repeated many times: [ Invalid user x from 203.0.113.7 port 1]", kind: Unreadable},
		{line: "Mar  2 10:00:00 h sshd[1]: message repeated 3 times: Invalid user x from 203.0.113.7 port 1", kind: Unreadable},
		{line: "<13>Mar  2 10:00:00 h sshd[1]: Invalid user  from 203.0.113.7 port 1", kind: Abuse, addr: "203.0.113.7", time: "2026-03-02T10:00:00Z", sport: 1, proto: "ssh"},
		{line: "<1234567>Mar  2 10:00:00 h sshd[1]: x", kind: Unreadable},
		{line: "Mar 02 10:00:00.250 h sshd-session[1]: Failed password for root from 2001:DB8::7 port 22 ssh2", kind: Abuse, addr: "2001:db8::7", time: "2026-03-02T10:00:00.25Z", sport: 22, proto: "ssh"},
		{line: "Mar  2 10:00:00 h sshd[1]: Failed password for root from host.example port 22 ssh2", kind: Unreadable},
		{line: "Mar  2 10:00:00 h sshd[1]: Connection closed by invalid user x 8.8.8.8 port 22 203.0.113.7 port 5 [preauth]", kind: Abuse, addr: "203.0.113.7", time: "2026-03-02T10:00:00Z", sport: 5, proto: "ssh"},
		{line: "Mar  2 10:00:00 h sshd[1]: Received disconnect from 203.0.113.7 port 5:11: 8.8.8.8 port 22 [preauth]", kind: Abuse, addr: "203.0.113.7", time: "2026-03-02T10:00:00Z", sport: 5, proto: "ssh"},
		{line: "Mar  2 10:00:00 h sshd[1]: Disconnected from user bob 203.0.113.7 port 5", kind: Noise},
		{line: "Mar  2 10:00:00 h sshd[1]: Timeout before authentication for 203.0.113.7 port 5", kind: Abuse, addr: "203.0.113.7", time: "2026-03-02T10:00:00Z", sport: 5, proto: "ssh"},
		{line: "Mar  2 10:00:00 h sshd[1]: fatal: Timeout before authentication for ::ffff:203.0.113.7 port 6", kind: Abuse, addr: "203.0.113.7", time: "2026-03-02T10:00:00Z", sport: 6, proto: "ssh"},
		{line: "Mar  2 10:00:00 h sshd[1]: banner exchange: Connection from 203.0.113.7 port 7: invalid format", kind: Abuse, addr: "203.0.113.7", time: "2026-03-02T10:00:00Z", sport: 7, proto: "ssh"},
		{line: "Mar  2 10:00:00 h sshd[1]: User root from 203.0.113.7 not allowed because not listed in AllowUsers", kind: Noise},
		{line: "Mar  2 10:00:00 h sshd[1]: Accepted password for bob from 203.0.113.7 port 5 ssh2", kind: LoggedIn, addr: "203.0.113.7", sport: 5, proto: "ssh"},
		{line: "Mar 32 10:00:00 h sshd[1]: Failed password for root from 203.0.113.7 port 1 ssh2", kind: Unreadable},
		{line: "Mar  2 25:00:00 h sshd[1]: Failed password for root from 203.0.113.7 port 1 ssh2", kind: Unreadable},
		{line: "Mar  2 10:00:00 h kernel: [ 1.0] usb 1-1: new device", kind: Noise},
		{line: "Mar  2 10:00:00 h kernel: [UFW BLOCK] IN=eth0 OUT= SRC=not-an-ip DST=192.0.2.1 PROTO=TCP", kind: Unreadable},
		{line: "Mar  2 10:00:00 h kernel: [UFW BLOCK] IN=eth0 OUT= SRC=203.0.113.7 DST=192.0.2.1 PROTO=47", kind: Abuse, addr: "203.0.113.7", time: "2026-03-02T10:00:00Z", target: "192.0.2.1", proto: "47"},
		{line: "shop.example 203.0.113.7 - - [02/Mar/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 500 1 \"-\" \"-\"", kind: Abuse, addr: "203.0.113.7", time: "2026-03-02T10:00:00Z", target: "shop.example", proto: "http", status: web5xx},
		{line: "203.0.113.7 - - [02/Mar/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 404 1", kind: Noise, status: web5xx},
		{line: "[2001:db8::7] - - [02/Mar/2026:10:00:00 +0530] \"GET / HTTP/1.1\" 403 1", kind: Abuse, addr: "2001:db8::7", time: "2026-03-02T10:00:00+05:30", proto: "http"},
		{line: "203.0.113.7 - - [02/Mar/2026:10:00:00] \"GET / HTTP/1.1\" 404 1", kind: Unreadable},
		{line: "2026/03/02 10:00:00 [error] 1#1: *1 open() \"/x, client: 203.0.113.7, server: a\" failed, client: 203.0.113.7, server: a", kind: Abuse, addr: "203.0.113.7", time: "2026-03-02T10:00:00Z", proto: "http"},
		{line: "2026/03/02 10:00:00 [error] 1#1: open() \"/etc/nginx/x\" failed (2: No such file or directory)", kind: Noise},
		{line: "Mar  2 10:00:00 h postfix/smtpd[1]: warning: unknown[2001:db8::9]: SASL LOGIN authentication failed: UGFzc3dvcmQ6", kind: Abuse, addr: "2001:db8::9", time: "2026-03-02T10:00:00Z", tport: 25, proto: "smtp"},
		{line: "Mar  2 10:00:00 h postfix/smtpd[1]: warning: unknown[not an ip]: SASL LOGIN authentication failed: x", kind: Unreadable},
		{line: "Mar  2 10:00:00 h dovecot[9]: imap-login: Disconnected (auth failed, 0 attempts in 2 secs): user=<a>, rip=203.0.113.7, lip=192.0.2.1", kind: Abuse, addr: "203.0.113.7", count: 1, time: "2026-03-02T10:00:00Z", target: "192.0.2.1", proto: "imap"},
		{line: "Mar  2 10:00:00 h dovecot: submission-login: Disconnected (auth failed, 2 attempts in 2 secs): user=<a>, method=PLAIN, rip=203.0.113.7", kind: Abuse, addr: "203.0.113.7", count: 2, time: "2026-03-02T10:00:00Z", proto: "smtp"},
		{line: "Mar  2 10:00:00 h fail2ban.actions[5]: NOTICE [sshd] Ban 203.0.113.7", kind: Abuse, addr: "203.0.113.7", time: "2026-03-02T10:00:00Z"},
		{line: "Mar  2 10:00:00 h nginx: 203.0.113.7 - - [02/Mar/2026:10:00:00 +0000] \"GET /.env HTTP/1.1\" 404 1 \"-\" \"-\"", kind: Abuse, addr: "203.0.113.7", time: "2026-03-02T10:00:00Z", proto: "http"},
		{line: "Mar  2 10:00:00 h nginx: 2026/03/02 10:00:00 [error] 1#1: x, client: 203.0.113.7, server: a", kind: Noise},
		{line: "2026-03-02T10:00:00+01:00 h sshd[1]:", kind: Noise},
		{line: "2026-03-02T10:00:00+0100", kind: Unreadable},
		{line: "2026-03-02T10:00:00+01:00 h", kind: Unreadable},
		{line: "-- No entries --", kind: Noise},
		{line: "Mon 2026-03-02 10:00:00 UTC h sshd[1]: Failed password for root from 203.0.113.7 port 1 ssh2", kind: Abuse, addr: "203.0.113.7", time: "2026-03-02T10:00:00Z", sport: 1, proto: "ssh"},
		{line: "\r\n", kind: Noise},
	} {
		p := &Parser{Location: time.UTC, Reference: time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC), HTTPStatus: tc.status}
		var ev Event
		k := p.ParseLine([]byte(tc.line), &ev)
		if k != tc.kind {
			t.Errorf("%q: kind %d, want %d", tc.line, k, tc.kind)
			continue
		}
		if k != Abuse && k != LoggedIn {
			continue
		}
		if tc.count == 0 {
			tc.count = 1
		}
		if tc.tport == 0 {
			tc.tport = -1
		}
		if tc.sport == 0 {
			tc.sport = -1
		}
		if ev.Addr.String() != tc.addr || ev.Count != tc.count || string(ev.Target) != tc.target || ev.TargetPort != tc.tport || ev.SourcePort != tc.sport || ev.Protocol != tc.proto {
			t.Errorf("%q: %v ×%d target %q:%d source port %d %q; want %v ×%d %q:%d %d %q", tc.line,
				ev.Addr, ev.Count, ev.Target, ev.TargetPort, ev.SourcePort, ev.Protocol, tc.addr, tc.count, tc.target, tc.tport, tc.sport, tc.proto)
		}
		if k == Abuse {
			if got := p.Time(&ev).Format(TimeLayout); got != tc.time {
				t.Errorf("%q: time %s, want %s", tc.line, got, tc.time)
			}
		}
	}
}

func TestInferYear(t *testing.T) {
	loc := paris(t)
	for _, tc := range []struct {
		line, ref, want string
	}{
		// A December line read in January is last year's.
		{"Dec 31 23:59:59", "2026-01-02T09:00:00+01:00", "2025-12-31T23:59:59+01:00"},
		{"Jan  1 00:00:01", "2026-01-02T09:00:00+01:00", "2026-01-01T00:00:01+01:00"},
		// Never more than a day after the reference (the desk's own
		// tolerance for clocks): an hour ahead is a skewed clock, two days
		// ahead is last year.
		{"Nov 24 23:00:00", "2026-11-24T22:00:00Z", "2026-11-24T23:00:00+01:00"},
		{"Nov 26 10:00:00", "2026-11-24T22:00:00Z", "2025-11-26T10:00:00+01:00"},
		// Close to the new year, a line just after it is next year's.
		{"Jan  1 00:30:00", "2026-12-31T23:50:00+01:00", "2027-01-01T00:30:00+01:00"},
		// February 29 goes to the last leap year.
		{"Feb 29 12:00:00", "2027-03-01T00:00:00Z", "2024-02-29T12:00:00+01:00"},
		{"Feb 29 12:00:00", "2028-03-01T00:00:00Z", "2028-02-29T12:00:00+01:00"},
		// The summer time change: 02:30 does not exist on 2026-03-29 in
		// Paris; the offset written is the one in force.
		{"Mar 29 03:30:00", "2026-04-01T00:00:00Z", "2026-03-29T03:30:00+02:00"},
		{"Oct 25 12:00:00", "2026-11-01T00:00:00Z", "2026-10-25T12:00:00+01:00"},
	} {
		p := &Parser{Location: loc, Reference: mustTime(t, tc.ref)}
		var ev Event
		if k := p.ParseLine([]byte(tc.line+" h sshd[1]: Failed password for root from 203.0.113.7 port 1 ssh2"), &ev); k != Abuse {
			t.Fatalf("%s: kind %d", tc.line, k)
		}
		if got := p.Time(&ev).Format(TimeLayout); got != tc.want {
			t.Errorf("%s read at %s: %s, want %s", tc.line, tc.ref, got, tc.want)
		}
	}
}

func TestParseStatusSet(t *testing.T) {
	s, err := ParseStatusSet("401, 403,444-445,5xx")
	if err != nil {
		t.Fatal(err)
	}
	for st, want := range map[int]bool{400: false, 401: true, 403: true, 404: false, 444: true, 445: true, 446: false, 500: true, 599: true, 200: false} {
		if s.Has(st) != want {
			t.Errorf("%d: %v", st, !want)
		}
	}
	if s, _ := ParseStatusSet("off"); !s.Empty() {
		t.Error("off is not empty")
	}
	for _, bad := range []string{"4", "abc", "499-400", "600", "99", "4xy"} {
		if _, err := ParseStatusSet(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if !DefaultHTTPStatus.Has(404) || DefaultHTTPStatus.Has(500) || DefaultHTTPStatus.Has(200) {
		t.Error("default set")
	}
}

func TestAppendLog(t *testing.T) {
	for in, want := range map[string]string{
		"plain\ttab":    "plain\ttab",
		"nul\x00bell\a": `nul\x00bell\x07`,
		"bad \xff utf8": `bad \xff utf8`,
		"é ok":          "é ok",
		"del\x7f":       `del\x7f`,
	} {
		if got := string(appendLog(nil, []byte(in))); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
	long := strings.Repeat("a", MaxLogLine+100)
	got := string(appendLog(nil, []byte(long)))
	if !strings.HasPrefix(got, strings.Repeat("a", MaxLogLine)+"… [cut: the line has 4196 bytes]") || len(got) > MaxLogLine+64 {
		t.Errorf("cut: %q", got[MaxLogLine-4:])
	}
}
