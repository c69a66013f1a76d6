package woo_test

import (
	"context"
	"errors"
	"testing"

	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/license/woo"
	"github.com/tokenmanager/tokenmanager/storage"
)

// TestWooStoreRemoval: a store selling SKUs is kept unless forced; another vendor cannot remove it nor tell it
// exists; once removed its code opens nothing; a stale check aborts an update.
func TestWooStoreRemoval(t *testing.T) {
	f := newWooFixture(t, woo.StoreSpec{})
	ctx := context.Background()
	other, err := f.Svc.Vendor(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.woo.DeleteStore(ctx, other, f.shop.ID, true); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("DeleteStore(another vendor's) = %v, want ErrNotFound", err)
	}
	if _, err := f.woo.SKU(ctx, other, f.shop.ID, "ED-PRO"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("SKU(another vendor's store) = %v, want ErrNotFound", err)
	}
	if n, err := f.woo.DeleteStore(ctx, f.Admin, f.shop.ID, false); !errors.Is(err, storage.ErrInUse) || n != 1 {
		t.Fatalf("DeleteStore(selling) = %d, %v; want 1, ErrInUse", n, err)
	}
	stale := errors.New("stale")
	name := "renamed"
	if _, err := f.woo.UpdateStore(ctx, f.Admin, f.shop.ID, woo.StoreChange{Name: &name,
		Check: func(storage.WooStore) error { return stale }}); !errors.Is(err, stale) {
		t.Fatalf("UpdateStore(failing check) = %v", err)
	}
	if st, _ := f.woo.Store(ctx, f.Admin, f.shop.ID); st.Name == name {
		t.Fatal("an update whose check failed was written")
	}
	k := f.Key(t, f.prod.ID, license.KeySpec{})
	if _, err := f.woo.Activate(ctx, f.req(k, "a.example", 0)); err != nil {
		t.Fatal(err)
	}
	acme, _ := f.Svc.Vendor(ctx, "acme")
	if n, err := f.woo.DeleteStore(ctx, acme, f.shop.ID, true); err != nil || n != 1 {
		t.Fatalf("DeleteStore(forced) = %d, %v", n, err)
	}
	_, err = f.woo.Validate(ctx, f.req(k, "a.example", f.Clock.Now().Unix()))
	wantCodes(t, "the removed store's code", err, 5)
	if _, err := f.woo.Store(ctx, f.Admin, f.shop.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Store(removed) = %v", err)
	}
	if d, err := f.Svc.ShowKey(ctx, f.Admin, f.prod.ID, k.Key); err != nil || d.Key.Key != k.Key {
		t.Fatalf("the product's key went with the store: %v", err)
	}
	if a, b := woo.NewStoreCode(), woo.NewStoreCode(); a == b || len(a) != 43 {
		t.Fatalf("NewStoreCode: %q %q", a, b)
	}
}
