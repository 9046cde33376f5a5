package feedmail

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"abusedesk/internal/report"
)

var (
	errRecordTooLarge = errors.New("record too large")
	errUnzipLimit     = errors.New("decompressed size limit reached")
)

// recordLimiter fails a read once more than max bytes were pulled since the
// last reset. The CSV reader resets it after each record, so it bounds one
// record (plus the reader's 4 KiB read-ahead): encoding/csv has no such
// bound of its own and would buffer a quoted field to the end of the input.
type recordLimiter struct {
	r   io.Reader
	n   int
	max int
}

func (l *recordLimiter) Read(b []byte) (int, error) {
	if l.n > l.max {
		return 0, errRecordTooLarge
	}
	n, err := l.r.Read(b)
	l.n += n
	return n, err
}

// countingReader reads an archive member through an io.LimitReader of what
// is left of the mail's MaxUnzippedBytes, and notes when it ran out.
type countingReader struct {
	r     io.Reader
	lr    io.Reader
	limit int64
	p     *parser
	over  bool
}

func (c *countingReader) Read(b []byte) (int, error) {
	if c.lr == nil {
		// One byte more than the budget, to tell "exactly at the limit"
		// from "past it".
		c.lr = io.LimitReader(c.r, c.limit+1)
	}
	n, err := c.lr.Read(b)
	c.p.unzipped += int64(n)
	if c.p.unzipped > MaxUnzippedBytes {
		c.over = true
		return 0, errUnzipLimit
	}
	return n, err
}

// feed is the state of one CSV attachment or member being read.
type feed struct {
	p         *parser
	name      string // in Field paths
	label     string // in descriptions
	cols      *columns
	zone      string // how zone-less times were made UTC, for the description
	zoneUsed  bool
	incidents []report.Incident
	rows      int
	votes     map[string]int
}

// readCSV reads one CSV file into reports.
func (p *parser) readCSV(name, label string, r io.Reader) {
	at := "attachment[" + name + "]"
	if p.feeds >= MaxFeeds {
		p.problem(at, report.CodeTooMany, "at most %d CSV files are read per mail: this one was not", MaxFeeds)
		return
	}
	p.feeds++
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(4096)
	if archiveMagic(head) {
		p.problem(at, report.CodeInvalid, "the file is an archive or compressed file, not CSV: send the CSV text itself or a ZIP of it")
		return
	}
	if bytes.HasPrefix(head, []byte("\xef\xbb\xbf")) {
		// A UTF-8 byte order mark, as spreadsheets write it: before a
		// quoted header name it would make the name unreadable.
		br.Discard(3)
		head = head[3:]
	}
	lim := &recordLimiter{r: br, max: MaxRecordBytes}
	cr := csv.NewReader(lim)
	cr.Comma = sniffComma(head)
	// Lines starting with "#" are comments: blocklists and feeds put a
	// preamble (source, licence, generation time) above the header.
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	f := &feed{p: p, name: name, label: label, votes: map[string]int{}}

	line := 0 // the last line read, for errors that have no position
	for {
		lim.n = 0
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		var pe *csv.ParseError
		switch {
		case errors.As(err, &pe):
			// A broken quote spoils one record; reading goes on at the
			// next line, as encoding/csv does.
			line = pe.StartLine
			if f.cols == nil {
				p.problem(lineField(name, pe.StartLine), report.CodeInvalid, "the header row is not readable CSV (%s): the first line must name the columns", clean(pe.Err.Error(), 80))
				return
			}
			if !f.count(pe.StartLine) {
				break
			}
			p.problem(lineField(name, pe.StartLine), report.CodeInvalid, "this row is not readable CSV (%s): quote fields that hold commas or quotes, and double inner quotes", clean(pe.Err.Error(), 80))
			continue
		case errors.Is(err, errRecordTooLarge):
			p.problem(lineField(name, line+1), report.CodeTooLarge, "a row of more than %d bytes: the rest of the file was not read", MaxRecordBytes)
		case errors.Is(err, errUnzipLimit):
			// readZip names it.
		case err != nil:
			p.problem(at, report.CodeInvalid, "the file could not be read to its end (%s)", clean(err.Error(), 80))
		}
		if err != nil || p.stopped {
			break
		}
		line, _ = cr.FieldPos(0)
		if f.cols == nil {
			if !f.header(rec, line) {
				return
			}
			continue
		}
		if blank(rec) {
			continue // a spreadsheet's ",,," is no row
		}
		if !f.count(line) {
			break
		}
		f.row(rec, line)
	}
	if f.cols == nil {
		p.problem(at, report.CodeRequired, "the file is empty: send a header row naming the columns and one row per observation")
		return
	}
	f.finish()
}

