package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/internal/sqlmap"
)

// Customer settings and end-user accounts (storage.CustomerAccounts).

var caStmt = dialect.CustomerAccountStatements()

func (s *Store) UpdateCustomer(ctx context.Context, id int64, update func(*storage.Customer) error) (storage.Customer, error) {
	var c storage.Customer
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		if c, err = dialect.ScanCustomer(tx.QueryRowContext(ctx, stmt.SelectCustomer, id)); err != nil {
			return err
		}
		if err := update(&c); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, caStmt.UpdateCustomer, c.Name, c.Email, c.Company, c.MaxNoOfDevices, c.Notes,
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
	err := s.tx(ctx, func(tx *sql.Tx) error {
		// The keys are unlinked first and counted as they are: without force, any is a refusal and the
		// transaction is rolled back, so that no key linked meanwhile is missed.
		counts := []*int{&r.Keys, &r.EndUsers, &r.Devices}
		for i, q := range []string{caStmt.DetachCustomerKeys, caStmt.DetachCustomerUsers, caStmt.DeleteCustomerDevices} {
			n, err := rowsAffected(tx.ExecContext(ctx, q, id))
			if err != nil {
				return err
			}
			*counts[i] = n
			if i == 0 && !force && n > 0 {
				return fmt.Errorf("%w: customer %d has %d license key(s)", storage.ErrInUse, id, n)
			}
		}
		res, err := tx.ExecContext(ctx, caStmt.DeleteCustomer, id)
		if err != nil {
			return mapErr(err)
		}
		return requireRow(res)
	})
	s.onChange.Run(ctx, err) // the cached license keys it was linked to
	if err != nil && !errors.Is(err, storage.ErrInUse) {
		return storage.CustomerRemoval{}, err
	}
	return r, err
}

func (s *Store) FindCustomerBySecret(ctx context.Context, vendor string, secretHash string) (storage.Customer, error) {
	if secretHash == "" {
		return storage.Customer{}, storage.ErrNotFound
	}
	return dialect.ScanCustomer(s.r.QueryRowContext(ctx, caStmt.FindCustomerBySecret, vendor, secretHash))
}

func (s *Store) QueryCustomers(ctx context.Context, q storage.CustomerQuery) ([]storage.Customer, error) {
	query, args, _ := dialect.CustomerQuery(q)
	return queryAll(ctx, s.r, query, args, dialect.ScanCustomer)
}

func (s *Store) CreateEndUser(ctx context.Context, u storage.EndUser) (storage.EndUser, error) {
	res, err := s.w.ExecContext(ctx, caStmt.InsertEndUser, u.Vendor, u.Name, sqlmap.FoldName(u.Name), u.Email, u.PasswordHash,
		sqlmap.NullableID(u.CustomerID), sqlmap.Nullable(u.ResetHash), toMicros(u.ResetExpiresAt), toMicros(u.CreatedAt), toMicros(u.UpdatedAt))
	if err != nil {
		return storage.EndUser{}, mapRefErr(err)
	}
	u.ID, err = res.LastInsertId()
	return u, mapErr(err)
}

func (s *Store) GetEndUser(ctx context.Context, vendor, name string) (storage.EndUser, error) {
	return dialect.ScanEndUser(s.r.QueryRowContext(ctx, caStmt.SelectEndUser, vendor, sqlmap.FoldName(name)))
}

func (s *Store) ListEndUsers(ctx context.Context, vendor string, customerID int64) ([]storage.EndUser, error) {
	if customerID > 0 {
		return queryAll(ctx, s.r, caStmt.ListCustomerEndUsers, []any{vendor, customerID}, dialect.ScanEndUser)
	}
	return queryAll(ctx, s.r, caStmt.ListEndUsers, []any{vendor}, dialect.ScanEndUser)
}

func (s *Store) UpdateEndUser(ctx context.Context, vendor, name string, update func(*storage.EndUser) error) (storage.EndUser, error) {
	var u storage.EndUser
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		if u, err = dialect.ScanEndUser(tx.QueryRowContext(ctx, caStmt.SelectEndUser, vendor, sqlmap.FoldName(name))); err != nil {
			return err
		}
		if err := update(&u); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, caStmt.UpdateEndUser, u.Email, u.PasswordHash, sqlmap.NullableID(u.CustomerID), sqlmap.Nullable(u.ResetHash),
			toMicros(u.ResetExpiresAt), toMicros(u.UpdatedAt), u.ID)
		return mapRefErr(err)
	})
	if err != nil {
		return storage.EndUser{}, err
	}
	return u, nil
}

func (s *Store) DeleteEndUser(ctx context.Context, vendor, name string) error {
	res, err := s.w.ExecContext(ctx, caStmt.DeleteEndUser, vendor, sqlmap.FoldName(name))
	if err != nil {
		return mapErr(err)
	}
	return requireRow(res)
}
