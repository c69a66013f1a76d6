package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/tokenmanager/tokenmanager/storage"
)

// mapRefErr is mapErr, except that a foreign-key violation (a vendor, product, customer, user or parent token
// that does not exist) is ErrNotFound.
func mapRefErr(err error) error {
	var se sqlite3.Error
	if errors.As(err, &se) && se.Code == sqlite3.ErrConstraint && se.ExtendedCode == sqlite3.ErrConstraintForeignKey {
		return fmt.Errorf("%w: %v", storage.ErrNotFound, err)
	}
	return mapErr(err)
}

type scanner interface{ Scan(...any) error }

// --- vendors ---

func (s *Store) AddVendor(ctx context.Context, v storage.Vendor) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO license_vendors (user_name, created_at) VALUES (?, ?)`,
		v.Name, toMicros(v.CreatedAt))
	return mapRefErr(err)
}

func (s *Store) GetVendor(ctx context.Context, name string) (storage.Vendor, error) {
	var v storage.Vendor
	var created int64
	err := s.r.QueryRowContext(ctx, `SELECT user_name, created_at FROM license_vendors WHERE user_name = ?`, name).
		Scan(&v.Name, &created)
	v.CreatedAt = fromMicros(created)
	return v, mapErr(err)
}

func (s *Store) ListVendors(ctx context.Context) ([]storage.Vendor, error) {
	return queryAll(ctx, s.r, `SELECT user_name, created_at FROM license_vendors ORDER BY user_name`, nil,
		func(row scanner) (storage.Vendor, error) {
			var v storage.Vendor
			var created int64
			err := row.Scan(&v.Name, &created)
			v.CreatedAt = fromMicros(created)
			return v, err
		})
}

// queryAll runs a query and scans every row with scan.
func queryAll[T any](ctx context.Context, db interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, query string, args []any, scan func(scanner) (T, error)) ([]T, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, mapErr(err)
		}
		out = append(out, v)
	}
	return out, mapErr(rows.Err())
}

// byVendor adds "WHERE vendor = ?" when vendor is set.
func byVendor(query, vendor, order string) (string, []any) {
	if vendor == "" {
		return query + " " + order, nil
	}
	return query + " WHERE vendor = ? " + order, []any{vendor}
}

// --- products ---

const productColumns = `id, vendor, name, public_key, sealed_private_key, block_expired, created_at`

func scanProduct(row scanner) (storage.Product, error) {
	var p storage.Product
	var created int64
	err := row.Scan(&p.ID, &p.Vendor, &p.Name, &p.PublicKey, &p.SealedPrivateKey, &p.BlockExpired, &created)
	p.CreatedAt = fromMicros(created)
	return p, err
}

func (s *Store) CreateProduct(ctx context.Context, p storage.Product, seal func(id int64) ([]byte, error)) (storage.Product, error) {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			`INSERT INTO license_products (vendor, name, public_key, sealed_private_key, block_expired, created_at)
			 VALUES (?, ?, ?, x'', ?, ?)`, p.Vendor, p.Name, p.PublicKey, p.BlockExpired, toMicros(p.CreatedAt))
		if err != nil {
			return mapRefErr(err)
		}
		if p.ID, err = res.LastInsertId(); err != nil {
			return mapErr(err)
		}
		if p.SealedPrivateKey, err = seal(p.ID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE license_products SET sealed_private_key = ? WHERE id = ?`, p.SealedPrivateKey, p.ID)
		return mapErr(err)
	})
	if err != nil {
		return storage.Product{}, err
	}
	return p, nil
}

func (s *Store) GetProduct(ctx context.Context, id int64) (storage.Product, error) {
	p, err := scanProduct(s.r.QueryRowContext(ctx, `SELECT `+productColumns+` FROM license_products WHERE id = ?`, id))
	return p, mapErr(err)
}

func (s *Store) ListProducts(ctx context.Context, vendor string) ([]storage.Product, error) {
	q, args := byVendor(`SELECT `+productColumns+` FROM license_products`, vendor, `ORDER BY id`)
	return queryAll(ctx, s.r, q, args, scanProduct)
}

