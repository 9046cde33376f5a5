// Package routing decides the lane of a report (the queue one team works
// from) by rules that operators keep in a small text file. The built-in rules
// (default.rules, embedded) apply when no file is given; a file replaces them
// as a whole.
//
// # File format
//
// One directive per line. '#' starts a comment that runs to the end of the
// line, blank lines are ignored, and words are separated by spaces or tabs.
//
//	default LANE                  the lane of a report no rule matches: at most
//	                              once; general when the file has none
//	route LANE COND [COND ...]    a rule: every condition must match
//
// Rules are tried in file order and the first that matches wins, so rules
// that must override others (legal) come first. A condition is
//
//	key=v1,v2     the report has one of the values
//	key!=v1,v2    it has none of them (exactly the opposite of key=v1,v2)
//
// with these keys:
//
//	type           network, content, email, dmca
//	subtype        a subtype of those (report.Subtypes); it must belong to the
//	               rule's type when the rule names one
//	reporter_kind  individual, organization, isp, cert, government
//	channel        api, form, xarf, csv, mail, legal
//	service        an attributed item's service (EC2, SES, ...); case-insensitive
//	region         an attributed item's region (eu-west-3, ...); exact
//	verdict        an item's attribution: not_ours, unassigned, assigned
//	via            sending-service: the message passed through the provider's
//	               email-sending service
//
// service, region and verdict look at every item: key=... matches when any
// item has a listed value, key!=... when none has ("verdict!=assigned,unassigned"
// reads "none of the items is ours", which also holds when nothing was
// attributed). Values of service and region are not checked against the
// inventory, which changes while the rules do not.
//
// Lane names are lowercase letters, digits and '-'. The desk knows the lanes
// of package report (general, email-abuse, copyright, legal); any other name
// is a custom lane.
//
// A mistake is never skipped, since a skipped line would silently send
// reports elsewhere: Parse refuses the whole file and names every bad line as
// "file:line: reason". Besides syntax it refuses what can only be a mistake:
// a key given twice in a rule, a rule without conditions (that is what
// default is for), a rule with the same conditions as an earlier one (it
// could never match), a second default line.
package routing

import (
	_ "embed"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"

	"abusedesk/internal/report"
)

//go:embed default.rules
var defaultText string

// defaultName is the built-in rules' file name in Rule.File: an analyst
// reading "why" must tell them from a configured file.
const defaultName = "builtin:default.rules"

// maxFileSize bounds what Parse reads; a rules file is a few kilobytes.
const maxFileSize = 1 << 20

// Input is what routing reads from a report, once validated and attributed.
type Input struct {
	Type, Subtype, ReporterKind, Channel string
	// Services, Regions and Verdicts of the report's attributed items (one
	// entry per item or deduplicated, empty strings ignored): a condition
	// on them matches when any entry does.
	Services, Regions, Verdicts []string
	// ViaSendingService: the reported message passed through the hosts of
	// the provider's email-sending service.
	ViaSendingService bool
}

// Rule is one rule of a file, or its default; Route returns the one that
// decided so that an analyst can see why a report is in its lane.
type Rule struct {
	File string // the name given to Parse, or builtin:default.rules
	Line int    // 1-based; 0 for the implicit default of a file without one
	Lane string
	// Text is the rule in canonical form: "route legal reporter_kind=government"
	// or "default general".
	Text    string
	Default bool // no route matched: the report took the default lane
	conds   []cond
}

// String tells where the rule is and what it says, for logs and the console.
func (r Rule) String() string {
	if r.Line == 0 {
		return r.File + ": " + r.Text + " (implicit: no default line)"
	}
	return fmt.Sprintf("%s:%d: %s", r.File, r.Line, r.Text)
}

// Rules is a parsed rules file. It is immutable and safe for concurrent use.
// A nil *Rules routes by the built-in defaults.
type Rules struct {
	def   Rule
	rules []Rule
}

