package csvreport

import (
	"fmt"
	"strings"
)

// Columns of the bulk CSV, by canonical name. The first three are required
// for a useful row; the others are optional.
const (
	colIP = iota
	colTimestamp
	colLog
	colTarget
	colTargetPort
	colProtocol
	colSourcePort
	colCategories
	numCols
)

// colNames are the canonical column names; they are also the Field of the
// per-row errors.
var colNames = [numCols]string{
	colIP:         "ip",
	colTimestamp:  "timestamp",
	colLog:        "log",
	colTarget:     "target",
	colTargetPort: "target_port",
	colProtocol:   "protocol",
	colSourcePort: "source_port",
	colCategories: "categories",
}

// positional is the column order of a file without a header.
var positional = [...]int{colIP, colTimestamp, colLog, colTarget, colTargetPort, colProtocol, colSourcePort}

// alias is one accepted header name. Several header names may map to one
// column; the lowest rank wins, and two columns of the same best rank are
// ambiguous (a header error rather than a guess): "date" and "time" side by
// side name one instant in two halves, which this format does not take.
type alias struct {
	col  int
	rank int
}

// aliases maps a normalised header name (see normName) to its column. Rank 0
// is the canonical name, rank 1 a plain synonym, rank 2 a weaker one that
// yields to any better column (a file with first_seen and last_seen uses
// first_seen).
var aliases = map[string]alias{}

// aliasList is the table aliases is built from, in the order the header
// error lists the names.
var aliasList = [numCols][3][]string{
	colIP: {
		{"ip"},
		{"source_ip", "sourceip", "src_ip", "srcip", "ip_address", "ipaddress", "ip_addr", "ipaddr",
			"source_address", "src_addr", "srcaddr", "attacker_ip", "offender_ip", "remote_ip", "remote_addr", "client_ip"},
		{"address", "addr", "src"},
	},
	colTimestamp: {
		{"timestamp"},
		{"reportdate", "report_date", "datetime", "date_time", "time_stamp", "event_time", "eventtime",
			"occurred", "occurred_at", "observed", "observed_at", "first_seen", "firstseen", "seen", "seen_at"},
		{"time", "date", "last_seen", "lastseen"},
	},
	colLog: {
		{"log"},
		{"comment", "comments", "details", "log_details", "logs", "log_sample", "log_samples", "log_lines", "evidence", "message"},
		{"description", "notes", "note"},
	},
	colTarget: {
		{"target"},
		{"destination", "destination_ip", "dest", "dest_ip", "dst", "dst_ip", "dstip", "target_ip", "target_host", "victim", "victim_ip"},
		nil,
	},
	colTargetPort: {
		{"target_port"},
		{"dst_port", "dstport", "dest_port", "destination_port", "dport"},
		{"port"},
	},
	colProtocol: {
		{"protocol"},
		{"proto", "transport"},
		nil,
	},
	colSourcePort: {
		{"source_port"},
		{"src_port", "srcport", "sourceport", "sport"},
		nil,
	},
	colCategories: {
		{"categories"},
		{"category"},
		nil,
	},
}

func init() {
	for col, ranks := range aliasList {
		for rank, names := range ranks {
			for _, n := range names {
				if _, dup := aliases[n]; dup {
					panic("csvreport: duplicate alias " + n)
				}
				aliases[n] = alias{col: col, rank: rank}
			}
		}
	}
}

// normName folds a header name: trimmed, lower-case, with spaces, hyphens
// and dots read as underscores ("Source IP", "source-ip" → "source_ip").
func normName(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '.', '\t':
			return '_'
		}
		return r
	}, s)
}

// acceptedNames lists the header names for a HeaderError.
func acceptedNames() string {
	var b strings.Builder
	b.WriteString("accepted column names (case-insensitive): ")
	for col := range numCols {
		if col > 0 {
			b.WriteString("; ")
		}
		switch col {
		case colIP, colTimestamp, colLog:
			b.WriteString("required ")
		default:
			b.WriteString("optional ")
		}
		b.WriteString(colNames[col])
		var others []string
		for _, names := range aliasList[col][1:] {
			others = append(others, names...)
		}
		if len(others) > 0 {
			fmt.Fprintf(&b, " (or %s)", strings.Join(others, ", "))
		}
	}
	b.WriteString("; other columns are ignored")
	return b.String()
}

// mapHeader finds the column of each canonical field in a header record.
// Unknown names are ignored.
func mapHeader(rec []string, line int) (cols [numCols]int, err error) {
	var rank [numCols]int
	for i := range cols {
		cols[i] = -1
	}
	for i, name := range rec {
		a, ok := aliases[normName(name)]
		if !ok {
			continue
		}
		switch {
		case cols[a.col] < 0 || a.rank < rank[a.col]:
			cols[a.col], rank[a.col] = i, a.rank
		case a.rank == rank[a.col]:
			hint := "keep one of them"
			if a.col == colTimestamp {
				hint = "give one timestamp column with the date, the time and the zone (e.g. 2026-03-02T10:00:00+01:00)"
			}
			return cols, &HeaderError{Line: line, Msg: fmt.Sprintf(
				"columns %d (%q) and %d (%q) both give the %s: %s; %s",
				cols[a.col]+1, clip(strings.TrimSpace(rec[cols[a.col]])), i+1, clip(strings.TrimSpace(name)), colNames[a.col], hint, acceptedNames())}
		}
	}
	var missing []string
	// Without a log column every row would fail alike: one header error
	// says it once.
	for _, c := range [...]int{colIP, colTimestamp, colLog} {
		if cols[c] < 0 {
			missing = append(missing, colNames[c])
		}
	}
	if len(missing) > 0 {
		return cols, &HeaderError{Line: line, Msg: fmt.Sprintf(
			"the header has no %s column (a file without a header starts with an IP address); %s",
			strings.Join(missing, " and no "), acceptedNames())}
	}
	return cols, nil
}
