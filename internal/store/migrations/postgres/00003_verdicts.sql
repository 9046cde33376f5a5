-- +goose Up
-- Each item carries its attribution verdict as of its own time: not_ours,
-- unassigned or assigned, with the resource and account it named then.
ALTER TABLE incidents ADD COLUMN verdict TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN resource TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN account TEXT NOT NULL DEFAULT '';
ALTER TABLE urls ADD COLUMN verdict TEXT NOT NULL DEFAULT '';
ALTER TABLE urls ADD COLUMN resource TEXT NOT NULL DEFAULT '';
ALTER TABLE urls ADD COLUMN account TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE urls DROP COLUMN account;
ALTER TABLE urls DROP COLUMN resource;
ALTER TABLE urls DROP COLUMN verdict;
ALTER TABLE incidents DROP COLUMN account;
ALTER TABLE incidents DROP COLUMN resource;
ALTER TABLE incidents DROP COLUMN verdict;
