package store

import (
	"context"
	"database/sql"
	"net/netip"
	"time"

	"abusedesk/internal/attribution"
)

// ReplaceRanges makes rs the provider's address space, in one transaction.
func (s *Store) ReplaceRanges(ctx context.Context, rs []attribution.Range) error {
	t, err := s.W.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer t.Rollback()
	tx := sqlTx{t, s}
	if err := tx.exec(ctx, s.Q("delete-ranges")); err != nil {
		return err
	}
	for _, r := range rs {
		if err := tx.exec(ctx, s.Q("insert-range"), r.Prefix.String(), r.Service, r.Region, r.NetworkBorderGroup); err != nil {
			return err
		}
	}
	return t.Commit()
}

// InventoryCounts says what an import stored.
type InventoryCounts struct {
	Accounts, Resources, Assignments, Hostnames int
}

// ImportInventory stores the good records of inv in one transaction:
// accounts and resources are created or updated by their ids; assignments
// and host names are added to the history. A line whose assignment overlaps
// one of the same prefix already stored (or in the file) is refused by line;
// nested prefixes are fine. What the database already holds always wins.
func (s *Store) ImportInventory(ctx context.Context, inv *attribution.Inventory) (InventoryCounts, []attribution.LineError, error) {
	var n InventoryCounts
	exists := func(q string) func(string) bool {
		return func(id string) bool {
			var x int64
			return s.R.QueryRowContext(ctx, q, id).Scan(&x) == nil
		}
	}
	errs := inv.Validate(attribution.Known{
		Account:  exists("SELECT id FROM accounts WHERE ext_id = $1"),
		Resource: exists("SELECT id FROM resources WHERE ext_id = $1"),
	})
	t, err := s.W.BeginTx(ctx, nil)
	if err != nil {
		return n, nil, err
	}
	defer t.Rollback()
	tx := sqlTx{t, s}
	for _, a := range inv.Accounts {
		if err := tx.exec(ctx, s.Q("upsert-account"), a.ID, a.Name, a.SecurityEmail, a.Email, a.Language); err != nil {
			return n, nil, err
		}
		n.Accounts++
	}
	for _, r := range inv.Resources {
		var acct int64
		if _, err := tx.scan(ctx, s.Q("account-id"), []any{r.Account}, &acct); err != nil {
			return n, nil, err
		}
		if err := tx.exec(ctx, s.Q("upsert-resource"), r.ID, acct, r.Type, r.Service, r.Region); err != nil {
			return n, nil, err
		}
		n.Resources++
	}
	res, err := s.loadResources(ctx, t)
	if err != nil {
		return n, nil, err
	}
	handle := func(id string) (uint32, bool) { h, ok := res.byExt[id]; return h, ok }

	// Assignments: what is stored, then the file's; a conflict that
	// involves a line of the file refuses that line.
	old, err := s.loadAssignments(ctx, t, res)
	if err != nil {
		return n, nil, err
	}
	add, lines, aerrs := inv.AssignmentsFor(handle)
	errs = append(errs, aerrs...)
	all := append(old, add...)
	allLines := append(make([]int, len(old)), lines...)
	_, cs := attribution.Build(all)
	refused := refusedLines(attribution.ConflictLineErrors(cs, allLines, "prefix"), &errs)
	for i, a := range add {
		if refused[lines[i]] {
			continue
		}
		if err := tx.exec(ctx, s.Q("insert-assignment"), res.dbID[a.Resource], a.Prefix.String(), a.From.UTC(), nullTime(a.To)); err != nil {
			return n, nil, err
		}
		n.Assignments++
	}

	oldHosts, err := s.loadHosts(ctx, t, res)
	if err != nil {
		return n, nil, err
	}
	hadd, hlines, herrs := inv.HostAssignmentsFor(handle)
	errs = append(errs, herrs...)
	hall := append(oldHosts, hadd...)
	hallLines := append(make([]int, len(oldHosts)), hlines...)
	_, hcs := attribution.BuildHosts(hall)
	hrefused := refusedLines(attribution.ConflictLineErrors(hcs, hallLines, "host"), &errs)
	for i, h := range hadd {
		if hrefused[hlines[i]] {
			continue
		}
		if err := tx.exec(ctx, s.Q("insert-hostname"), res.dbID[h.Resource], h.Host, h.From.UTC(), nullTime(h.To)); err != nil {
			return n, nil, err
		}
		n.Hostnames++
	}
	return n, errs, t.Commit()
}

