package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"abusedesk/internal/auth"
	"abusedesk/internal/intake"
	"abusedesk/internal/store"
	"abusedesk/internal/store/casegen"
	"abusedesk/internal/web"
)

// cmdBenchConsole is `abusedesk bench console`: the staff console's queue
// and search over HTTP at a million cases and five million reports. The
// data is generated once into --db (reused by later runs); each scenario
// is requested by --concurrency clients, and its latency percentiles are
// printed beside those of GET /healthz in the same run (the baseline: what
// the HTTP stack alone costs on this machine at this moment).
func cmdBenchConsole(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench console", flag.ExitOnError)
	db := fs.String("db", "bench-console.db", "SQLite `file` (kept and reused: generating takes minutes) or postgres:// URL")
	nCases := fs.Int("cases", 1_000_000, "cases to generate")
	nReports := fs.Int("reports", 5_000_000, "reports to generate")
	requests := fs.Int("requests", 300, "requests per scenario")
	conc := fs.Int("concurrency", 4, "concurrent clients")
	fs.Parse(args)
	st, err := store.Open(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	var have int
	if err := st.R.QueryRowContext(ctx, "SELECT count(*) FROM cases").Scan(&have); err != nil {
		return err
	}
	switch {
	case have == 0:
		fmt.Printf("generating %d cases and %d reports into %s …\n", *nCases, *nReports, *db)
		t0 := time.Now()
		err := casegen.Generate(ctx, st, casegen.Config{Cases: *nCases, Reports: *nReports, Seed: 1, Progress: func(_ string, n int) {
			if n%100000 == 0 {
				fmt.Printf("  %d cases (%s)\n", n, time.Since(t0).Round(time.Second))
			}
		}})
		if err != nil {
			return err
		}
		// Planner statistics, as a running desk has them (SQLite:
		// PRAGMA optimize; PostgreSQL: autovacuum).
		if _, err := st.W.ExecContext(ctx, "ANALYZE"); err != nil {
			return err
		}
		fmt.Printf("generated in %s\n", time.Since(t0).Round(time.Second))
	case have < *nCases:
		return fmt.Errorf("%s holds %d cases, fewer than --cases %d: remove it, or pass --cases %d", *db, have, *nCases, have)
	}
	var cases, reports, open int
	st.R.QueryRowContext(ctx, "SELECT count(*) FROM cases").Scan(&cases)
	st.R.QueryRowContext(ctx, "SELECT count(*) FROM reports").Scan(&reports)
	st.R.QueryRowContext(ctx, "SELECT count(*) FROM cases WHERE is_open").Scan(&open)
	smp, err := benchSample(ctx, st)
	if err != nil {
		return err
	}

	// A staff user, its session cookie and API token.
	email := "bench@provider.example"
	u, err := st.UserByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		h, _ := auth.HashPassword("benchmark password")
		if _, err := st.AddUser(ctx, email, "Bench", store.RoleAnalyst, "en", h); err != nil {
			return err
		}
		u, err = st.UserByEmail(ctx, email)
	}
	if err != nil {
		return err
	}
	session, _, err := st.CreateSession(ctx, u.ID, time.Now())
	if err != nil {
		return err
	}
	token, err := st.AddStaffToken(ctx, u.ID, "bench")
	if err != nil {
		return err
	}
	in := intake.New(st, nil, intake.BulkLimits{})
	defer in.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: web.New(web.Config{DisableRateLimit: true}, in, nil).Handler()}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()

	type scenario struct {
		name string
		api  bool
		url  func(r *rand.Rand) string
		hits bool // every answer must list a case
	}
	pick := func(r *rand.Rand, xs []string) string { return xs[r.IntN(len(xs))] }
	q := func(s string) string { return url.QueryEscape(s) }
	deepPages := max(1, min(100, open/50-1))
	deep, err := benchDeepCursor(ctx, base, session, deepPages)
	if err != nil {
		return err
	}
	scenarios := []scenario{
		{"queue: open, oldest overdue first", false, func(*rand.Rand) string { return "/console" }, true},
		{"queue: lane email-abuse", false, func(*rand.Rand) string { return "/console?lane=email-abuse" }, true},
		{"queue: escalated, P1", false, func(*rand.Rand) string { return "/console?status=escalated&priority=P1" }, true},
		{"queue: overdue, lane general", false, func(*rand.Rand) string { return "/console?lane=general&overdue=1" }, true},
		{"queue: by priority", false, func(*rand.Rand) string { return "/console?sort=priority" }, true},
		{fmt.Sprintf("queue: page %d (cursor)", deepPages+1), false, func(*rand.Rand) string { return "/console?after=" + deep }, true},
		{"list: resolved, newest", false, func(*rand.Rand) string { return "/console?status=resolved" }, true},
		{"search: IP", false, func(r *rand.Rand) string { return "/console?q=" + q(pick(r, smp.ips)) }, true},
		{"search: CIDR", false, func(r *rand.Rand) string { return "/console?q=" + q(pick(r, smp.prefixes)) }, true},
		{"search: reporter email", false, func(r *rand.Rand) string { return "/console?q=" + q(pick(r, smp.reporters)) }, true},
		{"search: report id", false, func(r *rand.Rand) string { return "/console?q=" + q(pick(r, smp.reports)) }, true},
		{"search: case id", false, func(r *rand.Rand) string { return "/console?q=" + q(pick(r, smp.cases)) }, true},
		{"search: host", false, func(r *rand.Rand) string { return "/console?q=" + q(pick(r, smp.hosts)) }, true},
		{"search: URL", false, func(r *rand.Rand) string { return "/console?q=" + q(pick(r, smp.urls)) }, true},
		{"search: account", false, func(r *rand.Rand) string { return "/console?q=" + q(pick(r, smp.accounts)) }, true},
		{"api: GET /api/v1/cases", true, func(*rand.Rand) string { return "/api/v1/cases" }, true},
		{"api: cases?ip=", true, func(r *rand.Rand) string { return "/api/v1/cases?ip=" + q(pick(r, smp.ips)) }, true},
		{"api: cases?cidr=", true, func(r *rand.Rand) string { return "/api/v1/cases?cidr=" + q(pick(r, smp.prefixes)) }, true},
	}
	fmt.Printf("\nconsole at %d cases (%d open), %d reports, %s, %d CPUs; %d requests per scenario, %d clients\n",
		cases, open, reports, st.Dialect, runtime.NumCPU(), *requests, *conc)
	baseline := benchLatency(base, "/healthz", session, token, false, false, *requests, *conc)
	fmt.Printf("%-36s %8s %8s %8s %8s %10s %7s\n", "scenario", "p50 ms", "p95 ms", "p99 ms", "max ms", "p95/base", "<100ms")
	fmt.Printf("%-36s %8.2f %8.2f %8.2f %8.2f %10s\n", "baseline: GET /healthz", ms(baseline.p(50)), ms(baseline.p(95)), ms(baseline.p(99)), ms(baseline.p(100)), "1")
	worst := time.Duration(0)
	for _, sc := range scenarios {
		res := benchLatencyFunc(base, sc.url, session, token, sc.api, sc.hits, *requests, *conc)
		ok := "yes"
		if res.p(95) >= 100*time.Millisecond || res.errors > 0 {
			ok = "NO"
		}
		worst = max(worst, res.p(95))
		fmt.Printf("%-36s %8.2f %8.2f %8.2f %8.2f %10.1f %7s", sc.name, ms(res.p(50)), ms(res.p(95)), ms(res.p(99)), ms(res.p(100)),
			float64(res.p(95))/float64(baseline.p(95)), ok)
		if res.errors > 0 {
			fmt.Printf("  %d bad answers (first: %s)", res.errors, res.firstErr)
		}
		fmt.Println()
	}
	fmt.Printf("worst p95: %.1f ms\n", ms(worst))
	// The dashboard scans the period's reports; it is computed at most once
	// a minute (fresh=1 forces it), so it is timed apart.
	dash := benchLatency(base, "/console/dashboard?fresh=1", session, token, false, false, 5, 1)
	fmt.Printf("dashboard, 30 days, computed afresh: median %.0f ms, max %.0f ms (then cached for a minute)\n", ms(dash.p(50)), ms(dash.p(100)))
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

