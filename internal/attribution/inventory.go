package attribution

// The inventory: JSON Lines (https://jsonlines.org/), one object per line,
// each with a "kind":
//
//	{"kind":"account","id":"acct-1001","name":"Example SARL","security_email":"sec@example.fr","email":"owner@example.fr","language":"fr"}
//	{"kind":"resource","id":"i-0abc","account":"acct-1001","type":"instance","service":"EC2","region":"eu-west-3"}
//	{"kind":"assignment","resource":"i-0abc","prefix":"203.0.113.7/32","from":"2026-01-01T00:00:00Z","to":"2026-03-01T00:00:00Z"}
//	{"kind":"hostname","resource":"bucket-9","host":"media.example-cdn.net","from":"2026-01-01T00:00:00Z"}
//
// Reading happens in three steps, each reporting bad lines by number and
// keeping the good ones:
//
//  1. InventoryReader.Next / ParseInventory check each line on its own
//     (fields, types, formats, times);
//  2. Inventory.Validate checks the references between lines (a resource's
//     account, an assignment's or hostname's resource) against the file and
//     against the ids the caller already knows (the database), and duplicate
//     ids within the file;
//  3. Inventory.AssignmentsFor / HostAssignmentsFor turn the records into index
//     inputs with their line numbers, so that the Conflicts of Build and
//     BuildHosts (overlapping intervals of the same prefix or host) become
//     line errors through ConflictLineErrors.

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"net/netip"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"abusedesk/internal/report"
)

// Error codes of inventory lines beyond report's.
const (
	CodeUnknownReference = "unknown_reference" // an account or resource defined nowhere
	CodeDuplicate        = "duplicate"         // an id defined twice in one file
	CodeOverlap          = "overlap"           // overlapping intervals of the same prefix or host
)

// MaxInventoryLine is the longest line read; a longer one is a too_large
// error for that line and reading goes on with the next.
const MaxInventoryLine = 1 << 20

// Kind is the kind of an inventory line.
type Kind uint8

const (
	KindAccount Kind = iota + 1
	KindResource
	KindAssignment
	KindHostname
)

var kindNames = [...]string{KindAccount: "account", KindResource: "resource", KindAssignment: "assignment", KindHostname: "hostname"}

func article(k Kind) string {
	if k == KindAccount || k == KindAssignment {
		return "an " + k.String()
	}
	return "a " + k.String()
}

