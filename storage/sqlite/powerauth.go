package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

// --- PowerAuth activations ---

func (s *Store) CreatePowerAuthActivation(ctx context.Context, a storage.PowerAuthActivation) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM users WHERE name = ?`, a.User).Scan(&one); err != nil {
			return mapErr(err)
		}
		_, err := tx.ExecContext(ctx, stmt.InsertPowerAuthActivation,
			a.ID, a.User, a.Name, string(a.Status), toMicros(a.CreatedAt), toMicros(a.UpdatedAt))
		return mapErr(err)
	})
}

func (s *Store) GetPowerAuthActivation(ctx context.Context, id string) (storage.PowerAuthActivation, error) {
	return dialect.ScanPowerAuthActivation(s.r.QueryRowContext(ctx, stmt.SelectPowerAuthActivation, id))
}

func (s *Store) ListPowerAuthActivations(ctx context.Context, user string) ([]storage.PowerAuthActivation, error) {
	return queryAll(ctx, s.r, stmt.ListPowerAuthActivations, []any{user, user}, dialect.ScanPowerAuthActivation)
}

func (s *Store) UpdatePowerAuthActivation(ctx context.Context, id string, update func(*storage.PowerAuthActivation) error) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		a, err := dialect.ScanPowerAuthActivation(tx.QueryRowContext(ctx, stmt.SelectPowerAuthActivation, id))
		if err != nil {
			return err
		}
		if err := update(&a); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, stmt.UpdatePowerAuthActivation, a.Name, string(a.Status), toMicros(a.UpdatedAt), id); err != nil {
			return mapErr(err)
		}
		if a.Status != storage.PowerAuthActive {
			if _, err := tx.ExecContext(ctx, stmt.DeleteActivationPowerAuthTokens, id); err != nil {
				return mapErr(err)
			}
		}
		return nil
	})
}

// --- PowerAuth MAC tokens ---

func (s *Store) CreatePowerAuthToken(ctx context.Context, t storage.PowerAuthToken) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM powerauth_activations WHERE id = ? AND status = ?`,
			t.ActivationID, string(storage.PowerAuthActive)).Scan(&one)
		if err != nil {
			return mapErr(err)
		}
		_, err = tx.ExecContext(ctx, stmt.InsertPowerAuthToken, t.ID, t.ActivationID, t.SealedSecret, toMicros(t.CreatedAt))
		return mapErr(err)
	})
}

func (s *Store) GetPowerAuthToken(ctx context.Context, id string) (storage.PowerAuthToken, error) {
	return dialect.ScanPowerAuthToken(s.r.QueryRowContext(ctx, stmt.SelectPowerAuthToken, id))
}

func (s *Store) GetPowerAuthTokenActivation(ctx context.Context, id string) (storage.PowerAuthToken, storage.PowerAuthActivation, error) {
	return dialect.ScanPowerAuthTokenActivation(s.r.QueryRowContext(ctx, stmt.SelectPowerAuthTokenActivation, id))
}

func (s *Store) ListPowerAuthTokens(ctx context.Context, activationID string) ([]storage.PowerAuthToken, error) {
	return queryAll(ctx, s.r, stmt.ListPowerAuthTokens, []any{activationID, activationID}, dialect.ScanPowerAuthToken)
}

func (s *Store) DeletePowerAuthToken(ctx context.Context, id string) error {
	res, err := s.w.ExecContext(ctx, stmt.DeletePowerAuthToken, id)
	if err != nil {
		return mapErr(err)
	}
	return requireRow(res)
}

func (s *Store) DeletePowerAuthUserTokens(ctx context.Context, user string) (int, error) {
	return rowsAffected(s.w.ExecContext(ctx, stmt.DeletePowerAuthUserTokens, user))
}

// --- PowerAuth nonces ---

// UsePowerAuthNonce is one statement, so the check and the insert are atomic: the primary key decides, and an
// expired row is taken over only by the upsert's WHERE, which sees the row under the write lock.
func (s *Store) UsePowerAuthNonce(ctx context.Context, tokenID string, nonce []byte, expires, now time.Time) error {
	// One write per verified token header: group-committed like token issuance, so that under load one commit
	// serves many. Two uses of one nonce in the same batch still conflict: the batch runs its statements in order.
	n, err := s.execGroupedRows(ctx, `INSERT INTO powerauth_nonces (token_id, nonce, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (token_id, nonce) DO UPDATE SET expires_at = excluded.expires_at
		WHERE powerauth_nonces.expires_at < ?`,
		tokenID, nonce, toMicros(expires), toMicros(now))
	if err != nil {
		return err
	}
	if n == 0 {
		return storage.ErrConflict
	}
	return nil
}

func (s *Store) DeletePowerAuthNonces(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	return rowsAffected(s.w.ExecContext(ctx, `DELETE FROM powerauth_nonces WHERE (token_id, nonce) IN (
		SELECT token_id, nonce FROM powerauth_nonces WHERE expires_at < ? LIMIT ?)`, toMicros(cutoff), limit))
}
