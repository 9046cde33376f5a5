package store

import (
	"context"
	"database/sql/driver"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"abusedesk/internal/report"
)

// An incident row holds as columns what queries select on (report, source
// address, time, verdict, resource, account) and, in one JSON value, the
// rest of what the reporter gave (Evidence). A CSV upload inserts a row per
// line, and on SQLite (modernc) each bound value costs about as much as a
// tenth of the row: a bare insert of a million rows went from 330k rows/s
// with twelve values a row to 560k with six (see migrations 00005).
//
// Layout per dialect (migrations/*/00005_incident_rows.sql):
//   - SQLite: the rowid orders a report's incidents, which are one
//     contiguous range of ids (reports.first_incident, incident_count): the
//     one writer inserts them together, so no index on report_id is needed;
//     occurred_at is Unix milliseconds.
//   - PostgreSQL: the primary key (report_id, seq); occurred_at TIMESTAMPTZ.
//
// verdict, resource and account are NULL when absent.

// Evidence is what the reporter gave about an incident besides its source
// address, as stored: the timestamp as written, the log sample, target,
// ports and protocol, under the field names of the JSON API.
type Evidence struct {
	Timestamp  string `json:"timestamp,omitempty"`
	SourcePort *int   `json:"source_port,omitempty"`
	Target     string `json:"target,omitempty"`
	TargetPort *int   `json:"target_port,omitempty"`
	Protocol   string `json:"protocol,omitempty"`
	Log        string `json:"log,omitempty"`
	// LogBase64 holds, byte for byte, a log that is not valid UTF-8 (a CSV
	// in Latin-1): JSON text cannot carry it.
	LogBase64 []byte `json:"log_base64,omitempty"`
}

// AppendEvidence appends the evidence JSON of in to b: an object with the
// fields of Evidence that are present, in that order (json.Marshal's
// object, without its HTML escaping). Written by hand: a bulk upload
// encodes a million of them on the parser's goroutine.
func AppendEvidence(b []byte, in *report.Incident) []byte {
	sep := byte('{')
	key := func(k string) {
		b = append(b, sep, '"')
		b = append(b, k...)
		b = append(b, '"', ':')
		sep = ','
	}
	if in.Timestamp != "" {
		key("timestamp")
		b = appendJSONString(b, in.Timestamp)
	}
	if in.SourcePort != nil {
		key("source_port")
		b = strconv.AppendInt(b, int64(*in.SourcePort), 10)
	}
	if in.Target != "" {
		key("target")
		b = appendJSONString(b, in.Target)
	}
	if in.TargetPort != nil {
		key("target_port")
		b = strconv.AppendInt(b, int64(*in.TargetPort), 10)
	}
	if in.Protocol != "" {
		key("protocol")
		b = appendJSONString(b, in.Protocol)
	}
	if in.Log != "" {
		if utf8.ValidString(in.Log) {
			key("log")
			b = appendJSONString(b, in.Log)
		} else {
			key("log_base64")
			b = append(b, '"')
			b = base64.StdEncoding.AppendEncode(b, []byte(in.Log))
			b = append(b, '"')
		}
	}
	if sep == '{' {
		b = append(b, '{')
	}
	return append(b, '}')
}

