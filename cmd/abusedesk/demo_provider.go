package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"abusedesk/internal/attribution"
	"abusedesk/internal/demodata"
	"abusedesk/internal/inventory"
	"abusedesk/internal/report"
)

// cmdDemoProvider is `abusedesk demo provider --out DIR [--addresses N |
// --records N] [--seed S]`: the synthetic provider's files, for operators
// (abusedesk import) and benchmarks.
func cmdDemoProvider(args []string) error {
	fs := flag.NewFlagSet("demo provider", flag.ExitOnError)
	out := fs.String("out", "", "`dir`ectory to write ip-ranges.json and inventory.jsonl to (created when missing)")
	addresses := fs.String("addresses", "300k", "single addresses with an assignment history (300k, 1M, …)")
	records := fs.String("records", "", "exactly this many assignment lines instead (10M: 980k addresses × 10 holds + 200k wider prefixes)")
	intervals := fs.Int("intervals", 0, "mean holds per address (default 3)")
	seed := fs.Uint64("seed", 1, "random seed: the same seed and sizes give the same files")
	now := fs.String("now", "", "end of the history, RFC 3339 (default: today 00:00 UTC)")
	fs.Parse(args)
	if *out == "" || fs.NArg() != 0 {
		return errors.New("usage: abusedesk demo provider --out DIR [--addresses N | --records N] [--seed S] [--intervals N] [--now TIME]")
	}
	var cfg demodata.Config
	if *records != "" && *intervals > 0 {
		return errors.New("--records sets the holds per address (10): leave out --intervals")
	}
	if *records != "" {
		n, err := demoCount(*records)
		if err != nil {
			return fmt.Errorf("--records: %w", err)
		}
		cfg = demodata.ForRecords(n)
	} else {
		n, err := demoCount(*addresses)
		if err != nil {
			return fmt.Errorf("--addresses: %w", err)
		}
		cfg.Addresses = n
	}
	if *intervals > 0 {
		cfg.Intervals = *intervals
	}
	cfg.Seed = *seed
	if *now != "" {
		t, err := report.ParseTimestamp(*now)
		if err != nil {
			return fmt.Errorf("--now %q: %w", *now, err)
		}
		cfg.Now = t
	}
	t0 := time.Now()
	p, err := demodata.New(cfg)
	if err != nil {
		return err
	}
	if err := p.WriteFiles(*out); err != nil {
		return err
	}
	el := time.Since(t0)
	s := p.Stats()
	fmt.Printf("%d prefixes (%d entries), %d accounts, %d resources, %d assignments (%d wider prefixes), %d host names; seed %d, history until %s\n",
		s.Prefixes, s.RangeEntries, s.Accounts, s.Resources, s.Assignments, s.Wider, s.Hostnames, cfg.Seed, p.Config().Now.Format(time.RFC3339))
	for _, name := range []string{demodata.RangesFile, demodata.InventoryFile} {
		path := filepath.Join(*out, name)
		if fi, err := os.Stat(path); err == nil {
			fmt.Printf("  %-40s %s\n", path, demoSize(fi.Size()))
		}
	}
	fmt.Printf("written in %s\n", el.Round(time.Millisecond))
	return nil
}

// demoCount reads 300000, 300_000, 300,000, 300k or 10M.
func demoCount(s string) (int, error) {
	t := strings.NewReplacer("_", "", ",", "").Replace(strings.TrimSpace(s))
	mul := 1
	switch {
	case strings.HasSuffix(t, "k"), strings.HasSuffix(t, "K"):
		mul, t = 1_000, t[:len(t)-1]
	case strings.HasSuffix(t, "M"), strings.HasSuffix(t, "m"):
		mul, t = 1_000_000, t[:len(t)-1]
	}
	n, err := strconv.ParseFloat(t, 64)
	if err != nil || n < 1 || n*float64(mul) > 1e10 {
		return 0, fmt.Errorf("%q is not a count such as 300000, 300k or 10M", s)
	}
	return int(n * float64(mul)), nil
}

func demoSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
}

// errDemoRefused is returned when the database refused part of the
// provider: the generator promises a clean import on a fresh database, so
// the database held another history already (a --db reused with another
// seed or day).
var errDemoRefused = errors.New("refused")

// importProvider stores the provider in st the way `abusedesk import ranges`
// and `abusedesk import inventory` do (the inventory keeper: parse, check,
// store with its log entry), streaming the files through pipes.
func importProvider(ctx context.Context, k *inventory.Keeper, p *demodata.Provider) (inventory.Counts, error) {
	pipe := func(write func(io.Writer) error) io.ReadCloser {
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(write(pw)) }()
		return pr
	}
	rr := pipe(p.WriteRanges)
	space, es, err := attribution.ParseRanges(rr)
	rr.Close()
	if err != nil {
		return inventory.Counts{}, fmt.Errorf("demo ranges: %w", err)
	}
	if len(es) > 0 {
		return inventory.Counts{}, fmt.Errorf("demo ranges: %d entries %w, first: %s: %s", len(es), errDemoRefused, es[0].Field, es[0].Message)
	}
	if err := k.ReplaceRanges(ctx, space); err != nil {
		return inventory.Counts{}, err
	}
	ir := pipe(p.WriteInventory)
	n, lerrs, err := k.ImportStream(ctx, ir)
	ir.Close()
	if err != nil {
		return n, fmt.Errorf("demo inventory: %w", err)
	}
	if len(lerrs) > 0 {
		return n, fmt.Errorf("demo inventory: %d lines %w, first: %v", n.LinesRefused, errDemoRefused, lerrs[0])
	}
	return n, nil
}
