// Package dmcamail reads copyright notices that arrive at the abuse mailbox
// and turns each into a report of type dmca: a notice of claimed
// infringement under 17 U.S.C. § 512(c)(3)(A), whose six elements (the
// clauses (i) to (vi) of report.DMCAClauses) the desk checks.
//
// Two forms are read:
//
//   - ACNS, the Automated Copyright Notice System (ACNS 2.0 specification,
//     revision 1.2, acns.net; earlier 0.7–1.1 documents read the same): an
//     <Infringement> XML document, inline in the text between marker lines
//     ("----Begin ACNS XML-----"), often inside a PGP clear-signed text
//     (RFC 4880 §7), or attached as an .xml part. The XML names the works,
//     the infringing copy (a URL, or an address, port and time) and the
//     complainant; the signature and the two statements of clauses (v) and
//     (vi) are in the mail's text, and are read there.
//   - Free text in English or French: a letter that speaks of the DMCA,
//     § 512(c), copyright infringement, droit d'auteur, contrefaçon or the
//     LCEN (loi n° 2004-575, art. 6-I-5, the French notice procedure), from
//     which each element is read where it is written (see Read).
//
// Nothing is followed or fetched: URLs are kept as text. Every size and
// count is bounded, since the input is hostile.
package dmcamail

import (
	"fmt"
	"strings"

	"abusedesk/internal/intake/mailpart"
	"abusedesk/internal/report"
)

// MaxNotices bounds the ACNS documents read from one mail (a sender may
// attach one per infringement).
const MaxNotices = 50

// maxDescription bounds a report's summary.
const maxDescription = 2000

// Parse reads a mail already read by mailpart. ok is false when the mail is
// not a copyright notice (neither ACNS nor text that speaks of one). When
// ok, reps are the notices the mail holds (one per ACNS document, or one for
// a free-text notice), not yet validated: the validator names each missing
// § 512(c)(3)(A) element by its clause. missing names what could not be read
// at the format level (an unreadable ACNS document, a bad port). A notice
// with none of the six elements gives no report and one missing entry per
// clause.
func Parse(m *mailpart.Part) (reps []*report.Report, missing report.Errors, ok bool) {
	if m == nil {
		return nil, nil, false
	}
	subject := clip(strings.TrimSpace(m.Header.Get("Subject")), 300)
	lines := prepare(m.BodyText())

	// ACNS documents: inline ones are cut out of the text, so that the
	// free-text reader sees only the letter around them.
	type doc struct {
		a     *ACNS
		where string
	}
	var docs []doc
	seen := map[string]bool{}
	keep := func(a *ACNS, where string) {
		key := a.CaseID + "|" + a.Source.IPAddress + "|" + a.Source.TimeStamp
		if a.CaseID != "" && seen[key] {
			return
		}
		seen[key] = true
		docs = append(docs, doc{a, where})
	}
	acnsSeen := false
	for n, in := range findInline(lines, MaxNotices) {
		acnsSeen = true
		for i := in.first; i <= in.last; i++ {
			lines[i] = ""
		}
		where := "acns"
		if n > 0 {
			where = fmt.Sprintf("acns[%d]", n)
		}
		a, err := ReadACNS([]byte(in.xml))
		if err != nil {
			missing = append(missing, xmlError(where, in.first+1, err))
			continue
		}
		keep(a, where)
	}
	for _, p := range m.Leaves() {
		if len(docs) >= MaxNotices {
			break
		}
		if !xmlPart(p) {
			continue
		}
		acnsSeen = true
		where := fmt.Sprintf("attachment[%s]", clip(p.Filename, 100))
		a, err := ReadACNS(p.Body)
		if err != nil {
			missing = append(missing, xmlError(where, 0, err))
			continue
		}
		keep(a, where)
	}

	// Most mail speaks of no copyright at all: without a keyword the full
	// reading (every element's patterns on every line) would find nothing
	// recognised, so it is skipped. The mailbox tries this parser on every
	// mail that is neither ARF nor X-ARF.
	if !acnsSeen && !keywords.MatchString(subject) && !keywords.MatchString(strings.Join(lines, "\n")) {
		return nil, nil, false
	}
	rd := readLines(subject, lines)
	if !acnsSeen && !recognised(subject, &rd) {
		return nil, nil, false
	}
	lang := ""
	if rd.French {
		lang = "fr"
	}
	for _, d := range docs {
		r, errs := fromACNS(d.a, d.where, &rd, subject)
		r.Language = lang
		reps = append(reps, r)
		missing = append(missing, errs...)
	}
	if len(docs) > 0 {
		return reps, missing, true
	}
	if !usable(&rd) {
		return nil, append(missing, nothingFound()...), true
	}
	n := rd.Notice
	r := &report.Report{
		Type:        report.TypeDMCA,
		Subtype:     "copyright",
		Language:    lang,
		DMCA:        &n,
		Description: describe("Copyright notice", subject, &n, ""),
	}
	return []*report.Report{r}, missing, true
}

