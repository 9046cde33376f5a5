package xarf

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"

	"abusedesk/internal/report"
)

// The abusix X-ARF JSON family: abusix/xarf schemas/{3,development,2,1,alpha}.
// "3" and "development" share xarf_shared.schema.json's current shape
// (ReporterType, a closed ReporterInfo, Hash objects); "2", "1" and "alpha"
// the older one (FileHash a string; alpha has FromAddress/ToAddress and
// InfringingUrl, and may omit Version).

type dialect struct {
	name    string // as in Version; "alpha" also for no Version
	current bool   // "3" or "development"
	label   string // for descriptions
}

// v3Type describes one ReportClass/ReportType of the family.
type v3Type struct {
	label     string
	ipBased   bool     // IpBasedReport: SourceIp required
	account   bool     // AccountBasedReport: Account, and no SourceIp/SourceUrl
	needURL   bool     // SourceUrl required
	oldURL    bool     // SourceUrl required before "3" (Content/Malware)
	in        []string // dialects that define it; nil = all
	net       string   // subtype when filed as network
	content   string   // subtype when filed as content
	spam      bool
	copyright bool
	required  []string // further required Report members
}

var (
	currentDialects = []string{"3", "development"}
	v3Types         = map[string]v3Type{
		"Activity/DOS":         {label: "DDoS attack", ipBased: true, net: "ddos"},
		"Activity/LoginAttack": {label: "Login attack", ipBased: true, net: "intrusion"},
		"Activity/PortScan":    {label: "Port scan", ipBased: true, net: "port_scan"},
		"Activity/Spam":        {label: "Spam", ipBased: true, spam: true},
		// Activity/Malware is the RPZ schema: a host that looked up a
		// malware domain, i.e. an infected host.
		"Activity/Malware":                       {label: "Infected host (RPZ rewrite of a malware domain lookup)", ipBased: true, net: "other"},
		"Content/Malware":                        {label: "Malware", content: "malware", oldURL: true},
		"Content/Phishing":                       {label: "Phishing", content: "phishing", needURL: true},
		"Content/Copyright":                      {label: "Copyright notification", content: "web_content", copyright: true, required: []string{"InfringedMaterial", "FileName"}},
		"Content/Trademark":                      {label: "Trademark infringement", content: "non_copyright_ip", required: []string{"TrademarkedMaterial"}},
		"Content/Botnet":                         {label: "Botnet member", net: "other"},
		"Content/ChildAbuse":                     {label: "Child sexual abuse material", content: "web_content", in: []string{"1", "2", "3", "alpha"}},
		"Content/ChildSexualAbuseMaterial":       {label: "Child sexual abuse material", content: "web_content", in: []string{"development"}},
		"Vulnerability/OpenService":              {label: "Open service", net: "other", in: []string{"1", "2", "3", "development"}, required: []string{"ServiceName"}},
		"Activity/Exploit":                       {label: "Exploit attempts", ipBased: true, net: "other", in: currentDialects},
		"Activity/PotentiallyCompromisedAccount": {label: "Potentially compromised account", account: true, net: "other", in: currentDialects, required: []string{"Account"}},
		"Activity/WebCrawler":                    {label: "Web crawler", net: "other", in: currentDialects},
		"Activity/Harassment":                    {label: "Harassment", content: "web_content", in: currentDialects, required: []string{"Harasser", "HarassmentDescription"}},
	}
)

func (t v3Type) defined(d dialect) bool { return t.in == nil || slices.Contains(t.in, d.name) }

