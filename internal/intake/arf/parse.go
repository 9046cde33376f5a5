package arf

import (
	"fmt"
	"strings"
	"time"

	"abusedesk/internal/intake/mailpart"
	"abusedesk/internal/report"
)

// Bounds on what Parse puts in a report.
const (
	// MaxBodyBytes bounds the reported message's body text.
	MaxBodyBytes = 1 << 20
	// MaxDescriptionBytes bounds the description (the contract allows
	// report.DefaultLimits.MaxTextBytes; a summary needs far less).
	MaxDescriptionBytes = 16 << 10
	// maxHumanBytes is how much of the human-readable part goes into the
	// description.
	maxHumanBytes = 8 << 10
	// maxValueBytes bounds one field value quoted in the description.
	maxValueBytes = 256
)

// notComplaints are the feedback types that say the message was wanted,
// not abusive: RFC 6430's not-spam (a user took it out of the spam folder)
// and the draft's miscategorized. They open no case.
var notComplaints = map[string]string{
	"not-spam":       "RFC 6430",
	"miscategorized": "the pre-RFC ARF draft",
}

// Parse reads a mail already read by mailpart. ok is false when the mail is
// not a feedback report (then reps and missing are nil and the next parser
// is tried). When ok, reps are the reports the mail describes — not yet
// validated (the caller runs report.Validator and adds its errors to
// missing) — and missing names what the report lacks for the desk to act,
// with a Field path such as "feedback-report.Source-IP". A recognised mail
// with nothing usable returns ok=true, no reports, and at least one missing
// entry.
//
// Each feedback report becomes one email report of subtype spam_sent, with
// one SMTP incident (the source address at the arrival date) and the
// reported message as EmailMessage. Reporter and Language are left empty:
// ARF names neither (User-Agent is software, not a person).
func Parse(m *mailpart.Part) (reps []*report.Report, missing report.Errors, ok bool) {
	fbs := readAll(m, MaxForwarded)
	if len(fbs) == 0 {
		return nil, nil, false
	}
	for i, fb := range fbs {
		base := "" // paths are relative to the mail, or to the forwarded report
		if len(fbs) > 1 {
			base = fmt.Sprintf("attachment[%d].", i)
		}
		r, miss := fb.toReport(base)
		if r != nil {
			reps = append(reps, r)
		}
		missing = append(missing, miss...)
	}
	if len(reps) == 0 && len(missing) == 0 { // cannot happen; the contract requires a reason
		missing = append(missing, report.FieldError{Field: "feedback-report", Code: report.CodeRequired,
			Message: "the feedback report could not be read"})
	}
	return reps, missing, true
}

// toReport maps one feedback report. It returns no report for a feedback
// type that is not a complaint, and for a report with nothing to act on
// (neither a source address nor the reported message).
func (fb *Feedback) toReport(base string) (*report.Report, report.Errors) {
	prefix := base + "feedback-report"
	var miss report.Errors
	add := func(field, code, msg string) {
		miss = append(miss, report.FieldError{Field: field, Code: code, Message: msg})
	}
	if spec, no := notComplaints[fb.FeedbackType]; no {
		add(prefix+".Feedback-Type", report.CodeNotApplicable, fmt.Sprintf(
			"Feedback-Type %s (%s) says the recipient wanted this message: it is not an abuse complaint, so no report is opened",
			fb.FeedbackType, spec))
		return nil, miss
	}
	headers := ""
	if fb.Original != nil && len(fb.Original.Header) > 0 {
		headers = textOf(fb.Original.RawHeader)
	}
	if !fb.SourceIP.IsValid() {
		add(prefix+".Source-IP", report.CodeNoSourceIP,
			"the report has no Source-IP (RFC 5965 §3.2) and the reported message's Received headers name no public address: add Source-IP with the address the message came from")
	}
	redacted := false
	if headers == "" && fb.SourceIP.IsValid() && !fb.ArrivalDate.IsZero() {
		// Feedback loops may redact the reported message (RFC 6650 §3 and
		// §5.2), and then its machine-readable fields are the evidence the
		// provider vouches for: who sent, from where, when. They are kept
		// as the header block, so the report is acted on, not refused.
		var b strings.Builder
		for _, f := range fb.Fields {
			b.WriteString(f.Name + ": " + f.Value + "\n")
		}
		headers, redacted = textOf(b.String()), true
	}
	if headers == "" {
		add(base+"original-message", report.CodeRequired,
			"the report does not include the reported message (RFC 5965 §2: a message/rfc822 part, or at least its header block as text/rfc822-headers), or it is redacted beyond use: include it")
	}
	if !fb.SourceIP.IsValid() && headers == "" {
		return nil, miss // nothing identifies a sender the desk could act on
	}
	r := &report.Report{
		Type:        report.TypeEmail,
		Subtype:     "spam_sent",
		Description: fb.describe(),
	}
	switch {
	case redacted:
		r.EmailMessage = &report.EmailMessage{Headers: headers}
		r.Description = "The reported message was redacted by the sender of the report; its feedback fields stand as the headers.\n" + r.Description
	case headers != "":
		r.EmailMessage = &report.EmailMessage{Headers: headers, Body: textOf(clip(fb.Original.BodyText(), MaxBodyBytes))}
	}
	if fb.SourceIP.IsValid() {
		in := report.Incident{SourceIP: fb.SourceIP.String(), Protocol: "smtp"}
		if fb.SourcePort > 0 {
			p := fb.SourcePort
			in.SourcePort = &p
		}
		if fb.ArrivalDate.IsZero() {
			add(prefix+".Arrival-Date", report.CodeRequired,
				"the report has no readable Arrival-Date with a zone (RFC 5965 §3.2), and the reported message has no dated Received or Date header: add Arrival-Date, e.g. \"Thu, 8 Mar 2005 14:00:00 -0400\"")
		} else {
			in.Timestamp = fb.ArrivalDate.UTC().Format(time.RFC3339)
		}
		r.Incidents = []report.Incident{in}
	}
	// Without a source there is no incident: the validator then looks for
	// one in the headers itself and names the gap in its own terms.
	return r, miss
}

