// Package chart draws small SVG charts on the server, for the management API's overview: stacked bars and
// lines over a series of counts. The output is a self-contained image for an <img> element under a strict
// Content-Security-Policy: no script, no style sheet, no external reference (patterns and markers are defined in
// the document and referred to by fragment). It is readable without colour: each series differs by hatch
// pattern (bars) or dash and marker shape (lines) as well as colour, the legend shows the same, and the
// document's <title> and <desc> state the figures for a screen reader. Every text is escaped, every input is
// bounded, so that labels taken from users (a product's name) are safe to draw.
package chart

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Kind is how the series are drawn.
type Kind int

const (
	StackedBars Kind = iota // one bar per category, the series stacked
	Lines                   // one line per series
)

// Bounds on the input: beyond them the chart keeps the first categories, the first series, the first runes of a
// label. The caller sums what it must not lose (a series "other") before calling.
const (
	MaxCategories = 800
	MaxSeries     = 8
	MaxLabelRunes = 48
)

// Series is one named row of values, one per category.
type Series struct {
	Name   string
	Values []int64
}

// Chart is what to draw.
type Chart struct {
	Kind   Kind
	Title  string
	XLabel string // the axis' title: "Hour (UTC)"
	YLabel string // "Tokens"
	// Categories label the points along the x axis, in order ("11-23 08:00").
	Categories []string
	Series     []Series
	// Unit is what a value counts, in the description: "tokens".
	Unit string
}

// Layout, in the viewBox's units.
const (
	width      = 720
	plotLeft   = 64
	plotRight  = 704
	plotTop    = 44
	plotBottom = 244
	legendTop  = 306
	legendRow  = 20
	legendCol  = 232
)

// palette is Okabe and Ito's, told apart by most forms of colour blindness; the patterns and markers tell the
// series apart without it.
var palette = []string{"#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"}

// Render draws c. The result is bounded in size (a few hundred KiB at the bounds) and well-formed XML whatever
// the input.
func Render(c Chart) []byte {
	c = bounded(c)
	var b bytes.Buffer
	rows := (len(c.Series) + 2) / 3
	height := legendTop + max(rows, 1)*legendRow + 8
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-labelledby="title desc" font-family="sans-serif" font-size="12">`,
		width, height, width, height)
	b.WriteString(`<title id="title">`)
	escape(&b, c.Title)
	b.WriteString(`</title><desc id="desc">`)
	escape(&b, describe(c))
	b.WriteString(`</desc>`)
	defs(&b, c)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#ffffff"/>`, width, height)
	text(&b, width/2, 24, "middle", `font-size="15" font-weight="bold"`, c.Title)
	top := maxValue(c)
	if top == 0 {
		axes(&b, c, 1)
		text(&b, (plotLeft+plotRight)/2, (plotTop+plotBottom)/2, "middle", `font-size="14" fill="#555555"`, "No data yet")
		legend(&b, c)
		b.WriteString(`</svg>`)
		return b.Bytes()
	}
	step, yMax := ticks(top)
	axes(&b, c, yMax)
	yTicks(&b, step, yMax)
	switch c.Kind {
	case Lines:
		lines(&b, c, yMax)
	default:
		bars(&b, c, yMax)
	}
	legend(&b, c)
	b.WriteString(`</svg>`)
	return b.Bytes()
}

// bounded clips c to the bounds, and makes every series as long as the categories.
func bounded(c Chart) Chart {
	if len(c.Categories) > MaxCategories {
		c.Categories = c.Categories[:MaxCategories]
	}
	if len(c.Series) > MaxSeries {
		c.Series = c.Series[:MaxSeries]
	}
	c.Title, c.XLabel, c.YLabel, c.Unit = clip(c.Title), clip(c.XLabel), clip(c.YLabel), clip(c.Unit)
	cats := make([]string, len(c.Categories))
	for i, s := range c.Categories {
		cats[i] = clip(s)
	}
	c.Categories = cats
	series := make([]Series, len(c.Series))
	for i, s := range c.Series {
		v := make([]int64, len(c.Categories))
		copy(v, s.Values)
		for j := range v {
			v[j] = max(v[j], 0) // counts: a negative value is no value
		}
		series[i] = Series{Name: clip(s.Name), Values: v}
	}
	c.Series = series
	return c
}

