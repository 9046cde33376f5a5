package bulkclient

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"abusedesk/internal/intake"
	"abusedesk/internal/report"
	"abusedesk/internal/store"
	"abusedesk/internal/web"
)

var common = report.Report{Type: "network", Subtype: "intrusion", Reporter: report.Reporter{Name: "Ops", Email: "ops@example.org"}}

func writeCSV(t *testing.T, rows int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "report.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(f, "ip,timestamp,log")
	for i := range rows {
		fmt.Fprintf(f, "203.0.%d.%d,2026-03-02T10:%02d:%02d+01:00,sshd[%d]: Failed password for root from 203.0.%d.%d port %d ssh2\n",
			i>>8&255, i&255, i/60%60, i%60, 1000+i, i>>8&255, i&255, 1024+i%60000)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// sleeps records the waits instead of waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return nil
}

// readUpload reads a request as the desk does: the report part, then the
// file part.
func readUpload(t *testing.T, r *http.Request) (report.Report, []byte) {
	t.Helper()
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		t.Errorf("content type %q", r.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(r.Body, params["boundary"])
	var rep report.Report
	var file []byte
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Errorf("multipart: %v", err)
			break
		}
		b, _ := io.ReadAll(p)
		switch p.FormName() {
		case "report":
			if p.Header.Get("Content-Type") != "application/json" || file != nil {
				t.Errorf("report part: %v, after the file: %v", p.Header, file != nil)
			}
			if err := json.Unmarshal(b, &rep); err != nil {
				t.Errorf("report part %q: %v", b, err)
			}
		case "file":
			if p.FileName() != "report.csv" || p.Header.Get("Content-Type") != "text/csv" {
				t.Errorf("file part %v", p.Header)
			}
			file = b
		default:
			t.Errorf("part %q", p.FormName())
		}
	}
	return rep, file
}

const created = `{"id":"R-1","accepted":3,"rejected":[],"rejected_count":0,"status_url":"http://desk/status/R-1?token=t","status_api_url":"http://desk/api/v1/reports/R-1?token=t"}`

