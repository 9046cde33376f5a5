package smtpd

import (
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

const (
	// maxClients bounds the per-client table: past it, idle entries are
	// evicted (an evicted client starts again with a full bucket, which is
	// the price of not letting a spray of source addresses grow memory).
	maxClients = 1 << 16
	// sweepEvery is how often admit looks for idle entries to drop.
	sweepEvery = time.Minute
)

// clientKey is what a client is for limiting: an IPv4 address, or the /64
// an IPv6 address belongs to (RFC 4291 §2.5.4: interface IDs are 64 bits,
// one subscriber usually holds a whole /64).
func clientKey(a netip.Addr) netip.Addr {
	a = a.Unmap()
	if a.Is6() {
		p, err := a.Prefix(64)
		if err == nil {
			return p.Addr()
		}
	}
	return a
}

// clientTable holds a token bucket and a connection count per client.
type clientTable struct {
	rate     rate.Limit // 0: no bucket
	burst    int
	maxConns int
	now      func() time.Time
	// idleTTL is how long an unused bucket takes to refill; an idle entry
	// older than that is the same as a new one and can be dropped.
	idleTTL time.Duration

	mu        sync.Mutex
	m         map[netip.Addr]*client
	lastSweep time.Time
}

type client struct {
	lim    *rate.Limiter // nil when unlimited
	active int
	last   time.Time
}

func newClientTable(r rate.Limit, burst, maxConns int, now func() time.Time) *clientTable {
	t := &clientTable{rate: r, burst: burst, maxConns: maxConns, now: now, m: make(map[netip.Addr]*client)}
	if r > 0 && r != rate.Inf {
		t.idleTTL = time.Duration(float64(burst) / float64(r) * float64(time.Second))
	}
	return t
}

// admit takes a connection slot and, when rate limited, a token for key. It
// returns "" when admitted, otherwise why not (and takes nothing).
func (t *clientTable) admit(key netip.Addr) string {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.m) >= maxClients || now.Sub(t.lastSweep) >= sweepEvery {
		t.sweep(now)
	}
	c := t.m[key]
	if c == nil {
		c = &client{}
		if t.rate > 0 {
			c.lim = rate.NewLimiter(t.rate, t.burst)
		}
		t.m[key] = c
	}
	c.last = now
	if c.active >= t.maxConns {
		return "too many connections from your address"
	}
	if c.lim != nil && !c.lim.AllowN(now, 1) {
		return "too many connections from your address per second"
	}
	c.active++
	return ""
}

// release gives back a connection slot.
func (t *clientTable) release(key netip.Addr) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.m[key]
	if c == nil {
		return
	}
	if c.active > 0 {
		c.active--
	}
	c.last = now
	if c.active == 0 && c.lim == nil {
		delete(t.m, key) // nothing to remember without a bucket
	}
}

// allowMessage takes a token for one more message on an open connection.
func (t *clientTable) allowMessage(key netip.Addr) bool {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.m[key]
	if c == nil || c.lim == nil {
		return true
	}
	c.last = now
	return c.lim.AllowN(now, 1)
}

// sweep drops idle entries whose bucket has refilled; if the table is still
// full, it drops idle entries regardless. Entries with open connections
// stay: their number is bounded by the connections the OS lets us hold.
func (t *clientTable) sweep(now time.Time) {
	t.lastSweep = now
	for k, c := range t.m {
		if c.active == 0 && now.Sub(c.last) >= t.idleTTL {
			delete(t.m, k)
		}
	}
	if len(t.m) < maxClients {
		return
	}
	for k, c := range t.m {
		if len(t.m) < maxClients*9/10 {
			break
		}
		if c.active == 0 {
			delete(t.m, k)
		}
	}
}

func (t *clientTable) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}
