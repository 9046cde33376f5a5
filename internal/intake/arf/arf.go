// Package arf reads ARF, the Abuse Reporting Format of RFC 5965 ("An
// Extensible Format for Email Feedback Reports"), as mailbox providers'
// feedback loops send it to an abuse desk, and maps each report onto the
// desk's report.Report.
//
// A feedback report (RFC 5965 §2) is a multipart/report (RFC 6522) with
// report-type=feedback-report and three parts: a human-readable text, a
// message/feedback-report part of "Name: value" fields (§3.1 required:
// Feedback-Type, User-Agent, Version; §3.2 optional: Arrival-Date,
// Source-IP, Original-Mail-From, Original-Rcpt-To, Reported-Domain,
// Reported-URI, Incidents, ...), and the reported message as message/rfc822
// or its header block as text/rfc822-headers. RFC 6591 adds the
// authentication-failure type (Feedback-Type: auth-failure, §3.1
// Auth-Failure, §3.2 Delivery-Result, DKIM-Domain, DKIM-Identity,
// DKIM-Selector, SPF-DNS, ...), RFC 6692 Source-Port, RFC 7489 §7.3
// Identity-Alignment, and RFC 6430 the not-spam type. RFC 6650 is the
// applicability statement: reports may be redacted, and a receiver
// should be liberal in what it accepts.
//
// Feedback loops in the wild are older or looser than the RFC, so the
// reader accepts: field names in any case; the pre-RFC draft
// (draft-shafranovich-feedback-report, "Version: 0.1", "Received-Date" for
// Arrival-Date, "text/rfc822-header"); Source-IP absent or "-" (the source
// is then read from the reported message's Received headers); the feedback
// part inside a multipart/mixed rather than a multipart/report, or labelled
// text/plain inside a feedback multipart/report; a missing closing boundary
// and any line ends (mailpart handles those); dates in RFC 5322 form with
// or without the day name and with "(UTC)" comments; and a report
// forwarded as a message/rfc822 attachment.
//
// Microsoft's JMRP complaints (a multipart/mixed holding only the reported
// message) and other mail without a feedback part are not ARF: ReadFeedback
// and Parse answer ok=false and another parser takes them.
package arf

import (
	"net/netip"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"abusedesk/internal/intake/mailpart"
	"abusedesk/internal/report"
)

// Bounds on what one mail may make the reader do: the input is hostile.
const (
	// MaxFieldBytes bounds the feedback part read for fields; RFC 6591's
	// DKIM-Canonicalized-Body is the only field that may be long.
	MaxFieldBytes = 256 << 10
	// MaxFields bounds the number of fields read from the feedback part.
	MaxFields = 1000
	// MaxListItems bounds each repeated field (Original-Rcpt-To,
	// Reported-Domain, Reported-URI, ...).
	MaxListItems = 100
	// MaxForwarded bounds the forwarded reports read from one mail.
	MaxForwarded = 50
	// MaxTextBytes bounds the human-readable part kept in Feedback.Text.
	MaxTextBytes = 64 << 10
)

// Where Feedback.SourceIP and Feedback.ArrivalDate came from.
const (
	FromFeedback = "feedback" // the message/feedback-report fields
	FromReceived = "received" // the reported message's Received headers
	FromDate     = "date"     // the reported message's Date header
)

