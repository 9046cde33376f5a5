package plaintext

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"abusedesk/internal/intake/mailpart"
	"abusedesk/internal/report"
)

var fixedNow = func() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) }

func parseFile(t *testing.T, path string) ([]*report.Report, report.Errors, bool) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return Parse(mailpart.Parse(raw))
}

func TestParseSamples(t *testing.T) {
	tests := []struct {
		file    string
		kinds   []string // type/subtype of each report
		sources []string // source IPs of all incidents, in order, without repeats
		targets []string
		lang    string
		missing []string // codes
		valid   bool     // every report validates once Reporter is filled
	}{
		{file: "ssh_bruteforce_en.eml", kinds: []string{"network/intrusion"}, sources: []string{"203.0.113.45"}, targets: []string{"198.51.100.10"}, lang: "en", valid: true},
		{file: "syslog_nozone_en.eml", kinds: []string{"network/intrusion"}, sources: []string{"203.0.113.46"}, targets: []string{"srv1.example.org"}, lang: "en",
			missing: []string{report.CodeTimezoneRequired, report.CodeTimezoneRequired}},
		{file: "syslog_allutc_en.eml", kinds: []string{"network/intrusion"}, sources: []string{"203.0.113.46", "2001:db8:1::99"}, targets: []string{"srv1.example.org"}, lang: "en", valid: true},
		{file: "ddos_fr.eml", kinds: []string{"network/ddos"}, sources: []string{"203.0.113.9"}, targets: []string{"198.51.100.20"}, lang: "fr", valid: true},
		{file: "phishing_defanged_en.eml", kinds: []string{"content/phishing"}, lang: "en", valid: true},
		{file: "spam_forwarded_rfc822.eml", kinds: []string{"email/spam_sent"}, sources: []string{"203.0.113.77"}, lang: "en", valid: true},
		{file: "spam_pasted_fr.eml", kinds: []string{"email/spam_sent"}, sources: []string{"2001:db8:77::25"}, lang: "fr", valid: true},
		{file: "spam_inline_forward_en.eml", kinds: []string{"email/spam_sent", "content/phishing"}, lang: "en"},
		{file: "html_only.eml", kinds: []string{"network/intrusion"}, sources: []string{"203.0.113.50"}, targets: []string{"192.0.2.80"}, lang: "en", valid: true},
		{file: "nothing.eml", missing: []string{report.CodeRequired}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			reps, missing, ok := parseFile(t, filepath.Join("testdata", tc.file))
			if !ok {
				t.Fatal("ok = false for a mail with text")
			}
			var kinds, sources, targets []string
			for _, r := range reps {
				kinds = append(kinds, r.Type+"/"+r.Subtype)
				if r.Description == "" {
					t.Errorf("%s report without a description", r.Type)
				}
				if r.Reporter != (report.Reporter{}) {
					t.Errorf("Reporter filled: %+v", r.Reporter)
				}
				if tc.lang != "" && r.Language != tc.lang {
					t.Errorf("language %q, want %q", r.Language, tc.lang)
				}
				for _, in := range r.Incidents {
					if !slices.Contains(sources, in.SourceIP) {
						sources = append(sources, in.SourceIP)
					}
					if in.Target != "" && !slices.Contains(targets, in.Target) {
						targets = append(targets, in.Target)
					}
				}
			}
			if !slices.Equal(kinds, tc.kinds) {
				t.Errorf("reports %v, want %v", kinds, tc.kinds)
			}
			if !slices.Equal(sources, tc.sources) {
				t.Errorf("sources %v, want %v", sources, tc.sources)
			}
			if !slices.Equal(targets, tc.targets) {
				t.Errorf("targets %v, want %v", targets, tc.targets)
			}
			if !slices.Equal(missing.Codes(), tc.missing) {
				t.Errorf("missing %v, want codes %v", missing, tc.missing)
			}
			for _, e := range missing {
				if e.Field == "" || e.Message == "" {
					t.Errorf("incomplete missing entry %+v", e)
				}
			}
			if !tc.valid {
				return
			}
			v := report.Validator{Now: fixedNow}
			for _, r := range reps {
				r.Reporter = report.Reporter{Name: "A Reporter", Email: "reporter@example.org"}
				if es := v.Validate(r); len(es) > 0 {
					t.Errorf("%s/%s does not validate: %v", r.Type, r.Subtype, es)
				}
			}
		})
	}
}

