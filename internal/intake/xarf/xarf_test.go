package xarf

import (
	"encoding/base64"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"abusedesk/internal/report"
)

// doc builds a JSON document from base with over applied: a nil value
// deletes the member.
func doc(base, over map[string]any) []byte {
	d := maps.Clone(base)
	for k, v := range over {
		if v == nil {
			delete(d, k)
		} else {
			d[k] = v
		}
	}
	b, err := json.Marshal(d)
	if err != nil {
		panic(err)
	}
	return b
}

func v4Base() map[string]any {
	who := map[string]any{"org": "Honeypot Net", "contact": "abuse@honeypot.example", "domain": "honeypot.example"}
	return map[string]any{
		"xarf_version":      "4.2.0",
		"report_id":         "9ac39cd1-85f3-4c31-ae87-a0a95f3ebc83",
		"timestamp":         "2025-01-11T09:21:23Z",
		"reporter":          who,
		"sender":            who,
		"source_identifier": "192.0.2.1",
		"source_port":       4444,
		"category":          "connection",
		"type":              "ddos",
		"protocol":          "tcp",
		"first_seen":        "2025-01-11T08:45:00+01:00",
		"destination_ip":    "203.0.113.5",
		"destination_port":  80,
	}
}

func v4(over map[string]any) []byte { return doc(v4Base(), over) }

// v3 builds an X-ARF v3 document; over applies to the top level, rep to
// Report.
func v3(over, rep map[string]any) []byte {
	report := doc(map[string]any{
		"ReportClass":     "Activity",
		"ReportType":      "DOS",
		"Date":            "2018-02-05T14:17:10Z",
		"SourceIp":        "192.0.2.55",
		"SourcePort":      54321,
		"DestinationIp":   "198.51.100.33",
		"DestinationPort": 80,
		"Samples":         []any{map[string]any{"ContentType": "text/plain", "Base64Encoded": false, "Payload": "flood: 20 Mbit/s for 3 minutes"}},
	}, rep)
	return doc(map[string]any{
		"Version":      "3",
		"Disclosure":   true,
		"ReporterInfo": map[string]any{"ReporterOrg": "ExampleOrg", "ReporterOrgDomain": "example.com", "ReporterOrgEmail": "reports@example.com"},
		"Report":       json.RawMessage(report),
	}, over)
}

