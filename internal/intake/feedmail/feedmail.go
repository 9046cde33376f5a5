// Package feedmail reads the mails of automated abuse feeds: scan and botnet
// feeds (Shadowserver-style reports), honeypot networks and blocklist
// operators that mail one observation per CSV row, as an attachment that is
// plain or zipped. Each good row becomes one network incident.
//
// # Attachments
//
// The message's own leaves are looked at (mailpart.Part.Leaves: not what is
// inside an embedded message/rfc822, whose parts belong to the message it
// forwards). A leaf is a feed when it is
//
//   - text/csv (RFC 7111 §5.1, which registers it), application/csv or
//     text/comma-separated-values, whatever its name;
//   - application/vnd.ms-excel, text/plain or application/octet-stream named
//     *.csv (mailers label CSV by what opens it, or not at all);
//   - a ZIP archive (APPNOTE.TXT; application/zip, application/x-zip,
//     application/x-zip-compressed, or application/octet-stream named
//     *.zip) listing at least one *.csv member.
//
// A mail without such a leaf is not a feed (ok is false). A ZIP is input an
// attacker shapes freely, so it is bounded: at most MaxZipMembers members,
// at most MaxUnzippedBytes decompressed per mail (declared sizes checked
// before reading, and actual bytes read through an io.LimitReader), no
// nested archives (by name or by magic number), no encrypted members
// (APPNOTE §4.4.4 bit 0). Each refusal is a missing entry naming the
// archive or member.
//
// # CSV
//
// RFC 4180 as encoding/csv reads it; a header row naming the columns is
// required (feeds change their columns without notice, so positions mean
// nothing). Names are compared ignoring case, spaces, dashes, underscores
// and punctuation ("Source IP", "source-ip" and "source_ip" are one name),
// and the first column of the best-ranked name wins for each role (see
// roleAliases). A header whose cells are separated by semicolons or tabs
// rather than commas is read with that separator (spreadsheets in many
// locales write ";"); a UTF-8 byte order mark is skipped, and so are lines
// starting with "#" (blocklists put a preamble above the header). Each
// record is bounded (MaxRecordBytes), since encoding/csv is not.
//
// # Time zones
//
// A time without a zone names no instant (DESIGN.md: never silently
// assumed). It is read as UTC only when the sender says so: a column name
// saying UTC or GMT ("timestamp_utc", "Time (UTC)"), the attachment's file
// name, or a sentence of the mail ("All times are in UTC", "timestamps are
// UTC", "heures UTC"). The report's Description quotes the statement used.
// Otherwise the row is a missing entry with code timezone_required. Unix
// epoch seconds (POSIX.1-2017 §4.16) are UTC by definition.
//
// # Reports
//
// Rows of one attachment (or ZIP member) make one report of type network,
// split into several past MaxIncidentsPerReport incidents; the subtype is
// decided once per attachment from the type-hint columns, then the file
// name, then the mail's subject. A feed without a target column sets
// TargetOptional. Bad rows are missing entries ("attachment[feed.csv] line
// 7", header = line 1) and the good rows are kept. Reporter and Language
// are left empty: a feed does not name them.
package feedmail

import (
	"archive/zip"
	"bytes"
	"fmt"
	"path"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"abusedesk/internal/intake/mailpart"
	"abusedesk/internal/report"
)

// Bounds. The input is hostile: every count and size is capped, and what is
// cut off is named in a missing entry.
const (
	// MaxIncidentsPerReport matches report.DefaultLimits.MaxIncidents: a
	// larger feed is split into several reports.
	MaxIncidentsPerReport = 10000
	// MaxRowsPerMail stops reading: the rest of the mail is not read.
	MaxRowsPerMail = 200000
	// MaxZipMembers refuses a whole archive with more members: an honest
	// feed zips a few files.
	MaxZipMembers = 20
	// MaxUnzippedBytes bounds what all archives of one mail decompress to.
	MaxUnzippedBytes = 64 << 20
	// MaxLogBytes bounds each incident's log (the row as column=value).
	MaxLogBytes = 2 << 10
	// MaxMissing entries are listed; one more entry counts the rest.
	MaxMissing = 100
	// MaxRecordBytes bounds one CSV record, so that a line without end
	// cannot make the reader buffer the whole input.
	MaxRecordBytes = 256 << 10
	// MaxFeeds bounds the attachments (and archive members) read per mail.
	MaxFeeds = 50
	// MaxColumns bounds the header: the log and the role lookup stay small.
	MaxColumns = 512
)

