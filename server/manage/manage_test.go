package manage_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/auth"
	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
	"github.com/tokenmanager/tokenmanager/storage"
)

// Every test here runs on a real server over a real SQLite file; servertest validates each request and answer
// against the OpenAPI document as it goes.

var (
	root  = servertest.RootBasic
	simon = map[string]string{"Authorization": servertest.Basic("simon0897", "s3cret")} // a vendor
	paul  = map[string]string{"Authorization": servertest.Basic("paul1234", "pa55")}    // another vendor
)

func newStack(t *testing.T) *servertest.CLStack {
	return servertest.NewCLStack(t, servertest.WithAdmin(t))
}

func call(t *testing.T, st *servertest.CLStack, method, path, body string, hdr map[string]string, extra ...string) servertest.Response {
	t.Helper()
	h := map[string]string{}
	for k, v := range hdr {
		h[k] = v
	}
	if body != "" {
		h["Content-Type"] = "application/json"
	}
	for i := 0; i+1 < len(extra); i += 2 {
		h[extra[i]] = extra[i+1]
	}
	if !strings.HasPrefix(path, "/admin/v1") {
		path = "/admin/v1" + path
	}
	return servertest.Do(t, method, st.URL+path, body, h)
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

// want checks the status, and that every error is a problem document of that status.
func want(t *testing.T, what string, r servertest.Response, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: %d, want %d: %s", what, r.Status, status, r.Body)
	}
	if status >= 400 {
		var p struct {
			Type, Title string
			Status      int
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" || json.Unmarshal([]byte(r.Body), &p) != nil ||
			p.Status != status || p.Type == "" || p.Title == "" {
			t.Fatalf("%s: not a problem document of %d: %s %s", what, status, ct, r.Body)
		}
	}
}

// wantField checks a 400 names the member in field.
func wantField(t *testing.T, what string, r servertest.Response, field string) {
	t.Helper()
	want(t, what, r, 400)
	if got, _ := r.JSON(t)["field"].(string); got != field {
		t.Fatalf("%s: field %q, want %q: %s", what, got, field, r.Body)
	}
}

func items(t *testing.T, r servertest.Response) ([]map[string]any, string) {
	t.Helper()
	var l struct {
		Items []map[string]any
		Next  string
	}
	if err := json.Unmarshal([]byte(r.Body), &l); err != nil {
		t.Fatalf("list %s: %v", r.Body, err)
	}
	return l.Items, l.Next
}

func TestUsers(t *testing.T) {
	st := newStack(t)
	r := call(t, st, "POST", "/users", `{"name":"carol","password":"long enough"}`, root)
	want(t, "create", r, 201)
	if r.Header.Get("Location") != "/admin/v1/users/carol" || r.Header.Get("ETag") == "" || r.JSON(t)["admin"] != false {
		t.Fatalf("create: %v %s", r.Header, r.Body)
	}
	for body, status := range map[string]int{
		`{"name":"carol","password":"long enough"}`:      409, // taken
		`{"name":"CAROL","password":"long enough"}`:      409, // by case
		`{"name":"a:b","password":"long enough"}`:        400,
		`{"name":"dave","password":"short"}`:             400,
		`{"name":"dave"}`:                                400,
		`{"name":"dave","password":"long enough","x":1}`: 400, // unknown field
		`[1,2]`: 400,
		``:      400,
	} {
		want(t, "create "+body, call(t, st, "POST", "/users", body, root), status)
	}
	want(t, "create as text", call(t, st, "POST", "/users", `{"name":"x","password":"long enough"}`, root, "Content-Type", "text/plain"), 415)
	want(t, "create as a vendor", call(t, st, "POST", "/users", `{"name":"x","password":"long enough"}`, simon), 403)
	want(t, "no credentials", call(t, st, "GET", "/users", "", nil), 401)

	// Paging: 4 users (carol, paul1234, root, simon0897), two at a time, by name.
	var names []string
	next := "/users?limit=2"
	for pages := 0; next != ""; pages++ {
		if pages > 3 {
			t.Fatal("paging does not end")
		}
		r := call(t, st, "GET", next, "", root)
		want(t, "list", r, 200)
		var list []map[string]any
		list, next = items(t, r)
		for _, u := range list {
			names = append(names, u["name"].(string))
		}
		if next != "" && r.Header.Get("Link") != "<"+next+`>; rel="next"` {
			t.Fatalf("Link: %q", r.Header.Get("Link"))
		}
	}
	if strings.Join(names, " ") != "carol paul1234 root simon0897" {
		t.Fatalf("every user, paged: %v", names)
	}
	if l, _ := items(t, call(t, st, "GET", "/users?admin=true", "", root)); len(l) != 1 || l[0]["name"] != "root" {
		t.Fatalf("admins: %v", l)
	}
	for _, bad := range []string{"?limit=0", "?limit=501", "?cursor=***", "?cursor=bm90IGpzb24", "?admin=maybe"} {
		want(t, "list "+bad, call(t, st, "GET", "/users"+bad, "", root), 400)
	}

	// Edit with If-Match: 428 without, 412 when stale, 200 with the ETag read.
	get := call(t, st, "GET", "/users/carol", "", root)
	etag := get.Header.Get("ETag")
	want(t, "patch without If-Match", call(t, st, "PATCH", "/users/carol", `{"admin":true}`, root), 428)
	want(t, "patch with a wrong ETag", call(t, st, "PATCH", "/users/carol", `{"admin":true}`, root, "If-Match", `"nope"`), 412)
	r = call(t, st, "PATCH", "/users/carol", `{"admin":true}`, root, "If-Match", etag)
	want(t, "promote", r, 200)
	if r.JSON(t)["admin"] != true || r.Header.Get("ETag") == etag {
		t.Fatalf("promoted: %s %v", r.Body, r.Header)
	}
	want(t, "a second admin's stale edit", call(t, st, "PATCH", "/users/carol", `{"disabled":true}`, root, "If-Match", etag), 412)
	if u, _ := st.Store.GetUser(t.Context(), "carol"); !u.Admin || u.Disabled {
		t.Fatalf("carol after a refused edit: %+v", u)
	}
	want(t, "disable yourself", call(t, st, "PATCH", "/users/root", `{"disabled":true}`, root, "If-Match", "*"), 409)
	want(t, "patch nobody", call(t, st, "PATCH", "/users/nobody", `{"admin":true}`, root, "If-Match", "*"), 404)
	want(t, "patch a bad body", call(t, st, "PATCH", "/users/carol", `{"admin":"yes"}`, root, "If-Match", "*"), 400)

	// A new password works at once and ends the sessions; disabling ends every token.
	tok, sess, _ := st.SignIn(t, "simon0897", "s3cret", "")
	r = call(t, st, "PUT", "/users/simon0897/password", `{"password":"brand new pw"}`, root)
	want(t, "passwd", r, 200)
	if r.JSON(t)["sessions_ended"] != float64(1) {
		t.Fatalf("passwd: %s", r.Body)
	}
	if v := st.Verify(t, tok, sess); v.Status != 401 {
		t.Fatalf("a token of an ended session: %d", v.Status)
	}
	want(t, "weak password", call(t, st, "PUT", "/users/simon0897/password", `{"password":"x"}`, root), 400)
	want(t, "old password", call(t, st, "GET", "/me", "", simon), 401)
	want(t, "new password", call(t, st, "GET", "/me", "", map[string]string{"Authorization": servertest.Basic("simon0897", "brand new pw")}), 200)

	// Delete: a vendor is refused, carol goes.
	want(t, "delete a vendor", call(t, st, "DELETE", "/users/paul1234", "", root), 409)
	want(t, "delete yourself", call(t, st, "DELETE", "/users/root", "", root), 409)
	want(t, "delete", call(t, st, "DELETE", "/users/carol", "", root), 204)
	want(t, "get deleted", call(t, st, "GET", "/users/carol", "", root), 404)
	want(t, "delete again", call(t, st, "DELETE", "/users/carol", "", root), 404)

	var actions []string
	for _, e := range st.AuditLog(t) {
		if e.Actor == "root" {
			actions = append(actions, e.Action+" "+e.Subject)
		}
	}
	slices.Reverse(actions)
	if got := strings.Join(actions, ", "); got != "user.add carol, user.promote carol, user.passwd simon0897, user.delete carol" {
		t.Fatalf("audit by root: %s", got)
	}
}

// createToken makes an admin API token over the API as who.
func createToken(t *testing.T, st *servertest.CLStack, who map[string]string, body string) (string, string) {
	t.Helper()
	r := call(t, st, "POST", "/admin-tokens", body, who)
	want(t, "create token "+body, r, 201)
	m := r.JSON(t)
	if !strings.HasPrefix(m["token"].(string), "tmat_") || r.Header.Get("Location") != "/admin/v1/admin-tokens/"+m["id"].(string) {
		t.Fatalf("token: %s %v", r.Body, r.Header)
	}
	return m["token"].(string), m["id"].(string)
}

func TestAdminTokens(t *testing.T) {
	st := newStack(t)
	rw, rwID := createToken(t, st, root, `{"name":"ci","lifetime_days":1}`)
	ro, _ := createToken(t, st, root, `{"name":"dashboard","read_only":true}`)
	narrowed, _ := createToken(t, st, root, `{"vendor":"paul1234"}`)

	me := call(t, st, "GET", "/me", "", bearer(rw))
	want(t, "me", me, 200)
	if m := me.JSON(t); m["user"] != "root" || m["role"] != "operator" || m["token_id"] != rwID || m["read_only"] != false {
		t.Fatalf("me: %s", me.Body)
	}
	want(t, "read-write token creates", call(t, st, "POST", "/users", `{"name":"erin","password":"long enough"}`, bearer(rw)), 201)
	want(t, "read-only token reads", call(t, st, "GET", "/users", "", bearer(ro)), 200)
	want(t, "read-only token writes", call(t, st, "POST", "/users", `{"name":"fay","password":"long enough"}`, bearer(ro)), 403)
	want(t, "read-only token on the older routes", call(t, st, "DELETE", "/sessions/x", "", bearer(ro)), 403)
	want(t, "read-only token reads the older routes", call(t, st, "GET", "/tokens", "", bearer(ro)), 200)

	// A token narrowed to a vendor: that vendor's objects only, no operator routes.
	want(t, "narrowed: users", call(t, st, "GET", "/users", "", bearer(narrowed)), 403)
	want(t, "narrowed: older routes", call(t, st, "GET", "/tokens", "", bearer(narrowed)), 403)
	want(t, "narrowed: another vendor's product", call(t, st, "GET", fmt.Sprintf("/products/%d", st.Product.ID), "", bearer(narrowed)), 404)
	if l, _ := items(t, call(t, st, "GET", "/vendors", "", bearer(narrowed))); len(l) != 1 || l[0]["name"] != "paul1234" {
		t.Fatalf("narrowed: vendors %v", l)
	}

	// A vendor account makes its own tokens, narrowed to itself; nobody else's vendor.
	vt, vtID := createToken(t, st, paul, `{"name":"paul's"}`)
	if m := call(t, st, "GET", "/me", "", bearer(vt)).JSON(t); m["role"] != "vendor" || m["vendor"] != "paul1234" {
		t.Fatalf("vendor token: %v", m)
	}
	want(t, "a vendor's token for another vendor", call(t, st, "POST", "/admin-tokens", `{"vendor":"simon0897"}`, paul), 404)
	if l, _ := items(t, call(t, st, "GET", "/admin-tokens", "", paul)); len(l) != 1 || l[0]["id"] != vtID {
		t.Fatalf("paul's tokens: %v", l)
	}
	if l, _ := items(t, call(t, st, "GET", "/admin-tokens?limit=2", "", root)); len(l) != 2 {
		t.Fatalf("every token, a page of 2: %v", l)
	}
	for _, bad := range []string{`{"lifetime_days":400}`, `{"lifetime_days":-1}`, `{"name":"` + strings.Repeat("x", 101) + `"}`, `{"read_only":"no"}`} {
		want(t, "create "+bad, call(t, st, "POST", "/admin-tokens", bad, root), 400)
	}

	// Malformed, unknown, forged, revoked, expired: 401 alike.
	forged := rw[:len(rw)-4] + "AAAA"
	for name, tok := range map[string]string{"malformed": "tmat_x", "unknown": "tmat_0000000000000000_" + strings.Repeat("A", 43), "forged": forged} {
		want(t, name+" token", call(t, st, "GET", "/me", "", bearer(tok)), 401)
	}
	want(t, "revoke", call(t, st, "DELETE", "/admin-tokens/"+vtID, "", paul), 204)
	want(t, "revoked token", call(t, st, "GET", "/me", "", bearer(vt)), 401)
	if r := call(t, st, "GET", "/admin-tokens/"+vtID, "", root); r.JSON(t)["revoked_at"] == nil {
		t.Fatalf("revoked token's record: %s", r.Body)
	}
	st.Clock.Add(25 * time.Hour)
	want(t, "expired token", call(t, st, "GET", "/me", "", bearer(rw)), 401)
	want(t, "unexpired token", call(t, st, "GET", "/me", "", bearer(ro)), 200)

	// Stored as hashes only.
	list, err := st.Store.ListAdminTokens(t.Context(), "", 0)
	if err != nil || len(list) != 4 {
		t.Fatalf("stored: %d %v", len(list), err)
	}
	for _, s := range list {
		if strings.Contains(rw, string(s.SecretHash)) || len(s.SecretHash) != 32 {
			t.Fatalf("a token stored as %x", s.SecretHash)
		}
	}
	// A change made with a token names it in the audit log.
	found := false
	for _, e := range st.AuditLog(t) {
		if e.Action == "user.add" && e.Subject == "erin" {
			found = e.Actor == "root" && strings.Contains(e.Detail, "admintoken="+rwID)
		}
	}
	if !found {
		t.Fatal("the audit event of a change made with a token does not name the token")
	}
}

func TestProducts(t *testing.T) {
	st := newStack(t)
	r := call(t, st, "POST", "/products", `{"name":"Editor"}`, simon)
	want(t, "create", r, 201)
	p := r.JSON(t)
	id := int64(p["id"].(float64))
	path := fmt.Sprintf("/products/%d", id)
	if p["vendor"] != "simon0897" || r.Header.Get("Location") != "/admin/v1"+path {
		t.Fatalf("create: %s %v", r.Body, r.Header)
	}
	want(t, "create for nobody", call(t, st, "POST", "/products", `{"name":"X","vendor":"nobody"}`, root), 404)
	want(t, "create without a vendor as the operator", call(t, st, "POST", "/products", `{"name":"X"}`, root), 400)
	want(t, "create without a name", call(t, st, "POST", "/products", `{"name":" "}`, simon), 400)

	if l, _ := items(t, call(t, st, "GET", "/products?name=edit", "", root)); len(l) != 1 || l[0]["name"] != "Editor" {
		t.Fatalf("by name: %v", l)
	}
	if l, next := items(t, call(t, st, "GET", "/products?limit=1", "", simon)); len(l) != 1 || next == "" {
		t.Fatalf("page of 1: %v %q", l, next)
	} else if l2, next2 := items(t, call(t, st, "GET", next, "", simon)); len(l2) != 1 || next2 != "" || l2[0]["id"] == l[0]["id"] {
		t.Fatalf("second page: %v %q", l2, next2)
	}

	etag := call(t, st, "GET", path, "", simon).Header.Get("ETag")
	r = call(t, st, "PATCH", path, `{"name":"Editor Pro","block_expired":true}`, simon, "If-Match", etag)
	want(t, "edit", r, 200)
	if m := r.JSON(t); m["name"] != "Editor Pro" || m["block_expired"] != true {
		t.Fatalf("edited: %s", r.Body)
	}
	etag = r.Header.Get("ETag")
	// allow_activation_management: off by default, set by PATCH under If-Match (the old ETag is stale after),
	// and at creation.
	if m := r.JSON(t); m["allow_activation_management"] != false {
		t.Fatalf("allow_activation_management by default: %s", r.Body)
	}
	r = call(t, st, "PATCH", path, `{"allow_activation_management":true}`, simon, "If-Match", etag)
	want(t, "allow activation management", r, 200)
	if m := r.JSON(t); m["allow_activation_management"] != true || m["name"] != "Editor Pro" {
		t.Fatalf("allow activation management: %s", r.Body)
	}
	want(t, "an edit with the ETag from before", call(t, st, "PATCH", path, `{"allow_activation_management":false}`, simon, "If-Match", etag), 412)
	want(t, "allow_activation_management not a boolean", call(t, st, "PATCH", path, `{"allow_activation_management":"yes"}`, simon, "If-Match", "*"), 400)
	etag = r.Header.Get("ETag")
	if m := call(t, st, "GET", path, "", simon).JSON(t); m["allow_activation_management"] != true {
		t.Fatalf("read back: %v", m)
	}
	if r := call(t, st, "POST", "/products", `{"name":"Managed","allow_activation_management":true}`, simon); r.Status != 201 || r.JSON(t)["allow_activation_management"] != true {
		t.Fatalf("create with allow_activation_management: %d %s", r.Status, r.Body)
	}
	want(t, "rotate", call(t, st, "POST", path+"/rotate-key", "", simon), 200)
	want(t, "an edit over a rotation", call(t, st, "PATCH", path, `{"name":"Y"}`, simon, "If-Match", etag), 412)
	want(t, "edit a bad name", call(t, st, "PATCH", path, `{"name":""}`, simon, "If-Match", "*"), 400)

	r = call(t, st, "GET", path+"/public-key", "", simon)
	want(t, "public key", r, 200)
	pk := r.JSON(t)
	pub := servertest.ParseRSAKeyValue(t, pk["rsa_key_value"].(string))
	if pub.N.BitLen() != 2048 || !strings.HasPrefix(pk["pem"].(string), "-----BEGIN PUBLIC KEY-----") {
		t.Fatalf("public key: %s", r.Body)
	}
	if r := call(t, st, "GET", path+"/public-key?format=pem", "", simon); r.Body != pk["pem"] || r.Header.Get("Content-Type") != "application/x-pem-file" {
		t.Fatalf("PEM: %s", r.Body)
	}
	if r := call(t, st, "GET", path+"/public-key?format=xml", "", simon); strings.TrimSpace(r.Body) != pk["rsa_key_value"] {
		t.Fatalf("XML: %s", r.Body)
	}
	want(t, "public key in a bad format", call(t, st, "GET", path+"/public-key?format=der", "", simon), 400)

	// Delete: refused while keys remain, forced takes them along.
	k := st.NewKeyIn(t, id, license.KeySpec{})
	r = call(t, st, "DELETE", path, "", simon)
	want(t, "delete with a key", r, 409)
	if !strings.Contains(r.Body, "1 license key") {
		t.Fatalf("the refusal does not say why: %s", r.Body)
	}
	want(t, "bad force", call(t, st, "DELETE", path+"?force=please", "", simon), 400)
	r = call(t, st, "DELETE", path+"?force=true", "", simon)
	want(t, "forced delete", r, 200)
	if r.JSON(t)["keys"] != float64(1) {
		t.Fatalf("forced delete: %s", r.Body)
	}
	if _, err := st.Store.GetLicenseKey(t.Context(), id, k.Key); err == nil {
		t.Fatal("the key outlived its product")
	}
	want(t, "get deleted", call(t, st, "GET", path, "", simon), 404)
	want(t, "bad id", call(t, st, "GET", "/products/x1", "", simon), 404)
}

// TestTenancy drives every vendor-scoped route as one vendor against another vendor's objects: each answers
// 404, with the very body a missing object gets, so that nothing tells whether the object exists.
func TestTenancy(t *testing.T) {
	st := newStack(t)
	_, simonTok := createToken(t, st, simon, `{}`)
	other := fmt.Sprintf("/products/%d", st.Product.ID) // simon0897's
	theirKey := st.NewKey(t, license.KeySpec{MaxNoOfMachines: 1}).Key
	if _, err := st.Svc.Activate(t.Context(), license.Admin(), license.ActivateRequest{ProductID: st.Product.ID, Key: theirKey, MachineCode: "m1"}); err != nil {
		t.Fatal(err)
	}
	const missing = "/products/999999"
	for _, c := range []struct{ method, path, body string }{
		{"GET", "%s", ""},
		{"PATCH", "%s", `{"name":"mine now"}`},
		{"DELETE", "%s", ""},
		{"DELETE", "%s?force=true", ""},
		{"POST", "%s/rotate-key", ""},
		{"GET", "%s/public-key", ""},
		{"GET", "%s/public-key?format=pem", ""},
		// License keys: the key exists in simon0897's product, and is missing from the other.
		{"GET", "%s/keys", ""},
		{"GET", "%s/keys?key-prefix=A", ""},
		{"POST", "%s/keys", `{}`},
		{"POST", "%s/keys", `{"count":3}`},
		{"GET", "%s/keys/" + theirKey, ""},
		{"PATCH", "%s/keys/" + theirKey, `{"blocked":true}`},
		{"POST", "%s/keys/" + theirKey + "/extend", `{"days":1}`},
		{"GET", "%s/keys/" + theirKey + "/activations", ""},
		{"DELETE", "%s/keys/" + theirKey + "/activations/m1", ""},
		{"DELETE", "%s/keys/" + theirKey, ""},
		{"DELETE", "%s/keys/" + theirKey + "?force=true", ""},
	} {
		theirs := call(t, st, c.method, fmt.Sprintf(c.path, other), c.body, paul, "If-Match", "*")
		none := call(t, st, c.method, fmt.Sprintf(c.path, missing), c.body, paul, "If-Match", "*")
		want(t, c.method+" "+c.path+" of another vendor", theirs, 404)
		if theirs.Body != none.Body {
			t.Errorf("%s %s: another vendor's answer %q differs from a missing one's %q", c.method, c.path, theirs.Body, none.Body)
		}
	}
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/vendors/simon0897", ""},
		{"GET", "/admin-tokens/" + simonTok, ""},
		{"DELETE", "/admin-tokens/" + simonTok, ""},
		{"POST", "/products", `{"name":"X","vendor":"simon0897"}`},
		{"POST", "/admin-tokens", `{"vendor":"simon0897"}`},
	} {
		want(t, c.method+" "+c.path+" as another vendor", call(t, st, c.method, c.path, c.body, paul), 404)
	}
	// Lists hold only the vendor's own.
	for _, path := range []string{"/products", "/products?vendor=simon0897", "/vendors", "/admin-tokens", "/audit", "/audit?subject=simon0897"} {
		l, _ := items(t, call(t, st, "GET", path, "", paul))
		for _, it := range l {
			b, _ := json.Marshal(it)
			if strings.Contains(string(b), "simon0897") {
				t.Errorf("%s as paul1234 shows %s", path, b)
			}
		}
	}
	if p, err := st.Store.GetProduct(t.Context(), st.Product.ID); err != nil || p.Name != st.Product.Name {
		t.Fatalf("simon0897's product after paul1234's tries: %+v %v", p, err)
	}
	if ks, err := st.Store.ListLicenseKeys(t.Context(), st.Product.ID); err != nil || len(ks) != 1 || ks[0].Blocked {
		t.Fatalf("simon0897's keys after paul1234's tries: %+v %v", ks, err)
	}
	if acts, err := st.Store.ListActivations(t.Context(), mustKey(t, st, theirKey).GlobalID); err != nil || len(acts) != 1 {
		t.Fatalf("simon0897's activation after paul1234's tries: %v %v", acts, err)
	}
	// Operator-only routes: 403 to a vendor, whatever the object.
	for _, path := range []string{"/users", "/users/root", "/token-keys", "/tokens", "/sessions"} {
		want(t, "GET "+path+" as a vendor", call(t, st, "GET", path, "", paul), 403)
	}
	// A plain user is neither.
	st.Store.CreateUser(t.Context(), storage.User{Name: "plain", PasswordHash: mustHash(t)})
	want(t, "a plain user", call(t, st, "GET", "/me", "", map[string]string{"Authorization": servertest.Basic("plain", "plain pass")}), 403)
}

