// Package disclosure decides what a viewer may see of a case: the reporter
// of one of its reports, the customer whose resource it concerns, an
// analyst or an admin. Every page, mail, API answer and export of a case
// goes through View, so the rule is written once (DESIGN.md, "Consent-gated
// disclosure"):
//
//   - a reporter's identity reaches the customer only if that reporter
//     consented (the ledger's latest act for their report);
//   - the customer's identity reaches a reporter only if the customer
//     consented (the ledger's latest act for the case);
//   - a reporter sees their own report of a case, never the others, and
//     never the account or resource ids;
//   - a customer sees a case of its own account, and only once notified;
//   - the desk's notes and messages not (yet) relayed stay with the desk.
//
// Where an identity is withheld, it is also cut out of free text the other
// side wrote (a description signed with an email address, say).
// View returns the identity disclosures it made, for the audit trail.
package disclosure

import (
	"slices"
	"strings"
	"time"
)

// Role is who looks.
type Role string

// Roles.
const (
	Reporter Role = "reporter"
	Customer Role = "customer"
	Analyst  Role = "analyst"
	Admin    Role = "admin"
)

// Viewer is one person or system looking at a case.
type Viewer struct {
	Role     Role
	ReportID int64  // Reporter: the report whose status link they hold
	Account  string // Customer: the account they act for
}

// Staff says whether v works at the desk.
func (v Viewer) Staff() bool { return v.Role == Analyst || v.Role == Admin }

// Party is who someone is.
type Party struct {
	Name, Email, Org string
}

// Empty reports whether nothing of p is known.
func (p Party) Empty() bool { return p.Name == "" && p.Email == "" && p.Org == "" }

// Report is one report of a case.
type Report struct {
	ID          int64
	PublicID    string
	Reporter    Party
	Consent     bool // the reporter agrees to be named to the customer
	Description string
	Status      string
	Outcome     string
}

// Evidence is one item of a report.
type Evidence struct {
	ReportID int64
	Time     time.Time
	Source   string // the address or URL of ours
	Target   string
	Detail   string // log sample, description
}

// Message is one message of the case's conversation.
type Message struct {
	ID        int64
	ReportID  int64  // reporter side: whose report; 0 = every reporter
	Sender    string // reporter, customer, desk
	Recipient string // reporter, customer, desk
	Kind      string
	Body      string
	State     string // pending, held, relayed, kept
	At        time.Time
	// FromIdentity is filled by View: the sender's name and email when the
	// viewer may know them.
	FromIdentity string
}

// Case is everything the desk knows of a case that any viewer might see.
type Case struct {
	ID              int64
	PublicID        string
	Status          string
	Outcome         string
	Category        string
	Account         string
	Resource        string
	Customer        Party // the account's name and contacts
	CustomerConsent bool  // the customer agrees to be named to reporters
	Notified        bool  // the customer has been told of the case
	Deadline        time.Time
	Reports         []Report
	Evidence        []Evidence
	Messages        []Message
	Notes           []string // the desk's own
	Assignee        string
}

// Field is what a viewer may or may not see.
type Field string

// Fields of the policy.
const (
	FieldCase             Field = "case"              // that the case exists, its status and outcome
	FieldReporterIdentity Field = "reporter_identity" // a reporter's name, email, organisation
	FieldCustomerIdentity Field = "customer_identity" // the account's name and contacts
	FieldAccount          Field = "account"           // account and resource ids
	FieldReport           Field = "report"            // a report's text and evidence
	FieldInternal         Field = "internal"          // notes, assignee, unrelayed messages
)

// Fields lists every field, for tests walking the matrix.
var Fields = []Field{FieldCase, FieldReporterIdentity, FieldCustomerIdentity, FieldAccount, FieldReport, FieldInternal}

// Disclosure is an identity shown across sides: each is audited.
type Disclosure struct {
	Field    Field
	ReportID int64 // the reporter whose identity (FieldReporterIdentity)
}

// Withheld replaces an identity cut out of free text.
const Withheld = "[withheld]"

func (c *Case) report(id int64) *Report {
	for i := range c.Reports {
		if c.Reports[i].ID == id {
			return &c.Reports[i]
		}
	}
	return nil
}

// May decides one field of c for v; reportID names the report a
// reporter-identity or report field is about. It is the whole policy.
func May(v Viewer, f Field, c *Case, reportID int64) bool {
	if v.Staff() {
		return true
	}
	if !may(v, c) {
		return false
	}
	switch v.Role {
	case Reporter:
		switch f {
		case FieldCase:
			return true
		case FieldReporterIdentity, FieldReport:
			return reportID == v.ReportID
		case FieldCustomerIdentity:
			return c.CustomerConsent
		}
	case Customer:
		switch f {
		case FieldCase, FieldAccount, FieldReport, FieldCustomerIdentity:
			return true
		case FieldReporterIdentity:
			r := c.report(reportID)
			return r != nil && r.Consent
		}
	}
	return false
}

// may says whether v may see the case at all.
func may(v Viewer, c *Case) bool {
	switch v.Role {
	case Analyst, Admin:
		return true
	case Reporter:
		return v.ReportID != 0 && c.report(v.ReportID) != nil
	case Customer:
		return v.Account != "" && v.Account == c.Account && c.Notified
	}
	return false
}

