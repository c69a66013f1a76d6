package manage_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/license/woo"
	"github.com/tokenmanager/tokenmanager/server"
	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
	"github.com/tokenmanager/tokenmanager/storage"
)

// wooStack is a server with the licensing core and the WooCommerce layer, simon0897 and paul1234 as vendors
// with a product each.
type wooStack struct {
	*servertest.CLStack
	simonProduct, paulProduct storage.Product
}

func newWooStack(t *testing.T) *wooStack {
	t.Helper()
	var lic *license.Service
	withWoo := func(su *servertest.Setup) {
		su.Wire = append(su.Wire, func(st *servertest.Stack, d *server.Deps) { d.Woo = woo.New(d.License, st.Store, woo.Options{}) })
	}
	st := servertest.NewStack(t, servertest.WithAdmin(t), servertest.WithLicense(&lic), withWoo)
	ws := &wooStack{CLStack: &servertest.CLStack{Stack: st, Svc: lic}}
	for _, v := range []string{"simon0897", "paul1234"} {
		if err := lic.AddVendor(context.Background(), v); err != nil {
			t.Fatal(err)
		}
	}
	ws.simonProduct = ws.NewProduct(t, "simon0897")
	ws.paulProduct = ws.NewProduct(t, "paul1234")
	return ws
}

// problemOf decodes a problem document's detail and field.
func problemOf(t *testing.T, r servertest.Response) (detail, field string) {
	t.Helper()
	var p struct{ Detail, Field string }
	if err := json.Unmarshal([]byte(r.Body), &p); err != nil {
		t.Fatalf("problem %s: %v", r.Body, err)
	}
	return p.Detail, p.Field
}

