package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/internal/sqlmap"
)

// --- vendors ---

func (s *Store) AddVendor(ctx context.Context, v storage.Vendor) error {
	_, err := s.pool.Exec(ctx, stmt.InsertVendor, v.Name, ts(v.CreatedAt))
	return mapRefErr(err)
}

func (s *Store) GetVendor(ctx context.Context, name string) (storage.Vendor, error) {
	if !storable(name) {
		return storage.Vendor{}, storage.ErrNotFound
	}
	return dialect.ScanVendor(s.pool.QueryRow(ctx, stmt.SelectVendor, name))
}

func (s *Store) ListVendors(ctx context.Context) ([]storage.Vendor, error) {
	return queryAll(ctx, s.pool, stmt.ListVendors, nil, dialect.ScanVendor)
}

// --- products ---

func (s *Store) CreateProduct(ctx context.Context, p storage.Product, seal func(id int64) ([]byte, error)) (storage.Product, error) {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO license_products (vendor, name, public_key, sealed_private_key, block_expired, created_at, allow_activation_management)
			VALUES ($1, $2, $3, '', $4, $5, $6) RETURNING id`, p.Vendor, p.Name, p.PublicKey, p.BlockExpired, ts(p.CreatedAt), p.AllowActivationManagement).Scan(&p.ID)
		if err != nil {
			return mapRefErr(err)
		}
		if p.SealedPrivateKey, err = seal(p.ID); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, stmt.SealProduct, p.SealedPrivateKey, p.ID)
		return mapErr(err)
	})
	if err != nil {
		return storage.Product{}, err
	}
	return p, nil
}

func (s *Store) GetProduct(ctx context.Context, id int64) (storage.Product, error) {
	return dialect.ScanProduct(s.pool.QueryRow(ctx, stmt.SelectProduct, id))
}

func (s *Store) ListProducts(ctx context.Context, vendor string) ([]storage.Product, error) {
	if !storable(vendor) {
		return nil, nil
	}
	q, args := dialect.ByVendor(`SELECT `+sqlmap.ProductColumns+` FROM license_products`, vendor, `ORDER BY id`)
	return queryAll(ctx, s.pool, q, args, dialect.ScanProduct)
}

func (s *Store) UpdateProduct(ctx context.Context, id int64, update func(*storage.Product) error) (_ storage.Product, err error) {
	defer func() { s.onChange.Run(ctx, err) }() // cached API tokens, products, stores
	var p storage.Product
	err = s.tx(ctx, func(tx pgx.Tx) error {
		var err error
		if p, err = dialect.ScanProduct(tx.QueryRow(ctx, stmt.SelectProduct+` FOR UPDATE`, id)); err != nil {
			return err
		}
		if err := update(&p); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, stmt.UpdateProduct, p.Name, p.BlockExpired, p.PublicKey, p.SealedPrivateKey, p.AllowActivationManagement, id)
		return mapErr(err)
	})
	if err != nil {
		return storage.Product{}, err
	}
	return p, nil
}

// --- customers ---

func (s *Store) CreateCustomer(ctx context.Context, c storage.Customer) (storage.Customer, error) {
	err := s.pool.QueryRow(ctx, stmt.InsertCustomer+` RETURNING id`,
		c.Vendor, c.Name, c.Email, c.Company, c.MaxNoOfDevices, sqlmap.Nullable(c.User), ts(c.CreatedAt),
		c.Notes, sqlmap.Nullable(c.SecretHash), c.Flags).Scan(&c.ID)
	if err != nil {
		return storage.Customer{}, mapRefErr(err)
	}
	return c, nil
}

func (s *Store) GetCustomer(ctx context.Context, id int64) (storage.Customer, error) {
	return dialect.ScanCustomer(s.pool.QueryRow(ctx, stmt.SelectCustomer, id))
}

func (s *Store) ListCustomers(ctx context.Context, vendor string) ([]storage.Customer, error) {
	if !storable(vendor) {
		return nil, nil
	}
	q, args := dialect.ByVendor(`SELECT `+sqlmap.CustomerColumns+` FROM license_customers`, vendor, `ORDER BY id`)
	return queryAll(ctx, s.pool, q, args, dialect.ScanCustomer)
}

// --- license keys ---

// CreateLicenseKey numbers keys within their product. It locks the product's row first, so that keys created
// at once for one product (on any node) take the next numbers in turn instead of colliding on one.
func (s *Store) CreateLicenseKey(ctx context.Context, k storage.LicenseKey) (storage.LicenseKey, error) {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if err := lockProduct(ctx, tx, k.ProductID); err != nil {
			return err
		}
		return insertLicenseKey(ctx, tx, &k)
	})
	if err != nil {
		return storage.LicenseKey{}, err
	}
	return k, nil
}

// lockProduct locks the product's row for the transaction: key numbering within it is serialized.
func lockProduct(ctx context.Context, tx pgx.Tx, productID int64) error {
	var one int
	if err := tx.QueryRow(ctx, `SELECT 1 FROM license_products WHERE id = $1 FOR UPDATE`, productID).Scan(&one); err != nil {
		return mapErr(err) // no such product: ErrNotFound
	}
	return nil
}

// insertLicenseKey stores k with the next ID within its (locked) product and sets its IDs.
func insertLicenseKey(ctx context.Context, tx pgx.Tx, k *storage.LicenseKey) error {
	if err := tx.QueryRow(ctx, stmt.NextLicenseKeyID, k.ProductID).Scan(&k.ID); err != nil {
		return mapErr(err)
	}
	err := tx.QueryRow(ctx, stmt.InsertLicenseKey+` RETURNING global_id`,
		k.ProductID, k.ID, k.Key, ts(k.CreatedAt), k.Period, ts(k.ExpiresAt), sqlmap.FeatureBits(k.Features),
		k.Notes, k.Blocked, sqlmap.NullableID(k.CustomerID), k.TrialActivation, ts(k.TrialStartedAt),
		k.MaxNoOfMachines, k.AllowedMachines, k.TrialMachine, sqlmap.NullableID(k.ResellerID)).Scan(&k.GlobalID)
	return mapRefErr(err)
}

func (s *Store) GetLicenseKey(ctx context.Context, productID int64, key string) (storage.LicenseKey, error) {
	if !storable(key) {
		return storage.LicenseKey{}, storage.ErrNotFound
	}
	return dialect.ScanLicenseKey(s.pool.QueryRow(ctx, stmt.SelectLicenseKey, productID, key))
}

func (s *Store) FindTrialKey(ctx context.Context, productID int64, machineCode string) (storage.LicenseKey, error) {
	if machineCode == "" || !storable(machineCode) {
		return storage.LicenseKey{}, storage.ErrNotFound
	}
	return dialect.ScanLicenseKey(s.pool.QueryRow(ctx, stmt.FindTrialKey, productID, machineCode))
}

func (s *Store) ListLicenseKeys(ctx context.Context, productID int64) ([]storage.LicenseKey, error) {
	return queryAll(ctx, s.pool, stmt.ListLicenseKeys, []any{productID}, dialect.ScanLicenseKey)
}

// --- activations ---

func (s *Store) ListActivations(ctx context.Context, keyGlobalID int64) ([]storage.Activation, error) {
	return listActivations(ctx, s.pool, keyGlobalID)
}

// listActivations reads a key's activations through q (the pool, or the transaction of a change).
func listActivations(ctx context.Context, q querier, keyGlobalID int64) ([]storage.Activation, error) {
	acts, err := queryAll(ctx, q, stmt.ListActivations, []any{keyGlobalID}, dialect.ScanActivation)
	sqlmap.SortActivations(acts)
	return acts, err
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
	changed := false
	err := s.tx(ctx, func(tx pgx.Tx) error {
		read := func(lock string) error {
			var err error
			if k, err = dialect.ScanLicenseKey(tx.QueryRow(ctx, stmt.SelectLicenseKey+lock, productID, key)); err != nil {
				return err
			}
			acts, err = listActivations(ctx, tx, k.GlobalID)
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
			if _, err := tx.Exec(ctx, stmt.UpdateLicenseKey,
				n.Period, ts(n.ExpiresAt), sqlmap.FeatureBits(n.Features), n.Notes, n.Blocked, sqlmap.NullableID(n.CustomerID),
				n.TrialActivation, ts(n.TrialStartedAt), n.MaxNoOfMachines, n.AllowedMachines, n.TrialMachine,
				sqlmap.NullableID(n.ResellerID), k.GlobalID); err != nil {
				return mapRefErr(err)
			}
		}
		for _, a := range ch.Delete {
			if _, err := tx.Exec(ctx, stmt.DeleteActivation, k.GlobalID, a.Floating, a.MachineCode); err != nil {
				return mapErr(err)
			}
		}
		for _, a := range ch.Put {
			if _, err := tx.Exec(ctx, `INSERT INTO license_activations (`+sqlmap.ActivationColumns+`)
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
		changed = true
		return read("")
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
	return insertAPIToken(ctx, s.pool, t)
}

