// Package csvreport reads the bulk CSV of network abuse incidents (one row
// per incident, many source addresses) that POST /api/v1/reports/bulk takes.
//
// The reader streams: it holds one record at a time (bounded by
// Options.MaxRecordBytes), whatever the size of the file, and validates each
// row through report.Validator.Incident as it goes, so that the caller stores
// good rows and lists bad ones by line (DESIGN.md: "line number + reason per
// CSV row (good rows are kept)").
//
// # Format
//
// RFC 4180 CSV as encoding/csv reads it: comma-separated, fields optionally
// in double quotes with inner quotes doubled (""), quoted fields may span
// lines (a CRLF inside one reads as LF), CRLF or LF line ends, a UTF-8 byte
// order mark at the start is skipped, and so are empty lines and lines of
// empty fields (a spreadsheet's ",,,"), which are not rows. Rows may have
// different numbers of fields; missing trailing fields are empty, and empty
// optional fields are absent.
//
// The first line is a header naming the columns, in any order, unless its
// first field is an IP address: then the file has no header, the columns are
// positional
//
//	ip,timestamp,log[,target,target_port,protocol,source_port]
//
// and the first line is row data (line 1). Header names are matched after
// trimming, lower-casing, and reading spaces, hyphens and dots as
// underscores. The canonical names are ip, timestamp, log, target,
// target_port, protocol, source_port and categories; aliases are accepted,
// among them AbuseIPDB's bulk-report header IP,Categories,ReportDate,Comment
// (ReportDate is the timestamp, Comment the log, Categories is kept as
// Row.Categories) and the usual names of log exports (source_ip, src_ip,
// address, time, date, datetime, seen, first_seen, details, comment,
// message, destination, dst_ip, dst_port, proto, src_port, …; see aliasList).
// When several columns name one field, the most specific name wins (ip over
// src_ip, first_seen over last_seen); two equally specific ones (date and
// time side by side) are a HeaderError. Columns with other names are
// ignored. A header without an ip or a timestamp column is a HeaderError.
//
// # Values
//
// Fields are trimmed of surrounding white space, except the log, which is
// kept as written but for trailing CR and LF. The timestamp is ISO 8601 with
// a zone (report.ParseTimestamp); a time without a zone is the row error
// "timezone_required", never assumed, and an instant before 1970 is
// "invalid_timestamp" (the zero time.Time would read as "no time"
// downstream). The validator's clock, for the refusal of future times, is
// read once per 256 rows, and again before a refusal, so that no outcome
// depends on it. Ports are decimal integers from 0 to
// 65535 ("invalid_port" otherwise). The log sample is required, as for every
// network incident; the target is required only with Options.RequireTarget
// (the bulk upload's common report may name it once for all rows).
//
// # Errors
//
// Problems of one row are in Row.Errors, with Field the canonical column
// name ("ip", "timestamp", "log", "target", "target_port", "protocol",
// "source_port"), or "row" (code "invalid") for a record encoding/csv cannot
// parse (a bare quote in an unquoted field, text after a closing quote):
// such a record counts as a row, is reported with the line where it starts,
// and reading goes on at the next line. Reading stops
// with a *LineError only when the rest of the file cannot be trusted or
// must not be read: more rows than Options.MaxRows, a record larger than
// Options.MaxRecordBytes, a quoted field that runs to the end of the file,
// or an error of the underlying reader.
package csvreport

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"abusedesk/internal/report"
)

// Row is one record of the file.
type Row struct {
	// Line is the 1-based line where the record starts (the header is line 1).
	Line int
	// Incident is validated and normalised (Source and At filled) when
	// Errors is empty. Its port pointers are never reused by the Reader.
	Incident report.Incident
	// Categories is the categories column as written, trimmed (AbuseIPDB's
	// comma-separated category numbers), or "" without such a column.
	Categories string
	// Errors lists the problems of the row; Field is the canonical column
	// name, or "row" for a record that is not valid CSV.
	Errors report.Errors
}

// Defaults of Options.
const (
	DefaultMaxRows        = 1_000_000
	DefaultMaxRecordBytes = 1 << 20
)

// Options tune a Reader. The zero value is the bulk endpoint's setting.
type Options struct {
	// MaxRows bounds the rows of a file (header excluded, empty lines not
	// counted); one more is a fatal ErrTooManyRows. 0 means
	// DefaultMaxRows, a negative value no limit.
	MaxRows int
	// Validator checks each incident; nil means &report.Validator{}. The
	// Reader works on a copy of it taken by NewReader, whose clock it reads
	// once per 256 rows.
	Validator *report.Validator
	// RequireTarget makes an empty target a row error. It is false for the
	// bulk endpoint, where the target column is optional.
	RequireTarget bool
	// MaxRecordBytes bounds one record, so that memory stays flat whatever
	// the input (an opening quote that never closes would otherwise gather
	// the rest of the file into one field). A larger record is a fatal
	// ErrRecordTooLarge. It counts from the end of the previous record
	// (empty lines included). 0 means DefaultMaxRecordBytes.
	MaxRecordBytes int

	bufSize int // the read buffer; 0 means defaultBufSize (tests make it small)
}