func TestWooStoresOverTheAPI(t *testing.T) {
	st := newWooStack(t)
	// A vendor's own store by default; without a code, one is made and answered once.
	r := call(t, st.CLStack, "POST", "/woocommerce/stores", `{"name":"Simon's shop"}`, simon)
	want(t, "create", r, 201)
	m := r.JSON(t)
	id := fmt.Sprint(m["id"])
	code, _ := m["code"].(string)
	if m["vendor"] != "simon0897" || len(code) != 43 || r.Header.Get("Location") != "/admin/v1/woocommerce/stores/"+id || r.Header.Get("ETag") == "" {
		t.Fatalf("create: %v %s", r.Header, r.Body)
	}
	path := "/woocommerce/stores/" + id
	g := call(t, st.CLStack, "GET", path, "", simon)
	want(t, "get", g, 200)
	if strings.Contains(g.Body, code) || strings.Contains(g.Body, `"code"`) || g.Header.Get("ETag") != r.Header.Get("ETag") {
		t.Fatalf("get shows the code, or another ETag: %v %s", g.Header, g.Body)
	}
	// The operator names the vendor; a code it brings is not echoed.
	r = call(t, st.CLStack, "POST", "/woocommerce/stores", `{"vendor":"paul1234","code":"pauls-store-code","require_token":true}`, root)
	want(t, "create for paul1234", r, 201)
	paulStore := "/woocommerce/stores/" + fmt.Sprint(r.JSON(t)["id"])
	if _, ok := r.JSON(t)["code"]; ok || r.JSON(t)["require_token"] != true {
		t.Fatalf("a code brought is echoed: %s", r.Body)
	}
	r = call(t, st.CLStack, "POST", "/woocommerce/stores", `{"vendor":"simon0897","code":"pauls-store-code"}`, root)
	want(t, "a code taken", r, 409)
	if _, f := problemOf(t, r); f != "code" {
		t.Fatalf("a code taken: %s", r.Body)
	}
	for _, body := range []string{`{"vendor":"simon0897","code":"short"}`, `{"vendor":"simon0897","code":"` + strings.Repeat("c", 300) + `"}`} {
		wantField(t, "the operator creates "+body, call(t, st.CLStack, "POST", "/woocommerce/stores", body, root), "code")
	}
	for body, field := range map[string]string{
		`{"name":1}`:              "name",
		`{"require_token":"yes"}`: "require_token",
		`{"name":"` + strings.Repeat("n", 300) + `"}`: "name",
		`{"name":"a\u0000b"}`:                         "name",
		`{"name":"x","color":"red"}`:                  "",
		`{"name":`:                                    "",
		`[]`:                                          "",
		``:                                            "",
	} {
		wantField(t, "create "+body, call(t, st.CLStack, "POST", "/woocommerce/stores", body, simon), field)
	}
	wantField(t, "the operator without a vendor", call(t, st.CLStack, "POST", "/woocommerce/stores", `{}`, root), "vendor")
	want(t, "a vendor for another", call(t, st.CLStack, "POST", "/woocommerce/stores", `{"vendor":"paul1234"}`, simon), 404)
	want(t, "not a vendor", call(t, st.CLStack, "POST", "/woocommerce/stores", `{"vendor":"root"}`, root), 404)

	// Lists: a vendor its own; the operator all, by vendor, a page at a time.
	if l, _ := items(t, call(t, st.CLStack, "GET", "/woocommerce/stores", "", simon)); len(l) != 1 || fmt.Sprint(l[0]["id"]) != id {
		t.Fatalf("simon0897's stores: %v", l)
	}
	if l, _ := items(t, call(t, st.CLStack, "GET", "/woocommerce/stores?vendor=paul1234", "", simon)); len(l) != 0 {
		t.Fatalf("simon0897 sees paul1234's stores: %v", l)
	}
	l, next := items(t, call(t, st.CLStack, "GET", "/woocommerce/stores?limit=1", "", root))
	if len(l) != 1 || next == "" {
		t.Fatalf("page 1: %v %q", l, next)
	}
	if l2, next2 := items(t, call(t, st.CLStack, "GET", next, "", root)); len(l2) != 1 || next2 != "" || l2[0]["id"] == l[0]["id"] {
		t.Fatalf("page 2: %v %q", l2, next2)
	}
	want(t, "bad limit", call(t, st.CLStack, "GET", "/woocommerce/stores?limit=0", "", root), 400)
	want(t, "bad cursor", call(t, st.CLStack, "GET", "/woocommerce/stores?cursor=!!", "", root), 400)

	// Edits: If-Match, 428 and 412.
	etag := g.Header.Get("ETag")
	want(t, "patch without If-Match", call(t, st.CLStack, "PATCH", path, `{"name":"renamed"}`, simon), 428)
	r = call(t, st.CLStack, "PATCH", path, `{"name":"renamed","errors_by_code":true}`, simon, "If-Match", etag)
	want(t, "patch", r, 200)
	if r.JSON(t)["name"] != "renamed" || r.JSON(t)["errors_by_code"] != true || r.Header.Get("ETag") == etag {
		t.Fatalf("patch: %v %s", r.Header, r.Body)
	}
	want(t, "patch with a stale ETag", call(t, st.CLStack, "PATCH", path, `{"name":"again"}`, simon, "If-Match", etag), 412)
	if g := call(t, st.CLStack, "GET", path, "", simon); g.JSON(t)["name"] != "renamed" {
		t.Fatalf("a stale patch was written: %s", g.Body)
	}
	wantField(t, "patch a short code", call(t, st.CLStack, "PATCH", path, `{"code":"short"}`, root, "If-Match", "*"), "code")
	wantField(t, "patch unknown", call(t, st.CLStack, "PATCH", path, `{"vendor":"paul1234"}`, simon, "If-Match", "*"), "")

	// SKUs: a product of the store's vendor; another vendor's product is refused as a missing one.
	skus := path + "/skus"
	r = call(t, st.CLStack, "POST", skus, fmt.Sprintf(`{"sku":"ED PRO/1","product":%d,"desktop":true}`, st.simonProduct.ID), simon)
	want(t, "sku", r, 201)
	if r.Header.Get("Location") != "/admin/v1"+skus+"/ED%20PRO%2F1" {
		t.Fatalf("sku Location %q", r.Header.Get("Location"))
	}
	foreign := call(t, st.CLStack, "POST", skus, fmt.Sprintf(`{"sku":"X","product":%d}`, st.paulProduct.ID), simon)
	missing := call(t, st.CLStack, "POST", skus, `{"sku":"X","product":99999}`, simon)
	wantField(t, "another vendor's product", foreign, "product")
	wantField(t, "no such product", missing, "product")
	if foreign.Body != missing.Body {
		t.Fatalf("another vendor's product is told from a missing one:\n%s\n%s", foreign.Body, missing.Body)
	}
	for body, field := range map[string]string{
		`{"sku":"","product":1}`:    "sku",
		`{"sku":" X ","product":1}`: "sku",
		`{"sku":"X"}`:               "product",
		`{"sku":"X","product":"1"}`: "product",
		`{"sku":"` + strings.Repeat("s", 300) + `","product":1}`: "sku",
		`{"sku":"X","product":1,"price":3}`:                      "",
	} {
		wantField(t, "sku "+body, call(t, st.CLStack, "POST", skus, strings.Replace(body, `"product":1`, fmt.Sprintf(`"product":%d`, st.simonProduct.ID), 1), simon), field)
	}
	if l, _ := items(t, call(t, st.CLStack, "GET", skus, "", simon)); len(l) != 1 || l[0]["sku"] != "ED PRO/1" || l[0]["desktop"] != true {
		t.Fatalf("skus: %v", l)
	}
	want(t, "one sku", call(t, st.CLStack, "GET", skus+"/ED%20PRO%2F1", "", simon), 200)
	want(t, "a missing sku", call(t, st.CLStack, "GET", skus+"/nope", "", simon), 404)
	want(t, "a sku too long", call(t, st.CLStack, "GET", skus+"/"+strings.Repeat("s", 300), "", simon), 404)

	// Another vendor reaches nothing of simon0897's, on every route, exactly as if it did not exist.
	for _, c := range [][3]string{
		{"GET", path, ""}, {"PATCH", path, `{"name":"mine"}`}, {"DELETE", path + "?force=true", ""},
		{"GET", skus, ""}, {"POST", skus, fmt.Sprintf(`{"sku":"P","product":%d}`, st.paulProduct.ID)},
		{"GET", skus + "/ED%20PRO%2F1", ""}, {"DELETE", skus + "/ED%20PRO%2F1", ""},
	} {
		other := call(t, st.CLStack, c[0], c[1], c[2], paul, "If-Match", "*")
		absent := call(t, st.CLStack, c[0], strings.Replace(c[1], "/stores/"+id, "/stores/99999", 1), c[2], paul, "If-Match", "*")
		want(t, "paul1234 "+c[0]+" "+c[1], other, 404)
		want(t, "paul1234 on a missing store "+c[0], absent, 404)
		if other.Body != absent.Body {
			t.Fatalf("%s %s: another vendor's store is told from a missing one", c[0], c[1])
		}
	}
	want(t, "simon0897 on paul1234's store", call(t, st.CLStack, "GET", paulStore, "", simon), 404)
	for _, bad := range []string{"abc", "0", "-1", "99999999999999999999"} {
		want(t, "store id "+bad, call(t, st.CLStack, "GET", "/woocommerce/stores/"+bad, "", root), 404)
	}

	// Read-only and vendor-narrowed tokens.
	ro, _ := createToken(t, st.CLStack, simon, `{"read_only":true}`)
	want(t, "read-only list", call(t, st.CLStack, "GET", "/woocommerce/stores", "", bearer(ro)), 200)
	for _, c := range [][3]string{{"POST", "/woocommerce/stores", `{}`}, {"PATCH", path, `{"name":"x"}`}, {"DELETE", path, ""},
		{"POST", skus, `{}`}, {"DELETE", skus + "/ED%20PRO%2F1", ""}} {
		want(t, "read-only "+c[0]+" "+c[1], call(t, st.CLStack, c[0], c[1], c[2], bearer(ro), "If-Match", "*"), 403)
	}
	narrow, _ := createToken(t, st.CLStack, root, `{"vendor":"paul1234"}`)
	want(t, "a token narrowed to paul1234 on simon0897's store", call(t, st.CLStack, "GET", path, "", bearer(narrow)), 404)
	if l, _ := items(t, call(t, st.CLStack, "GET", "/woocommerce/stores", "", bearer(narrow))); len(l) != 1 {
		t.Fatalf("the narrowed token's stores: %v", l)
	}

	// Delete: 409 while it sells SKUs; force removes them with it.
	want(t, "delete a selling store", call(t, st.CLStack, "DELETE", path, "", simon), 409)
	want(t, "force=maybe", call(t, st.CLStack, "DELETE", path+"?force=maybe", "", simon), 400)
	want(t, "remove the sku", call(t, st.CLStack, "DELETE", skus+"/ED%20PRO%2F1", "", simon), 204)
	want(t, "remove it twice", call(t, st.CLStack, "DELETE", skus+"/ED%20PRO%2F1", "", simon), 404)
	call(t, st.CLStack, "POST", skus, fmt.Sprintf(`{"sku":"A","product":%d}`, st.simonProduct.ID), simon)
	r = call(t, st.CLStack, "DELETE", path+"?force=true", "", simon)
	want(t, "forced delete", r, 200)
	if r.JSON(t)["skus"] != float64(1) {
		t.Fatalf("forced delete: %s", r.Body)
	}
	want(t, "the deleted store", call(t, st.CLStack, "GET", path, "", simon), 404)

	// Every change is audited by the core with the acting account (newest first).
	got := map[string]string{}
	for _, e := range st.AuditLog(t) {
		if strings.HasPrefix(e.Action, "woo.") {
			got[e.Action] += e.Actor + " "
		}
	}
	for action, actors := range map[string]string{"woo.store.create": "root simon0897 ", "woo.store.update": "simon0897 ",
		"woo.sku.set": "simon0897 simon0897 ", "woo.sku.remove": "simon0897 ", "woo.store.delete": "simon0897 "} {
		if got[action] != actors {
			t.Errorf("audit %s by %q, want %q (all: %v)", action, got[action], actors, got)
		}
	}
}

