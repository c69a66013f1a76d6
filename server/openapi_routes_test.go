package server_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tokenmanager/tokenmanager/server"
	"github.com/tokenmanager/tokenmanager/server/cryptolens"
	"github.com/tokenmanager/tokenmanager/server/woocommerce"
)

// routePatterns reads the patterns that the given files of dir register with HandleFunc, evaluating the string
// constants of the package; a pattern built from anything else (a loop variable) is returned as "".
func routePatterns(t *testing.T, dir string, files ...string) []string {
	t.Helper()
	fset := token.NewFileSet()
	paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	parsed := map[string]*ast.File{}
	for _, path := range paths {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		parsed[path] = f
	}
	pkgs := []struct{ Files map[string]*ast.File }{{parsed}}
	consts := map[string]ast.Expr{}
	var calls []ast.Expr
	for _, p := range pkgs {
		for name, f := range p.Files {
			ast.Inspect(f, func(n ast.Node) bool {
				switch x := n.(type) {
				case *ast.GenDecl:
					if x.Tok == token.CONST {
						for _, sp := range x.Specs {
							vs := sp.(*ast.ValueSpec)
							for i, id := range vs.Names {
								if i < len(vs.Values) {
									consts[id.Name] = vs.Values[i]
								}
							}
						}
					}
				case *ast.CallExpr:
					if sel, ok := x.Fun.(*ast.SelectorExpr); ok && (sel.Sel.Name == "HandleFunc" || sel.Sel.Name == "Handle") &&
						slices.Contains(files, filepath.Base(name)) && len(x.Args) == 2 {
						calls = append(calls, x.Args[0])
					}
				}
				return true
			})
		}
	}
	var eval func(e ast.Expr) (string, bool)
	eval = func(e ast.Expr) (string, bool) {
		switch x := e.(type) {
		case *ast.BasicLit:
			s, err := strconv.Unquote(x.Value)
			return s, err == nil
		case *ast.Ident:
			if c, ok := consts[x.Name]; ok {
				return eval(c)
			}
		case *ast.BinaryExpr:
			a, ok1 := eval(x.X)
			b, ok2 := eval(x.Y)
			return a + b, ok1 && ok2
		case *ast.ParenExpr:
			return eval(x.X)
		}
		return "", false
	}
	var out []string
	for _, c := range calls {
		s, ok := eval(c)
		if !ok {
			s = ""
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		t.Fatalf("no routes found in %s %v", dir, files)
	}
	return out
}

// Every route that the JSON surfaces register has an operation in the document, and every Cryptolens method of
// the table has GET and POST.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	doc := map[string]bool{}
	for _, p := range server.DocumentedPaths() {
		doc[p] = true
	}
	// Not JSON: the WADL (XML) at the REST base, and the WooCommerce namespace's catch-all 404.
	// Patterns not built from constants alone: the WADL (XML, "GET "+wsdl.RESTPath) and the two WooCommerce REST
	// registrations per operation, checked below. A new one fails here and must be looked at.
	unresolved := 0
	check := func(dir string, files ...string) {
		for _, pat := range routePatterns(t, dir, files...) {
			if pat == "" {
				unresolved++
				continue
			}
			_, path, found := strings.Cut(pat, " ")
			if !found {
				path = pat
			}
			path = strings.TrimSuffix(strings.Replace(path, "{path...}", "{path}", 1), "{$}")
			if !doc[path] {
				t.Errorf("route %q (%s) is not in the OpenAPI document", pat, dir)
			}
		}
	}
	check(".", "spectrum_rest.go", "oauth.go", "powerauth.go", "powerauth_protocol.go")
	check("woocommerce", "woocommerce.go")
	if unresolved != 3 {
		t.Errorf("%d route patterns not made of constants; want 3 (WADL, WooCommerce GET and POST)", unresolved)
	}
	for _, op := range woocommerce.RESTOperations {
		if !doc["/wp-json/woo-license-keys/v1/"+op] {
			t.Errorf("WooCommerce %s is not documented", op)
		}
	}
	methods := cryptolens.Methods()
	if len(methods) < 66 {
		t.Fatalf("%d Cryptolens methods; the SDKs call 66", len(methods))
	}
	full := map[string]map[string]any{}
	if err := jsonUnmarshal(server.OpenAPIDocument(), &struct {
		Paths *map[string]map[string]any `json:"paths"`
	}{&full}); err != nil {
		t.Fatal(err)
	}
	for _, m := range methods {
		ops := full["/api/"+m]
		if ops["get"] == nil || ops["post"] == nil {
			t.Errorf("Cryptolens method %s: operations %v", m, ops)
		}
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
