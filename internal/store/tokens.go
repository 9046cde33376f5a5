package store

import (
	"context"
	"time"
)

// Token scopes of system tokens.
const (
	ScopeInventory = "inventory" // POST /api/v1/inventory
)

// Token is a live bearer token of a system.
type Token struct {
	ID    int64
	Name  string
	Scope string
}

// AddToken creates a system token with one scope and returns it; only its
// hash is kept (a random 256-bit token needs no slow hash).
func (s *Store) AddToken(ctx context.Context, name, scope string) (string, error) {
	tok := "adt_" + NewToken()
	_, err := s.W.ExecContext(ctx, s.Q("insert-token"), name, scope, HashToken(tok), time.Now().UTC())
	return tok, err
}

// LookupToken finds a live token; ErrNotFound otherwise.
func (s *Store) LookupToken(ctx context.Context, tok string) (*Token, error) {
	var t Token
	err := s.R.QueryRowContext(ctx, s.Q("token"), HashToken(tok)).Scan(&t.ID, &t.Name, &t.Scope)
	if isNoRows(err) {
		return nil, ErrNotFound
	}
	return &t, err
}
