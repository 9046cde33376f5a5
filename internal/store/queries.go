package store

import (
	"bufio"
	"embed"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

//go:embed *.sql
var queryFiles embed.FS

// baseQueryFiles hold the statements of both dialects, one file per
// subject (every *.sql but the overrides); queries_<dialect>.sql
// overrides some by name.
func baseQueryFiles() []string {
	ents, _ := queryFiles.ReadDir(".")
	var out []string
	for _, e := range ents {
		if n := e.Name(); n != "queries_sqlite.sql" && n != "queries_postgres.sql" {
			out = append(out, n)
		}
	}
	return out
}

// parseQueries splits a SQL file on "-- name: X" markers.
func parseQueries(text string) map[string]string {
	out := map[string]string{}
	var name string
	var b strings.Builder
	flush := func() {
		if name != "" {
			out[name] = strings.TrimSpace(b.String())
		}
		b.Reset()
	}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if n, ok := strings.CutPrefix(strings.TrimSpace(line), "-- name:"); ok {
			flush()
			name = strings.TrimSpace(n)
			continue
		}
		if strings.HasPrefix(strings.TrimSpace(line), "--") {
			continue
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	flush()
	return out
}

func loadQueries(dialect string) (map[string]string, error) {
	q := map[string]string{}
	for _, name := range baseQueryFiles() {
		base, err := queryFiles.ReadFile(name)
		if err != nil {
			return nil, err
		}
		for k, v := range parseQueries(string(base)) {
			if _, dup := q[k]; dup {
				return nil, fmt.Errorf("%s: query %q defined twice", name, k)
			}
			q[k] = v
		}
	}
	if over, err := queryFiles.ReadFile("queries_" + dialect + ".sql"); err == nil {
		for k, v := range parseQueries(string(over)) {
			if _, ok := q[k]; !ok {
				return nil, fmt.Errorf("queries_%s.sql overrides unknown query %q", dialect, k)
			}
			q[k] = v
		}
	}
	// "X:exec" is X without its "RETURNING id": on SQLite an Exec and
	// LastInsertId cost less than a query and its rows.
	for k, v := range q {
		if dialect == SQLite {
			v = anonymousPlaceholders(v)
			q[k] = v
		}
		if strings.HasSuffix(v, " RETURNING id;") && dialect == SQLite {
			q[k+":exec"] = strings.TrimSuffix(v, " RETURNING id;") + ";"
		} else {
			q[k+":exec"] = v
		}
	}
	return q, nil
}

var placeholder = regexp.MustCompile(`\$(\d+)`)

// anonymousPlaceholders rewrites $1, $2, … $n to "?" when they appear in
// that order, once each: modernc binds "?" by position but looks numbered
// names up in a list on every bind (see incidentInsert).
func anonymousPlaceholders(q string) string {
	ms := placeholder.FindAllStringSubmatch(q, -1)
	for i, m := range ms {
		if m[1] != strconv.Itoa(i+1) {
			return q
		}
	}
	return placeholder.ReplaceAllString(q, "?")
}
