-- +goose Up
-- Incident rows made cheap to insert: a CSV upload writes one per line
-- (COPY), and the cost was in the indexes and the foreign key
-- (abusedesk bench csv, and its notes in internal/store/incidents.go):
-- - the primary key (report_id, seq) is the one index: it finds a report's
--   incidents in order; the identity id and its index are gone;
-- - no foreign key on report_id: the row is written only with its report,
--   in the same transaction, and the check was a trigger per row (COPY of
--   a million rows: 180k rows/s with it, 510k without);
-- - verdict, resource, account NULL when absent;
-- - evidence: the rest of what the reporter gave (timestamp as written,
--   source_port, target, target_port, protocol, log) as one JSON object
--   with the API's field names, as on SQLite, where fewer values per row
--   is what counts.
-- reports.first_incident is SQLite's (NULL here); incident_count is the
-- number of incident rows.
CREATE TABLE incidents_v5 (
    report_id   BIGINT      NOT NULL,
    seq         INTEGER     NOT NULL,
    source_ip   TEXT        NOT NULL,
    occurred_at TIMESTAMPTZ NOT NULL,
    verdict     TEXT,
    resource    TEXT,
    account     TEXT,
    evidence    TEXT        NOT NULL,
    PRIMARY KEY (report_id, seq)
);
INSERT INTO incidents_v5 (report_id, seq, source_ip, occurred_at, verdict, resource, account, evidence)
SELECT report_id, seq, source_ip, occurred_at, NULLIF(verdict, ''), NULLIF(resource, ''), NULLIF(account, ''),
    json_strip_nulls(json_build_object('timestamp', NULLIF(occurred_text, ''), 'source_port', source_port,
        'target', NULLIF(target, ''), 'target_port', target_port, 'protocol', NULLIF(protocol, ''),
        'log', NULLIF(log, '')))::text
FROM incidents;
DROP TABLE incidents;
ALTER TABLE incidents_v5 RENAME TO incidents;
ALTER TABLE incidents RENAME CONSTRAINT incidents_v5_pkey TO incidents_pkey;
ALTER TABLE reports ADD COLUMN first_incident BIGINT;
ALTER TABLE reports ADD COLUMN incident_count BIGINT NOT NULL DEFAULT 0;
UPDATE reports SET incident_count = c.n
FROM (SELECT report_id, count(*) AS n FROM incidents GROUP BY report_id) c WHERE c.report_id = reports.id;
-- Raw uploads are stored in 1 MB chunks, which TOAST compressed with pglz:
-- 1.4 s for a 120 MB CSV, a third of the upload's time. lz4 (PostgreSQL 14
-- built with it) took 0.3 s and as little space; without it, the chunks
-- are stored uncompressed (0.45 s).
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
        ALTER TABLE raw_chunks ALTER COLUMN data SET COMPRESSION lz4;
    ELSE
        ALTER TABLE raw_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
    END IF;
END $$;
-- +goose StatementEnd

-- +goose Down
ALTER TABLE raw_chunks ALTER COLUMN data SET STORAGE EXTENDED;
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression') THEN
        ALTER TABLE raw_chunks ALTER COLUMN data SET COMPRESSION DEFAULT;
    END IF;
END $$;
-- +goose StatementEnd
CREATE TABLE incidents_v4 (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    report_id     BIGINT  NOT NULL REFERENCES reports (id),
    seq           BIGINT  NOT NULL,
    source_ip     TEXT     NOT NULL,
    source_port   INTEGER,
    target        TEXT     NOT NULL,
    target_port   INTEGER,
    protocol      TEXT     NOT NULL,
    occurred_at   TIMESTAMPTZ NOT NULL,
    occurred_text TEXT     NOT NULL,
    log           TEXT     NOT NULL,
    verdict       TEXT NOT NULL DEFAULT '',
    resource      TEXT NOT NULL DEFAULT '',
    account       TEXT NOT NULL DEFAULT ''
);
INSERT INTO incidents_v4 (report_id, seq, source_ip, source_port, target, target_port, protocol, occurred_at,
    occurred_text, log, verdict, resource, account)
SELECT report_id, seq, source_ip, (evidence::json ->> 'source_port')::integer, coalesce(evidence::json ->> 'target', ''),
    (evidence::json ->> 'target_port')::integer, coalesce(evidence::json ->> 'protocol', ''), occurred_at,
    coalesce(evidence::json ->> 'timestamp', ''), coalesce(evidence::json ->> 'log', evidence::json ->> 'log_base64', ''),
    coalesce(verdict, ''), coalesce(resource, ''), coalesce(account, '')
FROM incidents ORDER BY report_id, seq;
DROP TABLE incidents;
ALTER TABLE incidents_v4 RENAME TO incidents;
ALTER TABLE incidents RENAME CONSTRAINT incidents_v4_pkey TO incidents_pkey;
ALTER SEQUENCE incidents_v4_id_seq RENAME TO incidents_id_seq;
CREATE INDEX incidents_report ON incidents (report_id);
ALTER TABLE reports DROP COLUMN incident_count;
ALTER TABLE reports DROP COLUMN first_incident;
