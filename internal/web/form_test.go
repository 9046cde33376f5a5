package web

import (
	"bytes"
	"context"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"abusedesk/internal/intake"
	"abusedesk/internal/report"
	"abusedesk/internal/store"
	"abusedesk/internal/store/storetest"
)

// formServer starts the whole handler on a fresh SQLite store.
func formServer(t *testing.T) (*httptest.Server, *store.Store) {
	t.Helper()
	st := storetest.OpenSQLite(t)
	in := intake.New(st, nil, intake.BulkLimits{})
	t.Cleanup(in.Close)
	h := New(Config{DisableRateLimit: true}, in, nil).Handler()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, st
}

// formGet fetches a page and returns its status and body.
func formGet(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// formKV is one form field; the order is the order of the parts.
type formKV struct{ k, v string }

// formPost sends fields as multipart/form-data as a browser does, with the
// file part last when file is not nil.
func formPost(t *testing.T, u string, fields []formKV, file []byte) (int, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range fields {
		if err := mw.WriteField(f.k, f.v); err != nil {
			t.Fatal(err)
		}
	}
	if file != nil {
		fw, err := mw.CreateFormFile("file", "report.csv")
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(file)
	}
	mw.Close()
	resp, err := http.Post(u, mw.FormDataContentType(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func formCounts(t *testing.T, st *store.Store) (int64, int64) {
	t.Helper()
	r, i, err := st.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return r, i
}

// formFieldBlock is the markup of one field: from its wrapper to the next one.
func formFieldBlock(t *testing.T, body, name string) string {
	t.Helper()
	marker := `id="` + name + `-field"`
	start := strings.Index(body, marker)
	if start < 0 {
		t.Fatalf("no field %q in the page:\n%s", name, body)
	}
	rest := body[start+len(marker):]
	end := len(rest)
	for _, stop := range []string{`-field"`, "</fieldset>"} {
		if i := strings.Index(rest, stop); i >= 0 && i < end {
			end = i
		}
	}
	return body[start : start+len(marker)+end]
}

func formInputValue(t *testing.T, body, name string) string {
	t.Helper()
	re := regexp.MustCompile(`<input type="[a-z]+" id="` + regexp.QuoteMeta(name) + `" name="[^"]*" value="([^"]*)"`)
	m := re.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no input %q in the page", name)
	}
	return html.UnescapeString(m[1])
}

var formStatusLinkRE = regexp.MustCompile(`<a id="status-link" href="([^"]+)">`)

func formStatusLink(t *testing.T, body string) string {
	t.Helper()
	m := formStatusLinkRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no status link in the page:\n%s", body)
	}
	return html.UnescapeString(m[1])
}

var formReportIDRE = regexp.MustCompile(`<code id="report-id">([^<]+)</code>`)

// A time an hour ago: with and without its zone.
func formTimes() (zoned, naive string) {
	at := time.Now().Add(-time.Hour).In(time.FixedZone("", 3600))
	return at.Format(time.RFC3339), at.Format("2006-01-02T15:04:05")
}

const formHostileLog = `<script>alert(1)</script> sshd[1]: Failed password for root from 192.0.2.10 port 51234`

func formNetworkFields(ts string) []formKV {
	return []formKV{
		{"type", "network"}, {"language", "en"}, {"form_nonce", "n1"},
		{"subtype", "intrusion"}, {"description", "SSH brute force \"quoted\" & more"},
		{"source_ip", "192.0.2.10"}, {"source_port", "51234"}, {"target", "198.51.100.20"},
		{"target_port", "22"}, {"protocol", "ssh"}, {"timestamp", ts}, {"log", formHostileLog},
		{"reporter_name", "Alice Example"}, {"reporter_email", "alice@example.org"},
		{"reporter_organization", "Example CERT"}, {"reporter_kind", "cert"},
		{"share_contact_with_customer", "yes"},
	}
}

func TestFormPicker(t *testing.T) {
	srv, _ := formServer(t)
	code, body := formGet(t, srv.URL+"/report")
	if code != http.StatusOK {
		t.Fatalf("GET /report: %d", code)
	}
	for _, typ := range report.Types {
		if !strings.Contains(body, `href="/report?type=`+typ+`"`) {
			t.Errorf("the picker has no link to ?type=%s", typ)
		}
	}
	for _, want := range []string{"Network abuse", "Abusive web content", "Spam", "Copyright infringement (DMCA)",
		"time zone", "full headers", "512(c)(3)(A)"} {
		if !strings.Contains(body, html.EscapeString(want)) {
			t.Errorf("the picker lacks %q", want)
		}
	}
	if strings.Contains(body, "<form") {
		t.Error("the picker shows a form before a type is chosen")
	}
}

func TestFormNetworkFields(t *testing.T) {
	srv, _ := formServer(t)
	code, body := formGet(t, srv.URL+"/report?type=network")
	if code != http.StatusOK {
		t.Fatalf("%d", code)
	}
	for _, id := range []string{"subtype", "reporter_name", "reporter_email", "reporter_organization", "reporter_kind",
		"description", "share_contact_with_customer", "source_ip", "source_port", "target", "target_port",
		"protocol", "timestamp", "log", "file"} {
		if !strings.Contains(body, `id="`+id+`"`) {
			t.Errorf("no input %q", id)
		}
	}
	for _, id := range []string{"dmca_signature", "dmca_good_faith", "dmca_accuracy", "contact_phone", "urls", "email_headers"} {
		if strings.Contains(body, `id="`+id+`"`) {
			t.Errorf("the network form shows %q", id)
		}
	}
	for _, want := range []string{`enctype="multipart/form-data"`, `placeholder="2026-03-02T10:00:00+01:00"`,
		`<option value="port_scan">Port scan</option>`, `name="language" value="en"`, "never learns who reported"} {
		if !strings.Contains(html.UnescapeString(body), want) {
			t.Errorf("the form lacks %q", want)
		}
	}
	// The file input is the last input of the form (the handler streams it).
	form := body[strings.Index(body, "<form"):strings.Index(body, "</form>")]
	if i, j := strings.LastIndex(form, "<input"), strings.Index(form, `<input type="file"`); i != j {
		t.Error("the file input is not the last input of the form")
	}
	if i, j := strings.Index(form, `id="share_contact_with_customer"`), strings.Index(form, `id="file"`); i > j {
		t.Error("the consent checkbox comes after the file")
	}
}

func TestFormNaiveTimestamp(t *testing.T) {
	srv, st := formServer(t)
	_, naive := formTimes()
	code, body := formPost(t, srv.URL+"/report", formNetworkFields(naive), nil)
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("POST with a naive timestamp: %d, want 422", code)
	}
	// The error is next to the timestamp field, linked from the summary.
	blk := formFieldBlock(t, body, "timestamp")
	for _, want := range []string{`id="timestamp-error"`, "no time zone", `aria-invalid="true"`,
		`aria-describedby="timestamp-hint timestamp-error"`} {
		if !strings.Contains(blk, want) {
			t.Errorf("the timestamp field lacks %q:\n%s", want, blk)
		}
	}
	if !strings.Contains(body, `<a href="#timestamp">Date and time: the time has no time zone`) {
		t.Errorf("the summary does not link to the timestamp field:\n%s", body)
	}
	if strings.Contains(formFieldBlock(t, body, "source_ip"), "error") {
		t.Error("an error is shown next to a good field")
	}
	// Every typed value is kept.
	for name, want := range map[string]string{"source_ip": "192.0.2.10", "source_port": "51234", "target": "198.51.100.20",
		"target_port": "22", "protocol": "ssh", "timestamp": naive, "reporter_name": "Alice Example",
		"reporter_email": "alice@example.org", "reporter_organization": "Example CERT"} {
		if got := formInputValue(t, body, name); got != want {
			t.Errorf("%s kept as %q, want %q", name, got, want)
		}
	}
	for _, want := range []string{`<option value="intrusion" selected>`, `<option value="cert" selected>`,
		`id="share_contact_with_customer" name="share_contact_with_customer" value="yes" checked`,
		"SSH brute force &#34;quoted&#34; &amp; more</textarea>"} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	// The hostile log sample is kept, escaped.
	if strings.Contains(body, "<script>alert(1)") {
		t.Fatal("the log sample is rendered unescaped")
	}
	if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt; sshd[1]") {
		t.Errorf("the log sample is not kept (escaped):\n%s", body)
	}
	if n, _ := formCounts(t, st); n != 0 {
		t.Errorf("%d reports stored after a refused form", n)
	}
}