type latencies struct {
	d        []time.Duration
	errors   int
	firstErr string
}

func (l *latencies) p(pc float64) time.Duration {
	if len(l.d) == 0 {
		return 0
	}
	i := int(float64(len(l.d))*pc/100+0.5) - 1
	return l.d[max(0, min(i, len(l.d)-1))]
}

func benchLatency(base, path, session, token string, api, hits bool, n, conc int) *latencies {
	return benchLatencyFunc(base, func(*rand.Rand) string { return path }, session, token, api, hits, n, conc)
}

// benchLatencyFunc requests n URLs from conc clients (after a warm-up of
// 10) and returns the sorted latencies; an answer that is not 200, or that
// lists no case when hits says it must, counts as an error.
func benchLatencyFunc(base string, path func(*rand.Rand) string, session, token string, api, hits bool, n, conc int) *latencies {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc}, Timeout: time.Minute}
	do := func(r *rand.Rand) (time.Duration, error) {
		req, _ := http.NewRequest("GET", base+path(r), nil)
		if api {
			req.Header.Set("Authorization", "Bearer "+token)
		} else {
			req.AddCookie(&http.Cookie{Name: "abusedesk_console", Value: session})
		}
		t0 := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		d := time.Since(t0)
		if err != nil {
			return d, err
		}
		if resp.StatusCode != 200 {
			return d, fmt.Errorf("%s: %d", req.URL.RequestURI(), resp.StatusCode)
		}
		if hits && !strings.Contains(string(body), "C-") {
			return d, fmt.Errorf("%s: no case in the answer", req.URL.RequestURI())
		}
		return d, nil
	}
	warm := rand.New(rand.NewPCG(7, 7))
	for i := 0; i < 10; i++ {
		do(warm)
	}
	res := &latencies{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	per := (n + conc - 1) / conc
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 42))
			for i := 0; i < per; i++ {
				d, err := do(r)
				mu.Lock()
				res.d = append(res.d, d)
				if err != nil {
					res.errors++
					if res.firstErr == "" {
						res.firstErr = err.Error()
					}
				}
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	slices.Sort(res.d)
	return res
}

