package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/jackc/pgx/v5"
)

// tx is what the insert code needs from a transaction, so one function
// serves database/sql (SQLite, PostgreSQL) and native pgx (COPY for bulk).
type tx interface {
	exec(ctx context.Context, q string, args ...any) error
	// scan runs a one-row query; ok is false when it returned no row.
	scan(ctx context.Context, q string, args []any, dest ...any) (ok bool, err error)
	// insertID runs an INSERT and returns the new row's id: qExec (no
	// RETURNING) with LastInsertId on SQLite, q with RETURNING elsewhere.
	insertID(ctx context.Context, q, qExec string, args ...any) (int64, error)
}

// sqlTx runs statements prepared once per connection: on SQLite, parsing
// the SQL again for every report cost a third of the writer's time.
type sqlTx struct {
	*sql.Tx
	s *Store
}

func (t sqlTx) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if t.s == nil || t.s.Dialect != SQLite {
		return nil, nil // pgx caches prepared statements itself
	}
	// Statements are prepared when the store opens: preparing on W here
	// would wait for the one connection this transaction holds.
	if st, ok := t.s.stmts[q]; ok {
		return t.StmtContext(ctx, st), nil
	}
	return nil, nil
}

func (t sqlTx) exec(ctx context.Context, q string, args ...any) error {
	st, err := t.stmt(ctx, q)
	if err != nil {
		return err
	}
	if st != nil {
		_, err = st.ExecContext(ctx, args...)
	} else {
		_, err = t.ExecContext(ctx, q, args...)
	}
	return err
}

func (t sqlTx) insertID(ctx context.Context, q, qExec string, args ...any) (int64, error) {
	if t.s == nil || t.s.Dialect != SQLite {
		var id int64
		_, err := t.scan(ctx, q, args, &id)
		return id, err
	}
	st, err := t.stmt(ctx, qExec)
	if err != nil {
		return 0, err
	}
	var res sql.Result
	if st != nil {
		res, err = st.ExecContext(ctx, args...)
	} else {
		res, err = t.ExecContext(ctx, qExec, args...)
	}
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

func (t sqlTx) scan(ctx context.Context, q string, args []any, dest ...any) (bool, error) {
	st, err := t.stmt(ctx, q)
	if err != nil {
		return false, err
	}
	var row *sql.Row
	if st != nil {
		row = st.QueryRowContext(ctx, args...)
	} else {
		row = t.QueryRowContext(ctx, q, args...)
	}
	err = row.Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

type pgxTx struct{ pgx.Tx }

func (t pgxTx) exec(ctx context.Context, q string, args ...any) error {
	_, err := t.Exec(ctx, q, args...)
	return err
}

func (t pgxTx) insertID(ctx context.Context, q, _ string, args ...any) (int64, error) {
	var id int64
	_, err := t.scan(ctx, q, args, &id)
	return id, err
}

func (t pgxTx) scan(ctx context.Context, q string, args []any, dest ...any) (bool, error) {
	err := t.QueryRow(ctx, q, args...).Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}