func TestFormValidSubmit(t *testing.T) {
	srv, st := formServer(t)
	zoned, _ := formTimes()
	code, body := formPost(t, srv.URL+"/report", formNetworkFields(zoned), nil)
	if code != http.StatusCreated {
		t.Fatalf("POST: %d, want 201\n%s", code, body)
	}
	m := formReportIDRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no report id on the page:\n%s", body)
	}
	id := m[1]
	link := formStatusLink(t, body)
	if !strings.HasPrefix(link, srv.URL+"/status/"+id+"?token=") {
		t.Errorf("status link %q", link)
	}
	if !strings.Contains(body, "Keep this link") {
		t.Error("the reporter is not told to keep the link")
	}
	code, page := formGet(t, link)
	if code != http.StatusOK || !strings.Contains(page, id) {
		t.Fatalf("status page: %d\n%s", code, page)
	}
	if n, inc := formCounts(t, st); n != 1 || inc != 1 {
		t.Errorf("stored %d reports, %d incidents; want 1, 1", n, inc)
	}
	// Sending the same form again (a reload of this page) gives the same
	// report back, not a second one.
	code, again := formPost(t, srv.URL+"/report", formNetworkFields(zoned), nil)
	if code != http.StatusOK || !strings.Contains(again, id) {
		t.Errorf("resent form: %d, want 200 with %s", code, id)
	}
	if n, _ := formCounts(t, st); n != 1 {
		t.Errorf("a resent form stored %d reports", n)
	}
}