// logBudget bounds the log text of one mail: past it, logs are cut to
// shortLogBytes. 200,000 rows of 2 KiB logs would otherwise be 400 MiB
// made from a few MiB of short rows under long column names.
const (
	logBudget     = 48 << 20
	shortLogBytes = 256
)

// now is the clock the row check uses to refuse times in the future; the
// caller's validator checks again with its own.
var now = time.Now

// Parse reads a mail already read by mailpart. ok is false when the mail
// carries no CSV feed (then reps and missing are nil). When ok, reps are the
// reports the feeds describe, not yet validated, and missing names the rows
// and attachments that could not be read; a recognised mail with nothing
// usable has no reports and at least one missing entry.
func Parse(m *mailpart.Part) (reps []*report.Report, missing report.Errors, ok bool) {
	if m == nil {
		return nil, nil, false
	}
	srcs := collect(m)
	if len(srcs) == 0 {
		return nil, nil, false
	}
	p := &parser{
		subject: clean(m.Header.Get("Subject"), 200),
		v:       report.Validator{Now: now},
	}
	text := m.BodyText()
	if len(text) > 256<<10 {
		text = text[:256<<10]
	}
	p.mailUTC = mailUTCStatement(p.subject + "\n" + text)
	for _, s := range srcs {
		if p.stopped {
			break
		}
		if s.isZip {
			p.readZip(s)
		} else {
			p.readCSV(s.name, s.label, strings.NewReader(s.part.Text()))
		}
	}
	if len(p.reps) == 0 && len(p.missing) == 0 {
		p.problem("attachments", report.CodeRequired,
			"the CSV attachments hold no rows: send a header row and one row per observation")
	}
	if p.dropped > 0 {
		p.missing = append(p.missing, report.FieldError{Field: "attachments", Code: report.CodeTooMany,
			Message: fmt.Sprintf("%d more problems were found and are not listed", p.dropped)})
	}
	return p.reps, p.missing, true
}

// source is one recognised leaf: a CSV part, or a ZIP with CSV members.
type source struct {
	part  *mailpart.Part
	name  string // for Field paths
	label string // for descriptions
	isZip bool
	zip   *zip.Reader // nil for an archive that did not open
}

var csvTypes = map[string]bool{"text/csv": true, "application/csv": true, "text/comma-separated-values": true}
var csvIfNamed = map[string]bool{"application/vnd.ms-excel": true, "text/plain": true, "application/octet-stream": true}
var zipTypes = map[string]bool{"application/zip": true, "application/x-zip": true, "application/x-zip-compressed": true}

// collect finds the feed leaves of m, in order.
func collect(m *mailpart.Part) []source {
	var out []source
	for i, l := range m.Leaves() {
		name := clean(l.Filename, 100)
		lower := strings.ToLower(name)
		label := name
		if name == "" {
			name = fmt.Sprintf("part %d", i+1)
			label = "unnamed " + l.MediaType + " part"
		}
		switch {
		case csvTypes[l.MediaType], csvIfNamed[l.MediaType] && strings.HasSuffix(lower, ".csv"):
			// An inline text/plain body of a mail is never a feed: it
			// must be named *.csv.
			out = append(out, source{part: l, name: name, label: label})
		case zipTypes[l.MediaType], l.MediaType == "application/octet-stream" && strings.HasSuffix(lower, ".zip"):
			zr, err := zip.NewReader(bytes.NewReader(l.Body), int64(len(l.Body)))
			if err != nil {
				// An unreadable archive is a feed only when its name
				// says it holds CSV; otherwise it may be a malware
				// sample for another parser.
				if strings.Contains(lower, ".csv") {
					out = append(out, source{part: l, name: name, label: label, isZip: true})
				}
				continue
			}
			if zipHasCSV(zr) {
				out = append(out, source{part: l, name: name, label: label, isZip: true, zip: zr})
			}
		}
	}
	return out
}

func zipHasCSV(zr *zip.Reader) bool {
	for _, f := range zr.File {
		if strings.HasSuffix(strings.ToLower(f.Name), ".csv") {
			return true
		}
	}
	return false
}

// parser holds the state of one mail.
type parser struct {
	subject  string
	mailUTC  string // the sentence of the mail stating UTC, or ""
	v        report.Validator
	reps     []*report.Report
	missing  report.Errors
	dropped  int // missing entries past MaxMissing
	rows     int // rows read in the mail
	feeds    int // attachments and members read
	unzipped int64
	logBytes int
	stopped  bool // MaxRowsPerMail reached
}

