// Package report holds the domain of an abuse report: its types, the items
// it carries, the rules that make it complete, and the outcome vocabulary a
// reporter sees. It knows nothing of HTTP, SQL or mail.
package report

import (
	"net/netip"
	"time"
)

// Type is one of the four abuse types of DESIGN.md.
type Type = string

const (
	TypeContent = "content"
	TypeEmail   = "email"
	TypeNetwork = "network"
	TypeDMCA    = "dmca"
)

// Subtypes lists, per type, the subtypes the public contract accepts.
var Subtypes = map[string][]string{
	TypeNetwork: {"intrusion", "ddos", "port_scan", "other"},
	TypeContent: {"web_content", "non_copyright_ip", "phishing", "malware"},
	TypeEmail:   {"spam_sent", "spam_hosted"},
	TypeDMCA:    {"copyright"},
}

// Types in the order forms and docs present them.
var Types = []string{TypeNetwork, TypeContent, TypeEmail, TypeDMCA}

// ReporterKinds accepted in reporter.kind.
var ReporterKinds = []string{"individual", "organization", "isp", "cert", "government"}

// Languages a reporter may choose for later mail.
var Languages = []string{"en", "fr"}

// Outcome codes a reporter sees; the same vocabulary as the big providers' APIs.
const (
	OutcomeActioned         = "ACTIONED"
	OutcomeNotResolvable    = "NOT_RESOLVABLE_TO_PROVIDER"
	OutcomeReviewedNoAction = "REVIEWED_NO_ACTION"
	OutcomeContentDown      = "CONTENT_DOWN_OR_INACCESSIBLE"
	OutcomeNeedMoreInfo     = "NEED_MORE_INFORMATION"
	StatusReceived          = "received"
	LaneGeneral             = "general"
	LaneEmailAbuse          = "email-abuse"
	LaneCopyright           = "copyright"
	LaneLegal               = "legal"
)

// Limits bound what one report may carry. Zero values mean the defaults.
type Limits struct {
	MaxIncidents   int // per report (JSON); the CSV bulk path has its own row limit
	MaxLogBytes    int // per log sample
	MaxURLs        int
	MaxTextBytes   int // description and other free text
	MaxHeaderBytes int // email header block
}

// DefaultLimits are the defaults.
var DefaultLimits = Limits{
	MaxIncidents:   10000,
	MaxLogBytes:    64 << 10,
	MaxURLs:        10000,
	MaxTextBytes:   100 << 10,
	MaxHeaderBytes: 1 << 20,
}

// Reporter identifies who sent the report. The identity reaches the customer
// only with ShareContactWithCustomer (see DESIGN.md, consent-gated disclosure).
type Reporter struct {
	Name         string `json:"name"`
	Email        string `json:"email"`
	Organization string `json:"organization,omitempty"`
	Kind         string `json:"kind,omitempty"`
}

// Report is the public JSON contract of POST /api/v1/reports. Every channel
// (form, XARF, CSV, mail) produces one of these and goes through Validate.
type Report struct {
	Type                     string        `json:"type"`
	Subtype                  string        `json:"subtype"`
	Reporter                 Reporter      `json:"reporter"`
	ShareContactWithCustomer bool          `json:"share_contact_with_customer"`
	Language                 string        `json:"language,omitempty"`
	Description              string        `json:"description,omitempty"`
	Incidents                []Incident    `json:"incidents,omitempty"`
	URLs                     []URLItem     `json:"urls,omitempty"`
	EmailMessage             *EmailMessage `json:"email_message,omitempty"`
	DMCA                     *DMCANotice   `json:"dmca,omitempty"`

	// Anonymous is set by channels whose format lets a natural person stay
	// unreachable (X-ARF's Person reporter without contact data): the report
	// is taken without a reporter address, gets no mail, and is followed
	// only through its status link. The JSON API and the form never set it.
	Anonymous bool `json:"-"`

	// TargetOptional is set by machine feeds whose format names no target
	// (a scan or botnet feed reports the offending address and what it did,
	// not whom): network incidents then need no target. The JSON API and
	// the form never set it.
	TargetOptional bool `json:"-"`

	// Lane is set by Validate: where the report is headed before attribution
	// refines it (email-abuse for spam through the sending service, copyright
	// for DMCA).
	Lane string `json:"-"`
	// Outcome is set at intake when attribution already decides it: every
	// item outside the provider's address space is NOT_RESOLVABLE_TO_PROVIDER.
	Outcome string `json:"-"`
	// NotOurs counts the items outside the provider's address space.
	NotOurs int `json:"-"`
	// ViaSendingService is set by Validate: the reported message passed
	// through the provider's email-sending service hosts (for routing).
	ViaSendingService bool `json:"-"`
	// Rule names the routing rule that chose Lane, for the analyst.
	Rule string `json:"-"`
}

