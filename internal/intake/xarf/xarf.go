// Package xarf maps an XARF abuse report onto the desk's report.Report.
//
// Two families are read:
//
//   - XARF v4 (https://xarf.org, schemas in xarf/xarf-spec): a flat JSON
//     object with xarf_version "4.x", reporter, sender, source_identifier,
//     category and type, and type-specific members;
//   - the abusix X-ARF v3 JSON family (schemas in abusix/xarf): top-level
//     "Version", "ReporterInfo" and "Report" objects, in the schema versions
//     "3" and "development" (the draft of the next one), and the older "2",
//     "1" and "alpha" (whose documents may carry no Version at all).
//
// Map checks the document against the rules of its schema that matter for
// the desk and answers with every problem at once, each with the path of the
// member in the XARF document ("Report.SourceIp", "reporter.contact",
// "evidence[0].payload"). A report it returns is not yet validated:
// report.Validator still applies the desk's own contract.
//
// How XARF meets the desk's four types (DESIGN.md) is decided once, in
// decide below; the comments there give the reasons.
package xarf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"

	"abusedesk/internal/report"
)

// MaxDocumentBytes bounds the documents Map reads. XARF v4 allows 50
// evidence items of 5 MB each; a document beyond this is refused rather
// than half read.
const MaxDocumentBytes = 32 << 20

// Map reads an XARF document: v4 JSON (xarf_version "4.x"), or v3 JSON (the
// abusix "X-ARF v3" format with top-level "Version", "ReporterInfo", "Report"
// objects; also the "alpha"/"development"/no-version variants in the
// corpus), converted. It returns the report it describes, not yet validated
// by report.Validator, or a list of precise errors (field path into the XARF
// document, code, message) when the document is not a valid XARF report.
// Errors about the document as a whole have an empty field path.
func Map(data []byte) (*report.Report, report.Errors) {
	if len(data) > MaxDocumentBytes {
		return nil, report.Errors{{Field: "", Code: report.CodeTooLarge,
			Message: fmt.Sprintf("an XARF document is at most %d bytes (got %d)", MaxDocumentBytes, len(data))}}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	err := dec.Decode(&doc)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			err = errors.New("data after the JSON value")
		}
	}
	if err != nil {
		return nil, report.Errors{{Field: "", Code: report.CodeInvalidJSON, Message: "not a JSON document: " + jsonError(err, data)}}
	}
	o, ok := doc.(map[string]any)
	if !ok {
		return nil, report.Errors{{Field: "", Code: report.CodeWrongType, Message: "an XARF document is a JSON object, not " + kindOf(doc)}}
	}
	_, v4 := o["xarf_version"]
	_, version := o["Version"]
	_, info := o["ReporterInfo"]
	_, rep := o["Report"]
	switch {
	case v4:
		return mapV4(o)
	case version || info || rep:
		return mapV3(o)
	}
	return nil, report.Errors{{Field: "xarf_version", Code: report.CodeRequired,
		Message: "not an XARF document: it has neither xarf_version (XARF v4) nor Version, ReporterInfo and Report (X-ARF v3)"}}
}

// jsonError says where JSON broke, in line:column.
func jsonError(err error, data []byte) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	off := int64(-1)
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	case err == io.EOF:
		return "the document is empty"
	}
	msg := err.Error()
	if off >= 0 && off <= int64(len(data)) {
		line := bytes.Count(data[:off], []byte("\n")) + 1
		col := off - int64(bytes.LastIndexByte(data[:off], '\n'))
		msg = fmt.Sprintf("line %d, column %d: %s", line, col, msg)
	}
	return msg
}

// event is what a v4 or v3 document says, in one shape, before it becomes a
// report.
type event struct {
	format string // "XARF 4.2.0", "X-ARF v3"
	kind   string // the document's own classification: "connection/ddos", "Activity/DOS"
	label  string // for people: "DDoS attack"

	reporter       report.Reporter
	anonymous      bool   // an X-ARF Person who left no contact data
	reporterDomain string // the reporter's domain, the target of last resort
	behalf         string // "on behalf of ..." when someone else complains

	// How the desk files it; see decide.
	netSubtype     string // subtype when filed as network ("" = not network-shaped)
	contentSubtype string // subtype when filed as content ("" = not content-shaped)
	spam           bool   // a message: email when the message is in the evidence
	copyright      bool   // a copyright notification (never dmca, see decide)
	subject        string // what source_ip names when it is not an attacker (v3 PotentiallyCompromisedAccount)

	sourceIP   string   // canonical address, when the source is one
	sourceHost string   // host name, when the source is one
	urls       []string // locations of content
	sourcePort *int
	target     string // destination address or host, "" when the document names none
	targetPort *int
	protocol   string
	timestamp  string // the instant of the incident, as written

	evidence []evidence
	summary  string               // extra words for the description: work, brand, family...
	fields   func(t *textBuilder) // the key members, for logs and descriptions
	notes    string               // the reporter's free text
}