func (p *parser) problem(field, code, format string, args ...any) {
	if len(p.missing) >= MaxMissing {
		p.dropped++
		return
	}
	p.missing = append(p.missing, report.FieldError{Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
}

// nestedExt are archive and compression formats a feed member must not be:
// archives inside archives are how zip bombs multiply.
var nestedExt = []string{".zip", ".gz", ".tgz", ".tar", ".7z", ".rar", ".bz2", ".xz", ".zst", ".lz", ".lzma", ".z", ".cab", ".arj", ".jar"}

func isNestedArchive(name string) bool {
	lower := strings.ToLower(name)
	for _, e := range nestedExt {
		if strings.HasSuffix(lower, e) {
			return true
		}
	}
	return false
}

// archiveMagic reports whether b starts like a compressed or archived file
// (ZIP "PK\x03\x04", gzip 1f 8b per RFC 1952 §2.3.1, bzip2 "BZh", xz, 7z,
// rar): a member named .csv that is one is a nested archive all the same.
func archiveMagic(b []byte) bool {
	for _, m := range []string{"PK\x03\x04", "\x1f\x8b", "BZh", "\xfd7zXZ\x00", "7z\xbc\xaf\x27\x1c", "Rar!"} {
		if bytes.HasPrefix(b, []byte(m)) {
			return true
		}
	}
	return false
}

// readZip reads the CSV members of one archive, within the bounds.
func (p *parser) readZip(s source) {
	at := "attachment[" + s.name + "]"
	if s.zip == nil {
		p.problem(at, report.CodeInvalid, "this attachment is not a readable ZIP archive: send the CSV file itself or a valid ZIP of it")
		return
	}
	files := s.zip.File
	if len(files) > MaxZipMembers {
		p.problem(at, report.CodeTooMany, "the archive has %d members; at most %d are read: send fewer files per archive", len(files), MaxZipMembers)
		return
	}
	for _, f := range files {
		if p.stopped {
			return
		}
		if strings.HasSuffix(f.Name, "/") || f.FileInfo().IsDir() {
			continue
		}
		mname := clean(f.Name, 100)
		field := "attachment[" + s.name + ":" + mname + "]"
		switch {
		case isNestedArchive(f.Name):
			p.problem(field, report.CodeInvalid, "an archive inside the archive is not opened: zip the CSV files themselves")
			continue
		case !strings.HasSuffix(strings.ToLower(f.Name), ".csv"):
			continue // a readme beside the data is not a problem
		case f.Flags&0x1 != 0:
			p.problem(field, report.CodeInvalid, "the member is encrypted: send it without a password")
			continue
		}
		remaining := int64(MaxUnzippedBytes) - p.unzipped
		if f.UncompressedSize64 > uint64(remaining) {
			// The declared size is checked first; archive/zip then
			// refuses to read past it, and the LimitReader below holds
			// even if it did.
			p.problem(field, report.CodeTooLarge, "the member declares %d bytes uncompressed; at most %d bytes are read from the archives of one mail", f.UncompressedSize64, MaxUnzippedBytes)
			continue
		}
		rc, err := f.Open()
		if err != nil {
			p.problem(field, report.CodeInvalid, "the member cannot be opened (%s): use the Deflate or Store method", clean(err.Error(), 80))
			continue
		}
		cr := &countingReader{r: rc, limit: remaining, p: p}
		label := s.label + ":" + mname
		p.readCSV(s.name+":"+mname, label, cr)
		rc.Close()
		if cr.over {
			p.problem(field, report.CodeTooLarge, "reading stopped: the archives of one mail decompress to at most %d bytes", MaxUnzippedBytes)
			p.stopped = true
		}
	}
}

// clean makes attacker-chosen text safe to echo in a field path or a
// description: valid UTF-8, no control characters, at most max bytes.
func clean(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	return clip(s, max)
}

// clip cuts s to at most max bytes on a rune boundary, marking the cut.
func clip(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max - len("…")
	if cut < 0 {
		cut = 0
	}
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// baseName is the last element of an attachment or member name, for
// matching words in it.
func baseName(name string) string {
	if i := strings.LastIndexByte(name, ':'); i >= 0 {
		name = name[i+1:]
	}
	return path.Base(strings.ReplaceAll(name, `\`, "/"))
}
