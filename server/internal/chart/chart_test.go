package chart

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

// element is a parsed SVG element, enough for structural checks.
type element struct {
	name     string
	attrs    map[string]string
	text     string
	children []*element
}

// parse reads svg with encoding/xml, failing the test if it is not well-formed.
func parse(t testing.TB, svg []byte) *element {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(svg))
	var stack []*element
	var root *element
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, svg)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			e := &element{name: tok.Name.Local, attrs: map[string]string{}}
			for _, a := range tok.Attr {
				e.attrs[a.Name.Local] = a.Value
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.children = append(p.children, e)
			} else if root == nil {
				root = e
			} else {
				t.Fatal("two root elements")
			}
			stack = append(stack, e)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += string(tok)
			}
		case xml.ProcInst, xml.Directive:
			t.Fatalf("unexpected %T in the chart", tok)
		}
	}
	if root == nil {
		t.Fatal("no root element")
	}
	return root
}

func (e *element) all(name string) []*element {
	var out []*element
	for _, c := range e.children {
		if c.name == name {
			out = append(out, c)
		}
		out = append(out, c.all(name)...)
	}
	return out
}

func (e *element) texts() []string {
	var out []string
	for _, t := range e.all("text") {
		out = append(out, t.text)
	}
	return out
}

var sample = Chart{
	Kind: StackedBars, Title: "Tokens issued per hour", XLabel: "Hour (UTC)", YLabel: "Tokens", Unit: "tokens",
	Categories: []string{"08:00", "09:00", "10:00"},
	Series: []Series{
		{Name: "session", Values: []int64{1, 0, 3}},
		{Name: `<script>&"`, Values: []int64{2, 5, 0}},
	},
}

// TestStructure: the chart is an accessible image (role, title, desc with the figures), has both axes' titles
// and ticks, a legend entry per series drawn with the series' own pattern, and one bar path per series.
func TestStructure(t *testing.T) {
	svg := Render(sample)
	root := parse(t, svg)
	if root.name != "svg" || root.attrs["role"] != "img" || root.attrs["aria-labelledby"] != "title desc" {
		t.Fatalf("root: %s %v", root.name, root.attrs)
	}
	if ts := root.all("title"); len(ts) != 1 || ts[0].text != "Tokens issued per hour" {
		t.Fatalf("title: %v", ts)
	}
	desc := root.all("desc")[0].text
	for _, want := range []string{"3 points from 08:00 to 10:00", "session: 4 tokens in all, at most 3 (10:00)", `<script>&": 7 tokens in all, at most 5 (09:00)`, "Total: 11 tokens"} {
		if !strings.Contains(desc, want) {
			t.Errorf("desc %q lacks %q", desc, want)
		}
	}
	texts := strings.Join(root.texts(), "|")
	for _, want := range []string{"Hour (UTC)", "Tokens", "08:00", "09:00", "10:00", "0", "2", "4", "6", "session", `<script>&"`} {
		if !strings.Contains("|"+texts+"|", "|"+want+"|") {
			t.Errorf("no text %q among %s", want, texts)
		}
	}
	if n := len(root.all("pattern")); n != 2 {
		t.Errorf("%d patterns, want one per series", n)
	}
	fills := map[string]int{}
	for _, p := range append(root.all("path"), root.all("rect")...) {
		if f := p.attrs["fill"]; strings.HasPrefix(f, "url(#p") {
			fills[f]++
		}
	}
	// Each series: its bars' path and its legend swatch.
	if fills["url(#p0)"] != 2 || fills["url(#p1)"] != 2 {
		t.Errorf("pattern fills: %v", fills)
	}
	// The first series' bars: two (its zero is not drawn).
	for _, p := range root.all("path") {
		if p.attrs["fill"] == "url(#p0)" && strings.Count(p.attrs["d"], "M") != 2 {
			t.Errorf("series 0 path %q: want two bars", p.attrs["d"])
		}
	}
}

