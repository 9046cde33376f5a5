package store

import (
	"context"
	"database/sql"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"abusedesk/internal/attribution"
)

// Kinds of inventory_changes entries.
const (
	ChangeBatch  = "batch"  // body: the accepted lines, JSON Lines
	ChangeRanges = "ranges" // the address space was replaced
	ChangeReload = "reload" // a batch too large to replay: rebuild from the tables
)

// pgInventoryLock serialises inventory writers across PostgreSQL instances, so
// that inventory_changes.seq order is commit order and no follower skips an
// entry committed late.
const pgInventoryLock = 0x0abd_0001

// ReplaceRanges makes rs the provider's address space, in one transaction,
// and logs the change for the other instances. It returns the log's seq.
func (s *Store) ReplaceRanges(ctx context.Context, rs []attribution.Range) (int64, error) {
	t, err := s.W.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer t.Rollback()
	tx := sqlTx{t, s}
	if err := s.lockInventory(ctx, tx); err != nil {
		return 0, err
	}
	if err := tx.exec(ctx, s.Q("delete-ranges")); err != nil {
		return 0, err
	}
	for _, r := range rs {
		if err := tx.exec(ctx, s.Q("insert-range"), r.Prefix.String(), r.Service, r.Region, r.NetworkBorderGroup); err != nil {
			return 0, err
		}
	}
	seq, err := s.logChange(ctx, tx, ChangeRanges, "")
	if err != nil {
		return 0, err
	}
	return seq, t.Commit()
}

func (s *Store) lockInventory(ctx context.Context, tx tx) error {
	if s.Dialect != Postgres {
		return nil // SQLite: the write transaction is the lock
	}
	return tx.exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(pgInventoryLock))
}

func (s *Store) logChange(ctx context.Context, tx tx, kind, body string) (int64, error) {
	var seq int64
	_, err := tx.scan(ctx, s.Q("insert-inventory-change"), []any{kind, body, time.Now().UTC()}, &seq)
	return seq, err
}

// InventoryWrite is one batch of inventory changes that passed every check:
// accounts and resources are created or updated by id; Add are new
// assignments and host names; Close end open ones (matched by resource,
// prefix or host, and from; To is the end). Log is the batch as the
// followers replay it; Reload logs a rebuild instead (for batches too large
// to keep in the log).
type InventoryWrite struct {
	Accounts   []attribution.Account
	Resources  []attribution.Resource
	Add        []attribution.AssignmentRecord
	Close      []attribution.AssignmentRecord
	AddHosts   []attribution.HostnameRecord
	CloseHosts []attribution.HostnameRecord
	Log        string
	Reload     bool
}

// copyThreshold is the batch size from which PostgreSQL gets the
// assignments by COPY instead of one INSERT each (a round trip per row).
const copyThreshold = 2000

// WriteInventory takes the inventory lock, calls prepare (which sees every
// change committed before it: it catches up with the log and checks its
// batch against that), and stores what prepare returns in the same
// transaction with its log entry. It returns the entry's seq, or 0 when
// prepare returned nothing to write.
func (s *Store) WriteInventory(ctx context.Context, prepare func(context.Context) (*InventoryWrite, error)) (int64, error) {
	if s.Dialect == Postgres {
		t, err := s.pool.BeginTx(ctx, pgx.TxOptions{})
		if err != nil {
			return 0, err
		}
		defer t.Rollback(ctx)
		seq, err := s.writeInventory(ctx, pgxTx{t}, prepare)
		if err != nil || seq == 0 {
			return 0, err
		}
		return seq, t.Commit(ctx)
	}
	t, err := s.W.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer t.Rollback()
	seq, err := s.writeInventory(ctx, sqlTx{t, s}, prepare)
	if err != nil || seq == 0 {
		return 0, err
	}
	return seq, t.Commit()
}