func TestParseDetails(t *testing.T) {
	reps, missing, _ := parseFile(t, "testdata/syslog_nozone_en.eml")
	if len(missing) == 0 || !strings.Contains(missing[0].Message, `"Nov 20 10:00:01"`) || !strings.Contains(missing[0].Message, "sshd[991]") ||
		missing[0].Field != "incidents[0].timestamp" {
		t.Errorf("zoneless time not marked with its text and line: %+v", missing)
	}
	if got := reps[0].Incidents[0].Timestamp; got != "2026-11-20T10:00:01" {
		t.Errorf("zoneless time kept as %q", got)
	}
	reps, _, _ = parseFile(t, "testdata/syslog_allutc_en.eml")
	if !strings.Contains(reps[0].Description, "read in UTC") {
		t.Errorf("the assumed zone is not said: %q", reps[0].Description)
	}
	// The year of a syslog line is the mail's, or the year before when
	// that would be after the mail.
	if got := reps[0].Incidents[2].Timestamp; got != "2025-12-31T23:59:00Z" {
		t.Errorf("Dec 31 in a mail of Nov 2026 read as %q", got)
	}
	reps, _, _ = parseFile(t, "testdata/phishing_defanged_en.eml")
	var urls []string
	for _, u := range reps[0].URLs {
		urls = append(urls, u.URL)
	}
	want := []string{"https://login-secure-bank.example.net/verify/index.php?id=1", "http://198.51.100.77/bank/login"}
	if !slices.Equal(urls, want) {
		t.Errorf("urls %v, want %v (refanged, trailing dot trimmed, own signature left out)", urls, want)
	}
	reps, _, _ = parseFile(t, "testdata/spam_forwarded_rfc822.eml")
	in := reps[0].Incidents[0]
	if in.Timestamp != "2026-11-19T11:00:03+01:00" || in.Protocol != "smtp" || !strings.Contains(reps[0].EmailMessage.Headers, "bulk.spammer.example") {
		t.Errorf("spam incident %+v", in)
	}
}

func TestClassify(t *testing.T) {
	tests := []struct{ text, typ, sub string }{
		{"We see SSH brute force attempts from your IP.", "network", "intrusion"},
		{"Nous constatons des tentatives de connexion répétées sur notre serveur.", "network", "intrusion"},
		{"Attaque par force brute sur notre SSH", "network", "intrusion"},
		{"Our site is down because of a DDoS (UDP flood) from your range.", "network", "ddos"},
		{"Nous subissons un déni de service depuis ce matin.", "network", "ddos"},
		{"Your host ran an nmap port scan against us.", "network", "port_scan"},
		{"Un balayage de ports a été détecté.", "network", "port_scan"},
		{"This is a phishing page doing credential harvesting.", "content", "phishing"},
		{"Site de hameçonnage imitant notre banque", "content", "phishing"},
		{"Tentative de filoutage", "content", "phishing"},
		{"The URL serves ransomware (a trojan dropper).", "content", "malware"},
		{"Ce lien distribue un logiciel malveillant.", "content", "malware"},
		{"This page hosts illegal content.", "content", "web_content"},
		{"Ce site héberge du contenu illicite.", "content", "web_content"},
		{"I keep receiving unsolicited spam from your server.", "email", "spam_sent"},
		{"Je reçois des pourriels, du courriel non sollicité.", "email", "spam_sent"},
		{"Hello, could you call me back?", "", ""},
		{"This message is virus-free. unsubscribe", "", ""},
		{"The floodlight in our office", "", ""}, // word boundary
		{"spamassassin and antivirus updates", "", ""},
	}
	for _, tc := range tests {
		typ, sub, score := Classify(tc.text)
		if typ != tc.typ || sub != tc.sub || (score > 0) != (tc.typ != "") {
			t.Errorf("Classify(%q) = %s/%s %d, want %s/%s", tc.text, typ, sub, score, tc.typ, tc.sub)
		}
	}
}

func TestLanguage(t *testing.T) {
	tests := []struct{ text, want string }{
		{"Bonjour, notre serveur est attaqué depuis votre réseau. Merci de faire le nécessaire.", "fr"},
		{"Madame, Monsieur, nous avons reçu des courriels indésirables de votre part.", "fr"},
		{"Hello, our server is being attacked from your network. Please take action.", "en"},
		{"Dear abuse team, we have received spam from one of your customers since Monday.", "en"},
		{"", "en"},
		{"203.0.113.5", "en"},
	}
	for _, tc := range tests {
		if got := Language(tc.text); got != tc.want {
			t.Errorf("Language(%q) = %s, want %s", tc.text, got, tc.want)
		}
	}
}