const defaultBufSize = 64 << 10

// Reader reads rows from a bulk CSV. It is not safe for concurrent use.
type Reader struct {
	cr    *csv.Reader
	br    *bufio.Reader
	g     *guard
	v     *report.Validator
	cols  [numCols]int
	ncols int // 1 + the highest column index used

	requireTarget bool
	maxRows       int
	maxRecord     int64
	logRequired   report.FieldError

	first     []string // the first record of a file without a header
	firstLine int
	rows      int
	row       Row
	ints      []int    // slab for port values
	pad       []string // a short row padded to ncols fields

	// Where the last record read ends, for the line of fatal errors that
	// happen before the next record is known: its last field starts on
	// lastLine and has the value lastVal.
	lastLine int
	lastVal  string

	err error // sticky: io.EOF or a *LineError

	clock    func() time.Time // the caller's clock
	nowCache time.Time
	nowRows  int // rows validated since nowCache was read
}

// clockEvery is how many rows share one reading of the clock.
const clockEvery = 256

func (r *Reader) now() time.Time {
	if r.nowRows == 0 {
		r.nowCache = r.clock()
	}
	r.nowRows++
	if r.nowRows == clockEvery {
		r.nowRows = 0
	}
	return r.nowCache
}

// NewReader reads the header of r (or detects that there is none) and
// returns a Reader positioned on the first row. A header that cannot be used
// (or an empty file) is a *HeaderError; a first record larger than
// MaxRecordBytes, or an error of r, is a *LineError.
func NewReader(r io.Reader, opt Options) (*Reader, error) {
	rd := &Reader{
		requireTarget: opt.RequireTarget,
		maxRows:       opt.MaxRows,
		maxRecord:     int64(opt.MaxRecordBytes),
	}
	// The validator is a copy whose clock is read once per clockEvery
	// rows (time.Now is a tenth of the cost of a row on some machines);
	// see record for why this changes no outcome.
	v := report.Validator{}
	if opt.Validator != nil {
		v = *opt.Validator
	}
	rd.clock = v.Now
	if rd.clock == nil {
		rd.clock = time.Now
	}
	v.Now = rd.now
	rd.v = &v
	if rd.maxRows == 0 {
		rd.maxRows = DefaultMaxRows
	}
	if rd.maxRecord <= 0 {
		rd.maxRecord = DefaultMaxRecordBytes
	}
	rd.logRequired = logRequiredError(rd.v)

	bufSize := opt.bufSize
	if bufSize <= 0 {
		bufSize = defaultBufSize
	}
	// At least 4096 bytes, or csv.NewReader would put a buffer of its own
	// in front of rd.br, which atEOF and reset must see.
	bufSize = max(bufSize, 4096)
	rd.g = &guard{r: r, limit: rd.maxRecord + 3} // 3: a BOM
	rd.br = bufio.NewReaderSize(rd.g, bufSize)
	if b, _ := rd.br.Peek(3); bytes.Equal(b, []byte("\uFEFF")) {
		rd.br.Discard(3)
	}
	rd.cr = csv.NewReader(rd.br) // uses rd.br itself, not another buffer
	rd.cr.FieldsPerRecord = -1
	rd.cr.ReuseRecord = true
	rd.cr.LazyQuotes = false

	var rec []string
	for {
		var err error
		rec, err = rd.cr.Read()
		if err == io.EOF {
			return nil, &HeaderError{Line: 1, Msg: "the file is empty: it needs a header line, then one incident per line; " + acceptedNames()}
		}
		if err != nil {
			var pe *csv.ParseError
			switch {
			case rd.g.tripped:
				return nil, &LineError{Line: rd.nextLine(), Err: ErrRecordTooLarge, Msg: fmt.Sprintf("the first record is larger than %d bytes: this is not a bulk CSV of incidents", rd.maxRecord)}
			case errors.As(err, &pe):
				return nil, &HeaderError{Line: pe.StartLine, Msg: "the first line is not valid CSV: " + csvProblem(pe)}
			}
			return nil, &LineError{Line: rd.nextLine(), Err: err, Msg: "reading the file: " + err.Error()}
		}
		rd.noteEnd(rec)
		if !blank(rec) {
			break
		}
	}
	if _, ok := report.ParseIP(rec[0]); ok {
		for i := range rd.cols {
			rd.cols[i] = -1
		}
		for i, c := range positional {
			rd.cols[c] = i
		}
		rd.first = rec
		rd.firstLine, _ = rd.cr.FieldPos(0)
	} else {
		line, _ := rd.cr.FieldPos(0)
		cols, err := mapHeader(rec, line)
		if err != nil {
			return nil, err
		}
		rd.cols = cols
	}
	for _, i := range rd.cols {
		rd.ncols = max(rd.ncols, i+1)
	}
	rd.reset()
	return rd, nil
}

