package sqlite

import (
	"context"

	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/internal/sqlmap"
)

func (s *Store) ListCustomersOfUser(ctx context.Context, user string) ([]storage.Customer, error) {
	if user == "" {
		return nil, nil
	}
	return queryAll(ctx, s.r, dialect.SQL(sqlmap.ListCustomersOfUser), []any{user}, dialect.ScanCustomer)
}
