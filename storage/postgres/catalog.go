package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/internal/sqlmap"
)

// --- resellers ---

func (s *Store) CreateReseller(ctx context.Context, r storage.Reseller) (storage.Reseller, error) {
	err := s.pool.QueryRow(ctx, stmt.InsertReseller+` RETURNING id`,
		r.Vendor, r.Name, r.Email, r.Phone, r.URL, r.Description, ts(r.CreatedAt)).Scan(&r.ID)
	if err != nil {
		return storage.Reseller{}, mapRefErr(err)
	}
	return r, nil
}

func (s *Store) GetReseller(ctx context.Context, id int64) (storage.Reseller, error) {
	return dialect.ScanReseller(s.pool.QueryRow(ctx, stmt.SelectReseller, id))
}

func (s *Store) ListResellers(ctx context.Context, vendor string) ([]storage.Reseller, error) {
	if !storable(vendor) {
		return nil, nil
	}
	q, args := dialect.ByVendor(`SELECT `+sqlmap.ResellerColumns+` FROM license_resellers`, vendor, `ORDER BY id`)
	return queryAll(ctx, s.pool, q, args, dialect.ScanReseller)
}

// --- license templates ---

func (s *Store) CreateLicenseTemplate(ctx context.Context, t storage.LicenseTemplate) (storage.LicenseTemplate, error) {
	err := s.pool.QueryRow(ctx, stmt.InsertLicenseTemplate+` RETURNING id`, t.ProductID, t.Name, t.Period,
		sqlmap.FeatureBits(t.Features), t.Notes, t.Blocked, t.TrialActivation, t.MaxNoOfMachines, t.AllowedMachines,
		sqlmap.NullableID(t.ResellerID), ts(t.CreatedAt)).Scan(&t.ID)
	if err != nil {
		return storage.LicenseTemplate{}, mapRefErr(err)
	}
	return t, nil
}

func (s *Store) GetLicenseTemplate(ctx context.Context, id int64) (storage.LicenseTemplate, error) {
	return dialect.ScanLicenseTemplate(s.pool.QueryRow(ctx, stmt.SelectLicenseTemplate, id))
}

func (s *Store) ListLicenseTemplates(ctx context.Context, productID int64) ([]storage.LicenseTemplate, error) {
	return queryAll(ctx, s.pool, stmt.ListLicenseTemplates, []any{productID}, dialect.ScanLicenseTemplate)
}

func (s *Store) DeleteLicenseTemplate(ctx context.Context, id int64) error {
	tag, err := s.pool.Exec(ctx, stmt.DeleteLicenseTemplate, id)
	if err != nil {
		return mapErr(err)
	}
	return requireRow(tag)
}

// --- keys in batches, customers by e-mail ---

// CreateLicenseKeys locks the product's row once, as CreateLicenseKey does, and numbers the keys in turn.
func (s *Store) CreateLicenseKeys(ctx context.Context, keys []storage.LicenseKey) ([]storage.LicenseKey, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	var out []storage.LicenseKey
	err := s.tx(ctx, func(tx pgx.Tx) error {
		out = make([]storage.LicenseKey, len(keys)) // afresh on a retried transaction
		copy(out, keys)
		if err := lockProduct(ctx, tx, keys[0].ProductID); err != nil {
			return err
		}
		for i := range out {
			if out[i].ProductID != keys[0].ProductID {
				if err := lockProduct(ctx, tx, out[i].ProductID); err != nil {
					return err
				}
			}
			if err := insertLicenseKey(ctx, tx, &out[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Store) FindCustomerByEmail(ctx context.Context, vendor, email string) (storage.Customer, error) {
	if !storable(vendor) || !storable(email) {
		return storage.Customer{}, storage.ErrNotFound
	}
	return dialect.ScanCustomer(s.pool.QueryRow(ctx, stmt.FindCustomerByEmail, vendor, email))
}
