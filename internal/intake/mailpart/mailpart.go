// Package mailpart reads an Internet message (RFC 5322) and its MIME
// structure (RFC 2045, 2046) into a tree of parts, with the tolerance that
// mail from the real world needs. Abuse reports are often written by old or
// home-grown software: header names in any case, bare LF or CR-only line
// ends, a multipart body whose closing boundary never comes, a malformed
// Content-Type. None of these stop the reader: it keeps what it could read
// and notes each oddity in Part.Defects, so the parsers built on it
// (arf, xarfmail, dmcamail, feedmail, plaintext) see the same tree whatever
// the line ends were.
//
// The reader works on a copy of the message with its line ends made LF; the
// raw bytes as received are kept by the caller (they are the evidence).
package mailpart

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/quotedprintable"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
)

// Limits of the tree, so that a hostile message cannot make the reader
// recurse or allocate without bound.
const (
	MaxDepth = 16
	MaxParts = 500
)

// Field is one header field as written, its value unfolded and with RFC 2047
// encoded words decoded.
type Field struct {
	Name  string
	Value string
}

// Header is a header block in order. Lookups ignore case (RFC 5322 §1.2.2:
// field names are case-insensitive; feedback reports in the wild write
// "Source-Ip" and "source-ip" alike).
type Header []Field

// Get returns the first value of the named field, or "".
func (h Header) Get(name string) string {
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

// Values returns every value of the named field, in order.
func (h Header) Values(name string) []string {
	var vs []string
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			vs = append(vs, f.Value)
		}
	}
	return vs
}

// Has reports whether the field is present.
func (h Header) Has(name string) bool {
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			return true
		}
	}
	return false
}

// Part is one node of the tree: the whole message, a part of a multipart
// body, or a message embedded in a message/rfc822 part.
type Part struct {
	Header Header
	// RawHeader is the header block as written (LF line ends), for
	// evidence: a reported message's headers are kept as they came.
	RawHeader string
	// MediaType is the Content-Type's type/subtype in lower case;
	// text/plain when absent or unreadable (RFC 2045 §5.2).
	MediaType string
	// Params are the Content-Type's parameters, keys in lower case.
	Params map[string]string
	// Filename is the attachment's name from Content-Disposition or the
	// Content-Type's name parameter (RFC 2183, RFC 2231 encodings decoded).
	Filename string
	// Attachment is true for Content-Disposition: attachment.
	Attachment bool
	// Body is the part's content with its transfer encoding undone
	// (base64, quoted-printable); for multipart parts it is the raw body.
	Body []byte
	// Parts are the children of a multipart part.
	Parts []*Part
	// Message is the message of a message/rfc822 (or message/global) part,
	// or the header-only message of a text/rfc822-headers part (RFC 6522).
	Message *Part
	// Defects name what the reader tolerated, e.g. "closing boundary
	// missing".
	Defects []string
}

// Parse reads raw as a message. It never fails: an unreadable structure
// becomes a text/plain part holding what there was, with a defect.
func Parse(raw []byte) *Part {
	st := &state{}
	return st.parse(normalize(raw), 0)
}

// ParseHeaderOnly reads a header block that has no body (text/rfc822-headers).
func ParseHeaderOnly(raw []byte) *Part {
	b := normalize(raw)
	if !bytes.HasSuffix(b, []byte("\n\n")) {
		b = append(b, '\n', '\n')
	}
	st := &state{}
	return st.parse(b, 0)
}

type state struct{ parts int }

// normalize makes every line end LF: CRLF and lone CR alike (the corpus has
// the same feedback report with all three).
func normalize(raw []byte) []byte {
	if !bytes.ContainsRune(raw, '\r') {
		return raw
	}
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c == '\r' {
			if i+1 < len(raw) && raw[i+1] == '\n' {
				continue
			}
			c = '\n'
		}
		out = append(out, c)
	}
	return out
}