// clip keeps the first MaxLabelRunes runes of s, valid UTF-8.
func clip(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if utf8.RuneCountInString(s) <= MaxLabelRunes {
		return s
	}
	return string([]rune(s)[:MaxLabelRunes-1]) + "…"
}

// escape writes s as XML character data (also safe inside a quoted attribute): markup escaped, characters XML
// cannot hold replaced.
func escape(b *bytes.Buffer, s string) {
	xml.EscapeText(b, []byte(s))
}

func text(b *bytes.Buffer, x, y float64, anchor, attrs, s string) {
	fmt.Fprintf(b, `<text x="%s" y="%s" text-anchor="%s"`, num(x), num(y), anchor)
	if attrs != "" {
		b.WriteString(" " + attrs)
	}
	b.WriteString(">")
	escape(b, s)
	b.WriteString("</text>")
}

// num writes a coordinate to the hundredth: enough for a pixel, short in the output.
func num(v float64) string { return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64) }

func maxValue(c Chart) int64 {
	var top int64
	for i := range c.Categories {
		var sum int64
		for _, s := range c.Series {
			if c.Kind == Lines {
				top = max(top, s.Values[i])
			} else {
				sum = satAdd(sum, s.Values[i])
			}
		}
		top = max(top, sum)
	}
	return min(top, maxTop)
}

// maxTop is the highest value the y axis reaches: far beyond any count, and far from overflowing.
const maxTop = 1 << 60

// satAdd adds two non-negative values, stopping at the largest int64 rather than overflowing.
func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// ticks returns a round step (1, 2 or 5 times a power of ten) giving about four intervals, and the axis' top.
func ticks(top int64) (step, yMax int64) {
	step = 1
	for step*4 < top {
		switch s := step; {
		case startsWith(s, '1'):
			step = s * 2
		case startsWith(s, '2'):
			step = s / 2 * 5
		default:
			step = s * 2
		}
	}
	yMax = (top + step - 1) / step * step
	return step, yMax
}

func startsWith(n int64, d byte) bool { return strconv.FormatInt(n, 10)[0] == d }

func y(v, yMax int64) float64 {
	return plotBottom - float64(v)/float64(yMax)*(plotBottom-plotTop)
}

func axes(b *bytes.Buffer, c Chart, yMax int64) {
	fmt.Fprintf(b, `<path d="M%d %dV%dH%d" fill="none" stroke="#333333"/>`, plotLeft, plotTop, plotBottom, plotRight)
	text(b, (plotLeft+plotRight)/2, plotBottom+38, "middle", `font-weight="bold"`, c.XLabel)
	fmt.Fprintf(b, `<text x="16" y="%d" text-anchor="middle" font-weight="bold" transform="rotate(-90 16 %d)">`, (plotTop+plotBottom)/2, (plotTop+plotBottom)/2)
	escape(b, c.YLabel)
	b.WriteString(`</text>`)
	n := len(c.Categories)
	if n == 0 {
		return
	}
	// At most eight labels along the x axis, evenly spaced, each under a tick.
	every := max(1, (n+7)/8)
	cw := float64(plotRight-plotLeft) / float64(n)
	for i := 0; i < n; i += every {
		x := plotLeft + cw*(float64(i)+0.5)
		fmt.Fprintf(b, `<path d="M%s %dv5" stroke="#333333"/>`, num(x), plotBottom)
		text(b, x, plotBottom+18, "middle", `font-size="11"`, c.Categories[i])
	}
}

