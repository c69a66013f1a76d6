package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

// --- WooCommerce stores ---

const wooStoreColumns = `id, vendor, name, code_hash, require_token, errors_by_code, created_at`

func scanWooStore(row scanner) (storage.WooStore, error) {
	var s storage.WooStore
	var created int64
	err := row.Scan(&s.ID, &s.Vendor, &s.Name, &s.CodeHash, &s.RequireToken, &s.ErrorsByCode, &created)
	s.CreatedAt = fromMicros(created)
	return s, err
}

func (s *Store) CreateWooStore(ctx context.Context, ws storage.WooStore) (storage.WooStore, error) {
	res, err := s.w.ExecContext(ctx, `INSERT INTO woo_stores (vendor, name, code_hash, require_token, errors_by_code, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, ws.Vendor, ws.Name, ws.CodeHash, ws.RequireToken, ws.ErrorsByCode, toMicros(ws.CreatedAt))
	if err != nil {
		return storage.WooStore{}, mapRefErr(err)
	}
	ws.ID, err = res.LastInsertId()
	return ws, mapErr(err)
}

func (s *Store) GetWooStore(ctx context.Context, id int64) (storage.WooStore, error) {
	ws, err := scanWooStore(s.r.QueryRowContext(ctx, `SELECT `+wooStoreColumns+` FROM woo_stores WHERE id = ?`, id))
	return ws, mapErr(err)
}

func (s *Store) FindWooStore(ctx context.Context, codeHash []byte) (storage.WooStore, error) {
	ws, err := scanWooStore(s.r.QueryRowContext(ctx, `SELECT `+wooStoreColumns+` FROM woo_stores WHERE code_hash = ?`, codeHash))
	return ws, mapErr(err)
}

func (s *Store) ListWooStores(ctx context.Context, vendor string) ([]storage.WooStore, error) {
	q, args := byVendor(`SELECT `+wooStoreColumns+` FROM woo_stores`, vendor, `ORDER BY id`)
	return queryAll(ctx, s.r, q, args, scanWooStore)
}

func (s *Store) UpdateWooStore(ctx context.Context, id int64, update func(*storage.WooStore) error) (storage.WooStore, error) {
	var ws storage.WooStore
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		ws, err = scanWooStore(tx.QueryRowContext(ctx, `SELECT `+wooStoreColumns+` FROM woo_stores WHERE id = ?`, id))
		if err != nil {
			return mapErr(err)
		}
		if err := update(&ws); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE woo_stores SET name = ?, code_hash = ?, require_token = ?, errors_by_code = ?
			WHERE id = ?`, ws.Name, ws.CodeHash, ws.RequireToken, ws.ErrorsByCode, id)
		return mapErr(err)
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
	err := row.Scan(&k.StoreID, &k.SKU, &k.ProductID, &k.Desktop)
	return k, err
}

func (s *Store) PutWooSKU(ctx context.Context, k storage.WooSKU) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO woo_skus (`+wooSKUColumns+`) VALUES (?, ?, ?, ?)
		ON CONFLICT (store_id, sku) DO UPDATE SET product_id = excluded.product_id, desktop = excluded.desktop`,
		k.StoreID, k.SKU, k.ProductID, k.Desktop)
	return mapRefErr(err)
}

func (s *Store) GetWooSKU(ctx context.Context, storeID int64, sku string) (storage.WooSKU, error) {
	k, err := scanWooSKU(s.r.QueryRowContext(ctx, `SELECT `+wooSKUColumns+` FROM woo_skus WHERE store_id = ? AND sku = ?`,
		storeID, sku))
	return k, mapErr(err)
}

func (s *Store) ListWooSKUs(ctx context.Context, storeID int64) ([]storage.WooSKU, error) {
	return queryAll(ctx, s.r, `SELECT `+wooSKUColumns+` FROM woo_skus WHERE store_id = ? ORDER BY sku`,
		[]any{storeID}, scanWooSKU)
}

func (s *Store) DeleteWooSKU(ctx context.Context, storeID int64, sku string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM woo_skus WHERE store_id = ? AND sku = ?`, storeID, sku)
	if err != nil {
		return mapErr(err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		if err != nil {
			return mapErr(err)
		}
		return storage.ErrNotFound
	}
	return nil
}

func (s *Store) GetLicenseKeyByGlobalID(ctx context.Context, globalID int64) (storage.LicenseKey, error) {
	k, err := scanKey(s.r.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM license_keys WHERE global_id = ?`, globalID))
	return k, mapErr(err)
}

// --- tokens ---

func (s *Store) CreateWooToken(ctx context.Context, t storage.WooToken) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO woo_tokens (hash, key_global_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		t.Hash, t.KeyGlobalID, toMicros(t.CreatedAt), toMicros(t.ExpiresAt))
	return mapRefErr(err)
}

func (s *Store) GetWooToken(ctx context.Context, hash []byte) (storage.WooToken, error) {
	var t storage.WooToken
	var created, expires int64
	err := s.r.QueryRowContext(ctx, `SELECT hash, key_global_id, created_at, expires_at FROM woo_tokens WHERE hash = ?`, hash).
		Scan(&t.Hash, &t.KeyGlobalID, &created, &expires)
	t.CreatedAt, t.ExpiresAt = fromMicros(created), fromMicros(expires)
	return t, mapErr(err)
}

// TrimWooTokens looks at live tokens only, which the expires_at index finds; expired ones are collected anyway.
func (s *Store) TrimWooTokens(ctx context.Context, keyGlobalID int64, now time.Time, keep int) (int, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM woo_tokens WHERE hash IN (
		SELECT hash FROM woo_tokens WHERE expires_at > ? AND key_global_id = ?
		ORDER BY created_at DESC, hash DESC LIMIT -1 OFFSET ?)`, toMicros(now), keyGlobalID, keep)
	if err != nil {
		return 0, mapErr(err)
	}
	n, err := res.RowsAffected()
	return int(n), mapErr(err)
}

func (s *Store) DeleteWooTokens(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM woo_tokens WHERE hash IN (
		SELECT hash FROM woo_tokens WHERE expires_at < ? LIMIT ?)`, toMicros(cutoff), limit)
	if err != nil {
		return 0, mapErr(err)
	}
	n, err := res.RowsAffected()
	return int(n), mapErr(err)
}