// filing is where decide puts an event.
type filing struct {
	typ, subtype string
	incident     bool   // carries an incident (network, email)
	hostURL      string // content filed under a host-only URL
	message      *report.EmailMessage
	messagePath  string
	receivedIP   string // email from a host: the topmost public Received hop
}

// decide files an event under one of the desk's types. The rules:
//
//   - A message (messaging/spam and bulk_messaging, X-ARF Spam) is an email
//     report when the evidence holds the message's header block, since an
//     email report needs the full headers. XARF samples usually carry only
//     a placeholder, and headers are never synthesised: without them the
//     report is filed as network/other from its source address (the SMTP
//     details go to the log), as an address and a time is what it has.
//   - Content-shaped kinds (phishing, malware, brand infringement,
//     copyright, CSAM...) are content reports on their URLs. When the
//     document names only an address (an X-ARF v3 report with SourceIp and
//     no SourceUrl, XARF copyright/p2p), it is network/other: an address is
//     reassigned over time, and only an incident keeps the time it was seen.
//   - Network-shaped kinds (connection, infrastructure, vulnerability,
//     reputation, X-ARF Activity) are network incidents from the source
//     address; with only a URL they become content on that URL.
//   - A source that is a host name and no URL (XARF allows "domain, or
//     other identifier") is filed as content under "http://<host>/", which
//     is the only form of location the contract takes; the item's
//     description says that the report named only the host.
func decide(e *event) (filing, bool) {
	if e.spam {
		if m, path := message(e.evidence); m != nil {
			f := filing{typ: report.TypeEmail, subtype: "spam_sent", incident: true, message: m, messagePath: path}
			if e.sourceIP != "" {
				return f, true
			}
			if h, ok := report.ParseHeaderBlock(m.Headers); ok {
				if a, _, ok := report.ReceivedSource(h); ok {
					f.receivedIP = a.String()
					return f, true
				}
			}
		}
	}
	content := func(sub string) (filing, bool) {
		if len(e.urls) > 0 {
			return filing{typ: report.TypeContent, subtype: sub}, true
		}
		if e.sourceHost != "" {
			return filing{typ: report.TypeContent, subtype: sub, hostURL: "http://" + e.sourceHost + "/"}, true
		}
		return filing{}, false
	}
	network := func(sub string) (filing, bool) {
		if e.sourceIP != "" {
			return filing{typ: report.TypeNetwork, subtype: sub, incident: true}, true
		}
		return filing{}, false
	}
	if e.contentSubtype != "" {
		if len(e.urls) > 0 {
			return content(e.contentSubtype)
		}
		if f, ok := network("other"); ok {
			return f, true
		}
		return content(e.contentSubtype) // a host only
	}
	sub := e.netSubtype
	if sub == "" || e.spam {
		sub = "other"
	}
	if f, ok := network(sub); ok {
		return f, true
	}
	// Network-shaped with a URL or a host only: the URL is the resource.
	return content("web_content")
}

