package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/internal/sqlmap"
)

// --- vendors ---

func (s *Store) AddVendor(ctx context.Context, v storage.Vendor) error {
	_, err := s.w.ExecContext(ctx, stmt.InsertVendor, v.Name, toMicros(v.CreatedAt))
	return mapRefErr(err)
}

func (s *Store) GetVendor(ctx context.Context, name string) (storage.Vendor, error) {
	return dialect.ScanVendor(s.r.QueryRowContext(ctx, stmt.SelectVendor, name))
}

func (s *Store) ListVendors(ctx context.Context) ([]storage.Vendor, error) {
	return queryAll(ctx, s.r, stmt.ListVendors, nil, dialect.ScanVendor)
}

// --- products ---

func (s *Store) CreateProduct(ctx context.Context, p storage.Product, seal func(id int64) ([]byte, error)) (storage.Product, error) {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			`INSERT INTO license_products (vendor, name, public_key, sealed_private_key, block_expired, created_at, allow_activation_management)
			 VALUES (?, ?, ?, x'', ?, ?, ?)`, p.Vendor, p.Name, p.PublicKey, p.BlockExpired, toMicros(p.CreatedAt), p.AllowActivationManagement)
		if err != nil {
			return mapRefErr(err)
		}
		if p.ID, err = res.LastInsertId(); err != nil {
			return mapErr(err)
		}
		if p.SealedPrivateKey, err = seal(p.ID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, stmt.SealProduct, p.SealedPrivateKey, p.ID)
		return mapErr(err)
	})
	if err != nil {
		return storage.Product{}, err
	}
	return p, nil
}

func (s *Store) GetProduct(ctx context.Context, id int64) (storage.Product, error) {
	return dialect.ScanProduct(s.r.QueryRowContext(ctx, stmt.SelectProduct, id))
}

func (s *Store) ListProducts(ctx context.Context, vendor string) ([]storage.Product, error) {
	q, args := dialect.ByVendor(`SELECT `+sqlmap.ProductColumns+` FROM license_products`, vendor, `ORDER BY id`)
	return queryAll(ctx, s.r, q, args, dialect.ScanProduct)
}

func (s *Store) UpdateProduct(ctx context.Context, id int64, update func(*storage.Product) error) (_ storage.Product, err error) {
	defer func() { s.onChange.Run(ctx, err) }() // cached API tokens, products, stores
	var p storage.Product
	err = s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		if p, err = dialect.ScanProduct(tx.QueryRowContext(ctx, stmt.SelectProduct, id)); err != nil {
			return err
		}
		if err := update(&p); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, stmt.UpdateProduct, p.Name, p.BlockExpired, p.PublicKey, p.SealedPrivateKey, p.AllowActivationManagement, id)
		return mapErr(err)
	})
	if err != nil {
		return storage.Product{}, err
	}
	return p, nil
}

// --- customers ---

func (s *Store) CreateCustomer(ctx context.Context, c storage.Customer) (storage.Customer, error) {
	res, err := s.w.ExecContext(ctx, stmt.InsertCustomer,
		c.Vendor, c.Name, c.Email, c.Company, c.MaxNoOfDevices, sqlmap.Nullable(c.User), toMicros(c.CreatedAt),
		c.Notes, sqlmap.Nullable(c.SecretHash), c.Flags)
	if err != nil {
		return storage.Customer{}, mapRefErr(err)
	}
	c.ID, err = res.LastInsertId()
	return c, mapErr(err)
}

func (s *Store) GetCustomer(ctx context.Context, id int64) (storage.Customer, error) {
	return dialect.ScanCustomer(s.r.QueryRowContext(ctx, stmt.SelectCustomer, id))
}

func (s *Store) ListCustomers(ctx context.Context, vendor string) ([]storage.Customer, error) {
	q, args := dialect.ByVendor(`SELECT `+sqlmap.CustomerColumns+` FROM license_customers`, vendor, `ORDER BY id`)
	return queryAll(ctx, s.r, q, args, dialect.ScanCustomer)
}

// --- license keys ---

func (s *Store) CreateLicenseKey(ctx context.Context, k storage.LicenseKey) (storage.LicenseKey, error) {
	err := s.tx(ctx, func(tx *sql.Tx) error { return insertLicenseKey(ctx, tx, &k) })
	if err != nil {
		return storage.LicenseKey{}, err
	}
	return k, nil
}

// insertLicenseKey stores k with the next ID within its product and sets its IDs.
func insertLicenseKey(ctx context.Context, tx *sql.Tx, k *storage.LicenseKey) error {
	if err := tx.QueryRowContext(ctx, stmt.NextLicenseKeyID, k.ProductID).Scan(&k.ID); err != nil {
		return mapErr(err)
	}
	res, err := tx.ExecContext(ctx, stmt.InsertLicenseKey,
		k.ProductID, k.ID, k.Key, toMicros(k.CreatedAt), k.Period, toMicros(k.ExpiresAt), sqlmap.FeatureBits(k.Features),
		k.Notes, k.Blocked, sqlmap.NullableID(k.CustomerID), k.TrialActivation, toMicros(k.TrialStartedAt),
		k.MaxNoOfMachines, k.AllowedMachines, k.TrialMachine, sqlmap.NullableID(k.ResellerID))
	if err != nil {
		return mapRefErr(err)
	}
	k.GlobalID, err = res.LastInsertId()
	return mapErr(err)
}

func (s *Store) GetLicenseKey(ctx context.Context, productID int64, key string) (storage.LicenseKey, error) {
	return dialect.ScanLicenseKey(s.r.QueryRowContext(ctx, stmt.SelectLicenseKey, productID, key))
}