func (k Kind) String() string {
	if int(k) < len(kindNames) && k != 0 {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Account is a customer account. Language is "en" or "fr" ("en" when the
// line has none); at least one of SecurityEmail and Email is set.
type Account struct {
	Line          int
	ID            string
	Name          string
	SecurityEmail string
	Email         string
	Language      string
}

// Resource is a customer resource (an instance, a bucket, a load balancer…).
type Resource struct {
	Line    int
	ID      string
	Account string
	Type    string
	Service string
	Region  string
}

// AssignmentRecord is an assignment line: Prefix (a bare address in the file
// becomes a /32 or /128) was held by Resource during [From, To); a zero To
// means still assigned.
type AssignmentRecord struct {
	Line     int
	Resource string
	Prefix   netip.Prefix
	From, To time.Time
}

// HostnameRecord is a hostname line; Host is normalised
// (NormalizeHostPattern) and may be a "*." wildcard.
type HostnameRecord struct {
	Line     int
	Resource string
	Host     string
	From, To time.Time
}

// Record is one good line; the field named by Kind is set.
type Record struct {
	Line       int
	Kind       Kind
	Account    Account
	Resource   Resource
	Assignment AssignmentRecord
	Hostname   HostnameRecord
}

// LineError is one problem of one line: Field names the JSON field ("" for
// the line as a whole), Code is a report code or one of the Code constants
// above.
type LineError struct {
	Line int `json:"line"`
	report.FieldError
}

func (e LineError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Message)
	}
	return fmt.Sprintf("line %d: %s: %s", e.Line, e.Field, e.Message)
}

// LineErrors are the problems of one bad line, as returned by Next.
type LineErrors []LineError

func (es LineErrors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

// InventoryReader reads an inventory line by line.
type InventoryReader struct {
	br   *bufio.Reader
	line int
	buf  []byte
	err  error
}

// NewInventoryReader reads r. Blank lines are skipped, a UTF-8 byte order
// mark at the start is ignored, CRLF line ends are accepted.
func NewInventoryReader(r io.Reader) *InventoryReader {
	return &InventoryReader{br: bufio.NewReaderSize(r, 64<<10)}
}

// Line is the number of the last line read (1-based).
func (ir *InventoryReader) Line() int { return ir.line }

// Next returns the next good record. A bad line gives a LineErrors error;
// reading may go on after it. At the end Next returns io.EOF; any other
// error is a read error and ends reading.
func (ir *InventoryReader) Next() (Record, error) {
	for {
		if ir.err != nil {
			return Record{}, ir.err
		}
		b, tooLong, err := ir.readLine()
		if err != nil {
			ir.err = err
			return Record{}, err
		}
		if tooLong {
			return Record{Line: ir.line}, LineErrors{lineErr(ir.line, "", report.CodeTooLarge, "line longer than %d bytes", MaxInventoryLine)}
		}
		if ir.line == 1 {
			b = bytes.TrimPrefix(b, []byte("\uFEFF"))
		}
		b = bytes.TrimSpace(b)
		if len(b) == 0 {
			continue
		}
		rec, errs := parseInventoryLine(ir.line, b)
		if len(errs) > 0 {
			return Record{Line: ir.line}, errs
		}
		return rec, nil
	}
}

// readLine reads one line (without its end), or reports that it was longer
// than MaxInventoryLine (skipping it).
func (ir *InventoryReader) readLine() ([]byte, bool, error) {
	ir.buf = ir.buf[:0]
	tooLong, got := false, false
	for {
		frag, err := ir.br.ReadSlice('\n')
		got = got || len(frag) > 0
		if !tooLong {
			if len(ir.buf)+len(frag) > MaxInventoryLine+2 { // + CRLF
				tooLong = true
				ir.buf = ir.buf[:0]
			} else {
				ir.buf = append(ir.buf, frag...)
			}
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF:
			if !got {
				return nil, false, io.EOF
			}
		case err != nil:
			return nil, false, err
		}
		ir.line++
		if !tooLong && len(bytes.TrimRight(ir.buf, "\r\n")) > MaxInventoryLine {
			tooLong = true
		}
		return ir.buf, tooLong, nil
	}
}

// invJSON holds every field of every kind; which ones a kind allows is
// checked after decoding.
type invJSON struct {
	Kind          *string `json:"kind"`
	ID            *string `json:"id"`
	Name          *string `json:"name"`
	SecurityEmail *string `json:"security_email"`
	Email         *string `json:"email"`
	Language      *string `json:"language"`
	Account       *string `json:"account"`
	Type          *string `json:"type"`
	Service       *string `json:"service"`
	Region        *string `json:"region"`
	Resource      *string `json:"resource"`
	Prefix        *string `json:"prefix"`
	From          *string `json:"from"`
	To            *string `json:"to"`
	Host          *string `json:"host"`
}

func lineErr(line int, field, code, format string, args ...any) LineError {
	return LineError{Line: line, FieldError: report.FieldError{Field: field, Code: code, Message: fmt.Sprintf(format, args...)}}
}

// Text limits: ids and short fields, names.
const (
	maxIDLen   = 256
	maxNameLen = 1024
)

func parseInventoryLine(line int, b []byte) (Record, LineErrors) {
	var errs LineErrors
	add := func(field, code, format string, args ...any) {
		errs = append(errs, lineErr(line, field, code, format, args...))
	}
	var j invJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	err := dec.Decode(&j)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			err = errors.New("more than one JSON value on the line")
		}
	}
	if err != nil {
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &te) && te.Field != "":
			add(te.Field, report.CodeWrongType, "must be a string")
		case errors.As(err, &te):
			add("", report.CodeInvalidJSON, "a line must be one JSON object")
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name, _ := strings.CutPrefix(err.Error(), "json: unknown field ")
			name = strings.Trim(name, `"`)
			add(clipText(name), report.CodeUnknownField, "unknown field")
		case errors.As(err, &se):
			add("", report.CodeInvalidJSON, "not valid JSON at column %d: %v", se.Offset, se)
		default:
			add("", report.CodeInvalidJSON, "not valid JSON: %v", err)
		}
		return Record{}, errs
	}
	if j.Kind == nil {
		add("kind", report.CodeRequired, "kind is required (account, resource, assignment or hostname)")
		return Record{}, errs
	}
	var kind Kind
	for k, name := range kindNames {
		if name != "" && name == *j.Kind {
			kind = Kind(k)
		}
	}
	if kind == 0 {
		add("kind", report.CodeInvalidChoice, "unknown kind %q (account, resource, assignment or hostname)", clipText(*j.Kind))
		return Record{}, errs
	}

	// Fields that are not part of this kind.
	type field struct {
		name  string
		v     *string
		kinds uint8 // bit k set: allowed for Kind k
	}
	const (
		kA = 1 << KindAccount
		kR = 1 << KindResource
		kS = 1 << KindAssignment
		kH = 1 << KindHostname
	)
	for _, f := range []field{
		{"id", j.ID, kA | kR}, {"name", j.Name, kA}, {"security_email", j.SecurityEmail, kA},
		{"email", j.Email, kA}, {"language", j.Language, kA}, {"account", j.Account, kR},
		{"type", j.Type, kR}, {"service", j.Service, kR}, {"region", j.Region, kR},
		{"resource", j.Resource, kS | kH}, {"prefix", j.Prefix, kS}, {"from", j.From, kS | kH},
		{"to", j.To, kS | kH}, {"host", j.Host, kH},
	} {
		if f.v != nil && f.kinds&(1<<kind) == 0 {
			add(f.name, report.CodeUnknownField, "not a field of %s line", article(kind))
		}
	}

	val := func(p *string) string {
		if p == nil {
			return ""
		}
		return strings.TrimSpace(*p)
	}
	id := func(name string, p *string) string {
		s := val(p)
		switch {
		case s == "":
			add(name, report.CodeRequired, "%s is required", name)
		case len(s) > maxIDLen:
			add(name, report.CodeTooLarge, "at most %d bytes", maxIDLen)
		case !printable(s):
			add(name, report.CodeInvalid, "control characters or invalid UTF-8")
		}
		return s
	}
	text := func(name string, p *string, max int) string {
		s := val(p)
		switch {
		case len(s) > max:
			add(name, report.CodeTooLarge, "at most %d bytes", max)
		case !printable(s):
			add(name, report.CodeInvalid, "control characters or invalid UTF-8")
		}
		return s
	}
	email := func(name string, p *string) string {
		s := val(p)
		if s == "" {
			return ""
		}
		a, err := mail.ParseAddress(s)
		if err != nil || a.Name != "" || !strings.Contains(a.Address, "@") || len(s) > 254 {
			add(name, report.CodeInvalidEmail, "%q is not an email address (expected name@example.org)", clipText(s))
			return ""
		}
		return a.Address
	}
	timeField := func(name string, p *string, required bool) time.Time {
		s := val(p)
		if s == "" {
			if required {
				add(name, report.CodeRequired, "%s is required (e.g. 2026-01-01T00:00:00Z)", name)
			}
			return time.Time{}
		}
		t, err := report.ParseTimestamp(s)
		switch {
		case errors.Is(err, report.ErrTimezoneMissing):
			add(name, report.CodeTimezoneRequired, "%v", err)
			return time.Time{}
		case err != nil:
			add(name, report.CodeInvalidTimestamp, "%v", err)
			return time.Time{}
		case t.Unix() < 0 || t.Unix() > maxUnix:
			add(name, report.CodeInvalidTimestamp, "outside 1970..2106")
			return time.Time{}
		}
		return t
	}
	interval := func() (time.Time, time.Time) {
		from := timeField("from", j.From, true)
		to := timeField("to", j.To, false)
		if !from.IsZero() && !to.IsZero() && to.Unix() <= from.Unix() {
			add("to", report.CodeInvalid, "to must be after from (at one-second resolution)")
		}
		return from, to
	}

	rec := Record{Line: line, Kind: kind}
	switch kind {
	case KindAccount:
		a := Account{Line: line, ID: id("id", j.ID), Name: text("name", j.Name, maxNameLen)}
		a.SecurityEmail = email("security_email", j.SecurityEmail)
		a.Email = email("email", j.Email)
		if val(j.SecurityEmail) == "" && val(j.Email) == "" {
			add("security_email", report.CodeRequired, "an account needs security_email or email")
		}
		switch a.Language = lowerASCII(val(j.Language)); a.Language {
		case "":
			a.Language = "en"
		case "en", "fr":
		default:
			add("language", report.CodeInvalidChoice, "language must be en or fr")
		}
		rec.Account = a
	case KindResource:
		rec.Resource = Resource{
			Line: line, ID: id("id", j.ID), Account: id("account", j.Account),
			Type: text("type", j.Type, maxIDLen), Service: text("service", j.Service, maxIDLen), Region: text("region", j.Region, maxIDLen),
		}
	case KindAssignment:
		a := AssignmentRecord{Line: line, Resource: id("resource", j.Resource)}
		if s := val(j.Prefix); s == "" {
			add("prefix", report.CodeRequired, "prefix is required (a prefix such as 203.0.113.0/24 or an address)")
		} else if p, reason := parseInventoryPrefix(s); reason != "" {
			add("prefix", report.CodeInvalidIP, "%q: %s", clipText(s), reason)
		} else {
			a.Prefix = p
		}
		a.From, a.To = interval()
		rec.Assignment = a
	case KindHostname:
		h := HostnameRecord{Line: line, Resource: id("resource", j.Resource)}
		if s := val(j.Host); s == "" {
			add("host", report.CodeRequired, "host is required")
		} else if pat, reason := NormalizeHostPattern(s); reason != "" {
			add("host", report.CodeInvalidHost, "%q: %s", clipText(s), reason)
		} else {
			h.Host = pat
		}
		h.From, h.To = interval()
		rec.Hostname = h
	}
	if len(errs) > 0 {
		return Record{}, errs
	}
	return rec, nil
}