// TestWooStoreMadeByTheAPIValidatesAKey: a store and SKU made over the management API serve the plugin's wire.
func TestWooStoreMadeByTheAPIValidatesAKey(t *testing.T) {
	st := newWooStack(t)
	r := call(t, st.CLStack, "POST", "/woocommerce/stores", `{"name":"shop"}`, simon)
	want(t, "create", r, 201)
	code, id := r.JSON(t)["code"].(string), fmt.Sprint(r.JSON(t)["id"])
	want(t, "sku", call(t, st.CLStack, "POST", "/woocommerce/stores/"+id+"/skus", fmt.Sprintf(`{"sku":"ED-PRO","product":%d}`, st.simonProduct.ID), simon), 201)
	k := st.NewKeyIn(t, st.simonProduct.ID, license.KeySpec{MaxNoOfMachines: 1})
	post := func(op string, form url.Values) map[string]any {
		r := servertest.Send(t, "POST", st.URL+servertest.WooBase+op, form.Encode(), http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
		var m map[string]any
		json.Unmarshal([]byte(r.Body), &m)
		return m
	}
	form := url.Values{"store_code": {code}, "sku": {"ED-PRO"}, "license_key": {woo.Key(k)}, "domain": {"shop.example"}}
	m := post("activate", form)
	data, _ := m["data"].(map[string]any)
	if m["error"] != false || data["the_key"] != woo.Key(k) {
		t.Fatalf("activate: %v", m)
	}
	form.Set("activation_id", fmt.Sprint(data["activation_id"]))
	if m := post("validate", form); m["error"] != false || m["message"] != "License Key is valid." {
		t.Fatalf("validate: %v", m)
	}
	// A new code over the API: the old one opens nothing.
	r = call(t, st.CLStack, "POST", "/woocommerce/stores/"+id+"/code", "", simon)
	want(t, "new code", r, 200)
	newCode, _ := r.JSON(t)["code"].(string)
	if len(newCode) != 43 || newCode == code {
		t.Fatalf("new code: %s", r.Body)
	}
	if m := post("validate", form); m["error"] != true {
		t.Fatalf("validate with the replaced code: %v", m)
	}
	form.Set("store_code", newCode)
	if m := post("validate", form); m["error"] != false {
		t.Fatalf("validate with the new code: %v", m)
	}
}
