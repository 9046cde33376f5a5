package outbox

import (
	"io/fs"
	"path"
	"strings"
	"testing"
)

// Every kind has a template in every language: walks the embedded files.
func TestTemplateFilesComplete(t *testing.T) {
	langs := map[string]map[string]bool{} // kind → languages
	err := fs.WalkDir(templateFS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		kind, lang, ok := strings.Cut(strings.TrimSuffix(path.Base(p), ".txt"), ".")
		if !ok || !strings.HasSuffix(p, ".txt") {
			t.Errorf("unexpected file %s", p)
			return nil
		}
		if langs[kind] == nil {
			langs[kind] = map[string]bool{}
		}
		langs[kind][lang] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(langs) != len(Kinds()) {
		t.Errorf("%d kinds of files, Kinds() has %d", len(langs), len(Kinds()))
	}
	for kind, have := range langs {
		for _, lang := range Languages {
			if !have[lang] {
				t.Errorf("missing templates/%s.%s.txt", kind, lang)
			}
		}
		if len(have) != len(Languages) {
			t.Errorf("%s: languages %v, want %v", kind, have, Languages)
		}
	}
}
