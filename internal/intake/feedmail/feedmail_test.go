package feedmail

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"abusedesk/internal/intake/mailpart"
	"abusedesk/internal/report"
)

// clock is after every sample, so that none is "in the future".
func clock() time.Time { return time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC) }

func parseFile(t *testing.T, name string) ([]*report.Report, report.Errors, bool) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return Parse(mailpart.Parse(raw))
}

// validate runs the contract as the mailbox will: with the reporter taken
// from the From header.
func validate(t *testing.T, r *report.Report) {
	t.Helper()
	c := *r
	c.Incidents = slices.Clone(r.Incidents)
	c.Reporter = report.Reporter{Name: "Feed", Email: "feed@feeds.example.org"}
	v := report.Validator{Now: clock}
	if es := v.Validate(&c); len(es) > 0 {
		t.Errorf("report does not validate: %v", es)
	}
}

type wantEntry struct{ field, code string }

func TestSamples(t *testing.T) {
	tests := []struct {
		file        string
		ok          bool
		reports     int
		incidents   int
		subtype     string
		noTarget    bool
		missing     []wantEntry
		description []string
		first       report.Incident // fields compared when set
	}{
		{
			file: "shadowserver-scan.eml", ok: true, reports: 1, incidents: 3, subtype: "port_scan", noTarget: true,
			description: []string{`"2024-01-15-scan_ssh-as64500.csv"`, "3 rows read, 3 incidents", `the mail says "times are in UTC"`, "Open SSH scan report"},
			first: report.Incident{SourceIP: "198.51.100.7", Timestamp: "2024-01-15T03:12:45Z", Protocol: "tcp",
				Log: "timestamp=2024-01-15 03:12:45; ip=198.51.100.7; port=22; protocol=tcp; hostname=host7.example.net; tag=ssh-scan"},
		},
		{
			file: "botnet-zip.eml", ok: true, reports: 1, incidents: 2, subtype: "other",
			description: []string{`"drones.zip:drones-2024-02-01.csv"`, "2 rows read"},
			first:       report.Incident{SourceIP: "203.0.113.10", Target: "192.0.2.200", Timestamp: "2024-02-01T10:00:00Z", Protocol: "tcp"},
		},
		{
			file: "honeypot-offsets.eml", ok: true, reports: 1, incidents: 4, subtype: "intrusion",
			description: []string{"4 rows read, 4 incidents", "from the type column of 4 rows"},
			first:       report.Incident{SourceIP: "192.0.2.50", Target: "198.51.100.1", Timestamp: "2024-03-10T08:15:00+01:00", Protocol: "tcp"},
		},
		{
			file: "bad-rows.eml", ok: true, reports: 1, incidents: 3, subtype: "port_scan", noTarget: true,
			missing: []wantEntry{
				{"attachment[listings.csv] line 3", report.CodeInvalidIP},
				{"attachment[listings.csv] line 4", report.CodeTimezoneRequired},
				{"attachment[listings.csv] line 7", report.CodeInvalidPort},
				{"attachment[listings.csv] line 8", report.CodeRequired},
				{"attachment[listings.csv] line 9", report.CodeInvalidTimestamp},
			},
			description: []string{"8 rows read, 3 incidents"},
		},
		{
			file: "ntp-amplification.eml", ok: true, reports: 1, incidents: 2, subtype: "ddos",
			description: []string{`the column name "Time (UTC)" says so`, "from the mail subject"},
			first:       report.Incident{SourceIP: "203.0.113.99", Target: "192.0.2.77", Timestamp: "2024-04-02T11:00:00Z", Protocol: "udp"},
		},
		{
			file: "no-zone.eml", ok: true, reports: 0,
			missing: []wantEntry{
				{"attachment[traps.csv] line 2", report.CodeTimezoneRequired},
				{"attachment[traps.csv] line 3", report.CodeTimezoneRequired},
			},
		},
		{file: "not-a-feed.eml"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			reps, missing, ok := parseFile(t, tt.file)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if !ok {
				if reps != nil || missing != nil {
					t.Fatalf("not recognised but returned %v, %v", reps, missing)
				}
				return
			}
			if len(reps) != tt.reports {
				t.Fatalf("%d reports, want %d (missing %v)", len(reps), tt.reports, missing)
			}
			var got []wantEntry
			for _, e := range missing {
				got = append(got, wantEntry{e.Field, e.Code})
				if e.Message == "" {
					t.Errorf("entry %v without a message", e)
				}
			}
			if !slices.Equal(got, tt.missing) {
				t.Errorf("missing = %v\nwant %v\n(%v)", got, tt.missing, missing)
			}
			if tt.reports == 0 {
				if len(missing) == 0 {
					t.Error("a recognised mail without reports must name what is missing")
				}
				return
			}
			r := reps[0]
			if r.Type != report.TypeNetwork || r.Subtype != tt.subtype {
				t.Errorf("type %s/%s, want network/%s", r.Type, r.Subtype, tt.subtype)
			}
			if r.TargetOptional != tt.noTarget {
				t.Errorf("TargetOptional = %v", r.TargetOptional)
			}
			if r.Reporter != (report.Reporter{}) || r.Language != "" {
				t.Errorf("reporter %v / language %q set", r.Reporter, r.Language)
			}
			if len(r.Incidents) != tt.incidents {
				t.Errorf("%d incidents, want %d", len(r.Incidents), tt.incidents)
			}
			for _, s := range tt.description {
				if !strings.Contains(r.Description, s) {
					t.Errorf("description %q lacks %q", r.Description, s)
				}
			}
			in := r.Incidents[0]
			if f := tt.first; f.SourceIP != "" {
				if in.SourceIP != f.SourceIP || in.Target != f.Target || in.Timestamp != f.Timestamp || in.Protocol != f.Protocol {
					t.Errorf("first incident %+v\nwant %+v", in, f)
				}
				if f.Log != "" && in.Log != f.Log {
					t.Errorf("log %q\nwant %q", in.Log, f.Log)
				}
			}
			for _, in := range r.Incidents {
				if in.Log == "" || len(in.Log) > MaxLogBytes {
					t.Errorf("log of %d bytes", len(in.Log))
				}
			}
			validate(t, r)
		})
	}
}

