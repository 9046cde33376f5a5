-- +goose Up
-- Raw submissions are kept unchanged with their SHA-256 (DESIGN.md: nothing
-- acknowledged is lost; evidence is kept as received). A body that arrives
-- whole (JSON, XARF) is stored inline; a streamed one (a 200 MB CSV) in
-- chunks, so it never has to sit in memory.
CREATE TABLE raw_submissions (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sha256       TEXT     NOT NULL,
    content_type TEXT     NOT NULL,
    size         BIGINT  NOT NULL,
    channel      TEXT     NOT NULL,
    received_at  TIMESTAMPTZ NOT NULL,
    body         BYTEA
);
CREATE TABLE raw_chunks (
    raw_id BIGINT NOT NULL REFERENCES raw_submissions (id),
    seq    BIGINT NOT NULL,
    data   BYTEA    NOT NULL,
    PRIMARY KEY (raw_id, seq)
);
CREATE TABLE reports (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id      TEXT     NOT NULL UNIQUE,
    token_hash     BYTEA     NOT NULL,
    type           TEXT     NOT NULL,
    subtype        TEXT     NOT NULL,
    channel        TEXT     NOT NULL,
    status         TEXT     NOT NULL,
    outcome        TEXT,
    lane           TEXT     NOT NULL,
    language       TEXT     NOT NULL,
    reporter_name  TEXT     NOT NULL,
    reporter_email TEXT     NOT NULL,
    reporter_org   TEXT     NOT NULL,
    reporter_kind  TEXT     NOT NULL,
    share_contact  BOOLEAN  NOT NULL,
    description    TEXT     NOT NULL,
    details        TEXT,
    item_count     BIGINT  NOT NULL,
    raw_id         BIGINT  NOT NULL REFERENCES raw_submissions (id),
    created_at     TIMESTAMPTZ NOT NULL
);
-- Indexes come with the queries that need them: search by reporter (the
-- console) adds its own; each index costs the intake about 10% (bench/json.sh).
CREATE TABLE incidents (
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
    log           TEXT     NOT NULL
);
CREATE INDEX incidents_report ON incidents (report_id);
CREATE TABLE urls (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    report_id       BIGINT NOT NULL REFERENCES reports (id),
    seq             BIGINT NOT NULL,
    url             TEXT    NOT NULL,
    description     TEXT    NOT NULL,
    video_timestamp TEXT    NOT NULL
);
CREATE INDEX urls_report ON urls (report_id);
-- The consent ledger: who agreed to what, when, through which channel.
-- Revocation is a new row, never an update.
CREATE TABLE consents (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    report_id   BIGINT  NOT NULL REFERENCES reports (id),
    party       TEXT     NOT NULL,
    scope       TEXT     NOT NULL,
    granted     BOOLEAN  NOT NULL,
    channel     TEXT     NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX consents_report ON consents (report_id);
-- The status token is kept here in clear for 24 h only, so that a replayed
-- request gets the same answer, link included.
CREATE TABLE idempotency_keys (
    reporter_email TEXT     NOT NULL,
    key            TEXT     NOT NULL,
    report_id      BIGINT  NOT NULL,
    token          TEXT     NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (reporter_email, key)
);
-- A bulk upload is a tracked session (listmonk's import): its counts and the
-- first rejected lines stay visible, also for uploads that stored nothing.
CREATE TABLE bulk_imports (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    report_id   BIGINT REFERENCES reports (id),
    status      TEXT     NOT NULL,
    accepted    BIGINT  NOT NULL,
    rejected    BIGINT  NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE bulk_rejects (
    import_id BIGINT NOT NULL REFERENCES bulk_imports (id),
    line      BIGINT NOT NULL,
    field     TEXT    NOT NULL,
    code      TEXT    NOT NULL,
    message   TEXT    NOT NULL
);
CREATE INDEX bulk_rejects_import ON bulk_rejects (import_id);
CREATE TABLE legal_requests (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id          TEXT     NOT NULL UNIQUE,
    status             TEXT     NOT NULL,
    language           TEXT     NOT NULL,
    authority_name     TEXT     NOT NULL,
    authority_email    TEXT     NOT NULL,
    authority_org      TEXT     NOT NULL,
    authority_country  TEXT     NOT NULL,
    authority_phone    TEXT     NOT NULL,
    reference          TEXT     NOT NULL,
    legal_basis        TEXT     NOT NULL,
    description        TEXT     NOT NULL,
    identifiers        TEXT     NOT NULL,
    raw_id             BIGINT  NOT NULL REFERENCES raw_submissions (id),
    created_at         TIMESTAMPTZ NOT NULL
);
CREATE TABLE api_keys (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       TEXT     NOT NULL,
    key_hash   BYTEA     NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);

-- +goose Down
DROP TABLE api_keys;
DROP TABLE legal_requests;
DROP TABLE bulk_rejects;
DROP TABLE bulk_imports;
DROP TABLE idempotency_keys;
DROP TABLE consents;
DROP TABLE urls;
DROP TABLE incidents;
DROP TABLE reports;
DROP TABLE raw_chunks;
DROP TABLE raw_submissions;
