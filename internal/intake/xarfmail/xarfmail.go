// Package xarfmail reads the machine abuse reports that arrive at the abuse@
// mailbox in two formats, on a mail already read by mailpart.
//
// # X-ARF 0.1 and 0.2
//
// The "eXtended Abuse Reporting Format" of x-arf.org: a mail marked by the
// header X-XARF: PLAIN (0.2; 0.1 wrote X-ARF: YES), multipart/mixed with
//
//  1. a human-readable text/plain part;
//  2. a text/plain part named report.txt holding a YAML document of fields
//     (Reported-From, Category, Report-Type, Report-ID, Date, Source,
//     Source-Type, Destination, Port, Service, Attachment, Schema-URL ...),
//     whose field sets per report type are the JSON schemas of
//     xarf/xarf-schemata (abuse_login-attack, abuse_malware-attack,
//     abuse_bot-infection, abuse_compromised-account, fraud, info_dnsbl,
//     vertized);
//  3. optionally the evidence, of the type the Attachment field names
//     (text/plain logs, message/rfc822).
//
// The YAML is read by ParseYAML, a reader of the flat subset X-ARF writes
// (no dependency). A mail is X-ARF when it has either header; a mail without
// them whose part named report.txt reads as X-ARF fields (Report-Type and
// Reported-From) is taken too, since forwarding software drops X- headers.
// The fields are checked for what the desk needs (a usable Source, ports,
// addresses), not against every rule of the schema: a missing Schema-URL
// or User-Agent does not make a report less actionable.
//
// How X-ARF meets the desk's types (DESIGN.md), decided in decide:
//
//	X-ARF report                               Source     desk report
//	abuse/login-attack (also auth/)            IP         network/intrusion
//	Report-Type with "scan" / "ddos", "dos"    IP         network/port_scan / ddos
//	abuse/malware-attack, bot-infection,       IP         network/other
//	  grumbot-infection, compromised-account,
//	  info/dnsbl-*, fraud/* and anything else
//	spamvertized/nsvertized with a URL field   IP         content/web_content on URL
//	fraud/phishing, scam, other fraud          URI        content/phishing
//	fraud/infected, *malware*, *bot*, virus    URI        content/malware
//	anything else                              URI        content/web_content
//	the same with a domain Source              domain     content on http://<domain>/
//	Report-Type spam or Source-Type email,     any        email/spam_sent with the
//	  with the message as evidence                          message's headers and body
//	  without it                               IP         network/other (no headers)
//	  without it                               email      nothing: missing evidence
//
// Network incidents: SourceIP from Source, SourcePort from Source-Port,
// Target from Destination (bot-infection: Destination-Domain when there is
// no Destination), TargetPort from Port (login-attack: the attacked service)
// or Destination-Port; for fraud and vertized reports Port is the port of
// the Source's own service, so it is the SourcePort. Protocol is Service
// when it is a protocol name. Timestamp is Date, an RFC 2822 date made RFC
// 3339 with its own offset, or an ISO 8601 date-time as written (a space
// before its zone dropped, "2011-03-21 11:32:15 +0100"); a time
// without a zone is passed on as written, never completed (the validator
// refuses it). The log is the evidence text (or the attached message's
// header block) followed by the report.txt fields. X-ARF feeds often name
// no target, so every network report from X-ARF has TargetOptional.
// Reporter.Email (and Name, when given) come from Reported-From; Language is
// never set, X-ARF does not say it. The description names the report, the
// TLP level when given (the reporter's sharing restriction) and carries the
// human-readable part.
//
// # XARF v3/v4 JSON sent by mail
//
// Any part of the mail itself (not of a message it carries) that is
// application/json (or +json), is named *.json, or is a text part holding a
// JSON object with xarf_version, ReporterInfo or Report, is one XARF
// document, read by xarf.Map (package abusedesk/internal/intake/xarf, which
// owns XARF: nothing of it is repeated here). Each document gives one
// report; Map's errors become missing entries whose Field is prefixed
// "attachment[NAME]." (NAME the filename, else the part's 1-based position
// among the mail's content parts).
package xarfmail

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"abusedesk/internal/intake/mailpart"
	"abusedesk/internal/intake/xarf"
	"abusedesk/internal/report"
)

