package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tokenmanager/tokenmanager/storage"
)

func (s *Store) ListTokenKeys(ctx context.Context) ([]storage.TokenKey, error) {
	return queryAll(ctx, s.pool, stmt.ListTokenKeys, nil, dialect.ScanTokenKey)
}

// lockTokenKeys makes the ring's writers (rotations and retirements on any node) take turns; readers go on.
const lockTokenKeys = `LOCK TABLE token_keys IN EXCLUSIVE MODE`

func (s *Store) AddTokenKey(ctx context.Context, k storage.TokenKey) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, lockTokenKeys); err != nil {
			return mapErr(err)
		}
		var n int
		if err := tx.QueryRow(ctx, stmt.CountTokenKeys).Scan(&n); err != nil {
			return mapErr(err)
		}
		if n == 0 { // the first rotation: the original key joins the table, as verify-only
			if _, err := tx.Exec(ctx, `INSERT INTO token_keys (id, sealed, state, created_at) VALUES ($1, NULL, 'verify', '-infinity')`,
				storage.OriginalTokenKey); err != nil {
				return mapErr(err)
			}
		}
		if _, err := tx.Exec(ctx, stmt.DemotePrimaryTokenKey); err != nil {
			return mapErr(err)
		}
		_, err := tx.Exec(ctx, stmt.InsertPrimaryTokenKey,
			k.ID, k.Sealed, ts(k.CreatedAt))
		return mapErr(err)
	})
}

func (s *Store) RetireTokenKey(ctx context.Context, id string, when time.Time) error {
	if !storable(id) {
		return storage.ErrNotFound
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, lockTokenKeys); err != nil {
			return mapErr(err)
		}
		var state string
		if err := tx.QueryRow(ctx, stmt.SelectTokenKeyState, id).Scan(&state); err != nil {
			return mapErr(err)
		}
		switch storage.TokenKeyState(state) {
		case storage.KeyPrimary:
			return fmt.Errorf("%w: key %s is the primary key; rotate first", storage.ErrConflict, id)
		case storage.KeyRetired:
			return nil
		}
		_, err := tx.Exec(ctx, stmt.RetireTokenKey, ts(when), id)
		return mapErr(err)
	})
}
