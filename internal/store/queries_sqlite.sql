-- SQLite's versions of statements of queries.sql, by the same names.

-- Incidents have no index on report_id: a report's are the ids
-- first_incident … first_incident + incident_count - 1 (incidents.go).
-- name: report-incidents
SELECT i.source_ip, i.occurred_at, i.verdict, i.resource, i.account, i.evidence
FROM reports r JOIN incidents i ON i.id >= r.first_incident AND i.id < r.first_incident + r.incident_count
WHERE r.id = $1 ORDER BY i.id LIMIT $2;
