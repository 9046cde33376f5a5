package store

import (
	"database/sql"
	"errors"
)

// OpenJobsDB opens a handle of its own on the SQLite file for the background
// job queue (internal/jobs, River), so that the queue's polling, fetching and
// bookkeeping never wait in line for W, the application's one writer
// connection. It has W's pragmas (busy_timeout, WAL, synchronous=FULL…) and
// _txlock=immediate, so its transactions take SQLite's write lock when they
// begin and wait for it under busy_timeout instead of failing with
// SQLITE_BUSY when a read transaction would upgrade. One connection, as River's
// riversqlite driver asks: its services run in parallel and SQLite has one
// writer anyway. The caller closes it.
func (s *Store) OpenJobsDB() (*sql.DB, error) {
	if s.Dialect != SQLite {
		return nil, errors.New("store: OpenJobsDB is for SQLite; on PostgreSQL use Pool")
	}
	db, err := sql.Open("sqlite", sqliteDSN(s.path, true))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	return db, nil
}
