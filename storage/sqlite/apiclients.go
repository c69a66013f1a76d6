package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/tokenmanager/tokenmanager/storage"
)

// --- API clients ---

const apiClientColumns = `id, description, primary_key_hash, secondary_key_hash, primary_key_set_at, secondary_key_set_at,
	scopes, grant_types, introspect, token_lifetime_us, require_subscription_key, disabled, created_at, updated_at`

func scanAPIClient(row interface{ Scan(...any) error }) (storage.APIClient, error) {
	var c storage.APIClient
	var scopes, grants string
	var lifetime, pset, sset, created, updated int64
	err := row.Scan(&c.ID, &c.Description, &c.PrimaryKeyHash, &c.SecondaryKeyHash, &pset, &sset,
		&scopes, &grants, &c.Introspect, &lifetime, &c.RequireSubscriptionKey, &c.Disabled, &created, &updated)
	if err != nil {
		return storage.APIClient{}, mapErr(err)
	}
	c.Scopes, c.GrantTypes = splitList(scopes), splitList(grants)
	c.TokenLifetime = time.Duration(lifetime) * time.Microsecond
	c.PrimaryKeySetAt, c.SecondaryKeySetAt = fromMicros(pset), fromMicros(sset)
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	return c, nil
}

// Lists of scope tokens and grant types are stored space-separated: neither can contain a space.
func joinList(l []string) string { return strings.Join(l, " ") }

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, " ")
}

func (s *Store) CreateAPIClient(ctx context.Context, c storage.APIClient) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO api_clients (`+apiClientColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.Description, c.PrimaryKeyHash, c.SecondaryKeyHash, toMicros(c.PrimaryKeySetAt), toMicros(c.SecondaryKeySetAt),
		joinList(c.Scopes), joinList(c.GrantTypes), c.Introspect, c.TokenLifetime.Microseconds(), c.RequireSubscriptionKey,
		c.Disabled, toMicros(c.CreatedAt), toMicros(c.UpdatedAt))
	return mapErr(err)
}

func (s *Store) GetAPIClient(ctx context.Context, id string) (storage.APIClient, error) {
	return scanAPIClient(s.r.QueryRowContext(ctx, `SELECT `+apiClientColumns+` FROM api_clients WHERE id = ?`, id))
}

func (s *Store) UpdateAPIClient(ctx context.Context, id string, update func(*storage.APIClient) error) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		c, err := scanAPIClient(tx.QueryRowContext(ctx, `SELECT `+apiClientColumns+` FROM api_clients WHERE id = ?`, id))
		if err != nil {
			return err
		}
		if err := update(&c); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE api_clients SET description = ?, primary_key_hash = ?, secondary_key_hash = ?,
			primary_key_set_at = ?, secondary_key_set_at = ?, scopes = ?, grant_types = ?, introspect = ?, token_lifetime_us = ?,
			require_subscription_key = ?, disabled = ?, updated_at = ? WHERE id = ?`,
			c.Description, c.PrimaryKeyHash, c.SecondaryKeyHash, toMicros(c.PrimaryKeySetAt), toMicros(c.SecondaryKeySetAt),
			joinList(c.Scopes), joinList(c.GrantTypes), c.Introspect, c.TokenLifetime.Microseconds(),
			c.RequireSubscriptionKey, c.Disabled, toMicros(c.UpdatedAt), id)
		return mapErr(err)
	})
}

func (s *Store) ListAPIClients(ctx context.Context) ([]storage.APIClient, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+apiClientColumns+` FROM api_clients ORDER BY id`)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []storage.APIClient
	for rows.Next() {
		c, err := scanAPIClient(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, mapErr(rows.Err())
}

func (s *Store) DeleteAPIClient(ctx context.Context, id string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		// Explicitly, rather than trusting ON DELETE CASCADE alone: the behaviour is the interface's promise.
		if _, err := tx.ExecContext(ctx, `DELETE FROM access_tokens WHERE client_id = ?`, id); err != nil {
			return mapErr(err)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM api_clients WHERE id = ?`, id)
		if err != nil {
			return mapErr(err)
		}
		return requireRow(res)
	})
}

// --- access tokens ---

func (s *Store) CreateAccessToken(ctx context.Context, t storage.AccessToken) error {
	_, err := s.w.ExecContext(ctx,
		`INSERT INTO access_tokens (id, client_id, scopes, key_hash, created_at, expires_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.ClientID, joinList(t.Scopes), t.KeyHash, toMicros(t.CreatedAt), toMicros(t.ExpiresAt), toMicros(t.RevokedAt))
	var se sqlite3.Error
	if errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintForeignKey {
		return fmt.Errorf("%w: client %q", storage.ErrNotFound, t.ClientID)
	}
	return mapErr(err)
}

const accessTokenColumns = `id, client_id, scopes, key_hash, created_at, expires_at, revoked_at`

func scanAccessToken(row interface{ Scan(...any) error }) (storage.AccessToken, error) {
	var t storage.AccessToken
	var scopes string
	var created, expires, revoked int64
	if err := row.Scan(&t.ID, &t.ClientID, &scopes, &t.KeyHash, &created, &expires, &revoked); err != nil {
		return storage.AccessToken{}, mapErr(err)
	}
	t.Scopes = splitList(scopes)
	t.CreatedAt, t.ExpiresAt, t.RevokedAt = fromMicros(created), fromMicros(expires), fromMicros(revoked)
	return t, nil
}

func (s *Store) GetAccessToken(ctx context.Context, id string) (storage.AccessToken, error) {
	return scanAccessToken(s.r.QueryRowContext(ctx, `SELECT `+accessTokenColumns+` FROM access_tokens WHERE id = ?`, id))
}

func (s *Store) ListAccessTokens(ctx context.Context, clientID string, liveAt time.Time, limit int) ([]storage.AccessToken, error) {
	var w where
	if clientID != "" {
		w.add("client_id = ?", clientID)
	}
	if !liveAt.IsZero() {
		w.add("revoked_at = 0 AND expires_at > ?", toMicros(liveAt))
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+accessTokenColumns+` FROM access_tokens`+w.String()+` ORDER BY created_at DESC, id LIMIT ?`,
		append(w.args, limitOf(limit))...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []storage.AccessToken
	for rows.Next() {
		t, err := scanAccessToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, mapErr(rows.Err())
}

func (s *Store) RevokeAccessToken(ctx context.Context, id string, at time.Time) error {
	res, err := s.w.ExecContext(ctx,
		`UPDATE access_tokens SET revoked_at = CASE WHEN revoked_at = 0 THEN ? ELSE revoked_at END WHERE id = ?`, toMicros(at), id)
	if err != nil {
		return mapErr(err)
	}
	return requireRow(res)
}

func (s *Store) DeleteAccessTokens(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	c := toMicros(cutoff)
	res, err := s.w.ExecContext(ctx, `DELETE FROM access_tokens WHERE id IN (
		SELECT id FROM access_tokens WHERE expires_at < ? OR (revoked_at > 0 AND revoked_at < ?) LIMIT ?)`, c, c, limit)
	if err != nil {
		return 0, mapErr(err)
	}
	n, err := res.RowsAffected()
	return int(n), mapErr(err)
}
