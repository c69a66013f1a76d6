package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tokenmanager/tokenmanager/storage"
)

// --- vendors ---

func scanVendor(row scanner) (storage.Vendor, error) {
	var v storage.Vendor
	err := row.Scan(&v.Name, at(&v.CreatedAt))
	return v, err
}

func (s *Store) AddVendor(ctx context.Context, v storage.Vendor) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO license_vendors (user_name, created_at) VALUES ($1, $2)`, v.Name, ts(v.CreatedAt))
	return mapRefErr(err)
}

func (s *Store) GetVendor(ctx context.Context, name string) (storage.Vendor, error) {
	if !storable(name) {
		return storage.Vendor{}, storage.ErrNotFound
	}
	v, err := scanVendor(s.pool.QueryRow(ctx, `SELECT user_name, created_at FROM license_vendors WHERE user_name = $1`, name))
	if err != nil {
		return storage.Vendor{}, mapErr(err)
	}
	return v, nil
}

func (s *Store) ListVendors(ctx context.Context) ([]storage.Vendor, error) {
	return queryAll(ctx, s.pool, `SELECT user_name, created_at FROM license_vendors ORDER BY user_name`, nil, scanVendor)
}

// byVendor adds "WHERE vendor = $1" when vendor is set.
func byVendor(query, vendor, order string) (string, []any) {
	if vendor == "" {
		return query + " " + order, nil
	}
	return query + " WHERE vendor = $1 " + order, []any{vendor}
}

// --- products ---

const productColumns = `id, vendor, name, public_key, sealed_private_key, block_expired, created_at`

func scanProduct(row scanner) (storage.Product, error) {
	var p storage.Product
	err := row.Scan(&p.ID, &p.Vendor, &p.Name, &p.PublicKey, &p.SealedPrivateKey, &p.BlockExpired, at(&p.CreatedAt))
	return p, err
}

func (s *Store) CreateProduct(ctx context.Context, p storage.Product, seal func(id int64) ([]byte, error)) (storage.Product, error) {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO license_products (vendor, name, public_key, sealed_private_key, block_expired, created_at)
			VALUES ($1, $2, $3, '', $4, $5) RETURNING id`, p.Vendor, p.Name, p.PublicKey, p.BlockExpired, ts(p.CreatedAt)).Scan(&p.ID)
		if err != nil {
			return mapRefErr(err)
		}
		if p.SealedPrivateKey, err = seal(p.ID); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE license_products SET sealed_private_key = $1 WHERE id = $2`, p.SealedPrivateKey, p.ID)
		return mapErr(err)
	})
	if err != nil {
		return storage.Product{}, err
	}
	return p, nil
}

func (s *Store) GetProduct(ctx context.Context, id int64) (storage.Product, error) {
	p, err := scanProduct(s.pool.QueryRow(ctx, `SELECT `+productColumns+` FROM license_products WHERE id = $1`, id))
	if err != nil {
		return storage.Product{}, mapErr(err)
	}
	return p, nil
}

func (s *Store) ListProducts(ctx context.Context, vendor string) ([]storage.Product, error) {
	if !storable(vendor) {
		return nil, nil
	}
	q, args := byVendor(`SELECT `+productColumns+` FROM license_products`, vendor, `ORDER BY id`)
	return queryAll(ctx, s.pool, q, args, scanProduct)
}

func (s *Store) UpdateProduct(ctx context.Context, id int64, update func(*storage.Product) error) (storage.Product, error) {
	var p storage.Product
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var err error
		p, err = scanProduct(tx.QueryRow(ctx, `SELECT `+productColumns+` FROM license_products WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return mapErr(err)
		}
		if err := update(&p); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE license_products SET name = $1, block_expired = $2, public_key = $3, sealed_private_key = $4 WHERE id = $5`,
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
	err := row.Scan(&c.ID, &c.Vendor, &c.Name, &c.Email, &c.Company, &c.MaxNoOfDevices, &c.User, at(&c.CreatedAt))
	return c, err
}

func (s *Store) CreateCustomer(ctx context.Context, c storage.Customer) (storage.Customer, error) {
	err := s.pool.QueryRow(ctx,
		`INSERT INTO license_customers (vendor, name, email, company, max_devices, user_name, created_at)
		 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		c.Vendor, c.Name, c.Email, c.Company, c.MaxNoOfDevices, nullable(c.User), ts(c.CreatedAt)).Scan(&c.ID)
	if err != nil {
		return storage.Customer{}, mapRefErr(err)
	}
	return c, nil
}

