package dmcamail

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"abusedesk/internal/intake/mailpart"
)

// The third-party corpus lives beside the repository (../shared/corpus from
// its root) and is absent from a fresh clone. It holds no copyright notice:
// its feedback reports (RFC 5965) must all be left to the other parsers.
var corpusDir = filepath.Join("..", "..", "..", "..", "shared", "corpus", "set-of-emails")

func TestCorpusNotNotices(t *testing.T) {
	if fi, err := os.Stat(corpusDir); err != nil || !fi.IsDir() {
		t.Skipf("corpus not found at %s: skipping", corpusDir)
	}
	n := 0
	err := filepath.WalkDir(corpusDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Base(p) == "LICENSE" {
			return err
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		n++
		if reps, missing, ok := Parse(mailpart.Parse(raw)); ok {
			t.Errorf("%s read as a copyright notice: %d reports, missing %v", p, len(reps), missing)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Skip("no mail in the corpus")
	}
	t.Logf("%d mails, none a notice", n)
}
