package woocommerce_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/license/woo"
	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
)

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
	w := servertest.NewWooStack(t, woo.StoreSpec{})
	k := w.Key(t, license.KeySpec{MaxNoOfMachines: 1})
	id := w.Clock.Now().Unix()
	wk := woo.Key(k)

	r := w.Post(t, "activate", servertest.WooForm(servertest.WooParamsFor(k, "https://example.com", 0)...), nil)
	servertest.WooWantBody(t, "activate", r, 200, `{"error":false,"status":200,"message":"License Key activated successfully.","data":`+wooLicenseJSON(0, id, wk)+`}`)

	w.Clock.Add(time.Hour)
	r = w.Post(t, "validate", servertest.WooForm(servertest.WooParamsFor(k, "https://example.com", id)...), nil)
	servertest.WooWantBody(t, "validate", r, 200, `{"error":false,"status":200,"message":"License Key is valid.","data":`+wooLicenseJSON(0, id, wk)+`}`)

	// The PHP client's JPOST: a JSON body with the activation id as a number.
	body, _ := json.Marshal(map[string]any{"store_code": servertest.WooStoreCode, "sku": servertest.WooSKU, "license_key": wk,
		"domain": "https://example.com", "activation_id": id})
	r = servertest.Do(t, "POST", w.URL+servertest.WooBase+"validate", string(body), map[string]string{"Content-Type": "application/json"})
	servertest.WooWantBody(t, "validate, JSON body", r, 200, `{"error":false,"status":200,"message":"License Key is valid.","data":`+wooLicenseJSON(0, id, wk)+`}`)

	// A query string works too (WordPress merges GET and POST parameters).
	r = servertest.Do(t, "GET", w.URL+servertest.WooBase+"validate?"+servertest.WooForm(servertest.WooParamsFor(k, "https://example.com", id)...), "", nil)
	servertest.WooWantBody(t, "validate, GET", r, 200, `{"error":false,"status":200,"message":"License Key is valid.","data":`+wooLicenseJSON(0, id, wk)+`}`)

	r = w.Post(t, "deactivate", servertest.WooForm(servertest.WooParamsFor(k, "https://example.com", id)...), nil)
	servertest.WooWantBody(t, "deactivate", r, 200, `{"error":false,"status":200,"message":"Activation has been deactivated."}`)

	r = w.Post(t, "validate", servertest.WooForm(servertest.WooParamsFor(k, "https://example.com", id)...), nil)
	servertest.WooWantBody(t, "validate after deactivate", r, 500,
		`{"error":true,"status":500,"errors":{"activation_id":["Invalid activation."],"license_key":["Invalid license key."]}}`)

	// The seat is free again.
	r = w.Post(t, "activate", servertest.WooForm(servertest.WooParamsFor(k, "other.example", 0)...), nil)
	if r.Status != 200 {
		t.Fatalf("activate after deactivate: %d %s", r.Status, r.Body)
	}
}

