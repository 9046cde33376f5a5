package dmcamail

import (
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"abusedesk/internal/report"
)

// Bounds of the free-text reader.
const (
	MaxTextBytes  = 512 << 10 // of the body text read
	maxLines      = 20000
	MaxWorks      = 100
	MaxInfringing = 1000
	maxValueLen   = 500 // one value read from a line
)

// Found is one element of 17 U.S.C. § 512(c)(3)(A) as read in the text.
type Found struct {
	Clause string // "(i)" … "(vi)", the keys of report.DMCAClauses
	Field  string // the report field it fills, e.g. "dmca.contact.phone"
	Line   int    // 1-based line of the text given to Read
	Value  string // what was read; for statements, the words that matched
}

// Reading is what the free-text reader made of a notice.
type Reading struct {
	// Notice holds what was found; GoodFaith and
	// AccuracyUnderPenaltyOfPerjury are true only when the statement is
	// written in the text.
	Notice report.DMCANotice
	// Found lists where each value came from, in the order of the text.
	Found []Found
	// Recognised is true when the subject or text speaks of a copyright
	// notice (DMCA, § 512, copyright infringement, droit d'auteur, LCEN…).
	Recognised bool
	// French is true when the notice is written in French.
	French bool
}

// Has reports whether an element of the clause was found.
func (r *Reading) Has(clause string) bool {
	for _, f := range r.Found {
		if f.Clause == clause {
			return true
		}
	}
	return false
}

// Read reads a free-text copyright notice: subject is the mail's Subject,
// text its body text (mailpart's BodyText). Line numbers in Found count the
// lines of text. A PGP clear-signed text is read without its armour (RFC
// 4880 §7: the "-----BEGIN PGP…" lines and the signature block are dropped,
// dash-escaped lines "- …" unescaped; nothing is verified); quoted lines
// ("> …") are not read, since a reply quotes the desk's own list of the
// elements and must not be taken as stating them.
func Read(subject, text string) Reading {
	lines := prepare(text)
	return readLines(subject, lines)
}

// prepare splits text into lines with the PGP armour blanked and quoted
// lines dropped, keeping the line count so numbers stay those of text.
func prepare(text string) []string {
	if len(text) > MaxTextBytes {
		text = text[:MaxTextBytes]
	}
	text = strings.ToValidUTF8(text, "\uFFFD")
	lines := strings.Split(strings.ReplaceAll(text, "\r", ""), "\n")
	if len(lines) > maxLines {
		lines = lines[:maxLines]
	}
	signed, inHead, inSig := false, false, false
	for i, l := range lines {
		t := strings.TrimSpace(l)
		switch {
		case t == "-----BEGIN PGP SIGNED MESSAGE-----":
			signed, inHead = true, true
			lines[i] = ""
			continue
		case signed && t == "-----BEGIN PGP SIGNATURE-----":
			inSig = true
		}
		switch {
		case inSig:
			if t == "-----END PGP SIGNATURE-----" {
				inSig, signed = false, false
			}
			lines[i] = ""
		case inHead:
			// Armour headers ("Hash: SHA256") end at the first empty line
			// (RFC 4880 §7).
			if t == "" {
				inHead = false
			}
			lines[i] = ""
		case signed && strings.HasPrefix(l, "- "):
			lines[i] = l[2:]
		case strings.HasPrefix(t, ">"):
			lines[i] = ""
		}
	}
	return lines
}

