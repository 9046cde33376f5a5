package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/bits"
	"math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"abusedesk/internal/attribution"
	"abusedesk/internal/intake"
	"abusedesk/internal/intake/csvreport"
	"abusedesk/internal/inventory"
	"abusedesk/internal/report"
	"abusedesk/internal/store"
	"abusedesk/internal/web"
)

func cmdBench(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "console" {
		return cmdBenchConsole(ctx, args[1:])
	}
	if len(args) > 0 && args[0] == "csv-e2e" {
		return cmdBenchE2EChild(ctx, args[1:])
	}
	if len(args) > 0 && args[0] == "scan" {
		return cmdBenchScan(ctx, args[1:])
	}
	if len(args) > 0 && args[0] == "mailbox" {
		return cmdBenchMailbox(ctx, args[1:])
	}
	if len(args) > 0 && args[0] == "mail" {
		return cmdBenchMail(ctx, args[1:])
	}
	if len(args) == 0 || args[0] != "csv" {
		return errors.New("usage: abusedesk bench csv [--rows 100000,1000000] [--db postgres://…]\n       abusedesk bench console [--db FILE] [--cases 1M] [--reports 5M]\n       abusedesk bench scan [--size 1GB]\n       abusedesk bench mail [--mails 5000] [--db postgres://…]\n(the JSON intake benchmark is bench/json.sh, which drives wrk)")
	}
	fs := flag.NewFlagSet("bench csv", flag.ExitOnError)
	rowsFlag := fs.String("rows", "100000,1000000", "comma-separated row counts to run")
	db := fs.String("db", "", "empty: a fresh SQLite file per run; postgres://…: a scratch database per run is created next to this one")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to `file`, and of each end-to-end upload (a child process) to file.e2e-ROWS")
	fs.Parse(args[1:])
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	dir, err := os.MkdirTemp("", "abusedesk-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	dialect := "sqlite"
	if store.IsPostgres(*db) {
		dialect = "postgres"
	}
	fmt.Printf("CSV bulk intake on %s, %d CPUs, %s\n", dialect, runtime.NumCPU(), runtime.Version())
	fmt.Printf("attribution: before each end-to-end run and bare insert (not timed), %s\n", benchInventoryNote)
	fmt.Printf("%10s %8s | %14s %14s %14s | %8s %8s | %12s %12s %12s\n", "rows", "MB", "bare csv r/s", "bare insert r/s", "end-to-end r/s", "ins/e2e", "csv/e2e", "peak heap MB", "peak live MB", "peak RSS MB")
	for _, f := range strings.Split(*rowsFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return fmt.Errorf("--rows: %w", err)
		}
		if err := benchCSVOnce(ctx, dir, *db, n, *cpuprofile); err != nil {
			return err
		}
	}
	return nil
}

// benchDB returns a fresh database for one run.
func benchDB(ctx context.Context, dir, admin, name string) (*store.Store, func(), error) {
	dsn := filepath.Join(dir, name+".db")
	drop := func() { os.Remove(dsn); os.Remove(dsn + "-wal"); os.Remove(dsn + "-shm") }
	if store.IsPostgres(admin) {
		var err error
		if dsn, drop, err = store.CreateScratchDatabase(ctx, admin, "abusedesk_bench"); err != nil {
			return nil, nil, err
		}
	}
	st, err := store.Open(ctx, dsn)
	if err != nil {
		drop()
		return nil, nil, err
	}
	return st, func() { st.Close(); drop() }, nil
}

