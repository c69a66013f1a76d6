package manage_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/tokenmanager/tokenmanager/apiclient"
	"github.com/tokenmanager/tokenmanager/appauth"
	"github.com/tokenmanager/tokenmanager/keys"
	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/license/woo"
	"github.com/tokenmanager/tokenmanager/powerauth"
	"github.com/tokenmanager/tokenmanager/server"
	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/token"
)

// The tenancy sweep: every route the management API mounts is driven by vendor A (paul1234) against vendor B's
// (simon0897's) objects, as A's account, as A's own admin token, as an operator's token narrowed to A, and as a
// read-only token narrowed to A. A route with no case here fails the sweep, so a new route cannot skip it.

// newFullStack is a server with every surface of the management API wired, simon0897 and paul1234 as vendors,
// and one product of simon0897's.
func newFullStack(t *testing.T) *servertest.CLStack {
	t.Helper()
	var lic *license.Service
	var aa *appauth.Service
	everything := func(su *servertest.Setup) {
		su.Wire = append(su.Wire, func(st *servertest.Stack, d *server.Deps) {
			d.OAuth = server.OAuthDeps{Clients: apiclient.New(st.Store, apiclient.Config{}, st.Clock.Now)}
			d.PowerAuth = powerauth.NewService(st.Store, keys.NewSealer(keys.Derive(powerauth.SecretKey(servertest.ServerKey), keys.PurposeSeal)),
				powerauth.Config{}, st.Clock.Now)
			d.Manage.Keyring = token.NewKeyring(st.Store, servertest.ServerKey)
			d.Woo = woo.New(d.License, st.Store, woo.Options{})
		})
	}
	st := servertest.NewStack(t, servertest.WithAdmin(t), servertest.WithLicense(&lic), servertest.WithAppAuth(&aa, &lic), everything)
	cl := &servertest.CLStack{Stack: st, Svc: lic}
	for _, v := range []string{"simon0897", "paul1234"} {
		if err := lic.AddVendor(context.Background(), v); err != nil {
			t.Fatal(err)
		}
	}
	cl.Product = cl.NewProduct(t, "simon0897")
	return cl
}

// sweepKind is what a route answers a principal narrowed to vendor A.
type sweepKind int

const (
	scoped   sweepKind = iota // 404 for B's object, byte-identical to a missing one's
	operator                  // 403 whatever the object: operator-only
	listing                   // 200, nothing of B's in it (or 404 as for a missing parent)
	self                      // about the caller only (GET /me)
	public                    // the same for everyone (the OpenAPI document)
)

// sweepCase is how one route is driven. Path parameters are filled with B's values (bOf) or missing ones
// (missingOf) by fill; {vendor}, {product}, {customer}, {user}, {key} in queries and bodies too.
type sweepCase struct {
	kind    sweepKind
	queries []string // each query is one request; none: one request without a query
	body    string
}

func sc(kind sweepKind, body string, queries ...string) sweepCase {
	return sweepCase{kind: kind, body: body, queries: queries}
}

