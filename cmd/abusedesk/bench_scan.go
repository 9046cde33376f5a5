package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"abusedesk/internal/attribution"
	"abusedesk/internal/logscan"
)

// cmdBenchScan is `abusedesk bench scan [--size 1GB]`: the throughput and
// memory of `abusedesk report scan` on a generated auth.log, against a plain
// line count of the same file.
func cmdBenchScan(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench scan", flag.ExitOnError)
	sizes := fs.String("size", "1GB", "comma-separated sizes of the generated auth.log (e.g. 100MB,1GB)")
	dir := fs.String("dir", "", "directory for the generated file (default: a temporary one, removed after)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the scans to `file`")
	fs.Parse(args)
	work := *dir
	if work == "" {
		d, err := os.MkdirTemp("", "abusedesk-bench-scan-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		work = d
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	space := benchScanSpace()
	fmt.Printf("report scan on a generated auth.log, %d CPUs, %s, GOGC=%s\n", runtime.NumCPU(), runtime.Version(), env("GOGC", "100"))
	fmt.Printf("lines: sshd attacks from %d addresses (%d in the address space of %d prefixes), cron, sudo, logind and accepted logins; the file is read once before the timed runs (page cache)\n",
		benchScanPool, benchScanPool*benchScanOursPct/100, space.Len())
	fmt.Printf("count: a bufio.Scanner line count; scan: report scan's reading, grouping and CSV (to nowhere) with 1 worker, then %d (ratio: count time / scan time); peak RSS of each, and the heap the scan holds at its end\n", runtime.GOMAXPROCS(0))
	fmt.Printf("%8s %10s | %12s %8s | %12s %8s | %12s %8s %6s | %8s %8s %6s | %15s | %7s\n",
		"MB", "lines", "count l/s", "MB/s", "1 worker l/s", "MB/s", "scan l/s", "MB/s", "ratio", "events", "addrs", "rows", "peak RSS MB 1/n", "live MB")
	for _, f := range strings.Split(*sizes, ",") {
		size, err := parseSize(strings.TrimSpace(f))
		if err != nil {
			return fmt.Errorf("--size: %w", err)
		}
		if err := benchScanOnce(ctx, work, size, space); err != nil {
			return err
		}
	}
	return nil
}

// parseSize reads "1GB", "100MB", "64KB" (powers of 1000, as disks count)
// or a number of bytes.
func parseSize(s string) (int64, error) {
	u := strings.ToUpper(s)
	mult := int64(1)
	for _, m := range []struct {
		suffix string
		n      int64
	}{{"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"G", 1e9}, {"M", 1e6}, {"K", 1e3}, {"B", 1}} {
		if strings.HasSuffix(u, m.suffix) {
			u, mult = strings.TrimSuffix(u, m.suffix), m.n
			break
		}
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(u), 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a size such as 1GB or 100MB", s)
	}
	return int64(n * float64(mult)), nil
}

const (
	benchScanPool    = 20_000 // attacking addresses
	benchScanOursPct = 25     // of them in the provider's address space
)

// benchScanSpace is a provider of 64 /16s (10.x is not used: a provider's
// space is global) and one IPv6 /32.
func benchScanSpace() *attribution.AddressSpace {
	var rs []attribution.Range
	for i := range 64 {
		rs = append(rs, attribution.Range{Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{52, byte(i), 0, 0}), 16), Service: "EC2", Region: "eu-west-3"})
	}
	rs = append(rs, attribution.Range{Prefix: netip.MustParsePrefix("2a05:d000::/32"), Service: "EC2", Region: "eu-west-3"})
	return attribution.NewAddressSpace(rs)
}

func benchScanOnce(ctx context.Context, dir string, size int64, space *attribution.AddressSpace) error {
	path := filepath.Join(dir, fmt.Sprintf("auth-%d.log", size))
	lines, err := writeBenchAuthLog(path, size)
	if err != nil {
		return err
	}
	defer os.Remove(path)
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	mb := float64(fi.Size()) / 1e6

	// Warm the page cache, then the baseline: a plain bufio line count.
	if _, err := countLines(path); err != nil {
		return err
	}
	t0 := time.Now()
	n, err := countLines(path)
	if err != nil {
		return err
	}
	base := time.Since(t0).Seconds()
	if n != lines {
		return fmt.Errorf("counted %d lines, wrote %d", n, lines)
	}

	// The scan, as `report scan` runs it: every line parsed, the events of
	// the address space grouped, the CSV written (to nowhere); with one
	// worker (sequential), then with one per CPU (the default).
	type run struct {
		secs float64
		hwm  uint64
		live uint64
		st   logscan.FileStats
		sum  logscan.Summary
	}
	scan := func(workers int) (run, error) {
		debug.FreeOSMemory()
		resetHWM()
		t0 := time.Now()
		c := &logscan.Collector{Space: space}
		st := logscan.ScanFile(path, logscan.Options{Location: time.UTC, Workers: workers}, c)
		if st.Err != nil {
			return run{}, st.Err
		}
		sum, err := c.WriteCSV(io.Discard, logscan.WriteOptions{})
		if err != nil {
			return run{}, err
		}
		r := run{secs: time.Since(t0).Seconds(), hwm: vmHWM(), st: st, sum: sum}
		// What the scan keeps: the heap live after a collection, the
		// collector still held.
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		r.live = ms.HeapAlloc
		runtime.KeepAlive(c)
		if st.Lines != lines || st.Unreadable != 0 {
			return r, fmt.Errorf("scan read %d lines of %d, %d unreadable", st.Lines, lines, st.Unreadable)
		}
		return r, ctx.Err()
	}
	seq, err := scan(1)
	if err != nil {
		return err
	}
	par, err := scan(0)
	if err != nil {
		return err
	}
	if seq.st.Events != par.st.Events || seq.sum.Rows != par.sum.Rows || seq.sum.Addresses != par.sum.Addresses || seq.sum.Events != par.sum.Events {
		return fmt.Errorf("sequential and parallel scans differ: %+v %+v", seq.sum, par.sum)
	}
	fmt.Printf("%8.0f %10d | %12.0f %8.0f | %12.0f %8.0f | %12.0f %8.0f %6.2f | %8d %8d %6d | %7.1f %7.1f | %7.1f\n",
		mb, lines, float64(lines)/base, mb/base, float64(lines)/seq.secs, mb/seq.secs, float64(lines)/par.secs, mb/par.secs, base/par.secs,
		par.st.Events, par.sum.Addresses, par.sum.Rows, float64(seq.hwm)/1e6, float64(par.hwm)/1e6, float64(par.live)/1e6)
	return nil
}

// countLines is the baseline: what reading the file line by line costs.
func countLines(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 256<<10), 256<<10)
	var n int64
	for sc.Scan() {
		n++
	}
	return n, sc.Err()
}

