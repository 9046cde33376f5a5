package store

import (
	"context"
	"database/sql"
	"encoding/hex"
	"strings"
	"time"
)

// The customer portal's credentials. A customer logs in with a magic link
// mailed to the account's contact address (one use, short-lived: a mail
// sits in mailboxes and backups long after it was read), and automates with
// API keys ("acp_…", until revoked). Only hashes of either are stored, as
// for staff sessions and tokens.

// Portal token kinds (portal_tokens.kind).
const (
	portalLogin = "login"
	portalAPI   = "api"
)

// PortalKeyPrefix starts every portal API key, so that a key pasted in the
// wrong place is recognised (and a secret scanner can look for it).
const PortalKeyPrefix = "acp_"

// PortalSession is a logged-in customer.
type PortalSession struct {
	Account  string
	Email    string // the address the magic link was sent to
	CSRF     string
	Language string // the account's, from the inventory ("" if unknown)
	Expires  time.Time
	// CaseID is, after RedeemPortalLogin, the case the link named (0:
	// none): where the customer lands.
	CaseID int64
}

// CreatePortalLoginTx makes a one-use magic-link token for account (sent
// to email), optionally deep-linking a case; inside the caller's tx (the
// notifier writes the token and the mail carrying it together).
func (s *Store) CreatePortalLoginTx(ctx context.Context, t *sql.Tx, account, email string, caseID int64, now time.Time, ttl time.Duration) (string, error) {
	tok := NewToken()
	_, err := t.ExecContext(ctx, s.Q("insert-portal-token"), HashToken(tok), account, portalLogin, email, "",
		idOrNil(caseID), now.UnixMilli(), now.Add(ttl).UnixMilli())
	return tok, err
}

// PortalLoginInfo reads a magic link without using it (the page that asks
// to continue: mail scanners fetch links, and must not spend them).
// ErrNotFound if unknown, expired or used.
func (s *Store) PortalLoginInfo(ctx context.Context, token string, now time.Time) (account string, caseID int64, err error) {
	err = s.R.QueryRowContext(ctx, s.Q("portal-login"), HashToken(token), now.UnixMilli()).Scan(&account, &caseID)
	if isNoRows(err) {
		return "", 0, ErrNotFound
	}
	return account, caseID, err
}

// RedeemPortalLogin uses a magic link and starts a session, in one
// transaction; it returns the session and its token (only its hash is
// stored). ErrNotFound if the link is unknown, expired or already used.
func (s *Store) RedeemPortalLogin(ctx context.Context, token string, now time.Time) (*PortalSession, string, error) {
	t, err := s.W.BeginTx(ctx, nil)
	if err != nil {
		return nil, "", err
	}
	defer t.Rollback()
	sess := &PortalSession{CSRF: NewToken(), Expires: now.Add(SessionIdle)}
	err = t.QueryRowContext(ctx, s.Q("redeem-portal-login"), HashToken(token), now.UnixMilli()).Scan(&sess.Account, &sess.Email, &sess.CaseID)
	if isNoRows(err) {
		return nil, "", ErrNotFound
	}
	if err != nil {
		return nil, "", err
	}
	stok := NewToken()
	if _, err := t.ExecContext(ctx, s.Q("insert-portal-session"), HashToken(stok), sess.Account, sess.Email, sess.CSRF,
		now.UnixMilli(), sess.Expires.UnixMilli(), now.UnixMilli()); err != nil {
		return nil, "", err
	}
	if err := t.Commit(); err != nil {
		return nil, "", err
	}
	if a, err := s.AccountIdentity(ctx, sess.Account); err == nil {
		sess.Language = a.Language
	}
	return sess, stok, nil
}

