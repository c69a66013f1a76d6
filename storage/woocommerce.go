package storage

import (
	"context"
	"time"
)

// WooCommerce License Keys compatibility. A store is what a WooCommerce shop is to that plugin: one vendor's
// storefront, recognised by its store code, selling the vendor's products under SKUs. The keys, activations and
// limits are the licensing aggregate's; these records only map the plugin's concepts onto them. The store code is
// kept as a hash, like every other secret, and so are the access tokens of the token endpoint.

// WooStore is one storefront of a vendor.
type WooStore struct {
	ID       int64 // assigned by the store, never reused
	Vendor   string
	Name     string
	CodeHash []byte // SHA-256 of the store code; unique across stores, since the code alone picks the store
	// RequireToken makes activate, validate and deactivate need "Authorization: Bearer" with a token issued for
	// the same license key (the extended plugin's "Enable authorization").
	RequireToken bool
	// ErrorsByCode keys error messages by numeric code instead of by parameter name (the plugin's
	// license_keys_response_errors_format = code).
	ErrorsByCode bool
	CreatedAt    time.Time
}

// WooSKU maps a store's SKU to a product.
type WooSKU struct {
	StoreID   int64
	SKU       string
	ProductID int64
	// Desktop is the plugin's "desktop" product: the domain is optional and not compared, and localhost is not
	// exempt from the key's limit.
	Desktop bool
}

// WooToken is an access token of the token endpoint, stored by the SHA-256 of its value.
type WooToken struct {
	Hash        []byte
	KeyGlobalID int64 // the license key it was issued for
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// WooCommerce stores the WooCommerce License Keys mapping.
type WooCommerce interface {
	// CreateWooStore stores s with a new ID; ErrNotFound if s.Vendor is not a vendor, ErrConflict if another
	// store has the same code.
	CreateWooStore(ctx context.Context, s WooStore) (WooStore, error)
	// GetWooStore returns the store or ErrNotFound.
	GetWooStore(ctx context.Context, id int64) (WooStore, error)
	// FindWooStore returns the store whose code hashes to codeHash, or ErrNotFound.
	FindWooStore(ctx context.Context, codeHash []byte) (WooStore, error)
	// ListWooStores returns the vendor's stores (every store if vendor is empty) ordered by ID.
	ListWooStores(ctx context.Context, vendor string) ([]WooStore, error)
	// UpdateWooStore applies update inside one transaction; Name, CodeHash, RequireToken and ErrorsByCode are
	// written. ErrNotFound if absent, ErrConflict if the new code is another store's.
	UpdateWooStore(ctx context.Context, id int64, update func(*WooStore) error) (WooStore, error)

	// PutWooSKU adds or replaces the store's SKU; ErrNotFound if the store or the product does not exist.
	PutWooSKU(ctx context.Context, s WooSKU) error
	// GetWooSKU returns the store's SKU or ErrNotFound.
	GetWooSKU(ctx context.Context, storeID int64, sku string) (WooSKU, error)
	// ListWooSKUs returns the store's SKUs ordered by SKU.
	ListWooSKUs(ctx context.Context, storeID int64) ([]WooSKU, error)
	// DeleteWooSKU removes the store's SKU; ErrNotFound if absent.
	DeleteWooSKU(ctx context.Context, storeID int64, sku string) error

	// GetLicenseKeyByGlobalID returns the key with this GlobalID (the plugin's order item id) or ErrNotFound.
	GetLicenseKeyByGlobalID(ctx context.Context, globalID int64) (LicenseKey, error)

	// CreateWooToken stores t; ErrConflict if the hash exists, ErrNotFound if the key does not.
	CreateWooToken(ctx context.Context, t WooToken) error
	// GetWooToken returns the token with this hash, expired or not, or ErrNotFound.
	GetWooToken(ctx context.Context, hash []byte) (WooToken, error)
	// DeleteWooTokens removes tokens that expired before cutoff, at most limit of them; returns how many.
	DeleteWooTokens(ctx context.Context, cutoff time.Time, limit int) (int, error)
	// TrimWooTokens removes the key's tokens still live at now beyond the newest keep (by CreatedAt, then hash);
	// returns how many.
	TrimWooTokens(ctx context.Context, keyGlobalID int64, now time.Time, keep int) (int, error)

	// DeleteWooStore removes the store. With SKUs on it, ErrInUse unless force; forced, they go in the same
	// transaction. Returns how many SKUs went with it; ErrNotFound if absent.
	DeleteWooStore(ctx context.Context, id int64, force bool) (skus int, err error)
}