// refusedLines keeps the conflict errors that name a line of the file
// (stored rows have line 0) and returns the set of those lines.
func refusedLines(ces []attribution.LineError, errs *[]attribution.LineError) map[int]bool {
	out := map[int]bool{}
	for _, e := range ces {
		if e.Line > 0 {
			out[e.Line] = true
			*errs = append(*errs, e)
		}
	}
	return out
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

type resourceSet struct {
	info  []attribution.ResourceInfo
	byExt map[string]uint32
	byDB  map[int64]uint32
	dbID  []int64 // handle → row id
}

type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

func (s *Store) loadResources(ctx context.Context, q querier) (*resourceSet, error) {
	rows, err := q.QueryContext(ctx, s.Q("resources"))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	rs := &resourceSet{byExt: map[string]uint32{}, byDB: map[int64]uint32{}}
	for rows.Next() {
		var id int64
		var r attribution.ResourceInfo
		if err := rows.Scan(&id, &r.ID, &r.Type, &r.Service, &r.Region, &r.Account); err != nil {
			return nil, err
		}
		h := uint32(len(rs.info))
		rs.info = append(rs.info, r)
		rs.dbID = append(rs.dbID, id)
		rs.byExt[r.ID], rs.byDB[id] = h, h
	}
	return rs, rows.Err()
}

func (s *Store) loadAssignments(ctx context.Context, q querier, rs *resourceSet) ([]attribution.Assignment, error) {
	rows, err := q.QueryContext(ctx, s.Q("assignments"))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []attribution.Assignment
	for rows.Next() {
		var id int64
		var prefix string
		var from time.Time
		var to sql.NullTime
		if err := rows.Scan(&id, &prefix, &from, &to); err != nil {
			return nil, err
		}
		p, err := netip.ParsePrefix(prefix)
		if err != nil {
			return nil, err
		}
		out = append(out, attribution.Assignment{Prefix: p, From: from, To: to.Time, Resource: rs.byDB[id]})
	}
	return out, rows.Err()
}

func (s *Store) loadHosts(ctx context.Context, q querier, rs *resourceSet) ([]attribution.HostAssignment, error) {
	rows, err := q.QueryContext(ctx, s.Q("hostnames"))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []attribution.HostAssignment
	for rows.Next() {
		var id int64
		var h attribution.HostAssignment
		var to sql.NullTime
		if err := rows.Scan(&id, &h.Host, &h.From, &to); err != nil {
			return nil, err
		}
		h.To, h.Resource = to.Time, rs.byDB[id]
		out = append(out, h)
	}
	return out, rows.Err()
}

// LoadAttributor builds the attribution indexes from the stored history.
func (s *Store) LoadAttributor(ctx context.Context) (*attribution.Attributor, error) {
	rs, err := s.loadResources(ctx, s.R)
	if err != nil {
		return nil, err
	}
	as, err := s.loadAssignments(ctx, s.R, rs)
	if err != nil {
		return nil, err
	}
	hs, err := s.loadHosts(ctx, s.R, rs)
	if err != nil {
		return nil, err
	}
	rows, err := s.R.QueryContext(ctx, s.Q("ranges"))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ranges []attribution.Range
	for rows.Next() {
		var r attribution.Range
		var p string
		if err := rows.Scan(&p, &r.Service, &r.Region, &r.NetworkBorderGroup); err != nil {
			return nil, err
		}
		if r.Prefix, err = netip.ParsePrefix(p); err != nil {
			return nil, err
		}
		ranges = append(ranges, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// The history was checked on import; Build's conflicts cannot occur.
	ix, _ := attribution.Build(as)
	hx, _ := attribution.BuildHosts(hs)
	return &attribution.Attributor{Space: attribution.NewAddressSpace(ranges), Index: ix, Hosts: hx, Resources: rs.info}, nil
}
