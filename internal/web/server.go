// Package web serves abusedesk over HTTP: the public JSON API, the public
// report form, the reporter's status page, health and metrics. One handler
// per file; templates and locale files are embedded.
package web

import (
	"context"
	"database/sql"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/time/rate"

	"abusedesk/internal/cases"
	"abusedesk/internal/intake"
	"abusedesk/internal/inventory"
	"abusedesk/internal/mailsink"
	"abusedesk/internal/report"
	"abusedesk/internal/store"
)

// Config is the server's tunables; zero values take the defaults.
type Config struct {
	// BaseURL prefixes links given to reporters (status_url); empty means
	// the scheme and host of the request.
	BaseURL string
	// MaxBodyBytes bounds a JSON or XARF body (default 5 MB; 413 beyond).
	MaxBodyBytes int64
	// Rate limits per client address, and per API key (requests per second
	// and burst).
	RatePerSecond    float64
	RateBurst        int
	KeyRatePerSec    float64
	KeyRateBurst     int
	DisableRateLimit bool
	// RelayDelay is how long a message between a reporter and a customer
	// waits before it is relayed, so an analyst can hold it (default 10m).
	RelayDelay time.Duration
	// PortalLoginTTL is how long a customer's magic link works (default 1h).
	PortalLoginTTL time.Duration
}

func (c Config) withDefaults() Config {
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = 5 << 20
	}
	if c.RatePerSecond == 0 {
		c.RatePerSecond = 2
	}
	if c.RateBurst == 0 {
		c.RateBurst = 20
	}
	if c.KeyRatePerSec == 0 {
		c.KeyRatePerSec = 50
	}
	if c.KeyRateBurst == 0 {
		c.KeyRateBurst = 500
	}
	if c.RelayDelay == 0 {
		c.RelayDelay = 10 * time.Minute
	}
	if c.PortalLoginTTL == 0 {
		c.PortalLoginTTL = time.Hour
	}
	return c
}

// Server holds what the handlers share.
type Server struct {
	cfg     Config
	intake  *intake.Service
	store   *store.Store
	log     *slog.Logger
	limiter *limiter
	pages   *pages

	// Inventory takes POST /api/v1/inventory; nil: the route answers 503.
	Inventory *inventory.Keeper
	// Policy holds the case rules' numbers (deadlines, priority thresholds).
	Policy cases.Policy

	// Mail starts the delivery of an outbox mail (a retry from the
	// console); nil when no relay is configured: mails wait in the outbox.
	Mail interface {
		EnqueueTx(ctx context.Context, tx *sql.Tx, id int64) error
	}
	// Mailbox wakes the abuse@ mailbox's processor when the console sends
	// a mail through it again; nil: the processor finds it at its next poll.
	Mailbox interface{ Kick() }
	// Sink is the demo's in-process SMTP server, whose mails the console
	// shows; nil otherwise.
	Sink interface {
		Messages() []mailsink.Message
		Message(id int) (mailsink.Message, bool)
	}

	dash dashCache
}

// New builds a server.
func New(cfg Config, in *intake.Service, log *slog.Logger) *Server {
	cfg = cfg.withDefaults()
	if log == nil {
		log = slog.Default()
	}
	return &Server{
		cfg: cfg, intake: in, store: in.Store, log: log,
		limiter: newLimiter(rate.Limit(cfg.RatePerSecond), cfg.RateBurst, rate.Limit(cfg.KeyRatePerSec), cfg.KeyRateBurst),
		pages:   mustPages(),
		Policy:  cases.DefaultPolicy(),
	}
}

var (
	httpRequests = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "abusedesk_http_requests_total",
		Help: "HTTP requests by route and status code.",
	}, []string{"route", "code"})
	httpDuration = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "abusedesk_http_request_duration_seconds",
		Help:    "HTTP request latency by route.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5, 30},
	}, []string{"route"})
)

// Handler returns the routed, wrapped handler.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	limited := func(pattern string, h http.HandlerFunc) {
		mux.Handle(pattern, s.rateLimit(h))
	}
	limited("POST /api/v1/reports", s.handleCreateReport)
	limited("POST /api/v1/reports/validate", s.handleValidateReport)
	limited("POST /api/v1/reports/bulk", s.handleBulk)
	limited("GET /api/v1/reports/{id}", s.handleReportStatus)
	limited("POST /api/v1/xarf", s.handleXARF)
	limited("POST /api/v1/legal-requests", s.handleLegalRequest)
	mux.HandleFunc("POST /api/v1/inventory", s.handleInventory)
	mux.HandleFunc("GET /api/openapi.yaml", s.handleOpenAPI)

	mux.HandleFunc("GET /{$}", s.handleHome)
	mux.HandleFunc("GET /fr/{$}", s.handleHome)
	s.routeForm(mux, limited)
	mux.HandleFunc("GET /legal", s.handleLegalPage)
	mux.HandleFunc("GET /fr/legal", s.handleLegalPage)
	mux.HandleFunc("GET /static/style.css", s.handleCSS)

	s.routeConsole(mux, limited)
	s.routePortal(mux, limited)
	s.routeStatus(mux, limited)

	mux.HandleFunc("GET /healthz", s.handleHealth)
	mux.Handle("GET /metrics", promhttp.Handler())

	cop := http.NewCrossOriginProtection()
	return s.observe(securityHeaders(cop.Handler(mux)))
}

// securityHeaders: pages show attacker-written text (log samples, URLs), so
// scripts are shut out even if escaping ever failed; status links carry a
// token, so no Referer leaves the site.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.ServeHTTP(w, r)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// observe logs and counts every request. The query string is never logged:
// it may hold a status token.
func (s *Server) observe(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		route := r.Pattern // set by the mux on this same request
		if route == "" {
			route = "unmatched"
		}
		d := time.Since(start)
		httpRequests.WithLabelValues(route, strconv.Itoa(rec.code)).Inc()
		httpDuration.WithLabelValues(route).Observe(d.Seconds())
		if rec.code >= 500 {
			s.log.Error("request", "method", r.Method, "path", r.URL.Path, "status", rec.code, "duration", d)
		} else if s.log.Enabled(r.Context(), slog.LevelDebug) {
			s.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", rec.code, "duration", d)
		}
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	enc.Encode(v)
}

type errorBody struct {
	Errors report.Errors `json:"errors"`
}

func writeErrors(w http.ResponseWriter, code int, es report.Errors) {
	writeJSON(w, code, errorBody{Errors: es})
}

func writeError(w http.ResponseWriter, code int, field, errCode, msg string) {
	writeErrors(w, code, report.Errors{{Field: field, Code: errCode, Message: msg}})
}

func (s *Server) internalError(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("internal error", "path", r.URL.Path, "err", err)
	writeError(w, http.StatusInternalServerError, "", "internal", "the report could not be stored; nothing was kept, please retry")
}

// baseURL is where links given out point to.
func (s *Server) baseURL(r *http.Request) string {
	if s.cfg.BaseURL != "" {
		return strings.TrimRight(s.cfg.BaseURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.store.W.PingContext(ctx); err != nil {
		http.Error(w, "database unreachable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}