// count counts a row against the mail's bound; false stops reading.
func (f *feed) count(line int) bool {
	if f.p.rows >= MaxRowsPerMail {
		f.p.problem(lineField(f.name, line), report.CodeTooMany, "at most %d rows are read per mail: this row and the rest were not read; split the feed across mails", MaxRowsPerMail)
		f.p.stopped = true
		return false
	}
	f.p.rows++
	f.rows++
	return true
}

func lineField(name string, line int) string {
	return fmt.Sprintf("attachment[%s] line %d", name, line)
}

// sniffComma picks the separator from the header line: a comma unless the
// line has none and has semicolons or tabs (spreadsheets in locales with a
// decimal comma write ";").
func sniffComma(head []byte) rune {
	var first []byte
	for len(head) > 0 {
		first, head, _ = bytes.Cut(head, []byte("\n"))
		if len(bytes.TrimSpace(first)) > 0 && first[0] != '#' {
			break
		}
	}
	if bytes.IndexByte(first, ',') >= 0 {
		return ','
	}
	if bytes.IndexByte(first, ';') >= 0 {
		return ';'
	}
	if bytes.IndexByte(first, '\t') >= 0 {
		return '\t'
	}
	return ','
}

func blank(rec []string) bool {
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

// header reads the header row; false when the file cannot be read as a feed.
func (f *feed) header(rec []string, line int) bool {
	c := readHeader(rec)
	f.cols = c
	field := lineField(f.name, line)
	if c.hasData {
		f.p.problem(field, report.CodeRequired, "the first line is data: a header row naming the columns (e.g. timestamp,ip,port,protocol) is required")
		return false
	}
	ok := true
	if c.idx[roleIP] < 0 {
		f.p.problem(field, report.CodeRequired, "the header names no source IP column: name it one of %s", aliasList(roleIP))
		ok = false
	}
	if c.idx[roleTime] < 0 {
		f.p.problem(field, report.CodeRequired, "the header names no time column: name it one of %s", aliasList(roleTime))
		ok = false
	}
	if !ok {
		return false
	}
	// Where the zone of zone-less times is stated, most specific first.
	switch {
	case c.utc:
		f.zone = fmt.Sprintf("the column name %q says so", c.names[c.idx[roleTime]])
	case fileUTC(baseName(f.name)):
		f.zone = fmt.Sprintf("the file name %q says so", baseName(f.name))
	case f.p.mailUTC != "":
		f.zone = fmt.Sprintf("the mail says %q", f.p.mailUTC)
	}
	return true
}

// cell returns the trimmed value of column i of rec, or "".
func cell(rec []string, i int) string {
	if i < 0 || i >= len(rec) {
		return ""
	}
	return strings.TrimSpace(rec[i])
}

// row reads one data row into an incident, or into missing entries.
func (f *feed) row(rec []string, line int) {
	c := f.cols
	field := lineField(f.name, line)
	bad := false
	fail := func(code string, r role, format string, args ...any) {
		bad = true
		f.p.problem(field, code, "column %q: %s", c.names[c.idx[r]], fmt.Sprintf(format, args...))
	}
	var in report.Incident

	ip := cell(rec, c.idx[roleIP])
	if a, ok := parseIPCell(ip); ok {
		in.SourceIP = a.String()
	} else if ip == "" {
		fail(report.CodeRequired, roleIP, "the source IP address is empty")
	} else {
		fail(report.CodeInvalidIP, roleIP, "%q is not an IPv4 or IPv6 address", clean(ip, 60))
	}

	ts := cell(rec, c.idx[roleTime])
	if c.date >= 0 {
		d, t := cell(rec, c.date), cell(rec, c.clock)
		if dateOnly.MatchString(d) && timeOfDay.MatchString(t) {
			ts = d + " " + t
		}
	}
	t, assumed, code, msg := readTime(ts, f.zone != "")
	if code != "" {
		fail(code, roleTime, "%s", msg)
	} else {
		in.Timestamp = t
		f.zoneUsed = f.zoneUsed || assumed
	}

	for _, pr := range []struct {
		r   role
		dst **int
	}{{roleSrcPort, &in.SourcePort}, {roleDstPort, &in.TargetPort}} {
		s := cell(rec, c.idx[pr.r])
		if s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 65535 {
			fail(report.CodeInvalidPort, pr.r, "%q is not a port (0 to 65535)", clean(s, 40))
			continue
		}
		*pr.dst = &n
	}

	in.Target = cell(rec, c.idx[roleTarget])
	in.Protocol = protocol(cell(rec, c.idx[roleProto]))
	if bad {
		return
	}
	in.Log = f.log(rec)
	// The row check of the contract (target, time not in the future nor
	// before 1970) drops one row rather than the whole report later.
	for _, fe := range f.p.v.Incident(&in, true) {
		if fe.Code == report.CodeRequired && fe.Field == "target" && c.idx[roleTarget] < 0 {
			continue
		}
		r := map[string]role{"source_ip": roleIP, "timestamp": roleTime, "target": roleTarget,
			"source_port": roleSrcPort, "target_port": roleDstPort, "protocol": roleProto}[fe.Field]
		if r != roleNone && c.idx[r] >= 0 {
			fail(fe.Code, r, "%s", fe.Message)
		} else {
			bad = true
			f.p.problem(field, fe.Code, "%s: %s", fe.Field, fe.Message)
		}
	}
	if bad {
		return
	}
	for _, h := range c.hints {
		if s := classify(cell(rec, h)); s != "" {
			f.votes[s]++
			break
		}
	}
	f.incidents = append(f.incidents, in)
}

// parseIPCell reads an address; feeds write some with a port
// ("192.0.2.1:22", "[2001:db8::1]:22"), which is still the address.
func parseIPCell(s string) (netip.Addr, bool) {
	if a, ok := report.ParseIP(s); ok {
		return a, true
	}
	if ap, err := netip.ParseAddrPort(strings.TrimSpace(s)); err == nil {
		return ap.Addr().WithZone("").Unmap(), true
	}
	return netip.Addr{}, false
}

// protocol keeps a protocol name the contract accepts (a short token such
// as tcp or udp) and drops anything else: the row is still evidence, and
// the value stays in its log.
func protocol(s string) string {
	s = strings.ToLower(s)
	if len(s) > 16 || strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.')
	}) {
		return ""
	}
	return s
}

