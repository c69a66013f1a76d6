package postgres

import (
	"context"

	"github.com/tokenmanager/tokenmanager/storage"
)

func (s *Store) InitSetting(ctx context.Context, name, value string) (string, error) {
	if !storable(name) || !storable(value) {
		return "", storage.ErrNotFound
	}
	// The no-op update makes RETURNING give the stored row when there is one; of two nodes starting at once, the
	// second waits for the first's insert and gets its value.
	var stored string
	err := s.pool.QueryRow(ctx, `INSERT INTO settings (name, value) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET value = settings.value RETURNING value`, name, value).Scan(&stored)
	return stored, mapErr(err)
}
