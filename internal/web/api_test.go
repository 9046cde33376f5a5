package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"strings"
	"testing"

	"abusedesk/internal/attribution"
	"abusedesk/internal/intake"
	"abusedesk/internal/inventory"
	"abusedesk/internal/store"
	"abusedesk/internal/store/storetest"
)

func newTestServer(t *testing.T, st *store.Store, cfg Config) *httptest.Server {
	t.Helper()
	in := intake.New(st, nil, intake.BulkLimits{})
	t.Cleanup(in.Close)
	if cfg.RatePerSecond == 0 {
		cfg.DisableRateLimit = true
	}
	srv := httptest.NewServer(New(cfg, in, nil).Handler())
	t.Cleanup(srv.Close)
	return srv
}

const validNetwork = `{"type":"network","subtype":"intrusion","reporter":{"name":"Ops","email":"ops@example.org"},
 "share_contact_with_customer":true,"description":"ssh brute force",
 "incidents":[{"source_ip":"203.0.113.7","source_port":51234,"target":"198.51.100.20","target_port":22,"protocol":"tcp",
 "timestamp":"2026-03-02T10:00:00+01:00","log":"sshd: Failed password for root from 203.0.113.7 <script>alert(1)</script>"}]}`

func post(t *testing.T, url, contentType, body string, hdr ...string) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp, decode(t, resp)
}

func decode(t *testing.T, resp *http.Response) map[string]any {
	t.Helper()
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("body %q: %v", b, err)
	}
	return m
}

func errorFields(m map[string]any) []string {
	var out []string
	errs, _ := m["errors"].([]any)
	for _, e := range errs {
		e := e.(map[string]any)
		out = append(out, fmt.Sprint(e["field"], ":", e["code"]))
	}
	return out
}

func counts(t *testing.T, st *store.Store) (int64, int64) {
	t.Helper()
	r, i, err := st.Counts(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return r, i
}

func TestCreateAndReadStatus(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		srv := newTestServer(t, st, Config{})
		resp, m := post(t, srv.URL+"/api/v1/reports", "application/json", validNetwork)
		if resp.StatusCode != 201 {
			t.Fatalf("status %d %v", resp.StatusCode, m)
		}
		id, _ := m["id"].(string)
		statusURL, _ := m["status_url"].(string)
		apiURL, _ := m["status_api_url"].(string)
		if !strings.HasPrefix(id, "R-") || m["status"] != "received" || !strings.Contains(statusURL, "/status/"+id+"?token=") {
			t.Fatalf("answer %v", m)
		}
		// The JSON status: with the token only.
		resp, err := http.Get(apiURL)
		if err != nil {
			t.Fatal(err)
		}
		sm := decode(t, resp)
		if resp.StatusCode != 200 || sm["id"] != id || sm["status"] != "received" || sm["outcome"] != nil || sm["items"] != 1.0 {
			t.Errorf("status %d %v", resp.StatusCode, sm)
		}
		for _, u := range []string{srv.URL + "/api/v1/reports/" + id, srv.URL + "/api/v1/reports/" + id + "?token=wrong", srv.URL + "/api/v1/reports/R-UNKNOWN?token=x"} {
			if resp, _ := http.Get(u); resp.StatusCode != 404 {
				t.Errorf("%s: %d, want 404", u, resp.StatusCode)
			}
		}
		// The page: escaped, private, no referrer.
		resp, err = http.Get(statusURL)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !bytes.Contains(page, []byte(id)) || resp.Header.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("status page %d %s", resp.StatusCode, page)
		}
		if bytes.Contains(page, []byte("Ops")) || bytes.Contains(page, []byte("198.51.100.20")) {
			t.Error("status page shows report details it has no need to")
		}
		if r, i := counts(t, st); r != 1 || i != 1 {
			t.Errorf("stored %d reports %d incidents", r, i)
		}
	})
}

