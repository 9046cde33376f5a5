// Package mailparse decides what a mail sent to abuse@ is and what reports
// it carries. It tries the format parsers in a fixed order, most specific
// first, and fills in what the mail itself says about its sender:
//
//  1. dsn: a delivery status notification (RFC 3464, multipart/report;
//     report-type=delivery-status) — a bounce, never a report;
//  2. arf: a feedback report (RFC 5965, RFC 6591);
//  3. xarfmail: X-ARF 0.1/0.2 (YAML report.txt) and XARF v3/v4 JSON;
//  4. dmcamail: ACNS 1.2 XML and free-text copyright notices;
//  5. feedmail: CSV attachments of scan and botnet feeds, plain or zipped;
//  6. plaintext: whatever a person wrote.
//
// Parse stores nothing: `abusedesk mail parse FILE.eml` prints its Result,
// and internal/mailbox acts on it.
package mailparse

import (
	"fmt"
	"net/mail"
	"strings"

	"abusedesk/internal/intake/arf"
	"abusedesk/internal/intake/dmcamail"
	"abusedesk/internal/intake/feedmail"
	"abusedesk/internal/intake/mailpart"
	"abusedesk/internal/intake/plaintext"
	"abusedesk/internal/intake/xarfmail"
	"abusedesk/internal/report"
)

// Parser names, as the metrics and the console show them.
const (
	ParserDSN       = "dsn"
	ParserARF       = "arf"
	ParserXARF      = "xarf"
	ParserDMCA      = "dmca"
	ParserFeed      = "feed"
	ParserPlainText = "plaintext"
	ParserLegal     = "legal"
)

// Parsers in the order they are tried.
var Parsers = []string{ParserDSN, ParserARF, ParserXARF, ParserDMCA, ParserFeed, ParserPlainText}

type parseFunc func(*mailpart.Part) ([]*report.Report, report.Errors, bool)

var parsers = []struct {
	name    string
	fn      parseFunc
	machine bool // the format is written by software: never answered
}{
	{ParserARF, arf.Parse, true},
	{ParserXARF, xarfmail.Parse, true},
	{ParserDMCA, dmcamail.Parse, false},
	{ParserFeed, feedmail.Parse, true},
	{ParserPlainText, plaintext.Parse, false},
}

// Result is what a mail is.
type Result struct {
	Parser string `json:"parser"`
	// Reports are the reports the mail carries, validated: each one here
	// is ready to store. Reports that failed validation are not listed;
	// their problems are in Missing.
	Reports []*report.Report `json:"reports"`
	// Missing names what the sender must add, with field paths.
	Missing report.Errors `json:"missing"`
	// Rejected counts reports the parser found that failed validation.
	Rejected int `json:"rejected,omitempty"`
	// Machine: the sender is software (RFC 3834 Auto-Submitted, a bulk or
	// list Precedence, a null sender, or a machine format): it gets no
	// answer, which also keeps two robots from answering each other.
	Machine       bool   `json:"machine"`
	MachineReason string `json:"machine_reason,omitempty"`
	Language      string `json:"language"`

	// What the header says, for the mailbox.
	From      string   `json:"from,omitempty"` // address
	FromName  string   `json:"-"`
	Subject   string   `json:"subject,omitempty"`
	MessageID string   `json:"message_id,omitempty"`
	InReplyTo []string `json:"-"` // In-Reply-To and References ids, nearest first
	// Legal is a request from an authority for customer data: not an abuse
	// report, it goes to the legal queue (DESIGN.md: routed, not dropped).
	Legal *report.LegalRequest `json:"legal_request,omitempty"`
	// Bounced is, for a DSN, the Message-ID of the desk's mail that bounced,
	// and BounceStatus what the reporting MTA said of each recipient.
	Bounced      string `json:"bounced,omitempty"`
	BounceStatus string `json:"bounce_status,omitempty"`

	Part *mailpart.Part `json:"-"`
}

// Options tune Parse.
type Options struct {
	// Validator checks the reports; nil: &report.Validator{}.
	Validator *report.Validator
	// NullSender: the envelope's reverse-path was <> (RFC 5321 §4.5.5):
	// a bounce or another automatic message.
	NullSender bool
}

// Parse reads raw and returns what it is. It never fails: a mail nobody
// understands is a plaintext result with no report and a missing entry.
func Parse(raw []byte, opt Options) *Result {
	return ParsePart(mailpart.Parse(raw), opt)
}

