-- SQLite's versions of statements of queries.sql, by the same names.

-- Incidents have no index on report_id: a report's are the ids
-- first_incident … first_incident + incident_count - 1 (incidents.go).
-- name: report-incidents
SELECT i.source_ip, i.occurred_at, i.verdict, i.resource, i.account, i.evidence
FROM reports r JOIN incidents i ON i.id >= r.first_incident AND i.id < r.first_incident + r.incident_count
WHERE r.id = $1 ORDER BY i.id LIMIT $2;

-- name: grouping-incident-keys
SELECT i.account, i.resource, count(*), max(i.occurred_at)
FROM reports r JOIN incidents i ON i.id >= r.first_incident AND i.id < r.first_incident + r.incident_count
WHERE r.id = $1 AND i.verdict = 'assigned'
GROUP BY i.account, i.resource;

-- name: grouping-incident-ips
SELECT DISTINCT i.account, i.resource, i.source_ip
FROM reports r JOIN incidents i ON i.id >= r.first_incident AND i.id < r.first_incident + r.incident_count
WHERE r.id = $1 AND i.verdict = 'assigned' LIMIT $2;

-- name: case-evidence
SELECT i.source_ip, i.occurred_at, i.evidence, r.public_id
FROM case_reports cr JOIN reports r ON r.id = cr.report_id
JOIN incidents i ON i.id >= r.first_incident AND i.id < r.first_incident + r.incident_count
WHERE cr.case_id = $1 AND i.account = $2 AND i.resource = $3 ORDER BY i.occurred_at DESC LIMIT $4;

-- name: dash-reports-per-day
SELECT type, CAST(unixepoch(substr(created_at, 1, 19)) / 86400 AS INTEGER), count(*)
FROM reports WHERE id >= $2 AND created_at >= $1 GROUP BY 1, 2;
