package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tokenmanager/tokenmanager/storage"
)

// --- PowerAuth activations ---

func (s *Store) CreatePowerAuthActivation(ctx context.Context, a storage.PowerAuthActivation) error {
	_, err := s.pool.Exec(ctx, stmt.InsertPowerAuthActivation, a.ID, a.User, a.Name, string(a.Status), ts(a.CreatedAt), ts(a.UpdatedAt))
	return mapRefErr(err) // no such user: ErrNotFound
}

func (s *Store) GetPowerAuthActivation(ctx context.Context, id string) (storage.PowerAuthActivation, error) {
	if !storable(id) {
		return storage.PowerAuthActivation{}, storage.ErrNotFound
	}
	return dialect.ScanPowerAuthActivation(s.pool.QueryRow(ctx, stmt.SelectPowerAuthActivation, id))
}

func (s *Store) ListPowerAuthActivations(ctx context.Context, user string) ([]storage.PowerAuthActivation, error) {
	if !storable(user) {
		return nil, nil
	}
	return queryAll(ctx, s.pool, stmt.ListPowerAuthActivations, []any{user, user}, dialect.ScanPowerAuthActivation)
}

// UpdatePowerAuthActivation locks the activation row: a token being created under it (which holds a share lock
// on the row, see CreatePowerAuthToken) either commits first, and is deleted here if the activation stops being
// active, or waits and then finds it not active.
func (s *Store) UpdatePowerAuthActivation(ctx context.Context, id string, update func(*storage.PowerAuthActivation) error) error {
	if !storable(id) {
		return storage.ErrNotFound
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		a, err := dialect.ScanPowerAuthActivation(tx.QueryRow(ctx, stmt.SelectPowerAuthActivation+` FOR UPDATE`, id))
		if err != nil {
			return err
		}
		if err := update(&a); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, stmt.UpdatePowerAuthActivation, a.Name, string(a.Status), ts(a.UpdatedAt), id); err != nil {
			return mapErr(err)
		}
		if a.Status != storage.PowerAuthActive {
			if _, err := tx.Exec(ctx, stmt.DeleteActivationPowerAuthTokens, id); err != nil {
				return mapErr(err)
			}
		}
		return nil
	})
}

// --- PowerAuth MAC tokens ---

func (s *Store) CreatePowerAuthToken(ctx context.Context, t storage.PowerAuthToken) error {
	if !storable(t.ActivationID) {
		return storage.ErrNotFound
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		// FOR SHARE: a concurrent block or remove (FOR UPDATE) waits for this insert, or this waits for it and
		// then sees the new status.
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM powerauth_activations WHERE id = $1 AND status = $2 FOR SHARE`,
			t.ActivationID, string(storage.PowerAuthActive)).Scan(&one)
		if err != nil {
			return mapErr(err)
		}
		_, err = tx.Exec(ctx, stmt.InsertPowerAuthToken, t.ID, t.ActivationID, t.SealedSecret, ts(t.CreatedAt))
		return mapErr(err)
	})
}

func (s *Store) GetPowerAuthToken(ctx context.Context, id string) (storage.PowerAuthToken, error) {
	if !storable(id) {
		return storage.PowerAuthToken{}, storage.ErrNotFound
	}
	return dialect.ScanPowerAuthToken(s.pool.QueryRow(ctx, stmt.SelectPowerAuthToken, id))
}

func (s *Store) GetPowerAuthTokenActivation(ctx context.Context, id string) (storage.PowerAuthToken, storage.PowerAuthActivation, error) {
	if !storable(id) {
		return storage.PowerAuthToken{}, storage.PowerAuthActivation{}, storage.ErrNotFound
	}
	return dialect.ScanPowerAuthTokenActivation(s.pool.QueryRow(ctx, stmt.SelectPowerAuthTokenActivation, id))
}

func (s *Store) ListPowerAuthTokens(ctx context.Context, activationID string) ([]storage.PowerAuthToken, error) {
	if !storable(activationID) {
		return nil, nil
	}
	return queryAll(ctx, s.pool, stmt.ListPowerAuthTokens, []any{activationID, activationID}, dialect.ScanPowerAuthToken)
}

func (s *Store) DeletePowerAuthToken(ctx context.Context, id string) error {
	if !storable(id) {
		return storage.ErrNotFound
	}
	tag, err := s.pool.Exec(ctx, stmt.DeletePowerAuthToken, id)
	if err != nil {
		return mapErr(err)
	}
	return requireRow(tag)
}

func (s *Store) DeletePowerAuthUserTokens(ctx context.Context, user string) (int, error) {
	if !storable(user) {
		return 0, nil
	}
	return rowsAffected(s.pool.Exec(ctx, stmt.DeletePowerAuthUserTokens, user))
}

// --- PowerAuth nonces ---

// UsePowerAuthNonce is one statement, so the check and the insert are atomic on every node: the primary key
// decides, and of concurrent inserts of one pair PostgreSQL lets one insert while the others wait for it and
// then evaluate the DO UPDATE's WHERE against the row it committed, which is not expired: nothing is written,
// and they are told it is a replay.
func (s *Store) UsePowerAuthNonce(ctx context.Context, tokenID string, nonce []byte, expires, now time.Time) error {
	tag, err := s.pool.Exec(ctx, `INSERT INTO powerauth_nonces (token_id, nonce, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (token_id, nonce) DO UPDATE SET expires_at = excluded.expires_at
		WHERE powerauth_nonces.expires_at < $4`,
		text(tokenID), nonce, ts(expires), ts(now))
	if err != nil {
		return mapErr(err)
	}
	if tag.RowsAffected() == 0 {
		return storage.ErrConflict
	}
	return nil
}

func (s *Store) DeletePowerAuthNonces(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	return rowsAffected(s.pool.Exec(ctx, `DELETE FROM powerauth_nonces WHERE (token_id, nonce) IN (
		SELECT token_id, nonce FROM powerauth_nonces WHERE expires_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`, ts(cutoff), limit))
}