// Error is one bad line of a rules file.
type Error struct {
	File string
	Line int // 1-based; 0 when about the file as a whole
	Msg  string
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return e.File + ": " + e.Msg
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// Errors is every problem of a file, in line order; Parse returns it.
type Errors []*Error

func (es Errors) Error() string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// Keys, in the canonical order of conditions.
const (
	kType = iota
	kSubtype
	kReporterKind
	kChannel
	kService
	kRegion
	kVerdict
	kVia
	nKeys
)

type keyInfo struct {
	name   string
	closed []string // the accepted values; nil for an open vocabulary
	fold   bool     // values compare case-insensitively
}

// Channels and verdicts mirror intake's Channel* and attribution's verdict
// constants (a test checks): importing those packages here would make
// routing depend on the store and the indexes it only needs three words of.
var (
	channels = []string{"api", "form", "xarf", "csv", "mail", "legal"}
	verdicts = []string{"not_ours", "unassigned", "assigned"}
)

var keys = [nKeys]keyInfo{
	kType:         {name: "type", closed: report.Types},
	kSubtype:      {name: "subtype", closed: allSubtypes()},
	kReporterKind: {name: "reporter_kind", closed: report.ReporterKinds},
	kChannel:      {name: "channel", closed: channels},
	kService:      {name: "service", fold: true},
	kRegion:       {name: "region"},
	kVerdict:      {name: "verdict", closed: verdicts},
	kVia:          {name: "via", closed: []string{"sending-service"}},
}

func allSubtypes() []string {
	var s []string
	for _, t := range report.Types {
		s = append(s, report.Subtypes[t]...)
	}
	return s
}

func keyNames() string {
	s := make([]string, nKeys)
	for i, k := range keys {
		s[i] = k.name
	}
	return strings.Join(s, ", ")
}

type cond struct {
	key  int
	neg  bool
	vals []string
}

func (c cond) String() string {
	op := "="
	if c.neg {
		op = "!="
	}
	return keys[c.key].name + op + strings.Join(c.vals, ",")
}

func (c cond) match(in Input) bool {
	var hit bool
	switch c.key {
	case kType:
		hit = slices.Contains(c.vals, in.Type)
	case kSubtype:
		hit = slices.Contains(c.vals, in.Subtype)
	case kReporterKind:
		hit = slices.Contains(c.vals, in.ReporterKind)
	case kChannel:
		hit = slices.Contains(c.vals, in.Channel)
	case kService:
		hit = anyOf(in.Services, c.vals, true)
	case kRegion:
		hit = anyOf(in.Regions, c.vals, false)
	case kVerdict:
		hit = anyOf(in.Verdicts, c.vals, false)
	case kVia:
		hit = in.ViaSendingService // sending-service is the only value
	}
	return hit != c.neg
}

func anyOf(have, want []string, fold bool) bool {
	for _, h := range have {
		for _, w := range want {
			if h == w || fold && strings.EqualFold(h, w) {
				return true
			}
		}
	}
	return false
}

func (r *Rule) match(in Input) bool {
	for _, c := range r.conds {
		if !c.match(in) {
			return false
		}
	}
	return true
}

// Route returns the lane of the first rule that matches in, or the default
// lane, and the rule that decided.
func (r *Rules) Route(in Input) (lane string, rule Rule) {
	if r == nil {
		r = Default()
	}
	for i := range r.rules {
		if r.rules[i].match(in) {
			return r.rules[i].Lane, r.rules[i]
		}
	}
	return r.def.Lane, r.def
}

// Lanes lists the lanes the rules can send a report to: the default lane
// first, then the others in the order rules first name them.
func (r *Rules) Lanes() []string {
	if r == nil {
		r = Default()
	}
	l := []string{r.def.Lane}
	seen := map[string]bool{r.def.Lane: true}
	for _, ru := range r.rules {
		if !seen[ru.Lane] {
			seen[ru.Lane] = true
			l = append(l, ru.Lane)
		}
	}
	return l
}

// String is the rules in canonical form, without comments: the default line,
// then each rule in order with its conditions in a fixed key order. Parsing
// it gives the same rules; `abusedesk routing show` prints it.
func (r *Rules) String() string {
	if r == nil {
		r = Default()
	}
	var b strings.Builder
	b.WriteString(r.def.Text + "\n")
	w := 0
	for _, ru := range r.rules {
		w = max(w, len(ru.Lane))
	}
	for _, ru := range r.rules {
		fmt.Fprintf(&b, "route %-*s  %s\n", w, ru.Lane, condsText(ru.conds))
	}
	return b.String()
}

func condsText(cs []cond) string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = c.String()
	}
	return strings.Join(s, " ")
}

