package logscan

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"abusedesk/internal/attribution"
	"abusedesk/internal/intake/csvreport"
	"abusedesk/internal/report"
)

func paris(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatalf("the tests need the IANA zone database (tzdata): %v", err)
	}
	return loc
}

func testSpace(t testing.TB) *attribution.AddressSpace {
	t.Helper()
	f, err := os.Open("testdata/ip-ranges.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	space, es, err := attribution.ParseRanges(f)
	if err != nil || len(es) > 0 {
		t.Fatalf("ranges: %v %v", err, es)
	}
	return space
}

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// span is what a file shows of one address: its events and the first and
// last times, written as the CSV writes them.
type span struct {
	events      int64
	first, last string
}

// The sample logs, what each holds (addresses of testdata/ip-ranges.json:
// 203.0.113.0/24, 198.51.100.0/25, 2001:db8:1000::/36; the others are
// outside), read in Europe/Paris.
var fileCases = []struct {
	file                      string
	now                       string
	lines, events, unreadable int64
	outside                   int64
	addrs                     map[string]span
	loggedIn                  []string
}{
	{
		// A Debian auth.log across new year, read on January 2nd: the
		// December lines are last year's.
		file: "auth.log", now: "2026-01-02T09:00:00+01:00",
		lines: 32, events: 17, unreadable: 4, outside: 2,
		addrs: map[string]span{
			// Invalid user (1) + its first Failed (the same attempt) + a
			// second Failed (1); Failed (1) + "message repeated 5 times"
			// (5), the closing lines counting nothing more; a Failed on
			// January 1st (1).
			"203.0.113.7":       {9, "2025-12-31T23:57:12+01:00", "2026-01-01T00:08:00+01:00"},
			"2001:db8:1000::25": {1, "2025-12-31T23:59:59+01:00", "2025-12-31T23:59:59+01:00"},
			"203.0.113.40":      {1, "2026-01-01T00:00:03+01:00", "2026-01-01T00:00:03+01:00"}, // a closing line only
			"203.0.113.8":       {1, "2026-01-01T00:00:10+01:00", "2026-01-01T00:00:10+01:00"}, // ::ffff:203.0.113.8
			"203.0.113.50":      {1, "2026-01-01T00:00:58+01:00", "2026-01-01T00:00:58+01:00"},
			"203.0.113.9":       {1, "2026-01-01T00:02:00+01:00", "2026-01-01T00:02:00+01:00"}, // not the 8.8.8.8 of the user name
			"198.51.100.9":      {1, "2026-01-01T00:05:00+01:00", "2026-01-01T00:05:00+01:00"},
		},
		loggedIn: []string{"203.0.113.50"},
	},
	{
		file: "auth.log.2.gz", now: "2026-01-02T09:00:00+01:00",
		lines: 4, events: 2,
		addrs: map[string]span{"203.0.113.66": {2, "2025-12-30T03:14:15+01:00", "2025-12-30T03:14:17+01:00"}},
	},
	{
		file: "auth-precise.log", now: "2026-03-03T00:00:00+01:00",
		lines: 8, events: 7,
		addrs: map[string]span{
			"203.0.113.7":      {2, "2026-03-02T10:00:00.123456+01:00", "2026-03-02T10:00:02.000001+01:00"},
			"2001:db8:1000::1": {1, "2026-03-02T10:00:05.5+01:00", "2026-03-02T10:00:05.5+01:00"},
			"203.0.113.11":     {1, "2026-03-02T09:00:06Z", "2026-03-02T09:00:06Z"},
			"203.0.113.12":     {1, "2026-03-02T10:00:08+01:00", "2026-03-02T10:00:08+01:00"}, // <PRI> and RFC 3339
			"203.0.113.13":     {1, "2026-03-02T10:00:09Z", "2026-03-02T10:00:09Z"},           // RFC 5424, structured data with \]
			"203.0.113.14":     {1, "2026-03-02T10:00:10+01:00", "2026-03-02T10:00:10+01:00"},
		},
	},
	{
		// journalctl -o short-iso, -o short, -o short-full, -o short-unix.
		file: "journal-short.txt", now: "2026-03-03T00:00:00+01:00",
		lines: 10, events: 5, unreadable: 1, // the zone "XYZ" is not Europe/Paris's
		addrs: map[string]span{
			"203.0.113.21": {2, "2026-03-02T10:10:00+01:00", "2026-03-02T10:10:04+01:00"},
			"203.0.113.22": {1, "2026-03-02T10:20:00+01:00", "2026-03-02T10:20:00+01:00"},
			"203.0.113.23": {1, "2026-03-02T10:30:00+01:00", "2026-03-02T10:30:00+01:00"},
			"203.0.113.24": {1, "2026-03-02T10:40:00+01:00", "2026-03-02T10:40:00+01:00"},
		},
	},
	{
		// journalctl -o export: text and binary fields; an entry without
		// __REALTIME_TIMESTAMP is unreadable.
		file: "journal.export", now: "2026-03-03T00:00:00+01:00",
		lines: 5, events: 3, unreadable: 1,
		addrs: map[string]span{
			"203.0.113.31": {1, "2026-03-02T10:00:00.123456+01:00", "2026-03-02T10:00:00.123456+01:00"},
			"203.0.113.32": {1, "2026-03-02T10:00:01+01:00", "2026-03-02T10:00:01+01:00"},
			"203.0.113.33": {1, "2026-03-02T10:00:03+01:00", "2026-03-02T10:00:03+01:00"},
		},
	},
	{
		file: "fail2ban.log", now: "2026-03-03T00:00:00+01:00",
		lines: 8, events: 3, outside: 1,
		addrs: map[string]span{
			"203.0.113.7":         {1, "2026-03-02T10:05:00.303+01:00", "2026-03-02T10:05:00.303+01:00"},
			"2001:db8:1000::abcd": {1, "2026-03-02T10:06:00.505+01:00", "2026-03-02T10:06:00.505+01:00"},
		},
	},
	{
		file: "ufw.log", now: "2026-03-03T00:00:00+01:00",
		lines: 9, events: 5, outside: 1,
		addrs: map[string]span{
			"203.0.113.41":      {2, "2026-03-02T10:00:01+01:00", "2026-03-02T10:00:02+01:00"},
			"2001:db8:1000::42": {1, "2026-03-02T10:00:06+01:00", "2026-03-02T10:00:06+01:00"},
			"203.0.113.45":      {1, "2026-03-02T10:00:07+01:00", "2026-03-02T10:00:07+01:00"},
		},
	},
	{
		file: "access.log", now: "2026-03-03T00:00:00+01:00",
		lines: 11, events: 7, unreadable: 1,
		addrs: map[string]span{
			"203.0.113.51":      {3, "2026-03-02T10:00:00+01:00", "2026-03-02T10:00:02+01:00"},
			"2001:db8:1000::51": {1, "2026-03-02T10:00:04+01:00", "2026-03-02T10:00:04+01:00"},
			"203.0.113.52":      {1, "2026-03-02T10:00:05+01:00", "2026-03-02T10:00:05+01:00"},
			"203.0.113.55":      {1, "2026-03-02T10:00:08+01:00", "2026-03-02T10:00:08+01:00"},
			"203.0.113.56":      {1, "2026-03-02T10:00:09-05:00", "2026-03-02T10:00:09-05:00"},
		},
	},
	{
		file: "error.log", now: "2026-03-03T00:00:00+01:00",
		lines: 7, events: 3, unreadable: 1, // the line naming two clients
		addrs: map[string]span{
			"203.0.113.61":      {1, "2026-03-02T10:00:00+01:00", "2026-03-02T10:00:00+01:00"},
			"2001:db8:1000::61": {1, "2026-03-02T10:00:01+01:00", "2026-03-02T10:00:01+01:00"},
			"203.0.113.65":      {1, "2026-03-02T10:00:06+01:00", "2026-03-02T10:00:06+01:00"},
		},
	},
	{
		file: "apache-error.log", now: "2026-03-03T00:00:00+01:00",
		lines: 6, events: 3,
		addrs: map[string]span{
			"203.0.113.71":      {1, "2026-03-02T10:00:00.123456+01:00", "2026-03-02T10:00:00.123456+01:00"},
			"2001:db8:1000::71": {1, "2026-03-02T10:00:01+01:00", "2026-03-02T10:00:01+01:00"},
			"203.0.113.72":      {1, "2026-03-02T10:00:02+01:00", "2026-03-02T10:00:02+01:00"},
		},
	},
	{
		file: "mail.log", now: "2026-03-03T00:00:00+01:00",
		lines: 9, events: 6,
		addrs: map[string]span{
			"203.0.113.81":      {1, "2026-03-02T10:00:01+01:00", "2026-03-02T10:00:01+01:00"},
			"2001:db8:1000::81": {1, "2026-03-02T10:00:02+01:00", "2026-03-02T10:00:02+01:00"},
			"203.0.113.83":      {3, "2026-03-02T10:00:05+01:00", "2026-03-02T10:00:05+01:00"}, // "3 attempts"
			"203.0.113.84":      {1, "2026-03-02T10:00:06+01:00", "2026-03-02T10:00:06+01:00"}, // not user=<rip=8.8.8.8>
		},
	},
	{
		file: "exim-mainlog", now: "2026-03-03T00:00:00+01:00",
		lines: 4, events: 3,
		addrs: map[string]span{
			"203.0.113.91":      {1, "2026-03-02T10:00:00+01:00", "2026-03-02T10:00:00+01:00"},
			"2001:db8:1000::91": {1, "2026-03-02T10:00:01+01:00", "2026-03-02T10:00:01+01:00"},
			"203.0.113.92":      {1, "2026-03-02T10:00:03+01:00", "2026-03-02T10:00:03+01:00"}, // not the HELO's [8.8.8.8]
		},
	},
	{
		file: "dovecot.log", now: "2026-03-03T00:00:00+01:00",
		lines: 3, events: 2,
		addrs: map[string]span{"203.0.113.95": {2, "2026-03-02T10:00:05+01:00", "2026-03-02T10:00:05+01:00"}},
	},
}

func TestScanSampleLogs(t *testing.T) {
	loc := paris(t)
	space := testSpace(t)
	for _, fc := range fileCases {
		t.Run(fc.file, func(t *testing.T) {
			c := &Collector{Space: space}
			st := ScanFile("testdata/"+fc.file, Options{Location: loc, Now: mustTime(t, fc.now)}, c)
			if st.Err != nil {
				t.Fatal(st.Err)
			}
			if st.Lines != fc.lines || st.Events != fc.events || st.Unreadable != fc.unreadable {
				t.Errorf("%d lines, %d events, %d unreadable; want %d, %d, %d", st.Lines, st.Events, st.Unreadable, fc.lines, fc.events, fc.unreadable)
			}
			if c.Outside != fc.outside {
				t.Errorf("%d events outside the address space, want %d", c.Outside, fc.outside)
			}
			got := map[string]span{}
			for a, s := range c.sources {
				if s.events > 0 {
					got[a.String()] = span{s.events, s.first.Format(TimeLayout), s.last.Format(TimeLayout)}
				}
			}
			for a, w := range fc.addrs {
				if g, ok := got[a]; !ok {
					t.Errorf("%s: not found", a)
				} else if g != w {
					t.Errorf("%s: %+v, want %+v", a, g, w)
				}
			}
			for a, g := range got {
				if _, ok := fc.addrs[a]; !ok {
					t.Errorf("%s: unexpected %+v", a, g)
				}
			}
			var logged []string
			for a, s := range c.sources {
				if s.loggedIn {
					logged = append(logged, a.String())
				}
			}
			if !slices.Equal(logged, fc.loggedIn) {
				t.Errorf("logged in: %v, want %v", logged, fc.loggedIn)
			}
		})
	}
}

// The CSV is exactly what the desk reads: every row passes the desk's own
// reader and validator, and the rows are those expected.
func TestScanCSVIsTheDesks(t *testing.T) {
	loc := paris(t)
	c := &Collector{Space: testSpace(t)}
	now := mustTime(t, "2026-01-02T09:00:00+01:00")
	for _, f := range []string{"auth.log", "auth.log.2.gz"} {
		if st := ScanFile("testdata/"+f, Options{Location: loc, Now: now}, c); st.Err != nil {
			t.Fatal(st.Err)
		}
	}
	var out bytes.Buffer
	sum, err := c.WriteCSV(&out, WriteOptions{Target: "192.0.2.10"})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Addresses != 8 || sum.Written != 7 || sum.Rows != 12 || len(sum.LoggedIn) != 1 || sum.LoggedIn[0].String() != "203.0.113.50" || sum.Outside != 2 {
		t.Errorf("summary %+v", sum)
	}
	text := out.String()
	if !strings.HasPrefix(text, "ip,timestamp,log,target,target_port,protocol,source_port\n") {
		t.Fatalf("header: %q", text[:min(len(text), 80)])
	}
	for _, want := range []string{
		"198.51.100.9,2026-01-01T00:05:00+01:00,Jan  1 00:05:00 web1 sshd[20230]: Unable to negotiate with 198.51.100.9 port 42424: no matching key exchange method found. Their offer: diffie-hellman-group1-sha1 from 8.8.8.8 port 1 [preauth],192.0.2.10,,ssh,42424\n",
		"203.0.113.7,2025-12-31T23:57:12+01:00,Dec 31 23:57:12 web1 sshd[20133]: Invalid user admin from 203.0.113.7 port 51234,192.0.2.10,,ssh,51234\n",
		"203.0.113.7,2025-12-31T23:58:45+01:00,Dec 31 23:58:45 web1 sshd[20150]: message repeated 5 times: [ Failed password for root from 203.0.113.7 port 51240 ssh2],192.0.2.10,,ssh,51240\n",
		// Its 5 lines stand for its 9 events (one is "repeated 5 times"):
		// no summary line.
		"203.0.113.7,2026-01-01T00:08:00+01:00,Jan  1 00:08:00 web1 sshd[20260]: Failed password for root from 203.0.113.7 port 51300 ssh2,192.0.2.10,,ssh,51300\n",
		"203.0.113.66,2025-12-30T03:14:15+01:00,Dec 30 03:14:15 web1 sshd[19000]: Failed password for root from 203.0.113.66 port 40000 ssh2,192.0.2.10,,ssh,40000\n",
		"2001:db8:1000::25,2025-12-31T23:59:59+01:00,Dec 31 23:59:59 web1 sshd[20160]: Invalid user oracle from 2001:db8:1000::25 port 40022,192.0.2.10,,ssh,40022\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("missing row %q in\n%s", want, text)
		}
	}
	if strings.Contains(text, "203.0.113.50") || strings.Contains(text, "198.51.100.200") || strings.Contains(text, "8.8.8.8,") {
		t.Errorf("a logged-in, outside or injected address is listed:\n%s", text)
	}
	// Address order: IPv4 by value, then IPv6.
	var order []string
	for _, line := range strings.Split(text, "\n") {
		if ip, _, ok := strings.Cut(line, ","); ok && ip != "ip" {
			if _, err := netip.ParseAddr(ip); err == nil && !slices.Contains(order, ip) {
				order = append(order, ip)
			}
		}
	}
	if want := []string{"198.51.100.9", "203.0.113.7", "203.0.113.8", "203.0.113.9", "203.0.113.40", "203.0.113.66", "2001:db8:1000::25"}; !slices.Equal(order, want) {
		t.Errorf("addresses %v, want %v", order, want)
	}
	deskAccepts(t, text, 12, mustTime(t, "2026-01-02T09:00:00+01:00"))
}

