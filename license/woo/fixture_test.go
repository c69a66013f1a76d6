package woo_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/keys"
	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/sqlite"
)

// The licensing core under the WooCommerce layer, as license's own tests set it up: vendors acme and other,
// plain a user who is no vendor, on a clock of the test's.

// testKeys are generated once: RSA-2048 generation is slow under -race, and tests make many products.
var testKeys = sync.OnceValue(func() []*rsa.PrivateKey {
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

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	svc   *license.Service
	store storage.Store
	clock *clock
	path  string
	admin *license.Access
}

var master = make([]byte, 32)

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "lic.db")
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, u := range []string{"acme", "other", "plain"} {
		if err := st.CreateUser(ctx, storage.User{Name: u, PasswordHash: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	clk := &clock{now: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)}
	var n int
	var mu sync.Mutex
	svc := license.New(st, keys.NewSealerFor(master, keys.PurposeLicenseSigningKeys), license.Options{Now: clk.Now,
		GenerateKey: func() (*rsa.PrivateKey, error) {
			mu.Lock()
			defer mu.Unlock()
			n++
			return testKeys()[n%len(testKeys())], nil
		}})
	for _, v := range []string{"acme", "other"} {
		if err := svc.AddVendor(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	return &fixture{svc: svc, store: st, clock: clk, path: path, admin: license.Admin()}
}

func (f *fixture) product(t testing.TB, vendor string) storage.Product {
	t.Helper()
	p, err := f.svc.CreateProduct(context.Background(), f.admin, vendor, license.ProductSpec{Name: "Product of " + vendor})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (f *fixture) key(t testing.TB, productID int64, spec license.KeySpec) storage.LicenseKey {
	t.Helper()
	k, err := f.svc.CreateKey(context.Background(), f.admin, productID, spec)
	if err != nil {
		t.Fatal(err)
	}
	return k.Key
}

func (f *fixture) token(t *testing.T, vendor string, spec license.TokenSpec) *license.Access {
	t.Helper()
	ctx := context.Background()
	issued, err := f.svc.CreateAPIToken(ctx, vendor, spec)
	if err != nil {
		t.Fatal(err)
	}
	a, err := f.svc.Authenticate(ctx, issued.Token)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
