package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tokenmanager/tokenmanager/storage"
)

// --- users ---

const userColumns = `name, password_hash, digest_secret, disabled, admin, created_at, updated_at`

func scanUser(row scanner) (storage.User, error) {
	var u storage.User
	err := row.Scan(&u.Name, &u.PasswordHash, &u.DigestSecret, &u.Disabled, &u.Admin, at(&u.CreatedAt), at(&u.UpdatedAt))
	if err != nil {
		return storage.User{}, mapErr(err)
	}
	return u, nil
}

func (s *Store) CreateUser(ctx context.Context, u storage.User) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO users (`+userColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		u.Name, u.PasswordHash, u.DigestSecret, u.Disabled, u.Admin, ts(u.CreatedAt), ts(u.UpdatedAt))
	return mapErr(err)
}

func (s *Store) GetUser(ctx context.Context, name string) (storage.User, error) {
	if !storable(name) {
		return storage.User{}, storage.ErrNotFound
	}
	return scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE name = $1`, name))
}

func (s *Store) UpdateUser(ctx context.Context, name string, update func(*storage.User) error) (err error) {
	defer func() { s.onChange.Run(ctx, err) }()
	if !storable(name) {
		return storage.ErrNotFound
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		u, err := scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE name = $1 FOR UPDATE`, name))
		if err != nil {
			return err
		}
		wasDisabled := u.Disabled
		if err := update(&u); err != nil {
			return err
		}
		_, err = tx.Exec(ctx,
			`UPDATE users SET password_hash = $1, digest_secret = $2, disabled = $3, admin = $4, updated_at = $5 WHERE name = $6`,
			u.PasswordHash, u.DigestSecret, u.Disabled, u.Admin, ts(u.UpdatedAt), name)
		if err != nil || !(wasDisabled || u.Disabled) {
			return mapErr(err)
		}
		// A disabled account ends its tokens (PowerAuth's too) and sessions for good: when disabled, and again when
		// enabled (a token minted while the disable committed), so that enabling it never brings an old one back.
		// Sessions first: the package's lock order.
		now := ts(time.Now())
		if _, err := tx.Exec(ctx, `UPDATE sessions SET ended_at = $1 WHERE user_name = $2 AND ended_at = '-infinity'`, now, name); err != nil {
			return mapErr(err)
		}
		if _, err := tx.Exec(ctx, `UPDATE tokens SET revoked_at = $1 WHERE user_name = $2 AND revoked_at = '-infinity'`, now, name); err != nil {
			return mapErr(err)
		}
		_, err = tx.Exec(ctx, `DELETE FROM powerauth_tokens WHERE activation_id IN (
			SELECT id FROM powerauth_activations WHERE user_name = $1)`, name)
		return mapErr(err)
	})
}

func (s *Store) ListUsers(ctx context.Context) ([]storage.User, error) {
	return queryAll(ctx, s.pool, `SELECT `+userColumns+` FROM users ORDER BY name`, nil, scanUser)
}

func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&n)
	return n, mapErr(err)
}

// --- tokens ---

const tokenColumns = `id, user_name, kind, coalesce(session_id, ''), client_host, created_at, expires_at, last_used_at, revoked_at`

func (s *Store) CreateToken(ctx context.Context, t storage.Token) error {
	args := []any{t.ID, t.User, string(t.Kind), nullable(t.SessionID), t.ClientHost,
		ts(t.CreatedAt), ts(t.ExpiresAt), ts(t.LastUsedAt), ts(t.RevokedAt)}
	if t.KeyID == "" {
		_, err := s.pool.Exec(ctx, `INSERT INTO tokens (`+insertTokenColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, args...)
		return mapErr(err)
	}
	// FOR SHARE takes a ROW SHARE lock on token_keys, which waits for a rotation in progress (it locks the table
	// EXCLUSIVE) and makes the next one wait for this insert, so that the check holds at the commit. It locks no
	// row when the key is the primary (the subquery then finds none).
	tag, err := s.pool.Exec(ctx, `INSERT INTO tokens (`+insertTokenColumns+`)
		SELECT $1, $2, $3, $4, $5, $6::timestamptz, $7::timestamptz, $8::timestamptz, $9::timestamptz
		WHERE NOT EXISTS (SELECT 1 FROM token_keys WHERE state = 'primary' AND id <> $10 FOR SHARE)
		  AND ($10 = $11 OR EXISTS (SELECT 1 FROM token_keys WHERE id = $10 AND state = 'primary'))`,
		append(args, t.KeyID, storage.OriginalTokenKey)...)
	if err == nil && tag.RowsAffected() == 0 {
		return fmt.Errorf("%w: %s", storage.ErrStaleTokenKey, t.KeyID)
	}
	return mapErr(err)
}

const insertTokenColumns = `id, user_name, kind, session_id, client_host, created_at, expires_at, last_used_at, revoked_at`

func scanToken(row scanner) (storage.Token, error) {
	var t storage.Token
	var kind string
	if err := row.Scan(&t.ID, &t.User, &kind, &t.SessionID, &t.ClientHost,
		at(&t.CreatedAt), at(&t.ExpiresAt), at(&t.LastUsedAt), at(&t.RevokedAt)); err != nil {
		return storage.Token{}, mapErr(err)
	}
	t.Kind = storage.TokenKind(kind)
	return t, nil
}

func (s *Store) GetToken(ctx context.Context, id string) (storage.Token, error) {
	if !storable(id) {
		return storage.Token{}, storage.ErrNotFound
	}
	return scanToken(s.pool.QueryRow(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE id = $1`, id))
}

