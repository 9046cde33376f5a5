// Package inventory keeps the provider's inventory: it applies imports and
// live changes (accounts, resources, assignments, host names) to the
// database and to the in-memory attribution indexes, and publishes a new
// Attributor after every change without ever blocking its readers.
//
// Every instance follows the database's inventory log (store
// InventoryChangesSince): a change posted to one instance or imported with
// the CLI reaches the others' indexes within a poll interval. Writers take
// the log's lock, catch up with it, then check their batch against the
// up-to-date indexes, so two instances never store overlapping assignments.
//
// # What a line means to a feed
//
// An assignment or hostname line whose resource, prefix (or host) and from
// match a stored open one and that carries a to closes it (the address was
// released at to); a line identical to a stored one is a replay and changes
// nothing (feeds resend); any other line is a new entry, refused by line
// when it overlaps a stored entry of the same prefix or host (nested prefixes
// are fine). Account and resource lines create or update by id.
package inventory

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"abusedesk/internal/attribution"
	"abusedesk/internal/report"
	"abusedesk/internal/store"
)

// MaxLoggedLines is the largest batch replayed line by line by the other
// instances; a larger one (a full import) makes them reload from the tables.
var MaxLoggedLines = 10000

// Counts says what a batch changed.
type Counts struct {
	Accounts     int `json:"accounts"`
	Resources    int `json:"resources"`
	Assignments  int `json:"assignments"`
	Closed       int `json:"assignments_closed"`
	Hostnames    int `json:"hostnames"`
	HostsClosed  int `json:"hostnames_closed"`
	Unchanged    int `json:"unchanged"`
	LinesRefused int `json:"lines_refused"`
}

// Keeper holds the in-memory state and serialises changes to it.
type Keeper struct {
	st  *store.Store
	log *slog.Logger
	// OnChange is called with every new Attributor, under the keeper's lock
	// (so in order). Set it before Load.
	OnChange func(*attribution.Attributor)

	mu    sync.Mutex
	seq   int64 // last log entry applied
	space *attribution.AddressSpace
	live  *attribution.Index
	hosts []attribution.HostAssignment
	info  []attribution.ResourceInfo
	byExt map[string]uint32
	cur   atomic.Pointer[attribution.Attributor]
}

// New makes a keeper on st; call Load before use.
func New(st *store.Store, log *slog.Logger) *Keeper {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Keeper{st: st, log: log}
}

// Attributor is the current one (never nil after Load).
func (k *Keeper) Attributor() *attribution.Attributor { return k.cur.Load() }

// Load builds the indexes from the stored inventory.
func (k *Keeper) Load(ctx context.Context) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.reload(ctx)
}

func (k *Keeper) reload(ctx context.Context) error {
	s, err := k.st.LoadInventory(ctx)
	if err != nil {
		return err
	}
	// The history was checked when it was stored; Build's conflicts cannot occur.
	ix, _ := attribution.Build(s.Assignments)
	k.seq, k.live, k.hosts, k.info = s.Seq, ix, s.Hosts, s.Resources
	batches.WithLabelValues("reload").Inc()
	k.space = attribution.NewAddressSpace(s.Ranges)
	k.byExt = make(map[string]uint32, len(s.Resources))
	for i, r := range s.Resources {
		k.byExt[r.ID] = uint32(i)
	}
	hx, _ := attribution.BuildHosts(s.Hosts)
	k.publish(hx)
	return nil
}

// Attributor builds the indexes of a stored state (whole, or a part read by
// store LoadInventoryFor) without keeping it.
func Attributor(s *store.InventoryState) *attribution.Attributor {
	// The history was checked when it was stored; no conflict can occur.
	ix, _ := attribution.Build(s.Assignments)
	hx, _ := attribution.BuildHosts(s.Hosts)
	return &attribution.Attributor{Space: attribution.NewAddressSpace(s.Ranges), Index: ix, Hosts: hx, Resources: s.Resources}
}

