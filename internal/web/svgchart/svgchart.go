// Package svgchart draws small server-rendered SVG charts (stacked bars,
// lines, horizontal bars) for the staff dashboard. Output is a standalone
// inline <svg> (xmlns set, role="img", labelled by its <title>) returned as
// template.HTML; every string taken from the Chart is XML-escaped.
//
// Colours come from the CSS classes s0..s7 (series index modulo 8), set as
// fill and stroke on a <g> per series (bars draw with stroke-width 0 unless
// the page sets one). A <style> element inside each chart gives a
// colour-blind-safe default (Okabe–Ito) with zero specificity
// (:where(.svgchart .s0)), so any page rule such as `.s0{fill:…;stroke:…}`
// overrides it; the same colours are also set as presentation attributes,
// which rank below all CSS. Text uses currentColor.
//
// Values that are NaN, ±Inf or negative are drawn as 0 (so are values
// below 1e-9; values above 1e15 are clamped to 1e15). Empty and all-zero data draw an empty axis with a
// "no data" text. Output is deterministic.
package svgchart

import (
	"encoding/xml"
	"fmt"
	"hash/fnv"
	"html/template"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Series is one named row of values, one per Chart label.
type Series struct {
	Name   string
	Values []float64
}

// Chart describes what to draw. Missing values (a series shorter than
// Labels) count as 0; extra values are ignored.
type Chart struct {
	Title         string   // <title> of the SVG, read by screen readers
	Labels        []string // x categories, or bar names for HBars
	Series        []Series // each len(Labels)
	Width, Height int      // viewBox size; defaults 640×220
	Unit          string   // appended to tick labels ("12h") and values in tooltips ("12 h")
}

const (
	defaultW = 640
	defaultH = 220
	charW    = 6.5 // estimated average glyph width at font-size 11
)

// Okabe–Ito palette, blue first; yellow and black last.
var palette = [8]string{"#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000"}

var styleElem = func() string {
	var b strings.Builder
	b.WriteString("<style>:where(.svgchart text){fill:currentColor}")
	for i, c := range palette {
		fmt.Fprintf(&b, ":where(.svgchart .s%d){fill:%s;stroke:%s}", i, c, c)
	}
	b.WriteString("</style>")
	return b.String()
}()

// Bars draws one vertical stacked bar per label (series stacked in order)
// and a legend of the series names.
func Bars(c Chart) template.HTML {
	vals := matrix(c)
	peak := 0.0
	for i := range c.Labels {
		sum := 0.0
		for s := range vals {
			sum += vals[s][i]
		}
		peak = math.Max(peak, sum)
	}
	return vertical("bars", c, vals, peak, func(b *strings.Builder, f frame) {
		barW := math.Min(f.slot*0.8, 48)
		cum := make([]float64, len(c.Labels))
		for s, ser := range c.Series {
			fmt.Fprintf(b, `<g %s stroke-width="0">`, colour(s))
			for i, v := range vals[s] {
				if v == 0 {
					continue
				}
				y0, y1 := f.y(cum[i]+v), f.y(cum[i])
				cum[i] += v
				fmt.Fprintf(b, `<rect x="%s" y="%s" width="%s" height="%s"><title>%s, %s</title></rect>`,
					num(f.cx(i)-barW/2), num(y0), num(barW), num(y1-y0),
					esc(c.Labels[i]), esc(tooltip(ser.Name, v, c.Unit)))
			}
			b.WriteString(`</g>`)
		}
	})
}

// Lines draws one polyline per series with a point per label; each point
// carries a <title> tooltip "Label: value unit". A legend names the series.
func Lines(c Chart) template.HTML {
	vals := matrix(c)
	peak := 0.0
	for _, row := range vals {
		for _, v := range row {
			peak = math.Max(peak, v)
		}
	}
	return vertical("lines", c, vals, peak, func(b *strings.Builder, f frame) {
		for s := range c.Series {
			fmt.Fprintf(b, `<g %s>`, colour(s))
			if len(c.Labels) > 1 {
				b.WriteString(`<polyline style="fill:none" stroke-width="2" points="`)
				for i, v := range vals[s] {
					if i > 0 {
						b.WriteByte(' ')
					}
					b.WriteString(num(f.cx(i)) + "," + num(f.y(v)))
				}
				b.WriteString(`"/>`)
			}
			for i, v := range vals[s] {
				fmt.Fprintf(b, `<circle cx="%s" cy="%s" r="2.5"><title>%s</title></circle>`,
					num(f.cx(i)), num(f.y(v)), esc(tooltip(c.Labels[i], v, c.Unit)))
			}
			b.WriteString(`</g>`)
		}
	})
}

// HBars draws one horizontal bar per label using the first series, with the
// label on the left and the value printed at the bar's end. Labels longer
// than a third of the width are truncated with "…" (full text in the
// bar's tooltip).
func HBars(c Chart) template.HTML {
	w, h := size(c)
	var vals []float64
	if m := matrix(c); len(m) > 0 {
		vals = m[0]
	}
	peak, integer := 0.0, true
	for _, v := range vals {
		peak = math.Max(peak, v)
		integer = integer && v == math.Trunc(v)
	}
	var b strings.Builder
	open(&b, "hbars", c, w, h)
	if peak == 0 {
		noData(&b, 8, 4, float64(w)-8, float64(h)-8)
		return done(&b)
	}
	ticks, dec := niceTicks(peak, integer)
	top := ticks[len(ticks)-1]
	maxChars := int((float64(w)/3 - 8) / charW)
	labels := make([]string, len(vals))
	values := make([]string, len(vals))
	lw, vw := 0, 0
	for i, v := range vals {
		labels[i] = truncate(c.Labels[i], maxChars)
		values[i] = fmtValue(v) + c.Unit
		lw = max(lw, utf8.RuneCountInString(labels[i]))
		vw = max(vw, utf8.RuneCountInString(values[i]))
	}
	// The last tick label is centred on the right edge of the plot.
	vw = max(vw, utf8.RuneCountInString(fmtTick(top, dec)+c.Unit)/2)
	x0 := float64(lw)*charW + 10
	x1 := math.Max(x0+1, float64(w)-float64(vw)*charW-8)
	y0, y1 := 4.0, math.Max(5, float64(h)-18)
	x := func(v float64) float64 { return x0 + v/top*(x1-x0) }
	for _, t := range ticks {
		fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#ddd"/><text x="%s" y="%s" text-anchor="middle">%s</text>`,
			num(x(t)), num(y0), num(x(t)), num(y1), num(x(t)), num(y1+14), esc(fmtTick(t, dec)+c.Unit))
	}
	row := (y1 - y0) / float64(len(vals))
	barH := math.Min(row*0.7, 22)
	fmt.Fprintf(&b, `<g %s stroke-width="0">`, colour(0))
	for i, v := range vals {
		cy := y0 + row*(float64(i)+0.5)
		fmt.Fprintf(&b, `<rect x="%s" y="%s" width="%s" height="%s"><title>%s</title></rect>`,
			num(x0), num(cy-barH/2), num(x(v)-x0), num(barH), esc(tooltip(c.Labels[i], v, c.Unit)))
	}
	b.WriteString(`</g>`)
	for i := range vals {
		cy := y0 + row*(float64(i)+0.5)
		fmt.Fprintf(&b, `<text x="%s" y="%s" dy=".32em" text-anchor="end">%s</text><text x="%s" y="%s" dy=".32em">%s</text>`,
			num(x0-6), num(cy), esc(labels[i]), num(x(vals[i])+4), num(cy), esc(values[i]))
	}
	axes(&b, x0, y0, x1, y1)
	return done(&b)
}

