package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"abusedesk/internal/cases"
	"abusedesk/internal/disclosure"
	"abusedesk/internal/dmca"
	"abusedesk/internal/notify"
	"abusedesk/internal/report"
	"abusedesk/internal/store"
	"abusedesk/internal/store/storetest"
)

// TestLegalAndNotOurs: a legal request is acknowledged to the authority in
// its language; a form report of addresses that are not ours gets the
// "not our address" answer instead of the plain acknowledgement.
func TestLegalAndNotOurs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Now().UTC()
		if _, err := st.InsertLegalRequest(ctx, &report.LegalRequest{Language: "fr", Description: "réquisition",
			Authority: report.Authority{Name: "OPJ Martin", Email: "opj@police.example", Organization: "Police"}}, []byte("{}"), "application/json", "legal", now); err != nil {
			t.Fatal(err)
		}
		r := &report.Report{Type: "network", Subtype: "port_scan", Reporter: report.Reporter{Name: "N", Email: "n@net.example"},
			Description: "scan", Incidents: []report.Incident{{SourceIP: "192.0.2.99", Target: "198.51.100.1", Timestamp: now.Add(-time.Minute).Format(time.RFC3339), Log: "SRC=192.0.2.99 DPT=22"}}}
		if es := (&report.Validator{}).Validate(r); len(es) > 0 {
			t.Fatal(es)
		}
		r.Incidents[0].Attribution = report.Attribution{Verdict: "not_ours"}
		r.NotOurs, r.Outcome = 1, "NOT_RESOLVABLE_TO_PROVIDER"
		if _, err := st.InsertReport(ctx, &store.NewReport{Report: r, Channel: "form", Raw: []byte("{}"), ContentType: "application/json", ReceivedAt: now}); err != nil {
			t.Fatal(err)
		}
		run(t, notify.New(st, nil, notify.Config{}, nil))
		m := mails(t, st)
		if l := m["legal_ack"]; len(l) != 1 || l[0].Recipient != "opj@police.example" || l[0].Language != "fr" {
			t.Errorf("legal acknowledgement: %+v", l)
		}
		if no := m["reporter_not_ours"]; len(no) != 1 || no[0].Recipient != "n@net.example" || len(m["reporter_ack"]) != 0 {
			t.Errorf("not-ours answer: %d, plain acks %d", len(no), len(m["reporter_ack"]))
		}
	})
}

// TestCounterNoticeForwarded: a complete counter-notice reaches the
// complainant with the subscriber's name and address (the law's
// disclosure, audited), the restore window, and is marked forwarded.
func TestCounterNoticeForwarded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		c := seed(t, st)
		if _, err := st.W.ExecContext(ctx, `UPDATE cases SET category = 'dmca' WHERE id = $1`, c.ID); err != nil {
			t.Fatal(err)
		}
		cn := dmca.CounterNotice{Signature: "Marie Curie", Material: "holiday.mp4", Location: "https://host.example/holiday.mp4", GoodFaith: true,
			Name: "Marie Curie", Address: "1 rue de la Paix, Paris", Country: "FR", Phone: "+33 1 23 45 67 89", Jurisdiction: true, AcceptService: true}
		if ps := cn.Check(); len(ps) > 0 {
			t.Fatal(ps)
		}
		notice, _ := json.Marshal(cn)
		received := time.Now().UTC()
		earliest, latest := dmca.RestoreWindow(received)
		tx, err := st.W.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		row := &store.CounterNoticeRow{CaseID: c.ID, Account: "acct-9", Notice: notice, ReceivedAt: received, RestoreEarliest: earliest, RestoreLatest: latest}
		id, err := st.InsertCounterNoticeTx(ctx, tx, row)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.AddMailEventTx(ctx, tx, store.MailEvent{Kind: store.EventCounterNotice, CaseID: c.ID, Detail: map[string]any{"counter_notice": id}}); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		n := notify.New(st, nil, notify.Config{}, nil)
		run(t, n)
		fw := mails(t, st)["complainant_counter_notice"]
		if len(fw) != 2 {
			t.Fatalf("counter-notice forwarded to %d complainants, want 2", len(fw))
		}
		for _, m := range fw {
			if b := decoded(t, m.Raw); !strings.Contains(b, "1 rue de la Paix") || !strings.Contains(b, "holiday.mp4") {
				t.Errorf("forwarded counter-notice lacks the subscriber's address or the material:\n%s", b)
			}
		}
		rows, err := st.CounterNotices(ctx, c.ID)
		if err != nil || len(rows) != 1 || rows[0].ForwardedAt.IsZero() {
			t.Fatalf("counter-notice not marked forwarded: %+v %v", rows, err)
		}
		es, _ := st.CaseAudit(ctx, c.ID)
		audited := 0
		for _, e := range es {
			if e.Action == "disclosed" && strings.Contains(e.Detail, "customer_identity") && strings.Contains(e.Detail, "complainant_counter_notice") {
				audited++
			}
		}
		if audited != 2 {
			t.Errorf("%d audited disclosures of the subscriber, want 2", audited)
		}
	})
}

// TestBigCase: a question on a case fed by more reports than a view loads
// reaches every reporter, and the last reporter's view holds their report.
func TestBigCase(t *testing.T) {
	st := storetest.OpenSQLite(t)
	ctx := context.Background()
	now := time.Now().UTC()
	const reports = 230
	for i := range reports {
		r := &report.Report{Type: "network", Subtype: "ddos", Reporter: report.Reporter{Name: "R", Email: fmt.Sprintf("r%d@example.org", i)},
			Description: "flood", Incidents: []report.Incident{{SourceIP: "203.0.113.50", Target: "198.51.100.1",
				Timestamp: now.Add(-time.Minute).Format(time.RFC3339), Log: "UDP flood"}}}
		if es := (&report.Validator{}).Validate(r); len(es) > 0 {
			t.Fatal(es)
		}
		r.Incidents[0].Attribution = report.Attribution{Verdict: "assigned", Account: "acct-9", Resource: "i-big"}
		if _, err := st.InsertReport(ctx, &store.NewReport{Report: r, Channel: "api", Raw: []byte("{}"), ContentType: "application/json", ReceivedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.GroupPending(ctx, cases.DefaultPolicy(), time.Now); err != nil {
		t.Fatal(err)
	}
	list, err := st.ListCases(ctx, store.CaseFilter{Limit: 10}, cases.DefaultPolicy(), time.Now())
	if err != nil || len(list.Cases) != 1 {
		t.Fatalf("cases: %v %d", err, len(list.Cases))
	}
	c := list.Cases[0]
	if _, _, err := st.ApplyCase(ctx, c.PublicID, "a", cases.Command{Action: cases.RequestInfo, Note: "Which ports?"}, cases.DefaultPolicy(), now); err != nil {
		t.Fatal(err)
	}
	if k := run(t, notify.New(st, nil, notify.Config{}, nil)); k != reports {
		t.Fatalf("question mailed to %d reporters, want %d", k, reports)
	}
	ids, err := st.CaseReportIDs(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	last := ids[len(ids)-1]
	dc, _, err := st.DisclosureCase(ctx, c.ID, store.CaseLoad{Customer: true, Include: []int64{last}})
	if err != nil {
		t.Fatal(err)
	}
	if v, _, ok := disclosure.View(disclosure.Viewer{Role: disclosure.Reporter, ReportID: last}, *dc); !ok || len(v.Reports) != 1 || v.Reports[0].ID != last {
		t.Errorf("the last reporter does not see their case: ok=%v %+v", ok, v.Reports)
	}
}
