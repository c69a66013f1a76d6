package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

// --- users ---

const userColumns = `name, password_hash, digest_secret, disabled, admin, created_at, updated_at`

func scanUser(row interface{ Scan(...any) error }) (storage.User, error) {
	var u storage.User
	var created, updated int64
	err := row.Scan(&u.Name, &u.PasswordHash, &u.DigestSecret, &u.Disabled, &u.Admin, &created, &updated)
	u.CreatedAt, u.UpdatedAt = fromMicros(created), fromMicros(updated)
	return u, mapErr(err)
}

func (s *Store) CreateUser(ctx context.Context, u storage.User) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO users (`+userColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		u.Name, u.PasswordHash, u.DigestSecret, u.Disabled, u.Admin, toMicros(u.CreatedAt), toMicros(u.UpdatedAt))
	return mapErr(err)
}

func (s *Store) GetUser(ctx context.Context, name string) (storage.User, error) {
	return scanUser(s.r.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE name = ?`, name))
}

func (s *Store) UpdateUser(ctx context.Context, name string, update func(*storage.User) error) (err error) {
	defer func() { s.onChange.Run(ctx, err) }()
	return s.tx(ctx, func(tx *sql.Tx) error {
		u, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE name = ?`, name))
		if err != nil {
			return err
		}
		wasDisabled := u.Disabled
		if err := update(&u); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx,
			`UPDATE users SET password_hash = ?, digest_secret = ?, disabled = ?, admin = ?, updated_at = ? WHERE name = ?`,
			u.PasswordHash, u.DigestSecret, u.Disabled, u.Admin, toMicros(u.UpdatedAt), name)
		if err != nil || !(wasDisabled || u.Disabled) {
			return mapErr(err)
		}
		// A disabled account ends its tokens (PowerAuth's too) and sessions for good: when disabled, and again when
		// enabled (a token minted while the disable committed), so that enabling it never brings an old one back.
		at := toMicros(time.Now())
		if _, err := tx.ExecContext(ctx, `UPDATE tokens SET revoked_at = ? WHERE user_name = ? AND revoked_at = 0`, at, name); err != nil {
			return mapErr(err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sessions SET ended_at = ? WHERE user_name = ? AND ended_at = 0`, at, name); err != nil {
			return mapErr(err)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM powerauth_tokens WHERE activation_id IN (
			SELECT id FROM powerauth_activations WHERE user_name = ?)`, name)
		return mapErr(err)
	})
}

func (s *Store) ListUsers(ctx context.Context) ([]storage.User, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY name`)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []storage.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, mapErr(rows.Err())
}

func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n)
	return n, mapErr(err)
}

// --- tokens ---

const tokenColumns = `id, user_name, kind, coalesce(session_id, ''), client_host, created_at, expires_at, last_used_at, revoked_at`

func (s *Store) CreateToken(ctx context.Context, t storage.Token) error {
	args := []any{t.ID, t.User, string(t.Kind), nullable(t.SessionID), t.ClientHost,
		toMicros(t.CreatedAt), toMicros(t.ExpiresAt), toMicros(t.LastUsedAt), toMicros(t.RevokedAt)}
	if t.KeyID == "" {
		return s.execGrouped(ctx, `INSERT INTO tokens (`+insertTokenColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
	}
	// The check and the insert are one statement on the single writer, so no rotation commits between them.
	n, err := s.execGroupedRows(ctx, `INSERT INTO tokens (`+insertTokenColumns+`) SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?
		WHERE EXISTS (SELECT 1 FROM token_keys WHERE id = ? AND state = 'primary')
		   OR (? = ? AND NOT EXISTS (SELECT 1 FROM token_keys))`, append(args, t.KeyID, t.KeyID, storage.OriginalTokenKey)...)
	if err == nil && n == 0 {
		return fmt.Errorf("%w: %s", storage.ErrStaleTokenKey, t.KeyID)
	}
	return err
}

const insertTokenColumns = `id, user_name, kind, session_id, client_host, created_at, expires_at, last_used_at, revoked_at`

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func scanToken(row interface{ Scan(...any) error }) (storage.Token, error) {
	var t storage.Token
	var kind string
	var created, expires, used, revoked int64
	if err := row.Scan(&t.ID, &t.User, &kind, &t.SessionID, &t.ClientHost, &created, &expires, &used, &revoked); err != nil {
		return storage.Token{}, mapErr(err)
	}
	t.Kind = storage.TokenKind(kind)
	t.CreatedAt, t.ExpiresAt, t.LastUsedAt, t.RevokedAt = fromMicros(created), fromMicros(expires), fromMicros(used), fromMicros(revoked)
	return t, nil
}

func (s *Store) GetToken(ctx context.Context, id string) (storage.Token, error) {
	return scanToken(s.r.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE id = ?`, id))
}

func (s *Store) TouchToken(ctx context.Context, id string, at time.Time, minInterval time.Duration) error {
	return s.execGrouped(ctx, `UPDATE tokens SET last_used_at = ? WHERE id = ? AND last_used_at <= ?`,
		toMicros(at), id, toMicros(at.Add(-minInterval)))
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
	res, err := s.w.ExecContext(ctx, `UPDATE tokens SET revoked_at = ? WHERE session_id = ? AND revoked_at = 0`,
		toMicros(at), sessionID)
	if err != nil {
		return 0, mapErr(err)
	}
	n, err := res.RowsAffected()
	return int(n), mapErr(err)
}

func (s *Store) DeleteTokens(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	c := toMicros(cutoff)
	res, err := s.w.ExecContext(ctx, `DELETE FROM tokens WHERE id IN (
		SELECT id FROM tokens WHERE (expires_at > 0 AND expires_at < ?) OR (revoked_at > 0 AND revoked_at < ?) LIMIT ?)`,
		c, c, limit)
	if err != nil {
		return 0, mapErr(err)
	}
	n, err := res.RowsAffected()
	return int(n), mapErr(err)
}

// --- sessions ---

func (s *Store) CreateSession(ctx context.Context, ss storage.Session) error {
	return s.execGrouped(ctx,
		`INSERT INTO sessions (id, user_name, client_host, created_at, last_seen_at, ended_at) VALUES (?, ?, ?, ?, ?, ?)`,
		ss.ID, ss.User, ss.ClientHost, toMicros(ss.CreatedAt), toMicros(ss.LastSeenAt), toMicros(ss.EndedAt))
}

const sessionColumns = `id, user_name, client_host, created_at, last_seen_at, ended_at`

func scanSession(row interface{ Scan(...any) error }) (storage.Session, error) {
	var ss storage.Session
	var created, seen, ended int64
	if err := row.Scan(&ss.ID, &ss.User, &ss.ClientHost, &created, &seen, &ended); err != nil {
		return storage.Session{}, mapErr(err)
	}
	ss.CreatedAt, ss.LastSeenAt, ss.EndedAt = fromMicros(created), fromMicros(seen), fromMicros(ended)
	return ss, nil
}

func (s *Store) GetSession(ctx context.Context, id string) (storage.Session, error) {
	return scanSession(s.r.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE id = ?`, id))
}