var (
	// keywords name a copyright notice, in English and French.
	keywords = regexp.MustCompile(`(?i)\bDMCA\b|digital\s+millennium\s+copyright|§\s*512|\b512\s*\(\s*c\s*\)|\bsection\s+512\b|copyright\s+(?:infringement|violation|complaint|notice)|notice\s+of\s+(?:claimed\s+)?infringement|infringement\s+notice|take\s*-?down\s+(?:notice|request)|droits?\s+d['’]\s*auteur|contrefa[çc]on|\bLCEN\b|contenus?\s+illicites?|notification\s+de\s+contenu`)

	// frWords and enWords decide the language by counting common words.
	frWords = regexp.MustCompile(`(?i)\b(?:le|la|les|des|du|une|est|sont|nous|vous|je|que|qui|dans|pour|par|sur|avec|ce|cette|notre|votre|madame|monsieur|cordialement)\b|droits?\s+d['’]auteur|contrefa[çc]on|œuvre|bonne\s+foi`)
	enWords = regexp.MustCompile(`(?i)\b(?:the|of|and|is|are|we|you|this|that|to|in|for|on|with|our|your|dear|sincerely|regards)\b`)

	// (v): "I have a good faith belief that use of the material … is not
	// authorized by the copyright owner, its agent, or the law".
	goodFaithEN = regexp.MustCompile(`(?i)\bgood[\s-]+faith\b[^\n]{0,400}?\b(?:not\s+(?:been\s+)?|un)authori[sz]ed\b`)
	goodFaithFR = regexp.MustCompile(`(?i)\bbonne\s+foi\b[^\n]{0,400}?(?:n['’]\s*(?:est|a|ont|sont)\s+pas\s+(?:été\s+)?autoris|non\s+autoris|sans\s+(?:l['’]\s*)?autorisation)`)
	// (vi): "the information in this notification is accurate, and under
	// penalty of perjury, …": both halves, in one paragraph.
	perjuryEN = regexp.MustCompile(`(?i)\baccurate\b[^\n]{0,400}?\bpenalty\s+of\s+perjury\b|\bpenalty\s+of\s+perjury\b[^\n]{0,400}?\baccurate\b`)
	perjuryFR = regexp.MustCompile(`(?i)\bexacte?s?\b[^\n]{0,400}?\bsous\s+peine\s+de\s+parjure\b|\bsous\s+peine\s+de\s+parjure\b[^\n]{0,400}?\bexacte?s?\b`)
	// A template or policy that lists what a notice must contain describes
	// the statements without making them.
	describing = regexp.MustCompile(`(?i)\b(?:a|any|include[sd]?|including|contain[s]?)\s+(?:a\s+)?statements?\s+(?:that|of|by)\b|\b(?:une|la)\s+déclaration\s+(?:selon|que|de)\b|\bmust\b|\bshould\b|\bdoi(?:t|vent)\b|\brequired\b`)

	// (i) signatures.
	slashS    = regexp.MustCompile(`^\s*/s/\s*(\S.*)$`)
	signedRe  = regexp.MustCompile(`(?i)^\s*(?:electronic\s+|digital\s+)?(?:signature|signed|sign[ée]e?|signataire)(?:\s+(?:électronique|electronique))?\s*(?:\([^)]*\))?\s*:\s*(\S.*)$`)
	closingRe = regexp.MustCompile(`(?i)^\s*(?:sincerely(?:\s+yours)?|(?:best|kind|warm|with)?\s*regards|yours\s+(?:truly|sincerely|faithfully)|respectfully(?:\s+yours|\s+submitted)?|cordialement|bien\s+cordialement|bien\s+à\s+vous|salutations(?:\s+distinguées)?|respectueusement|veuillez\s+agréer.*)\s*[,.!]?\s*$`)
	nameLike  = regexp.MustCompile(`^[\p{L}][\p{L}'’.\-]*(?:\s+[\p{L}][\p{L}'’.\-]*){0,5}$`)

	// (ii) works.
	worksLabel  = regexp.MustCompile(`(?i)^\s*(?:[-*•]\s*)?(?:title|titles|work|works|copyrighted\s+works?|copyright(?:ed)?\s+material|infringed\s+(?:works?|titles?|content)|original\s+works?|works?\s+infringed|titre|titres|œuvres?|oeuvres?|(?:œuvres?|oeuvres?)\s+(?:protégées?|concernées?|contrefaites?)|contenu\s+protégé)\s*(?:\(s\))?\s*:\s*(.*)$`)
	worksQuoted = regexp.MustCompile(`(?i)\b(?:entitled|titled|intitulée?s?|owner\s+of|rights\s+(?:to|in)|copyrighted\s+works?|protected\s+works?|œuvres?|oeuvres?)[^"“«\n]{0,40}["“«]\s*([^"”»\n]{1,200}?)\s*["”»]`)

	// (iii) infringing material.
	urlRe        = regexp.MustCompile(`(?i)\bhttps?://[^\s<>"'“”«»\[\]{}|\\^` + "`" + `]+`)
	ipv4Re       = regexp.MustCompile(`\b(?:\d{1,3}\.){3}\d{1,3}\b`)
	ipv6Re       = regexp.MustCompile(`(?i)\b[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}\b`)
	isoTimeRe    = regexp.MustCompile(`\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:\s*(?:Z|[+-]\d{2}(?::?\d{2})?|UTC|GMT)\b)?`)
	ipLabel      = regexp.MustCompile(`(?i)^\s*(?:[-*•]\s*)?(?:infringer['’]?s?\s+|infringing\s+|source\s+)?(?:ip(?:\s+address)?|adresse\s+ip)\s*:\s*(\S+)`)
	portLabel    = regexp.MustCompile(`(?i)^\s*(?:[-*•]\s*)?(?:infringer['’]?s?\s+|source\s+)?port\s*:\s*(\d{1,5})\b`)
	timeLabel    = regexp.MustCompile(`(?i)^\s*(?:[-*•]\s*)?(?:(?:initial|first|last)\s+)?(?:infringement\s+|infringing\s+)?(?:time\s*stamp|date\s*(?:and|&|et)\s*(?:time|heure)|time|horodatage|heure)\s*(?:\([^)]*\))?\s*:\s*(\S.*)$`)
	infringingCx = regexp.MustCompile(`(?i)infring|unauthori[sz]ed|pirat|illicite|litigieu|contrefa|illégal|illegal`)
	originalCx   = regexp.MustCompile(`(?i)\boriginal|\bofficial|\bofficiel|\blégitime|\blegitimate|\bauthori[sz]ed\s+(?:copy|source|version)|\bpurchase|\bacheter|\bour\s+(?:web\s*)?site|\bnotre\s+site|\bwebsite\s*:|\bsite\s+(?:web|internet)\s*:|\bweb\s*:`)

	// (iv) contact.
	nameLabel    = regexp.MustCompile(`(?i)^\s*(?:[-*•]\s*)?(?:(?:contact|complainant|full|your|complaining\s+party)['’]?s?\s+)?(?:name|nom(?:\s+et\s+prénom)?|prénom\s+et\s+nom|contact)\s*:\s*(\S.*)$`)
	addressLabel = regexp.MustCompile(`(?i)^\s*(?:[-*•]\s*)?(?:postal\s+|mailing\s+|street\s+|physical\s+)?(?:address|adresse(?:\s+postale)?)\s*:\s*(.*)$`)
	phoneLabel   = regexp.MustCompile(`(?i)^\s*(?:[-*•]\s*)?(?:phone|telephone|tel|tél|téléphone|mobile|portable)\.?(?:\s+(?:number|no\.?|numéro))?\s*:\s*(\S.*)$`)
	emailLabel   = regexp.MustCompile(`(?i)^\s*(?:[-*•]\s*)?(?:e-?mail(?:\s+address)?|courriel|adresse\s+(?:e-?mail|électronique|de\s+courriel))\s*:\s*(.*)$`)
	emailRe      = regexp.MustCompile(`[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9.\-]{1,200}\.[A-Za-z]{2,24}`)
	phoneLine    = regexp.MustCompile(`(?i)^\s*(?:(?:tel|tél|phone|telephone|téléphone|mobile)\.?\s*:?\s*)?(\+?\(?\d[\d ().\-/]{4,30}\d)\s*$`)
	anyLabel     = regexp.MustCompile(`^\s*[\p{L}][\p{L} ’'()\-]{0,40}:\s`)
	bulletRe     = regexp.MustCompile(`^\s*(?:[-*•]|\d{1,3}[.)])\s+`)
	receivedRe   = regexp.MustCompile(`(?i)^\s*received:`)
)