// recognised is stricter than a keyword: a mail that merely mentions the
// DMCA (a customer asking about a notice) is not a notice unless the
// keyword is in the subject or the text also carries an element of one.
func recognised(subject string, rd *Reading) bool {
	return keywords.MatchString(subject) || rd.Recognised && len(rd.Found) > 0
}

// usable: at least one element was read.
func usable(rd *Reading) bool {
	return len(rd.Found) > 0
}

// xmlPart: an attached XML document that may be an ACNS notice.
func xmlPart(p *mailpart.Part) bool {
	xmlType := p.MediaType == "application/xml" || p.MediaType == "text/xml" ||
		strings.HasSuffix(strings.ToLower(p.Filename), ".xml")
	if !xmlType || p.Message != nil {
		return false
	}
	b := p.Body
	if len(b) > MaxXMLBytes {
		b = b[:MaxXMLBytes] // the reader refuses it, by name
	}
	return acnsStart.Match(b)
}

func xmlError(where string, line int, err error) report.FieldError {
	if line > 0 {
		where = fmt.Sprintf("%s line %d", where, line)
	}
	return report.FieldError{
		Field:   where,
		Code:    report.CodeInvalid,
		Message: "the ACNS notice could not be read: " + err.Error() + "; send the <Infringement> document as well-formed XML (ACNS 2.0, revision 1.2)",
	}
}

// fromACNS maps one ACNS document to a report, with the signature and the
// statements taken from the mail's text, and the text's works, locations
// and contact details filling what the XML lacks.
func fromACNS(a *ACNS, where string, rd *Reading, subject string) (*report.Report, report.Errors) {
	var errs report.Errors
	n := &report.DMCANotice{
		Signature:                     rd.Notice.Signature,
		GoodFaith:                     rd.Notice.GoodFaith,
		AccuracyUnderPenaltyOfPerjury: rd.Notice.AccuracyUnderPenaltyOfPerjury,
	}
	// (ii) the works: each item's title, with the file name of its first
	// copy (the name tells which edition or episode); one work per title.
	seen := map[string]bool{}
	for _, it := range a.Items {
		key, w := it.Title, it.Title
		switch {
		case w != "" && it.FileName != "" && it.FileName != w:
			w += " (file " + it.FileName + ")"
		case w == "":
			key, w = it.FileName, it.FileName
		}
		if w != "" && !seen[key] && len(n.Works) < MaxWorks {
			seen[key] = true
			n.Works = append(n.Works, w)
		}
	}
	if len(n.Works) == 0 {
		n.Works = rd.Notice.Works
	}
	// (iii) the infringing copies: item URLs (relative ones resolved on
	// the Source's URL_Base), and the source address with its time (the
	// Source's, else the first item's), which for a peer-to-peer notice
	// is the only locator.
	urls := map[string]bool{}
	for _, it := range a.Items {
		u := it.URL
		if u != "" && !strings.Contains(u, "://") && a.Source.URLBase != "" {
			u = strings.TrimRight(a.Source.URLBase, "/") + "/" + strings.TrimLeft(u, "/")
		}
		if u != "" && !urls[u] && len(n.Infringing) < MaxInfringing {
			urls[u] = true
			n.Infringing = append(n.Infringing, report.InfringingItem{URL: u})
		}
	}
	if len(n.Infringing) == 0 && a.Source.URLBase != "" && strings.Contains(a.Source.URLBase, "://") {
		n.Infringing = append(n.Infringing, report.InfringingItem{URL: a.Source.URLBase})
	}
	if ip := a.Source.IPAddress; ip != "" {
		ts := a.Source.TimeStamp
		for _, it := range a.Items {
			if ts != "" {
				break
			}
			ts = it.TimeStamp
		}
		// With URLs already locating the copies, an address without a time
		// adds nothing the sender must be asked for.
		if (ts != "" || len(n.Infringing) == 0) && len(n.Infringing) < MaxInfringing {
			it := report.InfringingItem{IP: ip, Timestamp: ts}
			if p := strings.TrimSpace(a.Source.Port); p != "" {
				if it.Port = atoiPort(p); it.Port == nil {
					errs = append(errs, report.FieldError{Field: where + ".Source.Port", Code: report.CodeInvalidPort,
						Message: fmt.Sprintf("%q is not a port number (0 to 65535)", clip(p, 40))})
				}
			}
			n.Infringing = append(n.Infringing, it)
		}
	}
	if len(n.Infringing) == 0 {
		n.Infringing = rd.Notice.Infringing
	}
	// (iv) the complaining party: the Complainant, its Contact as the name
	// (the person or desk that answers), else its Entity.
	c := a.Complainant
	n.Contact = report.DMCAContact{Name: c.Contact, Address: c.Address, Phone: c.Phone, Email: c.Email}
	if n.Contact.Name == "" {
		n.Contact.Name = c.Entity
	}
	tc := rd.Notice.Contact
	for _, f := range []struct {
		dst *string
		src string
	}{
		{&n.Contact.Name, tc.Name}, {&n.Contact.Address, tc.Address}, {&n.Contact.Phone, tc.Phone}, {&n.Contact.Email, tc.Email},
	} {
		if *f.dst == "" {
			*f.dst = f.src
		}
	}
	extra := acnsSummary(a)
	r := &report.Report{
		Type:        report.TypeDMCA,
		Subtype:     "copyright",
		DMCA:        n,
		Description: describe("ACNS copyright notice", subject, n, extra),
	}
	return r, errs
}

