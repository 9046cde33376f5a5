package xarf

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"abusedesk/internal/report"
)

// XARF v4: xarf-spec schemas/v4/xarf-core.json and types/*.json.

var (
	v4Version = regexp.MustCompile(`^4\.[0-9]+(\.[0-9]+)?$`) // core: ^4\.[0-9]+\.[0-9]+$; "4.2" is read too
	uuidRE    = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	hashRE    = regexp.MustCompile(`^(md5|sha1|sha256|sha512):[a-fA-F0-9]+$`)
	tagRE     = regexp.MustCompile(`^[a-z0-9][a-z0-9_+-]*:[a-z0-9][a-z0-9_+-]*$`)
)

var v4Categories = []string{"messaging", "content", "copyright", "connection", "vulnerability", "infrastructure", "reputation"}

// v4Types: xarf-v4-master.json, "valid category and type combinations".
var v4Types = map[string][]string{
	"messaging":      {"spam", "bulk_messaging"},
	"connection":     {"login_attack", "port_scan", "ddos", "infected_host", "reconnaissance", "scraping", "sql_injection", "vulnerability_scan"},
	"vulnerability":  {"cve", "open_service", "misconfiguration"},
	"reputation":     {"blocklist", "threat_intelligence"},
	"infrastructure": {"botnet", "compromised_server"},
	"content":        {"phishing", "malware", "csam", "csem", "exposed_data", "brand_infringement", "fraud", "remote_compromise", "suspicious_registration"},
	"copyright":      {"copyright", "p2p", "cyberlocker", "ugc_platform", "link_site", "usenet"},
}

// v4Required: the "required" lists of types/*.json (content-base.json adds
// url to every content type).
var v4Required = map[string][]string{
	"connection/ddos":                   {"protocol", "first_seen"},
	"connection/infected_host":          {"protocol", "bot_type", "first_seen"},
	"connection/login_attack":           {"protocol", "first_seen"},
	"connection/port_scan":              {"protocol", "first_seen"},
	"connection/reconnaissance":         {"protocol", "probed_resources", "first_seen"},
	"connection/scraping":               {"protocol", "first_seen", "total_requests"},
	"connection/sql_injection":          {"protocol", "first_seen"},
	"connection/vulnerability_scan":     {"scan_type", "protocol", "first_seen"},
	"content/phishing":                  {"url"},
	"content/malware":                   {"url"},
	"content/brand_infringement":        {"url", "infringement_type", "legitimate_site"},
	"content/csam":                      {"url", "classification", "detection_method"},
	"content/csem":                      {"url", "exploitation_type", "detection_method"},
	"content/exposed_data":              {"url", "data_types", "exposure_method"},
	"content/fraud":                     {"url", "fraud_type"},
	"content/remote_compromise":         {"url", "compromise_type"},
	"content/suspicious_registration":   {"url", "registration_date", "suspicious_indicators"},
	"copyright/copyright":               {"infringing_url"},
	"copyright/cyberlocker":             {"infringing_url", "hosting_service"},
	"copyright/link_site":               {"infringing_url", "site_name"},
	"copyright/p2p":                     {"p2p_protocol", "swarm_info"},
	"copyright/ugc_platform":            {"infringing_url", "platform_name"},
	"copyright/usenet":                  {"newsgroup", "message_info"},
	"infrastructure/botnet":             {"compromise_evidence"},
	"infrastructure/compromised_server": {"compromise_method"},
	"messaging/bulk_messaging":          {"protocol", "recipient_count"},
	"messaging/spam":                    {"protocol"},
	"reputation/blocklist":              {"threat_type"},
	"reputation/threat_intelligence":    {"threat_type"},
	"vulnerability/cve":                 {"service", "service_port", "cve_id"},
	"vulnerability/misconfiguration":    {"service"},
	"vulnerability/open_service":        {"service"},
}

