package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/internal/sqlmap"
)

func (s *Store) CreateSession(ctx context.Context, ss storage.Session) error {
	_, err := s.pool.Exec(ctx, stmt.InsertSession,
		ss.ID, ss.User, ss.ClientHost, ts(ss.CreatedAt), ts(ss.LastSeenAt), ts(ss.EndedAt))
	return mapErr(err)
}

func (s *Store) GetSession(ctx context.Context, id string) (storage.Session, error) {
	if !storable(id) {
		return storage.Session{}, storage.ErrNotFound
	}
	return dialect.ScanSession(s.pool.QueryRow(ctx, stmt.SelectSession, id))
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
			[]any{ts(when), user}, scanString)
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

// scanString reads a row of one text column.
func scanString(row sqlmap.Row) (string, error) {
	var s string
	return s, mapErr(row.Scan(&s))
}

func (s *Store) ListSessions(ctx context.Context, f storage.SessionFilter) ([]storage.Session, error) {
	q, args, ok := dialect.ListSessions(f)
	if !ok {
		return nil, nil
	}
	return queryAll(ctx, s.pool, q, args, dialect.ScanSession)
}

func (s *Store) DeleteSessions(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	return rowsAffected(s.pool.Exec(ctx, `DELETE FROM sessions WHERE id IN (
		SELECT id FROM sessions WHERE last_seen_at < $1 OR (ended_at > '-infinity' AND ended_at < $1)
		LIMIT $2 FOR UPDATE SKIP LOCKED)`, ts(cutoff), limit))
}
