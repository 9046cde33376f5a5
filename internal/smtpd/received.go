package smtpd

import (
	"bytes"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"
)

type receivedInfo struct {
	helo   string
	remote netip.Addr
	by     string
	tls    bool
	utf8   bool
	rcpts  []string
	at     time.Time
	eol    string
}

// receivedField builds the trace field RFC 5321 §4.4 requires an SMTP server
// to prepend, in the Time-stamp-line grammar of that section:
//
//	Received: from <HELO name> (<[address-literal]>)
//		by <Hostname> with <ESMTP|ESMTPS|UTF8SMTP|UTF8SMTPS>
//		for <rcpt>; <date-time>
//
// The protocol keyword is from the "Mail Transmission Types" registry: RFC
// 3848 §2 (ESMTP, ESMTPS for STARTTLS) and RFC 6531 §3.7.3 (UTF8SMTP,
// UTF8SMTPS when the transaction used SMTPUTF8). "for" is written only with
// exactly one recipient, so one recipient of a multi-recipient message does
// not learn the others (RFC 5321 §7.2). The HELO name is the client's and
// unverified; it goes in only when it has the syntax of a Domain or an
// address-literal (§4.1.2), else "unknown", so it can never break the
// header. Lines are folded (RFC 5322 §2.2.3) to stay well under 998
// octets, with the message's own line ending.
func receivedField(in receivedInfo) []byte {
	var b bytes.Buffer
	b.WriteString("Received: from ")
	if h := sanitizeDomain(in.helo); h != "" {
		b.WriteString(h)
	} else {
		b.WriteString("unknown")
	}
	if in.remote.IsValid() {
		b.WriteString(" (")
		b.WriteString(addressLiteral(in.remote))
		b.WriteString(")")
	}
	b.WriteString(in.eol)
	b.WriteString("\tby ")
	by := sanitizeDomain(in.by)
	if by == "" {
		by = "localhost"
	}
	b.WriteString(by)
	b.WriteString(" with ")
	switch {
	case in.utf8 && in.tls:
		b.WriteString("UTF8SMTPS")
	case in.utf8:
		b.WriteString("UTF8SMTP")
	case in.tls:
		b.WriteString("ESMTPS")
	default:
		b.WriteString("ESMTP")
	}
	if len(in.rcpts) == 1 && safePath(in.rcpts[0]) {
		b.WriteString(in.eol)
		b.WriteString("\tfor <")
		b.WriteString(in.rcpts[0])
		b.WriteString(">")
	}
	b.WriteString(";")
	b.WriteString(in.eol)
	b.WriteString("\t")
	// RFC 5322 §3.3 date-time, with a numeric zone.
	b.WriteString(in.at.Format("Mon, 02 Jan 2006 15:04:05 -0700"))
	b.WriteString(in.eol)
	return b.Bytes()
}

// addressLiteral is the RFC 5321 §4.1.3 form: [192.0.2.1] or [IPv6:2001:db8::1].
func addressLiteral(a netip.Addr) string {
	a = a.Unmap()
	if a.Is6() {
		return "[IPv6:" + a.WithZone("").String() + "]"
	}
	return "[" + a.String() + "]"
}

// sanitizeDomain returns s when it is a Domain (RFC 5321 §4.1.2: labels of
// letters, digits and hyphens; underscores tolerated, as seen in the wild;
// at most 255 octets) or an address-literal ([...] of digits, hex, '.', ':'
// with an optional "IPv6:" tag), else "".
func sanitizeDomain(s string) string {
	if s == "" || len(s) > 255 {
		return ""
	}
	if s[0] == '[' {
		if len(s) < 3 || s[len(s)-1] != ']' {
			return ""
		}
		inner := s[1 : len(s)-1]
		if len(inner) > 5 && strings.EqualFold(inner[:5], "IPv6:") {
			inner = inner[5:]
		}
		if inner == "" {
			return ""
		}
		for i := 0; i < len(inner); i++ {
			c := inner[i]
			if !isHex(c) && c != '.' && c != ':' {
				return ""
			}
		}
		return s
	}
	for label := range strings.SplitSeq(strings.TrimSuffix(s, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return ""
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !isAlnum(c) && c != '-' && c != '_' {
				return ""
			}
		}
	}
	return s
}

// safePath reports whether a recipient can be written inside <...> of a
// header: printable, no angle brackets, within the 256-octet path limit of
// RFC 5321 §4.5.3.1.3. UTF-8 (SMTPUTF8, RFC 6532 §3.2) is allowed.
func safePath(s string) bool {
	if s == "" || len(s) > 256 || !utf8.ValidString(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c == 0x7f || c == '<' || c == '>' {
			return false
		}
	}
	return true
}

// lineEnding is the message's own line ending (of its first line): CRLF as
// SMTP requires (RFC 5321 §2.3.8), or LF from a sloppy client, so the added
// field does not mix line endings into the stored message.
func lineEnding(msg []byte) string {
	if i := bytes.IndexByte(msg, '\n'); i > 0 && msg[i-1] != '\r' {
		return "\n"
	} else if i == 0 {
		return "\n"
	}
	return "\r\n"
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
