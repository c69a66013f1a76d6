package sqlite

import (
	"context"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

func (s *Store) ReadChanges(ctx context.Context, after int64, limit int) ([]storage.Change, int64, error) {
	if after < 0 {
		var pos int64
		err := s.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM cache_changes`).Scan(&pos)
		return nil, pos, mapErr(err)
	}
	// One writer commits in seq order, so nothing can appear later below a position already read.
	rows, err := s.r.QueryContext(ctx, `SELECT seq, kind, key, at FROM cache_changes WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, after, mapErr(err)
	}
	defer rows.Close()
	var out []storage.Change
	pos := after
	for rows.Next() {
		var c storage.Change
		var at int64
		if err := rows.Scan(&c.Seq, &c.Kind, &c.Key, &at); err != nil {
			return nil, after, mapErr(err)
		}
		c.At = fromMicros(at)
		out = append(out, c)
		pos = c.Seq
	}
	if err := rows.Err(); err != nil {
		return nil, after, mapErr(err)
	}
	return out, pos, nil
}

func (s *Store) DeleteChanges(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM cache_changes WHERE seq IN (SELECT seq FROM cache_changes WHERE at < ? ORDER BY seq LIMIT ?)`,
		toMicros(cutoff), limit)
	if err != nil {
		return 0, mapErr(err)
	}
	n, err := res.RowsAffected()
	return int(n), mapErr(err)
}

func (s *Store) OnChange(fn func(ctx context.Context)) { s.onChange.Add(fn) }
