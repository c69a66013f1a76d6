package main

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"alice":                   "alice",
		"Jürgen 山田 \"q\" C:\\dir": "Jürgen 山田 \"q\" C:\\dir",
		"\x1b]0;pwned\x07":        `\x1b]0;pwned\a`,
		"a\rb\nc\td\x00e\x7f":     `a\rb\nc\td\x00e\x7f`,
		"\x1b[2K\x1b[1A":          `\x1b[2K\x1b[1A`,
		"\xc2\x9b31m":             `\u009b31m`,
		"\x9b31m\xff":             `\x9b31m\xff`,
		"evil\u202egnp.exe":       `evil\u202egnp.exe`,
		"zero\u200bwidth":         `zero\u200bwidth`,
	} {
		if got := printable(in); got != want {
			t.Errorf("printable(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPrintf(t *testing.T) {
	var b strings.Builder
	printf(&b, "%s\t%d\t%q\t%v\n", "a\x1bb", 7, "c\x07", errors.Join(errors.New("x\ry"), errors.New("z")))
	if want := "a\\x1bb\t7\t\"c\\a\"\tx\\ry\nz\n"; b.String() != want {
		t.Errorf("printf wrote %q, want %q", b.String(), want)
	}
}

// TestOutputGoesThroughPrintf keeps printf the one way the commands print: a fmt print call anywhere else in
// the package may write only constants.
func TestOutputGoesThroughPrintf(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	consts := map[string]bool{}
	var parsed []*ast.File
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		parsed = append(parsed, f)
		for _, d := range f.Decls {
			if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.CONST {
				for _, s := range g.Specs {
					for _, n := range s.(*ast.ValueSpec).Names {
						consts[n.Name] = true
					}
				}
			}
		}
	}
	var constant func(e ast.Expr) bool
	constant = func(e ast.Expr) bool {
		switch e := e.(type) {
		case *ast.BasicLit:
			return true
		case *ast.Ident:
			if e.Obj != nil { // declared in this file: a local variable may shadow a constant's name
				return e.Obj.Kind == ast.Con
			}
			return consts[e.Name]
		case *ast.BinaryExpr:
			return constant(e.X) && constant(e.Y)
		case *ast.ParenExpr:
			return constant(e.X)
		}
		return false
	}
	checked := 0
	for _, f := range parsed {
		if fset.Position(f.Pos()).Filename == "text.go" {
			continue // printf itself
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if pkg, ok := sel.X.(*ast.Ident); !ok || pkg.Name != "fmt" || !strings.HasPrefix(sel.Sel.Name, "Fprint") && !strings.HasPrefix(sel.Sel.Name, "Print") {
				return true
			}
			checked++
			args := call.Args
			if strings.HasPrefix(sel.Sel.Name, "Fprint") && len(args) > 0 {
				args = args[1:]
			}
			for _, a := range args {
				if !constant(a) {
					t.Errorf("%s: fmt.%s prints a value that is not a constant: use printf, which escapes control characters",
						fset.Position(a.Pos()), sel.Sel.Name)
				}
			}
			return true
		})
	}
	if checked == 0 {
		t.Fatal("found no fmt print call: is the test looking at the package's files?")
	}
}
