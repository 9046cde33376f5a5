package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"time"

	"abusedesk/internal/cases"
	"abusedesk/internal/intake"
	"abusedesk/internal/inventory"
	"abusedesk/internal/jobs"
	"abusedesk/internal/mailsink"
	"abusedesk/internal/report"
	"abusedesk/internal/routing"
	"abusedesk/internal/store"
	"abusedesk/internal/web"
)

// serverFlags are shared by serve and demo.
type serverFlags struct {
	addr, db, baseURL  string
	maxBody            int64
	rate, keyRate      float64
	burst, keyBurst    int64
	noRateLimit        bool
	bulkRows           int64
	bulkBytes          int64
	sendingServiceList string
	inventoryPoll      time.Duration
	routing            string
	triage, response   string
	thresholds         string
	escalationBump     int64
	mail               mailFlags
	mailbox            mailboxFlags
}

func (f *serverFlags) register(fs *flag.FlagSet, defAddr, defDB string) {
	fs.StringVar(&f.addr, "addr", env("ABUSEDESK_ADDR", defAddr), "listen address `HOST:PORT` ($ABUSEDESK_ADDR)")
	fs.StringVar(&f.db, "db", env("ABUSEDESK_DB", defDB), "SQLite `file` or postgres:// URL ($ABUSEDESK_DB)")
	fs.StringVar(&f.baseURL, "base-url", env("ABUSEDESK_BASE_URL", ""), "public `URL` for links given to reporters ($ABUSEDESK_BASE_URL; default: from the request)")
	fs.Int64Var(&f.maxBody, "max-body", envInt("ABUSEDESK_MAX_BODY", 5<<20), "largest JSON body in `bytes` ($ABUSEDESK_MAX_BODY)")
	fs.Float64Var(&f.rate, "rate", envFloat("ABUSEDESK_RATE", 2), "requests per second per client address on public endpoints ($ABUSEDESK_RATE)")
	fs.Int64Var(&f.burst, "rate-burst", envInt("ABUSEDESK_RATE_BURST", 20), "burst per client address ($ABUSEDESK_RATE_BURST)")
	fs.Float64Var(&f.keyRate, "key-rate", envFloat("ABUSEDESK_KEY_RATE", 50), "requests per second per API key ($ABUSEDESK_KEY_RATE)")
	fs.Int64Var(&f.keyBurst, "key-rate-burst", envInt("ABUSEDESK_KEY_RATE_BURST", 500), "burst per API key ($ABUSEDESK_KEY_RATE_BURST)")
	fs.BoolVar(&f.noRateLimit, "no-rate-limit", env("ABUSEDESK_NO_RATE_LIMIT", "") == "1", "disable rate limiting, for benchmarks ($ABUSEDESK_NO_RATE_LIMIT=1)")
	fs.Int64Var(&f.bulkRows, "bulk-max-rows", envInt("ABUSEDESK_BULK_MAX_ROWS", 1_000_000), "most rows in one CSV upload ($ABUSEDESK_BULK_MAX_ROWS)")
	fs.Int64Var(&f.bulkBytes, "bulk-max-bytes", envInt("ABUSEDESK_BULK_MAX_BYTES", 200<<20), "largest CSV upload in bytes ($ABUSEDESK_BULK_MAX_BYTES)")
	fs.DurationVar(&f.inventoryPoll, "inventory-poll", envDuration("ABUSEDESK_INVENTORY_POLL", 2*time.Second), "how often to apply inventory changes made by other instances or the CLI ($ABUSEDESK_INVENTORY_POLL)")
	fs.StringVar(&f.routing, "routing", env("ABUSEDESK_ROUTING", ""), "routing rules `file` ($ABUSEDESK_ROUTING; default: the built-in rules, see abusedesk routing show)")
	fs.StringVar(&f.triage, "triage-deadlines", env("ABUSEDESK_TRIAGE_DEADLINES", ""), "time for the desk's first action on a new case, per category, e.g. network=24h,email=48h,content=48h,dmca=24h ($ABUSEDESK_TRIAGE_DEADLINES; default those)")
	fs.StringVar(&f.response, "response-deadlines", env("ABUSEDESK_RESPONSE_DEADLINES", ""), "time a notified customer has to answer, per category, e.g. network=24h,dmca=1d ($ABUSEDESK_RESPONSE_DEADLINES; default network 24h, email 48h, content 48h, dmca 24h)")
	fs.StringVar(&f.thresholds, "priority-thresholds", env("ABUSEDESK_PRIORITY_THRESHOLDS", ""), "priority score cut-offs of P1,P2,P3 ($ABUSEDESK_PRIORITY_THRESHOLDS; default 70,50,30)")
	fs.Int64Var(&f.escalationBump, "escalation-bump", envInt("ABUSEDESK_ESCALATION_BUMP", 0), "priority score added when a case is escalated ($ABUSEDESK_ESCALATION_BUMP; default 25)")
	f.mail.register(fs)
	f.mailbox.register(fs)
	fs.StringVar(&f.sendingServiceList, "sending-service-hosts", env("ABUSEDESK_SENDING_SERVICE_HOSTS", strings.Join(report.DefaultSendingServiceHosts, ",")), "comma-separated host suffixes of the provider's email-sending service ($ABUSEDESK_SENDING_SERVICE_HOSTS)")
}

