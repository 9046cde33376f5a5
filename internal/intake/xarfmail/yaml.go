package xarfmail

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxYAMLBytes bounds what ParseYAML reads. An X-ARF report.txt is a few
// hundred bytes; anything near this is not one.
const MaxYAMLBytes = 256 << 10

// YAMLField is one "Key: value" entry of a report.txt, in document order.
type YAMLField struct {
	Key   string
	Value string
	Line  int // 1-based line of the key
}

// YAMLError names the line (1-based) where the document leaves the subset.
type YAMLError struct {
	Line int
	Msg  string
}

func (e *YAMLError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// ParseYAML reads the YAML subset X-ARF 0.1/0.2 writes in report.txt: one
// document (YAML 1.2 §9.1) holding a flat block mapping (§8.2.2) of
// "Key: value" entries whose values are scalars:
//
//   - plain scalars (§7.3.3), possibly continued on more-indented lines,
//     which fold into one line (§6.5); they are returned as written, with no
//     type resolution: "22" stays "22", "~" stays "~";
//   - single-quoted (a doubled quote is one quote, §7.3.2) and double-quoted scalars with
//     the escapes of §5.7 (\n, \t, \", \\, \xXX, \uXXXX, \UXXXXXXXX ...);
//   - literal (|) and folded (>) block scalars (§8.1) with the chomping
//     (+, -) and indentation (1-9) indicators;
//   - empty values, returned as "".
//
// Comments (#, §6.6), blank lines, a %YAML directive, the --- and ...
// markers (§9.1.1) and a UTF-8 byte order mark are skipped. Everything else
// is an error naming its line: nested mappings, sequences, flow collections,
// anchors, aliases and tags, a second document, duplicate keys (§3.2.1.1:
// mapping keys are unique). The reader never allocates beyond a small
// multiple of its input, which is itself bounded by MaxYAMLBytes.
func ParseYAML(b []byte) ([]YAMLField, error) {
	if len(b) > MaxYAMLBytes {
		return nil, &YAMLError{Line: 1, Msg: fmt.Sprintf("the document is larger than %d bytes", MaxYAMLBytes)}
	}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	// YAML line breaks are LF, CRLF and CR (§5.4).
	s := strings.ReplaceAll(string(b), "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = strings.TrimSuffix(s, "\n")
	var lines []yline
	if s != "" {
		for i, l := range strings.Split(s, "\n") {
			if !utf8.ValidString(l) {
				return nil, &YAMLError{Line: i + 1, Msg: "not UTF-8 text"}
			}
			lines = append(lines, newLine(i+1, l))
		}
	}
	p := &yparser{lines: lines, indent: -1, seen: map[string]int{}}
	return p.parse()
}

// yline is one line with its indentation (spaces only: YAML forbids tabs in
// indentation, §6.1) and the text after it.
type yline struct {
	num    int
	indent int
	text   string // after the indentation
	raw    string
}

func newLine(num int, raw string) yline {
	i := 0
	for i < len(raw) && raw[i] == ' ' {
		i++
	}
	return yline{num: num, indent: i, text: raw[i:], raw: raw}
}

// blank is an empty or white-space-only line.
func (l yline) blank() bool { return strings.TrimLeft(l.text, " \t") == "" }

// comment is a line holding only a comment.
func (l yline) comment() bool { return strings.HasPrefix(strings.TrimLeft(l.text, " \t"), "#") }

type yparser struct {
	lines  []yline
	indent int // the mapping's indentation, -1 until the first key
	out    []YAMLField
	seen   map[string]int
	// started: a "---" or a key was read; ended: "..." was read.
	started, ended bool
}

func errf(line int, format string, args ...any) error {
	return &YAMLError{Line: line, Msg: fmt.Sprintf(format, args...)}
}

func (p *yparser) parse() ([]YAMLField, error) {
	for i := 0; i < len(p.lines); {
		l := p.lines[i]
		if l.blank() || l.comment() {
			i++
			continue
		}
		if l.indent == 0 {
			if marker(l.text, "---") {
				if p.started {
					return nil, errf(l.num, "a second document (---): report.txt holds one")
				}
				if rest := strings.TrimLeft(l.text[3:], " \t"); rest != "" && rest[0] != '#' {
					return nil, errf(l.num, "content on the --- line: the document must be a mapping of Key: value lines")
				}
				p.started = true
				i++
				continue
			}
			if marker(l.text, "...") {
				if rest := strings.TrimLeft(l.text[3:], " \t"); rest != "" && rest[0] != '#' {
					return nil, errf(l.num, "content after the ... document end marker")
				}
				p.ended = true
				i++
				continue
			}
			if l.text[0] == '%' {
				if p.started || !strings.HasPrefix(l.text, "%YAML ") {
					return nil, errf(l.num, "directives other than %%YAML before --- are not supported")
				}
				i++
				continue
			}
		}
		if p.ended {
			return nil, errf(l.num, "content after the ... document end marker")
		}
		if strings.HasPrefix(l.text, "\t") {
			return nil, errf(l.num, "a tab in the indentation (YAML indents with spaces)")
		}
		if p.indent < 0 {
			p.indent = l.indent
		}
		if l.indent > p.indent {
			return nil, errf(l.num, "unexpected indentation: nested mappings are not supported, keys must all start in the same column")
		}
		if l.indent < p.indent {
			return nil, errf(l.num, "the key is less indented than the first key: keys must all start in the same column")
		}
		p.started = true
		// The entry's value may continue on the following lines that are
		// more indented than its key, and on blank lines between them.
		j := i + 1
		for j < len(p.lines) && (p.lines[j].blank() || p.lines[j].indent > p.indent) {
			j++
		}
		if err := p.entry(l, p.lines[i+1:j]); err != nil {
			return nil, err
		}
		i = j
	}
	return p.out, nil
}

// marker reports whether text is the document marker m (--- or ...) on its
// own or followed by white space (§9.1.1).
func marker(text, m string) bool {
	return strings.HasPrefix(text, m) && (len(text) == 3 || text[3] == ' ' || text[3] == '\t')
}

// entry reads one "Key: value" line and its continuation lines.
func (p *yparser) entry(l yline, cont []yline) error {
	key, rest, err := splitKey(l)
	if err != nil {
		return err
	}
	if prev, dup := p.seen[key]; dup {
		return errf(l.num, "duplicate key %q (first on line %d)", clipKey(key), prev)
	}
	v, err := p.value(l, rest, cont)
	if err != nil {
		return err
	}
	p.seen[key] = l.num
	p.out = append(p.out, YAMLField{Key: key, Value: v, Line: l.num})
	return nil
}

func clipKey(k string) string {
	if len(k) > 40 {
		return k[:40] + "..."
	}
	return k
}

// splitKey cuts a line into its key and what follows the ": " separator.
func splitKey(l yline) (key, rest string, err error) {
	t := l.text
	if err := startIndicator(l.num, t, "a key"); err != nil {
		return "", "", err
	}
	if t[0] == '"' || t[0] == '\'' {
		// A quoted key on one line (§7.3).
		v, end, err := quoted([]yline{{num: l.num, text: t}}, 0)
		if err != nil {
			return "", "", err
		}
		after := t[end:]
		if !strings.HasPrefix(after, ":") || len(after) > 1 && after[1] != ' ' && after[1] != '\t' {
			return "", "", errf(l.num, "expected Key: value")
		}
		if v == "" {
			return "", "", errf(l.num, "an empty quoted key")
		}
		return v, strings.TrimLeft(after[1:], " \t"), nil
	}
	for i := 0; i < len(t); i++ {
		switch {
		case t[i] == '#' && i > 0 && (t[i-1] == ' ' || t[i-1] == '\t'):
			return "", "", errf(l.num, "expected Key: value, found a comment before the colon")
		case t[i] == ':' && (i+1 == len(t) || t[i+1] == ' ' || t[i+1] == '\t'):
			key = strings.TrimRight(t[:i], " \t")
			if key == "" {
				return "", "", errf(l.num, "a colon without a key")
			}
			return key, strings.TrimLeft(t[i+1:], " \t"), nil
		}
	}
	return "", "", errf(l.num, "expected Key: value (a colon followed by a space)")
}

// startIndicator refuses the indicators (§5.3) that open what the subset
// does not read, with a message naming the construct.
func startIndicator(num int, t, what string) error {
	switch c := t[0]; {
	case c == '-' && (len(t) == 1 || t[1] == ' ' || t[1] == '\t'):
		return errf(num, "a sequence (- item) is not supported where %s was expected: report.txt is a mapping of Key: value lines", what)
	case c == '?' && (len(t) == 1 || t[1] == ' ' || t[1] == '\t'):
		return errf(num, "complex keys (? key) are not supported")
	case c == '[' || c == '{':
		return errf(num, "flow collections ([...] or {...}) are not supported: quote the value if it is text")
	case c == '&':
		return errf(num, "anchors (&name) are not supported")
	case c == '*':
		return errf(num, "aliases (*name) are not supported")
	case c == '!':
		return errf(num, "tags (!tag) are not supported")
	case c == '@' || c == '`':
		return errf(num, "%q is reserved in YAML and cannot start %s: quote it", c, what)
	case c == ']' || c == '}' || c == ',' || c == '%':
		return errf(num, "%q cannot start %s: quote it", c, what)
	case (c == '|' || c == '>') && what == "a key":
		return errf(num, "a block scalar indicator (%c) where a key was expected", c)
	}
	return nil
}

// value reads the value that starts with rest on the key's line and may
// continue on cont.
func (p *yparser) value(l yline, rest string, cont []yline) (string, error) {
	if rest != "" && (rest[0] == '|' || rest[0] == '>') {
		return p.block(l, rest, cont)
	}
	// A flow scalar: on the key's line, or starting on the next line.
	first := yline{num: l.num, text: rest}
	lines := []yline{first}
	if rest == "" || rest[0] == '#' {
		lines = nil
		// Comments and blank lines before the value are skipped; the value
		// is then the first more-indented line (§6.6).
		for len(cont) > 0 && (cont[0].blank() || cont[0].comment()) {
			cont = cont[1:]
		}
		if len(cont) == 0 {
			return "", nil
		}
	}
	for _, c := range cont {
		lines = append(lines, yline{num: c.num, text: strings.TrimLeft(c.text, " \t")})
	}
	t := lines[0].text
	if err := startIndicator(lines[0].num, t, "a value"); err != nil {
		return "", err
	}
	if t[0] == '|' || t[0] == '>' {
		return "", errf(lines[0].num, "a block scalar indicator (%c) must be on the key's line", t[0])
	}
	if t[0] == '"' || t[0] == '\'' {
		v, end, err := quoted(lines, 0)
		if err != nil {
			return "", err
		}
		// After the closing quote: nothing but a comment (§6.6), and no
		// further lines.
		li, col := int(end>>32), int(end&0xffffffff)
		rem := lines[li].text[col:]
		// A comment must be separated from the value by white space.
		if after := strings.TrimLeft(rem, " \t"); after != "" && (after[0] != '#' || len(after) == len(rem)) {
			return "", errf(lines[li].num, "text after the closing quote")
		}
		for _, x := range lines[li+1:] {
			if x.text != "" && x.text[0] != '#' {
				return "", errf(x.num, "text after the closing quote")
			}
		}
		return v, nil
	}
	return plain(lines)
}

// plain reads a plain scalar over lines (indentation already removed),
// folding line breaks (§7.3.3, §6.5): one break is a space, n empty lines
// are n newlines. A comment ends it.
func plain(lines []yline) (string, error) {
	var b strings.Builder
	empties := 0
	started, done := false, false
	for _, l := range lines {
		t := l.text
		if done {
			if t != "" && t[0] != '#' {
				return "", errf(l.num, "a value continues after a comment")
			}
			continue
		}
		if t == "" {
			if started {
				empties++
			}
			continue
		}
		if t[0] == '#' {
			done = true
			continue
		}
		seg, commented, err := plainLine(l.num, t)
		if err != nil {
			return "", err
		}
		if started {
			if empties == 0 {
				b.WriteByte(' ')
			} else {
				b.WriteString(strings.Repeat("\n", empties))
			}
		}
		b.WriteString(seg)
		started, empties = true, 0
		if commented {
			done = true
		}
	}
	return b.String(), nil
}

// plainLine reads one line of a plain scalar: up to a comment, trailing
// white space dropped. ": " inside it is what YAML reads as a nested
// mapping, so it is refused with advice to quote.
func plainLine(num int, t string) (string, bool, error) {
	for i := 0; i < len(t); i++ {
		switch {
		case t[i] == '#' && i > 0 && (t[i-1] == ' ' || t[i-1] == '\t'):
			return strings.TrimRight(t[:i], " \t"), true, nil
		case t[i] == ':' && (i+1 == len(t) || t[i+1] == ' ' || t[i+1] == '\t'):
			return "", false, errf(num, `": " inside a value: a nested mapping is not supported (quote the value if the colon is text)`)
		}
	}
	return strings.TrimRight(t, " \t"), false, nil
}

// quoted reads a single- or double-quoted scalar starting at lines[li].text[0]
// (§7.3.1, §7.3.2), folding line breaks as plain scalars do. It returns the
// value and where the closing quote ends, packed as line<<32 | column.
func quoted(lines []yline, li int) (string, int64, error) {
	q := lines[li].text[0]
	start := lines[li].num
	var b strings.Builder
	col := 1
	for li < len(lines) {
		t := lines[li].text
		keep := b.Len() // white space before keep is content
		escapedBreak := false
		for col < len(t) {
			c := t[col]
			switch {
			case c == q && q == '\'' && col+1 < len(t) && t[col+1] == '\'':
				b.WriteByte('\'')
				col += 2
				keep = b.Len()
				continue
			case c == q:
				return b.String(), int64(li)<<32 | int64(col+1), nil
			case c == '\\' && q == '"':
				if col+1 == len(t) {
					escapedBreak = true
					col++
					keep = b.Len()
					continue
				}
				r, n, err := escape(lines[li].num, t[col+1:])
				if err != nil {
					return "", 0, err
				}
				b.WriteString(r)
				col += 1 + n
				keep = b.Len()
				continue
			}
			b.WriteByte(c)
			col++
			if c != ' ' && c != '\t' {
				keep = b.Len()
			}
		}
		// End of the line inside the quotes: trailing white space is not
		// content (§7.3.1), the break folds.
		s := b.String()[:keep]
		b.Reset()
		b.WriteString(s)
		li++
		empties := 0
		for li < len(lines) && strings.TrimLeft(lines[li].text, " \t") == "" {
			empties++
			li++
		}
		if li == len(lines) {
			break
		}
		switch {
		case empties > 0:
			b.WriteString(strings.Repeat("\n", empties))
		case !escapedBreak:
			b.WriteByte(' ')
		}
		// Leading white space of a continuation line is not content.
		lines[li].text = strings.TrimLeft(lines[li].text, " \t")
		col = 0
	}
	return "", 0, errf(start, "the quoted value is not closed (missing %c)", q)
}

// escape decodes one double-quoted escape (§5.7); s starts after the
// backslash. It returns the text and how many bytes of s it used.
func escape(num int, s string) (string, int, error) {
	simple := map[byte]string{
		'0': "\x00", 'a': "\a", 'b': "\b", 't': "\t", '\t': "\t", 'n': "\n", 'v': "\v", 'f': "\f",
		'r': "\r", 'e': "\x1b", ' ': " ", '"': `"`, '/': "/", '\\': `\`,
		'N': "\u0085", '_': "\u00a0", 'L': "\u2028", 'P': "\u2029",
	}
	if r, ok := simple[s[0]]; ok {
		return r, 1, nil
	}
	n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[s[0]]
	if n == 0 {
		return "", 0, errf(num, "unknown escape \\%c in a double-quoted value", s[0])
	}
	if len(s) < 1+n {
		return "", 0, errf(num, "the escape \\%c needs %d hexadecimal digits", s[0], n)
	}
	v, err := strconv.ParseUint(s[1:1+n], 16, 32)
	if err != nil || !utf8.ValidRune(rune(v)) {
		return "", 0, errf(num, "the escape \\%s is not a Unicode character", s[:1+n])
	}
	return string(rune(v)), 1 + n, nil
}

// block reads a literal (|) or folded (>) block scalar (§8.1).
func (p *yparser) block(l yline, header string, cont []yline) (string, error) {
	folded := header[0] == '>'
	chomp := byte(0) // clip
	explicit := 0
	h := header[1:]
	for k := 0; k < 2 && h != ""; k++ {
		switch c := h[0]; {
		case (c == '+' || c == '-') && chomp == 0:
			chomp = c
			h = h[1:]
		case c >= '1' && c <= '9' && explicit == 0:
			explicit = int(c - '0')
			h = h[1:]
		}
	}
	if rem := h; rem != "" {
		h = strings.TrimLeft(h, " \t")
		if h != "" && (h[0] != '#' || len(h) == len(rem)) {
			return "", errf(l.num, "unexpected %q after the block scalar indicator", clipKey(rem))
		}
	}
	// The content's indentation: given, or that of the first non-empty
	// line (§8.1.1.1).
	ind := 0
	if explicit > 0 {
		ind = p.indent + explicit
	} else {
		for _, c := range cont {
			if !c.blank() {
				ind = c.indent
				break
			}
		}
	}
	var b strings.Builder
	empties, started, prevMore := 0, false, false
	for _, c := range cont {
		if c.blank() { // white space only: an empty line, whatever its indentation
			empties++
			continue
		}
		if c.indent < ind {
			return "", errf(c.num, "the line is less indented than the block's first line")
		}
		t := c.raw[ind:]
		more := t[0] == ' ' || t[0] == '\t'
		switch {
		case !started:
			b.WriteString(strings.Repeat("\n", empties))
		case folded && !more && !prevMore && empties == 0:
			b.WriteByte(' ')
		case folded && !more && !prevMore:
			b.WriteString(strings.Repeat("\n", empties))
		default:
			b.WriteString(strings.Repeat("\n", empties+1))
		}
		b.WriteString(t)
		started, prevMore, empties = true, more, 0
	}
	// Chomping (§8.1.1.2): strip drops the final break, clip keeps one,
	// keep keeps it and the trailing empty lines.
	switch {
	case chomp == '+' && started:
		b.WriteString(strings.Repeat("\n", empties+1))
	case chomp == '+':
		b.WriteString(strings.Repeat("\n", empties))
	case chomp == 0 && started:
		b.WriteByte('\n')
	}
	return b.String(), nil
}