func TestFormFrench(t *testing.T) {
	srv, st := formServer(t)
	code, body := formGet(t, srv.URL+"/fr/report?type=network")
	if code != http.StatusOK {
		t.Fatal(code)
	}
	for _, want := range []string{`<html lang="fr">`, "Adresse IP source", "Extrait de journal", "Date et heure",
		"Tentative d&#39;intrusion", `name="language" value="fr"`, `action="/fr/report"`, "le client ne saura jamais qui a signalé"} {
		if !strings.Contains(body, want) {
			t.Errorf("the French form lacks %q", want)
		}
	}
	_, naive := formTimes()
	fields := formNetworkFields(naive)
	fields[1].v = "fr"
	fields[8] = formKV{"target_port", "99999"}
	code, body = formPost(t, srv.URL+"/fr/report", fields, nil)
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("%d", code)
	}
	if blk := formFieldBlock(t, body, "timestamp"); !strings.Contains(blk, "L&#39;heure n&#39;a pas de fuseau horaire") {
		t.Errorf("no French timezone error next to the field:\n%s", blk)
	}
	if blk := formFieldBlock(t, body, "target_port"); !strings.Contains(blk, "Un port est un nombre entre 0 et 65535") {
		t.Errorf("no French port error next to the field:\n%s", blk)
	}
	if !strings.Contains(body, "<title>Erreur : Abus réseau") || !strings.Contains(body, "Le signalement comporte des erreurs") || !strings.Contains(body, "Rien n&#39;a été enregistré") {
		t.Error("the summary is not in French")
	}
	if strings.Contains(body, "has no time zone") {
		t.Error("the English message shows on the French page")
	}
	// A French report with a good timestamp is stored in French.
	zoned, _ := formTimes()
	fields = formNetworkFields(zoned)
	fields[1].v = "fr"
	code, body = formPost(t, srv.URL+"/fr/report", fields, nil)
	if code != http.StatusCreated || !strings.Contains(body, "Signalement reçu") {
		t.Fatalf("%d\n%s", code, body)
	}
	if link := formStatusLink(t, body); !strings.HasPrefix(link, srv.URL+"/fr/status/") {
		t.Errorf("French status link %q", link)
	}
	if n, _ := formCounts(t, st); n != 1 {
		t.Errorf("%d reports", n)
	}
}

