package store_test

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"abusedesk/internal/attribution"
	"abusedesk/internal/store"
	"abusedesk/internal/store/storetest"
)

const testRanges = `{"syncToken":"1","createDate":"2026-01-01-00-00-00","prefixes":[
 {"ip_prefix":"203.0.113.0/24","region":"eu-west-3","service":"AMAZON","network_border_group":"eu-west-3"},
 {"ip_prefix":"203.0.113.0/24","region":"eu-west-3","service":"EC2","network_border_group":"eu-west-3"}],
 "ipv6_prefixes":[{"ipv6_prefix":"2001:db8::/32","region":"eu-west-3","service":"EC2","network_border_group":"eu-west-3"}]}`

const testInventory = `{"kind":"account","id":"acct-1001","name":"Example SARL","security_email":"sec@example.fr","email":"owner@example.fr","language":"fr"}
{"kind":"account","id":"acct-2002","name":"Other Ltd","email":"ops@other.example"}
{"kind":"resource","id":"i-0abc","account":"acct-1001","type":"instance","service":"EC2","region":"eu-west-3"}
{"kind":"resource","id":"i-0def","account":"acct-2002","type":"instance","service":"EC2","region":"eu-west-3"}
{"kind":"resource","id":"bucket-9","account":"acct-2002","type":"bucket","service":"S3","region":"eu-west-3"}
{"kind":"assignment","resource":"i-0abc","prefix":"203.0.113.7/32","from":"2026-01-01T00:00:00Z","to":"2026-03-01T00:00:00Z"}
{"kind":"assignment","resource":"i-0def","prefix":"203.0.113.0/28","from":"2025-06-01T00:00:00Z"}
{"kind":"assignment","resource":"i-0def","prefix":"203.0.113.7","from":"2026-02-01T00:00:00Z"}
{"kind":"hostname","resource":"bucket-9","host":"*.example-cdn.net","from":"2026-01-01T00:00:00Z"}
`

// TestInventoryImportAndAttribution: ranges and inventory go in, verdicts
// come out as of the time asked, and an overlapping line is refused by
// number, also against what an earlier import stored.
func TestInventoryImportAndAttribution(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		space, es, err := attribution.ParseRanges(strings.NewReader(testRanges))
		if err != nil || len(es) > 0 {
			t.Fatal(err, es)
		}
		if err := s.ReplaceRanges(ctx, space.Prefixes()); err != nil {
			t.Fatal(err)
		}
		inv, lerrs, err := attribution.ParseInventory(strings.NewReader(testInventory))
		if err != nil || len(lerrs) > 0 {
			t.Fatal(err, lerrs)
		}
		n, ierrs, err := s.ImportInventory(ctx, inv)
		if err != nil {
			t.Fatal(err)
		}
		// Line 8 (i-0def on .7 from February) overlaps line 6 (i-0abc until March).
		if len(ierrs) != 2 || ierrs[0].Line != 6 || ierrs[1].Line != 8 {
			t.Fatalf("import errors %v", ierrs)
		}
		if n.Accounts != 2 || n.Resources != 3 || n.Assignments != 1 || n.Hostnames != 1 {
			t.Errorf("counts %+v", n)
		}
		// The same file again: the stored history wins over every line.
		inv2, _, _ := attribution.ParseInventory(strings.NewReader(testInventory))
		n2, ierrs2, err := s.ImportInventory(ctx, inv2)
		if err != nil || n2.Assignments != 0 || len(ierrs2) == 0 {
			t.Errorf("re-import: %+v %v %v", n2, ierrs2, err)
		}
		a, err := s.LoadAttributor(ctx)
		if err != nil {
			t.Fatal(err)
		}
		at := func(s string) time.Time { tm, _ := time.Parse(time.RFC3339, s); return tm }
		for _, c := range []struct {
			addr, when, verdict, resource, account string
		}{
			{"203.0.113.7", "2026-01-15T00:00:00Z", attribution.Assigned, "i-0def", "acct-2002"}, // the /28: line 6 was refused
			{"203.0.113.9", "2026-03-02T09:00:00Z", attribution.Assigned, "i-0def", "acct-2002"},
			{"203.0.113.9", "2025-01-01T00:00:00Z", attribution.Unassigned, "", ""},
			{"203.0.113.200", "2026-03-02T09:00:00Z", attribution.Unassigned, "", ""},
			{"2001:db8::1", "2026-03-02T09:00:00Z", attribution.Unassigned, "", ""},
			{"198.51.100.1", "2026-03-02T09:00:00Z", attribution.NotOurs, "", ""},
		} {
			v := a.Addr(netip.MustParseAddr(c.addr), at(c.when))
			if v.Verdict != c.verdict || v.Resource != c.resource || v.Account != c.account {
				t.Errorf("%s at %s: %+v", c.addr, c.when, v)
			}
		}
		if v, ok := a.URL("https://media.example-cdn.net/x.mp4", at("2026-03-02T09:00:00Z")); !ok || v.Resource != "bucket-9" {
			t.Errorf("hosted URL: %+v", v)
		}
		if v, _ := a.URL("https://elsewhere.example/", at("2026-03-02T09:00:00Z")); v.Verdict != attribution.NotOurs {
			t.Errorf("foreign URL: %+v", v)
		}
	})
}