func benchCSVOnce(ctx context.Context, dir, admin string, n int, profile string) error {
	path := filepath.Join(dir, fmt.Sprintf("rows-%d.csv", n))
	size, err := writeBenchCSV(path, n)
	if err != nil {
		return err
	}
	defer os.Remove(path)

	// Baseline 1: encoding/csv alone over the same file.
	t0 := time.Now()
	if err := bareRead(path); err != nil {
		return err
	}
	bareCSV := float64(n) / time.Since(t0).Seconds()

	// End to end: multipart upload over loopback into a real server.
	e2eProfile := ""
	if profile != "" {
		e2eProfile = fmt.Sprintf("%s.e2e-%d", profile, n)
	}
	e2e, err := benchEndToEndChild(ctx, admin, path, n, e2eProfile)
	if err != nil {
		return err
	}

	// Baseline 2: the same rows, parsed beforehand, inserted bare.
	ins, err := benchBareInsert(ctx, dir, admin, path)
	if err != nil {
		return err
	}
	fmt.Printf("%10d %8.1f | %14.0f %14.0f %14.0f | %8.2f %8.2f | %12.1f %12.1f %12.1f   verdicts %s\n",
		n, float64(size)/1e6, bareCSV, ins, e2e.RowsPerSec, ins/e2e.RowsPerSec, bareCSV/e2e.RowsPerSec,
		float64(e2e.Heap)/1e6, float64(e2e.Live)/1e6, float64(e2e.VmHWM)/1e6, e2e.Verdicts)
	return nil
}

func writeBenchCSV(path string, n int) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString("ip,timestamp,log,target,target_port,protocol\n")
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2026, 3, 2, 10, 0, 0, 0, time.FixedZone("", 3600))
	for i := 0; i < n; i++ {
		ip := rng.Uint32()
		ts := base.Add(time.Duration(i) * time.Second).Format(time.RFC3339)
		fmt.Fprintf(w, "%d.%d.%d.%d,%s,sshd[%d]: Failed password for root from port %d ssh2,198.51.100.20,22,tcp\n",
			203, byte(ip>>16), byte(ip>>8), byte(ip), ts, 1000+i%5000, 1024+i%60000)
	}
	if err := w.Flush(); err != nil {
		return 0, err
	}
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

func bareRead(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReaderSize(f, 1<<20))
	r.ReuseRecord = true
	for {
		if _, err := r.Read(); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
	}
}

// The benchmark's rows come from 203.0.0.0/8 (writeBenchCSV), over 11.6
// days from 2026-03-02 (one a second). Its address space covers two thirds
// of that pool and its inventory a third, so that a third of the rows are
// not_ours, a third unassigned and a third assigned; every other assigned
// /22 changes hands on 2026-03-07, so the verdict depends on each row's
// time too.
const (
	benchSpaceEnd    = 171 // 203.0.0.0–203.170.255.255: the address space
	benchAssignedEnd = 85  // 203.0.0.0–203.84.255.255: assigned, in /22s
	benchAccounts    = 500
)

var benchInventoryNote = fmt.Sprintf("the address space (%d%% of the rows' 203.0.0.0/8) and an inventory (%d /22s assigned, every other one reassigned on 2026-03-07; %d resources of %d accounts) are imported through inventory.Keeper, as serve and abusedesk import do",
	benchSpaceEnd*100/256, benchAssignedEnd*64, benchAssignedEnd*64*3/2, benchAccounts)

// benchRanges is the address space as an ip-ranges.json document.
func benchRanges() []byte {
	type prefix struct {
		IPPrefix string `json:"ip_prefix"`
		Region   string `json:"region"`
		Service  string `json:"service"`
		Border   string `json:"network_border_group"`
	}
	var ps []prefix
	// 203.0.0.0/8 up to benchSpaceEnd in aligned blocks.
	for start := 0; start < benchSpaceEnd; {
		size := 128
		for start%size != 0 || start+size > benchSpaceEnd {
			size /= 2
		}
		ps = append(ps, prefix{fmt.Sprintf("203.%d.0.0/%d", start, 16-bits.TrailingZeros(uint(size))), "eu-west-3", "EC2", "eu-west-3"})
		start += size
	}
	doc, _ := json.Marshal(map[string]any{"syncToken": "1", "createDate": "2026-01-01-00-00-00", "prefixes": ps, "ipv6_prefixes": []any{}})
	return doc
}

