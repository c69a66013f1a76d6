package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tokenmanager/tokenmanager/storage"
)

// Lock order of app authorizations: customers' rows (by ID), then authorizations' rows (by ID), then the API
// token table (lockAPITokens). Every transaction here takes what it needs in that order, so that approvals,
// revocations and device removals on several nodes at once cannot deadlock one another.

// appAuthColumns read an authorization with its child token's expiry and revocation (a LEFT JOIN as "t"; NULL
// reads as the zero time).
const appAuthColumns = `a.id, a.request_hash, a.parent_token_id, a.vendor, a.user_name, a.state, a.app_name,
	a.device_name, a.machine_code, a.public_key, a.permissions, a.product_lock, a.key_lock, a.feature_lock,
	a.lifetime_seconds, a.decided_at, coalesce(a.child_token_id, 0), a.issued_at, a.revoked_at,
	t.expires_at, t.revoked_at`

const appAuthFrom = ` FROM app_authorizations a LEFT JOIN license_api_tokens t ON t.id = a.child_token_id`

func scanAppAuth(row scanner) (storage.AppAuthorization, error) {
	var a storage.AppAuthorization
	var state string
	var lifetime int64
	err := row.Scan(&a.ID, &a.RequestHash, &a.ParentTokenID, &a.Vendor, &a.User, &state, &a.AppName, &a.DeviceName,
		&a.MachineCode, &a.PublicKey, &a.Permissions, &a.ProductLock, &a.KeyLock, &a.FeatureLock, &lifetime,
		at(&a.DecidedAt), &a.ChildTokenID, at(&a.IssuedAt), at(&a.RevokedAt), at(&a.TokenExpiresAt), at(&a.TokenRevokedAt))
	if err != nil {
		return storage.AppAuthorization{}, mapErr(err)
	}
	a.State = storage.AppAuthState(state)
	a.Permissions = nilIfEmpty(a.Permissions)
	a.Lifetime = time.Duration(lifetime) * time.Second
	return a, nil
}

func (s *Store) CreateAppAuthorization(ctx context.Context, a storage.AppAuthorization, devices []storage.AppDevice) (storage.AppAuthorization, error) {
	if !storable(a.Vendor) || !storable(a.User) {
		return storage.AppAuthorization{}, storage.ErrNotFound
	}
	// Customers are locked in the order of their IDs (see the lock order above).
	devices = slices.Clone(devices)
	slices.SortStableFunc(devices, func(x, y storage.AppDevice) int { return cmp.Compare(x.CustomerID, y.CustomerID) })
	err := s.tx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO app_authorizations (request_hash, parent_token_id, vendor, user_name,
			state, app_name, device_name, machine_code, public_key, permissions, product_lock, key_lock, feature_lock,
			lifetime_seconds, decided_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
			RETURNING id`,
			a.RequestHash, a.ParentTokenID, a.Vendor, a.User, string(a.State), a.AppName, a.DeviceName, a.MachineCode,
			a.PublicKey, list(a.Permissions), a.ProductLock, a.KeyLock, a.FeatureLock,
			int64(a.Lifetime/time.Second), ts(a.DecidedAt)).Scan(&a.ID)
		if err != nil {
			return mapRefErr(err) // no such parent token, vendor or user: ErrNotFound; the hash exists: ErrConflict
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

// registerDevice adds d to its customer unless already there, within the customer's MaxNoOfDevices. It locks
// the customer's row before counting: registrations for one customer on any node wait there for one another
// and count what the previous one wrote, so the last free seat goes to exactly one of them. (FOR NO KEY
// UPDATE: keys and devices may still be linked to the customer meanwhile.)
func registerDevice(ctx context.Context, tx pgx.Tx, d storage.AppDevice) error {
	if !storable(d.MachineCode) {
		return fmt.Errorf("postgres: machine code %q is not valid UTF-8 text", d.MachineCode)
	}
	var maxDevices int
	if err := tx.QueryRow(ctx, `SELECT max_devices FROM license_customers WHERE id = $1 FOR NO KEY UPDATE`,
		d.CustomerID).Scan(&maxDevices); err != nil {
		return mapErr(err) // no such customer: ErrNotFound
	}
	var n, have int
	if err := tx.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE machine_code = $2) FROM app_devices
		WHERE customer_id = $1`, d.CustomerID, d.MachineCode).Scan(&n, &have); err != nil {
		return mapErr(err)
	}
	if have > 0 {
		return nil
	}
	if maxDevices > 0 && n >= maxDevices {
		return fmt.Errorf("%w: customer %d has %d of %d devices", storage.ErrLimitReached, d.CustomerID, n, maxDevices)
	}
	_, err := tx.Exec(ctx, `INSERT INTO app_devices (customer_id, machine_code, device_name, user_name, registered_at)
		VALUES ($1, $2, $3, $4, $5)`, d.CustomerID, d.MachineCode, d.DeviceName, d.User, ts(d.RegisteredAt))
	return mapRefErr(err)
}

