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

func (s *Store) CreateAppAuthorization(ctx context.Context, a storage.AppAuthorization, devices []storage.AppDevice) (storage.AppAuthorization, error) {
	for _, p := range a.Permissions {
		if p == "" || strings.Contains(p, ",") {
			return storage.AppAuthorization{}, fmt.Errorf("sqlite: permission name %q is empty or holds a comma", p)
		}
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, stmt.InsertAppAuth,
			a.RequestHash, a.ParentTokenID, a.Vendor, a.User, string(a.State), a.AppName, a.DeviceName, a.MachineCode,
			a.PublicKey, joinList(a.Permissions, sqlmap.PermissionSep), a.ProductLock, a.KeyLock, a.FeatureLock,
			int64(a.Lifetime/time.Second), toMicros(a.DecidedAt))
		if err != nil {
			return mapRefErr(err)
		}
		if a.ID, err = res.LastInsertId(); err != nil {
			return mapErr(err)
		}
		for _, d := range devices {
			if err := registerDevice(ctx, tx, d); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return storage.AppAuthorization{}, err
	}
	a.ChildTokenID, a.IssuedAt, a.RevokedAt, a.TokenExpiresAt, a.TokenRevokedAt = 0, time.Time{}, time.Time{}, time.Time{}, time.Time{}
	return a, nil
}

// registerDevice adds d to its customer unless already there, within the customer's MaxNoOfDevices.
func registerDevice(ctx context.Context, tx *sql.Tx, d storage.AppDevice) error {
	var maxDevices, n, have int
	err := tx.QueryRowContext(ctx, `SELECT max_devices,
			(SELECT count(*) FROM app_devices WHERE customer_id = c.id),
			(SELECT count(*) FROM app_devices WHERE customer_id = c.id AND machine_code = ?)
		FROM license_customers c WHERE c.id = ?`, d.MachineCode, d.CustomerID).Scan(&maxDevices, &n, &have)
	if err != nil {
		return mapErr(err)
	}
	if have > 0 {
		return nil
	}
	if maxDevices > 0 && n >= maxDevices {
		return fmt.Errorf("%w: customer %d has %d of %d devices", storage.ErrLimitReached, d.CustomerID, n, maxDevices)
	}
	_, err = tx.ExecContext(ctx, stmt.InsertAppDevice, d.CustomerID, d.MachineCode, d.DeviceName, d.User, toMicros(d.RegisteredAt))
	return mapRefErr(err)
}

func (s *Store) GetAppAuthorization(ctx context.Context, id int64) (storage.AppAuthorization, error) {
	return dialect.ScanAppAuth(s.r.QueryRowContext(ctx, stmt.SelectAppAuth, id))
}

func (s *Store) FindAppAuthorization(ctx context.Context, requestHash []byte) (storage.AppAuthorization, error) {
	return dialect.ScanAppAuth(s.r.QueryRowContext(ctx, stmt.FindAppAuth, requestHash))
}

func (s *Store) FindAppAuthorizationByToken(ctx context.Context, childTokenID int64) (storage.AppAuthorization, error) {
	return dialect.ScanAppAuth(s.r.QueryRowContext(ctx, stmt.FindAppAuthByToken, childTokenID))
}

func (s *Store) ListAppAuthorizations(ctx context.Context, f storage.AppAuthorizationFilter) ([]storage.AppAuthorization, error) {
	w := dialect.AppAuthFilter(f)
	q := `SELECT ` + sqlmap.AppAuthColumns + sqlmap.AppAuthFrom + w.String() + ` ORDER BY a.id DESC LIMIT ` + w.Next(sqlmap.LimitOf(f.Limit))
	return queryAll(ctx, s.r, q, w.Args, dialect.ScanAppAuth)
}

func (s *Store) SetAppChallenge(ctx context.Context, id int64, challenge []byte, expiresAt time.Time) error {
	res, err := s.w.ExecContext(ctx, stmt.SetAppChallenge, challenge, toMicros(expiresAt), id)
	if err != nil {
		return mapErr(err)
	}
	return requireRow(res)
}

func (s *Store) TakeAppChallenge(ctx context.Context, id int64, now time.Time) ([]byte, error) {
	// Read and clear in one write transaction: writers run one at a time (BEGIN IMMEDIATE), so the first caller
	// clears the challenge and every later one finds it gone, however many requests race for it.
	var challenge []byte
	err := s.tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT challenge FROM app_authorizations
			WHERE id = ? AND challenge IS NOT NULL AND challenge_expires_at > ?`, id, toMicros(now)).Scan(&challenge)
		if err != nil {
			return mapErr(err)
		}
		_, err = tx.ExecContext(ctx, `UPDATE app_authorizations SET challenge = NULL, challenge_expires_at = 0 WHERE id = ?`, id)
		return mapErr(err)
	})
	if err != nil {
		return nil, err
	}
	return challenge, nil
}

func (s *Store) IssueAppToken(ctx context.Context, id int64, child storage.APIToken, at time.Time) (storage.APIToken, error) {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var state string
		var childID sql.NullInt64
		var revoked int64
		err := tx.QueryRowContext(ctx, `SELECT state, child_token_id, revoked_at FROM app_authorizations WHERE id = ?`, id).
			Scan(&state, &childID, &revoked)
		if err != nil {
			return mapErr(err)
		}
		if storage.AppAuthState(state) != storage.AppApproved || childID.Valid || revoked != 0 {
			return fmt.Errorf("%w: authorization %d is %s, token %v, revoked %v", storage.ErrConflict, id, state, childID.Valid, revoked != 0)
		}
		if child, err = insertAPIToken(ctx, tx, child); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE app_authorizations SET child_token_id = ?, issued_at = ?, challenge = NULL,
			challenge_expires_at = 0 WHERE id = ?`, child.ID, toMicros(at), id)
		return mapErr(err)
	})
	if err != nil {
		return storage.APIToken{}, err
	}
	return child, nil
}

