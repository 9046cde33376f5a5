-- Talking to reporters and customers: mail events, extra status links, the
-- consent ledger and mediated messages. Times are Unix milliseconds, except
-- consents.recorded_at (a DATETIME since 00001).

-- name: insert-mail-event
INSERT INTO mail_events (kind, case_id, report_id, detail, created_at) VALUES ($1, $2, $3, $4, $5);

-- name: mail-events
SELECT id, kind, case_id, report_id, detail, created_at FROM mail_events WHERE id > $1 ORDER BY id LIMIT $2;

-- name: delete-mail-event
DELETE FROM mail_events WHERE id = $1;

-- name: count-mail-events
SELECT count(*) FROM mail_events;

-- name: insert-status-token
INSERT INTO status_tokens (token_hash, report_id, created_at) VALUES ($1, $2, $3);

-- name: status-token
SELECT report_id FROM status_tokens WHERE token_hash = $1;

-- name: insert-consent-row
INSERT INTO consents (report_id, case_id, party, scope, subject, granted, channel, actor, recorded_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9);

-- The latest act decides: a grant, or a later revocation.
-- name: reporter-consent
SELECT granted FROM consents WHERE report_id = $1 AND party = 'reporter' ORDER BY id DESC LIMIT 1;

-- name: customer-consent
SELECT granted FROM consents WHERE case_id = $1 AND party = 'customer' ORDER BY id DESC LIMIT 1;

-- name: case-consents
SELECT c.id, coalesce(c.report_id, 0), coalesce(c.case_id, 0), c.party, c.scope, c.subject, c.granted, c.channel, c.actor, c.recorded_at
FROM consents c WHERE c.case_id = $1 OR c.report_id IN (SELECT report_id FROM case_reports WHERE case_id = $1)
ORDER BY c.id;

-- name: insert-message
INSERT INTO case_messages (case_id, report_id, sender, recipient, kind, body, state, relay_at, decided_by, created_at, relayed_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id;

-- name: case-messages
SELECT id, case_id, coalesce(report_id, 0), sender, recipient, kind, body, state, relay_at, decided_by, created_at, relayed_at
FROM case_messages WHERE case_id = $1 ORDER BY id;

-- name: message
SELECT id, case_id, coalesce(report_id, 0), sender, recipient, kind, body, state, relay_at, decided_by, created_at, relayed_at
FROM case_messages WHERE id = $1;

-- name: due-messages
SELECT id FROM case_messages WHERE state = 'pending' AND relay_at <= $1 ORDER BY relay_at LIMIT $2;

-- Only a message still pending is relayed: a hold wins over a relay under way.
-- name: relay-message
UPDATE case_messages SET state = 'relayed', relay_at = NULL, relayed_at = $2 WHERE id = $1 AND state = 'pending';

-- name: set-message-state
UPDATE case_messages SET state = $2, relay_at = $3, decided_by = $4, relayed_at = $5 WHERE id = $1;

-- name: cases-of-report
SELECT case_id FROM case_reports WHERE report_id = $1 ORDER BY case_id;

-- name: case-public-id
SELECT public_id FROM cases WHERE id = $1;

-- name: case-notified
SELECT 1 FROM audit_log WHERE case_id = $1 AND action = 'notify' LIMIT 1;

-- name: case-report-ids
SELECT report_id FROM case_reports WHERE case_id = $1 ORDER BY report_id;
