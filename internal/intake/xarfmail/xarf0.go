package xarfmail

import (
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"abusedesk/internal/intake/mailpart"
	"abusedesk/internal/report"
)

// xreport is one X-ARF 0.x mail as read: its YAML fields and parts.
type xreport struct {
	version  string // "0.2", "0.1", or the Version field
	name     string // the YAML part's name in field paths: report.txt
	fields   []YAMLField
	human    string
	evidence *mailpart.Part
	missing  report.Errors
}

// get returns a field's value, keys compared without case (the schemas
// write Reported-From, senders also reported-from). A YAML null (~, null)
// is no value.
func (x *xreport) get(key string) string {
	for _, f := range x.fields {
		if strings.EqualFold(f.Key, key) {
			v := strings.TrimSpace(f.Value)
			switch v {
			case "~", "null", "Null", "NULL":
				return ""
			}
			return v
		}
	}
	return ""
}

func (x *xreport) field(key string) string { return x.name + "." + key }

func (x *xreport) add(key, code, format string, args ...any) {
	x.missing = append(x.missing, report.FieldError{Field: x.field(key), Code: code, Message: fmt.Sprintf(format, args...)})
}

// headerVersion names the X-ARF version the mail's header declares: X-XARF
// (0.2, whose value is PLAIN) or X-ARF (0.1, whose value is YES).
func headerVersion(m *mailpart.Part) string {
	switch {
	case m.Header.Has("X-XARF"):
		return "0.2"
	case m.Header.Has("X-ARF"):
		return "0.1"
	}
	return ""
}

// parseXARF0 reads an X-ARF 0.1/0.2 mail; ok is false when it is not one.
func parseXARF0(m *mailpart.Part) ([]*report.Report, report.Errors, bool) {
	version := headerVersion(m)
	leaves := m.Leaves()
	yi := -1
	for i, l := range leaves {
		if strings.EqualFold(strings.TrimSpace(l.Filename), "report.txt") && l.Message == nil {
			yi = i
			break
		}
	}
	if version == "" {
		// No header: only a report.txt that reads as X-ARF fields.
		if yi < 0 {
			return nil, nil, false
		}
		fs, err := ParseYAML(leaves[yi].Body)
		x := &xreport{fields: fs}
		if err != nil || x.get("Report-Type") == "" || x.get("Reported-From") == "" {
			return nil, nil, false
		}
		version = "0.2"
	}
	if yi < 0 {
		yi = findYAML(leaves)
	}
	if yi < 0 {
		for _, l := range leaves {
			if _, is := jsonDoc(l); is {
				// Marked X-ARF but carrying XARF JSON: the JSON reader
				// takes it.
				return nil, nil, false
			}
		}
		return nil, report.Errors{{Field: "report.txt", Code: report.CodeRequired,
			Message: "an X-ARF mail carries its fields as YAML in a text/plain part named report.txt (the second MIME part); none was found"}}, true
	}
	x := &xreport{version: version, name: "report.txt"}
	yp := leaves[yi]
	if n := strings.TrimSpace(yp.Filename); n != "" && !strings.EqualFold(n, "report.txt") {
		x.name = "attachment[" + partName(yp, yi) + "]"
	}
	if len(yp.Body) > maxYAMLPart {
		return nil, report.Errors{{Field: x.name, Code: report.CodeTooLarge,
			Message: fmt.Sprintf("report.txt is at most %d bytes (got %d): it holds the report's fields, the evidence goes in the third part", maxYAMLPart, len(yp.Body))}}, true
	}
	fs, err := ParseYAML([]byte(yp.Text()))
	if err != nil {
		line := 1
		msg := err.Error()
		var ye *YAMLError
		if errors.As(err, &ye) {
			line, msg = ye.Line, ye.Msg
		}
		return nil, report.Errors{{Field: fmt.Sprintf("%s line %d", x.name, line), Code: report.CodeInvalid,
			Message: "report.txt is not in the YAML X-ARF uses (Key: value lines): " + msg}}, true
	}
	x.fields = fs
	if v := x.get("Version"); v != "" && len(v) <= 8 {
		x.version = v
	}
	// The human-readable part comes first (X-ARF: part 1).
	if yi > 0 {
		if h := leaves[0]; h.Message == nil && (h.MediaType == "text/plain" || h.MediaType == "text/html") {
			t := h.Text()
			if h.MediaType == "text/html" {
				t = mailpart.StripHTML(t)
			}
			x.human = strings.TrimSpace(t)
		}
	}
	x.evidence = pickEvidence(leaves[yi+1:], strings.ToLower(x.get("Attachment")))
	r := x.build()
	if r == nil {
		if len(x.missing) == 0 { // cannot happen: build names why
			x.add("Source", report.CodeRequired, "the report could not be read")
		}
		return nil, x.missing, true
	}
	return []*report.Report{r}, x.missing, true
}