// View returns what v may see of c, everything else removed, and the
// identity disclosures that makes. ok is false when v may not see the case.
func View(v Viewer, c Case) (out Case, disclosed []Disclosure, ok bool) {
	if !May(v, FieldCase, &c, 0) {
		return Case{}, nil, false
	}
	out = Case{ID: c.ID, PublicID: c.PublicID, Status: c.Status, Outcome: c.Outcome, Category: c.Category,
		CustomerConsent: c.CustomerConsent, Notified: c.Notified, Deadline: c.Deadline}
	if May(v, FieldAccount, &c, 0) {
		out.Account, out.Resource = c.Account, c.Resource
	}
	if May(v, FieldCustomerIdentity, &c, 0) && !c.Customer.Empty() {
		out.Customer = c.Customer
		if v.Role == Reporter || v.Staff() {
			disclosed = append(disclosed, Disclosure{Field: FieldCustomerIdentity})
		}
	}
	if May(v, FieldInternal, &c, 0) {
		out.Notes, out.Assignee = slices.Clone(c.Notes), c.Assignee
	}
	// Identities the viewer may not know, to cut out of free text.
	var hidden []string
	for _, r := range c.Reports {
		if !May(v, FieldReporterIdentity, &c, r.ID) {
			hidden = appendIdentity(hidden, r.Reporter)
		}
	}
	if !May(v, FieldCustomerIdentity, &c, 0) {
		hidden = appendIdentity(hidden, c.Customer)
	}
	for _, r := range c.Reports {
		if !May(v, FieldReport, &c, r.ID) {
			continue
		}
		vr := Report{ID: r.ID, PublicID: r.PublicID, Consent: r.Consent, Status: r.Status, Outcome: r.Outcome,
			Description: redact(r.Description, hidden)}
		if May(v, FieldReporterIdentity, &c, r.ID) {
			vr.Reporter = r.Reporter
			if v.Role == Customer {
				disclosed = append(disclosed, Disclosure{Field: FieldReporterIdentity, ReportID: r.ID})
			}
		}
		out.Reports = append(out.Reports, vr)
	}
	for _, e := range c.Evidence {
		if May(v, FieldReport, &c, e.ReportID) {
			e.Detail, e.Target = redact(e.Detail, hidden), redact(e.Target, hidden)
			out.Evidence = append(out.Evidence, e)
		}
	}
	for _, m := range c.Messages {
		if !mayMessage(v, &c, m) {
			continue
		}
		m.Body = redact(m.Body, hidden)
		m.FromIdentity = ""
		switch m.Sender {
		case "reporter":
			if r := c.report(m.ReportID); r != nil && May(v, FieldReporterIdentity, &c, r.ID) {
				m.FromIdentity = identity(r.Reporter)
			}
		case "customer":
			if May(v, FieldCustomerIdentity, &c, 0) {
				m.FromIdentity = identity(c.Customer)
			}
		}
		out.Messages = append(out.Messages, m)
	}
	return out, disclosed, true
}

// mayMessage: staff see every message; a side sees what it wrote and what
// was relayed to it.
func mayMessage(v Viewer, c *Case, m Message) bool {
	switch v.Role {
	case Analyst, Admin:
		return true
	case Reporter:
		if m.Sender == "reporter" {
			return m.ReportID == v.ReportID
		}
		return m.Recipient == "reporter" && m.State == "relayed" && (m.ReportID == 0 || m.ReportID == v.ReportID)
	case Customer:
		if m.Sender == "customer" {
			return true
		}
		return m.Recipient == "customer" && m.State == "relayed"
	}
	return false
}

func identity(p Party) string {
	var parts []string
	for _, s := range []string{p.Name, p.Org} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	s := strings.Join(parts, ", ")
	if p.Email != "" {
		if s != "" {
			s += " "
		}
		s += "<" + p.Email + ">"
	}
	return s
}

// appendIdentity adds the strings that would name p. Very short names are
// left alone: cutting "Al" out of every word would garble the text and
// hide nothing.
func appendIdentity(out []string, p Party) []string {
	for _, s := range []string{p.Email, p.Name, p.Org} {
		if s = strings.TrimSpace(s); len(s) >= 3 {
			out = append(out, s)
		}
		if at := strings.IndexByte(p.Email, '@'); at > 2 && s == p.Email {
			out = append(out, p.Email[:at]) // the local part alone often names the person
		}
	}
	return out
}

// redact replaces every case-insensitive occurrence of each hidden string
// in s, longest first so an email goes before its local part.
func redact(s string, hidden []string) string {
	if s == "" || len(hidden) == 0 {
		return s
	}
	hs := slices.Clone(hidden)
	slices.SortFunc(hs, func(a, b string) int { return len(b) - len(a) })
	for _, h := range hs {
		s = replaceFold(s, h, Withheld)
	}
	return s
}

func replaceFold(s, old, repl string) string {
	lo, lold := strings.ToLower(s), strings.ToLower(old)
	if len(lo) != len(s) { // case mapping changed byte lengths: fall back to exact matches
		return strings.ReplaceAll(s, old, repl)
	}
	var b strings.Builder
	i := 0
	for {
		j := strings.Index(lo[i:], lold)
		if j < 0 {
			break
		}
		b.WriteString(s[i : i+j])
		b.WriteString(repl)
		i += j + len(old)
	}
	if i == 0 {
		return s
	}
	b.WriteString(s[i:])
	return b.String()
}
