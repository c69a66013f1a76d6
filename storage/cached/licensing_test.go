package cached

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

// licFixture adds a vendor, a product, a WooCommerce store and an API token to a fixture.
type licFixture struct {
	*fixture
	token     int64
	product   int64
	storeID   int64
	storeHash []byte
	wooKey    int64 // the key of the WooCommerce token "woo-token"
}

func newLicFixture(t *testing.T) *licFixture {
	t.Helper()
	f := &licFixture{fixture: newFixture(t, nil, Options{TTL: time.Hour})}
	ctx := context.Background()
	if err := f.other.AddVendor(ctx, storage.Vendor{Name: "alice", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	p, err := f.other.CreateProduct(ctx, storage.Product{Vendor: "alice", Name: "editor", PublicKey: []byte("pub"), CreatedAt: t0},
		func(int64) ([]byte, error) { return []byte("sealed"), nil })
	if err != nil {
		t.Fatal(err)
	}
	f.storeHash = []byte("store-code-hash")
	ws, err := f.other.CreateWooStore(ctx, storage.WooStore{Vendor: "alice", CodeHash: f.storeHash, CreatedAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := f.other.CreateAPIToken(ctx, storage.APIToken{Vendor: "alice", SecretHash: []byte{1}, Permissions: []string{"GetKey"}, CreatedAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	f.token, f.product, f.storeID = tok.ID, p.ID, ws.ID
	if err := f.other.PutWooSKU(ctx, storage.WooSKU{StoreID: ws.ID, SKU: "EDITOR", ProductID: p.ID}); err != nil {
		t.Fatal(err)
	}
	k, err := f.other.CreateLicenseKey(ctx, storage.LicenseKey{ProductID: p.ID, Key: "WOOKY-AAAAA-BBBBB-CCCCC", CreatedAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	f.wooKey = k.GlobalID
	if err := f.other.CreateWooToken(ctx, storage.WooToken{Hash: []byte("woo-token"), KeyGlobalID: k.GlobalID, CreatedAt: t0,
		ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	return f
}

// licState reads the records through the cache.
func (f *licFixture) licState(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	tok, err1 := f.c.GetAPIToken(ctx, f.token)
	p, err2 := f.c.GetProduct(ctx, f.product)
	ws, err3 := f.c.FindWooStore(ctx, f.storeHash)
	sku, err4 := f.c.GetWooSKU(ctx, f.storeID, "EDITOR")
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
		t.Fatal(err1, err2, err3, err4)
	}
	_, err := f.c.GetWooToken(ctx, []byte("woo-token"))
	trimmed := errors.Is(err, storage.ErrNotFound)
	if err != nil && !trimmed {
		t.Fatal(err)
	}
	return fmt.Sprintf("revoked=%v block_expired=%v require_token=%v desktop=%v trimmed=%v", tok.Revoked(), p.BlockExpired,
		ws.RequireToken, sku.Desktop, trimmed)
}

func (f *licFixture) changeAll(t *testing.T, s storage.Store) {
	t.Helper()
	ctx := context.Background()
	if err := s.RevokeAPIToken(ctx, f.token, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateProduct(ctx, f.product, func(p *storage.Product) error { p.BlockExpired = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateWooStore(ctx, f.storeID, func(w *storage.WooStore) error { w.RequireToken = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.PutWooSKU(ctx, storage.WooSKU{StoreID: f.storeID, SKU: "EDITOR", ProductID: f.product, Desktop: true}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.TrimWooTokens(ctx, f.wooKey, time.Now(), 0); err != nil || n != 1 {
		t.Fatal(n, err)
	}
}

const (
	licLive    = "revoked=false block_expired=false require_token=false desktop=false trimmed=false"
	licChanged = "revoked=true block_expired=true require_token=true desktop=true trimmed=true"
)

func TestOwnLicensingChangesAreSeenAtOnce(t *testing.T) {
	f := newLicFixture(t)
	if got := f.licState(t); got != licLive {
		t.Fatal(got)
	}
	f.changeAll(t, f.c)
	if got := f.licState(t); got != licChanged {
		t.Fatalf("after changing through this store: %s", got)
	}
}

func TestOtherNodesLicensingChangesAreSeenAtTheNextSync(t *testing.T) {
	f := newLicFixture(t)
	if got := f.licState(t); got != licLive {
		t.Fatal(got)
	}
	f.changeAll(t, f.other)
	if got := f.licState(t); got != licLive {
		t.Fatalf("before Sync: %s (the cache was not used)", got)
	}
	if err := f.c.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := f.licState(t); got != licChanged {
		t.Fatalf("after Sync: %s", got)
	}
}

// A caller changing what it got must not change the cached copy.
func TestLicensingCopiesAreTheCallers(t *testing.T) {
	f := newLicFixture(t)
	ctx := context.Background()
	tok, _ := f.c.GetAPIToken(ctx, f.token)
	tok.Permissions[0], tok.SecretHash[0] = "Activate", 9
	p, _ := f.c.GetProduct(ctx, f.product)
	p.PublicKey[0] = 'X'
	ws, _ := f.c.FindWooStore(ctx, f.storeHash)
	ws.CodeHash[0] = 'X'
	tok, _ = f.c.GetAPIToken(ctx, f.token)
	p, _ = f.c.GetProduct(ctx, f.product)
	ws, err := f.c.FindWooStore(ctx, f.storeHash)
	if tok.Permissions[0] != "GetKey" || tok.SecretHash[0] != 1 || string(p.PublicKey) != "pub" || err != nil || string(ws.CodeHash) != string(f.storeHash) {
		t.Fatalf("a caller's change reached the cache: %+v %+v %+v %v", tok, p, ws, err)
	}
}
