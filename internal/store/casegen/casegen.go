// Package casegen writes synthetic cases and reports at benchmark scale
// (a million cases, five million reports) straight into the tables, for
// measuring the console's queue and search (abusedesk bench console). The
// rows look like the desk's own: public ids, lanes, statuses with their
// outcomes and deadlines, the links, reporters and addresses that search
// reads; reports carry no items (no console page lists them).
package casegen

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"abusedesk/internal/store"
)

// Config sizes the data.
type Config struct {
	Cases     int
	Reports   int
	OpenShare float64   // share of cases still open (default 0.1)
	Days      int       // cases are spread over this many days before Now (default 365)
	Now       time.Time // default time.Now()
	Seed      uint64
	Progress  func(table string, rows int)
}

const (
	accounts  = 50000
	reporters = 50000
	analysts  = 20
)

var crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// publicID is prefix + 6 base32 digits of the second + 8 of n: unique by
// construction (random ids would collide among millions made in a second).
func publicID(prefix string, at time.Time, n uint64) string {
	var b [14]byte
	v := uint64(at.Unix() - 1700000000)
	for i := 5; i >= 0; i-- {
		b[i] = crockford[v&31]
		v >>= 5
	}
	for i := 13; i >= 6; i-- {
		b[i] = crockford[n&31]
		n >>= 5
	}
	return prefix + string(b[:])
}

type inserter struct {
	ctx     context.Context
	tx      *sql.Tx
	dialect string
	head    string
	cols    int
	rows    int
	args    []any
	stmts   map[int]*sql.Stmt
	n       int
}

const perStatement = 100

func newInserter(ctx context.Context, tx *sql.Tx, dialect, table string, cols ...string) *inserter {
	head := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES "
	if dialect == store.Postgres && cols[0] == "id" {
		// Ids are chosen here (links refer to them); the sequence is
		// moved past them at the end (Generate).
		head = strings.Replace(head, ") VALUES ", ") OVERRIDING SYSTEM VALUE VALUES ", 1)
	}
	return &inserter{ctx: ctx, tx: tx, dialect: dialect, head: head,
		cols: len(cols), stmts: map[int]*sql.Stmt{}}
}

func (in *inserter) add(vals ...any) error {
	in.args = append(in.args, vals...)
	in.rows++
	in.n++
	if in.rows == perStatement {
		return in.flush()
	}
	return nil
}

func (in *inserter) flush() error {
	if in.rows == 0 {
		return nil
	}
	st, ok := in.stmts[in.rows]
	if !ok {
		var b strings.Builder
		b.WriteString(in.head)
		p := 1
		for r := 0; r < in.rows; r++ {
			if r > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('(')
			for c := 0; c < in.cols; c++ {
				if c > 0 {
					b.WriteByte(',')
				}
				if in.dialect == store.Postgres {
					b.WriteString("$" + strconv.Itoa(p))
					p++
				} else {
					b.WriteByte('?')
				}
			}
			b.WriteByte(')')
		}
		var err error
		if st, err = in.tx.PrepareContext(in.ctx, b.String()); err != nil {
			return err
		}
		in.stmts[in.rows] = st
	}
	_, err := st.ExecContext(in.ctx, in.args...)
	in.args, in.rows = in.args[:0], 0
	return err
}

func (in *inserter) close() error {
	err := in.flush()
	for _, st := range in.stmts {
		st.Close()
	}
	return err
}