func yTicks(b *bytes.Buffer, step, yMax int64) {
	for v := int64(0); v <= yMax; v += step {
		yy := y(v, yMax)
		if v > 0 {
			fmt.Fprintf(b, `<path d="M%d %sH%d" stroke="#dddddd"/>`, plotLeft, num(yy), plotRight)
		}
		fmt.Fprintf(b, `<path d="M%d %sh5" stroke="#333333"/>`, plotLeft-5, num(yy))
		text(b, plotLeft-8, yy+4, "end", `font-size="11"`, strconv.FormatInt(v, 10))
	}
}

// bars draws each series as one path of rectangles, stacked on the series before it, filled with its pattern.
func bars(b *bytes.Buffer, c Chart, yMax int64) {
	n := len(c.Categories)
	cw := float64(plotRight-plotLeft) / float64(n)
	bw := max(cw*0.8, 0.5)
	base := make([]int64, n)
	for si, s := range c.Series {
		var d strings.Builder
		for i, v := range s.Values {
			if v == 0 {
				continue
			}
			x := plotLeft + cw*float64(i) + (cw-bw)/2
			y0, y1 := y(min(base[i], yMax), yMax), y(min(satAdd(base[i], v), yMax), yMax)
			base[i] = satAdd(base[i], v)
			fmt.Fprintf(&d, "M%s %sh%sv%sh-%sz", num(x), num(y0), num(bw), num(y1-y0), num(bw))
		}
		if d.Len() > 0 {
			fmt.Fprintf(b, `<path d="%s" fill="url(#p%d)" stroke="%s" stroke-width="0.5"/>`, d.String(), si, palette[si])
		}
	}
}

// dashes tell lines apart without colour, with the markers.
var dashes = []string{"", "6 3", "2 2", "8 3 2 3", "1 3", "10 4", "4 4", "12 2"}