// frame is the plot area of a vertical chart.
type frame struct {
	x0, y0, x1, y1 float64 // left, top, right, bottom (baseline)
	top, slot      float64 // value at y0; width per label
}

func (f frame) y(v float64) float64 { return f.y1 - v/f.top*(f.y1-f.y0) }
func (f frame) cx(i int) float64    { return f.x0 + f.slot*(float64(i)+0.5) }

// vertical draws what Bars and Lines share: legend, y ticks and grid,
// thinned x labels, axes; body draws the data.
func vertical(kind string, c Chart, vals [][]float64, peak float64, body func(*strings.Builder, frame)) template.HTML {
	w, h := size(c)
	var b strings.Builder
	open(&b, kind, c, w, h)
	y0 := legend(&b, c, float64(w)) + 8
	if peak == 0 {
		noData(&b, 8, y0, float64(w)-8, float64(h)-8)
		return done(&b)
	}
	integer := true
	for _, row := range vals {
		for _, v := range row {
			integer = integer && v == math.Trunc(v)
		}
	}
	ticks, dec := niceTicks(peak, integer)
	tl := make([]string, len(ticks))
	width := 0
	for i, t := range ticks {
		tl[i] = fmtTick(t, dec) + c.Unit
		width = max(width, utf8.RuneCountInString(tl[i]))
	}
	lw := 0 // widest x label, in runes
	for _, l := range c.Labels {
		lw = max(lw, utf8.RuneCountInString(l))
	}
	half := float64(lw) * charW / 2 // keep the outer x labels inside the viewBox
	f := frame{x0: math.Max(float64(width)*charW+8, half), y0: y0, x1: float64(w) - math.Max(8, half), y1: float64(h) - 18, top: ticks[len(ticks)-1]}
	f.x1, f.y1 = math.Max(f.x1, f.x0+1), math.Max(f.y1, f.y0+1)
	f.slot = (f.x1 - f.x0) / float64(len(c.Labels))
	for i, t := range ticks {
		fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#ddd"/><text x="%s" y="%s" dy=".32em" text-anchor="end">%s</text>`,
			num(f.x0), num(f.y(t)), num(f.x1), num(f.y(t)), num(f.x0-4), num(f.y(t)), esc(tl[i]))
	}
	body(&b, f)
	// Thin x labels: show every k-th so that neighbours don't overlap.
	k := max(1, int(math.Ceil((float64(lw)*charW+6)/f.slot)))
	b.WriteString(`<g class="xl" text-anchor="middle">`)
	for i, l := range c.Labels {
		if i%k == 0 {
			fmt.Fprintf(&b, `<text x="%s" y="%s">%s</text>`, num(f.cx(i)), num(f.y1+14), esc(l))
		}
	}
	b.WriteString(`</g>`)
	axes(&b, f.x0, f.y0, f.x1, f.y1)
	return done(&b)
}

