package server_test

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/keys"
	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/server"
	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/sqlite"
)

func withSignLimits(l server.SignLimits) servertest.Option {
	return func(su *servertest.Setup) { su.Server.SignLimits = &l }
}

// clientFrom is an HTTP client whose connections leave from the loopback address ip (127.x.y.z).
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: d.DialContext}}
}

// postFrom posts form to /api/<method> from ip and returns the status, Retry-After and the decoded JSON body.
func postFrom(t *testing.T, cl *servertest.CLStack, ip, method string, form url.Values) (int, string, map[string]any) {
	t.Helper()
	resp, err := clientFrom(ip).PostForm(cl.URL+"/api/"+method, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: HTTP %d, body %q is not JSON", method, resp.StatusCode, b)
	}
	return resp.StatusCode, resp.Header.Get("Retry-After"), m
}

// TestCryptolensSignOnlyWhenAsked: without Sign=true the answer carries the license but signature null, also
// in the metadata, as Cryptolens answers; with it both are signed.
func TestCryptolensSignOnlyWhenAsked(t *testing.T) {
	cl := servertest.NewCLStack(t)
	k := cl.NewKey(t, license.KeySpec{Period: 30})
	tok := cl.Token(t, license.TokenSpec{})
	m := cl.Post(t, "key/GetKey", cl.Form(tok, cl.Product.ID, k.Key, "Metadata", "true"))
	servertest.MustOK(t, "GetKey", m)
	if sig, ok := m["signature"]; !ok || sig != nil {
		t.Fatalf("GetKey without Sign: signature = %v (present %v), want null", sig, ok)
	}
	md, _ := m["metadata"].(map[string]any)
	if sig, ok := md["signature"]; !ok || sig != nil || md["activatedMachines"] != float64(0) {
		t.Fatalf("GetKey without Sign: metadata = %v, want its signature null", md)
	}
	raw, err := base64.StdEncoding.DecodeString(m["licenseKey"].(string))
	var lk map[string]any
	if err != nil || json.Unmarshal(raw, &lk) != nil || lk["Key"] != k.Key {
		t.Fatalf("GetKey without Sign: licenseKey %s", raw)
	}

	m = cl.Post(t, "key/GetKey", cl.Form(tok, cl.Product.ID, k.Key, "Sign", "true", "SignMethod", "1", "Metadata", "true"))
	servertest.Verified(t, cl.PubXML, m)
	if md, _ := m["metadata"].(map[string]any); md["signature"] == nil || md["signature"] == "" {
		t.Fatalf("GetKey with Sign: metadata = %v, want a signature", md)
	}
}

// TestCryptolensSignLimit: signed answers are limited per address and per token, with Cryptolens' error
// envelope and HTTP 429; an Activate refused for the limit activates nothing; unsigned answers go on.
func TestCryptolensSignLimit(t *testing.T) {
	cl := servertest.NewCLStack(t, withSignLimits(server.SignLimits{
		Token: server.SignLimit{Burst: 4, Every: time.Hour}, Address: server.SignLimit{Burst: 2, Every: time.Hour}}))
	k := cl.NewKey(t, license.KeySpec{MaxNoOfMachines: 5})
	tok := cl.Token(t, license.TokenSpec{})
	signed := func(ip, method, machine string) (int, string, map[string]any) {
		return postFrom(t, cl, ip, method, cl.Form(tok, cl.Product.ID, k.Key, "Sign", "true", "SignMethod", "1", "MachineCode", machine))
	}
	const want = "Too many signed requests. Try again in 3600 seconds."
	for i := range 2 {
		if st, _, m := signed("127.0.0.1", "key/GetKey", ""); st != 200 || m["result"] != float64(0) || m["signature"] == nil {
			t.Fatalf("signed GetKey %d: HTTP %d %v", i, st, m)
		}
	}
	st, retry, m := signed("127.0.0.1", "key/Activate", "m-limited")
	if st != http.StatusTooManyRequests || retry != "3600" {
		t.Fatalf("third signed call from one address: HTTP %d Retry-After %q %v; want 429 and 3600", st, retry, m)
	}
	servertest.MustFail(t, "third signed call from one address", m, want)
	acts, err := cl.Store.ListActivations(context.Background(), k.GlobalID)
	if err != nil || len(acts) != 0 {
		t.Fatalf("an Activate refused for the signing limit recorded %v (%v)", acts, err)
	}
	for i := range 5 {
		st, _, m := postFrom(t, cl, "127.0.0.1", "key/Activate", cl.Form(tok, cl.Product.ID, k.Key, "MachineCode", "m-unsigned"))
		if st != 200 || m["result"] != float64(0) || m["signature"] != nil {
			t.Fatalf("unsigned Activate %d after the limit: HTTP %d %v", i, st, m)
		}
	}
	// Another address has its own bucket, but the token's is shared: 4 signatures in all.
	for i := range 2 {
		if st, _, m := signed("127.0.0.2", "key/Activate", "m2"); st != 200 || m["result"] != float64(0) {
			t.Fatalf("signed Activate %d from a second address: HTTP %d %v", i, st, m)
		}
	}
	st, _, m = signed("127.0.0.3", "key/GetKey", "")
	if st != http.StatusTooManyRequests {
		t.Fatalf("fifth signed call of the token, from a fresh address: HTTP %d %v; want 429", st, m)
	}
	servertest.MustFail(t, "fifth signed call of the token", m, want)
	// Another token from that fresh address is served.
	other := cl.Token(t, license.TokenSpec{})
	if st, _, m := postFrom(t, cl, "127.0.0.3", "key/GetKey", cl.Form(other, cl.Product.ID, k.Key, "Sign", "true")); st != 200 || m["result"] != float64(0) {
		t.Fatalf("another token: HTTP %d %v", st, m)
	}
}

