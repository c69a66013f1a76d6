package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/internal/sqlmap"
)

// --- API clients ---

func (s *Store) CreateAPIClient(ctx context.Context, c storage.APIClient) error {
	_, err := s.w.ExecContext(ctx, stmt.InsertAPIClient,
		c.ID, c.Description, c.PrimaryKeyHash, c.SecondaryKeyHash, toMicros(c.PrimaryKeySetAt), toMicros(c.SecondaryKeySetAt),
		joinList(c.Scopes, sqlmap.ScopeSep), joinList(c.GrantTypes, sqlmap.ScopeSep), c.Introspect, c.TokenLifetime.Microseconds(),
		c.RequireSubscriptionKey, c.Disabled, toMicros(c.CreatedAt), toMicros(c.UpdatedAt), c.TokenFormat)
	return mapErr(err)
}

func (s *Store) GetAPIClient(ctx context.Context, id string) (storage.APIClient, error) {
	return dialect.ScanAPIClient(s.r.QueryRowContext(ctx, stmt.SelectAPIClient, id))
}

func (s *Store) UpdateAPIClient(ctx context.Context, id string, update func(*storage.APIClient) error) (err error) {
	defer func() { s.onChange.Run(ctx, err) }() // cached API clients and access tokens
	return s.tx(ctx, func(tx *sql.Tx) error {
		c, err := dialect.ScanAPIClient(tx.QueryRowContext(ctx, stmt.SelectAPIClient, id))
		if err != nil {
			return err
		}
		if err := update(&c); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, stmt.UpdateAPIClient,
			c.Description, c.PrimaryKeyHash, c.SecondaryKeyHash, toMicros(c.PrimaryKeySetAt), toMicros(c.SecondaryKeySetAt),
			joinList(c.Scopes, sqlmap.ScopeSep), joinList(c.GrantTypes, sqlmap.ScopeSep), c.Introspect, c.TokenLifetime.Microseconds(),
			c.RequireSubscriptionKey, c.Disabled, toMicros(c.UpdatedAt), c.TokenFormat, id)
		return mapErr(err)
	})
}

func (s *Store) ListAPIClients(ctx context.Context) ([]storage.APIClient, error) {
	return queryAll(ctx, s.r, stmt.ListAPIClients, nil, dialect.ScanAPIClient)
}

func (s *Store) DeleteAPIClient(ctx context.Context, id string) (err error) {
	defer func() { s.onChange.Run(ctx, err) }() // cached API clients and access tokens
	return s.tx(ctx, func(tx *sql.Tx) error {
		// Explicitly, rather than trusting ON DELETE CASCADE alone: the behaviour is the interface's promise.
		if _, err := tx.ExecContext(ctx, stmt.DeleteClientAccessTokens, id); err != nil {
			return mapErr(err)
		}
		res, err := tx.ExecContext(ctx, stmt.DeleteAPIClient, id)
		if err != nil {
			return mapErr(err)
		}
		return requireRow(res)
	})
}

// --- access tokens ---

func (s *Store) CreateAccessToken(ctx context.Context, t storage.AccessToken) error {
	_, err := s.w.ExecContext(ctx, stmt.InsertAccessToken, t.ID, t.ClientID, joinList(t.Scopes, sqlmap.ScopeSep), t.KeyHash,
		toMicros(t.CreatedAt), toMicros(t.ExpiresAt), toMicros(t.RevokedAt))
	var se sqlite3.Error
	if errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintForeignKey {
		return fmt.Errorf("%w: client %q", storage.ErrNotFound, t.ClientID)
	}
	return mapErr(err)
}

func (s *Store) GetAccessToken(ctx context.Context, id string) (storage.AccessToken, error) {
	return dialect.ScanAccessToken(s.r.QueryRowContext(ctx, stmt.SelectAccessToken, id))
}

func (s *Store) ListAccessTokens(ctx context.Context, f storage.AccessTokenFilter) ([]storage.AccessToken, error) {
	q, args, ok := dialect.ListAccessTokens(f)
	if !ok {
		return nil, nil
	}
	return queryAll(ctx, s.r, q, args, dialect.ScanAccessToken)
}

func (s *Store) RevokeAccessToken(ctx context.Context, id string, at time.Time) (err error) {
	defer func() { s.onChange.Run(ctx, err) }() // cached API clients and access tokens
	res, err := s.w.ExecContext(ctx,
		`UPDATE access_tokens SET revoked_at = CASE WHEN revoked_at = 0 THEN ? ELSE revoked_at END WHERE id = ?`, toMicros(at), id)
	if err != nil {
		return mapErr(err)
	}
	return requireRow(res)
}

func (s *Store) DeleteAccessTokens(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	c := toMicros(cutoff)
	return rowsAffected(s.w.ExecContext(ctx, `DELETE FROM access_tokens WHERE id IN (
		SELECT id FROM access_tokens WHERE expires_at < ? OR (revoked_at > 0 AND revoked_at < ?) LIMIT ?)`, c, c, limit))
}