// findYAML finds report.txt when it is not named: the second part (its
// place in X-ARF), else the first text part that reads as X-ARF fields.
func findYAML(leaves []*mailpart.Part) int {
	usable := func(l *mailpart.Part) bool {
		_, isJSON := jsonDoc(l)
		return l.Message == nil && strings.HasPrefix(l.MediaType, "text/plain") && !isJSON && len(l.Body) <= maxYAMLPart
	}
	for i, l := range leaves {
		if !usable(l) {
			continue
		}
		fs, err := ParseYAML([]byte(l.Text()))
		if err == nil && (&xreport{fields: fs}).get("Report-Type") != "" {
			return i
		}
	}
	if len(leaves) >= 2 && usable(leaves[1]) {
		return 1 // broken YAML in its place: say what is wrong with it
	}
	return -1
}

// pickEvidence takes the part the Attachment field names among those after
// report.txt, else the first of them.
func pickEvidence(after []*mailpart.Part, attachment string) *mailpart.Part {
	if len(after) == 0 {
		return nil
	}
	if mt, _, _ := strings.Cut(attachment, ";"); mt != "" && mt != "none" {
		for _, l := range after {
			if l.MediaType == strings.TrimSpace(mt) {
				return l
			}
		}
	}
	return after[0]
}

// Source kinds.
const (
	srcIP = iota + 1
	srcURL
	srcHost
	srcEmail
)

// source reads Source as Source-Type says (ipv4, ipv6, ip-address, uri,
// domain, email); without a known Source-Type, from its form.
func (x *xreport) source() (kind int, value string) {
	s := x.get("Source")
	if s == "" {
		return 0, ""
	}
	st := strings.ToLower(x.get("Source-Type"))
	switch st {
	case "ipv4", "ipv6", "ip-address", "ip":
		if a, ok := report.ParseIP(s); ok {
			return srcIP, a.String()
		}
		x.add("Source", report.CodeInvalidIP, "Source %q is not an IP address, as its Source-Type %s says", clip(s), st)
		return 0, ""
	case "uri", "url":
		return srcURL, s
	case "domain":
		if report.ValidHost(s) {
			return srcHost, strings.ToLower(strings.TrimSuffix(s, "."))
		}
		x.add("Source", report.CodeInvalidHost, "Source %q is not a domain name, as its Source-Type domain says", clip(s))
		return 0, ""
	case "email":
		return srcEmail, s
	}
	switch {
	case strings.Contains(s, "://"):
		return srcURL, s
	case strings.Contains(s, "@"):
		return srcEmail, s
	}
	if a, ok := report.ParseIP(s); ok {
		return srcIP, a.String()
	}
	if report.ValidHost(s) && strings.Contains(s, ".") {
		return srcHost, strings.ToLower(strings.TrimSuffix(s, "."))
	}
	x.add("Source", report.CodeInvalid, "Source %q is neither an IP address, a URL, a domain nor an email address; give Source-Type (ipv4, ipv6, uri, domain, email)", clip(s))
	return 0, ""
}

// port reads a port field; a bad one is a missing entry (as a bad port is
// refused by the JSON API).
func (x *xreport) port(key string) *int {
	s := x.get(key)
	if s == "" {
		return nil
	}
	p, err := strconv.Atoi(s)
	if err != nil || p < 0 || p > 65535 {
		x.add(key, report.CodeInvalidPort, "%s %q is not a port number (0 to 65535)", key, clip(s))
		return nil
	}
	return &p
}

// host reads a destination field: an IP address or a host name.
func (x *xreport) host(key string) string {
	s := x.get(key)
	if s == "" {
		return ""
	}
	if a, ok := report.ParseIP(s); ok {
		return a.String()
	}
	if report.ValidHost(s) {
		return s
	}
	x.add(key, report.CodeInvalidHost, "%s %q is neither an IP address nor a host name", key, clip(s))
	return ""
}

// protocolName accepts what the validator takes as a protocol (ssh, http,
// smtp ...); a Service described in words stays in the log only.
var protocolName = regexp.MustCompile(`^[a-z0-9._-]{1,16}$`)

