-- Cases: grouping of reports, the workflow's reads and writes, the audit
-- trail. Times are Unix milliseconds. (queries_<dialect>.sql may override.)

-- name: queue-for-cases
INSERT INTO case_queue (report_id) VALUES ($1);

-- name: case-queue-head
SELECT report_id FROM case_queue ORDER BY report_id LIMIT $1;

-- name: case-queued
SELECT report_id FROM case_queue WHERE report_id = $1;

-- name: case-queue-done
DELETE FROM case_queue WHERE report_id = $1;

-- name: grouping-report
SELECT id, public_id, type, subtype, lane, reporter_email, created_at FROM reports WHERE id = $1;

-- name: grouping-incident-keys
SELECT account, resource, count(*), max(occurred_at)
FROM incidents WHERE report_id = $1 AND verdict = 'assigned'
GROUP BY account, resource;

-- name: grouping-incident-ips
SELECT DISTINCT account, resource, source_ip
FROM incidents WHERE report_id = $1 AND verdict = 'assigned' LIMIT $2;

-- name: grouping-urls
SELECT account, resource, url FROM urls WHERE report_id = $1 AND verdict = 'assigned';

-- name: open-case-by-key
SELECT id FROM cases WHERE account = $1 AND resource = $2 AND category = $3 AND is_open;

-- name: insert-case
INSERT INTO cases (public_id, account, resource, category, subtypes, lane, status, is_open, priority,
    escalated, due_at, report_count, reporter_count, item_count, last_incident_at, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) RETURNING id;

-- name: update-case
UPDATE cases SET subtypes = $2, status = $3, is_open = $4, outcome = $5, priority = $6, escalated = $7,
    assignee = $8, due_at = $9, report_count = $10, reporter_count = $11, item_count = $12,
    last_incident_at = $13, updated_at = $14, first_action_at = $15, closed_at = $16, merged_into = $17
WHERE id = $1;

-- name: link-case-report
INSERT INTO case_reports (case_id, report_id, items, added_at) VALUES ($1, $2, $3, $4)
ON CONFLICT DO NOTHING RETURNING case_id;

-- name: add-case-reporter
INSERT INTO case_reporters (case_id, email) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING case_id;

-- name: add-case-ip
INSERT INTO case_ips (ip, case_id) VALUES ($1, $2) ON CONFLICT DO NOTHING;

-- name: add-case-host
INSERT INTO case_hosts (host, case_id, url) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING;

-- name: report-in-review
UPDATE reports SET status = 'in_review' WHERE id = $1 AND status = 'received';

-- name: case-by-id
SELECT c.id, c.public_id, c.account, c.resource, c.category, c.subtypes, c.lane, c.status, c.outcome, c.priority,
    c.escalated, c.assignee, c.due_at, c.report_count, c.reporter_count, c.item_count, c.last_incident_at,
    c.created_at, c.updated_at, c.first_action_at, c.closed_at,
    (SELECT m.public_id FROM cases m WHERE m.id = c.merged_into)
FROM cases c WHERE c.id = $1;

-- name: case-id-by-public-id
SELECT id FROM cases WHERE public_id = $1;

-- name: audit-head
SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1;

-- name: insert-audit
INSERT INTO audit_log (seq, at, actor, action, case_id, case_public_id, detail, prev, hash)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9);

-- name: audit-all
SELECT seq, at, actor, action, case_public_id, detail, prev, hash FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2;

-- name: case-audit
SELECT seq, at, actor, action, case_public_id, detail, prev, hash FROM audit_log WHERE case_id = $1 ORDER BY seq;

-- name: case-reports
SELECT r.id, r.public_id, r.type, r.subtype, r.channel, r.reporter_name, r.reporter_email, r.reporter_org,
    r.reporter_kind, r.share_contact, r.description, r.created_at, cr.items, cr.added_at, s.sha256, s.size,
    r.language, r.status, coalesce(r.outcome, '')
FROM case_reports cr JOIN reports r ON r.id = cr.report_id JOIN raw_submissions s ON s.id = r.raw_id
WHERE cr.case_id = $1 ORDER BY cr.added_at, r.id LIMIT $2;

-- One report of a case, as case-reports reads it.
-- name: case-report
SELECT r.id, r.public_id, r.type, r.subtype, r.channel, r.reporter_name, r.reporter_email, r.reporter_org,
    r.reporter_kind, r.share_contact, r.description, r.created_at, cr.items, cr.added_at, s.sha256, s.size,
    r.language, r.status, coalesce(r.outcome, '')
FROM case_reports cr JOIN reports r ON r.id = cr.report_id JOIN raw_submissions s ON s.id = r.raw_id
WHERE cr.case_id = $1 AND cr.report_id = $2;

