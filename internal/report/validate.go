package report

import (
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Validator checks reports against the rules of the public contract and
// normalises what they carry (addresses, instants, defaults).
type Validator struct {
	Limits Limits
	// Now is the clock; a time more than a day ahead of it is refused.
	Now func() time.Time
	// SendingServiceHosts are host suffixes of the provider's own
	// email-sending service; spam relayed by it goes to the email-abuse lane.
	SendingServiceHosts []string
}

// DefaultSendingServiceHosts is used when a deployment names none.
var DefaultSendingServiceHosts = []string{"mail-service.example.net"}

func (v *Validator) limits() Limits {
	l := v.Limits
	d := DefaultLimits
	if l.MaxIncidents == 0 {
		l.MaxIncidents = d.MaxIncidents
	}
	if l.MaxLogBytes == 0 {
		l.MaxLogBytes = d.MaxLogBytes
	}
	if l.MaxURLs == 0 {
		l.MaxURLs = d.MaxURLs
	}
	if l.MaxTextBytes == 0 {
		l.MaxTextBytes = d.MaxTextBytes
	}
	if l.MaxHeaderBytes == 0 {
		l.MaxHeaderBytes = d.MaxHeaderBytes
	}
	return l
}

func (v *Validator) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

// Validate checks r completely and returns every problem at once. On success
// r is normalised in place: defaults filled, addresses canonical, instants in
// UTC, email incidents derived from Received headers, and Lane set.
func (v *Validator) Validate(r *Report) Errors {
	var es Errors
	v.common(r, &es)
	switch r.Type {
	case TypeNetwork:
		v.network(r, &es)
	case TypeContent:
		v.content(r, &es)
	case TypeEmail:
		v.email(r, &es)
	case TypeDMCA:
		v.dmca(r, &es)
	}
	if len(es) > 0 {
		return es
	}
	r.Lane = LaneGeneral
	switch {
	case r.Type == TypeDMCA:
		r.Lane = LaneCopyright
	case r.Type == TypeEmail && v.viaSendingService(r):
		r.Lane = LaneEmailAbuse
		r.ViaSendingService = true
	}
	return nil
}

// legalWords spot a government request for customer data sent to the abuse
// endpoint; such a request belongs to the legal process, not to a case.
var legalWords = regexp.MustCompile(`(?i)\b(subpoena|court order|search warrant|warrant|r[ée]quisition(s)? judiciaire|customer (information|data|identity)|subscriber (information|data)|identit[ée] (du|de l'|des) (client|abonn[ée])|donn[ée]es (du|de l'|des) (client|abonn[ée])|production order|mlat)\b`)

func (v *Validator) common(r *Report, es *Errors) {
	l := v.limits()
	switch {
	case r.Type == "":
		es.add("type", CodeRequired, "choose the abuse type: one of %s", strings.Join(Types, ", "))
	case Subtypes[r.Type] == nil:
		es.add("type", CodeInvalidChoice, "%q is not an abuse type: one of %s", r.Type, strings.Join(Types, ", "))
	case r.Subtype == "" && len(Subtypes[r.Type]) == 1:
		r.Subtype = Subtypes[r.Type][0]
	case r.Subtype == "":
		es.add("subtype", CodeRequired, "choose the %s subtype: one of %s", r.Type, strings.Join(Subtypes[r.Type], ", "))
	case !slices.Contains(Subtypes[r.Type], r.Subtype):
		es.add("subtype", CodeInvalidChoice, "%q is not a %s subtype: one of %s", r.Subtype, r.Type, strings.Join(Subtypes[r.Type], ", "))
	}
	rp := &r.Reporter
	rp.Name = strings.TrimSpace(rp.Name)
	if rp.Name == "" && r.Anonymous {
		rp.Name = "anonymous"
	}
	if rp.Name == "" {
		es.add("reporter.name", CodeRequired, "your name is required")
	}
	if !(r.Anonymous && strings.TrimSpace(rp.Email) == "") {
		v.emailAddr("reporter.email", &rp.Email, es)
	}
	if rp.Kind == "" {
		rp.Kind = "individual"
	} else if !slices.Contains(ReporterKinds, rp.Kind) {
		es.add("reporter.kind", CodeInvalidChoice, "%q is not a reporter kind: one of %s", rp.Kind, strings.Join(ReporterKinds, ", "))
	}
	if r.Language == "" {
		r.Language = "en"
	} else if !slices.Contains(Languages, r.Language) {
		es.add("language", CodeInvalidChoice, "%q is not a supported language: en or fr", r.Language)
	}
	v.text("description", r.Description, l.MaxTextBytes, es)
	v.text("reporter.organization", rp.Organization, 1024, es)
	if rp.Kind == "government" && legalWords.MatchString(r.Description) {
		es.add("description", CodeLegalRequest, "a request for customer information is not an abuse report: send it to POST /api/v1/legal-requests (see /legal)")
	}
	// Items that belong to another type are refused, not silently dropped:
	// the reporter would believe they were received.
	if r.Type != TypeNetwork && r.Type != TypeEmail && len(r.Incidents) > 0 {
		es.add("incidents", CodeNotApplicable, "incidents are for network and email reports; a %s report carries %s", r.Type, carrier(r.Type))
	}
	if r.Type != TypeContent && len(r.URLs) > 0 {
		es.add("urls", CodeNotApplicable, "urls are for content reports; a %s report carries %s", r.Type, carrier(r.Type))
	}
	if r.Type != TypeEmail && r.EmailMessage != nil {
		es.add("email_message", CodeNotApplicable, "email_message is for email reports")
	}
	if r.Type != TypeDMCA && r.DMCA != nil {
		es.add("dmca", CodeNotApplicable, "dmca is for dmca reports")
	}
}

func carrier(t string) string {
	switch t {
	case TypeNetwork:
		return "incidents"
	case TypeContent:
		return "urls"
	case TypeEmail:
		return "email_message (and optionally incidents)"
	case TypeDMCA:
		return "dmca"
	}
	return "its own fields"
}

func (v *Validator) text(field, s string, max int, es *Errors) {
	if len(s) > max {
		es.add(field, CodeTooLarge, "at most %d bytes (got %d)", max, len(s))
	}
}

func (v *Validator) emailAddr(field string, s *string, es *Errors) {
	*s = strings.TrimSpace(*s)
	if *s == "" {
		es.add(field, CodeRequired, "an email address is required")
		return
	}
	a, err := mail.ParseAddress(*s)
	if err != nil || a.Name != "" || !strings.Contains(a.Address, "@") || len(*s) > 254 {
		es.add(field, CodeInvalidEmail, "%q is not an email address (expected name@example.org)", clip(*s))
		return
	}
	*s = a.Address
}

// clip keeps attacker-chosen text short inside messages.
func clip(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}

func (v *Validator) network(r *Report, es *Errors) {
	if len(r.Incidents) == 0 {
		es.add("incidents", CodeRequired, "a network report needs at least one incident: source_ip, target, timestamp with its zone, and a log sample")
		return
	}
	v.incidents(r, true, es)
	if r.Anonymous || r.TargetOptional {
		// An anonymous machine report may not know the target (an X-ARF
		// Person reporting spam names no destination): everything else
		// is still required.
		filtered := (*es)[:0]
		for _, e := range *es {
			if !(e.Code == CodeRequired && strings.HasSuffix(e.Field, "].target")) {
				filtered = append(filtered, e)
			}
		}
		*es = filtered
	}
}

func (v *Validator) incidents(r *Report, requireLog bool, es *Errors) {
	l := v.limits()
	if len(r.Incidents) > l.MaxIncidents {
		es.add("incidents", CodeTooMany, "at most %d incidents per report (got %d); send more as a CSV to /api/v1/reports/bulk", l.MaxIncidents, len(r.Incidents))
		return
	}
	for i := range r.Incidents {
		p := fmt.Sprintf("incidents[%d]", i)
		for _, fe := range v.Incident(&r.Incidents[i], requireLog) {
			fe.Field = p + "." + fe.Field
			*es = append(*es, fe)
		}
	}
}

// Incident checks one incident; field paths in the result are relative to
// it ("timestamp"), so the CSV reader can name columns and the JSON API can
// prefix "incidents[3].". requireLog is false for email incidents, whose
// evidence is the message.
func (v *Validator) Incident(in *Incident, requireLog bool) Errors {
	var es Errors
	l := v.limits()
	if in.SourceIP == "" {
		es.add("source_ip", CodeRequired, "the source IP address (the address of ours that the abuse came from) is required")
	} else if a, ok := ParseIP(in.SourceIP); !ok {
		es.add("source_ip", CodeInvalidIP, "%q is not an IPv4 or IPv6 address", clip(in.SourceIP))
	} else {
		in.Source = a
		in.SourceIP = a.String()
	}
	in.Target = strings.TrimSpace(in.Target)
	if in.Target == "" {
		if requireLog {
			es.add("target", CodeRequired, "the target (the IP address or host name that was attacked) is required")
		}
	} else if a, ok := ParseIP(in.Target); ok {
		in.Target = a.String()
	} else if !ValidHost(in.Target) {
		es.add("target", CodeInvalidHost, "%q is neither an IP address nor a host name", clip(in.Target))
	}
	port("source_port", in.SourcePort, &es)
	port("target_port", in.TargetPort, &es)
	in.Protocol = strings.ToLower(strings.TrimSpace(in.Protocol))
	if len(in.Protocol) > 16 || strings.ContainsFunc(in.Protocol, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.')
	}) {
		es.add("protocol", CodeInvalid, "a protocol is a short name such as tcp, udp, icmp, ssh or http")
	}
	v.timestamp("timestamp", in.Timestamp, &in.At, true, &es)
	if requireLog && strings.TrimSpace(in.Log) == "" {
		es.add("log", CodeRequired, "a log sample (the lines that show the abuse, with ports and protocol where known) is required")
	}
	if len(in.Log) > l.MaxLogBytes {
		es.add("log", CodeTooLarge, "a log sample is at most %d bytes (got %d)", l.MaxLogBytes, len(in.Log))
	}
	return es
}