func TestHoneypotPorts(t *testing.T) {
	reps, _, _ := parseFile(t, "honeypot-offsets.eml")
	ins := reps[0].Incidents
	if p := ins[0].SourcePort; p == nil || *p != 51234 {
		t.Errorf("source port %v", p)
	}
	if p := ins[0].TargetPort; p == nil || *p != 22 {
		t.Errorf("target port %v", p)
	}
	want := []string{"2024-03-10T08:15:00+01:00", "2024-03-10T08:20:00+01:00", "2024-03-10T07:20:00Z", "2024-03-10T09:00:00Z"}
	for i, w := range want {
		if ins[i].Timestamp != w {
			t.Errorf("incident %d timestamp %q, want %q", i, ins[i].Timestamp, w)
		}
	}
	if ins[3].Target != "honeypot-3.example.org" {
		t.Errorf("target %q", ins[3].Target)
	}
}

// att is an attachment of a generated mail.
type att struct {
	ctype, name string
	body        []byte
}

func buildMail(subject, text string, atts ...att) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: feed@feeds.example.org\nSubject: %s\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"B\"\n\n", subject)
	fmt.Fprintf(&b, "--B\nContent-Type: text/plain\n\n%s\n", text)
	for _, a := range atts {
		enc := base64.StdEncoding.EncodeToString(a.body)
		fmt.Fprintf(&b, "--B\nContent-Type: %s; name=%q\nContent-Disposition: attachment; filename=%q\nContent-Transfer-Encoding: base64\n\n", a.ctype, a.name, a.name)
		for len(enc) > 76 {
			b.WriteString(enc[:76] + "\n")
			enc = enc[76:]
		}
		b.WriteString(enc + "\n")
	}
	b.WriteString("--B--\n")
	return b.Bytes()
}

