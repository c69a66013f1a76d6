package server_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/tokenmanager/tokenmanager/apiclient"
	"github.com/tokenmanager/tokenmanager/keys"
	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/license/woo"
	"github.com/tokenmanager/tokenmanager/powerauth"
	"github.com/tokenmanager/tokenmanager/server"
	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
)

// contract fetches /openapi.json from a running server, loads it with kin-openapi and checks every request
// sent through it and every response against the document.
type contract struct {
	t      *testing.T
	base   string
	doc    *openapi3.T
	router routers.Router
	jar    []*http.Cookie
	seen   map[string]bool // "METHOD path template" exercised
}

func newContract(t *testing.T, base string) *contract {
	t.Helper()
	r := servertest.Do(t, "GET", base+server.PathOpenAPI, "", nil)
	if r.Status != 200 || r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET %s: HTTP %d %q", server.PathOpenAPI, r.Status, r.Header.Get("Content-Type"))
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData([]byte(r.Body))
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if doc.OpenAPI != "3.1.0" || !doc.IsOpenAPI31OrLater() {
		t.Fatalf("openapi %q", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the document is not valid OpenAPI: %v", err)
	}
	doc.Servers = openapi3.Servers{{URL: base}}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &contract{t: t, base: base, doc: doc, router: router, seen: map[string]bool{}}
}

// validate checks one exchange; it returns the error instead of failing, for the negative checks.
func (c *contract) validate(req *http.Request, body []byte, status int, header http.Header, respBody []byte) error {
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		return fmt.Errorf("no operation for %s %s: %w", req.Method, req.URL.Path, err)
	}
	if body != nil {
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true,
		MultiError: true}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
		return fmt.Errorf("request %s %s: %w", req.Method, req.URL, err)
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: status, Header: header,
		Body: io.NopCloser(bytes.NewReader(respBody)), Options: opts}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		return fmt.Errorf("response of %s %s (HTTP %d %s): %w", req.Method, req.URL.Path, status, respBody, err)
	}
	c.seen[req.Method+" "+route.Path] = true
	return nil
}

// do sends a request over the real connection, validates both directions and returns the answer.
func (c *contract) do(method, path, contentType, body string, h ...string) servertest.Response {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(h); i += 2 {
		req.Header.Set(h[i], h[i+1])
	}
	for _, ck := range c.jar {
		req.AddCookie(ck)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	respBody, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		c.t.Fatal(err)
	}
	vreq, _ := http.NewRequest(method, c.base+path, nil)
	vreq.Header = req.Header.Clone()
	var reqBody []byte
	if body != "" {
		reqBody = []byte(body)
	}
	if err := c.validate(vreq, reqBody, resp.StatusCode, resp.Header, respBody); err != nil {
		c.t.Fatal(err)
	}
	return servertest.Response{Status: resp.StatusCode, Header: resp.Header, Body: string(respBody)}
}

func (c *contract) form(path string, f url.Values, h ...string) servertest.Response {
	c.t.Helper()
	return c.do("POST", path, "application/x-www-form-urlencoded", f.Encode(), h...)
}

func jsonOf(t *testing.T, r servertest.Response) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.Body), &m); err != nil {
		t.Fatalf("HTTP %d %q: %v", r.Status, r.Body, err)
	}
	return m
}

func want(t *testing.T, what string, r servertest.Response, status int) map[string]any {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: HTTP %d %s; want %d", what, r.Status, r.Body, status)
	}
	return jsonOf(t, r)
}