// appendJSONString appends s as a JSON string. Invalid UTF-8 becomes
// U+FFFD, as with encoding/json (AppendEvidence keeps such a log aside).
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// ParseEvidence reads an evidence JSON back into in.
func ParseEvidence(text string, in *report.Incident) error {
	var ev Evidence
	if err := json.Unmarshal([]byte(text), &ev); err != nil {
		return fmt.Errorf("incident evidence: %w", err)
	}
	in.Timestamp, in.SourcePort, in.Target, in.TargetPort, in.Protocol, in.Log = ev.Timestamp, ev.SourcePort, ev.Target, ev.TargetPort, ev.Protocol, ev.Log
	if ev.LogBase64 != nil {
		in.Log = string(ev.LogBase64)
	}
	return nil
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Verdicts as bound values, boxed once: a million rows need not allocate a
// million interface values for three strings.
var (
	notOursValue    any = "not_ours"
	unassignedValue any = "unassigned"
	assignedValue   any = "assigned"
)

func verdictValue(v string) any {
	switch v {
	case "not_ours":
		return notOursValue
	case "unassigned":
		return unassignedValue
	case "assigned":
		return assignedValue
	}
	return nullIfEmpty(v)
}

// occurredValue is how occurred_at is bound: Unix milliseconds on SQLite
// (an integer costs less to bind and store than the driver's time text),
// the time itself for PostgreSQL's TIMESTAMPTZ.
func (s *Store) occurredValue(t time.Time) any {
	if s.Dialect == SQLite {
		return t.UnixMilli()
	}
	return t
}

// incidentValueCols is the number of values after the key columns.
const incidentValueCols = 6

// appendIncidentValues appends an incident's stored values after its key
// columns: source_ip, occurred_at, verdict, resource, account, evidence.
func (s *Store) appendIncidentValues(args []any, in *report.Incident, buf []byte) ([]any, []byte) {
	buf = AppendEvidence(buf[:0], in)
	return append(args, in.SourceIP, s.occurredValue(in.At), verdictValue(in.Verdict), nullIfEmpty(in.Resource),
		nullIfEmpty(in.Account), string(buf)), buf
}

// Incident rows of JSON reports, form posts and XARF documents are written
// with explicit keys: (id, report_id) on SQLite, where the report row names
// the range of ids, (report_id, seq) on PostgreSQL.
var (
	incidentColumnsSQLite   = []string{"id", "report_id", "source_ip", "occurred_at", "verdict", "resource", "account", "evidence"}
	incidentColumnsPostgres = []string{"report_id", "seq", "source_ip", "occurred_at", "verdict", "resource", "account", "evidence"}
)

func (s *Store) incidentColumns() []string {
	if s.Dialect == SQLite {
		return incidentColumnsSQLite
	}
	return incidentColumnsPostgres
}

// appendIncidentRow appends the values of the seq-th incident (from 1) of
// a report whose first incident id is first (SQLite).
func (s *Store) appendIncidentRow(args []any, reportID, first int64, seq int, in *report.Incident, buf []byte) ([]any, []byte) {
	if s.Dialect == SQLite {
		args = append(args, first+int64(seq)-1, reportID)
	} else {
		args = append(args, reportID, seq)
	}
	return s.appendIncidentValues(args, in, buf)
}

// nextIncidentID is the id the next incident row gets on SQLite: inside a
// write transaction nobody else inserts, and SQLite finds max(id) at the end
// of the table.
func (s *Store) nextIncidentID(ctx context.Context, t tx) (int64, error) {
	var id int64
	_, err := t.scan(ctx, s.Q("next-incident-id"), nil, &id)
	return id, err
}

// firstIncident is the value of reports.first_incident: the id of the
// report's first incident row on SQLite, NULL without incidents and on
// PostgreSQL.
func (s *Store) firstIncident(first int64, count int) any {
	if s.Dialect != SQLite || count == 0 {
		return nil
	}
	return first
}

// Bulk rows go in statements of bulkStatementRows rows; an IncidentBatch
// holds bulkBatchStatements of them.
const (
	bulkStatementRows   = 100
	bulkBatchStatements = 5
	bulkBatchRows       = bulkStatementRows * bulkBatchStatements
)

// IncidentBatch is a run of an upload's incidents encoded for InsertBulk.
// The encoding (the evidence JSON, the values as the driver takes them) is
// done by Add on the caller's goroutine: on SQLite the one writer
// connection is what limits a bulk upload, so it should do nothing but
// insert.
//
// On SQLite the values are the driver's own (nv), per statement of up to
// bulkStatementRows rows a slot for the report id (the statement's shared
// parameter ?1) then six values per row; InsertBulk hands them to the
// driver as they are (database/sql's conversion of each value cost the
// insert 15% of its CPU). On PostgreSQL the rows are tuples of COPY's
// binary format (copy), whose report ids InsertBulk fills in: encoding
// them here rather than through pgx's encoders made the upload a fifth
// faster (the client shares the machine's CPU with the server).
type IncidentBatch struct {
	s      *Store
	nv     []driver.NamedValue
	copy   []byte
	starts []int // where each tuple of copy starts
	n      int
	buf    []byte
	// On SQLite, the evidence of the current statement's rows is gathered
	// in buf and made one string per statement (sealed).
	sealed int // rows whose evidence is in nv
	ends   []int
	err    error // an incident the batch cannot encode
}

// NewIncidentBatch returns an empty batch for this store's dialect.
func (s *Store) NewIncidentBatch() *IncidentBatch {
	b := &IncidentBatch{s: s}
	if s.Dialect == SQLite {
		// The slots of a full batch, their ordinals set once: Add only
		// fills in values.
		per := 1 + bulkStatementRows*incidentValueCols
		b.nv = make([]driver.NamedValue, bulkBatchStatements*per)
		for i := range b.nv {
			b.nv[i].Ordinal = i%per + 1
		}
	} else {
		b.starts = make([]int, 0, bulkBatchRows)
	}
	return b
}

// verdictCode is how a verdict is bound on SQLite: a small integer the
// statement spells out (bulkInsert), as a text value costs the driver an
// allocation and a copy per row and an integer neither; 0 is NULL.
func verdictCode(v string) (int64, bool) {
	switch v {
	case "":
		return 0, true
	case "not_ours":
		return 1, true
	case "unassigned":
		return 2, true
	case "assigned":
		return 3, true
	}
	return 0, false
}

// Add encodes the seq-th incident of the upload (from 1) into the batch,
// which must not be full.
func (b *IncidentBatch) Add(seq int, in *report.Incident) {
	code, ok := verdictCode(in.Verdict)
	if !ok && b.err == nil {
		b.err = fmt.Errorf("incident %d: unknown verdict %q", seq, in.Verdict)
	}
	if b.s.Dialect != SQLite {
		b.addTuple(seq, in)
		return
	}
	var verdict any
	if code != 0 {
		verdict = code
	}
	// The row's first value: after its statement's report id slot.
	i := b.n/bulkStatementRows + 1 + b.n*incidentValueCols
	b.buf = AppendEvidence(b.buf, in)
	b.ends = append(b.ends, len(b.buf))
	v := b.nv[i : i+incidentValueCols]
	v[0].Value = in.SourceIP
	v[1].Value = in.At.UnixMilli()
	v[2].Value = verdict
	v[3].Value = nullIfEmpty(in.Resource)
	v[4].Value = nullIfEmpty(in.Account)
	// v[5], the evidence, is set by seal.
	b.n++
	if b.n%bulkStatementRows == 0 {
		b.seal()
	}
}

// seal sets the evidence values of the rows added since the last seal, as
// substrings of one string: one allocation per statement, not per row.
func (b *IncidentBatch) seal() {
	if b.sealed == b.n {
		return
	}
	all := string(b.buf)
	start := 0
	for k, end := range b.ends {
		row := b.sealed + k
		b.nv[row/bulkStatementRows+(row+1)*incidentValueCols].Value = all[start:end]
		start = end
	}
	b.buf, b.ends, b.sealed = b.buf[:0], b.ends[:0], b.n
}

// Len is the number of incidents in the batch.
func (b *IncidentBatch) Len() int { return b.n }

// Full tells whether the batch holds as many incidents as it should.
func (b *IncidentBatch) Full() bool { return b.n >= bulkBatchRows }

// Reset empties the batch for reuse. (The values of the last use stay in
// their slots until overwritten: one batch's worth.)
func (b *IncidentBatch) Reset() {
	b.n, b.sealed, b.err = 0, 0, nil
	b.buf, b.ends, b.copy, b.starts = b.buf[:0], b.ends[:0], b.copy[:0], b.starts[:0]
}

// Tuples of PostgreSQL's binary COPY format
// (https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.4):
// a field count, then each field as its length (-1: NULL) and bytes, in
// the columns' binary encodings.
var (
	copyHeader  = []byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00")
	copyTrailer = []byte{0xff, 0xff}
)

// copyColumns are the columns of a tuple, in order.
const copyColumns = "report_id, seq, source_ip, occurred_at, verdict, resource, account, evidence"

// pgEpochMicros is 2000-01-01T00:00:00Z, PostgreSQL's timestamp zero, in
// Unix microseconds.
const pgEpochMicros = 946_684_800_000_000

// addTuple appends the seq-th incident as a COPY tuple whose report id,
// the first field, InsertBulk fills in (starts say where).
func (b *IncidentBatch) addTuple(seq int, in *report.Incident) {
	c := b.copy
	b.starts = append(b.starts, len(c))
	c = binary.BigEndian.AppendUint16(c, 8)
	c = binary.BigEndian.AppendUint32(c, 8)
	c = append(c, 0, 0, 0, 0, 0, 0, 0, 0) // report_id
	c = binary.BigEndian.AppendUint32(c, 4)
	c = binary.BigEndian.AppendUint32(c, uint32(seq))
	c = copyText(c, in.SourceIP)
	c = binary.BigEndian.AppendUint32(c, 8)
	c = binary.BigEndian.AppendUint64(c, uint64(in.At.UnixMicro()-pgEpochMicros))
	for _, v := range [...]string{in.Verdict, in.Resource, in.Account} {
		if v == "" {
			c = binary.BigEndian.AppendUint32(c, 0xffffffff) // NULL
		} else {
			c = copyText(c, v)
		}
	}
	at := len(c)
	c = AppendEvidence(binary.BigEndian.AppendUint32(c, 0), in)
	binary.BigEndian.PutUint32(c[at:], uint32(len(c)-at-4))
	b.copy = c
	b.n++
}

// copyText appends a text field: PostgreSQL takes only valid UTF-8
// (evidence JSON always is; an address, a verdict and inventory ids are).
func copyText(c []byte, s string) []byte {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	c = binary.BigEndian.AppendUint32(c, uint32(len(s)))
	return append(c, s...)
}

// statement returns the values of the batch's i-th statement (SQLite) and
// its number of rows.
func (b *IncidentBatch) statement(i int) ([]driver.NamedValue, int) {
	b.seal() // the last rows of a batch that is not full
	rows := min(b.n-i*bulkStatementRows, bulkStatementRows)
	if rows <= 0 {
		return nil, 0
	}
	start := i * (1 + bulkStatementRows*incidentValueCols)
	return b.nv[start : start+1+rows*incidentValueCols], rows
}

var bulkInserts sync.Map // rows → statement text

// bulkInsert is the SQLite statement for rows incidents of one report: the
// report id is the one parameter ?1 that every row names, the rest are
// anonymous "?" (modernc binds those by position; numbered ones are looked
// up by name); the verdict comes as its code (verdictCode).
func bulkInsert(rows int) string {
	if q, ok := bulkInserts.Load(rows); ok {
		return q.(string)
	}
	row := "(?1,?,?,CASE ? WHEN 1 THEN 'not_ours' WHEN 2 THEN 'unassigned' WHEN 3 THEN 'assigned' END,?,?,?)"
	q := "INSERT INTO incidents (report_id, source_ip, occurred_at, verdict, resource, account, evidence) VALUES " +
		strings.TrimSuffix(strings.Repeat(row+",", rows), ",")
	bulkInserts.Store(rows, q)
	return q
}

// ReportIncidents reads back up to limit incidents of a report, in order,
// with their evidence and verdicts.
func (s *Store) ReportIncidents(ctx context.Context, reportID int64, limit int) ([]report.Incident, error) {
	rows, err := s.R.QueryContext(ctx, s.Q("report-incidents"), reportID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []report.Incident
	for rows.Next() {
		var in report.Incident
		var at any
		var verdict, resource, account *string
		var evidence string
		if err := rows.Scan(&in.SourceIP, &at, &verdict, &resource, &account, &evidence); err != nil {
			return nil, err
		}
		switch v := at.(type) {
		case int64:
			in.At = time.UnixMilli(v).UTC()
		case time.Time:
			in.At = v.UTC()
		default:
			return nil, fmt.Errorf("incident of report %d: occurred_at is %T", reportID, at)
		}
		if err := ParseEvidence(evidence, &in); err != nil {
			return nil, err
		}
		in.Verdict, in.Resource, in.Account = deref(verdict), deref(resource), deref(account)
		if a, ok := report.ParseIP(in.SourceIP); ok {
			in.Source = a
		}
		out = append(out, in)
	}
	return out, rows.Err()
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