// sweepCases is every route of /admin/v1, "METHOD /admin/v1/path".
var sweepCases = map[string]sweepCase{
	"GET /admin/v1/openapi.json": sc(public, ""),
	"GET /admin/v1/me":           sc(self, ""),

	"GET /admin/v1/users":                               sc(operator, "", "", "?prefix={user}"),
	"POST /admin/v1/users":                              sc(operator, `{"name":"intruder","password":"long enough"}`),
	"GET /admin/v1/users/{name}":                        sc(operator, ""),
	"PATCH /admin/v1/users/{name}":                      sc(operator, `{"disabled":true}`),
	"DELETE /admin/v1/users/{name}":                     sc(operator, ""),
	"PUT /admin/v1/users/{name}/password":               sc(operator, `{"password":"taken over now"}`),
	"POST /admin/v1/users/{name}/revoke-tokens":         sc(operator, ""),
	"GET /admin/v1/token-keys":                          sc(operator, ""),
	"POST /admin/v1/token-keys":                         sc(operator, ""),
	"POST /admin/v1/token-keys/{id}/retire":             sc(operator, ""),
	"POST /admin/v1/vendors":                            sc(operator, `{"user":"{user}"}`),
	"GET /admin/v1/clients":                             sc(operator, ""),
	"POST /admin/v1/clients":                            sc(operator, `{"id":"intruder"}`),
	"GET /admin/v1/clients/{id}":                        sc(operator, ""),
	"PATCH /admin/v1/clients/{id}":                      sc(operator, `{"description":"mine now"}`),
	"DELETE /admin/v1/clients/{id}":                     sc(operator, ""),
	"POST /admin/v1/clients/{id}/secret":                sc(operator, `{"slot":"primary"}`),
	"POST /admin/v1/clients/{id}/disable":               sc(operator, ""),
	"POST /admin/v1/clients/{id}/enable":                sc(operator, ""),
	"GET /admin/v1/powerauth/apps":                      sc(operator, ""),
	"POST /admin/v1/powerauth/apps":                     sc(operator, `{"id":"intruder"}`),
	"GET /admin/v1/powerauth/apps/{id}":                 sc(operator, ""),
	"POST /admin/v1/powerauth/activations/init":         sc(operator, `{"app":"{paapp}","user":"{user}"}`),
	"GET /admin/v1/powerauth/activations":               sc(operator, ""),
	"POST /admin/v1/powerauth/activations/{id}/block":   sc(operator, ""),
	"POST /admin/v1/powerauth/activations/{id}/unblock": sc(operator, ""),
	"DELETE /admin/v1/powerauth/activations/{id}":       sc(operator, ""),
	"GET /admin/v1/powerauth/tokens":                    sc(operator, ""),
	"DELETE /admin/v1/powerauth/tokens/{id}":            sc(operator, ""),
	"GET /admin/v1/tokens":                              sc(operator, "", "", "?user={user}"),
	"GET /admin/v1/tokens/{id}":                         sc(operator, ""),
	"DELETE /admin/v1/tokens/{id}":                      sc(operator, ""),
	"GET /admin/v1/sessions":                            sc(operator, "", "", "?user={user}"),
	"DELETE /admin/v1/sessions/{id}":                    sc(operator, ""),
	"GET /admin/v1/app-authorizations":                  sc(operator, "", "", "?vendor={vendor}"),
	"GET /admin/v1/app-authorizations/{id}":             sc(operator, ""),
	"DELETE /admin/v1/app-authorizations/{id}":          sc(operator, ""),
	"GET /admin/v1/app-devices":                         sc(operator, "", "", "?vendor={vendor}"),
	"DELETE /admin/v1/app-devices":                      sc(operator, "", "?customer={customer}&machine=m1"),
	"GET /admin/v1/oauth-tokens":                        sc(operator, ""),
	"DELETE /admin/v1/oauth-tokens/{id}":                sc(operator, ""),
	"GET /admin/v1/license/activations":                 sc(operator, "", "", "?product={product}&key={key}"),
	"DELETE /admin/v1/license/activations":              sc(operator, "", "?product={product}&key={key}&machine=m1"),

	"GET /admin/v1/admin-tokens":         sc(listing, "", "", "?user={user}", "?live=true"),
	"POST /admin/v1/admin-tokens":        sc(scoped, `{"name":"mine","vendor":"{vendor}"}`),
	"GET /admin/v1/admin-tokens/{id}":    sc(scoped, ""),
	"DELETE /admin/v1/admin-tokens/{id}": sc(scoped, ""),

	"GET /admin/v1/vendors":        sc(listing, "", "", "?prefix={vendor}"),
	"GET /admin/v1/vendors/{name}": sc(scoped, ""),

	"GET /admin/v1/products":                                          sc(listing, "", "", "?vendor={vendor}", "?name=B-secret"),
	"POST /admin/v1/products":                                         sc(scoped, `{"name":"mine now","vendor":"{vendor}"}`),
	"GET /admin/v1/products/{id}":                                     sc(scoped, ""),
	"PATCH /admin/v1/products/{id}":                                   sc(scoped, `{"name":"mine now","block_expired":true}`),
	"DELETE /admin/v1/products/{id}":                                  sc(scoped, "", "", "?force=true"),
	"POST /admin/v1/products/{id}/rotate-key":                         sc(scoped, ""),
	"GET /admin/v1/products/{id}/public-key":                          sc(scoped, "", "", "?format=pem", "?format=xml"),
	"GET /admin/v1/products/{id}/keys":                                sc(scoped, "", "", "?customer={customer}", "?key-prefix={key}"),
	"POST /admin/v1/products/{id}/keys":                               sc(scoped, `{"count":3,"customer_id":{customer}}`),
	"GET /admin/v1/products/{id}/keys/{key}":                          sc(scoped, ""),
	"PATCH /admin/v1/products/{id}/keys/{key}":                        sc(scoped, `{"blocked":true,"notes":"mine now","max_machines":9}`),
	"DELETE /admin/v1/products/{id}/keys/{key}":                       sc(scoped, "", "", "?force=true"),
	"POST /admin/v1/products/{id}/keys/{key}/extend":                  sc(scoped, `{"days":30}`),
	"GET /admin/v1/products/{id}/keys/{key}/activations":              sc(scoped, ""),
	"DELETE /admin/v1/products/{id}/keys/{key}/activations/{machine}": sc(scoped, "", "", "?floating=false"),

	"GET /admin/v1/customers":               sc(listing, "", "", "?vendor={vendor}", "?search=B-secret"),
	"POST /admin/v1/customers":              sc(scoped, `{"name":"mine","vendor":"{vendor}"}`),
	"GET /admin/v1/customers/{id}":          sc(scoped, ""),
	"PATCH /admin/v1/customers/{id}":        sc(scoped, `{"name":"mine now","email":"me@example.com"}`),
	"DELETE /admin/v1/customers/{id}":       sc(scoped, "", "", "?force=true"),
	"GET /admin/v1/customers/{id}/licenses": sc(scoped, ""),
	"POST /admin/v1/customers/{id}/secret":  sc(scoped, ""),

	"GET /admin/v1/api-tokens":         sc(listing, "", "", "?vendor={vendor}", "?name=B-secret"),
	"POST /admin/v1/api-tokens":        sc(scoped, `{"name":"mine","vendor":"{vendor}","methods":["Activate"]}`),
	"GET /admin/v1/api-tokens/{id}":    sc(scoped, ""),
	"DELETE /admin/v1/api-tokens/{id}": sc(scoped, ""),

	// The usage history: a vendor's answer holds its own products only; another vendor's product is a missing one.
	"GET /admin/v1/stats":                sc(scoped, "", "?product={product}"),
	"GET /admin/v1/stats/charts/{chart}": sc(scoped, "", "?product={product}"),
	"GET /admin/v1/audit":                sc(listing, "", "", "?subject={vendor}", "?subject={user}", "?action=license.", "?action=woo."),

	"GET /admin/v1/woocommerce/stores":                    sc(listing, "", "", "?vendor={vendor}"),
	"POST /admin/v1/woocommerce/stores":                   sc(scoped, `{"name":"mine","vendor":"{vendor}"}`),
	"GET /admin/v1/woocommerce/stores/{id}":               sc(scoped, ""),
	"PATCH /admin/v1/woocommerce/stores/{id}":             sc(scoped, `{"name":"mine now","require_token":true}`),
	"DELETE /admin/v1/woocommerce/stores/{id}":            sc(scoped, "", "", "?force=true"),
	"POST /admin/v1/woocommerce/stores/{id}/code":         sc(scoped, ""),
	"GET /admin/v1/woocommerce/stores/{id}/skus":          sc(scoped, ""),
	"POST /admin/v1/woocommerce/stores/{id}/skus":         sc(scoped, `{"sku":"B-SKU","product":{product}}`),
	"GET /admin/v1/woocommerce/stores/{id}/skus/{sku}":    sc(scoped, ""),
	"DELETE /admin/v1/woocommerce/stores/{id}/skus/{sku}": sc(scoped, ""),
}