// revokeTokenTree revokes an API token and every token derived from it.
func revokeTokenTree(ctx context.Context, tx *sql.Tx, id int64, at time.Time) error {
	_, err := tx.ExecContext(ctx, `WITH RECURSIVE tree(id) AS (
			SELECT ? UNION SELECT t.id FROM license_api_tokens t JOIN tree ON t.parent_id = tree.id)
		UPDATE license_api_tokens SET revoked_at = ? WHERE revoked_at = 0 AND id IN (SELECT id FROM tree)`,
		id, toMicros(at))
	return mapErr(err)
}

// revokeAppAuth marks one authorization revoked and revokes its child token.
func revokeAppAuth(ctx context.Context, tx *sql.Tx, id int64, at time.Time) error {
	var child sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT child_token_id FROM app_authorizations WHERE id = ?`, id).Scan(&child); err != nil {
		return mapErr(err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE app_authorizations SET revoked_at = ?, challenge = NULL, challenge_expires_at = 0
		WHERE id = ? AND revoked_at = 0`, toMicros(at), id); err != nil {
		return mapErr(err)
	}
	if child.Valid {
		return revokeTokenTree(ctx, tx, child.Int64, at)
	}
	return nil
}

func (s *Store) RevokeAppAuthorization(ctx context.Context, id int64, at time.Time) (err error) {
	defer func() { s.onChange.Run(ctx, err) }() // cached API tokens, products, stores
	return s.tx(ctx, func(tx *sql.Tx) error { return revokeAppAuth(ctx, tx, id, at) })
}

func (s *Store) ListAppDevices(ctx context.Context, user string) ([]storage.AppDevice, error) {
	q, args := dialect.ListAppDevices(user)
	return queryAll(ctx, s.r, q, args, dialect.ScanAppDevice)
}

func (s *Store) RemoveAppDevice(ctx context.Context, customerID int64, machineCode string, at time.Time) (_ int, err error) {
	defer func() { s.onChange.Run(ctx, err) }() // cached API tokens, products, stores
	var n int
	err = s.tx(ctx, func(tx *sql.Tx) error {
		d, err := dialect.ScanAppDevice(tx.QueryRowContext(ctx, `SELECT `+sqlmap.AppDeviceColumns+sqlmap.AppDeviceFrom+`
			WHERE d.customer_id = ? AND d.machine_code = ?`, customerID, machineCode))
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM app_devices WHERE customer_id = ? AND machine_code = ?`, customerID, machineCode); err != nil {
			return mapErr(err)
		}
		ids, err := queryAll(ctx, tx, `SELECT id FROM app_authorizations WHERE user_name = ? AND vendor = ? AND machine_code = ?
			AND state = 'approved' AND revoked_at = 0`, []any{d.User, d.Vendor, machineCode},
			dialect.ScanID)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := revokeAppAuth(ctx, tx, id, at); err != nil {
				return err
			}
		}
		n = len(ids)
		return nil
	})
	return n, err
}

func (s *Store) ListUserCustomers(ctx context.Context, vendor, user string) ([]storage.Customer, error) {
	return queryAll(ctx, s.r, stmt.ListUserCustomers, []any{vendor, user}, dialect.ScanCustomer)
}

func (s *Store) ListCustomerLicenseKeys(ctx context.Context, customerID int64) ([]storage.LicenseKey, error) {
	return queryAll(ctx, s.r, stmt.ListCustomerLicenseKeys, []any{customerID}, dialect.ScanLicenseKey)
}

func (s *Store) DeleteAppAuthorizations(ctx context.Context, unusedBefore, deadBefore time.Time, limit int) (int, error) {
	dead := toMicros(deadBefore)
	return rowsAffected(s.w.ExecContext(ctx, `DELETE FROM app_authorizations WHERE id IN (
		SELECT a.id FROM app_authorizations a LEFT JOIN license_api_tokens t ON t.id = a.child_token_id
		WHERE (a.child_token_id IS NULL AND a.decided_at < ?)
		   OR (a.child_token_id IS NOT NULL AND ((t.expires_at <> 0 AND t.expires_at < ?) OR (t.revoked_at <> 0 AND t.revoked_at < ?)))
		LIMIT ?)`, toMicros(unusedBefore), dead, dead, limit))
}
