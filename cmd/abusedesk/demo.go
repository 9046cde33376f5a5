package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"abusedesk/internal/demodata"
	"abusedesk/internal/intake"
	"abusedesk/internal/inventory"
	"abusedesk/internal/mailsink"
	"abusedesk/internal/report"
	"abusedesk/internal/store"
)

// cmdDemo starts a server on a fresh SQLite file holding a synthetic
// provider (address space, accounts, resources, assignment history, host
// names) and sample reports of each type that hit each verdict, and prints
// where to look. `abusedesk demo provider` writes the provider's files only.
func cmdDemo(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "provider" {
		return cmdDemoProvider(args[1:])
	}
	fs := flag.NewFlagSet("demo", flag.ExitOnError)
	var f serverFlags
	f.register(fs, "127.0.0.1:8080", "")
	addresses := fs.String("addresses", "300k", "size of the synthetic provider: single addresses with an assignment history (1k starts in a second)")
	seed := fs.Uint64("seed", 1, "random seed of the synthetic provider")
	fs.Parse(args)
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	if !set["relay-delay"] && os.Getenv("ABUSEDESK_RELAY_DELAY") == "" {
		f.mail.relayDelay = 5 * time.Second // the demo's conversation moves fast
	}
	if !set["mail-domain"] && os.Getenv("ABUSEDESK_MAIL_DOMAIN") == "" {
		f.mail.domain = "desk.demo.example"
	}
	if !set["desk-name"] && os.Getenv("ABUSEDESK_DESK_NAME") == "" {
		f.mail.desk = "Demo Cloud abuse desk"
	}
	if !set["smtp-listen"] && os.Getenv("ABUSEDESK_SMTP_LISTEN") == "" {
		f.mailbox.listen = "127.0.0.1:2525" // the abuse@ mailbox, on loopback
		f.mailbox.anyPort = true
	}
	n, err := demoCount(*addresses)
	if err != nil {
		return fmt.Errorf("--addresses: %w", err)
	}
	dir, err := os.MkdirTemp("", "abusedesk-demo-")
	if err != nil {
		return err
	}
	if f.db == "" {
		f.db = filepath.Join(dir, "abusedesk.db")
	}
	log := newLogger()
	// Listen first: a busy port fails before the import, not after.
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return fmt.Errorf("%w (choose another with --addr)", err)
	}
	st, err := store.Open(ctx, f.db)
	if err != nil {
		ln.Close()
		return err
	}
	defer st.Close()
	p, err := demodata.New(demodata.Config{Seed: *seed, Addresses: n})
	if err != nil {
		ln.Close()
		return err
	}
	log.Info("importing a synthetic provider (about 20 s at 300k addresses; --addresses 10k takes a second)", "addresses", n, "seed", *seed)
	t0 := time.Now()
	// The server takes this keeper as it is: no second load of what was
	// just stored.
	k := inventory.New(st, log)
	if err := k.Load(ctx); err != nil {
		ln.Close()
		return err
	}
	counts, err := importProvider(ctx, k, p)
	switch {
	case errors.Is(err, errDemoRefused): // the good lines are in; the samples still work
		log.Warn("synthetic provider partly imported", "err", err)
	case err != nil:
		ln.Close()
		return err
	}
	took := time.Since(t0)
	s := p.Stats()
	log.Info("synthetic provider imported", "prefixes", s.Prefixes, "accounts", counts.Accounts, "resources", counts.Resources,
		"assignments", counts.Assignments, "hostnames", counts.Hostnames, "took", took.Round(time.Millisecond))
	base := "http://" + ln.Addr().String()
	// Unless a real relay is named, the desk's mails go to an SMTP server
	// of its own on loopback, readable in the console.
	var sink *mailsink.Sink
	sinkNote := "mails go to the relay " + f.mail.relay
	if f.mail.relay == "" {
		if sink, err = mailsink.Start("127.0.0.1:0", 5000); err != nil {
			ln.Close()
			return err
		}
		defer sink.Close()
		sinkNote = "an SMTP server on " + sink.Addr() + " receives every mail the desk sends"
	}
	return run(ctx, log, st, &f, ln, k, sink, func(in *intake.Service) {
		d, err := seedDemo(ctx, in, base, p)
		if err != nil {
			log.Error("demo data", "err", err)
			return
		}
		policy, _ := f.policy() // checked by run
		staff, err := seedDemoCases(ctx, st, in, p, policy)
		if err != nil {
			log.Error("demo cases", "err", err)
			return
		}
		mailNote := []string{"    (no mailbox: --smtp-listen is off)"}
		if f.mailbox.bound != "" {
			if mailNote, err = seedDemoMail(ctx, f.mailbox.bound, f.mail.domain, p); err != nil {
				log.Error("demo mail", "err", err)
			}
		}
		before, after, ok := p.Reassignment()
		var who strings.Builder
		if ok {
			for _, pr := range []demodata.Probe{before, after} {
				fmt.Fprintf(&who, "    abusedesk attribute --db %s %s %s\n        # → %s %s of %s\n",
					f.db, pr.Addr, pr.Time.Format(time.RFC3339), pr.Verdict, pr.Resource, pr.Account)
			}
		}
		fmt.Printf(`
abusedesk demo — database %s

  synthetic provider (seed %d): %d prefixes, %d accounts, %d resources,
    %d assignments (%d of wider prefixes), %d host names; imported in %s
    (the files: abusedesk demo provider --out DIR --seed %d --addresses %d)

  staff console      %s/console   log in as %s (or %s, in French), password %s
  cases to look at:
%s
  staff API          curl -s -H 'Authorization: Bearer %s' '%s/api/v1/cases?ip=%s'
  demo mailbox       %s/console/sink   (%s: acknowledgements,
                     notices with the customer's portal link, questions with the reporter's status link)
  outgoing mail      %s/console/outbox
  abuse@ mailbox     smtp://%s  (abuse@%s; replies to abuse+TOKEN@%s join their case)
    review queue and per-parser counts: %s/console/mailbox; sent to it at start:
%s
    send one:   curl -s smtp://%s --mail-from you@example.org --mail-rcpt abuse@%s -T report.eml
    read one:   abusedesk mail parse report.eml   (what it becomes, as JSON; nothing stored)

  report form        %s/report        (French: %s/fr/report)
  API description    %s/api/openapi.yaml
  health, metrics    %s/healthz   %s/metrics
  sample reports (private status links, then the verdict of their first item and their lane):
%s
  who held it then (the same address, two holders):
%s
  try the API:
    curl -s %s/api/v1/reports -H 'Content-Type: application/json' -d @- <<'JSON'
    {"type":"network","subtype":"port_scan","reporter":{"name":"Ops","email":"ops@example.org"},
     "incidents":[{"source_ip":"%s","target":"198.51.100.20","timestamp":"%s","log":"SRC=%s DST=198.51.100.20 PROTO=TCP DPT=22"}]}
    JSON

Stop with Ctrl-C.
`, f.db, *seed, s.Prefixes, s.Accounts, s.Resources, s.Assignments, s.Wider, s.Hostnames, took.Round(time.Millisecond), *seed, n,
			base, demoAnalyst, demoAdmin, demoPassword, strings.Join(staff.cases, "\n"), staff.token, base, staff.ip, base, sinkNote, base,
			f.mailbox.bound, f.mail.domain, f.mail.domain, base, strings.Join(mailNote, "\n"), f.mailbox.bound, f.mail.domain,
			base, base, base, base, base, strings.Join(d.links, "\n"), who.String(),
			base, d.try.Addr, d.try.Time.Format(time.RFC3339), d.try.Addr)
	})
}

