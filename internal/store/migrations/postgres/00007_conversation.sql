-- +goose Up
-- Talking to reporters and customers (issue 5). Times are Unix milliseconds.

-- mail_events: something a party must be told of, written in the same
-- transaction as the change it reports (a case action, an intake, a
-- message). internal/notify turns each into mails and deletes it, so a
-- crash between the change and the mail loses nothing.
CREATE TABLE mail_events (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind       TEXT    NOT NULL,
    case_id    BIGINT,
    report_id  BIGINT,
    detail     TEXT    NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL
);

-- The outbox: every mail, composed once, kept as its raw RFC 5322 bytes.
-- state: queued (waiting or retrying), sent, failed (permanent, or out of
-- attempts). dedupe_key makes composing idempotent: one mail per occasion.
-- round_start is attempts when the mail was last queued again from the
-- console: a retry starts a fresh round of attempts.
-- reply_token is the +TOKEN of the mail's Reply-To (abuse+TOKEN@domain):
-- it names the case and the recipient when a reply comes back.
CREATE TABLE outbox (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id      TEXT    NOT NULL UNIQUE,
    dedupe_key      TEXT    NOT NULL UNIQUE,
    kind            TEXT    NOT NULL,
    case_id         BIGINT,
    report_id       BIGINT,
    party           TEXT    NOT NULL,
    recipient       TEXT    NOT NULL,
    mail_from       TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    language        TEXT    NOT NULL,
    reply_token     TEXT    NOT NULL UNIQUE,
    raw             BYTEA    NOT NULL,
    state           TEXT    NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    round_start     BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT    NOT NULL DEFAULT '',
    next_attempt_at BIGINT,
    created_at      BIGINT NOT NULL,
    sent_at         BIGINT
);
CREATE INDEX outbox_state ON outbox (state, id);
CREATE INDEX outbox_case ON outbox (case_id, id) WHERE case_id IS NOT NULL;
CREATE INDEX outbox_report ON outbox (report_id, id) WHERE report_id IS NOT NULL;
-- Every delivery attempt, written in the transaction that sets the mail's
-- state: the console shows why a mail failed.
CREATE TABLE outbox_attempts (
    outbox_id BIGINT NOT NULL,
    attempt   BIGINT NOT NULL,
    at        BIGINT NOT NULL,
    result    TEXT    NOT NULL,
    code      BIGINT NOT NULL,
    detail    TEXT    NOT NULL,
    PRIMARY KEY (outbox_id, attempt)
);

-- More status links for a report: each mail to a reporter carries a fresh
-- one (only hashes are kept, so the intake token cannot be mailed later).
CREATE TABLE status_tokens (
    token_hash BYTEA    PRIMARY KEY,
    report_id  BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX status_tokens_report ON status_tokens (report_id);

-- The consent ledger (00001) grows to customers: a reporter consents per
-- report (report_id), a customer per case (case_id), so report_id may now
-- be NULL; subject names who consented (reporter email, account id), actor
-- who recorded it.
ALTER TABLE consents ALTER COLUMN report_id DROP NOT NULL;
ALTER TABLE consents ADD COLUMN case_id BIGINT;
ALTER TABLE consents ADD COLUMN subject TEXT NOT NULL DEFAULT '';
ALTER TABLE consents ADD COLUMN actor TEXT NOT NULL DEFAULT '';
CREATE INDEX consents_case ON consents (case_id, id) WHERE case_id IS NOT NULL;

-- Mediation: messages between a case's reporters, its customer and the
-- desk. state: pending (relayed at relay_at unless an analyst holds it),
-- held, relayed, kept (to the desk only, nothing to relay).
CREATE TABLE case_messages (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id    BIGINT NOT NULL,
    report_id  BIGINT,
    sender     TEXT    NOT NULL,
    recipient  TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    state      TEXT    NOT NULL,
    relay_at   BIGINT,
    decided_by TEXT    NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    relayed_at BIGINT
);
CREATE INDEX case_messages_case ON case_messages (case_id, id);
CREATE INDEX case_messages_report ON case_messages (report_id, id) WHERE report_id IS NOT NULL;
CREATE INDEX case_messages_due ON case_messages (relay_at) WHERE state = 'pending';

-- Customer portal: magic links (kind login, one use, short-lived) and API
-- keys (kind api, until revoked); sessions as for the console.
CREATE TABLE portal_tokens (
    token_hash BYTEA    PRIMARY KEY,
    account    TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    email      TEXT    NOT NULL DEFAULT '',
    label      TEXT    NOT NULL DEFAULT '',
    case_id    BIGINT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    used_at    BIGINT,
    revoked_at BIGINT
);
CREATE INDEX portal_tokens_account ON portal_tokens (account, kind);
-- The portal's login form finds an account by its contact address.
CREATE INDEX accounts_contact ON accounts (lower(CASE WHEN security_email <> '' THEN security_email ELSE email END));
CREATE TABLE portal_sessions (
    token_hash   BYTEA    PRIMARY KEY,
    account      TEXT    NOT NULL,
    email        TEXT    NOT NULL,
    csrf         TEXT    NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);

-- DMCA counter-notices, 17 U.S.C. § 512(g)(3). notice is the submitted
-- form as JSON; the restore window (10 to 14 business days after receipt,
-- § 512(g)(2)(C)) is stored with it; court_action_at ends it.
CREATE TABLE counter_notices (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id          BIGINT NOT NULL,
    account          TEXT    NOT NULL,
    notice           TEXT    NOT NULL,
    received_at      BIGINT NOT NULL,
    forwarded_at     BIGINT,
    restore_earliest BIGINT NOT NULL,
    restore_latest   BIGINT NOT NULL,
    court_action_at  BIGINT,
    restored_at      BIGINT
);
CREATE INDEX counter_notices_case ON counter_notices (case_id);
CREATE INDEX counter_notices_account ON counter_notices (account);

-- +goose Down
DROP TABLE counter_notices;
DROP TABLE portal_sessions;
DROP TABLE portal_tokens;
DROP INDEX accounts_contact;
DROP TABLE case_messages;
DROP INDEX consents_case;
DELETE FROM consents WHERE report_id IS NULL;
ALTER TABLE consents DROP COLUMN case_id;
ALTER TABLE consents DROP COLUMN subject;
ALTER TABLE consents DROP COLUMN actor;
ALTER TABLE consents ALTER COLUMN report_id SET NOT NULL;
DROP TABLE status_tokens;
DROP TABLE outbox_attempts;
DROP TABLE outbox;
DROP TABLE mail_events;
