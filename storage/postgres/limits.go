package postgres

import (
	"bytes"
	"context"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tokenmanager/tokenmanager/storage"
)

// addLimitCount decays the stored level to the add's time ($4) and adds $2 to it, or sets it to $2 when $5
// (reset). idle_us stays an upper bound of when the level reaches zero: the later of the old bound and now, plus
// what was added.
const addLimitCount = `INSERT INTO limit_counters AS c (key, level, rate, updated_us, idle_us)
	VALUES ($1::bytea, $2::float8, $3::float8, $4::bigint, $4::bigint + ceil($2::float8 / $3::float8 * 1e6)::bigint)
	ON CONFLICT (key) DO UPDATE SET
		level = CASE WHEN $5::boolean THEN excluded.level
			ELSE GREATEST(0, c.level - GREATEST(0, excluded.updated_us - c.updated_us) * c.rate / 1e6) + excluded.level END,
		rate = excluded.rate,
		updated_us = GREATEST(c.updated_us, excluded.updated_us),
		idle_us = CASE WHEN $5::boolean THEN excluded.idle_us
			ELSE GREATEST(c.idle_us, excluded.updated_us) + (excluded.idle_us - excluded.updated_us) END`

// AddLimitCounts sends every add in one batch, which PostgreSQL runs as one transaction. The keys go in one
// order on every node, so two nodes flushing the same keys wait for each other instead of deadlocking.
func (s *Store) AddLimitCounts(ctx context.Context, now time.Time, adds []storage.LimitAdd) error {
	if len(adds) == 0 {
		return nil
	}
	adds = slices.Clone(adds)
	slices.SortFunc(adds, func(a, b storage.LimitAdd) int { return bytes.Compare(a.Key[:], b.Key[:]) })
	us := now.UnixMicro()
	var b pgx.Batch
	for _, a := range adds {
		b.Queue(addLimitCount, a.Key[:], max(a.N, 0), a.Rate, us, a.Reset)
	}
	return mapErr(s.pool.SendBatch(ctx, &b).Close())
}

// maxLimitRead bounds one read of changed counters; what is left over is read by the next one.
const maxLimitRead = 50_000

func (s *Store) LimitCountsSince(ctx context.Context, since time.Time) ([]storage.LimitCount, error) {
	rows, err := s.pool.Query(ctx, `SELECT key, level, rate, updated_us FROM limit_counters
		WHERE updated_us >= $1 ORDER BY updated_us LIMIT $2`, since.UnixMicro(), maxLimitRead)
	if err != nil {
		return nil, mapErr(err)
	}
	var out []storage.LimitCount
	for rows.Next() {
		var (
			c   storage.LimitCount
			key []byte
			us  int64
		)
		if err := rows.Scan(&key, &c.Level, &c.Rate, &us); err != nil {
			rows.Close()
			return nil, mapErr(err)
		}
		copy(c.Key[:], key)
		c.At = time.UnixMicro(us).UTC()
		out = append(out, c)
	}
	return out, mapErr(rows.Err())
}

func (s *Store) DeleteLimitCounts(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	return rowsAffected(s.pool.Exec(ctx, `DELETE FROM limit_counters WHERE key IN (
		SELECT key FROM limit_counters WHERE idle_us < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`, cutoff.UnixMicro(), limit))
}

// UseWSSENonce is one statement, atomic on every node like UsePowerAuthNonce: of concurrent inserts of one
// nonce one writes, the others find its unexpired row and write nothing.
func (s *Store) UseWSSENonce(ctx context.Context, nonce []byte, expires, now time.Time) error {
	tag, err := s.pool.Exec(ctx, `INSERT INTO wsse_nonces (nonce, expires_at) VALUES ($1, $2)
		ON CONFLICT (nonce) DO UPDATE SET expires_at = excluded.expires_at WHERE wsse_nonces.expires_at < $3`,
		nonce, ts(expires), ts(now))
	if err != nil {
		return mapErr(err)
	}
	if tag.RowsAffected() == 0 {
		return storage.ErrConflict
	}
	return nil
}

func (s *Store) DeleteWSSENonces(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	return rowsAffected(s.pool.Exec(ctx, `DELETE FROM wsse_nonces WHERE nonce IN (
		SELECT nonce FROM wsse_nonces WHERE expires_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`, ts(cutoff), limit))
}