// PortalSessionByToken finds a live session and slides its idle expiry
// (at most once a minute), never past SessionMax after the login: the
// console's lifetimes.
func (s *Store) PortalSessionByToken(ctx context.Context, token string, now time.Time) (*PortalSession, error) {
	h := HashToken(token)
	var sess PortalSession
	var created, exp, seen int64
	err := s.R.QueryRowContext(ctx, s.Q("portal-session"), h).Scan(&sess.Account, &sess.Email, &sess.CSRF, &created, &exp, &seen, &sess.Language)
	if isNoRows(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if now.UnixMilli() >= exp {
		return nil, ErrNotFound
	}
	sess.Expires = time.UnixMilli(exp).UTC()
	if now.Sub(time.UnixMilli(seen)) > time.Minute {
		newExp := now.Add(SessionIdle)
		if lim := time.UnixMilli(created).Add(SessionMax); newExp.After(lim) {
			newExp = lim
		}
		if _, err := s.W.ExecContext(ctx, s.Q("touch-portal-session"), h, now.UnixMilli(), newExp.UnixMilli()); err != nil {
			return nil, err
		}
		sess.Expires = newExp.UTC()
	}
	return &sess, nil
}

// DeletePortalSession ends a session (logout).
func (s *Store) DeletePortalSession(ctx context.Context, token string) error {
	_, err := s.W.ExecContext(ctx, s.Q("delete-portal-session"), HashToken(token))
	return err
}

// DeleteExpiredPortal removes expired sessions, and magic links expired
// for a day (used or not), for a periodic clean-up.
func (s *Store) DeleteExpiredPortal(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	for _, q := range []struct {
		name string
		at   time.Time
	}{{"delete-expired-portal-sessions", now}, {"delete-expired-portal-logins", now.Add(-24 * time.Hour)}} {
		r, err := s.W.ExecContext(ctx, s.Q(q.name), q.at.UnixMilli())
		if err != nil {
			return n, err
		}
		k, _ := r.RowsAffected()
		n += k
	}
	return n, nil
}

// PortalKey is a live API key of an account, as listed: the key itself is
// shown once, at creation; ID names it for revocation.
type PortalKey struct {
	ID        string // the first 12 hex digits of the key's hash
	Label     string
	CreatedAt time.Time
}

// portalKeyIDLen is how many hex digits of the hash name a key: 48 bits,
// unique among one account's few keys.
const portalKeyIDLen = 12

// AddPortalAPIKey makes an API key acting for account and returns it.
func (s *Store) AddPortalAPIKey(ctx context.Context, account, label string, now time.Time) (string, error) {
	tok := PortalKeyPrefix + NewToken()
	_, err := s.W.ExecContext(ctx, s.Q("insert-portal-token"), HashToken(tok), account, portalAPI, "", strings.TrimSpace(label),
		nil, now.UnixMilli(), nil)
	return tok, err
}

type portalKeyRow struct {
	PortalKey
	hash []byte
}

func (s *Store) portalKeys(ctx context.Context, account string) ([]portalKeyRow, error) {
	rows, err := s.R.QueryContext(ctx, s.Q("portal-api-keys"), account)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []portalKeyRow
	for rows.Next() {
		var k portalKeyRow
		var created int64
		if err := rows.Scan(&k.hash, &k.Label, &created); err != nil {
			return nil, err
		}
		k.ID, k.CreatedAt = hex.EncodeToString(k.hash)[:portalKeyIDLen], time.UnixMilli(created).UTC()
		out = append(out, k)
	}
	return out, rows.Err()
}

// PortalAPIKeys lists an account's live API keys, newest first.
func (s *Store) PortalAPIKeys(ctx context.Context, account string) ([]PortalKey, error) {
	rows, err := s.portalKeys(ctx, account)
	out := make([]PortalKey, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.PortalKey)
	}
	return out, err
}

// RevokePortalAPIKey ends the key of account named id (PortalKey.ID);
// ErrNotFound if the account has no such live key. The match is done here
// rather than in SQL: the two dialects spell a hash's hex differently, and
// an account has few keys.
func (s *Store) RevokePortalAPIKey(ctx context.Context, account, id string, now time.Time) error {
	id = strings.ToLower(strings.TrimSpace(id))
	if len(id) != portalKeyIDLen {
		return ErrNotFound
	}
	rows, err := s.portalKeys(ctx, account)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if r.ID == id {
			res, err := s.W.ExecContext(ctx, s.Q("revoke-portal-api-key"), r.hash, account, now.UnixMilli())
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return ErrNotFound
			}
			return nil
		}
	}
	return ErrNotFound
}

// AccountByPortalKey is the account a live API key acts for; ErrNotFound
// otherwise.
func (s *Store) AccountByPortalKey(ctx context.Context, key string) (string, error) {
	if !strings.HasPrefix(key, PortalKeyPrefix) {
		return "", ErrNotFound
	}
	var acct string
	err := s.R.QueryRowContext(ctx, s.Q("account-by-portal-key"), HashToken(key)).Scan(&acct)
	if isNoRows(err) {
		return "", ErrNotFound
	}
	return acct, err
}

// AccountByContactEmail finds the account whose contact address (the
// security contact, else the account's email: Account.ContactEmail) is
// email, case-insensitively; ErrNotFound otherwise.
func (s *Store) AccountByContactEmail(ctx context.Context, email string) (string, error) {
	email = strings.TrimSpace(email)
	if email == "" {
		return "", ErrNotFound
	}
	var acct string
	err := s.R.QueryRowContext(ctx, s.Q("account-by-contact-email"), email).Scan(&acct)
	if isNoRows(err) {
		return "", ErrNotFound
	}
	return acct, err
}

// CustomerCases lists the cases of account the customer was notified of
// (only those may the customer see: disclosure.View), newest first;
// status "" for every status.
func (s *Store) CustomerCases(ctx context.Context, account, status string, limit int) ([]Case, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.R.QueryContext(ctx, s.Q("customer-cases"), account, status, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Case
	for rows.Next() {
		c, err := scanCase(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *c)
	}
	return out, rows.Err()
}
