-- The customer portal: magic links and API keys (portal_tokens, kind
-- 'login' or 'api'), sessions, and the cases a customer may list. Times are
-- Unix milliseconds.

-- name: insert-portal-token
INSERT INTO portal_tokens (token_hash, account, kind, email, label, case_id, created_at, expires_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8);

-- name: portal-login
SELECT account, coalesce(case_id, 0) FROM portal_tokens
WHERE token_hash = $1 AND kind = 'login' AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $2;

-- One statement marks the link used and says whether it was still good:
-- two clicks racing get one session between them.
-- name: redeem-portal-login
UPDATE portal_tokens SET used_at = $2
WHERE token_hash = $1 AND kind = 'login' AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $2
RETURNING account, email, coalesce(case_id, 0);

-- name: insert-portal-session
INSERT INTO portal_sessions (token_hash, account, email, csrf, created_at, expires_at, last_seen_at)
VALUES ($1, $2, $3, $4, $5, $6, $7);

-- name: portal-session
SELECT s.account, s.email, s.csrf, s.created_at, s.expires_at, s.last_seen_at, coalesce(a.language, '')
FROM portal_sessions s LEFT JOIN accounts a ON a.ext_id = s.account WHERE s.token_hash = $1;

-- name: touch-portal-session
UPDATE portal_sessions SET last_seen_at = $2, expires_at = $3 WHERE token_hash = $1;

-- name: delete-portal-session
DELETE FROM portal_sessions WHERE token_hash = $1;

-- name: delete-expired-portal-sessions
DELETE FROM portal_sessions WHERE expires_at < $1;

-- Used or expired links are of no use to anyone a day later.
-- name: delete-expired-portal-logins
DELETE FROM portal_tokens WHERE kind = 'login' AND expires_at < $1;

-- name: portal-api-keys
SELECT token_hash, label, created_at FROM portal_tokens
WHERE account = $1 AND kind = 'api' AND revoked_at IS NULL ORDER BY created_at DESC;

-- name: revoke-portal-api-key
UPDATE portal_tokens SET revoked_at = $3 WHERE token_hash = $1 AND account = $2 AND kind = 'api' AND revoked_at IS NULL;

-- name: account-by-portal-key
SELECT account FROM portal_tokens WHERE token_hash = $1 AND kind = 'api' AND revoked_at IS NULL;

-- The address the desk writes to: the security contact, else the account's
-- email. Compared case-insensitively; the oldest account wins a tie.
-- name: account-by-contact-email
SELECT ext_id FROM accounts
WHERE lower(CASE WHEN security_email <> '' THEN security_email ELSE email END) = lower($1)
ORDER BY id LIMIT 1;

-- Cases of an account the customer was told of (an audit entry 'notify',
-- as case-notified), newest first; $2 = '' for every status.
-- name: customer-cases
SELECT c.id, c.public_id, c.account, c.resource, c.category, c.subtypes, c.lane, c.status, c.outcome, c.priority,
    c.escalated, c.assignee, c.due_at, c.report_count, c.reporter_count, c.item_count, c.last_incident_at,
    c.created_at, c.updated_at, c.first_action_at, c.closed_at,
    (SELECT m.public_id FROM cases m WHERE m.id = c.merged_into)
FROM cases c
WHERE c.account = $1 AND ($2 = '' OR c.status = $2)
    AND EXISTS (SELECT 1 FROM audit_log a WHERE a.case_id = c.id AND a.action = 'notify')
ORDER BY c.id DESC LIMIT $3;
