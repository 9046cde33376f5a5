package api

import (
	"bytes"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"abusedesk/internal/report"
)

// The repository has no YAML library, so these tests read openapi.yaml as
// text, relying on its layout: two-space indentation, path keys at two
// spaces under "paths:", operations at four.

func readSpec(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// pathOperations maps each path key under "paths:" to its operations
// (lower-case methods).
func pathOperations(t *testing.T, spec string) map[string][]string {
	t.Helper()
	pathKey := regexp.MustCompile(`^  (/\S*):$`)
	opKey := regexp.MustCompile(`^    (get|put|post|delete|options|head|patch|trace):$`)
	ops := map[string][]string{}
	in, cur := false, ""
	for _, line := range strings.Split(spec, "\n") {
		if line != "" && line[0] != ' ' && line[0] != '#' {
			in = line == "paths:"
			cur = ""
			continue
		}
		if !in {
			continue
		}
		if m := pathKey.FindStringSubmatch(line); m != nil {
			cur = m[1]
			if _, dup := ops[cur]; dup {
				t.Errorf("path %s is listed twice", cur)
			}
			ops[cur] = nil
			continue
		}
		if m := opKey.FindStringSubmatch(line); m != nil && cur != "" {
			ops[cur] = append(ops[cur], m[1])
		}
	}
	if len(ops) == 0 {
		t.Fatal("no paths found in openapi.yaml")
	}
	return ops
}

// TestRoutesDocumented: every API route the server registers is a path of
// the description, with its method.
func TestRoutesDocumented(t *testing.T) {
	// Routes are registered in server.go, console_routes.go, status_routes.go and portal_routes.go.
	var src []byte
	for _, f := range []string{"../internal/web/server.go", "../internal/web/console_routes.go", "../internal/web/status_routes.go", "../internal/web/portal_routes.go"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src = append(src, b...)
	}
	spec := readSpec(t)
	ops := pathOperations(t, spec)
	routes := regexp.MustCompile(`"(GET|POST|PUT|PATCH|DELETE) (/api/[^"]+)"`).FindAllStringSubmatch(string(src), -1)
	v1 := 0
	for _, m := range routes {
		method, path := strings.ToLower(m[1]), m[2]
		if strings.HasPrefix(path, "/api/v1/") {
			v1++
		}
		if !strings.Contains(spec, "\n  "+path+":\n") {
			t.Errorf("route %s %s of internal/web/server.go has no key line %q in openapi.yaml", m[1], path, "  "+path+":")
			continue
		}
		if !slices.Contains(ops[path], method) {
			t.Errorf("path %s in openapi.yaml has no %s operation (server.go registers %s %s)", path, method, m[1], path)
		}
	}
	if v1 == 0 {
		t.Fatal(`no "METHOD /api/v1/..." pattern found in internal/web/server.go`)
	}
	// And the other way: nothing documented under /api/v1/ that the server
	// does not serve.
	for path := range ops {
		if !strings.HasPrefix(path, "/api/") {
			continue
		}
		found := false
		for _, m := range routes {
			found = found || m[2] == path
		}
		if !found {
			t.Errorf("openapi.yaml documents %s, which internal/web/server.go does not register", path)
		}
	}
}

// TestErrorCodesDocumented: every error code of the public contract is
// listed, as a const of the ErrorCode schema.
func TestErrorCodesDocumented(t *testing.T) {
	src, err := os.ReadFile("../internal/report/errors.go")
	if err != nil {
		t.Fatal(err)
	}
	spec := readSpec(t)
	codes := regexp.MustCompile(`Code\w+\s*=\s*"(\w+)"`).FindAllStringSubmatch(string(src), -1)
	if len(codes) == 0 {
		t.Fatal("no error code constants found in internal/report/errors.go")
	}
	for _, m := range codes {
		code := m[1]
		if !strings.Contains(spec, code) {
			t.Errorf("error code %q of internal/report/errors.go does not appear in openapi.yaml", code)
			continue
		}
		if !strings.Contains(spec, "\n        - const: "+code+"\n") {
			t.Errorf("error code %q is not listed in the ErrorCode schema (a line %q)", code, "        - const: "+code)
		}
	}
}

// TestEnumsMatchContract: the enumerations of the description are those of
// internal/report, in the same order.
func TestEnumsMatchContract(t *testing.T) {
	spec := readSpec(t)
	enum := func(what string, values []string) {
		t.Helper()
		line := "enum: [" + strings.Join(values, ", ") + "]"
		if !strings.Contains(spec, line) {
			t.Errorf("%s: openapi.yaml has no line %q", what, line)
		}
	}
	enum("report types", report.Types)
	for _, typ := range report.Types {
		enum(typ+" subtypes", report.Subtypes[typ])
	}
	enum("reporter kinds", report.ReporterKinds)
	enum("languages", report.Languages)
	enum("outcomes", []string{report.OutcomeActioned, report.OutcomeNotResolvable, report.OutcomeReviewedNoAction,
		report.OutcomeContentDown, report.OutcomeNeedMoreInfo})
	var clauses []string
	for c := range report.DMCAClauses {
		clauses = append(clauses, "'"+c+"'")
	}
	for _, c := range clauses {
		if !regexp.MustCompile(`enum: \[[^\]]*` + regexp.QuoteMeta(c)).MatchString(spec) {
			t.Errorf("DMCA clause %s is not in the clause enum of openapi.yaml", c)
		}
	}
	l := report.DefaultLimits
	for _, want := range []string{
		"maxItems: " + strconv.Itoa(l.MaxIncidents),
		"maxLength: " + strconv.Itoa(l.MaxLogBytes),
		"maxLength: " + strconv.Itoa(l.MaxTextBytes),
		"maxLength: " + strconv.Itoa(l.MaxHeaderBytes),
	} {
		if !strings.Contains(spec, want) {
			t.Errorf("openapi.yaml has no %q (internal/report DefaultLimits)", want)
		}
	}
}

// TestLayout keeps the file in the shape the other tests rely on: spaces
// only, two-space steps, no trailing blanks, and the embedded copy current.
func TestLayout(t *testing.T) {
	spec := readSpec(t)
	if !strings.HasPrefix(spec, "openapi: 3.1.") {
		t.Error("openapi.yaml does not start with openapi: 3.1.x")
	}
	if !bytes.Equal(OpenAPI, []byte(spec)) {
		t.Error("the embedded OpenAPI differs from openapi.yaml")
	}
	for i, line := range strings.Split(spec, "\n") {
		n := len(line) - len(strings.TrimLeft(line, " "))
		switch {
		case strings.ContainsRune(line, '\t'):
			t.Errorf("line %d: a tab", i+1)
		case strings.TrimSpace(line) != "" && n%2 != 0:
			t.Errorf("line %d: indentation of %d spaces, not a multiple of 2", i+1, n)
		case strings.TrimRight(line, " ") != line:
			t.Errorf("line %d: trailing spaces", i+1)
		}
	}
}