var (
	cveRE    = regexp.MustCompile(`^CVE-\d{4}-\d{4,7}$`)
	cvss2RE  = regexp.MustCompile(`^\(?AV:[LAN]/AC:[HML]/Au:[MSN]/C:[NPC]/I:[NPC]/A:[NPC](/E:((ND)|(POC)|[UFH])/RL:([WU]|(ND)|(OF)|(TF))/RC:(C|(ND)|(UC)|(UR)))?(/CDP:([NLH]|ND|LM|MH)/TD:(ND|[NLMH])/CR:(ND|[NLMH])/IR:(ND|[LMH])/AR:(ND|[LMH]))?\)?$`)
	cvss3RE  = regexp.MustCompile(`^CVSS:3.[01]/AV:[NALP]/AC:[LH]/PR:[NLH]/UI:[NR]/S:[UC]/C:[NLH]/I:[NLH]/A:[NLH](/E:[XUPFH]/RL:[XOTWU]/RC:[XURC])?(/CR:[XLMH]/IR:[XLMH]/AR:[XLMH]/MAV:[XNALP]/MAC:[XLH]/MPR:[XNLH]/MUI:[XNR]/MS:[XUC]/MC:[XNLH]/MI:[XNLH]/MA:[XNLH])?$`)
	hashAlgs = []string{"sha1", "sha2", "sha3", "sha256", "sha512", "md5", "argon2id", "scrypt", "bcrypt", "pbkdf2"}
)

var reporterKeys = []string{"ReporterType", "ReporterOrg", "ReporterOrgDomain", "ReporterOrgEmail", "ReporterOrgAddress", "ReporterContactEmail", "ReporterContactName", "ReporterContactPhone"}

