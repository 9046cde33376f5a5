package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"abusedesk/internal/attribution"
	"abusedesk/internal/intake"
	"abusedesk/internal/intake/csvreport"
	"abusedesk/internal/inventory"
	"abusedesk/internal/store"
	"abusedesk/internal/web"
)

const logsDir = "../../internal/logscan/testdata"

// testDesk is a real abusedesk server on a SQLite file, with the address
// space of the sample logs, behind a handler that may answer a bulk upload
// itself (a 429, a 503) before the desk sees it.
type testDesk struct {
	URL   string
	st    *store.Store
	bulks atomic.Int32 // bulk uploads that reached the server
	// front answers the n-th bulk upload (from 1) instead of the desk when
	// it returns true.
	front func(n int32, w http.ResponseWriter, r *http.Request) bool
}

func newTestDesk(t *testing.T) *testDesk {
	t.Helper()
	ctx := t.Context()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "desk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	in := intake.New(st, nil, intake.BulkLimits{})
	t.Cleanup(in.Close)
	k := inventory.New(st, nil)
	k.OnChange = in.SetAttributor
	if err := k.Load(ctx); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(logsDir, "ip-ranges.json"))
	if err != nil {
		t.Fatal(err)
	}
	space, es, err := attribution.ParseRanges(f)
	f.Close()
	if err != nil || len(es) > 0 {
		t.Fatal(err, es)
	}
	if err := k.ReplaceRanges(ctx, space); err != nil {
		t.Fatal(err)
	}
	d := &testDesk{st: st}
	h := web.New(web.Config{DisableRateLimit: true}, in, nil).Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/reports/bulk" {
			n := d.bulks.Add(1)
			if d.front != nil && d.front(n, w, r) {
				return
			}
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	d.URL = srv.URL
	return d
}

