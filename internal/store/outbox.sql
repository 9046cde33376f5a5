-- The outbox: mails composed once and delivered by background jobs
-- (internal/outbox). Times are Unix milliseconds.

-- ON CONFLICT DO NOTHING rather than catching the unique violation: on
-- PostgreSQL a failed statement aborts the caller's whole transaction.
-- name: insert-outbox
INSERT INTO outbox (message_id, dedupe_key, kind, case_id, report_id, party, recipient, mail_from, subject, language, reply_token, raw, state, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'queued', $13)
ON CONFLICT (dedupe_key) DO NOTHING RETURNING id;

-- name: outbox-by-id
SELECT id, message_id, dedupe_key, kind, case_id, report_id, party, recipient, mail_from, subject, language, reply_token,
    raw, state, attempts, round_start, last_error, next_attempt_at, created_at, sent_at
FROM outbox WHERE id = $1;

-- name: outbox-by-reply-token
SELECT id, message_id, dedupe_key, kind, case_id, report_id, party, recipient, mail_from, subject, language, reply_token,
    raw, state, attempts, round_start, last_error, next_attempt_at, created_at, sent_at
FROM outbox WHERE reply_token = $1;

-- The list leaves raw out: a page of the console needs no bodies. The
-- conditions and the order are added by ListOutbox.
-- name: outbox-list
SELECT id, message_id, dedupe_key, kind, case_id, report_id, party, recipient, mail_from, subject, language, reply_token,
    state, attempts, round_start, last_error, next_attempt_at, created_at, sent_at
FROM outbox

-- A worker takes the mail for one attempt: only if it is still queued, due,
-- and no other worker took it meanwhile (attempts unchanged, no lease).
-- The lease lives in next_attempt_at, so a worker that dies mid-send
-- leaves a mail that becomes due again when the lease ends.
-- name: outbox-claim
UPDATE outbox SET next_attempt_at = $4
WHERE id = $1 AND state = 'queued' AND attempts = $2 AND (next_attempt_at IS NULL OR next_attempt_at <= $3);

-- name: outbox-insert-attempt
INSERT INTO outbox_attempts (outbox_id, attempt, at, result, code, detail) VALUES ($1, $2, $3, $4, $5, $6);

-- name: outbox-mark-sent
UPDATE outbox SET state = 'sent', attempts = $2, last_error = '', next_attempt_at = NULL, sent_at = $3
WHERE id = $1 AND state = 'queued';

-- name: outbox-mark-deferred
UPDATE outbox SET attempts = $2, last_error = $3, next_attempt_at = $4
WHERE id = $1 AND state = 'queued';

-- name: outbox-mark-failed
UPDATE outbox SET state = 'failed', attempts = $2, last_error = $3, next_attempt_at = NULL
WHERE id = $1 AND state = 'queued';

-- name: outbox-requeue
UPDATE outbox SET state = 'queued', next_attempt_at = $2, round_start = attempts WHERE id = $1 AND state = 'failed';

-- name: outbox-attempts
SELECT attempt, at, result, code, detail FROM outbox_attempts WHERE outbox_id = $1 ORDER BY attempt;

-- name: outbox-counts
SELECT state, count(*) FROM outbox GROUP BY state;
