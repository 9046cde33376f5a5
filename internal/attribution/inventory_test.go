package attribution

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

func lineCodes(errs []LineError) []string {
	out := make([]string, len(errs))
	for i, e := range errs {
		out[i] = fmt.Sprintf("%d %s %s", e.Line, e.Field, e.Code)
	}
	return out
}

func TestParseInventoryFile(t *testing.T) {
	f, err := os.Open("testdata/inventory.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	inv, errs, err := ParseInventory(f)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"13 kind invalid_choice",
		"14 id required",
		"15 colour unknown_field",
		"16 prefix invalid_ip",
		"17 to invalid",
		"18 email invalid_email",
		"19 language invalid_choice",
		"21 from timezone_required",
		"23  invalid_json",
		"24 host invalid_host",
		"26 name unknown_field",
	}
	if got := lineCodes(errs); !slices.Equal(got, want) {
		t.Errorf("parse errors:\n got %q\nwant %q", got, want)
	}
	for _, e := range errs {
		t.Log(e)
	}
	if len(inv.Accounts) != 2 || len(inv.Resources) != 5 || len(inv.Assignments) != 5 || len(inv.Hostnames) != 2 {
		t.Fatalf("kept %d accounts, %d resources, %d assignments, %d hostnames",
			len(inv.Accounts), len(inv.Resources), len(inv.Assignments), len(inv.Hostnames))
	}
	a := inv.Accounts[0]
	if a != (Account{Line: 1, ID: "acct-1001", Name: "Example SARL", SecurityEmail: "sec@example.fr", Email: "owner@example.fr", Language: "fr"}) {
		t.Errorf("account (BOM line): %+v", a)
	}
	if r := inv.Resources[0]; r.Region != "eu-west-3" || r.Line != 2 { // CRLF line
		t.Errorf("resource: %+v", r)
	}
	s7 := inv.Assignments[2]
	if s7.Line != 7 || s7.Prefix != netip.MustParsePrefix("203.0.113.7/32") || !s7.From.Equal(time.Date(2026, 2, 14, 23, 0, 0, 0, time.UTC)) || !s7.To.IsZero() {
		t.Errorf("bare-address assignment: %+v", s7)
	}
	if s := inv.Assignments[3]; s.Prefix != netip.MustParsePrefix("2001:db8:1::5/128") {
		t.Errorf("IPv6 bare address: %+v", s)
	}
	if h := inv.Hostnames[1]; h.Host != "*.example-cdn.net" {
		t.Errorf("wildcard host not normalised: %+v", h)
	}

	// Cross references: acct-2002 is known to the database, nothing else.
	verrs := inv.Validate(Known{Account: func(id string) bool { return id == "acct-2002" }})
	wantV := []string{
		"20 account unknown_reference",
		"22 resource unknown_reference",
		"25 id duplicate",
	}
	if got := lineCodes(verrs); !slices.Equal(got, wantV) {
		t.Errorf("validate errors:\n got %q\nwant %q", got, wantV)
	}
	if !strings.Contains(verrs[2].Message, "line 1") {
		t.Errorf("duplicate message: %s", verrs[2].Message)
	}

	// Into the index: handles are positions in a resource table.
	ids := map[string]uint32{}
	for i, r := range inv.Resources {
		ids[r.ID] = uint32(i + 1)
	}
	handle := func(id string) (uint32, bool) { h, ok := ids[id]; return h, ok }
	as, lines, aerrs := inv.AssignmentsFor(handle)
	if len(aerrs) != 0 {
		t.Fatal(aerrs)
	}
	ix, cs := Build(as)
	cerrs := ConflictLineErrors(cs, lines, "prefix")
	// The two assignments of 203.0.113.7/32 (lines 3 and 7) overlap; the
	// /24 of line 4 covering them is not a conflict.
	wantC := []string{"3 prefix overlap", "7 prefix overlap"}
	if got := lineCodes(cerrs); !slices.Equal(got, wantC) {
		t.Fatalf("conflicts: got %q, want %q (%v)", got, wantC, cs)
	}
	if !strings.Contains(cerrs[0].Message, "line 7") || !strings.Contains(cerrs[1].Message, "line 3") {
		t.Errorf("conflict messages: %v", cerrs)
	}
	at := time.Date(2026, 2, 20, 0, 0, 0, 0, time.UTC)
	res, p, ok := ix.Lookup(netip.MustParseAddr("203.0.113.7"), at)
	if !ok || res != ids["vpc-24"] || p != netip.MustParsePrefix("203.0.113.0/24") {
		t.Errorf("203.0.113.7: %d %v %v, want the /24 (both /32 lines refused)", res, p, ok)
	}

	hs, hlines, herrs := inv.HostAssignmentsFor(handle)
	if len(herrs) != 0 {
		t.Fatal(herrs)
	}
	hx, hcs := BuildHosts(hs)
	if len(hcs) != 0 {
		t.Fatal(ConflictLineErrors(hcs, hlines, "host"))
	}
	if r, m, ok := hx.Lookup("IMG.Example-cdn.net.", at); !ok || r != ids["bucket-9"] || m != "*.example-cdn.net" {
		t.Errorf("host lookup: %d %q %v", r, m, ok)
	}
}