func (f *serverFlags) webConfig() web.Config {
	return web.Config{
		BaseURL: f.baseURL, MaxBodyBytes: f.maxBody,
		RatePerSecond: f.rate, RateBurst: int(f.burst), KeyRatePerSec: f.keyRate, KeyRateBurst: int(f.keyBurst),
		DisableRateLimit: f.noRateLimit, RelayDelay: f.mail.relayDelay,
	}
}

// policy is the case rules' numbers: the defaults, with what the flags set.
func (f *serverFlags) policy() (cases.Policy, error) {
	p := cases.DefaultPolicy()
	for _, d := range []struct {
		flag, val string
		into      map[string]time.Duration
	}{{"--triage-deadlines", f.triage, p.Triage}, {"--response-deadlines", f.response, p.Response}} {
		if d.val == "" {
			continue
		}
		m, err := cases.ParseDurations(d.val)
		if err != nil {
			return p, fmt.Errorf("%s: %w", d.flag, err)
		}
		for k, v := range m {
			d.into[k] = v
		}
	}
	if f.thresholds != "" {
		t, err := cases.ParseThresholds(f.thresholds)
		if err != nil {
			return p, fmt.Errorf("--priority-thresholds: %w", err)
		}
		p.Thresholds = t
	}
	if f.escalationBump > 0 {
		p.EscalationBump = int(f.escalationBump)
	}
	return p, nil
}

func (f *serverFlags) validator() *report.Validator {
	var hosts []string
	for _, h := range strings.Split(f.sendingServiceList, ",") {
		if h = strings.TrimSpace(h); h != "" {
			hosts = append(hosts, h)
		}
	}
	return &report.Validator{SendingServiceHosts: hosts}
}

func cmdServe(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	var f serverFlags
	f.register(fs, "127.0.0.1:8080", "abusedesk.db")
	fs.Parse(args)
	log := newLogger()
	st, err := store.Open(ctx, f.db)
	if err != nil {
		return err
	}
	defer st.Close()
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return err
	}
	if os.Getenv("GOGC") == "" {
		// The live heap is small (tens of MB) and garbage is mostly
		// per-request: collecting less often bought 9% more reports/s
		// (bench/json.sh) for a heap that stays small.
		debug.SetGCPercent(400)
	}
	log.Info("abusedesk serving", "addr", "http://"+ln.Addr().String(), "db", st.Dialect)
	if path := os.Getenv("ABUSEDESK_CPUPROFILE"); path != "" { // for performance work
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	return run(ctx, log, st, &f, ln, nil, nil, nil)
}