func (d *testDesk) counts(t *testing.T) (reports, incidents int64) {
	t.Helper()
	r, i, err := d.st.Counts(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return r, i
}

// runReport runs `abusedesk report ARGS` in process.
func runReport(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = cmdReport(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func csvRows(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd, err := csvreport.NewReader(f, csvreport.Options{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		if _, err := rd.Next(); err == io.EOF {
			return n
		} else if err != nil {
			t.Fatal(err)
		}
		n++
	}
}

var statusLink = regexp.MustCompile(`status: (http://\S+/status/(R-\w+)\?token=\S+)`)

// The two commands end to end: the sample logs scanned, the CSV sent to a
// real desk that first answers 429 with Retry-After, the report stored with
// every row attributed to the address space; sent again, it is the same
// report (the default Idempotency-Key is the file's SHA-256).
func TestReportScanThenSubmit(t *testing.T) {
	desk := newTestDesk(t)
	var retryAfterSeen atomic.Bool
	desk.front = func(n int32, w http.ResponseWriter, r *http.Request) bool {
		if n != 1 {
			return false
		}
		retryAfterSeen.Store(true)
		w.Header().Set("Retry-After", "1")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"errors":[{"field":"","code":"rate_limited","message":"too many requests from this client: retry after the delay in Retry-After (seconds), or use an API key"}]}`)
		return true
	}
	dir := t.TempDir()
	files := []string{"auth-precise.log", "ufw.log", "access.log", "mail.log", "journal.export", "fail2ban.log"}
	args := []string{"scan", "--ranges", filepath.Join(logsDir, "ip-ranges.json"), "--tz", "Europe/Paris", "--now", "2026-03-03T00:00:00+01:00"}
	for _, f := range files {
		args = append(args, filepath.Join(logsDir, f))
	}
	code, csvText, errText := runReport(t, "", args...)
	if code != exitOK {
		t.Fatalf("scan: exit %d\n%s", code, errText)
	}
	for _, want := range []string{
		"access.log: 11 lines, 7 events, 1 unreadable\n",
		"journal.export: 5 lines, 3 events, 1 unreadable\n",
		"times without a zone are read in Europe/Paris (UTC+01:00 now)",
	} {
		if !strings.Contains(errText, want) {
			t.Errorf("scan's report lacks %q:\n%s", want, errText)
		}
	}
	csvPath := filepath.Join(dir, "report.csv")
	os.WriteFile(csvPath, []byte(csvText), 0o644)
	rows := csvRows(t, csvPath)
	// auth-precise 7 lines for 7 events, ufw 4, access 7, mail 4 (one
	// line for 3 attempts), journal 3, fail2ban 2 (the third ban is not
	// the provider's).
	if rows != 27 {
		t.Fatalf("%d rows, want 27:\n%s", rows, csvText)
	}

	submit := []string{"submit", "--server", desk.URL, "--type", "network", "--subtype", "intrusion",
		"--name", "Ops", "--email", "ops@example.org", "--org", "Example SARL", "--kind", "organization",
		"--description", "SSH, mail and web password guessing against web1", csvPath}
	code, out, errText := runReport(t, "", submit...)
	if code != exitOK {
		t.Fatalf("submit: exit %d\n%s\n%s", code, out, errText)
	}
	if !retryAfterSeen.Load() || desk.bulks.Load() != 2 {
		t.Errorf("%d uploads reached the server, want the 429 and the retry", desk.bulks.Load())
	}
	if !strings.Contains(errText, "the desk asks to slow down (429); retrying in 1s") || !strings.Contains(errText, "uploading report.csv") ||
		!strings.Contains(errText, "(attempt 2)") || !strings.Contains(errText, "sent; the desk is checking") {
		t.Errorf("progress on stderr:\n%s", errText)
	}
	m := statusLink.FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, "rows accepted, 0 rejected") || !strings.Contains(out, ": 27 rows accepted") {
		t.Fatalf("answer:\n%s", out)
	}
	if r, i := desk.counts(t); r != 1 || i != 27 {
		t.Errorf("%d reports, %d incidents stored; want 1, 27", r, i)
	}
	// Every row is the provider's: the desk says none is not its own.
	resp, err := http.Get(strings.Replace(m[1], "/status/", "/api/v1/reports/", 1))
	if err != nil {
		t.Fatal(err)
	}
	var status struct {
		Items   int     `json:"items"`
		NotOurs int     `json:"not_ours"`
		Outcome *string `json:"outcome"`
	}
	json.NewDecoder(resp.Body).Decode(&status)
	resp.Body.Close()
	if resp.StatusCode != 200 || status.Items != 27 || status.NotOurs != 0 || status.Outcome != nil {
		t.Errorf("status %d %+v", resp.StatusCode, status)
	}

	// Again: the same report, nothing stored twice.
	code, out2, errText := runReport(t, "", submit...)
	if code != exitOK || !strings.Contains(out2, "already stored") || !strings.Contains(out2, m[2]) {
		t.Errorf("second submit: exit %d\n%s\n%s", code, out2, errText)
	}
	if r, _ := desk.counts(t); r != 1 {
		t.Errorf("%d reports after a second submit of the same file", r)
	}
}

const mixedCSV = "ip,timestamp,log,target,target_port,protocol,source_port\n" +
	"203.0.113.7,2026-03-02T10:00:00+01:00,sshd[812]: Failed password for root from 203.0.113.7 port 51234 ssh2,192.0.2.10,22,ssh,51234\n" +
	"203.0.113.8,2026-03-02 10:00:00,sshd[813]: Failed password for root from 203.0.113.8 port 51235 ssh2,,,ssh,\n" +
	"203.0.113.300,2026-03-02T10:00:02+01:00,sshd[814]: Failed password,,,ssh,\n" +
	"2001:db8:1000::25,2026-03-02T10:00:03Z,sshd[815]: Invalid user oracle from 2001:db8:1000::25 port 40022,,,ssh,40022\n"

// Rows the desk rejects are listed by line with the reason; the good ones
// are stored; the exit status says so (3). The file comes on standard
// input.
func TestReportSubmitRejectedRows(t *testing.T) {
	desk := newTestDesk(t)
	code, out, errText := runReport(t, mixedCSV, "submit", "--server", desk.URL, "--subtype", "intrusion", "--name", "Ops", "--email", "ops@example.org", "-")
	if code != exitRejected {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, exitRejected, out, errText)
	}
	for _, want := range []string{
		": 2 rows accepted, 2 rejected",
		"line 3: timestamp: \"2026-03-02 10:00:00\" has no time zone",
		"(timezone_required)",
		"line 4: ip: \"203.0.113.300\" is not an IPv4 or IPv6 address (invalid_ip)",
		"status: http://",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("answer lacks %q:\n%s", want, out)
		}
	}
	if r, i := desk.counts(t); r != 1 || i != 2 {
		t.Errorf("%d reports, %d incidents; want 1, 2", r, i)
	}
}

// A report part the desk refuses: nothing stored, the field named, exit 1.
func TestReportSubmitRefused(t *testing.T) {
	desk := newTestDesk(t)
	path := filepath.Join(t.TempDir(), "r.csv")
	os.WriteFile(path, []byte(mixedCSV), 0o644)
	code, out, errText := runReport(t, "", "submit", "--server", desk.URL, "--subtype", "brute_force", "--name", "Ops", "--email", "ops@example.org", path)
	if code != exitFailed || !strings.Contains(errText, "refused by the desk (422)") || !strings.Contains(errText, "report.subtype: \"brute_force\" is not a network subtype") {
		t.Errorf("exit %d\n%s\n%s", code, out, errText)
	}
	if r, _ := desk.counts(t); r != 0 {
		t.Errorf("%d reports stored", r)
	}
	// No server at all: the retries run out, exit 1.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	code, _, errText = runReport(t, "", "submit", "--server", dead, "--retries", "1", "--subtype", "intrusion", "--name", "Ops", "--email", "ops@example.org", path)
	if code != exitFailed || !strings.Contains(errText, "gave up after 2 attempts") {
		t.Errorf("dead server: exit %d\n%s", code, errText)
	}
}

// --dry-run checks with the desk's rules and sends nothing.
func TestReportSubmitDryRun(t *testing.T) {
	desk := newTestDesk(t)
	path := filepath.Join(t.TempDir(), "r.csv")
	os.WriteFile(path, []byte(mixedCSV), 0o644)
	sum := sha256.Sum256([]byte(mixedCSV))
	code, out, errText := runReport(t, "", "submit", "--dry-run", "--server", desk.URL, "--subtype", "intrusion", "--name", "Ops", "--email", "ops@example.org", path)
	if code != exitRejected {
		t.Fatalf("exit %d\n%s\n%s", code, out, errText)
	}
	for _, want := range []string{
		"dry run: nothing is sent",
		"POST " + desk.URL + "/api/v1/reports/bulk",
		"Idempotency-Key: sha256:" + hex.EncodeToString(sum[:]),
		`"subtype": "intrusion"`,
		`"email": "ops@example.org"`,
		"4 rows: 2 valid, 2 rejected",
		"line 3: timestamp:",
		"line 4: ip:",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = runReport(t, "", "submit", "--dry-run", "--subtype", "intrusion", "--name", "Ops", "--email", "not an address", path)
	if code != exitFailed || !strings.Contains(out, "report.reporter.email") || !strings.Contains(out, "the desk would refuse it") {
		t.Errorf("bad email: exit %d\n%s", code, out)
	}
	if n := desk.bulks.Load(); n != 0 {
		t.Errorf("%d uploads sent by a dry run", n)
	}
}

// scan: an unreadable file is named and the others read (exit 0); nothing
// read is exit 1; a bad flag exit 2.
func TestReportScanExitStatus(t *testing.T) {
	dir := t.TempDir()
	binary := filepath.Join(dir, "wtmp")
	os.WriteFile(binary, []byte("\x00\x01\x02garbage\x00\nmore \x00 garbage\n"), 0o644)
	good := filepath.Join(logsDir, "fail2ban.log")
	missing := filepath.Join(dir, "missing.log")

	code, out, errText := runReport(t, "", "scan", "--tz", "UTC", missing, good)
	if code != exitOK || !strings.Contains(errText, missing+": open") || !strings.Contains(out, "203.0.113.7,2026-03-02T10:05:00.303Z,") {
		t.Errorf("missing and good: exit %d\n%s\n%s", code, out, errText)
	}
	if code, out, errText := runReport(t, "", "scan", missing); code != exitFailed || out != "" || !strings.Contains(errText, "nothing could be read") {
		t.Errorf("missing only: exit %d\n%s\n%s", code, out, errText)
	}
	if code, _, errText := runReport(t, "", "scan", binary); code != exitFailed || !strings.Contains(errText, "wtmp: 2 lines, 0 events, 2 unreadable") {
		t.Errorf("binary: exit %d\n%s", code, errText)
	}
	for _, bad := range [][]string{{"scan", "--bogus"}, {"scan", "--tz", "Mars/Olympus"}, {"scan", "--http-status", "600"}, {"scan", "--now", "yesterday"}, {"frobnicate"}, {"submit"}} {
		if code, _, _ := runReport(t, "", bad...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", bad, code, exitUsage)
		}
	}
	// Standard input, flags after the file, --min-events and --target.
	in, _ := os.ReadFile(filepath.Join(logsDir, "auth.log"))
	code, out, errText = runReport(t, string(in), "scan", "-", "--now", "2026-01-02", "--tz", "Europe/Paris", "--min-events", "2", "--target", "192.0.2.10", "--ranges", filepath.Join(logsDir, "ip-ranges.json"))
	if code != exitOK || !strings.Contains(errText, "standard input: 32 lines, 17 events, 4 unreadable") {
		t.Fatalf("stdin: exit %d\n%s", code, errText)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 6 || !strings.HasPrefix(lines[1], "203.0.113.7,2025-12-31T23:57:12+01:00,") || !strings.Contains(lines[1], ",192.0.2.10,,ssh,51234") {
		t.Errorf("only 203.0.113.7 has 2 events or more:\n%s", out)
	}
	if !strings.Contains(errText, "(5 with fewer than 2 events left out)") || !strings.Contains(errText, "203.0.113.50") {
		t.Errorf("summary:\n%s", errText)
	}
}
