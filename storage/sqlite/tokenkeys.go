package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

func (s *Store) ListTokenKeys(ctx context.Context) ([]storage.TokenKey, error) {
	return queryAll(ctx, s.r, stmt.ListTokenKeys, nil, dialect.ScanTokenKey)
}

func (s *Store) AddTokenKey(ctx context.Context, k storage.TokenKey) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM token_keys`).Scan(&n); err != nil {
			return mapErr(err)
		}
		if n == 0 { // the first rotation: the original key joins the table, as verify-only
			if _, err := tx.ExecContext(ctx, `INSERT INTO token_keys (id, sealed, state, created_at) VALUES (?, NULL, 'verify', 0)`,
				storage.OriginalTokenKey); err != nil {
				return mapErr(err)
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE token_keys SET state = 'verify' WHERE state = 'primary'`); err != nil {
			return mapErr(err)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO token_keys (id, sealed, state, created_at) VALUES (?, ?, 'primary', ?)`,
			k.ID, k.Sealed, toMicros(k.CreatedAt))
		return mapErr(err)
	})
}

func (s *Store) RetireTokenKey(ctx context.Context, id string, at time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var state string
		err := tx.QueryRowContext(ctx, `SELECT state FROM token_keys WHERE id = ?`, id).Scan(&state)
		if err != nil {
			return mapErr(err)
		}
		switch storage.TokenKeyState(state) {
		case storage.KeyPrimary:
			return fmt.Errorf("%w: key %s is the primary key; rotate first", storage.ErrConflict, id)
		case storage.KeyRetired:
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE token_keys SET state = 'retired', retired_at = ? WHERE id = ?`, toMicros(at), id)
		return mapErr(err)
	})
}