func (s *Store) GetCustomer(ctx context.Context, id int64) (storage.Customer, error) {
	c, err := scanCustomer(s.pool.QueryRow(ctx, `SELECT `+customerColumns+` FROM license_customers WHERE id = $1`, id))
	if err != nil {
		return storage.Customer{}, mapErr(err)
	}
	return c, nil
}

func (s *Store) ListCustomers(ctx context.Context, vendor string) ([]storage.Customer, error) {
	if !storable(vendor) {
		return nil, nil
	}
	q, args := byVendor(`SELECT `+customerColumns+` FROM license_customers`, vendor, `ORDER BY id`)
	return queryAll(ctx, s.pool, q, args, scanCustomer)
}

// --- license keys ---

const keyColumns = `global_id, product_id, id, key, created_at, period, expires_at, features, notes, blocked,
	coalesce(customer_id, 0), trial_activation, trial_started_at, max_machines, allowed_machines, trial_machine`

func scanKey(row scanner) (storage.LicenseKey, error) {
	var k storage.LicenseKey
	var features int16
	err := row.Scan(&k.GlobalID, &k.ProductID, &k.ID, &k.Key, at(&k.CreatedAt), &k.Period, at(&k.ExpiresAt), &features, &k.Notes,
		&k.Blocked, &k.CustomerID, &k.TrialActivation, at(&k.TrialStartedAt), &k.MaxNoOfMachines, &k.AllowedMachines, &k.TrialMachine)
	for i := range k.Features {
		k.Features[i] = features&(1<<i) != 0
	}
	return k, err
}

// featureBits packs F1..F8 into bits 0..7.
func featureBits(f [8]bool) int16 {
	var bits int16
	for i, on := range f {
		if on {
			bits |= 1 << i
		}
	}
	return bits
}

// CreateLicenseKey numbers keys within their product. It locks the product's row first, so that keys created
// at once for one product (on any node) take the next numbers in turn instead of colliding on one.
func (s *Store) CreateLicenseKey(ctx context.Context, k storage.LicenseKey) (storage.LicenseKey, error) {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM license_products WHERE id = $1 FOR UPDATE`, k.ProductID).Scan(&one); err != nil {
			return mapErr(err) // no such product: ErrNotFound
		}
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(id), 0) + 1 FROM license_keys WHERE product_id = $1`,
			k.ProductID).Scan(&k.ID); err != nil {
			return mapErr(err)
		}
		err := tx.QueryRow(ctx, `INSERT INTO license_keys (product_id, id, key, created_at, period, expires_at,
			features, notes, blocked, customer_id, trial_activation, trial_started_at, max_machines, allowed_machines,
			trial_machine) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING global_id`,
			k.ProductID, k.ID, k.Key, ts(k.CreatedAt), k.Period, ts(k.ExpiresAt), featureBits(k.Features),
			k.Notes, k.Blocked, nullableID(k.CustomerID), k.TrialActivation, ts(k.TrialStartedAt),
			k.MaxNoOfMachines, k.AllowedMachines, k.TrialMachine).Scan(&k.GlobalID)
		return mapRefErr(err)
	})
	if err != nil {
		return storage.LicenseKey{}, err
	}
	return k, nil
}

func (s *Store) GetLicenseKey(ctx context.Context, productID int64, key string) (storage.LicenseKey, error) {
	if !storable(key) {
		return storage.LicenseKey{}, storage.ErrNotFound
	}
	k, err := scanKey(s.pool.QueryRow(ctx, `SELECT `+keyColumns+` FROM license_keys WHERE product_id = $1 AND key = $2`,
		productID, key))
	if err != nil {
		return storage.LicenseKey{}, mapErr(err)
	}
	return k, nil
}

