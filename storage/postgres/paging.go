package postgres

import (
	"context"

	"github.com/tokenmanager/tokenmanager/storage"
)

func (s *Store) PagePowerAuthActivations(ctx context.Context, f storage.PowerAuthActivationFilter) ([]storage.PowerAuthActivation, error) {
	q, args, ok := dialect.PagePowerAuthActivations(f)
	if !ok {
		return nil, nil
	}
	return queryAll(ctx, s.pool, q, args, dialect.ScanPowerAuthActivation)
}

func (s *Store) PagePowerAuthTokens(ctx context.Context, f storage.PowerAuthTokenFilter) ([]storage.PowerAuthToken, error) {
	q, args, ok := dialect.PagePowerAuthTokens(f)
	if !ok {
		return nil, nil
	}
	return queryAll(ctx, s.pool, q, args, dialect.ScanPowerAuthToken)
}

func (s *Store) PageAppDevices(ctx context.Context, f storage.AppDeviceFilter) ([]storage.AppDevice, error) {
	q, args, ok := dialect.PageAppDevices(f)
	if !ok {
		return nil, nil
	}
	return queryAll(ctx, s.pool, q, args, dialect.ScanAppDevice)
}
