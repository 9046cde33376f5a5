package web

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"abusedesk/internal/attribution"
	"abusedesk/internal/intake"
	"abusedesk/internal/inventory"
	"abusedesk/internal/store"
	"abusedesk/internal/store/storetest"
)

// POST /api/v1/inventory: only with an inventory token; good lines take
// effect before the answer (the next report is attributed with them), bad
// ones come back by line.
func TestInventoryFeed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := t.Context()
		in := intake.New(st, nil, intake.BulkLimits{})
		t.Cleanup(in.Close)
		k := inventory.New(st, nil)
		k.OnChange = in.SetAttributor
		if err := k.Load(ctx); err != nil {
			t.Fatal(err)
		}
		space, _, _ := attribution.ParseRanges(strings.NewReader(`{"prefixes":[{"ip_prefix":"203.0.113.0/24","region":"eu-west-3","service":"EC2","network_border_group":"eu-west-3"}],"ipv6_prefixes":[]}`))
		if err := k.ReplaceRanges(ctx, space); err != nil {
			t.Fatal(err)
		}
		srv := New(Config{DisableRateLimit: true}, in, nil)
		srv.Inventory = k
		ts := httptest.NewServer(srv.Handler())
		t.Cleanup(ts.Close)
		tok, err := st.AddToken(ctx, "cmdb", store.ScopeInventory)
		if err != nil {
			t.Fatal(err)
		}
		st.W.ExecContext(ctx, "INSERT INTO tokens (name, scope, token_hash, created_at) VALUES ('other', 'other', $1, CURRENT_TIMESTAMP)", store.HashToken("adt_other"))
		u := ts.URL + "/api/v1/inventory"
		nd := "application/x-ndjson"
		first := `{"kind":"account","id":"acct-1","name":"One","email":"one@one.example"}
{"kind":"account","id":"acct-2","name":"Two","email":"two@two.example","language":"fr"}
{"kind":"resource","id":"eip-1","account":"acct-1","type":"elastic-ip","service":"EC2","region":"eu-west-3"}
{"kind":"resource","id":"eip-2","account":"acct-2","type":"elastic-ip","service":"EC2","region":"eu-west-3"}
{"kind":"assignment","resource":"eip-1","prefix":"203.0.113.7","from":"2026-01-01T00:00:00Z"}
{"kind":"assignment","resource":"eip-9","prefix":"203.0.113.8","from":"2026-01-01T00:00:00Z"}
{"kind":"assignment","resource":"eip-1","prefix":"203.0.113.9","from":"yesterday"}
`
		for _, c := range []struct {
			name, auth, ctype string
			code              int
		}{
			{"no token", "", nd, 401},
			{"unknown token", "Bearer adt_nope", nd, 401},
			{"other scope", "Bearer adt_other", nd, 403},
			{"wrong type", "Bearer " + tok, "text/csv", 415},
		} {
			resp, m := post(t, u, c.ctype, first, "Authorization", c.auth)
			if resp.StatusCode != c.code {
				t.Errorf("%s: %d %v, want %d", c.name, resp.StatusCode, m, c.code)
			}
		}
		if r, _ := counts(t, st); r != 0 {
			t.Fatal("refused requests stored something")
		}

		reportAt := func(when string) string {
			body := strings.Replace(validNetwork, "2026-03-02T10:00:00+01:00", when, 1)
			resp, m := post(t, ts.URL+"/api/v1/reports", "application/json", body)
			if resp.StatusCode != 201 {
				t.Fatalf("report: %d %v", resp.StatusCode, m)
			}
			var resource string
			st.R.QueryRow("SELECT i.resource FROM incidents i JOIN reports r ON r.id = i.report_id WHERE r.public_id = $1", m["id"]).Scan(&resource)
			return resource
		}

		resp, m := post(t, u, nd, first, "Authorization", "Bearer "+tok)
		if resp.StatusCode != 200 || fmt.Sprint(errorFields(m)) != "[resource:unknown_reference from:invalid_timestamp]" {
			t.Fatalf("first batch: %d %v", resp.StatusCode, m)
		}
		acc := m["accepted"].(map[string]any)
		if acc["assignments"] != 1.0 || acc["resources"] != 2.0 || acc["lines_refused"] != 2.0 {
			t.Errorf("accepted %v", acc)
		}
		if got := reportAt("2026-03-02T10:00:00+01:00"); got != "eip-1" {
			t.Errorf("before the reassignment: %q", got)
		}
		// The address moves to eip-2 on 2026-04-01: a report about March
		// still names eip-1, one about April names eip-2.
		resp, m = post(t, u, nd, `{"kind":"assignment","resource":"eip-1","prefix":"203.0.113.7/32","from":"2026-01-01T00:00:00Z","to":"2026-04-01T00:00:00Z"}
{"kind":"assignment","resource":"eip-2","prefix":"203.0.113.7/32","from":"2026-04-01T00:00:00Z"}`, "Authorization", "Bearer "+tok)
		if resp.StatusCode != 200 || len(errorFields(m)) > 0 {
			t.Fatalf("reassignment: %d %v", resp.StatusCode, m)
		}
		if got := reportAt("2026-03-02T10:00:00+01:00"); got != "eip-1" {
			t.Errorf("March after the reassignment: %q, want eip-1", got)
		}
		if got := reportAt("2026-04-02T10:00:00+02:00"); got != "eip-2" {
			t.Errorf("April: %q, want eip-2", got)
		}
		// Nothing good: 422 with every line.
		resp, m = post(t, u, nd, "{\"kind\":\"planet\"}\nnot json\n", "Authorization", "Bearer "+tok)
		if resp.StatusCode != 422 || len(errorFields(m)) != 2 {
			t.Errorf("all bad: %d %v", resp.StatusCode, m)
		}
	})
}