func (k *Keeper) publish(hx *attribution.HostIndex) {
	if hx == nil {
		hx = k.Attributor().Hosts
	}
	a := &attribution.Attributor{Space: k.space, Index: k.live, Hosts: hx, Resources: k.info}
	k.cur.Store(a)
	indexSize.WithLabelValues("ranges").Set(float64(a.Space.Len()))
	indexSize.WithLabelValues("assignments").Set(float64(a.Index.Len()))
	indexSize.WithLabelValues("hostnames").Set(float64(a.Hosts.Len()))
	indexSize.WithLabelValues("resources").Set(float64(len(a.Resources)))
	logSeq.Set(float64(k.seq))
	if k.OnChange != nil {
		k.OnChange(a)
	}
}

// Follow applies the log entries other writers commit, every interval,
// until ctx ends.
func (k *Keeper) Follow(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		k.mu.Lock()
		err := k.catchUp(ctx)
		k.mu.Unlock()
		if err != nil && ctx.Err() == nil {
			k.log.Warn("inventory follow", "err", err)
		}
	}
}

// CatchUp applies the log entries committed since the last one applied.
func (k *Keeper) CatchUp(ctx context.Context) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.catchUp(ctx)
}

func (k *Keeper) catchUp(ctx context.Context) error {
	for {
		cs, err := k.st.InventoryChangesSince(ctx, k.seq)
		if err != nil || len(cs) == 0 {
			return err
		}
		// A reload (a large import, chunk after chunk) reads the tables as
		// they are now, which holds every entry up to then: one is enough.
		if slices.ContainsFunc(cs, func(c store.InventoryChange) bool { return c.Kind == store.ChangeReload }) {
			if err := k.reload(ctx); err != nil {
				return err
			}
			continue
		}
		for _, c := range cs {
			if err := k.replay(ctx, c); err != nil {
				return err
			}
		}
	}
}

func (k *Keeper) replay(ctx context.Context, c store.InventoryChange) error {
	switch c.Kind {
	case store.ChangeRanges:
		rs, err := k.st.LoadRanges(ctx)
		if err != nil {
			return err
		}
		k.space = attribution.NewAddressSpace(rs)
		k.seq = c.Seq
		k.publish(nil)
		return nil
	case store.ChangeBatch:
		inv, lerrs, err := attribution.ParseInventory(bytes.NewReader([]byte(c.Body)))
		if err == nil && len(lerrs) == 0 {
			p := k.plan(inv, nil)
			if len(p.errs) == 0 {
				k.commit(p, c.Seq)
				batches.WithLabelValues("log").Inc()
				return nil
			}
			lerrs = p.errs
		}
		// A logged batch was checked against this very state: a problem
		// here means the state drifted. The tables are the truth.
		k.log.Warn("inventory log entry does not replay; reloading", "seq", c.Seq, "err", err, "problems", len(lerrs))
	}
	return k.reload(ctx)
}

// Import applies one batch of inventory lines (JSON Lines, see package
// attribution): the good lines are stored and published, the bad ones
// returned by line. err is a read or database error; then nothing changed.
func (k *Keeper) Import(ctx context.Context, r io.Reader) (Counts, []attribution.LineError, error) {
	inv, errs, err := attribution.ParseInventory(r)
	if err != nil {
		return Counts{}, errs, err
	}
	return k.importBatch(ctx, inv, errs)
}

// ChunkLines is the batch size of ImportStream.
var ChunkLines = 200_000

