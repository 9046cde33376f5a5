-- Hand-written SQL, one statement per name (listmonk's "-- name:" markers).
-- Placeholders are PostgreSQL's $N; modernc.org/sqlite binds them the same.
-- A dialect overrides a statement in queries_<dialect>.sql under the same name.

-- name: insert-raw
INSERT INTO raw_submissions (sha256, content_type, size, channel, received_at, body)
VALUES ($1, $2, $3, $4, $5, $6) RETURNING id;

-- name: insert-raw-chunk
INSERT INTO raw_chunks (raw_id, seq, data) VALUES ($1, $2, $3);

-- name: raw-chunks
SELECT data FROM raw_chunks WHERE raw_id = $1 ORDER BY seq;

-- name: raw-meta
SELECT sha256, content_type, size, channel, received_at, body FROM raw_submissions WHERE id = $1;

-- name: insert-report
INSERT INTO reports (public_id, token_hash, type, subtype, channel, status, lane, language,
    reporter_name, reporter_email, reporter_org, reporter_kind, share_contact, description,
    details, item_count, raw_id, created_at, outcome, not_ours, first_incident, incident_count, lane_rule)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)
RETURNING id;

-- A bulk report's items are its incidents.
-- name: finish-bulk-report
UPDATE reports SET item_count = $2, incident_count = $2, not_ours = $3, lane = $4, outcome = $5, lane_rule = $6 WHERE id = $1;

-- The id the next incident row gets (SQLite, inside the write transaction).
-- name: next-incident-id
SELECT coalesce(max(id), 0) + 1 FROM incidents;

-- The next report, raw submission and incident ids (SQLite, inside the
-- write transaction of a CSV upload, which writes its rows with them).
-- name: next-bulk-ids
SELECT (SELECT coalesce(max(id), 0) + 1 FROM reports), (SELECT coalesce(max(id), 0) + 1 FROM raw_submissions),
    (SELECT coalesce(max(id), 0) + 1 FROM incidents);

-- name: insert-raw-id
INSERT INTO raw_submissions (id, sha256, content_type, size, channel, received_at, body)
VALUES ($1, $2, $3, $4, $5, $6, $7);

-- name: insert-report-id
INSERT INTO reports (id, public_id, token_hash, type, subtype, channel, status, lane, language,
    reporter_name, reporter_email, reporter_org, reporter_kind, share_contact, description,
    details, item_count, raw_id, created_at, outcome, not_ours, first_incident, incident_count, lane_rule)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24);

-- A report's incidents in order, by the primary key (SQLite's version in
-- queries_sqlite.sql).
-- name: report-incidents
SELECT source_ip, occurred_at, verdict, resource, account, evidence
FROM incidents WHERE report_id = $1 ORDER BY seq LIMIT $2;

-- name: insert-url
INSERT INTO urls (report_id, seq, url, description, video_timestamp, verdict, resource, account)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8);

-- name: set-report-outcome
UPDATE reports SET outcome = $2 WHERE id = $1;

-- name: insert-consent
INSERT INTO consents (report_id, party, scope, granted, channel, recorded_at) VALUES ($1, $2, $3, $4, $5, $6);