// logRequiredError is the validator's own "log required" error, so that the
// reader says it in the domain's words when it checks the log itself.
func logRequiredError(v *report.Validator) report.FieldError {
	for _, e := range v.Incident(&report.Incident{}, true) {
		if e.Field == "log" && e.Code == report.CodeRequired {
			return e
		}
	}
	return report.FieldError{Field: "log", Code: report.CodeRequired, Message: "a log sample (the lines that show the abuse) is required"}
}

// Next returns the next row, or io.EOF after the last one. The returned *Row
// is the Reader's own and is overwritten by the next call: copy the Row (a
// plain value copy is enough; its strings and port pointers are not reused)
// to keep it. A non-nil error other than io.EOF is fatal, a *LineError
// naming the line; every later call returns it again.
func (r *Reader) Next() (*Row, error) {
	if r.err != nil {
		return nil, r.err
	}
	if r.first != nil {
		rec := r.first
		r.first = nil
		return r.record(rec, r.firstLine)
	}
	for {
		rec, err := r.cr.Read()
		if err != nil {
			return r.readError(err)
		}
		r.noteEnd(rec)
		if blank(rec) {
			continue
		}
		line, _ := r.cr.FieldPos(0)
		return r.record(rec, line)
	}
}

// noteEnd remembers where the record rec ends.
func (r *Reader) noteEnd(rec []string) {
	r.lastLine, _ = r.cr.FieldPos(len(rec) - 1)
	r.lastVal = rec[len(rec)-1]
	r.reset()
}

// reset allows the next record MaxRecordBytes from where it starts: the end
// of the last record read, which is where csv stopped consuming the buffer.
func (r *Reader) reset() {
	r.g.limit = r.g.n - int64(r.br.Buffered()) + r.maxRecord
	r.g.tripped = false
}

// nextLine is the line after the last record read: where the next one
// starts, give or take empty lines.
func (r *Reader) nextLine() int {
	return r.lastLine + strings.Count(r.lastVal, "\n") + 1
}

func (r *Reader) fatal(line int, err error, format string, args ...any) (*Row, error) {
	r.err = &LineError{Line: line, Err: err, Msg: fmt.Sprintf(format, args...)}
	return nil, r.err
}

// count counts the row that starts on line against MaxRows.
func (r *Reader) count(line int) error {
	r.rows++
	if r.maxRows > 0 && r.rows > r.maxRows {
		_, err := r.fatal(line, ErrTooManyRows, "more than %d rows: split the file", r.maxRows)
		return err
	}
	return nil
}

func (r *Reader) readError(err error) (*Row, error) {
	if err == io.EOF {
		r.err = io.EOF
		return nil, io.EOF
	}
	if r.g.tripped || errors.Is(err, ErrRecordTooLarge) {
		return r.fatal(r.nextLine(), ErrRecordTooLarge,
			"the record starting here is larger than %d bytes (a quote that opens a field and never closes?); nothing after it was read", r.maxRecord)
	}
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return r.fatal(r.nextLine(), err, "reading the file: %v", err)
	}
	if pe.Err == csv.ErrQuote && pe.Line > pe.StartLine && r.atEOF() {
		return r.fatal(pe.StartLine, ErrUnclosedQuote,
			"the quoted field that opens on this line is not closed properly and runs to the end of the file (line %d): every line after it is lost; double the quotes inside a quoted field (\"\")", pe.Line)
	}
	if err := r.count(pe.StartLine); err != nil {
		return nil, err
	}
	r.lastLine, r.lastVal = pe.Line, ""
	r.reset()
	r.row = Row{Line: pe.StartLine, Errors: report.Errors{{Field: "row", Code: report.CodeInvalid, Message: csvProblem(pe)}}}
	return &r.row, nil
}

// atEOF reports whether the input is exhausted.
func (r *Reader) atEOF() bool {
	_, err := r.br.Peek(1)
	return err == io.EOF
}

