// Package licensetest sets up the licensing core for tests of the packages over it (license's own tests,
// license/woo): a real SQLite store in a temporary directory, vendors acme and other, plain a user who is no
// vendor, on a clock of the test's.
package licensetest

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

// Master is the server key the fixture's products are sealed with.
var Master = make([]byte, 32)

// TestKeys are generated once: RSA-2048 generation is slow under -race, and tests make many products.
var TestKeys = sync.OnceValue(func() []*rsa.PrivateKey {
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

// Clock is a test's clock, safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// Now is the clock's time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

// Add moves the clock on by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Fixture is the licensing core over a fresh store.
type Fixture struct {
	Svc   *license.Service
	Store storage.Store
	Clock *Clock
	Path  string // the SQLite file
	Admin *license.Access
	Audit *Audit // the events the core recorded
}

// Audit keeps the events the core records, in memory.
type Audit struct {
	mu     sync.Mutex
	events []storage.AuditEvent
}

// Record keeps e.
func (a *Audit) Record(e storage.AuditEvent) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.events = append(a.events, e)
}

// Events are the events kept, oldest first.
func (a *Audit) Events() []storage.AuditEvent {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]storage.AuditEvent(nil), a.events...)
}

// New returns a fixture whose store is closed when the test ends.
func New(t testing.TB) *Fixture {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "lic.db")
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := On(t, st)
	f.Path = path
	return f
}

// On returns a fixture over st, an empty store of any backend (the caller closes it).
func On(t testing.TB, st storage.Store) *Fixture {
	t.Helper()
	ctx := context.Background()
	for _, u := range []string{"acme", "other", "plain"} {
		if err := st.CreateUser(ctx, storage.User{Name: u, PasswordHash: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	clk := &Clock{now: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)}
	var n int
	var mu sync.Mutex
	rec := &Audit{}
	svc := license.New(st, keys.NewSealerFor(Master, keys.PurposeLicenseSigningKeys), license.Options{Now: clk.Now, Audit: rec,
		GenerateKey: func() (*rsa.PrivateKey, error) {
			mu.Lock()
			defer mu.Unlock()
			n++
			return TestKeys()[n%len(TestKeys())], nil
		}})
	for _, v := range []string{"acme", "other"} {
		if err := svc.AddVendor(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	return &Fixture{Svc: svc, Store: st, Clock: clk, Admin: license.Admin(), Audit: rec}
}

// Product creates a product of vendor.
func (f *Fixture) Product(t testing.TB, vendor string) storage.Product {
	t.Helper()
	p, err := f.Svc.CreateProduct(context.Background(), f.Admin, vendor, license.ProductSpec{Name: "Product of " + vendor})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Key creates a license key of a product.
func (f *Fixture) Key(t testing.TB, productID int64, spec license.KeySpec) storage.LicenseKey {
	t.Helper()
	k, err := f.Svc.CreateKey(context.Background(), f.Admin, productID, spec)
	if err != nil {
		t.Fatal(err)
	}
	return k.Key
}

// Token creates an API token of vendor and returns the access it authenticates.
func (f *Fixture) Token(t *testing.T, vendor string, spec license.TokenSpec) *license.Access {
	t.Helper()
	ctx := context.Background()
	issued, err := f.Svc.CreateAPIToken(ctx, vendor, spec)
	if err != nil {
		t.Fatal(err)
	}
	a, err := f.Svc.Authenticate(ctx, issued.Token)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// Activate activates a machine on a key, from the documentation address 192.0.2.7.
func (f *Fixture) Activate(a *license.Access, productID int64, key, machine string, floating time.Duration, overdraft int) (license.License, error) {
	return f.Svc.Activate(context.Background(), a, license.ActivateRequest{ProductID: productID, Key: key,
		MachineCode: machine, FloatingInterval: floating, MaxOverdraft: overdraft, IP: "192.0.2.7"})
}