// log renders the row as column=value pairs joined by "; ", empty values
// left out (scan feeds have dozens of mostly empty columns), bounded.
func (f *feed) log(rec []string) string {
	max := MaxLogBytes
	if f.p.logBytes > logBudget {
		max = shortLogBytes
	}
	var b strings.Builder
	for i, v := range rec {
		if b.Len() > max {
			break
		}
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		name := fmt.Sprintf("column%d", i+1)
		if i < len(f.cols.names) && f.cols.names[i] != "" {
			name = f.cols.names[i]
		}
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		b.WriteString(name)
		b.WriteByte('=')
		b.WriteString(clean(v, max))
	}
	s := clip(b.String(), max)
	f.p.logBytes += len(s)
	return s
}

var (
	dateOnly  = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	timeOfDay = regexp.MustCompile(`^\d{1,2}:\d{2}(:\d{2}([.,]\d+)?)?$`)
	epoch     = regexp.MustCompile(`^\d{9,10}(\.\d{1,9})?$`)
	// spaceOffset is "2006-01-02 15:04:05 +0100": an offset after a space.
	spaceOffset = regexp.MustCompile(`^(.*\d)[ \t]+([+-]\d{2}(?::?\d{2})?)$`)
)

// readTime reads a feed's time into an RFC 3339 string the validator takes.
// utc says the sender stated that zone-less times are UTC; assumed reports
// that this statement was used. code and msg name a problem.
//
// Accepted: ISO 8601 / RFC 3339 with a zone (report.ParseTimestamp: "T" or
// a space, Z or an offset); the same with a space before the offset or
// with the zone written " UTC" or " GMT"; Unix epoch seconds, 9 or 10
// digits (1973 to 2286: fewer digits are more likely a date such as
// 20240115 than a time in the 1970s).
func readTime(s string, utc bool) (ts string, assumed bool, code, msg string) {
	if s == "" {
		return "", false, report.CodeRequired, "the time is empty: give the time of the observation with its zone"
	}
	if epoch.MatchString(s) {
		sec, frac, _ := strings.Cut(s, ".")
		n, _ := strconv.ParseInt(sec, 10, 64)
		ns := 0
		if frac != "" {
			ns, _ = strconv.Atoi((frac + "000000000")[:9])
		}
		return time.Unix(n, int64(ns)).UTC().Format(time.RFC3339Nano), false, "", ""
	}
	t := s
	upper := strings.ToUpper(t)
	for _, z := range []string{"UTC", "GMT"} {
		if strings.HasSuffix(upper, z) {
			t = strings.TrimSpace(t[:len(t)-len(z)])
			if _, err := report.ParseTimestamp(t); err == report.ErrTimezoneMissing {
				t += "Z"
			}
			break
		}
	}
	if m := spaceOffset.FindStringSubmatch(t); m != nil {
		t = m[1] + m[2]
	}
	at, err := report.ParseTimestamp(t)
	switch {
	case err == nil:
		return rfc3339(at, t), false, "", ""
	case err == report.ErrTimezoneMissing && dateOnly.MatchString(t):
		return "", false, report.CodeInvalidTimestamp, fmt.Sprintf("%q is a date alone: give the time of the observation too, with its zone", clean(s, 60))
	case err == report.ErrTimezoneMissing && !utc:
		return "", false, report.CodeTimezoneRequired, fmt.Sprintf("%q has no time zone and the mail does not say which: add Z or an offset such as +01:00, or state \"All times are in UTC\" (a time without a zone is never assumed)", clean(s, 60))
	case err == report.ErrTimezoneMissing:
		if at, err := report.ParseTimestamp(t + "Z"); err == nil {
			return rfc3339(at, t+"Z"), true, "", ""
		}
		return "", false, report.CodeInvalidTimestamp, fmt.Sprintf("%q is a date alone: give the time of the observation too", clean(s, 60))
	}
	return "", false, report.CodeInvalidTimestamp, fmt.Sprintf("%q is not a time this reader knows: use ISO 8601 with a zone (2024-01-15T10:00:00Z), \"2024-01-15 10:00:00 UTC\", or Unix epoch seconds", clean(s, 60))
}

