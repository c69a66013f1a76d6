package sqlite

import (
	"context"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/internal/sqlmap"
)

func (s *Store) ReadChanges(ctx context.Context, after int64, limit int) ([]storage.Change, int64, error) {
	if after < 0 {
		var pos int64
		err := s.r.QueryRowContext(ctx, stmt.LastChange).Scan(&pos)
		return nil, pos, mapErr(err)
	}
	// One writer commits in seq order, so nothing can appear later below a position already read.
	out, err := queryAll(ctx, s.r, `SELECT `+sqlmap.ChangeColumns+` FROM cache_changes WHERE seq > ? ORDER BY seq LIMIT ?`,
		[]any{after, limit}, dialect.ScanChange)
	if err != nil {
		return nil, after, err
	}
	pos := after
	if len(out) > 0 {
		pos = out[len(out)-1].Seq
	}
	return out, pos, nil
}

func (s *Store) DeleteChanges(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	return rowsAffected(s.w.ExecContext(ctx, `DELETE FROM cache_changes WHERE seq IN (
		SELECT seq FROM cache_changes WHERE at < ? ORDER BY seq LIMIT ?)`, toMicros(cutoff), limit))
}

func (s *Store) OnChange(fn func(ctx context.Context)) { s.onChange.Add(fn) }
