package store

import (
	"context"
	"database/sql"
	"net/netip"
	"sort"
	"strings"
	"time"

	"abusedesk/internal/cases"
)

// Grouping turns reports into cases after they are stored, not in the
// intake transaction: a CSV upload of a million rows can touch a hundred
// thousand resources, and intake must not wait for that (nor hold
// SQLite's one writer that long). The report's transaction writes its id
// to case_queue; the grouper reads the queue in id order, in transactions
// of groupChunk keys, and deletes the id with the last one. Linking a
// report to a case is idempotent (case_reports' key), so a grouper that
// dies half-way redoes only what is missing.

const (
	groupChunk     = 200    // case keys per transaction
	groupMaxIPs    = 100000 // distinct addresses of one report recorded for search
	groupQueueRead = 64
)

type caseKey struct{ account, resource string }

type caseHit struct {
	items int
	last  time.Time
	ips   []netip.Addr
	urls  []string
}

type groupingReport struct {
	id           int64
	publicID     string
	typ, subtype string
	lane, email  string
	created      time.Time
	keys         []caseKey
	hits         map[caseKey]*caseHit
}

// GroupPending groups every queued report into cases and returns how many
// reports it grouped. Safe to run on several instances at once.
func (s *Store) GroupPending(ctx context.Context, p cases.Policy, now func() time.Time) (int, error) {
	n := 0
	for {
		ids, err := s.ids(ctx, s.Q("case-queue-head"), groupQueueRead)
		if err != nil || len(ids) == 0 {
			return n, err
		}
		for _, id := range ids {
			if err := s.groupReport(ctx, id, p, now); err != nil {
				return n, err
			}
			n++
		}
	}
}

func (s *Store) readGrouping(ctx context.Context, id int64) (*groupingReport, error) {
	g := &groupingReport{id: id, hits: map[caseKey]*caseHit{}}
	var created any
	err := s.R.QueryRowContext(ctx, s.Q("grouping-report"), id).Scan(&g.id, &g.publicID, &g.typ, &g.subtype, &g.lane, &g.email, &created)
	if err != nil {
		return nil, err
	}
	g.created = anyTime(created)
	hit := func(k caseKey) *caseHit {
		h := g.hits[k]
		if h == nil {
			h = &caseHit{}
			g.hits[k] = h
			g.keys = append(g.keys, k)
		}
		return h
	}
	rows, err := s.R.QueryContext(ctx, s.Q("grouping-incident-keys"), id)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var k caseKey
		var n int
		var last any
		if err := rows.Scan(&k.account, &k.resource, &n, &last); err != nil {
			rows.Close()
			return nil, err
		}
		h := hit(k)
		h.items += n
		if t := anyTime(last); t.After(h.last) {
			h.last = t
		}
	}
	rows.Close()
	if rows.Err() != nil {
		return nil, rows.Err()
	}
	rows, err = s.R.QueryContext(ctx, s.Q("grouping-incident-ips"), id, groupMaxIPs)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var k caseKey
		var ip string
		if err := rows.Scan(&k.account, &k.resource, &ip); err != nil {
			rows.Close()
			return nil, err
		}
		if a, err := netip.ParseAddr(ip); err == nil {
			h := hit(k)
			h.ips = append(h.ips, a)
		}
	}
	rows.Close()
	if rows.Err() != nil {
		return nil, rows.Err()
	}
	rows, err = s.R.QueryContext(ctx, s.Q("grouping-urls"), id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var k caseKey
		var u string
		if err := rows.Scan(&k.account, &k.resource, &u); err != nil {
			return nil, err
		}
		h := hit(k)
		h.items++
		h.urls = append(h.urls, u)
		if g.created.After(h.last) {
			h.last = g.created
		}
	}
	sort.Slice(g.keys, func(i, j int) bool {
		if g.keys[i].account != g.keys[j].account {
			return g.keys[i].account < g.keys[j].account
		}
		return g.keys[i].resource < g.keys[j].resource
	})
	return g, rows.Err()
}

