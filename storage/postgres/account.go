package postgres

import (
	"context"

	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/internal/sqlmap"
)

func (s *Store) ListCustomersOfUser(ctx context.Context, user string) ([]storage.Customer, error) {
	if user == "" || !storable(user) {
		return nil, nil
	}
	return queryAll(ctx, s.pool, dialect.SQL(sqlmap.ListCustomersOfUser), []any{user}, dialect.ScanCustomer)
}
