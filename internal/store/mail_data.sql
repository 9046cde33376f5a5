-- What the notifier reads to compose mails (internal/notify).

-- name: mail-report
SELECT id, public_id, type, subtype, channel, status, coalesce(outcome, ''), language, reporter_name, reporter_email,
    item_count, not_ours, created_at
FROM reports WHERE id = $1;

-- name: mail-legal-request
SELECT public_id, language, authority_name, authority_email, reference, created_at FROM legal_requests WHERE id = $1;

-- Notified cases whose customer deadline falls in (from, to]: the reminders.
-- name: reminder-candidates
SELECT id FROM cases WHERE is_open AND status = 'customer_notified' AND due_at > $1 AND due_at <= $2 ORDER BY due_at LIMIT $3;

-- name: last-notify-at
SELECT max(at) FROM audit_log WHERE case_id = $1 AND action = 'notify';

-- name: outbox-dedupe-exists
SELECT 1 FROM outbox WHERE dedupe_key = $1;
