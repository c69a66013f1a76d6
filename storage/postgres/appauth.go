package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/internal/sqlmap"
)

// Lock order of app authorizations: customers' rows (by ID), then authorizations' rows (by ID), then the API
// token table (lockAPITokens). Every transaction here takes what it needs in that order, so that approvals,
// revocations and device removals on several nodes at once cannot deadlock one another.

func (s *Store) CreateAppAuthorization(ctx context.Context, a storage.AppAuthorization, devices []storage.AppDevice) (storage.AppAuthorization, error) {
	if !storable(a.Vendor) || !storable(a.User) {
		return storage.AppAuthorization{}, storage.ErrNotFound
	}
	// Customers are locked in the order of their IDs (see the lock order above).
	devices = slices.Clone(devices)
	slices.SortStableFunc(devices, func(x, y storage.AppDevice) int { return cmp.Compare(x.CustomerID, y.CustomerID) })
	err := s.tx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, stmt.InsertAppAuth+` RETURNING id`,
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
	_, err := tx.Exec(ctx, stmt.InsertAppDevice, d.CustomerID, d.MachineCode, d.DeviceName, d.User, ts(d.RegisteredAt))
	return mapRefErr(err)
}

func (s *Store) GetAppAuthorization(ctx context.Context, id int64) (storage.AppAuthorization, error) {
	return dialect.ScanAppAuth(s.pool.QueryRow(ctx, stmt.SelectAppAuth, id))
}

func (s *Store) FindAppAuthorization(ctx context.Context, requestHash []byte) (storage.AppAuthorization, error) {
	return dialect.ScanAppAuth(s.pool.QueryRow(ctx, stmt.FindAppAuth, requestHash))
}

func (s *Store) FindAppAuthorizationByToken(ctx context.Context, childTokenID int64) (storage.AppAuthorization, error) {
	return dialect.ScanAppAuth(s.pool.QueryRow(ctx, stmt.FindAppAuthByToken, childTokenID))
}

func (s *Store) ListAppAuthorizations(ctx context.Context, f storage.AppAuthorizationFilter) ([]storage.AppAuthorization, error) {
	w := dialect.AppAuthFilter(f)
	if w.None {
		return nil, nil
	}
	q := `SELECT ` + sqlmap.AppAuthColumns + sqlmap.AppAuthFrom + w.String() + ` ORDER BY a.id DESC LIMIT ` + w.Next(sqlmap.LimitOf(f.Limit))
	return queryAll(ctx, s.pool, q, w.Args, dialect.ScanAppAuth)
}

func (s *Store) SetAppChallenge(ctx context.Context, id int64, challenge []byte, expiresAt time.Time) error {
	tag, err := s.pool.Exec(ctx, stmt.SetAppChallenge, challenge, ts(expiresAt), id)
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
		WHERE id = ANY($2) RETURNING coalesce(child_token_id, 0)`, []any{ts(when), ids}, dialect.ScanID)
	if err != nil {
		return err
	}
	var roots []int64
	for _, c := range children {
		if c != 0 {
			roots = append(roots, c)
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

func (s *Store) RevokeAppAuthorization(ctx context.Context, id int64, when time.Time) (err error) {
	defer func() { s.onChange.Run(ctx, err) }() // cached API tokens, products, stores
	return s.tx(ctx, func(tx pgx.Tx) error {
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM app_authorizations WHERE id = $1 FOR UPDATE`, id).Scan(&one); err != nil {
			return mapErr(err)
		}
		return revokeAppAuths(ctx, tx, []int64{id}, when)
	})
}

// --- devices ---

func (s *Store) ListAppDevices(ctx context.Context, user string) ([]storage.AppDevice, error) {
	if !storable(user) {
		return nil, nil
	}
	q, args := dialect.ListAppDevices(user)
	return queryAll(ctx, s.pool, q, args, dialect.ScanAppDevice)
}

// RemoveAppDevice locks the customer's row (as registerDevice does) and then the authorizations it revokes, in
// the order of their IDs: a removal racing with another removal or a registration for the customer waits for
// it; one racing with an issue for one of the authorizations sees the token issued and revokes it.
func (s *Store) RemoveAppDevice(ctx context.Context, customerID int64, machineCode string, when time.Time) (_ int, err error) {
	defer func() { s.onChange.Run(ctx, err) }() // cached API tokens, products, stores
	if !storable(machineCode) {
		return 0, storage.ErrNotFound
	}
	var n int
	err = s.tx(ctx, func(tx pgx.Tx) error {
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
			[]any{user, vendor, machineCode}, dialect.ScanID)
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
	return queryAll(ctx, s.pool, stmt.ListUserCustomers, []any{vendor, user}, dialect.ScanCustomer)
}

func (s *Store) ListCustomerLicenseKeys(ctx context.Context, customerID int64) ([]storage.LicenseKey, error) {
	return queryAll(ctx, s.pool, stmt.ListCustomerLicenseKeys, []any{customerID}, dialect.ScanLicenseKey)
}

// DeleteAppAuthorizations picks its batch with SKIP LOCKED: an authorization being issued or revoked right now
// is left for the next round, and nodes collecting at once take different rows.
func (s *Store) DeleteAppAuthorizations(ctx context.Context, unusedBefore, deadBefore time.Time, limit int) (int, error) {
	return rowsAffected(s.pool.Exec(ctx, `DELETE FROM app_authorizations WHERE id IN (
		SELECT a.id FROM app_authorizations a LEFT JOIN license_api_tokens t ON t.id = a.child_token_id
		WHERE (a.child_token_id IS NULL AND a.decided_at < $1)
		   OR (a.child_token_id IS NOT NULL AND ((t.expires_at > '-infinity' AND t.expires_at < $2)
		                                       OR (t.revoked_at > '-infinity' AND t.revoked_at < $2)))
		LIMIT $3 FOR UPDATE OF a SKIP LOCKED)`, ts(unusedBefore), ts(deadBefore), limit))
}