// splitHeader returns the header block and the body. The block ends at the
// first empty line (RFC 5322 §2.1); a message without one is all header if
// every line reads as a field, else all body.
func splitHeader(b []byte) (head, body []byte) {
	if bytes.HasPrefix(b, []byte("\n")) {
		return nil, b[1:]
	}
	if i := bytes.Index(b, []byte("\n\n")); i >= 0 {
		return b[:i+1], b[i+2:]
	}
	return b, nil
}

var wordDecoder = &mime.WordDecoder{CharsetReader: charset.Reader}

// parseHeader reads fields, unfolding continuation lines (RFC 5322 §2.2.3).
// A line that is neither a field nor a continuation is skipped as a defect.
func parseHeader(block []byte) (Header, []string) {
	var h Header
	var defects []string
	// A field's continuation lines are gathered and joined once: appending
	// each to the value would copy it every time, quadratic in a hostile
	// header of many folded lines.
	var cont []string
	flush := func() {
		if len(cont) > 0 && len(h) > 0 {
			h[len(h)-1].Value += " " + strings.Join(cont, " ")
		}
		cont = cont[:0]
	}
	lines := strings.Split(string(block), "\n")
	for _, line := range lines {
		if line == "" {
			continue
		}
		if (line[0] == ' ' || line[0] == '\t') && len(h) > 0 {
			if t := strings.TrimSpace(line); t != "" {
				cont = append(cont, t)
			}
			continue
		}
		flush()
		i := strings.IndexByte(line, ':')
		name := ""
		if i > 0 {
			name = strings.TrimRight(line[:i], " \t") // "Name :" is obsolete syntax, RFC 5322 §4.5
		}
		if name == "" || strings.ContainsAny(name, " \t") {
			if !(strings.HasPrefix(line, "From ") && len(h) == 0) { // an mbox separator line is no defect
				defects = append(defects, "header line without a field name")
			}
			continue
		}
		h = append(h, Field{Name: name, Value: strings.TrimSpace(line[i+1:])})
	}
	flush()
	for i := range h {
		h[i].Value = DecodeWords(h[i].Value)
	}
	return h, defects
}

// DecodeWords decodes RFC 2047 encoded words; a value that does not decode
// is returned as written.
func DecodeWords(s string) string {
	if !strings.Contains(s, "=?") {
		return s
	}
	d, err := wordDecoder.DecodeHeader(s)
	if err != nil {
		return s
	}
	return d
}

func (st *state) parse(b []byte, depth int) *Part {
	st.parts++
	head, body := splitHeader(b)
	p := &Part{RawHeader: string(head)}
	p.Header, p.Defects = parseHeader(head)
	p.MediaType, p.Params = "text/plain", map[string]string{}
	if ct := p.Header.Get("Content-Type"); ct != "" {
		mt, params, err := mime.ParseMediaType(ct)
		if err != nil {
			// Keep the type when only the parameters are broken.
			mt = strings.ToLower(strings.TrimSpace(strings.SplitN(ct, ";", 2)[0]))
			params = looseParams(ct)
			p.Defects = append(p.Defects, "unreadable Content-Type")
			if !strings.Contains(mt, "/") {
				mt = "text/plain"
			}
		}
		p.MediaType, p.Params = mt, params
	}
	if cd := p.Header.Get("Content-Disposition"); cd != "" {
		disp, params, err := mime.ParseMediaType(cd)
		if err != nil {
			disp = strings.ToLower(strings.TrimSpace(strings.SplitN(cd, ";", 2)[0]))
			params = looseParams(cd)
		}
		p.Attachment = disp == "attachment"
		p.Filename = params["filename"]
	}
	if p.Filename == "" {
		p.Filename = p.Params["name"]
	}
	p.Filename = DecodeWords(p.Filename)

	switch {
	case strings.HasPrefix(p.MediaType, "multipart/"):
		p.Body = body
		bd := p.Params["boundary"]
		if bd == "" {
			p.Defects = append(p.Defects, "multipart without a boundary")
			p.MediaType = "text/plain"
			return p
		}
		if depth >= MaxDepth {
			p.Defects = append(p.Defects, "nested too deep")
			return p
		}
		chunks, closed := splitMultipart(body, bd)
		if !closed {
			p.Defects = append(p.Defects, "closing boundary missing")
		}
		for _, c := range chunks {
			if st.parts >= MaxParts {
				p.Defects = append(p.Defects, "too many parts")
				break
			}
			p.Parts = append(p.Parts, st.parse(c, depth+1))
		}
	case p.MediaType == "message/rfc822" || p.MediaType == "message/global":
		p.Body = decodeTransfer(p, body)
		if depth < MaxDepth && st.parts < MaxParts {
			p.Message = st.parse(p.Body, depth+1)
		}
	case p.MediaType == "text/rfc822-headers":
		p.Body = decodeTransfer(p, body)
		if depth < MaxDepth && st.parts < MaxParts {
			hb := p.Body
			if !bytes.HasSuffix(hb, []byte("\n\n")) {
				hb = append(append([]byte(nil), hb...), '\n', '\n')
			}
			p.Message = st.parse(hb, depth+1)
		}
	default:
		p.Body = decodeTransfer(p, body)
	}
	return p
}