// Incident is one observed event: network and email reports carry them.
type Incident struct {
	SourceIP   string `json:"source_ip"`
	SourcePort *int   `json:"source_port,omitempty"`
	Target     string `json:"target,omitempty"`
	TargetPort *int   `json:"target_port,omitempty"`
	Protocol   string `json:"protocol,omitempty"`
	Timestamp  string `json:"timestamp"`
	Log        string `json:"log,omitempty"`

	// Filled by validation: the canonical address and the instant in UTC.
	Source netip.Addr `json:"-"`
	At     time.Time  `json:"-"`
	Attribution
}

// Attribution is an item's verdict, filled at intake when the desk knows
// its address space: not_ours, unassigned or assigned (with the resource
// and account as of the item's time). Empty when nothing was attributed.
type Attribution struct {
	Verdict  string `json:"-"`
	Resource string `json:"-"`
	Account  string `json:"-"`
	// Service and Region of the resource (assigned) or of the range
	// (unassigned), for routing.
	Service string `json:"-"`
	Region  string `json:"-"`
}

// URLItem is one location of objectionable content.
type URLItem struct {
	URL            string `json:"url"`
	Description    string `json:"description,omitempty"`
	VideoTimestamp string `json:"video_timestamp,omitempty"`
	Attribution
}

// EmailMessage is the reported message: the full header block, and the body
// when the reporter has it.
type EmailMessage struct {
	Headers string `json:"headers"`
	Body    string `json:"body,omitempty"`
}

// DMCANotice carries the elements of 17 U.S.C. § 512(c)(3)(A).
type DMCANotice struct {
	Signature                     string           `json:"signature"`
	Works                         []string         `json:"works"`
	Infringing                    []InfringingItem `json:"infringing"`
	Contact                       DMCAContact      `json:"contact"`
	GoodFaith                     bool             `json:"good_faith"`
	AccuracyUnderPenaltyOfPerjury bool             `json:"accuracy_under_penalty_of_perjury"`
}

// InfringingItem locates infringing material: a URL, or an IP (with the time
// it was seen, since addresses are reassigned).
type InfringingItem struct {
	URL       string `json:"url,omitempty"`
	IP        string `json:"ip,omitempty"`
	Port      *int   `json:"port,omitempty"`
	Timestamp string `json:"timestamp,omitempty"`

	Addr netip.Addr `json:"-"`
	At   time.Time  `json:"-"`
	Attribution
}

// DMCAContact is the complaining party's contact information, clause (iv).
type DMCAContact struct {
	Name    string `json:"name"`
	Address string `json:"address"`
	Phone   string `json:"phone"`
	Email   string `json:"email"`
}

// LegalRequest is a request from an authority for customer information. It is
// not an abuse report and goes to the legal queue.
type LegalRequest struct {
	Authority   Authority `json:"authority"`
	Language    string    `json:"language,omitempty"`
	Reference   string    `json:"reference,omitempty"`
	LegalBasis  string    `json:"legal_basis,omitempty"`
	Description string    `json:"description"`
	Identifiers []string  `json:"identifiers,omitempty"`
}

// Authority is who sends a legal request.
type Authority struct {
	Name         string `json:"name"`
	Email        string `json:"email"`
	Organization string `json:"organization"`
	Country      string `json:"country,omitempty"`
	Phone        string `json:"phone,omitempty"`
}