// TestFormErrorCatalogue: every error code of the report contract has a
// sentence in both languages, so a French page never shows English.
func TestFormErrorCatalogue(t *testing.T) {
	p := mustPages()
	codes := []string{report.CodeRequired, report.CodeInvalid, report.CodeInvalidIP, report.CodeInvalidHost,
		report.CodeInvalidURL, report.CodeInvalidEmail, report.CodeInvalidTimestamp, report.CodeTimezoneRequired,
		report.CodeFutureTimestamp, report.CodeInvalidPort, report.CodeInvalidChoice, report.CodeTooLarge,
		report.CodeTooMany, report.CodeUnknownField, report.CodeWrongType, report.CodeInvalidJSON,
		report.CodeInvalidHeaders, report.CodeNoSourceIP, report.CodeDMCAElement, report.CodeLegalRequest,
		report.CodeNotApplicable, "no_valid_row"}
	for _, c := range codes {
		for _, lang := range []string{"en", "fr"} {
			if _, ok := p.locales[lang]["error."+c]; !ok {
				t.Errorf("%s catalogue lacks error.%s", lang, c)
			}
		}
		if p.locales["en"]["error."+c] == p.locales["fr"]["error."+c] {
			t.Errorf("error.%s is not translated", c)
		}
	}
	for clause := range report.DMCAClauses {
		if _, ok := p.locales["fr"]["form.dmca.clause"+clause]; !ok {
			t.Errorf("no French text for clause %s", clause)
		}
	}
	for typ, subs := range report.Subtypes {
		for _, st := range subs {
			if _, ok := p.locales["fr"]["form.subtype."+typ+"."+st]; !ok {
				t.Errorf("no label for subtype %s/%s", typ, st)
			}
		}
	}
}

func TestFormCSVUpload(t *testing.T) {
	srv, st := formServer(t)
	zoned, naive := formTimes()
	csv := "ip,timestamp,log\n" +
		"192.0.2.10," + zoned + ",sshd: Failed password for root\n" +
		"192.0.2.11," + naive + ",sshd: Failed password for admin\n"
	fields := []formKV{
		{"type", "network"}, {"language", "en"}, {"form_nonce", "n2"}, {"subtype", "intrusion"}, {"description", ""},
		{"source_ip", ""}, {"source_port", ""}, {"target", ""}, {"target_port", ""}, {"protocol", ""},
		{"timestamp", ""}, {"log", ""},
		{"reporter_name", "Bob"}, {"reporter_email", "bob@example.org"}, {"reporter_organization", ""}, {"reporter_kind", "isp"},
	}
	code, body := formPost(t, srv.URL+"/report", fields, []byte(csv))
	if code != http.StatusCreated {
		t.Fatalf("%d, want 201\n%s", code, body)
	}
	if !strings.Contains(body, `<p id="accepted">Rows accepted: 1</p>`) {
		t.Errorf("no accepted count:\n%s", body)
	}
	if !regexp.MustCompile(`<tr><td>3</td><td><code>timestamp</code></td><td>the time has no time zone`).MatchString(body) {
		t.Errorf("the bad line 3 is not listed:\n%s", body)
	}
	if !strings.Contains(body, "Rows rejected: 1.") {
		t.Error("no rejected count")
	}
	link := formStatusLink(t, body)
	if code, page := formGet(t, link); code != http.StatusOK {
		t.Errorf("status page: %d\n%s", code, page)
	}
	if n, inc := formCounts(t, st); n != 1 || inc != 1 {
		t.Errorf("stored %d reports, %d incidents; want 1, 1", n, inc)
	}

	// A file with no good row stores nothing and lists the lines.
	code, body = formPost(t, srv.URL+"/report", fields, []byte("ip,timestamp,log\nnot-an-ip,"+zoned+",x\n"))
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("%d, want 422", code)
	}
	if !strings.Contains(formFieldBlock(t, body, "file"), "No row of the file is valid") ||
		!strings.Contains(body, "<tr><td>2</td><td><code>ip</code></td>") ||
		!strings.Contains(body, "Choose the CSV file again") {
		t.Errorf("the rejected upload is not explained:\n%s", body)
	}
	// A file and an incident at once is refused, not half-taken.
	both := append([]formKV{}, fields...)
	both[5].v = "192.0.2.10"
	code, body = formPost(t, srv.URL+"/report", both, []byte(csv))
	if code != http.StatusUnprocessableEntity || !strings.Contains(formFieldBlock(t, body, "file"), "not both") {
		t.Errorf("file and incident: %d\n%s", code, body)
	}
	if n, _ := formCounts(t, st); n != 1 {
		t.Errorf("%d reports after refused uploads", n)
	}
}