func mapV3(o map[string]any) (*report.Report, report.Errors) {
	c := &checker{}
	d := dialect{name: "alpha", label: "X-ARF alpha (no Version)"}
	if v, ok := o["Version"]; ok {
		s, isString := v.(string)
		switch {
		case !isString:
			c.add("Version", report.CodeWrongType, "Version must be a string such as \"3\", not %s", show(v))
		case slices.Contains([]string{"3", "development", "2", "1", "alpha"}, s):
			d = dialect{name: s, current: s == "3" || s == "development", label: "X-ARF " + s}
			if s == "3" {
				d.label = "X-ARF v3"
			}
		default:
			c.add("Version", report.CodeInvalidChoice, "Version %q is not an X-ARF JSON schema version: 3, development, 2, 1 or alpha (XARF v4 documents have xarf_version instead)", clip(s))
		}
	}
	e := &event{format: d.label}

	// ReporterInfo: who the desk answers.
	info, infoOK := c.object(o, "", "ReporterInfo", true)
	var org, domain, orgEmail, contactEmail, contactName string
	person := false
	if infoOK {
		const p = "ReporterInfo"
		if d.current {
			rt, _ := c.choice(info, p, "ReporterType", false, "Org", "Person")
			person = rt == "Person" // contact data is optional for a natural person
		}
		org, _ = c.minLen(info, p, "ReporterOrg", !person, 3)
		domain, _ = c.host(info, p, "ReporterOrgDomain", !person)
		orgEmail, _ = c.email(info, p, "ReporterOrgEmail", !person)
		c.str(info, p, "ReporterOrgAddress", false)
		contactEmail, _ = c.email(info, p, "ReporterContactEmail", false)
		contactName, _ = c.minLen(info, p, "ReporterContactName", false, 3)
		c.minLen(info, p, "ReporterContactPhone", false, 3)
		if d.current {
			c.unknownKeys(info, p, reporterKeys...)
		}
		_, hasOrgEmail := info["ReporterOrgEmail"]
		_, hasContactEmail := info["ReporterContactEmail"]
		// X-ARF lets a natural person stay unreachable: the report is
		// taken as anonymous (no mail; followed by its status link only).
		e.anonymous = person && !hasOrgEmail && !hasContactEmail
	}
	org, contactName = oneLine(org), oneLine(contactName) // names may end up in mail headers
	// An organisation is answered at its organisation address, a person at
	// their own.
	if person {
		e.reporter = report.Reporter{Name: firstOf(contactName, org, contactEmail, orgEmail), Email: firstOf(contactEmail, orgEmail), Organization: org, Kind: "individual"}
	} else {
		e.reporter = report.Reporter{Name: firstOf(org, contactName, orgEmail), Email: firstOf(orgEmail, contactEmail), Organization: org, Kind: reporterKind(org, domain)}
	}
	e.reporterDomain = firstOf(domain, emailDomain(e.reporter.Email))

	if ob, ok := c.object(o, "", "OnBehalfOf", false); ok {
		e.behalf = c.v3OnBehalfOf(ob, d)
	}
	c.boolean(o, "", "Disclosure", true)
	if d.name != "1" && d.name != "alpha" {
		c.v3Internal(o)
	}

	r, ok := c.object(o, "", "Report", true)
	if !ok {
		return nil, c.es
	}
	const p = "Report"
	class, classOK := c.choice(r, p, "ReportClass", true, "Content", "Activity", "Vulnerability")
	typ, typOK := c.str(r, p, "ReportType", true)
	t, tOK := v3Types[class+"/"+typ]
	tOK = tOK && classOK && typOK && t.defined(d)
	if typOK && !tOK {
		var classes, names []string
		for k, tt := range v3Types {
			cl, ty, _ := strings.Cut(k, "/")
			if !tt.defined(d) {
				continue
			}
			names = append(names, ty)
			if ty == typ {
				classes = append(classes, cl)
			}
		}
		slices.Sort(names)
		names = slices.Compact(names)
		switch {
		case len(classes) > 0 && classOK:
			slices.Sort(classes)
			c.add("Report.ReportClass", report.CodeInvalidChoice, "a %s report has ReportClass %s, not %s", clip(typ), strings.Join(classes, " or "), class)
		case len(classes) == 0:
			c.add("Report.ReportType", report.CodeInvalidChoice, "ReportType %q is not a type of %s: one of %s", clip(typ), d.label, strings.Join(names, ", "))
		}
	}
	e.kind = clip(class + "/" + typ)
	e.label = t.label

	// Members, in schema order. Each is checked wherever it appears.
	switch {
	case tOK && class+"/"+typ == "Activity/Malware":
		c.choice(r, p, "ReportSubType", false, "RPZ-Rewrite")
	case tOK && typ == "ChildSexualAbuseMaterial":
		c.choice(r, p, "ReportSubType", false, "Link-Sharing")
	default:
		c.str(r, p, "ReportSubType", false)
	}
	c.str(r, p, "ReporterCaseID", false)
	c.choice(r, p, "ReporterSeverity", false, "low", "medium", "high")
	e.notes, _ = c.str(r, p, "ReporterNotes", false)
	if custom, ok := c.object(r, p, "Custom", false); ok {
		keys := make([]string, 0, len(custom))
		for k := range custom {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			v := custom[k]
			if _, isString := v.(string); !isString {
				if _, isInt := asInt(v); !isInt {
					c.add(join("Report.Custom", k), report.CodeWrongType, "a Custom value is a string or an integer, not %s", kindOf(v))
				}
			}
		}
	}

	srcIP, hasIP := c.ip(r, p, "SourceIp", tOK && t.ipBased)
	e.sourcePort, _ = c.port(r, p, "SourcePort", 0)
	c.integer(r, p, "ASN", false, 1, 4199999999)
	srcURL, hasURL := c.uri(r, p, "SourceUrl", tOK && (t.needURL || t.oldURL && !d.current))
	infringingURL, _ := c.uri(r, p, "InfringingUrl", false)
	_, ipPresent := r["SourceIp"]
	_, urlPresent := r["SourceUrl"]
	if tOK && !t.ipBased && !t.account && !ipPresent && !urlPresent {
		c.add("Report.SourceIp", report.CodeRequired, "SourceIp or SourceUrl is required when ReportType is %s", typ)
	}
	if tOK && t.account {
		for _, k := range []string{"SourceIp", "SourceUrl"} {
			if _, ok := r[k]; ok {
				c.add(join(p, k), report.CodeNotApplicable, "a %s report is about an account, not a source: the address that used the account goes in AttackerIp", typ)
			}
		}
	}
	destIP, _ := c.ip(r, p, "DestinationIp", false)
	if _, ok := r["DestinationIp"]; !ok && tOK && t.account {
		// The desk acts on an address; this one names the service where
		// the account was used (see the mapping below).
		c.add("Report.DestinationIp", report.CodeRequired, "DestinationIp is required: it names the service where the account was used, which is what the desk can act on")
	}
	destPorts := c.ports(r, p, "DestinationPort")
	attackerIP, _ := c.ip(r, p, "AttackerIp", false)
	c.ports(r, p, "AttackerPort")
	c.integer(r, p, "ByteCount", false, math.MinInt64, math.MaxInt64)
	c.integer(r, p, "PacketCount", false, math.MinInt64, math.MaxInt64)
	for _, k := range []string{"SmtpMailFromAddress", "SmtpRcptToAddress", "FromAddress", "ToAddress"} {
		c.email(r, p, k, false)
	}
	c.str(r, p, "ServiceName", false)
	c.str(r, p, "ServiceVersion", false)
	transport, _ := c.choice(r, p, "TransportProtocol", false, "tcp", "udp")
	c.str(r, p, "Harasser", false)
	c.str(r, p, "HarassmentDescription", false)
	c.choice(r, p, "HarassmentType", false, "doxing", "stalking", "sexual", "believes", "defamation", "extortion", "hate")
	c.choice(r, p, "HarassmentLocation", false, "website", "chat", "game")
	if cve, ok := c.str(r, p, "CVE", false); ok && !cveRE.MatchString(cve) {
		c.add("Report.CVE", report.CodeInvalid, "CVE %q is not a CVE identifier such as CVE-2021-44228", clip(cve))
	}
	if cvss, ok := c.object(r, p, "CVSS", false); ok {
		c.v3CVSS(cvss)
	}
	c.boolean(r, p, "Ongoing", false)
	c.str(r, p, "ThreatActor", false)
	e.evidence = c.v3Samples(r, d)
	c.str(r, p, "FileName", false)
	c.integer(r, p, "FileSize", false, 0, math.MaxInt64)
	c.v3FileHash(r, p, "FileHash", d)
	for _, k := range []string{"InfringedMaterial", "MaterialType", "SharingProtocol", "TrademarkedMaterial", "RegistrationOffice", "RegistrationNumber", "MalwareName", "BotnetName"} {
		c.str(r, p, k, false)
	}
	c.uri(r, p, "CourtOrder", false)
	c.host(r, p, "RpzDomain", false)
	account := ""
	if acc, ok := c.object(r, p, "Account", false); ok {
		const ap = "Report.Account"
		if len(acc) == 0 {
			c.add(ap, report.CodeRequired, "Account must name the account (AccountIdentifier, AccountEmail...)")
		}
		if id, ok := c.str(acc, ap, "AccountIdentifier", false); ok {
			if validEmail(id) {
				c.add(join(ap, "AccountIdentifier"), report.CodeInvalid, "AccountIdentifier %q is an email address: it goes in AccountEmail", clip(id))
			}
			account = id
		}
		if em, ok := c.str(acc, ap, "AccountEmail", false); ok {
			account = firstOf(account, em)
		}
		if account == "" {
			if name, ok := acc["AccountName"].(string); ok {
				account = name
			}
		}
	}
	if h, ok := c.object(r, p, "PasswordHash", false); ok {
		c.v3Hash(h, "Report.PasswordHash")
	}
	if tOK {
		for _, k := range t.required {
			if _, ok := r[k]; !ok {
				c.add(join(p, k), report.CodeRequired, "%s is required when ReportType is %s", k, typ)
			}
		}
	}

	// What the desk files.
	if tOK {
		e.netSubtype, e.contentSubtype, e.spam, e.copyright = t.net, t.content, t.spam, t.copyright
	}
	if hasIP {
		e.sourceIP = srcIP
	}
	if hasURL {
		e.urls = appendURL(e.urls, srcURL)
		if ip, host, _, ok := classifySource(srcURL); ok {
			e.sourceHost = firstOf(host, ip)
		}
	}
	e.urls = appendURL(e.urls, infringingURL)
	e.target = destIP
	if len(destPorts) == 1 {
		e.targetPort = &destPorts[0]
	}
	e.protocol = transport
	if t.spam {
		e.protocol = "smtp"
	}
	if tOK && t.account {
		// A PotentiallyCompromisedAccount report notifies the holder of an
		// account whose credentials were used at DestinationIp; the
		// attacker, when known, is context (X-ARF "WithAttacker"). The
		// desk acts on an address at a time, so the incident names the
		// service address as its source and says so.
		e.sourceIP, e.target, e.sourcePort, e.targetPort = destIP, "", e.targetPort, nil
		e.subject = fmt.Sprintf("The incident's source_ip is the address of the service where the credentials of account %q were used (the report's DestinationIp), the subject of this notice; it is not an attacker.", oneLine(account))
		if attackerIP != "" {
			e.subject += " The credentials were used from " + attackerIP + "."
		}
	}

	var f filing
	if tOK && len(c.es) == 0 {
		if f, ok = decide(e); !ok {
			c.add("Report.SourceIp", report.CodeRequired, "SourceIp or SourceUrl is required when ReportType is %s", typ)
		}
	}
	_, hasFirst := r["FirstSeen"]
	first, firstOK := c.dateTime(r, p, "FirstSeen", false, f.incident)
	date, dateOK := c.dateTime(r, p, "Date", true, f.incident && !hasFirst)
	switch {
	case hasFirst && firstOK:
		e.timestamp = first
	case !hasFirst && dateOK:
		e.timestamp = date
	}
	if len(c.es) > 0 {
		return nil, c.es
	}

	var sum []string
	add := func(format, key string) {
		if v, ok := r[key].(string); ok && strings.TrimSpace(v) != "" {
			sum = append(sum, fmt.Sprintf(format, oneLine(v)))
		}
	}
	add("work %q", "InfringedMaterial")
	add("(%s)", "MaterialType")
	add("file %q", "FileName")
	add("via %s", "SharingProtocol")
	add("court order %s", "CourtOrder")
	add("trademark %q", "TrademarkedMaterial")
	add("botnet %s", "BotnetName")
	add("malware %s", "MalwareName")
	add("looked up %s", "RpzDomain")
	add("service %s", "ServiceName")
	add("version %s", "ServiceVersion")
	add("%s", "CVE")
	add("harasser %q", "Harasser")
	add("envelope sender %s", "SmtpMailFromAddress")
	add("envelope sender %s", "FromAddress")
	e.summary = cut(strings.Join(sum, ", "), 2<<10)
	e.fields = func(t *textBuilder) {
		t.linef("reporter: %s <%s>", oneLine(e.reporter.Name), e.reporter.Email)
		if e.behalf != "" {
			t.linef("complainant: %s", strings.TrimPrefix(e.behalf, "on behalf of "))
		}
		if v, ok := o["Disclosure"].(bool); ok {
			t.linef("Disclosure: %t", v)
		}
		// InternalProcessing is the relaying party's own data about the
		// customer: it is not shown.
		writeFields(t, r, "Samples", "ReportClass", "ReportType")
		if f.messagePath != "" {
			t.linef("the reported message is %s", f.messagePath)
		}
	}
	return build(e, f), nil
}