// parseInventoryPrefix reads a prefix in CIDR notation or a bare address
// (a /32 or /128). Zones are stripped and IPv4-mapped forms become IPv4, as in
// report.ParseIP; a prefix with host bits set is refused.
func parseInventoryPrefix(s string) (netip.Prefix, string) {
	if !strings.Contains(s, "/") {
		a, ok := report.ParseIP(s)
		if !ok {
			return netip.Prefix{}, "not an IP address or prefix"
		}
		return netip.PrefixFrom(a, a.BitLen()), ""
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, "not a prefix in CIDR notation"
	}
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	if p.Masked() != p {
		return netip.Prefix{}, fmt.Sprintf("host bits set (did you mean %s?)", p.Masked())
	}
	return p, ""
}

func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return false
		}
	}
	return true
}

// Inventory is the good lines of an inventory file, in file order per kind.
type Inventory struct {
	Accounts    []Account
	Resources   []Resource
	Assignments []AssignmentRecord
	Hostnames   []HostnameRecord
}

// ParseInventory reads a whole inventory: the good lines are kept, the bad
// ones reported (several errors per line when it has several problems), in
// line order. err is a read error only. References between lines are not
// checked here: see Validate.
//
// Unknown fields are refused, but field names match case-insensitively
// (encoding/json's rule): "Resource" is read as "resource".
func ParseInventory(r io.Reader) (*Inventory, []LineError, error) {
	inv := &Inventory{}
	var errs []LineError
	ir := NewInventoryReader(r)
	for {
		rec, err := ir.Next()
		var les LineErrors
		switch {
		case err == io.EOF:
			return inv, errs, nil
		case errors.As(err, &les):
			errs = append(errs, les...)
			continue
		case err != nil:
			return inv, errs, fmt.Errorf("reading inventory after line %d: %w", ir.Line(), err)
		}
		inv.Add(rec)
	}
}