type demoSeeded struct {
	links []string
	try   demodata.Probe // an assigned address for the curl example
}

// demoProbes picks, from the provider's probes, the ones the sample
// reports need: an address held then, one of ours held by nobody then, one
// not ours, one sent from the email-sending service, URLs still hosted now
// (a URL is attributed at receipt).
type demoProbes struct {
	assigned, assigned6, covered, unassigned, notOurs, ses demodata.Probe
	phish, hosted                                          demodata.Probe // URLs: on a wildcard, on an exact name
}

func pickDemoProbes(p *demodata.Provider) (demoProbes, error) {
	var d demoProbes
	for _, pr := range p.Probes(2000) {
		v4 := pr.Addr.Is4()
		switch {
		case pr.Kind == demodata.ProbeAssigned && v4 && pr.Service == "EC2" && !d.assigned.Addr.IsValid():
			d.assigned = pr
		case pr.Kind == demodata.ProbeAssigned && !v4 && !d.assigned6.Addr.IsValid():
			d.assigned6 = pr
		case pr.Kind == demodata.ProbeAssigned && v4 && pr.Service == "SES" && !d.ses.Addr.IsValid():
			d.ses = pr
		case pr.Kind == demodata.ProbeCovered && v4 && !d.covered.Addr.IsValid():
			d.covered = pr
		case pr.Kind == demodata.ProbeUnassigned && v4 && pr.Service == "EC2" && !d.unassigned.Addr.IsValid():
			d.unassigned = pr
		case pr.Kind == demodata.ProbeNotOurs && v4 && !d.notOurs.Addr.IsValid():
			d.notOurs = pr
		case pr.Kind == demodata.ProbeURL && pr.HeldUntil.IsZero() && strings.HasPrefix(pr.Matched, "*.") && d.phish.URL == "":
			d.phish = pr
		case pr.Kind == demodata.ProbeURL && pr.HeldUntil.IsZero() && !strings.HasPrefix(pr.Matched, "*.") && d.hosted.URL == "":
			d.hosted = pr
		}
	}
	for name, pr := range map[string]demodata.Probe{"assigned": d.assigned, "IPv6": d.assigned6, "SES": d.ses, "covered": d.covered, "unassigned": d.unassigned, "not ours": d.notOurs} {
		if !pr.Addr.IsValid() {
			return d, fmt.Errorf("the synthetic provider has no %s address to show (try a larger --addresses)", name)
		}
	}
	if d.phish.URL == "" || d.hosted.URL == "" {
		return d, errors.New("the synthetic provider has no host name held now to show (try a larger --addresses)")
	}
	return d, nil
}