func (s *Store) TouchToken(ctx context.Context, id string, when time.Time, minInterval time.Duration) error {
	if !storable(id) {
		return nil
	}
	_, err := s.pool.Exec(ctx, `UPDATE tokens SET last_used_at = $1 WHERE id = $2 AND last_used_at <= $3`,
		ts(when), id, ts(when.Add(-minInterval)))
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
	tag, err := s.pool.Exec(ctx, `UPDATE tokens SET revoked_at = $1 WHERE session_id = $2 AND revoked_at = '-infinity'`,
		ts(when), sessionID)
	if err != nil {
		return 0, mapErr(err)
	}
	return int(tag.RowsAffected()), nil
}

// DeleteTokens picks its batch with SKIP LOCKED: nodes collecting garbage at once take different rows instead of
// queueing behind one another.
func (s *Store) DeleteTokens(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM tokens WHERE id IN (
		SELECT id FROM tokens
		WHERE (expires_at > '-infinity' AND expires_at < $1) OR (revoked_at > '-infinity' AND revoked_at < $1)
		LIMIT $2 FOR UPDATE SKIP LOCKED)`, ts(cutoff), limit)
	if err != nil {
		return 0, mapErr(err)
	}
	return int(tag.RowsAffected()), nil
}

// --- sessions ---

func (s *Store) CreateSession(ctx context.Context, ss storage.Session) error {
	_, err := s.pool.Exec(ctx,
		`INSERT INTO sessions (id, user_name, client_host, created_at, last_seen_at, ended_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		ss.ID, ss.User, ss.ClientHost, ts(ss.CreatedAt), ts(ss.LastSeenAt), ts(ss.EndedAt))
	return mapErr(err)
}

const sessionColumns = `id, user_name, client_host, created_at, last_seen_at, ended_at`

func scanSession(row scanner) (storage.Session, error) {
	var ss storage.Session
	if err := row.Scan(&ss.ID, &ss.User, &ss.ClientHost, at(&ss.CreatedAt), at(&ss.LastSeenAt), at(&ss.EndedAt)); err != nil {
		return storage.Session{}, mapErr(err)
	}
	return ss, nil
}

func (s *Store) GetSession(ctx context.Context, id string) (storage.Session, error) {
	if !storable(id) {
		return storage.Session{}, storage.ErrNotFound
	}
	return scanSession(s.pool.QueryRow(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE id = $1`, id))
}

// TouchSession is one statement: of nodes touching a session at once, the row lock lets one write and the
// others, re-checking the condition against the row it wrote, find it fresh and write nothing. An ended session
// is never touched, whichever commits first.
func (s *Store) TouchSession(ctx context.Context, id string, when time.Time, minInterval time.Duration) error {
	if !storable(id) {
		return nil
	}
	_, err := s.pool.Exec(ctx,
		`UPDATE sessions SET last_seen_at = $1 WHERE id = $2 AND ended_at = '-infinity' AND last_seen_at <= $3`,
		ts(when), id, ts(when.Add(-minInterval)))
	return mapErr(err)
}

func (s *Store) EndSession(ctx context.Context, id string, when time.Time) (err error) {
	defer func() { s.onChange.Run(ctx, err) }()
	if !storable(id) {
		return storage.ErrNotFound
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx,
			`UPDATE sessions SET ended_at = CASE WHEN ended_at = '-infinity' THEN $1 ELSE ended_at END WHERE id = $2`, ts(when), id)
		if err != nil {
			return mapErr(err)
		}
		if err := requireRow(tag); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE tokens SET revoked_at = $1 WHERE session_id = $2 AND revoked_at = '-infinity'`, ts(when), id)
		return mapErr(err)
	})
}

func (s *Store) EndUserSessions(ctx context.Context, user string, when time.Time) (_ int, err error) {
	defer func() { s.onChange.Run(ctx, err) }()
	var n int
	err = s.tx(ctx, func(tx pgx.Tx) error {
		// Sessions first (the package's lock order), remembering which were live: their tokens die with them.
		ended, err := queryAll(ctx, tx, `UPDATE sessions SET ended_at = $1 WHERE user_name = $2 AND ended_at = '-infinity' RETURNING id`,
			[]any{ts(when), user}, func(row scanner) (string, error) {
				var id string
				return id, row.Scan(&id)
			})
		if err != nil {
			return err
		}
		n = len(ended)
		if n == 0 {
			return nil
		}
		_, err = tx.Exec(ctx, `UPDATE tokens SET revoked_at = $1 WHERE revoked_at = '-infinity' AND session_id = ANY($2)`, ts(when), ended)
		return mapErr(err)
	})
	return n, err
}

func (s *Store) DeleteSessions(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE id IN (
		SELECT id FROM sessions WHERE last_seen_at < $1 OR (ended_at > '-infinity' AND ended_at < $1)
		LIMIT $2 FOR UPDATE SKIP LOCKED)`, ts(cutoff), limit)
	if err != nil {
		return 0, mapErr(err)
	}
	return int(tag.RowsAffected()), nil
}

// --- stats ---

func (s *Store) CountLive(ctx context.Context, now, seenSince time.Time) (tokens, sessions int, err error) {
	err = s.pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM tokens WHERE revoked_at = '-infinity' AND (expires_at = '-infinity' OR expires_at > $1)),
		(SELECT count(*) FROM sessions WHERE ended_at = '-infinity' AND last_seen_at >= $2)`,
		ts(now), ts(seenSince)).Scan(&tokens, &sessions)
	return tokens, sessions, mapErr(err)
}
