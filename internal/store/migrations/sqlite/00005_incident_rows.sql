-- +goose Up
-- Incident rows made cheap to insert: a CSV upload writes one per line, and
-- SQLite's cost is mostly per bound value, per byte and per index
-- (abusedesk bench csv, and its notes in internal/store/incidents.go):
-- - no index on report_id (it cost the insert a fifth): a report's
--   incidents are one contiguous range of ids, named by
--   reports.first_incident and incident_count (the one writer inserts a
--   report's rows together); no seq, the id orders them;
-- - no foreign key on report_id: the row is written only with its report,
--   in the same transaction, and the check was a lookup per row (8%);
-- - occurred_at in Unix milliseconds (an integer, not the driver's text);
-- - verdict, resource, account NULL when absent;
-- - evidence: the rest of what the reporter gave (timestamp as written,
--   source_port, target, target_port, protocol, log) as one JSON object
--   with the API's field names, instead of six columns.
CREATE TABLE incidents_v5 (
    id          INTEGER PRIMARY KEY,
    report_id   INTEGER NOT NULL,
    source_ip   TEXT    NOT NULL,
    occurred_at INTEGER NOT NULL,
    verdict     TEXT,
    resource    TEXT,
    account     TEXT,
    evidence    TEXT    NOT NULL
);
-- Existing rows keep their order (ids by report, then seq); json_patch drops
-- the keys whose value is null, so absent fields are left out. (A log
-- stored before that is not UTF-8 keeps its bytes in the JSON text, which
-- reads back with U+FFFD for them; the raw upload has them unchanged.)
INSERT INTO incidents_v5 (report_id, source_ip, occurred_at, verdict, resource, account, evidence)
SELECT report_id, source_ip, CAST(round(unixepoch(occurred_at, 'subsec') * 1000) AS INTEGER),
    NULLIF(verdict, ''), NULLIF(resource, ''), NULLIF(account, ''),
    json_patch(json_object('timestamp', NULLIF(occurred_text, '')),
        json_object('source_port', source_port, 'target', NULLIF(target, ''), 'target_port', target_port,
            'protocol', NULLIF(protocol, ''), 'log', NULLIF(log, '')))
FROM incidents ORDER BY report_id, seq;
DROP TABLE incidents;
ALTER TABLE incidents_v5 RENAME TO incidents;
ALTER TABLE reports ADD COLUMN first_incident INTEGER;
ALTER TABLE reports ADD COLUMN incident_count INTEGER NOT NULL DEFAULT 0;
CREATE TEMP TABLE incident_ranges AS
SELECT report_id, min(id) AS first, count(*) AS n FROM incidents GROUP BY report_id;
UPDATE reports SET first_incident = r.first, incident_count = r.n
FROM incident_ranges r WHERE r.report_id = reports.id;
DROP TABLE incident_ranges;

-- +goose Down
-- A log kept as log_base64 (not UTF-8) comes back in base64.
CREATE TABLE incidents_v4 (
    id            INTEGER PRIMARY KEY,
    report_id     INTEGER  NOT NULL REFERENCES reports (id),
    seq           INTEGER  NOT NULL,
    source_ip     TEXT     NOT NULL,
    source_port   INTEGER,
    target        TEXT     NOT NULL,
    target_port   INTEGER,
    protocol      TEXT     NOT NULL,
    occurred_at   DATETIME NOT NULL,
    occurred_text TEXT     NOT NULL,
    log           TEXT     NOT NULL,
    verdict       TEXT     NOT NULL DEFAULT '',
    resource      TEXT     NOT NULL DEFAULT '',
    account       TEXT     NOT NULL DEFAULT ''
);
INSERT INTO incidents_v4 (report_id, seq, source_ip, source_port, target, target_port, protocol, occurred_at,
    occurred_text, log, verdict, resource, account)
SELECT i.report_id, i.id - r.first_incident + 1, i.source_ip, i.evidence ->> 'source_port',
    coalesce(i.evidence ->> 'target', ''), i.evidence ->> 'target_port', coalesce(i.evidence ->> 'protocol', ''),
    strftime('%Y-%m-%d %H:%M:%f+00:00', i.occurred_at / 1000.0, 'unixepoch'), coalesce(i.evidence ->> 'timestamp', ''),
    coalesce(i.evidence ->> 'log', i.evidence ->> 'log_base64', ''), coalesce(i.verdict, ''), coalesce(i.resource, ''), coalesce(i.account, '')
FROM incidents i JOIN reports r ON r.id = i.report_id ORDER BY i.id;
DROP TABLE incidents;
ALTER TABLE incidents_v4 RENAME TO incidents;
CREATE INDEX incidents_report ON incidents (report_id);
ALTER TABLE reports DROP COLUMN incident_count;
ALTER TABLE reports DROP COLUMN first_incident;
