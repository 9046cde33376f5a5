package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"abusedesk/internal/attribution"
	"abusedesk/internal/bulkclient"
	"abusedesk/internal/logscan"
	"abusedesk/internal/report"
)

// Exit statuses of `abusedesk report`.
const (
	exitOK       = 0 // scan: read; submit: stored, every row accepted
	exitFailed   = 1 // scan: nothing could be read; submit: nothing stored
	exitUsage    = 2
	exitRejected = 3 // submit: stored, but some rows were rejected
)

const reportUsage = `usage:
  abusedesk report scan [--ranges ip-ranges.json] [--tz ZONE] [--now TIME] [--min-events N]
                        [--max-per-ip N] [--http-status 400-499] [--target HOST] [FILE…|-] > report.csv
  abusedesk report submit --server URL --type network --subtype SUBTYPE --name NAME --email EMAIL
                        [--org ORG] [--kind KIND] [--description TEXT] [--lang en|fr] [--share-contact]
                        [--api-key KEY] [--idempotency-key KEY] [--dry-run] FILE.csv|-
`

// cmdReport is `abusedesk report scan|submit`, the reporter's side of the
// bulk endpoint. It returns the exit status.
func cmdReport(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, reportUsage)
		return exitUsage
	}
	switch args[0] {
	case "scan":
		return cmdReportScan(ctx, args[1:], stdin, stdout, stderr)
	case "submit":
		return cmdReportSubmit(ctx, args[1:], stdin, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, reportUsage)
		return exitOK
	}
	fmt.Fprintf(stderr, "abusedesk report: unknown command %q\n\n%s", args[0], reportUsage)
	return exitUsage
}