// insertAPIToken stores t with a new ID through q (the pool, or a transaction).
func insertAPIToken(ctx context.Context, q querier, t storage.APIToken) (storage.APIToken, error) {
	err := q.QueryRow(ctx, stmt.InsertAPIToken+` RETURNING id`,
		t.Vendor, t.Name, t.SecretHash, list(t.Permissions), t.ProductLock, t.KeyLock, t.FeatureLock,
		sqlmap.NullableID(t.ParentID), ts(t.CreatedAt), ts(t.ExpiresAt), ts(t.RevokedAt)).Scan(&t.ID)
	if err != nil {
		return storage.APIToken{}, mapRefErr(err)
	}
	return t, nil
}

func (s *Store) GetAPIToken(ctx context.Context, id int64) (storage.APIToken, error) {
	return dialect.ScanAPIToken(s.pool.QueryRow(ctx, stmt.SelectAPIToken, id))
}

func (s *Store) ListAPITokens(ctx context.Context, vendor string) ([]storage.APIToken, error) {
	if !storable(vendor) {
		return nil, nil
	}
	q, args := dialect.ByVendor(`SELECT `+sqlmap.APITokenColumns+` FROM license_api_tokens`, vendor, `ORDER BY id`)
	return queryAll(ctx, s.pool, q, args, dialect.ScanAPIToken)
}

// RevokeAPIToken takes a lock on the table that lets reads go on but waits for tokens being created (on any
// node) to commit, and keeps new ones waiting until the revocation has committed: a token derived from one in
// the tree is either revoked with it or created afterwards, never missed in between.
func (s *Store) RevokeAPIToken(ctx context.Context, id int64, when time.Time) (err error) {
	defer func() { s.onChange.Run(ctx, err) }() // cached API tokens, products, stores
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
