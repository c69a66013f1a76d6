package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tokenmanager/tokenmanager/storage"
)

func (s *Store) CreateUser(ctx context.Context, u storage.User) error {
	_, err := s.pool.Exec(ctx, stmt.InsertUser,
		u.Name, u.PasswordHash, u.DigestSecret, u.Disabled, u.Admin, ts(u.CreatedAt), ts(u.UpdatedAt))
	return mapErr(err)
}

func (s *Store) GetUser(ctx context.Context, name string) (storage.User, error) {
	if !storable(name) {
		return storage.User{}, storage.ErrNotFound
	}
	return dialect.ScanUser(s.pool.QueryRow(ctx, stmt.SelectUser, name))
}

func (s *Store) UpdateUser(ctx context.Context, name string, update func(*storage.User) error) (err error) {
	defer func() { s.onChange.Run(ctx, err) }()
	if !storable(name) {
		return storage.ErrNotFound
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		u, err := dialect.ScanUser(tx.QueryRow(ctx, stmt.SelectUser+` FOR UPDATE`, name))
		if err != nil {
			return err
		}
		wasDisabled := u.Disabled
		if err := update(&u); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, stmt.UpdateUser, u.PasswordHash, u.DigestSecret, u.Disabled, u.Admin, ts(u.UpdatedAt), name)
		if err != nil || !(wasDisabled || u.Disabled) {
			return mapErr(err)
		}
		// A disabled account ends its tokens (PowerAuth's too) and sessions for good: when disabled, and again when
		// enabled (a token minted while the disable committed), so that enabling it never brings an old one back.
		// Sessions first: the package's lock order.
		now := ts(time.Now())
		if _, err := tx.Exec(ctx, `UPDATE sessions SET ended_at = $1 WHERE user_name = $2 AND ended_at = '-infinity'`, now, name); err != nil {
			return mapErr(err)
		}
		if _, err := tx.Exec(ctx, `UPDATE tokens SET revoked_at = $1 WHERE user_name = $2 AND revoked_at = '-infinity'`, now, name); err != nil {
			return mapErr(err)
		}
		_, err = tx.Exec(ctx, stmt.DeletePowerAuthUserTokens, name)
		return mapErr(err)
	})
}

func (s *Store) ListUsers(ctx context.Context) ([]storage.User, error) {
	return queryAll(ctx, s.pool, stmt.ListUsers, nil, dialect.ScanUser)
}

func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, stmt.CountUsers).Scan(&n)
	return n, mapErr(err)
}
