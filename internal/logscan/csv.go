package logscan

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"time"
)

// Header is the CSV's header line: the canonical column names of the
// desk's bulk CSV (internal/intake/csvreport), in its positional order.
var Header = []string{"ip", "timestamp", "log", "target", "target_port", "protocol", "source_port"}

// TimeLayout writes every timestamp: RFC 3339 with its offset (the desk
// refuses a time without a zone), fractions only when the line had them.
const TimeLayout = "2006-01-02T15:04:05.999999999Z07:00"

// WriteOptions choose what WriteCSV writes.
type WriteOptions struct {
	// MinEvents leaves out the addresses with fewer events.
	MinEvents int64
	// IncludeLoggedIn keeps the addresses that also logged in
	// successfully (sshd's "Accepted"), which are left out by default:
	// they are likely the machine's own users.
	IncludeLoggedIn bool
	// Target is written in the target column of rows whose line names no
	// target (the scanned machine's address or name); "" leaves it empty.
	Target string
}

// Summary says what WriteCSV wrote.
type Summary struct {
	// Addresses counts the addresses of the address space with events;
	// Events their events.
	Addresses int
	Events    int64
	// Written counts the addresses written, Rows their rows.
	Written int
	Rows    int
	// BelowMin counts the addresses left out by MinEvents.
	BelowMin int
	// LoggedIn lists the addresses left out because they also logged in.
	LoggedIn []netip.Addr
	// Outside counts the events from addresses outside the address space.
	Outside int64
}

// WriteCSV writes the rows, grouped by address (in address order), each
// address's rows in time order: one row per event kept (see Collector),
// the last row of an address saying, when not every event is listed, how
// many there were and between which times.
func (c *Collector) WriteCSV(w io.Writer, opt WriteOptions) (Summary, error) {
	sum := Summary{Outside: c.Outside}
	bw := bufio.NewWriterSize(w, 256<<10)
	cw := csv.NewWriter(bw)
	if err := cw.Write(Header); err != nil {
		return sum, err
	}
	addrs := make([]netip.Addr, 0, len(c.sources))
	for a, s := range c.sources {
		if s.events > 0 {
			addrs = append(addrs, a)
		}
	}
	slices.SortFunc(addrs, netip.Addr.Compare)
	rec := make([]string, len(Header))
	var rows []*row
	for _, a := range addrs {
		s := c.sources[a]
		sum.Addresses++
		sum.Events += s.events
		if s.loggedIn && !opt.IncludeLoggedIn {
			sum.LoggedIn = append(sum.LoggedIn, a)
			continue
		}
		if s.events < opt.MinEvents {
			sum.BelowMin++
			continue
		}
		rows = s.rows(rows[:0])
		sum.Written++
		sum.Rows += len(rows)
		listed := int64(0)
		for _, r := range rows {
			listed += int64(r.count)
		}
		for i, r := range rows {
			rec[0] = a.String()
			rec[1] = r.t.Format(TimeLayout)
			rec[2] = string(r.line)
			if i == len(rows)-1 && s.events > listed {
				rec[2] += fmt.Sprintf("\n[abusedesk report scan: %d events from %s between %s and %s; %d of its lines are listed]",
					s.events, a, s.first.Format(TimeLayout), s.last.Format(TimeLayout), len(rows))
			}
			rec[3] = string(r.target)
			if rec[3] == "" {
				rec[3] = opt.Target
			}
			rec[4] = portString(r.tport)
			rec[5] = r.proto
			rec[6] = portString(r.sport)
			if err := cw.Write(rec); err != nil {
				return sum, err
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return sum, err
	}
	return sum, bw.Flush()
}

// rows merges the early and late rows of s, in time order.
func (s *source) rows(out []*row) []*row {
	out = append(out, s.early...)
	for _, r := range s.late {
		if !r.inE {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(x, y *row) int {
		if x.tn != y.tn {
			if x.tn.less(y.tn) {
				return -1
			}
			return 1
		}
		return cmpUint(x.seq, y.seq)
	})
	return out
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func portString(p int) string {
	if p < 0 {
		return ""
	}
	return strconv.Itoa(p)
}

// Span is the first and last time of an address's events, for tests and
// reports.
func (c *Collector) Span(a netip.Addr) (first, last time.Time, events int64, ok bool) {
	s := c.sources[a]
	if s == nil {
		return time.Time{}, time.Time{}, 0, false
	}
	return s.first, s.last, s.events, true
}
