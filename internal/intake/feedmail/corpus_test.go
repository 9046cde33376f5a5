package feedmail

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"abusedesk/internal/intake/mailpart"
)

// The third-party corpus lives beside the repository (../shared/corpus from
// its root) and is absent from a fresh clone.
var corpusDir = filepath.Join("..", "..", "..", "..", "shared", "corpus")

// TestCorpusNotFeeds: the corpus holds feedback reports (RFC 5965) and
// other mail, none of which carries a CSV feed; this parser must let every
// one of them pass to the next (ok false), and never panic on them.
func TestCorpusNotFeeds(t *testing.T) {
	dir := filepath.Join(corpusDir, "set-of-emails")
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Skipf("corpus not found at %s: skipping", dir)
	}
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".eml") {
			return err
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		n++
		if reps, missing, ok := Parse(mailpart.Parse(raw)); ok {
			t.Errorf("%s read as a feed: %d reports, %v", p, len(reps), missing)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Skipf("no .eml files under %s", dir)
	}
	t.Logf("%d corpus mails, none a feed", n)
}
