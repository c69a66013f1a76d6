package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/internal/sqlmap"
)

// --- WooCommerce stores ---

func (s *Store) CreateWooStore(ctx context.Context, ws storage.WooStore) (storage.WooStore, error) {
	res, err := s.w.ExecContext(ctx, stmt.InsertWooStore,
		ws.Vendor, ws.Name, ws.CodeHash, ws.RequireToken, ws.ErrorsByCode, toMicros(ws.CreatedAt))
	if err != nil {
		return storage.WooStore{}, mapRefErr(err)
	}
	ws.ID, err = res.LastInsertId()
	return ws, mapErr(err)
}

func (s *Store) GetWooStore(ctx context.Context, id int64) (storage.WooStore, error) {
	return dialect.ScanWooStore(s.r.QueryRowContext(ctx, stmt.SelectWooStore, id))
}

func (s *Store) FindWooStore(ctx context.Context, codeHash []byte) (storage.WooStore, error) {
	return dialect.ScanWooStore(s.r.QueryRowContext(ctx, stmt.FindWooStore, codeHash))
}

func (s *Store) ListWooStores(ctx context.Context, vendor string) ([]storage.WooStore, error) {
	q, args := dialect.ByVendor(`SELECT `+sqlmap.WooStoreColumns+` FROM woo_stores`, vendor, `ORDER BY id`)
	return queryAll(ctx, s.r, q, args, dialect.ScanWooStore)
}

func (s *Store) UpdateWooStore(ctx context.Context, id int64, update func(*storage.WooStore) error) (_ storage.WooStore, err error) {
	defer func() { s.onChange.Run(ctx, err) }() // cached API tokens, products, stores
	var ws storage.WooStore
	err = s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		if ws, err = dialect.ScanWooStore(tx.QueryRowContext(ctx, stmt.SelectWooStore, id)); err != nil {
			return err
		}
		if err := update(&ws); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, stmt.UpdateWooStore, ws.Name, ws.CodeHash, ws.RequireToken, ws.ErrorsByCode, id)
		return mapErr(err)
	})
	if err != nil {
		return storage.WooStore{}, err
	}
	return ws, nil
}

// --- SKUs ---

func (s *Store) PutWooSKU(ctx context.Context, k storage.WooSKU) (err error) {
	defer func() { s.onChange.Run(ctx, err) }() // a cached SKU
	_, err = s.w.ExecContext(ctx, `INSERT INTO woo_skus (`+sqlmap.WooSKUColumns+`) VALUES (?, ?, ?, ?)
		ON CONFLICT (store_id, sku) DO UPDATE SET product_id = excluded.product_id, desktop = excluded.desktop`,
		k.StoreID, k.SKU, k.ProductID, k.Desktop)
	return mapRefErr(err)
}

func (s *Store) GetWooSKU(ctx context.Context, storeID int64, sku string) (storage.WooSKU, error) {
	return dialect.ScanWooSKU(s.r.QueryRowContext(ctx, stmt.SelectWooSKU, storeID, sku))
}

func (s *Store) ListWooSKUs(ctx context.Context, storeID int64) ([]storage.WooSKU, error) {
	return queryAll(ctx, s.r, stmt.ListWooSKUs, []any{storeID}, dialect.ScanWooSKU)
}

func (s *Store) DeleteWooSKU(ctx context.Context, storeID int64, sku string) (err error) {
	defer func() { s.onChange.Run(ctx, err) }() // a cached SKU
	res, err := s.w.ExecContext(ctx, stmt.DeleteWooSKU, storeID, sku)
	if err != nil {
		return mapErr(err)
	}
	return requireRow(res)
}

func (s *Store) GetLicenseKeyByGlobalID(ctx context.Context, globalID int64) (storage.LicenseKey, error) {
	return dialect.ScanLicenseKey(s.r.QueryRowContext(ctx, stmt.SelectLicenseKeyByGlobalID, globalID))
}

// --- tokens ---

func (s *Store) CreateWooToken(ctx context.Context, t storage.WooToken) error {
	_, err := s.w.ExecContext(ctx, stmt.InsertWooToken, t.Hash, t.KeyGlobalID, toMicros(t.CreatedAt), toMicros(t.ExpiresAt))
	return mapRefErr(err)
}

func (s *Store) GetWooToken(ctx context.Context, hash []byte) (storage.WooToken, error) {
	return dialect.ScanWooToken(s.r.QueryRowContext(ctx, stmt.SelectWooToken, hash))
}

// TrimWooTokens looks at live tokens only, which the expires_at index finds; expired ones are collected anyway.
func (s *Store) TrimWooTokens(ctx context.Context, keyGlobalID int64, now time.Time, keep int) (_ int, err error) {
	defer func() { s.onChange.Run(ctx, err) }() // cached tokens
	return rowsAffected(s.w.ExecContext(ctx, `DELETE FROM woo_tokens WHERE hash IN (
		SELECT hash FROM woo_tokens WHERE expires_at > ? AND key_global_id = ?
		ORDER BY created_at DESC, hash DESC LIMIT -1 OFFSET ?)`, toMicros(now), keyGlobalID, keep))
}

func (s *Store) DeleteWooTokens(ctx context.Context, cutoff time.Time, limit int) (_ int, err error) {
	defer func() { s.onChange.Run(ctx, err) }() // cached tokens
	return rowsAffected(s.w.ExecContext(ctx, `DELETE FROM woo_tokens WHERE hash IN (
		SELECT hash FROM woo_tokens WHERE expires_at < ? LIMIT ?)`, toMicros(cutoff), limit))
}

// --- removal ---

func (s *Store) DeleteWooStore(ctx context.Context, id int64, force bool) (_ int, err error) {
	defer func() { s.onChange.Run(ctx, err) }() // cached API tokens, products, stores
	var n int
	err = s.tx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM woo_stores WHERE id = ?`, id).Scan(new(int)); err != nil {
			return mapErr(err)
		}
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM woo_skus WHERE store_id = ?`, id).Scan(&n); err != nil {
			return mapErr(err)
		}
		if !force && n > 0 {
			return fmt.Errorf("%w: store %d has %d SKU(s)", storage.ErrInUse, id, n)
		}
		// Explicitly, rather than trusting ON DELETE CASCADE alone: the count answered is what went.
		for _, q := range []string{`DELETE FROM woo_skus WHERE store_id = ?`, `DELETE FROM woo_stores WHERE id = ?`} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return mapErr(err)
			}
		}
		return nil
	})
	return n, err
}