// parseInterspersed parses flags before, between and after the positional
// arguments (`scan /var/log/auth.log --tz UTC` reads as it is meant), and
// returns the positional ones. "--" ends the flags.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func cmdReportScan(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("report scan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ranges := fs.String("ranges", env("ABUSEDESK_RANGES", ""), "the provider's address space, an ip-ranges.json `file` (as abusedesk import ranges takes); only its addresses are written ($ABUSEDESK_RANGES; default: every public address)")
	tz := fs.String("tz", "", "IANA `zone` of the times logs write without one (syslog, fail2ban, nginx's error log…); default: this machine's")
	nowFlag := fs.String("now", "", "the `time` a syslog date without a year is read against (RFC 3339 or YYYY-MM-DD); default: each file's modification time")
	minEvents := fs.Int64("min-events", 1, "leave out the addresses with fewer `events`")
	maxPerIP := fs.Int("max-per-ip", logscan.DefaultMaxPerIP, "most `rows` per address: the earliest half and the latest half of its events; the last row counts them all")
	httpStatus := fs.String("http-status", logscan.DefaultHTTPStatusSpec, "access log `statuses` that count as abuse: 401,403,404 or 400-499 or 4xx,5xx; off for none")
	target := fs.String("target", "", "the attacked `host` (this machine's address or name) for the rows whose line does not name one")
	includeLoggedIn := fs.Bool("include-logged-in", false, "keep the addresses that also logged in successfully (sshd's \"Accepted\"), which are left out as likely users of the machine")
	workers := fs.Int("workers", 0, "goroutines parsing each file; 0 means one per CPU")
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return exitUsage
	}
	if *minEvents < 1 || *maxPerIP < 1 {
		fmt.Fprintln(stderr, "abusedesk report scan: --min-events and --max-per-ip are at least 1")
		return exitUsage
	}
	opt := logscan.Options{Location: time.Local, Workers: *workers}
	zoneNote := "this machine's zone"
	if *tz != "" {
		loc, err := time.LoadLocation(*tz)
		if err != nil {
			fmt.Fprintf(stderr, "abusedesk report scan: --tz %q: %v (an IANA zone such as Europe/Paris or UTC)\n", *tz, err)
			return exitUsage
		}
		opt.Location, zoneNote = loc, *tz
	}
	if *nowFlag != "" {
		t, err := parseNow(*nowFlag, opt.Location)
		if err != nil {
			fmt.Fprintf(stderr, "abusedesk report scan: --now: %v\n", err)
			return exitUsage
		}
		opt.Now = t
	}
	if opt.HTTPStatus, err = logscan.ParseStatusSet(*httpStatus); err != nil {
		fmt.Fprintf(stderr, "abusedesk report scan: --http-status: %v\n", err)
		return exitUsage
	}
	if *target != "" {
		if _, ok := report.ParseIP(*target); !ok && !report.ValidHost(*target) {
			fmt.Fprintf(stderr, "abusedesk report scan: --target %q is neither an IP address nor a host name\n", *target)
			return exitUsage
		}
	}
	c := &logscan.Collector{MaxPerIP: *maxPerIP}
	if *ranges != "" {
		space, err := readRanges(*ranges, stderr)
		if err != nil {
			fmt.Fprintf(stderr, "abusedesk report scan: --ranges %s: %v\n", *ranges, err)
			return exitFailed
		}
		c.Space = space
	} else {
		fmt.Fprintln(stderr, "no --ranges: every public address is kept (the desk answers for the addresses that are not its provider's)")
	}
	if len(files) == 0 {
		files = []string{"-"}
	}
	_, off := time.Now().In(opt.Location).Zone()
	fmt.Fprintf(stderr, "times without a zone are read in %s (UTC%s now)\n", zoneNote, offsetString(off))

	read := 0
	for _, name := range files {
		if err := ctx.Err(); err != nil {
			fmt.Fprintln(stderr, "abusedesk report scan:", err)
			return exitFailed
		}
		var st logscan.FileStats
		if name == "-" {
			ref := opt.Now
			if ref.IsZero() {
				ref = time.Now()
			}
			st = logscan.Scan(stdin, "-", ref, opt, c)
			st.Name = "standard input"
		} else {
			st = logscan.ScanFile(name, opt, c)
		}
		if st.Err == nil || st.Lines > 0 {
			fmt.Fprintf(stderr, "%s: %s lines, %s events, %s unreadable\n", st.Name, thousands(st.Lines), thousands(st.Events), thousands(st.Unreadable))
		}
		if st.Err != nil {
			fmt.Fprintf(stderr, "abusedesk report scan: %s: %v\n", st.Name, st.Err)
		}
		// Read: opened, and not only lines of no known format (a binary
		// file, the wrong file).
		if st.Lines > st.Unreadable || (st.Err == nil && st.Lines == 0) {
			read++
		}
	}
	if read == 0 {
		fmt.Fprintln(stderr, "abusedesk report scan: nothing could be read")
		return exitFailed
	}
	sum, err := c.WriteCSV(stdout, logscan.WriteOptions{MinEvents: *minEvents, IncludeLoggedIn: *includeLoggedIn, Target: *target})
	if err != nil {
		fmt.Fprintln(stderr, "abusedesk report scan: writing the CSV:", err)
		return exitFailed
	}
	where := "addresses of the address space"
	if c.Space == nil {
		where = "public addresses"
	}
	fmt.Fprintf(stderr, "%s events from %s %s, %s from other addresses; %s rows written for %s addresses",
		thousands(sum.Events), thousands(int64(sum.Addresses)), where, thousands(sum.Outside), thousands(int64(sum.Rows)), thousands(int64(sum.Written)))
	if sum.BelowMin > 0 {
		fmt.Fprintf(stderr, " (%s with fewer than %d events left out)", thousands(int64(sum.BelowMin)), *minEvents)
	}
	fmt.Fprintln(stderr)
	if len(sum.LoggedIn) > 0 {
		list := make([]string, 0, 10)
		for _, a := range sum.LoggedIn[:min(len(sum.LoggedIn), 10)] {
			list = append(list, a.String())
		}
		more := ""
		if len(sum.LoggedIn) > 10 {
			more = fmt.Sprintf(" and %d more", len(sum.LoggedIn)-10)
		}
		fmt.Fprintf(stderr, "left out, as they also logged in successfully (users of this machine?): %s%s; --include-logged-in reports them\n", strings.Join(list, ", "), more)
	}
	return exitOK
}

