//go:build unix

package server_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/license/woo"
	"github.com/tokenmanager/tokenmanager/powerauth"
	"github.com/tokenmanager/tokenmanager/server"
	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
)

// BenchmarkLicensingPaths is the server's own work for one request of each licensing scenario of tmbench
// (docs/benchmarks.md), on SQLite read through the cache as `serve` does: the handler is called directly, so
// that neither a client nor the loopback is counted. GetKey: Cryptolens GetKey, unsigned, as a form POST, of a
// key with two machines and two data objects. WooValidate: validate with a Bearer token of a store that
// requires one. PowerAuthForward: /auth/forward with a fresh X-PowerAuth-Token header (new nonce) each time.
func BenchmarkLicensingPaths(b *testing.B) {
	ctx := context.Background()
	env := &servertest.LicEnv{}
	var pa *powerauth.Service
	st := servertest.NewStack(b, servertest.WithLicenseStack(env, time.Hour), withPowerAuth(powerauth.Config{}, &pa))
	must := func(err error) {
		b.Helper()
		if err != nil {
			b.Fatal(err)
		}
	}
	must(env.Svc.AddVendor(ctx, "simon0897"))
	p, err := env.Svc.CreateProduct(ctx, license.Admin(), "simon0897", license.ProductSpec{Name: "Editor"})
	must(err)
	k, err := env.Svc.CreateKey(ctx, license.Admin(), p.ID, license.KeySpec{Period: 365, MaxNoOfMachines: 10})
	must(err)
	tok, err := env.Svc.CreateAPIToken(ctx, "simon0897", license.TokenSpec{Methods: []license.Method{license.MethodActivate, license.MethodGetKey}, ProductLock: p.ID})
	must(err)
	a, err := env.Svc.Authenticate(ctx, tok.Token)
	must(err)
	for _, mc := range []string{"machine-1", "machine-2"} {
		_, err := env.Svc.Activate(ctx, a, license.ActivateRequest{ProductID: p.ID, Key: k.Key.Key, MachineCode: mc})
		must(err)
	}
	for _, name := range []string{"usage", "counter2"} {
		_, err := env.Svc.AddDataObject(ctx, license.Admin(), license.DataRef{Keyed: true, ProductID: p.ID, Key: k.Key.Key},
			license.DataSpec{Name: name, IntValue: 1})
		must(err)
	}
	shop, err := env.Woo.CreateStore(ctx, license.Admin(), "simon0897", woo.StoreSpec{Code: servertest.WooStoreCode, RequireToken: true})
	must(err)
	must(env.Woo.SetSKU(ctx, license.Admin(), shop.ID, servertest.WooSKU, p.ID, false))
	wk, err := env.Svc.CreateKey(ctx, license.Admin(), p.ID, license.KeySpec{Period: 365, MaxNoOfMachines: 10})
	must(err)
	wt, err := env.Woo.IssueToken(ctx, "license_key", woo.Key(wk.Key))
	must(err)
	bearer := "Bearer " + wt.Token
	act, err := env.Woo.Activate(ctx, woo.Request{StoreCode: servertest.WooStoreCode, SKU: servertest.WooSKU, LicenseKey: woo.Key(wk.Key),
		Domain: "shop.example.com", Token: wt.Token})
	must(err)
	paAct, err := pa.CreateActivation(ctx, "simon0897", "phone")
	must(err)
	paTok, err := pa.CreateToken(ctx, "simon0897", paAct.ID)
	must(err)

	getKey := "token=" + strings.NewReplacer("+", "%2B", "/", "%2F", "=", "%3D").Replace(tok.Token) +
		fmt.Sprintf("&ProductId=%d&Key=%s", p.ID, k.Key.Key)
	validate := servertest.WooForm(servertest.WooParamsFor(wk.Key, "shop.example.com", act.ActivationID)...)
	for _, c := range []struct {
		name string
		req  func() *http.Request
		ok   func(*httptest.ResponseRecorder) bool
	}{
		{"GetKey", func() *http.Request {
			r := httptest.NewRequest("POST", "/api/key/GetKey", strings.NewReader(getKey))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}, func(w *httptest.ResponseRecorder) bool { return strings.Contains(w.Body.String(), `"result":0`) }},
		{"WooValidate", func() *http.Request {
			r := httptest.NewRequest("POST", servertest.WooBase+"validate", strings.NewReader(validate))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set("Authorization", bearer)
			return r
		}, func(w *httptest.ResponseRecorder) bool { return w.Code == 200 }},
		{"PowerAuthForward", func() *http.Request {
			nonce := make([]byte, 16)
			rand.Read(nonce)
			h, err := powerauth.NewHeader(paTok.ID, paTok.Secret, nonce, st.Clock.Now().UnixMilli(), "3.1")
			must(err)
			r := httptest.NewRequest("GET", server.PathForwardAuth, nil)
			r.Header.Set(powerauth.HeaderName, h.String())
			return r
		}, func(w *httptest.ResponseRecorder) bool { return w.Code == 200 }},
	} {
		b.Run(c.name, func(b *testing.B) {
			w := httptest.NewRecorder()
			st.Server.ServeHTTP(w, c.req())
			if !c.ok(w) {
				b.Fatalf("%s: HTTP %d %s", c.name, w.Code, w.Body)
			}
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				w := httptest.NewRecorder()
				st.Server.ServeHTTP(w, c.req())
				if w.Code != 200 {
					b.Fatalf("%s: HTTP %d %s", c.name, w.Code, w.Body)
				}
			}
			// CPU time, not only wall time: on a shared machine waiting for a core inflates ns/op, while the
			// CPU the process spent per request moves far less (it includes the cache's feed reads, every 5 ms).
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// cpuTime is the CPU time (user and system) the process has used, in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
