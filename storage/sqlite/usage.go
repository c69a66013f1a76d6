package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/internal/sqlmap"
)

func (s *Store) AddUsageCounts(ctx context.Context, counts []storage.UsageCount) error {
	rows, err := sqlmap.UsageRows(counts)
	if err != nil || len(rows) == 0 {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, c := range rows {
			if _, err := tx.ExecContext(ctx, sqlmap.AddUsageCount, c.Hour.Unix(), c.Kind, c.Scope, c.Count); err != nil {
				return mapErr(err)
			}
		}
		return nil
	})
}

func (s *Store) ListUsageCounts(ctx context.Context, f storage.UsageFilter) ([]storage.UsageCount, error) {
	q, args, ok, err := dialect.ListUsageCounts(f)
	if err != nil || !ok {
		return nil, err
	}
	counts, err := queryAll(ctx, s.r, q, args, dialect.ScanUsageCount)
	return sqlmap.InOrder(counts), err
}

func (s *Store) PruneUsageCounts(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	return rowsAffected(s.w.ExecContext(ctx, sqlmap.PruneUsageCounts, cutoff.Unix(), limit))
}

// SignInHistory sums the audit log's login.fail rows per hour: a throttled row stands for the refusals=N it
// names (one if it names none).
func (s *Store) SignInHistory(ctx context.Context, since time.Time, limit int) ([]storage.SignInCount, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT at / 3600000000 AS h,
		SUM(CASE WHEN outcome = 'throttled' THEN 0 ELSE 1 END),
		SUM(CASE WHEN outcome <> 'throttled' THEN 0
			WHEN detail GLOB 'refusals=[0-9]*' AND length(detail) <= 18 THEN CAST(substr(detail, 10) AS INTEGER) ELSE 1 END)
		FROM audit_events WHERE action = 'login.fail' AND at >= ? GROUP BY h ORDER BY h DESC LIMIT ?`,
		toMicros(since), sqlmap.LimitOf(limit))
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	out, err := sqlmap.Collect(dialect, rows, func(r sqlmap.Row) (storage.SignInCount, error) {
		var c storage.SignInCount
		var h int64
		err := r.Scan(&h, &c.Failed, &c.Throttled)
		c.Hour = time.Unix(h*3600, 0).UTC()
		return c, mapErr(err)
	})
	return sqlmap.SignInsInOrder(out), err
}

func (s *Store) CountLiveGrants(ctx context.Context, now time.Time) (oauth, powerauth int, err error) {
	err = s.r.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM access_tokens WHERE revoked_at = 0 AND expires_at > ?),
		(SELECT count(*) FROM powerauth_tokens)`, toMicros(now)).Scan(&oauth, &powerauth)
	return oauth, powerauth, mapErr(err)
}
