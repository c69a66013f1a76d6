package server_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/keys"
	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/license/woo"
	"github.com/tokenmanager/tokenmanager/server"
	"github.com/tokenmanager/tokenmanager/storage"
)

// licStackKey is the RSA key of every product these tests make: generating RSA-2048 is slow under -race.
var licStackKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// licEnv is the licensing core of a test stack, filled in when the stack starts.
type licEnv struct {
	Svc *license.Service
	Woo *woo.Service
}

// withLicenseStack wires the licensing core (and the WooCommerce layer, its tokens living wooTTL) into the
// stack, on the stack's store and clock.
func withLicenseStack(env *licEnv, wooTTL time.Duration) option {
	return func(su *setup) {
		su.wire = append(su.wire, func(st *stack, d *server.Deps) {
			env.Svc = license.New(st.Store, keys.NewSealerFor(serverKey, keys.PurposeLicenseSigningKeys),
				license.Options{Now: st.Clock.Now, GenerateKey: func() (*rsa.PrivateKey, error) { return licStackKey(), nil }})
			env.Woo = woo.New(env.Svc, st.Store, woo.Options{TokenLifetime: wooTTL})
			d.License, d.Woo = env.Svc, env.Woo
		})
	}
}

const (
	wooBase      = "/wp-json/woo-license-keys/v1/"
	wooAjax      = "/wp-admin/admin-ajax.php"
	wooStoreCode = "simons-store-code"
	wooSKU       = "ED-PRO"
)

// wooStack is a stack with simon0897 as a vendor selling one product in one store.
type wooStack struct {
	*stack
	env   *licEnv
	store storage.WooStore
	prod  storage.Product
}

