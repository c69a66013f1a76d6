package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tokenmanager/tokenmanager/storage"
)

// --- API clients ---

const apiClientColumns = `id, description, primary_key_hash, secondary_key_hash, primary_key_set_at, secondary_key_set_at,
	scopes, grant_types, introspect, token_lifetime_us, require_subscription_key, disabled, created_at, updated_at`

func scanAPIClient(row scanner) (storage.APIClient, error) {
	var c storage.APIClient
	var lifetime int64
	err := row.Scan(&c.ID, &c.Description, &c.PrimaryKeyHash, &c.SecondaryKeyHash, at(&c.PrimaryKeySetAt), at(&c.SecondaryKeySetAt),
		&c.Scopes, &c.GrantTypes, &c.Introspect, &lifetime, &c.RequireSubscriptionKey, &c.Disabled, at(&c.CreatedAt), at(&c.UpdatedAt))
	if err != nil {
		return storage.APIClient{}, mapErr(err)
	}
	c.Scopes, c.GrantTypes = nilIfEmpty(c.Scopes), nilIfEmpty(c.GrantTypes)
	c.TokenLifetime = time.Duration(lifetime) * time.Microsecond
	return c, nil
}

func (s *Store) CreateAPIClient(ctx context.Context, c storage.APIClient) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO api_clients (`+apiClientColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		c.ID, c.Description, c.PrimaryKeyHash, c.SecondaryKeyHash, ts(c.PrimaryKeySetAt), ts(c.SecondaryKeySetAt),
		list(c.Scopes), list(c.GrantTypes), c.Introspect, c.TokenLifetime.Microseconds(), c.RequireSubscriptionKey,
		c.Disabled, ts(c.CreatedAt), ts(c.UpdatedAt))
	return mapErr(err)
}

func (s *Store) GetAPIClient(ctx context.Context, id string) (storage.APIClient, error) {
	if !storable(id) {
		return storage.APIClient{}, storage.ErrNotFound
	}
	return scanAPIClient(s.pool.QueryRow(ctx, `SELECT `+apiClientColumns+` FROM api_clients WHERE id = $1`, id))
}

func (s *Store) UpdateAPIClient(ctx context.Context, id string, update func(*storage.APIClient) error) error {
	if !storable(id) {
		return storage.ErrNotFound
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		c, err := scanAPIClient(tx.QueryRow(ctx, `SELECT `+apiClientColumns+` FROM api_clients WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return err
		}
		if err := update(&c); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE api_clients SET description = $1, primary_key_hash = $2, secondary_key_hash = $3,
			primary_key_set_at = $4, secondary_key_set_at = $5, scopes = $6, grant_types = $7, introspect = $8,
			token_lifetime_us = $9, require_subscription_key = $10, disabled = $11, updated_at = $12 WHERE id = $13`,
			c.Description, c.PrimaryKeyHash, c.SecondaryKeyHash, ts(c.PrimaryKeySetAt), ts(c.SecondaryKeySetAt),
			list(c.Scopes), list(c.GrantTypes), c.Introspect, c.TokenLifetime.Microseconds(),
			c.RequireSubscriptionKey, c.Disabled, ts(c.UpdatedAt), id)
		return mapErr(err)
	})
}

func (s *Store) ListAPIClients(ctx context.Context) ([]storage.APIClient, error) {
	return queryAll(ctx, s.pool, `SELECT `+apiClientColumns+` FROM api_clients ORDER BY id`, nil, scanAPIClient)
}

func (s *Store) DeleteAPIClient(ctx context.Context, id string) error {
	if !storable(id) {
		return storage.ErrNotFound
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		// Explicitly, rather than trusting ON DELETE CASCADE alone: the behaviour is the interface's promise.
		if _, err := tx.Exec(ctx, `DELETE FROM access_tokens WHERE client_id = $1`, id); err != nil {
			return mapErr(err)
		}
		tag, err := tx.Exec(ctx, `DELETE FROM api_clients WHERE id = $1`, id)
		if err != nil {
			return mapErr(err)
		}
		return requireRow(tag)
	})
}

// --- access tokens ---

func (s *Store) CreateAccessToken(ctx context.Context, t storage.AccessToken) error {
	_, err := s.pool.Exec(ctx,
		`INSERT INTO access_tokens (id, client_id, scopes, key_hash, created_at, expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		t.ID, t.ClientID, list(t.Scopes), t.KeyHash, ts(t.CreatedAt), ts(t.ExpiresAt), ts(t.RevokedAt))
	return mapRefErr(err)
}

const accessTokenColumns = `id, client_id, scopes, key_hash, created_at, expires_at, revoked_at`

func scanAccessToken(row scanner) (storage.AccessToken, error) {
	var t storage.AccessToken
	if err := row.Scan(&t.ID, &t.ClientID, &t.Scopes, &t.KeyHash, at(&t.CreatedAt), at(&t.ExpiresAt), at(&t.RevokedAt)); err != nil {
		return storage.AccessToken{}, mapErr(err)
	}
	t.Scopes = nilIfEmpty(t.Scopes)
	return t, nil
}

func (s *Store) GetAccessToken(ctx context.Context, id string) (storage.AccessToken, error) {
	if !storable(id) {
		return storage.AccessToken{}, storage.ErrNotFound
	}
	return scanAccessToken(s.pool.QueryRow(ctx, `SELECT `+accessTokenColumns+` FROM access_tokens WHERE id = $1`, id))
}

func (s *Store) ListAccessTokens(ctx context.Context, clientID string, liveAt time.Time, limit int) ([]storage.AccessToken, error) {
	var w where
	if clientID != "" {
		w.add("client_id = ?", clientID)
	}
	if !liveAt.IsZero() {
		w.add("revoked_at = '-infinity' AND expires_at > ?", ts(liveAt))
	}
	if w.none {
		return nil, nil
	}
	q := `SELECT ` + accessTokenColumns + ` FROM access_tokens` + w.String() + ` ORDER BY created_at DESC, id LIMIT `
	return queryAll(ctx, s.pool, q+w.next(limitOf(limit)), w.args, scanAccessToken)
}

func (s *Store) RevokeAccessToken(ctx context.Context, id string, when time.Time) error {
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
	tag, err := s.pool.Exec(ctx, `DELETE FROM access_tokens WHERE id IN (
		SELECT id FROM access_tokens WHERE expires_at < $1 OR (revoked_at > '-infinity' AND revoked_at < $1)
		LIMIT $2 FOR UPDATE SKIP LOCKED)`, ts(cutoff), limit)
	if err != nil {
		return 0, mapErr(err)
	}
	return int(tag.RowsAffected()), nil
}