// deskAccepts reads the CSV as POST /api/v1/reports/bulk does.
func deskAccepts(t *testing.T, text string, rows int, now time.Time) {
	t.Helper()
	rd, err := csvreport.NewReader(strings.NewReader(text), csvreport.Options{Validator: &report.Validator{Now: func() time.Time { return now }}})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		row, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
		if len(row.Errors) > 0 {
			t.Errorf("line %d refused by the desk: %v", row.Line, row.Errors)
		}
	}
	if n != rows {
		t.Errorf("the desk read %d rows, want %d", n, rows)
	}
}

func TestScanEveryFileTheDeskAccepts(t *testing.T) {
	loc := paris(t)
	c := &Collector{Space: testSpace(t)}
	total := 0
	for _, fc := range fileCases {
		if st := ScanFile("testdata/"+fc.file, Options{Location: loc, Now: mustTime(t, fc.now)}, c); st.Err != nil {
			t.Fatal(st.Err)
		}
	}
	var out bytes.Buffer
	sum, err := c.WriteCSV(&out, WriteOptions{IncludeLoggedIn: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, fc := range fileCases {
		total += len(fc.addrs)
	}
	// 203.0.113.7 is in three files.
	if sum.Addresses != total-2 || len(sum.LoggedIn) != 0 {
		t.Errorf("summary %+v, want %d addresses", sum, total-2)
	}
	deskAccepts(t, out.String(), sum.Rows, mustTime(t, "2026-03-03T00:00:00+01:00"))
	// The journal's binary MESSAGE holds an escape and a new line: one
	// line of log, the controls written out.
	if !strings.Contains(out.String(), `sshd-session[1202]: Invalid user \x1b[31mred\x0aline from 203.0.113.32 port 41001`) {
		t.Errorf("journal binary field:\n%s", out.String())
	}
}

func TestScanMinEventsAndMaxPerIP(t *testing.T) {
	loc := paris(t)
	// 100 attempts from one address over 100 minutes, in a shuffled order
	// (files given out of order); 3 from another.
	var lines []string
	for i := range 100 {
		lines = append(lines, fmt.Sprintf("Mar  2 %02d:%02d:00 web1 sshd[%d]: Failed password for root from 203.0.113.7 port %d ssh2", 10+i/60, i%60, 1000+i, 40000+i))
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(lines), func(i, j int) { lines[i], lines[j] = lines[j], lines[i] })
	for i := range 3 {
		lines = append(lines, fmt.Sprintf("Mar  2 12:00:%02d web1 sshd[2000]: Failed password for root from 203.0.113.8 port 50000 ssh2", i))
	}
	c := &Collector{Space: testSpace(t), MaxPerIP: 5}
	st := Scan(strings.NewReader(strings.Join(lines, "\n")+"\n"), "x", mustTime(t, "2026-03-03T00:00:00Z"), Options{Location: loc}, c)
	if st.Events != 103 || st.Lines != 103 {
		t.Fatalf("%+v", st)
	}
	var out bytes.Buffer
	sum, err := c.WriteCSV(&out, WriteOptions{MinEvents: 4})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Written != 1 || sum.BelowMin != 1 || sum.Rows != 5 {
		t.Errorf("summary %+v", sum)
	}
	var times []string
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(line, "203.0.113.7,") {
			times = append(times, strings.Split(line, ",")[1])
		}
	}
	// The 3 earliest and the 2 latest, in time order.
	want := []string{"2026-03-02T10:00:00+01:00", "2026-03-02T10:01:00+01:00", "2026-03-02T10:02:00+01:00", "2026-03-02T11:38:00+01:00", "2026-03-02T11:39:00+01:00"}
	if !slices.Equal(times, want) {
		t.Errorf("rows at %v, want %v\n%s", times, want, out.String())
	}
	if !strings.Contains(out.String(), "[abusedesk report scan: 100 events from 203.0.113.7 between 2026-03-02T10:00:00+01:00 and 2026-03-02T11:39:00+01:00; 5 of its lines are listed]") {
		t.Errorf("no summary:\n%s", out.String())
	}
	if strings.Contains(out.String(), "203.0.113.8") {
		t.Errorf("203.0.113.8 has 3 events, below --min-events 4")
	}
}

func TestScanWithoutRangesKeepsGlobalAddresses(t *testing.T) {
	in := "Mar  2 10:00:00 h sshd[1]: Failed password for root from 10.0.0.7 port 1 ssh2\n" +
		"Mar  2 10:00:01 h sshd[1]: Failed password for root from 127.0.0.1 port 2 ssh2\n" +
		"Mar  2 10:00:02 h sshd[1]: Failed password for root from fe80::1%eth0 port 3 ssh2\n" +
		"Mar  2 10:00:03 h sshd[1]: Failed password for root from 192.0.2.7 port 4 ssh2\n"
	c := &Collector{}
	Scan(strings.NewReader(in), "x", mustTime(t, "2026-03-03T00:00:00Z"), Options{Location: time.UTC}, c)
	if len(c.sources) != 1 || c.sources[netip.MustParseAddr("192.0.2.7")] == nil || c.Outside != 3 {
		t.Errorf("sources %v, outside %d", c.sources, c.Outside)
	}
}

func TestScanLastMessageRepeated(t *testing.T) {
	// sysklogd's form, which names neither the program nor the message.
	in := "Mar  2 10:00:00 h sshd[1]: Failed password for root from 203.0.113.7 port 1 ssh2\n" +
		"Mar  2 10:00:30 h last message repeated 4 times\n" +
		"Mar  2 10:01:00 h CRON[2]: (root) CMD (true)\n" +
		"Mar  2 10:01:30 h last message repeated 2 times\n"
	c := &Collector{Space: testSpace(t)}
	st := Scan(strings.NewReader(in), "x", mustTime(t, "2026-03-03T00:00:00Z"), Options{Location: time.UTC}, c)
	_, _, events, _ := c.Span(netip.MustParseAddr("203.0.113.7"))
	if st.Events != 5 || events != 5 {
		t.Errorf("file %d events, address %d; want 5", st.Events, events)
	}
}

func TestScanRefusesWhatItCannotRead(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string][]byte{
		"zst":     {0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0},
		"journal": []byte("LPKSHHRH\x00\x00\x00\x00"),
		"badgz":   {0x1f, 0x8b, 0, 0},
	} {
		os.WriteFile(dir+"/"+name, data, 0o644)
		st := ScanFile(dir+"/"+name, Options{}, &Collector{})
		if st.Err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if st := ScanFile(dir+"/missing", Options{}, &Collector{}); st.Err == nil {
		t.Error("missing file: no error")
	}
	if st := ScanFile(dir, Options{}, &Collector{}); st.Err == nil {
		t.Error("directory: no error")
	}
	// A line longer than maxLine is one unreadable line, not a failure.
	long := "Mar  2 10:00:00 h sshd[1]: " + strings.Repeat("x", maxLine+10) + "\nMar  2 10:00:01 h sshd[1]: Failed password for root from 203.0.113.7 port 1 ssh2\n"
	st := Scan(strings.NewReader(long), "x", time.Now(), Options{}, &Collector{})
	if st.Err != nil || st.Lines != 2 || st.Unreadable != 1 || st.Events != 1 {
		t.Errorf("%+v", st)
	}
}

// The reference of year inference is the file's modification time when
// --now is not given.
func TestScanYearFromModTime(t *testing.T) {
	dir := t.TempDir()
	name := dir + "/auth.log"
	os.WriteFile(name, []byte("Dec 31 23:00:00 h sshd[1]: Failed password for root from 203.0.113.7 port 1 ssh2\nJan  1 01:00:00 h sshd[1]: Failed password for root from 203.0.113.7 port 2 ssh2\n"), 0o644)
	mt := time.Date(2031, 1, 3, 0, 0, 0, 0, time.UTC)
	os.Chtimes(name, mt, mt)
	c := &Collector{Space: testSpace(t)}
	ScanFile(name, Options{Location: time.UTC}, c)
	first, last, _, _ := c.Span(netip.MustParseAddr("203.0.113.7"))
	if first.Format(TimeLayout) != "2030-12-31T23:00:00Z" || last.Format(TimeLayout) != "2031-01-01T01:00:00Z" {
		t.Errorf("%v .. %v", first, last)
	}
}