// benchInventory is the inventory as JSON Lines.
func benchInventory() []byte {
	var b strings.Builder
	for a := 0; a < benchAccounts; a++ {
		fmt.Fprintf(&b, `{"kind":"account","id":"acct-%04d","name":"Customer %d","email":"c%d@example.net"}`+"\n", a, a, a)
	}
	res := 0
	resource := func() string {
		id := fmt.Sprintf("i-%06x", res)
		fmt.Fprintf(&b, `{"kind":"resource","id":"%s","account":"acct-%04d","type":"instance","service":"EC2","region":"eu-west-3"}`+"\n", id, res%benchAccounts)
		res++
		return id
	}
	for second := 0; second < benchAssignedEnd; second++ {
		for third := 0; third < 256; third += 4 {
			p := fmt.Sprintf("203.%d.%d.0/22", second, third)
			if third%8 == 0 {
				first, next := resource(), resource()
				fmt.Fprintf(&b, `{"kind":"assignment","resource":"%s","prefix":"%s","from":"2026-01-01T00:00:00Z","to":"2026-03-07T00:00:00Z"}`+"\n", first, p)
				fmt.Fprintf(&b, `{"kind":"assignment","resource":"%s","prefix":"%s","from":"2026-03-07T00:00:00Z"}`+"\n", next, p)
			} else {
				fmt.Fprintf(&b, `{"kind":"assignment","resource":"%s","prefix":"%s","from":"2026-01-01T00:00:00Z"}`+"\n", resource(), p)
			}
		}
	}
	return []byte(b.String())
}

// benchAttribution imports the benchmark's address space and inventory into
// st through the real import path; onChange (may be nil) gets the
// attributor, as serve's intake does.
func benchAttribution(ctx context.Context, st *store.Store, onChange func(*attribution.Attributor)) (*inventory.Keeper, error) {
	k := inventory.New(st, nil)
	k.OnChange = onChange
	if err := k.Load(ctx); err != nil {
		return nil, err
	}
	space, errs, err := attribution.ParseRanges(bytes.NewReader(benchRanges()))
	if err != nil || len(errs) > 0 {
		return nil, fmt.Errorf("bench ranges: %v %v", err, errs)
	}
	if err := k.ReplaceRanges(ctx, space); err != nil {
		return nil, err
	}
	if _, lerrs, err := k.Import(ctx, bytes.NewReader(benchInventory())); err != nil || len(lerrs) > 0 {
		return nil, fmt.Errorf("bench inventory: %v %v", err, lerrs)
	}
	return k, nil
}

// e2eResult is what the end-to-end child reports.
type e2eResult struct {
	RowsPerSec        float64
	Heap, Live, VmHWM uint64
	Verdicts          string // the stored mix, e.g. "not_ours 33% unassigned 34% assigned 33%"
}