func (s *Store) FindTrialKey(ctx context.Context, productID int64, machineCode string) (storage.LicenseKey, error) {
	if machineCode == "" || !storable(machineCode) {
		return storage.LicenseKey{}, storage.ErrNotFound
	}
	k, err := scanKey(s.pool.QueryRow(ctx, `SELECT `+keyColumns+` FROM license_keys
		WHERE product_id = $1 AND trial_machine = $2 ORDER BY id DESC LIMIT 1`, productID, machineCode))
	if err != nil {
		return storage.LicenseKey{}, mapErr(err)
	}
	return k, nil
}

func (s *Store) ListLicenseKeys(ctx context.Context, productID int64) ([]storage.LicenseKey, error) {
	return queryAll(ctx, s.pool, `SELECT `+keyColumns+` FROM license_keys WHERE product_id = $1 ORDER BY id`,
		[]any{productID}, scanKey)
}

// --- activations ---

const activationColumns = `key_global_id, machine_code, floating, overdraft, friendly_name, ip, activated_at, floating_expires_at`

func scanActivation(row scanner) (storage.Activation, error) {
	var a storage.Activation
	err := row.Scan(&a.KeyGlobalID, &a.MachineCode, &a.Floating, &a.Overdraft, &a.FriendlyName, &a.IP,
		at(&a.ActivatedAt), at(&a.FloatingExpiresAt))
	return a, err
}

const activationsOfKey = `SELECT ` + activationColumns + ` FROM license_activations WHERE key_global_id = $1
	ORDER BY floating, activated_at, machine_code`

func (s *Store) ListActivations(ctx context.Context, keyGlobalID int64) ([]storage.Activation, error) {
	return queryAll(ctx, s.pool, activationsOfKey, []any{keyGlobalID}, scanActivation)
}

