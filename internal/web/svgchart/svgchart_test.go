package svgchart

import (
	"bytes"
	"encoding/xml"
	"html/template"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// node is a minimal parsed XML element.
type node struct {
	Name     string
	Attr     map[string]string
	Text     string // direct character data
	Children []*node
	Parent   *node
}

// parse checks that s is a single well-formed SVG element and returns it.
func parse(t *testing.T, s string) *node {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(s))
	d.Strict = true
	var root, cur *node
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed: %v\n%s", err, s)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			n := &node{Name: tok.Name.Local, Attr: map[string]string{}, Parent: cur}
			for _, a := range tok.Attr {
				n.Attr[a.Name.Local] = a.Value
			}
			if tok.Name.Local == "svg" && cur == nil && tok.Name.Space != "http://www.w3.org/2000/svg" {
				t.Fatalf("root not in the SVG namespace: %q", tok.Name.Space)
			}
			if cur == nil {
				if root != nil {
					t.Fatal("more than one root element")
				}
				root = n
			} else {
				cur.Children = append(cur.Children, n)
			}
			cur = n
		case xml.EndElement:
			cur = cur.Parent
		case xml.CharData:
			if cur == nil {
				if len(bytes.TrimSpace(tok)) > 0 {
					t.Fatalf("text outside root: %q", tok)
				}
				continue
			}
			cur.Text += string(tok)
		}
	}
	if root == nil || root.Name != "svg" {
		t.Fatalf("no <svg> root in %s", s)
	}
	return root
}

func (n *node) all(name string) []*node {
	var out []*node
	for _, c := range n.Children {
		if c.Name == name {
			out = append(out, c)
		}
		out = append(out, c.all(name)...)
	}
	return out
}

func (n *node) texts() []string {
	var out []string
	for _, c := range n.all("text") {
		out = append(out, c.Text)
	}
	return out
}

func attrF(t *testing.T, n *node, a string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(n.Attr[a], 64)
	if err != nil {
		t.Fatalf("%s=%q: %v", a, n.Attr[a], err)
	}
	return f
}

var kinds = []struct {
	name string
	fn   func(Chart) template.HTML
}{{"Bars", Bars}, {"Lines", Lines}, {"HBars", HBars}}

func sample() Chart {
	return Chart{
		Title:  "Reports per day",
		Labels: []string{"11-18", "11-19", "11-20"},
		Series: []Series{{"spam", []float64{3, 5, 2}}, {"phishing", []float64{1, 0, 4}}},
	}
}

func TestWellFormedAndAccessible(t *testing.T) {
	for _, k := range kinds {
		root := parse(t, string(k.fn(sample())))
		id := root.Attr["aria-labelledby"]
		if root.Attr["role"] != "img" || id == "" {
			t.Errorf("%s: missing role/aria-labelledby: %v", k.name, root.Attr)
		}
		titles := root.all("title")
		if len(titles) == 0 || titles[0].Attr["id"] != id || titles[0].Text != "Reports per day" {
			t.Errorf("%s: first <title> should be the labelled chart title", k.name)
		}
		if len(root.all("style")) != 1 {
			t.Errorf("%s: want one default <style>", k.name)
		}
	}
}

func TestEscaping(t *testing.T) {
	const evil = `<script>alert(1)</script>`
	c := Chart{
		Title:  `"Title" & <b>` + evil,
		Labels: []string{evil, `a"b'c&d`, "bad\x00utf8\xff"},
		Series: []Series{{evil, []float64{1, 2, 3}}, {`x" onload="alert(1)`, []float64{1, 1, 1}}},
		Unit:   evil,
	}
	for _, k := range kinds {
		out := string(k.fn(c))
		root := parse(t, out)
		if strings.Contains(out, "<script") || strings.Contains(out, "<b>") || strings.Contains(out, `" onload`) {
			t.Errorf("%s: hostile text not escaped:\n%s", k.name, out)
		}
		var all []string
		for _, n := range append(root.all("text"), root.all("title")...) {
			all = append(all, n.Text)
		}
		if !strings.Contains(strings.Join(all, "\n"), evil) {
			t.Errorf("%s: escaped label should decode back to the original text", k.name)
		}
		// Embedded in a page through html/template, it stays inert.
		var buf bytes.Buffer
		tpl := template.Must(template.New("").Parse(`<div>{{.}}</div>`))
		if err := tpl.Execute(&buf, k.fn(c)); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(buf.String(), "<script") {
			t.Errorf("%s: <script in page", k.name)
		}
	}
}