type member struct {
	name string
	body []byte
	// declared, when set, is written as the uncompressed size (stored
	// method), to test the check of declared sizes.
	declared uint64
	flags    uint16
}

func buildZip(t testing.TB, ms ...member) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, m := range ms {
		var err error
		if m.declared != 0 || m.flags != 0 {
			h := &zip.FileHeader{Name: m.name, Method: zip.Store, Flags: m.flags,
				CompressedSize64: uint64(len(m.body)), UncompressedSize64: m.declared}
			if m.declared == 0 {
				h.UncompressedSize64 = uint64(len(m.body))
			}
			w, err2 := zw.CreateRaw(h)
			if err2 == nil {
				_, err2 = w.Write(m.body)
			}
			err = err2
		} else {
			w, err2 := zw.Create(m.name)
			if err2 == nil {
				_, err2 = w.Write(m.body)
			}
			err = err2
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const goodCSV = "timestamp,ip\n2024-01-15T10:00:00Z,198.51.100.1\n"

func TestZip(t *testing.T) {
	many := make([]member, MaxZipMembers+1)
	for i := range many {
		many[i] = member{name: fmt.Sprintf("part%02d.csv", i), body: []byte(goodCSV)}
	}
	bomb := make([]byte, MaxUnzippedBytes+1) // zeros deflate a thousandfold
	tests := []struct {
		name    string
		members []member
		ok      bool
		reports int
		missing []wantEntry
	}{
		{"plain", []member{{name: "a.csv", body: []byte(goodCSV)}}, true, 1, nil},
		{"too many members", many, true, 0, []wantEntry{{"attachment[feed.zip]", report.CodeTooMany}}},
		{"bomb", []member{{name: "big.csv", body: bomb}}, true, 0, []wantEntry{{"attachment[feed.zip:big.csv]", report.CodeTooLarge}}},
		{"declared size past the limit", []member{{name: "a.csv", body: []byte(goodCSV), declared: MaxUnzippedBytes + 1}}, true, 0,
			[]wantEntry{{"attachment[feed.zip:a.csv]", report.CodeTooLarge}}},
		{"nested archive", []member{{name: "a.csv", body: []byte(goodCSV)}, {name: "more.zip", body: buildZip(t, member{name: "b.csv", body: []byte(goodCSV)})}}, true, 1,
			[]wantEntry{{"attachment[feed.zip:more.zip]", report.CodeInvalid}}},
		{"archive named csv", []member{{name: "a.csv", body: buildZip(t, member{name: "b.csv", body: []byte(goodCSV)})}}, true, 0,
			[]wantEntry{{"attachment[feed.zip:a.csv]", report.CodeInvalid}}},
		{"encrypted", []member{{name: "a.csv", body: []byte("xxxxxxxxxxxx"), flags: 1}}, true, 0, []wantEntry{{"attachment[feed.zip:a.csv]", report.CodeInvalid}}},
		{"malware sample", []member{{name: "invoice.exe", body: []byte("MZ\x90\x00")}}, false, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := buildMail("Feed", "see attachment", att{"application/zip", "feed.zip", buildZip(t, tt.members...)})
			reps, missing, ok := Parse(mailpart.Parse(raw))
			if ok != tt.ok || len(reps) != tt.reports {
				t.Fatalf("ok %v, %d reports; want %v, %d (missing %v)", ok, len(reps), tt.ok, tt.reports, missing)
			}
			var got []wantEntry
			for _, e := range missing {
				got = append(got, wantEntry{e.Field, e.Code})
			}
			if tt.reports == 0 && tt.ok && len(got) == 0 {
				t.Fatal("no missing entry")
			}
			if !slices.Equal(got, tt.missing) {
				t.Errorf("missing = %v, want %v (%v)", got, tt.missing, missing)
			}
		})
	}
}

func TestRecognition(t *testing.T) {
	csv := []byte(goodCSV)
	tests := []struct {
		a  att
		ok bool
	}{
		{att{"text/csv", "x.dat", csv}, true},
		{att{"application/csv", "", csv}, true},
		{att{"text/comma-separated-values", "feed", csv}, true},
		{att{"application/vnd.ms-excel", "feed.CSV", csv}, true},
		{att{"application/vnd.ms-excel", "feed.xls", csv}, false},
		{att{"text/plain", "feed.csv", csv}, true},
		{att{"text/plain", "notes.txt", csv}, false},
		{att{"application/octet-stream", "feed.zip", buildZip(t, member{name: "d/feed.csv", body: csv})}, true},
		{att{"application/x-zip-compressed", "feed.zip", buildZip(t, member{name: "feed.csv", body: csv})}, true},
		{att{"application/octet-stream", "feed.bin", buildZip(t, member{name: "feed.csv", body: csv})}, false},
		{att{"application/zip", "broken.zip", []byte("PK\x03\x04 not really")}, false},
		{att{"application/zip", "feed.csv.zip", []byte("PK\x03\x04 not really")}, true},
	}
	for _, tt := range tests {
		_, missing, ok := Parse(mailpart.Parse(buildMail("Feed", "hello", tt.a)))
		if ok != tt.ok {
			t.Errorf("%s %q: ok = %v, want %v (%v)", tt.a.ctype, tt.a.name, ok, tt.ok, missing)
		}
	}
}

func TestHeaderProblems(t *testing.T) {
	tests := []struct {
		csv  string
		code string
		msg  string
	}{
		{"198.51.100.1,2024-01-15T10:00:00Z\n", report.CodeRequired, "the first line is data"},
		{"host,timestamp\nx,2024-01-15T10:00:00Z\n", report.CodeRequired, "no source IP column"},
		{"ip,comment\n198.51.100.1,x\n", report.CodeRequired, "no time column"},
		{"ip,timestamp\n", report.CodeRequired, "no data rows"},
		{"", report.CodeRequired, "empty"},
	}
	for _, tt := range tests {
		reps, missing, ok := Parse(mailpart.Parse(buildMail("Feed", "", att{"text/csv", "f.csv", []byte(tt.csv)})))
		if !ok || len(reps) != 0 || len(missing) == 0 || missing[0].Code != tt.code || !strings.Contains(missing[0].Message, tt.msg) {
			t.Errorf("%q: ok %v, %d reports, missing %v", tt.csv, ok, len(reps), missing)
		}
	}
}

func TestDateAndTimeColumns(t *testing.T) {
	csv := "Date,Time,Source IP,Event\n2024-01-15,10:00:00,198.51.100.1,DNS amplification\n"
	reps, missing, _ := Parse(mailpart.Parse(buildMail("Feed", "All timestamps are given in GMT.", att{"text/csv", "f.csv", []byte(csv)})))
	if len(reps) != 1 || len(missing) != 0 {
		t.Fatalf("%d reports, missing %v", len(reps), missing)
	}
	in := reps[0].Incidents[0]
	if in.Timestamp != "2024-01-15T10:00:00Z" || reps[0].Subtype != "ddos" {
		t.Errorf("timestamp %q, subtype %s", in.Timestamp, reps[0].Subtype)
	}
	validate(t, reps[0])
}

func TestPreamble(t *testing.T) {
	csv := "\xef\xbb\xbf# Example blocklist, generated 2024-01-15\n# licence: CC0\n\"IP\";\"Last Seen\";\"Category\"\n198.51.100.1;2024-01-15T10:00:00Z;ssh brute force\n"
	reps, missing, _ := Parse(mailpart.Parse(buildMail("Feed", "", att{"text/csv", "f.csv", []byte(csv)})))
	if len(reps) != 1 || len(missing) != 0 {
		t.Fatalf("%d reports, missing %v", len(reps), missing)
	}
	if in := reps[0].Incidents[0]; in.SourceIP != "198.51.100.1" || reps[0].Subtype != "intrusion" || in.Log != "IP=198.51.100.1; Last Seen=2024-01-15T10:00:00Z; Category=ssh brute force" {
		t.Errorf("%+v, %s", in, reps[0].Subtype)
	}
	// Line numbers count the preamble: the sender's editor shows them so.
	csv = "# preamble\nip,timestamp\nbad,2024-01-15T10:00:00Z\n"
	_, missing, _ = Parse(mailpart.Parse(buildMail("Feed", "", att{"text/csv", "f.csv", []byte(csv)})))
	if len(missing) != 1 || missing[0].Field != "attachment[f.csv] line 3" {
		t.Errorf("missing %v", missing)
	}
}

func TestSplitAndCaps(t *testing.T) {
	var b strings.Builder
	b.WriteString("ip,timestamp,tag\n")
	n := 2*MaxIncidentsPerReport + 5
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "10.%d.%d.%d,%d,scan\n", i>>16&255, i>>8&255, i&255, 1700000000+i)
	}
	reps, missing, _ := Parse(mailpart.Parse(buildMail("Feed", "", att{"text/csv", "big.csv", []byte(b.String())})))
	if len(reps) != 3 || len(missing) != 0 {
		t.Fatalf("%d reports, missing %v", len(reps), missing)
	}
	total := 0
	for i, r := range reps {
		total += len(r.Incidents)
		if len(r.Incidents) > MaxIncidentsPerReport || r.Subtype != "port_scan" {
			t.Errorf("report %d: %d incidents, %s", i, len(r.Incidents), r.Subtype)
		}
		if !strings.Contains(r.Description, fmt.Sprintf("report %d of 3", i+1)) {
			t.Errorf("description %q", r.Description)
		}
	}
	if total != n {
		t.Errorf("%d incidents, want %d", total, n)
	}
	validate(t, reps[2])

	// Many bad rows: the first MaxMissing, then one entry counting the rest.
	b.Reset()
	b.WriteString("ip,timestamp\n")
	for i := 0; i < 150; i++ {
		b.WriteString("bad,2024-01-15T10:00:00Z\n")
	}
	reps, missing, ok := Parse(mailpart.Parse(buildMail("Feed", "", att{"text/csv", "bad.csv", []byte(b.String())})))
	if !ok || len(reps) != 0 || len(missing) != MaxMissing+1 {
		t.Fatalf("ok %v, %d reports, %d missing", ok, len(reps), len(missing))
	}
	if last := missing[MaxMissing]; last.Code != report.CodeTooMany || !strings.Contains(last.Message, "50 more") {
		t.Errorf("summary entry %+v", last)
	}
}