func TestFormDMCA(t *testing.T) {
	srv, st := formServer(t)
	fields := []formKV{
		{"type", "dmca"}, {"language", "en"}, {"subtype", "copyright"},
		{"dmca_works", "My Song (2024)\n"},
		{"dmca_infringing", "https://files.example.net/my-song.mp3\r\n\r\nnot a url\r\n192.0.2.10\r\n"},
		{"description", ""},
		{"contact_name", "Carol Rights"}, {"contact_address", "1 Main St\nSpringfield"},
		{"contact_phone", "+1 555 0100"}, {"contact_email", "carol@example.org"},
		{"dmca_signature", "Carol Rights"},
		{"reporter_name", "Carol Rights"}, {"reporter_email", "carol@example.org"}, {"reporter_kind", "individual"},
	}
	code, body := formPost(t, srv.URL+"/report", fields, nil)
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("%d", code)
	}
	if blk := formFieldBlock(t, body, "dmca_good_faith"); !strings.Contains(blk, "512(c)(3)(A)(v)") || !strings.Contains(blk, `aria-invalid="true"`) {
		t.Errorf("no (v) error at the good-faith checkbox:\n%s", blk)
	}
	if blk := formFieldBlock(t, body, "dmca_accuracy"); !strings.Contains(blk, "512(c)(3)(A)(vi)") {
		t.Errorf("no (vi) error at the accuracy checkbox:\n%s", blk)
	}
	blk := formFieldBlock(t, body, "dmca_infringing")
	for _, want := range []string{"Line 3: not an absolute URL", "Line 4: this element of the notice is missing — 17 U.S.C. § 512(c)(3)(A)(iii)"} {
		if !strings.Contains(blk, html.EscapeString(want)) {
			t.Errorf("the infringing list lacks %q:\n%s", want, blk)
		}
	}
	if !strings.Contains(body, "(vi) The information in this notification is accurate, and under penalty of perjury") {
		t.Error("the statutory wording of (vi) is missing")
	}
	// Ticked and corrected, the notice is stored.
	fields[4].v = "https://files.example.net/my-song.mp3\n"
	fields = append(fields, formKV{"dmca_good_faith", "yes"}, formKV{"dmca_accuracy", "yes"})
	code, body = formPost(t, srv.URL+"/report", fields, nil)
	if code != http.StatusCreated {
		t.Fatalf("%d\n%s", code, body)
	}
	if n, _ := formCounts(t, st); n != 1 {
		t.Errorf("%d reports", n)
	}
}

