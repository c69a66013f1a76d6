package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/internal/sqlmap"
)

func (s *Store) CreateToken(ctx context.Context, t storage.Token) error {
	args := []any{t.ID, t.User, string(t.Kind), sqlmap.Nullable(t.SessionID), t.ClientHost,
		toMicros(t.CreatedAt), toMicros(t.ExpiresAt), toMicros(t.LastUsedAt), toMicros(t.RevokedAt)}
	if t.KeyID == "" {
		return s.execGrouped(ctx, stmt.InsertToken, args...)
	}
	// The check and the insert are one statement on the single writer, so no rotation commits between them.
	n, err := s.execGroupedRows(ctx, `INSERT INTO tokens (`+sqlmap.InsertTokenColumns+`) SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?
		WHERE EXISTS (SELECT 1 FROM token_keys WHERE id = ? AND state = 'primary')
		   OR (? = ? AND NOT EXISTS (SELECT 1 FROM token_keys))`, append(args, t.KeyID, t.KeyID, storage.OriginalTokenKey)...)
	if err == nil && n == 0 {
		return fmt.Errorf("%w: %s", storage.ErrStaleTokenKey, t.KeyID)
	}
	return err
}

func (s *Store) GetToken(ctx context.Context, id string) (storage.Token, error) {
	return dialect.ScanToken(s.r.QueryRowContext(ctx, stmt.SelectToken, id))
}

func (s *Store) TouchToken(ctx context.Context, id string, at time.Time, minInterval time.Duration) error {
	return s.execGrouped(ctx, stmt.TouchToken, toMicros(at), id, toMicros(at.Add(-minInterval)))
}

func (s *Store) RevokeToken(ctx context.Context, id string, at time.Time) (err error) {
	defer func() { s.onChange.Run(ctx, err) }()
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE tokens SET revoked_at = CASE WHEN revoked_at = 0 THEN ? ELSE revoked_at END WHERE id = ?`,
			toMicros(at), id)
		if err != nil {
			return mapErr(err)
		}
		return requireRow(res)
	})
}

func (s *Store) RevokeSessionTokens(ctx context.Context, sessionID string, at time.Time) (_ int, err error) {
	defer func() { s.onChange.Run(ctx, err) }()
	return rowsAffected(s.w.ExecContext(ctx, `UPDATE tokens SET revoked_at = ? WHERE session_id = ? AND revoked_at = 0`,
		toMicros(at), sessionID))
}

func (s *Store) RevokeUserTokens(ctx context.Context, user string, at time.Time) (_ int, err error) {
	defer func() { s.onChange.Run(ctx, err) }()
	var n int
	err = s.tx(ctx, func(tx *sql.Tx) error {
		ts := toMicros(at)
		if n, err = rowsAffected(tx.ExecContext(ctx, `UPDATE tokens SET revoked_at = ? WHERE user_name = ? AND revoked_at = 0`, ts, user)); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE sessions SET ended_at = ? WHERE user_name = ? AND ended_at = 0`, ts, user)
		return mapErr(err)
	})
	return n, err
}

func (s *Store) ListTokens(ctx context.Context, f storage.TokenFilter) ([]storage.Token, error) {
	q, args, ok := dialect.ListTokens(f)
	if !ok {
		return nil, nil
	}
	return queryAll(ctx, s.r, q, args, dialect.ScanToken)
}

func (s *Store) DeleteTokens(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	c := toMicros(cutoff)
	return rowsAffected(s.w.ExecContext(ctx, `DELETE FROM tokens WHERE id IN (
		SELECT id FROM tokens WHERE (expires_at > 0 AND expires_at < ?) OR (revoked_at > 0 AND revoked_at < ?) LIMIT ?)`,
		c, c, limit))
}

func (s *Store) CountLive(ctx context.Context, now, seenSince time.Time) (tokens, sessions int, err error) {
	err = s.r.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM tokens WHERE revoked_at = 0 AND (expires_at = 0 OR expires_at > ?)),
		(SELECT count(*) FROM sessions WHERE ended_at = 0 AND last_seen_at >= ?)`,
		toMicros(now), toMicros(seenSince)).Scan(&tokens, &sessions)
	return tokens, sessions, mapErr(err)
}