// paramOf names the value a path parameter takes, by the path before it: {id} of /products/{id} is a product.
var paramOf = map[string]string{
	"/users/{name}": "user", "/vendors/{name}": "vendor", "/admin-tokens/{id}": "admintoken", "/token-keys/{id}": "tokenkey",
	"/products/{id}": "product", "/keys/{key}": "key", "/activations/{machine}": "machine", "/customers/{id}": "customer",
	"/api-tokens/{id}": "apitoken", "/stores/{id}": "store", "/skus/{sku}": "sku", "/clients/{id}": "client",
	"/apps/{id}": "paapp", "/powerauth/activations/{id}": "paactivation", "/powerauth/tokens/{id}": "patoken",
	"/admin/v1/tokens/{id}": "spectrum", "/sessions/{id}": "session", "/app-authorizations/{id}": "appauth",
	"/oauth-tokens/{id}": "oauthtoken",
}

var placeholder = regexp.MustCompile(`\{[a-z]+\}`)

// fill puts vals into route's path parameters and into query and body; a parameter it cannot name fails.
func fill(t *testing.T, route, query, body string, vals map[string]string) (path, b string) {
	t.Helper()
	_, p, _ := strings.Cut(route, " ")
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if !strings.HasPrefix(s, "{") {
			continue
		}
		// The longest suffix names it: /powerauth/tokens/{id} is not /admin/v1/tokens/{id}.
		name := paramOf[longestSuffix(strings.Join(segs[:i+1], "/"))]
		if name == "" { // a value named in the path itself, as in the cross-tenant cases
			name = s[1 : len(s)-1]
		}
		v, ok := vals[name]
		if !ok {
			t.Fatalf("%s: no value for %s", route, s)
		}
		segs[i] = url.PathEscape(v)
	}
	sub := func(s string) string {
		return placeholder.ReplaceAllStringFunc(s, func(m string) string {
			v, ok := vals[m[1:len(m)-1]]
			if !ok {
				t.Fatalf("%s: no value for %s", route, m)
			}
			return v
		})
	}
	return strings.Join(segs, "/") + sub(query), sub(body)
}