// readRanges reads an ip-ranges.json document; bad entries are named and
// skipped, as abusedesk import ranges does.
func readRanges(name string, stderr io.Writer) (*attribution.AddressSpace, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	space, es, err := attribution.ParseRanges(f)
	if err != nil {
		return nil, err
	}
	for _, e := range es {
		fmt.Fprintf(stderr, "%s: %s: %s (%s), skipped\n", name, e.Field, e.Message, e.Code)
	}
	if space.Len() == 0 {
		return nil, errors.New("no prefix in the file")
	}
	return space, nil
}

// parseNow reads --now: RFC 3339, or a date (its midnight in loc).
func parseNow(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", s, loc); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time such as 2026-01-02T09:00:00+01:00 or a date such as 2026-01-02", s)
}

func offsetString(off int) string {
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	return fmt.Sprintf("%c%02d:%02d", sign, off/3600, off%3600/60)
}

// thousands writes n with thousands separators: 1,204.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func cmdReportSubmit(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("report submit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := fs.String("server", env("ABUSEDESK_SERVER", ""), "the desk's base `URL`, e.g. https://abuse.example ($ABUSEDESK_SERVER)")
	typ := fs.String("type", report.TypeNetwork, "abuse `type`: network or email")
	subtype := fs.String("subtype", "", "the type's `subtype`: intrusion, ddos, port_scan, other (network); spam_sent, spam_hosted (email)")
	name := fs.String("name", "", "your `name`")
	email := fs.String("email", "", "your `email` address (status mail, and the key of idempotency)")
	org := fs.String("org", "", "your `organization`")
	kind := fs.String("kind", "", "what you are: individual, organization, isp, cert or government (the desk's default: individual)")
	share := fs.Bool("share-contact", false, "let the desk give your name and email to its customer")
	description := fs.String("description", "", "a `text` for the analyst: what these logs show")
	lang := fs.String("lang", "", "`language` of the desk's mail to you: en or fr (the desk's default: en)")
	apiKey := fs.String("api-key", env("ABUSEDESK_API_KEY", ""), "the desk's API `key` ($ABUSEDESK_API_KEY; a higher rate limit)")
	idemKey := fs.String("idempotency-key", "", "Idempotency-Key `key`; default: sha256: and the file's SHA-256, so that running the command again is safe")
	dryRun := fs.Bool("dry-run", false, "check the report and the file with the desk's rules and show what would be sent; send nothing")
	retries := fs.Int("retries", bulkclient.DefaultRetries, "retries after a network error, a 5xx or a 429")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(pos) != 1 {
		fmt.Fprint(stderr, "abusedesk report submit: name one CSV file (- for standard input)\n\n"+reportUsage)
		return exitUsage
	}
	if *server == "" && !*dryRun {
		fmt.Fprintln(stderr, "abusedesk report submit: --server is required (or $ABUSEDESK_SERVER)")
		return exitUsage
	}
	path := pos[0]
	if path == "-" {
		// The body is sent with its length, and again on a retry: keep
		// standard input in a file.
		tmp, err := os.CreateTemp("", "abusedesk-submit-*.csv")
		if err != nil {
			fmt.Fprintln(stderr, "abusedesk report submit:", err)
			return exitFailed
		}
		defer os.Remove(tmp.Name())
		if _, err := io.Copy(tmp, stdin); err != nil {
			tmp.Close()
			fmt.Fprintln(stderr, "abusedesk report submit: reading standard input:", err)
			return exitFailed
		}
		if err := tmp.Close(); err != nil {
			fmt.Fprintln(stderr, "abusedesk report submit:", err)
			return exitFailed
		}
		path = tmp.Name()
	}
	up := bulkclient.Upload{
		Report: report.Report{
			Type: *typ, Subtype: *subtype,
			Reporter:                 report.Reporter{Name: *name, Email: *email, Organization: *org, Kind: *kind},
			ShareContactWithCustomer: *share, Language: *lang, Description: *description,
		},
		Path: path, IdempotencyKey: *idemKey,
	}
	if pos[0] == "-" {
		up.Name = "report.csv"
	}
	if up.IdempotencyKey == "" {
		sum, err := fileSHA256(path)
		if err != nil {
			fmt.Fprintln(stderr, "abusedesk report submit:", err)
			return exitFailed
		}
		up.IdempotencyKey = "sha256:" + sum
	}
	if *dryRun {
		return submitDryRun(up, *server, stdout, stderr)
	}
	tty := false
	if f, ok := stderr.(*os.File); ok {
		tty = bulkclient.IsTerminal(f)
	}
	cl := &bulkclient.Client{
		Server: *server, APIKey: *apiKey, Retries: *retries,
		Progress:  bulkclient.NewProgress(stderr, tty),
		UserAgent: "abusedesk-report-submit",
	}
	if *retries == 0 {
		cl.Retries = -1
	}
	res, err := cl.Submit(ctx, up)
	if err != nil {
		fmt.Fprintln(stderr, "abusedesk report submit:", err)
		return exitFailed
	}
	return printResult(res, stdout, stderr)
}

