package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

// appAuthColumns read an authorization with its child token's expiry and revocation (a LEFT JOIN as "t").
const appAuthColumns = `a.id, a.request_hash, a.parent_token_id, a.vendor, a.user_name, a.state, a.app_name,
	a.device_name, a.machine_code, a.public_key, a.permissions, a.product_lock, a.key_lock, a.feature_lock,
	a.lifetime_seconds, a.decided_at, coalesce(a.child_token_id, 0), a.issued_at, a.revoked_at,
	coalesce(t.expires_at, 0), coalesce(t.revoked_at, 0)`

const appAuthFrom = ` FROM app_authorizations a LEFT JOIN license_api_tokens t ON t.id = a.child_token_id`

func scanAppAuth(row scanner) (storage.AppAuthorization, error) {
	var a storage.AppAuthorization
	var perms, state string
	var lifetime, decided, issued, revoked, tokExpires, tokRevoked int64
	err := row.Scan(&a.ID, &a.RequestHash, &a.ParentTokenID, &a.Vendor, &a.User, &state, &a.AppName, &a.DeviceName,
		&a.MachineCode, &a.PublicKey, &perms, &a.ProductLock, &a.KeyLock, &a.FeatureLock, &lifetime, &decided,
		&a.ChildTokenID, &issued, &revoked, &tokExpires, &tokRevoked)
	a.State = storage.AppAuthState(state)
	if perms != "" {
		a.Permissions = strings.Split(perms, ",")
	}
	a.Lifetime = time.Duration(lifetime) * time.Second
	a.DecidedAt, a.IssuedAt, a.RevokedAt = fromMicros(decided), fromMicros(issued), fromMicros(revoked)
	a.TokenExpiresAt, a.TokenRevokedAt = fromMicros(tokExpires), fromMicros(tokRevoked)
	return a, err
}

