package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"abusedesk/internal/intake"
	"abusedesk/internal/intake/csvreport"
	"abusedesk/internal/report"
	"abusedesk/internal/store"
	"abusedesk/internal/web"
)

func cmdBench(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "csv-e2e" {
		return cmdBenchE2EChild(ctx, args[1:])
	}
	if len(args) == 0 || args[0] != "csv" {
		return errors.New("usage: abusedesk bench csv [--rows 100000,1000000] [--db postgres://…]\n(the JSON intake benchmark is bench/json.sh, which drives wrk)")
	}
	fs := flag.NewFlagSet("bench csv", flag.ExitOnError)
	rowsFlag := fs.String("rows", "100000,1000000", "comma-separated row counts to run")
	db := fs.String("db", "", "empty: a fresh SQLite file per run; postgres://…: a scratch database per run is created next to this one")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to `file`")
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
	fmt.Printf("%10s %8s | %14s %14s %14s | %8s %8s | %12s %12s %12s\n", "rows", "MB", "bare csv r/s", "bare insert r/s", "end-to-end r/s", "ins/e2e", "csv/e2e", "peak heap MB", "peak live MB", "peak RSS MB")
	for _, f := range strings.Split(*rowsFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return fmt.Errorf("--rows: %w", err)
		}
		if err := benchCSVOnce(ctx, dir, *db, n); err != nil {
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

func benchCSVOnce(ctx context.Context, dir, admin string, n int) error {
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
	e2e, peak, live, rss, err := benchEndToEndChild(ctx, admin, path, n)
	if err != nil {
		return err
	}

	// Baseline 2: the same rows, parsed beforehand, inserted bare.
	ins, err := benchBareInsert(ctx, dir, admin, path)
	if err != nil {
		return err
	}
	fmt.Printf("%10d %8.1f | %14.0f %14.0f %14.0f | %8.2f %8.2f | %12.1f %12.1f %12.1f\n",
		n, float64(size)/1e6, bareCSV, ins, e2e, ins/e2e, bareCSV/e2e, float64(peak)/1e6, float64(live)/1e6, float64(rss)/1e6)
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

// benchEndToEnd returns rows/s, the peak heap in use (live data and garbage
// not yet collected) and the peak live heap (what the last GC kept).
func benchEndToEnd(ctx context.Context, dir, admin, path string, n int) (rowsPerSec float64, heapPeak, livePeak uint64, err error) {
	st, done, err := benchDB(ctx, dir, admin, "e2e")
	if err != nil {
		return 0, 0, 0, err
	}
	defer done()
	in := intake.New(st, nil, intake.BulkLimits{MaxRows: n + 1, MaxBytes: 1 << 40})
	defer in.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, 0, 0, err
	}
	srv := &http.Server{Handler: web.New(web.Config{DisableRateLimit: true}, in, nil).Handler()}
	go srv.Serve(ln)
	defer srv.Close()

	runtime.GC()
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
	t0 := time.Now()
	resp, err := http.Post("http://"+ln.Addr().String()+"/api/v1/reports/bulk", mw.FormDataContentType(), pr)
	if err != nil {
		return 0, 0, 0, err
	}
	var out struct {
		Accepted int `json:"accepted"`
	}
	json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	elapsed := time.Since(t0)
	close(stop)
	<-sampled
	if resp.StatusCode != 201 || out.Accepted != n {
		return 0, 0, 0, fmt.Errorf("bulk upload: status %d, %d rows accepted of %d", resp.StatusCode, out.Accepted, n)
	}
	_, incidents, err := st.Counts(ctx)
	if err != nil || incidents != int64(n) {
		return 0, 0, 0, fmt.Errorf("%d incidents stored of %d: %v", incidents, n, err)
	}
	// The peak of the whole heap in use while the upload ran (client,
	// server and store are in this process): flat means independent of n.
	return float64(n) / elapsed.Seconds(), max(peak.Load(), base.HeapInuse), peakLive.Load(), nil
}

// benchBareInsert is the baseline a user would write: rows already parsed,
// multi-row INSERTs of 100 in one transaction (SQLite), or COPY (PostgreSQL).
func benchBareInsert(ctx context.Context, dir, admin, path string) (float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	rd, err := csvreport.NewReader(bufio.NewReader(f), csvreport.Options{MaxRows: 1 << 30})
	if err != nil {
		return 0, err
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
		rows = append(rows, []any{int64(1), int64(row.Line), in.SourceIP, nil, in.Target, int64(*in.TargetPort), in.Protocol, in.At, in.Timestamp, in.Log, "", "", ""})
	}
	f.Close()
	st, done, err := benchDB(ctx, dir, admin, "bare")
	if err != nil {
		return 0, err
	}
	defer done()
	// One report row for the incidents to belong to.
	r := &report.Report{Type: "network", Subtype: "intrusion", Reporter: report.Reporter{Name: "B", Email: "b@example.org"},
		Incidents: []report.Incident{{SourceIP: "203.0.113.1", Target: "x.example", Timestamp: "2026-03-02T10:00:00Z", Log: "x"}}}
	(&report.Validator{}).Validate(r)
	rc, err := st.InsertReport(ctx, &store.NewReport{Report: r, Channel: "bench", ReceivedAt: time.Now()})
	if err != nil {
		return 0, err
	}
	for _, row := range rows {
		row[0] = rc.ID
	}
	// The same columns as the intake writes (the verdict columns stay empty
	// here as there: the benchmark imports no address space).
	cols := []string{"report_id", "seq", "source_ip", "source_port", "target", "target_port", "protocol", "occurred_at", "occurred_text", "log", "verdict", "resource", "account"}
	t0 := time.Now()
	if store.IsPostgres(admin) {
		conn, err := st.Pool().Acquire(ctx)
		if err != nil {
			return 0, err
		}
		defer conn.Release()
		if _, err := conn.CopyFrom(ctx, pgx.Identifier{"incidents"}, cols, pgx.CopyFromRows(rows)); err != nil {
			return 0, err
		}
	} else {
		tx, err := st.W.BeginTx(ctx, nil)
		if err != nil {
			return 0, err
		}
		row := "(" + strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",") + ")"
		q := "INSERT INTO incidents (" + strings.Join(cols, ",") + ") VALUES " + strings.TrimSuffix(strings.Repeat(row+",", 100), ",")
		stmt, err := tx.PrepareContext(ctx, q)
		if err != nil {
			return 0, err
		}
		args := make([]any, 0, 1000)
		i := 0
		for ; i+100 <= len(rows); i += 100 {
			args = args[:0]
			for _, row := range rows[i : i+100] {
				args = append(args, row...)
			}
			if _, err := stmt.ExecContext(ctx, args...); err != nil {
				return 0, err
			}
		}
		for _, row := range rows[i:] {
			if _, err := tx.ExecContext(ctx, "INSERT INTO incidents ("+strings.Join(cols, ",")+") VALUES "+"("+strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",")+")", row...); err != nil {
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
func benchEndToEndChild(ctx context.Context, admin, path string, n int) (rowsPerSec float64, heap, live, rss uint64, err error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, 0, 0, 0, err
	}
	cmd := exec.CommandContext(ctx, exe, "bench", "csv-e2e", "--file", path, "--rows", strconv.Itoa(n), "--db", admin)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return 0, 0, 0, 0, fmt.Errorf("end-to-end run: %w", err)
	}
	var r struct {
		RowsPerSec        float64
		Heap, Live, VmHWM uint64
	}
	if err := json.Unmarshal(out, &r); err != nil {
		return 0, 0, 0, 0, fmt.Errorf("end-to-end run said %q: %w", out, err)
	}
	return r.RowsPerSec, r.Heap, r.Live, r.VmHWM, nil
}

// cmdBenchE2EChild is the child side: one upload, figures as JSON on stdout.
func cmdBenchE2EChild(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench csv-e2e", flag.ExitOnError)
	file := fs.String("file", "", "CSV file")
	rows := fs.Int("rows", 0, "rows in it")
	db := fs.String("db", "", "as bench csv")
	fs.Parse(args)
	dir, err := os.MkdirTemp("", "abusedesk-bench-e2e-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	rps, heap, live, err := benchEndToEnd(ctx, dir, *db, *file, *rows)
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{"RowsPerSec": rps, "Heap": heap, "Live": live, "VmHWM": vmHWM()})
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