func TestRejections(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		srv := newTestServer(t, st, Config{MaxBodyBytes: 4096})
		u := srv.URL + "/api/v1/reports"
		resp, m := post(t, u, "application/json", `{"type":"network","subtype":"ddos","reporter":{"name":"","email":"x"},
			"incidents":[{"source_ip":"203.0.113.7","target":"a.example","timestamp":"2026-03-02T10:00:00","log":"l"},{"source_ip":"nope","target":"b.example","timestamp":"2026-03-02T10:00:00Z","log":"l"}]}`)
		want := "reporter.name:required reporter.email:invalid_email incidents[0].timestamp:timezone_required incidents[1].source_ip:invalid_ip"
		if resp.StatusCode != 422 || strings.Join(errorFields(m), " ") != want {
			t.Errorf("422 expected with %s; got %d %v", want, resp.StatusCode, errorFields(m))
		}
		resp, m = post(t, u, "application/json", `{"type":"network","colour":"red"}`)
		if resp.StatusCode != 422 || !strings.Contains(strings.Join(errorFields(m), " "), "colour:unknown_field") {
			t.Errorf("unknown field: %d %v", resp.StatusCode, m)
		}
		if resp, _ := post(t, u, "text/plain", validNetwork); resp.StatusCode != 415 {
			t.Errorf("wrong content type: %d", resp.StatusCode)
		}
		if resp, _ := post(t, u, "application/json", `{"description":"`+strings.Repeat("x", 5000)+`"}`); resp.StatusCode != 413 {
			t.Errorf("large body: %d", resp.StatusCode)
		}
		if r, _ := counts(t, st); r != 0 {
			t.Errorf("%d reports stored from rejected submissions", r)
		}
	})
}

func TestIdempotencyKey(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		srv := newTestServer(t, st, Config{})
		u := srv.URL + "/api/v1/reports"
		r1, m1 := post(t, u, "application/json", validNetwork, "Idempotency-Key", "k-1")
		r2, m2 := post(t, u, "application/json", validNetwork, "Idempotency-Key", "k-1")
		r3, m3 := post(t, u, "application/json", validNetwork, "Idempotency-Key", "k-2")
		if r1.StatusCode != 201 || r2.StatusCode != 200 || r2.Header.Get("Idempotent-Replayed") != "true" || r3.StatusCode != 201 {
			t.Fatalf("statuses %d %d %d", r1.StatusCode, r2.StatusCode, r3.StatusCode)
		}
		if m1["id"] != m2["id"] || m1["status_url"] != m2["status_url"] || m1["id"] == m3["id"] {
			t.Errorf("replay %v / %v / %v", m1, m2, m3)
		}
		if r, _ := counts(t, st); r != 2 {
			t.Errorf("%d reports, want 2", r)
		}
	})
}

func multipartBody(t *testing.T, parts ...[2]string) (string, string) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		if p[0] == "file" {
			h.Set("Content-Disposition", `form-data; name="file"; filename="report.csv"`)
			h.Set("Content-Type", "text/csv")
		} else {
			h.Set("Content-Disposition", `form-data; name="`+p[0]+`"`)
			h.Set("Content-Type", "application/json")
		}
		pw, _ := w.CreatePart(h)
		pw.Write([]byte(p[1]))
	}
	w.Close()
	return w.FormDataContentType(), b.String()
}

const bulkCommon = `{"type":"network","subtype":"port_scan","reporter":{"name":"Scan watch","email":"watch@example.net"}}`

func TestBulkUpload(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		srv := newTestServer(t, st, Config{})
		u := srv.URL + "/api/v1/reports/bulk"
		csv := "\ufeffIP,Categories,ReportDate,Comment\r\n" +
			"203.0.113.7,14,2026-03-02T10:00:00+01:00,\"port scan\r\nsecond line of the log\"\r\n" +
			"203.0.113.8,14,2026-03-02T10:00:00,naive time\r\n" +
			"2001:db8::1,14,2026-03-02T10:00:01Z,ipv6 scan\r\n" +
			"999.1.1.1,14,2026-03-02T10:00:01Z,bad ip\r\n"
		ct, body := multipartBody(t, [2]string{"report", bulkCommon}, [2]string{"file", csv})
		resp, m := post(t, u, ct, body)
		if resp.StatusCode != 201 || m["accepted"] != 2.0 || m["rejected_count"] != 2.0 {
			t.Fatalf("%d %v", resp.StatusCode, m)
		}
		rej := m["rejected"].([]any)
		l0, l1 := rej[0].(map[string]any), rej[1].(map[string]any)
		// The multi-line log makes the naive row line 4, not 3.
		if l0["line"] != 4.0 || l0["code"] != "timezone_required" || l1["line"] != 6.0 || l1["field"] != "ip" {
			t.Errorf("rejected %v", rej)
		}
		if r, i := counts(t, st); r != 1 || i != 2 {
			t.Errorf("stored %d reports %d incidents", r, i)
		}
		// No good row: 422, nothing stored, lines listed.
		ct, body = multipartBody(t, [2]string{"report", bulkCommon}, [2]string{"file", "ip,timestamp,log\n1.2.3.4,2026-03-02 10:00,x\n"})
		resp, m = post(t, u, ct, body)
		if resp.StatusCode != 422 || m["rejected_count"] != 1.0 {
			t.Errorf("all bad: %d %v", resp.StatusCode, m)
		}
		// The file before the report part, a bad report part, no file.
		for _, parts := range [][][2]string{
			{{"file", "ip,timestamp,log\n"}, {"report", bulkCommon}},
			{{"report", `{"type":"network","reporter":{"name":"x"}}`}, {"file", "ip,timestamp,log\n"}},
			{{"report", bulkCommon}},
			{{"report", bulkCommon}, {"file", "name,colour\nx,y\n"}},
		} {
			ct, body = multipartBody(t, parts...)
			if resp, m := post(t, u, ct, body); resp.StatusCode != 422 {
				t.Errorf("%v: %d %v", parts, resp.StatusCode, m)
			}
		}
		if r, i := counts(t, st); r != 1 || i != 2 {
			t.Errorf("rejected uploads stored something: %d reports %d incidents", r, i)
		}
	})
}