func port(field string, p *int, es *Errors) {
	if p != nil && (*p < 0 || *p > 65535) {
		es.add(field, CodeInvalidPort, "a port is between 0 and 65535 (got %d)", *p)
	}
}

var minIncidentTime = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)

// CheckTimestamp parses s as ParseTimestamp does and also refuses instants
// more than a day ahead of the clock (a report cannot describe the future;
// a day of slack covers skewed clocks). It returns a FieldError code.
func (v *Validator) CheckTimestamp(s string) (time.Time, string, string) {
	t, err := ParseTimestamp(strings.TrimSpace(s))
	switch {
	case err == ErrTimezoneMissing:
		return t, CodeTimezoneRequired, fmt.Sprintf("%q has no time zone: add Z or an offset such as +01:00 (a time without a zone is never assumed)", clip(s))
	case err != nil:
		return t, CodeInvalidTimestamp, fmt.Sprintf("%q is not an ISO 8601 date-time with a zone, e.g. 2026-03-02T10:00:00+01:00", clip(s))
	case t.After(v.now().Add(24 * time.Hour)):
		return t, CodeFutureTimestamp, fmt.Sprintf("%q is in the future", clip(s))
	case t.Before(minIncidentTime):
		// ParseTimestamp reads any year from 0000; the zero instant would
		// also read as "no time" downstream.
		return t, CodeInvalidTimestamp, fmt.Sprintf("%q is before 1970: not the time of an incident", clip(s))
	}
	return t, "", ""
}