func longestSuffix(prefix string) string {
	best := ""
	for pre := range paramOf {
		if strings.HasSuffix(prefix, pre) && len(pre) > len(best) {
			best = pre
		}
	}
	return best
}

// sweepFixture is what B owns, by parameter name (B), the values that name nothing (missing), and the marks
// that must never show in an answer to A.
type sweepFixture struct {
	st        *servertest.CLStack
	b         map[string]string
	missing   map[string]string
	marks     []string
	snapshot  []string // GET paths whose answers to the operator must not change
	aProduct  int64
	aKey      string
	aStore    string
	storeCode string
}

func newSweepFixture(t *testing.T) *sweepFixture {
	st := newFullStack(t)
	ctx := context.Background()
	f := &sweepFixture{st: st}
	op := func(method, path, body string) map[string]any {
		t.Helper()
		r := call(t, st, method, path, body, root, "If-Match", "*")
		if r.Status >= 300 {
			t.Fatalf("fixture %s %s: %d %s", method, path, r.Status, r.Body)
		}
		m := map[string]any{}
		json.Unmarshal([]byte(r.Body), &m)
		return m
	}
	s := func(v any) string { return fmt.Sprint(v) }

	// B: simon0897's product (renamed to carry a mark), a customer, a key of the customer's with an activation,
	// a licensing API token, a store selling the product, admin tokens (its own, and the operator's narrowed to
	// it), a Spectrum token and session.
	pid := st.Product.ID
	op("PATCH", fmt.Sprintf("/products/%d", pid), `{"name":"B-secret-product"}`)
	cust := op("POST", "/customers", `{"vendor":"simon0897","name":"B-secret-customer","email":"b@example.com"}`)
	key := st.NewKey(t, license.KeySpec{MaxNoOfMachines: 2, CustomerID: int64(cust["id"].(float64)), Notes: "B-secret-notes"})
	if _, err := st.Svc.Activate(ctx, license.Admin(), license.ActivateRequest{ProductID: pid, Key: key.Key, MachineCode: "m1"}); err != nil {
		t.Fatal(err)
	}
	apiTok := op("POST", "/api-tokens", `{"vendor":"simon0897","name":"B-secret-apitoken","methods":["Activate","GetKey"]}`)
	store := op("POST", "/woocommerce/stores", `{"vendor":"simon0897","name":"B-secret-store"}`)
	f.storeCode = store["code"].(string)
	op("POST", "/woocommerce/stores/"+s(store["id"])+"/skus", fmt.Sprintf(`{"sku":"B-SKU","product":%d}`, pid))
	_, bTok := createToken(t, st, simon, `{"name":"B-secret-admintoken"}`)
	_, bOpTok := createToken(t, st, root, `{"name":"B-secret-operator-token","vendor":"simon0897"}`)
	if _, _, r := st.SignIn(t, "simon0897", "s3cret", ""); r.Status != 200 {
		t.Fatalf("simon0897 signs in: %d %s", r.Status, r.Body)
	}
	first := func(path string) string {
		l, _ := items(t, call(t, st, "GET", path, "", root))
		if len(l) == 0 {
			t.Fatalf("fixture: nothing in %s", path)
		}
		return s(l[0]["id"])
	}
	client := op("POST", "/clients", `{"id":"b-client","description":"B-secret-client"}`)
	paApp := op("POST", "/powerauth/apps", `{"id":"b-app"}`)
	f.b = map[string]string{
		"chart": "activations-per-day.svg", "vendor": "simon0897", "user": "simon0897", "product": s(pid), "key": key.Key, "machine": "m1",
		"customer": s(cust["id"]), "apitoken": s(apiTok["id"]), "store": s(store["id"]), "sku": "B-SKU",
		"admintoken": bTok, "opadmintoken": bOpTok, "tokenkey": storage.OriginalTokenKey, "client": s(client["id"]), "paapp": s(paApp["id"]),
		"spectrum": first("/tokens?user=simon0897"), "session": first("/sessions?user=simon0897"),
		// Objects of the operator's that no vendor owns: operator-only routes refuse before looking.
		"paactivation": "b-activation", "patoken": "b-patoken", "appauth": "1", "oauthtoken": "b-oauth",
	}
	f.missing = map[string]string{
		"chart": "activations-per-day.svg", "vendor": "nobody-here", "user": "nobody-here", "product": "999999", "key": "ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ",
		"machine": "no-machine", "customer": "999999", "apitoken": "999999", "store": "999999", "sku": "NO-SKU",
		"admintoken": "0000000000000000", "opadmintoken": "0000000000000001", "tokenkey": "no-key", "client": "no-client", "paapp": "no-app",
		"spectrum": "no-token", "session": "no-session", "paactivation": "no-activation", "patoken": "no-token",
		"appauth": "999999", "oauthtoken": "no-token",
	}
	f.marks = []string{"simon0897", "B-secret", key.Key, bTok, bOpTok}

	// A: its own product, key and store, for the references across tenants.
	pr := op("POST", "/products", `{"vendor":"paul1234","name":"A product"}`)
	f.aProduct = int64(pr["id"].(float64))
	f.aKey = st.NewKeyIn(t, f.aProduct, license.KeySpec{}).Key
	f.aStore = s(op("POST", "/woocommerce/stores", `{"vendor":"paul1234","name":"A store"}`)["id"])

	b := f.b
	for _, p := range []string{"/products/{product}", "/products/{product}/keys", "/products/{product}/keys/{key}",
		"/products/{product}/public-key", "/products?vendor={vendor}", "/customers/{customer}", "/customers/{customer}/licenses",
		"/customers?vendor={vendor}", "/api-tokens/{apitoken}", "/api-tokens?vendor={vendor}", "/woocommerce/stores/{store}",
		"/woocommerce/stores/{store}/skus", "/woocommerce/stores?vendor={vendor}", "/vendors", "/admin-tokens/{admintoken}",
		"/admin-tokens?user=simon0897", "/admin-tokens/" + bOpTok, "/users", "/clients/{client}", "/powerauth/apps/{paapp}",
		"/tokens/{spectrum}", "/sessions?user=simon0897"} {
		f.snapshot = append(f.snapshot, placeholder.ReplaceAllStringFunc(p, func(m string) string { return b[m[1:len(m)-1]] }))
	}
	return f
}