func TestXARFAndLegal(t *testing.T) {
	st := storetest.OpenSQLite(t)
	srv := newTestServer(t, st, Config{})
	doc := `{"xarf_version":"4.2.0","report_id":"9ac39cd1-85f3-4c31-ae87-a0a95f3ebc83","timestamp":"2025-01-11T09:21:23Z",
	"reporter":{"org":"DDoS Protection Service","contact":"ddos@ddos-monitor.example","domain":"ddos-monitor.example"},
	"sender":{"org":"DDoS Protection Service","contact":"ddos@ddos-monitor.example","domain":"ddos-monitor.example"},
	"source_identifier":"192.0.2.155","source_port":1,"category":"connection","type":"ddos","evidence_source":"flow_analysis",
	"destination_ip":"203.0.113.100","destination_port":80,"protocol":"tcp","first_seen":"2025-01-11T08:45:00Z"}`
	resp, m := post(t, srv.URL+"/api/v1/xarf", "application/json", doc)
	if resp.StatusCode != 201 {
		t.Fatalf("xarf: %d %v", resp.StatusCode, m)
	}
	resp, m = post(t, srv.URL+"/api/v1/xarf", "application/json", `{"xarf_version":"4.2.0"}`)
	if resp.StatusCode != 422 || len(errorFields(m)) == 0 {
		t.Errorf("bad xarf: %d %v", resp.StatusCode, m)
	}
	resp, m = post(t, srv.URL+"/api/v1/legal-requests", "application/json",
		`{"authority":{"name":"Lt. Dupont","email":"dupont@gendarmerie.example","organization":"Gendarmerie"},"language":"fr","description":"Réquisition : identité de l'abonné","identifiers":["203.0.113.7 2026-03-02T10:00:00+01:00"]}`)
	if resp.StatusCode != 201 || !strings.HasSuffix(fmt.Sprint(m["process_url"]), "/fr/legal") || m["queue"] != "legal" {
		t.Errorf("legal: %d %v", resp.StatusCode, m)
	}
	// The same request sent as an abuse report is pointed to the legal process.
	resp, m = post(t, srv.URL+"/api/v1/reports", "application/json",
		`{"type":"network","subtype":"other","reporter":{"name":"Lt","email":"l@police.example","kind":"government"},"description":"court order: provide customer information",
		"incidents":[{"source_ip":"203.0.113.7","target":"x.example","timestamp":"2026-03-02T10:00:00Z","log":"l"}]}`)
	if resp.StatusCode != 422 || !strings.Contains(strings.Join(errorFields(m), " "), "description:legal_request") {
		t.Errorf("legal as report: %d %v", resp.StatusCode, m)
	}
}

