package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"abusedesk/internal/auth"
	"abusedesk/internal/cases"
	"abusedesk/internal/demodata"
	"abusedesk/internal/intake"
	"abusedesk/internal/report"
	"abusedesk/internal/store"
)

// The demo's staff: the password is printed in the banner (a demo on a
// throw-away database, never a real desk).
const (
	demoAnalyst  = "analyst@demo.example"
	demoAdmin    = "admin@demo.example"
	demoPassword = "demo-password-1"
)

type demoStaff struct {
	token string   // a staff API token of the analyst
	ip    string   // an address with a case, for the API example
	cases []string // what the seeded cases show
}

// seedDemoCases gives the console something to work: the demo's staff,
// reports about a few dozen customer resources (some reported many times,
// by several reporters), grouped into cases, and a handful of cases moved
// through the workflow — one notified long ago, whose deadline has passed,
// so that the escalation job acts on it within a minute.
func seedDemoCases(ctx context.Context, st *store.Store, in *intake.Service, p *demodata.Provider, policy cases.Policy) (demoStaff, error) {
	var out demoStaff
	h, err := auth.HashPassword(demoPassword)
	if err != nil {
		return out, err
	}
	for _, u := range []struct{ email, role, lang string }{{demoAnalyst, store.RoleAnalyst, "en"}, {demoAdmin, store.RoleAdmin, "fr"}} {
		if _, err := st.AddUser(ctx, u.email, u.email[:5], u.role, u.lang, h); err != nil {
			return out, err
		}
	}
	analyst, err := st.UserByEmail(ctx, demoAnalyst)
	if err != nil {
		return out, err
	}
	if out.token, err = st.AddStaffToken(ctx, analyst.ID, "demo"); err != nil {
		return out, err
	}
	var held []demodata.Probe
	for _, pr := range p.Probes(3000) {
		if pr.Kind == demodata.ProbeAssigned && pr.Addr.Is4() && pr.Service == "EC2" {
			held = append(held, pr)
		}
	}
	if len(held) > 30 {
		held = held[:30]
	}
	reporters := []report.Reporter{
		{Name: "Example SOC", Email: "soc@example.org", Organization: "Example SOC", Kind: "organization"},
		{Name: "CERT-Demo", Email: "cert@cert.example", Kind: "cert"},
		{Name: "Hosting NOC", Email: "noc@isp.example", Kind: "isp"},
		{Name: "Jo Admin", Email: "jo@small.example", Kind: "individual"},
	}
	subtypes := []string{"ddos", "intrusion", "port_scan", "intrusion", "other"}
	for i, pr := range held {
		// The first resources are reported again and again: one case each.
		times := 1
		if i < 3 {
			times = 12 - 3*i
		}
		for k := 0; k < times; k++ {
			sub := subtypes[i%len(subtypes)]
			at := pr.Time.Add(time.Duration(k) * time.Minute)
			r := &report.Report{Type: "network", Subtype: sub, Reporter: reporters[(i+k)%len(reporters)], ShareContactWithCustomer: k%2 == 0,
				Description: fmt.Sprintf("%s seen from %s", sub, pr.Addr),
				Incidents: []report.Incident{{SourceIP: pr.Addr.String(), Target: "198.51.100.20", Protocol: "tcp", Timestamp: zoned(at),
					Log: fmt.Sprintf("%s fw: DROP SRC=%s DST=198.51.100.20 PROTO=TCP DPT=22 <%s>", at.Format(time.Stamp), pr.Addr, sub)}}}
			raw, _ := json.Marshal(r)
			_, es, err := in.Submit(ctx, intake.Submission{Report: r, Channel: intake.ChannelAPI, Raw: raw, ContentType: "application/json"})
			if err != nil {
				return out, err
			}
			if len(es) > 0 {
				return out, es
			}
		}
	}
	if len(held) > 0 {
		out.ip = held[0].Addr.String()
	}
	if _, err := st.GroupPending(ctx, policy, time.Now); err != nil {
		return out, err
	}
	page, err := st.ListCases(ctx, store.CaseFilter{Sort: store.SortNewest, Limit: 12}, policy, time.Now())
	if err != nil {
		return out, err
	}
	now := time.Now()
	steps := []struct {
		what string
		at   time.Time
		cmds []cases.Command
	}{
		{"notified 30 hours ago, no answer: the escalation job escalates it", now.Add(-30 * time.Hour), []cases.Command{{Action: cases.Notify}}},
		{"assigned, with a note", now, []cases.Command{{Action: cases.Assign, Assignee: demoAnalyst}, {Action: cases.Note, Note: "Customer called: <b>they are looking into it</b>."}}},
		{"resolved ACTIONED", now, []cases.Command{{Action: cases.Notify}, {Action: cases.CustomerResponse}, {Action: cases.Resolve, Outcome: cases.Actioned}}},
		{"waiting for the reporter", now, []cases.Command{{Action: cases.RequestInfo, Note: "Which port was targeted?"}}},
		{"customer notified, deadline ahead", now, []cases.Command{{Action: cases.Notify}}},
		{"dismissed", now, []cases.Command{{Action: cases.Dismiss, Outcome: cases.ReviewedNoAction}}},
	}
	for i, s := range steps {
		if i >= len(page.Cases) {
			break
		}
		id := page.Cases[i].PublicID
		for _, c := range s.cmds {
			if _, _, err := st.ApplyCase(ctx, id, demoAnalyst, c, policy, s.at); err != nil {
				return out, fmt.Errorf("demo case %s: %s: %w", id, c.Action, err)
			}
		}
		out.cases = append(out.cases, fmt.Sprintf("    %s  %s", id, s.what))
	}
	return out, nil
}