// firstOf is the first non-empty string.
func firstOf(s ...string) string {
	for _, v := range s {
		if strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// v3OnBehalfOf checks the complainant a reporter acts for and names it.
func (c *checker) v3OnBehalfOf(m map[string]any, d dialect) string {
	const p = "OnBehalfOf"
	person := false
	if d.current {
		ct, _ := c.choice(m, p, "ComplainantType", false, "Org", "Person")
		person = ct == "Person"
	}
	org, _ := c.minLen(m, p, "ComplainantOrg", !person, 3)
	c.host(m, p, "ComplainantOrgDomain", !person)
	orgEmail, _ := c.email(m, p, "ComplainantOrgEmail", !person)
	contactEmail, _ := c.email(m, p, "ComplainantContactEmail", false)
	name, _ := c.minLen(m, p, "ComplainantContactName", false, 3)
	c.minLen(m, p, "ComplainantContactPhone", false, 3)
	who := oneLine(firstOf(org, name))
	if em := firstOf(orgEmail, contactEmail); em != "" {
		who += " <" + em + ">"
	}
	if strings.TrimSpace(who) == "" {
		return ""
	}
	return "on behalf of " + strings.TrimSpace(who)
}

// v3Internal checks InternalProcessing, which relays use for their own
// customer data; the desk does not use it.
func (c *checker) v3Internal(o map[string]any) {
	m, ok := c.object(o, "", "InternalProcessing", false)
	if !ok {
		return
	}
	const p = "InternalProcessing"
	stringMap := func(m map[string]any, path, key string) {
		sm, ok := c.object(m, path, key, false)
		if !ok {
			return
		}
		keys := make([]string, 0, len(sm))
		for k := range sm {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			c.str(sm, join(path, key), k, false)
		}
	}
	for _, k := range []string{"SubscriberInformation", "ContractInformation"} {
		if s, ok := c.object(m, p, k, false); ok {
			c.str(s, join(p, k), "ID", false)
			stringMap(s, join(p, k), map[string]string{"SubscriberInformation": "SubscriberData", "ContractInformation": "ResolverData"}[k])
		}
	}
	if tags, ok := c.array(m, p, "EventTags"); ok {
		for i, t := range tags {
			if _, ok := t.(string); !ok {
				c.add(index(join(p, "EventTags"), i), report.CodeWrongType, "an event tag is a string, not %s", kindOf(t))
			}
		}
	}
}

func (c *checker) v3CVSS(m map[string]any) {
	const p = "Report.CVSS"
	ver, verOK := c.choice(m, p, "Version", true, "3.1", "3.0", "2")
	vec, vecOK := c.str(m, p, "Vector", true)
	c.number(m, p, "Score", 0, 10)
	sevs := []string{"None", "Low", "Medium", "High", "Critical"}
	re := cvss3RE
	if ver == "2" {
		sevs, re = []string{"Low", "Medium", "High"}, cvss2RE
	}
	if verOK && vecOK && !re.MatchString(vec) {
		c.add(join(p, "Vector"), report.CodeInvalid, "Vector %q is not a CVSS %s vector", clip(vec), ver)
	}
	c.choice(m, p, "Severity", false, sevs...)
}

func (c *checker) v3Hash(m map[string]any, path string) {
	c.str(m, path, "HashValue", true)
	c.choice(m, path, "HashAlgorithm", true, hashAlgs...)
	c.boolean(m, path, "HashComplete", false)
}

// v3FileHash: a Hash object in "3" and "development", a string before.
func (c *checker) v3FileHash(m map[string]any, path, key string, d dialect) string {
	v, ok := m[key]
	if !ok {
		return ""
	}
	if !d.current {
		s, _ := c.str(m, path, key, false)
		return s
	}
	h, ok := v.(map[string]any)
	if !ok {
		c.add(join(path, key), report.CodeWrongType, "%s must be an object with HashValue and HashAlgorithm, not %s", key, kindOf(v))
		return ""
	}
	c.v3Hash(h, join(path, key))
	alg, _ := h["HashAlgorithm"].(string)
	val, _ := h["HashValue"].(string)
	return alg + ":" + val
}

// v3Samples checks and decodes Report.Samples: each is a sample (ContentType
// and Payload, base64 when Base64Encoded) or a file (FileName).
func (c *checker) v3Samples(r map[string]any, d dialect) []evidence {
	const p = "Report.Samples"
	a, ok := c.array(r, "Report", "Samples")
	if !ok {
		return nil
	}
	if len(a) == 0 {
		c.add(p, report.CodeRequired, "Samples, when given, holds at least one sample")
	}
	var out []evidence
	for i, it := range a {
		sp := index(p, i)
		m, ok := it.(map[string]any)
		if !ok {
			c.add(sp, report.CodeWrongType, "a sample is an object, not %s", kindOf(it))
			continue
		}
		ct, _ := c.str(m, sp, "ContentType", false)
		b64, _ := c.boolean(m, sp, "Base64Encoded", false)
		desc, _ := c.str(m, sp, "Description", false)
		payload, hasPayload := c.str(m, sp, "Payload", false)
		name, _ := c.str(m, sp, "FileName", false)
		c.integer(m, sp, "FileSize", false, 0, math.MaxInt64)
		hash := c.v3FileHash(m, sp, "FileHash", d)
		_, ctPresent := m["ContentType"]
		_, payloadPresent := m["Payload"]
		_, namePresent := m["FileName"]
		if !(ctPresent && payloadPresent) && !namePresent {
			c.add(sp, report.CodeRequired, "a sample needs ContentType and Payload, or FileName")
		}
		e := evidence{path: sp, contentType: ct, description: desc, hash: hash, fileName: name}
		if hasPayload {
			if b64 {
				if data, ok := decodeBase64(payload); ok {
					e.data, e.hasData = data, true
				} else {
					c.add(join(sp, "Payload"), report.CodeInvalid, "Payload is not base64, though Base64Encoded is true")
				}
			} else {
				e.data, e.hasData = []byte(payload), true
			}
		}
		out = append(out, e)
	}
	return out
}