// message is the reported message in the evidence: an attached
// message/rfc822 (or text/rfc822-headers), or a text part that reads as a
// message (some senders attach it as text/plain).
func (x *xreport) message() *report.EmailMessage {
	ev := x.evidence
	if ev == nil {
		return nil
	}
	msg := ev.Message
	if msg == nil && strings.HasPrefix(ev.MediaType, "text/") && len(ev.Body) <= 4*maxBody {
		msg = mailpart.Parse([]byte(ev.Text()))
	}
	if msg == nil {
		return nil
	}
	h, ok := report.ParseHeaderBlock(msg.RawHeader)
	if !ok || len(h.Values("Received")) == 0 && h.Get("From") == "" && h.Get("Message-Id") == "" {
		return nil
	}
	body := ""
	if ev.MediaType != "text/rfc822-headers" {
		body = cut(strings.ToValidUTF8(string(msg.Body), "\uFFFD"), maxBody)
	}
	return &report.EmailMessage{Headers: msg.RawHeader, Body: body}
}

// filing is where decide puts a report.
type filing struct {
	typ, subtype string
	url          string // content: the location
	urlNote      string // content: the location's description
	email        *report.EmailMessage
	note         string // for the description
}

// decide applies the mapping table of the package comment.
func (x *xreport) decide(kind int, src string) (filing, bool) {
	category := strings.ToLower(x.get("Category"))
	rtype := strings.ToLower(x.get("Report-Type"))
	if rtype == "spam" || kind == srcEmail {
		if m := x.message(); m != nil {
			return filing{typ: report.TypeEmail, subtype: "spam_sent", email: m}, true
		}
		switch kind {
		case srcEmail, 0:
			x.add("Attachment", report.CodeRequired,
				"the report names no IP address, so it needs the reported message: attach it as a message/rfc822 part with its full headers")
			return filing{}, false
		case srcIP:
			return filing{typ: report.TypeNetwork, subtype: "other",
				note: "The report carries no message headers, so it is filed as a network incident."}, true
		}
	}
	switch kind {
	case srcIP:
		if (rtype == "spamvertized" || rtype == "nsvertized") && x.get("URL") != "" {
			return filing{typ: report.TypeContent, subtype: "web_content", url: x.get("URL"),
				urlNote: "advertised in spam, hosted at " + src}, true
		}
		return filing{typ: report.TypeNetwork, subtype: netSubtype(rtype)}, true
	case srcURL:
		return filing{typ: report.TypeContent, subtype: contentSubtype(category, rtype), url: src}, true
	case srcHost:
		return filing{typ: report.TypeContent, subtype: contentSubtype(category, rtype), url: "http://" + src + "/",
			urlNote: "The X-ARF report names the domain " + src + " and no URL; this http:// form only names the host.",
			note:    "The report names the domain " + src + " and no URL."}, true
	}
	if x.get("Source") == "" {
		x.add("Source", report.CodeRequired, "Source (the IP address, URL or domain the abuse came from) is required")
	}
	return filing{}, false
}

func netSubtype(rtype string) string {
	switch {
	case rtype == "login-attack":
		return "intrusion"
	case strings.Contains(rtype, "ddos") || rtype == "dos":
		return "ddos"
	case strings.Contains(rtype, "scan"):
		return "port_scan"
	}
	return "other"
}

// contentSubtype: fraud is phishing unless it says otherwise (the brief of
// the fraud schema: phishing, infected, defacement, scam, spam); infections
// and malware are malware.
func contentSubtype(category, rtype string) string {
	switch {
	case rtype == "phishing" || rtype == "scam":
		return "phishing"
	case rtype == "infected" || strings.Contains(rtype, "malware") || strings.Contains(rtype, "bot") ||
		strings.Contains(rtype, "virus") || strings.Contains(rtype, "infection"):
		return "malware"
	case category == "fraud" && rtype != "defacement" && rtype != "spam":
		return "phishing"
	}
	return "web_content"
}

