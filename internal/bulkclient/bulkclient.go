// Package bulkclient uploads a CSV of incidents to an abuse desk's
// POST /api/v1/reports/bulk (api/openapi.yaml, operation createBulkReport):
// a multipart/form-data body of a "report" part (JSON, the fields common to
// every row) then a "file" part (the CSV), streamed from disk with its exact
// length, so that a file of the desk's 200 MB limit is never held in memory.
//
// An attempt that fails for a reason that may pass is retried: a network
// error, a 5xx (the desk acknowledges nothing it has not stored, so nothing
// was), and a 429, after its Retry-After. With an Idempotency-Key a retry
// is safe even when the answer was lost after the desk stored the upload:
// the desk answers the first upload's receipt (200, Idempotent-Replayed).
// Without one, a network error after the body was sent is not retried.
package bulkclient

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"abusedesk/internal/report"
)

// Path is the bulk endpoint, relative to the desk's base URL.
const Path = "/api/v1/reports/bulk"

// Defaults of Client.
const (
	DefaultRetries       = 5
	DefaultMaxRetryAfter = 10 * time.Minute
)

// Client uploads to one desk.
type Client struct {
	// Server is the desk's base URL, e.g. "https://abuse.example".
	Server string
	// APIKey is sent as X-API-Key when set (a desk's key: a higher rate
	// limit).
	APIKey string
	// HTTP is the client used; nil means one with connection timeouts and
	// no overall timeout (an upload of 200 MB takes what it takes).
	HTTP *http.Client
	// Retries is how many times a failed attempt is retried; 0 means
	// DefaultRetries, a negative value none.
	Retries int
	// Backoff is the wait before retry n (from 1) after a network error or
	// a 5xx, and after a 429 without Retry-After; nil means 1 s, 2 s, 4 s…
	// up to a minute, each with up to a quarter more at random.
	Backoff func(n int) time.Duration
	// MaxRetryAfter caps the wait a 429 asks for; 0 means
	// DefaultMaxRetryAfter.
	MaxRetryAfter time.Duration
	// Progress hears of the upload; nil means nothing is shown.
	Progress Progress
	// Sleep waits for d unless ctx ends first; nil means a timer (tests
	// replace it).
	Sleep func(ctx context.Context, d time.Duration) error
	// UserAgent is sent as User-Agent; "" means "abusedesk-bulkclient".
	UserAgent string
}

// Upload is one CSV file and the report its rows make.
type Upload struct {
	// Report holds the common fields (type, subtype, reporter,
	// share_contact_with_customer, language, description); it carries no
	// incidents.
	Report report.Report
	// Path is the CSV file, read once per attempt.
	Path string
	// Name is the file name sent in the part's header; "" means the base
	// name of Path.
	Name string
	// IdempotencyKey is sent as Idempotency-Key when set (at most 255
	// characters).
	IdempotencyKey string
}