// reader holds the state of one Read.
type reader struct {
	lines  []string
	rd     Reading
	sigEnd int // lines before this index are outside the signature block
	sigAt  int // first line of the signature block (closing or /s/), -1 if none
	urls   map[string]bool
	ips    map[string]bool
	works  map[string]bool
}

func readLines(subject string, lines []string) Reading {
	r := &reader{lines: lines, sigAt: -1, urls: map[string]bool{}, ips: map[string]bool{}, works: map[string]bool{}}
	body := strings.Join(lines, "\n")
	r.rd.Recognised = keywords.MatchString(subject) || keywords.MatchString(body)
	sample := subject + "\n" + body
	if len(sample) > 64<<10 {
		sample = sample[:64<<10]
	}
	r.rd.French = len(frWords.FindAllStringIndex(sample, -1)) > len(enWords.FindAllStringIndex(sample, -1))
	r.signature()
	r.statements()
	r.worksAndContact()
	r.infringing()
	sort.SliceStable(r.rd.Found, func(i, j int) bool { return r.rd.Found[i].Line < r.rd.Found[j].Line })
	return r.rd
}

func (r *reader) found(clause, field string, i int, value string) {
	r.rd.Found = append(r.rd.Found, Found{Clause: clause, Field: field, Line: i + 1, Value: clip(value, 200)})
}

