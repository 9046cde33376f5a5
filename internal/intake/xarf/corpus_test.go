package xarf

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"abusedesk/internal/report"
)

// The third-party corpus lives beside the repository (../shared/corpus from
// its root) and is absent from a fresh clone.
var corpusDir = filepath.Join("..", "..", "..", "..", "shared", "corpus")

func corpus(t *testing.T) string {
	t.Helper()
	if fi, err := os.Stat(corpusDir); err != nil || !fi.IsDir() {
		t.Skipf("corpus not found at %s: skipping", corpusDir)
	}
	return corpusDir
}

// clock is far ahead of every sample, so no sample is "in the future".
func clock() time.Time { return time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) }

func validator() *report.Validator { return &report.Validator{Now: clock} }

// files lists the JSON files under dir, relative to it, sorted.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".json") {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walking %s: %v", dir, err)
	}
	if len(out) == 0 {
		t.Fatalf("no samples under %s", dir)
	}
	slices.Sort(out)
	return out
}

func TestCorpusPositive(t *testing.T) {
	root := corpus(t)
	var rels []string
	for _, sub := range []string{"xarf-spec/samples/v4", "abusix-xarf/samples/positive"} {
		for _, f := range files(t, filepath.Join(root, sub)) {
			rels = append(rels, sub+"/"+f)
		}
	}
	for _, rel := range rels {
		t.Run(rel, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(root, rel))
			if err != nil {
				t.Fatal(err)
			}
			r, es := Map(data)
			if len(es) > 0 {
				t.Fatalf("Map: %v", es)
			}
			if ves := validator().Validate(r); len(ves) > 0 {
				t.Fatalf("Validate: %v\nreport: %+v", ves, r)
			}
			t.Logf("%s/%s: %s", r.Type, r.Subtype, firstLine(r.Description))
		})
	}
}

func TestCorpusNegative(t *testing.T) {
	root := corpus(t)
	sub := "abusix-xarf/samples/negative"
	for _, f := range files(t, filepath.Join(root, sub)) {
		rel := sub + "/" + f
		t.Run(rel, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(root, rel))
			if err != nil {
				t.Fatal(err)
			}
			r, es := Map(data)
			stage := "Map"
			if len(es) == 0 {
				stage = "Validate"
				es = validator().Validate(r)
			}
			if len(es) == 0 {
				t.Fatalf("accepted: %+v", r)
			}
			t.Logf("%s refused it: %v", stage, es)
		})
	}
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}
