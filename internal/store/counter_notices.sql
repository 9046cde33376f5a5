-- DMCA counter-notices, 17 U.S.C. § 512(g) (internal/dmca). Times are Unix
-- milliseconds; notice is the submitted form as JSON.

-- name: insert-counter-notice
INSERT INTO counter_notices (case_id, account, notice, received_at, forwarded_at, restore_earliest, restore_latest, court_action_at, restored_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id;

-- name: counter-notices-of-case
SELECT id, case_id, account, notice, received_at, forwarded_at, restore_earliest, restore_latest, court_action_at, restored_at
FROM counter_notices WHERE case_id = $1 ORDER BY received_at, id;

-- The first forwarding counts: forwarding again keeps it.
-- name: set-counter-notice-forwarded
UPDATE counter_notices SET forwarded_at = COALESCE(forwarded_at, $2) WHERE id = $1;

-- Notice of a court action ends the restore window of the case's open
-- counter-notices (§ 512(g)(2)(C)).
-- name: record-court-action
UPDATE counter_notices SET court_action_at = $2
WHERE case_id = $1 AND court_action_at IS NULL AND restored_at IS NULL;

-- name: mark-counter-notice-restored
UPDATE counter_notices SET restored_at = $2
WHERE id = $1 AND restored_at IS NULL AND court_action_at IS NULL;

-- name: counter-notice-state
SELECT court_action_at, restored_at FROM counter_notices WHERE id = $1;

-- Strikes of a repeat infringer (§ 512(i)(1)(A)): the account's DMCA cases
-- closed with the material taken down, except those where a counter-notice
-- was filed and no court action followed: the material came back lawfully.
-- name: dmca-strikes
SELECT COUNT(*) FROM cases c
WHERE c.account = $1 AND c.category = 'dmca' AND c.outcome IN ($2, $3) AND c.closed_at >= $4
  AND (NOT EXISTS (SELECT 1 FROM counter_notices n WHERE n.case_id = c.id)
       OR EXISTS (SELECT 1 FROM counter_notices n WHERE n.case_id = c.id AND n.court_action_at IS NOT NULL));
