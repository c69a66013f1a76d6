package manage_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/storage"
)

func TestCustomers(t *testing.T) {
	st := newStack(t)
	r := call(t, st, "POST", "/customers", `{"name":"Carol","email":"carol@example.com","company":"Example Ltd","notes":"met at\nthe fair",`+
		`"max_devices":3,"enable_association":true}`, simon)
	want(t, "create", r, 201)
	c := r.JSON(t)
	id := int64(c["id"].(float64))
	path := fmt.Sprintf("/customers/%d", id)
	if r.Header.Get("Location") != "/admin/v1"+path || r.Header.Get("ETag") == "" || c["vendor"] != "simon0897" || c["notes"] != "met at\nthe fair" ||
		c["max_devices"] != float64(3) || c["enable_association"] != true || c["allow_multiple_users"] != false || c["has_secret"] != false {
		t.Fatalf("create: %v %s", r.Header, r.Body)
	}
	want(t, "create as the operator without a vendor", call(t, st, "POST", "/customers", `{"name":"X"}`, root), 400)
	want(t, "create as the operator for paul1234", call(t, st, "POST", "/customers", `{"name":"Paula","vendor":"paul1234"}`, root), 201)
	want(t, "create for nobody", call(t, st, "POST", "/customers", `{"name":"X","vendor":"nobody"}`, root), 404)
	want(t, "create for another vendor", call(t, st, "POST", "/customers", `{"name":"X","vendor":"paul1234"}`, simon), 404)

	// Bad input: nothing is made, and a problem about one member names it.
	for body, field := range map[string]string{
		`{"name":1}`:                         "name",
		`{"name":"X","max_devices":"3"}`:     "max_devices",
		`{"name":"X","max_devices":-1}`:      "max_devices",
		`{"name":"X","max_devices":1000001}`: "max_devices",
		`{"name":" "}`:                       "name",
		`{}`:                                 "name",
		`{"name":"` + strings.Repeat("n", 257) + `"}`:              "name",
		`{"name":"X","email":"` + strings.Repeat("e", 257) + `"}`:  "email",
		`{"name":"X","company":"a\u0007b"}`:                        "company",
		`{"name":"X","notes":"` + strings.Repeat("n", 1001) + `"}`: "notes",
		`{"name":"X","enable_association":"yes"}`:                  "enable_association",
		`{"name":"X","nope":1}`:                                    "",
		`{"name":`:                                                 "",
		`[1]`:                                                      "",
		`{"name":"X"} {}`:                                          "",
	} {
		wantField(t, "create "+body[:min(len(body), 40)], call(t, st, "POST", "/customers", body, simon), field)
	}
	want(t, "create as text", call(t, st, "POST", "/customers", `{"name":"X"}`, simon, "Content-Type", "text/plain"), 415)
	if cs, _ := st.Store.ListCustomers(t.Context(), "simon0897"); len(cs) != 1 {
		t.Fatalf("bad input made customers: %+v", cs)
	}

	// List: newest first, paged, searched in name, e-mail and company, any case.
	for _, b := range []string{`{"name":"Dave","email":"dave@EXAMPLE.org"}`, `{"name":"Erin","company":"Widgets"}`, `{"name":"Fred"}`} {
		want(t, "create "+b, call(t, st, "POST", "/customers", b, simon), 201)
	}
	var names []string
	next := "/customers?limit=3"
	for pages := 0; next != ""; pages++ {
		if pages > 2 {
			t.Fatal("paging does not end")
		}
		r := call(t, st, "GET", next, "", simon)
		want(t, "list", r, 200)
		var l []map[string]any
		l, next = items(t, r)
		for _, it := range l {
			names = append(names, it["name"].(string))
		}
		if next != "" && r.Header.Get("Link") != "<"+next+`>; rel="next"` {
			t.Fatalf("Link: %q", r.Header.Get("Link"))
		}
	}
	if strings.Join(names, " ") != "Fred Erin Dave Carol" {
		t.Fatalf("simon0897's customers, paged: %v", names)
	}
	for search, want := range map[string]string{"example": "Dave Carol", "WIDGET": "Erin", "car": "Carol", "zzz": "", "%25": ""} {
		l, _ := items(t, call(t, st, "GET", "/customers?search="+search, "", simon))
		var got []string
		for _, it := range l {
			got = append(got, it["name"].(string))
		}
		if strings.Join(got, " ") != want {
			t.Errorf("search %q: %v, want %q", search, got, want)
		}
	}
	if l, _ := items(t, call(t, st, "GET", "/customers", "", root)); len(l) != 5 {
		t.Fatalf("the operator sees every vendor's: %v", l)
	}
	if l, _ := items(t, call(t, st, "GET", "/customers?vendor=paul1234", "", root)); len(l) != 1 || l[0]["name"] != "Paula" {
		t.Fatalf("the operator, one vendor's: %v", l)
	}
	for _, bad := range []string{"?limit=0", "?limit=501", "?cursor=***", "?cursor=e30", "?cursor=eyJiZWZvcmUiOi0xfQ",
		"?search=" + strings.Repeat("s", 257)} {
		want(t, "list "+bad[:min(len(bad), 30)], call(t, st, "GET", "/customers"+bad, "", simon), 400)
	}

	// Show and edit with If-Match: 428 without, 412 when stale, nothing written on a refusal.
	r = call(t, st, "GET", path, "", simon)
	want(t, "show", r, 200)
	etag := r.Header.Get("ETag")
	for _, bad := range []string{"/customers/x", "/customers/0", "/customers/-1", "/customers/999999", "/customers/99999999999999999999"} {
		want(t, "show "+bad, call(t, st, "GET", bad, "", simon), 404)
	}
	want(t, "edit without If-Match", call(t, st, "PATCH", path, `{"name":"Carola"}`, simon), 428)
	want(t, "edit with a stale ETag", call(t, st, "PATCH", path, `{"name":"Carola"}`, simon, "If-Match", `"old"`), 412)
	for body, field := range map[string]string{
		`{"name":""}`: "name", `{"max_devices":true}`: "max_devices", `{"notes":"` + strings.Repeat("n", 1001) + `"}`: "notes",
		`{"vendor":"paul1234"}`: "", `{"email":null,"x":1}`: "", `nope`: "",
	} {
		wantField(t, "edit "+body[:min(len(body), 30)], call(t, st, "PATCH", path, body, simon, "If-Match", etag), field)
	}
	if cu, _ := st.Store.GetCustomer(t.Context(), id); cu.Name != "Carol" || cu.MaxNoOfDevices != 3 {
		t.Fatalf("a refused edit changed the customer: %+v", cu)
	}
	r = call(t, st, "PATCH", path, `{"name":"Carola","max_devices":0,"allow_multiple_users":true,"enable_association":false}`, simon, "If-Match", etag)
	want(t, "edit", r, 200)
	if m := r.JSON(t); m["name"] != "Carola" || m["email"] != "carol@example.com" || m["max_devices"] != float64(0) ||
		m["allow_multiple_users"] != true || m["enable_association"] != false || m["notes"] != "met at\nthe fair" {
		t.Fatalf("edited: %s", r.Body)
	}
	if r.Header.Get("ETag") == etag {
		t.Fatal("the ETag did not change with the customer")
	}
	want(t, "edit over the edit", call(t, st, "PATCH", path, `{"name":"Lost"}`, simon, "If-Match", etag), 412)
	if cu, _ := st.Store.GetCustomer(t.Context(), id); cu.Name != "Carola" {
		t.Fatalf("a stale edit was written: %+v", cu)
	}
	want(t, "the operator edits any vendor's", call(t, st, "PATCH", path, `{"company":"Example plc"}`, root, "If-Match", "*"), 200)

	// A new secret, shown once, stored as its SHA-256; it finds the customer's licenses, the one before does not.
	secrets := []string{}
	for range 2 {
		r = call(t, st, "POST", path+"/secret", "", simon)
		want(t, "new secret", r, 200)
		m := r.JSON(t)
		s, _ := m["secret"].(string)
		if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(s) || m["has_secret"] != true {
			t.Fatalf("new secret: %s", r.Body)
		}
		secrets = append(secrets, s)
	}
	sum := sha256.Sum256([]byte(secrets[1]))
	if cu, _ := st.Store.GetCustomer(t.Context(), id); cu.SecretHash != hex.EncodeToString(sum[:]) {
		t.Fatalf("stored secret %q", cu.SecretHash)
	}
	if r := call(t, st, "GET", path, "", simon); strings.Contains(r.Body, secrets[1]) || strings.Contains(r.Body, hex.EncodeToString(sum[:])) {
		t.Fatalf("the secret shown again: %s", r.Body)
	}
	vendor, err := st.Svc.Vendor(t.Context(), "simon0897")
	if err != nil {
		t.Fatal(err)
	}

	// Its licenses, paged; the delete is refused while it has keys, and forced unlinks them (they stay).
	var keys []string
	for range 3 {
		keys = append(keys, st.NewKey(t, license.KeySpec{CustomerID: id}).Key)
	}
	st.NewKey(t, license.KeySpec{}) // no one's
	if ls, err := st.Svc.GetCustomerLicensesBySecret(t.Context(), vendor, secrets[1]); err != nil || len(ls) != 3 {
		t.Fatalf("licenses by the new secret: %d %v", len(ls), err)
	}
	if _, err := st.Svc.GetCustomerLicensesBySecret(t.Context(), vendor, secrets[0]); err == nil {
		t.Fatal("the replaced secret still works")
	}
	var got []string
	next = path + "/licenses?limit=2"
	for pages := 0; next != ""; pages++ {
		if pages > 2 {
			t.Fatal("paging does not end")
		}
		r := call(t, st, "GET", next, "", simon)
		want(t, "licenses", r, 200)
		var l []map[string]any
		l, next = items(t, r)
		for _, it := range l {
			got = append(got, it["key"].(string))
		}
	}
	if strings.Join(got, " ") != strings.Join(keys, " ") {
		t.Fatalf("the customer's keys, paged: %v, want %v", got, keys)
	}
	want(t, "licenses, bad page", call(t, st, "GET", path+"/licenses?limit=x", "", simon), 400)
	if _, err := st.Store.CreateEndUser(t.Context(), storage.EndUser{Vendor: "simon0897", Name: "eve", PasswordHash: "h", CustomerID: id}); err != nil {
		t.Fatal(err)
	}
	r = call(t, st, "DELETE", path, "", simon)
	want(t, "delete with keys", r, 409)
	if !strings.Contains(r.Body, "3 license key") || !strings.Contains(r.Body, "force=true") {
		t.Fatalf("the refusal does not say why: %s", r.Body)
	}
	if cu, err := st.Store.GetCustomer(t.Context(), id); err != nil || cu.Name != "Carola" {
		t.Fatalf("a refused delete: %+v %v", cu, err)
	}
	want(t, "delete, bad force", call(t, st, "DELETE", path+"?force=please", "", simon), 400)
	r = call(t, st, "DELETE", path+"?force=true", "", simon)
	want(t, "forced delete", r, 200)
	if m := r.JSON(t); m["keys"] != float64(3) || m["end_users"] != float64(1) || m["devices"] != float64(0) {
		t.Fatalf("forced delete: %s", r.Body)
	}
	for _, k := range keys {
		if stored, err := st.Store.GetLicenseKey(t.Context(), st.Product.ID, k); err != nil || stored.CustomerID != 0 {
			t.Fatalf("a key after its customer went: %+v %v", stored, err)
		}
	}
	if u, err := st.Store.GetEndUser(t.Context(), "simon0897", "eve"); err != nil || u.CustomerID != 0 {
		t.Fatalf("the end user after the customer went: %+v %v", u, err)
	}
	want(t, "show deleted", call(t, st, "GET", path, "", simon), 404)
	want(t, "delete again", call(t, st, "DELETE", path, "", simon), 404)
	fred := call(t, st, "GET", "/customers?search=fred", "", simon)
	if l, _ := items(t, fred); len(l) != 1 {
		t.Fatalf("fred: %s", fred.Body)
	} else {
		want(t, "a customer without keys goes unforced", call(t, st, "DELETE", fmt.Sprintf("/customers/%v", l[0]["id"]), "", simon), 200)
	}

	// The core audited each change, naming the acting account.
	var actions []string
	for _, e := range st.AuditLog(t) {
		if strings.HasPrefix(e.Action, "license.customer.") {
			actions = append(actions, e.Action+" "+e.Actor)
			if strings.Contains(e.Detail, secrets[1]) || strings.Contains(e.Detail, secrets[0]) {
				t.Errorf("%s names the secret: %s", e.Action, e.Detail)
			}
		}
	}
	all := strings.Join(actions, ", ")
	for _, a := range []string{"license.customer.create simon0897", "license.customer.create root", "license.customer.edit simon0897",
		"license.customer.edit root", "license.customer.delete simon0897"} {
		if !strings.Contains(all, a) {
			t.Errorf("no %q in the audit log: %s", a, all)
		}
	}
}