// ImportStream is Import for a whole inventory (abusedesk import): the lines
// are read, checked and stored ChunkLines at a time, each chunk in its own
// transaction, so memory stays flat at any file size and an interrupted
// import can simply be run again (lines already stored are unchanged). A
// chunk is checked against everything stored before it, so an overlap
// between lines of two chunks refuses only the later line, and an id
// defined again in a later chunk is an update.
func (k *Keeper) ImportStream(ctx context.Context, r io.Reader) (Counts, []attribution.LineError, error) {
	var total Counts
	var all []attribution.LineError
	ir := attribution.NewInventoryReader(r)
	for done := false; !done; {
		inv := &attribution.Inventory{}
		var errs []attribution.LineError
		for n := 0; n < ChunkLines; {
			rec, err := ir.Next()
			var les attribution.LineErrors
			switch {
			case err == io.EOF:
				done = true
			case errors.As(err, &les):
				errs = append(errs, les...)
				n++
				continue
			case err != nil:
				return total, all, fmt.Errorf("reading inventory after line %d: %w", ir.Line(), err)
			}
			if done {
				break
			}
			inv.Add(rec)
			n++
		}
		c, errs, err := k.importBatch(ctx, inv, errs)
		all = append(all, errs...)
		total.add(c)
		if err != nil {
			return total, all, err
		}
	}
	return total, all, nil
}

func (c *Counts) add(d Counts) {
	c.Accounts += d.Accounts
	c.Resources += d.Resources
	c.Assignments += d.Assignments
	c.Closed += d.Closed
	c.Hostnames += d.Hostnames
	c.HostsClosed += d.HostsClosed
	c.Unchanged += d.Unchanged
	c.LinesRefused += d.LinesRefused
}

func (k *Keeper) importBatch(ctx context.Context, inv *attribution.Inventory, errs []attribution.LineError) (Counts, []attribution.LineError, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	var p *plan
	seq, err := k.st.WriteInventory(ctx, func(ctx context.Context) (*store.InventoryWrite, error) {
		// Under the log's lock: first what others committed.
		if err := k.catchUp(ctx); err != nil {
			return nil, err
		}
		verrs := inv.Validate(attribution.Known{
			Account: func(id string) bool {
				ok, err := k.st.AccountExists(ctx, id)
				return ok && err == nil
			},
			Resource: func(id string) bool { _, ok := k.byExt[id]; return ok },
		})
		p = k.plan(inv, verrs)
		if p.empty() {
			return nil, nil
		}
		return p.write, nil
	})
	if err != nil {
		return Counts{}, errs, err
	}
	errs = append(errs, p.errs...)
	sortLineErrors(errs)
	p.counts.LinesRefused = countLines(errs)
	linesRefused.Add(float64(p.counts.LinesRefused))
	if seq > 0 {
		k.commit(p, seq)
		batches.WithLabelValues("import").Inc()
	}
	return p.counts, errs, nil
}

// ReplaceRanges stores the provider's address space and publishes it.
func (k *Keeper) ReplaceRanges(ctx context.Context, space *attribution.AddressSpace) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.catchUp(ctx); err != nil {
		return err
	}
	seq, err := k.st.ReplaceRanges(ctx, space.Prefixes())
	if err != nil {
		return err
	}
	k.space, k.seq = space, seq
	k.publish(nil)
	return nil
}

func countLines(errs []attribution.LineError) int {
	n, last := 0, -1
	for _, e := range errs {
		if e.Line != last {
			n++
			last = e.Line
		}
	}
	return n
}

func sortLineErrors(errs []attribution.LineError) {
	slices.SortStableFunc(errs, func(a, b attribution.LineError) int { return a.Line - b.Line })
}

// plan is a batch checked against the current state, and the state it
// makes; nothing of it is visible until commit.
type plan struct {
	write  *store.InventoryWrite
	errs   []attribution.LineError
	counts Counts

	live  *attribution.Index
	hosts []attribution.HostAssignment // nil: unchanged
	hx    *attribution.HostIndex
	info  []attribution.ResourceInfo
	added map[string]uint32
}

func (p *plan) empty() bool {
	w := p.write
	return len(w.Accounts)+len(w.Resources)+len(w.Add)+len(w.Close)+len(w.AddHosts)+len(w.CloseHosts) == 0
}

