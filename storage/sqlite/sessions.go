package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

func (s *Store) CreateSession(ctx context.Context, ss storage.Session) error {
	return s.execGrouped(ctx, stmt.InsertSession,
		ss.ID, ss.User, ss.ClientHost, toMicros(ss.CreatedAt), toMicros(ss.LastSeenAt), toMicros(ss.EndedAt))
}

func (s *Store) GetSession(ctx context.Context, id string) (storage.Session, error) {
	return dialect.ScanSession(s.r.QueryRowContext(ctx, stmt.SelectSession, id))
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
	var n int
	err = s.tx(ctx, func(tx *sql.Tx) error {
		ts := toMicros(at)
		// Tokens first, while their sessions are still recognisably live.
		if _, err := tx.ExecContext(ctx, `UPDATE tokens SET revoked_at = ? WHERE revoked_at = 0 AND session_id IN (
			SELECT id FROM sessions WHERE user_name = ? AND ended_at = 0)`, ts, user); err != nil {
			return mapErr(err)
		}
		n, err = rowsAffected(tx.ExecContext(ctx, `UPDATE sessions SET ended_at = ? WHERE user_name = ? AND ended_at = 0`, ts, user))
		return err
	})
	return n, err
}

func (s *Store) ListSessions(ctx context.Context, f storage.SessionFilter) ([]storage.Session, error) {
	q, args, ok := dialect.ListSessions(f)
	if !ok {
		return nil, nil
	}
	return queryAll(ctx, s.r, q, args, dialect.ScanSession)
}

func (s *Store) DeleteSessions(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	c := toMicros(cutoff)
	return rowsAffected(s.w.ExecContext(ctx, `DELETE FROM sessions WHERE id IN (
		SELECT id FROM sessions WHERE last_seen_at < ? OR (ended_at > 0 AND ended_at < ?) LIMIT ?)`, c, c, limit))
}