// run serves until ctx ends, then stops accepting, lets requests finish and
// commits what was queued. ready is called once the server is listening.
func run(ctx context.Context, log *slog.Logger, st *store.Store, f *serverFlags, ln net.Listener, inv *inventory.Keeper, sink *mailsink.Sink, ready func(*intake.Service)) error {
	rules, err := routing.Load(f.routing)
	if err != nil {
		return err
	}
	policy, err := f.policy()
	if err != nil {
		return err
	}
	in := intake.New(st, f.validator(), intake.BulkLimits{MaxRows: int(f.bulkRows), MaxBytes: f.bulkBytes})
	in.Routing = rules
	// Attribution comes from the stored history; changes (POST
	// /api/v1/inventory here or on another instance, abusedesk import) are
	// followed through the inventory log.
	if inv == nil {
		inv = inventory.New(st, log)
		if err := inv.Load(ctx); err != nil {
			in.Close()
			return fmt.Errorf("attribution: %w", err)
		}
	}
	inv.OnChange = in.SetAttributor
	in.SetAttributor(inv.Attributor())
	if a := inv.Attributor(); !a.Empty() {
		log.Info("attribution loaded", "ranges", a.Space.Len(), "assignments", a.Index.Len(), "hosts", a.Hosts.Len(), "resources", len(a.Resources))
	}
	go inv.Follow(ctx, f.inventoryPoll)
	w := web.New(f.webConfig(), in, log)
	w.Inventory = inv
	w.Policy = policy
	mail, err := f.mail.setup(f.baseURL, ln.Addr().String(), sink)
	if err != nil {
		in.Close()
		return err
	}
	bg, err := startBackground(ctx, st, policy, in.Now, log, mail)
	if err != nil {
		in.Close()
		return err
	}
	defer bg.stop()
	mbox, err := f.mailbox.start(ctx, st, in, policy, &f.mail, mail, log)
	if err != nil {
		in.Close()
		return err
	}
	// Stopped before the intake writer closes: a mail being processed
	// still commits its reports.
	defer in.Close()
	defer mbox.stop()
	w.Mailbox = mbox.box
	if bg.deliverer != nil {
		w.Mail = bg.deliverer
	}
	if sink != nil {
		w.Sink = sink
	}
	srv := &http.Server{
		Handler:           w.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if ready != nil {
		ready(in)
	}
	select {
	case err := <-errc:
		in.Close()
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	in.Close()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

func cmdMigrate(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("migrate", flag.ExitOnError)
	db := fs.String("db", env("ABUSEDESK_DB", "abusedesk.db"), "SQLite `file` or postgres:// URL ($ABUSEDESK_DB)")
	fs.Parse(args)
	st, err := store.Open(ctx, *db) // Open migrates
	if err != nil {
		return err
	}
	defer st.Close()
	if err := jobs.Migrate(ctx, st); err != nil { // River's own tables
		return err
	}
	fmt.Printf("%s schema up to date (abusedesk and its job queue)\n", st.Dialect)
	return nil
}

func cmdKey(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "add" {
		return fmt.Errorf("usage: abusedesk key add [--db DB] NAME")
	}
	fs := flag.NewFlagSet("key add", flag.ExitOnError)
	db := fs.String("db", env("ABUSEDESK_DB", "abusedesk.db"), "SQLite `file` or postgres:// URL ($ABUSEDESK_DB)")
	fs.Parse(args[1:])
	if fs.NArg() != 1 {
		return fmt.Errorf("usage: abusedesk key add [--db DB] NAME")
	}
	st, err := store.Open(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	key, err := st.AddAPIKey(ctx, fs.Arg(0))
	if err != nil {
		return err
	}
	fmt.Println(key)
	fmt.Fprintln(os.Stderr, "send it as \"Authorization: Bearer KEY\" or \"X-API-Key: KEY\"; it is shown only now")
	return nil
}

func cmdToken(ctx context.Context, args []string) error {
	usage := fmt.Errorf("usage: abusedesk token add [--db DB] EMAIL  (staff API)\n       abusedesk token add --system [--scope inventory] [--db DB] NAME")
	if len(args) == 0 || args[0] != "add" {
		return usage
	}
	fs := flag.NewFlagSet("token add", flag.ExitOnError)
	db := fs.String("db", env("ABUSEDESK_DB", "abusedesk.db"), "SQLite `file` or postgres:// URL ($ABUSEDESK_DB)")
	system := fs.Bool("system", false, "a token for a system (an inventory feed), not a person")
	scope := fs.String("scope", store.ScopeInventory, "what the token may do: inventory (POST /api/v1/inventory)")
	name := fs.String("name", "", "a label for a staff token (default: the user's email)")
	fs.Parse(args[1:])
	if fs.NArg() != 1 {
		return usage
	}
	if !*system {
		return cmdStaffToken(ctx, *db, fs.Arg(0), *name)
	}
	if *scope != store.ScopeInventory {
		return fmt.Errorf("--scope %q: the only system scope is %q", *scope, store.ScopeInventory)
	}
	st, err := store.Open(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	tok, err := st.AddToken(ctx, fs.Arg(0), *scope)
	if err != nil {
		return err
	}
	fmt.Println(tok)
	fmt.Fprintln(os.Stderr, "send it as \"Authorization: Bearer TOKEN\"; it is shown only now")
	return nil
}

// cmdRouting is `abusedesk routing show [--routing FILE]`: the effective
// rules (a file is checked, every bad line named).
func cmdRouting(ctx context.Context, args []string) error {
	usage := fmt.Errorf("usage: abusedesk routing show [--routing FILE]")
	if len(args) == 0 || args[0] != "show" {
		return usage
	}
	fs := flag.NewFlagSet("routing show", flag.ExitOnError)
	file := fs.String("routing", env("ABUSEDESK_ROUTING", ""), "rules `file` ($ABUSEDESK_ROUTING; default: the built-in rules)")
	fs.Parse(args[1:])
	if fs.NArg() != 0 {
		return usage
	}
	rules, err := routing.Load(*file)
	if err != nil {
		return err
	}
	text := rules.String()
	fmt.Print(text)
	if !strings.HasSuffix(text, "\n") {
		fmt.Println()
	}
	return nil
}