// signature finds clause (i): "/s/ Name", "Signature: Name", or the name
// under a closing ("Sincerely," / "Cordialement,"). The lines that follow
// are the signature block, where the contact details usually are.
func (r *reader) signature() {
	best, bestRank, at := "", 0, -1
	for i, l := range r.lines {
		if m := slashS.FindStringSubmatch(l); m != nil {
			if v := cleanName(m[1]); v != "" && bestRank < 3 {
				best, bestRank, at = v, 3, i
			}
			continue
		}
		if m := signedRe.FindStringSubmatch(l); m != nil {
			v := strings.TrimSpace(m[1])
			v = strings.TrimSpace(strings.TrimPrefix(v, "/s/"))
			if v = cleanName(v); v != "" && bestRank < 2 {
				best, bestRank, at = v, 2, i
			}
			continue
		}
		if closingRe.MatchString(l) && bestRank < 1 {
			for j := i + 1; j < len(r.lines) && j <= i+3; j++ {
				t := strings.TrimSpace(r.lines[j])
				if t == "" {
					continue
				}
				if slashS.MatchString(t) {
					break // the /s/ line is taken above
				}
				if nameLike.MatchString(t) && len(t) <= 80 {
					best, bestRank, at = t, 1, j
				}
				break
			}
			if r.sigAt < 0 || i < r.sigAt {
				r.sigAt = i
			}
		}
	}
	if at >= 0 {
		r.rd.Notice.Signature = best
		r.found("(i)", "dmca.signature", at, best)
		if r.sigAt < 0 || at < r.sigAt {
			r.sigAt = at
		}
	}
}

// cleanName keeps a signature that reads as a name: bounded, one line, not
// an address or a link.
func cleanName(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 200 || strings.Contains(s, "@") || strings.Contains(s, "://") {
		return ""
	}
	if !strings.ContainsFunc(s, unicode.IsLetter) {
		return ""
	}
	return s
}

// statements finds clauses (v) and (vi) in each paragraph (lines joined,
// so a statement wrapped at 72 columns still reads as one).
func (r *reader) statements() {
	for _, p := range paragraphs(r.lines) {
		text := p.text
		for _, st := range []struct {
			clause, field string
			res           []*regexp.Regexp
			flag          *bool
		}{
			{"(v)", "dmca.good_faith", []*regexp.Regexp{goodFaithEN, goodFaithFR}, &r.rd.Notice.GoodFaith},
			{"(vi)", "dmca.accuracy_under_penalty_of_perjury", []*regexp.Regexp{perjuryEN, perjuryFR}, &r.rd.Notice.AccuracyUnderPenaltyOfPerjury},
		} {
			if *st.flag {
				continue
			}
			for _, re := range st.res {
				loc := re.FindStringIndex(text)
				if loc == nil {
					continue
				}
				// The sentence before the statement: does it describe
				// what a notice must say rather than say it?
				from := strings.LastIndexAny(text[:loc[0]], ".!?:")
				if describing.MatchString(text[from+1 : loc[1]]) {
					continue
				}
				*st.flag = true
				r.found(st.clause, st.field, p.line(loc[0]), text[loc[0]:loc[1]])
				break
			}
		}
	}
}

// paragraph is a run of non-empty lines joined by spaces, with the offset
// of each line so a match maps back to its line.
type paragraph struct {
	text   string
	starts []int // offset in text of each line
	first  int   // index of the first line
}

func (p paragraph) line(off int) int {
	i := sort.Search(len(p.starts), func(i int) bool { return p.starts[i] > off }) - 1
	if i < 0 {
		i = 0
	}
	return p.first + i
}