-- name: case-evidence
SELECT i.source_ip, i.occurred_at, i.evidence, r.public_id
FROM case_reports cr JOIN reports r ON r.id = cr.report_id JOIN incidents i ON i.report_id = r.id
WHERE cr.case_id = $1 AND i.account = $2 AND i.resource = $3 ORDER BY i.occurred_at DESC LIMIT $4;

-- name: case-urls
SELECT u.url, u.description, r.public_id
FROM case_reports cr JOIN reports r ON r.id = cr.report_id JOIN urls u ON u.report_id = r.id
WHERE cr.case_id = $1 AND u.account = $2 AND u.resource = $3 ORDER BY u.id LIMIT $4;

-- name: due-for-escalation
SELECT id FROM cases WHERE is_open AND due_at < $1 AND status = 'customer_notified' ORDER BY due_at, id LIMIT $2;

-- name: merge-reports
INSERT INTO case_reports (case_id, report_id, items, added_at)
SELECT $2, report_id, items, added_at FROM case_reports WHERE case_id = $1 ON CONFLICT DO NOTHING;

-- name: merge-reporters
INSERT INTO case_reporters (case_id, email) SELECT $2, email FROM case_reporters WHERE case_id = $1 ON CONFLICT DO NOTHING;

-- name: merge-ips
INSERT INTO case_ips (ip, case_id) SELECT ip, $2 FROM case_ips WHERE case_id = $1 ON CONFLICT DO NOTHING;

-- name: merge-hosts
INSERT INTO case_hosts (host, case_id, url) SELECT host, $2, url FROM case_hosts WHERE case_id = $1 ON CONFLICT DO NOTHING;

-- name: case-counts
SELECT (SELECT count(*) FROM case_reports WHERE case_id = $1), (SELECT count(*) FROM case_reporters WHERE case_id = $1),
    (SELECT coalesce(sum(items), 0) FROM case_reports WHERE case_id = $1);

-- A report is closed with this outcome once none of its cases is open.
-- name: close-case-reports
UPDATE reports SET status = 'closed', outcome = $2
WHERE id IN (SELECT report_id FROM case_reports WHERE case_id = $1)
  AND NOT EXISTS (SELECT 1 FROM case_reports cr JOIN cases c ON c.id = cr.case_id WHERE cr.report_id = reports.id AND c.is_open);

-- name: reopen-case-reports
UPDATE reports SET status = 'in_review', outcome = NULL
WHERE id IN (SELECT report_id FROM case_reports WHERE case_id = $1);

-- name: account-by-ext
SELECT ext_id, name, security_email, email, language FROM accounts WHERE ext_id = $1;

-- name: resource-by-ext
SELECT r.ext_id, r.type, r.service, r.region FROM resources r WHERE r.ext_id = $1;

-- name: report-cases
SELECT c.public_id FROM case_reports cr JOIN cases c ON c.id = cr.case_id WHERE cr.report_id = $1 ORDER BY c.id;

-- Dashboard. Days are Unix days (milliseconds / 86400000).

-- Reports of the period: ids grow with time, so the scan starts at the
-- first id of the period ($2, found by dash-report-id-at) on the primary key.
-- name: dash-reports-per-day
SELECT type, CAST(floor(extract(epoch FROM created_at) / 86400) AS BIGINT), count(*)
FROM reports WHERE id >= $2 AND created_at >= $1 GROUP BY 1, 2;

-- name: dash-report-bounds
SELECT coalesce(min(id), 0), coalesce(max(id), 0) FROM reports;

-- name: dash-report-at
SELECT id, created_at FROM reports WHERE id >= $1 ORDER BY id LIMIT 1;

-- name: dash-cases-per-day
SELECT category, created_at / 86400000, count(*) FROM cases WHERE created_at >= $1 GROUP BY 1, 2;

-- name: dash-open-by-lane
SELECT lane, status, count(*) FROM cases WHERE is_open GROUP BY lane, status;

-- name: dash-first-action
SELECT created_at / 86400000, first_action_at - created_at FROM cases
WHERE created_at >= $1 AND first_action_at IS NOT NULL;

-- name: dash-escalations-per-day
SELECT at / 86400000, count(*) FROM audit_log WHERE action = 'escalate' AND at >= $1 GROUP BY 1;

-- name: dash-overdue
SELECT count(*) FROM cases WHERE is_open AND due_at < $1;

-- name: reports-by-reporter
SELECT id, public_id, token_hash, type, subtype, channel, status, outcome, lane, language,
    item_count, not_ours, created_at
FROM reports WHERE reporter_email = $1 ORDER BY id DESC LIMIT $2;

-- name: open-ddos-cases
SELECT id FROM cases WHERE is_open AND subtypes LIKE '%ddos%' AND id > $1 ORDER BY id LIMIT $2;

-- name: audit-recent
SELECT seq, at, actor, action, case_public_id, detail, prev, hash FROM audit_log ORDER BY seq DESC LIMIT $1;