// Feedback is one feedback report as read. Strings are as written (trimmed);
// FeedbackType is lower case.
type Feedback struct {
	// RFC 5965 §3.1, required (but read even when absent).
	FeedbackType string
	UserAgent    string
	Version      string

	// RFC 5965 §3.2, optional, appearing once.
	OriginalEnvelopeID string
	OriginalMailFrom   string
	ReportingMTA       string
	// SourceIP is the address the reported message came from: the
	// Source-IP field, or, when that is absent or "-", the reported
	// message's Received headers; zero when neither names one.
	SourceIP     netip.Addr
	SourceIPFrom string // FromFeedback or FromReceived; "" when SourceIP is zero
	// SourcePort is RFC 6692's Source-Port; 0 when absent.
	SourcePort int
	// ArrivalDate is Arrival-Date (or the draft's Received-Date), or, when
	// that is absent or unreadable, the reported message's Received date or
	// Date header. Zero when none reads with a zone.
	ArrivalDate     time.Time
	ArrivalDateFrom string // FromFeedback, FromReceived or FromDate
	// Incidents is the number of times the message was received (§3.2);
	// 0 when absent.
	Incidents int

	// RFC 5965 §3.2, optional, repeatable.
	AuthenticationResults []string
	OriginalRcptTo        []string
	ReportedDomain        []string
	ReportedURI           []string
	// RemovalRecipient is the draft's opt-out field.
	RemovalRecipient []string

	// RFC 6591 §3 (authentication failure reports).
	AuthFailure             string // adsp, bodyhash, revoked, signature, spf, dmarc (RFC 7489)
	DeliveryResult          string // delivered, spam, policy, reject, other
	DKIMADSPDNS             string
	DKIMCanonicalizedBody   string
	DKIMCanonicalizedHeader string
	DKIMDomain              string
	DKIMIdentity            string
	DKIMSelector            string
	DKIMSelectorDNS         string
	SPFDNS                  string
	// IdentityAlignment is RFC 7489 §7.3's field of DMARC failure reports.
	IdentityAlignment string

	// Fields are all the feedback part's fields in order, for what the
	// struct does not name.
	Fields mailpart.Header
	// Text is the report's human-readable part (RFC 5965 §2 (a)), bounded.
	Text string
	// Original is the reported message (message/rfc822) or its header block
	// (text/rfc822-headers); nil when the report carries neither.
	Original *mailpart.Part
	// Forwarded is true when the report was found inside a message/rfc822
	// attachment of the mail rather than in the mail itself.
	Forwarded bool
	// Defects name what the reader tolerated, e.g. "Version 0.1 (pre-RFC
	// draft)".
	Defects []string
}

// ReadFeedback finds the feedback report in m and reads it. ok is false when
// m carries no feedback report part. When m forwards several reports, the
// first is returned (Parse maps them all).
func ReadFeedback(m *mailpart.Part) (*Feedback, bool) {
	fbs := readAll(m, 1)
	if len(fbs) == 0 {
		return nil, false
	}
	return fbs[0], true
}

// readAll returns the report of m itself or, when m has none, those of the
// messages it forwards as attachments (one level only: a report's
// reported message is never searched for reports of its own).
func readAll(m *mailpart.Part, max int) []*Feedback {
	if m == nil {
		return nil
	}
	if fb := readOne(m); fb != nil {
		return []*Feedback{fb}
	}
	var out []*Feedback
	for _, l := range m.Leaves() {
		if l.Message == nil || !(l.MediaType == "message/rfc822" || l.MediaType == "message/global") {
			continue
		}
		if fb := readOne(l.Message); fb != nil {
			fb.Forwarded = true
			out = append(out, fb)
			if len(out) >= max {
				break
			}
		}
	}
	return out
}

// readOne reads the report whose parts are m's own (not inside embedded
// messages), or returns nil.
func readOne(m *mailpart.Part) *Feedback {
	fp := m.Find("message/feedback-report")
	if fp == nil {
		fp = looseFeedbackPart(m)
	}
	if fp == nil {
		return nil
	}
	fb := &Feedback{Fields: readFields(fp.Body)}
	fb.fill()
	fb.Original = findOriginal(m)
	fb.Text = humanText(m, fp)
	fb.fallbacks()
	return fb
}

// looseFeedbackPart finds a feedback part mislabelled text/plain (or
// unlabelled, which MIME reads as text/plain, RFC 2045 §5.2) inside a
// multipart/report whose report-type says feedback-report: its first line
// is a Feedback-Type field.
func looseFeedbackPart(m *mailpart.Part) *mailpart.Part {
	var found *mailpart.Part
	var walk func(p *mailpart.Part)
	walk = func(p *mailpart.Part) {
		if found != nil {
			return
		}
		if p.MediaType == "multipart/report" && strings.EqualFold(p.Params["report-type"], "feedback-report") {
			for _, c := range p.Parts {
				if c.MediaType == "text/plain" && strings.HasPrefix(strings.ToLower(strings.TrimLeft(string(head(c.Body, 64)), " \t\r\n")), "feedback-type:") {
					found = c
					return
				}
			}
		}
		for _, c := range p.Parts {
			walk(c)
		}
	}
	walk(m)
	return found
}

