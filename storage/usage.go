package storage

import (
	"context"
	"time"
)

// Usage history: the hourly figures of what the service did, for the management API's charts. Where the
// database keeps a durable record (the audit log's failed and throttled sign-ins) the history is read from it;
// where it keeps none (tokens are deleted when they expire, an activation's row when it is released) each node
// counts in memory and adds its counts here (AddUsageCounts), so that the nodes of a cluster add up.

// UsageCount is a count of one kind of event in one bucket of time.
type UsageCount struct {
	Hour  time.Time // the start of the bucket (an hour, or a day in a daily history), UTC
	Kind  string    // "token.session", "license.activation", …
	Scope string    // narrows the kind: a product's id for activations; "" for none
	Count int64
}

// UsageFilter selects a usage history.
type UsageFilter struct {
	Kinds  []string // only these kinds (required)
	Scopes []string // only these scopes; nil: every scope
	// Since and Until bound the hours counted: from Since (inclusive) to Until (exclusive); zero: unbounded.
	Since, Until time.Time
	// Bucket sums the hours into buckets of this length counted from the Unix epoch: 0 or an hour, or a day
	// (UTC days). Any other length is an error.
	Bucket time.Duration
	// Limit is the most rows returned, the newest buckets kept (0: 1000).
	Limit int
}

// SignInCount is one hour of the sign-ins refused, as the audit log holds them.
type SignInCount struct {
	Hour      time.Time // the hour's start, UTC
	Failed    int64     // wrong passwords and secrets: login.fail rows other than throttled
	Throttled int64     // refusals by the throttle: the sum of the refusals=N of the throttled rows
}

// UsageHistory stores and reads the usage history.
type UsageHistory interface {
	// AddUsageCounts adds each count to its (hour, kind, scope) row, creating it if needed, in one
	// transaction: counts added by several writers at once all add up. Hour is truncated to the hour.
	AddUsageCounts(ctx context.Context, counts []UsageCount) error
	// ListUsageCounts returns the sums f selects, by bucket, kind and scope, in that order.
	ListUsageCounts(ctx context.Context, f UsageFilter) ([]UsageCount, error)
	// PruneUsageCounts deletes at most limit rows of hours before cutoff; returns how many.
	PruneUsageCounts(ctx context.Context, cutoff time.Time, limit int) (int, error)
	// SignInHistory returns, per hour from since on, the failed and the throttled sign-ins the audit log
	// holds, in hour order; hours without any are left out. At most limit hours (0: 1000), the newest kept.
	SignInHistory(ctx context.Context, since time.Time, limit int) ([]SignInCount, error)
	// CountLiveGrants returns how many stored OAuth access tokens are neither revoked nor expired at now
	// (JWT access tokens are not stored), and how many PowerAuth tokens there are (they do not expire).
	CountLiveGrants(ctx context.Context, now time.Time) (oauth, powerauth int, err error)
}