// The document against real exchanges on every surface: each request and response of a representative set of
// calls, successes and refusals, is validated by kin-openapi against the document the server serves.
func TestOpenAPIMatchesTheWire(t *testing.T) {
	var clients *apiclient.Service
	oauth := func(su *servertest.Setup) {
		su.Wire = append(su.Wire, func(st *servertest.Stack, d *server.Deps) {
			clients = apiclient.New(st.Store, apiclient.Config{
				Signing: apiclient.NewSigningKeys(st.Store, keys.NewSealerFor(make([]byte, 32), keys.PurposeOAuthSigningKeys), st.Clock.Now)}, st.Clock.Now)
			if err := clients.EnsureSigningKey(context.Background()); err != nil {
				t.Fatal(err)
			}
			d.OAuth = server.OAuthDeps{Clients: clients}
		})
	}
	ws := servertest.NewWooStack(t, woo.StoreSpec{}, oauth, withPowerAuth(powerauth.Config{}, nil))
	c := newContract(t, ws.URL)
	ctx := context.Background()

	// Spectrum REST twins and verify.
	basic := servertest.Basic("simon0897", "s3cret")
	tok := want(t, "open token", c.do("GET", "/security/rest/token/access/30", "", "", "Authorization", basic), 200)
	want(t, "bad password", c.do("GET", "/security/rest/token/access/30", "", "", "Authorization", servertest.Basic("simon0897", "no")), 401)
	want(t, "bad ttl", c.do("GET", "/security/rest/token/access/99999", "", "", "Authorization", basic), 400)
	r := c.do("GET", "/security/rest/token/access/session/30", "", "", "Authorization", basic)
	sess := want(t, "session token", r, 200)
	c.jar = (&http.Response{Header: r.Header}).Cookies()
	want(t, "verify session token", c.do("GET", server.PathVerify, "", "", "Authorization", "Bearer "+sess["access_token"].(string)), 200)
	c.jar = nil
	want(t, "verify", c.do("GET", server.PathVerify, "", "", "Authorization", "Bearer "+tok["access_token"].(string)), 200)
	want(t, "verify garbage", c.do("GET", server.PathVerify, "", "", "Authorization", "Bearer nope"), 401)
	want(t, "logout", c.do("GET", "/security/rest/token/logout", "", "", "Authorization", "Bearer "+tok["access_token"].(string)), 200)
	want(t, "verify after logout", c.do("GET", server.PathVerify, "", "", "Authorization", "Bearer "+tok["access_token"].(string)), 401)

	// OAuth: token (opaque and JWT), verify, introspect, revoke, metadata, JWKS.
	reports, err := clients.Create(ctx, apiclient.Spec{ID: "reports", Scopes: []string{"Reports"}, TokenFormat: apiclient.FormatJWT})
	if err != nil {
		t.Fatal(err)
	}
	opaque, err := clients.Create(ctx, apiclient.Spec{ID: "opaque", Introspect: true})
	if err != nil {
		t.Fatal(err)
	}
	cc := url.Values{"grant_type": {"client_credentials"}}
	jwt := want(t, "JWT token", c.form(server.PathOAuthToken, cc, "Authorization", clientBasic("reports", reports.PrimaryKey)), 200)
	op := want(t, "opaque token", c.form(server.PathSkyKickToken, cc, "Authorization", clientBasic("opaque", opaque.PrimaryKey)), 200)
	want(t, "bad client", c.form(server.PathOAuthToken, cc, "Authorization", clientBasic("opaque", "wrong")), 401)
	want(t, "bad grant", c.form(server.PathOAuthToken, url.Values{"grant_type": {"password"}}, "Authorization", clientBasic("opaque", opaque.PrimaryKey)), 400)
	want(t, "verify JWT", c.do("GET", server.PathOAuthVerify+"?scope=Reports", "", "", "Authorization", "Bearer "+jwt["access_token"].(string)), 200)
	want(t, "verify opaque (POST)", c.do("POST", server.PathOAuthVerify, "", "", "Authorization", "Bearer "+op["access_token"].(string)), 200)
	want(t, "verify missing scope", c.do("GET", server.PathOAuthVerify+"?scope=Admin", "", "", "Authorization", "Bearer "+jwt["access_token"].(string)), 403)
	want(t, "verify no token", c.do("GET", server.PathOAuthVerify, "", ""), 401)
	in := want(t, "introspect", c.form(server.PathOAuthIntrospect, url.Values{"token": {jwt["access_token"].(string)}},
		"Authorization", clientBasic("opaque", opaque.PrimaryKey)), 200)
	if in["active"] != true {
		t.Fatalf("introspection %v", in)
	}
	if r := c.form(server.PathOAuthRevoke, url.Values{"token": {op["access_token"].(string)}},
		"Authorization", clientBasic("opaque", opaque.PrimaryKey)); r.Status != 200 {
		t.Fatalf("revoke: HTTP %d %s", r.Status, r.Body)
	}
	if in := want(t, "introspect revoked", c.form(server.PathOAuthIntrospect, url.Values{"token": {op["access_token"].(string)}},
		"Authorization", clientBasic("opaque", opaque.PrimaryKey)), 200); in["active"] != false {
		t.Fatalf("revoked token introspected as %v", in)
	}
	want(t, "metadata", c.do("GET", server.PathOAuthMetadata, "", ""), 200)
	if r := c.do("GET", server.PathOAuthMetadata+"/tenant", "", ""); r.Status != 404 { // the issuer has no path
		t.Fatalf("metadata for another issuer's path: HTTP %d", r.Status)
	}
	if jwks := want(t, "JWKS", c.do("GET", server.PathOAuthJWKS, "", ""), 200); len(jwks["keys"].([]any)) == 0 {
		t.Fatalf("JWKS %v", jwks)
	}

	// PowerAuth: activation, token, verify, removal.
	paJSON := func(path, body string, auth string) servertest.Response {
		return c.do("POST", path, "application/json", body, "Authorization", auth)
	}
	act := want(t, "activation create", paJSON(server.PathPowerAuthActivationCreate, `{"activationName":"phone"}`, basic), 200)
	aid := act["activationId"].(string)
	want(t, "activation status", paJSON(server.PathPowerAuthActivationStatus, `{"requestObject":{"activationId":"`+aid+`"}}`, basic), 200)
	want(t, "activation status, wrong owner", paJSON(server.PathPowerAuthActivationStatus, `{"activationId":"`+aid+`"}`, servertest.Basic("paul1234", "pa55")), 401)
	pt := want(t, "token create", paJSON(server.PathPowerAuthTokenCreate, `{"activationId":"`+aid+`"}`, basic), 200)
	secret, _ := base64.StdEncoding.DecodeString(pt["tokenSecret"].(string))
	dev := paDevice{ActivationID: aid, TokenID: pt["tokenId"].(string), Secret: secret}
	want(t, "token verify", c.do("GET", server.PathPowerAuthTokenVerify, "", "", powerauth.HeaderName, dev.header(t, ws.Clock.Now(), "3.3")), 200)
	want(t, "token verify (POST)", c.do("POST", server.PathPowerAuthTokenVerify, "application/json", "{}", powerauth.HeaderName, dev.header(t, ws.Clock.Now(), "3.3")), 200)
	want(t, "token verify, no header", c.do("GET", server.PathPowerAuthTokenVerify, "", ""), 401)
	want(t, "token remove", paJSON(server.PathPowerAuthTokenRemove, `{"requestObject":{"tokenId":"`+dev.TokenID+`"}}`, basic), 200)
	want(t, "activation remove", paJSON(server.PathPowerAuthActivationRemove, `{"activationId":"`+aid+`"}`, basic), 200)

	// Cryptolens: keys, products, data objects, customers; GET and POST; successes and Cryptolens' refusals.
	api, err := ws.Env.Svc.CreateAPIToken(ctx, "simon0897", license.TokenSpec{Methods: servertest.AllMethods})
	if err != nil {
		t.Fatal(err)
	}
	pid := fmt.Sprint(ws.Prod.ID)
	cl := func(method string, kv ...string) map[string]any {
		t.Helper()
		f := url.Values{"token": {api.Token}, "ProductId": {pid}}
		for i := 0; i+1 < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		return want(t, method, c.form("/api/"+method, f), 200)
	}
	created := cl("key/createkey", "NoOfKeys", "2")
	key := created["key"].(string)
	if m := cl("key/activate", "Key", key, "MachineCode", "m1", "Sign", "true"); m["result"] != float64(0) {
		t.Fatalf("activate: %v", m)
	}
	cl("key/activate", "Key", key, "MachineCode", "m1", "Sign", "true", "Metadata", "true", "v", "2")
	cl("key/getkey", "Key", key)
	if m := cl("key/getkey", "Key", "AAAAA-BBBBB-CCCCC-DDDDD"); m["result"] != float64(1) {
		t.Fatalf("getkey of no key: %v", m)
	}
	want(t, "GET key/getkey", c.do("GET", "/api/key/getkey?token="+url.QueryEscape(api.Token)+"&ProductId="+pid+"&Key="+key, "", ""), 200)
	cl("key/createtrialkey", "MachineCode", "m2")
	cl("product/getkeys")
	cl("product/getproducts")
	cl("key/blockkey", "Key", key)
	cl("key/unblockkey", "Key", key)
	cl("data/adddataobjecttokey", "Key", key, "Name", "usage", "IntValue", "3")
	cl("data/adddataobject", "Name", "global", "StringValue", "hello")
	cl("data/listdataobjectstokey", "Key", key)
	cl("data/listdataobjects")
	cl("data/incrementintvaluetokey", "Key", key, "Name", "usage", "IntValue", "1")
	cust := cl("customer/addcustomer", "Name", "Ada", "Email", "ada@example.com")
	cid := fmt.Sprint(int64(cust["customerId"].(float64)))
	cl("key/changecustomer", "Key", key, "CustomerId", cid)
	cl("customer/getcustomers")
	cl("customer/getcustomerlicenses", "CustomerId", cid)
	cl("customer/editcustomer", "CustomerId", cid, "Name", "Ada L.")
	cl("customer/removecustomer", "CustomerId", cid)
	if m := want(t, "bad token", c.form("/api/key/getkey", url.Values{"token": {"nope"}, "ProductId": {pid}, "Key": {key}}), 200); m["message"] != "Unable to authenticate." {
		t.Fatalf("bad token: %v", m)
	}

	// WooCommerce: REST and admin-ajax.php.
	wk := ws.Key(t, license.KeySpec{MaxNoOfMachines: 2})
	activated := want(t, "woo activate", c.form("/wp-json/woo-license-keys/v1/activate", url.Values{"store_code": {servertest.WooStoreCode},
		"sku": {servertest.WooSKU}, "license_key": {woo.Key(wk)}, "domain": {"example.com"}}), 200)
	actID := fmt.Sprint(int64(activated["data"].(map[string]any)["activation_id"].(float64)))
	want(t, "woo validate (GET)", c.do("GET", "/wp-json/woo-license-keys/v1/validate?"+url.Values{"store_code": {servertest.WooStoreCode},
		"sku": {servertest.WooSKU}, "license_key": {woo.Key(wk)}, "activation_id": {actID}, "domain": {"example.com"}}.Encode(), "", ""), 200)
	want(t, "woo validate, missing param", c.form("/wp-json/woo-license-keys/v1/validate", url.Values{"store_code": {servertest.WooStoreCode}}), 400)
	want(t, "woo bad key", c.form("/wp-json/woo-license-keys/v1/activate", url.Values{"store_code": {servertest.WooStoreCode},
		"sku": {servertest.WooSKU}, "license_key": {"nope"}, "domain": {"example.com"}}), 500) // the plugin's own status
	want(t, "woo ajax validate", c.form("/wp-admin/admin-ajax.php", url.Values{"action": {"license_key_validate"}, "store_code": {servertest.WooStoreCode},
		"sku": {servertest.WooSKU}, "license_key": {woo.Key(wk)}, "activation_id": {actID}, "domain": {"example.com"}}), 200)
	want(t, "woo deactivate", c.form("/wp-json/woo-license-keys/v1/deactivate", url.Values{"store_code": {servertest.WooStoreCode},
		"sku": {servertest.WooSKU}, "license_key": {woo.Key(wk)}, "activation_id": {actID}, "domain": {"example.com"}}), 200)
	want(t, "woo index", c.do("GET", "/wp-json/woo-license-keys/v1", "", ""), 200)

	// Every surface was exercised, and the validator is not a rubber stamp: a body that breaks the schema fails.
	for _, op := range []string{"GET /security/rest/token/verify", "POST /oauth2/token", "POST /auth/token", "POST /oauth2/introspect",
		"GET /oauth2/jwks.json", "POST /pa/v3/token/create", "GET /pa/v3/token/verify", "POST /api/key/activate",
		"POST /api/product/getkeys", "POST /api/data/listdataobjectstokey", "POST /api/customer/getcustomers",
		"POST /wp-json/woo-license-keys/v1/activate", "POST /wp-admin/admin-ajax.php"} {
		if !c.seen[op] {
			t.Errorf("%s was not exercised", op)
		}
	}
	bad := []struct{ method, path, body string }{
		{"POST", "/api/key/activate", `{"result":0,"message":""}`},                      // no licenseKey
		{"POST", "/api/product/getkeys", `{"result":0,"message":"","licenseKeys":"x"}`}, // not an array
		{"GET", server.PathVerify, `{"username":"simon0897"}`},                          // no kind
		{"POST", server.PathOAuthToken, `{"access_token":"x","token_type":"Bearer"}`},   // no expires_in
		{"POST", server.PathPowerAuthTokenRemove, `{"status":"OK","responseObject":{}}`},
	}
	for _, b := range bad {
		req, _ := http.NewRequest(b.method, ws.URL+b.path, nil)
		var body []byte
		if b.method == "POST" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if strings.HasPrefix(b.path, "/pa/") {
				req.Header.Set("Content-Type", "application/json")
				body = []byte(`{"tokenId":"x"}`)
			} else {
				body = []byte("grant_type=client_credentials&token=x")
			}
		}
		h := http.Header{"Content-Type": {"application/json"}}
		if err := c.validate(req, body, 200, h, []byte(b.body)); err == nil {
			t.Errorf("%s %s: the validator accepted %s", b.method, b.path, b.body)
		}
	}
}