// TestEscapes: a label with markup is text, never markup; nothing refers outside the document.
func TestEscapes(t *testing.T) {
	c := sample
	c.Title = `</title><script>alert(1)</script>`
	c.Categories = []string{`"><image href="http://x/">`, "\x00\x01bad\xff", "ok"}
	svg := Render(c)
	root := parse(t, svg)
	s := string(svg)
	for _, bad := range []string{"<script", "<image", "\x00", "\x01"} {
		if strings.Contains(s, bad) {
			t.Errorf("the chart holds %q", bad)
		}
	}
	if got := root.all("title")[0].text; got != c.Title {
		t.Errorf("title reads %q", got)
	}
	// Only drawing elements, and no attribute that could load anything: references are fragments only.
	allowed := map[string]bool{"title": true, "desc": true, "defs": true, "pattern": true, "marker": true, "rect": true,
		"path": true, "circle": true, "polyline": true, "text": true}
	var walk func(e *element)
	walk = func(e *element) {
		for _, c := range e.children {
			if !allowed[c.name] {
				t.Errorf("element <%s> in the chart", c.name)
			}
			for k, v := range c.attrs {
				if k == "href" || strings.HasPrefix(k, "on") || strings.HasPrefix(v, "url(") && !strings.HasPrefix(v, "url(#") {
					t.Errorf("<%s %s=%q>", c.name, k, v)
				}
			}
			walk(c)
		}
	}
	walk(root)
}

// TestEmpty: no categories, or only zeros, draws the frame and says "No data yet", in the picture and the
// description.
func TestEmpty(t *testing.T) {
	for _, c := range []Chart{
		{Title: "Sign-ins refused per hour", Kind: Lines},
		{Title: "Activations per day", Categories: []string{"11-22", "11-23"}, Series: []Series{{Name: "p", Values: []int64{0, 0}}}},
		{Title: "Activations per day", Categories: []string{"11-22"}, Series: []Series{{Name: "short", Values: nil}}},
	} {
		root := parse(t, Render(c))
		if !strings.Contains(strings.Join(root.texts(), "|"), "No data yet") || !strings.Contains(root.all("desc")[0].text, "no data yet") {
			t.Errorf("%+v: no 'No data yet'", c)
		}
	}
}

// TestLines: lines differ by dash and marker shape as well as colour; markers go once the points crowd.
func TestLines(t *testing.T) {
	c := Chart{Kind: Lines, Title: "Sign-ins refused per hour", Categories: []string{"a", "b"},
		Series: []Series{{Name: "failed", Values: []int64{1, 2}}, {Name: "throttled", Values: []int64{0, 40}}}}
	root := parse(t, Render(c))
	pl := root.all("polyline")
	if len(pl) != 2 || pl[0].attrs["marker-mid"] != "url(#m0)" || pl[1].attrs["marker-mid"] != "url(#m1)" ||
		pl[0].attrs["stroke-dasharray"] == pl[1].attrs["stroke-dasharray"] {
		t.Fatalf("polylines: %+v", pl)
	}
	if len(root.all("marker")) != 2 {
		t.Fatal("no marker per series")
	}
	c.Categories = make([]string, 200)
	c.Series[0].Values = make([]int64, 200)
	c.Series[0].Values[7] = 3
	if pl := parse(t, Render(c)).all("polyline"); pl[0].attrs["marker-mid"] != "" {
		t.Fatal("markers on 200 points")
	}
}

// TestBounded: at and beyond every bound the chart stays small.
func TestBounded(t *testing.T) {
	c := Chart{Title: strings.Repeat("t", 10000), Categories: make([]string, 5000)}
	for i := range c.Categories {
		c.Categories[i] = strings.Repeat("c", 1000)
	}
	for range 20 {
		v := make([]int64, 5000)
		for i := range v {
			v[i] = int64(i) * 1e12
		}
		c.Series = append(c.Series, Series{Name: strings.Repeat("<", 1000), Values: v})
	}
	svg := Render(c)
	if len(svg) > 512<<10 {
		t.Fatalf("%d bytes", len(svg))
	}
	root := parse(t, svg)
	if n := len(root.all("pattern")); n != MaxSeries {
		t.Fatalf("%d series drawn", n)
	}
}

func FuzzRender(f *testing.F) {
	f.Add("title", "<script>&\"", "08:00", int64(3), int64(0), uint8(2), false)
	f.Add("", "", "", int64(-5), int64(1<<62), uint8(0), true)
	f.Fuzz(func(t *testing.T, title, name, cat string, v0, v1 int64, n uint8, lines bool) {
		c := Chart{Title: title, XLabel: cat, YLabel: name, Unit: name}
		if lines {
			c.Kind = Lines
		}
		for i := range int(n) % 20 {
			c.Categories = append(c.Categories, cat)
			c.Series = append(c.Series, Series{Name: name, Values: []int64{v0, v1, int64(i)}})
		}
		svg := Render(c)
		if len(svg) > 512<<10 {
			t.Fatalf("%d bytes", len(svg))
		}
		root := parse(t, svg)
		if len(root.all("title")) != 1 || len(root.all("desc")) != 1 {
			t.Fatal("no title or desc")
		}
		if bytes.Contains(svg, []byte("<script")) {
			t.Fatal("markup from a label")
		}
	})
}