func (s *Store) FindTrialKey(ctx context.Context, productID int64, machineCode string) (storage.LicenseKey, error) {
	if machineCode == "" {
		return storage.LicenseKey{}, storage.ErrNotFound
	}
	return dialect.ScanLicenseKey(s.r.QueryRowContext(ctx, stmt.FindTrialKey, productID, machineCode))
}

func (s *Store) ListLicenseKeys(ctx context.Context, productID int64) ([]storage.LicenseKey, error) {
	return queryAll(ctx, s.r, stmt.ListLicenseKeys, []any{productID}, dialect.ScanLicenseKey)
}

// --- activations ---

func (s *Store) ListActivations(ctx context.Context, keyGlobalID int64) ([]storage.Activation, error) {
	return listActivations(ctx, s.r, keyGlobalID)
}

// listActivations reads a key's activations through db (the read pool, or the transaction of a change).
func listActivations(ctx context.Context, db interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, keyGlobalID int64) ([]storage.Activation, error) {
	acts, err := queryAll(ctx, db, stmt.ListActivations, []any{keyGlobalID}, dialect.ScanActivation)
	sqlmap.SortActivations(acts)
	return acts, err
}

func (s *Store) UpdateActivations(ctx context.Context, productID int64, key string,
	decide func(storage.LicenseKey, []storage.Activation) (storage.ActivationChanges, error)) (storage.LicenseKey, []storage.Activation, error) {
	var k storage.LicenseKey
	var acts []storage.Activation
	changed := false
	// The write connection's transactions begin IMMEDIATE: from the first read on, no other writer runs, so
	// what decide sees is still true when its changes are written.
	err := s.tx(ctx, func(tx *sql.Tx) error {
		read := func() error {
			var err error
			if k, err = dialect.ScanLicenseKey(tx.QueryRowContext(ctx, stmt.SelectLicenseKey, productID, key)); err != nil {
				return err
			}
			acts, err = listActivations(ctx, tx, k.GlobalID)
			return err
		}
		if err := read(); err != nil {
			return err
		}
		ch, err := decide(k, acts)
		if err != nil {
			return err
		}
		if ch.Key != nil {
			n := ch.Key
			if _, err := tx.ExecContext(ctx, stmt.UpdateLicenseKey,
				n.Period, toMicros(n.ExpiresAt), sqlmap.FeatureBits(n.Features), n.Notes, n.Blocked, sqlmap.NullableID(n.CustomerID),
				n.TrialActivation, toMicros(n.TrialStartedAt), n.MaxNoOfMachines, n.AllowedMachines, n.TrialMachine,
				sqlmap.NullableID(n.ResellerID), k.GlobalID); err != nil {
				return mapRefErr(err)
			}
		}
		for _, a := range ch.Delete {
			if _, err := tx.ExecContext(ctx, stmt.DeleteActivation, k.GlobalID, a.Floating, a.MachineCode); err != nil {
				return mapErr(err)
			}
		}
		for _, a := range ch.Put {
			if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO license_activations (`+sqlmap.ActivationColumns+`)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, k.GlobalID, a.MachineCode, a.Floating, a.Overdraft, a.FriendlyName, a.IP,
				toMicros(a.ActivatedAt), toMicros(a.FloatingExpiresAt)); err != nil {
				return mapErr(err)
			}
		}
		if ch.Key == nil && len(ch.Put) == 0 && len(ch.Delete) == 0 {
			return nil
		}
		changed = true
		return read()
	})
	if changed {
		s.onChange.Run(ctx, err) // the cached license key, its activations and data objects
	}
	if err != nil {
		return storage.LicenseKey{}, nil, err
	}
	return k, acts, nil
}

// --- API tokens ---

func (s *Store) CreateAPIToken(ctx context.Context, t storage.APIToken) (storage.APIToken, error) {
	return insertAPIToken(ctx, s.w, t)
}

// insertAPIToken stores t with a new ID through db (the writer, or a transaction on it).
func insertAPIToken(ctx context.Context, db interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, t storage.APIToken) (storage.APIToken, error) {
	for _, p := range t.Permissions {
		if p == "" || strings.Contains(p, ",") {
			return storage.APIToken{}, fmt.Errorf("sqlite: permission name %q is empty or holds a comma", p)
		}
	}
	res, err := db.ExecContext(ctx, stmt.InsertAPIToken,
		t.Vendor, t.Name, t.SecretHash, joinList(t.Permissions, sqlmap.PermissionSep), t.ProductLock, t.KeyLock, t.FeatureLock,
		sqlmap.NullableID(t.ParentID), toMicros(t.CreatedAt), toMicros(t.ExpiresAt), toMicros(t.RevokedAt))
	if err != nil {
		return storage.APIToken{}, mapRefErr(err)
	}
	t.ID, err = res.LastInsertId()
	return t, mapErr(err)
}

func (s *Store) GetAPIToken(ctx context.Context, id int64) (storage.APIToken, error) {
	return dialect.ScanAPIToken(s.r.QueryRowContext(ctx, stmt.SelectAPIToken, id))
}

func (s *Store) ListAPITokens(ctx context.Context, vendor string) ([]storage.APIToken, error) {
	q, args := dialect.ByVendor(`SELECT `+sqlmap.APITokenColumns+` FROM license_api_tokens`, vendor, `ORDER BY id`)
	return queryAll(ctx, s.r, q, args, dialect.ScanAPIToken)
}

func (s *Store) RevokeAPIToken(ctx context.Context, id int64, at time.Time) (err error) {
	defer func() { s.onChange.Run(ctx, err) }() // cached API tokens, products, stores
	return s.tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM license_api_tokens WHERE id = ?`, id).Scan(&n); err != nil {
			return mapErr(err)
		}
		if n == 0 {
			return storage.ErrNotFound
		}
		return revokeTokenTree(ctx, tx, id, at)
	})
}