// legend draws a swatch and name per series, wrapping rows, and returns the
// y where the plot may start.
func legend(b *strings.Builder, c Chart, w float64) float64 {
	if len(c.Series) == 0 {
		return 0
	}
	x, y := 8.0, 4.0
	b.WriteString(`<g class="legend">`)
	for s, ser := range c.Series {
		name := truncate(ser.Name, 30)
		iw := float64(utf8.RuneCountInString(name))*charW + 26
		if x > 8 && x+iw > w {
			x, y = 8, y+16
		}
		fmt.Fprintf(b, `<rect %s x="%s" y="%s" width="10" height="10"/><text x="%s" y="%s" dy=".32em">%s</text>`,
			colour(s), num(x), num(y), num(x+14), num(y+5), esc(name))
		x += iw
	}
	b.WriteString(`</g>`)
	return y + 12
}

func open(b *strings.Builder, kind string, c Chart, w, h int) {
	id := chartID(kind, c)
	title := c.Title
	if title == "" {
		title = "Chart"
	}
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" class="svgchart svgchart-%s" viewBox="0 0 %d %d" role="img" aria-labelledby="%s" font-family="sans-serif" font-size="11"><title id="%s">%s</title>%s`,
		kind, w, h, id, id, esc(title), styleElem)
}

// colour returns the class and default colour attributes of series s.
// Presentation attributes rank below any CSS, so the page's stylesheet and
// the inline <style> both override them; they keep the chart coloured in
// renderers without :where() or with <style> stripped.
func colour(s int) string {
	return fmt.Sprintf(`class="s%d" fill="%s" stroke="%s"`, s%8, palette[s%8], palette[s%8])
}

