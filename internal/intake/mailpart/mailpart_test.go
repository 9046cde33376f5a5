package mailpart

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const corpus = "../../../../shared/corpus/set-of-emails/maildir"

func TestLineEndsGiveOneTree(t *testing.T) {
	var trees []string
	for _, dir := range []string{"bsd", "dos", "mac"} {
		raw, err := os.ReadFile(filepath.Join(corpus, dir, "arf-01.eml"))
		if err != nil {
			t.Skipf("corpus not present (%v): the shared corpus sits beside the repository in CI", err)
		}
		trees = append(trees, shape(Parse(raw)))
	}
	if trees[0] != trees[1] || trees[0] != trees[2] {
		t.Fatalf("LF, CRLF and CR-only give different trees:\n%s\n%s\n%s", trees[0], trees[1], trees[2])
	}
	if !strings.Contains(trees[0], "message/feedback-report") || !strings.Contains(trees[0], "closing boundary missing") {
		t.Fatalf("tree lacks the feedback part or the defect:\n%s", trees[0])
	}
}

func shape(p *Part) string {
	var b strings.Builder
	var walk func(*Part, string)
	walk = func(q *Part, ind string) {
		b.WriteString(ind + q.MediaType + " " + strings.Join(q.Defects, ",") + "\n")
		for _, c := range q.Parts {
			walk(c, ind+"  ")
		}
		if q.Message != nil {
			walk(q.Message, ind+"  >")
		}
	}
	walk(p, "")
	return b.String()
}

func TestTolerance(t *testing.T) {
	raw := "from: A <a@example.org>\r\nSUBJECT: =?utf-8?q?caf=C3=A9?=\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n" +
		"preamble\r\n--b1\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nd=E9j=E0 vu\r\n" +
		"--b1\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename*=utf-8''r%C3%A9sum%C3%A9.csv\r\nContent-Transfer-Encoding: base64\r\n\r\naXAsdGltZQo=\r\n" +
		"--b1\r\nContent-Type: message/rfc822\r\n\r\nReceived: from x\r\nSubject: inner\r\n\r\nbody\r\n"
	p := Parse([]byte(raw))
	if p.Header.Get("Subject") != "café" || p.Header.Get("FROM") != "A <a@example.org>" {
		t.Fatalf("header: %#v", p.Header)
	}
	if len(p.Parts) != 3 || !reflect.DeepEqual(p.Defects, []string{"closing boundary missing"}) {
		t.Fatalf("parts %d defects %v", len(p.Parts), p.Defects)
	}
	if got := p.Parts[0].Text(); got != "déjà vu" {
		t.Fatalf("text %q", got)
	}
	if a := p.Parts[1]; !a.Attachment || a.Filename != "résumé.csv" || string(a.Body) != "ip,time\n" {
		t.Fatalf("attachment %+v %q", a, a.Body)
	}
	if m := p.Parts[2].Message; m == nil || m.Header.Get("subject") != "inner" || string(m.Body) != "body\n" {
		t.Fatalf("embedded %+v", m)
	}
	if p.BodyText() != "déjà vu" {
		t.Fatalf("body text %q", p.BodyText())
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("Subject: x\n\nbody"))
	f.Add([]byte("Content-Type: multipart/report; boundary=a\n\n--a\nContent-Type: message/rfc822\n\nA: b\n\nc\n--a--\n"))
	f.Add([]byte("Content-Type: text/rfc822-headers\nContent-Transfer-Encoding: base64\n\nQTog\n"))
	if ents, err := os.ReadDir(filepath.Join(corpus, "bsd")); err == nil {
		for _, e := range ents {
			if b, err := os.ReadFile(filepath.Join(corpus, "bsd", e.Name())); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		p := Parse(raw)
		n := 0
		p.Walk(func(q *Part) bool { n++; _ = q.Text(); return true })
		if n > MaxParts+MaxDepth+1 {
			t.Fatalf("%d parts", n)
		}
		_ = p.BodyText()
	})
}

// A header of many folded lines is read in linear time (it was quadratic:
// 600 KB took 90 s).
func TestFoldedHeaderIsLinear(t *testing.T) {
	raw := "Subject: x\n" + strings.Repeat(" folded line of the subject\n", 40000) + "\nbody"
	p := Parse([]byte(raw))
	if got := len(p.Header.Get("Subject")); got < 40000*20 {
		t.Fatalf("subject of %d bytes", got)
	}
}