// benchEndToEnd returns rows/s, the peak heap in use (live data and garbage
// not yet collected), the peak live heap (what the last GC kept) and the
// verdicts stored. The attribution data is imported first, untimed.
func benchEndToEnd(ctx context.Context, dir, admin, path string, n int, profile string) (*e2eResult, error) {
	st, done, err := benchDB(ctx, dir, admin, "e2e")
	if err != nil {
		return nil, err
	}
	defer done()
	in := intake.New(st, nil, intake.BulkLimits{MaxRows: n + 1, MaxBytes: 1 << 40})
	defer in.Close()
	if _, err := benchAttribution(ctx, st, in.SetAttributor); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: web.New(web.Config{DisableRateLimit: true}, in, nil).Handler()}
	go srv.Serve(ln)
	defer srv.Close()

	// The peak resident set is measured from here: what the import of the
	// attribution data took before is returned to the system and forgotten.
	debug.FreeOSMemory()
	resetHWM()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak, peakLive atomic.Uint64
	live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() { // sample the heap while the upload runs
		defer close(sampled)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
				metrics.Read(live)
				if v := live[0].Value.Uint64(); v > peakLive.Load() {
					peakLive.Store(v)
				}
			}
		}
	}()

	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		common, _ := json.Marshal(report.Report{Type: "network", Subtype: "intrusion", Reporter: report.Reporter{Name: "Bench", Email: "bench@example.org"}})
		part, _ := mw.CreateFormField("report")
		part.Write(common)
		fpart, _ := mw.CreateFormFile("file", "bench.csv")
		f, err := os.Open(path)
		if err != nil {
			pw.CloseWithError(err)
			return
		}
		defer f.Close()
		if _, err := io.Copy(fpart, f); err != nil {
			pw.CloseWithError(err)
			return
		}
		pw.CloseWithError(mw.Close())
	}()
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return nil, err
		}
		pprof.StartCPUProfile(f)
	}
	t0 := time.Now()
	resp, err := http.Post("http://"+ln.Addr().String()+"/api/v1/reports/bulk", mw.FormDataContentType(), pr)
	if err != nil {
		return nil, err
	}
	var out struct {
		Accepted int `json:"accepted"`
	}
	json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	elapsed := time.Since(t0)
	hwm := vmHWM() // before the checks below, which read the whole table
	if profile != "" {
		pprof.StopCPUProfile()
	}
	close(stop)
	<-sampled
	if resp.StatusCode != 201 || out.Accepted != n {
		return nil, fmt.Errorf("bulk upload: status %d, %d rows accepted of %d", resp.StatusCode, out.Accepted, n)
	}
	_, incidents, err := st.Counts(ctx)
	if err != nil || incidents != int64(n) {
		return nil, fmt.Errorf("%d incidents stored of %d: %v", incidents, n, err)
	}
	verdicts, err := benchVerdicts(ctx, st, n)
	if err != nil {
		return nil, err
	}
	// The peak of the whole heap in use while the upload ran (client,
	// server and store are in this process): flat means independent of n.
	return &e2eResult{RowsPerSec: float64(n) / elapsed.Seconds(), Heap: max(peak.Load(), base.HeapInuse), Live: peakLive.Load(), VmHWM: hwm, Verdicts: verdicts}, nil
}

// benchVerdicts describes the verdicts stored, as shares of n rows.
func benchVerdicts(ctx context.Context, st *store.Store, n int) (string, error) {
	rows, err := st.R.QueryContext(ctx, "SELECT coalesce(verdict, 'none'), count(*) FROM incidents GROUP BY verdict ORDER BY verdict DESC")
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var parts []string
	for rows.Next() {
		var v string
		var c int
		if err := rows.Scan(&v, &c); err != nil {
			return "", err
		}
		parts = append(parts, fmt.Sprintf("%s %.1f%%", v, float64(c)*100/float64(n)))
	}
	return strings.Join(parts, " "), rows.Err()
}

// sqliteVerdicts are the verdict codes the intake binds on SQLite.
var sqliteVerdicts = map[string]any{"not_ours": int64(1), "unassigned": int64(2), "assigned": int64(3)}