const spamMessage = "Received: from mail.spammer.example (mail.spammer.example [198.51.100.7])\r\n" +
	"\tby mx.honeypot.example with ESMTP id abc; Tue, 11 Feb 2025 10:00:00 +0000\r\n" +
	"From: \"Prize\" <win@spammer.example>\r\n" +
	"To: trap@honeypot.example\r\n" +
	"Subject: You won\r\n" +
	"Date: Tue, 11 Feb 2025 09:59:00 +0000\r\n" +
	"Message-ID: <1@spammer.example>\r\n" +
	"\r\n" +
	"Claim your prize now.\r\n"

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestMapping(t *testing.T) {
	spamEvidence := []any{map[string]any{"content_type": "message/rfc822", "payload": b64(spamMessage)}}
	tests := []struct {
		name            string
		data            []byte
		typ, subtype    string
		source, target  string
		timestamp       string // as in the incident, before validation
		url             string // first URL of a content report
		targetPort      int    // 0: none
		descPrefix      string
		kind            string // reporter.kind
		wantHeaders     bool
		wantInDesc, log string
	}{
		{name: "v4 ddos", data: v4(nil), typ: "network", subtype: "ddos", source: "192.0.2.1", target: "203.0.113.5",
			timestamp: "2025-01-11T08:45:00+01:00", targetPort: 80, descPrefix: "DDoS attack (XARF 4.2.0 connection/ddos) from 192.0.2.1", kind: "organization"},
		{name: "v4 login attack", data: v4(map[string]any{"type": "login_attack"}), typ: "network", subtype: "intrusion", source: "192.0.2.1", target: "203.0.113.5", timestamp: "2025-01-11T08:45:00+01:00", targetPort: 80},
		{name: "v4 port scan without destination: the reporter's domain", data: v4(map[string]any{"type": "port_scan", "destination_ip": nil, "destination_port": nil}),
			typ: "network", subtype: "port_scan", source: "192.0.2.1", target: "honeypot.example", timestamp: "2025-01-11T08:45:00+01:00", log: "is the reporter's domain"},
		{name: "v4 sql injection: target from target_url", data: v4(map[string]any{"type": "sql_injection", "destination_ip": nil, "target_url": "https://shop.example.net/p.php?id=1"}),
			typ: "network", subtype: "other", source: "192.0.2.1", target: "shop.example.net", timestamp: "2025-01-11T08:45:00+01:00", targetPort: 80},
		{name: "v4 ipv6 source canonical", data: v4(map[string]any{"source_identifier": "2001:DB8::0:1"}), typ: "network", subtype: "ddos", source: "2001:db8::1", target: "203.0.113.5", timestamp: "2025-01-11T08:45:00+01:00", targetPort: 80},
		{name: "v4 botnet from a CERT, no first_seen: timestamp", data: v4(map[string]any{
			"reporter": map[string]any{"org": "Example CERT", "contact": "cert@cert.example", "domain": "cert.example"},
			"category": "infrastructure", "type": "botnet", "compromise_evidence": "C2 traffic", "first_seen": nil}),
			typ: "network", subtype: "other", source: "192.0.2.1", target: "203.0.113.5", timestamp: "2025-01-11T09:21:23Z", targetPort: 80, kind: "cert",
			wantInDesc: "(sent by Honeypot Net <abuse@honeypot.example>)"},
		{name: "v4 phishing", data: v4(map[string]any{"category": "content", "type": "phishing", "url": "https://login.bank.example.org/x", "target_brand": "Bank"}),
			typ: "content", subtype: "phishing", url: "https://login.bank.example.org/x", descPrefix: "Phishing (XARF 4.2.0 content/phishing) at https://login.bank.example.org/x: imitating Bank"},
		{name: "v4 malware", data: v4(map[string]any{"category": "content", "type": "malware", "url": "http://dl.example.org/a.exe"}), typ: "content", subtype: "malware", url: "http://dl.example.org/a.exe"},
		{name: "v4 brand infringement", data: v4(map[string]any{"category": "content", "type": "brand_infringement", "url": "https://fake.example.org/", "infringement_type": "counterfeit", "legitimate_site": "https://real.example"}),
			typ: "content", subtype: "non_copyright_ip", url: "https://fake.example.org/"},
		{name: "v4 fraud", data: v4(map[string]any{"category": "content", "type": "fraud", "url": "https://scam.example.org/", "fraud_type": "investment"}), typ: "content", subtype: "web_content", url: "https://scam.example.org/"},
		{name: "v4 copyright is a notification, not dmca", data: v4(map[string]any{"category": "copyright", "type": "copyright",
			"infringing_url": "http://pirate.example.org/e5.mp4", "work_title": "Show S01E05", "rights_holder": "Broadcaster Ltd"}),
			typ: "content", subtype: "web_content", url: "http://pirate.example.org/e5.mp4",
			descPrefix: `Copyright notification (XARF 4.2.0 copyright/copyright) at http://pirate.example.org/e5.mp4: work "Show S01E05", rights holder Broadcaster Ltd.`,
			wantInDesc: "Not a DMCA notice"},
		{name: "v4 copyright p2p from an address: an incident keeps the time", data: v4(map[string]any{"category": "copyright", "type": "p2p",
			"p2p_protocol": "bittorrent", "swarm_info": map[string]any{"info_hash": "da39a3ee5e6b4b0d3255bfef95601890afd80709"}, "destination_ip": nil, "destination_port": nil, "first_seen": nil}),
			typ: "network", subtype: "other", source: "192.0.2.1", target: "honeypot.example", timestamp: "2025-01-11T09:21:23Z", descPrefix: "Copyright notification (XARF 4.2.0 copyright/p2p) from 192.0.2.1"},
		{name: "v4 usenet copyright from a host", data: v4(map[string]any{"category": "copyright", "type": "usenet", "source_identifier": "news.example.net",
			"newsgroup": "alt.binaries.x", "message_info": map[string]any{"message_id": "<a@b>"}}),
			typ: "content", subtype: "web_content", url: "http://news.example.net/", wantInDesc: "names the host news.example.net and no URL"},
		{name: "v4 spam with the message: email", data: v4(map[string]any{"category": "messaging", "type": "spam", "protocol": "smtp", "smtp_from": "win@spammer.example",
			"source_identifier": "198.51.100.7", "source_port": 25, "evidence": spamEvidence, "destination_ip": nil, "destination_port": nil, "first_seen": nil}),
			typ: "email", subtype: "spam_sent", source: "198.51.100.7", timestamp: "2025-01-11T09:21:23Z", wantHeaders: true},
		{name: "v4 spam from a host with the message: source from Received", data: v4(map[string]any{"category": "messaging", "type": "spam", "protocol": "smtp", "smtp_from": "win@spammer.example",
			"source_identifier": "mail.spammer.example", "source_port": 25, "evidence": spamEvidence, "destination_ip": nil, "destination_port": nil, "first_seen": nil}),
			typ: "email", subtype: "spam_sent", source: "198.51.100.7", timestamp: "2025-01-11T09:21:23Z", wantHeaders: true, log: "topmost public Received hop"},
		{name: "v4 spam without the message: network", data: v4(map[string]any{"category": "messaging", "type": "spam", "protocol": "smtp", "smtp_from": "win@spammer.example",
			"source_port": 25, "destination_ip": nil, "destination_port": nil, "first_seen": nil,
			"evidence": []any{map[string]any{"content_type": "message/rfc822", "payload": b64("mail")}}}),
			typ: "network", subtype: "other", source: "192.0.2.1", target: "honeypot.example", timestamp: "2025-01-11T09:21:23Z", wantInDesc: "no message headers", log: "smtp_from: win@spammer.example"},
		{name: "v4 bulk messaging from a host without the message: content on the host", data: v4(map[string]any{"category": "messaging", "type": "bulk_messaging", "protocol": "sms",
			"recipient_count": 1000, "source_identifier": "sms-gw.example.net"}),
			typ: "content", subtype: "web_content", url: "http://sms-gw.example.net/"},

		{name: "v3 DOS: FirstSeen is the incident's time", data: v3(nil, map[string]any{"FirstSeen": "2018-02-05T13:00:00+01:00"}),
			typ: "network", subtype: "ddos", source: "192.0.2.55", target: "198.51.100.33", timestamp: "2018-02-05T13:00:00+01:00", targetPort: 80,
			descPrefix: "DDoS attack (X-ARF v3 Activity/DOS) from 192.0.2.55", log: "flood: 20 Mbit/s", kind: "organization"},
		{name: "v3 LoginAttack", data: v3(nil, map[string]any{"ReportType": "LoginAttack"}), typ: "network", subtype: "intrusion", source: "192.0.2.55", target: "198.51.100.33", timestamp: "2018-02-05T14:17:10Z", targetPort: 80},
		{name: "v3 PortScan of many ports", data: v3(nil, map[string]any{"ReportType": "PortScan", "DestinationPort": []any{22, 80}}),
			typ: "network", subtype: "port_scan", source: "192.0.2.55", target: "198.51.100.33", timestamp: "2018-02-05T14:17:10Z", log: "DestinationPort: [22,80]"},
		{name: "v3 Spam with the message in a base64 sample", data: v3(nil, map[string]any{"ReportType": "Spam", "SourceIp": "198.51.100.7", "DestinationPort": 25,
			"Samples": []any{map[string]any{"ContentType": "message/rfc822", "Base64Encoded": true, "Payload": b64(spamMessage)}}}),
			typ: "email", subtype: "spam_sent", source: "198.51.100.7", target: "198.51.100.33", timestamp: "2018-02-05T14:17:10Z", targetPort: 25, wantHeaders: true},
		{name: "v3 Spam without the message", data: v3(nil, map[string]any{"ReportType": "Spam", "DestinationIp": nil, "DestinationPort": nil, "SmtpMailFromAddress": "spam@example.org"}),
			typ: "network", subtype: "other", source: "192.0.2.55", target: "example.com", timestamp: "2018-02-05T14:17:10Z"},
		{name: "v3 Phishing", data: v3(nil, map[string]any{"ReportClass": "Content", "ReportType": "Phishing", "SourceUrl": "http://phish.example.org/i.html"}),
			typ: "content", subtype: "phishing", url: "http://phish.example.org/i.html"},
		{name: "v3 Copyright", data: v3(map[string]any{"OnBehalfOf": map[string]any{"ComplainantOrg": "Label Records", "ComplainantOrgDomain": "label.example", "ComplainantOrgEmail": "legal@label.example"}},
			map[string]any{"ReportClass": "Content", "ReportType": "Copyright", "SourceUrl": "http://files.example.org/song.mp3", "InfringedMaterial": "Song", "FileName": "song.mp3"}),
			typ: "content", subtype: "web_content", url: "http://files.example.org/song.mp3",
			descPrefix: `Copyright notification (X-ARF v3 Content/Copyright) at http://files.example.org/song.mp3: work "Song", file "song.mp3"`,
			wantInDesc: "on behalf of Label Records <legal@label.example>"},
		{name: "v3 Malware without a URL: network", data: v3(nil, map[string]any{"ReportClass": "Content", "ReportType": "Malware", "DestinationIp": nil, "DestinationPort": nil}),
			typ: "network", subtype: "other", source: "192.0.2.55", target: "example.com", timestamp: "2018-02-05T14:17:10Z"},
		{name: "alpha without Version", data: v3(map[string]any{"Version": nil}, map[string]any{"ReportClass": "Content", "ReportType": "Botnet", "DestinationIp": nil, "DestinationPort": nil}),
			typ: "network", subtype: "other", source: "192.0.2.55", target: "example.com", timestamp: "2018-02-05T14:17:10Z", descPrefix: "Botnet member (X-ARF alpha (no Version) Content/Botnet)"},
		{name: "v3 PotentiallyCompromisedAccount: the service is the subject", data: v3(nil, map[string]any{"ReportType": "PotentiallyCompromisedAccount", "SourceIp": nil, "SourcePort": nil,
			"Account": map[string]any{"AccountIdentifier": "karl"}, "AttackerIp": "192.0.2.99"}),
			typ: "network", subtype: "other", source: "198.51.100.33", target: "example.com", timestamp: "2018-02-05T14:17:10Z", wantInDesc: "used from 192.0.2.99"},
		{name: "v3 Person reporter", data: v3(map[string]any{"ReporterInfo": map[string]any{"ReporterType": "Person", "ReporterContactName": "Jo Doe", "ReporterContactEmail": "jo@mail.example"}},
			map[string]any{"ReportType": "Harassment", "SourceIp": nil, "SourceUrl": "https://forum.example.org/t/1", "Harasser": "troll", "HarassmentDescription": "insults"}),
			typ: "content", subtype: "web_content", url: "https://forum.example.org/t/1", kind: "individual"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, es := Map(tc.data)
			if len(es) > 0 {
				t.Fatalf("Map: %v", es)
			}
			if r.Type != tc.typ || r.Subtype != tc.subtype {
				t.Errorf("filed as %s/%s, want %s/%s", r.Type, r.Subtype, tc.typ, tc.subtype)
			}
			if r.Language != "en" || r.ShareContactWithCustomer {
				t.Errorf("language %q, share %v", r.Language, r.ShareContactWithCustomer)
			}
			if tc.kind != "" && r.Reporter.Kind != tc.kind {
				t.Errorf("reporter kind %q, want %q", r.Reporter.Kind, tc.kind)
			}
			if tc.descPrefix != "" && !strings.HasPrefix(r.Description, tc.descPrefix) {
				t.Errorf("description %q\nwant prefix %q", firstLine(r.Description), tc.descPrefix)
			}
			if tc.wantInDesc != "" && !strings.Contains(r.Description, tc.wantInDesc) {
				t.Errorf("description %q lacks %q", r.Description, tc.wantInDesc)
			}
			if r.DMCA != nil {
				t.Errorf("XARF never makes a dmca notice")
			}
			switch tc.typ {
			case report.TypeContent:
				if len(r.URLs) == 0 || r.URLs[0].URL != tc.url {
					t.Errorf("urls %+v, want %s", r.URLs, tc.url)
				}
				if len(r.Incidents) != 0 || r.EmailMessage != nil {
					t.Errorf("a content report carries urls only")
				}
			default:
				if len(r.Incidents) != 1 {
					t.Fatalf("incidents %+v", r.Incidents)
				}
				in := r.Incidents[0]
				if in.SourceIP != tc.source || in.Target != tc.target || in.Timestamp != tc.timestamp {
					t.Errorf("incident source %q target %q at %q, want %q %q %q", in.SourceIP, in.Target, in.Timestamp, tc.source, tc.target, tc.timestamp)
				}
				if got := portOf(in.TargetPort); got != tc.targetPort {
					t.Errorf("target port %d, want %d", got, tc.targetPort)
				}
				if tc.log != "" && !strings.Contains(in.Log, tc.log) {
					t.Errorf("log lacks %q:\n%s", tc.log, in.Log)
				}
			}
			if tc.wantHeaders {
				if r.EmailMessage == nil || !strings.Contains(r.EmailMessage.Headers, "Message-ID: <1@spammer.example>") || !strings.Contains(r.EmailMessage.Body, "Claim your prize") {
					t.Errorf("email message %+v", r.EmailMessage)
				}
			}
			if ves := validator().Validate(r); len(ves) > 0 {
				t.Fatalf("Validate: %v", ves)
			}
			if r.Type != report.TypeContent && r.Incidents[0].At.IsZero() {
				t.Errorf("validation left no instant")
			}
		})
	}
}