// lines draws each series as a polyline, with its marker at every point while the points are far enough apart
// for markers to be told apart.
func lines(b *bytes.Buffer, c Chart, yMax int64) {
	n := len(c.Categories)
	cw := float64(plotRight-plotLeft) / float64(n)
	for si, s := range c.Series {
		var pts strings.Builder
		for i, v := range s.Values {
			fmt.Fprintf(&pts, "%s,%s ", num(plotLeft+cw*(float64(i)+0.5)), num(y(min(v, yMax), yMax)))
		}
		fmt.Fprintf(b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"`, strings.TrimSpace(pts.String()), palette[si])
		if dashes[si] != "" {
			fmt.Fprintf(b, ` stroke-dasharray="%s"`, dashes[si])
		}
		if n <= 96 {
			fmt.Fprintf(b, ` marker-start="url(#m%d)" marker-mid="url(#m%d)" marker-end="url(#m%d)"`, si, si, si)
		}
		b.WriteString(`/>`)
	}
}

// defs are the series' hatch patterns (bars) and marker shapes (lines), referred to by fragment only.
func defs(b *bytes.Buffer, c Chart) {
	b.WriteString(`<defs>`)
	for i := range c.Series {
		col := palette[i]
		fmt.Fprintf(b, `<pattern id="p%d" patternUnits="userSpaceOnUse" width="8" height="8"><rect width="8" height="8" fill="%s"/>%s</pattern>`,
			i, col, hatches[i])
		fmt.Fprintf(b, `<marker id="m%d" viewBox="0 0 10 10" refX="5" refY="5" markerWidth="7" markerHeight="7" markerUnits="userSpaceOnUse">%s</marker>`,
			i, strings.ReplaceAll(shapes[i], "COL", col))
	}
	b.WriteString(`</defs>`)
}

// hatches overlay each series' colour with a pattern of its own: none, diagonal, cross, dots, horizontal,
// vertical, the other diagonal, a grid.
var hatches = []string{
	``,
	`<path d="M-2 2l4-4M0 8l8-8M6 10l4-4" stroke="#ffffff" stroke-width="1.5"/>`,
	`<path d="M0 0l8 8M8 0l-8 8" stroke="#ffffff" stroke-width="1.2"/>`,
	`<circle cx="4" cy="4" r="1.6" fill="#ffffff"/>`,
	`<path d="M0 4h8" stroke="#ffffff" stroke-width="1.5"/>`,
	`<path d="M4 0v8" stroke="#ffffff" stroke-width="1.5"/>`,
	`<path d="M-2 6l4 4M0 0l8 8M6 -2l4 4" stroke="#ffffff" stroke-width="1.5"/>`,
	`<path d="M0 2h8M2 0v8" stroke="#ffffff" stroke-width="1"/>`,
}

// shapes are the markers: circle, square, triangle, diamond, cross, triangle down, plus, star.
var shapes = []string{
	`<circle cx="5" cy="5" r="4" fill="COL"/>`,
	`<rect x="1" y="1" width="8" height="8" fill="COL"/>`,
	`<path d="M5 0L10 10H0z" fill="COL"/>`,
	`<path d="M5 0L10 5L5 10L0 5z" fill="COL"/>`,
	`<path d="M1 1L9 9M9 1L1 9" stroke="COL" stroke-width="2.5"/>`,
	`<path d="M0 0H10L5 10z" fill="COL"/>`,
	`<path d="M5 0V10M0 5H10" stroke="COL" stroke-width="2.5"/>`,
	`<path d="M5 0L6.5 3.5L10 4L7.5 6.5L8 10L5 8L2 10L2.5 6.5L0 4L3.5 3.5z" fill="COL"/>`,
}

// legend names each series beside a swatch drawn as the series is: its pattern, or its line and marker.
func legend(b *bytes.Buffer, c Chart) {
	for i, s := range c.Series {
		x := float64(plotLeft + (i%3)*legendCol)
		yy := float64(legendTop + (i/3)*legendRow)
		if c.Kind == Lines {
			// Two segments, so that the marker sits on the middle vertex.
			fmt.Fprintf(b, `<path d="M%s %sh12h12" fill="none" stroke="%s" stroke-width="2"`, num(x), num(yy-4), palette[i])
			if dashes[i] != "" {
				fmt.Fprintf(b, ` stroke-dasharray="%s"`, dashes[i])
			}
			fmt.Fprintf(b, ` marker-mid="url(#m%d)"/>`, i)
		} else {
			fmt.Fprintf(b, `<rect x="%s" y="%s" width="24" height="12" fill="url(#p%d)" stroke="%s"/>`, num(x), num(yy-10), i, palette[i])
		}
		text(b, x+30, yy, "start", "", s.Name)
	}
}

// describe states the figures in words: the period, and each series' total and peak.
func describe(c Chart) string {
	n := len(c.Categories)
	if n == 0 || maxValue(c) == 0 {
		period := ""
		if n > 0 {
			period = " from " + c.Categories[0] + " to " + c.Categories[n-1]
		}
		return c.Title + period + ": no data yet."
	}
	var d strings.Builder
	fmt.Fprintf(&d, "%s, %d points from %s to %s.", c.Title, n, c.Categories[0], c.Categories[n-1])
	var all int64
	for _, s := range c.Series {
		var total, peak int64
		at := 0
		for i, v := range s.Values {
			total = satAdd(total, v)
			if v > peak {
				peak, at = v, i
			}
		}
		all = satAdd(all, total)
		fmt.Fprintf(&d, " %s: %d %s in all", s.Name, total, c.Unit)
		if peak > 0 {
			fmt.Fprintf(&d, ", at most %d (%s)", peak, c.Categories[at])
		}
		d.WriteString(".")
	}
	if len(c.Series) > 1 {
		fmt.Fprintf(&d, " Total: %d %s.", all, c.Unit)
	}
	return d.String()
}