func (s *Store) UpdateProduct(ctx context.Context, id int64, update func(*storage.Product) error) (storage.Product, error) {
	var p storage.Product
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		p, err = scanProduct(tx.QueryRowContext(ctx, `SELECT `+productColumns+` FROM license_products WHERE id = ?`, id))
		if err != nil {
			return mapErr(err)
		}
		if err := update(&p); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE license_products SET name = ?, block_expired = ?, public_key = ?, sealed_private_key = ? WHERE id = ?`,
			p.Name, p.BlockExpired, p.PublicKey, p.SealedPrivateKey, id)
		return mapErr(err)
	})
	if err != nil {
		return storage.Product{}, err
	}
	return p, nil
}

// --- customers ---

const customerColumns = `id, vendor, name, email, company, max_devices, coalesce(user_name, ''), created_at`

func scanCustomer(row scanner) (storage.Customer, error) {
	var c storage.Customer
	var created int64
	err := row.Scan(&c.ID, &c.Vendor, &c.Name, &c.Email, &c.Company, &c.MaxNoOfDevices, &c.User, &created)
	c.CreatedAt = fromMicros(created)
	return c, err
}

func (s *Store) CreateCustomer(ctx context.Context, c storage.Customer) (storage.Customer, error) {
	res, err := s.w.ExecContext(ctx,
		`INSERT INTO license_customers (vendor, name, email, company, max_devices, user_name, created_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?)`,
		c.Vendor, c.Name, c.Email, c.Company, c.MaxNoOfDevices, nullable(c.User), toMicros(c.CreatedAt))
	if err != nil {
		return storage.Customer{}, mapRefErr(err)
	}
	c.ID, err = res.LastInsertId()
	return c, mapErr(err)
}

func (s *Store) GetCustomer(ctx context.Context, id int64) (storage.Customer, error) {
	c, err := scanCustomer(s.r.QueryRowContext(ctx, `SELECT `+customerColumns+` FROM license_customers WHERE id = ?`, id))
	return c, mapErr(err)
}

func (s *Store) ListCustomers(ctx context.Context, vendor string) ([]storage.Customer, error) {
	q, args := byVendor(`SELECT `+customerColumns+` FROM license_customers`, vendor, `ORDER BY id`)
	return queryAll(ctx, s.r, q, args, scanCustomer)
}

// --- license keys ---

const keyColumns = `global_id, product_id, id, key, created_at, period, expires_at, features, notes, blocked,
	coalesce(customer_id, 0), trial_activation, trial_started_at, max_machines, allowed_machines, trial_machine`

func scanKey(row scanner) (storage.LicenseKey, error) {
	var k storage.LicenseKey
	var created, expires, trialStarted, features int64
	err := row.Scan(&k.GlobalID, &k.ProductID, &k.ID, &k.Key, &created, &k.Period, &expires, &features, &k.Notes,
		&k.Blocked, &k.CustomerID, &k.TrialActivation, &trialStarted, &k.MaxNoOfMachines, &k.AllowedMachines, &k.TrialMachine)
	k.CreatedAt, k.ExpiresAt, k.TrialStartedAt = fromMicros(created), fromMicros(expires), fromMicros(trialStarted)
	for i := range k.Features {
		k.Features[i] = features&(1<<i) != 0
	}
	return k, err
}

func featureBits(f [8]bool) int64 {
	var bits int64
	for i, on := range f {
		if on {
			bits |= 1 << i
		}
	}
	return bits
}

func nullableID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func (s *Store) CreateLicenseKey(ctx context.Context, k storage.LicenseKey) (storage.LicenseKey, error) {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) + 1 FROM license_keys WHERE product_id = ?`,
			k.ProductID).Scan(&k.ID); err != nil {
			return mapErr(err)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO license_keys (product_id, id, key, created_at, period, expires_at,
			features, notes, blocked, customer_id, trial_activation, trial_started_at, max_machines, allowed_machines,
			trial_machine) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			k.ProductID, k.ID, k.Key, toMicros(k.CreatedAt), k.Period, toMicros(k.ExpiresAt), featureBits(k.Features),
			k.Notes, k.Blocked, nullableID(k.CustomerID), k.TrialActivation, toMicros(k.TrialStartedAt),
			k.MaxNoOfMachines, k.AllowedMachines, k.TrialMachine)
		if err != nil {
			return mapRefErr(err)
		}
		k.GlobalID, err = res.LastInsertId()
		return mapErr(err)
	})
	if err != nil {
		return storage.LicenseKey{}, err
	}
	return k, nil
}

func (s *Store) GetLicenseKey(ctx context.Context, productID int64, key string) (storage.LicenseKey, error) {
	k, err := scanKey(s.r.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM license_keys WHERE product_id = ? AND key = ?`,
		productID, key))
	return k, mapErr(err)
}

func (s *Store) FindTrialKey(ctx context.Context, productID int64, machineCode string) (storage.LicenseKey, error) {
	if machineCode == "" {
		return storage.LicenseKey{}, storage.ErrNotFound
	}
	k, err := scanKey(s.r.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM license_keys
		WHERE product_id = ? AND trial_machine = ? ORDER BY id DESC LIMIT 1`, productID, machineCode))
	return k, mapErr(err)
}

func (s *Store) ListLicenseKeys(ctx context.Context, productID int64) ([]storage.LicenseKey, error) {
	return queryAll(ctx, s.r, `SELECT `+keyColumns+` FROM license_keys WHERE product_id = ? ORDER BY id`,
		[]any{productID}, scanKey)
}

// --- activations ---

const activationColumns = `key_global_id, machine_code, floating, overdraft, friendly_name, ip, activated_at, floating_expires_at`

func scanActivation(row scanner) (storage.Activation, error) {
	var a storage.Activation
	var at, expires int64
	err := row.Scan(&a.KeyGlobalID, &a.MachineCode, &a.Floating, &a.Overdraft, &a.FriendlyName, &a.IP, &at, &expires)
	a.ActivatedAt, a.FloatingExpiresAt = fromMicros(at), fromMicros(expires)
	return a, err
}