func (s *Store) writeInventory(ctx context.Context, tx tx, prepare func(context.Context) (*InventoryWrite, error)) (int64, error) {
	if err := s.lockInventory(ctx, tx); err != nil {
		return 0, err
	}
	w, err := prepare(ctx)
	if err != nil || w == nil {
		return 0, err
	}
	for _, a := range w.Accounts {
		if err := tx.exec(ctx, s.Q("upsert-account"), a.ID, a.Name, a.SecurityEmail, a.Email, a.Language); err != nil {
			return 0, err
		}
	}
	for _, r := range w.Resources {
		if err := tx.exec(ctx, s.Q("upsert-resource"), r.ID, r.Account, r.Type, r.Service, r.Region); err != nil {
			return 0, err
		}
	}
	// Closes first: a reassignment closes the old holder and opens the new
	// holder's assignment of the same prefix in one batch.
	for _, a := range w.Close {
		if err := tx.exec(ctx, s.Q("close-assignment"), a.To.UTC(), a.Prefix.String(), a.From.UTC(), a.Resource); err != nil {
			return 0, err
		}
	}
	if pt, ok := tx.(pgxTx); ok && len(w.Add) >= copyThreshold {
		if err := s.copyAssignments(ctx, pt, w.Add); err != nil {
			return 0, err
		}
	} else if st, ok := tx.(sqlTx); ok && len(w.Add) >= copyThreshold {
		if err := s.insertAssignmentsBatched(ctx, st, w.Add); err != nil {
			return 0, err
		}
	} else {
		for _, a := range w.Add {
			if err := tx.exec(ctx, s.Q("insert-assignment"), a.Resource, a.Prefix.String(), a.From.UTC(), nullTime(a.To)); err != nil {
				return 0, err
			}
		}
	}
	for _, h := range w.CloseHosts {
		if err := tx.exec(ctx, s.Q("close-hostname"), h.To.UTC(), h.Host, h.From.UTC(), h.Resource); err != nil {
			return 0, err
		}
	}
	for _, h := range w.AddHosts {
		if err := tx.exec(ctx, s.Q("insert-hostname"), h.Resource, h.Host, h.From.UTC(), nullTime(h.To)); err != nil {
			return 0, err
		}
	}
	kind, body := ChangeBatch, w.Log
	if w.Reload {
		kind, body = ChangeReload, ""
	}
	return s.logChange(ctx, tx, kind, body)
}

// resourceIDs maps every resource id to its row id, for the batched paths
// (a subselect per row costs a B-tree search per row). rows is a
// database/sql or a pgx result; both close it.
func resourceIDs(rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}) (map[string]int64, error) {
	ids := map[string]int64{}
	for rows.Next() {
		var id int64
		var ext string
		if err := rows.Scan(&id, &ext); err != nil {
			return nil, err
		}
		ids[ext] = id
	}
	return ids, rows.Err()
}

const qResourceIDs = "SELECT id, ext_id FROM resources"

// assignmentBatch is the rows per INSERT on SQLite (4 columns each).
const assignmentBatch = 200

// insertAssignmentsBatched writes a large batch on SQLite as multi-row
// INSERTs: one statement per row ran at ~95k rows/s, the multi-row form
// several times faster.
func (s *Store) insertAssignmentsBatched(ctx context.Context, t sqlTx, as []attribution.AssignmentRecord) error {
	rows, err := t.QueryContext(ctx, qResourceIDs)
	if err != nil {
		return err
	}
	ids, err := resourceIDs(rows)
	rows.Close()
	if err != nil {
		return err
	}
	stmt := func(n int) string {
		return "INSERT INTO assignments (resource_id, prefix, valid_from, valid_to) VALUES " +
			strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?), ", n), ", ")
	}
	full, err := t.PrepareContext(ctx, stmt(assignmentBatch))
	if err != nil {
		return err
	}
	defer full.Close()
	args := make([]any, 0, 4*assignmentBatch)
	for off := 0; off < len(as); off += assignmentBatch {
		chunk := as[off:min(off+assignmentBatch, len(as))]
		args = args[:0]
		for _, a := range chunk {
			id, ok := ids[a.Resource]
			if !ok {
				return errors.New("store: assignment of unknown resource " + a.Resource)
			}
			args = append(args, id, a.Prefix.String(), a.From.UTC(), nullTime(a.To))
		}
		if len(chunk) == assignmentBatch {
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = t.ExecContext(ctx, stmt(len(chunk)), args...)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) copyAssignments(ctx context.Context, t pgxTx, as []attribution.AssignmentRecord) error {
	rows, err := t.Query(ctx, qResourceIDs)
	if err != nil {
		return err
	}
	ids, err := resourceIDs(rows)
	rows.Close()
	if err != nil {
		return err
	}
	i := 0
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if i == len(as) {
			return nil, nil
		}
		a := as[i]
		i++
		id, ok := ids[a.Resource]
		if !ok {
			return nil, errors.New("store: assignment of unknown resource " + a.Resource)
		}
		return []any{id, a.Prefix.String(), a.From.UTC(), nullTime(a.To)}, nil
	})
	_, err = t.CopyFrom(ctx, pgx.Identifier{"assignments"}, []string{"resource_id", "prefix", "valid_from", "valid_to"}, src)
	return err
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