// zoned shows a time with a zone offset, as reporters send them.
func zoned(t time.Time) string { return t.In(time.FixedZone("", 3600)).Format(time.RFC3339) }

func seedDemo(ctx context.Context, in *intake.Service, base string, p *demodata.Provider) (demoSeeded, error) {
	d, err := pickDemoProbes(p)
	if err != nil {
		return demoSeeded{}, err
	}
	port := func(n int) *int { return &n }
	a, u, no, ses := d.assigned, d.unassigned, d.notOurs, d.ses
	mailDate := func(t time.Time) string {
		return t.In(time.FixedZone("", 3600)).Format("Mon, 2 Jan 2006 15:04:05 -0700")
	}
	samples := []*report.Report{
		{Type: "network", Subtype: "intrusion", Reporter: report.Reporter{Name: "Alice Martin", Email: "soc@example.org", Organization: "Example SOC", Kind: "organization"},
			ShareContactWithCustomer: true, Description: "SSH brute force against our bastion.",
			Incidents: []report.Incident{{SourceIP: a.Addr.String(), SourcePort: port(51234), Target: "198.51.100.20", TargetPort: port(22), Protocol: "tcp",
				Timestamp: zoned(a.Time), Log: fmt.Sprintf("%s bastion sshd[811]: Failed password for root from %s port 51234 ssh2\n%s bastion sshd[811]: Failed password for root from %s port 51234 ssh2",
					a.Time.Format(time.Stamp), a.Addr, a.Time.Add(2*time.Second).Format(time.Stamp), a.Addr)}}},
		{Type: "network", Subtype: "ddos", Reporter: report.Reporter{Name: "NOC", Email: "noc@isp.example", Kind: "isp"}, Language: "fr",
			Description: "Attaque SYN flood depuis votre réseau.",
			Incidents: []report.Incident{{SourceIP: u.Addr.String(), Target: "192.0.2.80", TargetPort: port(443), Protocol: "tcp",
				Timestamp: zoned(u.Time), Log: fmt.Sprintf("%s SYN flood 250k pps from %s to 192.0.2.80:443", u.Time.Format(time.TimeOnly), u.Addr)}}},
		{Type: "network", Subtype: "port_scan", Reporter: report.Reporter{Name: "Scanner watch", Email: "watch@example.net"},
			Incidents: []report.Incident{{SourceIP: no.Addr.String(), Target: "198.51.100.20", Protocol: "tcp",
				Timestamp: zoned(no.Time), Log: fmt.Sprintf("SRC=%s DST=198.51.100.20 PROTO=TCP DPT=1-1024 (not one of ours: answered at once)", no.Addr)}}},
		{Type: "content", Subtype: "phishing", Reporter: report.Reporter{Name: "Bank CERT", Email: "cert@bank.example", Kind: "cert"},
			Description: "Phishing page imitating our login, <script>alert(1)</script> in the kit.",
			URLs:        []report.URLItem{{URL: d.phish.URL + "?id=<b>1</b>", Description: "credential harvesting form"}}},
		{Type: "email", Subtype: "spam_sent", Reporter: report.Reporter{Name: "Postmaster", Email: "postmaster@mail.example"},
			Description: "Unsolicited bulk mail, sent from the provider's email service.",
			EmailMessage: &report.EmailMessage{Headers: fmt.Sprintf("Received: from out-7.mail-service.example.net (out-7.mail-service.example.net [%s])\n\tby mx.mail.example with ESMTP id 1234; %s\nFrom: \"Deals\" <deals@sender.example>\nTo: user@mail.example\nSubject: You won\nDate: %s\nMessage-ID: <1@sender.example>",
				ses.Addr, mailDate(ses.Time), mailDate(ses.Time.Add(-2*time.Second)))}},
		{Type: "dmca", Reporter: report.Reporter{Name: "Rights Ltd", Email: "legal@rights.example", Kind: "organization"},
			DMCA: &report.DMCANotice{Signature: "/Jane Doe/", Works: []string{"Popular TV Show S01E05"},
				Infringing: []report.InfringingItem{{URL: d.hosted.URL}},
				Contact:    report.DMCAContact{Name: "Jane Doe", Address: "1 Main St, Springfield", Phone: "+1 555 0100", Email: "legal@rights.example"},
				GoodFaith:  true, AccuracyUnderPenaltyOfPerjury: true}},
	}
	var out demoSeeded
	out.try = d.assigned6
	for _, r := range samples {
		raw, _ := json.Marshal(r)
		// As if sent with the web form: their reporters get an
		// acknowledgement by mail, which the demo mailbox shows.
		rc, es, err := in.Submit(ctx, intake.Submission{Report: r, Channel: intake.ChannelForm, Raw: raw, ContentType: "application/json"})
		if err != nil {
			return out, err
		}
		if len(es) > 0 {
			return out, es
		}
		prefix := ""
		if r.Language == "fr" {
			prefix = "/fr"
		}
		out.links = append(out.links, fmt.Sprintf("    %-8s %-10s %s%s/status/%s?token=%s\n%21s%s", r.Type, r.Subtype, base, prefix, rc.PublicID, rc.Token, "", describeVerdict(r)))
	}
	// A CSV of many addresses: held then (by the address itself, IPv6, by a
	// covering prefix), held by nobody then, not ours, and a row without a
	// zone that is refused.
	var csv strings.Builder
	csv.WriteString("ip,timestamp,log\n")
	for _, pr := range []demodata.Probe{a, d.assigned6, d.covered, u, no} {
		fmt.Fprintf(&csv, "%s,%s,port scan 1-1024\n", pr.Addr, zoned(pr.Time))
	}
	fmt.Fprintf(&csv, "%s,%s,no zone: this row is refused\n", a.Addr, a.Time.Format("2006-01-02 15:04:05"))
	bulk, es, err := in.SubmitBulk(ctx, &report.Report{Type: "network", Subtype: "port_scan", Reporter: report.Reporter{Name: "Scanner watch", Email: "watch@example.net"}}, strings.NewReader(csv.String()), "text/csv", "")
	if err != nil {
		return out, err
	}
	if len(es) > 0 {
		return out, es
	}
	out.links = append(out.links, fmt.Sprintf("    %-8s %-10s %s/status/%s?token=%s\n%21s(CSV: %d rows accepted, %d refused: assigned, IPv6 assigned, covered by a wider prefix, unassigned, not ours)",
		"network", "port_scan", base, bulk.PublicID, bulk.Token, "", bulk.Accepted, bulk.RejectedCount))
	return out, nil
}

// describeVerdict tells a report's first item's verdict and the report's lane.
func describeVerdict(r *report.Report) string {
	var what string
	var at report.Attribution
	switch {
	case len(r.Incidents) > 0:
		what, at = r.Incidents[0].SourceIP+" at "+r.Incidents[0].Timestamp, r.Incidents[0].Attribution
	case len(r.URLs) > 0:
		what, at = r.URLs[0].URL, r.URLs[0].Attribution
	case r.DMCA != nil && len(r.DMCA.Infringing) > 0:
		what, at = r.DMCA.Infringing[0].URL, r.DMCA.Infringing[0].Attribution
	}
	v := at.Verdict
	switch v {
	case "assigned":
		v = fmt.Sprintf("assigned to %s (%s, %s)", at.Resource, at.Service, at.Account)
	case "unassigned":
		v = fmt.Sprintf("ours (%s), held by nobody then", at.Service)
	case "":
		v = "not attributed"
	}
	return fmt.Sprintf("%s → %s; lane %s", what, v, r.Lane)
}
