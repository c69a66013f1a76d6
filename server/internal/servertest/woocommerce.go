package servertest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
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

// LicStackKey is the RSA key of every product these tests make: generating RSA-2048 is slow under -race.
var LicStackKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// LicEnv is the licensing core of a test stack, filled in when the stack starts.
type LicEnv struct {
	Svc *license.Service
	Woo *woo.Service
}

// WithLicenseStack wires the licensing core (and the WooCommerce layer, its tokens living wooTTL) into the
// stack, on the stack's store and clock.
func WithLicenseStack(env *LicEnv, wooTTL time.Duration) Option {
	return func(su *Setup) {
		su.Wire = append(su.Wire, func(st *Stack, d *server.Deps) {
			env.Svc = license.New(st.Store, keys.NewSealerFor(ServerKey, keys.PurposeLicenseSigningKeys),
				license.Options{Now: st.Clock.Now, Audit: st.Audit, GenerateKey: func() (*rsa.PrivateKey, error) { return LicStackKey(), nil }})
			env.Woo = woo.New(env.Svc, st.Store, woo.Options{TokenLifetime: wooTTL})
			d.License, d.Woo = env.Svc, env.Woo
		})
	}
}

const (
	WooBase      = "/wp-json/woo-license-keys/v1/"
	WooAjax      = "/wp-admin/admin-ajax.php"
	WooStoreCode = "simons-store-code"
	WooSKU       = "ED-PRO"
)

// WooStack is a stack with simon0897 as a vendor selling one product in one store.
type WooStack struct {
	*Stack
	Env  *LicEnv
	Shop storage.WooStore
	Prod storage.Product
}

func NewWooStack(t *testing.T, spec woo.StoreSpec, opts ...Option) *WooStack {
	t.Helper()
	env := &LicEnv{}
	st := NewStack(t, append(opts, WithLicenseStack(env, 10*time.Minute))...)
	ctx := context.Background()
	if err := env.Svc.AddVendor(ctx, "simon0897"); err != nil {
		t.Fatal(err)
	}
	p, err := env.Svc.CreateProduct(ctx, license.Admin(), "simon0897", license.ProductSpec{Name: "Editor"})
	if err != nil {
		t.Fatal(err)
	}
	if spec.Code == "" {
		spec.Code = WooStoreCode
	}
	ws, err := env.Woo.CreateStore(ctx, license.Admin(), "simon0897", spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Woo.SetSKU(ctx, license.Admin(), ws.ID, WooSKU, p.ID, false); err != nil {
		t.Fatal(err)
	}
	return &WooStack{Stack: st, Env: env, Shop: ws, Prod: p}
}

func (w *WooStack) Key(t *testing.T, spec license.KeySpec) storage.LicenseKey {
	t.Helper()
	k, err := w.Env.Svc.CreateKey(context.Background(), license.Admin(), w.Prod.ID, spec)
	if err != nil {
		t.Fatal(err)
	}
	return k.Key
}

// WooForm encodes name/value pairs in the given order (url.Values would sort them).
func WooForm(kv ...string) string {
	var parts []string
	for i := 0; i+1 < len(kv); i += 2 {
		parts = append(parts, url.QueryEscape(kv[i])+"="+url.QueryEscape(kv[i+1]))
	}
	return strings.Join(parts, "&")
}

func (w *WooStack) Post(t *testing.T, op, body string, header map[string]string) Response {
	t.Helper()
	h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	for k, v := range header {
		h[k] = v
	}
	return Do(t, "POST", w.URL+WooBase+op, body, h)
}

// WooParamsFor gives the usual parameters for a key, domain and activation id (0: none).
func WooParamsFor(k storage.LicenseKey, domain string, id int64) []string {
	kv := []string{"store_code", WooStoreCode, "sku", WooSKU, "license_key", woo.Key(k), "domain", domain}
	if id != 0 {
		kv = append(kv, "activation_id", fmt.Sprint(id))
	}
	return kv
}

func WooWantBody(t *testing.T, what string, r Response, status int, body string) {
	t.Helper()
	if r.Status != status || r.Body != body+"\n" {
		t.Fatalf("%s: HTTP %d %s\nwant HTTP %d %s", what, r.Status, r.Body, status, body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s: Content-Type %q", what, ct)
	}
}