// looseParams reads name=value pairs from a header mime.ParseMediaType
// refused (duplicate or unquoted parameters are common in spam-complaint
// software).
func looseParams(v string) map[string]string {
	m := map[string]string{}
	for _, kv := range strings.Split(v, ";")[1:] {
		k, val, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		val = strings.Trim(strings.TrimSpace(val), `"`)
		if _, dup := m[k]; !dup && k != "" {
			m[k] = val
		}
	}
	return m
}

// splitMultipart cuts a multipart body at its delimiter lines (RFC 2046
// §5.1.1: "--" boundary, optional trailing white space). The preamble and
// epilogue are dropped. Without a close delimiter the last part runs to the
// end, and closed is false.
func splitMultipart(body []byte, boundary string) (chunks [][]byte, closed bool) {
	delim := "--" + boundary
	start := -1
	pos := 0
	for pos <= len(body) {
		end := bytes.IndexByte(body[pos:], '\n')
		var line []byte
		next := len(body) + 1
		if end < 0 {
			line = body[pos:]
		} else {
			line = body[pos : pos+end]
			next = pos + end + 1
		}
		if bytes.HasPrefix(line, []byte(delim)) {
			rest := strings.TrimRight(string(line[len(delim):]), " \t")
			if rest == "" || rest == "--" {
				if start >= 0 {
					c := body[start:pos]
					c = bytes.TrimSuffix(c, []byte("\n")) // the CRLF before the delimiter belongs to it
					chunks = append(chunks, c)
				}
				if rest == "--" {
					return chunks, true
				}
				start = next
				if start > len(body) {
					start = len(body)
				}
			}
		}
		pos = next
	}
	if start >= 0 && start < len(body) {
		chunks = append(chunks, body[start:])
	}
	return chunks, false
}

// decodeTransfer undoes the Content-Transfer-Encoding (RFC 2045 §6). A
// broken encoding keeps what decoded, plus a defect.
func decodeTransfer(p *Part, body []byte) []byte {
	switch strings.ToLower(strings.TrimSpace(p.Header.Get("Content-Transfer-Encoding"))) {
	case "base64":
		clean := make([]byte, 0, len(body))
		for _, c := range body {
			if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' {
				clean = append(clean, c)
			}
		}
		out := make([]byte, base64.RawStdEncoding.DecodedLen(len(clean)))
		n, err := base64.RawStdEncoding.Decode(out, clean[:len(clean)/4*4+validTail(len(clean)%4)])
		if err != nil {
			p.Defects = append(p.Defects, "broken base64")
		}
		return out[:n]
	case "quoted-printable":
		out, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body)))
		if err != nil {
			p.Defects = append(p.Defects, "broken quoted-printable")
			if len(out) == 0 {
				return body
			}
		}
		return out
	}
	return body
}

// validTail is how many trailing base64 characters can still be decoded (a
// single leftover character cannot).
func validTail(n int) int {
	if n == 1 {
		return 0
	}
	return n
}

