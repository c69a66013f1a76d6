package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/internal/sqlmap"
)

func (s *Store) CreateToken(ctx context.Context, t storage.Token) error {
	args := []any{t.ID, t.User, string(t.Kind), sqlmap.Nullable(t.SessionID), t.ClientHost,
		ts(t.CreatedAt), ts(t.ExpiresAt), ts(t.LastUsedAt), ts(t.RevokedAt)}
	if t.KeyID == "" {
		_, err := s.pool.Exec(ctx, stmt.InsertToken, args...)
		return mapErr(err)
	}
	// FOR SHARE takes a ROW SHARE lock on token_keys, which waits for a rotation in progress (it locks the table
	// EXCLUSIVE) and makes the next one wait for this insert, so that the check holds at the commit. It locks no
	// row when the key is the primary (the subquery then finds none).
	tag, err := s.pool.Exec(ctx, `INSERT INTO tokens (`+sqlmap.InsertTokenColumns+`)
		SELECT $1, $2, $3, $4, $5, $6::timestamptz, $7::timestamptz, $8::timestamptz, $9::timestamptz
		WHERE NOT EXISTS (SELECT 1 FROM token_keys WHERE state = 'primary' AND id <> $10 FOR SHARE)
		  AND ($10 = $11 OR EXISTS (SELECT 1 FROM token_keys WHERE id = $10 AND state = 'primary'))`,
		append(args, t.KeyID, storage.OriginalTokenKey)...)
	if err == nil && tag.RowsAffected() == 0 {
		return fmt.Errorf("%w: %s", storage.ErrStaleTokenKey, t.KeyID)
	}
	return mapErr(err)
}

func (s *Store) GetToken(ctx context.Context, id string) (storage.Token, error) {
	if !storable(id) {
		return storage.Token{}, storage.ErrNotFound
	}
	return dialect.ScanToken(s.pool.QueryRow(ctx, stmt.SelectToken, id))
}

func (s *Store) TouchToken(ctx context.Context, id string, when time.Time, minInterval time.Duration) error {
	if !storable(id) {
		return nil
	}
	_, err := s.pool.Exec(ctx, stmt.TouchToken, ts(when), id, ts(when.Add(-minInterval)))
	return mapErr(err)
}

func (s *Store) RevokeToken(ctx context.Context, id string, when time.Time) (err error) {
	defer func() { s.onChange.Run(ctx, err) }()
	if !storable(id) {
		return storage.ErrNotFound
	}
	tag, err := s.pool.Exec(ctx,
		`UPDATE tokens SET revoked_at = CASE WHEN revoked_at = '-infinity' THEN $1 ELSE revoked_at END WHERE id = $2`,
		ts(when), id)
	if err != nil {
		return mapErr(err)
	}
	return requireRow(tag)
}

func (s *Store) RevokeSessionTokens(ctx context.Context, sessionID string, when time.Time) (_ int, err error) {
	defer func() { s.onChange.Run(ctx, err) }()
	if !storable(sessionID) {
		return 0, nil
	}
	return rowsAffected(s.pool.Exec(ctx, `UPDATE tokens SET revoked_at = $1 WHERE session_id = $2 AND revoked_at = '-infinity'`,
		ts(when), sessionID))
}

func (s *Store) RevokeUserTokens(ctx context.Context, user string, when time.Time) (_ int, err error) {
	defer func() { s.onChange.Run(ctx, err) }()
	var n int
	err = s.tx(ctx, func(tx pgx.Tx) error {
		// Sessions first: the package's lock order.
		if _, err := tx.Exec(ctx, `UPDATE sessions SET ended_at = $1 WHERE user_name = $2 AND ended_at = '-infinity'`, ts(when), user); err != nil {
			return mapErr(err)
		}
		n, err = rowsAffected(tx.Exec(ctx, `UPDATE tokens SET revoked_at = $1 WHERE user_name = $2 AND revoked_at = '-infinity'`, ts(when), user))
		return err
	})
	return n, err
}

func (s *Store) ListTokens(ctx context.Context, f storage.TokenFilter) ([]storage.Token, error) {
	q, args, ok := dialect.ListTokens(f)
	if !ok {
		return nil, nil
	}
	return queryAll(ctx, s.pool, q, args, dialect.ScanToken)
}

// DeleteTokens picks its batch with SKIP LOCKED: nodes collecting garbage at once take different rows instead of
// queueing behind one another.
func (s *Store) DeleteTokens(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	return rowsAffected(s.pool.Exec(ctx, `DELETE FROM tokens WHERE id IN (
		SELECT id FROM tokens
		WHERE (expires_at > '-infinity' AND expires_at < $1) OR (revoked_at > '-infinity' AND revoked_at < $1)
		LIMIT $2 FOR UPDATE SKIP LOCKED)`, ts(cutoff), limit))
}

func (s *Store) CountLive(ctx context.Context, now, seenSince time.Time) (tokens, sessions int, err error) {
	err = s.pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM tokens WHERE revoked_at = '-infinity' AND (expires_at = '-infinity' OR expires_at > $1)),
		(SELECT count(*) FROM sessions WHERE ended_at = '-infinity' AND last_seen_at >= $2)`,
		ts(now), ts(seenSince)).Scan(&tokens, &sessions)
	return tokens, sessions, mapErr(err)
}
