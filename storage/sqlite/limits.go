package sqlite

import (
	"context"
	"database/sql"
	"math"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

// The SQLite backend has the shared-limit tables so that both backends keep one schema and pass one suite; a
// single node keeps its limits in memory and does not call these.

// addLimitCount is PostgreSQL's statement (storage/postgres/limits.go) in SQLite's words.
const addLimitCount = `INSERT INTO limit_counters AS c (key, level, rate, updated_us, idle_us) VALUES (?1, ?2, ?3, ?4, ?6)
	ON CONFLICT (key) DO UPDATE SET
		level = CASE WHEN ?5 THEN excluded.level
			ELSE MAX(0, c.level - MAX(0, excluded.updated_us - c.updated_us) * c.rate / 1e6) + excluded.level END,
		rate = excluded.rate,
		updated_us = MAX(c.updated_us, excluded.updated_us),
		idle_us = CASE WHEN ?5 THEN excluded.idle_us
			ELSE MAX(c.idle_us, excluded.updated_us) + (excluded.idle_us - excluded.updated_us) END`

func (s *Store) AddLimitCounts(ctx context.Context, now time.Time, adds []storage.LimitAdd) error {
	if len(adds) == 0 {
		return nil
	}
	us := now.UnixMicro()
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, a := range adds {
			n := max(a.N, 0)
			idle := us + int64(math.Ceil(n/a.Rate*1e6))
			if _, err := tx.ExecContext(ctx, addLimitCount, a.Key[:], n, a.Rate, us, a.Reset, idle); err != nil {
				return mapErr(err)
			}
		}
		return nil
	})
}

func (s *Store) LimitCountsSince(ctx context.Context, since time.Time) ([]storage.LimitCount, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT key, level, rate, updated_us FROM limit_counters
		WHERE updated_us >= ? ORDER BY updated_us LIMIT 50000`, since.UnixMicro())
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []storage.LimitCount
	for rows.Next() {
		var (
			c   storage.LimitCount
			key []byte
			us  int64
		)
		if err := rows.Scan(&key, &c.Level, &c.Rate, &us); err != nil {
			return nil, mapErr(err)
		}
		copy(c.Key[:], key)
		c.At = time.UnixMicro(us).UTC()
		out = append(out, c)
	}
	return out, mapErr(rows.Err())
}

func (s *Store) DeleteLimitCounts(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	return rowsAffected(s.w.ExecContext(ctx, `DELETE FROM limit_counters WHERE key IN (
		SELECT key FROM limit_counters WHERE idle_us < ? LIMIT ?)`, cutoff.UnixMicro(), limit))
}

func (s *Store) UseWSSENonce(ctx context.Context, nonce []byte, expires, now time.Time) error {
	n, err := rowsAffected(s.w.ExecContext(ctx, `INSERT INTO wsse_nonces (nonce, expires_at) VALUES (?, ?)
		ON CONFLICT (nonce) DO UPDATE SET expires_at = excluded.expires_at WHERE wsse_nonces.expires_at < ?`,
		nonce, toMicros(expires), toMicros(now)))
	if err != nil {
		return err
	}
	if n == 0 {
		return storage.ErrConflict
	}
	return nil
}

func (s *Store) DeleteWSSENonces(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	return rowsAffected(s.w.ExecContext(ctx, `DELETE FROM wsse_nonces WHERE nonce IN (
		SELECT nonce FROM wsse_nonces WHERE expires_at < ? LIMIT ?)`, toMicros(cutoff), limit))
}