// writeBenchAuthLog writes about size bytes of a Debian auth.log (RFC 3164
// timestamps) of a machine under SSH attack, and returns its line count.
// Each connection of an attacker is what sshd logs for it: an unknown user
// with its PAM lines and password failures, root's failures (a "message
// repeated" among them), a key-only probe, the closing lines; around them
// cron sessions, sudo, logind and the owner's logins. A line is about 120
// bytes, an attacker's connection 3 to 8 lines.
func writeBenchAuthLog(path string, size int64) (int64, error) {
	if size < 1 {
		return 0, errors.New("size must be positive")
	}
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewPCG(7, 11))
	pool := make([]string, benchScanPool)
	for i := range pool {
		var a netip.Addr
		switch {
		case i%100 < benchScanOursPct && i%10 == 0:
			a = netip.AddrFrom16([16]byte{0x2a, 0x05, 0xd0, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, byte(i >> 16), byte(i >> 8), byte(i), 1})
		case i%100 < benchScanOursPct:
			a = netip.AddrFrom4([4]byte{52, byte(rng.IntN(64)), byte(rng.IntN(256)), byte(1 + rng.IntN(254))})
		default:
			a = netip.AddrFrom4([4]byte{byte(60 + rng.IntN(160)), byte(rng.IntN(256)), byte(rng.IntN(256)), byte(1 + rng.IntN(254))})
		}
		pool[i] = a.String()
	}
	users := []string{"admin", "test", "ubuntu", "oracle", "postgres", "user", "guest", "git", "ftpuser", "deploy", "support", "pi"}
	t := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	var b []byte
	var written, lines int64
	pid := 10000
	stamp := func() {
		b = t.AppendFormat(b, time.Stamp)
		b = append(b, " web1 "...)
	}
	sshd := func() {
		stamp()
		b = append(b, "sshd["...)
		b = strconv.AppendInt(b, int64(pid), 10)
		b = append(b, "]: "...)
	}
	emit := func() {
		w.Write(b)
		written += int64(len(b))
		lines += int64(bytes.Count(b, []byte("\n")))
		b = b[:0]
	}
	for written < size {
		t = t.Add(time.Duration(100+rng.IntN(400)) * time.Millisecond)
		pid++
		ip := pool[rng.IntN(len(pool))]
		port := strconv.Itoa(1024 + rng.IntN(64000))
		switch r := rng.IntN(100); {
		case r < 40: // an unknown user, a password or two
			u := users[rng.IntN(len(users))]
			sshd()
			b = append(b, "Invalid user "+u+" from "+ip+" port "+port+"\n"...)
			sshd()
			b = append(b, "pam_unix(sshd:auth): check pass; user unknown\n"...)
			sshd()
			b = append(b, "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost="+ip+"\n"...)
			for range 1 + rng.IntN(2) {
				sshd()
				b = append(b, "Failed password for invalid user "+u+" from "+ip+" port "+port+" ssh2\n"...)
			}
			sshd()
			b = append(b, "Received disconnect from "+ip+" port "+port+":11: Bye Bye [preauth]\n"...)
			sshd()
			b = append(b, "Disconnected from invalid user "+u+" "+ip+" port "+port+" [preauth]\n"...)
		case r < 65: // root's password
			sshd()
			b = append(b, "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost="+ip+"  user=root\n"...)
			sshd()
			b = append(b, "Failed password for root from "+ip+" port "+port+" ssh2\n"...)
			if rng.IntN(4) == 0 {
				sshd()
				b = append(b, "message repeated 5 times: [ Failed password for root from "+ip+" port "+port+" ssh2]\n"...)
				sshd()
				b = append(b, "error: maximum authentication attempts exceeded for root from "+ip+" port "+port+" ssh2 [preauth]\n"...)
				sshd()
				b = append(b, "Disconnecting authenticating user root "+ip+" port "+port+": Too many authentication failures [preauth]\n"...)
			} else {
				sshd()
				b = append(b, "Connection closed by authenticating user root "+ip+" port "+port+" [preauth]\n"...)
			}
		case r < 75: // a probe that leaves nothing else
			sshd()
			b = append(b, "Connection closed by "+ip+" port "+port+" [preauth]\n"...)
		case r < 80:
			sshd()
			b = append(b, "Unable to negotiate with "+ip+" port "+port+": no matching key exchange method found. Their offer: diffie-hellman-group14-sha1,diffie-hellman-group1-sha1 [preauth]\n"...)
		case r < 92: // cron
			stamp()
			b = append(b, "CRON["...)
			b = strconv.AppendInt(b, int64(pid), 10)
			b = append(b, "]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)\n"...)
			stamp()
			b = append(b, "CRON["...)
			b = strconv.AppendInt(b, int64(pid), 10)
			b = append(b, "]: pam_unix(cron:session): session closed for user root\n"...)
		case r < 96: // sudo
			stamp()
			b = append(b, "sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/systemctl status nginx\n"...)
			stamp()
			b = append(b, "sudo: pam_unix(sudo:session): session opened for user root(uid=0) by alice(uid=1000)\n"...)
		default: // the owner logs in
			sshd()
			b = append(b, "Accepted publickey for alice from 192.0.2.10 port "+port+" ssh2: ED25519 SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s\n"...)
			sshd()
			b = append(b, "pam_unix(sshd:session): session opened for user alice(uid=1000) by (uid=0)\n"...)
			stamp()
			b = append(b, "systemd-logind[512]: New session 42 of user alice.\n"...)
		}
		emit()
	}
	if err := w.Flush(); err != nil {
		return 0, err
	}
	// The scan infers the year from the file's time: keep it after the
	// lines, as a live log's is.
	return lines, f.Close()
}