// rfc3339 writes the instant at, read from s, in RFC 3339 §5.6 form with
// the offset s was written with: feeds write "2024-01-15 10:00:00+0100",
// which report.ParseTimestamp takes but other readers of the contract's
// timestamp may not, and the sender's offset is worth keeping.
func rfc3339(at time.Time, s string) string {
	zone := time.UTC
	if i := strings.LastIndexAny(s, "+-"); i > 10 {
		off := strings.ReplaceAll(s[i+1:], ":", "")
		h, _ := strconv.Atoi(off[:min(2, len(off))])
		m := 0
		if len(off) >= 4 {
			m, _ = strconv.Atoi(off[2:4])
		}
		sec := h*3600 + m*60
		if s[i] == '-' {
			sec = -sec
		}
		if sec != 0 {
			zone = time.FixedZone("", sec)
		}
	}
	return at.In(zone).Format(time.RFC3339Nano)
}

// finish turns the feed's incidents into reports.
func (f *feed) finish() {
	if len(f.incidents) == 0 {
		if f.rows == 0 {
			f.p.problem("attachment["+f.name+"]", report.CodeRequired, "the file has a header row but no data rows")
		}
		return
	}
	subtype, why := f.subtype()
	n := len(f.incidents)
	parts := (n + MaxIncidentsPerReport - 1) / MaxIncidentsPerReport
	for i := 0; i < parts; i++ {
		lo, hi := i*MaxIncidentsPerReport, min((i+1)*MaxIncidentsPerReport, n)
		var d strings.Builder
		fmt.Fprintf(&d, "Feed %q", f.label)
		if f.p.subject != "" {
			fmt.Fprintf(&d, " (mail subject %q)", f.p.subject)
		}
		fmt.Fprintf(&d, ": %d rows read, %d incidents", f.rows, n)
		if parts > 1 {
			fmt.Fprintf(&d, "; report %d of %d, incidents %d to %d", i+1, parts, lo+1, hi)
		}
		fmt.Fprintf(&d, "; subtype %s %s", subtype, why)
		if f.zoneUsed {
			fmt.Fprintf(&d, "; times without a zone were read as UTC because %s", f.zone)
		}
		if f.cols.idx[roleTarget] < 0 {
			d.WriteString("; the feed names no target")
		}
		d.WriteString(".")
		f.p.reps = append(f.p.reps, &report.Report{
			Type:           report.TypeNetwork,
			Subtype:        subtype,
			Description:    d.String(),
			Incidents:      f.incidents[lo:hi:hi],
			TargetOptional: f.cols.idx[roleTarget] < 0,
		})
	}
}

// subtype decides the report's subtype once for the whole feed: by the
// rows' type hints (the most frequent subtype they name), else by the file
// name, else by the mail's subject, else other.
func (f *feed) subtype() (string, string) {
	best, n := "", 0
	for _, s := range []string{"intrusion", "ddos", "port_scan"} { // ties go to the earlier
		if f.votes[s] > n {
			best, n = s, f.votes[s]
		}
	}
	if best != "" {
		return best, fmt.Sprintf("from the type column of %d rows", n)
	}
	if s := classify(baseName(f.name)); s != "" {
		return s, "from the file name"
	}
	if s := classify(f.p.subject); s != "" {
		return s, "from the mail subject"
	}
	return "other", "(the feed names no kind of abuse this desk distinguishes)"
}