func TestRowCap(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 200,000 rows")
	}
	var b bytes.Buffer
	b.WriteString("ip,timestamp\n")
	for i := 0; i < MaxRowsPerMail+10; i++ {
		fmt.Fprintf(&b, "10.%d.%d.%d,%d\n", i>>16&255, i>>8&255, i&255, 1700000000+i)
	}
	reps, missing, _ := Parse(mailpart.Parse(buildMail("Feed", "", att{"text/csv", "huge.csv", b.Bytes()})))
	total := 0
	for _, r := range reps {
		total += len(r.Incidents)
	}
	want := report.FieldError{Field: fmt.Sprintf("attachment[huge.csv] line %d", MaxRowsPerMail+2), Code: report.CodeTooMany}
	if total != MaxRowsPerMail || len(missing) != 1 || missing[0].Field != want.Field || missing[0].Code != want.Code {
		t.Errorf("%d incidents, missing %v", total, missing)
	}
}

func TestLongRecord(t *testing.T) {
	csv := "ip,timestamp,note\n198.51.100.1,2024-01-15T10:00:00Z,ok\n198.51.100.2,2024-01-15T10:00:00Z,\"" + strings.Repeat("x\n", MaxRecordBytes) + "\"\n"
	reps, missing, _ := Parse(mailpart.Parse(buildMail("Feed", "", att{"text/csv", "f.csv", []byte(csv)})))
	if len(reps) != 1 || len(reps[0].Incidents) != 1 || len(missing) != 1 || missing[0].Code != report.CodeTooLarge {
		t.Errorf("%d reports, missing %v", len(reps), missing)
	}
}

