package mailparse

import (
	"regexp"
	"strings"

	"abusedesk/internal/intake/mailpart"
	"abusedesk/internal/report"
)

// A request from an authority names a legal instrument and asks who a
// customer is. Both are required: a complaint that a phishing page "steals
// customer data" is not a legal request, nor is a mail that merely
// mentions a court. (RE2's \b is ASCII: no \b after a word that may end
// in an accented letter.)
var (
	legalInstrument = regexp.MustCompile(`(?i)\b(subpoena|court order|search warrant|warrant|production order|preservation (order|request)|mlat|r[ée]quisitions? (judiciaire|de la police|du procureur)|ordonnance (du tribunal|du juge)|commission rogatoire)\b`)
	legalIdentity   = regexp.MustCompile(`(?i)\b(subscriber|customer|account holder|client|abonn[ée]|titulaire).{0,60}\b(information|identity|identit[ée]|details|data|donn[ée]es|coordonn[ée]es|name|nom)|\b(identify|identification|identifier|identit[ée]).{0,60}\b(subscriber|customer|user|client|abonn[ée]|utilisateur)`)
	ipv4Word        = regexp.MustCompile(`\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b`)
)

// legalRequest reads a person's mail as a request from an authority when
// it is one: the officer from From, the authority from the address's
// domain, the request as the text, and the addresses it names.
func legalRequest(p *mailpart.Part, res *Result) *report.LegalRequest {
	text := res.Subject + "\n" + clip(p.BodyText(), 100<<10)
	if !legalInstrument.MatchString(text) || !legalIdentity.MatchString(text) {
		return nil
	}
	name := res.FromName
	if name == "" {
		name = res.From
	}
	org := res.From[strings.LastIndexByte(res.From, '@')+1:]
	q := &report.LegalRequest{
		Authority:   report.Authority{Name: name, Email: res.From, Organization: org},
		Language:    res.Language,
		Reference:   clip(res.Subject, 200),
		Description: strings.TrimSpace(clip(p.BodyText(), 64<<10)),
	}
	seen := map[string]bool{}
	for _, ip := range ipv4Word.FindAllString(text, 1000) {
		if !seen[ip] {
			seen[ip] = true
			q.Identifiers = append(q.Identifiers, ip)
		}
	}
	return q
}