func TestWooRESTErrorCodes(t *testing.T) {
	w := servertest.NewWooStack(t, woo.StoreSpec{})
	ctx := context.Background()
	k := w.Key(t, license.KeySpec{MaxNoOfMachines: 1})
	other, err := w.Env.Svc.CreateProduct(ctx, license.Admin(), "simon0897", license.ProductSpec{Name: "Viewer", BlockExpired: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Env.Woo.SetSKU(ctx, license.Admin(), w.Shop.ID, "VIEW", other.ID, false); err != nil {
		t.Fatal(err)
	}
	ck, err := w.Env.Svc.CreateKey(ctx, license.Admin(), other.ID, license.KeySpec{Period: 1, MaxNoOfMachines: 1})
	if err != nil {
		t.Fatal(err)
	}
	expiring := ck.Key
	r := w.Post(t, "activate", servertest.WooForm(servertest.WooParamsFor(k, "a.example", 0)...), nil)
	if r.Status != 200 {
		t.Fatal(r.Body)
	}
	var ok struct {
		Data struct {
			ActivationID int64 `json:"activation_id"`
		} `json:"data"`
	}
	json.Unmarshal([]byte(r.Body), &ok)
	r = w.Post(t, "activate", servertest.WooForm("store_code", servertest.WooStoreCode, "sku", "VIEW", "license_key", woo.Key(expiring), "domain", "e.example"), nil)
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
		{"wrong store code: as a key the store does not have (5)", "activate", []string{"store_code", "not-our-code", "sku", servertest.WooSKU, "license_key", wk},
			invalidKey},
		{"100 sku empty", "activate", []string{"store_code", servertest.WooStoreCode, "sku", "", "license_key", "x"},
			`{"error":true,"status":500,"errors":{"sku":["Required."]}}`},
		{"103 activation_id 0", "validate", []string{"activation_id", "0", "store_code", servertest.WooStoreCode, "sku", servertest.WooSKU, "license_key", "x"},
			`{"error":true,"status":500,"errors":{"activation_id":["Required."]}}`},
		{"2 format", "activate", []string{"store_code", servertest.WooStoreCode, "sku", servertest.WooSKU, "license_key", k.Key}, invalidKey},
		{"5 not found", "activate", []string{"store_code", servertest.WooStoreCode, "sku", servertest.WooSKU, "license_key", "ABCDE-987654"}, invalidKey},
		{"3 sku of another product", "activate", []string{"store_code", servertest.WooStoreCode, "sku", "VIEW", "license_key", wk}, invalidKey},
		{"202 limit", "activate", servertest.WooParamsFor(k, "b.example", 0),
			`{"error":true,"status":500,"errors":{"license_key":["License key domain activation limit reached. Deactivate one or more of the registered activations to proceed."]}}`},
		{"200 and 202 expired and full", "activate", []string{"store_code", servertest.WooStoreCode, "sku", "VIEW", "license_key", woo.Key(expiring), "domain", "f.example"},
			`{"error":true,"status":500,"errors":{"license_key":["License key has expired.","License key domain activation limit reached. Deactivate one or more of the registered activations to proceed."]}}`},
		{"200 and 203 expired, unknown activation", "validate", []string{"activation_id", "12", "store_code", servertest.WooStoreCode, "sku", "VIEW", "license_key", woo.Key(expiring), "domain", "e.example"},
			`{"error":true,"status":500,"errors":{"license_key":["License key has expired.","Invalid license key."],"activation_id":["Invalid activation."]}}`},
		{"203 deactivate unknown activation", "deactivate", servertest.WooParamsFor(k, "a.example", ok.Data.ActivationID+1),
			`{"error":true,"status":500,"errors":{"activation_id":["Invalid activation."],"license_key":["Invalid license key."]}}`},
		{"203 activation of another domain", "validate", servertest.WooParamsFor(k, "b.example", ok.Data.ActivationID),
			`{"error":true,"status":500,"errors":{"activation_id":["Invalid activation."],"license_key":["Invalid license key."]}}`},
	}
	for _, c := range cases {
		r := w.Post(t, c.op, servertest.WooForm(c.kv...), nil)
		servertest.WooWantBody(t, c.name, r, 500, c.body)
	}

	// The same refusals keyed by code, for a store set so.
	byCode := true
	if _, err := w.Env.Woo.UpdateStore(ctx, license.Admin(), w.Shop.ID, woo.StoreChange{ErrorsByCode: &byCode}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, op string
		kv       []string
		body     string
	}{
		{"3 by code", "activate", []string{"store_code", servertest.WooStoreCode, "sku", "VIEW", "license_key", wk},
			`{"error":true,"status":500,"errors":{"3":["Invalid license key."]}}`},
		{"5 by code", "activate", []string{"store_code", servertest.WooStoreCode, "sku", servertest.WooSKU, "license_key", "ABCDE-987654"},
			`{"error":true,"status":500,"errors":{"5":["Invalid license key."]}}`},
		{"200 and 203 by code", "deactivate", []string{"activation_id", "12", "store_code", servertest.WooStoreCode, "sku", "VIEW", "license_key", woo.Key(expiring), "domain", "e.example"},
			`{"error":true,"status":500,"errors":{"200":["License key has expired."],"203":["Invalid activation."]}}`},
	} {
		servertest.WooWantBody(t, c.name, w.Post(t, c.op, servertest.WooForm(c.kv...), nil), 500, c.body)
	}
}

func TestWooRESTWordPressErrors(t *testing.T) {
	w := servertest.NewWooStack(t, woo.StoreSpec{})
	k := w.Key(t, license.KeySpec{})
	servertest.WooWantBody(t, "missing parameters", w.Post(t, "validate", servertest.WooForm("sku", servertest.WooSKU), nil), 400,
		`{"code":"rest_missing_callback_param","message":"Missing parameter(s): activation_id, store_code, license_key","data":{"status":400,"params":["activation_id","store_code","license_key"]}}`)
	servertest.WooWantBody(t, "activation_id not numeric", w.Post(t, "validate", servertest.WooForm(servertest.WooParamsFor(k, "a.example", 0)...)+"&activation_id=abc", nil), 400,
		`{"code":"rest_invalid_param","message":"Invalid parameter(s): activation_id","data":{"status":400,"params":{"activation_id":"Invalid parameter."}}}`)
	servertest.WooWantBody(t, "array parameter", w.Post(t, "activate", "store_code[]=a&sku=x&license_key=y", nil), 400,
		`{"code":"rest_invalid_param","message":"Invalid parameter(s): store_code","data":{"status":400,"params":{"store_code":"Invalid parameter."}}}`)
	r := servertest.Do(t, "POST", w.URL+servertest.WooBase+"activate", `{"store_code":5,"sku":"x","license_key":"y","domain":true}`, map[string]string{"Content-Type": "application/json"})
	servertest.WooWantBody(t, "JSON types", r, 400,
		`{"code":"rest_invalid_param","message":"Invalid parameter(s): store_code, domain","data":{"status":400,"params":{"store_code":"Invalid parameter.","domain":"Invalid parameter."}}}`)
	r = servertest.Do(t, "POST", w.URL+servertest.WooBase+"activate", `{"store_code":`, map[string]string{"Content-Type": "application/json"})
	servertest.WooWantBody(t, "malformed JSON", r, 400, `{"code":"rest_invalid_json","message":"Invalid JSON body passed.","data":{"status":400}}`)
	for _, c := range []struct{ method, path string }{{"PUT", "activate"}, {"GET", "nope"}, {"DELETE", "token"}} {
		servertest.WooWantBody(t, c.method+" "+c.path, servertest.Do(t, c.method, w.URL+servertest.WooBase+c.path, "", nil), 404,
			`{"code":"rest_no_route","message":"No route was found matching the URL and request method.","data":{"status":404}}`)
	}
	// Absint: a negative or fractional id is its absolute integer part; sanitize_text_field trims and folds.
	id := w.Clock.Now().Unix()
	if r := w.Post(t, "activate", servertest.WooForm(servertest.WooParamsFor(k, "a.example", 0)...), nil); r.Status != 200 {
		t.Fatal(r.Body)
	}
	kv := []string{"activation_id", fmt.Sprintf("-%d.7", id), "store_code", " " + servertest.WooStoreCode + "\t", "sku", servertest.WooSKU,
		"license_key", woo.Key(k), "domain", "a.example"}
	if r := w.Post(t, "validate", servertest.WooForm(kv...), nil); r.Status != 200 {
		t.Fatalf("validate with a sanitized id and store code: %d %s", r.Status, r.Body)
	}
	// Oversize bodies are refused before they are read.
	r = w.Post(t, "activate", "store_code="+strings.Repeat("x", 70<<10), nil)
	if r.Status != 413 {
		t.Fatalf("oversize body: %d %s", r.Status, r.Body)
	}
}

func TestWooAjax(t *testing.T) {
	w := servertest.NewWooStack(t, woo.StoreSpec{})
	k := w.Key(t, license.KeySpec{MaxNoOfMachines: 1})
	id := w.Clock.Now().Unix()
	ajax := func(action string, kv ...string) servertest.Response {
		return servertest.Do(t, "POST", w.URL+servertest.WooAjax+"?action="+action, servertest.WooForm(kv...), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	}
	servertest.WooWantBody(t, "ajax activate", ajax("license_key_activate", servertest.WooParamsFor(k, "a.example", 0)...), 200,
		`{"error":false,"status":200,"message":"License Key activated successfully.","data":`+wooLicenseJSON(0, id, woo.Key(k))+`}`)
	servertest.WooWantBody(t, "ajax validate", ajax("license_key_validate", servertest.WooParamsFor(k, "a.example", id)...), 200,
		`{"error":false,"status":200,"message":"License Key is valid.","data":`+wooLicenseJSON(0, id, woo.Key(k))+`}`)
	// Errors come with HTTP 200; a missing activation_id is the plugin's "Required.", not WordPress's 400.
	servertest.WooWantBody(t, "ajax validate without activation_id", ajax("license_key_validate", servertest.WooParamsFor(k, "a.example", 0)...), 200,
		`{"error":true,"status":500,"errors":{"activation_id":["Required."]}}`)
	servertest.WooWantBody(t, "ajax validate with a non-numeric activation_id", ajax("license_key_validate", append(servertest.WooParamsFor(k, "a.example", 0), "activation_id", "abc")...), 200,
		`{"error":true,"status":500,"errors":{"activation_id":["Invalid activation."],"license_key":["Invalid license key."]}}`)
	servertest.WooWantBody(t, "ajax missing store code", ajax("license_key_activate", "license_key", "x"), 200,
		`{"error":true,"status":500,"errors":{"store_code":["Required."]}}`)
	// The action may come in the body as well, and GET works.
	r := servertest.Do(t, "GET", w.URL+servertest.WooAjax+"?"+servertest.WooForm(append([]string{"action", "license_key_deactivate"}, servertest.WooParamsFor(k, "a.example", id)...)...), "", nil)
	servertest.WooWantBody(t, "ajax deactivate (GET)", r, 200, `{"error":false,"status":200,"message":"Activation has been deactivated."}`)
	r = servertest.Do(t, "POST", w.URL+servertest.WooAjax, servertest.WooForm(append([]string{"action", "license_key_activate"}, servertest.WooParamsFor(k, "b.example", 0)...)...),
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
	r = servertest.Do(t, "GET", w.URL+servertest.WooAjax+"?"+servertest.WooForm("action", "license_key_token", "grant_type", "license_key", "license_key", woo.Key(k)), "", nil)
	var tok map[string]any
	if err := json.Unmarshal([]byte(r.Body), &tok); r.Status != 200 || err != nil || tok["token_type"] != "Bearer" || tok["expires"] != 600.0 {
		t.Fatalf("ajax token: %d %s", r.Status, r.Body)
	}
}

func TestWooTokenGrant(t *testing.T) {
	w := servertest.NewWooStack(t, woo.StoreSpec{RequireToken: true})
	k := w.Key(t, license.KeySpec{MaxNoOfMachines: 1})
	k2 := w.Key(t, license.KeySpec{MaxNoOfMachines: 1})
	grant := func(key string) (servertest.Response, string) {
		r := servertest.Do(t, "GET", w.URL+servertest.WooBase+"token?"+servertest.WooForm("grant_type", "license_key", "license_key", key), "", nil)
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

	r = servertest.Do(t, "GET", w.URL+servertest.WooBase+"token?grant_type=password&license_key="+woo.Key(k), "", nil)
	servertest.WooWantBody(t, "wrong grant type", r, 500, `{"error":true,"status":500,"errors":{"grant_type":["Invalid grant type."]}}`)
	r, _ = grant("ABCDE-424242")
	servertest.WooWantBody(t, "token for an unknown key", r, 500, `{"error":true,"status":500,"errors":{"license_key":["Invalid license key."]}}`)

	act := servertest.WooForm(servertest.WooParamsFor(k, "a.example", 0)...)
	r = w.Post(t, "activate", act, nil)
	servertest.WooWantBody(t, "no token", r, 401, `{"error":true,"status":401,"errors":{"authorization":["Access token required."]}}`)
	if got := r.Header.Get("WWW-Authenticate"); got != `Bearer realm="tokenmanager"` {
		t.Fatalf("WWW-Authenticate %q", got)
	}
	for name, h := range map[string]string{"garbage": "Bearer nope", "token of another key": "Bearer " + tok2} {
		r = w.Post(t, "activate", act, map[string]string{"Authorization": h})
		servertest.WooWantBody(t, name, r, 401, `{"error":true,"status":401,"errors":{"authorization":["Invalid access token."]}}`)
	}
	r = w.Post(t, "activate", act, map[string]string{"Authorization": servertest.Basic("simon0897", "s3cret")})
	servertest.WooWantBody(t, "Basic instead of Bearer", r, 401, `{"error":true,"status":401,"errors":{"authorization":["Access token required."]}}`)
	if got := r.Header.Get("WWW-Authenticate"); got != `Bearer realm="tokenmanager"` {
		t.Fatalf("WWW-Authenticate after Basic: %q", got)
	}
	r = w.Post(t, "activate", act, map[string]string{"Authorization": "Bearer " + tok2})
	if got := r.Header.Get("WWW-Authenticate"); got != `Bearer realm="tokenmanager", error="invalid_token"` {
		t.Fatalf("WWW-Authenticate for an invalid token: %q", got)
	}

	bearer := map[string]string{"Authorization": "Bearer " + tok}
	id := w.Clock.Now().Unix()
	if r := w.Post(t, "activate", act, bearer); r.Status != 200 {
		t.Fatalf("activate with the key's token: %d %s", r.Status, r.Body)
	}
	val := servertest.WooForm(servertest.WooParamsFor(k, "a.example", id)...)
	if r := w.Post(t, "validate", val, bearer); r.Status != 200 {
		t.Fatalf("validate with the key's token: %d %s", r.Status, r.Body)
	}
	// The token lives its lifetime, then is refused.
	w.Clock.Add(10*time.Minute - time.Second)
	if r := w.Post(t, "validate", val, bearer); r.Status != 200 {
		t.Fatalf("validate just before expiry: %d %s", r.Status, r.Body)
	}
	w.Clock.Add(time.Second)
	servertest.WooWantBody(t, "expired token", w.Post(t, "validate", val, bearer), 401,
		`{"error":true,"status":401,"errors":{"authorization":["Invalid access token."]}}`)
	_, fresh := grant(woo.Key(k))
	if r := w.Post(t, "deactivate", val, map[string]string{"Authorization": "Bearer " + fresh}); r.Status != 200 {
		t.Fatalf("deactivate with a fresh token: %d %s", r.Status, r.Body)
	}
	// Through Ajax the refusal comes with HTTP 200, like every Ajax answer.
	r = servertest.Do(t, "POST", w.URL+servertest.WooAjax+"?action=license_key_activate", act, map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	servertest.WooWantBody(t, "ajax without token", r, 200, `{"error":true,"status":401,"errors":{"authorization":["Access token required."]}}`)
}

func TestWooTokenNotRequired(t *testing.T) {
	w := servertest.NewWooStack(t, woo.StoreSpec{})
	k := w.Key(t, license.KeySpec{MaxNoOfMachines: 1})
	// A store that does not require tokens ignores whatever Authorization comes along.
	r := w.Post(t, "activate", servertest.WooForm(servertest.WooParamsFor(k, "a.example", 0)...), map[string]string{"Authorization": "Bearer whatever"})
	if r.Status != 200 {
		t.Fatalf("activate without token requirement: %d %s", r.Status, r.Body)
	}
}
