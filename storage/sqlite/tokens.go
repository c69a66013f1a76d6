package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

// where joins conditions into a WHERE clause ("" for none).
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

func (w *where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

func limitOf(n int) int {
	if n <= 0 {
		return 1000
	}
	return n
}

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
		w.add("created_at < ?", toMicros(f.CreatedBefore))
	}
	if !f.LiveAt.IsZero() {
		at := toMicros(f.LiveAt)
		w.add("revoked_at = 0 AND (expires_at = 0 OR expires_at > ?)", at)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+tokenColumns+` FROM tokens`+w.String()+` ORDER BY created_at DESC, id LIMIT ?`,
		append(w.args, limitOf(f.Limit))...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []storage.Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, mapErr(rows.Err())
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
		w.add("ended_at = 0 AND last_seen_at >= ?", toMicros(f.SeenSince))
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+sessionColumns+` FROM sessions`+w.String()+` ORDER BY created_at DESC, id LIMIT ?`,
		append(w.args, limitOf(f.Limit))...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []storage.Session
	for rows.Next() {
		ss, err := scanSession(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, ss)
	}
	return out, mapErr(rows.Err())
}

func (s *Store) RevokeUserTokens(ctx context.Context, user string, at time.Time) (_ int, err error) {
	defer func() { s.onChange.Run(ctx, err) }()
	var n int64
	err = s.tx(ctx, func(tx *sql.Tx) error {
		ts := toMicros(at)
		res, err := tx.ExecContext(ctx, `UPDATE tokens SET revoked_at = ? WHERE user_name = ? AND revoked_at = 0`, ts, user)
		if err != nil {
			return mapErr(err)
		}
		if n, err = res.RowsAffected(); err != nil {
			return mapErr(err)
		}
		_, err = tx.ExecContext(ctx, `UPDATE sessions SET ended_at = ? WHERE user_name = ? AND ended_at = 0`, ts, user)
		return mapErr(err)
	})
	return int(n), err
}
