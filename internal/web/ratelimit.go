package web

import (
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter keeps one token bucket per client address, and one per API key
// (with a higher rate). Buckets idle for long are dropped.
type limiter struct {
	mu        sync.Mutex
	buckets   map[string]*bucket
	rate      rate.Limit
	burst     int
	keyRate   rate.Limit
	keyBurst  int
	lastSweep time.Time
}

type bucket struct {
	l    *rate.Limiter
	seen time.Time
}

func newLimiter(r rate.Limit, b int, kr rate.Limit, kb int) *limiter {
	return &limiter{buckets: map[string]*bucket{}, rate: r, burst: b, keyRate: kr, keyBurst: kb, lastSweep: time.Now()}
}

// reserve returns how long the client must wait; 0 means go ahead.
func (l *limiter) reserve(key string, isKey bool) time.Duration {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) > time.Minute {
		for k, b := range l.buckets {
			if now.Sub(b.seen) > 10*time.Minute {
				delete(l.buckets, k)
			}
		}
		l.lastSweep = now
	}
	b := l.buckets[key]
	if b == nil {
		r, n := l.rate, l.burst
		if isKey {
			r, n = l.keyRate, l.keyBurst
		}
		b = &bucket{l: rate.NewLimiter(r, n)}
		l.buckets[key] = b
	}
	b.seen = now
	res := b.l.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return d
	}
	return 0
}

// clientAddr is the peer address. Behind a proxy, set the limits on the
// proxy, or trust its header there: the peer address is all we can verify.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// apiKey reads "Authorization: Bearer adk_…" or "X-API-Key".
func apiKey(r *http.Request) string {
	if k := r.Header.Get("X-API-Key"); k != "" {
		return k
	}
	if a, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && strings.HasPrefix(a, "adk_") {
		return a
	}
	return ""
}

func (s *Server) rateLimit(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.DisableRateLimit {
			h(w, r)
			return
		}
		key, isKey := "ip:"+clientAddr(r), false
		if k := apiKey(r); k != "" {
			if ak, err := s.store.LookupAPIKey(r.Context(), k); err == nil {
				key, isKey = "key:"+strconv.FormatInt(ak.ID, 10), true
			} else {
				writeError(w, http.StatusUnauthorized, "authorization", "invalid_api_key", "this API key is unknown or revoked")
				return
			}
		}
		if d := s.limiter.reserve(key, isKey); d > 0 {
			secs := int(math.Ceil(d.Seconds()))
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			if !strings.HasPrefix(r.URL.Path, "/api/") {
				// People on the form get a page, not JSON.
				w.Header().Set("Content-Type", "text/plain; charset=utf-8")
				w.WriteHeader(http.StatusTooManyRequests)
				fmt.Fprintf(w, "Too many requests from your address. Please wait %d seconds and send again; nothing you typed was stored.\nTrop de requêtes depuis votre adresse. Patientez %d secondes puis renvoyez ; rien n'a été enregistré.\n", secs, secs)
				return
			}
			writeError(w, http.StatusTooManyRequests, "", "rate_limited", "too many requests from this client: retry after the delay in Retry-After (seconds), or use an API key")
			return
		}
		h(w, r)
	})
}