// Bounds, since the input is hostile.
const (
	maxYAMLPart    = 64 << 10 // a report.txt is a few hundred bytes
	maxJSONDocs    = 20       // XARF documents read from one mail
	maxHuman       = 8 << 10  // the human-readable part kept in a description
	maxDescription = 32 << 10
	maxLog         = 64 << 10 // report.DefaultLimits.MaxLogBytes
	maxFieldShown  = 1 << 10  // one field's value in a log or description
	maxBody        = 1 << 20  // a reported message's body
	maxFields      = 200      // report.txt fields shown in a log
)

// Parse reads a mail already read by mailpart. ok is false when the mail is
// neither X-ARF 0.x nor carries an XARF JSON document (then reps and missing
// are nil). When ok, reps are the reports the mail describes, not yet
// validated, and missing names what the format-level reading could not
// find; a recognised mail with nothing usable has no reports and at least
// one missing entry.
func Parse(m *mailpart.Part) (reps []*report.Report, missing report.Errors, ok bool) {
	if m == nil {
		return nil, nil, false
	}
	if reps, missing, ok := parseXARF0(m); ok {
		return reps, missing, true
	}
	return parseJSON(m)
}

// parseJSON reads every XARF JSON document the mail's own parts carry.
func parseJSON(m *mailpart.Part) (reps []*report.Report, missing report.Errors, ok bool) {
	n := 0
	for i, l := range m.Leaves() {
		doc, is := jsonDoc(l)
		if !is {
			continue
		}
		ok = true
		prefix := "attachment[" + partName(l, i) + "]"
		if n == maxJSONDocs {
			missing = append(missing, report.FieldError{Field: prefix, Code: report.CodeTooMany,
				Message: "at most " + strconv.Itoa(maxJSONDocs) + " XARF documents are read from one mail; send the others in further mails"})
			break
		}
		n++
		r, es := xarf.Map(doc)
		if r != nil {
			reps = append(reps, r)
		}
		for _, e := range es {
			if e.Field == "" {
				e.Field = prefix
			} else {
				e.Field = prefix + "." + e.Field
			}
			missing = append(missing, e)
		}
	}
	return reps, missing, ok
}

// partName names a part in field paths: its filename (clipped, it is the
// sender's text), else its 1-based position among the content parts.
func partName(l *mailpart.Part, i int) string {
	name := strings.Map(func(r rune) rune {
		if r < 0x20 || r == '[' || r == ']' || r == 0x7f {
			return -1
		}
		return r
	}, l.Filename)
	if name = strings.TrimSpace(name); name == "" {
		return strconv.Itoa(i + 1)
	}
	return cut(name, 100)
}

// jsonDoc says whether a content part is an XARF JSON document, and returns
// its bytes. JSON is UTF-8 (RFC 8259 §8.1); a part declaring another charset
// is converted, and a byte order mark is dropped (§8.1 lets parsers ignore
// it).
func jsonDoc(l *mailpart.Part) ([]byte, bool) {
	if l.Message != nil || strings.HasPrefix(l.MediaType, "message/") {
		return nil, false // a reported message is evidence, not a document
	}
	mt := l.MediaType
	typed := mt == "application/json" || strings.HasSuffix(mt, "+json")
	named := strings.HasSuffix(strings.ToLower(l.Filename), ".json")
	if !typed && !named && !strings.HasPrefix(mt, "text/") {
		return nil, false
	}
	b := l.Body
	if cs := strings.ToLower(l.Params["charset"]); cs != "" && cs != "utf-8" && cs != "utf8" && cs != "us-ascii" {
		b = []byte(l.Text())
	}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	if typed || named {
		return b, true
	}
	return b, looksXARF(b)
}

// looksXARF reports whether text is a JSON object with the top-level member
// of an XARF v4 (xarf_version) or X-ARF v3 (ReporterInfo, Report) document.
func looksXARF(b []byte) bool {
	t := bytes.TrimSpace(b)
	if len(t) == 0 || t[0] != '{' || len(t) > xarf.MaxDocumentBytes {
		return false
	}
	if !bytes.Contains(t, []byte(`"xarf_version"`)) && !bytes.Contains(t, []byte(`"ReporterInfo"`)) && !bytes.Contains(t, []byte(`"Report"`)) {
		return false
	}
	var o map[string]json.RawMessage
	if json.Unmarshal(t, &o) != nil {
		return false
	}
	_, v4 := o["xarf_version"]
	_, info := o["ReporterInfo"]
	_, rep := o["Report"]
	return v4 || info || rep
}