// Two overlapping assignments of the same /32 on lines 3 and 7 give a conflict
// naming lines 3 and 7; a /32 nested in a /24 is not a conflict.
func TestInventoryConflictLines(t *testing.T) {
	doc := strings.Join([]string{
		`{"kind":"account","id":"a","email":"sec@example.org"}`,
		`{"kind":"resource","id":"r1","account":"a"}`,
		`{"kind":"assignment","resource":"r1","prefix":"198.51.100.7/32","from":"2026-01-01T00:00:00Z","to":"2026-03-01T00:00:00Z"}`,
		`{"kind":"resource","id":"r2","account":"a"}`,
		`{"kind":"assignment","resource":"r2","prefix":"198.51.100.0/24","from":"2026-01-01T00:00:00Z"}`,
		``,
		`{"kind":"assignment","resource":"r2","prefix":"198.51.100.7","from":"2026-02-01T00:00:00Z"}`,
		`{"kind":"assignment","resource":"r1","prefix":"198.51.100.8/32","from":"2026-01-01T00:00:00Z"}`,
	}, "\n")
	inv, errs, err := ParseInventory(strings.NewReader(doc))
	if err != nil || len(errs) != 0 {
		t.Fatal(err, errs)
	}
	if verrs := inv.Validate(Known{}); len(verrs) != 0 {
		t.Fatal(verrs)
	}
	as, lines, _ := inv.AssignmentsFor(func(id string) (uint32, bool) { return uint32(id[1] - '0'), true })
	_, cs := Build(as)
	got := ConflictLineErrors(cs, lines, "prefix")
	if want := []string{"3 prefix overlap", "7 prefix overlap"}; !slices.Equal(lineCodes(got), want) {
		t.Fatalf("got %v, want %q", got, want)
	}
}