func TestMailUTCStatement(t *testing.T) {
	tests := []struct {
		text string
		want bool
	}{
		{"All times are in UTC.", true},
		{"timestamps are UTC", true},
		{"Times shown in GMT", true},
		{"Toutes les heures sont en UTC.", true},
		{"heures UTC", true},
		{"UTC timestamps throughout", true},
		{"Time zone: UTC", true},
		{"Fuseau horaire : UTC", true},
		{"All timestamps (UTC)", true},
		{"Times are UTC+1", false},
		{"times are in UTC +02:00", false},
		{"Times are not UTC", false},
		{"Times are local to our collector (UTC+2).", false},
		{"Date: Mon, 15 Jan 2024 10:00:00 GMT\nDate: x", false},
		{"Received: by x; Mon, 15 Jan 2024 10:00:00 GMT\nDate: Mon", false},
		{"nothing here", false},
	}
	for _, tt := range tests {
		if got := mailUTCStatement(tt.text) != ""; got != tt.want {
			t.Errorf("%q: %v, want %v", tt.text, got, tt.want)
		}
	}
}

func TestFileUTC(t *testing.T) {
	for name, want := range map[string]bool{
		"scan-2024-01-15-utc.csv": true, "feed_UTC.csv": true, "utc-2024-01-15.csv": true, "feed.gmt.csv": true,
		"feed-utc+1.csv": false, "utc-05.csv": false, "utc-0500.csv": false, "mgmt.csv": false, "feed.csv": false,
	} {
		if got := fileUTC(name); got != want {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
}

func TestReadTime(t *testing.T) {
	tests := []struct {
		in   string
		utc  bool
		want string
		code string
	}{
		{"2024-01-15T10:00:00Z", false, "2024-01-15T10:00:00Z", ""},
		{"2024-01-15 10:00:00+01:00", false, "2024-01-15T10:00:00+01:00", ""},
		{"2024-01-15 10:00:00 +0100", false, "2024-01-15T10:00:00+01:00", ""},
		{"2024-01-15T10:00:00.250-05", false, "2024-01-15T10:00:00.25-05:00", ""},
		{"2024-01-15 10:00:00 UTC", false, "2024-01-15T10:00:00Z", ""},
		{"2024-01-15 10:00:00 +0000 UTC", false, "2024-01-15T10:00:00Z", ""},
		{"2024-01-15 10:00", true, "2024-01-15T10:00:00Z", ""},
		{"2024-01-15 10:00:00", true, "2024-01-15T10:00:00Z", ""},
		{"2024-01-15 10:00:00", false, "", report.CodeTimezoneRequired},
		{"2024-01-15", true, "", report.CodeInvalidTimestamp},
		{"1705312800", false, "2024-01-15T10:00:00Z", ""},
		{"1705312800.5", false, "2024-01-15T10:00:00.5Z", ""},
		{"20240115", false, "", report.CodeInvalidTimestamp},
		{"15/01/2024 10:00", true, "", report.CodeInvalidTimestamp},
		{"", true, "", report.CodeRequired},
	}
	for _, tt := range tests {
		got, _, code, _ := readTime(tt.in, tt.utc)
		if got != tt.want || code != tt.code {
			t.Errorf("readTime(%q, %v) = %q, %q; want %q, %q", tt.in, tt.utc, got, code, tt.want, tt.code)
		}
	}
}