const activationsOfKey = `SELECT ` + activationColumns + ` FROM license_activations WHERE key_global_id = ?
	ORDER BY floating, activated_at, machine_code`

func (s *Store) ListActivations(ctx context.Context, keyGlobalID int64) ([]storage.Activation, error) {
	return queryAll(ctx, s.r, activationsOfKey, []any{keyGlobalID}, scanActivation)
}

func (s *Store) UpdateActivations(ctx context.Context, productID int64, key string,
	decide func(storage.LicenseKey, []storage.Activation) (storage.ActivationChanges, error)) (storage.LicenseKey, []storage.Activation, error) {
	var k storage.LicenseKey
	var acts []storage.Activation
	// The write connection's transactions begin IMMEDIATE: from the first read on, no other writer runs, so
	// what decide sees is still true when its changes are written.
	err := s.tx(ctx, func(tx *sql.Tx) error {
		read := func() error {
			var err error
			k, err = scanKey(tx.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM license_keys WHERE product_id = ? AND key = ?`,
				productID, key))
			if err != nil {
				return mapErr(err)
			}
			acts, err = queryAll(ctx, tx, activationsOfKey, []any{k.GlobalID}, scanActivation)
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
			if _, err := tx.ExecContext(ctx, `UPDATE license_keys SET period = ?, expires_at = ?, features = ?, notes = ?,
				blocked = ?, customer_id = ?, trial_activation = ?, trial_started_at = ?, max_machines = ?,
				allowed_machines = ?, trial_machine = ? WHERE global_id = ?`,
				n.Period, toMicros(n.ExpiresAt), featureBits(n.Features), n.Notes, n.Blocked, nullableID(n.CustomerID),
				n.TrialActivation, toMicros(n.TrialStartedAt), n.MaxNoOfMachines, n.AllowedMachines, n.TrialMachine,
				k.GlobalID); err != nil {
				return mapRefErr(err)
			}
		}
		for _, a := range ch.Delete {
			if _, err := tx.ExecContext(ctx, `DELETE FROM license_activations WHERE key_global_id = ? AND floating = ? AND machine_code = ?`,
				k.GlobalID, a.Floating, a.MachineCode); err != nil {
				return mapErr(err)
			}
		}
		for _, a := range ch.Put {
			if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO license_activations (`+activationColumns+`)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, k.GlobalID, a.MachineCode, a.Floating, a.Overdraft, a.FriendlyName, a.IP,
				toMicros(a.ActivatedAt), toMicros(a.FloatingExpiresAt)); err != nil {
				return mapErr(err)
			}
		}
		if ch.Key == nil && len(ch.Put) == 0 && len(ch.Delete) == 0 {
			return nil
		}
		return read()
	})
	if err != nil {
		return storage.LicenseKey{}, nil, err
	}
	return k, acts, nil
}

// --- API tokens ---

const apiTokenColumns = `id, vendor, name, secret_hash, permissions, product_lock, key_lock, feature_lock,
	coalesce(parent_id, 0), created_at, expires_at, revoked_at`

func scanAPIToken(row scanner) (storage.APIToken, error) {
	var t storage.APIToken
	var perms string
	var created, expires, revoked int64
	err := row.Scan(&t.ID, &t.Vendor, &t.Name, &t.SecretHash, &perms, &t.ProductLock, &t.KeyLock, &t.FeatureLock,
		&t.ParentID, &created, &expires, &revoked)
	if perms != "" {
		t.Permissions = strings.Split(perms, ",")
	}
	t.CreatedAt, t.ExpiresAt, t.RevokedAt = fromMicros(created), fromMicros(expires), fromMicros(revoked)
	return t, err
}

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
	res, err := db.ExecContext(ctx, `INSERT INTO license_api_tokens (vendor, name, secret_hash, permissions,
		product_lock, key_lock, feature_lock, parent_id, created_at, expires_at, revoked_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.Vendor, t.Name, t.SecretHash, strings.Join(t.Permissions, ","), t.ProductLock, t.KeyLock, t.FeatureLock,
		nullableID(t.ParentID), toMicros(t.CreatedAt), toMicros(t.ExpiresAt), toMicros(t.RevokedAt))
	if err != nil {
		return storage.APIToken{}, mapRefErr(err)
	}
	t.ID, err = res.LastInsertId()
	return t, mapErr(err)
}

func (s *Store) GetAPIToken(ctx context.Context, id int64) (storage.APIToken, error) {
	t, err := scanAPIToken(s.r.QueryRowContext(ctx, `SELECT `+apiTokenColumns+` FROM license_api_tokens WHERE id = ?`, id))
	return t, mapErr(err)
}

func (s *Store) ListAPITokens(ctx context.Context, vendor string) ([]storage.APIToken, error) {
	q, args := byVendor(`SELECT `+apiTokenColumns+` FROM license_api_tokens`, vendor, `ORDER BY id`)
	return queryAll(ctx, s.r, q, args, scanAPIToken)
}

func (s *Store) RevokeAPIToken(ctx context.Context, id int64, at time.Time) error {
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
