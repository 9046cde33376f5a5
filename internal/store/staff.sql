-- Staff accounts, console sessions and staff bearer tokens. Times are Unix
-- milliseconds.

-- name: insert-user
INSERT INTO users (email, name, role, language, password_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id;

-- name: update-user-password
UPDATE users SET password_hash = $2, role = $3, disabled_at = NULL WHERE id = $1;

-- name: user-by-email
SELECT id, email, name, role, language, password_hash, disabled_at FROM users WHERE email = $1;

-- name: user-by-id
SELECT id, email, name, role, language, password_hash, disabled_at FROM users WHERE id = $1;

-- name: users
SELECT id, email, name, role, language, password_hash, disabled_at FROM users ORDER BY email;

-- name: insert-session
INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at, last_seen_at) VALUES ($1, $2, $3, $4, $5, $6);

-- The session and its user in one read: every console request asks.
-- name: session
SELECT s.csrf, s.created_at, s.expires_at, s.last_seen_at,
    u.id, u.email, u.name, u.role, u.language, u.password_hash, u.disabled_at
FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1;

-- name: touch-session
UPDATE sessions SET last_seen_at = $2, expires_at = $3 WHERE token_hash = $1;

-- name: delete-session
DELETE FROM sessions WHERE token_hash = $1;

-- name: delete-expired-sessions
DELETE FROM sessions WHERE expires_at < $1;

-- name: insert-staff-token
INSERT INTO tokens (name, scope, token_hash, created_at, user_id) VALUES ($1, 'staff', $2, $3, $4) RETURNING id;

-- name: staff-token
SELECT u.id, u.email, u.name, u.role, u.language, u.password_hash, u.disabled_at
FROM tokens t JOIN users u ON u.id = t.user_id
WHERE t.token_hash = $1 AND t.scope = 'staff' AND t.revoked_at IS NULL;