// ParsePart is Parse on a mail already read.
func ParsePart(p *mailpart.Part, opt Options) *Result {
	v := opt.Validator
	if v == nil {
		v = &report.Validator{}
	}
	res := &Result{Part: p, Subject: clip(p.Header.Get("Subject"), 300), MessageID: strings.TrimSpace(p.Header.Get("Message-ID"))}
	if a, err := mail.ParseAddress(p.Header.Get("From")); err == nil {
		res.From, res.FromName = strings.ToLower(a.Address), a.Name
	} else if f := strings.TrimSpace(p.Header.Get("From")); strings.Contains(f, "@") && !strings.ContainsAny(f, " <>\"") {
		res.From = strings.ToLower(f)
	}
	res.InReplyTo = messageIDs(p.Header.Get("In-Reply-To"), p.Header.Get("References"))
	res.Machine, res.MachineReason = machineHeaders(p, opt.NullSender, res.From)

	if dsn, orig, status := deliveryStatus(p); dsn {
		res.Parser, res.Bounced, res.BounceStatus = ParserDSN, orig, status
		res.Machine, res.MachineReason = true, "delivery status notification (RFC 3464)"
		res.Language = "en"
		return res
	}
	var reps []*report.Report
	for _, ps := range parsers {
		r, missing, ok := safeParse(ps.fn, p)
		if !ok {
			continue
		}
		res.Parser, reps, res.Missing = ps.name, r, missing
		if ps.machine && !res.Machine {
			res.Machine, res.MachineReason = true, "machine format ("+ps.name+")"
		}
		break
	}
	if res.Parser == "" {
		// Not even the fallback took it: a mail without any text.
		res.Parser = ParserPlainText
		res.Missing = report.Errors{{Field: "body", Code: report.CodeRequired,
			Message: "the mail has no text: write what happened (the source IP address, the time with its zone, the logs) or attach the evidence"}}
	}
	res.Language = language(p, reps)
	if res.Parser == ParserPlainText && !res.Machine && res.From != "" {
		if q := legalRequest(p, res); q != nil {
			res.Parser, res.Legal, res.Missing = ParserLegal, q, report.Errors{}
			res.Reports = []*report.Report{}
			return res
		}
	}
	// The parser's own notes win over the validator's on the same field:
	// they quote the mail's line.
	said := map[string]bool{}
	for _, e := range res.Missing {
		said[e.Field+"\x00"+e.Code] = true
	}
	for i, r := range reps {
		fill(r, res)
		es := v.Validate(r)
		if len(es) == 0 {
			res.Reports = append(res.Reports, r)
			continue
		}
		res.Rejected++
		for _, e := range es {
			if said[e.Field+"\x00"+e.Code] {
				continue
			}
			if len(reps) > 1 {
				e.Field = fmt.Sprintf("reports[%d].%s", i, e.Field)
			}
			res.Missing = append(res.Missing, e)
		}
	}
	if res.Reports == nil {
		res.Reports = []*report.Report{}
	}
	if res.Missing == nil {
		res.Missing = report.Errors{}
	}
	return res
}

// safeParse turns a parser's panic into "not understood": one bad parser
// must not stop the mailbox, and the mail then waits in review.
func safeParse(fn parseFunc, p *mailpart.Part) (reps []*report.Report, missing report.Errors, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			reps, ok = nil, true
			missing = report.Errors{{Field: "", Code: report.CodeInvalid, Message: fmt.Sprintf("the parser failed on this mail: %v", r)}}
		}
	}()
	return fn(p)
}

// fill gives a report what the mail says when its format did not: the
// reporter is the From address (the mail's sender answers for it), the
// language the mail's.
func fill(r *report.Report, res *Result) {
	if r.Reporter.Email == "" && !r.Anonymous {
		r.Reporter.Email = res.From
	}
	if r.Reporter.Name == "" && !r.Anonymous {
		r.Reporter.Name = res.FromName
		if r.Reporter.Name == "" {
			r.Reporter.Name = r.Reporter.Email
		}
	}
	if r.Language == "" {
		r.Language = res.Language
	}
}

// language is the mail's: a report that says it wins, else the words of
// the subject and body.
func language(p *mailpart.Part, reps []*report.Report) string {
	for _, r := range reps {
		if r.Language != "" {
			return r.Language
		}
	}
	return plaintext.Language(p.Header.Get("Subject") + "\n" + clip(p.BodyText(), 20000))
}