// build makes the report of an event filed as f.
func build(e *event, f filing) *report.Report {
	r := &report.Report{
		Type:     f.typ,
		Subtype:  f.subtype,
		Reporter: e.reporter,
		// Consent to share the reporter's identity with the customer is
		// never inferred: XARF has no such statement. (X-ARF v3
		// "Disclosure" is described only as "if this event is disclosed or
		// not"; it is shown in the log, not taken as consent.)
		ShareContactWithCustomer: false,
		Language:                 "en",
		Anonymous:                e.anonymous,
	}
	where := ""
	switch {
	case f.incident && e.subject != "":
		where = " concerning " + e.sourceIP
	case f.incident && e.sourceIP != "":
		where = " from " + e.sourceIP
	case f.incident:
		where = " from " + e.sourceHost + " (" + f.receivedIP + " per its Received headers)"
	case len(e.urls) > 0:
		where = " at " + e.urls[0]
		if len(e.urls) > 1 {
			where += fmt.Sprintf(" and %d more URLs", len(e.urls)-1)
		}
	default:
		where = " at host " + e.sourceHost
	}
	var head string
	if e.copyright {
		// Not a DMCA notice: XARF carries none of the sworn elements of
		// 17 U.S.C. § 512(c)(3)(A), so it must not reach the dmca lane as
		// if it were complete, nor be refused for lacking them.
		head = fmt.Sprintf("Copyright notification (%s %s)%s", e.format, e.kind, where)
		if e.summary != "" {
			head += ": " + e.summary
		}
		head += ". Not a DMCA notice: XARF carries no signature, good-faith statement or statement under penalty of perjury (17 U.S.C. § 512(c)(3)(A)(i), (v), (vi))."
	} else {
		head = fmt.Sprintf("%s (%s %s)%s", e.label, e.format, e.kind, where)
		if e.summary != "" {
			head += ": " + e.summary
		}
		head += "."
	}
	head += " Reported by " + e.reporter.Name
	if e.behalf != "" {
		head += " " + e.behalf
	}
	head += "."
	if e.subject != "" {
		head += " " + e.subject
	}
	if f.typ == report.TypeNetwork && e.spam {
		head += " The report carries no message headers, so it is filed as a network incident with the SMTP details in its log."
	}
	if f.hostURL != "" {
		head += " The report names the host " + e.sourceHost + " and no URL."
	}
	if e.notes != "" {
		head += "\nReporter notes: " + cut(e.notes, 4<<10)
	}

	details := func(max int) string {
		t := newText(max)
		t.linef("%s %s report", e.format, e.kind)
		if e.fields != nil {
			e.fields(t)
		}
		writeEvidence(t, e.evidence)
		return t.String()
	}

	switch f.typ {
	case report.TypeContent:
		head = cut(head, maxDescription/2)
		r.Description = head + "\n\n" + details(maxDescription-len(head)-2)
		if f.hostURL != "" {
			r.URLs = []report.URLItem{{URL: f.hostURL, Description: "The XARF report names the host " + e.sourceHost +
				" but no URL; this http:// form only names the host."}}
			break
		}
		for _, u := range e.urls {
			r.URLs = append(r.URLs, report.URLItem{URL: u})
		}
	case report.TypeNetwork, report.TypeEmail:
		r.Description = cut(head, maxDescription)
		in := report.Incident{
			SourceIP:   e.sourceIP,
			SourcePort: e.sourcePort,
			Target:     e.target,
			TargetPort: e.targetPort,
			Protocol:   e.protocol,
			Timestamp:  e.timestamp,
		}
		log := newText(maxLog)
		if f.receivedIP != "" {
			in.SourceIP, in.SourcePort = f.receivedIP, nil
			log.linef("source_ip %s is the topmost public Received hop of the message; the report names the host %s", f.receivedIP, e.sourceHost)
		}
		if in.Target == "" && f.typ == report.TypeNetwork && e.reporterDomain != "" {
			// The contract wants the attacked address or host; an XARF
			// report without a destination was observed by the reporter's
			// own systems, so its domain is the honest target.
			in.Target = e.reporterDomain
			log.linef("target %s is the reporter's domain: the report names no destination", e.reporterDomain)
		}
		log.write(details(maxLog))
		in.Log = log.String()
		r.Incidents = []report.Incident{in}
		if f.message != nil {
			r.EmailMessage = f.message
		}
	}
	return r
}

// certWords spot a CERT or CSIRT among reporters.
var certWords = regexp.MustCompile(`(?i)\b(cert|csirt|cirt)\b`)

// reporterKind is "cert" when the organisation says so in its name or
// domain, else "organization"; an ISP is not evident from a name.
func reporterKind(org, domain string) string {
	if certWords.MatchString(org) || certWords.MatchString(strings.ReplaceAll(domain, ".", " ")) {
		return "cert"
	}
	return "organization"
}

// emailDomain is the domain of an address, "" when it has none.
func emailDomain(addr string) string {
	_, d, ok := strings.Cut(addr, "@")
	if !ok || !report.ValidHost(d) {
		return ""
	}
	return strings.ToLower(strings.TrimSuffix(d, "."))
}

// classifySource tells an IP address, a URL and a host name apart.
func classifySource(s string) (ip, host, u string, ok bool) {
	s = strings.TrimSpace(s)
	if a, isIP := report.ParseIP(s); isIP {
		return a.String(), "", "", true
	}
	if strings.Contains(s, "://") {
		p, err := url.Parse(s)
		if err != nil || p.Hostname() == "" {
			return "", "", "", false
		}
		return "", strings.ToLower(p.Hostname()), s, true
	}
	if report.ValidHost(s) {
		return "", strings.ToLower(strings.TrimSuffix(s, ".")), "", true
	}
	return "", "", "", false
}

// appendURL adds u to the list once.
func appendURL(list []string, u string) []string {
	u = strings.TrimSpace(u)
	if u == "" {
		return list
	}
	for _, v := range list {
		if v == u {
			return list
		}
	}
	return append(list, u)
}
