package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tokenmanager/tokenmanager/storage"
)

func (s *Store) ListTokens(ctx context.Context, f storage.TokenFilter) ([]storage.Token, error) {
	var w where
	if f.User != "" {
		w.add("user_name = ?", f.User)
	}
	if f.Kind != "" {
		w.add("kind = ?", string(f.Kind))
	}
	if f.ClientHost != "" {
		w.add("client_host = ?", f.ClientHost)
	}
	if !f.CreatedBefore.IsZero() {
		w.add("created_at < ?", ts(f.CreatedBefore))
	}
	if !f.LiveAt.IsZero() {
		w.add("revoked_at = '-infinity' AND (expires_at = '-infinity' OR expires_at > ?)", ts(f.LiveAt))
	}
	if w.none {
		return nil, nil
	}
	q := `SELECT ` + tokenColumns + ` FROM tokens` + w.String() + ` ORDER BY created_at DESC, id LIMIT `
	return queryAll(ctx, s.pool, q+w.next(limitOf(f.Limit)), w.args, scanToken)
}

func (s *Store) ListSessions(ctx context.Context, f storage.SessionFilter) ([]storage.Session, error) {
	var w where
	if f.User != "" {
		w.add("user_name = ?", f.User)
	}
	if f.ClientHost != "" {
		w.add("client_host = ?", f.ClientHost)
	}
	if !f.SeenSince.IsZero() {
		w.add("ended_at = '-infinity' AND last_seen_at >= ?", ts(f.SeenSince))
	}
	if w.none {
		return nil, nil
	}
	q := `SELECT ` + sessionColumns + ` FROM sessions` + w.String() + ` ORDER BY created_at DESC, id LIMIT `
	return queryAll(ctx, s.pool, q+w.next(limitOf(f.Limit)), w.args, scanSession)
}

func (s *Store) RevokeUserTokens(ctx context.Context, user string, when time.Time) (_ int, err error) {
	defer func() { s.onChange.Run(ctx, err) }()
	var n int
	err = s.tx(ctx, func(tx pgx.Tx) error {
		// Sessions first: the package's lock order.
		if _, err := tx.Exec(ctx, `UPDATE sessions SET ended_at = $1 WHERE user_name = $2 AND ended_at = '-infinity'`, ts(when), user); err != nil {
			return mapErr(err)
		}
		tag, err := tx.Exec(ctx, `UPDATE tokens SET revoked_at = $1 WHERE user_name = $2 AND revoked_at = '-infinity'`, ts(when), user)
		n = int(tag.RowsAffected())
		return mapErr(err)
	})
	return n, err
}
