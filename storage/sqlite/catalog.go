package sqlite

import (
	"context"
	"database/sql"

	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/internal/sqlmap"
)

// --- resellers ---

func (s *Store) CreateReseller(ctx context.Context, r storage.Reseller) (storage.Reseller, error) {
	res, err := s.w.ExecContext(ctx, stmt.InsertReseller,
		r.Vendor, r.Name, r.Email, r.Phone, r.URL, r.Description, toMicros(r.CreatedAt))
	if err != nil {
		return storage.Reseller{}, mapRefErr(err)
	}
	r.ID, err = res.LastInsertId()
	return r, mapErr(err)
}

func (s *Store) GetReseller(ctx context.Context, id int64) (storage.Reseller, error) {
	return dialect.ScanReseller(s.r.QueryRowContext(ctx, stmt.SelectReseller, id))
}

func (s *Store) ListResellers(ctx context.Context, vendor string) ([]storage.Reseller, error) {
	q, args := dialect.ByVendor(`SELECT `+sqlmap.ResellerColumns+` FROM license_resellers`, vendor, `ORDER BY id`)
	return queryAll(ctx, s.r, q, args, dialect.ScanReseller)
}

// --- license templates ---

func (s *Store) CreateLicenseTemplate(ctx context.Context, t storage.LicenseTemplate) (storage.LicenseTemplate, error) {
	res, err := s.w.ExecContext(ctx, stmt.InsertLicenseTemplate, t.ProductID, t.Name, t.Period,
		sqlmap.FeatureBits(t.Features), t.Notes, t.Blocked, t.TrialActivation, t.MaxNoOfMachines, t.AllowedMachines,
		sqlmap.NullableID(t.ResellerID), toMicros(t.CreatedAt))
	if err != nil {
		return storage.LicenseTemplate{}, mapRefErr(err)
	}
	t.ID, err = res.LastInsertId()
	return t, mapErr(err)
}

func (s *Store) GetLicenseTemplate(ctx context.Context, id int64) (storage.LicenseTemplate, error) {
	return dialect.ScanLicenseTemplate(s.r.QueryRowContext(ctx, stmt.SelectLicenseTemplate, id))
}

func (s *Store) ListLicenseTemplates(ctx context.Context, productID int64) ([]storage.LicenseTemplate, error) {
	return queryAll(ctx, s.r, stmt.ListLicenseTemplates, []any{productID}, dialect.ScanLicenseTemplate)
}

func (s *Store) DeleteLicenseTemplate(ctx context.Context, id int64) error {
	res, err := s.w.ExecContext(ctx, stmt.DeleteLicenseTemplate, id)
	if err != nil {
		return mapErr(err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return storage.ErrNotFound
	}
	return nil
}

// --- keys in batches, customers by e-mail ---

func (s *Store) CreateLicenseKeys(ctx context.Context, keys []storage.LicenseKey) ([]storage.LicenseKey, error) {
	out := make([]storage.LicenseKey, len(keys))
	copy(out, keys)
	err := s.tx(ctx, func(tx *sql.Tx) error {
		for i := range out {
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
	return dialect.ScanCustomer(s.r.QueryRowContext(ctx, stmt.FindCustomerByEmail, vendor, email))
}
