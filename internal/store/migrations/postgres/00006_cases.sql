-- +goose Up
-- Cases: the items of reports attributed to one customer resource, per
-- (account, resource, category). Times are Unix milliseconds. due_at is the
-- deadline, or the largest integer when there is none, so that the default
-- queue order (the oldest overdue first) is one index walk.
CREATE TABLE cases (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id        TEXT    NOT NULL UNIQUE,
    account          TEXT    NOT NULL,
    resource         TEXT    NOT NULL,
    category         TEXT    NOT NULL,
    subtypes         TEXT    NOT NULL,
    lane             TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    is_open          BOOLEAN NOT NULL,
    outcome          TEXT,
    priority         INTEGER NOT NULL,
    escalated        BOOLEAN NOT NULL DEFAULT false,
    assignee         TEXT    NOT NULL DEFAULT '',
    due_at           BIGINT NOT NULL,
    report_count     BIGINT NOT NULL DEFAULT 0,
    reporter_count   BIGINT NOT NULL DEFAULT 0,
    item_count       BIGINT NOT NULL DEFAULT 0,
    last_incident_at BIGINT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    first_action_at  BIGINT,
    closed_at        BIGINT,
    merged_into      BIGINT
);
-- At most one open case per key: the grouper finds it by this index.
CREATE UNIQUE INDEX cases_open_key ON cases (account, resource, category) WHERE is_open;
-- The queue: open cases by due date, overall and per lane; by priority.
CREATE INDEX cases_queue ON cases (due_at, id) WHERE is_open;
CREATE INDEX cases_queue_lane ON cases (lane, due_at, id) WHERE is_open;
CREATE INDEX cases_queue_priority ON cases (priority DESC, id) WHERE is_open;
CREATE INDEX cases_queue_status ON cases (status, due_at, id) WHERE is_open;
-- Closed and other status views, newest first; the dashboard's time axis.
CREATE INDEX cases_status ON cases (status, id);
CREATE INDEX cases_created ON cases (created_at);
CREATE INDEX cases_account ON cases (account, id);
-- Which reports feed which case (a report may feed several).
CREATE TABLE case_reports (
    case_id   BIGINT NOT NULL,
    report_id BIGINT NOT NULL,
    items     BIGINT NOT NULL,
    added_at  BIGINT NOT NULL,
    PRIMARY KEY (case_id, report_id)
);
CREATE INDEX case_reports_report ON case_reports (report_id);
-- Distinct reporters of a case (the priority counts them; search by email).
CREATE TABLE case_reporters (
    case_id BIGINT NOT NULL,
    email   TEXT    NOT NULL,
    PRIMARY KEY (case_id, email)
);
-- (email, case_id): a reporter's cases, newest first, from the index alone.
CREATE INDEX case_reporters_email ON case_reporters (email, case_id);
-- The addresses and hosts a case concerns: search by IP, CIDR (a range of
-- the 16-byte form), host or URL.
CREATE TABLE case_ips (
    ip      BYTEA    NOT NULL,
    case_id BIGINT NOT NULL,
    PRIMARY KEY (ip, case_id)
);
CREATE TABLE case_hosts (
    host    TEXT    NOT NULL,
    case_id BIGINT NOT NULL,
    url     TEXT    NOT NULL,
    PRIMARY KEY (host, case_id, url)
);
-- Reports with an item attributed to a customer, waiting to be grouped
-- into cases (written with the report; the grouper empties it).
CREATE TABLE case_queue (
    report_id BIGINT PRIMARY KEY
);
-- The audit trail: append-only, each entry hashed with the previous one's
-- hash (internal/cases: Entry.Seal), so an edit or a deletion breaks the
-- chain (abusedesk audit verify).
CREATE TABLE audit_log (
    seq     BIGINT PRIMARY KEY,
    at      BIGINT NOT NULL,
    actor   TEXT    NOT NULL,
    action  TEXT    NOT NULL,
    case_id BIGINT,
    case_public_id TEXT NOT NULL,
    detail  TEXT    NOT NULL,
    prev    BYTEA    NOT NULL,
    hash    BYTEA    NOT NULL
);
CREATE INDEX audit_log_case ON audit_log (case_id, seq) WHERE case_id IS NOT NULL;
CREATE INDEX audit_log_action ON audit_log (action, at);
-- Staff: analysts and admins. Passwords are argon2id PHC strings.
CREATE TABLE users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL,
    role          TEXT    NOT NULL,
    language      TEXT    NOT NULL DEFAULT 'en',
    password_hash TEXT    NOT NULL,
    created_at    BIGINT NOT NULL,
    disabled_at   BIGINT
);
-- Console sessions: only the token's hash is kept; csrf is the value the
-- session's forms must carry.
CREATE TABLE sessions (
    token_hash   BYTEA    PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id),
    csrf         TEXT    NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
-- The console lists a reporter's reports, newest first (SQLite's index of
-- 00001 holds the rowid in the same order).
CREATE INDEX reports_reporter_email ON reports (reporter_email, id);
-- Staff bearer tokens are tokens of scope 'staff' that name their user.
ALTER TABLE tokens ADD COLUMN user_id BIGINT REFERENCES users (id);

-- +goose Down
DROP INDEX reports_reporter_email;
ALTER TABLE tokens DROP COLUMN user_id;
DROP TABLE sessions;
DROP TABLE users;
DROP TABLE audit_log;
DROP TABLE case_queue;
DROP TABLE case_hosts;
DROP TABLE case_ips;
DROP TABLE case_reporters;
DROP TABLE case_reports;
DROP TABLE cases;
