package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/internal/sqlmap"
)

var paStmt = dialect.PowerAuthProtocolStatements()

func (s *Store) CreatePowerAuthApp(ctx context.Context, a storage.PowerAuthApp) error {
	_, err := s.w.ExecContext(ctx, paStmt.InsertApp, a.ID, a.Key, a.MasterPublic, a.Sealed, toMicros(a.CreatedAt))
	return mapErr(err)
}

func (s *Store) GetPowerAuthApp(ctx context.Context, id string) (storage.PowerAuthApp, error) {
	return dialect.ScanPowerAuthApp(s.r.QueryRowContext(ctx, paStmt.SelectApp, id))
}

func (s *Store) GetPowerAuthAppByKey(ctx context.Context, key string) (storage.PowerAuthApp, error) {
	return dialect.ScanPowerAuthApp(s.r.QueryRowContext(ctx, paStmt.SelectAppByKey, key))
}

func (s *Store) ListPowerAuthApps(ctx context.Context) ([]storage.PowerAuthApp, error) {
	return queryAll(ctx, s.r, paStmt.ListApps, nil, dialect.ScanPowerAuthApp)
}

func (s *Store) CreatePowerAuthKeyedActivation(ctx context.Context, a storage.PowerAuthActivation, k storage.PowerAuthKeys) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM users WHERE name = ?`, a.User).Scan(&one); err != nil {
			return mapErr(err)
		}
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM powerauth_apps WHERE id = ?`, k.AppID).Scan(&one); err != nil {
			return mapErr(err)
		}
		if _, err := tx.ExecContext(ctx, stmt.InsertPowerAuthActivation,
			a.ID, a.User, a.Name, string(a.Status), toMicros(a.CreatedAt), toMicros(a.UpdatedAt)); err != nil {
			return mapErr(err)
		}
		k.ActivationID = a.ID
		_, err := tx.ExecContext(ctx, paStmt.InsertKeys, dialect.PowerAuthKeysArgs(k)...)
		return mapErr(err)
	})
}

func (s *Store) GetPowerAuthKeys(ctx context.Context, activationID string) (storage.PowerAuthKeys, error) {
	return dialect.ScanPowerAuthKeys(s.r.QueryRowContext(ctx, paStmt.SelectKeys, activationID))
}

func (s *Store) FindPowerAuthCode(ctx context.Context, codeHash []byte) (string, error) {
	var id string
	err := s.r.QueryRowContext(ctx, paStmt.FindCode, codeHash).Scan(&id)
	return id, mapErr(err)
}

// UpdatePowerAuthKeyed runs on the single writer, so the read and the write of the counter cannot interleave
// with another update.
func (s *Store) UpdatePowerAuthKeyed(ctx context.Context, id string, update func(*storage.PowerAuthActivation, *storage.PowerAuthKeys) error) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		a, err := dialect.ScanPowerAuthActivation(tx.QueryRowContext(ctx, stmt.SelectPowerAuthActivation, id))
		if err != nil {
			return err
		}
		k, err := dialect.ScanPowerAuthKeys(tx.QueryRowContext(ctx, paStmt.SelectKeys, id))
		if err != nil {
			return err
		}
		if err := update(&a, &k); err != nil {
			return err
		}
		if k.ActivationID != id {
			return fmt.Errorf("sqlite: an update may not change the activation id")
		}
		if _, err := tx.ExecContext(ctx, stmt.UpdatePowerAuthActivation, a.Name, string(a.Status), toMicros(a.UpdatedAt), id); err != nil {
			return mapErr(err)
		}
		if _, err := tx.ExecContext(ctx, paStmt.UpdateKeys, sqlmap.PowerAuthKeysUpdateArgs(k)...); err != nil {
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

func (s *Store) CreatePowerAuthTempKey(ctx context.Context, k storage.PowerAuthTempKey) error {
	_, err := s.w.ExecContext(ctx, paStmt.InsertTempKey, k.ID, k.AppID, k.ActivationID, k.Public, k.Sealed, toMicros(k.ExpiresAt))
	return mapRefErr(err) // no such application: ErrNotFound
}

func (s *Store) GetPowerAuthTempKey(ctx context.Context, id string) (storage.PowerAuthTempKey, error) {
	return dialect.ScanPowerAuthTempKey(s.r.QueryRowContext(ctx, paStmt.SelectTempKey, id))
}

func (s *Store) DeletePowerAuthTempKeys(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	return rowsAffected(s.w.ExecContext(ctx, `DELETE FROM powerauth_temp_keys WHERE id IN (
		SELECT id FROM powerauth_temp_keys WHERE expires_at < ? LIMIT ?)`, toMicros(cutoff), limit))
}
