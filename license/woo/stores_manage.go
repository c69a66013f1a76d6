package woo

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/storage"
)

// NewStoreCode is a store code for a store whose vendor did not bring one: 256 random bits, 43 characters of
// unpadded base64url, which the plugin's settings page takes as it is. Shown once; only its hash is kept.
func NewStoreCode() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Store returns the store if the access reaches it: ErrNotFound (wrapped) for another vendor's, as for none.
func (w *Service) Store(ctx context.Context, a *license.Access, id int64) (storage.WooStore, error) {
	return w.storeAccess(ctx, a, id)
}

// SKU returns one of the store's SKUs; ErrNotFound (wrapped) when the store or the SKU is not there.
func (w *Service) SKU(ctx context.Context, a *license.Access, storeID int64, sku string) (storage.WooSKU, error) {
	if _, err := w.storeAccess(ctx, a, storeID); err != nil {
		return storage.WooSKU{}, err
	}
	k, err := w.store.GetWooSKU(ctx, storeID, sku)
	if errors.Is(err, storage.ErrNotFound) {
		return k, fmt.Errorf("%w: store %d has no SKU %q", storage.ErrNotFound, storeID, sku)
	}
	return k, err
}

// DeleteStore removes the store. While it sells SKUs it is refused (storage.ErrInUse, wrapped) unless force,
// which removes them in the same transaction; returns how many went with it. Keys are the products', not the
// store's, and stay.
func (w *Service) DeleteStore(ctx context.Context, a *license.Access, id int64, force bool) (int, error) {
	st, err := w.storeAccess(ctx, a, id)
	if err != nil {
		return 0, err
	}
	n, err := w.store.DeleteWooStore(ctx, id, force)
	switch {
	case errors.Is(err, storage.ErrInUse):
		return n, fmt.Errorf("%w: store %d sells %d SKU(s)", storage.ErrInUse, id, n)
	case errors.Is(err, storage.ErrNotFound):
		return 0, fmt.Errorf("%w: no store %d", storage.ErrNotFound, id)
	case err != nil:
		return 0, err
	}
	w.svc.Record(ctx, a, st.Vendor, "woo.store.delete", fmt.Sprintf("store=%d name=%q skus=%d", id, st.Name, n))
	return n, nil
}