var v4Labels = map[string]string{
	"connection/ddos":                   "DDoS attack",
	"connection/login_attack":           "Login attack",
	"connection/port_scan":              "Port scan",
	"connection/infected_host":          "Infected host",
	"connection/reconnaissance":         "Reconnaissance probing",
	"connection/scraping":               "Scraping",
	"connection/sql_injection":          "SQL injection attempts",
	"connection/vulnerability_scan":     "Vulnerability scan",
	"infrastructure/botnet":             "Botnet member",
	"infrastructure/compromised_server": "Compromised server",
	"vulnerability/cve":                 "Vulnerable service",
	"vulnerability/open_service":        "Open service",
	"vulnerability/misconfiguration":    "Misconfigured service",
	"reputation/blocklist":              "Blocklisted source",
	"reputation/threat_intelligence":    "Threat intelligence listing",
	"messaging/spam":                    "Spam",
	"messaging/bulk_messaging":          "Bulk messaging",
	"content/phishing":                  "Phishing",
	"content/malware":                   "Malware",
	"content/csam":                      "Child sexual abuse material",
	"content/csem":                      "Child sexual exploitation material",
	"content/exposed_data":              "Exposed data",
	"content/brand_infringement":        "Brand infringement",
	"content/fraud":                     "Fraud",
	"content/remote_compromise":         "Compromised website",
	"content/suspicious_registration":   "Suspicious registration",
}

// v4Summary lists the members worth a word in the description.
var v4Summary = []struct{ key, format string }{
	{"work_title", "work %q"},
	{"work_identifier", "(%s)"},
	{"rights_holder", "rights holder %s"},
	{"target_brand", "imitating %s"},
	{"affected_brand", "brand %s"},
	{"malware_family", "malware family %s"},
	{"fraud_type", "fraud type %s"},
	{"attack_vector", "vector %s"},
	{"service", "service %s"},
	{"cve_id", "%s"},
	{"threat_type", "threat type %s"},
	{"newsgroup", "newsgroup %s"},
	{"p2p_protocol", "via %s"},
	{"hosting_service", "hosting service %s"},
	{"platform_name", "platform %s"},
	{"smtp_from", "envelope sender %s"},
	{"subject", "subject %q"},
}

type v4Contact struct{ org, contact, domain string }

func (c *checker) v4Contact(o map[string]any, key string) (v4Contact, bool) {
	m, ok := c.object(o, "", key, true)
	if !ok {
		return v4Contact{}, false
	}
	var k v4Contact
	org, ok1 := c.str(m, key, "org", true)
	if ok1 && len([]rune(org)) > 200 {
		c.add(join(key, "org"), report.CodeTooLarge, "org is at most 200 characters")
		ok1 = false
	}
	contact, ok2 := c.email(m, key, "contact", true)
	domain, ok3 := c.host(m, key, "domain", true)
	c.unknownKeys(m, key, "org", "contact", "domain")
	k = v4Contact{org: strings.TrimSpace(org), contact: contact, domain: domain}
	return k, ok1 && ok2 && ok3
}

func (c *checker) v4Evidence(o map[string]any) []evidence {
	a, ok := c.array(o, "", "evidence")
	if !ok {
		return nil
	}
	if len(a) > 50 {
		c.add("evidence", report.CodeTooMany, "at most 50 evidence items (got %d)", len(a))
	}
	var out []evidence
	for i, it := range a {
		p := index("evidence", i)
		m, ok := it.(map[string]any)
		if !ok {
			c.add(p, report.CodeWrongType, "an evidence item is an object, not %s", kindOf(it))
			continue
		}
		ct, _ := c.str(m, p, "content_type", true)
		desc, _ := c.maxLen(m, p, "description", 500)
		payload, hasPayload := c.str(m, p, "payload", true)
		hash, hasHash := c.str(m, p, "hash", false)
		if hasHash && !hashRE.MatchString(hash) {
			c.add(join(p, "hash"), report.CodeInvalid, "hash %q is not algorithm:hex (md5, sha1, sha256 or sha512)", clip(hash))
		}
		c.integer(m, p, "size", false, 0, 5<<20)
		c.unknownKeys(m, p, "content_type", "description", "payload", "hash", "size")
		e := evidence{path: p, contentType: ct, description: desc, hash: hash}
		if hasPayload {
			if data, ok := decodeBase64(payload); ok {
				e.data, e.hasData = data, true
			} else {
				c.add(join(p, "payload"), report.CodeInvalid, "payload is not base64: XARF v4 evidence is base64-encoded")
			}
		}
		out = append(out, e)
	}
	return out
}