// machineHeaders reads the signs that software sent the mail: RFC 3834 §5
// (Auto-Submitted other than "no"), Precedence bulk/junk/list (RFC 2076,
// still how many robots mark themselves), list headers (RFC 2369, 2919),
// Microsoft's X-Auto-Response-Suppress, and a null reverse-path.
func machineHeaders(p *mailpart.Part, nullSender bool, from string) (bool, string) {
	h := p.Header
	if as := strings.ToLower(strings.TrimSpace(h.Get("Auto-Submitted"))); as != "" && as != "no" {
		return true, "Auto-Submitted: " + as
	}
	switch pr := strings.ToLower(strings.TrimSpace(h.Get("Precedence"))); pr {
	case "bulk", "junk", "list", "auto_reply":
		return true, "Precedence: " + pr
	}
	if h.Has("List-Id") || h.Has("List-Unsubscribe") {
		return true, "mailing-list headers"
	}
	if x := strings.ToLower(h.Get("X-Auto-Response-Suppress")); strings.Contains(x, "all") || strings.Contains(x, "autoreply") || strings.Contains(x, "oof") {
		return true, "X-Auto-Response-Suppress: " + x
	}
	if nullSender {
		return true, "null sender <>"
	}
	local, _, _ := strings.Cut(from, "@")
	switch local {
	case "mailer-daemon", "postmaster", "noreply", "no-reply", "donotreply", "do-not-reply":
		return true, "From: " + local
	}
	return false, ""
}

// deliveryStatus spots a DSN (RFC 3464 §2: multipart/report with
// report-type=delivery-status) and returns the Message-ID of the message it
// is about, from the returned message or its headers (RFC 3462 §2, third
// part).
func deliveryStatus(p *mailpart.Part) (dsn bool, messageID, status string) {
	var rep *mailpart.Part
	p.Walk(func(q *mailpart.Part) bool {
		if rep == nil && q.MediaType == "multipart/report" && strings.EqualFold(q.Params["report-type"], "delivery-status") {
			rep = q
		}
		return rep == nil && q.Message == nil
	})
	if rep == nil {
		return false, "", ""
	}
	for _, c := range rep.Parts {
		switch {
		case c.Message != nil && messageID == "":
			messageID = strings.TrimSpace(c.Message.Header.Get("Message-ID"))
		case c.MediaType == "message/delivery-status" && status == "":
			status = recipientStatus(c.Text())
		}
	}
	return true, messageID, status
}

// recipientStatus summarises the per-recipient fields of a delivery-status
// body (RFC 3464 §2.3): action, status code, recipient and diagnostic, one
// recipient a line, at most ten.
func recipientStatus(body string) string {
	var out []string
	blocks := strings.Split(strings.ReplaceAll(body, "\r\n", "\n"), "\n\n")
	for i, b := range blocks {
		if i == 0 || len(out) == 10 { // the first block is about the message (§2.2)
			continue
		}
		h := mailpart.ParseHeaderOnly([]byte(b)).Header
		rcpt := h.Get("Final-Recipient")
		if rcpt == "" {
			continue
		}
		if _, addr, ok := strings.Cut(rcpt, ";"); ok {
			rcpt = strings.TrimSpace(addr)
		}
		line := strings.TrimSpace(h.Get("Action") + " " + h.Get("Status") + " " + rcpt)
		if d := h.Get("Diagnostic-Code"); d != "" {
			line += " (" + clip(d, 300) + ")"
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

// messageIDs lists the msg-ids of In-Reply-To then References, the nearest
// ancestor first (RFC 5322 §3.6.4: References ends with the parent).
func messageIDs(inReplyTo, references string) []string {
	var out []string
	seen := map[string]bool{}
	ids := messageIDsIn(inReplyTo)
	refs := messageIDsIn(references)
	for i := len(refs) - 1; i >= 0; i-- {
		ids = append(ids, refs[i])
	}
	for _, id := range ids {
		if !seen[id] && len(out) < 50 {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func messageIDsIn(s string) []string {
	var out []string
	for {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			return out
		}
		j := strings.IndexByte(s[i:], '>')
		if j < 0 {
			return out
		}
		out = append(out, s[i:i+j+1])
		s = s[i+j+1:]
	}
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
