package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/internal/sqlmap"
)

// Customer settings and end-user accounts (storage.CustomerAccounts). Read-modify-writes lock their row
// (FOR UPDATE), so that two nodes changing one end user or customer at once take turns.

var caStmt = dialect.CustomerAccountStatements()

func (s *Store) UpdateCustomer(ctx context.Context, id int64, update func(*storage.Customer) error) (storage.Customer, error) {
	var c storage.Customer
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var err error
		if c, err = dialect.ScanCustomer(tx.QueryRow(ctx, stmt.SelectCustomer+` FOR UPDATE`, id)); err != nil {
			return err
		}
		if err := update(&c); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, caStmt.UpdateCustomer, c.Name, c.Email, c.Company, c.MaxNoOfDevices, c.Notes,
			sqlmap.Nullable(c.SecretHash), c.Flags, id)
		return mapErr(err)
	})
	if err != nil {
		return storage.Customer{}, err
	}
	return c, nil
}

func (s *Store) DeleteCustomer(ctx context.Context, id int64, force bool) (storage.CustomerRemoval, error) {
	var r storage.CustomerRemoval
	err := s.tx(ctx, func(tx pgx.Tx) error {
		// The keys are unlinked first and counted as they are: without force, any is a refusal and the
		// transaction is rolled back, so that no key linked meanwhile is missed.
		counts := []*int{&r.Keys, &r.EndUsers, &r.Devices}
		for i, q := range []string{caStmt.DetachCustomerKeys, caStmt.DetachCustomerUsers, caStmt.DeleteCustomerDevices} {
			n, err := rowsAffected(tx.Exec(ctx, q, id))
			if err != nil {
				return err
			}
			*counts[i] = n
			if i == 0 && !force && n > 0 {
				return fmt.Errorf("%w: customer %d has %d license key(s)", storage.ErrInUse, id, n)
			}
		}
		tag, err := tx.Exec(ctx, caStmt.DeleteCustomer, id)
		if err != nil {
			return mapErr(err)
		}
		return requireRow(tag)
	})
	s.onChange.Run(ctx, err) // the cached license keys it was linked to
	if err != nil && !errors.Is(err, storage.ErrInUse) {
		return storage.CustomerRemoval{}, err
	}
	return r, err
}

func (s *Store) FindCustomerBySecret(ctx context.Context, vendor string, secretHash string) (storage.Customer, error) {
	if secretHash == "" || !storable(vendor) {
		return storage.Customer{}, storage.ErrNotFound
	}
	return dialect.ScanCustomer(s.pool.QueryRow(ctx, caStmt.FindCustomerBySecret, vendor, secretHash))
}

func (s *Store) QueryCustomers(ctx context.Context, q storage.CustomerQuery) ([]storage.Customer, error) {
	query, args, none := dialect.CustomerQuery(q)
	if none {
		return nil, nil
	}
	return queryAll(ctx, s.pool, query, args, dialect.ScanCustomer)
}

func (s *Store) CreateEndUser(ctx context.Context, u storage.EndUser) (storage.EndUser, error) {
	if !storable(u.Vendor) {
		return storage.EndUser{}, storage.ErrNotFound
	}
	err := s.pool.QueryRow(ctx, caStmt.InsertEndUser+` RETURNING id`, u.Vendor, u.Name, sqlmap.FoldName(u.Name), u.Email,
		u.PasswordHash, sqlmap.NullableID(u.CustomerID), sqlmap.Nullable(u.ResetHash), ts(u.ResetExpiresAt), ts(u.CreatedAt), ts(u.UpdatedAt)).Scan(&u.ID)
	if err != nil {
		return storage.EndUser{}, mapRefErr(err)
	}
	return u, nil
}

func (s *Store) GetEndUser(ctx context.Context, vendor, name string) (storage.EndUser, error) {
	if !storable(vendor) || !storable(name) {
		return storage.EndUser{}, storage.ErrNotFound
	}
	return dialect.ScanEndUser(s.pool.QueryRow(ctx, caStmt.SelectEndUser, vendor, sqlmap.FoldName(name)))
}

func (s *Store) ListEndUsers(ctx context.Context, vendor string, customerID int64) ([]storage.EndUser, error) {
	if !storable(vendor) {
		return nil, nil
	}
	if customerID > 0 {
		return queryAll(ctx, s.pool, caStmt.ListCustomerEndUsers, []any{vendor, customerID}, dialect.ScanEndUser)
	}
	return queryAll(ctx, s.pool, caStmt.ListEndUsers, []any{vendor}, dialect.ScanEndUser)
}

func (s *Store) UpdateEndUser(ctx context.Context, vendor, name string, update func(*storage.EndUser) error) (storage.EndUser, error) {
	if !storable(vendor) || !storable(name) {
		return storage.EndUser{}, storage.ErrNotFound
	}
	var u storage.EndUser
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var err error
		if u, err = dialect.ScanEndUser(tx.QueryRow(ctx, caStmt.SelectEndUser+` FOR UPDATE`, vendor, sqlmap.FoldName(name))); err != nil {
			return err
		}
		if err := update(&u); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, caStmt.UpdateEndUser, u.Email, u.PasswordHash, sqlmap.NullableID(u.CustomerID), sqlmap.Nullable(u.ResetHash),
			ts(u.ResetExpiresAt), ts(u.UpdatedAt), u.ID)
		return mapRefErr(err)
	})
	if err != nil {
		return storage.EndUser{}, err
	}
	return u, nil
}

func (s *Store) DeleteEndUser(ctx context.Context, vendor, name string) error {
	if !storable(vendor) || !storable(name) {
		return storage.ErrNotFound
	}
	tag, err := s.pool.Exec(ctx, caStmt.DeleteEndUser, vendor, sqlmap.FoldName(name))
	if err != nil {
		return mapErr(err)
	}
	return requireRow(tag)
}