func head(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// readFields reads the feedback part's fields, which have the syntax of
// header fields (RFC 5965 §3: RFC 5322 §2.2 fields, folding allowed).
// Blank lines, which some generators put between fields or before the
// first, are skipped rather than taken as the end, and a line that is not a
// field is ignored.
func readFields(body []byte) mailpart.Header {
	body = head(body, MaxFieldBytes)
	s := strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(string(body))
	// Continuation lines are gathered and joined once per field, so that
	// a field folded over thousands of lines costs linear time.
	type field struct {
		name  string
		lines []string
	}
	var fs []field
	for _, line := range strings.Split(s, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if len(fs) > 0 {
				fs[len(fs)-1].lines = append(fs[len(fs)-1].lines, strings.TrimSpace(line))
			}
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			continue
		}
		if len(fs) >= MaxFields {
			break
		}
		fs = append(fs, field{name, []string{strings.TrimSpace(value)}})
	}
	h := make(mailpart.Header, len(fs))
	for i, f := range fs {
		h[i] = mailpart.Field{Name: f.name, Value: strings.TrimSpace(strings.Join(f.lines, " "))}
	}
	return h
}

// fill sets the struct's fields from Fields.
func (fb *Feedback) fill() {
	h := fb.Fields
	one := func(name string) string { return strings.TrimSpace(h.Get(name)) }
	list := func(name string) []string {
		var out []string
		for _, v := range h.Values(name) {
			if v = strings.TrimSpace(v); v != "" && len(out) < MaxListItems {
				out = append(out, v)
			}
		}
		return out
	}
	// "abuse", also written "Abuse" or with a trailing comment.
	ft := strings.ToLower(stripComments(one("Feedback-Type")))
	if f := strings.FieldsFunc(ft, func(r rune) bool { return r == ';' || r == ' ' || r == '\t' || r == ',' }); len(f) > 0 {
		fb.FeedbackType = f[0]
	}
	fb.UserAgent = one("User-Agent")
	fb.Version = one("Version")
	switch fb.Version {
	case "1", "1.0", "":
	case "0.1":
		fb.Defects = append(fb.Defects, "Version 0.1 (pre-RFC draft)")
	default:
		fb.Defects = append(fb.Defects, "unknown Version "+clip(fb.Version, 32))
	}
	fb.OriginalEnvelopeID = one("Original-Envelope-Id")
	fb.OriginalMailFrom = one("Original-Mail-From")
	fb.ReportingMTA = one("Reporting-MTA")
	if v := one("Source-IP"); v != "" {
		if a, ok := sourceIP(v); ok {
			fb.SourceIP, fb.SourceIPFrom = a, FromFeedback
		} else if v != "-" {
			fb.Defects = append(fb.Defects, "Source-IP unusable: "+clip(v, 64))
		}
	}
	if p, err := strconv.Atoi(stripComments(one("Source-Port"))); err == nil && p > 0 && p <= 65535 {
		fb.SourcePort = p
	}
	date := one("Arrival-Date")
	if date == "" {
		date = one("Received-Date") // the draft's name for it
		if date != "" {
			fb.Defects = append(fb.Defects, "Received-Date for Arrival-Date (pre-RFC draft)")
		}
	}
	if date != "" {
		if t, err := parseDate(date); err == nil {
			fb.ArrivalDate, fb.ArrivalDateFrom = t, FromFeedback
		} else {
			fb.Defects = append(fb.Defects, "Arrival-Date unreadable: "+err.Error())
		}
	}
	if n, err := strconv.Atoi(strings.TrimSpace(stripComments(one("Incidents")))); err == nil && n > 0 && n < 1e9 {
		fb.Incidents = n
	}
	fb.AuthenticationResults = list("Authentication-Results")
	fb.OriginalRcptTo = list("Original-Rcpt-To")
	fb.ReportedDomain = list("Reported-Domain")
	for _, u := range list("Reported-URI") {
		fb.ReportedURI = append(fb.ReportedURI, strings.TrimSuffix(strings.TrimPrefix(u, "<"), ">"))
	}
	fb.RemovalRecipient = list("Removal-Recipient")
	fb.AuthFailure = strings.ToLower(one("Auth-Failure"))
	fb.DeliveryResult = strings.ToLower(one("Delivery-Result"))
	fb.DKIMADSPDNS = one("DKIM-ADSP-DNS")
	fb.DKIMCanonicalizedBody = one("DKIM-Canonicalized-Body")
	fb.DKIMCanonicalizedHeader = one("DKIM-Canonicalized-Header")
	fb.DKIMDomain = one("DKIM-Domain")
	fb.DKIMIdentity = one("DKIM-Identity")
	fb.DKIMSelector = one("DKIM-Selector")
	fb.DKIMSelectorDNS = one("DKIM-Selector-DNS")
	fb.SPFDNS = one("SPF-DNS")
	fb.IdentityAlignment = strings.ToLower(one("Identity-Alignment"))
}