// Add appends a record to the inventory.
func (inv *Inventory) Add(rec Record) {
	switch rec.Kind {
	case KindAccount:
		inv.Accounts = append(inv.Accounts, rec.Account)
	case KindResource:
		inv.Resources = append(inv.Resources, rec.Resource)
	case KindAssignment:
		inv.Assignments = append(inv.Assignments, rec.Assignment)
	case KindHostname:
		inv.Hostnames = append(inv.Hostnames, rec.Hostname)
	}
}

// Known says which ids exist outside the file (in the database, for a live
// feed of changes). A nil function knows nothing.
type Known struct {
	Account  func(id string) bool
	Resource func(id string) bool
}

// Validate checks the references between lines and removes the records that
// fail, reporting them by line (in line order):
//   - an account or resource id defined twice in the file: the later line is
//     a duplicate error (an id the database already knows is not: a line
//     for it is an update, the importer's business);
//   - a resource whose account is neither in the file nor known;
//   - an assignment or hostname whose resource is neither a (valid) resource
//     of the file nor known.
func (inv *Inventory) Validate(known Known) []LineError {
	var errs []LineError
	accounts := map[string]int{}
	keepA := inv.Accounts[:0]
	for _, a := range inv.Accounts {
		if l, dup := accounts[a.ID]; dup {
			errs = append(errs, lineErr(a.Line, "id", CodeDuplicate, "account %q already defined on line %d", clipText(a.ID), l))
			continue
		}
		accounts[a.ID] = a.Line
		keepA = append(keepA, a)
	}
	inv.Accounts = keepA
	has := func(f func(string) bool, id string) bool { return f != nil && f(id) }

	resources := map[string]int{}
	keepR := inv.Resources[:0]
	for _, r := range inv.Resources {
		if l, dup := resources[r.ID]; dup {
			errs = append(errs, lineErr(r.Line, "id", CodeDuplicate, "resource %q already defined on line %d", clipText(r.ID), l))
			continue
		}
		if _, ok := accounts[r.Account]; !ok && !has(known.Account, r.Account) {
			errs = append(errs, lineErr(r.Line, "account", CodeUnknownReference, "account %q is not defined in the file nor known", clipText(r.Account)))
			continue
		}
		resources[r.ID] = r.Line
		keepR = append(keepR, r)
	}
	inv.Resources = keepR
	resOK := func(line int, id string) bool {
		if _, ok := resources[id]; ok || has(known.Resource, id) {
			return true
		}
		errs = append(errs, lineErr(line, "resource", CodeUnknownReference, "resource %q is not defined in the file (or its line was refused) nor known", clipText(id)))
		return false
	}
	keepS := inv.Assignments[:0]
	for _, a := range inv.Assignments {
		if resOK(a.Line, a.Resource) {
			keepS = append(keepS, a)
		}
	}
	inv.Assignments = keepS
	keepH := inv.Hostnames[:0]
	for _, h := range inv.Hostnames {
		if resOK(h.Line, h.Resource) {
			keepH = append(keepH, h)
		}
	}
	inv.Hostnames = keepH
	sortLineErrors(errs)
	return errs
}