func TestBarHeightsProportional(t *testing.T) {
	c := Chart{Labels: []string{"a", "b", "c"}, Series: []Series{{"x", []float64{2, 4, 1}}, {"y", []float64{2, 0, 0}}}}
	root := parse(t, string(Bars(c)))
	var hs []float64
	for _, g := range root.all("g") {
		if g.Attr["class"] != "s0" && g.Attr["class"] != "s1" {
			continue
		}
		for _, r := range g.all("rect") {
			hs = append(hs, attrF(t, r, "height"))
		}
	}
	// Peak 4 (integers) → ticks 0..4, so 4 fills the plot: 220-18 bottom, legend+8 top.
	if len(hs) != 4 {
		t.Fatalf("want 4 bar segments, got %v", hs)
	}
	unit := hs[1] / 4
	for i, want := range []float64{2, 4, 1, 2} {
		if math.Abs(hs[i]-want*unit) > 0.15 {
			t.Errorf("segment %d height %v, want %v", i, hs[i], want*unit)
		}
	}
	if unit < 30 {
		t.Errorf("bars use too little of the plot: unit %v", unit)
	}
	// HBars widths are proportional too.
	root = parse(t, string(HBars(Chart{Labels: []string{"a", "b"}, Series: []Series{{"", []float64{10, 5}}}})))
	rs := root.all("rect")
	if len(rs) != 2 || math.Abs(attrF(t, rs[0], "width")-2*attrF(t, rs[1], "width")) > 0.15 {
		t.Errorf("hbar widths not proportional")
	}
	if txt := strings.Join(root.texts(), "|"); !strings.Contains(txt, "|10|") || !strings.HasSuffix(txt, "|5") {
		t.Errorf("hbar values not printed: %s", txt)
	}
}

func TestNiceTicks(t *testing.T) {
	for _, tc := range []struct {
		max     float64
		integer bool
		want    []float64
		dec     int
	}{
		{7, true, []float64{0, 2, 4, 6, 8}, 0},
		{1234, true, []float64{0, 500, 1000, 1500}, 0},
		{0.5, false, []float64{0, 0.1, 0.2, 0.3, 0.4, 0.5}, 1},
		{1, true, []float64{0, 1, 2, 3}, 0},
		{0.03, false, []float64{0, 0.01, 0.02, 0.03}, 2},
		{100, true, []float64{0, 20, 40, 60, 80, 100}, 0},
		{5.5, false, []float64{0, 2, 4, 6}, 0},
	} {
		got, dec := niceTicks(tc.max, tc.integer)
		if !reflect.DeepEqual(got, tc.want) || dec != tc.dec {
			t.Errorf("niceTicks(%v) = %v,%d; want %v,%d", tc.max, got, dec, tc.want, tc.dec)
		}
	}
	for m := 0.001; m < 1e7; m *= 1.37 {
		for _, integer := range []bool{false, true} {
			if integer && m < 3 {
				continue
			}
			got, _ := niceTicks(m, integer)
			if n := len(got); n < 4 || n > 6 || got[n-1] < m || got[n-2] >= m {
				t.Errorf("niceTicks(%v,%v) = %v", m, integer, got)
			}
		}
	}
	root := parse(t, string(Lines(Chart{Labels: []string{"a", "b"}, Series: []Series{{"t", []float64{0.2, 1234}}}, Unit: "h"})))
	if txt := strings.Join(root.texts(), "|"); !strings.Contains(txt, "|1500h|") {
		t.Errorf("tick labels missing unit/values: %s", txt)
	}
}

