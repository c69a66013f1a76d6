package servertest

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"math/big"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/tokenmanager/tokenmanager/audit"
	"github.com/tokenmanager/tokenmanager/keys"
	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/server"
	"github.com/tokenmanager/tokenmanager/storage"
)

// PooledKeys: RSA-2048 generation is slow under -race; products in these tests draw from a few keys.
var PooledKeys = sync.OnceValue(func() []*rsa.PrivateKey {
	out := make([]*rsa.PrivateKey, 3)
	for i := range out {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		out[i] = k
	}
	return out
})

// CLStack is the server with the licensing service, simon0897 and paul1234 as vendors, and one product of
// simon0897's.
type CLStack struct {
	*Stack
	Svc     *license.Service
	Calls   *audit.Batcher[storage.WebAPILogEntry] // the web API log's writer
	Product storage.Product
	PubXML  string // the product's key as `tokenmanager product pubkey` prints it
}

// WithLicense wires a license service (on the stack's clock) into the server and hands it back.
func WithLicense(svc **license.Service) Option { return withLicense(svc, nil) }

// withLicense is WithLicense, keeping the web API log with a batcher handed back in calls (the caller closes it).
func withLicense(svc **license.Service, calls **audit.Batcher[storage.WebAPILogEntry]) Option {
	return func(su *Setup) {
		su.Wire = append(su.Wire, func(st *Stack, d *server.Deps) {
			var mu sync.Mutex
			n := 0
			var log license.CallLogger
			if calls != nil {
				*calls = audit.NewBatcher("web API log", st.Store.AppendWebAPILog, nil, audit.Options{Now: st.Clock.Now})
				log = *calls
			}
			*svc = license.New(st.Store, keys.NewSealerFor(ServerKey, keys.PurposeLicenseSigningKeys), license.Options{
				Now: st.Clock.Now, Passwords: d.Auth, Audit: st.Audit, CallLog: log, Activated: st.Usage.Activated,
				GenerateKey: func() (*rsa.PrivateKey, error) {
					mu.Lock()
					defer mu.Unlock()
					n++
					return PooledKeys()[n%len(PooledKeys())], nil
				}})
			d.License = *svc
		})
	}
}

func NewCLStack(t *testing.T, opts ...Option) *CLStack {
	t.Helper()
	var svc *license.Service
	var calls *audit.Batcher[storage.WebAPILogEntry]
	st := NewStack(t, append(opts, withLicense(&svc, &calls))...)
	t.Cleanup(calls.Close)
	ctx := context.Background()
	for _, v := range []string{"simon0897", "paul1234"} {
		if err := svc.AddVendor(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	cl := &CLStack{Stack: st, Svc: svc, Calls: calls}
	cl.Product = cl.NewProduct(t, "simon0897")
	pub, err := license.PublicKey(cl.Product)
	if err != nil {
		t.Fatal(err)
	}
	cl.PubXML = license.PublicKeyXML(pub)
	return cl
}

func (cl *CLStack) NewProduct(t *testing.T, vendor string) storage.Product {
	t.Helper()
	p, err := cl.Svc.CreateProduct(context.Background(), license.Admin(), vendor, license.ProductSpec{Name: "App of " + vendor})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (cl *CLStack) NewKey(t *testing.T, spec license.KeySpec) storage.LicenseKey {
	t.Helper()
	return cl.NewKeyIn(t, cl.Product.ID, spec)
}

func (cl *CLStack) NewKeyIn(t *testing.T, productID int64, spec license.KeySpec) storage.LicenseKey {
	t.Helper()
	k, err := cl.Svc.CreateKey(context.Background(), license.Admin(), productID, spec)
	if err != nil {
		t.Fatal(err)
	}
	return k.Key
}

// AllMethods is every permission a token can have but GetToken, on which the key lock means days, not a key.
var AllMethods = slices.DeleteFunc(slices.Clone(license.Methods), func(m license.Method) bool { return m == license.MethodGetToken })

func (cl *CLStack) Token(t *testing.T, spec license.TokenSpec) string {
	t.Helper()
	if spec.Methods == nil {
		spec.Methods = AllMethods
	}
	issued, err := cl.Svc.CreateAPIToken(context.Background(), "simon0897", spec)
	if err != nil {
		t.Fatal(err)
	}
	return issued.Token
}

// Post calls /api/<method> with a form body, as the SDKs do.
func (cl *CLStack) Post(t *testing.T, method string, form url.Values) map[string]any {
	t.Helper()
	r := Do(t, "POST", cl.URL+"/api/"+method, form.Encode(), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("POST /api/%s: HTTP %d %s %q", method, r.Status, r.Header.Get("Content-Type"), r.Body)
	}
	return r.JSON(t)
}

func (cl *CLStack) Form(token string, productID int64, key string, kv ...string) url.Values {
	f := url.Values{"token": {token}, "ProductId": {fmt.Sprint(productID)}, "Key": {key}}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Set(kv[i], kv[i+1])
	}
	return f
}

func MustOK(t *testing.T, what string, m map[string]any) {
	t.Helper()
	if m["result"] != float64(0) {
		t.Fatalf("%s: %v", what, m)
	}
}

func MustFail(t *testing.T, what string, m map[string]any, msg string) {
	t.Helper()
	if m["result"] != float64(1) || m["message"] != msg || len(m) != 2 {
		t.Fatalf("%s = %v; want exactly {\"result\":1,\"message\":%q}", what, m, msg)
	}
}

// ParseRSAKeyValue reads Cryptolens' <RSAKeyValue> the way a client does.
func ParseRSAKeyValue(t *testing.T, s string) *rsa.PublicKey {
	t.Helper()
	var v struct {
		XMLName  xml.Name `xml:"RSAKeyValue"`
		Modulus  string
		Exponent string
	}
	if err := xml.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("RSAKeyValue %q: %v", s, err)
	}
	n, err1 := base64.StdEncoding.DecodeString(v.Modulus)
	e, err2 := base64.StdEncoding.DecodeString(v.Exponent)
	if err1 != nil || err2 != nil {
		t.Fatalf("RSAKeyValue base64: %v %v", err1, err2)
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
}

// Verified decodes a signed answer's licenseKey, checks the signature over the decoded bytes with the key
// parsed from the RSAKeyValue XML, and returns the raw JSON and its decoded form.
func Verified(t *testing.T, pubXML string, m map[string]any) ([]byte, map[string]any) {
	t.Helper()
	MustOK(t, "signed answer", m)
	raw, err := base64.StdEncoding.DecodeString(m["licenseKey"].(string))
	if err != nil {
		t.Fatal(err)
	}
	sigB64, _ := m["signature"].(string)
	sig, err := base64.StdEncoding.DecodeString(sigB64)
	if err != nil || len(sig) != 256 {
		t.Fatalf("signature %q: %v", sigB64, err)
	}
	d := sha256.Sum256(raw)
	if err := rsa.VerifyPKCS1v15(ParseRSAKeyValue(t, pubXML), crypto.SHA256, d[:], sig); err != nil {
		t.Fatalf("signature does not verify over the decoded licenseKey: %v", err)
	}
	var lk map[string]any
	if err := json.Unmarshal(raw, &lk); err != nil {
		t.Fatal(err)
	}
	return raw, lk
}

// Values is a form of name, value pairs, as an SDK posts it.
func Values(kv ...string) url.Values {
	f := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Set(kv[i], kv[i+1])
	}
	return f
}
