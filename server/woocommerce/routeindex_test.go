package woocommerce_test

import (
	"encoding/json"
	"net/http"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/tokenmanager/tokenmanager/license/woo"
	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
)

// TestWooRouteIndex: GET /wp-json/woo-license-keys/v1 (with or without the trailing slash) answers WordPress's
// namespace index, with the self links on the URL the client used (forwarded only by a trusted proxy).
func TestWooRouteIndex(t *testing.T) {
	w := servertest.NewWooStack(t, woo.StoreSpec{}, func(su *servertest.Setup) {
		su.Server.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	})
	index := strings.TrimSuffix(servertest.WooBase, "/")
	var first string
	for _, path := range []string{index, index + "/", index + "?context=view"} {
		r := servertest.Do(t, "GET", w.URL+path, "", map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "shop.example.com"})
		if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("GET %s: %d %s %s", path, r.Status, r.Header.Get("Content-Type"), r.Body)
		}
		if first == "" {
			first = r.Body
		} else if r.Body != first {
			t.Errorf("GET %s differs from GET %s", path, index)
		}
	}
	// PHP's json_encode escapes slashes; any JSON parser reads them back.
	if !strings.HasPrefix(first, `{"namespace":"woo-license-keys\/v1","routes":{"\/woo-license-keys\/v1":{"namespace":"woo-license-keys\/v1","methods":["GET"],`) {
		t.Fatalf("index does not start as WordPress's: %.200s", first)
	}
	var doc struct {
		Namespace string `json:"namespace"`
		Routes    map[string]struct {
			Namespace string   `json:"namespace"`
			Methods   []string `json:"methods"`
			Endpoints []struct {
				Methods []string                  `json:"methods"`
				Args    map[string]map[string]any `json:"args"`
			} `json:"endpoints"`
			Links map[string][]struct {
				Href string `json:"href"`
			} `json:"_links"`
		} `json:"routes"`
		Links map[string][]struct {
			Href string `json:"href"`
		} `json:"_links"`
	}
	if err := json.Unmarshal([]byte(first), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Namespace != "woo-license-keys/v1" || doc.Links["up"][0].Href != "https://shop.example.com/wp-json/" {
		t.Errorf("namespace %q, up %v", doc.Namespace, doc.Links)
	}
	wantRoutes := []string{"/woo-license-keys/v1", "/woo-license-keys/v1/activate", "/woo-license-keys/v1/validate",
		"/woo-license-keys/v1/deactivate", "/woo-license-keys/v1/token"}
	if len(doc.Routes) != len(wantRoutes) {
		t.Errorf("routes %d, want %d", len(doc.Routes), len(wantRoutes))
	}
	for _, p := range wantRoutes {
		rt, ok := doc.Routes[p]
		if !ok || rt.Namespace != "woo-license-keys/v1" || len(rt.Endpoints) != 1 {
			t.Errorf("route %s: %+v", p, rt)
			continue
		}
		if href := rt.Links["self"][0].Href; href != "https://shop.example.com/wp-json"+p {
			t.Errorf("route %s: self %s", p, href)
		}
		if !reflect.DeepEqual(rt.Methods, rt.Endpoints[0].Methods) {
			t.Errorf("route %s: methods %v, endpoint's %v", p, rt.Methods, rt.Endpoints[0].Methods)
		}
	}
	act := doc.Routes["/woo-license-keys/v1/activate"].Endpoints[0]
	if !reflect.DeepEqual(act.Methods, []string{"GET", "POST"}) {
		t.Errorf("activate methods %v", act.Methods)
	}
	for name, want := range map[string]map[string]any{
		"store_code":  {"description": "The store's code.", "type": "string", "required": true},
		"license_key": {"description": "The license key: its code, a dash and its id.", "type": "string", "required": true},
		"domain":      {"description": "The domain (or machine code) to activate on.", "type": "string", "default": "localhost", "required": false},
	} {
		if !reflect.DeepEqual(act.Args[name], want) {
			t.Errorf("activate arg %s: %v, want %v", name, act.Args[name], want)
		}
	}
	if a := doc.Routes["/woo-license-keys/v1/validate"].Endpoints[0].Args["activation_id"]; a["required"] != true {
		t.Errorf("validate activation_id: %v", a)
	}
	if a := doc.Routes["/woo-license-keys/v1"].Endpoints[0].Args["namespace"]; a["default"] != "woo-license-keys/v1" || a["required"] != false {
		t.Errorf("index arg namespace: %v", a)
	}
	// The args listed as required are exactly those a request without them is refused for.
	for _, op := range []string{"activate", "validate", "deactivate"} {
		var required []string
		for name, a := range doc.Routes["/woo-license-keys/v1/"+op].Endpoints[0].Args {
			if a["required"] == true {
				required = append(required, name)
			}
		}
		r := w.Post(t, op, "", nil)
		var e struct {
			Code string `json:"code"`
			Data struct {
				Params []string `json:"params"`
			} `json:"data"`
		}
		json.Unmarshal([]byte(r.Body), &e)
		if r.Status != 400 || e.Code != "rest_missing_callback_param" || len(e.Data.Params) != len(required) {
			t.Errorf("%s without args: %d %s; index lists required %v", op, r.Status, r.Body, required)
		}
	}

	// From a peer that is not a trusted proxy the forwarded host is not believed.
	plain := servertest.NewWooStack(t, woo.StoreSpec{})
	r := servertest.Do(t, "GET", plain.URL+index, "", map[string]string{"X-Forwarded-Host": "evil.example"})
	if r.Status != 200 || strings.Contains(r.Body, "evil.example") || !strings.Contains(r.Body, `"href":"http:\/\/127.0.0.1`) {
		t.Errorf("untrusted X-Forwarded-Host: %d %.300s", r.Status, r.Body)
	}

	// Other methods get WordPress's rest_no_route, with no redirect on the way.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, m := range []string{"POST", "PUT", "DELETE"} {
		for _, path := range []string{index, index + "/"} {
			req, _ := http.NewRequest(m, plain.URL+path, strings.NewReader("a=b"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 404 {
				t.Errorf("%s %s: %d", m, path, resp.StatusCode)
			}
		}
	}
	servertest.WooWantBody(t, "GET under the namespace", servertest.Do(t, "GET", plain.URL+index+"/activate/x", "", nil), 404,
		`{"code":"rest_no_route","message":"No route was found matching the URL and request method.","data":{"status":404}}`)
}