-- name: claim-idempotency-key
-- Claims (email, key) for this report, or takes over a claim older than the
-- window; no row back means a live claim exists.
INSERT INTO idempotency_keys (reporter_email, key, report_id, token, created_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (reporter_email, key) DO UPDATE
    SET report_id = excluded.report_id, token = excluded.token, created_at = excluded.created_at
    WHERE idempotency_keys.created_at < $6
RETURNING report_id;

-- name: idempotent-report
SELECT r.public_id, r.status, k.token
FROM idempotency_keys k JOIN reports r ON r.id = k.report_id
WHERE k.reporter_email = $1 AND k.key = $2 AND k.created_at >= $3;

-- name: report-by-public-id
SELECT id, public_id, token_hash, type, subtype, channel, status, outcome, lane, language,
    item_count, not_ours, created_at
FROM reports WHERE public_id = $1;

-- name: report-detail
SELECT id, public_id, type, subtype, channel, status, outcome, lane, language, reporter_name,
    reporter_email, reporter_org, reporter_kind, share_contact, description, details,
    item_count, raw_id, created_at
FROM reports WHERE public_id = $1;

-- name: report-urls
SELECT seq, url, description, video_timestamp FROM urls WHERE report_id = $1 ORDER BY seq;

-- name: report-consents
SELECT party, scope, granted, channel, recorded_at FROM consents WHERE report_id = $1 ORDER BY id;

-- name: count-reports
SELECT count(*) FROM reports;

-- name: count-incidents
SELECT count(*) FROM incidents;

-- name: recent-reports
SELECT public_id, type, subtype, channel, status, lane, item_count, created_at
FROM reports ORDER BY id DESC LIMIT $1;

-- name: insert-bulk-import
INSERT INTO bulk_imports (report_id, status, accepted, rejected, started_at, finished_at)
VALUES ($1, $2, $3, $4, $5, $6) RETURNING id;

-- name: insert-bulk-reject
INSERT INTO bulk_rejects (import_id, line, field, code, message) VALUES ($1, $2, $3, $4, $5);

-- name: bulk-import
SELECT id, report_id, status, accepted, rejected, started_at, finished_at FROM bulk_imports WHERE id = $1;

-- name: bulk-rejects
SELECT line, field, code, message FROM bulk_rejects WHERE import_id = $1 ORDER BY line;

-- name: insert-legal-request
INSERT INTO legal_requests (public_id, status, language, authority_name, authority_email,
    authority_org, authority_country, authority_phone, reference, legal_basis, description,
    identifiers, raw_id, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id;

-- name: legal-request
SELECT public_id, status, language, authority_org, description, created_at
FROM legal_requests WHERE public_id = $1;

-- name: insert-api-key
INSERT INTO api_keys (name, key_hash, created_at) VALUES ($1, $2, $3) RETURNING id;

-- name: api-key
SELECT id, name FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL;

-- name: update-raw-meta
UPDATE raw_submissions SET sha256 = $2, size = $3, content_type = $4 WHERE id = $1;

-- name: bulk-import-by-report
SELECT bi.id, bi.accepted, bi.rejected FROM bulk_imports bi JOIN reports r ON r.id = bi.report_id
WHERE r.public_id = $1;

-- name: delete-ranges
DELETE FROM address_ranges;

-- name: insert-range
INSERT INTO address_ranges (prefix, service, region, border_group) VALUES ($1, $2, $3, $4);

-- name: ranges
SELECT prefix, service, region, border_group FROM address_ranges;

-- name: upsert-account
INSERT INTO accounts (ext_id, name, security_email, email, language) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (ext_id) DO UPDATE SET name = excluded.name, security_email = excluded.security_email,
    email = excluded.email, language = excluded.language;

-- name: account-exists
SELECT 1 FROM accounts WHERE ext_id = $1;

-- name: upsert-resource
INSERT INTO resources (ext_id, account_id, type, service, region)
VALUES ($1, (SELECT id FROM accounts WHERE ext_id = $2), $3, $4, $5)
ON CONFLICT (ext_id) DO UPDATE SET account_id = excluded.account_id, type = excluded.type,
    service = excluded.service, region = excluded.region;

-- The order is the order of the in-memory resource handles.
-- name: resources
SELECT r.ext_id, r.type, r.service, r.region, a.ext_id FROM resources r JOIN accounts a ON a.id = r.account_id ORDER BY r.id;

-- name: resource
SELECT r.ext_id, r.type, r.service, r.region, a.ext_id FROM resources r JOIN accounts a ON a.id = r.account_id WHERE r.ext_id = $1;

-- name: insert-assignment
INSERT INTO assignments (resource_id, prefix, valid_from, valid_to)
VALUES ((SELECT id FROM resources WHERE ext_id = $1), $2, $3, $4);

-- name: close-assignment
UPDATE assignments SET valid_to = $1
WHERE prefix = $2 AND valid_from = $3 AND valid_to IS NULL AND resource_id = (SELECT id FROM resources WHERE ext_id = $4);

-- name: assignments
SELECT r.ext_id, a.prefix, a.valid_from, a.valid_to FROM assignments a JOIN resources r ON r.id = a.resource_id;

-- $@ stands for the list of candidate prefixes.
-- name: assignments-of-prefixes
SELECT r.ext_id, a.prefix, a.valid_from, a.valid_to FROM assignments a JOIN resources r ON r.id = a.resource_id
WHERE a.prefix IN ($@);

-- name: insert-hostname
INSERT INTO hostnames (resource_id, host, valid_from, valid_to)
VALUES ((SELECT id FROM resources WHERE ext_id = $1), $2, $3, $4);

-- name: close-hostname
UPDATE hostnames SET valid_to = $1
WHERE host = $2 AND valid_from = $3 AND valid_to IS NULL AND resource_id = (SELECT id FROM resources WHERE ext_id = $4);

-- name: hostnames
SELECT r.ext_id, h.host, h.valid_from, h.valid_to FROM hostnames h JOIN resources r ON r.id = h.resource_id;

-- $@ stands for the host and the wildcards above it.
-- name: hostnames-of
SELECT r.ext_id, h.host, h.valid_from, h.valid_to FROM hostnames h JOIN resources r ON r.id = h.resource_id
WHERE h.host IN ($@);

-- name: insert-inventory-change
INSERT INTO inventory_changes (kind, body, created_at) VALUES ($1, $2, $3) RETURNING seq;

-- name: inventory-seq
SELECT COALESCE(MAX(seq), 0) FROM inventory_changes;

-- name: inventory-changes-since
SELECT seq, kind, body FROM inventory_changes WHERE seq > $1 ORDER BY seq LIMIT 64;
-- name: insert-token
INSERT INTO tokens (name, scope, token_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id;

-- name: token
SELECT id, name, scope FROM tokens WHERE token_hash = $1 AND revoked_at IS NULL;