func TestEmptyAndZero(t *testing.T) {
	inf := math.Inf(1)
	for _, c := range []Chart{
		{},
		{Title: "t", Labels: []string{"a", "b"}},
		{Labels: []string{"a", "b"}, Series: []Series{{"x", []float64{0, 0}}}},
		{Labels: []string{"a", "b", "c"}, Series: []Series{{"x", []float64{math.NaN(), -3, inf}}}},
		{Labels: []string{"a", "b"}, Series: []Series{{"x", nil}}},
	} {
		for _, k := range kinds {
			out := string(k.fn(c))
			root := parse(t, out)
			if !strings.Contains(strings.Join(root.texts(), "|"), "no data") {
				t.Errorf("%s(%+v): no \"no data\" text", k.name, c)
			}
			if strings.Contains(out, "NaN") || strings.Contains(out, "Inf") {
				t.Errorf("%s: NaN/Inf in output: %s", k.name, out)
			}
		}
	}
	// Extreme but finite values stay finite.
	for _, vs := range [][]float64{{1e-320, 5e-10}, {math.MaxFloat64, math.MaxFloat64}, {1e-7, 3e-7}} {
		c := Chart{Labels: []string{"a", "b"}, Series: []Series{{"x", vs}, {"y", vs}}}
		for _, k := range kinds {
			out := string(k.fn(c))
			parse(t, out)
			if strings.Contains(out, "NaN") || strings.Contains(out, "Inf") {
				t.Errorf("%s(%v): NaN/Inf in output: %s", k.name, vs, out)
			}
		}
	}
	// Bad values next to good ones count as 0.
	root := parse(t, string(Bars(Chart{Labels: []string{"a", "b", "c"}, Series: []Series{{"x", []float64{math.NaN(), 4, -1}}}})))
	if n := len(root.all("g")[1].all("rect")); n != 1 {
		t.Errorf("want only the one positive bar, got %d", n)
	}
}

func TestThinning(t *testing.T) {
	c := Chart{Series: []Series{{"reports", nil}}}
	for i := range 90 {
		c.Labels = append(c.Labels, strconv.Itoa(10+i/30)+"-"+strconv.Itoa(10+i%30))
		c.Series[0].Values = append(c.Series[0].Values, float64(i%7))
	}
	for _, k := range kinds[:2] {
		root := parse(t, string(k.fn(c)))
		var xs []float64
		for _, g := range root.all("g") {
			if g.Attr["class"] == "xl" {
				for _, tx := range g.all("text") {
					xs = append(xs, attrF(t, tx, "x"))
				}
			}
		}
		if len(xs) < 8 || len(xs) > 30 {
			t.Fatalf("%s: %d x labels shown for 90 days", k.name, len(xs))
		}
		for i := 1; i < len(xs); i++ {
			if xs[i]-xs[i-1] < 5*charW { // "10-18" is 5 characters
				t.Errorf("%s: labels %v overlap", k.name, xs[i-1:i+1])
			}
		}
	}
	// Few labels are all shown.
	root := parse(t, string(Bars(sample())))
	if got := len(root.all("g")[len(root.all("g"))-1].all("text")); got != 3 {
		t.Errorf("want all 3 labels, got %d", got)
	}
}

func TestDeterministic(t *testing.T) {
	for _, k := range kinds {
		a, b := k.fn(sample()), k.fn(sample())
		if a != b {
			t.Errorf("%s: output differs between calls", k.name)
		}
		other := sample()
		other.Title = "Cases per day"
		if parse(t, string(k.fn(other))).Attr["aria-labelledby"] == parse(t, string(a)).Attr["aria-labelledby"] {
			t.Errorf("%s: different charts share an id", k.name)
		}
	}
	if s := string(Lines(Chart{Labels: []string{"a", "b"}, Series: []Series{{"x", []float64{1.0 / 3, 2.0 / 3}}}})); strings.Contains(s, "0.33") || strings.Contains(s, "666") {
		t.Errorf("numbers not rounded to 1 decimal: %s", s)
	}
}