// Reject is a row the desk refused, by line.
type Reject struct {
	Line    int    `json:"line"`
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Result is the desk's answer to the last attempt.
type Result struct {
	// StatusCode is the HTTP status: 201 stored, 200 a replay of an
	// Idempotency-Key, 4xx refused (Errors says why).
	StatusCode int
	// Replayed is set on a replay: the counts are the first upload's.
	Replayed bool
	// Attempts counts the attempts made.
	Attempts int

	ID            string        `json:"id"`
	Accepted      int           `json:"accepted"`
	Rejected      []Reject      `json:"rejected"`
	RejectedCount int           `json:"rejected_count"`
	StatusURL     string        `json:"status_url"`
	StatusAPIURL  string        `json:"status_api_url"`
	Errors        report.Errors `json:"errors"`
}

// Stored reports whether the desk stored the report (now or before).
func (r *Result) Stored() bool {
	return r.StatusCode == http.StatusCreated || r.StatusCode == http.StatusOK
}

// Progress hears of an upload. Its methods are called from the goroutine
// that sends the body.
type Progress interface {
	// Start begins attempt n (from 1) of sending total bytes of the file.
	Start(n int, name string, total int64)
	// Sent says how many bytes of the file are sent.
	Sent(n int64)
	// Waiting says the file is sent and the desk is answering.
	Waiting()
	// Retry says the attempt failed and the next starts after wait.
	Retry(reason string, wait time.Duration)
	// Done ends the upload.
	Done()
}

// StatusError is the desk's error status after the retries ran out.
type StatusError struct {
	Result *Result
	Msg    string
}

func (e *StatusError) Error() string { return e.Msg }

// Submit uploads u. It returns the desk's answer, stored or refused (a 4xx
// other than 429 is an answer, not an error); the error is for what left no
// answer to act on: the file cannot be read, the retries ran out (a
// *StatusError when the last attempt had an answer, a 5xx or a 429), ctx
// ended.
func (c *Client) Submit(ctx context.Context, u Upload) (*Result, error) {
	endpoint := strings.TrimRight(c.Server, "/") + Path
	if !strings.HasPrefix(endpoint, "http://") && !strings.HasPrefix(endpoint, "https://") {
		return nil, fmt.Errorf("the server %q is not an http:// or https:// URL", c.Server)
	}
	if len(u.IdempotencyKey) > 255 {
		return nil, errors.New("an Idempotency-Key is at most 255 characters")
	}
	common, err := json.Marshal(u.Report)
	if err != nil {
		return nil, err
	}
	name := u.Name
	if name == "" {
		name = filepath.Base(u.Path)
	}
	retries := c.Retries
	if retries == 0 {
		retries = DefaultRetries
	}
	retries = max(retries, 0)
	prog := c.Progress
	if prog == nil {
		prog = noProgress{}
	}
	defer prog.Done()
	for attempt := 1; ; attempt++ {
		res, sentBody, err := c.attempt(ctx, endpoint, u, name, common, attempt, prog)
		if err != nil && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var wait time.Duration
		var reason string
		switch {
		case err != nil:
			var fe fileError
			if errors.As(err, &fe) {
				return nil, fe.err
			}
			if sentBody && u.IdempotencyKey == "" {
				// The desk may have stored it: without a key a retry
				// could file it twice.
				return nil, fmt.Errorf("%w (the file was sent; without an Idempotency-Key it is not sent again)", err)
			}
			reason, wait = err.Error(), c.backoff(attempt)
		case res.StatusCode == http.StatusTooManyRequests:
			reason = "the desk asks to slow down (429)"
			wait = c.retryAfter(res.retryAfter, attempt)
		case res.StatusCode >= 500:
			reason = fmt.Sprintf("the desk answered %d %s", res.StatusCode, http.StatusText(res.StatusCode))
			wait = c.backoff(attempt)
		default:
			res.Attempts = attempt
			return res.Result, nil
		}
		if attempt > retries {
			if err != nil {
				return nil, fmt.Errorf("%s; gave up after %d attempts", reason, attempt)
			}
			res.Attempts = attempt
			return res.Result, &StatusError{Result: res.Result, Msg: fmt.Sprintf("%s%s; gave up after %d attempts", reason, errorText(res.Result), attempt)}
		}
		prog.Retry(reason, wait)
		if err := c.sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

func errorText(r *Result) string {
	if len(r.Errors) == 0 {
		return ""
	}
	return ": " + r.Errors[0].Message
}

// answer is an attempt's Result with what decides a retry.
type answer struct {
	*Result
	retryAfter string
}

type fileError struct{ err error }

func (e fileError) Error() string { return e.err.Error() }

// attempt sends the upload once. sentBody reports whether the whole body
// may have reached the desk (which then may have stored it).
func (c *Client) attempt(ctx context.Context, endpoint string, u Upload, name string, common []byte, n int, prog Progress) (ans answer, sentBody bool, err error) {
	f, err := os.Open(u.Path)
	if err != nil {
		return ans, false, fileError{err}
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return ans, false, fileError{err}
	}
	if !fi.Mode().IsRegular() {
		return ans, false, fileError{fmt.Errorf("%s is not a regular file", u.Path)}
	}
	prefix, suffix, ctype, err := envelope(common, name)
	if err != nil {
		return ans, false, err
	}
	prog.Start(n, name, fi.Size())
	body := &countingReader{r: f, prog: prog}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint,
		io.MultiReader(bytes.NewReader(prefix), body, bytes.NewReader(suffix)))
	if err != nil {
		return ans, false, err
	}
	// The exact length: the desk (and proxies) know the size up front,
	// and the body is not chunked.
	req.ContentLength = int64(len(prefix)) + fi.Size() + int64(len(suffix))
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Accept", "application/json")
	ua := c.UserAgent
	if ua == "" {
		ua = "abusedesk-bulkclient"
	}
	req.Header.Set("User-Agent", ua)
	if u.IdempotencyKey != "" {
		req.Header.Set("Idempotency-Key", u.IdempotencyKey)
	}
	if c.APIKey != "" {
		req.Header.Set("X-API-Key", c.APIKey)
	}
	hc := c.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	resp, err := hc.Do(req)
	if err != nil {
		return ans, body.n == fi.Size(), err
	}
	defer resp.Body.Close()
	if body.n == fi.Size() {
		prog.Waiting()
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return ans, true, fmt.Errorf("reading the answer: %w", err)
	}
	ans.Result = &Result{StatusCode: resp.StatusCode, Replayed: resp.Header.Get("Idempotent-Replayed") == "true"}
	ans.retryAfter = resp.Header.Get("Retry-After")
	if err := json.Unmarshal(raw, ans.Result); err != nil {
		if resp.StatusCode < 300 {
			return ans, true, fmt.Errorf("the answer (%d) is not the desk's JSON: %s", resp.StatusCode, clip(raw))
		}
		ans.Errors = report.Errors{{Code: "http_" + strconv.Itoa(resp.StatusCode), Message: fmt.Sprintf("%s: %s", resp.Status, clip(raw))}}
	}
	return ans, true, nil
}

// envelope is the multipart body around the file's bytes: the report part,
// the file part's header, and the closing boundary.
func envelope(common []byte, name string) (prefix, suffix []byte, contentType string, err error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	var rnd [16]byte
	crand.Read(rnd[:])
	if err := mw.SetBoundary("abusedesk-" + hex.EncodeToString(rnd[:])); err != nil {
		return nil, nil, "", err
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="report"`)
	h.Set("Content-Type", "application/json")
	pw, err := mw.CreatePart(h)
	if err != nil {
		return nil, nil, "", err
	}
	pw.Write(common)
	h = textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename="%s"`, quoteName(name)))
	h.Set("Content-Type", "text/csv")
	if _, err := mw.CreatePart(h); err != nil {
		return nil, nil, "", err
	}
	prefix = bytes.Clone(buf.Bytes())
	buf.Reset()
	if err := mw.Close(); err != nil {
		return nil, nil, "", err
	}
	return prefix, buf.Bytes(), mw.FormDataContentType(), nil
}

// quoteName escapes a file name for a quoted header parameter, as
// mime/multipart's CreateFormFile does.
func quoteName(s string) string {
	return strings.NewReplacer("\\", "\\\\", `"`, "\\\"", "\r", "", "\n", "").Replace(s)
}

func clip(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:197] + "..."
	}
	return s
}