func (s *Store) TouchSession(ctx context.Context, id string, at time.Time, minInterval time.Duration) error {
	return s.execGrouped(ctx,
		`UPDATE sessions SET last_seen_at = ? WHERE id = ? AND ended_at = 0 AND last_seen_at <= ?`,
		toMicros(at), id, toMicros(at.Add(-minInterval)))
}

func (s *Store) EndSession(ctx context.Context, id string, at time.Time) (err error) {
	defer func() { s.onChange.Run(ctx, err) }()
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			`UPDATE sessions SET ended_at = CASE WHEN ended_at = 0 THEN ? ELSE ended_at END WHERE id = ?`, toMicros(at), id)
		if err != nil {
			return mapErr(err)
		}
		if err := requireRow(res); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE tokens SET revoked_at = ? WHERE session_id = ? AND revoked_at = 0`, toMicros(at), id)
		return mapErr(err)
	})
}

func (s *Store) EndUserSessions(ctx context.Context, user string, at time.Time) (_ int, err error) {
	defer func() { s.onChange.Run(ctx, err) }()
	var n int64
	err = s.tx(ctx, func(tx *sql.Tx) error {
		ts := toMicros(at)
		// Tokens first, while their sessions are still recognisably live.
		if _, err := tx.ExecContext(ctx, `UPDATE tokens SET revoked_at = ? WHERE revoked_at = 0 AND session_id IN (
			SELECT id FROM sessions WHERE user_name = ? AND ended_at = 0)`, ts, user); err != nil {
			return mapErr(err)
		}
		res, err := tx.ExecContext(ctx, `UPDATE sessions SET ended_at = ? WHERE user_name = ? AND ended_at = 0`, ts, user)
		if err != nil {
			return mapErr(err)
		}
		n, err = res.RowsAffected()
		return mapErr(err)
	})
	return int(n), err
}

func (s *Store) DeleteSessions(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	c := toMicros(cutoff)
	res, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE id IN (
		SELECT id FROM sessions WHERE last_seen_at < ? OR (ended_at > 0 AND ended_at < ?) LIMIT ?)`, c, c, limit)
	if err != nil {
		return 0, mapErr(err)
	}
	n, err := res.RowsAffected()
	return int(n), mapErr(err)
}

func requireRow(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return mapErr(err)
	}
	if n == 0 {
		return storage.ErrNotFound
	}
	return nil
}

// --- stats ---

func (s *Store) CountLive(ctx context.Context, now, seenSince time.Time) (tokens, sessions int, err error) {
	err = s.r.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM tokens WHERE revoked_at = 0 AND (expires_at = 0 OR expires_at > ?)),
		(SELECT count(*) FROM sessions WHERE ended_at = 0 AND last_seen_at >= ?)`,
		toMicros(now), toMicros(seenSince)).Scan(&tokens, &sessions)
	return tokens, sessions, mapErr(err)
}