func TestAPITokens(t *testing.T) {
	st := newStack(t)
	r := call(t, st, "POST", "/api-tokens", fmt.Sprintf(`{"name":"desktop app","methods":["Activate","getkey","GetKey"],"product_lock":%d,"lifetime_days":30}`,
		st.Product.ID), simon)
	want(t, "create", r, 201)
	m := r.JSON(t)
	id := int64(m["id"].(float64))
	tok, _ := m["token"].(string)
	path := fmt.Sprintf("/api-tokens/%d", id)
	if r.Header.Get("Location") != "/admin/v1"+path || tok == "" || m["vendor"] != "simon0897" || fmt.Sprint(m["methods"]) != "[Activate GetKey]" ||
		m["expires_at"] == nil || m["product_lock"] != float64(st.Product.ID) {
		t.Fatalf("create: %v %s", r.Header, r.Body)
	}
	acc, err := st.Svc.Authenticate(t.Context(), tok)
	if err != nil || acc.Allow(license.MethodActivate) != nil || acc.Allow(license.MethodCreateKey) == nil {
		t.Fatalf("the token made: %v", err)
	}
	want(t, "create as the operator for paul1234", call(t, st, "POST", "/api-tokens", `{"vendor":"paul1234","name":"paul's","methods":["GetKey"],"key_lock":-1}`, root), 201)
	want(t, "create as the operator without a vendor", call(t, st, "POST", "/api-tokens", `{"methods":["GetKey"]}`, root), 400)
	want(t, "create for nobody", call(t, st, "POST", "/api-tokens", `{"vendor":"nobody","methods":["GetKey"]}`, root), 404)
	want(t, "create for another vendor", call(t, st, "POST", "/api-tokens", `{"vendor":"paul1234","methods":["GetKey"]}`, simon), 404)
	for body, field := range map[string]string{
		`{}`:                             "methods",
		`{"methods":[]}`:                 "methods",
		`{"methods":["Activate","Fly"]}`: "methods",
		`{"methods":"Activate"}`:         "methods",
		`{"methods":[1]}`:                "methods",
		`{"methods":["GetKey"],"name":"` + strings.Repeat("n", 257) + `"}`:             "name",
		`{"methods":["GetKey"],"key_lock":-2}`:                                         "key_lock",
		`{"methods":["GetKey"],"key_lock":5}`:                                          "key_lock",
		`{"methods":["GetKey"],"product_lock":-1}`:                                     "product_lock",
		`{"methods":["GetKey"],"product_lock":999999}`:                                 "product_lock",
		`{"methods":["GetKey"],"feature_lock":-1}`:                                     "feature_lock",
		`{"methods":["GetKey"],"lifetime_days":-1}`:                                    "lifetime_days",
		`{"methods":["GetKey"],"lifetime_days":1,"expires_at":"2099-01-01T00:00:00Z"}`: "lifetime_days",
		`{"methods":["GetKey"],"expires_at":"2001-01-01T00:00:00Z"}`:                   "expires_at",
		`{"methods":["GetKey"],"expires_at":"soon"}`:                                   "",
		`{"methods":["GetKey"],"secret":"mine"}`:                                       "",
		`{"methods":`:                                                                  "",
	} {
		wantField(t, "create "+body[:min(len(body), 50)], call(t, st, "POST", "/api-tokens", body, simon), field)
	}
	// paul1234's product cannot be a lock of simon0897's token.
	paulProduct, err := st.Svc.CreateProduct(t.Context(), license.Admin(), "paul1234", license.ProductSpec{Name: "Paul's"})
	if err != nil {
		t.Fatal(err)
	}
	wantField(t, "another vendor's product lock", call(t, st, "POST", "/api-tokens", fmt.Sprintf(`{"methods":["GetKey"],"product_lock":%d}`, paulProduct.ID), simon), "product_lock")
	if ts, _ := st.Store.ListAPITokens(t.Context(), "simon0897"); len(ts) != 1 {
		t.Fatalf("bad input made tokens: %+v", ts)
	}

	// List and show: never the secret nor its hash.
	want(t, "create another", call(t, st, "POST", "/api-tokens", `{"name":"server","methods":["CreateKey"],"expires_at":"2099-01-01T00:00:00Z"}`, simon), 201)
	r = call(t, st, "GET", "/api-tokens?limit=1", "", simon)
	want(t, "list", r, 200)
	l, next := items(t, r)
	if len(l) != 1 || l[0]["name"] != "desktop app" || next == "" {
		t.Fatalf("first page: %s", r.Body)
	}
	if l, next := items(t, call(t, st, "GET", next, "", simon)); len(l) != 1 || l[0]["name"] != "server" || next != "" {
		t.Fatalf("second page: %v %q", l, next)
	}
	if l, _ := items(t, call(t, st, "GET", "/api-tokens?name=DESK", "", simon)); len(l) != 1 || l[0]["id"] != float64(id) {
		t.Fatalf("by name: %v", l)
	}
	if l, _ := items(t, call(t, st, "GET", "/api-tokens", "", root)); len(l) != 3 {
		t.Fatalf("the operator sees every vendor's: %v", l)
	}
	if l, _ := items(t, call(t, st, "GET", "/api-tokens?vendor=paul1234", "", root)); len(l) != 1 || l[0]["vendor"] != "paul1234" {
		t.Fatalf("the operator, one vendor's: %v", l)
	}
	for _, bad := range []string{"?limit=0", "?cursor=***", "?name=" + strings.Repeat("n", 257)} {
		want(t, "list "+bad[:min(len(bad), 20)], call(t, st, "GET", "/api-tokens"+bad, "", simon), 400)
	}
	r = call(t, st, "GET", path, "", simon)
	want(t, "show", r, 200)
	_, secret, _ := strings.Cut(decodeToken(t, tok), ",")
	if strings.Contains(r.Body, strings.Trim(secret, `"]`)) || strings.Contains(r.Body, "hash") {
		t.Fatalf("show reveals the secret: %s", r.Body)
	}
	for _, bad := range []string{"/api-tokens/x", "/api-tokens/0", "/api-tokens/999999"} {
		want(t, "show "+bad, call(t, st, "GET", bad, "", simon), 404)
		want(t, "revoke "+bad, call(t, st, "DELETE", bad, "", simon), 404)
	}

	// Revoke: the token stops working at once.
	want(t, "revoke", call(t, st, "DELETE", path, "", simon), 204)
	if _, err := st.Svc.Authenticate(t.Context(), tok); err == nil {
		t.Fatal("a revoked token still works")
	}
	if m := call(t, st, "GET", path, "", simon).JSON(t); m["revoked_at"] == nil {
		t.Fatalf("revoked: %v", m)
	}

	var actions []string
	for _, e := range st.AuditLog(t) {
		if strings.HasPrefix(e.Action, "license.token.") {
			actions = append(actions, e.Action+" "+e.Actor)
		}
	}
	all := strings.Join(actions, ", ")
	for _, a := range []string{"license.token.create simon0897", "license.token.create root", "license.token.revoke simon0897"} {
		if !strings.Contains(all, a) {
			t.Errorf("no %q in the audit log: %s", a, all)
		}
	}
}