// Generate writes the data, in transactions of 20,000 cases and their
// reports.
func Generate(ctx context.Context, st *store.Store, cfg Config) error {
	if cfg.OpenShare == 0 {
		cfg.OpenShare = 0.1
	}
	if cfg.Days == 0 {
		cfg.Days = 365
	}
	if cfg.Now.IsZero() {
		cfg.Now = time.Now().UTC()
	}
	if cfg.Cases <= 0 || cfg.Reports < cfg.Cases {
		return fmt.Errorf("need at least one case and as many reports as cases (%d cases, %d reports)", cfg.Cases, cfg.Reports)
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	var rawID int64
	err := st.W.QueryRowContext(ctx, `INSERT INTO raw_submissions (sha256, content_type, size, channel, received_at, body)
		VALUES ($1, 'application/json', 2, 'api', $2, $3) RETURNING id`,
		"44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", cfg.Now, []byte("{}")).Scan(&rawID)
	if err != nil {
		return err
	}
	var base, repBase int64 // cases and reports get ids after what exists
	if err := st.R.QueryRowContext(ctx, "SELECT (SELECT coalesce(max(id), 0) FROM cases), (SELECT coalesce(max(id), 0) FROM reports)").Scan(&base, &repBase); err != nil {
		return err
	}
	start := cfg.Now.Add(-time.Duration(cfg.Days) * 24 * time.Hour)
	span := cfg.Now.Sub(start)
	const chunk = 20000
	report := 0
	for off := 0; off < cfg.Cases; off += chunk {
		end := min(off+chunk, cfg.Cases)
		if err := genChunk(ctx, st, cfg, rng, rawID, base, repBase, off, end, start, span, &report); err != nil {
			return err
		}
		if cfg.Progress != nil {
			cfg.Progress("cases", end)
		}
	}
	if st.Dialect == store.Postgres {
		for _, t := range []string{"cases", "reports"} {
			if _, err := st.W.ExecContext(ctx, "SELECT setval(pg_get_serial_sequence('"+t+"', 'id'), (SELECT max(id) FROM "+t+"))"); err != nil {
				return err
			}
		}
	}
	return nil
}

var categories = []struct {
	name     string
	weight   float64
	subtypes []string
}{
	{"network", 0.55, []string{"intrusion", "ddos", "port_scan", "other"}},
	{"email", 0.2, []string{"spam_sent", "spam_hosted"}},
	{"content", 0.17, []string{"phishing", "malware", "web_content", "non_copyright_ip"}},
	{"dmca", 0.08, []string{"copyright"}},
}

var openStatuses = []string{"new", "new", "new", "customer_notified", "customer_notified", "customer_responded", "needs_info", "escalated", "reopened"}

func genChunk(ctx context.Context, st *store.Store, cfg Config, rng *rand.Rand, rawID, base, repBase int64,
	off, end int, start time.Time, span time.Duration, report *int) error {
	tx, err := st.W.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	d := st.Dialect
	cs := newInserter(ctx, tx, d, "cases", "id", "public_id", "account", "resource", "category", "subtypes", "lane", "status", "is_open",
		"outcome", "priority", "escalated", "assignee", "due_at", "report_count", "reporter_count", "item_count", "last_incident_at",
		"created_at", "updated_at", "first_action_at", "closed_at")
	rs := newInserter(ctx, tx, d, "reports", "id", "public_id", "token_hash", "type", "subtype", "channel", "status", "outcome", "lane",
		"language", "reporter_name", "reporter_email", "reporter_org", "reporter_kind", "share_contact", "description", "item_count",
		"raw_id", "created_at", "incident_count", "not_ours", "lane_rule")
	cr := newInserter(ctx, tx, d, "case_reports", "case_id", "report_id", "items", "added_at")
	rp := newInserter(ctx, tx, d, "case_reporters", "case_id", "email")
	ips := newInserter(ctx, tx, d, "case_ips", "ip", "case_id")
	hosts := newInserter(ctx, tx, d, "case_hosts", "host", "case_id", "url")
	tokenHash := make([]byte, 32)
	for i := off; i < end; i++ {
		id := base + int64(i) + 1
		// Ids grow with time, as real ones do.
		created := start.Add(time.Duration(float64(span) * (float64(i) + rng.Float64()) / float64(cfg.Cases)))
		pick := rng.Float64()
		cat := categories[0]
		for _, c := range categories {
			if pick < c.weight {
				cat = c
				break
			}
			pick -= c.weight
		}
		sub := cat.subtypes[rng.IntN(len(cat.subtypes))]
		lane := "general"
		switch {
		case cat.name == "dmca":
			lane = "copyright"
		case cat.name == "email" && rng.IntN(3) == 0:
			lane = "email-abuse"
		case rng.IntN(200) == 0:
			lane = "legal"
		}
		// The newest cases are the open ones, mostly.
		open := float64(i) >= float64(cfg.Cases)*(1-cfg.OpenShare*0.8) || rng.Float64() < cfg.OpenShare*0.2
		status, outcome := "resolved", any("ACTIONED")
		var closed any = created.Add(time.Duration(rng.IntN(72)+1) * time.Hour).UnixMilli()
		due := int64(math.MaxInt64)
		if open {
			status, outcome, closed = openStatuses[rng.IntN(len(openStatuses))], nil, nil
			due = created.Add(time.Duration(12+rng.IntN(60)) * time.Hour).UnixMilli()
			if status == "needs_info" {
				due = math.MaxInt64
			}
		} else {
			switch r := rng.IntN(20); {
			case r < 3:
				status, outcome = "dismissed", "REVIEWED_NO_ACTION"
			case r < 4:
				status, outcome = "merged", nil
			case r < 6:
				outcome = "CONTENT_DOWN_OR_INACCESSIBLE"
			}
		}
		nrep := cfg.Reports / cfg.Cases
		if i < cfg.Reports%cfg.Cases {
			nrep++
		}
		acct := fmt.Sprintf("acct-%06d", rng.IntN(accounts))
		res := fmt.Sprintf("i-%012x", id)
		seen := map[string]bool{}
		for k := 0; k < nrep; k++ {
			*report++
			rid := repBase + int64(*report)
			rat := created.Add(time.Duration(k) * time.Duration(rng.IntN(3600)) * time.Second)
			var email string
			if rng.IntN(10) < 6 {
				email = fmt.Sprintf("soc%03d@cert.example", rng.IntN(500))
			} else {
				email = fmt.Sprintf("reporter%05d@example.org", rng.IntN(reporters))
			}
			pub := publicID("R-", rat, uint64(rid))
			repStatus := "in_review"
			if !open {
				repStatus = "closed"
			}
			if err := rs.add(rid, pub, tokenHash, cat.name, sub, "api", repStatus, outcome, lane, "en", "Reporter", email, "",
				"organization", rng.IntN(2) == 0, "synthetic report", 1, rawID, rat, 0, 0, ""); err != nil {
				return fmt.Errorf("reports: %w", err)
			}
			if err := cr.add(id, rid, 1, rat.UnixMilli()); err != nil {
				return fmt.Errorf("case_reports: %w", err)
			}
			if !seen[email] {
				seen[email] = true
				if err := rp.add(id, email); err != nil {
					return fmt.Errorf("case_reporters: %w", err)
				}
			}
		}
		var ip netip.Addr
		if i%20 == 7 {
			ip = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, byte(i >> 16), byte(i >> 8), 0, 0, 0, 0, 0, 0, byte(i), 1})
		} else {
			// 10.0.0.0/8 with neighbours: a /24 holds the addresses of
			// about 64 cases, so a CIDR search finds several.
			n := uint32(i) * 4
			ip = netip.AddrFrom4([4]byte{10, byte(n >> 16), byte(n >> 8), byte(n)})
		}
		b := ip.As16()
		if err := ips.add(b[:], id); err != nil {
			return fmt.Errorf("case_ips: %w", err)
		}
		if cat.name == "content" || cat.name == "dmca" {
			host := fmt.Sprintf("site%06d.example.net", i%200000)
			u := "https://" + host + "/p/" + strconv.Itoa(i)
			if err := hosts.add(host, id, u); err != nil {
				return fmt.Errorf("case_hosts: %w", err)
			}
		}
		prio := 10 + rng.IntN(40) + rng.IntN(50)
		esc := status == "escalated" || (!open && rng.IntN(20) == 0)
		if esc {
			prio = min(100, prio+25)
		}
		assignee := ""
		if rng.IntN(3) > 0 {
			assignee = fmt.Sprintf("analyst%02d@provider.example", rng.IntN(analysts))
		}
		var first any
		if !open || status != "new" {
			first = created.Add(time.Duration(rng.IntN(36*60)+5) * time.Minute).UnixMilli()
		}
		updated := created.UnixMilli()
		if closed != nil {
			updated = closed.(int64)
		}
		pubCase := publicID("C-", created, uint64(id))
		if err := cs.add(id, pubCase, acct, res, cat.name, sub, lane, status, open, outcome, prio, esc, assignee, due,
			nrep, len(seen), nrep, created.UnixMilli(), created.UnixMilli(), updated, first, closed); err != nil {
			return fmt.Errorf("cases: %w", err)
		}
	}
	for _, in := range []*inserter{cs, rs, cr, rp, ips, hosts} {
		if err := in.close(); err != nil {
			return err
		}
	}
	return tx.Commit()
}