func portOf(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// A time without a zone names no instant: it is never assumed. When it is
// the incident's time it reaches report.Validator, which refuses it.
func TestNaiveTimestampAfterValidation(t *testing.T) {
	tests := []struct {
		name string
		data []byte
	}{
		{"v4 first_seen", v4(map[string]any{"first_seen": "2025-01-11T08:45:00"})},
		{"v4 timestamp when no first_seen", v4(map[string]any{"category": "infrastructure", "type": "botnet", "compromise_evidence": "C2", "first_seen": nil, "timestamp": "2025-01-11 09:21"})},
		{"v4 email incident", v4(map[string]any{"category": "messaging", "type": "spam", "protocol": "other", "first_seen": nil, "timestamp": "2025-01-11T09:21:23",
			"evidence": []any{map[string]any{"content_type": "message/rfc822", "payload": b64(spamMessage)}}})},
		{"v3 Date", v3(nil, map[string]any{"Date": "2018-02-05T14:17:10"})},
		{"v3 FirstSeen", v3(nil, map[string]any{"FirstSeen": "2018-02-05"})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, es := Map(tc.data)
			if len(es) > 0 {
				t.Fatalf("Map: %v", es)
			}
			ves := validator().Validate(r)
			if !slices.ContainsFunc(ves, func(e report.FieldError) bool {
				return e.Field == "incidents[0].timestamp" && e.Code == report.CodeTimezoneRequired
			}) {
				t.Fatalf("want incidents[0].timestamp timezone_required, got %v", ves)
			}
		})
	}
}