func mustKey(t *testing.T, st *servertest.CLStack, key string) storage.LicenseKey {
	k, err := st.Store.GetLicenseKey(t.Context(), st.Product.ID, key)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustHash(t *testing.T) string {
	h, err := authHash("plain pass")
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestVendorsAndTokenKeys(t *testing.T) {
	st := newStack(t)
	want(t, "make a user", call(t, st, "POST", "/users", `{"name":"gina","password":"long enough"}`, root), 201)
	r := call(t, st, "POST", "/vendors", `{"user":"gina"}`, root)
	want(t, "vendor", r, 201)
	if r.Header.Get("Location") != "/admin/v1/vendors/gina" {
		t.Fatalf("vendor: %v", r.Header)
	}
	want(t, "vendor twice", call(t, st, "POST", "/vendors", `{"user":"gina"}`, root), 409)
	want(t, "vendor of nobody", call(t, st, "POST", "/vendors", `{"user":"nobody"}`, root), 400)
	want(t, "vendor without a user", call(t, st, "POST", "/vendors", `{}`, root), 400)
	want(t, "a vendor makes vendors", call(t, st, "POST", "/vendors", `{"user":"root"}`, simon), 403)
	want(t, "get vendor", call(t, st, "GET", "/vendors/gina", "", root), 200)
	want(t, "get nobody", call(t, st, "GET", "/vendors/nobody", "", root), 404)
	if l, _ := items(t, call(t, st, "GET", "/vendors?prefix=g", "", root)); len(l) != 1 {
		t.Fatalf("vendors by prefix: %v", l)
	}

	// The token key ring: list, retire the primary (409), retire unknown (404). Rotation needs the keyring,
	// which the command line's serve wires (see the e2e tests).
	r = call(t, st, "GET", "/token-keys", "", root)
	want(t, "token keys", r, 200)
	if l, _ := items(t, r); len(l) != 1 || l[0]["id"] != storage.OriginalTokenKey || l[0]["state"] != "primary" {
		t.Fatalf("token keys: %v", l)
	}
	want(t, "retire unknown", call(t, st, "POST", "/token-keys/nope/retire", "", root), 404)
}

func TestAuditLog(t *testing.T) {
	st := newStack(t)
	for i := range 5 {
		want(t, "create", call(t, st, "POST", "/users", fmt.Sprintf(`{"name":"u%d","password":"long enough"}`, i), root), 201)
	}
	want(t, "a vendor's product", call(t, st, "POST", "/products", `{"name":"Mine"}`, paul), 201)
	st.AuditLog(t) // flushed
	var got []string
	next := "/audit?action=user.&limit=2"
	for pages := 0; next != ""; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		r := call(t, st, "GET", next, "", root)
		want(t, "audit", r, 200)
		var l []map[string]any
		l, next = items(t, r)
		for _, e := range l {
			got = append(got, e["subject"].(string))
		}
	}
	if strings.Join(got, " ") != "u4 u3 u2 u1 u0" {
		t.Fatalf("user events, newest first, paged: %v", got)
	}
	if l, _ := items(t, call(t, st, "GET", "/audit?until=2000-01-01T00:00:00Z", "", root)); len(l) != 0 {
		t.Fatalf("events before 2000: %v", l)
	}
	l, _ := items(t, call(t, st, "GET", "/audit", "", paul))
	// paul1234's own product, recorded once, by the licensing core, with the acting account and its address; and
	// the operator making paul1234 a vendor (its subject).
	if len(l) != 2 || l[0]["action"] != "license.product.create" || l[0]["actor"] != "paul1234" || l[0]["client_host"] != "127.0.0.1" ||
		l[1]["action"] != "license.vendor.add" {
		t.Fatalf("paul1234's audit log: %v", l)
	}
	for _, bad := range []string{"?since=yesterday", "?cursor=e30", "?limit=1000", "?action=" + strings.Repeat("a", 201)} {
		want(t, "audit "+bad, call(t, st, "GET", "/audit"+bad, "", root), 400)
	}
}

// TestOpenAPIDescribesEveryRoute: every route of /admin/v1 on a server with every surface has its operation in
// the document, and the document has nothing the server does not serve.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	st := newStack(t)
	r := call(t, st, "GET", "/openapi.json", "", nil)
	if r.Status != 200 || !strings.Contains(r.Body, `"openapi":"3.1.0"`) {
		t.Fatalf("openapi.json: %d %.100s", r.Status, r.Body)
	}
	var doc struct {
		Paths map[string]map[string]any
	}
	if err := json.Unmarshal([]byte(r.Body), &doc); err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for m := range ops {
			documented[strings.ToUpper(m)+" "+path] = true
		}
	}
	served := map[string]bool{}
	for _, rt := range allRoutes(t) {
		served[rt] = true
		if !documented[rt] {
			t.Errorf("%s is served but not in the OpenAPI document", rt)
		}
	}
	for op := range documented {
		if !served[op] {
			t.Errorf("%s is in the OpenAPI document but not served", op)
		}
	}
}

func authHash(pw string) (string, error) { return auth.HashPassword(pw, servertest.Cheap) }

// allRoutes are the /admin/v1 routes of a server with every surface wired: those the tenancy sweep drives.
func allRoutes(t *testing.T) []string { return newFullStack(t).Server.AdminRoutes() }