// benchDeepCursor walks the default queue pages deep and returns the
// cursor of the next page.
func benchDeepCursor(ctx context.Context, base, session string, pages int) (string, error) {
	after := ""
	for page := 1; page <= pages; page++ {
		req, _ := http.NewRequestWithContext(ctx, "GET", base+"/console?after="+url.QueryEscape(after), nil)
		req.AddCookie(&http.Cookie{Name: "abusedesk_console", Value: session})
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return "", err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		s := string(body)
		i := strings.Index(s, `rel="next"`)
		j := strings.LastIndex(s[:max(i, 0)], "after=")
		if i < 0 || j < 0 {
			return "", fmt.Errorf("queue page %d has no next page", page)
		}
		k := strings.IndexAny(s[j+6:], `"&`)
		after, _ = url.QueryUnescape(s[j+6 : j+6+k])
	}
	return after, nil
}

type benchSamples struct {
	ips, prefixes, reporters, reports, cases, hosts, urls, accounts []string
}

// benchSample reads values that exist, spread over the data, for the
// searches (so that every search finds something and none is cached).
func benchSample(ctx context.Context, st *store.Store) (*benchSamples, error) {
	s := &benchSamples{}
	col := func(q string, into *[]string) error {
		rows, err := st.R.QueryContext(ctx, q)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				return err
			}
			*into = append(*into, v)
		}
		if len(*into) == 0 {
			return fmt.Errorf("no sample from %q", q)
		}
		return rows.Err()
	}
	for _, c := range []struct {
		q    string
		into *[]string
	}{
		{"SELECT public_id FROM cases WHERE id % 1999 = 0", &s.cases},
		{"SELECT account FROM cases WHERE id % 1999 = 0", &s.accounts},
		{"SELECT email FROM case_reporters WHERE case_id % 1999 = 0", &s.reporters},
		{"SELECT public_id FROM reports WHERE id % 9973 = 0", &s.reports},
		{"SELECT host FROM case_hosts WHERE case_id % 499 = 0", &s.hosts},
		{"SELECT url FROM case_hosts WHERE case_id % 499 = 0", &s.urls},
	} {
		if err := col(c.q, c.into); err != nil {
			return nil, err
		}
	}
	rows, err := st.R.QueryContext(ctx, "SELECT ip FROM case_ips WHERE case_id % 1999 = 0")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, err
		}
		a, ok := netip.AddrFromSlice(b)
		if !ok {
			continue
		}
		a = a.Unmap()
		s.ips = append(s.ips, a.String())
		bits := 24
		if a.Is6() {
			bits = 112
		}
		s.prefixes = append(s.prefixes, netip.PrefixFrom(a, bits).Masked().String())
	}
	if len(s.ips) == 0 {
		return nil, errors.New("no address sample")
	}
	return s, rows.Err()
}