// labels name the schema report types for people.
var labels = map[string]string{
	"login-attack":        "Login attack",
	"malware-attack":      "Malware attack",
	"bot-infection":       "Bot infection",
	"grumbot-infection":   "Bot infection (Grum)",
	"compromised-account": "Compromised account",
	"phishing":            "Phishing",
	"infected":            "Infected website",
	"defacement":          "Defacement",
	"scam":                "Scam",
	"spam":                "Spam",
	"dnsbl-listing":       "DNSBL listing observed",
	"dnsbl-listed":        "Listed on a DNSBL",
	"dnsbl-delisted":      "Delisted from a DNSBL",
	"spamvertized":        "Spamvertized site",
	"nsvertized":          "Spamvertized name server",
	"harvesting":          "Address harvesting",
}

// build makes the report, or nil with x.missing saying why.
func (x *xreport) build() *report.Report {
	kind, src := x.source()
	f, ok := x.decide(kind, src)
	if !ok {
		return nil
	}
	category, rtype := x.get("Category"), x.get("Report-Type")
	r := &report.Report{Type: f.typ, Subtype: f.subtype}
	from := x.get("Reported-From")
	if a, err := mail.ParseAddress(from); err == nil {
		r.Reporter.Email, r.Reporter.Name = a.Address, a.Name
	}

	var in report.Incident
	network := f.typ == report.TypeNetwork
	if network || f.typ == report.TypeEmail && kind == srcIP {
		in.SourceIP = src
		in.SourcePort = x.port("Source-Port")
		in.Timestamp = timestamp(x.get("Date"))
		if svc := strings.ToLower(x.get("Service")); protocolName.MatchString(svc) {
			in.Protocol = svc
		}
		// Port goes with Service: the attacked service in a login attack,
		// the Source's own service in fraud and vertized reports.
		lc, lt := strings.ToLower(category), strings.ToLower(rtype)
		if lc == "fraud" || strings.HasSuffix(lt, "vertized") {
			if p := x.port("Port"); p != nil {
				in.SourcePort = p
			}
		} else {
			in.TargetPort = x.port("Port")
		}
		if p := x.port("Destination-Port"); p != nil {
			in.TargetPort = p
		}
		in.Target = x.host("Destination")
		if in.Target == "" {
			in.Target = x.host("Destination-Domain")
		}
		if f.typ == report.TypeEmail {
			in.Protocol = "smtp"
		}
	}

	// The description: what, where, the reporter's words.
	label := labels[strings.ToLower(rtype)]
	if label == "" {
		label = "Abuse report"
		if rtype != "" {
			label = "Report " + strconv.Quote(clip(rtype))
		}
	}
	var d strings.Builder
	fmt.Fprintf(&d, "%s (X-ARF %s, %s/%s)", label, clip(x.version), orNone(clip(category)), orNone(clip(rtype)))
	switch {
	case f.typ == report.TypeEmail && kind == srcIP:
		d.WriteString(" from " + src + " in the attached message")
	case f.typ == report.TypeEmail:
		d.WriteString(" in the attached message")
		if src != "" {
			d.WriteString(" from " + clip(src))
		}
	case network:
		d.WriteString(" from " + src)
	default:
		d.WriteString(" at " + clip(f.url))
	}
	if in.Target != "" {
		d.WriteString(" against " + in.Target)
	}
	if in.TargetPort != nil {
		d.WriteString(" port " + strconv.Itoa(*in.TargetPort))
	}
	if in.Protocol != "" && f.typ != report.TypeEmail {
		d.WriteString(" (" + in.Protocol + ")")
	}
	if n := x.get("Occurrences"); n != "" {
		d.WriteString(", " + clip(n) + " occurrences")
	}
	d.WriteString(".")
	if id := x.get("Report-ID"); id != "" {
		d.WriteString(" Report-ID " + clip(id) + ".")
	}
	if from != "" {
		d.WriteString(" Reported by " + clip(from))
		if ua := x.get("User-Agent"); ua != "" {
			d.WriteString(" with " + clip(ua))
		}
		d.WriteString(".")
	}
	if r.Reporter.Email == "" && from != "" {
		d.WriteString(" Reported-From is not an email address.")
	}
	if tlp := x.get("TLP"); tlp != "" {
		// Traffic Light Protocol: the reporter's limit on sharing.
		fmt.Fprintf(&d, " TLP:%s.", strings.ToUpper(clip(tlp)))
	}
	if f.note != "" {
		d.WriteString(" " + f.note)
	}
	if x.human != "" {
		d.WriteString("\n\n" + cut(x.human, maxHuman))
	}
	r.Description = cut(d.String(), maxDescription)

	switch f.typ {
	case report.TypeNetwork:
		r.TargetOptional = true
		in.Log = x.log()
		r.Incidents = []report.Incident{in}
	case report.TypeEmail:
		r.EmailMessage = f.email
		// Without Source and Date the validator derives the incident from
		// the message's Received headers.
		if in.SourceIP != "" && in.Timestamp != "" {
			in.Log = x.log()
			r.Incidents = []report.Incident{in}
		}
	case report.TypeContent:
		r.URLs = []report.URLItem{{URL: f.url, Description: f.urlNote}}
		r.Description = cut(r.Description+"\n\n"+x.log(), maxDescription)
	}
	return r
}