// TestLicenseSOAPSignLimit: the SOAP LicenseService signs every license it answers, so its calls count
// against the same limits; the refusal is a Client fault with HTTP 429.
func TestLicenseSOAPSignLimit(t *testing.T) {
	env := &servertest.LicEnv{}
	st := newStack(t, servertest.WithLicenseStack(env, time.Minute),
		withSignLimits(server.SignLimits{Token: server.SignLimit{Burst: 1, Every: time.Hour}, Address: server.SignLimit{Burst: 100, Every: time.Hour}}))
	ctx := context.Background()
	if err := env.Svc.AddVendor(ctx, "simon0897"); err != nil {
		t.Fatal(err)
	}
	p, err := env.Svc.CreateProduct(ctx, license.Admin(), "simon0897", license.ProductSpec{Name: "Editor"})
	if err != nil {
		t.Fatal(err)
	}
	l := &servertest.LicStack{Stack: st.Stack, Env: env, Prod: p}
	k, err := env.Svc.CreateKey(ctx, license.Admin(), p.ID, license.KeySpec{})
	if err != nil {
		t.Fatal(err)
	}
	inner := fmt.Sprintf("<productId>%d</productId><key>%s</key>", p.ID, k.Key.Key)
	l.OK(t, servertest.Basic("simon0897", "s3cret"), "getKey", inner)
	r := l.Fault(t, servertest.Basic("simon0897", "s3cret"), "getKey", inner, http.StatusTooManyRequests,
		"Too many signed requests. Try again in 3600 seconds.")
	if r.Header.Get("Retry-After") != "3600" {
		t.Fatalf("Retry-After = %q", r.Header.Get("Retry-After"))
	}
}

// BenchmarkCryptolensGetKey is one GetKey over HTTP on SQLite, unsigned (Sign=false) and signed (Sign=true,
// an RSA-2048 signature): the difference is the cost the signing limits bound.
func BenchmarkCryptolensGetKey(b *testing.B) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	if err := store.CreateUser(ctx, storage.User{Name: "simon0897", PasswordHash: "x"}); err != nil {
		b.Fatal(err)
	}
	svc := license.New(store, keys.NewSealerFor(servertest.ServerKey, keys.PurposeLicenseSigningKeys), license.Options{
		GenerateKey: func() (*rsa.PrivateKey, error) { return servertest.PooledKeys()[0], nil }})
	if err := svc.AddVendor(ctx, "simon0897"); err != nil {
		b.Fatal(err)
	}
	p, err := svc.CreateProduct(ctx, license.Admin(), "simon0897", license.ProductSpec{Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	k, err := svc.CreateKey(ctx, license.Admin(), p.ID, license.KeySpec{Period: 30})
	if err != nil {
		b.Fatal(err)
	}
	tok, err := svc.CreateAPIToken(ctx, "simon0897", license.TokenSpec{Name: "bench", Methods: []license.Method{license.MethodGetKey}})
	if err != nil {
		b.Fatal(err)
	}
	off := server.SignLimits{} // no limits: measure the work itself
	ts := httptest.NewServer(server.New(server.Config{SignLimits: &off}, server.Deps{License: svc}))
	b.Cleanup(ts.Close)
	for _, sign := range []string{"false", "true"} {
		body := url.Values{"token": {tok.Token}, "ProductId": {fmt.Sprint(p.ID)}, "Key": {k.Key.Key}, "Sign": {sign}, "SignMethod": {"1"}}.Encode()
		b.Run("Sign="+sign, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				resp, err := http.Post(ts.URL+"/api/key/GetKey", "application/x-www-form-urlencoded", strings.NewReader(body))
				if err != nil {
					b.Fatal(err)
				}
				out, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if !strings.Contains(string(out), `"result":0`) {
					b.Fatalf("GetKey: %s", out)
				}
			}
		})
	}
}