// reads answers the snapshot's paths as the operator sees them, and whether B's store code still opens its store.
func (f *sweepFixture) reads(t *testing.T) map[string]string {
	out := map[string]string{}
	for _, p := range f.snapshot {
		r := call(t, f.st, "GET", p, "", root)
		if r.Status != 200 {
			t.Fatalf("operator reads %s: %d %s", p, r.Status, r.Body)
		}
		out[p] = r.Body
	}
	st, err := f.st.Store.FindWooStore(t.Context(), codeHash(f.storeCode))
	out["store code"] = fmt.Sprint(st.ID, err)
	return out
}

// sweep drives every route as who (narrowed to paul1234) against simon0897's objects.
func (f *sweepFixture) sweep(t *testing.T, who string, h map[string]string, readOnly bool) {
	st := f.st
	routes := st.Server.AdminRoutes()
	if len(routes) < 80 {
		t.Fatalf("only %d routes: the stack is not the full one", len(routes))
	}
	for _, rt := range routes {
		c, ok := sweepCases[rt]
		if !ok {
			t.Errorf("%s has no tenancy case: add one to sweepCases", rt)
			continue
		}
		method := strings.Fields(rt)[0]
		queries := c.queries
		if len(queries) == 0 {
			queries = []string{""}
		}
		for _, q := range queries {
			path, body := fill(t, rt, q, c.body, f.b)
			what := fmt.Sprintf("%s: %s %s %s", who, method, path, body)
			theirs := call(t, st, method, path, body, h, "If-Match", "*")
			f.clean(t, what, theirs)
			status := map[sweepKind]int{scoped: 404, operator: 403, listing: 200, self: 200, public: 200}[c.kind]
			if readOnly && method != "GET" && c.kind != public {
				status = 403 // refused before anything is looked up
			}
			switch {
			case c.kind == listing && status == 200:
				want(t, what, theirs, 200)
				if l, _ := items(t, theirs); len(l) > 0 && strings.Contains(q, "{") {
					t.Errorf("%s: a filter naming B's objects lists %d of something: %s", what, len(l), theirs.Body)
				}
			case c.kind == self:
				want(t, what, theirs, 200)
				if m := theirs.JSON(t); m["vendor"] != "paul1234" {
					t.Errorf("%s: %s", what, theirs.Body)
				}
			case c.kind == public:
				want(t, what, theirs, 200)
			default:
				want(t, what, theirs, status)
				mpath, mbody := fill(t, rt, q, c.body, f.missing)
				none := call(t, st, method, mpath, mbody, h, "If-Match", "*")
				if theirs.Body != none.Body || theirs.Status != none.Status {
					t.Errorf("%s: B's object answers %d %q, a missing one (%s) %d %q", what, theirs.Status, theirs.Body, mpath, none.Status, none.Body)
				}
			}
		}
	}
	for rt := range sweepCases {
		if !slices.Contains(routes, rt) {
			t.Errorf("sweepCases has %s, which the server does not mount", rt)
		}
	}
	// References across tenants in A's own objects: B's customer, product or key are answered as missing ones.
	for _, c := range []struct{ method, path, body string }{
		{"POST", fmt.Sprintf("/products/%d/keys", f.aProduct), `{"customer_id":{customer}}`},
		{"PATCH", fmt.Sprintf("/products/%d/keys/%s", f.aProduct, f.aKey), `{"customer_id":{customer}}`},
		{"GET", fmt.Sprintf("/products/%d/keys/{key}", f.aProduct), ""},
		{"DELETE", fmt.Sprintf("/products/%d/keys/{key}", f.aProduct), ""},
		{"POST", fmt.Sprintf("/products/%d/keys/{key}/extend", f.aProduct), `{"days":1}`},
		{"POST", "/api-tokens", `{"name":"x","methods":["Activate"],"product_lock":{product}}`},
		// The operator's token narrowed to B (an operator's token narrowed to A must not reach it either).
		{"GET", "/admin-tokens/{opadmintoken}", ""},
		{"DELETE", "/admin-tokens/{opadmintoken}", ""},
		{"POST", "/woocommerce/stores/" + f.aStore + "/skus", `{"sku":"A-SKU","product":{product}}`},
	} {
		path, body := fill(t, "X "+c.path, "", c.body, f.b)
		mpath, mbody := fill(t, "X "+c.path, "", c.body, f.missing)
		theirs := call(t, st, c.method, path, body, h, "If-Match", "*")
		none := call(t, st, c.method, mpath, mbody, h, "If-Match", "*")
		what := fmt.Sprintf("%s: %s %s %s", who, c.method, path, body)
		f.clean(t, what, theirs)
		if theirs.Status < 400 || theirs.Status != none.Status || theirs.Body != none.Body {
			t.Errorf("%s: B's reference answers %d %q, a missing one %d %q", what, theirs.Status, theirs.Body, none.Status, none.Body)
		}
	}
	// A's lists name only A's: keys of A's product by B's customer.
	r := call(t, st, "GET", fmt.Sprintf("/products/%d/keys?customer=%s", f.aProduct, f.b["customer"]), "", h)
	want(t, who+": A's keys of B's customer", r, 200)
	if l, _ := items(t, r); len(l) != 0 {
		t.Errorf("%s: A's keys of B's customer: %s", who, r.Body)
	}
}

