package cached

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

// License keys, each with its activations and the data objects on it: what every GetKey, Activate answer and
// WooCommerce validation reads. The triggers of migration 0025 announce any change of a key, of one of its
// activations, or of a data object on it or on one of its machines, under the key's global id, so all three are
// dropped together. A change made through this process's store is dropped before the call that made it returns
// (the store runs the OnChange callbacks after it); one made by another node or the CLI at the next Sync.
//
// Seats are never counted from here: UpdateActivations reads the key and its machines inside its own
// transaction. What is cached is only what answers a read.
type licenseKeys struct {
	keys        *table[storage.LicenseKey]   // by global id
	ids         *table[int64]                // "product id/key string" → global id, checked against keys
	activations *table[[]storage.Activation] // by global id
	keyData     *table[keyData]              // the key's own data objects, by global id
}

// keyData is the answer to one listing of a key's own data objects; vendor and limit are those of the filter it
// answered, so that a listing with another filter is not answered from it.
type keyData struct {
	vendor  string
	limit   int
	objects []storage.DataObject
}

// maxCachedList bounds the activations or data objects kept for one key: a key with more is read each time, so
// that no single key can make an entry of unbounded size.
const maxCachedList = 256

func newLicenseKeys(o Options) licenseKeys {
	return licenseKeys{keys: newTable[storage.LicenseKey](o), ids: newTable[int64](o),
		activations: newTable[[]storage.Activation](o), keyData: newTable[keyData](o)}
}

// drop drops what is kept of the key a change names (by its global id); false if the kind is not a license
// key's. The id lookup is left: it is only ever used through keys, which no longer has the key.
func (l licenseKeys) drop(kind storage.ChangeKind, globalID string) bool {
	if kind != storage.ChangedLicenseKey {
		return false
	}
	l.keys.drop(globalID)
	l.activations.drop(globalID)
	l.keyData.drop(globalID)
	return true
}

func (l licenseKeys) dropAll() {
	l.keys.dropAll()
	l.ids.dropAll()
	l.activations.dropAll()
	l.keyData.dropAll()
}

func (l licenseKeys) sweep(now time.Time) {
	l.keys.sweep(now)
	l.ids.sweep(now)
	l.activations.sweep(now)
	l.keyData.sweep(now)
}

func keyIDName(productID int64, key string) string {
	return strconv.FormatInt(productID, 10) + "/" + key
}

func (c *Store) GetLicenseKey(ctx context.Context, productID int64, key string) (storage.LicenseKey, error) {
	now := c.opts.Now()
	if gid, ok := c.keys.ids.get(keyIDName(productID, key), now); ok {
		// A key removed and made again under the same string has a new global id: the copy must still be
		// this product's key with this string, or it is read anew.
		if k, ok := c.keys.keys.get(strconv.FormatInt(gid, 10), now); ok && k.ProductID == productID && k.Key == key {
			return k, nil
		}
	}
	gen := c.gen.Load()
	k, err := c.Store.GetLicenseKey(ctx, productID, key)
	if err == nil {
		still := func() bool { return c.gen.Load() == gen }
		c.keys.keys.put(strconv.FormatInt(k.GlobalID, 10), k, now, still)
		c.keys.ids.put(keyIDName(productID, key), k.GlobalID, now, func() bool { return true })
	}
	return k, err
}

func (c *Store) GetLicenseKeyByGlobalID(ctx context.Context, globalID int64) (storage.LicenseKey, error) {
	return read(c, c.keys.keys, strconv.FormatInt(globalID, 10), func() (storage.LicenseKey, error) {
		return c.Store.GetLicenseKeyByGlobalID(ctx, globalID)
	})
}

func (c *Store) ListActivations(ctx context.Context, keyGlobalID int64) ([]storage.Activation, error) {
	name := strconv.FormatInt(keyGlobalID, 10)
	now := c.opts.Now()
	if acts, ok := c.keys.activations.get(name, now); ok {
		return slices.Clone(acts), nil
	}
	gen := c.gen.Load()
	acts, err := c.Store.ListActivations(ctx, keyGlobalID)
	if err == nil && len(acts) <= maxCachedList {
		c.keys.activations.put(name, slices.Clone(acts), now, func() bool { return c.gen.Load() == gen })
	}
	return acts, err
}

// ListDataObjects answers the listing of a key's own data objects (what a license answer carries) from memory;
// every other listing goes to the store.
func (c *Store) ListDataObjects(ctx context.Context, f storage.DataObjectFilter) ([]storage.DataObject, error) {
	if f.Owner == nil || f.Owner.Type != storage.DataOnKey || f.Contains != "" {
		return c.Store.ListDataObjects(ctx, f)
	}
	name := strconv.FormatInt(f.Owner.ID, 10)
	now := c.opts.Now()
	if d, ok := c.keys.keyData.get(name, now); ok && d.vendor == f.Vendor && d.limit == f.Limit {
		return slices.Clone(d.objects), nil
	}
	gen := c.gen.Load()
	objs, err := c.Store.ListDataObjects(ctx, f)
	if err == nil && len(objs) <= maxCachedList {
		d := keyData{vendor: f.Vendor, limit: f.Limit, objects: slices.Clone(objs)}
		c.keys.keyData.put(name, d, now, func() bool { return c.gen.Load() == gen })
	}
	return objs, err
}
