// Package plaintext reads abuse complaints written by people (and by simple
// scripts) in English or French: free text, perhaps with pasted log lines,
// a forwarded spam, or a URL. It is the mailbox's last parser, tried after
// the structured ones (ARF, X-ARF, DMCA notices, CSV feeds) said "not mine",
// so Parse accepts any mail with some text.
//
// What it reads, and from which rules:
//
//   - source addresses: IPv4 dotted quads and IPv6 (RFC 4291 §2.2) that are
//     public unicast (RFC 6890 special ranges refused), not versions or
//     parts of longer dotted numbers;
//   - URLs (RFC 3986, http and https only), defanged forms (hxxp, [.], [:])
//     refanged; never followed;
//   - date-times: RFC 3339 / ISO 8601, RFC 5322 §3.3 dates (with the
//     obsolete zone names of §4.3), syslog (RFC 3164 §4.1.2, no year: the
//     year of the mail's Date), Apache common log format, and French
//     numeric and long dates; a time without a zone is kept and reported as
//     needing one, unless the mail states the zone of all its times;
//   - log lines: lines with an address that look like daemon or firewall
//     output (sshd, iptables/ufw/nftables, fail2ban, Apache/nginx, postfix,
//     Windows logon events, tcpdump);
//   - the abuse type, from English and French keywords (Classify);
//   - a forwarded spam (a message/rfc822 part, RFC 2046 §5.2.1, or a
//     message forwarded inline, or pasted headers): its source is the first
//     Received hop (RFC 5321 §4.4) outside the reporter's network.
package plaintext

import (
	"fmt"
	"net/netip"
	"strings"

	"abusedesk/internal/intake/mailpart"
	"abusedesk/internal/report"
)

// Bounds: the input is hostile.
const (
	maxBodyBytes       = 512 << 10 // the body text read
	maxAttachments     = 8
	maxAttachmentBytes = 512 << 10
	maxAttachmentTotal = 1 << 20
	maxLines           = 20000
	maxLineBytes       = 4096
	maxIncidents       = 200
	maxLogPerIncident  = 8 << 10
	maxLinesPerInc     = 50
	maxURLs            = 100
	maxDescription     = 16 << 10
)

// source is a text the parser reads lines from, with the name a missing
// entry uses for it.
type source struct {
	name  string // "body", "subject", "attachment[auth.log]"
	lines []string
}

// obs is one line that names a source address.
type obs struct {
	src        netip.Addr
	srcPort    int
	target     string
	targetPort int
	proto      string
	ts         *stamp
	line       string
	isLog      bool
}