// describe writes a short factual summary of the report, then its
// human-readable part. Recipients (Original-Rcpt-To, Removal-Recipient)
// are left out: the description may reach the customer, and a complainant's
// address must not (RFC 6650 on redaction; feedback loops redact it).
func (fb *Feedback) describe() string {
	var b strings.Builder
	kind := "an email feedback report"
	if fb.FeedbackType == "auth-failure" {
		kind = "an authentication failure report (RFC 6591)"
	}
	fmt.Fprintf(&b, "ARF (RFC 5965): %s", kind)
	if fb.Forwarded {
		b.WriteString(", forwarded as an attachment")
	}
	b.WriteString(".\n")
	line := func(name, v string) {
		if v = oneLine(v); v != "" {
			fmt.Fprintf(&b, "%s: %s\n", name, v)
		}
	}
	ft := fb.FeedbackType
	if ft == "" {
		ft = "(missing)"
	}
	line("Feedback-Type", ft)
	line("User-Agent", fb.UserAgent)
	line("Version", fb.Version)
	switch fb.SourceIPFrom {
	case FromFeedback:
		line("Source-IP", fb.SourceIP.String())
	case FromReceived:
		line("Source-IP", fb.SourceIP.String()+" (not in the report: taken from the reported message's Received headers)")
	}
	if !fb.ArrivalDate.IsZero() {
		d := fb.ArrivalDate.UTC().Format(time.RFC3339)
		switch fb.ArrivalDateFrom {
		case FromReceived:
			d += " (from the reported message's Received headers)"
		case FromDate:
			d += " (from the reported message's Date header)"
		}
		line("Arrival-Date", d)
	}
	line("Original-Mail-From", fb.OriginalMailFrom)
	line("Reporting-MTA", fb.ReportingMTA)
	line("Reported-Domain", strings.Join(fb.ReportedDomain, ", "))
	line("Reported-URI", strings.Join(fb.ReportedURI, ", "))
	if fb.Incidents > 1 {
		line("Incidents", fmt.Sprint(fb.Incidents))
	}
	line("Auth-Failure", fb.AuthFailure)
	line("Delivery-Result", fb.DeliveryResult)
	line("Identity-Alignment", fb.IdentityAlignment)
	line("DKIM-Domain", fb.DKIMDomain)
	line("DKIM-Identity", fb.DKIMIdentity)
	line("DKIM-Selector", fb.DKIMSelector)
	line("SPF-DNS", fb.SPFDNS)
	for i, ar := range fb.AuthenticationResults {
		if i == 5 {
			break
		}
		line("Authentication-Results", ar)
	}
	if fb.Original != nil {
		line("Subject", fb.Original.Header.Get("Subject"))
	}
	if t := strings.TrimSpace(fb.Text); t != "" {
		b.WriteString("\n")
		b.WriteString(clip(t, maxHumanBytes))
	}
	return textOf(clip(b.String(), MaxDescriptionBytes))
}

// oneLine makes a field value safe to quote on one line: no line breaks,
// bounded.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxValueBytes {
		s = clip(s, maxValueBytes) + "…"
	}
	return s
}

// textOf makes s storable text: valid UTF-8 and no NUL (a database text
// column takes neither). The raw mail, kept by the caller, is the evidence
// as received.
func textOf(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.ReplaceAll(s, "\x00", "\uFFFD")
}
