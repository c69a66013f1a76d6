package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/internal/sqlmap"
)

var (
	adminTokenStmt = dialect.AdminTokenStatements()
	removalStmt    = dialect.RemovalStatements()
)

func (s *Store) CreateAdminToken(ctx context.Context, t storage.AdminToken) error {
	_, err := s.w.ExecContext(ctx, adminTokenStmt.Insert, t.ID, t.User, t.Name, t.SecretHash, t.ReadOnly, t.Vendor,
		toMicros(t.CreatedAt), toMicros(t.ExpiresAt), toMicros(t.LastUsedAt), toMicros(t.RevokedAt))
	return mapRefErr(err)
}

func (s *Store) GetAdminToken(ctx context.Context, id string) (storage.AdminToken, error) {
	return dialect.ScanAdminToken(s.r.QueryRowContext(ctx, adminTokenStmt.Select, id))
}

func (s *Store) ListAdminTokens(ctx context.Context, user string, limit int) ([]storage.AdminToken, error) {
	if user == "" {
		return queryAll(ctx, s.r, adminTokenStmt.List, []any{sqlmap.LimitOf(limit)}, dialect.ScanAdminToken)
	}
	return queryAll(ctx, s.r, adminTokenStmt.ListUser, []any{user, sqlmap.LimitOf(limit)}, dialect.ScanAdminToken)
}

func (s *Store) RevokeAdminToken(ctx context.Context, id string, at time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM admin_tokens WHERE id = ?`, id).Scan(new(int)); err != nil {
			return mapErr(err)
		}
		_, err := tx.ExecContext(ctx, adminTokenStmt.Revoke, toMicros(at), id)
		return mapErr(err)
	})
}

func (s *Store) TouchAdminToken(ctx context.Context, id string, at time.Time, minInterval time.Duration) error {
	_, err := s.w.ExecContext(ctx, adminTokenStmt.Touch, toMicros(at), id, toMicros(at.Add(-minInterval)))
	return mapErr(err)
}

func (s *Store) DeleteUser(ctx context.Context, name string, at time.Time) (err error) {
	defer func() { s.onChange.Run(ctx, err) }()
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM users WHERE name = ?`, name).Scan(new(int)); err != nil {
			return mapErr(err)
		}
		var inUse bool
		if err := tx.QueryRowContext(ctx, removalStmt.UserInUse, name, name, name, name).Scan(&inUse); err != nil {
			return mapErr(err)
		}
		if inUse {
			return fmt.Errorf("%w: user %q is a vendor, a customer's account or holds app authorizations", storage.ErrInUse, name)
		}
		for _, q := range []string{removalStmt.RevokeUserTokens, removalStmt.EndUserSessions} {
			if _, err := tx.ExecContext(ctx, q, toMicros(at), name); err != nil {
				return mapErr(err)
			}
		}
		for _, q := range []string{removalStmt.DeleteUserTokens, removalStmt.DeleteUserSessions, removalStmt.DeleteUserPATokens,
			removalStmt.DeleteUserActivations, removalStmt.DeleteUserAdminTokens, removalStmt.DeleteUser} {
			if _, err := tx.ExecContext(ctx, q, name); err != nil {
				return inUseErr(err)
			}
		}
		return nil
	})
}

func (s *Store) DeleteProduct(ctx context.Context, id int64, force bool) (_ storage.ProductRemoval, err error) {
	defer func() { s.onChange.Run(ctx, err) }() // cached API tokens, products, stores
	var r storage.ProductRemoval
	err = s.tx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM license_products WHERE id = ?`, id).Scan(new(int)); err != nil {
			return mapErr(err)
		}
		if err := tx.QueryRowContext(ctx, removalStmt.ProductUse, id, id, id).Scan(&r.Keys, &r.Activations, &r.SKUs); err != nil {
			return mapErr(err)
		}
		if !force && r.Keys+r.SKUs > 0 {
			return fmt.Errorf("%w: product %d has %d license key(s) and %d WooCommerce SKU(s)", storage.ErrInUse, id, r.Keys, r.SKUs)
		}
		for _, q := range []string{removalStmt.DeleteProductSKUs, removalStmt.DeleteProductKeys, removalStmt.DeleteProduct} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return inUseErr(err)
			}
		}
		return nil
	})
	return r, err
}

func (s *Store) DeleteLicenseKey(ctx context.Context, productID int64, key string, force bool) (int, error) {
	var n int
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var gid int64
		if err := tx.QueryRowContext(ctx, removalStmt.KeyUse, productID, key).Scan(&gid, &n); err != nil {
			return mapErr(err)
		}
		if !force && n > 0 {
			return fmt.Errorf("%w: the key has %d activation(s)", storage.ErrInUse, n)
		}
		if _, err := tx.ExecContext(ctx, removalStmt.DeleteKey, gid); err != nil {
			return inUseErr(err)
		}
		return nil
	})
	s.onChange.Run(ctx, err) // the cached license key, its activations and data objects
	return n, err
}

// inUseErr maps a foreign-key violation, a record this store does not know to remove referring to the one
// being removed, to ErrInUse.
func inUseErr(err error) error {
	var se sqlite3.Error
	if errors.As(err, &se) && se.Code == sqlite3.ErrConstraint && se.ExtendedCode == sqlite3.ErrConstraintForeignKey {
		return fmt.Errorf("%w: %v", storage.ErrInUse, err)
	}
	return mapErr(err)
}
