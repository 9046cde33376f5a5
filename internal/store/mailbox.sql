-- The abuse@ mailbox: mails as received, and what became of them.

-- name: insert-inbound
INSERT INTO inbound_mails (public_id, received_at, remote_addr, helo, mail_from, rcpt_to, tls, size, sha256, raw, state)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'new') RETURNING id;

-- name: pending-inbound
SELECT id FROM inbound_mails WHERE state = 'new' AND id > $1 ORDER BY id LIMIT $2;

-- name: inbound-by-id
SELECT id, public_id, received_at, remote_addr, helo, mail_from, rcpt_to, tls, size, sha256, raw, state, parser,
    from_addr, subject, message_id, machine, coalesce(case_id, 0), detail, attempts, processed_at, handled_by, handled_at
FROM inbound_mails WHERE id = $1;

-- name: inbound-by-public-id
SELECT id, public_id, received_at, remote_addr, helo, mail_from, rcpt_to, tls, size, sha256, raw, state, parser,
    from_addr, subject, message_id, machine, coalesce(case_id, 0), detail, attempts, processed_at, handled_by, handled_at
FROM inbound_mails WHERE public_id = $1;

-- The processor's verdict. Only a mail still 'new' is finished: two
-- instances processing the same mail write one verdict.
-- name: finish-inbound
UPDATE inbound_mails SET state = $2, parser = $3, from_addr = $4, subject = $5, message_id = $6, machine = $7,
    case_id = $8, detail = $9, processed_at = $10, attempts = attempts + 1
WHERE id = $1 AND state = 'new';

-- name: inbound-failed-attempt
UPDATE inbound_mails SET attempts = attempts + 1, detail = $2 WHERE id = $1 AND state = 'new';

-- name: handle-inbound
UPDATE inbound_mails SET state = 'done', handled_by = $2, handled_at = $3, detail = $4
WHERE id = $1 AND state IN ('review', 'incomplete', 'bounce');

-- name: requeue-inbound
UPDATE inbound_mails SET state = 'new' WHERE id = $1 AND state <> 'new';

-- name: inbound-counts
SELECT parser, state, machine, count(*) FROM inbound_mails WHERE received_at >= $1 GROUP BY parser, state, machine;

-- name: inbound-state-counts
SELECT state, count(*) FROM inbound_mails GROUP BY state;

-- name: outbox-by-message-id
SELECT id, message_id, dedupe_key, kind, case_id, report_id, party, recipient, mail_from, subject, language, reply_token,
    raw, state, attempts, round_start, last_error, next_attempt_at, created_at, sent_at
FROM outbox WHERE message_id = $1;