// Errors name the member of the XARF document.
func TestRejects(t *testing.T) {
	tests := []struct {
		name        string
		data        []byte
		field, code string
	}{
		{"not JSON", []byte(`{"xarf_version": "4.2.0",`), "", report.CodeInvalidJSON},
		{"empty", nil, "", report.CodeInvalidJSON},
		{"trailing data", []byte(`{} {}`), "", report.CodeInvalidJSON},
		{"array", []byte(`[]`), "", report.CodeWrongType},
		{"no version at all", []byte(`{"hello": 1}`), "xarf_version", report.CodeRequired},
		{"v4 version 5", v4(map[string]any{"xarf_version": "5.0.0"}), "xarf_version", report.CodeInvalidChoice},
		{"v4 version type", v4(map[string]any{"xarf_version": 4}), "xarf_version", report.CodeWrongType},
		{"v4 report id", v4(map[string]any{"report_id": "42"}), "report_id", report.CodeInvalid},
		{"v4 no reporter", v4(map[string]any{"reporter": nil}), "reporter", report.CodeRequired},
		{"v4 no reporter contact", v4(map[string]any{"reporter": map[string]any{"org": "X Org", "domain": "x.example"}}), "reporter.contact", report.CodeRequired},
		{"v4 bad reporter contact", v4(map[string]any{"reporter": map[string]any{"org": "X Org", "contact": "abuse at x", "domain": "x.example"}}), "reporter.contact", report.CodeInvalidEmail},
		{"v4 extra reporter member", v4(map[string]any{"reporter": map[string]any{"org": "X Org", "contact": "a@x.example", "domain": "x.example", "type": "automated"}}), "reporter.type", report.CodeUnknownField},
		{"v4 no sender", v4(map[string]any{"sender": nil}), "sender", report.CodeRequired},
		{"v4 no category", v4(map[string]any{"category": nil}), "category", report.CodeRequired},
		{"v4 unknown category", v4(map[string]any{"category": "weather"}), "category", report.CodeInvalidChoice},
		{"v4 unknown type", v4(map[string]any{"type": "hail"}), "type", report.CodeInvalidChoice},
		{"v4 no source", v4(map[string]any{"source_identifier": nil}), "source_identifier", report.CodeRequired},
		{"v4 unusable source", v4(map[string]any{"source_identifier": "not an address!"}), "source_identifier", report.CodeInvalid},
		{"v4 destination", v4(map[string]any{"destination_ip": "999.1.1.1"}), "destination_ip", report.CodeInvalidIP},
		{"v4 source port", v4(map[string]any{"source_port": 70000}), "source_port", report.CodeInvalidPort},
		{"v4 source port 0", v4(map[string]any{"source_port": 0}), "source_port", report.CodeInvalidPort},
		{"v4 destination port type", v4(map[string]any{"destination_port": "80"}), "destination_port", report.CodeInvalidPort},
		{"v4 required first_seen", v4(map[string]any{"first_seen": nil}), "first_seen", report.CodeRequired},
		{"v4 ddos source port", v4(map[string]any{"source_port": nil}), "source_port", report.CodeRequired},
		{"v4 content url", v4(map[string]any{"category": "content", "type": "phishing"}), "url", report.CodeRequired},
		{"v4 content bad url", v4(map[string]any{"category": "content", "type": "phishing", "url": "not a url"}), "url", report.CodeInvalidURL},
		{"v4 timestamp", v4(map[string]any{"timestamp": "yesterday"}), "timestamp", report.CodeInvalidTimestamp},
		{"v4 invalid date", v4(map[string]any{"first_seen": "2025-02-30T10:00:00Z"}), "first_seen", report.CodeInvalidTimestamp},
		// Not carried into an incident, so the mapping refuses it itself.
		{"v4 naive timestamp of a content report", v4(map[string]any{"category": "content", "type": "malware", "url": "http://x.example/a", "timestamp": "2025-01-11T09:21:23"}), "timestamp", report.CodeTimezoneRequired},
		{"v4 naive last_seen", v4(map[string]any{"last_seen": "2025-01-11T09:21:23"}), "last_seen", report.CodeTimezoneRequired},
		{"v4 payload not base64", v4(map[string]any{"evidence": []any{map[string]any{"content_type": "text/plain", "payload": "%%%"}}}), "evidence[0].payload", report.CodeInvalid},
		{"v4 evidence without payload", v4(map[string]any{"evidence": []any{map[string]any{"content_type": "text/plain"}}}), "evidence[0].payload", report.CodeRequired},
		{"v4 evidence hash", v4(map[string]any{"evidence": []any{map[string]any{"content_type": "text/plain", "payload": "", "hash": "crc32:00"}}}), "evidence[0].hash", report.CodeInvalid},
		{"v4 tag", v4(map[string]any{"tags": []any{"Not A Tag"}}), "tags[0]", report.CodeInvalid},
		{"v4 confidence", v4(map[string]any{"confidence": 2}), "confidence", report.CodeInvalid},
		{"v4 smtp spam needs smtp_from", v4(map[string]any{"category": "messaging", "type": "spam", "protocol": "smtp"}), "smtp_from", report.CodeRequired},

		{"v3 version", v3(map[string]any{"Version": "9"}, nil), "Version", report.CodeInvalidChoice},
		{"v3 no reporter", v3(map[string]any{"ReporterInfo": nil}, nil), "ReporterInfo", report.CodeRequired},
		{"v3 reporter email", v3(map[string]any{"ReporterInfo": map[string]any{"ReporterOrg": "ExampleOrg", "ReporterOrgDomain": "example.com", "ReporterOrgEmail": "reports"}}, nil), "ReporterInfo.ReporterOrgEmail", report.CodeInvalidEmail},
		{"v3 no Disclosure", v3(map[string]any{"Disclosure": nil}, nil), "Disclosure", report.CodeRequired},
		{"v3 no Report", v3(map[string]any{"Report": nil}, nil), "Report", report.CodeRequired},
		{"v3 unknown type", v3(nil, map[string]any{"ReportType": "Weather"}), "Report.ReportType", report.CodeInvalidChoice},
		{"v3 wrong class", v3(nil, map[string]any{"ReportClass": "Content"}), "Report.ReportClass", report.CodeInvalidChoice},
		{"v3 type not in dialect", v3(map[string]any{"Version": "1"}, map[string]any{"ReportType": "Exploit"}), "Report.ReportType", report.CodeInvalidChoice},
		{"v3 no source", v3(nil, map[string]any{"SourceIp": nil}), "Report.SourceIp", report.CodeRequired},
		{"v3 source ip", v3(nil, map[string]any{"SourceIp": "192.0.2.300"}), "Report.SourceIp", report.CodeInvalidIP},
		{"v3 source port", v3(nil, map[string]any{"SourcePort": -1}), "Report.SourcePort", report.CodeInvalidPort},
		{"v3 date", v3(nil, map[string]any{"Date": "Feb 5 2018"}), "Report.Date", report.CodeInvalidTimestamp},
		{"v3 no date", v3(nil, map[string]any{"Date": nil}), "Report.Date", report.CodeRequired},
		{"v3 base64 sample", v3(nil, map[string]any{"Samples": []any{map[string]any{"ContentType": "text/plain", "Base64Encoded": true, "Payload": "***"}}}), "Report.Samples[0].Payload", report.CodeInvalid},
		{"v3 empty samples", v3(nil, map[string]any{"Samples": []any{}}), "Report.Samples", report.CodeRequired},
		{"v3 phishing without url", v3(nil, map[string]any{"ReportClass": "Content", "ReportType": "Phishing"}), "Report.SourceUrl", report.CodeRequired},
		{"v3 account report with a source", v3(nil, map[string]any{"ReportType": "PotentiallyCompromisedAccount", "Account": map[string]any{"AccountEmail": "a@b.example"}}), "Report.SourceIp", report.CodeNotApplicable},
		{"v3 account report without destination", v3(nil, map[string]any{"ReportType": "PotentiallyCompromisedAccount", "SourceIp": nil, "DestinationIp": nil, "Account": map[string]any{"AccountEmail": "a@b.example"}}), "Report.DestinationIp", report.CodeRequired},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, es := Map(tc.data)
			if r != nil {
				t.Fatalf("accepted: %+v", r)
			}
			if !slices.ContainsFunc(es, func(e report.FieldError) bool { return e.Field == tc.field && e.Code == tc.code }) {
				t.Fatalf("want %q %s, got %v", tc.field, tc.code, es)
			}
			for _, e := range es {
				if e.Code == "" || e.Message == "" {
					t.Errorf("incomplete error %+v", e)
				}
			}
		})
	}
}