func (k *Keeper) commit(p *plan, seq int64) {
	k.live, k.info, k.seq = p.live, p.info, seq
	for id, h := range p.added {
		k.byExt[id] = h
	}
	if p.hosts != nil {
		k.hosts = p.hosts
	}
	k.publish(p.hx)
}

// plan checks inv (already validated, verrs its problems) against the
// current state.
func (k *Keeper) plan(inv *attribution.Inventory, verrs []attribution.LineError) *plan {
	p := &plan{write: &store.InventoryWrite{}, errs: verrs, info: k.info, added: map[string]uint32{}}
	w := p.write
	refuse := func(line int, field, code, format string, args ...any) {
		p.errs = append(p.errs, attribution.LineError{Line: line, FieldError: report.FieldError{Field: field, Code: code, Message: fmt.Sprintf(format, args...)}})
	}

	w.Accounts = inv.Accounts
	p.counts.Accounts = len(inv.Accounts)
	cloned := false
	for _, r := range inv.Resources {
		ri := attribution.ResourceInfo{ID: r.ID, Type: r.Type, Service: r.Service, Region: r.Region, Account: r.Account}
		if h, ok := k.byExt[r.ID]; ok {
			if p.info[h] == ri {
				p.counts.Unchanged++
				continue
			}
			// Readers hold the published slice: never write into it.
			if !cloned {
				p.info, cloned = slices.Clone(p.info), true
			}
			p.info[h] = ri
		} else {
			// Appending past the published length is invisible to readers.
			p.added[r.ID] = uint32(len(p.info))
			p.info = append(p.info, ri)
		}
		w.Resources = append(w.Resources, r)
		p.counts.Resources++
	}
	handle := func(id string) uint32 {
		if h, ok := p.added[id]; ok {
			return h
		}
		return k.byExt[id]
	}

	k.planAssignments(p, inv.Assignments, handle, refuse)
	k.planHosts(p, inv.Hostnames, handle, refuse)

	if n := len(inv.Accounts) + len(inv.Resources) + len(inv.Assignments) + len(inv.Hostnames); n > MaxLoggedLines {
		w.Reload = true
	} else {
		w.Log = encodeLog(w)
	}
	return p
}

func trunc(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.Truncate(time.Second).UTC()
}

type refuseFunc func(line int, field, code, format string, args ...any)