func acnsSummary(a *ACNS) string {
	var parts []string
	if a.CaseID != "" {
		parts = append(parts, "case "+a.CaseID)
	}
	if a.Complainant.Entity != "" {
		parts = append(parts, "for "+a.Complainant.Entity)
	}
	if t := strings.TrimSpace(a.Source.Type + " " + a.Source.Protocol); t != "" {
		parts = append(parts, "via "+t)
	}
	if a.Source.NumberFiles != "" {
		parts = append(parts, a.Source.NumberFiles+" file(s)")
	}
	if a.Source.DejaVu != "" {
		parts = append(parts, "seen before: "+a.Source.DejaVu)
	}
	return strings.Join(parts, ", ")
}

// describe is the bounded summary an analyst reads first.
func describe(kind, subject string, n *report.DMCANotice, extra string) string {
	var b strings.Builder
	b.WriteString(kind)
	if extra != "" {
		b.WriteString(" (" + extra + ")")
	}
	if subject != "" {
		fmt.Fprintf(&b, ", subject %q", subject)
	}
	b.WriteString(". ")
	if len(n.Works) > 0 {
		fmt.Fprintf(&b, "Works: %s", clip(n.Works[0], 200))
		if len(n.Works) > 1 {
			fmt.Fprintf(&b, " and %d more", len(n.Works)-1)
		}
		b.WriteString(". ")
	}
	if len(n.Infringing) > 0 {
		it := n.Infringing[0]
		loc := it.URL
		if loc == "" {
			loc = it.IP
			if it.Port != nil {
				loc = fmt.Sprintf("%s port %d", loc, *it.Port)
			}
			if it.Timestamp != "" {
				loc += " at " + it.Timestamp
			}
		}
		fmt.Fprintf(&b, "Infringing: %s", clip(loc, 300))
		if len(n.Infringing) > 1 {
			fmt.Fprintf(&b, " and %d more", len(n.Infringing)-1)
		}
		b.WriteString(". ")
	}
	if n.Signature != "" {
		fmt.Fprintf(&b, "Signed: %s.", clip(n.Signature, 200))
	}
	return clip(strings.TrimSpace(b.String()), maxDescription)
}

// nothingFound names every element, by clause, for a mail recognised as a
// notice in which none could be read.
func nothingFound() report.Errors {
	fields := []struct{ field, clause string }{
		{"dmca.signature", "(i)"}, {"dmca.works", "(ii)"}, {"dmca.infringing", "(iii)"},
		{"dmca.contact", "(iv)"}, {"dmca.good_faith", "(v)"}, {"dmca.accuracy_under_penalty_of_perjury", "(vi)"},
	}
	es := make(report.Errors, 0, len(fields))
	for _, f := range fields {
		es = append(es, report.FieldError{
			Field:   f.field,
			Code:    report.CodeDMCAElement,
			Clause:  f.clause,
			Message: "this reads as a copyright notice, but no element of it was found: 17 U.S.C. § 512(c)(3)(A)" + f.clause + ": " + report.DMCAClauses[f.clause],
		})
	}
	return es
}
