package conformance

import (
	"context"
	"errors"
	"testing"

	"github.com/tokenmanager/tokenmanager/storage"
)

// testWooStoreRemoval: a store with SKUs is refused unless forced; forced, its SKUs go with it and nobody
// else's; its code is free again.
func testWooStoreRemoval(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustVendor(t, s, "acme")
	p := mustProduct(t, s, "acme", "Editor")
	st := mustWooStore(t, s, "acme", "a")
	other := mustWooStore(t, s, "acme", "b")
	empty := mustWooStore(t, s, "acme", "c")
	for _, k := range []storage.WooSKU{{StoreID: st.ID, SKU: "A", ProductID: p.ID}, {StoreID: st.ID, SKU: "B", ProductID: p.ID},
		{StoreID: other.ID, SKU: "A", ProductID: p.ID}} {
		if err := s.PutWooSKU(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.DeleteWooStore(ctx, 999, true); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("DeleteWooStore(missing) = %v, want ErrNotFound", err)
	}
	if n, err := s.DeleteWooStore(ctx, st.ID, false); !errors.Is(err, storage.ErrInUse) || n != 2 {
		t.Fatalf("DeleteWooStore(with SKUs) = %d, %v; want 2, ErrInUse", n, err)
	}
	if skus, _ := s.ListWooSKUs(ctx, st.ID); len(skus) != 2 {
		t.Fatalf("a refused removal removed SKUs: %+v", skus)
	}
	if n, err := s.DeleteWooStore(ctx, empty.ID, false); err != nil || n != 0 {
		t.Fatalf("DeleteWooStore(empty) = %d, %v", n, err)
	}
	if n, err := s.DeleteWooStore(ctx, st.ID, true); err != nil || n != 2 {
		t.Fatalf("DeleteWooStore(forced) = %d, %v; want 2", n, err)
	}
	if _, err := s.GetWooStore(ctx, st.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("the store is still there: %v", err)
	}
	if _, err := s.GetWooSKU(ctx, st.ID, "A"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("its SKU is still there: %v", err)
	}
	if k, err := s.GetWooSKU(ctx, other.ID, "A"); err != nil || k.ProductID != p.ID {
		t.Fatalf("another store's SKU went too: %+v, %v", k, err)
	}
	if _, err := s.DeleteWooStore(ctx, st.ID, true); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("DeleteWooStore twice = %v, want ErrNotFound", err)
	}
	// The code is free for a new store.
	if _, err := s.CreateWooStore(ctx, storage.WooStore{Vendor: "acme", CodeHash: []byte("hash-a"), CreatedAt: base}); err != nil {
		t.Fatalf("the removed store's code is still taken: %v", err)
	}
}