func TestRateLimitAndAPIKey(t *testing.T) {
	st := storetest.OpenSQLite(t)
	srv := newTestServer(t, st, Config{RatePerSecond: 0.001, RateBurst: 2, KeyRatePerSec: 0.001, KeyRateBurst: 4})
	u := srv.URL + "/api/v1/reports/validate"
	var codes []int
	for i := 0; i < 3; i++ {
		resp, _ := post(t, u, "application/json", validNetwork)
		codes = append(codes, resp.StatusCode)
		if resp.StatusCode == 429 && resp.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	}
	if fmt.Sprint(codes) != "[200 200 429]" {
		t.Errorf("codes %v", codes)
	}
	key, err := st.AddAPIKey(t.Context(), "partner")
	if err != nil {
		t.Fatal(err)
	}
	codes = nil
	for i := 0; i < 5; i++ {
		resp, _ := post(t, u, "application/json", validNetwork, "Authorization", "Bearer "+key)
		codes = append(codes, resp.StatusCode)
	}
	if fmt.Sprint(codes) != "[200 200 200 200 429]" {
		t.Errorf("with a key: %v", codes)
	}
	if resp, _ := post(t, u, "application/json", validNetwork, "X-API-Key", "adk_bogus"); resp.StatusCode != 401 {
		t.Errorf("bogus key: %d", resp.StatusCode)
	}
}

func TestHealthMetricsAndPages(t *testing.T) {
	st := storetest.OpenSQLite(t)
	srv := newTestServer(t, st, Config{})
	post(t, srv.URL+"/api/v1/reports", "application/json", validNetwork)
	for path, want := range map[string]string{
		"/healthz":          "ok",
		"/metrics":          `abusedesk_reports_accepted_total{channel="api",type="network"}`,
		"/":                 "Report abuse",
		"/fr/":              "Signaler",
		"/legal":            "legal-requests",
		"/fr/legal":         "réquisition",
		"/api/openapi.yaml": "openapi:",
	} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("%s: %d, missing %q", path, resp.StatusCode, want)
		}
	}
}

// The XARF corpus goes through the HTTP endpoint too, when present.
func TestXARFCorpusOverHTTP(t *testing.T) {
	dir := "../../../shared/corpus/xarf-spec/samples/v4"
	files, _ := os.ReadDir(dir)
	if len(files) == 0 {
		t.Skipf("corpus not found at %s: skipping", dir)
	}
	st := storetest.OpenSQLite(t)
	srv := newTestServer(t, st, Config{})
	for _, f := range files {
		b, err := os.ReadFile(dir + "/" + f.Name())
		if err != nil {
			t.Fatal(err)
		}
		if resp, m := post(t, srv.URL+"/api/v1/xarf", "application/json", string(b)); resp.StatusCode != 201 {
			t.Errorf("%s: %d %v", f.Name(), resp.StatusCode, m)
		}
	}
}

func TestBulkIdempotencyKey(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		srv := newTestServer(t, st, Config{})
		u := srv.URL + "/api/v1/reports/bulk"
		csv := "ip,timestamp,log\n203.0.113.7,2026-03-02T10:00:00Z,scan\n203.0.113.8,2026-03-02T10:00:00,naive\n"
		ct, body := multipartBody(t, [2]string{"report", bulkCommon}, [2]string{"file", csv})
		r1, m1 := post(t, u, ct, body, "Idempotency-Key", "upload-1")
		r2, m2 := post(t, u, ct, body, "Idempotency-Key", "upload-1")
		if r1.StatusCode != 201 || r2.StatusCode != 200 || r2.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("statuses %d %d", r1.StatusCode, r2.StatusCode)
		}
		if m1["id"] != m2["id"] || m2["accepted"] != 1.0 || m2["rejected_count"] != 1.0 || len(m2["rejected"].([]any)) != 1 {
			t.Errorf("replay %v / %v", m1, m2)
		}
		if r, i := counts(t, st); r != 1 || i != 1 {
			t.Errorf("a retried upload was stored twice: %d reports %d incidents", r, i)
		}
	})
}

