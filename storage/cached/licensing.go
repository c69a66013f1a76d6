package cached

import (
	"context"
	"encoding/hex"
	"slices"
	"strconv"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

// The licensing records that every licensing call reads and that change rarely: the API token a call presents,
// the product it names, the vendor behind them, and the WooCommerce store a validation names by its code, the SKU
// it names in that store and the token it presents. Their triggers (migrations 0023 and 0025) announce every change or removal on the
// feed, so they follow the same rules as tokens: a revoked API token is dropped here before RevokeAPIToken
// returns, and on other nodes at their next Sync. License keys, with their activations and data objects, are kept apart (licensekeys.go).
type licensing struct {
	apiTokens *table[storage.APIToken]
	products  *table[storage.Product]
	vendors   *table[storage.Vendor]
	wooStores *table[storage.WooStore]
	wooSKUs   *table[storage.WooSKU]   // by store id, "/" and SKU (migration 0025)
	wooTokens *table[storage.WooToken] // by the hex of the hash (migration 0025)
}

func newLicensing(o Options) licensing {
	return licensing{apiTokens: newTable[storage.APIToken](o), products: newTable[storage.Product](o),
		vendors: newTable[storage.Vendor](o), wooStores: newTable[storage.WooStore](o), wooSKUs: newTable[storage.WooSKU](o),
		wooTokens: newTable[storage.WooToken](o)}
}

// drop drops the entry a change names; false if the kind is not a licensing one.
func (l licensing) drop(kind storage.ChangeKind, key string) bool {
	switch kind {
	case storage.ChangedAPIToken:
		l.apiTokens.drop(key)
	case storage.ChangedProduct:
		l.products.drop(key)
	case storage.ChangedVendor:
		l.vendors.drop(key)
	case storage.ChangedWooStore:
		l.wooStores.drop(key)
	case storage.ChangedWooSKU:
		l.wooSKUs.drop(key)
	case storage.ChangedWooToken:
		l.wooTokens.drop(key)
	default:
		return false
	}
	return true
}

func (l licensing) dropAll() {
	l.apiTokens.dropAll()
	l.products.dropAll()
	l.vendors.dropAll()
	l.wooStores.dropAll()
	l.wooSKUs.dropAll()
	l.wooTokens.dropAll()
}

func (l licensing) sweep(now time.Time) {
	l.apiTokens.sweep(now)
	l.products.sweep(now)
	l.vendors.sweep(now)
	l.wooStores.sweep(now)
	l.wooSKUs.sweep(now)
	l.wooTokens.sweep(now)
}

func (c *Store) GetAPIToken(ctx context.Context, id int64) (storage.APIToken, error) {
	t, err := read(c, c.lic.apiTokens, strconv.FormatInt(id, 10), func() (storage.APIToken, error) { return c.Store.GetAPIToken(ctx, id) })
	t.SecretHash, t.Permissions = slices.Clone(t.SecretHash), slices.Clone(t.Permissions) // callers own what they get
	return t, err
}

func (c *Store) GetProduct(ctx context.Context, id int64) (storage.Product, error) {
	p, err := read(c, c.lic.products, strconv.FormatInt(id, 10), func() (storage.Product, error) { return c.Store.GetProduct(ctx, id) })
	p.PublicKey, p.SealedPrivateKey = slices.Clone(p.PublicKey), slices.Clone(p.SealedPrivateKey)
	return p, err
}

func (c *Store) GetVendor(ctx context.Context, name string) (storage.Vendor, error) {
	return read(c, c.lic.vendors, name, func() (storage.Vendor, error) { return c.Store.GetVendor(ctx, name) })
}

// FindWooStore is keyed by the code hash, as the feed names a store (its hash before the change, for a store
// whose code was changed).
func (c *Store) FindWooStore(ctx context.Context, codeHash []byte) (storage.WooStore, error) {
	ws, err := read(c, c.lic.wooStores, hex.EncodeToString(codeHash), func() (storage.WooStore, error) { return c.Store.FindWooStore(ctx, codeHash) })
	ws.CodeHash = slices.Clone(ws.CodeHash)
	return ws, err
}

func (c *Store) GetWooSKU(ctx context.Context, storeID int64, sku string) (storage.WooSKU, error) {
	return read(c, c.lic.wooSKUs, strconv.FormatInt(storeID, 10)+"/"+sku, func() (storage.WooSKU, error) {
		return c.Store.GetWooSKU(ctx, storeID, sku)
	})
}

// GetWooToken is keyed by the hash's hex, as the feed names a token. A token's fields never change, and its
// removal (trimmed past its key's limit, with its key, or collected once expired) is announced.
func (c *Store) GetWooToken(ctx context.Context, hash []byte) (storage.WooToken, error) {
	t, err := read(c, c.lic.wooTokens, hex.EncodeToString(hash), func() (storage.WooToken, error) { return c.Store.GetWooToken(ctx, hash) })
	t.Hash = slices.Clone(t.Hash)
	return t, err
}
