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

// TestServerFollowsCLIImport: a running server picks up an inventory
// imported with the CLI into its database (through the inventory log),
// without a restart, and attributes the next report with it.
func TestServerFollowsCLIImport(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping (builds and runs the binary)")
	}
	bin := binary(t)
	eachDB(t, "abusedesk_follow", func(t *testing.T, db string) { follow(t, bin, db) })
}

func follow(t *testing.T, bin, db string) {
	url, _ := startServe(t, bin, db, "--inventory-poll", "100ms")
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	run := func(args ...string) string {
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("abusedesk %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run("import", "ranges", "--db", db, write("ip-ranges.json", `{"prefixes":[{"ip_prefix":"203.0.113.0/24","region":"eu-west-3","service":"EC2","network_border_group":"eu-west-3"}],"ipv6_prefixes":[]}`))
	run("import", "inventory", "--db", db, write("inventory.jsonl", `{"kind":"account","id":"acct-1","name":"One","email":"one@one.example"}
{"kind":"resource","id":"i-1","account":"acct-1","type":"instance","service":"EC2","region":"eu-west-3"}
{"kind":"assignment","resource":"i-1","prefix":"203.0.113.7","from":"2026-01-01T00:00:00Z"}
`))
	if out := run("attribute", "--db", db, "203.0.113.7", "2026-03-02T10:00:00+01:00"); !strings.Contains(out, `"resource":"i-1"`) {
		t.Errorf("attribute: %s", out)
	}

	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	body := `{"type":"network","subtype":"ddos","reporter":{"name":"F","email":"f@example.org"},"incidents":[{"source_ip":"203.0.113.7","target":"198.51.100.1","timestamp":"2026-03-02T10:00:00Z","log":"flood"}]}`
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Post(url+"/api/v1/reports", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		var m struct{ ID string }
		json.NewDecoder(resp.Body).Decode(&m)
		resp.Body.Close()
		var resource string
		st.R.QueryRow("SELECT i.resource FROM incidents i JOIN reports r ON r.id = i.report_id WHERE r.public_id = $1", m.ID).Scan(&resource)
		if resource == "i-1" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server never attributed 203.0.113.7 to i-1 after the CLI import (last report %s: %q)", m.ID, resource)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