// Each report lands in the lane the routing rules give from its type, its
// reporter and what attribution found: spam from an address of the
// email-sending service (SES) goes to email-abuse even when its Received
// chain names no sending-service host, other spam stays general.
func TestRoutingAtIntake(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := t.Context()
		in := intake.New(st, nil, intake.BulkLimits{})
		t.Cleanup(in.Close)
		k := inventory.New(st, nil)
		k.OnChange = in.SetAttributor
		if err := k.Load(ctx); err != nil {
			t.Fatal(err)
		}
		space, _, _ := attribution.ParseRanges(strings.NewReader(`{"prefixes":[
 {"ip_prefix":"203.0.113.0/25","region":"eu-west-3","service":"EC2","network_border_group":"eu-west-3"},
 {"ip_prefix":"203.0.113.128/25","region":"eu-west-3","service":"SES","network_border_group":"eu-west-3"}],"ipv6_prefixes":[]}`))
		if err := k.ReplaceRanges(ctx, space); err != nil {
			t.Fatal(err)
		}
		if _, errs, err := k.Import(ctx, strings.NewReader(`{"kind":"account","id":"acct-1","name":"A","email":"a@a.example"}
{"kind":"resource","id":"ses-id-1","account":"acct-1","type":"sending-identity","service":"SES","region":"eu-west-3"}
{"kind":"resource","id":"i-1","account":"acct-1","type":"instance","service":"EC2","region":"eu-west-3"}
{"kind":"assignment","resource":"ses-id-1","prefix":"203.0.113.130","from":"2026-01-01T00:00:00Z"}
{"kind":"assignment","resource":"i-1","prefix":"203.0.113.7","from":"2026-01-01T00:00:00Z"}`)); err != nil || len(errs) > 0 {
			t.Fatal(err, errs)
		}
		ts := httptest.NewServer(New(Config{DisableRateLimit: true}, in, nil).Handler())
		t.Cleanup(ts.Close)
		spam := func(ip string) string {
			return `{"type":"email","subtype":"spam_sent","reporter":{"name":"Ops","email":"ops@example.org"},
 "email_message":{"headers":"Received: from mx.sender.example (mx.sender.example [` + ip + `])\n by mx.reporter.example; Tue, 3 Mar 2026 09:15:09 +0100\nSubject: buy\n"}}`
		}
		government := strings.Replace(validNetwork, `"email":"ops@example.org"}`, `"email":"cyber@police.example","kind":"government"}`, 1)
		for _, c := range []struct{ name, body, lane string }{
			{"spam from an SES address", spam("203.0.113.130"), "email-abuse"},
			{"spam from an instance", spam("203.0.113.7"), "general"},
			{"network abuse", validNetwork, "general"},
			{"from an authority", government, "legal"},
		} {
			resp, m := post(t, ts.URL+"/api/v1/reports", "application/json", c.body)
			if resp.StatusCode != 201 {
				t.Fatalf("%s: %d %v", c.name, resp.StatusCode, m)
			}
			var lane, rule string
			st.R.QueryRow("SELECT lane, lane_rule FROM reports WHERE public_id = $1", m["id"]).Scan(&lane, &rule)
			if lane != c.lane {
				t.Errorf("%s: lane %q, want %q", c.name, lane, c.lane)
			}
			// The analyst sees why: the rule (or the default) that decided.
			if wantRule := "route " + c.lane; c.lane != "general" && !strings.Contains(rule, wantRule) || c.lane == "general" && !strings.Contains(rule, "default general") {
				t.Errorf("%s: lane_rule %q", c.name, rule)
			}
		}
		// A CSV of spam sources: routed on its rows.
		ct, body := multipartBody(t, [2]string{"report", strings.Replace(bulkCommon, `"type":"network","subtype":"port_scan"`, `"type":"email","subtype":"spam_sent"`, 1)},
			[2]string{"file", "ip,timestamp,log\n203.0.113.130,2026-03-02T10:00:00Z,spam\n198.51.100.2,2026-03-02T10:00:00Z,spam\n"})
		resp, m := post(t, ts.URL+"/api/v1/reports/bulk", ct, body)
		if resp.StatusCode != 201 {
			t.Fatalf("bulk %d %v", resp.StatusCode, m)
		}
		var lane, rule string
		st.R.QueryRow("SELECT lane, lane_rule FROM reports WHERE public_id = $1", m["id"]).Scan(&lane, &rule)
		if lane != "email-abuse" || !strings.Contains(rule, "service=SES") {
			t.Errorf("bulk spam from SES: lane %q rule %q", lane, rule)
		}
	})
}
