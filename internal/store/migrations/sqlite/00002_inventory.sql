-- +goose Up
-- The provider's address space (ip-ranges.json), replaced whole on import.
CREATE TABLE address_ranges (
    prefix       TEXT PRIMARY KEY,
    service      TEXT NOT NULL,
    region       TEXT NOT NULL,
    border_group TEXT NOT NULL
);
-- The inventory: accounts, their resources, and the history of which
-- resource held which prefix or host name when. The history is the source
-- of truth; the in-memory index is built from it.
CREATE TABLE accounts (
    id             INTEGER PRIMARY KEY,
    ext_id         TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    security_email TEXT NOT NULL,
    email          TEXT NOT NULL,
    language       TEXT NOT NULL
);
CREATE TABLE resources (
    id         INTEGER PRIMARY KEY,
    ext_id     TEXT    NOT NULL UNIQUE,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    type       TEXT    NOT NULL,
    service    TEXT    NOT NULL,
    region     TEXT    NOT NULL
);
CREATE TABLE assignments (
    id          INTEGER PRIMARY KEY,
    resource_id INTEGER  NOT NULL REFERENCES resources (id),
    prefix      TEXT     NOT NULL,
    valid_from  DATETIME NOT NULL,
    valid_to    DATETIME
);
CREATE TABLE hostnames (
    id          INTEGER PRIMARY KEY,
    resource_id INTEGER  NOT NULL REFERENCES resources (id),
    host        TEXT     NOT NULL,
    valid_from  DATETIME NOT NULL,
    valid_to    DATETIME
);

-- +goose Down
DROP TABLE hostnames;
DROP TABLE assignments;
DROP TABLE resources;
DROP TABLE accounts;
DROP TABLE address_ranges;