// AccountExists tells whether an account id is stored.
func (s *Store) AccountExists(ctx context.Context, id string) (bool, error) {
	var x int
	err := s.R.QueryRowContext(ctx, s.Q("account-exists"), id).Scan(&x)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// Resource reads one stored resource by id.
func (s *Store) Resource(ctx context.Context, id string) (attribution.ResourceInfo, bool, error) {
	var r attribution.ResourceInfo
	err := s.R.QueryRowContext(ctx, s.Q("resource"), id).Scan(&r.ID, &r.Type, &r.Service, &r.Region, &r.Account)
	if errors.Is(err, sql.ErrNoRows) {
		return r, false, nil
	}
	return r, err == nil, err
}

// InventoryState is the stored inventory as the in-memory indexes need it:
// resource handles are positions in Resources, and Seq is the last log
// entry the state includes.
type InventoryState struct {
	Seq         int64
	Ranges      []attribution.Range
	Resources   []attribution.ResourceInfo
	Assignments []attribution.Assignment
	Hosts       []attribution.HostAssignment
}

// LoadInventory reads the whole inventory in one snapshot.
func (s *Store) LoadInventory(ctx context.Context) (*InventoryState, error) {
	opts := &sql.TxOptions{ReadOnly: true}
	if s.Dialect == Postgres {
		opts.Isolation = sql.LevelRepeatableRead // one snapshot for every query below
	}
	t, err := s.R.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer t.Rollback()
	st := &InventoryState{}
	// seq first: in SQLite the snapshot starts with the first read.
	if err := t.QueryRowContext(ctx, s.Q("inventory-seq")).Scan(&st.Seq); err != nil {
		return nil, err
	}
	handles := map[string]uint32{}
	err = each(ctx, t, s.Q("resources"), nil, func(rows *sql.Rows) error {
		var r attribution.ResourceInfo
		if err := rows.Scan(&r.ID, &r.Type, &r.Service, &r.Region, &r.Account); err != nil {
			return err
		}
		handles[r.ID] = uint32(len(st.Resources))
		st.Resources = append(st.Resources, r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = each(ctx, t, s.Q("assignments"), nil, func(rows *sql.Rows) error {
		var ext, prefix string
		var from time.Time
		var to sql.NullTime
		if err := rows.Scan(&ext, &prefix, &from, &to); err != nil {
			return err
		}
		p, err := netip.ParsePrefix(prefix)
		if err != nil {
			return err
		}
		st.Assignments = append(st.Assignments, attribution.Assignment{Prefix: p, From: from, To: to.Time, Resource: handles[ext]})
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = each(ctx, t, s.Q("hostnames"), nil, func(rows *sql.Rows) error {
		var ext string
		var h attribution.HostAssignment
		var to sql.NullTime
		if err := rows.Scan(&ext, &h.Host, &h.From, &to); err != nil {
			return err
		}
		h.To, h.Resource = to.Time, handles[ext]
		st.Hosts = append(st.Hosts, h)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if st.Ranges, err = s.loadRanges(ctx, t); err != nil {
		return nil, err
	}
	return st, nil
}

// LoadInventoryFor reads only what can decide about addr (the assignments of
// every prefix that contains it) or host (its host name and the wildcards
// above it), with the resources they name and the whole address space: one
// answer without loading the whole history (abusedesk attribute).
func (s *Store) LoadInventoryFor(ctx context.Context, addr netip.Addr, host string) (*InventoryState, error) {
	st := &InventoryState{}
	var err error
	if st.Ranges, err = s.loadRanges(ctx, s.R); err != nil {
		return nil, err
	}
	handles := map[string]uint32{}
	handle := func(ext string) (uint32, error) {
		if h, ok := handles[ext]; ok {
			return h, nil
		}
		r, ok, err := s.Resource(ctx, ext)
		if err != nil || !ok {
			return 0, err
		}
		h := uint32(len(st.Resources))
		handles[ext] = h
		st.Resources = append(st.Resources, r)
		return h, nil
	}
	in := func(q string, keys []string) (string, []any) {
		args := make([]any, len(keys))
		marks := make([]string, len(keys))
		for i, k := range keys {
			args[i], marks[i] = k, "$"+strconv.Itoa(i+1)
		}
		return strings.Replace(q, "$@", strings.Join(marks, ", "), 1), args
	}
	if addr.IsValid() {
		addr = addr.Unmap().WithZone("")
		var keys []string
		for bits := 0; bits <= addr.BitLen(); bits++ {
			p, _ := addr.Prefix(bits)
			keys = append(keys, p.String())
		}
		q, args := in(s.Q("assignments-of-prefixes"), keys)
		err = each(ctx, s.R, q, args, func(rows *sql.Rows) error {
			var ext, prefix string
			var from time.Time
			var to sql.NullTime
			if err := rows.Scan(&ext, &prefix, &from, &to); err != nil {
				return err
			}
			p, err := netip.ParsePrefix(prefix)
			if err != nil {
				return err
			}
			h, err := handle(ext)
			st.Assignments = append(st.Assignments, attribution.Assignment{Prefix: p, From: from, To: to.Time, Resource: h})
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	if host != "" {
		keys := []string{host}
		for rest := host; ; {
			_, after, ok := strings.Cut(rest, ".")
			if !ok || !strings.Contains(after, ".") {
				break
			}
			keys = append(keys, "*."+after)
			rest = after
		}
		q, args := in(s.Q("hostnames-of"), keys)
		err = each(ctx, s.R, q, args, func(rows *sql.Rows) error {
			var ext string
			var h attribution.HostAssignment
			var to sql.NullTime
			if err := rows.Scan(&ext, &h.Host, &h.From, &to); err != nil {
				return err
			}
			var err error
			h.To = to.Time
			h.Resource, err = handle(ext)
			st.Hosts = append(st.Hosts, h)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return st, nil
}

// LoadRanges reads the address space.
func (s *Store) LoadRanges(ctx context.Context) ([]attribution.Range, error) {
	return s.loadRanges(ctx, s.R)
}

type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

func (s *Store) loadRanges(ctx context.Context, q querier) ([]attribution.Range, error) {
	var out []attribution.Range
	err := each(ctx, q, s.Q("ranges"), nil, func(rows *sql.Rows) error {
		var r attribution.Range
		var p string
		if err := rows.Scan(&p, &r.Service, &r.Region, &r.NetworkBorderGroup); err != nil {
			return err
		}
		var err error
		r.Prefix, err = netip.ParsePrefix(p)
		out = append(out, r)
		return err
	})
	return out, err
}

func each(ctx context.Context, q querier, query string, args []any, f func(*sql.Rows) error) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := f(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// InventoryChange is one entry of the inventory log.
type InventoryChange struct {
	Seq  int64
	Kind string
	Body string
}

// InventoryChangesSince returns the log entries after seq, oldest first, a
// page at a time (call again with the last seq until none is returned).
func (s *Store) InventoryChangesSince(ctx context.Context, seq int64) ([]InventoryChange, error) {
	var out []InventoryChange
	err := each(ctx, s.R, s.Q("inventory-changes-since"), []any{seq}, func(rows *sql.Rows) error {
		var c InventoryChange
		if err := rows.Scan(&c.Seq, &c.Kind, &c.Body); err != nil {
			return err
		}
		out = append(out, c)
		return nil
	})
	return out, err
}