func paragraphs(lines []string) []paragraph {
	var out []paragraph
	var cur *paragraph
	var b strings.Builder
	flush := func() {
		if cur != nil {
			cur.text = b.String()
			out = append(out, *cur)
			cur = nil
			b.Reset()
		}
	}
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" {
			flush()
			continue
		}
		if cur == nil {
			cur = &paragraph{first: i}
		} else {
			b.WriteByte(' ')
		}
		cur.starts = append(cur.starts, b.Len())
		b.WriteString(t)
	}
	flush()
	return out
}

// worksAndContact reads labelled lines ("Title:", "Address:", "Phone:"…)
// and the signature block.
func (r *reader) worksAndContact() {
	c := &r.rd.Notice.Contact
	for i := 0; i < len(r.lines); i++ {
		l := r.lines[i]
		inSig := r.sigAt >= 0 && i > r.sigAt
		if m := worksLabel.FindStringSubmatch(l); m != nil && !(inSig && strings.HasPrefix(strings.ToLower(strings.TrimSpace(l)), "title")) {
			v := strings.TrimSpace(m[1])
			if v != "" {
				r.work(i, v)
				continue
			}
			// "Copyrighted works:" followed by a list up to the blank line.
			for j := i + 1; j < len(r.lines) && j <= i+MaxWorks; j++ {
				t := strings.TrimSpace(bulletRe.ReplaceAllString(r.lines[j], ""))
				if t == "" || anyLabel.MatchString(r.lines[j]) {
					break
				}
				if !urlRe.MatchString(t) {
					r.work(j, t)
				}
			}
			continue
		}
		if m := emailLabel.FindStringSubmatch(l); m != nil {
			if a := emailRe.FindString(m[1]); a != "" && c.Email == "" {
				c.Email = a
				r.found("(iv)", "dmca.contact.email", i, a)
			}
			continue
		}
		if m := phoneLabel.FindStringSubmatch(l); m != nil {
			if v := clip(strings.TrimSpace(m[1]), 64); c.Phone == "" {
				c.Phone = v
				r.found("(iv)", "dmca.contact.phone", i, v)
			}
			continue
		}
		if m := addressLabel.FindStringSubmatch(l); m != nil {
			at, parts := i, []string{}
			if v := strings.TrimSpace(m[1]); v != "" {
				parts = append(parts, v)
			}
			for j := i + 1; j < len(r.lines) && j <= i+5; j++ {
				t := strings.TrimSpace(r.lines[j])
				if t == "" || anyLabel.MatchString(r.lines[j]) || emailRe.MatchString(t) || phoneLine.MatchString(t) {
					break
				}
				parts = append(parts, t)
				if len(parts) > 1 || m[1] == "" {
					i = j
				}
			}
			if v := clip(strings.Join(parts, ", "), maxValueLen); v != "" && c.Address == "" {
				c.Address = v
				r.found("(iv)", "dmca.contact.address", at, v)
			}
			continue
		}
		if m := nameLabel.FindStringSubmatch(l); m != nil {
			if v := clip(strings.TrimSpace(m[1]), 200); c.Name == "" && !strings.Contains(v, "@") {
				c.Name = v
				r.found("(iv)", "dmca.contact.name", i, v)
			}
			continue
		}
		if ws := worksQuoted.FindAllStringSubmatch(l, 5); ws != nil && !inSig {
			for _, w := range ws {
				if !urlRe.MatchString(w[1]) {
					r.work(i, w[1])
				}
			}
		}
	}
	r.signatureBlock()
	if c.Name == "" && r.rd.Notice.Signature != "" {
		// The signer is the complaining party's representative: the
		// person to contact, unless the text names another.
		c.Name = r.rd.Notice.Signature
	}
}

func (r *reader) work(i int, v string) {
	v = clip(unquote(strings.TrimSpace(v)), maxValueLen)
	if v == "" || len(r.rd.Notice.Works) >= MaxWorks || r.works[strings.ToLower(v)] {
		return
	}
	r.works[strings.ToLower(v)] = true
	r.rd.Notice.Works = append(r.rd.Notice.Works, v)
	r.found("(ii)", "dmca.works", i, v)
}