// maxListed is how many rejected rows are printed.
const maxListed = 20

func printResult(res *bulkclient.Result, stdout, stderr io.Writer) int {
	if !res.Stored() {
		fmt.Fprintf(stderr, "abusedesk report submit: refused by the desk (%d); nothing was stored\n", res.StatusCode)
		for _, e := range res.Errors {
			fmt.Fprintf(stderr, "  %s\n", fieldError(e.Field, e.Message, e.Code))
		}
		printRejected(stderr, res.Rejected, res.RejectedCount)
		return exitFailed
	}
	what := "stored as"
	if res.Replayed {
		what = "already stored (an earlier upload with the same idempotency key) as"
	}
	fmt.Fprintf(stdout, "%s %s: %s rows accepted, %s rejected\n", what, res.ID, thousands(int64(res.Accepted)), thousands(int64(res.RejectedCount)))
	printRejected(stdout, res.Rejected, res.RejectedCount)
	fmt.Fprintf(stdout, "status: %s\n", res.StatusURL)
	if res.RejectedCount > 0 {
		return exitRejected
	}
	return exitOK
}

func printRejected(w io.Writer, rs []bulkclient.Reject, count int) {
	if count == 0 || len(rs) == 0 {
		return
	}
	n := min(len(rs), maxListed)
	fmt.Fprintf(w, "rejected rows (%d problems listed of %s rows):\n", n, thousands(int64(count)))
	for _, r := range rs[:n] {
		fmt.Fprintf(w, "  line %d: %s\n", r.Line, fieldError(r.Field, r.Message, r.Code))
	}
}

func fieldError(field, msg, code string) string {
	if field == "" {
		return fmt.Sprintf("%s (%s)", msg, code)
	}
	return fmt.Sprintf("%s: %s (%s)", field, msg, code)
}

// submitDryRun checks the upload with the desk's rules and shows what would
// be sent.
func submitDryRun(up bulkclient.Upload, server string, stdout, stderr io.Writer) int {
	ck, err := bulkclient.CheckUpload(up, time.Now(), maxListed)
	if err != nil {
		fmt.Fprintln(stderr, "abusedesk report submit:", err)
		return exitFailed
	}
	part, _ := json.MarshalIndent(up.Report, "  ", "  ")
	if server == "" {
		server = "(--server)"
	}
	fmt.Fprintf(stdout, "dry run: nothing is sent\nPOST %s%s\nIdempotency-Key: %s\nreport part (application/json):\n  %s\nfile part (text/csv): %s, %s bytes, %s rows: %s valid, %s rejected\n",
		strings.TrimRight(server, "/"), bulkclient.Path, up.IdempotencyKey, part, up.Path, thousands(ck.Size), thousands(int64(ck.Rows)), thousands(int64(ck.Valid)), thousands(int64(ck.RejectedCount)))
	for _, e := range ck.ReportErrors {
		fmt.Fprintf(stdout, "  %s\n", fieldError(e.Field, e.Message, e.Code))
	}
	if ck.FileError != nil {
		fmt.Fprintf(stdout, "  file: %v\n", ck.FileError)
	}
	printRejected(stdout, ck.Rejected, ck.RejectedCount)
	switch {
	case !ck.Stored():
		fmt.Fprintln(stdout, "the desk would refuse it: nothing would be stored")
		return exitFailed
	case ck.RejectedCount > 0:
		fmt.Fprintln(stdout, "the desk would store the valid rows and reject the others")
		return exitRejected
	}
	fmt.Fprintln(stdout, "the desk would store every row")
	return exitOK
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