// clean fails when an answer to A shows anything of B's.
func (f *sweepFixture) clean(t *testing.T, what string, r servertest.Response) {
	t.Helper()
	for _, m := range f.marks {
		if strings.Contains(r.Body, m) || strings.Contains(fmt.Sprint(r.Header), m) {
			t.Errorf("%s: the answer shows %q: %s", what, m, r.Body)
		}
	}
}

func TestTenancySweep(t *testing.T) {
	f := newSweepFixture(t)
	before := f.reads(t)
	ownTok, _ := createToken(t, f.st, paul, `{"name":"A's own"}`)
	opTok, _ := createToken(t, f.st, root, `{"name":"narrowed to A","vendor":"paul1234"}`)
	roTok, _ := createToken(t, f.st, paul, `{"name":"A read-only","read_only":true}`)
	for _, p := range []struct {
		who      string
		h        map[string]string
		readOnly bool
	}{
		{"paul1234's account", paul, false},
		{"paul1234's own admin token", bearer(ownTok), false},
		{"the operator's token narrowed to paul1234", bearer(opTok), false},
		{"a read-only token narrowed to paul1234", bearer(roTok), true},
	} {
		f.sweep(t, p.who, p.h, p.readOnly)
		after := f.reads(t)
		for path, was := range before {
			if after[path] != was {
				t.Errorf("after the sweep as %s, %s reads\n%s\nwas\n%s", p.who, path, after[path], was)
			}
		}
		if t.Failed() {
			return // one principal's failures are enough to read
		}
	}
}