func done(b *strings.Builder) template.HTML {
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func axes(b *strings.Builder, x0, y0, x1, y1 float64) {
	fmt.Fprintf(b, `<path d="M%s %sV%sH%s" fill="none" stroke="#888"/>`, num(x0), num(y0), num(y1), num(x1))
}

func noData(b *strings.Builder, x0, y0, x1, y1 float64) {
	axes(b, x0, y0, x1, y1)
	fmt.Fprintf(b, `<text class="nodata" x="%s" y="%s" text-anchor="middle">no data</text>`, num((x0+x1)/2), num((y0+y1)/2))
}

// chartID derives a deterministic element id from the chart's content, so
// that several different charts on one page get distinct ids.
func chartID(kind string, c Chart) string {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s\x00%q\x00%q\x00%d\x00%d\x00%q", kind, c.Title, c.Labels, c.Width, c.Height, c.Unit)
	for _, s := range c.Series {
		fmt.Fprintf(h, "\x00%q%v", s.Name, s.Values)
	}
	return fmt.Sprintf("svgchart-%016x", h.Sum64())
}

func size(c Chart) (int, int) {
	w, h := c.Width, c.Height
	if w <= 0 {
		w = defaultW
	}
	if h <= 0 {
		h = defaultH
	}
	return w, h
}

// matrix returns the cleaned values: one row per series, len(Labels) each.
func matrix(c Chart) [][]float64 {
	m := make([][]float64, len(c.Series))
	for s, ser := range c.Series {
		m[s] = make([]float64, len(c.Labels))
		for i := range m[s] {
			if i < len(ser.Values) {
				m[s][i] = clean(ser.Values[i])
			}
		}
	}
	return m
}

// Values are kept within [minValue, maxValue] (or 0) so that sums and tick
// steps stay finite and non-zero.
const minValue, maxValue = 1e-9, 1e15

// clean maps NaN, ±Inf, negative and tiny values to 0 and clamps huge ones.
func clean(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < minValue {
		return 0
	}
	return math.Min(v, maxValue)
}

// niceTicks returns ticks 0, step, 2·step, … covering peak (> 0), where step
// is 1, 2 or 5 times a power of ten, giving 4 to 6 ticks; step ≥ 1 when the
// data are integers (so small integer ranges get a top above peak). dec is the
// number of decimals the step needs.
func niceTicks(peak float64, integer bool) (ticks []float64, dec int) {
	e := int(math.Floor(math.Log10(peak/5))) - 1
	if integer && e < 0 {
		e = 0
	}
	for ; ; e++ {
		for _, m := range []float64{1, 2, 5} {
			n := int(math.Ceil(peak/(m*math.Pow10(e)) - 1e-9))
			if n > 5 {
				continue
			}
			n = max(n, 3)
			for i := 0; i <= n; i++ {
				if e < 0 {
					ticks = append(ticks, float64(i)*m/math.Pow10(-e))
				} else {
					ticks = append(ticks, float64(i)*m*math.Pow10(e))
				}
			}
			return ticks, max(0, -e)
		}
	}
}

func fmtTick(v float64, dec int) string { return strconv.FormatFloat(v, 'f', dec, 64) }

// fmtValue formats a value with at most one decimal; positive values that
// would round to 0 keep two significant digits instead.
func fmtValue(v float64) string {
	if v > 0 && v < 0.05 {
		return strconv.FormatFloat(v, 'g', 2, 64)
	}
	return num(v)
}

func tooltip(label string, v float64, unit string) string {
	s := label + ": " + fmtValue(v)
	if unit != "" {
		s += " " + unit
	}
	return s
}

// num formats a coordinate with at most one decimal.
func num(v float64) string {
	v = math.Round(v*10) / 10
	if v == 0 {
		v = 0 // no "-0"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// esc XML-escapes s for text and attribute values; invalid characters
// become U+FFFD.
func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s)) // never fails writing to a strings.Builder
	return b.String()
}

func truncate(s string, n int) string {
	if n < 1 {
		n = 1
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