func (v *Validator) timestamp(field, s string, at *time.Time, required bool, es *Errors) {
	if strings.TrimSpace(s) == "" {
		if required {
			es.add(field, CodeRequired, "the time of the incident, with its zone (e.g. 2026-03-02T10:00:00+01:00), is required")
		}
		return
	}
	t, code, msg := v.CheckTimestamp(s)
	if code != "" {
		*es = append(*es, FieldError{Field: field, Code: code, Message: msg})
		return
	}
	*at = t
}

// CheckURL accepts absolute http(s) URLs with a host. The URL is stored, never
// followed.
func CheckURL(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if len(s) > 8192 {
		return s, false
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" {
		return s, false
	}
	if _, ok := ParseIP(u.Hostname()); !ok && !ValidHost(u.Hostname()) {
		return s, false
	}
	return s, true
}

// videoTimestamp is a position in a video: 1:23, 01:02:03, 83s, 1h2m3s.
var videoTimestamp = regexp.MustCompile(`^(\d{1,3}:)?\d{1,2}:\d{2}$|^(\d+h)?(\d+m)?(\d+s)?$`)

func (v *Validator) content(r *Report, es *Errors) {
	l := v.limits()
	if len(r.URLs) == 0 {
		es.add("urls", CodeRequired, "a content report needs at least one URL where the content is (http:// or https://)")
	}
	if len(r.URLs) > l.MaxURLs {
		es.add("urls", CodeTooMany, "at most %d URLs per report (got %d)", l.MaxURLs, len(r.URLs))
		return
	}
	described := strings.TrimSpace(r.Description) != ""
	for i := range r.URLs {
		u := &r.URLs[i]
		p := fmt.Sprintf("urls[%d]", i)
		if strings.TrimSpace(u.URL) == "" {
			es.add(p+".url", CodeRequired, "the URL is required")
		} else if s, ok := CheckURL(u.URL); !ok {
			es.add(p+".url", CodeInvalidURL, "%q is not an absolute http:// or https:// URL", clip(u.URL))
		} else {
			u.URL = s
		}
		v.text(p+".description", u.Description, l.MaxTextBytes, es)
		if strings.TrimSpace(u.Description) != "" {
			described = true
		}
		if vt := strings.TrimSpace(u.VideoTimestamp); vt != "" && !videoTimestamp.MatchString(vt) {
			es.add(p+".video_timestamp", CodeInvalid, "%q is not a position in a video (e.g. 1:23:45 or 83s)", clip(vt))
		}
	}
	if !described {
		es.add("description", CodeRequired, "describe the content and why it is abusive")
	}
}