func TestFindTimes(t *testing.T) {
	mail := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		line     string
		dayFirst bool
		want     string // Value() of the first time, "" for none
		zoned    bool
	}{
		{"2026-11-20T10:00:00Z sshd", false, "2026-11-20T10:00:00Z", true},
		{"at 2026-11-20 10:00:00 UTC from", false, "2026-11-20T10:00:00Z", true},
		{"2026-11-20 10:00:00 +0100", false, "2026-11-20T10:00:00+01:00", true},
		{"2026-11-20 10:00:00 CET", false, "2026-11-20T10:00:00+01:00", true},
		{"2026-07-20 10:00:00 CEST", false, "2026-07-20T10:00:00+02:00", true},
		{"2026-11-20 10:00 PST", false, "2026-11-20T10:00:00-08:00", true},
		{"2026-11-20 10:00:00 IST", false, "2026-11-20T10:00:00", false},
		{"2026-11-20 10:00:00 UFW BLOCK", false, "2026-11-20T10:00:00", false},
		{"Nov 20 10:00:00 host sshd[1]:", false, "2026-11-20T10:00:00", false},
		{"Dec 24 10:00:00 host", false, "2025-12-24T10:00:00", false},
		{`203.0.113.5 - - [20/Nov/2026:10:00:00 +0100] "GET / HTTP/1.1"`, false, "2026-11-20T10:00:00+01:00", true},
		{"Date: Thu, 19 Nov 2026 10:00:03 +0000 (UTC)", false, "2026-11-19T10:00:03Z", true},
		{"19 Nov 2026 10:00:03 EST", false, "2026-11-19T10:00:03-05:00", true},
		{"le 20/11/2026 à 10h00 (heure de Paris)", true, "2026-11-20T10:00:00+01:00", true},
		{"le 20/07/2026 à 10h00 heure de Paris", true, "2026-07-20T10:00:00+02:00", true},
		{"le 20 novembre 2026 à 10h00 UTC", true, "2026-11-20T10:00:00Z", true},
		{"le 1er mars 2026 à 9h", true, "2026-03-01T09:00:00", false},
		{"le 20/11/2026 à 10h00 est la date", true, "2026-11-20T10:00:00", false},
		{"on 03/04/2026 10:00 UTC", false, "", false}, // ambiguous order in English
		{"on 11/20/2026 10:00 UTC", false, "2026-11-20T10:00:00Z", true},
		{"Fri Nov 20 10:00:00 UTC 2026", false, "2026-11-20T10:00:00Z", true},
		{"November 20, 2026 at 10:00 GMT", false, "2026-11-20T10:00:00Z", true},
		{"2026-02-30 10:00:00Z", false, "", false},
		{"2026-11-20 25:00:00Z", false, "", false},
		{"version 1.2.3 build 2026", false, "", false},
	}
	for _, tc := range tests {
		ts := findTimes(tc.line, &timeEnv{mailDate: mail, dayFirst: tc.dayFirst})
		got, zoned := "", false
		if len(ts) > 0 {
			got, zoned = ts[0].Value(), ts[0].Zoned
		}
		if got != tc.want || zoned != tc.zoned {
			t.Errorf("findTimes(%q) = %q zoned=%v, want %q zoned=%v", tc.line, got, zoned, tc.want, tc.zoned)
		}
	}
}

func TestMailWideZone(t *testing.T) {
	for text, want := range map[string]string{
		"All times are UTC.":                  "UTC",
		"all times in CET":                    "CET",
		"Timezone: +01:00":                    "+01:00",
		"toutes les heures sont en UTC":       "UTC",
		"Les horaires sont en heure de Paris": "heure de Paris",
		"Nothing about zones":                 "",
		"The time is right":                   "",
	} {
		z, _ := mailWideZone(text)
		got := ""
		if z != nil {
			got = z.name
		}
		if got != want {
			t.Errorf("mailWideZone(%q) = %q, want %q", text, got, want)
		}
	}
}

func TestFindIPs(t *testing.T) {
	tests := []struct {
		line string
		want []string
	}{
		{"Failed password for root from 203.0.113.5 port 22 ssh2", []string{"203.0.113.5"}},
		{"SRC=203.0.113.5 DST=198.51.100.1 PROTO=TCP SPT=1 DPT=22", []string{"203.0.113.5", "198.51.100.1"}},
		{"OpenSSH 9.6.1.2 and version 1.2.3.4 and v10.0.0.1", nil},
		{"OID 1.3.6.1.4.1 and 256.1.1.1 and 1.2.3", nil},
		{"from 2001:db8::1 at 10:00:00, mac 00:11:22:33:44:55", []string{"2001:db8::1"}},
		{"connect from unknown[203.0.113.9]", []string{"203.0.113.9"}},
	}
	for _, tc := range tests {
		var got []string
		for _, h := range findIPs(tc.line) {
			got = append(got, h.Addr.String())
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("findIPs(%q) = %v, want %v", tc.line, got, tc.want)
		}
	}
	for _, s := range []string{"0.0.0.0", "255.255.255.255", "10.1.2.3", "127.0.0.1", "224.0.0.1", "fe80::1"} {
		h := findIPs("from " + s)
		if len(h) == 1 && usableSource(h[0].Addr) {
			t.Errorf("%s accepted as a source", s)
		}
	}
}