// countingReader tells the progress of the file's bytes read.
type countingReader struct {
	r    io.Reader
	n    int64
	prog Progress
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if n > 0 {
		c.prog.Sent(c.n)
	}
	return n, err
}

func (c *Client) backoff(n int) time.Duration {
	if c.Backoff != nil {
		return c.Backoff(n)
	}
	d := time.Second << min(n-1, 6)
	d = min(d, time.Minute)
	return d + time.Duration(rand.Int64N(int64(d/4)+1))
}

// retryAfter reads a 429's Retry-After: seconds (RFC 9110 §10.2.3) or an
// HTTP date; without one, the backoff.
func (c *Client) retryAfter(h string, n int) time.Duration {
	limit := c.MaxRetryAfter
	if limit <= 0 {
		limit = DefaultMaxRetryAfter
	}
	h = strings.TrimSpace(h)
	if secs, err := strconv.Atoi(h); err == nil && secs >= 0 {
		return min(time.Duration(secs)*time.Second, limit)
	}
	if t, err := http.ParseTime(h); err == nil {
		return min(max(time.Until(t), 0), limit)
	}
	return min(c.backoff(n), limit)
}

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if c.Sleep != nil {
		return c.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

var defaultHTTP = &http.Client{Transport: &http.Transport{
	Proxy:                 http.ProxyFromEnvironment,
	DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
	TLSHandshakeTimeout:   30 * time.Second,
	ResponseHeaderTimeout: 10 * time.Minute, // from the end of the body: the desk stores the last rows
	ForceAttemptHTTP2:     true,
}}

type noProgress struct{}

func (noProgress) Start(int, string, int64)    {}
func (noProgress) Sent(int64)                  {}
func (noProgress) Waiting()                    {}
func (noProgress) Retry(string, time.Duration) {}
func (noProgress) Done()                       {}
