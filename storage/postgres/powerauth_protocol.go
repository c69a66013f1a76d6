package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/internal/sqlmap"
)

var paStmt = dialect.PowerAuthProtocolStatements()

func (s *Store) CreatePowerAuthApp(ctx context.Context, a storage.PowerAuthApp) error {
	if !storable(a.ID) || !storable(a.Key) {
		return errors.New("postgres: application id or key holds a NUL or invalid UTF-8")
	}
	_, err := s.pool.Exec(ctx, paStmt.InsertApp, a.ID, a.Key, a.MasterPublic, a.Sealed, ts(a.CreatedAt))
	return mapErr(err)
}

func (s *Store) GetPowerAuthApp(ctx context.Context, id string) (storage.PowerAuthApp, error) {
	if !storable(id) {
		return storage.PowerAuthApp{}, storage.ErrNotFound
	}
	return dialect.ScanPowerAuthApp(s.pool.QueryRow(ctx, paStmt.SelectApp, id))
}

func (s *Store) GetPowerAuthAppByKey(ctx context.Context, key string) (storage.PowerAuthApp, error) {
	if !storable(key) {
		return storage.PowerAuthApp{}, storage.ErrNotFound
	}
	return dialect.ScanPowerAuthApp(s.pool.QueryRow(ctx, paStmt.SelectAppByKey, key))
}

func (s *Store) ListPowerAuthApps(ctx context.Context) ([]storage.PowerAuthApp, error) {
	return queryAll(ctx, s.pool, paStmt.ListApps, nil, dialect.ScanPowerAuthApp)
}

func (s *Store) CreatePowerAuthKeyedActivation(ctx context.Context, a storage.PowerAuthActivation, k storage.PowerAuthKeys) error {
	if !storable(a.User) || !storable(k.AppID) {
		return storage.ErrNotFound
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, stmt.InsertPowerAuthActivation, a.ID, a.User, a.Name, string(a.Status), ts(a.CreatedAt),
			ts(a.UpdatedAt)); err != nil {
			return mapRefErr(err)
		}
		k.ActivationID = a.ID
		_, err := tx.Exec(ctx, paStmt.InsertKeys, dialect.PowerAuthKeysArgs(k)...)
		return mapRefErr(err)
	})
}

func (s *Store) GetPowerAuthKeys(ctx context.Context, activationID string) (storage.PowerAuthKeys, error) {
	if !storable(activationID) {
		return storage.PowerAuthKeys{}, storage.ErrNotFound
	}
	return dialect.ScanPowerAuthKeys(s.pool.QueryRow(ctx, paStmt.SelectKeys, activationID))
}

func (s *Store) FindPowerAuthCode(ctx context.Context, codeHash []byte) (string, error) {
	var id string
	err := s.pool.QueryRow(ctx, paStmt.FindCode, codeHash).Scan(&id)
	return id, mapErr(err)
}

// UpdatePowerAuthKeyed locks the activation row (as UpdatePowerAuthActivation does, so token creation
// serializes with it) and then its keys: two signatures cannot both take the same counter value.
func (s *Store) UpdatePowerAuthKeyed(ctx context.Context, id string, update func(*storage.PowerAuthActivation, *storage.PowerAuthKeys) error) error {
	if !storable(id) {
		return storage.ErrNotFound
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		a, err := dialect.ScanPowerAuthActivation(tx.QueryRow(ctx, stmt.SelectPowerAuthActivation+` FOR UPDATE`, id))
		if err != nil {
			return err
		}
		k, err := dialect.ScanPowerAuthKeys(tx.QueryRow(ctx, paStmt.SelectKeys+` FOR UPDATE`, id))
		if err != nil {
			return err
		}
		if err := update(&a, &k); err != nil {
			return err
		}
		if k.ActivationID != id {
			return errors.New("postgres: an update may not change the activation id")
		}
		if _, err := tx.Exec(ctx, stmt.UpdatePowerAuthActivation, a.Name, string(a.Status), ts(a.UpdatedAt), id); err != nil {
			return mapErr(err)
		}
		if _, err := tx.Exec(ctx, paStmt.UpdateKeys, sqlmap.PowerAuthKeysUpdateArgs(k)...); err != nil {
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

func (s *Store) CreatePowerAuthTempKey(ctx context.Context, k storage.PowerAuthTempKey) error {
	if !storable(k.AppID) || !storable(k.ActivationID) {
		return storage.ErrNotFound
	}
	_, err := s.pool.Exec(ctx, paStmt.InsertTempKey, k.ID, k.AppID, k.ActivationID, k.Public, k.Sealed, ts(k.ExpiresAt))
	return mapRefErr(err)
}

func (s *Store) GetPowerAuthTempKey(ctx context.Context, id string) (storage.PowerAuthTempKey, error) {
	if !storable(id) {
		return storage.PowerAuthTempKey{}, storage.ErrNotFound
	}
	return dialect.ScanPowerAuthTempKey(s.pool.QueryRow(ctx, paStmt.SelectTempKey, id))
}

func (s *Store) DeletePowerAuthTempKeys(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	return rowsAffected(s.pool.Exec(ctx, `DELETE FROM powerauth_temp_keys WHERE id IN (
		SELECT id FROM powerauth_temp_keys WHERE expires_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`, ts(cutoff), limit))
}