func (s *Store) CreateAppAuthorization(ctx context.Context, a storage.AppAuthorization, devices []storage.AppDevice) (storage.AppAuthorization, error) {
	for _, p := range a.Permissions {
		if p == "" || strings.Contains(p, ",") {
			return storage.AppAuthorization{}, fmt.Errorf("sqlite: permission name %q is empty or holds a comma", p)
		}
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO app_authorizations (request_hash, parent_token_id, vendor, user_name,
			state, app_name, device_name, machine_code, public_key, permissions, product_lock, key_lock, feature_lock,
			lifetime_seconds, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			a.RequestHash, a.ParentTokenID, a.Vendor, a.User, string(a.State), a.AppName, a.DeviceName, a.MachineCode,
			a.PublicKey, strings.Join(a.Permissions, ","), a.ProductLock, a.KeyLock, a.FeatureLock,
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
	_, err = tx.ExecContext(ctx, `INSERT INTO app_devices (customer_id, machine_code, device_name, user_name, registered_at)
		VALUES (?, ?, ?, ?, ?)`, d.CustomerID, d.MachineCode, d.DeviceName, d.User, toMicros(d.RegisteredAt))
	return mapRefErr(err)
}

func (s *Store) GetAppAuthorization(ctx context.Context, id int64) (storage.AppAuthorization, error) {
	a, err := scanAppAuth(s.r.QueryRowContext(ctx, `SELECT `+appAuthColumns+appAuthFrom+` WHERE a.id = ?`, id))
	return a, mapErr(err)
}

func (s *Store) FindAppAuthorization(ctx context.Context, requestHash []byte) (storage.AppAuthorization, error) {
	a, err := scanAppAuth(s.r.QueryRowContext(ctx, `SELECT `+appAuthColumns+appAuthFrom+` WHERE a.request_hash = ?`, requestHash))
	return a, mapErr(err)
}

func (s *Store) FindAppAuthorizationByToken(ctx context.Context, childTokenID int64) (storage.AppAuthorization, error) {
	a, err := scanAppAuth(s.r.QueryRowContext(ctx, `SELECT `+appAuthColumns+appAuthFrom+` WHERE a.child_token_id = ?`, childTokenID))
	return a, mapErr(err)
}

func (s *Store) ListAppAuthorizations(ctx context.Context, f storage.AppAuthorizationFilter) ([]storage.AppAuthorization, error) {
	var where []string
	var args []any
	if f.User != "" {
		where, args = append(where, "a.user_name = ?"), append(args, f.User)
	}
	if f.Vendor != "" {
		where, args = append(where, "a.vendor = ?"), append(args, f.Vendor)
	}
	q := `SELECT ` + appAuthColumns + appAuthFrom
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	return queryAll(ctx, s.r, q+" ORDER BY a.id DESC LIMIT ?", append(args, limit), scanAppAuth)
}

func (s *Store) SetAppChallenge(ctx context.Context, id int64, challenge []byte, expiresAt time.Time) error {
	res, err := s.w.ExecContext(ctx, `UPDATE app_authorizations SET challenge = ?, challenge_expires_at = ? WHERE id = ?`,
		challenge, toMicros(expiresAt), id)
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

func (s *Store) RevokeAppAuthorization(ctx context.Context, id int64, at time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error { return revokeAppAuth(ctx, tx, id, at) })
}

const appDeviceColumns = `d.customer_id, d.machine_code, d.device_name, d.user_name, c.vendor, d.registered_at`

func scanAppDevice(row scanner) (storage.AppDevice, error) {
	var d storage.AppDevice
	var at int64
	err := row.Scan(&d.CustomerID, &d.MachineCode, &d.DeviceName, &d.User, &d.Vendor, &at)
	d.RegisteredAt = fromMicros(at)
	return d, err
}

func (s *Store) ListAppDevices(ctx context.Context, user string) ([]storage.AppDevice, error) {
	q := `SELECT ` + appDeviceColumns + ` FROM app_devices d JOIN license_customers c ON c.id = d.customer_id`
	var args []any
	if user != "" {
		q, args = q+` WHERE d.user_name = ?`, []any{user}
	}
	return queryAll(ctx, s.r, q+` ORDER BY d.registered_at, d.customer_id, d.machine_code`, args, scanAppDevice)
}

func (s *Store) RemoveAppDevice(ctx context.Context, customerID int64, machineCode string, at time.Time) (int, error) {
	var n int
	err := s.tx(ctx, func(tx *sql.Tx) error {
		d, err := scanAppDevice(tx.QueryRowContext(ctx, `SELECT `+appDeviceColumns+` FROM app_devices d
			JOIN license_customers c ON c.id = d.customer_id WHERE d.customer_id = ? AND d.machine_code = ?`, customerID, machineCode))
		if err != nil {
			return mapErr(err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM app_devices WHERE customer_id = ? AND machine_code = ?`, customerID, machineCode); err != nil {
			return mapErr(err)
		}
		ids, err := queryAll(ctx, tx, `SELECT id FROM app_authorizations WHERE user_name = ? AND vendor = ? AND machine_code = ?
			AND state = 'approved' AND revoked_at = 0`, []any{d.User, d.Vendor, machineCode},
			func(row scanner) (int64, error) { var id int64; err := row.Scan(&id); return id, err })
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
	return queryAll(ctx, s.r, `SELECT `+customerColumns+` FROM license_customers WHERE vendor = ? AND user_name = ? ORDER BY id`,
		[]any{vendor, user}, scanCustomer)
}

func (s *Store) ListCustomerLicenseKeys(ctx context.Context, customerID int64) ([]storage.LicenseKey, error) {
	return queryAll(ctx, s.r, `SELECT `+keyColumns+` FROM license_keys WHERE customer_id = ? ORDER BY global_id`,
		[]any{customerID}, scanKey)
}

func (s *Store) DeleteAppAuthorizations(ctx context.Context, unusedBefore, deadBefore time.Time, limit int) (int, error) {
	dead := toMicros(deadBefore)
	res, err := s.w.ExecContext(ctx, `DELETE FROM app_authorizations WHERE id IN (
		SELECT a.id FROM app_authorizations a LEFT JOIN license_api_tokens t ON t.id = a.child_token_id
		WHERE (a.child_token_id IS NULL AND a.decided_at < ?)
		   OR (a.child_token_id IS NOT NULL AND ((t.expires_at <> 0 AND t.expires_at < ?) OR (t.revoked_at <> 0 AND t.revoked_at < ?)))
		LIMIT ?)`, toMicros(unusedBefore), dead, dead, limit)
	if err != nil {
		return 0, mapErr(err)
	}
	n, err := res.RowsAffected()
	return int(n), mapErr(err)
}