func (s *Store) GetAppAuthorization(ctx context.Context, id int64) (storage.AppAuthorization, error) {
	return scanAppAuth(s.pool.QueryRow(ctx, `SELECT `+appAuthColumns+appAuthFrom+` WHERE a.id = $1`, id))
}

func (s *Store) FindAppAuthorization(ctx context.Context, requestHash []byte) (storage.AppAuthorization, error) {
	return scanAppAuth(s.pool.QueryRow(ctx, `SELECT `+appAuthColumns+appAuthFrom+` WHERE a.request_hash = $1`, requestHash))
}

func (s *Store) FindAppAuthorizationByToken(ctx context.Context, childTokenID int64) (storage.AppAuthorization, error) {
	return scanAppAuth(s.pool.QueryRow(ctx, `SELECT `+appAuthColumns+appAuthFrom+` WHERE a.child_token_id = $1`, childTokenID))
}

func (s *Store) ListAppAuthorizations(ctx context.Context, f storage.AppAuthorizationFilter) ([]storage.AppAuthorization, error) {
	var w where
	if f.User != "" {
		w.add("a.user_name = ?", f.User)
	}
	if f.Vendor != "" {
		w.add("a.vendor = ?", f.Vendor)
	}
	if w.none {
		return nil, nil
	}
	q := `SELECT ` + appAuthColumns + appAuthFrom + w.String() + ` ORDER BY a.id DESC LIMIT ` + w.next(limitOf(f.Limit))
	return queryAll(ctx, s.pool, q, w.args, scanAppAuth)
}

func (s *Store) SetAppChallenge(ctx context.Context, id int64, challenge []byte, expiresAt time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE app_authorizations SET challenge = $1, challenge_expires_at = $2 WHERE id = $3`,
		challenge, ts(expiresAt), id)
	if err != nil {
		return mapErr(err)
	}
	return requireRow(tag)
}

// TakeAppChallenge reads the challenge with a row lock and clears it in the same transaction. Callers racing on
// any node queue on the lock; when the first commits, PostgreSQL re-checks the others' conditions against the
// row it wrote (READ COMMITTED's re-check of a locked row), finds no challenge and returns no row.
func (s *Store) TakeAppChallenge(ctx context.Context, id int64, now time.Time) ([]byte, error) {
	var challenge []byte
	err := s.tx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT challenge FROM app_authorizations
			WHERE id = $1 AND challenge IS NOT NULL AND challenge_expires_at > $2 FOR UPDATE`, id, ts(now)).Scan(&challenge)
		if err != nil {
			return mapErr(err)
		}
		_, err = tx.Exec(ctx, `UPDATE app_authorizations SET challenge = NULL, challenge_expires_at = '-infinity' WHERE id = $1`, id)
		return mapErr(err)
	})
	if err != nil {
		return nil, err
	}
	return challenge, nil
}

// IssueAppToken locks the authorization's row before checking it: of two issues racing for one authorization
// the second waits, then finds the first one's token and gets ErrConflict; a revocation racing with it either
// comes first (and the issue is refused) or revokes the token issued.
func (s *Store) IssueAppToken(ctx context.Context, id int64, child storage.APIToken, when time.Time) (storage.APIToken, error) {
	issued := child
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var state string
		var childID *int64
		var revoked time.Time
		err := tx.QueryRow(ctx, `SELECT state, child_token_id, revoked_at FROM app_authorizations WHERE id = $1 FOR UPDATE`, id).
			Scan(&state, &childID, at(&revoked))
		if err != nil {
			return mapErr(err)
		}
		if storage.AppAuthState(state) != storage.AppApproved || childID != nil || !revoked.IsZero() {
			return fmt.Errorf("%w: authorization %d is %s, token %v, revoked %v", storage.ErrConflict, id, state,
				childID != nil, !revoked.IsZero())
		}
		if issued, err = insertAPIToken(ctx, tx, child); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE app_authorizations SET child_token_id = $1, issued_at = $2, challenge = NULL,
			challenge_expires_at = '-infinity' WHERE id = $3`, issued.ID, ts(when), id)
		return mapErr(err)
	})
	if err != nil {
		return storage.APIToken{}, err
	}
	return issued, nil
}

// revokeAppAuths marks the authorizations ids revoked (keeping an earlier time) and revokes their child tokens
// with every token derived from them. The caller holds the authorizations' row locks; the token table's lock is
// taken here, last.
func revokeAppAuths(ctx context.Context, tx pgx.Tx, ids []int64, when time.Time) error {
	children, err := queryAll(ctx, tx, `UPDATE app_authorizations SET
			revoked_at = CASE WHEN revoked_at = '-infinity' THEN $1 ELSE revoked_at END,
			challenge = NULL, challenge_expires_at = '-infinity'
		WHERE id = ANY($2) RETURNING child_token_id`, []any{ts(when), ids}, func(row scanner) (*int64, error) {
		var id *int64
		return id, row.Scan(&id)
	})
	if err != nil {
		return err
	}
	var roots []int64
	for _, c := range children {
		if c != nil {
			roots = append(roots, *c)
		}
	}
	if len(roots) == 0 {
		return nil
	}
	if err := lockAPITokens(ctx, tx); err != nil {
		return err
	}
	return revokeTokenTrees(ctx, tx, roots, when)
}

func (s *Store) RevokeAppAuthorization(ctx context.Context, id int64, when time.Time) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM app_authorizations WHERE id = $1 FOR UPDATE`, id).Scan(&one); err != nil {
			return mapErr(err)
		}
		return revokeAppAuths(ctx, tx, []int64{id}, when)
	})
}