func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// log is the evidence (text, or the attached message's header block) and
// then the report.txt fields, within maxLog.
func (x *xreport) log() string {
	var fb strings.Builder
	fb.WriteString("X-ARF report.txt:\n")
	for i, f := range x.fields {
		if i == maxFields {
			fmt.Fprintf(&fb, "[... %d more fields]\n", len(x.fields)-i)
			break
		}
		fmt.Fprintf(&fb, "%s: %s\n", oneLine(f.Key), oneLine(f.Value))
	}
	fields := cut(fb.String(), maxLog/4)
	ev := ""
	if e := x.evidence; e != nil {
		switch {
		case e.Message != nil:
			ev = "Attached message (" + e.MediaType + "), header block:\n" + strings.TrimRight(e.Message.RawHeader, "\n")
		case strings.HasPrefix(e.MediaType, "text/") || e.MediaType == "application/json":
			ev = strings.TrimRight(e.Text(), "\n")
		default:
			ev = fmt.Sprintf("[attachment %s of %d bytes, not text]", e.MediaType, len(e.Body))
		}
	}
	if ev == "" {
		return strings.TrimRight(fields, "\n")
	}
	room := maxLog - len(fields) - 2
	if len(ev) > room {
		note := fmt.Sprintf("\n[... %d more bytes not shown]", len(ev)-room+64)
		ev = cut(ev, room-64) + note
	}
	return ev + "\n\n" + strings.TrimRight(fields, "\n")
}

// obsZones are the alphabetic zones of RFC 2822 §4.3 with a known offset.
// Other names (CEST, military letters) say nothing reliable (§4.3: treat
// them as -0000), and Go's time.Parse would read an unknown one as UTC, so
// they are left for the validator to refuse.
var obsZones = map[string]string{
	"UT": "+0000", "GMT": "+0000", "UTC": "+0000", "Z": "+0000",
	"EST": "-0500", "EDT": "-0400", "CST": "-0600", "CDT": "-0500",
	"MST": "-0700", "MDT": "-0600", "PST": "-0800", "PDT": "-0700",
}

// isoSpaced is an ISO 8601 date-time written with a space before its zone,
// as many X-ARF generators do: "2011-03-21 11:32:15 +0100".
var isoSpaced = regexp.MustCompile(`^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?) +([+-]\d{2}(?::?\d{2})?|Z|UTC)$`)

// timestamp makes an X-ARF Date an RFC 3339 timestamp where its zone is
// known: RFC 2822 (the schemas' date-time, and what mail software writes)
// with its numeric offset kept, ISO 8601 as written. Anything else is passed
// on as written for the validator to judge: a time without a zone is never
// completed with one.
func timestamp(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 64 {
		return s
	}
	if m := isoSpaced.FindStringSubmatch(s); m != nil {
		z := m[2]
		if z == "UTC" {
			z = "Z"
		}
		return strings.Replace(m[1], " ", "T", 1) + z
	}
	d := s
	if i := strings.IndexByte(d, '('); i > 0 { // a trailing comment: "(CEST)"
		d = strings.TrimSpace(d[:i])
	}
	words := strings.Fields(d)
	if len(words) < 4 {
		return s
	}
	last := words[len(words)-1]
	if last[0] != '+' && last[0] != '-' {
		z, ok := obsZones[strings.ToUpper(last)]
		if !ok {
			return s
		}
		words[len(words)-1] = z
	}
	t, err := mail.ParseDate(strings.Join(words, " "))
	if err != nil {
		return s
	}
	return t.Format(time.RFC3339)
}

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

// clip keeps sender-chosen text short inside messages and descriptions.
func clip(s string) string {
	if len(s) > maxFieldShown/8 {
		return cut(s, maxFieldShown/8-3) + "..."
	}
	return s
}

// oneLine flattens a value for one log line.
func oneLine(s string) string {
	return cut(strings.Join(strings.Fields(s), " "), maxFieldShown)
}