// Parse reads a mail already read by mailpart (see the package comment).
// ok is false only for a mail without any text; otherwise the reports the
// mail describes are returned, not yet validated, with what the reading
// could not find in missing. Reporter is left empty (the caller fills it
// from From); Language is the mail's Content-Language, else the language
// the text is written in.
func Parse(m *mailpart.Part) (reps []*report.Report, missing report.Errors, ok bool) {
	if m == nil {
		return nil, nil, false
	}
	subject := clipBytes(strings.TrimSpace(m.Header.Get("Subject")), 998)
	body := clipBytes(m.BodyText(), maxBodyBytes)
	bodyLines := splitLines(body, maxLines)
	fws := findForwarded(m, bodyLines)
	atts := attachments(m)
	if strings.TrimSpace(subject+body) == "" && len(atts) == 0 && len(fws) == 0 {
		return nil, nil, false
	}
	ok = true

	// The reporter's own words: the body without the message it forwards.
	own := make([]string, 0, len(bodyLines))
	for i, l := range bodyLines {
		inside := false
		for _, f := range fws {
			inside = inside || i >= f.from && i < f.to
		}
		if !inside {
			own = append(own, l)
		}
	}
	ownText := strings.Join(own, "\n")
	srcs := []source{{"subject", []string{subject}}, {"body", own}}
	srcs = append(srcs, atts...)
	var all strings.Builder
	for _, s := range srcs {
		for _, l := range s.lines {
			all.WriteString(l)
			all.WriteByte('\n')
		}
	}
	allText := all.String()

	lang := ""
	switch cl := strings.ToLower(strings.TrimSpace(m.Header.Get("Content-Language"))); {
	case strings.HasPrefix(cl, "fr"):
		lang = "fr"
	case strings.HasPrefix(cl, "en"):
		lang = "en"
	case strings.TrimSpace(subject+ownText) != "":
		lang = Language(subject + "\n" + ownText)
	}
	env := &timeEnv{mailDate: mailDate(m.Header), dayFirst: lang == "fr"}
	var zoneNote string
	// The statement of a zone is the reporter's: read in their words, not
	// in attached logs.
	env.zone, zoneNote = mailWideZone(subject + "\n" + ownText)

	scores := classScores(allText)
	best := func(typ string) (string, int) {
		sub, sc := "", 0
		for i, c := range classes {
			if c.typ == typ && scores[i] > sc {
				sub, sc = c.subtype, scores[i]
			}
		}
		return sub, sc
	}
	netSub, netScore := best(report.TypeNetwork)
	contentSub, contentScore := best(report.TypeContent)
	_, spamScore := best(report.TypeEmail)

	observations, targets, stated := observe(srcs, env)
	hasLogs := false
	for _, o := range observations {
		hasLogs = hasLogs || o.isLog
	}
	description := describe(subject, ownText, zoneNote, env.zone)
	newReport := func(typ, sub string) *report.Report {
		r := &report.Report{Type: typ, Subtype: sub, Language: lang, Description: description}
		reps = append(reps, r)
		return r
	}

	// Network: log lines with addresses, or addresses in a complaint whose
	// words say it is an attack.
	if len(observations) > 0 && (hasLogs || netScore > 0) && netScore >= spamScore && (netScore >= contentScore || hasLogs) &&
		!(len(fws) > 0 && netScore == 0) {
		if netSub == "" {
			netSub = "other"
		}
		r := newReport(report.TypeNetwork, netSub)
		missing = append(missing, incidents(r, observations, targets, stated, false)...)
	}

	reporterDomain := addrDomain(m.Header.Get("From"))
	// Email: each forwarded message; or a spam complaint without one, whose
	// report then asks for the headers.
	for _, f := range fws {
		r := newReport(report.TypeEmail, "spam_sent")
		r.EmailMessage = &report.EmailMessage{Headers: clipBytes(f.Headers, report.DefaultLimits.MaxHeaderBytes), Body: f.Body}
		if hp, found := spamSource(f.Header, reporterDomain); found {
			in := report.Incident{SourceIP: hp.FromAddr.String(), Protocol: "smtp"}
			if st, ok := hopTime(hp, f.Header); ok {
				in.Timestamp = st.Value()
			}
			r.Incidents = []report.Incident{in}
			r.Description = clipBytes(r.Description+fmt.Sprintf("\n\n[The forwarded message (%s) entered the reporter's side from %s: the first Received hop outside the reporter's network.]", f.Where, in.SourceIP), maxDescription)
		}
	}
	if len(fws) == 0 && spamScore > 0 && spamScore >= netScore && spamScore >= contentScore {
		r := newReport(report.TypeEmail, "spam_sent")
		missing = append(missing, incidents(r, observations, nil, stated, true)...)
		missing = append(missing, report.FieldError{Field: "email_message.headers", Code: report.CodeRequired,
			Message: "forward the spam as an attachment (or paste its full headers, with every Received line): the headers show where it came from"})
	}

	// Content: URLs in a complaint about phishing, malware or illegal
	// content; the forwarded messages' URLs count (the phishing mail
	// carries the link). The reporter's own links (signature) do not.
	urls := collectURLs(srcs, fws, contentScore > 0, reporterDomain)
	if len(urls) > 0 && (contentScore > 0 || len(reps) == 0) {
		sub := contentSub // empty when no word says which: the validator asks
		r := newReport(report.TypeContent, sub)
		r.URLs = urls
	}

	if len(reps) == 0 {
		missing = append(missing, report.FieldError{Field: "body", Code: report.CodeRequired,
			Message: "nothing in this mail reads as an abuse report. Please send: for an attack, the source IP address, the date and time with its time zone (e.g. 2026-11-20 10:00:00 UTC) and the log lines that show it; for content, the URL; for spam, the message forwarded as an attachment with all its headers (Received lines)"})
	}
	return reps, missing, true
}