// benchBareInsert is the baseline a user would write: rows already parsed
// and attributed, multi-row INSERTs of 100 in one transaction (SQLite, the
// intake's statement), or pgx's COPY (PostgreSQL), of the same columns and
// values as the intake writes.
func benchBareInsert(ctx context.Context, dir, admin, path string) (float64, error) {
	st, done, err := benchDB(ctx, dir, admin, "bare")
	if err != nil {
		return 0, err
	}
	defer done()
	k, err := benchAttribution(ctx, st, nil)
	if err != nil {
		return 0, err
	}
	attr := k.Attributor()
	// One report row for the incidents to belong to.
	r := &report.Report{Type: "network", Subtype: "intrusion", Reporter: report.Reporter{Name: "B", Email: "b@example.org"},
		Incidents: []report.Incident{{SourceIP: "203.0.113.1", Target: "x.example", Timestamp: "2026-03-02T10:00:00Z", Log: "x"}}}
	(&report.Validator{}).Validate(r)
	rc, err := st.InsertReport(ctx, &store.NewReport{Report: r, Channel: "bench", ReceivedAt: time.Now()})
	if err != nil {
		return 0, err
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	rd, err := csvreport.NewReader(bufio.NewReader(f), csvreport.Options{MaxRows: 1 << 30})
	if err != nil {
		return 0, err
	}
	pg := store.IsPostgres(admin)
	nullable := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	var rows [][]any
	for {
		row, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, err
		}
		in := row.Incident
		v := attr.Addr(in.Source, in.At)
		in.Attribution = report.Attribution{Verdict: v.Verdict, Resource: v.Resource, Account: v.Account}
		ev := string(store.AppendEvidence(nil, &in))
		if pg {
			rows = append(rows, []any{rc.ID, len(rows) + 2, in.SourceIP, in.At, nullable(in.Verdict), nullable(in.Resource), nullable(in.Account), ev})
		} else {
			rows = append(rows, []any{in.SourceIP, in.At.UnixMilli(), sqliteVerdicts[in.Verdict], nullable(in.Resource), nullable(in.Account), ev})
		}
	}
	f.Close()
	t0 := time.Now()
	if pg {
		conn, err := st.Pool().Acquire(ctx)
		if err != nil {
			return 0, err
		}
		defer conn.Release()
		cols := []string{"report_id", "seq", "source_ip", "occurred_at", "verdict", "resource", "account", "evidence"}
		if _, err := conn.CopyFrom(ctx, pgx.Identifier{"incidents"}, cols, pgx.CopyFromRows(rows)); err != nil {
			return 0, err
		}
	} else {
		tx, err := st.W.BeginTx(ctx, nil)
		if err != nil {
			return 0, err
		}
		defer tx.Rollback()
		// The intake's statement (store.bulkInsert): the report id is the
		// one parameter ?1 every row names, the verdict comes as a code.
		row := "(?1,?,?,CASE ? WHEN 1 THEN 'not_ours' WHEN 2 THEN 'unassigned' WHEN 3 THEN 'assigned' END,?,?,?),"
		stmt := func(n int) string {
			return "INSERT INTO incidents (report_id, source_ip, occurred_at, verdict, resource, account, evidence) VALUES " +
				strings.TrimSuffix(strings.Repeat(row, n), ",")
		}
		full, err := tx.PrepareContext(ctx, stmt(100))
		if err != nil {
			return 0, err
		}
		args := make([]any, 0, 601)
		for i := 0; i < len(rows); i += 100 {
			batch := rows[i:min(i+100, len(rows))]
			args = append(args[:0], rc.ID)
			for _, row := range batch {
				args = append(args, row...)
			}
			if len(batch) == 100 {
				_, err = full.ExecContext(ctx, args...)
			} else {
				_, err = tx.ExecContext(ctx, stmt(len(batch)), args...)
			}
			if err != nil {
				return 0, err
			}
		}
		if err := tx.Commit(); err != nil {
			return 0, err
		}
	}
	return float64(len(rows)) / time.Since(t0).Seconds(), nil
}

// benchEndToEndChild runs the end-to-end upload in a child process, so its
// peak resident memory (VmHWM) is the upload's alone, not the baselines'.
func benchEndToEndChild(ctx context.Context, admin, path string, n int, profile string) (*e2eResult, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, exe, "bench", "csv-e2e", "--file", path, "--rows", strconv.Itoa(n), "--db", admin, "--cpuprofile", profile)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("end-to-end run: %w", err)
	}
	var r e2eResult
	if err := json.Unmarshal(out, &r); err != nil {
		return nil, fmt.Errorf("end-to-end run said %q: %w", out, err)
	}
	return &r, nil
}

// cmdBenchE2EChild is the child side: one upload, figures as JSON on stdout.
func cmdBenchE2EChild(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench csv-e2e", flag.ExitOnError)
	file := fs.String("file", "", "CSV file")
	rows := fs.Int("rows", 0, "rows in it")
	db := fs.String("db", "", "as bench csv")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the upload to `file`")
	fs.Parse(args)
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400) // as serve does
	}
	dir, err := os.MkdirTemp("", "abusedesk-bench-e2e-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	r, err := benchEndToEnd(ctx, dir, *db, *file, *rows, *cpuprofile)
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(r)
}

// resetHWM restarts the count of vmHWM (Linux ≥ 4.0; elsewhere nothing).
func resetHWM() {
	os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// vmHWM is the process's peak resident set, from /proc (Linux), in bytes.
func vmHWM() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}
