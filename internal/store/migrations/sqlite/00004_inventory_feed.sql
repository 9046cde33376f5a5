-- +goose Up
-- The log of inventory changes in commit order. Every instance keeps its
-- in-memory attribution index in step by applying the entries after the
-- last one it has seen, so a change posted to one instance, or imported
-- with the CLI, reaches the others within a poll interval.
-- kind: 'batch' (body: the accepted lines, JSON Lines), 'ranges' (the address
-- space was replaced), 'reload' (too large to replay: rebuild from the tables).
CREATE TABLE inventory_changes (
    seq        INTEGER PRIMARY KEY,
    kind       TEXT     NOT NULL,
    body       TEXT     NOT NULL,
    created_at DATETIME NOT NULL
);
-- Closing an open assignment or host name finds it by prefix or host.
CREATE INDEX assignments_prefix ON assignments (prefix);
CREATE INDEX hostnames_host ON hostnames (host);
-- How many items of a report are outside the provider's address space:
-- the one attribution fact a reporter's status shows.
ALTER TABLE reports ADD COLUMN not_ours INTEGER NOT NULL DEFAULT 0;
-- The routing rule that chose the lane (file:line: rule), for the analyst.
ALTER TABLE reports ADD COLUMN lane_rule TEXT NOT NULL DEFAULT '';
-- Bearer tokens of systems (not people): scope says what they may do,
-- e.g. 'inventory' for the feed of inventory changes. Only a hash is kept.
CREATE TABLE tokens (
    id         INTEGER PRIMARY KEY,
    name       TEXT     NOT NULL,
    scope      TEXT     NOT NULL,
    token_hash BLOB    NOT NULL UNIQUE,
    created_at DATETIME NOT NULL,
    revoked_at DATETIME
);

-- +goose Down
DROP TABLE tokens;
ALTER TABLE reports DROP COLUMN lane_rule;
ALTER TABLE reports DROP COLUMN not_ours;
DROP INDEX hostnames_host;
DROP INDEX assignments_prefix;
DROP TABLE inventory_changes;
