package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tokenmanager/tokenmanager/storage"
)

// --- WooCommerce stores ---

const wooStoreColumns = `id, vendor, name, code_hash, require_token, errors_by_code, created_at`

func scanWooStore(row scanner) (storage.WooStore, error) {
	var s storage.WooStore
	if err := row.Scan(&s.ID, &s.Vendor, &s.Name, &s.CodeHash, &s.RequireToken, &s.ErrorsByCode, at(&s.CreatedAt)); err != nil {
		return storage.WooStore{}, mapErr(err)
	}
	return s, nil
}

func (s *Store) CreateWooStore(ctx context.Context, ws storage.WooStore) (storage.WooStore, error) {
	if !storable(ws.Vendor) {
		return storage.WooStore{}, storage.ErrNotFound
	}
	err := s.pool.QueryRow(ctx, `INSERT INTO woo_stores (vendor, name, code_hash, require_token, errors_by_code, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		ws.Vendor, ws.Name, ws.CodeHash, ws.RequireToken, ws.ErrorsByCode, ts(ws.CreatedAt)).Scan(&ws.ID)
	if err != nil {
		return storage.WooStore{}, mapRefErr(err) // no such vendor: ErrNotFound; the code is another store's: ErrConflict
	}
	return ws, nil
}

func (s *Store) GetWooStore(ctx context.Context, id int64) (storage.WooStore, error) {
	return scanWooStore(s.pool.QueryRow(ctx, `SELECT `+wooStoreColumns+` FROM woo_stores WHERE id = $1`, id))
}

func (s *Store) FindWooStore(ctx context.Context, codeHash []byte) (storage.WooStore, error) {
	return scanWooStore(s.pool.QueryRow(ctx, `SELECT `+wooStoreColumns+` FROM woo_stores WHERE code_hash = $1`, codeHash))
}

func (s *Store) ListWooStores(ctx context.Context, vendor string) ([]storage.WooStore, error) {
	if !storable(vendor) {
		return nil, nil
	}
	q, args := byVendor(`SELECT `+wooStoreColumns+` FROM woo_stores`, vendor, `ORDER BY id`)
	return queryAll(ctx, s.pool, q, args, scanWooStore)
}

// UpdateWooStore locks the store's row: updates of one store on any node apply one after another, each to what
// the previous wrote.
func (s *Store) UpdateWooStore(ctx context.Context, id int64, update func(*storage.WooStore) error) (storage.WooStore, error) {
	var ws storage.WooStore
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var err error
		ws, err = scanWooStore(tx.QueryRow(ctx, `SELECT `+wooStoreColumns+` FROM woo_stores WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return err
		}
		if err := update(&ws); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE woo_stores SET name = $1, code_hash = $2, require_token = $3, errors_by_code = $4
			WHERE id = $5`, ws.Name, ws.CodeHash, ws.RequireToken, ws.ErrorsByCode, id)
		return mapErr(err) // the new code is another store's: ErrConflict
	})
	if err != nil {
		return storage.WooStore{}, err
	}
	return ws, nil
}

// --- SKUs ---

const wooSKUColumns = `store_id, sku, product_id, desktop`

func scanWooSKU(row scanner) (storage.WooSKU, error) {
	var k storage.WooSKU
	if err := row.Scan(&k.StoreID, &k.SKU, &k.ProductID, &k.Desktop); err != nil {
		return storage.WooSKU{}, mapErr(err)
	}
	return k, nil
}

func (s *Store) PutWooSKU(ctx context.Context, k storage.WooSKU) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO woo_skus (`+wooSKUColumns+`) VALUES ($1, $2, $3, $4)
		ON CONFLICT (store_id, sku) DO UPDATE SET product_id = excluded.product_id, desktop = excluded.desktop`,
		k.StoreID, k.SKU, k.ProductID, k.Desktop)
	return mapRefErr(err) // no such store or product: ErrNotFound
}

func (s *Store) GetWooSKU(ctx context.Context, storeID int64, sku string) (storage.WooSKU, error) {
	if !storable(sku) {
		return storage.WooSKU{}, storage.ErrNotFound
	}
	return scanWooSKU(s.pool.QueryRow(ctx, `SELECT `+wooSKUColumns+` FROM woo_skus WHERE store_id = $1 AND sku = $2`,
		storeID, sku))
}

func (s *Store) ListWooSKUs(ctx context.Context, storeID int64) ([]storage.WooSKU, error) {
	return queryAll(ctx, s.pool, `SELECT `+wooSKUColumns+` FROM woo_skus WHERE store_id = $1 ORDER BY sku`,
		[]any{storeID}, scanWooSKU)
}

func (s *Store) DeleteWooSKU(ctx context.Context, storeID int64, sku string) error {
	if !storable(sku) {
		return storage.ErrNotFound
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM woo_skus WHERE store_id = $1 AND sku = $2`, storeID, sku)
	if err != nil {
		return mapErr(err)
	}
	return requireRow(tag)
}

func (s *Store) GetLicenseKeyByGlobalID(ctx context.Context, globalID int64) (storage.LicenseKey, error) {
	k, err := scanKey(s.pool.QueryRow(ctx, `SELECT `+keyColumns+` FROM license_keys WHERE global_id = $1`, globalID))
	if err != nil {
		return storage.LicenseKey{}, mapErr(err)
	}
	return k, nil
}

// --- tokens ---

func (s *Store) CreateWooToken(ctx context.Context, t storage.WooToken) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO woo_tokens (hash, key_global_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
		t.Hash, t.KeyGlobalID, ts(t.CreatedAt), ts(t.ExpiresAt))
	return mapRefErr(err) // the hash exists: ErrConflict; no such key: ErrNotFound
}

func (s *Store) GetWooToken(ctx context.Context, hash []byte) (storage.WooToken, error) {
	var t storage.WooToken
	err := s.pool.QueryRow(ctx, `SELECT hash, key_global_id, created_at, expires_at FROM woo_tokens WHERE hash = $1`, hash).
		Scan(&t.Hash, &t.KeyGlobalID, at(&t.CreatedAt), at(&t.ExpiresAt))
	if err != nil {
		return storage.WooToken{}, mapErr(err)
	}
	return t, nil
}

// TrimWooTokens looks at live tokens only, which the expires_at index finds; expired ones are collected anyway.
func (s *Store) TrimWooTokens(ctx context.Context, keyGlobalID int64, now time.Time, keep int) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM woo_tokens WHERE hash IN (
		SELECT hash FROM woo_tokens WHERE expires_at > $1 AND key_global_id = $2
		ORDER BY created_at DESC, hash DESC OFFSET $3)`, ts(now), keyGlobalID, keep)
	if err != nil {
		return 0, mapErr(err)
	}
	return int(tag.RowsAffected()), nil
}

// DeleteWooTokens picks its batch with SKIP LOCKED, like DeleteTokens: nodes collecting at once take different
// rows.
func (s *Store) DeleteWooTokens(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM woo_tokens WHERE hash IN (
		SELECT hash FROM woo_tokens WHERE expires_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`, ts(cutoff), limit)
	if err != nil {
		return 0, mapErr(err)
	}
	return int(tag.RowsAffected()), nil
}