func (v *Validator) email(r *Report, es *Errors) {
	l := v.limits()
	m := r.EmailMessage
	if m == nil || strings.TrimSpace(m.Headers) == "" {
		es.add("email_message.headers", CodeRequired, "paste the full headers of the message (all the Received lines)")
		return
	}
	if len(m.Headers) > l.MaxHeaderBytes {
		es.add("email_message.headers", CodeTooLarge, "at most %d bytes of headers (got %d)", l.MaxHeaderBytes, len(m.Headers))
		return
	}
	h, ok := ParseHeaderBlock(m.Headers)
	if !ok {
		es.add("email_message.headers", CodeInvalidHeaders, "this does not read as an RFC 5322 header block (lines of Name: value)")
		return
	}
	if len(r.Incidents) > 0 {
		v.incidents(r, false, es)
		return
	}
	src, at, ok := ReceivedSource(h)
	if !ok {
		es.add("incidents[0].source_ip", CodeNoSourceIP, "no public source address in the Received headers: give incidents[0].source_ip")
		return
	}
	if at.IsZero() {
		if d, err := parseMailDate(h.Get("Date")); err == nil {
			at = d
		}
	}
	if at.IsZero() {
		es.add("incidents[0].timestamp", CodeRequired, "no date in the headers: give incidents[0].timestamp with its zone")
		return
	}
	r.Incidents = []Incident{{
		SourceIP:  src.String(),
		Source:    src,
		Timestamp: at.Format(time.RFC3339),
		At:        at,
		Protocol:  "smtp",
	}}
}

func (v *Validator) viaSendingService(r *Report) bool {
	if r.EmailMessage == nil {
		return false
	}
	hosts := v.SendingServiceHosts
	if hosts == nil {
		hosts = DefaultSendingServiceHosts
	}
	h, ok := ParseHeaderBlock(r.EmailMessage.Headers)
	if !ok {
		return false
	}
	var hay []string
	hay = append(hay, h.Values("Received")...)
	hay = append(hay, h.Values("Dkim-Signature")...)
	hay = append(hay, h.Values("Feedback-Id")...)
	hay = append(hay, h.Values("Message-Id")...)
	for _, s := range hay {
		s = strings.ToLower(s)
		for _, host := range hosts {
			if host != "" && strings.Contains(s, strings.ToLower(host)) {
				return true
			}
		}
	}
	return false
}

// DMCA clauses of 17 U.S.C. § 512(c)(3)(A), in the statute's words, shortened.
var DMCAClauses = map[string]string{
	"(i)":   "a physical or electronic signature of a person authorized to act on behalf of the owner",
	"(ii)":  "identification of the copyrighted work claimed to have been infringed",
	"(iii)": "identification of the infringing material and information reasonably sufficient to locate it",
	"(iv)":  "contact information of the complaining party: address, telephone number and email address",
	"(v)":   "a statement of good-faith belief that the use is not authorized by the owner, its agent, or the law",
	"(vi)":  "a statement that the notice is accurate and, under penalty of perjury, that the complaining party is authorized to act for the owner",
}

