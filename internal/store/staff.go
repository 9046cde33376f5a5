package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Staff roles. An admin can do what an analyst does, and manage staff.
const (
	RoleAnalyst = "analyst"
	RoleAdmin   = "admin"
)

// User is a member of the provider's staff.
type User struct {
	ID           int64
	Email        string
	Name         string
	Role         string
	Language     string
	PasswordHash string
	Disabled     bool
}

// ErrExists is returned when a unique name is taken.
var ErrExists = errors.New("already exists")

// AddUser creates a staff account; an existing email gets ErrExists.
func (s *Store) AddUser(ctx context.Context, email, name, role, lang, hash string) (int64, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if _, err := s.UserByEmail(ctx, email); err == nil {
		return 0, fmt.Errorf("user %s: %w", email, ErrExists)
	}
	var id int64
	err := s.W.QueryRowContext(ctx, s.Q("insert-user"), email, name, role, lang, hash, time.Now().UnixMilli()).Scan(&id)
	return id, err
}

// SetPassword replaces a user's password hash and role, and enables it.
func (s *Store) SetPassword(ctx context.Context, id int64, hash, role string) error {
	_, err := s.W.ExecContext(ctx, s.Q("update-user-password"), id, hash, role)
	return err
}

func scanUser(row interface{ Scan(...any) error }) (*User, error) {
	var u User
	var disabled sql.NullInt64
	if err := row.Scan(&u.ID, &u.Email, &u.Name, &u.Role, &u.Language, &u.PasswordHash, &disabled); err != nil {
		if isNoRows(err) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	u.Disabled = disabled.Valid
	return &u, nil
}

// UserByEmail finds a user (emails are kept in lower case).
func (s *Store) UserByEmail(ctx context.Context, email string) (*User, error) {
	return scanUser(s.R.QueryRowContext(ctx, s.Q("user-by-email"), strings.ToLower(strings.TrimSpace(email))))
}

// UserByID finds a user.
func (s *Store) UserByID(ctx context.Context, id int64) (*User, error) {
	return scanUser(s.R.QueryRowContext(ctx, s.Q("user-by-id"), id))
}

// Users lists the staff.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	rows, err := s.R.QueryContext(ctx, s.Q("users"))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *u)
	}
	return out, rows.Err()
}

// Session is a logged-in console session.
type Session struct {
	User    *User
	CSRF    string
	Expires time.Time
}

// Session lifetimes: idle sessions end after SessionIdle, every session
// after SessionMax (OWASP session management: idle and absolute timeouts).
const (
	SessionIdle = 8 * time.Hour
	SessionMax  = 7 * 24 * time.Hour
)

// CreateSession starts a session for a user and returns its token (only
// its hash is stored).
func (s *Store) CreateSession(ctx context.Context, userID int64, now time.Time) (token string, sess *Session, err error) {
	token = NewToken()
	csrf := NewToken()
	exp := now.Add(SessionIdle)
	_, err = s.W.ExecContext(ctx, s.Q("insert-session"), HashToken(token), userID, csrf, now.UnixMilli(), exp.UnixMilli(), now.UnixMilli())
	if err != nil {
		return "", nil, err
	}
	u, err := s.UserByID(ctx, userID)
	if err != nil {
		return "", nil, err
	}
	return token, &Session{User: u, CSRF: csrf, Expires: exp}, nil
}

// SessionByToken finds a live session and slides its idle expiry (at most
// once a minute, so that reads do not turn into writes).
func (s *Store) SessionByToken(ctx context.Context, token string, now time.Time) (*Session, error) {
	h := HashToken(token)
	var created, exp, seen int64
	var csrf string
	var u User
	var disabled sql.NullInt64
	err := s.R.QueryRowContext(ctx, s.Q("session"), h).Scan(&csrf, &created, &exp, &seen,
		&u.ID, &u.Email, &u.Name, &u.Role, &u.Language, &u.PasswordHash, &disabled)
	if isNoRows(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if now.UnixMilli() >= exp || disabled.Valid {
		return nil, ErrNotFound
	}
	sess := &Session{User: &u, CSRF: csrf, Expires: time.UnixMilli(exp)}
	if now.Sub(time.UnixMilli(seen)) > time.Minute {
		// An idle slide never passes the absolute limit.
		newExp := now.Add(SessionIdle)
		if lim := time.UnixMilli(created).Add(SessionMax); newExp.After(lim) {
			newExp = lim
		}
		if _, err := s.W.ExecContext(ctx, s.Q("touch-session"), h, now.UnixMilli(), newExp.UnixMilli()); err != nil {
			return nil, err
		}
		sess.Expires = newExp
	}
	return sess, nil
}

// DeleteSession ends a session (logout).
func (s *Store) DeleteSession(ctx context.Context, token string) error {
	_, err := s.W.ExecContext(ctx, s.Q("delete-session"), HashToken(token))
	return err
}

// DeleteExpiredSessions removes sessions past their expiry.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	r, err := s.W.ExecContext(ctx, s.Q("delete-expired-sessions"), now.UnixMilli())
	if err != nil {
		return 0, err
	}
	return r.RowsAffected()
}

// AddStaffToken makes a bearer token that acts as the user on the staff API.
func (s *Store) AddStaffToken(ctx context.Context, userID int64, name string) (string, error) {
	tok := "ads_" + NewToken()
	_, err := s.W.ExecContext(ctx, s.Q("insert-staff-token:exec"), name, HashToken(tok), time.Now().UTC(), userID)
	return tok, err
}

// StaffByToken finds the enabled user a staff token acts as.
func (s *Store) StaffByToken(ctx context.Context, tok string) (*User, error) {
	u, err := scanUser(s.R.QueryRowContext(ctx, s.Q("staff-token"), HashToken(tok)))
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, ErrNotFound
	}
	return u, nil
}
