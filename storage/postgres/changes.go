package postgres

import (
	"context"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/internal/sqlmap"
)

// changeLookback is how far back in time ReadChanges looks below the position it was given. Sequence numbers
// are drawn before commit, so a transaction that commits late makes a row appear below numbers already read;
// any such row committed within this window is still delivered (again, harmlessly, for the rows read before).
const changeLookback = 10 * time.Second

func (s *Store) ReadChanges(ctx context.Context, after int64, limit int) ([]storage.Change, int64, error) {
	if after < 0 {
		var pos int64
		err := s.pool.QueryRow(ctx, stmt.LastChange).Scan(&pos)
		return nil, pos, mapErr(err)
	}
	out, err := queryAll(ctx, s.pool, `SELECT `+sqlmap.ChangeColumns+` FROM cache_changes
		WHERE seq > $1 OR at > clock_timestamp() - $3 * interval '1 second' ORDER BY seq LIMIT $2`,
		[]any{after, limit, changeLookback.Seconds()}, dialect.ScanChange)
	if err != nil {
		return nil, after, err
	}
	pos := after
	for _, c := range out {
		pos = max(pos, c.Seq)
	}
	return out, pos, nil
}

func (s *Store) DeleteChanges(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	return rowsAffected(s.pool.Exec(ctx, `DELETE FROM cache_changes WHERE seq IN (
		SELECT seq FROM cache_changes WHERE at < $1 ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED)`, cutoff, limit))
}

func (s *Store) OnChange(fn func(ctx context.Context)) { s.onChange.Add(fn) }
