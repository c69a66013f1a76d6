package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tokenmanager/tokenmanager/storage"
)

// --- API clients ---

func (s *Store) CreateAPIClient(ctx context.Context, c storage.APIClient) error {
	_, err := s.pool.Exec(ctx, stmt.InsertAPIClient,
		c.ID, c.Description, c.PrimaryKeyHash, c.SecondaryKeyHash, ts(c.PrimaryKeySetAt), ts(c.SecondaryKeySetAt),
		list(c.Scopes), list(c.GrantTypes), c.Introspect, c.TokenLifetime.Microseconds(), c.RequireSubscriptionKey,
		c.Disabled, ts(c.CreatedAt), ts(c.UpdatedAt), c.TokenFormat)
	return mapErr(err)
}

func (s *Store) GetAPIClient(ctx context.Context, id string) (storage.APIClient, error) {
	if !storable(id) {
		return storage.APIClient{}, storage.ErrNotFound
	}
	return dialect.ScanAPIClient(s.pool.QueryRow(ctx, stmt.SelectAPIClient, id))
}

func (s *Store) UpdateAPIClient(ctx context.Context, id string, update func(*storage.APIClient) error) (err error) {
	defer func() { s.onChange.Run(ctx, err) }() // cached API clients and access tokens
	if !storable(id) {
		return storage.ErrNotFound
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		c, err := dialect.ScanAPIClient(tx.QueryRow(ctx, stmt.SelectAPIClient+` FOR UPDATE`, id))
		if err != nil {
			return err
		}
		if err := update(&c); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, stmt.UpdateAPIClient,
			c.Description, c.PrimaryKeyHash, c.SecondaryKeyHash, ts(c.PrimaryKeySetAt), ts(c.SecondaryKeySetAt),
			list(c.Scopes), list(c.GrantTypes), c.Introspect, c.TokenLifetime.Microseconds(),
			c.RequireSubscriptionKey, c.Disabled, ts(c.UpdatedAt), c.TokenFormat, id)
		return mapErr(err)
	})
}

func (s *Store) ListAPIClients(ctx context.Context) ([]storage.APIClient, error) {
	return queryAll(ctx, s.pool, stmt.ListAPIClients, nil, dialect.ScanAPIClient)
}

func (s *Store) DeleteAPIClient(ctx context.Context, id string) (err error) {
	defer func() { s.onChange.Run(ctx, err) }() // cached API clients and access tokens
	if !storable(id) {
		return storage.ErrNotFound
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		// Explicitly, rather than trusting ON DELETE CASCADE alone: the behaviour is the interface's promise.
		if _, err := tx.Exec(ctx, stmt.DeleteClientAccessTokens, id); err != nil {
			return mapErr(err)
		}
		tag, err := tx.Exec(ctx, stmt.DeleteAPIClient, id)
		if err != nil {
			return mapErr(err)
		}
		return requireRow(tag)
	})
}

// --- access tokens ---

func (s *Store) CreateAccessToken(ctx context.Context, t storage.AccessToken) error {
	_, err := s.pool.Exec(ctx, stmt.InsertAccessToken,
		t.ID, t.ClientID, list(t.Scopes), t.KeyHash, ts(t.CreatedAt), ts(t.ExpiresAt), ts(t.RevokedAt))
	return mapRefErr(err)
}

func (s *Store) GetAccessToken(ctx context.Context, id string) (storage.AccessToken, error) {
	if !storable(id) {
		return storage.AccessToken{}, storage.ErrNotFound
	}
	return dialect.ScanAccessToken(s.pool.QueryRow(ctx, stmt.SelectAccessToken, id))
}

func (s *Store) ListAccessTokens(ctx context.Context, f storage.AccessTokenFilter) ([]storage.AccessToken, error) {
	q, args, ok := dialect.ListAccessTokens(f)
	if !ok {
		return nil, nil
	}
	return queryAll(ctx, s.pool, q, args, dialect.ScanAccessToken)
}

func (s *Store) RevokeAccessToken(ctx context.Context, id string, when time.Time) (err error) {
	defer func() { s.onChange.Run(ctx, err) }() // cached API clients and access tokens
	if !storable(id) {
		return storage.ErrNotFound
	}
	tag, err := s.pool.Exec(ctx,
		`UPDATE access_tokens SET revoked_at = CASE WHEN revoked_at = '-infinity' THEN $1 ELSE revoked_at END WHERE id = $2`, ts(when), id)
	if err != nil {
		return mapErr(err)
	}
	return requireRow(tag)
}

func (s *Store) DeleteAccessTokens(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	return rowsAffected(s.pool.Exec(ctx, `DELETE FROM access_tokens WHERE id IN (
		SELECT id FROM access_tokens WHERE expires_at < $1 OR (revoked_at > '-infinity' AND revoked_at < $1)
		LIMIT $2 FOR UPDATE SKIP LOCKED)`, ts(cutoff), limit))
}
