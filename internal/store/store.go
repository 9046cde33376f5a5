// Package store keeps abusedesk's data in SQLite (the embedded default) or
// PostgreSQL, with the same hand-written SQL (queries.sql) and per-dialect
// migrations.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"runtime"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers "sqlite"
)

// Dialects.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

//go:embed migrations
var migrations embed.FS

// Store is the database. On SQLite, writes go through one connection (SQLite
// has one writer; a pool would only fight over the lock) and reads through a
// pool. On PostgreSQL both are the same pool.
type Store struct {
	Dialect string
	W       *sql.DB // writes
	R       *sql.DB // reads
	pool    *pgxpool.Pool
	q       map[string]string
	stmts   map[string]*sql.Stmt // SQL text → prepared on W (SQLite)
	ckpt    *checkpointer        // SQLite: checkpoints after CSV uploads (groupcommit.go)
	path    string               // SQLite: the database file (jobsdb.go)
}

// IsPostgres tells whether dsn names a PostgreSQL server rather than a file.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// sqliteDSN adds the pragmas DESIGN.md asks for. synchronous=FULL: an
// acknowledged report survives power loss too; group commit pays for it.
// journal_size_limit: the log file shrinks back to 64 MB once checkpointed
// after a CSV upload made it hundreds of megabytes.
func sqliteDSN(path string, write bool) string {
	v := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "foreign_keys(1)", "synchronous(FULL)", "temp_store(MEMORY)",
		"journal_size_limit(67108864)"} {
		v.Add("_pragma", p)
	}
	v.Set("_time_format", "sqlite")
	if write {
		v.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + v.Encode()
}

// Open connects and runs the migrations.
func Open(ctx context.Context, dsn string) (*Store, error) {
	s, err := open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.prepare(ctx); err != nil {
		s.Close()
		return nil, err
	}
	s.startCheckpointer()
	return s, nil
}

func open(ctx context.Context, dsn string) (*Store, error) {
	s := &Store{}
	if IsPostgres(dsn) {
		s.Dialect = Postgres
		cfg, err := pgxpool.ParseConfig(dsn)
		if err != nil {
			return nil, fmt.Errorf("postgres url: %w", err)
		}
		if cfg.MaxConns < 16 {
			cfg.MaxConns = 16
		}
		s.pool, err = pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			return nil, err
		}
		s.W = stdlib.OpenDBFromPool(s.pool)
		s.R = s.W
	} else {
		s.Dialect = SQLite
		path := strings.TrimPrefix(dsn, "sqlite://")
		path = strings.TrimPrefix(path, "file:")
		s.path = path
		var err error
		if s.W, err = sql.Open("sqlite", sqliteDSN(path, true)); err != nil {
			return nil, err
		}
		s.W.SetMaxOpenConns(1)
		s.W.SetMaxIdleConns(1)
		s.W.SetConnMaxLifetime(0)
		if s.R, err = sql.Open("sqlite", sqliteDSN(path, false)); err != nil {
			return nil, err
		}
		s.R.SetMaxOpenConns(max(4, runtime.NumCPU()*2))
		s.R.SetMaxIdleConns(max(4, runtime.NumCPU()*2))
	}
	if err := s.W.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("database %s: %w", s.Dialect, err)
	}
	var err error
	if s.q, err = loadQueries(s.Dialect); err != nil {
		return nil, err
	}
	return s, nil
}

// prepare readies the writer's statements on SQLite, once the schema exists.
func (s *Store) prepare(ctx context.Context) error {
	if s.Dialect != SQLite {
		return nil
	}
	s.stmts = map[string]*sql.Stmt{}
	texts := append([]string{s.incidentInsert(1), s.incidentInsert(incidentChunk)}, batchStatements()...)
	for _, q := range s.q {
		if !strings.Contains(q, "$@") { // a list filled in at run time
			texts = append(texts, q)
		}
	}
	for _, q := range texts {
		if _, ok := s.stmts[q]; ok {
			continue
		}
		st, err := s.W.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", q, err)
		}
		s.stmts[q] = st
	}
	return nil
}

// Migrate brings the schema up to date (goose, embedded, one folder per dialect).
func (s *Store) Migrate(ctx context.Context) error {
	sub, err := fs.Sub(migrations, "migrations/"+s.Dialect)
	if err != nil {
		return err
	}
	d := goose.DialectSQLite3
	if s.Dialect == Postgres {
		d = goose.DialectPostgres
	}
	p, err := goose.NewProvider(d, s.W, sub)
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// Close releases the connections.
func (s *Store) Close() error {
	s.stopCheckpointer()
	var errs []error
	for _, st := range s.stmts {
		st.Close()
	}
	if s.W != nil {
		errs = append(errs, s.W.Close())
	}
	if s.R != nil && s.R != s.W {
		errs = append(errs, s.R.Close())
	}
	if s.pool != nil {
		s.pool.Close()
	}
	return errors.Join(errs...)
}

// Q returns the named statement; a missing name is a programming error.
func (s *Store) Q(name string) string {
	q, ok := s.q[name]
	if !ok {
		panic("store: no query named " + name)
	}
	return q
}

// Pool is the native pgx pool on PostgreSQL (nil on SQLite), for COPY.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }
