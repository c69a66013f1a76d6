package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tokenmanager/tokenmanager/storage"
)

func (s *Store) ListOAuthKeys(ctx context.Context) ([]storage.OAuthKey, error) {
	return queryAll(ctx, s.pool, stmt.ListOAuthKeys, nil, dialect.ScanOAuthKey)
}

// lockOAuthKeys makes the signing keys' writers (rotations and retirements on any node) take turns; readers go on.
const lockOAuthKeys = `LOCK TABLE oauth_keys IN EXCLUSIVE MODE`

func (s *Store) AddOAuthKey(ctx context.Context, k storage.OAuthKey, previousUntil time.Time) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, lockOAuthKeys); err != nil {
			return mapErr(err)
		}
		if _, err := tx.Exec(ctx, stmt.DemotePrimaryOAuthKey, ts(previousUntil)); err != nil {
			return mapErr(err)
		}
		_, err := tx.Exec(ctx, stmt.InsertPrimaryOAuthKey, k.ID, k.Alg, k.Sealed, ts(k.CreatedAt))
		return mapErr(err)
	})
}

func (s *Store) RetireOAuthKey(ctx context.Context, id string, at time.Time) error {
	if !storable(id) {
		return storage.ErrNotFound
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, lockOAuthKeys); err != nil {
			return mapErr(err)
		}
		var state string
		if err := tx.QueryRow(ctx, stmt.SelectOAuthKeyState, id).Scan(&state); err != nil {
			return mapErr(err)
		}
		switch storage.TokenKeyState(state) {
		case storage.KeyPrimary:
			return fmt.Errorf("%w: key %s is the primary signing key; rotate first", storage.ErrConflict, id)
		case storage.KeyRetired:
			return nil
		}
		_, err := tx.Exec(ctx, stmt.RetireOAuthKey, ts(at), id)
		return mapErr(err)
	})
}
