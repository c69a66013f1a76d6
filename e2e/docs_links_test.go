package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// docPages are the pages whose links TestDocLinks checks: README.md and every page of docs/ it links.
var docPages = []string{"README.md", "docs/spectrum.md", "docs/sessions-and-browsers.md", "docs/licensing.md",
	"docs/woocommerce.md", "docs/app-authorization.md", "docs/oauth.md", "docs/powerauth.md", "docs/forward-auth.md",
	"docs/operations.md", "docs/cluster.md", "docs/development.md", "docs/console.md", "docs/management-api.md",
	"docs/benchmarks.md", "docs/account.md"}

var mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// TestDocLinks: every relative link of the pages names a file of the repository, and every #anchor a heading of
// its page, as GitHub makes anchors from headings.
func TestDocLinks(t *testing.T) {
	anchors := map[string]map[string]bool{}
	anchorsOf := func(page string) (map[string]bool, error) {
		if a, ok := anchors[page]; ok {
			return a, nil
		}
		b, err := os.ReadFile(filepath.Join(repoRoot, page))
		if err != nil {
			return nil, err
		}
		a := headingAnchors(string(b))
		anchors[page] = a
		return a, nil
	}
	for _, page := range docPages {
		b, err := os.ReadFile(filepath.Join(repoRoot, page))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mdLink.FindAllStringSubmatch(stripCode(string(b)), -1) {
			link := m[1]
			if strings.Contains(link, "://") || strings.HasPrefix(link, "mailto:") {
				continue
			}
			target, anchor, _ := strings.Cut(link, "#")
			if target == "" {
				target = page
			} else {
				target = filepath.ToSlash(filepath.Clean(filepath.Join(filepath.Dir(page), target)))
			}
			if _, err := os.Stat(filepath.Join(repoRoot, target)); err != nil {
				t.Errorf("%s: the link %s names no file (%s)", page, link, target)
				continue
			}
			if anchor == "" || !strings.HasSuffix(target, ".md") {
				continue
			}
			a, err := anchorsOf(target)
			if err != nil {
				t.Fatal(err)
			}
			if !a[anchor] {
				t.Errorf("%s: the link %s names no heading of %s", page, link, target)
			}
		}
	}
}

// stripCode removes fenced blocks, where ](…) is code, not a link.
func stripCode(s string) string {
	var out strings.Builder
	in := false
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(line, "```") {
			in = !in
			continue
		}
		if !in {
			out.WriteString(line + "\n")
		}
	}
	return out.String()
}

// headingAnchors are GitHub's anchors of a page's headings: lower case, punctuation but - and _ dropped, spaces
// as -, a repeated one suffixed -1, -2, …
func headingAnchors(page string) map[string]bool {
	seen := map[string]int{}
	out := map[string]bool{}
	for _, line := range strings.Split(stripCode(page), "\n") {
		text, ok := strings.CutPrefix(strings.TrimLeft(line, "#"), " ")
		if !ok || !strings.HasPrefix(line, "#") {
			continue
		}
		var b strings.Builder
		for _, r := range strings.ToLower(strings.TrimSpace(text)) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				b.WriteRune(r)
			}
		}
		a := b.String()
		if n := seen[a]; n > 0 {
			out[fmt.Sprintf("%s-%d", a, n)] = true
		} else {
			out[a] = true
		}
		seen[a]++
	}
	return out
}
