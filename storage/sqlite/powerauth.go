package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

// --- PowerAuth activations ---

const paActivationColumns = `id, user_name, name, status, created_at, updated_at`

func scanPowerAuthActivation(row interface{ Scan(...any) error }) (storage.PowerAuthActivation, error) {
	var a storage.PowerAuthActivation
	var status string
	var created, updated int64
	if err := row.Scan(&a.ID, &a.User, &a.Name, &status, &created, &updated); err != nil {
		return storage.PowerAuthActivation{}, mapErr(err)
	}
	a.Status = storage.PowerAuthActivationStatus(status)
	a.CreatedAt, a.UpdatedAt = fromMicros(created), fromMicros(updated)
	return a, nil
}

func (s *Store) CreatePowerAuthActivation(ctx context.Context, a storage.PowerAuthActivation) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM users WHERE name = ?`, a.User).Scan(&one); err != nil {
			return mapErr(err)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO powerauth_activations (`+paActivationColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
			a.ID, a.User, a.Name, string(a.Status), toMicros(a.CreatedAt), toMicros(a.UpdatedAt))
		return mapErr(err)
	})
}

func (s *Store) GetPowerAuthActivation(ctx context.Context, id string) (storage.PowerAuthActivation, error) {
	return scanPowerAuthActivation(s.r.QueryRowContext(ctx,
		`SELECT `+paActivationColumns+` FROM powerauth_activations WHERE id = ?`, id))
}

func (s *Store) ListPowerAuthActivations(ctx context.Context, user string) ([]storage.PowerAuthActivation, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+paActivationColumns+` FROM powerauth_activations
		WHERE ? = '' OR user_name = ? ORDER BY created_at, id`, user, user)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []storage.PowerAuthActivation
	for rows.Next() {
		a, err := scanPowerAuthActivation(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, mapErr(rows.Err())
}

func (s *Store) UpdatePowerAuthActivation(ctx context.Context, id string, update func(*storage.PowerAuthActivation) error) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		a, err := scanPowerAuthActivation(tx.QueryRowContext(ctx,
			`SELECT `+paActivationColumns+` FROM powerauth_activations WHERE id = ?`, id))
		if err != nil {
			return err
		}
		if err := update(&a); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx,
			`UPDATE powerauth_activations SET name = ?, status = ?, updated_at = ? WHERE id = ?`,
			a.Name, string(a.Status), toMicros(a.UpdatedAt), id); err != nil {
			return mapErr(err)
		}
		if a.Status != storage.PowerAuthActive {
			if _, err := tx.ExecContext(ctx, `DELETE FROM powerauth_tokens WHERE activation_id = ?`, id); err != nil {
				return mapErr(err)
			}
		}
		return nil
	})
}

// --- PowerAuth MAC tokens ---

const paTokenColumns = `id, activation_id, sealed_secret, created_at`

func scanPowerAuthToken(row interface{ Scan(...any) error }) (storage.PowerAuthToken, error) {
	var t storage.PowerAuthToken
	var created int64
	if err := row.Scan(&t.ID, &t.ActivationID, &t.SealedSecret, &created); err != nil {
		return storage.PowerAuthToken{}, mapErr(err)
	}
	t.CreatedAt = fromMicros(created)
	return t, nil
}

func (s *Store) CreatePowerAuthToken(ctx context.Context, t storage.PowerAuthToken) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM powerauth_activations WHERE id = ? AND status = ?`,
			t.ActivationID, string(storage.PowerAuthActive)).Scan(&one)
		if err != nil {
			return mapErr(err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO powerauth_tokens (`+paTokenColumns+`) VALUES (?, ?, ?, ?)`,
			t.ID, t.ActivationID, t.SealedSecret, toMicros(t.CreatedAt))
		return mapErr(err)
	})
}

func (s *Store) GetPowerAuthToken(ctx context.Context, id string) (storage.PowerAuthToken, error) {
	return scanPowerAuthToken(s.r.QueryRowContext(ctx, `SELECT `+paTokenColumns+` FROM powerauth_tokens WHERE id = ?`, id))
}

func (s *Store) ListPowerAuthTokens(ctx context.Context, activationID string) ([]storage.PowerAuthToken, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+paTokenColumns+` FROM powerauth_tokens
		WHERE ? = '' OR activation_id = ? ORDER BY created_at, id`, activationID, activationID)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []storage.PowerAuthToken
	for rows.Next() {
		t, err := scanPowerAuthToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, mapErr(rows.Err())
}

func (s *Store) DeletePowerAuthToken(ctx context.Context, id string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM powerauth_tokens WHERE id = ?`, id)
	if err != nil {
		return mapErr(err)
	}
	return requireRow(res)
}

func (s *Store) DeletePowerAuthUserTokens(ctx context.Context, user string) (int, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM powerauth_tokens WHERE activation_id IN (
		SELECT id FROM powerauth_activations WHERE user_name = ?)`, user)
	if err != nil {
		return 0, mapErr(err)
	}
	n, err := res.RowsAffected()
	return int(n), mapErr(err)
}

// --- PowerAuth nonces ---

// UsePowerAuthNonce is one statement, so the check and the insert are atomic: the primary key decides, and an
// expired row is taken over only by the upsert's WHERE, which sees the row under the write lock.
func (s *Store) UsePowerAuthNonce(ctx context.Context, tokenID string, nonce []byte, expires, now time.Time) error {
	res, err := s.w.ExecContext(ctx, `INSERT INTO powerauth_nonces (token_id, nonce, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (token_id, nonce) DO UPDATE SET expires_at = excluded.expires_at
		WHERE powerauth_nonces.expires_at < ?`,
		tokenID, nonce, toMicros(expires), toMicros(now))
	if err != nil {
		return mapErr(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return mapErr(err)
	}
	if n == 0 {
		return storage.ErrConflict
	}
	return nil
}

func (s *Store) DeletePowerAuthNonces(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM powerauth_nonces WHERE (token_id, nonce) IN (
		SELECT token_id, nonce FROM powerauth_nonces WHERE expires_at < ? LIMIT ?)`, toMicros(cutoff), limit)
	if err != nil {
		return 0, mapErr(err)
	}
	n, err := res.RowsAffected()
	return int(n), mapErr(err)
}