// csvProblem explains a parse error of encoding/csv to the reporter.
func csvProblem(pe *csv.ParseError) string {
	where := fmt.Sprintf("at character %d of line %d", pe.Column, pe.Line)
	if pe.Line != pe.StartLine {
		where = fmt.Sprintf("in the record of lines %d to %d, at character %d of line %d", pe.StartLine, pe.Line, pe.Column, pe.Line)
	}
	switch pe.Err {
	case csv.ErrBareQuote:
		return "a quote (\") inside a field that does not start with one, " + where + ": put the whole field in quotes and double the quotes inside it (\"\"); the line was skipped"
	case csv.ErrQuote:
		return "a quoted field must end with a quote followed by a comma or the end of the line, " + where + ": double the quotes inside a quoted field (\"\"); the record was skipped"
	}
	return pe.Err.Error() + ", " + where
}

// blank reports whether every field of rec is white space (a spreadsheet's
// ",,,," line); such records are skipped like empty lines.
func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// record turns the record rec, starting on line, into r.row.
func (r *Reader) record(rec []string, line int) (*Row, error) {
	if err := r.count(line); err != nil {
		return nil, err
	}
	row := &r.row
	*row = Row{Line: line}
	inc := &row.Incident
	if len(rec) < r.ncols { // a short row: the missing fields are empty
		if len(r.pad) < r.ncols {
			r.pad = make([]string, r.ncols)
		}
		n := copy(r.pad, rec)
		clear(r.pad[n:])
		rec = r.pad[:r.ncols]
	}
	c := &r.cols
	inc.SourceIP = strings.TrimSpace(rec[c[colIP]])
	inc.Timestamp = strings.TrimSpace(rec[c[colTimestamp]])
	if i := c[colLog]; i >= 0 {
		inc.Log = trimNL(rec[i])
	}
	if i := c[colTarget]; i >= 0 {
		inc.Target = strings.TrimSpace(rec[i])
	}
	if i := c[colProtocol]; i >= 0 {
		inc.Protocol = strings.TrimSpace(rec[i])
	}
	if i := c[colCategories]; i >= 0 {
		row.Categories = strings.TrimSpace(rec[i])
	}
	var portErrs report.Errors
	if i := c[colTargetPort]; i >= 0 {
		inc.TargetPort = r.port(rec[i], colTargetPort, &portErrs)
	}
	if i := c[colSourcePort]; i >= 0 {
		inc.SourcePort = r.port(rec[i], colSourcePort, &portErrs)
	}

	es := r.validate(inc)
	for i := range es {
		if es[i].Code == report.CodeFutureTimestamp && r.nowRows != 1 {
			// The clock was read up to clockEvery rows ago, so it may be
			// late and have refused what the present accepts (never the
			// other way): ask again with a fresh reading. Validation is
			// idempotent on what it normalises.
			r.nowRows = 0
			es = r.validate(inc)
			break
		}
	}
	for i := range es {
		if es[i].Field == "source_ip" {
			es[i].Field = colNames[colIP]
		}
	}
	if len(portErrs) > 0 {
		es = append(es, portErrs...)
	}
	row.Errors = es
	return row, nil
}

func (r *Reader) validate(inc *report.Incident) report.Errors {
	if inc.Target == "" && !r.requireTarget {
		// Incident(in, true) would also require the target; ask without
		// the log requirement and check the log here.
		es := r.v.Incident(inc, false)
		if strings.TrimSpace(inc.Log) == "" {
			es = append(es, r.logRequired)
		}
		return es
	}
	return r.v.Incident(inc, true)
}

// trimNL drops trailing CR and LF.
func trimNL(s string) string {
	for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	return s
}

// port reads a port number; an empty field is absent.
func (r *Reader) port(s string, col int, es *report.Errors) *int {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	n := 0
	for i := 0; i < len(s); i++ {
		d := s[i] - '0'
		if d > 9 || n > 65535 {
			n = -1
			break
		}
		n = n*10 + int(d)
	}
	if n < 0 || n > 65535 {
		*es = append(*es, report.FieldError{Field: colNames[col], Code: report.CodeInvalidPort,
			Message: fmt.Sprintf("%q is not a port: a port is a whole number between 0 and 65535", clip(s))})
		return nil
	}
	if len(r.ints) == 0 {
		// Ports come from a slab that is never rewritten: a Row copied by
		// the caller keeps valid pointers, at one allocation per 256 ports.
		r.ints = make([]int, 256)
	}
	p := &r.ints[0]
	r.ints = r.ints[1:]
	*p = n
	return p
}

// guard fails the reads that would take one record past the bound, so that
// encoding/csv, which has no limit of its own, never buffers more than that.
// Reader.reset moves the bound after each record.
type guard struct {
	r     io.Reader
	n     int64 // bytes delivered
	limit int64 // n may not pass it

	tripped bool // the bound was hit: the input is cut in the middle of a record
}

func (g *guard) Read(p []byte) (int, error) {
	if g.n >= g.limit {
		g.tripped = true
		return 0, ErrRecordTooLarge
	}
	if rest := g.limit - g.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := g.r.Read(p)
	g.n += int64(n)
	return n, err
}
