// Package storetest runs a test against every database dialect: a fresh
// SQLite file always, and a fresh PostgreSQL database when
// ABUSEDESK_TEST_POSTGRES names a server (.ci/run sets it).
package storetest

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"abusedesk/internal/store"
)

// EnvPostgres is the variable that enables the PostgreSQL runs, e.g.
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable.
const EnvPostgres = "ABUSEDESK_TEST_POSTGRES"

// Each runs fn once per dialect as subtests "sqlite" and "postgres".
func Each(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	t.Helper()
	t.Run(store.SQLite, func(t *testing.T) {
		fn(t, OpenSQLite(t))
	})
	t.Run(store.Postgres, func(t *testing.T) {
		s := OpenPostgres(t)
		fn(t, s)
	})
}

// OpenSQLite opens a migrated store on a new file in t's temp dir.
func OpenSQLite(t testing.TB) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// OpenPostgres opens a migrated store on a scratch database, or skips with
// the reason when no server is configured.
func OpenPostgres(t testing.TB) *store.Store {
	t.Helper()
	admin := os.Getenv(EnvPostgres)
	if admin == "" {
		t.Skipf("PostgreSQL run disabled: set %s=postgres://user@host:port/db to enable it (.ci/run does)", EnvPostgres)
	}
	ctx := context.Background()
	dsn, drop, err := store.CreateScratchDatabase(ctx, admin, "abusedesk_test")
	if err != nil {
		t.Fatalf("%s=%s: %v", EnvPostgres, admin, err)
	}
	s, err := store.Open(ctx, dsn)
	if err != nil {
		drop()
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); drop() })
	return s
}