var defaultRules = sync.OnceValue(func() *Rules {
	r, err := Parse(defaultName, strings.NewReader(defaultText))
	if err != nil {
		panic("routing: the built-in rules do not parse: " + err.Error())
	}
	return r
})

// Default returns the built-in rules of default.rules.
func Default() *Rules { return defaultRules() }

// Load reads the rules file at path; an empty path means the built-in rules.
func Load(path string) (*Rules, error) {
	if path == "" {
		return Default(), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Parse(path, f)
}

// Parse reads a rules file; name is how messages and Rule.File call it. On
// any mistake it returns no rules and an Errors naming every bad line.
func Parse(name string, r io.Reader) (*Rules, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(data) > maxFileSize {
		return nil, Errors{{File: name, Msg: fmt.Sprintf("larger than %d bytes: not a rules file", maxFileSize)}}
	}
	p := parser{name: name, seen: map[string]int{}}
	// An editor's byte-order mark is not part of the first word.
	text := strings.TrimPrefix(string(data), "\ufeff")
	for i, line := range strings.Split(text, "\n") {
		p.line(i+1, line)
	}
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	if p.rs.def.Lane == "" {
		p.rs.def = Rule{File: name, Lane: report.LaneGeneral, Text: "default " + report.LaneGeneral, Default: true}
	}
	return &p.rs, nil
}

type parser struct {
	name string
	rs   Rules
	errs Errors
	seen map[string]int // a rule's conditions, normalised → its line

	defLine int // the first default line, 0 before it
}

func (p *parser) errorf(line int, format string, args ...any) {
	p.errs = append(p.errs, &Error{File: p.name, Line: line, Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) line(n int, s string) {
	s, _, _ = strings.Cut(s, "#")
	w := strings.Fields(s)
	if len(w) == 0 {
		return
	}
	switch w[0] {
	case "default":
		p.defaultLine(n, w[1:])
	case "route":
		p.routeLine(n, w[1:])
	default:
		p.errorf(n, "unknown directive %q (a line is route LANE key=value ... or default LANE)", w[0])
	}
}

func (p *parser) defaultLine(n int, w []string) {
	switch {
	case len(w) == 0:
		p.errorf(n, "default needs a lane (default general)")
		return
	case len(w) > 1:
		p.errorf(n, "default takes a lane only, not %q (conditions belong on route lines)", w[1])
	}
	laneOK := p.lane(n, w[0])
	// A first default with a bad lane still counts, so that a second one
	// is reported in the same pass.
	if p.defLine > 0 {
		p.errorf(n, "second default line (the first is line %d)", p.defLine)
		return
	}
	p.defLine = n
	if laneOK {
		p.rs.def = Rule{File: p.name, Line: n, Lane: w[0], Text: "default " + w[0], Default: true}
	}
}

func (p *parser) lane(n int, s string) bool {
	ok := len(s) <= 64 && s != "" && s[0] != '-'
	for _, c := range []byte(s) {
		ok = ok && (c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-')
	}
	if !ok {
		p.errorf(n, "invalid lane %q (lowercase letters, digits and '-', at most 64, e.g. email-abuse)", s)
	}
	return ok
}

func (p *parser) routeLine(n int, w []string) {
	if len(w) == 0 || strings.Contains(w[0], "=") {
		p.errorf(n, "missing lane: route LANE key=value ...")
		return
	}
	laneOK := p.lane(n, w[0])
	if len(w) == 1 {
		lane := "LANE"
		if laneOK {
			lane = w[0]
		}
		p.errorf(n, "route %s has no condition: a rule for every report is written default %s", lane, lane)
		return
	}
	var cs []cond
	bad := false
	have := map[int]bool{}
	for _, tok := range w[1:] {
		c, ok := p.cond(n, tok)
		switch {
		case !ok:
			bad = true
		case have[c.key]:
			// Two conditions on one key would read as "and" where the
			// operator most likely meant "or".
			p.errorf(n, "%s given twice (list the values in one condition: %s=a,b)", keys[c.key].name, keys[c.key].name)
			bad = true
		default:
			have[c.key] = true
			cs = append(cs, c)
		}
	}
	if bad {
		return
	}
	slices.SortStableFunc(cs, func(a, b cond) int { return a.key - b.key })
	if !p.subtypesFit(n, cs) {
		return
	}
	k := matchKey(cs)
	if first, dup := p.seen[k]; dup {
		p.errorf(n, "same conditions as line %d, which comes first: this rule can never match", first)
		return
	}
	p.seen[k] = n
	if laneOK {
		p.rs.rules = append(p.rs.rules, Rule{File: p.name, Line: n, Lane: w[0], Text: "route " + w[0] + " " + condsText(cs), conds: cs})
	}
}

func (p *parser) cond(n int, tok string) (cond, bool) {
	k, v, found := strings.Cut(tok, "=")
	if !found {
		p.errorf(n, "%q is not a condition (key=value or key!=value)", tok)
		return cond{}, false
	}
	c := cond{key: -1}
	if strings.HasSuffix(k, "!") {
		k, c.neg = k[:len(k)-1], true
	}
	for i, ki := range keys {
		if ki.name == k {
			c.key = i
		}
	}
	if k == "" {
		p.errorf(n, "missing key in %q (key=value or key!=value)", tok)
		return cond{}, false
	}
	if c.key < 0 {
		p.errorf(n, "unknown key %q (one of %s)", k, keyNames())
		return cond{}, false
	}
	ki := keys[c.key]
	c.vals = strings.Split(v, ",")
	ok := true
	seen := make(map[string]int, len(c.vals)) // 1: listed, 2: reported twice
	for _, val := range c.vals {
		norm := val
		if ki.fold {
			norm = strings.ToLower(val)
		}
		switch {
		case val == "":
			p.errorf(n, "empty value in %q", tok)
			return cond{}, false
		case seen[norm] > 0:
			if seen[norm] == 1 {
				p.errorf(n, "%s value %q listed twice", ki.name, val)
			}
			seen[norm] = 2
			ok = false
		case ki.closed != nil && !slices.Contains(ki.closed, val):
			p.errorf(n, "%q is not a %s (one of %s)", val, ki.name, strings.Join(ki.closed, ", "))
			ok = false
		case ki.closed == nil && !openValue(val):
			p.errorf(n, "invalid %s %q (letters, digits and . _ : / -, at most 128)", ki.name, val)
			ok = false
		}
		seen[norm] = max(seen[norm], 1)
	}
	return c, ok
}

// openValue bounds service and region names to what inventories use, so
// that every value survives String and Parse unchanged.
func openValue(s string) bool {
	if len(s) > 128 {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("._:/-", c) >= 0) {
			return false
		}
	}
	return true
}

// subtypesFit refuses a subtype that is not one of the rule's types: the
// rule could never match (or, with !=, the condition would say nothing).
func (p *parser) subtypesFit(n int, cs []cond) bool {
	var types, subs *cond
	for i := range cs {
		switch cs[i].key {
		case kType:
			types = &cs[i]
		case kSubtype:
			subs = &cs[i]
		}
	}
	if types == nil || types.neg || subs == nil {
		return true
	}
	ok := true
	for _, s := range subs.vals {
		var valid []string
		for _, t := range types.vals {
			valid = append(valid, report.Subtypes[t]...)
		}
		if !slices.Contains(valid, s) {
			p.errorf(n, "subtype %q is not a subtype of %s (its subtypes: %s)", s, strings.Join(types.vals, " or "), strings.Join(valid, ", "))
			ok = false
		}
	}
	return ok
}

// matchKey normalises conditions so that rules matching the same reports
// compare equal whatever the order of values or the case of services.
func matchKey(cs []cond) string {
	var b strings.Builder
	for _, c := range cs {
		vals := slices.Clone(c.vals)
		if keys[c.key].fold {
			for i := range vals {
				vals[i] = strings.ToLower(vals[i])
			}
		}
		slices.Sort(vals)
		b.WriteString(cond{key: c.key, neg: c.neg, vals: vals}.String() + " ")
	}
	return b.String()
}
