package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/internal/sqlmap"
)

var pruneUsageCounts = dialect.SQL(sqlmap.PruneUsageCounts)

// AddUsageCounts writes every row in one statement. The rows are distinct (UsageRows sums those of one key) and
// in key order, so that nodes flushing at once lock the rows they share in the same order and never deadlock.
func (s *Store) AddUsageCounts(ctx context.Context, counts []storage.UsageCount) error {
	rows, err := sqlmap.UsageRows(counts)
	if err != nil || len(rows) == 0 {
		return err
	}
	hours, counted := make([]int64, len(rows)), make([]int64, len(rows))
	kinds, scopes := make([]string, len(rows)), make([]string, len(rows))
	for i, c := range rows {
		hours[i], kinds[i], scopes[i], counted[i] = c.Hour.Unix(), text(c.Kind), text(c.Scope), c.Count
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO usage_counts (hour, kind, scope, count)
			SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[]) ORDER BY 2, 3, 1
			ON CONFLICT (kind, scope, hour) DO UPDATE SET count = usage_counts.count + excluded.count`,
			hours, kinds, scopes, counted)
		return err
	})
}

func (s *Store) ListUsageCounts(ctx context.Context, f storage.UsageFilter) ([]storage.UsageCount, error) {
	q, args, ok, err := dialect.ListUsageCounts(f)
	if err != nil || !ok {
		return nil, err
	}
	counts, err := queryAll(ctx, s.pool, q, args, dialect.ScanUsageCount)
	return sqlmap.InOrder(counts), err
}

func (s *Store) PruneUsageCounts(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	return rowsAffected(s.pool.Exec(ctx, pruneUsageCounts, cutoff.Unix(), limit))
}

// SignInHistory sums the audit log's login.fail rows per hour: a throttled row stands for the refusals=N it
// names (one if it names none).
func (s *Store) SignInHistory(ctx context.Context, since time.Time, limit int) ([]storage.SignInCount, error) {
	rows, err := s.pool.Query(ctx, `SELECT floor(extract(epoch FROM at) / 3600)::bigint AS h,
		count(*) FILTER (WHERE outcome <> 'throttled'),
		COALESCE(SUM(CASE WHEN detail ~ '^refusals=[0-9]{1,9}$' THEN substr(detail, 10)::bigint ELSE 1 END)
			FILTER (WHERE outcome = 'throttled'), 0)::bigint
		FROM audit_events WHERE action = 'login.fail' AND at >= $1 GROUP BY h ORDER BY h DESC LIMIT $2`,
		ts(since), sqlmap.LimitOf(limit))
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
	err = s.pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM access_tokens WHERE revoked_at = '-infinity' AND expires_at > $1),
		(SELECT count(*) FROM powerauth_tokens)`, ts(now)).Scan(&oauth, &powerauth)
	return oauth, powerauth, mapErr(err)
}