// Text returns the body as UTF-8 text, decoded from its charset (labels as
// go-message/charset knows them). Invalid bytes become U+FFFD.
func (p *Part) Text() string {
	cs := strings.ToLower(p.Params["charset"])
	b := p.Body
	if cs != "" && cs != "utf-8" && cs != "us-ascii" && cs != "utf8" {
		if r, err := charset.Reader(cs, bytes.NewReader(b)); err == nil {
			if d, err := io.ReadAll(r); err == nil {
				b = d
			}
		}
	}
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// Walk calls fn for p and every part below it, depth first, embedded
// messages included; fn returning false skips that part's children.
func (p *Part) Walk(fn func(*Part) bool) {
	if p == nil || !fn(p) {
		return
	}
	for _, c := range p.Parts {
		c.Walk(fn)
	}
	if p.Message != nil {
		p.Message.Walk(fn)
	}
}

// Find returns the first part (depth first) of the media type, not looking
// inside embedded messages: a report's own parts are not those of the
// message it reports.
func (p *Part) Find(mediaType string) *Part {
	if p == nil {
		return nil
	}
	if p.MediaType == mediaType {
		return p
	}
	for _, c := range p.Parts {
		if f := c.Find(mediaType); f != nil {
			return f
		}
	}
	return nil
}

// Leaves returns the message's own content parts in order: neither
// multipart containers nor anything inside an embedded message. Embedded
// message parts themselves are included (their Message is set).
func (p *Part) Leaves() []*Part {
	var out []*Part
	var walk func(*Part)
	walk = func(q *Part) {
		if len(q.Parts) > 0 || strings.HasPrefix(q.MediaType, "multipart/") {
			for _, c := range q.Parts {
				walk(c)
			}
			return
		}
		out = append(out, q)
	}
	walk(p)
	return out
}

// BodyText is the readable text of the message itself: its text/plain
// leaves that are not attachments, joined; HTML leaves with their tags
// dropped when there is no plain text.
func (p *Part) BodyText() string {
	var plain, html []string
	for _, l := range p.Leaves() {
		if l.Attachment && l.MediaType != "text/plain" {
			continue
		}
		switch l.MediaType {
		case "text/plain":
			if !l.Attachment || l.Filename == "" {
				plain = append(plain, l.Text())
			}
		case "text/html":
			if !l.Attachment {
				html = append(html, StripHTML(l.Text()))
			}
		}
	}
	if len(plain) > 0 {
		return strings.Join(plain, "\n")
	}
	return strings.Join(html, "\n")
}

// StripHTML drops tags, scripts and styles and decodes the common entities:
// enough to read the words of an HTML-only mail, never to render it.
func StripHTML(s string) string {
	var b strings.Builder
	lower := strings.ToLower(s)
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(lower[i:], "<script"), strings.HasPrefix(lower[i:], "<style"):
			tag := "</script>"
			if strings.HasPrefix(lower[i:], "<style") {
				tag = "</style>"
			}
			j := strings.Index(lower[i:], tag)
			if j < 0 {
				i = len(s)
			} else {
				i += j + len(tag)
			}
		case s[i] == '<':
			j := strings.IndexByte(s[i:], '>')
			if j < 0 {
				i = len(s)
				continue
			}
			t := lower[i : i+j]
			if strings.HasPrefix(t, "<br") || strings.HasPrefix(t, "<p") || strings.HasPrefix(t, "</p") || strings.HasPrefix(t, "<div") || strings.HasPrefix(t, "</div") || strings.HasPrefix(t, "<tr") || strings.HasPrefix(t, "<li") {
				b.WriteByte('\n')
			}
			i += j + 1
		default:
			b.WriteByte(s[i])
			i++
		}
	}
	r := strings.NewReplacer("&nbsp;", " ", "&lt;", "<", "&gt;", ">", "&quot;", `"`, "&#39;", "'", "&apos;", "'", "&amp;", "&")
	return r.Replace(b.String())
}
