package xarfmail

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseYAML(t *testing.T) {
	type kv = [2]string
	tests := []struct {
		name string
		in   string
		want []kv
	}{
		{"flat", "A: 1\nB: two words\n", []kv{{"A", "1"}, {"B", "two words"}}},
		{"markers and comments", "%YAML 1.1\n--- # start\n# c\nA: x # trailing\n\nB: y#not a comment\n...\n# after\n", []kv{{"A", "x"}, {"B", "y#not a comment"}}},
		{"empty values", "A:\nB: \nC: ~\n", []kv{{"A", ""}, {"B", ""}, {"C", "~"}}},
		{"colon in plain", "Date: Thu, 07 Jun 2007 13:11:07 +0200\nURL: http://x.example/a:b\n", []kv{{"Date", "Thu, 07 Jun 2007 13:11:07 +0200"}, {"URL", "http://x.example/a:b"}}},
		{"single quoted", "A: 'it''s # no comment'\nB: ''\n", []kv{{"A", "it's # no comment"}, {"B", ""}}},
		{"double quoted escapes", `A: "tab\there \"q\" \\ \x41\u00e9\U0001F600 \/"` + "\n", []kv{{"A", "tab\there \"q\" \\ Aé😀 /"}}},
		{"quoted multi-line", "A: \"one\n  two\n\n  three\"\nB: 'x\n   y'\n", []kv{{"A", "one two\nthree"}, {"B", "x y"}}},
		{"escaped line break", "A: \"abc \\\n  def\"\n", []kv{{"A", "abc def"}}},
		{"plain multi-line", "A: one\n  two\n\n  three\nB: z\n", []kv{{"A", "one two\nthree"}, {"B", "z"}}},
		{"value on next line", "A:\n  value here\nB: c\n", []kv{{"A", "value here"}, {"B", "c"}}},
		{"literal", "A: |\n  line 1\n    indented\n\n  line 3\nB: x\n", []kv{{"A", "line 1\n  indented\n\nline 3\n"}, {"B", "x"}}},
		{"literal strip", "A: |-\n  l1\n  l2\n\n", []kv{{"A", "l1\nl2"}}},
		{"literal keep", "A: |+\n  l1\n\n\nB: x\n", []kv{{"A", "l1\n\n\n"}, {"B", "x"}}},
		{"folded", "A: >\n  one\n  two\n\n  three\n    more\n  four\n", []kv{{"A", "one two\nthree\n  more\nfour\n"}}},
		{"explicit indent", "A: |2\n    x\n  y\n", []kv{{"A", "  x\ny\n"}}},
		{"block with comment", "A: > # c\n  t\n", []kv{{"A", "t\n"}}},
		{"quoted key", "\"Odd Key\": v\n", []kv{{"Odd Key", "v"}}},
		{"indented mapping", "  A: 1\n  B: 2\n", []kv{{"A", "1"}, {"B", "2"}}},
		{"crlf and bom", "\ufeffA: 1\r\nB: 2\r\n", []kv{{"A", "1"}, {"B", "2"}}},
		{"empty document", "---\n...\n", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs, err := ParseYAML([]byte(tc.in))
			if err != nil {
				t.Fatalf("ParseYAML: %v", err)
			}
			var got []kv
			for _, f := range fs {
				got = append(got, kv{f.Key, f.Value})
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestParseYAMLLines(t *testing.T) {
	fs, err := ParseYAML([]byte("---\n# c\nA: 1\nB: |\n  x\nC: 3\n"))
	if err != nil {
		t.Fatal(err)
	}
	if fs[0].Line != 3 || fs[1].Line != 4 || fs[2].Line != 6 {
		t.Fatalf("lines %+v", fs)
	}
}

func TestParseYAMLErrors(t *testing.T) {
	tests := []struct {
		name, in string
		line     int
		msg      string
	}{
		{"nested mapping", "A: 1\nB:\n  c: 2\n", 3, "nested mapping"},
		{"nested on one line", "A: b: c\n", 1, "nested mapping"},
		{"sequence", "A: 1\nB:\n  - x\n", 3, "sequence"},
		{"top sequence", "- a\n", 1, "sequence"},
		{"flow map", "A: {b: 1}\n", 1, "flow collections"},
		{"flow seq", "A: [1, 2]\n", 1, "flow collections"},
		{"anchor", "A: &x 1\n", 1, "anchors"},
		{"alias", "A: *x\n", 1, "aliases"},
		{"tag", "A: !!str 1\n", 1, "tags"},
		{"complex key", "? A\n: 1\n", 1, "complex keys"},
		{"no colon", "A: 1\njust text\n", 2, "expected Key: value"},
		{"duplicate", "A: 1\nB: 2\nA: 3\n", 3, "duplicate key"},
		{"second document", "A: 1\n---\nB: 2\n", 2, "second document"},
		{"after end", "A: 1\n...\nB: 2\n", 3, "after the ..."},
		{"unclosed quote", "A: 1\nB: \"open\nC: 2\n", 2, "not closed"},
		{"text after quote", "A: 'x' y\n", 1, "after the closing quote"},
		{"bad escape", `A: "\q"` + "\n", 1, "unknown escape"},
		{"short escape", `A: "\u12"` + "\n", 1, "hexadecimal"},
		{"tab indent", "\tA: 1\n", 1, "tab"},
		{"dedented key", "  A: 1\nB: 2\n", 2, "less indented"},
		{"block header junk", "A: |x\n  y\n", 1, "after the block scalar"},
		{"block dedent", "A: |\n    x\n  y\n", 3, "less indented"},
		{"reserved", "A: @x\n", 1, "reserved"},
		{"directive", "%TAG ! tag:x,2000:\n---\nA: 1\n", 1, "directives"},
		{"content on marker", "--- A: 1\n", 1, "content on the ---"},
		{"comment then text", "A: x\n  # c\n  y\n", 3, "continues after a comment"},
		{"bad utf8", "A: 1\nB: \xff\n", 2, "UTF-8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs, err := ParseYAML([]byte(tc.in))
			if err == nil {
				t.Fatalf("accepted: %+v", fs)
			}
			var ye *YAMLError
			if !errors.As(err, &ye) {
				t.Fatalf("error %T %v", err, err)
			}
			if ye.Line != tc.line || !strings.Contains(ye.Msg, tc.msg) {
				t.Fatalf("got line %d %q, want line %d containing %q", ye.Line, ye.Msg, tc.line, tc.msg)
			}
		})
	}
}

func TestParseYAMLTooLarge(t *testing.T) {
	if _, err := ParseYAML(make([]byte, MaxYAMLBytes+1)); err == nil {
		t.Fatal("accepted an oversized document")
	}
}
