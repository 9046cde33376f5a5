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
}

type sqlTx struct{ *sql.Tx }

func (t sqlTx) exec(ctx context.Context, q string, args ...any) error {
	_, err := t.ExecContext(ctx, q, args...)
	return err
}

func (t sqlTx) scan(ctx context.Context, q string, args []any, dest ...any) (bool, error) {
	err := t.QueryRowContext(ctx, q, args...).Scan(dest...)
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

func (t pgxTx) scan(ctx context.Context, q string, args []any, dest ...any) (bool, error) {
	err := t.QueryRow(ctx, q, args...).Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}
