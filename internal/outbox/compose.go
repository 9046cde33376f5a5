// Package outbox composes the desk's mails and delivers them: each mail is
// composed once into RFC 5322 bytes, stored in the outbox table with its
// state, and sent by a background job (internal/jobs) over SMTP to the
// configured relay, with retries and a backoff of our own. A mail is never
// lost while the relay is down, and a restart does not send it twice.
package outbox

import (
	"bytes"
	"crypto/rand"
	"encoding/base32"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// Mail is a plain-text mail to compose.
type Mail struct {
	From, To, ReplyTo string // addresses, optionally with a display name
	Subject, Body     string
	MessageID         string // "<id@domain>", see NewMessageID
	Language          string // Content-Language (RFC 3282); "" = en
	Date              time.Time
	Headers           [][2]string // extra header fields, e.g. X-Abusedesk-Case
}

// Bytes returns the mail as an RFC 5322 message: CRLF line endings, a
// text/plain UTF-8 body in quoted-printable (7-bit clean whatever the
// relay), non-ASCII header text as RFC 2047 encoded-words. CR and LF are
// removed from every header value: subjects can carry a reporter's text,
// which must not add header fields (header injection).
func (m Mail) Bytes() []byte {
	var b bytes.Buffer
	b.Grow(len(m.Body)*11/10 + 512)
	date := m.Date
	if date.IsZero() {
		date = time.Now()
	}
	lang := oneLine(m.Language)
	if lang == "" {
		lang = "en"
	}
	header(&b, "Date", date.Format(time.RFC1123Z)) // RFC 5322 §3.3
	header(&b, "From", addressList(m.From))
	header(&b, "To", addressList(m.To))
	if m.ReplyTo != "" {
		header(&b, "Reply-To", addressList(m.ReplyTo))
	}
	header(&b, "Subject", unstructured("Subject", m.Subject))
	if m.MessageID != "" {
		header(&b, "Message-ID", oneLine(m.MessageID))
	}
	header(&b, "MIME-Version", "1.0")
	header(&b, "Content-Type", "text/plain; charset=utf-8")
	header(&b, "Content-Transfer-Encoding", "quoted-printable")
	header(&b, "Content-Language", lang)
	// RFC 3834 §5: a mail sent by a program, not a person; auto-responders
	// must not answer it, which avoids mail loops with other robots.
	header(&b, "Auto-Submitted", "auto-generated")
	for _, h := range m.Headers {
		if validFieldName(h[0]) {
			header(&b, h[0], unstructured(h[0], h[1]))
		}
	}
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	// Line breaks become LF before the writer makes them CRLF: its handling
	// of a lone CR loses the next LF (Go 1.26 mime/quotedprintable).
	body := strings.ReplaceAll(m.Body, "\r\n", "\n")
	body = strings.ReplaceAll(body, "\r", "\n")
	if !strings.HasSuffix(body, "\n") {
		body += "\n"
	}
	qp.Write([]byte(body)) // writes to a bytes.Buffer do not fail
	qp.Close()
	return b.Bytes()
}

func header(b *bytes.Buffer, name, value string) {
	b.WriteString(name)
	b.WriteString(": ")
	b.WriteString(value)
	b.WriteString("\r\n")
}

// oneLine removes CR and LF, so a value cannot end its header field.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.NewReplacer("\r", "", "\n", "").Replace(s)
}

// validFieldName tells whether name is a header field name: printable
// ASCII but the colon (RFC 5322 §2.2).
func validFieldName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 33 || c > 126 || c == ':' {
			return false
		}
	}
	return true
}

// addressList formats addresses with their display names encoded by
// net/mail (RFC 2047 when not ASCII). Text that does not parse is kept as
// it is, on one line: composing does not fail, the relay will say.
func addressList(s string) string {
	s = oneLine(s)
	list, err := mail.ParseAddressList(s)
	if err != nil {
		return s
	}
	out := make([]string, len(list))
	for i, a := range list {
		out[i] = a.String()
	}
	return strings.Join(out, ", ")
}

// maxPlainLine bounds a header line left as it is: RFC 5322 §2.1.1 asks
// for 78 characters, and folding plain text would not round-trip (readers
// collapse the whitespace of a fold).
const maxPlainLine = 78

// unstructured returns an unstructured header value (RFC 5322 §3.2.5):
// as it is when it is plain ASCII that reads back the same, otherwise as
// encoded-words.
func unstructured(name, s string) string {
	s = oneLine(s)
	if plainHeaderText(s) && len(name)+2+len(s) <= maxPlainLine {
		return s
	}
	return encodedWords(s)
}

// plainHeaderText tells whether s reads back unchanged without encoding:
// printable ASCII, no leading or trailing space (readers trim it), and no
// "=?", which readers would take for the start of an encoded-word.
func plainHeaderText(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c > '~' {
			return false
		}
	}
	return s == strings.TrimSpace(s) && !strings.Contains(s, "=?")
}

// maxWord is the longest encoded-word, RFC 2047 §2.
const maxWord = 75

// encodedWords encodes s as RFC 2047 Q encoded-words of UTF-8, each on a
// line of its own (folded with CRLF SP: the whitespace between two
// encoded-words is not part of the text, §6.2). mime.QEncoding would leave
// plain ASCII alone and not fold, hence this. Only letters, digits and
// "!*+-/" go unencoded, the set allowed in every context (§5(3)); a space
// is "_". Words end at rune boundaries, so each is valid UTF-8 by itself
// when s is.
func encodedWords(s string) string {
	const prefix, suffix = "=?utf-8?q?", "?="
	const room = maxWord - len(prefix) - len(suffix)
	var out, word strings.Builder
	flush := func() {
		if out.Len() > 0 {
			out.WriteString("\r\n ")
		}
		out.WriteString(prefix)
		out.WriteString(word.String())
		out.WriteString(suffix)
		word.Reset()
	}
	const hex = "0123456789ABCDEF"
	var enc []byte
	for i := 0; i < len(s); {
		_, n := utf8.DecodeRuneInString(s[i:])
		enc = enc[:0]
		for _, c := range []byte(s[i : i+n]) {
			switch {
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.IndexByte("!*+-/", c) >= 0:
				enc = append(enc, c)
			case c == ' ':
				enc = append(enc, '_')
			default:
				enc = append(enc, '=', hex[c>>4], hex[c&15])
			}
		}
		if word.Len()+len(enc) > room {
			flush()
		}
		word.Write(enc)
		i += n
	}
	if word.Len() > 0 || out.Len() == 0 {
		flush()
	}
	return out.String()
}

// NewMessageID returns a new Message-ID (RFC 5322 §3.6.4) at domain:
// random, so it is unique and tells nothing about the mail.
func NewMessageID(domain string) string {
	return "<" + randomToken(15) + "@" + oneLine(domain) + ">"
}

// NewReplyToken returns a random token of 16 lower-case letters and digits,
// valid in an address's local part (RFC 5322 §3.2.3 atext).
func NewReplyToken() string { return randomToken(10) }

// ReplyAddress returns the address replies to a mail come back to,
// local+token@domain, a subaddress (RFC 5233) of the desk's mailbox.
func ReplyAddress(local, domain, token string) string {
	return local + "+" + token + "@" + domain
}

var b32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return b32.EncodeToString(b)
}