// sourceIP reads a Source-IP value: an address, perhaps bracketed or with a
// comment. "-" (written by Yahoo's draft-era loop) and placeholders such as
// 0.0.0.0 or a loopback address name no source.
func sourceIP(v string) (netip.Addr, bool) {
	f := strings.FieldsFunc(stripComments(v), func(r rune) bool { return r == ' ' || r == '\t' || r == ';' || r == ',' })
	if len(f) == 0 {
		return netip.Addr{}, false
	}
	a, ok := report.ParseIP(f[0])
	if !ok || a.IsUnspecified() || a.IsLoopback() {
		return netip.Addr{}, false
	}
	return a, true
}

// originalTypes are the media types of RFC 5965 §2 (c), plus the
// misspellings and the RFC 6532 variants met in the wild.
var originalTypes = map[string]bool{
	"message/rfc822": true, "message/global": true, "text/rfc822-headers": true,
	"text/rfc822-header": true, "message/rfc822-headers": true, "message/global-headers": true,
}

// findOriginal returns the reported message: the first part of m's own tree
// whose type is one of originalTypes.
func findOriginal(m *mailpart.Part) *mailpart.Part {
	var found *mailpart.Part
	var walk func(p *mailpart.Part)
	walk = func(p *mailpart.Part) {
		if found != nil {
			return
		}
		if p != m && originalTypes[p.MediaType] {
			switch {
			case p.Message != nil:
				found = p.Message
			case p.MediaType == "message/rfc822" || p.MediaType == "message/global":
				found = mailpart.Parse(p.Body) // mailpart stopped at its depth limit
			default: // a header block mailpart does not know as one
				found = mailpart.ParseHeaderOnly(p.Body)
			}
			return
		}
		for _, c := range p.Parts {
			walk(c)
		}
	}
	walk(m)
	return found
}

// humanText is the report's first text part other than the feedback part
// (RFC 5965 §2 (a)), bounded.
func humanText(m, fp *mailpart.Part) string {
	var html string
	for _, l := range m.Leaves() {
		if l == fp || l.Message != nil {
			continue
		}
		switch l.MediaType {
		case "text/plain":
			return clip(strings.TrimSpace(l.Text()), MaxTextBytes)
		case "text/html":
			if html == "" {
				html = mailpart.StripHTML(l.Text())
			}
		}
	}
	return clip(strings.TrimSpace(html), MaxTextBytes)
}

// fallbacks fills SourceIP and ArrivalDate from the reported message when
// the feedback fields did not give them (RFC 5965 §3.2 makes both
// optional; the draft-era loops omit Source-IP or write "-").
func (fb *Feedback) fallbacks() {
	if fb.Original == nil || len(fb.Original.Header) == 0 {
		return
	}
	h := textproto.MIMEHeader{}
	for _, f := range fb.Original.Header {
		if strings.EqualFold(f.Name, "Received") {
			h.Add("Received", f.Value)
		}
	}
	var hopDate time.Time
	if !fb.SourceIP.IsValid() {
		if a, at, ok := report.ReceivedSource(h); ok {
			fb.SourceIP, fb.SourceIPFrom, hopDate = a, FromReceived, at
		}
	}
	if !fb.ArrivalDate.IsZero() {
		return
	}
	if !hopDate.IsZero() {
		fb.ArrivalDate, fb.ArrivalDateFrom = hopDate, FromReceived
		return
	}
	// The topmost Received header with a readable date: the reporter's
	// own hop, the closest to arrival (RFC 5321 §4.4: the date follows
	// the last ";").
	for _, rcv := range h.Values("Received") {
		if i := strings.LastIndexByte(rcv, ';'); i >= 0 {
			if t, err := parseDate(rcv[i+1:]); err == nil {
				fb.ArrivalDate, fb.ArrivalDateFrom = t, FromReceived
				return
			}
		}
	}
	if t, err := parseDate(fb.Original.Header.Get("Date")); err == nil {
		fb.ArrivalDate, fb.ArrivalDateFrom = t, FromDate
	}
}

// clip cuts s to at most n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