func sortLineErrors(errs []LineError) {
	// Stable: the errors of one line keep their order.
	slices.SortStableFunc(errs, func(a, b LineError) int { return cmp.Compare(a.Line, b.Line) })
}

// AssignmentsFor turns the assignment records into index inputs. handle maps a
// resource id to the uint32 the index stores (the store's row id); a record
// whose resource has no handle is reported and left out. lines[i] is the
// line of out[i], for ConflictLineErrors after Build(out).
func (inv *Inventory) AssignmentsFor(handle func(id string) (uint32, bool)) (out []Assignment, lines []int, errs []LineError) {
	for _, a := range inv.Assignments {
		h, ok := handle(a.Resource)
		if !ok {
			errs = append(errs, lineErr(a.Line, "resource", CodeUnknownReference, "resource %q is not known", clipText(a.Resource)))
			continue
		}
		out = append(out, Assignment{Prefix: a.Prefix, From: a.From, To: a.To, Resource: h})
		lines = append(lines, a.Line)
	}
	return out, lines, errs
}

// HostAssignmentsFor is AssignmentsFor for the hostname records (for BuildHosts).
func (inv *Inventory) HostAssignmentsFor(handle func(id string) (uint32, bool)) (out []HostAssignment, lines []int, errs []LineError) {
	for _, h := range inv.Hostnames {
		r, ok := handle(h.Resource)
		if !ok {
			errs = append(errs, lineErr(h.Line, "resource", CodeUnknownReference, "resource %q is not known", clipText(h.Resource)))
			continue
		}
		out = append(out, HostAssignment{Host: h.Host, From: h.From, To: h.To, Resource: r})
		lines = append(lines, h.Line)
	}
	return out, lines, errs
}

// ConflictLineErrors maps the Conflicts of Build or BuildHosts back to the
// lines the inputs came from (lines as returned by AssignmentsFor or
// HostAssignmentsFor). An overlap gives an error on both lines, each naming the
// other; both were left out of the index. field is the field to blame
// ("prefix" or "host"). The result is in line order.
func ConflictLineErrors(cs []Conflict, lines []int, field string) []LineError {
	var errs []LineError
	for _, c := range cs {
		if c.A < 0 || c.A >= len(lines) {
			continue
		}
		if c.B < 0 || c.B >= len(lines) {
			errs = append(errs, lineErr(lines[c.A], "", report.CodeInvalid, "%s", c.Reason))
			continue
		}
		la, lb := lines[c.A], lines[c.B]
		errs = append(errs,
			lineErr(la, field, CodeOverlap, "%s: overlaps line %d", c.Reason, lb),
			lineErr(lb, field, CodeOverlap, "%s: overlaps line %d", c.Reason, la))
	}
	sortLineErrors(errs)
	return errs
}