func (k *Keeper) planAssignments(p *plan, recs []attribution.AssignmentRecord, handle func(string) uint32, refuse refuseFunc) {
	w := p.write
	type key struct {
		prefix string
		from   int64
	}
	var adds []attribution.Assignment
	var addRecs []attribution.AssignmentRecord
	var closes []attribution.Close
	var closeRecs []attribution.AssignmentRecord
	pending := map[key]int{} // open adds of this batch, by prefix and from
	for _, a := range recs {
		a.From, a.To = trunc(a.From), trunc(a.To)
		h := handle(a.Resource)
		if cur, ok := k.live.Held(a.Prefix, a.From); ok && cur.Resource == h && cur.From.Equal(a.From) {
			switch {
			case cur.To.Equal(a.To):
				p.counts.Unchanged++
				continue
			case cur.To.IsZero():
				closes = append(closes, attribution.Close{Prefix: a.Prefix, From: a.From, To: a.To})
				closeRecs = append(closeRecs, a)
				continue
			default:
				refuse(a.Line, "to", attribution.CodeOverlap, "this assignment is stored as ended at %s; an ended assignment cannot change", cur.To.Format(time.RFC3339))
				continue
			}
		}
		kk := key{a.Prefix.Masked().String(), a.From.Unix()}
		if i, ok := pending[kk]; ok && adds[i].Resource == h && adds[i].To.IsZero() && !a.To.IsZero() {
			// Opened and closed within the batch: one closed assignment.
			adds[i].To, addRecs[i].To = a.To, a.To
			delete(pending, kk)
			continue
		}
		if a.To.IsZero() {
			pending[kk] = len(adds)
		}
		adds = append(adds, attribution.Assignment{Prefix: a.Prefix, From: a.From, To: a.To, Resource: h})
		addRecs = append(addRecs, a)
	}
	if len(adds)+len(closes) == 0 {
		p.live = k.live
		return
	}
	tmp := attribution.NewLive(k.live)
	conflicts := tmp.Apply(adds, closes)
	bad := map[int]bool{}
	again := false
	for _, c := range conflicts {
		bad[c.A] = true
		if c.A >= len(adds) {
			cr := closeRecs[c.A-len(adds)]
			refuse(cr.Line, "to", report.CodeInvalid, "%s", c.Reason)
			continue
		}
		line := addRecs[c.A].Line
		if c.B >= 0 {
			// Two lines of the batch overlap: neither is right, both go
			// (Apply kept the earlier one, so apply again without it).
			bad[c.B], again = true, true
			other := addRecs[c.B].Line
			refuse(line, "prefix", attribution.CodeOverlap, "%s: overlaps line %d", c.Reason, other)
			refuse(other, "prefix", attribution.CodeOverlap, "%s: overlaps line %d", c.Reason, line)
		} else {
			refuse(line, "prefix", attribution.CodeOverlap, "%s: overlaps a stored assignment", c.Reason)
		}
	}
	if again {
		var okAdds []attribution.Assignment
		for i, a := range adds {
			if !bad[i] {
				okAdds = append(okAdds, a)
			}
		}
		var okCloses []attribution.Close
		for j, c := range closes {
			if !bad[len(adds)+j] {
				okCloses = append(okCloses, c)
			}
		}
		tmp = attribution.NewLive(k.live)
		tmp.Apply(okAdds, okCloses) // no conflict left: the same checks passed
	}
	p.live = tmp.Load()
	for i, a := range addRecs {
		if !bad[i] {
			w.Add = append(w.Add, a)
		}
	}
	for j, a := range closeRecs {
		if !bad[len(adds)+j] {
			w.Close = append(w.Close, a)
		}
	}
	p.counts.Assignments, p.counts.Closed = len(w.Add), len(w.Close)
}

