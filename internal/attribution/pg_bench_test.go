package attribution

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// The PostgreSQL baseline: the schema a user would write (inet +
// tstzrange, one GiST index), loaded with a sample of the benchmark data:
// the full history of the first tenth of the hosts (1M records at the default
// size; ABUSEDESK_BENCH_PG_FRACTION=1 loads everything) and a tenth of the
// wider prefixes. Single lookups on one connection, same query shape as the
// index answers (most specific prefix with an assignment valid at t).

const pgLookupSQL = `SELECT resource FROM t WHERE prefix >>= $1 AND during @> $2::timestamptz ORDER BY masklen(prefix) DESC LIMIT 1`

var pg struct {
	once    sync.Once
	err     error
	admin   string // URL of the maintenance database
	db      string // scratch database name
	conn    *pgx.Conn
	records int
	sample  *Index // the index of the same sample, for the cross-check
	qAddr   []netip.Addr
	qTime   []time.Time
}

func TestMain(m *testing.M) {
	code := m.Run()
	pgCleanup()
	os.Exit(code)
}

func pgCleanup() {
	if pg.db == "" {
		return
	}
	ctx := context.Background()
	if pg.conn != nil {
		pg.conn.Close(ctx)
	}
	admin, err := pgx.Connect(ctx, pg.admin)
	if err == nil {
		_, err = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pg.db+" WITH (FORCE)")
		admin.Close(ctx)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "dropping scratch database %s: %v\n", pg.db, err)
	}
}

func pgSetup(url string, d *benchData) error {
	ctx := context.Background()
	frac := 10
	if s := os.Getenv("ABUSEDESK_BENCH_PG_FRACTION"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			frac = n
		}
	}
	// The sample: every record of hosts[0 : n/frac] (they come first, in
	// host order) and every frac-th wider-prefix record.
	var sample []Assignment
	limit := d.hosts[len(d.hosts)/frac-1]
	inHosts := true
	for i, a := range d.as {
		if inHosts {
			sample = append(sample, a)
			if a.Prefix.Addr() == limit && (i+1 == len(d.as) || d.as[i+1].Prefix != a.Prefix) {
				inHosts = false
			}
			continue
		}
		if !a.Prefix.IsSingleIP() && i%frac == 0 {
			sample = append(sample, a)
		}
	}
	ix, conflicts := Build(sample)
	if len(conflicts) > 0 {
		return fmt.Errorf("sample conflicts: %v", conflicts[0])
	}
	pg.sample, pg.records = ix, len(sample)

	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return err
	}
	pg.admin = url
	admin, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer admin.Close(ctx)
	pg.db = fmt.Sprintf("abusedesk_bench_%08x", rand.Uint32())
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pg.db); err != nil {
		pg.db = ""
		return err
	}
	cfg.Database = pg.db
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	pg.conn = conn
	// Not needed for (inet_ops, range) — both have GiST operator classes of
	// their own — but it is what a user would reach for first.
	if _, err := conn.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS btree_gist"); err != nil {
		fmt.Fprintf(os.Stderr, "btree_gist: %v (not needed for this index)\n", err)
	}
	t0 := time.Now()
	if _, err := conn.Exec(ctx, `CREATE UNLOGGED TABLE staging (prefix inet, f timestamptz, t timestamptz, resource int)`); err != nil {
		return err
	}
	_, err = conn.CopyFrom(ctx, pgx.Identifier{"staging"}, []string{"prefix", "f", "t", "resource"},
		pgx.CopyFromSlice(len(sample), func(i int) ([]any, error) {
			a := sample[i]
			var f, t any
			if !a.From.IsZero() {
				f = a.From
			}
			if !a.To.IsZero() {
				t = a.To
			}
			return []any{a.Prefix, f, t, int32(a.Resource)}, nil
		}))
	if err != nil {
		return err
	}
	for _, q := range []string{
		`CREATE TABLE t AS SELECT prefix, tstzrange(f, t, '[)') AS during, resource FROM staging`,
		`DROP TABLE staging`,
		`CREATE INDEX t_prefix_during ON t USING gist (prefix inet_ops, during)`,
		`ANALYZE t`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	fmt.Fprintf(os.Stderr, "postgres baseline: %d records loaded and indexed in %v\n", len(sample), time.Since(t0).Round(time.Millisecond))

	// Queries on the sample: 90% a sampled host, 10% any provider address.
	rng := rand.New(rand.NewPCG(3, 4))
	span := histEnd.Unix() - histStart.Unix()
	nh := len(d.hosts) / frac
	for range 1 << 14 {
		var a netip.Addr
		if rng.IntN(10) != 0 {
			a = d.hosts[rng.IntN(nh)]
		} else {
			a = v4(v4Space(uint32(rng.IntN(1 << 25))))
		}
		pg.qAddr = append(pg.qAddr, a)
		pg.qTime = append(pg.qTime, time.Unix(histStart.Unix()+rng.Int64N(span), 0))
	}
	// Cross-check: PostgreSQL and the index of the same sample agree.
	for q := range 300 {
		want, _, ok := ix.Lookup(pg.qAddr[q], pg.qTime[q])
		var got int32
		err := conn.QueryRow(ctx, pgLookupSQL, pg.qAddr[q], pg.qTime[q]).Scan(&got)
		if errors.Is(err, pgx.ErrNoRows) {
			if ok {
				return fmt.Errorf("%v at %v: postgres has nothing, index %d", pg.qAddr[q], pg.qTime[q], want)
			}
			continue
		}
		if err != nil {
			return err
		}
		if !ok || uint32(got) != want {
			return fmt.Errorf("%v at %v: postgres %d, index %d (%v)", pg.qAddr[q], pg.qTime[q], got, want, ok)
		}
	}
	return nil
}

// BenchmarkPostgres: single lookups on one connection; x_index_single is the
// ratio to the index's single lookup (the full index, same queries, same run).
func BenchmarkPostgres(b *testing.B) {
	url := os.Getenv("ABUSEDESK_TEST_POSTGRES")
	if url == "" {
		b.Skip("ABUSEDESK_TEST_POSTGRES not set: no PostgreSQL baseline (e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable)")
	}
	d := loadBench(b)
	pg.once.Do(func() { pg.err = pgSetup(url, d) })
	if pg.err != nil {
		b.Fatal(pg.err)
	}
	ixNs := indexNs(d.ix, pg.qAddr, pg.qTime)
	ctx := context.Background()
	var res int32
	q := 0
	b.ResetTimer()
	for b.Loop() {
		err := pg.conn.QueryRow(ctx, pgLookupSQL, pg.qAddr[q], pg.qTime[q]).Scan(&res)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			b.Fatal(err)
		}
		q = (q + 1) % len(pg.qAddr)
	}
	ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(ns/1000, "µs/lookup")
	b.ReportMetric(1e9/ns, "lookups/s")
	b.ReportMetric(float64(pg.records), "pg_records")
	b.ReportMetric(ixNs, "index_ns/lookup")
	b.ReportMetric(ns/ixNs, "x_index_single")
}