// decodeToken is the JSON array a licensing API token encodes.
func decodeToken(t *testing.T, tok string) string {
	t.Helper()
	var raw []byte
	if err := json.Unmarshal([]byte(`"`+tok+`"`), &raw); err != nil { // base64, as []byte decodes it
		t.Fatalf("token %q: %v", tok, err)
	}
	return string(raw)
}

// TestCustomerAndTokenTenancy: a vendor (and a token narrowed to a vendor) gets, for another vendor's customer
// or token, the very answer a missing one gets; read-only tokens change nothing.
func TestCustomerAndTokenTenancy(t *testing.T) {
	st := newStack(t)
	theirs := call(t, st, "POST", "/customers", `{"name":"Simon's"}`, simon).JSON(t)
	cust := fmt.Sprintf("/customers/%d", int64(theirs["id"].(float64)))
	st.NewKey(t, license.KeySpec{CustomerID: int64(theirs["id"].(float64))})
	tokID := call(t, st, "POST", "/api-tokens", `{"methods":["GetKey"]}`, simon).JSON(t)["id"].(float64)
	tok := fmt.Sprintf("/api-tokens/%d", int64(tokID))
	_, narrowedID := createToken(t, st, root, `{"vendor":"paul1234"}`)
	_ = narrowedID
	narrowed, _ := createToken(t, st, root, `{"vendor":"paul1234","name":"n2"}`)
	readOnly, _ := createToken(t, st, root, `{"read_only":true}`)

	routes := []struct{ method, path, body string }{
		{"GET", "%s", ""},
		{"PATCH", "%s", `{"name":"mine now"}`},
		{"DELETE", "%s", ""},
		{"DELETE", "%s?force=true", ""},
		{"GET", "%s/licenses", ""},
		{"POST", "%s/secret", ""},
	}
	for _, who := range []struct {
		name string
		hdr  map[string]string
	}{{"paul1234", paul}, {"a token narrowed to paul1234", bearer(narrowed)}} {
		for _, c := range routes {
			got := call(t, st, c.method, fmt.Sprintf(c.path, cust), c.body, who.hdr, "If-Match", "*")
			none := call(t, st, c.method, fmt.Sprintf(c.path, "/customers/999999"), c.body, who.hdr, "If-Match", "*")
			want(t, who.name+": "+c.method+" "+c.path+" of simon0897's customer", got, 404)
			if got.Body != none.Body {
				t.Errorf("%s %s: another vendor's answer %q differs from a missing one's %q", c.method, c.path, got.Body, none.Body)
			}
		}
		for _, method := range []string{"GET", "DELETE"} {
			got := call(t, st, method, tok, "", who.hdr)
			none := call(t, st, method, "/api-tokens/999999", "", who.hdr)
			want(t, who.name+": "+method+" simon0897's API token", got, 404)
			if got.Body != none.Body {
				t.Errorf("%s %s: %q differs from a missing one's %q", method, tok, got.Body, none.Body)
			}
		}
		want(t, who.name+": a customer of simon0897", call(t, st, "POST", "/customers", `{"name":"X","vendor":"simon0897"}`, who.hdr), 404)
		want(t, who.name+": a token of simon0897", call(t, st, "POST", "/api-tokens", `{"vendor":"simon0897","methods":["GetKey"]}`, who.hdr), 404)
		for _, path := range []string{"/customers", "/customers?vendor=simon0897", "/customers?search=simon", "/api-tokens", "/api-tokens?vendor=simon0897"} {
			r := call(t, st, "GET", path, "", who.hdr)
			want(t, who.name+": "+path, r, 200)
			if strings.Contains(r.Body, "simon0897") || strings.Contains(r.Body, "Simon") {
				t.Errorf("%s as %s shows simon0897's: %s", path, who.name, r.Body)
			}
		}
	}
	if cu, err := st.Store.GetCustomer(t.Context(), int64(theirs["id"].(float64))); err != nil || cu.Name != "Simon's" || cu.SecretHash != "" {
		t.Fatalf("simon0897's customer after the others' tries: %+v %v", cu, err)
	}
	if ts, _ := st.Store.ListAPITokens(t.Context(), "simon0897"); len(ts) != 1 || ts[0].Revoked() {
		t.Fatalf("simon0897's token after the others' tries: %+v", ts)
	}

	// A read-only admin token reads, and is refused every change.
	want(t, "read-only: list", call(t, st, "GET", "/customers", "", bearer(readOnly)), 200)
	want(t, "read-only: show", call(t, st, "GET", cust, "", bearer(readOnly)), 200)
	want(t, "read-only: tokens", call(t, st, "GET", tok, "", bearer(readOnly)), 200)
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/customers", `{"name":"X","vendor":"simon0897"}`},
		{"PATCH", cust, `{"name":"X"}`},
		{"DELETE", cust + "?force=true", ""},
		{"POST", cust + "/secret", ""},
		{"POST", "/api-tokens", `{"vendor":"simon0897","methods":["GetKey"]}`},
		{"DELETE", tok, ""},
	} {
		want(t, "read-only: "+c.method+" "+c.path, call(t, st, c.method, c.path, c.body, bearer(readOnly), "If-Match", "*"), 403)
	}
	if cu, err := st.Store.GetCustomer(t.Context(), int64(theirs["id"].(float64))); err != nil || cu.Name != "Simon's" {
		t.Fatalf("simon0897's customer after a read-only token's tries: %+v %v", cu, err)
	}
	want(t, "no credentials", call(t, st, "GET", "/customers", "", nil), 401)
}

// TestCustomerEditRace: edits sent at once with the same ETag: one is written, every other is answered 412,
// as the precondition is checked in the transaction that writes.
func TestCustomerEditRace(t *testing.T) {
	st := newStack(t)
	r := call(t, st, "POST", "/customers", `{"name":"Carol"}`, simon)
	want(t, "create", r, 201)
	path, etag := strings.TrimPrefix(r.Header.Get("Location"), "/admin/v1"), r.Header.Get("ETag")
	const n = 6
	statuses := make(chan int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses <- call(t, st, "PATCH", path, fmt.Sprintf(`{"name":"Carol %d"}`, i), simon, "If-Match", etag).Status
		}()
	}
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	if count[200] != 1 || count[412] != n-1 {
		t.Fatalf("concurrent edits with one ETag: %v, want one 200 and %d 412", count, n-1)
	}
}