func (v *Validator) dmca(r *Report, es *Errors) {
	d := r.DMCA
	if d == nil {
		d = &DMCANotice{}
	}
	missing := func(field, clause, detail string) {
		msg := "17 U.S.C. § 512(c)(3)(A)" + clause + ": " + DMCAClauses[clause]
		if detail != "" {
			msg += " (" + detail + ")"
		}
		*es = append(*es, FieldError{Field: field, Code: CodeDMCAElement, Message: msg, Clause: clause})
	}
	if strings.TrimSpace(d.Signature) == "" {
		missing("dmca.signature", "(i)", "type your full name as your electronic signature")
	}
	works := 0
	for _, w := range d.Works {
		if strings.TrimSpace(w) != "" {
			works++
		}
	}
	if works == 0 {
		missing("dmca.works", "(ii)", "")
	}
	if len(d.Infringing) == 0 {
		missing("dmca.infringing", "(iii)", "give at least one URL, or an IP address with the time it was seen")
	}
	l := v.limits()
	if len(d.Infringing) > l.MaxURLs {
		es.add("dmca.infringing", CodeTooMany, "at most %d items (got %d)", l.MaxURLs, len(d.Infringing))
	} else {
		for i := range d.Infringing {
			it := &d.Infringing[i]
			p := fmt.Sprintf("dmca.infringing[%d]", i)
			switch {
			case it.URL != "" && it.IP != "":
				es.add(p, CodeInvalid, "give either url or ip, not both")
			case it.URL != "":
				if s, ok := CheckURL(it.URL); !ok {
					es.add(p+".url", CodeInvalidURL, "%q is not an absolute http:// or https:// URL", clip(it.URL))
				} else {
					it.URL = s
				}
			case it.IP != "":
				if a, ok := ParseIP(it.IP); !ok {
					es.add(p+".ip", CodeInvalidIP, "%q is not an IPv4 or IPv6 address", clip(it.IP))
				} else {
					it.Addr, it.IP = a, a.String()
				}
				port(p+".port", it.Port, es)
				// An address is reassigned over time: without the time it
				// does not locate the material, which is clause (iii).
				if strings.TrimSpace(it.Timestamp) == "" {
					missing(p+".timestamp", "(iii)", "an IP address locates material only with the time it was seen, with its zone")
				} else {
					v.timestamp(p+".timestamp", it.Timestamp, &it.At, true, es)
				}
			default:
				missing(p, "(iii)", "each item needs a url, or an ip with a timestamp")
			}
		}
	}
	c := &d.Contact
	if strings.TrimSpace(c.Name) == "" {
		missing("dmca.contact.name", "(iv)", "name")
	}
	if strings.TrimSpace(c.Address) == "" {
		missing("dmca.contact.address", "(iv)", "postal address")
	}
	if strings.TrimSpace(c.Phone) == "" {
		missing("dmca.contact.phone", "(iv)", "telephone number")
	} else if !phone.MatchString(c.Phone) {
		es.add("dmca.contact.phone", CodeInvalid, "%q is not a telephone number", clip(c.Phone))
	}
	if strings.TrimSpace(c.Email) == "" {
		missing("dmca.contact.email", "(iv)", "email address")
	} else {
		v.emailAddr("dmca.contact.email", &c.Email, es)
	}
	if !d.GoodFaith {
		missing("dmca.good_faith", "(v)", "")
	}
	if !d.AccuracyUnderPenaltyOfPerjury {
		missing("dmca.accuracy_under_penalty_of_perjury", "(vi)", "")
	}
}

var phone = regexp.MustCompile(`^\+?[0-9 ().\-/]{5,32}( ?(x|ext\.?) ?[0-9]{1,6})?$`)

// ValidateLegal checks a legal request from an authority.
func (v *Validator) ValidateLegal(q *LegalRequest) Errors {
	var es Errors
	if strings.TrimSpace(q.Authority.Name) == "" {
		es.add("authority.name", CodeRequired, "the name of the requesting officer is required")
	}
	if strings.TrimSpace(q.Authority.Organization) == "" {
		es.add("authority.organization", CodeRequired, "the requesting authority (agency, court, service) is required")
	}
	v.emailAddr("authority.email", &q.Authority.Email, &es)
	if q.Language == "" {
		q.Language = "en"
	} else if !slices.Contains(Languages, q.Language) {
		es.add("language", CodeInvalidChoice, "legal requests are accepted in English (en) or French (fr), not %q", clip(q.Language))
	}
	if strings.TrimSpace(q.Description) == "" {
		es.add("description", CodeRequired, "describe the information requested and the case")
	}
	v.text("description", q.Description, v.limits().MaxTextBytes, &es)
	if len(q.Identifiers) > 1000 {
		es.add("identifiers", CodeTooMany, "at most 1000 identifiers (got %d)", len(q.Identifiers))
	}
	return es
}

// ValidateBulk checks the common part of a bulk upload, whose incidents come
// from a CSV file: a network or email report carrying no items of its own.
func (v *Validator) ValidateBulk(r *Report) Errors {
	var es Errors
	if r.Type == "" {
		r.Type = TypeNetwork
	}
	if r.Type != TypeNetwork && r.Type != TypeEmail {
		es.add("type", CodeInvalidChoice, "a CSV of IP addresses makes a network or email report, not %q", clip(r.Type))
		return es
	}
	v.common(r, &es)
	if len(r.Incidents) > 0 {
		es.add("incidents", CodeNotApplicable, "the incidents of a bulk upload come from the CSV file")
	}
	if r.EmailMessage != nil {
		es.add("email_message", CodeNotApplicable, "a bulk upload carries no message")
	}
	if len(es) == 0 {
		r.Lane = LaneGeneral
	}
	return es
}
