package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"abusedesk/internal/intake"
	"abusedesk/internal/report"
	"abusedesk/internal/store"
)

// cmdDemo starts a server on a fresh SQLite file with sample reports of each
// type, and prints where to look.
func cmdDemo(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("demo", flag.ExitOnError)
	var f serverFlags
	f.register(fs, "127.0.0.1:8080", "")
	fs.Parse(args)
	dir, err := os.MkdirTemp("", "abusedesk-demo-")
	if err != nil {
		return err
	}
	if f.db == "" {
		f.db = filepath.Join(dir, "abusedesk.db")
	}
	log := newLogger()
	st, err := store.Open(ctx, f.db)
	if err != nil {
		return err
	}
	defer st.Close()
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return fmt.Errorf("%w (choose another with --addr)", err)
	}
	base := "http://" + ln.Addr().String()
	return run(ctx, log, st, &f, ln, func(in *intake.Service) {
		links, err := seedDemo(ctx, in, base)
		if err != nil {
			log.Error("demo data", "err", err)
			return
		}
		fmt.Printf(`
abusedesk demo — database %s

  report form        %s/report        (French: %s/fr/report)
  API description    %s/api/openapi.yaml
  health, metrics    %s/healthz   %s/metrics
  sample reports (private status links):
%s
  try the API:
    curl -s %s/api/v1/reports -H 'Content-Type: application/json' -d @- <<'JSON'
    {"type":"network","subtype":"port_scan","reporter":{"name":"Ops","email":"ops@example.org"},
     "incidents":[{"source_ip":"203.0.113.7","target":"198.51.100.20","timestamp":"2026-03-02T10:00:00+01:00","log":"SRC=203.0.113.7 DST=198.51.100.20 PROTO=TCP DPT=22"}]}
    JSON

Stop with Ctrl-C.
`, f.db, base, base, base, base, base, strings.Join(links, "\n"), base)
	})
}

func seedDemo(ctx context.Context, in *intake.Service, base string) ([]string, error) {
	port := func(n int) *int { return &n }
	samples := []*report.Report{
		{Type: "network", Subtype: "intrusion", Reporter: report.Reporter{Name: "Alice Martin", Email: "soc@example.org", Organization: "Example SOC", Kind: "organization"},
			ShareContactWithCustomer: true, Description: "SSH brute force against our bastion.",
			Incidents: []report.Incident{{SourceIP: "203.0.113.7", SourcePort: port(51234), Target: "198.51.100.20", TargetPort: port(22), Protocol: "tcp",
				Timestamp: "2026-03-02T10:00:00+01:00", Log: "Mar  2 10:00:01 bastion sshd[811]: Failed password for root from 203.0.113.7 port 51234 ssh2\nMar  2 10:00:03 bastion sshd[811]: Failed password for root from 203.0.113.7 port 51234 ssh2"}}},
		{Type: "network", Subtype: "ddos", Reporter: report.Reporter{Name: "NOC", Email: "noc@isp.example", Kind: "isp"}, Language: "fr",
			Description: "Attaque SYN flood depuis votre réseau.",
			Incidents: []report.Incident{{SourceIP: "2001:db8::7", Target: "192.0.2.80", TargetPort: port(443), Protocol: "tcp",
				Timestamp: "2026-03-03T14:12:00Z", Log: "14:12:00 SYN flood 250k pps from 2001:db8::7 to 192.0.2.80:443"}}},
		{Type: "content", Subtype: "phishing", Reporter: report.Reporter{Name: "Bank CERT", Email: "cert@bank.example", Kind: "cert"},
			Description: "Phishing page imitating our login, <script>alert(1)</script> in the kit.",
			URLs:        []report.URLItem{{URL: "https://login-bank.example-cdn.net/secure/?id=<b>1</b>", Description: "credential harvesting form"}}},
		{Type: "email", Subtype: "spam_sent", Reporter: report.Reporter{Name: "Postmaster", Email: "postmaster@mail.example"},
			Description:  "Unsolicited bulk mail.",
			EmailMessage: &report.EmailMessage{Headers: "Received: from sender.example (sender.example [203.0.113.25])\n\tby mx.mail.example with ESMTP id 1234; Tue, 3 Mar 2026 09:15:02 +0100\nFrom: \"Deals\" <deals@sender.example>\nTo: user@mail.example\nSubject: You won\nDate: Tue, 3 Mar 2026 09:15:00 +0100\nMessage-ID: <1@sender.example>"}},
		{Type: "dmca", Reporter: report.Reporter{Name: "Rights Ltd", Email: "legal@rights.example", Kind: "organization"},
			DMCA: &report.DMCANotice{Signature: "/Jane Doe/", Works: []string{"Popular TV Show S01E05"},
				Infringing: []report.InfringingItem{{URL: "http://media.example-cdn.net/show/episode5.mp4"}},
				Contact:    report.DMCAContact{Name: "Jane Doe", Address: "1 Main St, Springfield", Phone: "+1 555 0100", Email: "legal@rights.example"},
				GoodFaith:  true, AccuracyUnderPenaltyOfPerjury: true}},
	}
	var links []string
	for _, r := range samples {
		raw, _ := json.Marshal(r)
		rc, es, err := in.Submit(ctx, intake.Submission{Report: r, Channel: intake.ChannelAPI, Raw: raw, ContentType: "application/json"})
		if err != nil {
			return nil, err
		}
		if len(es) > 0 {
			return nil, es
		}
		prefix := ""
		if r.Language == "fr" {
			prefix = "/fr"
		}
		links = append(links, fmt.Sprintf("    %-8s %-10s %s%s/status/%s?token=%s", r.Type, r.Subtype, base, prefix, rc.PublicID, rc.Token))
	}
	csv := "ip,timestamp,log\n203.0.113.9,2026-03-04T08:00:00+01:00,port scan 1-1024\n203.0.113.10,2026-03-04T08:00:05+01:00,port scan 1-1024\n203.0.113.11,2026-03-04 08:00:09,no zone: this row is refused\n"
	out, es, err := in.SubmitBulk(ctx, &report.Report{Type: "network", Subtype: "port_scan", Reporter: report.Reporter{Name: "Scanner watch", Email: "watch@example.net"}}, strings.NewReader(csv), "text/csv", "")
	if err != nil {
		return nil, err
	}
	if len(es) > 0 {
		return nil, es
	}
	links = append(links, fmt.Sprintf("    %-8s %-10s %s/status/%s?token=%s (CSV: %d rows accepted, %d refused)", "network", "port_scan", base, out.PublicID, out.Token, out.Accepted, out.RejectedCount))
	return links, nil
}