// UpdateActivations locks the key's row (SELECT … FOR UPDATE) before reading its activations: every other
// UpdateActivations of the key, on any node, waits at that point until this one commits, and then reads what it
// wrote. That is what keeps two machines from both taking the last seat.
func (s *Store) UpdateActivations(ctx context.Context, productID int64, key string,
	decide func(storage.LicenseKey, []storage.Activation) (storage.ActivationChanges, error)) (storage.LicenseKey, []storage.Activation, error) {
	if !storable(key) {
		return storage.LicenseKey{}, nil, storage.ErrNotFound
	}
	var k storage.LicenseKey
	var acts []storage.Activation
	err := s.tx(ctx, func(tx pgx.Tx) error {
		read := func(lock string) error {
			var err error
			k, err = scanKey(tx.QueryRow(ctx, `SELECT `+keyColumns+` FROM license_keys WHERE product_id = $1 AND key = $2`+lock,
				productID, key))
			if err != nil {
				return mapErr(err)
			}
			acts, err = queryAll(ctx, tx, activationsOfKey, []any{k.GlobalID}, scanActivation)
			return err
		}
		if err := read(" FOR UPDATE"); err != nil {
			return err
		}
		ch, err := decide(k, acts)
		if err != nil {
			return err
		}
		if ch.Key != nil {
			n := ch.Key
			if _, err := tx.Exec(ctx, `UPDATE license_keys SET period = $1, expires_at = $2, features = $3, notes = $4,
				blocked = $5, customer_id = $6, trial_activation = $7, trial_started_at = $8, max_machines = $9,
				allowed_machines = $10, trial_machine = $11 WHERE global_id = $12`,
				n.Period, ts(n.ExpiresAt), featureBits(n.Features), n.Notes, n.Blocked, nullableID(n.CustomerID),
				n.TrialActivation, ts(n.TrialStartedAt), n.MaxNoOfMachines, n.AllowedMachines, n.TrialMachine,
				k.GlobalID); err != nil {
				return mapRefErr(err)
			}
		}
		for _, a := range ch.Delete {
			if _, err := tx.Exec(ctx, `DELETE FROM license_activations WHERE key_global_id = $1 AND floating = $2 AND machine_code = $3`,
				k.GlobalID, a.Floating, a.MachineCode); err != nil {
				return mapErr(err)
			}
		}
		for _, a := range ch.Put {
			if _, err := tx.Exec(ctx, `INSERT INTO license_activations (`+activationColumns+`)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
				ON CONFLICT (key_global_id, floating, machine_code) DO UPDATE SET overdraft = excluded.overdraft,
					friendly_name = excluded.friendly_name, ip = excluded.ip, activated_at = excluded.activated_at,
					floating_expires_at = excluded.floating_expires_at`,
				k.GlobalID, a.MachineCode, a.Floating, a.Overdraft, a.FriendlyName, a.IP,
				ts(a.ActivatedAt), ts(a.FloatingExpiresAt)); err != nil {
				return mapErr(err)
			}
		}
		if ch.Key == nil && len(ch.Put) == 0 && len(ch.Delete) == 0 {
			return nil
		}
		return read("")
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
	err := row.Scan(&t.ID, &t.Vendor, &t.Name, &t.SecretHash, &t.Permissions, &t.ProductLock, &t.KeyLock, &t.FeatureLock,
		&t.ParentID, at(&t.CreatedAt), at(&t.ExpiresAt), at(&t.RevokedAt))
	t.Permissions = nilIfEmpty(t.Permissions)
	return t, err
}

func (s *Store) CreateAPIToken(ctx context.Context, t storage.APIToken) (storage.APIToken, error) {
	return insertAPIToken(ctx, s.pool, t)
}

// insertAPIToken stores t with a new ID through q (the pool, or a transaction).
func insertAPIToken(ctx context.Context, q querier, t storage.APIToken) (storage.APIToken, error) {
	err := q.QueryRow(ctx, `INSERT INTO license_api_tokens (vendor, name, secret_hash, permissions,
		product_lock, key_lock, feature_lock, parent_id, created_at, expires_at, revoked_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
		t.Vendor, t.Name, t.SecretHash, list(t.Permissions), t.ProductLock, t.KeyLock, t.FeatureLock,
		nullableID(t.ParentID), ts(t.CreatedAt), ts(t.ExpiresAt), ts(t.RevokedAt)).Scan(&t.ID)
	if err != nil {
		return storage.APIToken{}, mapRefErr(err)
	}
	return t, nil
}

func (s *Store) GetAPIToken(ctx context.Context, id int64) (storage.APIToken, error) {
	t, err := scanAPIToken(s.pool.QueryRow(ctx, `SELECT `+apiTokenColumns+` FROM license_api_tokens WHERE id = $1`, id))
	if err != nil {
		return storage.APIToken{}, mapErr(err)
	}
	return t, nil
}

func (s *Store) ListAPITokens(ctx context.Context, vendor string) ([]storage.APIToken, error) {
	if !storable(vendor) {
		return nil, nil
	}
	q, args := byVendor(`SELECT `+apiTokenColumns+` FROM license_api_tokens`, vendor, `ORDER BY id`)
	return queryAll(ctx, s.pool, q, args, scanAPIToken)
}

// RevokeAPIToken takes a lock on the table that lets reads go on but waits for tokens being created (on any
// node) to commit, and keeps new ones waiting until the revocation has committed: a token derived from one in
// the tree is either revoked with it or created afterwards, never missed in between.
func (s *Store) RevokeAPIToken(ctx context.Context, id int64, when time.Time) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		if err := lockAPITokens(ctx, tx); err != nil {
			return err
		}
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM license_api_tokens WHERE id = $1)`, id).Scan(&exists); err != nil {
			return mapErr(err)
		}
		if !exists {
			return storage.ErrNotFound
		}
		return revokeTokenTrees(ctx, tx, []int64{id}, when)
	})
}

// lockAPITokens takes RevokeAPIToken's table lock: reads go on, tokens being created are waited for and new ones
// wait until the transaction ends.
func lockAPITokens(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `LOCK TABLE license_api_tokens IN SHARE ROW EXCLUSIVE MODE`)
	return mapErr(err)
}

// revokeTokenTrees revokes the tokens roots and every token derived from them, keeping earlier revocation
// times. The caller holds lockAPITokens.
func revokeTokenTrees(ctx context.Context, tx pgx.Tx, roots []int64, when time.Time) error {
	_, err := tx.Exec(ctx, `WITH RECURSIVE tree(id) AS (
			SELECT unnest($1::bigint[]) UNION SELECT t.id FROM license_api_tokens t JOIN tree ON t.parent_id = tree.id)
		UPDATE license_api_tokens SET revoked_at = $2 WHERE revoked_at = '-infinity' AND id IN (SELECT id FROM tree)`,
		roots, ts(when))
	return mapErr(err)
}