// With an address space imported, every item is attributed at intake, and a
// report whose items are all outside it is NOT_RESOLVABLE_TO_PROVIDER at once.
func TestAttributionAtIntake(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := t.Context()
		space, _, err := attribution.ParseRanges(strings.NewReader(`{"prefixes":[{"ip_prefix":"203.0.113.0/24","region":"eu-west-3","service":"EC2","network_border_group":"eu-west-3"}],"ipv6_prefixes":[]}`))
		if err != nil {
			t.Fatal(err)
		}
		in := intake.New(st, nil, intake.BulkLimits{})
		t.Cleanup(in.Close)
		k := inventory.New(st, nil)
		k.OnChange = in.SetAttributor
		if err := k.Load(ctx); err != nil {
			t.Fatal(err)
		}
		if err := k.ReplaceRanges(ctx, space); err != nil {
			t.Fatal(err)
		}
		if _, errs, err := k.Import(ctx, strings.NewReader(`{"kind":"account","id":"acct-1","name":"A","email":"a@a.example"}
{"kind":"resource","id":"i-1","account":"acct-1","type":"instance","service":"EC2","region":"eu-west-3"}
{"kind":"assignment","resource":"i-1","prefix":"203.0.113.7/32","from":"2026-01-01T00:00:00Z"}`)); err != nil || len(errs) > 0 {
			t.Fatal(err, errs)
		}
		srv := httptest.NewServer(New(Config{DisableRateLimit: true}, in, nil).Handler())
		t.Cleanup(srv.Close)

		ours := validNetwork // 203.0.113.7 at 2026-03-02: i-1
		foreign := strings.ReplaceAll(validNetwork, `"source_ip":"203.0.113.7"`, `"source_ip":"198.51.100.7"`)
		for _, c := range []struct {
			body, outcome, verdict string
			notOurs                float64
		}{
			{ours, "<nil>", "assigned", 0},
			{foreign, "NOT_RESOLVABLE_TO_PROVIDER", "not_ours", 1},
		} {
			resp, m := post(t, srv.URL+"/api/v1/reports", "application/json", c.body)
			if resp.StatusCode != 201 {
				t.Fatalf("%d %v", resp.StatusCode, m)
			}
			sresp, err := http.Get(m["status_api_url"].(string))
			if err != nil {
				t.Fatal(err)
			}
			sm := decode(t, sresp)
			if fmt.Sprint(sm["outcome"]) != c.outcome || sm["not_ours"] != c.notOurs {
				t.Errorf("outcome %v not_ours %v, want %s %v", sm["outcome"], sm["not_ours"], c.outcome, c.notOurs)
			}
			page, err := http.Get(strings.Replace(m["status_api_url"].(string), "/api/v1/reports/", "/status/", 1))
			if err != nil {
				t.Fatal(err)
			}
			html, _ := io.ReadAll(page.Body)
			page.Body.Close()
			if strings.Contains(string(html), "not_ours") != (c.notOurs > 0) || strings.Contains(string(html), "i-1") {
				t.Errorf("status page for %s: %s", c.verdict, html)
			}
			var verdict, resource string
			st.R.QueryRow("SELECT i.verdict, coalesce(i.resource, '') FROM incidents i JOIN reports r ON r.id = i.report_id WHERE r.public_id = $1", m["id"]).Scan(&verdict, &resource)
			if verdict != c.verdict || (c.verdict == "assigned") != (resource == "i-1") {
				t.Errorf("stored verdict %q resource %q, want %s", verdict, resource, c.verdict)
			}
			if strings.Contains(fmt.Sprint(sm), "i-1") || strings.Contains(fmt.Sprint(sm), "acct-1") {
				t.Errorf("the reporter's status names the customer: %v", sm)
			}
		}
		// A CSV of foreign addresses only: the same outcome.
		ct, body := multipartBody(t, [2]string{"report", bulkCommon}, [2]string{"file", "ip,timestamp,log\n198.51.100.1,2026-03-02T10:00:00Z,scan\n198.51.100.2,2026-03-02T10:00:00Z,scan\n203.0.113.9,2026-03-02T10:00:00Z,scan\n"})
		resp, m := post(t, srv.URL+"/api/v1/reports/bulk", ct, body)
		if resp.StatusCode != 201 {
			t.Fatalf("bulk %d %v", resp.StatusCode, m)
		}
		sresp, _ := http.Get(m["status_api_url"].(string))
		if sm := decode(t, sresp); sm["outcome"] != nil || sm["not_ours"] != 2.0 {
			t.Errorf("bulk with one of ours: outcome %v not_ours %v", sm["outcome"], sm["not_ours"])
		}
		ct, body = multipartBody(t, [2]string{"report", bulkCommon}, [2]string{"file", "ip,timestamp,log\n198.51.100.1,2026-03-02T10:00:00Z,scan\n198.51.100.2,2026-03-02T10:00:00Z,scan\n"})
		resp, m = post(t, srv.URL+"/api/v1/reports/bulk", ct, body)
		if resp.StatusCode != 201 {
			t.Fatalf("bulk %d %v", resp.StatusCode, m)
		}
		sresp, _ = http.Get(m["status_api_url"].(string))
		if sm := decode(t, sresp); sm["outcome"] != "NOT_RESOLVABLE_TO_PROVIDER" || sm["not_ours"] != 2.0 {
			t.Errorf("bulk outcome %v not_ours %v", sm["outcome"], sm["not_ours"])
		}
	})
}