func TestFormContentLines(t *testing.T) {
	srv, st := formServer(t)
	fields := []formKV{
		{"type", "content"}, {"language", "en"}, {"subtype", "phishing"},
		{"urls", "https://bank.example.net/login\n\nftp://bank.example.net/x\n"},
		{"video_timestamp", "soon"}, {"description", "A fake bank login page"},
		{"reporter_name", "Dan"}, {"reporter_email", "not-an-email"},
	}
	code, body := formPost(t, srv.URL+"/report", fields, nil)
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("%d", code)
	}
	for id, want := range map[string]string{"urls": "Line 3: not an absolute URL", "video_timestamp": "This value is not valid",
		"reporter_email": "Not an email address"} {
		if !strings.Contains(formFieldBlock(t, body, id), want) {
			t.Errorf("%s lacks %q", id, want)
		}
	}
	if strings.Count(body, `<a href="#video_timestamp">`) != 1 {
		t.Error("the video position error is not given once")
	}
	// Urlencoded works too (no file).
	v := url.Values{}
	for _, f := range fields {
		v.Set(f.k, f.v)
	}
	v.Set("urls", "https://bank.example.net/login\r\nhttps://bank.example.net/verify")
	v.Set("video_timestamp", "")
	v.Set("reporter_email", "dan@example.org")
	resp, err := http.PostForm(srv.URL+"/report", v)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("urlencoded: %d", resp.StatusCode)
	}
	if n, _ := formCounts(t, st); n != 1 {
		t.Errorf("%d reports stored, want 1", n)
	}
}

func TestFormEmail(t *testing.T) {
	srv, st := formServer(t)
	headers := "Received: from mail.example.net (mail.example.net [203.0.113.9]) by mx.example.org; " +
		time.Now().Add(-time.Hour).Format(time.RFC1123Z) + "\nFrom: spam@example.net\nSubject: buy now\n"
	fields := []formKV{
		{"type", "email"}, {"language", "en"}, {"subtype", "spam_sent"},
		{"email_headers", headers}, {"email_body", "<b>buy</b>"},
		{"reporter_name", "Eve"}, {"reporter_email", "eve@example.org"},
	}
	code, body := formPost(t, srv.URL+"/report", fields, nil)
	if code != http.StatusCreated {
		t.Fatalf("%d\n%s", code, body)
	}
	code, body = formPost(t, srv.URL+"/report", []formKV{{"type", "email"}, {"subtype", "spam_sent"},
		{"email_headers", "just some text"}, {"reporter_name", "Eve"}, {"reporter_email", "eve@example.org"}}, nil)
	if code != http.StatusUnprocessableEntity || !strings.Contains(formFieldBlock(t, body, "email_headers"), "These are not mail headers") {
		t.Errorf("%d\n%s", code, body)
	}
	if n, _ := formCounts(t, st); n != 1 {
		t.Errorf("%d reports", n)
	}
}

func TestFormBadRequests(t *testing.T) {
	srv, _ := formServer(t)
	// A POST without a type goes back to the picker.
	code, body := formPost(t, srv.URL+"/report", []formKV{{"reporter_name", "x"}}, nil)
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "Choose the type of report first") {
		t.Errorf("no type: %d", code)
	}
	resp, err := http.Post(srv.URL+"/report", "text/plain", strings.NewReader("hello"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain: %d", resp.StatusCode)
	}
}

func TestFormTooLarge(t *testing.T) {
	st := storetest.OpenSQLite(t)
	in := intake.New(st, nil, intake.BulkLimits{MaxBytes: 1 << 10})
	t.Cleanup(in.Close)
	srv := httptest.NewServer(New(Config{DisableRateLimit: true, MaxBodyBytes: 4 << 10}, in, nil).Handler())
	t.Cleanup(srv.Close)
	fields := []formKV{{"type", "network"}, {"subtype", "ddos"}, {"reporter_name", "Bob"}, {"reporter_email", "bob@example.org"}}
	zoned, _ := formTimes()
	big := []byte("ip,timestamp,log\n" + strings.Repeat("192.0.2.10,"+zoned+",flood\n", 200))
	code, body := formPost(t, srv.URL+"/report", fields, big)
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(formFieldBlock(t, body, "file"), "The file is larger than 1 KB") {
		t.Errorf("big file: %d\n%s", code, body)
	}
	code, body = formPost(t, srv.URL+"/report", append(fields, formKV{"description", strings.Repeat("x", 5<<10)}), nil)
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(body, "The form is too large") {
		t.Errorf("big fields: %d\n%s", code, body)
	}
	if n, _ := formCounts(t, st); n != 0 {
		t.Errorf("%d reports", n)
	}
}