func mapV4(o map[string]any) (*report.Report, report.Errors) {
	c := &checker{}
	e := &event{}

	ver, ok := c.str(o, "", "xarf_version", true)
	if ok && !v4Version.MatchString(ver) {
		c.add("xarf_version", report.CodeInvalidChoice, "xarf_version %q is not a 4.x version such as 4.2.0 (X-ARF v3 documents have Version instead)", clip(ver))
	}
	e.format = "XARF " + clip(ver)
	if id, ok := c.str(o, "", "report_id", true); ok && !uuidRE.MatchString(id) {
		c.add("report_id", report.CodeInvalid, "report_id %q is not a UUID such as 550e8400-e29b-41d4-a716-446655440000", clip(id))
	}
	rep, repOK := c.v4Contact(o, "reporter")
	snd, sndOK := c.v4Contact(o, "sender")

	src, srcOK := c.str(o, "", "source_identifier", true)
	var srcURL string
	if srcOK {
		var ok bool
		e.sourceIP, e.sourceHost, srcURL, ok = classifySource(src)
		if !ok {
			c.add("source_identifier", report.CodeInvalid, "source_identifier %q is neither an IP address, a host name nor a URL", clip(src))
			srcOK = false
		}
	}
	e.sourcePort, _ = c.port(o, "", "source_port", 1)

	cat, catOK := c.choice(o, "", "category", true, v4Categories...)
	typ, typOK := c.str(o, "", "type", true)
	if catOK && typOK && !slices.Contains(v4Types[cat], typ) {
		c.add("type", report.CodeInvalidChoice, "type %q is not a %s type: one of %s", clip(typ), cat, strings.Join(v4Types[cat], ", "))
		typOK = false
	}
	key := cat + "/" + typ
	e.kind = clip(key)

	c.str(o, "", "evidence_source", false)
	e.evidence = c.v4Evidence(o)
	if tags, ok := c.array(o, "", "tags"); ok {
		if len(tags) > 20 {
			c.add("tags", report.CodeTooMany, "at most 20 tags (got %d)", len(tags))
		}
		for i, t := range tags {
			if s, ok := t.(string); !ok || !tagRE.MatchString(s) {
				c.add(index("tags", i), report.CodeInvalid, "a tag is namespace:predicate in lower case, e.g. malware:conficker (got %s)", show(t))
			}
		}
	}
	c.number(o, "", "confidence", 0, 1)
	e.notes, _ = c.maxLen(o, "", "description", 1000)
	c.choice(o, "", "legacy_version", false, "3")

	// Type members the mapping reads.
	dest, _ := c.ip(o, "", "destination_ip", false)
	e.targetPort, _ = c.port(o, "", "destination_port", 1)
	e.protocol, _ = c.str(o, "", "protocol", false)
	c.port(o, "", "service_port", 1)
	c.email(o, "", "smtp_from", false)
	c.email(o, "", "smtp_to", false)
	pageURL, _ := c.uri(o, "", "url", false)
	infringing, _ := c.uri(o, "", "infringing_url", false)
	targetURL, _ := c.uri(o, "", "target_url", false)

	if catOK && typOK {
		for _, k := range v4Required[key] {
			if _, ok := o[k]; !ok {
				c.add(k, report.CodeRequired, "%s is required when category/type is %s", k, key)
			}
		}
		switch key {
		case "messaging/spam", "messaging/bulk_messaging":
			if e.protocol == "smtp" {
				for _, k := range []string{"smtp_from", "source_port"} {
					if _, ok := o[k]; !ok {
						c.add(k, report.CodeRequired, "%s is required when category/type is %s over smtp", k, key)
					}
				}
			}
		case "connection/ddos", "connection/login_attack", "connection/port_scan":
			// Behind carrier-grade NAT an address names many subscribers;
			// the schema wants the port with it.
			if _, ok := o["source_port"]; !ok && e.sourceIP != "" {
				c.add("source_port", report.CodeRequired, "source_port is required when category/type is %s and the source is an IP address", key)
			}
		case "copyright/p2p":
			if si, ok := o["swarm_info"].(map[string]any); ok {
				if _, h := si["info_hash"]; !h {
					if _, m := si["magnet_uri"]; !m {
						c.add("swarm_info", report.CodeRequired, "swarm_info needs info_hash or magnet_uri")
					}
				}
			}
		}
	}

	// The reporter is who the desk answers: reporter.contact. The sender
	// (who transmitted the report) is only named.
	e.reporter = report.Reporter{Name: oneLine(rep.org), Email: rep.contact, Organization: oneLine(rep.org), Kind: reporterKind(rep.org, rep.domain)}
	if e.reporter.Name == "" {
		e.reporter.Name = rep.contact
	}
	e.reporterDomain = rep.domain
	if repOK && sndOK && (snd.contact != rep.contact || snd.org != rep.org) {
		e.behalf = fmt.Sprintf("(sent by %s <%s>)", oneLine(snd.org), snd.contact)
	}

	switch cat {
	case "connection":
		e.netSubtype = map[string]string{"ddos": "ddos", "login_attack": "intrusion", "port_scan": "port_scan"}[typ]
	case "messaging":
		e.spam = true
	case "content":
		e.contentSubtype = map[string]string{"phishing": "phishing", "malware": "malware", "brand_infringement": "non_copyright_ip"}[typ]
		if e.contentSubtype == "" {
			e.contentSubtype = "web_content"
		}
	case "copyright":
		e.contentSubtype, e.copyright = "web_content", true
	}
	e.label = v4Labels[key]
	if e.label == "" {
		e.label = "Abuse"
	}
	e.urls = appendURL(appendURL(appendURL(nil, pageURL), infringing), srcURL)
	e.target = dest
	if e.target == "" && targetURL != "" {
		if u, err := url.Parse(targetURL); err == nil && report.ValidHost(u.Hostname()) {
			e.target = strings.ToLower(u.Hostname())
		}
	}

	// decide runs on a clean document only: then a zone-less incident time
	// is left to report.Validator; otherwise it is reported with the rest.
	var f filing
	if srcOK && catOK && typOK && len(c.es) == 0 {
		if f, ok = decide(e); !ok {
			c.add("source_identifier", report.CodeInvalid, "a %s report needs a URL or an IP address to act on", key)
		}
	}
	// The incident's instant: first_seen, else timestamp.
	first, hasFirst := o["first_seen"]
	_, firstOK := c.dateTime(o, "", "first_seen", false, f.incident)
	ts, tsOK := c.dateTime(o, "", "timestamp", true, f.incident && !hasFirst)
	c.dateTime(o, "", "last_seen", false, false)
	c.dateTime(o, "", "threshold_exceeded", false, false)
	if hasFirst && firstOK {
		e.timestamp, _ = first.(string)
	} else if !hasFirst && tsOK {
		e.timestamp = ts
	}
	if len(c.es) > 0 {
		return nil, c.es
	}

	var sum []string
	for _, s := range v4Summary {
		if v, ok := o[s.key].(string); ok && strings.TrimSpace(v) != "" {
			sum = append(sum, fmt.Sprintf(s.format, oneLine(v)))
		}
	}
	e.summary = cut(strings.Join(sum, ", "), 2<<10)
	e.fields = func(t *textBuilder) {
		t.linef("reporter: %s <%s> (%s)", oneLine(rep.org), rep.contact, rep.domain)
		if e.behalf != "" {
			t.linef("sender: %s <%s> (%s)", oneLine(snd.org), snd.contact, snd.domain)
		}
		writeFields(t, o, "xarf_version", "reporter", "sender", "evidence", "_internal", "category", "type", "description")
		if f.messagePath != "" {
			t.linef("the reported message is %s", f.messagePath)
		}
	}
	return build(e, f), nil
}