// 5xx and 429 are retried (after Retry-After, in seconds or as a date);
// the body sent each time is whole, with its length, the key and the API key.
func TestSubmitRetries(t *testing.T) {
	path := writeCSV(t, 3)
	want, _ := os.ReadFile(path)
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rep, file := readUpload(t, r)
		if r.URL.Path != Path || r.Header.Get("Idempotency-Key") != "k1" || r.Header.Get("X-API-Key") != "adk_x" ||
			r.ContentLength <= int64(len(want)) || r.TransferEncoding != nil || !bytes.Equal(file, want) || rep.Reporter.Email != "ops@example.org" || rep.Subtype != "intrusion" {
			t.Errorf("attempt %d: %s %v length %d %v, file %d bytes, report %+v", n.Load(), r.URL.Path, r.Header, r.ContentLength, r.TransferEncoding, len(file), rep)
		}
		switch n.Add(1) {
		case 1:
			w.WriteHeader(http.StatusServiceUnavailable)
		case 2:
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"errors":[{"field":"","code":"rate_limited","message":"slow down"}]}`)
		case 3:
			w.Header().Set("Retry-After", time.Now().Add(90*time.Second).UTC().Format(http.TimeFormat))
			w.WriteHeader(http.StatusTooManyRequests)
		default:
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, created)
		}
	}))
	defer srv.Close()
	var s sleeps
	var prog bytes.Buffer
	c := &Client{Server: srv.URL + "/", APIKey: "adk_x", Sleep: s.sleep, Backoff: func(n int) time.Duration { return time.Duration(n) * time.Millisecond }, Progress: NewProgress(&prog, false)}
	res, err := c.Submit(t.Context(), Upload{Report: common, Path: path, IdempotencyKey: "k1"})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Stored() || res.ID != "R-1" || res.Accepted != 3 || res.Attempts != 4 || res.StatusURL == "" {
		t.Errorf("%+v", res)
	}
	if len(s.d) != 3 || s.d[0] != time.Millisecond || s.d[1] != 7*time.Second || s.d[2] < 85*time.Second || s.d[2] > 91*time.Second {
		t.Errorf("waits %v", s.d)
	}
	for _, w := range []string{"the desk answered 503 Service Unavailable; retrying in 0s", "the desk asks to slow down (429); retrying in 7s", "(attempt 4)", "sent; the desk is checking"} {
		if !strings.Contains(prog.String(), w) {
			t.Errorf("progress lacks %q:\n%s", w, prog.String())
		}
	}
}

// When the retries run out, the last answer comes with a *StatusError; a
// 4xx is an answer, never retried.
func TestSubmitGivesUp(t *testing.T) {
	path := writeCSV(t, 1)
	var n atomic.Int32
	code := http.StatusBadGateway
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		io.WriteString(w, `{"errors":[{"field":"report.subtype","code":"invalid_choice","message":"\"x\" is not a network subtype"}]}`)
	}))
	defer srv.Close()
	var s sleeps
	c := &Client{Server: srv.URL, Retries: 2, Sleep: s.sleep}
	res, err := c.Submit(t.Context(), Upload{Report: common, Path: path, IdempotencyKey: "k"})
	se, ok := err.(*StatusError)
	if !ok || res == nil || res.StatusCode != 502 || n.Load() != 3 || !strings.Contains(se.Error(), "gave up after 3 attempts") {
		t.Errorf("%v %+v, %d attempts", err, res, n.Load())
	}
	code = http.StatusUnprocessableEntity
	n.Store(0)
	res, err = c.Submit(t.Context(), Upload{Report: common, Path: path, IdempotencyKey: "k"})
	if err != nil || res.Stored() || res.StatusCode != 422 || n.Load() != 1 || len(res.Errors) != 1 || res.Errors[0].Field != "report.subtype" {
		t.Errorf("422: %v %+v, %d attempts", err, res, n.Load())
	}
	if _, err := c.Submit(t.Context(), Upload{Report: common, Path: path + ".missing"}); err == nil || !os.IsNotExist(err) {
		t.Errorf("missing file: %v", err)
	}
}

// A connection lost after the file was sent: retried with a key (the desk
// answers the first upload's receipt if it had stored it), not without one
// (it might file it twice).
func TestSubmitLostAnswer(t *testing.T) {
	path := writeCSV(t, 2)
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if n.Add(1) == 1 {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, created)
	}))
	defer srv.Close()
	var s sleeps
	c := &Client{Server: srv.URL, Sleep: s.sleep}
	res, err := c.Submit(t.Context(), Upload{Report: common, Path: path, IdempotencyKey: "k"})
	if err != nil || !res.Stored() || n.Load() != 2 {
		t.Errorf("with a key: %v %+v, %d attempts", err, res, n.Load())
	}
	n.Store(0)
	_, err = c.Submit(t.Context(), Upload{Report: common, Path: path})
	if err == nil || !strings.Contains(err.Error(), "without an Idempotency-Key it is not sent again") || n.Load() != 1 {
		t.Errorf("without a key: %v, %d attempts", err, n.Load())
	}
}

// The file is streamed: sending 64 MB allocates a small fraction of it.
func TestSubmitStreams(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.csv")
	f, _ := os.Create(path)
	line := []byte("203.0.113.7,2026-03-02T10:00:00+01:00," + strings.Repeat("x", 100) + "\n")
	for range (64 << 20) / len(line) {
		f.Write(line)
	}
	f.Close()
	fi, _ := os.Stat(path)
	var got atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		got.Store(n)
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, created)
	}))
	defer srv.Close()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	res, err := (&Client{Server: srv.URL}).Submit(t.Context(), Upload{Report: common, Path: path, IdempotencyKey: "k"})
	runtime.ReadMemStats(&after)
	if err != nil || !res.Stored() {
		t.Fatal(err, res)
	}
	if got.Load() <= fi.Size() {
		t.Errorf("the server read %d bytes of a %d-byte file", got.Load(), fi.Size())
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
		t.Errorf("%d MB allocated to send %d MB", alloc>>20, fi.Size()>>20)
	}
}

// Against the desk itself: stored, then the same key again on a file of
// 20 MB, which the desk answers from its record without reading it (it
// answers before the body is sent): the answer is still read.
func TestSubmitToTheDesk(t *testing.T) {
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "desk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	in := intake.New(st, nil, intake.BulkLimits{})
	defer in.Close()
	srv := httptest.NewServer(web.New(web.Config{DisableRateLimit: true}, in, nil).Handler())
	defer srv.Close()
	path := writeCSV(t, 150_000)
	b, _ := os.ReadFile(path)
	sum := sha256.Sum256(b)
	up := Upload{Report: common, Path: path, IdempotencyKey: "sha256:" + hex.EncodeToString(sum[:])}
	c := &Client{Server: srv.URL}
	res, err := c.Submit(t.Context(), up)
	if err != nil || res.StatusCode != 201 || res.Accepted != 150_000 || res.Replayed {
		t.Fatalf("%v %+v", err, res)
	}
	for range 3 {
		again, err := c.Submit(t.Context(), up)
		if err != nil || again.StatusCode != 200 || !again.Replayed || again.ID != res.ID || again.Attempts != 1 {
			t.Fatalf("replay: %v %+v", err, again)
		}
	}
	if r, i, _ := st.Counts(t.Context()); r != 1 || i != 150_000 {
		t.Errorf("%d reports, %d incidents", r, i)
	}
}

func TestCheckUpload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.csv")
	os.WriteFile(path, []byte("ip,timestamp,log\n203.0.113.7,2026-03-02T10:00:00Z,x\n203.0.113.8,2026-03-02 10:00,y\nbad,2099-01-01T00:00:00Z,\n"), 0o644)
	now := time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)
	ck, err := CheckUpload(Upload{Report: common, Path: path}, now, 10)
	if err != nil {
		t.Fatal(err)
	}
	// The third row has three problems, each listed.
	if !ck.Stored() || ck.Rows != 3 || ck.Valid != 1 || ck.RejectedCount != 2 || len(ck.Rejected) != 4 || ck.Rejected[0].Line != 3 || ck.Rejected[0].Code != report.CodeTimezoneRequired {
		t.Errorf("%+v", ck)
	}
	bad := common
	bad.Reporter.Email = ""
	bad.Type = "dmca"
	ck, _ = CheckUpload(Upload{Report: bad, Path: path}, now, 10)
	if ck.Stored() || len(ck.ReportErrors) == 0 || ck.ReportErrors[0].Field != "report.type" {
		t.Errorf("%+v", ck.ReportErrors)
	}
	os.WriteFile(path, []byte("foo,bar\n1,2\n"), 0o644)
	if ck, _ := CheckUpload(Upload{Report: common, Path: path}, now, 10); ck.FileError == nil || ck.Stored() {
		t.Errorf("header: %+v", ck)
	}
}

func TestProgress(t *testing.T) {
	var b bytes.Buffer
	clock := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	p := &progress{w: &b, tty: true, now: func() time.Time { return clock }}
	p.Start(1, "r.csv", 200e6)
	for i := int64(1); i <= 20; i++ {
		clock = clock.Add(time.Second)
		p.Sent(i * 10e6)
	}
	p.Waiting()
	p.Done()
	out := b.String()
	if !strings.Contains(out, "\r\033[Kr.csv [###############...............]  50%  100.0 MB / 200.0 MB  10.0 MB/s  10s left") ||
		!strings.Contains(out, "100%  200.0 MB / 200.0 MB") || !strings.HasSuffix(out, "\nsent; the desk is checking and storing the rows…\n") {
		t.Errorf("%q", out)
	}
	b.Reset()
	clock = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	p = &progress{w: &b, now: func() time.Time { return clock }}
	p.Start(1, "r.csv", 200e6)
	for i := int64(1); i <= 200; i++ {
		clock = clock.Add(100 * time.Millisecond)
		p.Sent(i * 1e6)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 11 || lines[0] != "uploading r.csv, 200.0 MB" || lines[5] != "uploading r.csv: 100.0 MB of 200.0 MB sent (50%)" || strings.Contains(b.String(), "\r") {
		t.Errorf("%d lines:\n%s", len(lines), b.String())
	}
}

// A file and /dev/null (a character device) are not terminals.
func TestIsTerminal(t *testing.T) {
	f, _ := os.Create(filepath.Join(t.TempDir(), "x"))
	defer f.Close()
	if IsTerminal(f) {
		t.Error("a file is a terminal")
	}
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	if IsTerminal(null) {
		t.Error("/dev/null is a terminal")
	}
}