// --- devices ---

const appDeviceColumns = `d.customer_id, d.machine_code, d.device_name, d.user_name, c.vendor, d.registered_at`

const appDeviceFrom = ` FROM app_devices d JOIN license_customers c ON c.id = d.customer_id`

func scanAppDevice(row scanner) (storage.AppDevice, error) {
	var d storage.AppDevice
	if err := row.Scan(&d.CustomerID, &d.MachineCode, &d.DeviceName, &d.User, &d.Vendor, at(&d.RegisteredAt)); err != nil {
		return storage.AppDevice{}, mapErr(err)
	}
	return d, nil
}

func (s *Store) ListAppDevices(ctx context.Context, user string) ([]storage.AppDevice, error) {
	if !storable(user) {
		return nil, nil
	}
	return queryAll(ctx, s.pool, `SELECT `+appDeviceColumns+appDeviceFrom+` WHERE $1 = '' OR d.user_name = $1
		ORDER BY d.registered_at, d.customer_id, d.machine_code`, []any{user}, scanAppDevice)
}

// RemoveAppDevice locks the customer's row (as registerDevice does) and then the authorizations it revokes, in
// the order of their IDs: a removal racing with another removal or a registration for the customer waits for
// it; one racing with an issue for one of the authorizations sees the token issued and revokes it.
func (s *Store) RemoveAppDevice(ctx context.Context, customerID int64, machineCode string, when time.Time) (int, error) {
	if !storable(machineCode) {
		return 0, storage.ErrNotFound
	}
	var n int
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var vendor string
		if err := tx.QueryRow(ctx, `SELECT vendor FROM license_customers WHERE id = $1 FOR NO KEY UPDATE`,
			customerID).Scan(&vendor); err != nil {
			return mapErr(err)
		}
		var user string
		if err := tx.QueryRow(ctx, `DELETE FROM app_devices WHERE customer_id = $1 AND machine_code = $2 RETURNING user_name`,
			customerID, machineCode).Scan(&user); err != nil {
			return mapErr(err) // not registered: ErrNotFound
		}
		ids, err := queryAll(ctx, tx, `SELECT id FROM app_authorizations WHERE user_name = $1 AND vendor = $2
			AND machine_code = $3 AND state = 'approved' AND revoked_at = '-infinity' ORDER BY id FOR UPDATE`,
			[]any{user, vendor, machineCode}, func(row scanner) (int64, error) {
				var id int64
				return id, row.Scan(&id)
			})
		if err != nil {
			return err
		}
		n = len(ids)
		if n == 0 {
			return nil
		}
		return revokeAppAuths(ctx, tx, ids, when)
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// --- GetLicenseKeys ---

func (s *Store) ListUserCustomers(ctx context.Context, vendor, user string) ([]storage.Customer, error) {
	if !storable(vendor) || !storable(user) {
		return nil, nil
	}
	return queryAll(ctx, s.pool, `SELECT `+customerColumns+` FROM license_customers WHERE vendor = $1 AND user_name = $2 ORDER BY id`,
		[]any{vendor, user}, scanCustomer)
}

func (s *Store) ListCustomerLicenseKeys(ctx context.Context, customerID int64) ([]storage.LicenseKey, error) {
	return queryAll(ctx, s.pool, `SELECT `+keyColumns+` FROM license_keys WHERE customer_id = $1 ORDER BY global_id`,
		[]any{customerID}, scanKey)
}

// DeleteAppAuthorizations picks its batch with SKIP LOCKED: an authorization being issued or revoked right now
// is left for the next round, and nodes collecting at once take different rows.
func (s *Store) DeleteAppAuthorizations(ctx context.Context, unusedBefore, deadBefore time.Time, limit int) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM app_authorizations WHERE id IN (
		SELECT a.id FROM app_authorizations a LEFT JOIN license_api_tokens t ON t.id = a.child_token_id
		WHERE (a.child_token_id IS NULL AND a.decided_at < $1)
		   OR (a.child_token_id IS NOT NULL AND ((t.expires_at > '-infinity' AND t.expires_at < $2)
		                                       OR (t.revoked_at > '-infinity' AND t.revoked_at < $2)))
		LIMIT $3 FOR UPDATE OF a SKIP LOCKED)`, ts(unusedBefore), ts(deadBefore), limit)
	if err != nil {
		return 0, mapErr(err)
	}
	return int(tag.RowsAffected()), nil
}