// observe reads every line of srcs for addresses, their roles, times and
// the targets the reporter names.
func observe(srcs []source, env *timeEnv) (out []obs, targets []string, stated []*stamp) {
	targetSet := map[string]bool{}
	var prose []obs
	lines := 0
	for _, s := range srcs {
		for _, line := range s.lines {
			if lines++; lines > maxLines {
				break
			}
			line = clipBytes(line, maxLineBytes)
			ips := findIPs(line)
			if len(ips) > 16 {
				ips = ips[:16]
			}
			log := len(ips) > 0 && isLogLine(line)
			if !log {
				for _, t := range findTargets(line, ips) {
					if !targetSet[t] {
						targetSet[t] = true
						targets = append(targets, t)
					}
				}
			}
			var ts *stamp
			if strings.ContainsAny(line, "0123456789") {
				if st := findTimes(line, env); len(st) > 0 {
					ts = &st[0]
					if !log && (len(stated) == 0 || stated[0].Value() != ts.Value()) && len(stated) < 2 {
						stated = append(stated, ts)
					}
				}
			}
			if len(ips) == 0 {
				continue
			}
			spt, dpt := firewallPorts(line)
			srcIdx := -1
			for i, h := range ips {
				if h.Role == "src" && usableSource(h.Addr) {
					srcIdx = i
					break
				}
			}
			var cands []int
			switch {
			case srcIdx >= 0:
				cands = []int{srcIdx}
			case log:
				for i, h := range ips {
					if h.Role != "dst" && usableSource(h.Addr) && !targetSet[h.Addr.String()] {
						cands = []int{i}
						break
					}
				}
			default:
				for i, h := range ips {
					if h.Role != "dst" && usableSource(h.Addr) && !targetSet[h.Addr.String()] && len(cands) < 8 {
						cands = append(cands, i)
					}
				}
			}
			for _, ci := range cands {
				h := ips[ci]
				o := obs{src: h.Addr, srcPort: h.Port, targetPort: -1, ts: ts, line: line, isLog: log}
				if spt >= 0 {
					o.srcPort = spt
				}
				if log {
					o.proto = protocolOf(line)
					for i, d := range ips {
						if i != ci && d.Addr != h.Addr && d.Addr.IsValid() && !d.Addr.IsUnspecified() && (d.Role == "dst" || o.target == "") {
							o.target, o.targetPort = d.Addr.String(), d.Port
							if d.Role == "dst" {
								break
							}
						}
					}
					if dpt >= 0 {
						o.targetPort = dpt
					}
				}
				if log {
					out = append(out, o)
				} else {
					prose = append(prose, o)
				}
			}
		}
	}
	// Addresses the reporter names as attacked are not sources, wherever
	// they were read.
	keep := func(os []obs) []obs {
		k := os[:0]
		for _, o := range os {
			if !targetSet[o.src.String()] {
				k = append(k, o)
			}
		}
		return k
	}
	out, prose = keep(out), keep(prose)
	// A source named only in prose counts when no log line shows it.
	seen := map[netip.Addr]bool{}
	for _, o := range out {
		seen[o.src] = true
	}
	for _, o := range prose {
		if !seen[o.src] {
			out = append(out, o)
			seen[o.src] = true
		}
	}
	return out, targets, stated
}

// incidents fills r.Incidents, one per (source, time), and returns the
// missing entries for times without a zone.
func incidents(r *report.Report, obsv []obs, targets []string, stated []*stamp, smtp bool) report.Errors {
	// A line without a time of its own (prose, or tcpdump's time of day)
	// takes the one time the reporter's prose states, if it states one.
	type key struct {
		src netip.Addr
		ts  string
	}
	idx := map[key]int{}
	var stamps []*stamp
	var lines [][]string
	var missing report.Errors
	for _, o := range obsv {
		ts := o.ts
		if ts == nil && len(stated) == 1 {
			ts = stated[0]
		}
		k := key{o.src, ""}
		if ts != nil {
			k.ts = ts.Value()
		}
		i, ok := idx[k]
		if !ok {
			if len(r.Incidents) >= maxIncidents {
				continue
			}
			i = len(r.Incidents)
			idx[k] = i
			in := report.Incident{SourceIP: o.src.String(), Timestamp: k.ts, Protocol: o.proto, Target: o.target}
			if smtp {
				in.Protocol, in.Target = "smtp", ""
			}
			if o.srcPort >= 0 {
				in.SourcePort = ptr(o.srcPort)
			}
			if o.targetPort >= 0 && in.Target != "" {
				in.TargetPort = ptr(o.targetPort)
			}
			if in.Target == "" && len(targets) > 0 && !smtp {
				in.Target = targets[0]
			}
			r.Incidents = append(r.Incidents, in)
			stamps = append(stamps, ts)
			lines = append(lines, nil)
		}
		if o.isLog && len(lines[i]) < maxLinesPerInc {
			lines[i] = append(lines[i], o.line)
		}
	}
	for i := range r.Incidents {
		r.Incidents[i].Log = clipBytes(strings.Join(lines[i], "\n"), maxLogPerIncident)
		st := stamps[i]
		if st == nil || st.Zoned {
			continue
		}
		field := fmt.Sprintf("incidents[%d].timestamp", i)
		msg := fmt.Sprintf("the time %q has no time zone: say which zone your times are in (e.g. \"all times are UTC\", or 2026-11-20 10:00:00+01:00)", st.Text)
		if st.Ambiguous != "" {
			msg = fmt.Sprintf("the time %q uses %s, which names several time zones: give the offset (e.g. +05:30 or +01:00)", st.Text, st.Ambiguous)
		}
		for _, o := range obsv {
			if o.ts == st || o.src.String() == r.Incidents[i].SourceIP && o.ts != nil && o.ts.Value() == st.Value() {
				msg += fmt.Sprintf(" (line: %q)", clipBytes(o.line, 160))
				break
			}
		}
		missing = append(missing, report.FieldError{Field: field, Code: report.CodeTimezoneRequired, Message: msg})
	}
	return missing
}