// Evidence is text in the log only when it reads as text, and the log stays
// within the validator's limit however much evidence there is.
func TestLogIsBoundedText(t *testing.T) {
	big := strings.Repeat("Feb 11 10:00:00 sshd[1]: Failed password for root from 192.0.2.1 port 4444 ssh2\n", 2000)
	data := v4(map[string]any{"evidence": []any{
		map[string]any{"content_type": "application/octet-stream", "payload": b64("MZ\x90\x00\x03\x00binary")},
		map[string]any{"content_type": "text/plain", "payload": b64(big)},
		map[string]any{"content_type": "text/plain", "payload": b64("\x1b[31mred\x1b[0m")},
	}})
	r, es := Map(data)
	if len(es) > 0 {
		t.Fatal(es)
	}
	log := r.Incidents[0].Log
	if len(log) > report.DefaultLimits.MaxLogBytes {
		t.Fatalf("log is %d bytes", len(log))
	}
	for _, want := range []string{"bytes of binary data, not shown", "Failed password for root", "more bytes not shown]"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	if strings.Contains(log, "MZ") || strings.Contains(log, "\x1b") {
		t.Errorf("binary shown in the log")
	}
	if ves := validator().Validate(r); len(ves) > 0 {
		t.Fatal(ves)
	}
}

// An X-ARF Person may leave no contact data: the report is taken as
// anonymous, without an address and, lacking any domain, without a target.
func TestAnonymousPerson(t *testing.T) {
	doc := `{"Version":"3","ReporterInfo":{"ReporterType":"Person","ReporterOrg":"ExampleOrg"},"Disclosure":true,
	"Report":{"ReportClass":"Activity","ReportType":"Spam","Date":"2018-02-05T14:17:10Z","SourceIp":"192.0.2.55","SourcePort":54321}}`
	r, es := Map([]byte(doc))
	if len(es) > 0 {
		t.Fatal(es)
	}
	if !r.Anonymous || r.Reporter.Email != "" {
		t.Fatalf("not anonymous: %+v", r.Reporter)
	}
	if ves := validator().Validate(r); len(ves) > 0 {
		t.Fatalf("Validate: %v", ves)
	}
	r.Incidents[0].Log = ""
	if ves := validator().Validate(r); len(ves) != 1 || ves[0].Field != "incidents[0].log" {
		t.Errorf("an anonymous report still needs the rest: %v", ves)
	}
}