func (s *Store) groupReport(ctx context.Context, id int64, p cases.Policy, now func() time.Time) error {
	g, err := s.readGrouping(ctx, id)
	if isNoRows(err) { // cannot happen (same transaction), but never loop on it
		_, err = s.W.ExecContext(ctx, s.Q("case-queue-done"), id)
		return err
	}
	if err != nil {
		return err
	}
	for off := 0; ; off += groupChunk {
		end := min(off+groupChunk, len(g.keys))
		last := end == len(g.keys)
		if err := s.groupChunk(ctx, g, g.keys[off:end], last, p, now()); err != nil {
			return err
		}
		if last {
			return nil
		}
	}
}

func (s *Store) groupChunk(ctx context.Context, g *groupingReport, keys []caseKey, last bool, p cases.Policy, now time.Time) error {
	t, err := s.W.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer t.Rollback()
	if err := s.lockCases(ctx, t); err != nil {
		return err
	}
	// Another grouper (another instance, or a caller of GroupPending) may
	// have finished this report since it was read from the queue.
	var queued int64
	if err := t.QueryRowContext(ctx, s.Q("case-queued"), g.id).Scan(&queued); isNoRows(err) {
		return nil
	} else if err != nil {
		return err
	}
	for _, k := range keys {
		if err := s.joinCase(ctx, t, g, k, g.hits[k], p, now); err != nil {
			return err
		}
	}
	if last {
		if _, err := t.ExecContext(ctx, s.Q("case-queue-done"), g.id); err != nil {
			return err
		}
		if len(g.keys) > 0 {
			if _, err := t.ExecContext(ctx, s.Q("report-in-review"), g.id); err != nil {
				return err
			}
		}
	}
	return t.Commit()
}

// joinCase adds one report's items about one resource to the open case of
// (account, resource, category), opening one if there is none.
func (s *Store) joinCase(ctx context.Context, t *sql.Tx, g *groupingReport, k caseKey, h *caseHit, p cases.Policy, now time.Time) error {
	var id int64
	err := t.QueryRowContext(ctx, s.Q("open-case-by-key"), k.account, k.resource, g.typ).Scan(&id)
	var c *Case
	opened := false
	switch {
	case isNoRows(err):
		d := p.Open(g.typ, now)
		c = &Case{PublicID: NewPublicID("C-"), Account: k.account, Resource: k.resource, Category: g.typ, Lane: g.lane, CreatedAt: now}
		c.setDomain(d)
		err = t.QueryRowContext(ctx, s.Q("insert-case"), c.PublicID, c.Account, c.Resource, c.Category, strings.Join(c.Subtypes, ","),
			c.Lane, string(c.Status), true, c.Priority, c.Escalated, dueAt(c.Deadline), 0, 0, 0, msOrNil(c.LastIncident),
			now.UnixMilli(), now.UnixMilli()).Scan(&c.ID)
		if err != nil {
			return err
		}
		opened = true
	case err != nil:
		return err
	default:
		if c, err = s.caseIn(ctx, t, id); err != nil {
			return err
		}
	}
	var linked int64
	err = t.QueryRowContext(ctx, s.Q("link-case-report"), c.ID, g.id, h.items, now.UnixMilli()).Scan(&linked)
	if isNoRows(err) {
		return nil // linked by an earlier, interrupted run
	}
	if err != nil {
		return err
	}
	var x int64
	err = t.QueryRowContext(ctx, s.Q("add-case-reporter"), c.ID, strings.ToLower(g.email)).Scan(&x)
	newReporter := err == nil
	if err != nil && !isNoRows(err) {
		return err
	}
	d := c.domain()
	if err := d.Join(g.subtype, newReporter, h.last, now, p); err != nil {
		return err
	}
	c.setDomain(d)
	c.Items += h.items
	c.UpdatedAt = now
	if err := s.writeCase(ctx, t, c, nil); err != nil {
		return err
	}
	for _, a := range h.ips {
		if _, err := t.ExecContext(ctx, s.Q("add-case-ip"), ipKey(a), c.ID); err != nil {
			return err
		}
	}
	for _, u := range h.urls {
		if host := hostOf(u); host != "" {
			if _, err := t.ExecContext(ctx, s.Q("add-case-host"), host, c.ID, u); err != nil {
				return err
			}
		}
	}
	if opened {
		return s.appendAudit(ctx, t, Audit{Actor: "system", Action: "opened", CaseID: c.ID, CasePub: c.PublicID,
			Detail: map[string]any{"report": g.publicID, "account": k.account, "resource": k.resource, "category": g.typ, "lane": g.lane}, At: now})
	}
	return nil
}