func TestFindURLs(t *testing.T) {
	tests := []struct {
		line string
		want []string
	}{
		{"see hxxps://evil[.]example[.]com/a?b=c.", []string{"https://evil.example.com/a?b=c"}},
		{"(at hxxp[:]//bad(.)example(.)org/x)", []string{"http://bad.example.org/x"}},
		{"link: https://en.wikipedia.org/wiki/Foo_(bar), ok", []string{"https://en.wikipedia.org/wiki/Foo_(bar)"}},
		{"<https://[2001:db8::5]/p>", []string{"https://[2001:db8::5]/p"}},
		{"ftp://files.example.com/ and mailto:x@y", nil},
	}
	for _, tc := range tests {
		if got := findURLs(tc.line); !slices.Equal(got, tc.want) {
			t.Errorf("findURLs(%q) = %v, want %v", tc.line, got, tc.want)
		}
	}
}

func TestSpamSource(t *testing.T) {
	h := mailpart.Header{
		{Name: "Received", Value: "from mx.corp.example (mx.corp.example [198.51.100.2]) by inbox.corp.example; Thu, 19 Nov 2026 10:00:02 +0000"},
		{Name: "Received", Value: "from gw (gw.isp.example [100.64.3.4]) by mx.corp.example; Thu, 19 Nov 2026 10:00:01 +0000"},
		{Name: "Received", Value: "from bad.example.net (bad.example.net [203.0.113.9]) by mx.corp.example; Thu, 19 Nov 2026 10:00:00 +0000"},
	}
	hp, ok := spamSource(h, "reporter.example")
	if !ok || hp.FromAddr.String() != "203.0.113.9" {
		t.Errorf("source %v %v, want 203.0.113.9 (by-host domain and CGNAT hops inside)", hp.FromAddr, ok)
	}
	if d := regDomain("a.b.example.co.uk"); d != "example.co.uk" {
		t.Errorf("regDomain = %q", d)
	}
}

// corpusDir is the third-party corpus beside the repository
// (/work/shared/corpus); it is never copied into the repository.
const corpusDir = "../../../../shared/corpus/set-of-emails/maildir/bsd"

func TestCorpusJMRP(t *testing.T) {
	if _, err := os.Stat(corpusDir); err != nil {
		t.Skipf("corpus absent (%v): the JMRP samples are not checked", err)
	}
	// arf-22/23/24 are Microsoft JMRP complaints: the reported message's only
	// Received field is Hotmail's MX taking it from 203.0.113.245 (also the
	// "sender IP" of its Authentication-Results). The anonymised sample puts
	// the sender and receiver under one domain, so the by-host domain rule
	// alone would call the hop inside; the reporter's own domain (hotmail.com)
	// does not.
	for _, f := range []string{"arf-22.eml", "arf-23.eml", "arf-24.eml"} {
		reps, missing, ok := parseFile(t, filepath.Join(corpusDir, f))
		if !ok || len(reps) != 1 || reps[0].Type != report.TypeEmail || len(reps[0].Incidents) != 1 {
			t.Fatalf("%s: ok=%v reports %+v missing %v", f, ok, reps, missing)
		}
		in := reps[0].Incidents[0]
		if in.SourceIP != "203.0.113.245" || in.Timestamp != "2016-04-29T23:34:45Z" {
			t.Errorf("%s: incident %+v, want 203.0.113.245 at 2016-04-29T23:34:45Z", f, in)
		}
		r := reps[0]
		r.Reporter = report.Reporter{Name: "staff", Email: "staff@hotmail.com"}
		if es := (&report.Validator{Now: fixedNow}).Validate(r); len(es) > 0 {
			t.Errorf("%s: %v", f, es)
		}
	}
	// arf-26 is Apple Mail's unsubscribe request: no complaint, no forwarded
	// message. It becomes no report and the "body" missing entry.
	reps, missing, ok := parseFile(t, filepath.Join(corpusDir, "arf-26.eml"))
	if !ok || len(reps) != 0 || !slices.Equal(missing.Codes(), []string{report.CodeRequired}) || missing[0].Field != "body" {
		t.Errorf("arf-26: ok=%v reports %d missing %v", ok, len(reps), missing)
	}
}