// unquote drops the quotes around a title written alone ("Title"), and
// keeps them when the title is followed by words ("Title", a film).
func unquote(v string) string {
	for _, q := range []string{`""`, "“”", "«»"} {
		open, close := string([]rune(q)[0]), string([]rune(q)[1])
		if strings.HasPrefix(v, open) && strings.HasSuffix(v, close) && len(v) > len(open)+len(close) {
			in := v[len(open) : len(v)-len(close)]
			if !strings.Contains(in, open) && !strings.Contains(in, close) {
				return strings.TrimSpace(in)
			}
		}
	}
	return v
}

// signatureBlock reads the unlabelled lines under the signature: a phone
// number, an email address, and an address (the first line with a digit
// that is neither, and the lines after it).
func (r *reader) signatureBlock() {
	if r.sigAt < 0 {
		return
	}
	c := &r.rd.Notice.Contact
	var addr []string
	addrAt := -1
	blank := 0
	for j := r.sigAt + 1; j < len(r.lines) && j <= r.sigAt+12; j++ {
		t := strings.TrimSpace(r.lines[j])
		if t == "" {
			if blank++; blank > 1 || (j > r.sigAt+1 && len(addr) > 0) {
				break
			}
			continue
		}
		if anyLabel.MatchString(r.lines[j]) || slashS.MatchString(t) {
			continue
		}
		if m := phoneLine.FindStringSubmatch(t); m != nil && digits(m[1]) >= 6 {
			if c.Phone == "" {
				c.Phone = m[1]
				r.found("(iv)", "dmca.contact.phone", j, m[1])
			}
			continue
		}
		if a := emailRe.FindString(t); a != "" {
			if c.Email == "" {
				c.Email = a
				r.found("(iv)", "dmca.contact.email", j, a)
			}
			continue
		}
		if urlRe.MatchString(t) {
			continue
		}
		if len(addr) > 0 || strings.ContainsFunc(t, unicode.IsDigit) {
			if len(addr) == 0 {
				addrAt = j
			}
			if len(addr) < 5 {
				addr = append(addr, t)
			}
		}
	}
	if c.Address == "" && len(addr) > 0 {
		c.Address = clip(strings.Join(addr, ", "), maxValueLen)
		r.found("(iv)", "dmca.contact.address", addrAt, c.Address)
	}
}

// infringing finds clause (iii): URLs (except those that point at the
// original, or sit in the signature block), and addresses with the time
// they were seen, from one line ("192.0.2.1 2026-03-02T10:00:00Z") or from
// labelled lines near each other ("IP Address:", "Port:", "Timestamp:").
func (r *reader) infringing() {
	d := &r.rd.Notice
	add := func(i int, it report.InfringingItem, value string) {
		if len(d.Infringing) < MaxInfringing {
			d.Infringing = append(d.Infringing, it)
			r.found("(iii)", "dmca.infringing", i, value)
		}
	}
	for i, l := range r.lines {
		if r.sigAt >= 0 && i > r.sigAt || receivedRe.MatchString(l) {
			continue
		}
		for _, u := range urlRe.FindAllString(l, 50) {
			u = strings.TrimRight(u, ".,;:!?)")
			if r.urls[u] || !r.infringingURL(i) {
				continue
			}
			r.urls[u] = true
			add(i, report.InfringingItem{URL: clip(u, 8192)}, u)
		}
		rest := urlRe.ReplaceAllString(l, " ")
		if m := ipLabel.FindStringSubmatch(rest); m != nil {
			ip := strings.Trim(m[1], "[](),;")
			if _, ok := report.ParseIP(ip); ok && !r.ips[ip] {
				r.ips[ip] = true
				it := report.InfringingItem{IP: ip, Timestamp: r.near(i, timeLabel)}
				if p := r.near(i, portLabel); p != "" {
					it.Port = atoiPort(p)
				}
				add(i, it, ip)
			}
			continue
		}
		ts := isoTimeRe.FindString(rest)
		if ts == "" {
			continue
		}
		for _, ip := range append(ipv4Re.FindAllString(rest, 5), ipv6Re.FindAllString(rest, 5)...) {
			if _, ok := report.ParseIP(ip); ok && !r.ips[ip] {
				r.ips[ip] = true
				add(i, report.InfringingItem{IP: ip, Timestamp: normTime(ts)}, ip+" "+ts)
			}
		}
	}
}

