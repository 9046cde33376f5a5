package xarfmail

import (
	"encoding/base64"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"abusedesk/internal/intake/mailpart"
	"abusedesk/internal/intake/xarf"
	"abusedesk/internal/report"
)

// The third-party corpus lives beside the repository (../shared/corpus from
// its root) and is absent from a fresh clone; it is read, never copied.
var corpusDir = filepath.Join("..", "..", "..", "..", "shared", "corpus")

func corpus(t *testing.T) string {
	t.Helper()
	if fi, err := os.Stat(corpusDir); err != nil || !fi.IsDir() {
		t.Skipf("corpus not found at %s: skipping", corpusDir)
	}
	return corpusDir
}

// jsonFiles lists the JSON files under root/sub, as paths relative to root.
func jsonFiles(t *testing.T, root, sub string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(filepath.Join(root, sub), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".json") {
			rel, _ := filepath.Rel(root, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Skipf("corpus folder %s unreadable: %v", sub, err)
	}
	if len(out) == 0 {
		t.Fatalf("no samples under %s", sub)
	}
	slices.Sort(out)
	return out
}

// attachedMail wraps a document as a base64 attachment of a mail with a
// human-readable first part, as XARF senders do.
func attachedMail(name string, doc []byte) []byte {
	var b strings.Builder
	b.WriteString("From: reports@sender.example\nSubject: XARF report\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"xb\"\n\n")
	b.WriteString("--xb\nContent-Type: text/plain; charset=utf-8\n\nPlease find the XARF report attached.\n")
	b.WriteString("--xb\nContent-Type: application/json; name=\"" + name + "\"\nContent-Disposition: attachment; filename=\"" + name + "\"\nContent-Transfer-Encoding: base64\n\n")
	enc := base64.StdEncoding.EncodeToString(doc)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\n--xb--\n")
	return []byte(b.String())
}

// inlineMail sends the document as the whole body.
func inlineMail(doc []byte) []byte {
	return append([]byte("From: reports@sender.example\nSubject: XARF report\nMIME-Version: 1.0\nContent-Type: application/json\n\n"), doc...)
}

func prefixed(es report.Errors, prefix string) report.Errors {
	var out report.Errors
	for _, e := range es {
		if e.Field == "" {
			e.Field = prefix
		} else {
			e.Field = prefix + "." + e.Field
		}
		out = append(out, e)
	}
	return out
}

func TestCorpusPositive(t *testing.T) {
	root := corpus(t)
	var rels []string
	for _, sub := range []string{"xarf-spec/samples/v4", "abusix-xarf/samples/positive"} {
		rels = append(rels, jsonFiles(t, root, sub)...)
	}
	for i, rel := range rels {
		t.Run(rel, func(t *testing.T) {
			doc, err := os.ReadFile(filepath.Join(root, rel))
			if err != nil {
				t.Fatal(err)
			}
			want, wantErrs := xarf.Map(doc)
			name := filepath.Base(rel)
			mails := map[string][]byte{"attached": attachedMail(name, doc)}
			if i == 0 {
				mails["inline"] = inlineMail(doc)
			}
			for how, raw := range mails {
				reps, missing, ok := Parse(mailpart.Parse(raw))
				if !ok {
					t.Fatalf("%s: not recognised", how)
				}
				prefix := "attachment[" + name + "]"
				if how == "inline" {
					prefix = "attachment[1]"
				}
				if !reflect.DeepEqual(missing, prefixed(wantErrs, prefix)) {
					t.Fatalf("%s: missing %v, Map said %v", how, missing, wantErrs)
				}
				if want == nil {
					if len(reps) != 0 {
						t.Fatalf("%s: %d reports where Map gave none", how, len(reps))
					}
					continue
				}
				if len(reps) != 1 || !reflect.DeepEqual(reps[0], want) {
					t.Fatalf("%s: reports differ from xarf.Map:\n got %+v\nwant %+v", how, reps, want)
				}
			}
		})
	}
	t.Logf("%d documents, the first also inline", len(rels))
}

func TestCorpusNegative(t *testing.T) {
	root := corpus(t)
	for _, rel := range jsonFiles(t, root, "abusix-xarf/samples/negative") {
		t.Run(rel, func(t *testing.T) {
			doc, err := os.ReadFile(filepath.Join(root, rel))
			if err != nil {
				t.Fatal(err)
			}
			name := filepath.Base(rel)
			reps, missing, ok := Parse(mailpart.Parse(attachedMail(name, doc)))
			if !ok {
				t.Fatal("not recognised")
			}
			if len(missing) == 0 {
				// Map accepted it: the desk's validator must then refuse it
				// (as the xarf package's own corpus test requires).
				if len(reps) != 1 {
					t.Fatalf("no missing entries and %d reports", len(reps))
				}
				if es := validator().Validate(reps[0]); len(es) == 0 {
					t.Fatalf("accepted: %+v", reps[0])
				}
				t.Skipf("xarf.Map accepts it; the validator refuses it")
			}
			for _, e := range missing {
				if !strings.HasPrefix(e.Field, "attachment["+name+"]") {
					t.Fatalf("field %q not prefixed", e.Field)
				}
				if e.Code == "" || e.Message == "" {
					t.Fatalf("incomplete %+v", e)
				}
			}
		})
	}
}
