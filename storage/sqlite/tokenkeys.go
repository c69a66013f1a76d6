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
		if err := tx.QueryRowContext(ctx, stmt.CountTokenKeys).Scan(&n); err != nil {
			return mapErr(err)
		}
		if n == 0 { // the first rotation: the original key joins the table, as verify-only
			if _, err := tx.ExecContext(ctx, `INSERT INTO token_keys (id, sealed, state, created_at) VALUES (?, NULL, 'verify', 0)`,
				storage.OriginalTokenKey); err != nil {
				return mapErr(err)
			}
		}
		if _, err := tx.ExecContext(ctx, stmt.DemotePrimaryTokenKey); err != nil {
			return mapErr(err)
		}
		_, err := tx.ExecContext(ctx, stmt.InsertPrimaryTokenKey,
			k.ID, k.Sealed, toMicros(k.CreatedAt))
		return mapErr(err)
	})
}

func (s *Store) RetireTokenKey(ctx context.Context, id string, at time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var state string
		err := tx.QueryRowContext(ctx, stmt.SelectTokenKeyState, id).Scan(&state)
		if err != nil {
			return mapErr(err)
		}
		switch storage.TokenKeyState(state) {
		case storage.KeyPrimary:
			return fmt.Errorf("%w: key %s is the primary key; rotate first", storage.ErrConflict, id)
		case storage.KeyRetired:
			return nil
		}
		_, err = tx.ExecContext(ctx, stmt.RetireTokenKey, toMicros(at), id)
		return mapErr(err)
	})
}
