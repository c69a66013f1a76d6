package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

func (s *Store) ListOAuthKeys(ctx context.Context) ([]storage.OAuthKey, error) {
	return queryAll(ctx, s.r, stmt.ListOAuthKeys, nil, dialect.ScanOAuthKey)
}

func (s *Store) AddOAuthKey(ctx context.Context, k storage.OAuthKey, previousUntil time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, stmt.DemotePrimaryOAuthKey, toMicros(previousUntil)); err != nil {
			return mapErr(err)
		}
		_, err := tx.ExecContext(ctx, stmt.InsertPrimaryOAuthKey, k.ID, k.Alg, k.Sealed, toMicros(k.CreatedAt))
		return mapErr(err)
	})
}

func (s *Store) RetireOAuthKey(ctx context.Context, id string, at time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var state string
		if err := tx.QueryRowContext(ctx, stmt.SelectOAuthKeyState, id).Scan(&state); err != nil {
			return mapErr(err)
		}
		switch storage.TokenKeyState(state) {
		case storage.KeyPrimary:
			return fmt.Errorf("%w: key %s is the primary signing key; rotate first", storage.ErrConflict, id)
		case storage.KeyRetired:
			return nil
		}
		_, err := tx.ExecContext(ctx, stmt.RetireOAuthKey, toMicros(at), id)
		return mapErr(err)
	})
}