func TestInventoryLines(t *testing.T) {
	long := `{"kind":"account","id":"a","email":"sec@example.org","name":"` + strings.Repeat("x", MaxInventoryLine) + `"}`
	doc := "\n\n" + long + "\n" +
		`{"kind":"account","id":"b","email":"sec@example.org"}` + "\r\n" +
		"   \t\r\n" +
		`{"kind":"account","id":"c","email":"sec@example.org"} {}` + "\n" +
		`{"kind":"account","id":"d","security_email":"Sec Team <sec@example.org>"}` + "\n" +
		`{"kind":"account","id":"e","email":"e@example.org","language":"FR"}` + "\n" +
		`{"kind":"resource","id":"r","account":7}` + "\n" +
		`[1,2]` + "\n" +
		`{"kind":"hostname","resource":"r","host":"192.0.2.1","from":"2026-01-01T00:00:00Z"}` + "\n" +
		`{"kind":"hostname","resource":"r","host":"*.com","from":"2026-01-01"}` + "\n" +
		`{"kind":"assignment","resource":"r","prefix":"10.0.0.1/8","from":"2026-01-01T00:00:00Z","to":"2025-01-01T00:00:00Z"}` + "\n" +
		`{"kind":"account","id":"f\u0007","email":"f@example.org"}` + "\n" +
		`{"kind":"assignment","resource":"r","prefix":"::ffff:10.1.0.0/112","from":"2026-01-01T00:00:00Z"}` // no final newline
	inv, errs, err := ParseInventory(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"3  too_large",
		"6  invalid_json",
		"7 security_email invalid_email",
		"9 account wrong_type",
		"10  invalid_json",
		"11 host invalid_host",
		"12 host invalid_host",
		"12 from timezone_required",
		"13 prefix invalid_ip",
		"13 to invalid",
		"14 id invalid",
	}
	if got := lineCodes(errs); !slices.Equal(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if len(inv.Accounts) != 2 || inv.Accounts[0].ID != "b" || inv.Accounts[1].Language != "fr" {
		t.Errorf("accounts: %+v", inv.Accounts)
	}
	if len(inv.Assignments) != 1 || inv.Assignments[0].Prefix != netip.MustParsePrefix("10.1.0.0/16") || inv.Assignments[0].Line != 15 {
		t.Errorf("v4-mapped prefix: %+v", inv.Assignments)
	}
}

type failReader struct{ n int }

func (f *failReader) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errors.New("disk on fire")
	}
	f.n = 0
	return copy(p, `{"kind":"account","id":"a","email":"a@example.org"}`+"\n"), nil
}

func TestInventoryReadError(t *testing.T) {
	inv, _, err := ParseInventory(&failReader{n: 1})
	if err == nil || !strings.Contains(err.Error(), "disk on fire") || len(inv.Accounts) != 1 {
		t.Fatalf("%v %+v", err, inv)
	}
	ir := NewInventoryReader(strings.NewReader(""))
	if _, err := ir.Next(); err != io.EOF {
		t.Fatal(err)
	}
}

func FuzzParseInventory(f *testing.F) {
	if data, err := os.ReadFile("testdata/inventory.jsonl"); err == nil {
		f.Add(data)
	}
	f.Add([]byte(`{"kind":"assignment","resource":"r","prefix":"::ffff:10.1.0.0/112","from":"2026-01-01T00:00:00Z"}`))
	f.Add([]byte("\xef\xbb\xbf\n\r\n{\"kind\":\"hostname\",\"resource\":\"r\",\"host\":\"*.a.b\",\"from\":\"2026-01-01T00:00:00+01\"}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		inv, errs, err := ParseInventory(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		nlines := bytes.Count(data, []byte("\n")) + 1
		for _, e := range errs {
			if e.Line < 1 || e.Line > nlines || e.Code == "" || e.Message == "" {
				t.Fatalf("bad error %+v", e)
			}
		}
		for _, a := range inv.Assignments {
			if !a.Prefix.IsValid() || a.Prefix.Masked() != a.Prefix || a.Prefix.Addr().Is4In6() || a.From.IsZero() || (!a.To.IsZero() && !a.To.After(a.From)) {
				t.Fatalf("bad assignment %+v", a)
			}
		}
		for _, h := range inv.Hostnames {
			if p, reason := NormalizeHostPattern(h.Host); reason != "" || p != h.Host {
				t.Fatalf("bad host %+v", h)
			}
		}
		inv.Validate(Known{})
		as, lines, _ := inv.AssignmentsFor(func(string) (uint32, bool) { return 1, true })
		_, cs := Build(as)
		for _, c := range cs {
			if c.B == -1 {
				t.Fatalf("parsed assignment refused by Build: %+v %v", as[c.A], c.Reason)
			}
		}
		ConflictLineErrors(cs, lines, "prefix")
		hs, _, _ := inv.HostAssignmentsFor(func(string) (uint32, bool) { return 1, true })
		_, hcs := BuildHosts(hs)
		for _, c := range hcs {
			if c.B == -1 {
				t.Fatalf("parsed host refused by BuildHosts: %+v %v", hs[c.A], c.Reason)
			}
		}
	})
}
