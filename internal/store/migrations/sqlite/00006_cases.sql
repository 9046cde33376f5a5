-- +goose Up
-- Cases: the items of reports attributed to one customer resource, per
-- (account, resource, category). Times are Unix milliseconds. due_at is the
-- deadline, or the largest integer when there is none, so that the default
-- queue order (the oldest overdue first) is one index walk.
CREATE TABLE cases (
    id               INTEGER PRIMARY KEY,
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
    escalated        BOOLEAN NOT NULL DEFAULT 0,
    assignee         TEXT    NOT NULL DEFAULT '',
    due_at           INTEGER NOT NULL,
    report_count     INTEGER NOT NULL DEFAULT 0,
    reporter_count   INTEGER NOT NULL DEFAULT 0,
    item_count       INTEGER NOT NULL DEFAULT 0,
    last_incident_at INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    first_action_at  INTEGER,
    closed_at        INTEGER,
    merged_into      INTEGER
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
    case_id   INTEGER NOT NULL,
    report_id INTEGER NOT NULL,
    items     INTEGER NOT NULL,
    added_at  INTEGER NOT NULL,
    PRIMARY KEY (case_id, report_id)
) WITHOUT ROWID;
CREATE INDEX case_reports_report ON case_reports (report_id);
-- Distinct reporters of a case (the priority counts them; search by email).
CREATE TABLE case_reporters (
    case_id INTEGER NOT NULL,
    email   TEXT    NOT NULL,
    PRIMARY KEY (case_id, email)
) WITHOUT ROWID;
-- (email, case_id): a reporter's cases, newest first, from the index alone.
CREATE INDEX case_reporters_email ON case_reporters (email, case_id);
-- The addresses and hosts a case concerns: search by IP, CIDR (a range of
-- the 16-byte form), host or URL.
CREATE TABLE case_ips (
    ip      BLOB    NOT NULL,
    case_id INTEGER NOT NULL,
    PRIMARY KEY (ip, case_id)
) WITHOUT ROWID;
CREATE TABLE case_hosts (
    host    TEXT    NOT NULL,
    case_id INTEGER NOT NULL,
    url     TEXT    NOT NULL,
    PRIMARY KEY (host, case_id, url)
) WITHOUT ROWID;
-- Reports with an item attributed to a customer, waiting to be grouped
-- into cases (written with the report; the grouper empties it).
CREATE TABLE case_queue (
    report_id INTEGER PRIMARY KEY
);
-- The audit trail: append-only, each entry hashed with the previous one's
-- hash (internal/cases: Entry.Seal), so an edit or a deletion breaks the
-- chain (abusedesk audit verify).
CREATE TABLE audit_log (
    seq     INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    actor   TEXT    NOT NULL,
    action  TEXT    NOT NULL,
    case_id INTEGER,
    case_public_id TEXT NOT NULL,
    detail  TEXT    NOT NULL,
    prev    BLOB    NOT NULL,
    hash    BLOB    NOT NULL
);
CREATE INDEX audit_log_case ON audit_log (case_id, seq) WHERE case_id IS NOT NULL;
CREATE INDEX audit_log_action ON audit_log (action, at);
-- Staff: analysts and admins. Passwords are argon2id PHC strings.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL,
    role          TEXT    NOT NULL,
    language      TEXT    NOT NULL DEFAULT 'en',
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    disabled_at   INTEGER
);
-- Console sessions: only the token's hash is kept; csrf is the value the
-- session's forms must carry.
CREATE TABLE sessions (
    token_hash   BLOB    PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id),
    csrf         TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
-- Staff bearer tokens are tokens of scope 'staff' that name their user.
ALTER TABLE tokens ADD COLUMN user_id INTEGER REFERENCES users (id);

-- +goose Down
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
