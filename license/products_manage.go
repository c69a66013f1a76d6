package license

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/tokenmanager/tokenmanager/storage"
)

// ErrProductInUse: the product still has license keys or WooCommerce SKUs, and the delete was not forced.
var ErrProductInUse = errors.New("license: product in use")

// ProductEdit changes a product; nil fields stay as they are.
type ProductEdit struct {
	Name         *string
	BlockExpired *bool
	// AllowActivationManagement: customers may free their keys' machines on /account/.
	AllowActivationManagement *bool
}

// EditProduct applies e to a product the access reaches. check, when set, runs on the stored product inside
// the same transaction before the change and may refuse it (a stale ETag); its error is returned as it is.
func (s *Service) EditProduct(ctx context.Context, a *Access, id int64, e ProductEdit, check func(storage.Product) error) (storage.Product, error) {
	if a.tokenID != 0 {
		return storage.Product{}, fmt.Errorf("%w: editing a product needs vendor access, not an API token", ErrAccessDenied)
	}
	var name string
	if e.Name != nil {
		name = strings.TrimSpace(*e.Name)
		if name == "" {
			return storage.Product{}, invalid("a product needs a name")
		}
		if err := CheckText("product name", name, MaxNameLen); err != nil {
			return storage.Product{}, err
		}
	}
	if _, err := s.product(ctx, a, id); err != nil {
		return storage.Product{}, err
	}
	p, err := s.store.UpdateProduct(ctx, id, func(p *storage.Product) error {
		if check != nil {
			if err := check(*p); err != nil {
				return err
			}
		}
		if e.Name != nil {
			p.Name = name
		}
		if e.BlockExpired != nil {
			p.BlockExpired = *e.BlockExpired
		}
		if e.AllowActivationManagement != nil {
			p.AllowActivationManagement = *e.AllowActivationManagement
		}
		return nil
	})
	if errors.Is(err, storage.ErrNotFound) {
		return storage.Product{}, fmt.Errorf("%w: %d", ErrProductNotFound, id)
	}
	return p, err
}

// DeleteProduct removes a product the access reaches. A product with license keys or WooCommerce SKUs is
// refused with ErrProductInUse unless force; forced, the keys (with their activations) and SKUs go with it, in
// one transaction. The returned counts say what went.
func (s *Service) DeleteProduct(ctx context.Context, a *Access, id int64, force bool) (storage.ProductRemoval, error) {
	if a.tokenID != 0 {
		return storage.ProductRemoval{}, fmt.Errorf("%w: deleting a product needs vendor access, not an API token", ErrAccessDenied)
	}
	if _, err := s.product(ctx, a, id); err != nil {
		return storage.ProductRemoval{}, err
	}
	r, err := s.store.DeleteProduct(ctx, id, force)
	switch {
	case errors.Is(err, storage.ErrInUse):
		return r, fmt.Errorf("%w: product %d has %d license key(s) and %d WooCommerce SKU(s); delete them first, or force",
			ErrProductInUse, id, r.Keys, r.SKUs)
	case errors.Is(err, storage.ErrNotFound):
		return r, fmt.Errorf("%w: %d", ErrProductNotFound, id)
	case err != nil:
		return r, err
	}
	s.mu.Lock()
	delete(s.signers, id)
	s.mu.Unlock()
	return r, nil
}

// ErrKeyInUse: the key still has activations, and the delete was not forced.
var ErrKeyInUse = errors.New("license: key in use")

// DeleteKey removes a key of a product the access reaches. A key with activations is refused with ErrKeyInUse
// unless force; forced, the activations go with it in one transaction. It returns how many went.
func (s *Service) DeleteKey(ctx context.Context, a *Access, productID int64, key string, force bool) (int, error) {
	if a.tokenID != 0 {
		return 0, fmt.Errorf("%w: deleting a key needs vendor access, not an API token", ErrAccessDenied)
	}
	p, err := s.product(ctx, a, productID)
	if err != nil {
		return 0, err
	}
	key, err = normalizeKey(key)
	if err != nil {
		return 0, err
	}
	n, err := s.store.DeleteLicenseKey(ctx, p.ID, key, force)
	switch {
	case errors.Is(err, storage.ErrInUse):
		err = fmt.Errorf("%w: the key has %d activation(s); free the seats first, or force", ErrKeyInUse, n)
	case errors.Is(err, storage.ErrNotFound):
		err = ErrKeyNotFound
	}
	s.record(ctx, a, p.Vendor, "license.key.delete", fmt.Sprintf("%s activations=%d", keyDetail(p.ID, key), n), err)
	if err != nil {
		return 0, err
	}
	return n, nil
}
