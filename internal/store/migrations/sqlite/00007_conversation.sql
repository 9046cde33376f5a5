-- +goose Up
-- Talking to reporters and customers (issue 5). Times are Unix milliseconds.

-- mail_events: something a party must be told of, written in the same
-- transaction as the change it reports (a case action, an intake, a
-- message). internal/notify turns each into mails and deletes it, so a
-- crash between the change and the mail loses nothing.
CREATE TABLE mail_events (
    id         INTEGER PRIMARY KEY,
    kind       TEXT    NOT NULL,
    case_id    INTEGER,
    report_id  INTEGER,
    detail     TEXT    NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL
);

-- The outbox: every mail, composed once, kept as its raw RFC 5322 bytes.
-- state: queued (waiting or retrying), sent, failed (permanent, or out of
-- attempts). dedupe_key makes composing idempotent: one mail per occasion.
-- round_start is attempts when the mail was last queued again from the
-- console: a retry starts a fresh round of attempts.
-- reply_token is the +TOKEN of the mail's Reply-To (abuse+TOKEN@domain):
-- it names the case and the recipient when a reply comes back.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    message_id      TEXT    NOT NULL UNIQUE,
    dedupe_key      TEXT    NOT NULL UNIQUE,
    kind            TEXT    NOT NULL,
    case_id         INTEGER,
    report_id       INTEGER,
    party           TEXT    NOT NULL,
    recipient       TEXT    NOT NULL,
    mail_from       TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    language        TEXT    NOT NULL,
    reply_token     TEXT    NOT NULL UNIQUE,
    raw             BLOB    NOT NULL,
    state           TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    round_start     INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT    NOT NULL DEFAULT '',
    next_attempt_at INTEGER,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER
);
CREATE INDEX outbox_state ON outbox (state, id);
CREATE INDEX outbox_case ON outbox (case_id, id) WHERE case_id IS NOT NULL;
CREATE INDEX outbox_report ON outbox (report_id, id) WHERE report_id IS NOT NULL;
-- Every delivery attempt, written in the transaction that sets the mail's
-- state: the console shows why a mail failed.
CREATE TABLE outbox_attempts (
    outbox_id INTEGER NOT NULL,
    attempt   INTEGER NOT NULL,
    at        INTEGER NOT NULL,
    result    TEXT    NOT NULL,
    code      INTEGER NOT NULL,
    detail    TEXT    NOT NULL,
    PRIMARY KEY (outbox_id, attempt)
);

-- More status links for a report: each mail to a reporter carries a fresh
-- one (only hashes are kept, so the intake token cannot be mailed later).
CREATE TABLE status_tokens (
    token_hash BLOB    PRIMARY KEY,
    report_id  INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX status_tokens_report ON status_tokens (report_id);

-- The consent ledger (00001) grows to customers: a reporter consents per
-- report (report_id), a customer per case (case_id), so report_id may now
-- be NULL; subject names who consented (reporter email, account id), actor
-- who recorded it. SQLite cannot drop a NOT NULL: the table is rebuilt.
CREATE TABLE consents_v2 (
    id          INTEGER PRIMARY KEY,
    report_id   INTEGER REFERENCES reports (id),
    case_id     INTEGER,
    party       TEXT     NOT NULL,
    scope       TEXT     NOT NULL,
    subject     TEXT     NOT NULL DEFAULT '',
    granted     BOOLEAN  NOT NULL,
    channel     TEXT     NOT NULL,
    actor       TEXT     NOT NULL DEFAULT '',
    recorded_at DATETIME NOT NULL
);
INSERT INTO consents_v2 (id, report_id, party, scope, granted, channel, recorded_at)
    SELECT id, report_id, party, scope, granted, channel, recorded_at FROM consents;
DROP TABLE consents;
ALTER TABLE consents_v2 RENAME TO consents;
CREATE INDEX consents_report ON consents (report_id, id);
CREATE INDEX consents_case ON consents (case_id, id) WHERE case_id IS NOT NULL;

-- Mediation: messages between a case's reporters, its customer and the
-- desk. state: pending (relayed at relay_at unless an analyst holds it),
-- held, relayed, kept (to the desk only, nothing to relay).
CREATE TABLE case_messages (
    id         INTEGER PRIMARY KEY,
    case_id    INTEGER NOT NULL,
    report_id  INTEGER,
    sender     TEXT    NOT NULL,
    recipient  TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    state      TEXT    NOT NULL,
    relay_at   INTEGER,
    decided_by TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    relayed_at INTEGER
);
CREATE INDEX case_messages_case ON case_messages (case_id, id);
CREATE INDEX case_messages_report ON case_messages (report_id, id) WHERE report_id IS NOT NULL;
CREATE INDEX case_messages_due ON case_messages (relay_at) WHERE state = 'pending';

-- Customer portal: magic links (kind login, one use, short-lived) and API
-- keys (kind api, until revoked); sessions as for the console.
CREATE TABLE portal_tokens (
    token_hash BLOB    PRIMARY KEY,
    account    TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    email      TEXT    NOT NULL DEFAULT '',
    label      TEXT    NOT NULL DEFAULT '',
    case_id    INTEGER,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    used_at    INTEGER,
    revoked_at INTEGER
);
CREATE INDEX portal_tokens_account ON portal_tokens (account, kind);
-- The portal's login form finds an account by its contact address.
CREATE INDEX accounts_contact ON accounts (lower(CASE WHEN security_email <> '' THEN security_email ELSE email END));
CREATE TABLE portal_sessions (
    token_hash   BLOB    PRIMARY KEY,
    account      TEXT    NOT NULL,
    email        TEXT    NOT NULL,
    csrf         TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
);

-- DMCA counter-notices, 17 U.S.C. § 512(g)(3). notice is the submitted
-- form as JSON; the restore window (10 to 14 business days after receipt,
-- § 512(g)(2)(C)) is stored with it; court_action_at ends it.
CREATE TABLE counter_notices (
    id               INTEGER PRIMARY KEY,
    case_id          INTEGER NOT NULL,
    account          TEXT    NOT NULL,
    notice           TEXT    NOT NULL,
    received_at      INTEGER NOT NULL,
    forwarded_at     INTEGER,
    restore_earliest INTEGER NOT NULL,
    restore_latest   INTEGER NOT NULL,
    court_action_at  INTEGER,
    restored_at      INTEGER
);
CREATE INDEX counter_notices_case ON counter_notices (case_id);
CREATE INDEX counter_notices_account ON counter_notices (account);

-- +goose Down
DROP TABLE counter_notices;
DROP TABLE portal_sessions;
DROP TABLE portal_tokens;
DROP INDEX accounts_contact;
DROP TABLE case_messages;
DELETE FROM consents WHERE report_id IS NULL;
DROP TABLE status_tokens;
DROP TABLE outbox_attempts;
DROP TABLE outbox;
DROP TABLE mail_events;
