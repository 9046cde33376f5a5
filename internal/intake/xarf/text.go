package xarf

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"abusedesk/internal/report"
)

// Size bounds of the text Map writes. The log of an incident is bounded by
// report.DefaultLimits.MaxLogBytes (the validator's limit), descriptions well
// below MaxTextBytes.
const (
	maxLog         = 64 << 10
	maxDescription = 32 << 10
	maxFieldShown  = 1 << 10 // one key field in a log
	maxBody        = 1 << 20 // a message body taken from the evidence
)

// cut shortens s to at most n bytes without splitting a UTF-8 sequence.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// textBuilder writes readable text up to a byte budget; what does not fit
// is counted and announced at the end, so a reader knows the text is cut.
type textBuilder struct {
	b       strings.Builder
	max     int
	dropped int
}

func newText(max int) *textBuilder { return &textBuilder{max: max} }

func (t *textBuilder) write(s string) {
	room := t.max - t.b.Len()
	if len(s) <= room {
		t.b.WriteString(s)
		return
	}
	head := cut(s, room)
	t.b.WriteString(head)
	t.dropped += len(s) - len(head)
}

func (t *textBuilder) linef(format string, args ...any) {
	t.write(fmt.Sprintf(format, args...) + "\n")
}

func (t *textBuilder) String() string {
	s := t.b.String()
	if t.dropped == 0 {
		return strings.TrimRight(s, "\n")
	}
	total := len(s) + t.dropped
	s = cut(s, t.max-64) // room for the marker, which is under 64 bytes
	return s + fmt.Sprintf("\n[... %d more bytes not shown]", total-len(s))
}

// printable reports whether b reads as text: valid UTF-8 without control
// characters other than tab, CR and LF. Anything else is shown by size only.
func printable(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, r := range string(b) {
		if r < 0x20 && r != '\n' && r != '\r' && r != '\t' || r >= 0x7f && r < 0xa0 {
			return false
		}
	}
	return true
}

// decodeBase64 reads a base64 payload, tolerating line breaks (MIME style,
// as in the corpus) and missing padding.
func decodeBase64(s string) ([]byte, bool) {
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, true
		}
	}
	return nil, false
}

// evidence is one decoded evidence item (v4 evidence[], v3 Samples[]).
type evidence struct {
	path        string // where it is in the document
	contentType string
	description string
	hash        string
	fileName    string
	data        []byte
	hasData     bool
}

// mailTypes are the content types that may carry a reported message.
var mailTypes = []string{"message/rfc822", "message/global", "text/rfc822-headers", "message/rfc822-headers", "text/email", "application/mbox"}

func isMailType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(ct))
	}
	return slices.Contains(mailTypes, mt)
}

// message finds a reported message in the evidence: the first mail-typed
// item whose text starts with an RFC 5322 header block naming at least one
// of the fields every relayed message has. XARF samples often carry a
// placeholder ("mail") instead; that is no header block, and nothing is made
// up in its place.
func message(ev []evidence) (*report.EmailMessage, string) {
	for _, e := range ev {
		if !e.hasData || !isMailType(e.contentType) || !printable(e.data) {
			continue
		}
		s := strings.ReplaceAll(string(e.data), "\r\n", "\n")
		s = strings.TrimLeft(s, "\n")
		head, body, _ := strings.Cut(s, "\n\n")
		h, ok := report.ParseHeaderBlock(head)
		if !ok {
			continue
		}
		if len(h.Values("Received")) == 0 && h.Get("From") == "" && h.Get("Message-Id") == "" && h.Get("Date") == "" {
			continue
		}
		return &report.EmailMessage{Headers: head, Body: cut(body, maxBody)}, e.path
	}
	return nil, ""
}

// writeEvidence renders the evidence items: text payloads as indented
// lines, binary ones by type and size only (they stay in the raw document,
// which intake keeps unchanged with its hash).
func writeEvidence(t *textBuilder, ev []evidence) {
	for _, e := range ev {
		var meta []string
		if e.contentType != "" {
			meta = append(meta, e.contentType)
		}
		if e.fileName != "" {
			meta = append(meta, "file "+strconv.Quote(e.fileName))
		}
		if e.hash != "" {
			meta = append(meta, e.hash)
		}
		line := e.path
		if len(meta) > 0 {
			line += " (" + strings.Join(meta, ", ") + ")"
		}
		if e.description != "" {
			line += ": " + oneLine(e.description)
		}
		t.linef("%s", line)
		switch {
		case !e.hasData:
		case len(e.data) == 0:
			t.linef("  (empty)")
		case printable(e.data):
			for _, l := range strings.Split(strings.TrimRight(strings.ReplaceAll(string(e.data), "\r\n", "\n"), "\n"), "\n") {
				t.write("  " + l + "\n")
				if t.b.Len() >= t.max {
					break
				}
			}
		default:
			t.linef("  %d bytes of binary data, not shown", len(e.data))
		}
	}
}

// oneLine flattens text for a single log or description line.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return cut(s, 512)
}

// render shows a member's value for a log line: strings as they are (quoted
// when they hold control characters), other values as compact JSON.
func render(v any) string {
	var s string
	switch v := v.(type) {
	case string:
		s = v
		if !printable([]byte(v)) || strings.ContainsAny(v, "\r\n\t") {
			s = strconv.Quote(v)
		}
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return kindOf(v)
		}
		s = string(b)
	}
	if len(s) > maxFieldShown {
		s = cut(s, maxFieldShown) + "..."
	}
	return s
}

// writeFields renders the members of o not in skip, sorted by name.
func writeFields(t *textBuilder, o map[string]any, skip ...string) {
	keys := make([]string, 0, len(o))
	for k := range o {
		if !slices.Contains(skip, k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		t.linef("%s: %s", oneLine(k), render(o[k]))
	}
}

// sentence joins non-empty parts with ", ".
func sentence(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, ", ")
}