func ptr(n int) *int { return &n }

// collectURLs gathers the URLs of the reporter's text (and of forwarded
// messages when withForwarded), without the reporter's own domain.
func collectURLs(srcs []source, fws []forwarded, withForwarded bool, ownDomain string) []report.URLItem {
	var out []report.URLItem
	seen := map[string]bool{}
	add := func(line string) {
		for _, u := range findURLs(clipBytes(line, maxLineBytes)) {
			if seen[u] || len(out) >= maxURLs {
				continue
			}
			seen[u] = true
			if ownDomain != "" {
				if h := hostOf(u); h != "" && inDomains(h, []string{ownDomain}) {
					continue
				}
			}
			out = append(out, report.URLItem{URL: u, Description: clipBytes(strings.TrimSpace(line), 300)})
		}
	}
	for _, s := range srcs {
		for _, l := range s.lines {
			add(l)
		}
	}
	if withForwarded {
		for _, f := range fws {
			for _, l := range splitLines(f.Body, maxLines) {
				add(l)
			}
		}
	}
	return out
}

func hostOf(u string) string {
	rest := u[strings.Index(u, "://")+3:]
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest = rest[i+1:]
	}
	if i := strings.LastIndexByte(rest, ':'); i >= 0 && !strings.HasSuffix(rest, "]") {
		rest = rest[:i]
	}
	return strings.ToLower(rest)
}

// describe is the report's description: the subject and the reporter's
// words, bounded, and what the parser assumed.
func describe(subject, text, zoneNote string, z *zone) string {
	var b strings.Builder
	if subject != "" {
		b.WriteString("Subject: " + subject + "\n\n")
	}
	b.WriteString(strings.TrimSpace(text))
	if z != nil {
		fmt.Fprintf(&b, "\n\n[Times written without a zone were read in %s, as the mail states: %q.]", z.name, clipBytes(zoneNote, 120))
	}
	s := strings.TrimSpace(b.String())
	if s == "" {
		s = "Abuse complaint received by mail (no text besides the forwarded message)."
	}
	return clipBytes(s, maxDescription)
}

// attachments are the text/plain attachments and the .log/.txt files that
// BodyText leaves out, bounded.
func attachments(m *mailpart.Part) []source {
	var out []source
	total := 0
	for _, l := range m.Leaves() {
		if len(out) >= maxAttachments || total >= maxAttachmentTotal {
			break
		}
		name := strings.ToLower(l.Filename)
		inBody := l.MediaType == "text/plain" && (!l.Attachment || l.Filename == "")
		logFile := strings.HasSuffix(name, ".log") || strings.HasSuffix(name, ".txt")
		if inBody || l.Message != nil || !(l.MediaType == "text/plain" && l.Attachment || logFile) {
			continue
		}
		t := clipBytes(l.Text(), min(maxAttachmentBytes, maxAttachmentTotal-total))
		total += len(t)
		out = append(out, source{name: "attachment[" + clipBytes(l.Filename, 100) + "]", lines: splitLines(t, maxLines)})
	}
	return out
}

func splitLines(s string, n int) []string {
	if s == "" {
		return nil
	}
	ls := strings.SplitN(s, "\n", n+1)
	if len(ls) > n {
		ls = ls[:n]
	}
	return ls
}

// clipBytes cuts s to at most n bytes on a rune boundary.
func clipBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	i := n
	for i > 0 && i > n-4 && s[i]&0xC0 == 0x80 {
		i--
	}
	return s[:i]
}
