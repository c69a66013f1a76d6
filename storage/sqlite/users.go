package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

func (s *Store) CreateUser(ctx context.Context, u storage.User) error {
	_, err := s.w.ExecContext(ctx, stmt.InsertUser,
		u.Name, u.PasswordHash, u.DigestSecret, u.Disabled, u.Admin, toMicros(u.CreatedAt), toMicros(u.UpdatedAt))
	return mapErr(err)
}

func (s *Store) GetUser(ctx context.Context, name string) (storage.User, error) {
	return dialect.ScanUser(s.r.QueryRowContext(ctx, stmt.SelectUser, name))
}

func (s *Store) UpdateUser(ctx context.Context, name string, update func(*storage.User) error) (err error) {
	defer func() { s.onChange.Run(ctx, err) }()
	return s.tx(ctx, func(tx *sql.Tx) error {
		u, err := dialect.ScanUser(tx.QueryRowContext(ctx, stmt.SelectUser, name))
		if err != nil {
			return err
		}
		wasDisabled := u.Disabled
		if err := update(&u); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, stmt.UpdateUser,
			u.PasswordHash, u.DigestSecret, u.Disabled, u.Admin, toMicros(u.UpdatedAt), name)
		if err != nil || !(wasDisabled || u.Disabled) {
			return mapErr(err)
		}
		// A disabled account ends its tokens (PowerAuth's too) and sessions for good: when disabled, and again when
		// enabled (a token minted while the disable committed), so that enabling it never brings an old one back.
		at := toMicros(time.Now())
		if _, err := tx.ExecContext(ctx, `UPDATE tokens SET revoked_at = ? WHERE user_name = ? AND revoked_at = 0`, at, name); err != nil {
			return mapErr(err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sessions SET ended_at = ? WHERE user_name = ? AND ended_at = 0`, at, name); err != nil {
			return mapErr(err)
		}
		_, err = tx.ExecContext(ctx, stmt.DeletePowerAuthUserTokens, name)
		return mapErr(err)
	})
}

func (s *Store) ListUsers(ctx context.Context) ([]storage.User, error) {
	return queryAll(ctx, s.r, stmt.ListUsers, nil, dialect.ScanUser)
}

func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, stmt.CountUsers).Scan(&n)
	return n, mapErr(err)
}
