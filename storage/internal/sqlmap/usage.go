package sqlmap

import (
	"cmp"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

// --- usage history ---

// AddUsageCount adds to a row of usage_counts (the arguments: hour, kind, scope, count), creating it if needed.
const AddUsageCount = `INSERT INTO usage_counts (hour, kind, scope, count) VALUES (?, ?, ?, ?)
	ON CONFLICT (kind, scope, hour) DO UPDATE SET count = usage_counts.count + excluded.count`

// PruneUsageCounts deletes a batch of rows of hours before a cutoff (the arguments: the cutoff in Unix seconds,
// the batch's size).
const PruneUsageCounts = `DELETE FROM usage_counts WHERE (kind, scope, hour) IN (
	SELECT kind, scope, hour FROM usage_counts WHERE hour < ? LIMIT ?)`

// MaxUsageBatch bounds the counts AddUsageCounts takes at once: a node flushes a minute's counts, a handful.
const MaxUsageBatch = 100_000

// UsageRows returns counts as AddUsageCounts writes them: truncated to the hour, those of one row summed, nothing
// of count 0, in key order so that writers racing on the same rows lock them in the same order (no deadlock).
func UsageRows(counts []storage.UsageCount) ([]storage.UsageCount, error) {
	if len(counts) > MaxUsageBatch {
		return nil, errors.New("usage: more than " + strconv.Itoa(MaxUsageBatch) + " counts at once")
	}
	type key struct {
		hour        int64
		kind, scope string
	}
	sums := map[key]int64{}
	for _, c := range counts {
		if c.Count < 0 {
			return nil, errors.New("usage: a negative count")
		}
		if c.Count > 0 {
			sums[key{c.Hour.Unix() - mod(c.Hour.Unix(), 3600), c.Kind, c.Scope}] += c.Count
		}
	}
	out := make([]storage.UsageCount, 0, len(sums))
	for k, n := range sums {
		out = append(out, storage.UsageCount{Hour: time.Unix(k.hour, 0).UTC(), Kind: k.kind, Scope: k.scope, Count: n})
	}
	slices.SortFunc(out, compareUsage)
	return out, nil
}

func compareUsage(a, b storage.UsageCount) int {
	return cmp.Or(strings.Compare(a.Kind, b.Kind), strings.Compare(a.Scope, b.Scope), a.Hour.Compare(b.Hour))
}

// mod is the non-negative remainder, so that hours before 1970 truncate downwards too.
func mod(a, b int64) int64 { return ((a % b) + b) % b }

// ListUsageCounts is the query of a usage history and its arguments; ok is false when none can match.
func (d *Dialect) ListUsageCounts(f storage.UsageFilter) (query string, args []any, ok bool, err error) {
	bucket := int64(f.Bucket / time.Second)
	switch f.Bucket {
	case 0:
		bucket = 3600
	case time.Hour, 24 * time.Hour:
	default:
		return "", nil, false, errors.New("usage: a bucket is an hour or a day")
	}
	if len(f.Kinds) == 0 || f.Scopes != nil && len(f.Scopes) == 0 {
		return "", nil, false, nil
	}
	w := d.Where()
	w.Add("kind IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(f.Kinds)), ", ")+")", anys(f.Kinds)...)
	if f.Scopes != nil {
		w.Add("scope IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(f.Scopes)), ", ")+")", anys(f.Scopes)...)
	}
	if !f.Since.IsZero() {
		w.Add("hour >= ?", f.Since.Unix())
	}
	if !f.Until.IsZero() {
		w.Add("hour < ?", f.Until.Unix())
	}
	b := strconv.FormatInt(bucket, 10) // a constant of ours: the SQL does not depend on the caller's text
	q := `SELECT (hour / ` + b + `) * ` + b + ` AS bucket, kind, scope, CAST(SUM(count) AS BIGINT) FROM usage_counts` + w.String() +
		` GROUP BY bucket, kind, scope ORDER BY bucket DESC, kind, scope LIMIT ` + w.Next(LimitOf(f.Limit))
	return q, w.Args, !w.None, nil
}

func anys(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// ScanUsageCount reads a row of ListUsageCounts.
func (d *Dialect) ScanUsageCount(row Row) (storage.UsageCount, error) {
	var c storage.UsageCount
	var hour int64
	err := row.Scan(&hour, &c.Kind, &c.Scope, &c.Count)
	c.Hour = time.Unix(hour, 0).UTC()
	return c, d.MapErr(err)
}

// InOrder puts a history read newest first (to keep the newest under the limit) back in time order.
func InOrder(counts []storage.UsageCount) []storage.UsageCount {
	slices.SortFunc(counts, func(a, b storage.UsageCount) int {
		return cmp.Or(a.Hour.Compare(b.Hour), strings.Compare(a.Kind, b.Kind), strings.Compare(a.Scope, b.Scope))
	})
	return counts
}

// SignInsInOrder puts a sign-in history read newest first back in time order.
func SignInsInOrder(s []storage.SignInCount) []storage.SignInCount {
	slices.Reverse(s)
	return s
}