func (k *Keeper) planHosts(p *plan, recs []attribution.HostnameRecord, handle func(string) uint32, refuse refuseFunc) {
	if len(recs) == 0 {
		return
	}
	w := p.write
	type key struct {
		host string
		from int64
	}
	stored := make(map[key]int, len(k.hosts))
	for i, h := range k.hosts {
		stored[key{h.Host, trunc(h.From).Unix()}] = i
	}
	all := slices.Clone(k.hosts)
	var lines []int // lines[i-len(k.hosts)] is the line of all[i]
	var addRecs []attribution.HostnameRecord
	var closeRecs []attribution.HostnameRecord
	closedAt := map[int]int{} // index in all → line that closed it
	for _, r := range recs {
		r.From, r.To = trunc(r.From), trunc(r.To)
		res := handle(r.Resource)
		kk := key{r.Host, r.From.Unix()}
		if i, ok := stored[kk]; ok && all[i].Resource == res {
			cur := all[i]
			switch {
			case trunc(cur.To).Equal(r.To):
				p.counts.Unchanged++
				continue
			case cur.To.IsZero() && i >= len(k.hosts):
				// Opened and closed within the batch: one closed entry.
				all[i].To, addRecs[i-len(k.hosts)].To = r.To, r.To
				delete(stored, kk)
				continue
			case cur.To.IsZero():
				all[i].To = r.To
				closedAt[i] = r.Line
				closeRecs = append(closeRecs, r)
				continue
			default:
				refuse(r.Line, "to", attribution.CodeOverlap, "this host name is stored as ended at %s; an ended assignment cannot change", cur.To.Format(time.RFC3339))
				continue
			}
		}
		if r.To.IsZero() {
			stored[kk] = len(all) // a later line of the batch may close it
		}
		all = append(all, attribution.HostAssignment{Host: r.Host, From: r.From, To: r.To, Resource: res})
		lines = append(lines, r.Line)
		addRecs = append(addRecs, r)
	}
	lineOf := func(i int) int {
		if i >= len(k.hosts) {
			return lines[i-len(k.hosts)]
		}
		return closedAt[i] // 0 for a stored entry left as it was
	}
	_, cs := attribution.BuildHosts(all)
	refused := map[int]bool{}
	for _, c := range cs {
		la := lineOf(c.A)
		lb := 0
		if c.B >= 0 {
			lb = lineOf(c.B)
		}
		// Blame the batch's lines; a stored entry only is blamed through them.
		for _, pair := range [][2]int{{la, lb}, {lb, la}} {
			if pair[0] == 0 {
				continue
			}
			refused[pair[0]] = true
			if pair[1] != 0 {
				refuse(pair[0], "host", attribution.CodeOverlap, "%s: overlaps line %d", c.Reason, pair[1])
			} else {
				refuse(pair[0], "host", attribution.CodeOverlap, "%s: overlaps a stored host name", c.Reason)
			}
		}
	}
	// What stays: the stored entries (closes of refused lines undone) and
	// the accepted new ones.
	keep := make([]attribution.HostAssignment, 0, len(all))
	for i, h := range all {
		if i < len(k.hosts) {
			if l, ok := closedAt[i]; ok && refused[l] {
				h = k.hosts[i]
			}
			keep = append(keep, h)
		} else if !refused[lines[i-len(k.hosts)]] {
			keep = append(keep, h)
		}
	}
	for _, r := range addRecs {
		if !refused[r.Line] {
			w.AddHosts = append(w.AddHosts, r)
		}
	}
	for _, r := range closeRecs {
		if !refused[r.Line] {
			w.CloseHosts = append(w.CloseHosts, r)
		}
	}
	p.counts.Hostnames, p.counts.HostsClosed = len(w.AddHosts), len(w.CloseHosts)
	p.hosts = keep
	p.hx, _ = attribution.BuildHosts(keep)
}

// logLine is one line of a logged batch, in the inventory format.
type logLine struct {
	Kind          string `json:"kind"`
	ID            string `json:"id,omitempty"`
	Name          string `json:"name,omitempty"`
	SecurityEmail string `json:"security_email,omitempty"`
	Email         string `json:"email,omitempty"`
	Language      string `json:"language,omitempty"`
	Account       string `json:"account,omitempty"`
	Type          string `json:"type,omitempty"`
	Service       string `json:"service,omitempty"`
	Region        string `json:"region,omitempty"`
	Resource      string `json:"resource,omitempty"`
	Prefix        string `json:"prefix,omitempty"`
	Host          string `json:"host,omitempty"`
	From          string `json:"from,omitempty"`
	To            string `json:"to,omitempty"`
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// encodeLog writes the accepted lines as the followers replay them: closes
// as lines with their to, in the order the store applies them.
func encodeLog(w *store.InventoryWrite) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	for _, a := range w.Accounts {
		enc.Encode(logLine{Kind: "account", ID: a.ID, Name: a.Name, SecurityEmail: a.SecurityEmail, Email: a.Email, Language: a.Language})
	}
	for _, r := range w.Resources {
		enc.Encode(logLine{Kind: "resource", ID: r.ID, Account: r.Account, Type: r.Type, Service: r.Service, Region: r.Region})
	}
	for _, list := range [][]attribution.AssignmentRecord{w.Close, w.Add} {
		for _, a := range list {
			enc.Encode(logLine{Kind: "assignment", Resource: a.Resource, Prefix: a.Prefix.String(), From: fmtTime(a.From), To: fmtTime(a.To)})
		}
	}
	for _, list := range [][]attribution.HostnameRecord{w.CloseHosts, w.AddHosts} {
		for _, h := range list {
			enc.Encode(logLine{Kind: "hostname", Resource: h.Resource, Host: h.Host, From: fmtTime(h.From), To: fmtTime(h.To)})
		}
	}
	return b.String()
}
