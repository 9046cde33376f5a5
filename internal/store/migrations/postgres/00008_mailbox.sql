-- +goose Up
-- The abuse@ mailbox (issue 6). Every mail the SMTP listener accepts is a
-- row here, committed with its SHA-256 before the 250: nothing that arrives
-- is dropped. Times are Unix milliseconds.
-- state: new (waiting for the processor), report (became reports), reply
-- (joined a case's timeline), incomplete (a person was told what is
-- missing), review (nobody could read it: an analyst looks), bounce (a
-- delivery status notification about one of the desk's own mails), ignored
-- (the desk's own mail come back, or a not-spam feedback), done (an analyst
-- handled a review entry).
-- detail is JSON: what the processor found (missing fields, report and case
-- ids, the reason for review, whether an answer was mailed).
CREATE TABLE inbound_mails (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id    TEXT    NOT NULL UNIQUE,
    received_at  BIGINT  NOT NULL,
    remote_addr  TEXT    NOT NULL,
    helo         TEXT    NOT NULL,
    mail_from    TEXT    NOT NULL,
    rcpt_to      TEXT    NOT NULL,
    tls          BOOLEAN NOT NULL,
    size         BIGINT  NOT NULL,
    sha256       TEXT    NOT NULL,
    raw          BYTEA   NOT NULL,
    state        TEXT    NOT NULL,
    parser       TEXT    NOT NULL DEFAULT '',
    from_addr    TEXT    NOT NULL DEFAULT '',
    subject      TEXT    NOT NULL DEFAULT '',
    message_id   TEXT    NOT NULL DEFAULT '',
    machine      BOOLEAN NOT NULL DEFAULT FALSE,
    case_id      BIGINT,
    detail       TEXT    NOT NULL DEFAULT '{}',
    attempts     BIGINT  NOT NULL DEFAULT 0,
    processed_at BIGINT,
    handled_by   TEXT    NOT NULL DEFAULT '',
    handled_at   BIGINT
);
CREATE INDEX inbound_mails_state ON inbound_mails (state, id);
CREATE INDEX inbound_mails_received ON inbound_mails (received_at);

-- +goose Down
DROP TABLE inbound_mails;
