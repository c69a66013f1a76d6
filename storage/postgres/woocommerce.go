package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/internal/sqlmap"
)

// --- WooCommerce stores ---

func (s *Store) CreateWooStore(ctx context.Context, ws storage.WooStore) (storage.WooStore, error) {
	if !storable(ws.Vendor) {
		return storage.WooStore{}, storage.ErrNotFound
	}
	err := s.pool.QueryRow(ctx, stmt.InsertWooStore+` RETURNING id`,
		ws.Vendor, ws.Name, ws.CodeHash, ws.RequireToken, ws.ErrorsByCode, ts(ws.CreatedAt)).Scan(&ws.ID)
	if err != nil {
		return storage.WooStore{}, mapRefErr(err) // no such vendor: ErrNotFound; the code is another store's: ErrConflict
	}
	return ws, nil
}

func (s *Store) GetWooStore(ctx context.Context, id int64) (storage.WooStore, error) {
	return dialect.ScanWooStore(s.pool.QueryRow(ctx, stmt.SelectWooStore, id))
}

func (s *Store) FindWooStore(ctx context.Context, codeHash []byte) (storage.WooStore, error) {
	return dialect.ScanWooStore(s.pool.QueryRow(ctx, stmt.FindWooStore, codeHash))
}

func (s *Store) ListWooStores(ctx context.Context, vendor string) ([]storage.WooStore, error) {
	if !storable(vendor) {
		return nil, nil
	}
	q, args := dialect.ByVendor(`SELECT `+sqlmap.WooStoreColumns+` FROM woo_stores`, vendor, `ORDER BY id`)
	return queryAll(ctx, s.pool, q, args, dialect.ScanWooStore)
}

// UpdateWooStore locks the store's row: updates of one store on any node apply one after another, each to what
// the previous wrote.
func (s *Store) UpdateWooStore(ctx context.Context, id int64, update func(*storage.WooStore) error) (_ storage.WooStore, err error) {
	defer func() { s.onChange.Run(ctx, err) }() // cached API tokens, products, stores
	var ws storage.WooStore
	err = s.tx(ctx, func(tx pgx.Tx) error {
		var err error
		if ws, err = dialect.ScanWooStore(tx.QueryRow(ctx, stmt.SelectWooStore+` FOR UPDATE`, id)); err != nil {
			return err
		}
		if err := update(&ws); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, stmt.UpdateWooStore, ws.Name, ws.CodeHash, ws.RequireToken, ws.ErrorsByCode, id)
		return mapErr(err) // the new code is another store's: ErrConflict
	})
	if err != nil {
		return storage.WooStore{}, err
	}
	return ws, nil
}

// --- SKUs ---

func (s *Store) PutWooSKU(ctx context.Context, k storage.WooSKU) (err error) {
	defer func() { s.onChange.Run(ctx, err) }() // a cached SKU
	_, err = s.pool.Exec(ctx, `INSERT INTO woo_skus (`+sqlmap.WooSKUColumns+`) VALUES ($1, $2, $3, $4)
		ON CONFLICT (store_id, sku) DO UPDATE SET product_id = excluded.product_id, desktop = excluded.desktop`,
		k.StoreID, k.SKU, k.ProductID, k.Desktop)
	return mapRefErr(err) // no such store or product: ErrNotFound
}

func (s *Store) GetWooSKU(ctx context.Context, storeID int64, sku string) (storage.WooSKU, error) {
	if !storable(sku) {
		return storage.WooSKU{}, storage.ErrNotFound
	}
	return dialect.ScanWooSKU(s.pool.QueryRow(ctx, stmt.SelectWooSKU, storeID, sku))
}

func (s *Store) ListWooSKUs(ctx context.Context, storeID int64) ([]storage.WooSKU, error) {
	return queryAll(ctx, s.pool, stmt.ListWooSKUs, []any{storeID}, dialect.ScanWooSKU)
}

func (s *Store) DeleteWooSKU(ctx context.Context, storeID int64, sku string) (err error) {
	defer func() { s.onChange.Run(ctx, err) }() // a cached SKU
	if !storable(sku) {
		return storage.ErrNotFound
	}
	tag, err := s.pool.Exec(ctx, stmt.DeleteWooSKU, storeID, sku)
	if err != nil {
		return mapErr(err)
	}
	return requireRow(tag)
}

func (s *Store) GetLicenseKeyByGlobalID(ctx context.Context, globalID int64) (storage.LicenseKey, error) {
	return dialect.ScanLicenseKey(s.pool.QueryRow(ctx, stmt.SelectLicenseKeyByGlobalID, globalID))
}

// --- tokens ---

func (s *Store) CreateWooToken(ctx context.Context, t storage.WooToken) error {
	_, err := s.pool.Exec(ctx, stmt.InsertWooToken, t.Hash, t.KeyGlobalID, ts(t.CreatedAt), ts(t.ExpiresAt))
	return mapRefErr(err) // the hash exists: ErrConflict; no such key: ErrNotFound
}

func (s *Store) GetWooToken(ctx context.Context, hash []byte) (storage.WooToken, error) {
	return dialect.ScanWooToken(s.pool.QueryRow(ctx, stmt.SelectWooToken, hash))
}

// TrimWooTokens looks at live tokens only, which the expires_at index finds; expired ones are collected anyway.
func (s *Store) TrimWooTokens(ctx context.Context, keyGlobalID int64, now time.Time, keep int) (_ int, err error) {
	defer func() { s.onChange.Run(ctx, err) }() // cached tokens
	return rowsAffected(s.pool.Exec(ctx, `DELETE FROM woo_tokens WHERE hash IN (
		SELECT hash FROM woo_tokens WHERE expires_at > $1 AND key_global_id = $2
		ORDER BY created_at DESC, hash DESC OFFSET $3)`, ts(now), keyGlobalID, keep))
}

// DeleteWooTokens picks its batch with SKIP LOCKED, like DeleteTokens: nodes collecting at once take different
// rows.
func (s *Store) DeleteWooTokens(ctx context.Context, cutoff time.Time, limit int) (_ int, err error) {
	defer func() { s.onChange.Run(ctx, err) }() // cached tokens
	return rowsAffected(s.pool.Exec(ctx, `DELETE FROM woo_tokens WHERE hash IN (
		SELECT hash FROM woo_tokens WHERE expires_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`, ts(cutoff), limit))
}

// --- removal ---

// DeleteWooStore locks the store's row first, so that no SKU is added to it while it is counted and removed.
func (s *Store) DeleteWooStore(ctx context.Context, id int64, force bool) (_ int, err error) {
	defer func() { s.onChange.Run(ctx, err) }() // cached API tokens, products, stores
	var n int
	err = s.tx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT 1 FROM woo_stores WHERE id = $1 FOR UPDATE`, id).Scan(new(int)); err != nil {
			return mapErr(err)
		}
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM woo_skus WHERE store_id = $1`, id).Scan(&n); err != nil {
			return mapErr(err)
		}
		if !force && n > 0 {
			return fmt.Errorf("%w: store %d has %d SKU(s)", storage.ErrInUse, id, n)
		}
		for _, q := range []string{`DELETE FROM woo_skus WHERE store_id = $1`, `DELETE FROM woo_stores WHERE id = $1`} {
			if _, err := tx.Exec(ctx, q, id); err != nil {
				return mapErr(err)
			}
		}
		return nil
	})
	return n, err
}