func newWooStack(t *testing.T, spec woo.StoreSpec, opts ...option) *wooStack {
	t.Helper()
	env := &licEnv{}
	st := newStack(t, append(opts, withLicenseStack(env, 10*time.Minute))...)
	ctx := context.Background()
	if err := env.Svc.AddVendor(ctx, "simon0897"); err != nil {
		t.Fatal(err)
	}
	p, err := env.Svc.CreateProduct(ctx, license.Admin(), "simon0897", license.ProductSpec{Name: "Editor"})
	if err != nil {
		t.Fatal(err)
	}
	if spec.Code == "" {
		spec.Code = wooStoreCode
	}
	ws, err := env.Woo.CreateStore(ctx, license.Admin(), "simon0897", spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Woo.SetSKU(ctx, license.Admin(), ws.ID, wooSKU, p.ID, false); err != nil {
		t.Fatal(err)
	}
	return &wooStack{stack: st, env: env, store: ws, prod: p}
}

func (w *wooStack) key(t *testing.T, spec license.KeySpec) storage.LicenseKey {
	t.Helper()
	k, err := w.env.Svc.CreateKey(context.Background(), license.Admin(), w.prod.ID, spec)
	if err != nil {
		t.Fatal(err)
	}
	return k.Key
}

// form encodes name/value pairs in the given order (url.Values would sort them).
func wooForm(kv ...string) string {
	var parts []string
	for i := 0; i+1 < len(kv); i += 2 {
		parts = append(parts, url.QueryEscape(kv[i])+"="+url.QueryEscape(kv[i+1]))
	}
	return strings.Join(parts, "&")
}

func (w *wooStack) post(t *testing.T, op, body string, header map[string]string) response {
	t.Helper()
	h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	for k, v := range header {
		h[k] = v
	}
	return do(t, "POST", w.URL+wooBase+op, body, h)
}

// params are the usual parameters for a key, domain and activation id (0: none).
func wooParamsFor(k storage.LicenseKey, domain string, id int64) []string {
	kv := []string{"store_code", wooStoreCode, "sku", wooSKU, "license_key", woo.Key(k), "domain", domain}
	if id != 0 {
		kv = append(kv, "activation_id", fmt.Sprint(id))
	}
	return kv
}

func wooWantBody(t *testing.T, what string, r response, status int, body string) {
	t.Helper()
	if r.Status != status || r.Body != body+"\n" {
		t.Fatalf("%s: HTTP %d %s\nwant HTTP %d %s", what, r.Status, r.Body, status, body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s: Content-Type %q", what, ct)
	}
}

func wooLicenseJSON(expire, id int64, key string) string {
	e, date, tz := "null", "null", "null"
	if expire != 0 {
		e = fmt.Sprint(expire)
		date = `"` + time.Unix(expire, 0).UTC().Format("2006-01-02 15:04") + `"`
		tz = `"UTC"`
	}
	return fmt.Sprintf(`{"expire":%s,"activation_id":%d,"expire_date":%s,"timezone":%s,"the_key":%q,"url":"","has_expired":false,"status":"active"}`,
		e, id, date, tz, key)
}

func TestWooRESTFlow(t *testing.T) {
	w := newWooStack(t, woo.StoreSpec{})
	k := w.key(t, license.KeySpec{MaxNoOfMachines: 1})
	id := w.Clock.Now().Unix()
	wk := woo.Key(k)

	r := w.post(t, "activate", wooForm(wooParamsFor(k, "https://example.com", 0)...), nil)
	wooWantBody(t, "activate", r, 200, `{"error":false,"status":200,"message":"License Key activated successfully.","data":`+wooLicenseJSON(0, id, wk)+`}`)

	w.Clock.Add(time.Hour)
	r = w.post(t, "validate", wooForm(wooParamsFor(k, "https://example.com", id)...), nil)
	wooWantBody(t, "validate", r, 200, `{"error":false,"status":200,"message":"License Key is valid.","data":`+wooLicenseJSON(0, id, wk)+`}`)

	// The PHP client's JPOST: a JSON body with the activation id as a number.
	body, _ := json.Marshal(map[string]any{"store_code": wooStoreCode, "sku": wooSKU, "license_key": wk,
		"domain": "https://example.com", "activation_id": id})
	r = do(t, "POST", w.URL+wooBase+"validate", string(body), map[string]string{"Content-Type": "application/json"})
	wooWantBody(t, "validate, JSON body", r, 200, `{"error":false,"status":200,"message":"License Key is valid.","data":`+wooLicenseJSON(0, id, wk)+`}`)

	// A query string works too (WordPress merges GET and POST parameters).
	r = do(t, "GET", w.URL+wooBase+"validate?"+wooForm(wooParamsFor(k, "https://example.com", id)...), "", nil)
	wooWantBody(t, "validate, GET", r, 200, `{"error":false,"status":200,"message":"License Key is valid.","data":`+wooLicenseJSON(0, id, wk)+`}`)

	r = w.post(t, "deactivate", wooForm(wooParamsFor(k, "https://example.com", id)...), nil)
	wooWantBody(t, "deactivate", r, 200, `{"error":false,"status":200,"message":"Activation has been deactivated."}`)

	r = w.post(t, "validate", wooForm(wooParamsFor(k, "https://example.com", id)...), nil)
	wooWantBody(t, "validate after deactivate", r, 500,
		`{"error":true,"status":500,"errors":{"activation_id":["Invalid activation."],"license_key":["Invalid license key."]}}`)

	// The seat is free again.
	r = w.post(t, "activate", wooForm(wooParamsFor(k, "other.example", 0)...), nil)
	if r.Status != 200 {
		t.Fatalf("activate after deactivate: %d %s", r.Status, r.Body)
	}
}

func TestWooRESTErrorCodes(t *testing.T) {
	w := newWooStack(t, woo.StoreSpec{})
	ctx := context.Background()
	k := w.key(t, license.KeySpec{MaxNoOfMachines: 1})
	other, err := w.env.Svc.CreateProduct(ctx, license.Admin(), "simon0897", license.ProductSpec{Name: "Viewer", BlockExpired: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.env.Woo.SetSKU(ctx, license.Admin(), w.store.ID, "VIEW", other.ID, false); err != nil {
		t.Fatal(err)
	}
	ck, err := w.env.Svc.CreateKey(ctx, license.Admin(), other.ID, license.KeySpec{Period: 1, MaxNoOfMachines: 1})
	if err != nil {
		t.Fatal(err)
	}
	expiring := ck.Key
	r := w.post(t, "activate", wooForm(wooParamsFor(k, "a.example", 0)...), nil)
	if r.Status != 200 {
		t.Fatal(r.Body)
	}
	var ok struct {
		Data struct {
			ActivationID int64 `json:"activation_id"`
		} `json:"data"`
	}
	json.Unmarshal([]byte(r.Body), &ok)
	r = w.post(t, "activate", wooForm("store_code", wooStoreCode, "sku", "VIEW", "license_key", woo.Key(expiring), "domain", "e.example"), nil)
	if r.Status != 200 {
		t.Fatal(r.Body)
	}
	w.Clock.Add(48 * time.Hour)

	wk := woo.Key(k)
	const invalidKey = `{"error":true,"status":500,"errors":{"license_key":["Invalid license key."]}}`
	cases := []struct {
		name, op string
		kv       []string
		body     string
	}{
		{"102 store_code empty", "activate", []string{"store_code", "", "sku", "", "license_key", ""},
			`{"error":true,"status":500,"errors":{"store_code":["Required."]}}`},
		{"101 license_key empty", "activate", []string{"store_code", "x", "sku", "", "license_key", ""},
			`{"error":true,"status":500,"errors":{"license_key":["Required."]}}`},
		{"wrong store code: as a key the store does not have (5)", "activate", []string{"store_code", "not-our-code", "sku", wooSKU, "license_key", wk},
			invalidKey},
		{"100 sku empty", "activate", []string{"store_code", wooStoreCode, "sku", "", "license_key", "x"},
			`{"error":true,"status":500,"errors":{"sku":["Required."]}}`},
		{"103 activation_id 0", "validate", []string{"activation_id", "0", "store_code", wooStoreCode, "sku", wooSKU, "license_key", "x"},
			`{"error":true,"status":500,"errors":{"activation_id":["Required."]}}`},
		{"2 format", "activate", []string{"store_code", wooStoreCode, "sku", wooSKU, "license_key", k.Key}, invalidKey},
		{"5 not found", "activate", []string{"store_code", wooStoreCode, "sku", wooSKU, "license_key", "ABCDE-987654"}, invalidKey},
		{"3 sku of another product", "activate", []string{"store_code", wooStoreCode, "sku", "VIEW", "license_key", wk}, invalidKey},
		{"202 limit", "activate", wooParamsFor(k, "b.example", 0),
			`{"error":true,"status":500,"errors":{"license_key":["License key domain activation limit reached. Deactivate one or more of the registered activations to proceed."]}}`},
		{"200 and 202 expired and full", "activate", []string{"store_code", wooStoreCode, "sku", "VIEW", "license_key", woo.Key(expiring), "domain", "f.example"},
			`{"error":true,"status":500,"errors":{"license_key":["License key has expired.","License key domain activation limit reached. Deactivate one or more of the registered activations to proceed."]}}`},
		{"200 and 203 expired, unknown activation", "validate", []string{"activation_id", "12", "store_code", wooStoreCode, "sku", "VIEW", "license_key", woo.Key(expiring), "domain", "e.example"},
			`{"error":true,"status":500,"errors":{"license_key":["License key has expired.","Invalid license key."],"activation_id":["Invalid activation."]}}`},
		{"203 deactivate unknown activation", "deactivate", wooParamsFor(k, "a.example", ok.Data.ActivationID+1),
			`{"error":true,"status":500,"errors":{"activation_id":["Invalid activation."],"license_key":["Invalid license key."]}}`},
		{"203 activation of another domain", "validate", wooParamsFor(k, "b.example", ok.Data.ActivationID),
			`{"error":true,"status":500,"errors":{"activation_id":["Invalid activation."],"license_key":["Invalid license key."]}}`},
	}
	for _, c := range cases {
		r := w.post(t, c.op, wooForm(c.kv...), nil)
		wooWantBody(t, c.name, r, 500, c.body)
	}

	// The same refusals keyed by code, for a store set so.
	byCode := true
	if _, err := w.env.Woo.UpdateStore(ctx, license.Admin(), w.store.ID, woo.StoreChange{ErrorsByCode: &byCode}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, op string
		kv       []string
		body     string
	}{
		{"3 by code", "activate", []string{"store_code", wooStoreCode, "sku", "VIEW", "license_key", wk},
			`{"error":true,"status":500,"errors":{"3":["Invalid license key."]}}`},
		{"5 by code", "activate", []string{"store_code", wooStoreCode, "sku", wooSKU, "license_key", "ABCDE-987654"},
			`{"error":true,"status":500,"errors":{"5":["Invalid license key."]}}`},
		{"200 and 203 by code", "deactivate", []string{"activation_id", "12", "store_code", wooStoreCode, "sku", "VIEW", "license_key", woo.Key(expiring), "domain", "e.example"},
			`{"error":true,"status":500,"errors":{"200":["License key has expired."],"203":["Invalid activation."]}}`},
	} {
		wooWantBody(t, c.name, w.post(t, c.op, wooForm(c.kv...), nil), 500, c.body)
	}
}

func TestWooRESTWordPressErrors(t *testing.T) {
	w := newWooStack(t, woo.StoreSpec{})
	k := w.key(t, license.KeySpec{})
	wooWantBody(t, "missing parameters", w.post(t, "validate", wooForm("sku", wooSKU), nil), 400,
		`{"code":"rest_missing_callback_param","message":"Missing parameter(s): activation_id, store_code, license_key","data":{"status":400,"params":["activation_id","store_code","license_key"]}}`)
	wooWantBody(t, "activation_id not numeric", w.post(t, "validate", wooForm(wooParamsFor(k, "a.example", 0)...)+"&activation_id=abc", nil), 400,
		`{"code":"rest_invalid_param","message":"Invalid parameter(s): activation_id","data":{"status":400,"params":{"activation_id":"Invalid parameter."}}}`)
	wooWantBody(t, "array parameter", w.post(t, "activate", "store_code[]=a&sku=x&license_key=y", nil), 400,
		`{"code":"rest_invalid_param","message":"Invalid parameter(s): store_code","data":{"status":400,"params":{"store_code":"Invalid parameter."}}}`)
	r := do(t, "POST", w.URL+wooBase+"activate", `{"store_code":5,"sku":"x","license_key":"y","domain":true}`, map[string]string{"Content-Type": "application/json"})
	wooWantBody(t, "JSON types", r, 400,
		`{"code":"rest_invalid_param","message":"Invalid parameter(s): store_code, domain","data":{"status":400,"params":{"store_code":"Invalid parameter.","domain":"Invalid parameter."}}}`)
	r = do(t, "POST", w.URL+wooBase+"activate", `{"store_code":`, map[string]string{"Content-Type": "application/json"})
	wooWantBody(t, "malformed JSON", r, 400, `{"code":"rest_invalid_json","message":"Invalid JSON body passed.","data":{"status":400}}`)
	for _, c := range []struct{ method, path string }{{"PUT", "activate"}, {"GET", "nope"}, {"DELETE", "token"}} {
		wooWantBody(t, c.method+" "+c.path, do(t, c.method, w.URL+wooBase+c.path, "", nil), 404,
			`{"code":"rest_no_route","message":"No route was found matching the URL and request method.","data":{"status":404}}`)
	}
	// Absint: a negative or fractional id is its absolute integer part; sanitize_text_field trims and folds.
	id := w.Clock.Now().Unix()
	if r := w.post(t, "activate", wooForm(wooParamsFor(k, "a.example", 0)...), nil); r.Status != 200 {
		t.Fatal(r.Body)
	}
	kv := []string{"activation_id", fmt.Sprintf("-%d.7", id), "store_code", " " + wooStoreCode + "\t", "sku", wooSKU,
		"license_key", woo.Key(k), "domain", "a.example"}
	if r := w.post(t, "validate", wooForm(kv...), nil); r.Status != 200 {
		t.Fatalf("validate with a sanitized id and store code: %d %s", r.Status, r.Body)
	}
	// Oversize bodies are refused before they are read.
	r = w.post(t, "activate", "store_code="+strings.Repeat("x", 70<<10), nil)
	if r.Status != 413 {
		t.Fatalf("oversize body: %d %s", r.Status, r.Body)
	}
}

func TestWooAjax(t *testing.T) {
	w := newWooStack(t, woo.StoreSpec{})
	k := w.key(t, license.KeySpec{MaxNoOfMachines: 1})
	id := w.Clock.Now().Unix()
	ajax := func(action string, kv ...string) response {
		return do(t, "POST", w.URL+wooAjax+"?action="+action, wooForm(kv...), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	}
	wooWantBody(t, "ajax activate", ajax("license_key_activate", wooParamsFor(k, "a.example", 0)...), 200,
		`{"error":false,"status":200,"message":"License Key activated successfully.","data":`+wooLicenseJSON(0, id, woo.Key(k))+`}`)
	wooWantBody(t, "ajax validate", ajax("license_key_validate", wooParamsFor(k, "a.example", id)...), 200,
		`{"error":false,"status":200,"message":"License Key is valid.","data":`+wooLicenseJSON(0, id, woo.Key(k))+`}`)
	// Errors come with HTTP 200; a missing activation_id is the plugin's "Required.", not WordPress's 400.
	wooWantBody(t, "ajax validate without activation_id", ajax("license_key_validate", wooParamsFor(k, "a.example", 0)...), 200,
		`{"error":true,"status":500,"errors":{"activation_id":["Required."]}}`)
	wooWantBody(t, "ajax validate with a non-numeric activation_id", ajax("license_key_validate", append(wooParamsFor(k, "a.example", 0), "activation_id", "abc")...), 200,
		`{"error":true,"status":500,"errors":{"activation_id":["Invalid activation."],"license_key":["Invalid license key."]}}`)
	wooWantBody(t, "ajax missing store code", ajax("license_key_activate", "license_key", "x"), 200,
		`{"error":true,"status":500,"errors":{"store_code":["Required."]}}`)
	// The action may come in the body as well, and GET works.
	r := do(t, "GET", w.URL+wooAjax+"?"+wooForm(append([]string{"action", "license_key_deactivate"}, wooParamsFor(k, "a.example", id)...)...), "", nil)
	wooWantBody(t, "ajax deactivate (GET)", r, 200, `{"error":false,"status":200,"message":"Activation has been deactivated."}`)
	r = do(t, "POST", w.URL+wooAjax, wooForm(append([]string{"action", "license_key_activate"}, wooParamsFor(k, "b.example", 0)...)...),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	if r.Status != 200 || !strings.Contains(r.Body, `"error":false`) {
		t.Fatalf("ajax activate with the action in the body: %d %s", r.Status, r.Body)
	}
	for _, action := range []string{"", "license_key_nope", "heartbeat"} {
		r := ajax(action)
		if r.Status != 400 || r.Body != "0" {
			t.Fatalf("action %q: %d %q, want WordPress's 400 \"0\"", action, r.Status, r.Body)
		}
	}
	// The token grant through Ajax.
	r = do(t, "GET", w.URL+wooAjax+"?"+wooForm("action", "license_key_token", "grant_type", "license_key", "license_key", woo.Key(k)), "", nil)
	var tok map[string]any
	if err := json.Unmarshal([]byte(r.Body), &tok); r.Status != 200 || err != nil || tok["token_type"] != "Bearer" || tok["expires"] != 600.0 {
		t.Fatalf("ajax token: %d %s", r.Status, r.Body)
	}
}

func TestWooTokenGrant(t *testing.T) {
	w := newWooStack(t, woo.StoreSpec{RequireToken: true})
	k := w.key(t, license.KeySpec{MaxNoOfMachines: 1})
	k2 := w.key(t, license.KeySpec{MaxNoOfMachines: 1})
	grant := func(key string) (response, string) {
		r := do(t, "GET", w.URL+wooBase+"token?"+wooForm("grant_type", "license_key", "license_key", key), "", nil)
		var body struct {
			AccessToken string `json:"access_token"`
			TokenType   string `json:"token_type"`
			Expires     int    `json:"expires"`
		}
		json.Unmarshal([]byte(r.Body), &body)
		if r.Status == 200 && (body.TokenType != "Bearer" || body.Expires != 600 || len(body.AccessToken) < 40 ||
			r.Body != fmt.Sprintf(`{"access_token":%q,"token_type":"Bearer","expires":600}`+"\n", body.AccessToken)) {
			t.Fatalf("token response %s", r.Body)
		}
		return r, body.AccessToken
	}
	r, tok := grant(woo.Key(k))
	if r.Status != 200 || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("token: %d %v %s", r.Status, r.Header, r.Body)
	}
	_, tok2 := grant(woo.Key(k2))

	r = do(t, "GET", w.URL+wooBase+"token?grant_type=password&license_key="+woo.Key(k), "", nil)
	wooWantBody(t, "wrong grant type", r, 500, `{"error":true,"status":500,"errors":{"grant_type":["Invalid grant type."]}}`)
	r, _ = grant("ABCDE-424242")
	wooWantBody(t, "token for an unknown key", r, 500, `{"error":true,"status":500,"errors":{"license_key":["Invalid license key."]}}`)

	act := wooForm(wooParamsFor(k, "a.example", 0)...)
	r = w.post(t, "activate", act, nil)
	wooWantBody(t, "no token", r, 401, `{"error":true,"status":401,"errors":{"authorization":["Access token required."]}}`)
	if got := r.Header.Get("WWW-Authenticate"); got != `Bearer realm="tokenmanager"` {
		t.Fatalf("WWW-Authenticate %q", got)
	}
	for name, h := range map[string]string{"garbage": "Bearer nope", "token of another key": "Bearer " + tok2} {
		r = w.post(t, "activate", act, map[string]string{"Authorization": h})
		wooWantBody(t, name, r, 401, `{"error":true,"status":401,"errors":{"authorization":["Invalid access token."]}}`)
	}
	r = w.post(t, "activate", act, map[string]string{"Authorization": basic("simon0897", "s3cret")})
	wooWantBody(t, "Basic instead of Bearer", r, 401, `{"error":true,"status":401,"errors":{"authorization":["Access token required."]}}`)
	if got := r.Header.Get("WWW-Authenticate"); got != `Bearer realm="tokenmanager"` {
		t.Fatalf("WWW-Authenticate after Basic: %q", got)
	}
	r = w.post(t, "activate", act, map[string]string{"Authorization": "Bearer " + tok2})
	if got := r.Header.Get("WWW-Authenticate"); got != `Bearer realm="tokenmanager", error="invalid_token"` {
		t.Fatalf("WWW-Authenticate for an invalid token: %q", got)
	}

	bearer := map[string]string{"Authorization": "Bearer " + tok}
	id := w.Clock.Now().Unix()
	if r := w.post(t, "activate", act, bearer); r.Status != 200 {
		t.Fatalf("activate with the key's token: %d %s", r.Status, r.Body)
	}
	val := wooForm(wooParamsFor(k, "a.example", id)...)
	if r := w.post(t, "validate", val, bearer); r.Status != 200 {
		t.Fatalf("validate with the key's token: %d %s", r.Status, r.Body)
	}
	// The token lives its lifetime, then is refused.
	w.Clock.Add(10*time.Minute - time.Second)
	if r := w.post(t, "validate", val, bearer); r.Status != 200 {
		t.Fatalf("validate just before expiry: %d %s", r.Status, r.Body)
	}
	w.Clock.Add(time.Second)
	wooWantBody(t, "expired token", w.post(t, "validate", val, bearer), 401,
		`{"error":true,"status":401,"errors":{"authorization":["Invalid access token."]}}`)
	_, fresh := grant(woo.Key(k))
	if r := w.post(t, "deactivate", val, map[string]string{"Authorization": "Bearer " + fresh}); r.Status != 200 {
		t.Fatalf("deactivate with a fresh token: %d %s", r.Status, r.Body)
	}
	// Through Ajax the refusal comes with HTTP 200, like every Ajax answer.
	r = do(t, "POST", w.URL+wooAjax+"?action=license_key_activate", act, map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	wooWantBody(t, "ajax without token", r, 200, `{"error":true,"status":401,"errors":{"authorization":["Access token required."]}}`)
}

func TestWooTokenNotRequired(t *testing.T) {
	w := newWooStack(t, woo.StoreSpec{})
	k := w.key(t, license.KeySpec{MaxNoOfMachines: 1})
	// A store that does not require tokens ignores whatever Authorization comes along.
	r := w.post(t, "activate", wooForm(wooParamsFor(k, "a.example", 0)...), map[string]string{"Authorization": "Bearer whatever"})
	if r.Status != 200 {
		t.Fatalf("activate without token requirement: %d %s", r.Status, r.Body)
	}
}
