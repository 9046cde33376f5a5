package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"abusedesk/internal/store"
)

// run runs the binary with env added and returns its combined output.
func runBin(t *testing.T, bin string, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// seedProvider imports a provider with one customer address, 203.0.113.7,
// held by account acct-1001 (French, security contact sec@example.fr).
func seedProvider(t *testing.T, bin, db string) {
	t.Helper()
	dir := t.TempDir()
	ranges := filepath.Join(dir, "ip-ranges.json")
	inv := filepath.Join(dir, "inventory.jsonl")
	os.WriteFile(ranges, []byte(`{"syncToken":"1","createDate":"2026-01-01-00-00-00","prefixes":[{"ip_prefix":"203.0.113.0/24","region":"eu-west-3","service":"EC2","network_border_group":"eu-west-3"}],"ipv6_prefixes":[]}`), 0o644)
	os.WriteFile(inv, []byte(`{"kind":"account","id":"acct-1001","name":"Example SARL","security_email":"sec@example.fr","email":"owner@example.fr","language":"fr"}
{"kind":"resource","id":"i-0abc","account":"acct-1001","type":"instance","service":"EC2","region":"eu-west-3"}
{"kind":"assignment","resource":"i-0abc","prefix":"203.0.113.7/32","from":"2026-01-01T00:00:00Z"}
`), 0o644)
	for _, a := range [][]string{{"import", "ranges", "--db", db, ranges}, {"import", "inventory", "--db", db, inv}} {
		if out, err := runBin(t, bin, nil, a...); err != nil {
			t.Fatalf("%v: %v\n%s", a, err, out)
		}
	}
}

// TestStaffFlow is the operator's and the analyst's path through the real
// binary: user add, token add, serve; a report becomes a case found by
// GET /api/v1/cases?ip=; a notified case escalates by itself when its
// deadline passes (River's periodic job); audit verify finds the chain
// intact, then names the entry an UPDATE changed.
func TestStaffFlow(t *testing.T) {
	bin := binary(t)
	eachDB(t, "abusedesk_staff", func(t *testing.T, db string) {
		pw := []string{"ABUSEDESK_PASSWORD=a long enough password"}
		if out, err := runBin(t, bin, pw, "user", "add", "--db", db, "--role", "analyst", "ana@provider.example"); err != nil {
			t.Fatalf("user add: %v\n%s", err, out)
		}
		if out, err := runBin(t, bin, pw, "user", "add", "--db", db, "--role", "analyst", "ana@provider.example"); err == nil || !strings.Contains(out, "already exists") {
			t.Errorf("second user add: %v %s", err, out)
		}
		if out, err := runBin(t, bin, []string{"ABUSEDESK_PASSWORD=short"}, "user", "add", "--db", db, "bob@provider.example"); err == nil || !strings.Contains(out, "at least 12") {
			t.Errorf("short password: %v %s", err, out)
		}
		if out, err := runBin(t, bin, nil, "token", "add", "--db", db, "nobody@provider.example"); err == nil || !strings.Contains(out, "not found") {
			t.Errorf("token for an unknown user: %v %s", err, out)
		}
		out, err := runBin(t, bin, nil, "token", "add", "--db", db, "ana@provider.example")
		if err != nil {
			t.Fatalf("token add: %v\n%s", err, out)
		}
		token := strings.Fields(out)[0]
		if !strings.HasPrefix(token, "ads_") {
			t.Fatalf("token %q", token)
		}
		seedProvider(t, bin, db)
		t.Setenv("ABUSEDESK_ESCALATION_EVERY", "1s")
		base, _ := startServe(t, bin, db, "--response-deadlines", "network=2s")
		api := func(method, path, body string) (int, map[string]any) {
			req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var m map[string]any
			json.NewDecoder(resp.Body).Decode(&m)
			return resp.StatusCode, m
		}
		resp, err := http.Post(base+"/api/v1/reports", "application/json", strings.NewReader(`{"type":"network","subtype":"intrusion",
			"reporter":{"name":"Ops","email":"ops@example.org"},"incidents":[{"source_ip":"203.0.113.7","target":"198.51.100.20",
			"timestamp":"`+time.Now().Add(-time.Hour).Format(time.RFC3339)+`","log":"sshd: Failed password"}]}`))
		if err != nil || resp.StatusCode != 201 {
			t.Fatalf("report: %v %v", err, resp.Status)
		}
		resp.Body.Close()
		var id string
		for deadline := time.Now().Add(30 * time.Second); id == "" && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			code, m := api("GET", "/api/v1/cases?ip=203.0.113.7", "")
			if code != 200 {
				t.Fatalf("cases?ip=: %d %v", code, m)
			}
			if list, _ := m["cases"].([]any); len(list) == 1 {
				id = list[0].(map[string]any)["id"].(string)
			}
		}
		if id == "" {
			t.Fatal("no case for 203.0.113.7 within 30 s of the report")
		}
		if code, m := api("POST", "/api/v1/cases/"+id+"/actions", `{"action":"notify"}`); code != 200 || m["status"] != "customer_notified" {
			t.Fatalf("notify: %d %v", code, m)
		}
		status := ""
		for deadline := time.Now().Add(60 * time.Second); status != "escalated" && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			_, m := api("GET", "/api/v1/cases/"+id, "")
			status, _ = m["status"].(string)
		}
		if status != "escalated" {
			t.Fatalf("the case is %q 60 s after a 2 s response deadline, want escalated by the job", status)
		}
		_, m := api("GET", "/api/v1/cases/"+id, "")
		var sawSystem bool
		for _, e := range m["timeline"].([]any) {
			e := e.(map[string]any)
			sawSystem = sawSystem || (e["action"] == "escalate" && e["actor"] == "system")
		}
		if !sawSystem {
			t.Error("the timeline lacks the escalation by the system")
		}

		out, err = runBin(t, bin, nil, "audit", "verify", "--db", db)
		if err != nil || !strings.Contains(out, "audit trail intact") {
			t.Fatalf("audit verify: %v\n%s", err, out)
		}
		st, err := store.Open(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		_, err = st.W.Exec("UPDATE audit_log SET actor = 'someone else' WHERE seq = 2")
		st.Close()
		if err != nil {
			t.Fatal(err)
		}
		out, err = runBin(t, bin, nil, "audit", "verify", "--db", db)
		if err == nil || !strings.Contains(out, "BROKEN at entry 2") {
			t.Fatalf("audit verify after tampering: %v\n%s", err, out)
		}
	})
}