// infringingURL decides from the URL's line, or for a line that is only
// links the line that introduces them, whether the links are the
// infringing copies or the original work.
func (r *reader) infringingURL(i int) bool {
	ctx := r.lines[i]
	for j := i; j >= 0 && j > i-MaxInfringing; j-- {
		t := strings.TrimSpace(bulletRe.ReplaceAllString(r.lines[j], ""))
		if t == "" {
			if j < i-1 && strings.TrimSpace(r.lines[j+1]) == "" {
				break
			}
			continue
		}
		if strings.TrimSpace(urlRe.ReplaceAllString(t, "")) != "" {
			ctx = r.lines[j]
			if j != i {
				ctx += " " + r.lines[i]
			}
			break
		}
	}
	if infringingCx.MatchString(ctx) {
		return true
	}
	return !originalCx.MatchString(ctx) && !emailLabel.MatchString(ctx) && !phoneLabel.MatchString(ctx)
}

// near returns the value of the closest line within six lines of i that
// matches the labelled expression re.
func (r *reader) near(i int, re *regexp.Regexp) string {
	for d := 0; d <= 6; d++ {
		for _, j := range []int{i + d, i - d} {
			if j < 0 || j >= len(r.lines) {
				continue
			}
			if m := re.FindStringSubmatch(r.lines[j]); m != nil {
				if re == timeLabel {
					return normTime(m[1])
				}
				return m[1]
			}
		}
	}
	return ""
}

func atoiPort(s string) *int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' || n > 1<<20 {
			return nil
		}
		n = n*10 + int(c-'0')
	}
	return &n
}

// zones are the abbreviations notices write after a time. Any other
// abbreviation is left for the validator to refuse: a zone is never
// guessed.
var zones = map[string]string{
	"UTC": "+00:00", "GMT": "+00:00", "Z": "+00:00",
	"EST": "-05:00", "EDT": "-04:00", "CST": "-06:00", "CDT": "-05:00",
	"MST": "-07:00", "MDT": "-06:00", "PST": "-08:00", "PDT": "-07:00",
	"CET": "+01:00", "CEST": "+02:00", "BST": "+01:00",
}

var timeLayouts = []string{
	"2006-01-02 15:04:05 -07:00", "2006-01-02 15:04 -07:00", "2006-01-02T15:04:05 -07:00",
	"January 2, 2006 15:04:05 -07:00", "January 2, 2006 3:04:05 PM -07:00", "Jan 2, 2006 15:04:05 -07:00",
	"2 January 2006 15:04:05 -07:00", "Mon, 2 Jan 2006 15:04:05 -07:00", "Mon, 02 Jan 2006 15:04:05 -07:00",
	"02/01/2006 15:04:05 -07:00", "02/01/2006 15:04 -07:00", // day first: the French writing, read only with a zone
}

// normTime makes a time read from text RFC 3339 when it names its zone in
// a way the desk can read (ISO 8601, or a date followed by UTC, GMT, an
// offset or a US or European zone abbreviation). Anything else is returned
// as written, so the validator tells the sender what is wrong with it.
func normTime(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimRight(s, ".;,")
	if len(s) > 100 {
		return clip(s, 100)
	}
	if _, err := report.ParseTimestamp(s); err == nil {
		return s
	}
	if iso := isoTimeRe.FindString(s); iso != "" && iso != s {
		if _, err := report.ParseTimestamp(iso); err == nil {
			return iso
		}
	}
	f := strings.Fields(s)
	if len(f) < 2 {
		return s
	}
	zone := strings.Trim(f[len(f)-1], "()")
	off, ok := zones[strings.ToUpper(zone)]
	if !ok {
		if len(zone) == 5 && (zone[0] == '+' || zone[0] == '-') {
			off, ok = zone[:3]+":"+zone[3:], true
		} else if len(zone) == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':' {
			off, ok = zone, true
		}
	}
	if !ok {
		return s
	}
	head := strings.Join(f[:len(f)-1], " ")
	head = strings.TrimSuffix(strings.TrimSuffix(head, " at"), " à")
	for _, lay := range timeLayouts {
		if t, err := time.Parse(lay, head+" "+off); err == nil {
			return t.Format(time.RFC3339)
		}
	}
	return s
}

// clip bounds a value at max bytes without splitting a character.
func clip(s string, max int) string {
	if len(s) <= max {
		return s
	}
	i := max
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

func digits(s string) int {
	n := 0
	for _, c := range s {
		if c >= '0' && c <= '9' {
			n++
		}
	}
	return n
}
