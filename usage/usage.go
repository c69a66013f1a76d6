// Package usage counts, in memory, what the database keeps no durable record of (a token is deleted when it
// expires, an activation's row when its seat is released), and adds the counts to the usage history
// (storage.UsageHistory) every minute and at shutdown, for the management API's charts. Counting a token costs
// the issuing request one atomic increment and no query; the nodes of a cluster each add their own counts to the
// same rows, so the history is the cluster's.
package usage

import (
	"cmp"
	"context"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

// The kinds of count in the history: "token." and a token kind, and activations with the product's id as scope.
const (
	TokenKindPrefix = "token."
	KindActivation  = "license.activation"
)

// TokenKinds are the kinds of token counted: Spectrum's three, the API clients' OAuth access tokens, PowerAuth
// tokens, and the access tokens app authorization hands out. A kind outside the list is counted as "other".
var TokenKinds = []string{"session", "expiring", "open", "oauth", "powerauth", "app", "other"}

// slot is kind's place in a bucket's token counters: a switch, not a map lookup, on the issuing path.
func slot(kind string) int {
	switch kind {
	case "session":
		return 0
	case "expiring":
		return 1
	case "open":
		return 2
	case "oauth":
		return 3
	case "powerauth":
		return 4
	case "app":
		return 5
	}
	return 6
}

// Defaults of Options.
const (
	DefaultInterval  = time.Minute
	DefaultRetention = 400 * 24 * time.Hour // the longest chart (366 days) and some
	pruneEvery       = time.Hour
	pruneBatch       = 1000
	// maxProducts bounds the products counted apart in one hour; activations of further products that hour
	// are counted under the scope "other" (a node sees a handful of products an hour, not thousands).
	maxProducts = 10_000
	// maxPending bounds the counts kept while the database refuses them; beyond it they are dropped, and said so.
	maxPending = 100_000
)

// Store is where the counts go.
type Store interface {
	AddUsageCounts(ctx context.Context, counts []storage.UsageCount) error
	PruneUsageCounts(ctx context.Context, cutoff time.Time, limit int) (int, error)
}

// Options configure a Counter.
type Options struct {
	Now      func() time.Time // nil: time.Now
	Log      *slog.Logger     // nil: discard
	Interval time.Duration    // how often Run flushes (0: DefaultInterval)
	// Retention is how long the history is kept: Run deletes older hours every hour (0: DefaultRetention;
	// negative: forever).
	Retention time.Duration
}

// bucket holds one hour's counts.
type bucket struct {
	hour   int64 // the hour's start, Unix seconds
	tokens [7]atomic.Int64

	mu       sync.Mutex
	products map[int64]int64
}

type key struct {
	hour        int64
	kind, scope string
}

// Counter counts usage in memory, by hour, and flushes it to the store.
type Counter struct {
	store Store
	opts  Options
	cur   atomic.Pointer[bucket]

	mu        sync.Mutex // one flush at a time
	retired   []*bucket  // hours that ended: drained once more, for an increment that raced the change of hour
	pending   map[key]int64
	lastPrune time.Time
}

// New returns a counter writing to store.
func New(store Store, o Options) *Counter {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.Retention == 0 {
		o.Retention = DefaultRetention
	}
	c := &Counter{store: store, opts: o, pending: map[key]int64{}}
	c.cur.Store(newBucket(hourOf(o.Now())))
	return c
}

func newBucket(hour int64) *bucket { return &bucket{hour: hour, products: map[int64]int64{}} }

func hourOf(t time.Time) int64 {
	s := t.Unix()
	return s - ((s%3600)+3600)%3600
}

// Issued counts a token of kind handed out: one atomic increment, no lock and no query. A nil Counter counts
// nothing.
func (c *Counter) Issued(kind string) {
	if c == nil {
		return
	}
	c.cur.Load().tokens[slot(kind)].Add(1)
}

// Activated counts a machine newly activated on a license key of the product. A nil Counter counts nothing.
func (c *Counter) Activated(productID int64) {
	if c == nil {
		return
	}
	b := c.cur.Load()
	b.mu.Lock()
	if _, ok := b.products[productID]; !ok && len(b.products) >= maxProducts {
		productID = -1 // "other"
	}
	b.products[productID]++
	b.mu.Unlock()
}

// Flush moves the counts to the store: those of the current hour so far, and of hours that ended. On failure
// they are kept for the next flush.
func (c *Counter) Flush(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	drain := c.retired
	c.retired = nil
	if b, h := c.cur.Load(), hourOf(c.opts.Now()); b.hour != h {
		c.cur.Store(newBucket(h))
		c.retired = append(c.retired, b) // drained now, and once more at the next flush
	}
	drain = append(drain, c.retired...)
	drain = append(drain, c.cur.Load())
	for _, b := range drain {
		c.take(b)
	}
	if len(c.pending) == 0 {
		return nil
	}
	counts := make([]storage.UsageCount, 0, len(c.pending))
	for k, n := range c.pending {
		counts = append(counts, storage.UsageCount{Hour: time.Unix(k.hour, 0).UTC(), Kind: k.kind, Scope: k.scope, Count: n})
	}
	if err := c.store.AddUsageCounts(ctx, counts); err != nil {
		if len(c.pending) > maxPending {
			c.opts.Log.Warn("usage counts dropped: the database refused them too long", "counts", len(c.pending))
			c.pending = map[key]int64{}
		}
		return err
	}
	clear(c.pending)
	return nil
}

// take moves b's counts to pending.
func (c *Counter) take(b *bucket) {
	for i := range b.tokens {
		if n := b.tokens[i].Swap(0); n > 0 {
			c.pending[key{b.hour, TokenKindPrefix + TokenKinds[i], ""}] += n
		}
	}
	b.mu.Lock()
	products := b.products
	if len(products) > 0 {
		b.products = map[int64]int64{}
	}
	b.mu.Unlock()
	for id, n := range products {
		scope := strconv.FormatInt(id, 10)
		if id == -1 {
			scope = "other"
		}
		c.pending[key{b.hour, KindActivation, scope}] += n
	}
}

// Prune deletes the hours older than the retention, in batches; returns how many rows.
func (c *Counter) Prune(ctx context.Context) (int, error) {
	if c.opts.Retention < 0 {
		return 0, nil
	}
	cutoff := c.opts.Now().Add(-c.opts.Retention)
	total := 0
	for ctx.Err() == nil {
		n, err := c.store.PruneUsageCounts(ctx, cutoff, pruneBatch)
		if total += n; err != nil || n < pruneBatch {
			return total, err
		}
	}
	return total, ctx.Err()
}

// Run flushes every Interval and as each hour ends, and prunes every hour, until ctx ends; then it flushes a
// last time (within five seconds), so that a node shutting down loses nothing it counted.
func (c *Counter) Run(ctx context.Context) {
	for {
		now := c.opts.Now()
		wait := min(c.opts.Interval, time.Unix(hourOf(now)+3600, 0).Sub(now))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			if err := c.Flush(fctx); err != nil {
				c.opts.Log.Warn("usage counts not written at shutdown", "err", err)
			}
			cancel()
			return
		case <-t.C:
		}
		if err := c.Flush(ctx); err != nil && ctx.Err() == nil {
			c.opts.Log.Warn("usage counts not written; kept for the next try", "err", err)
		}
		if now := c.opts.Now(); now.Sub(c.lastPrune) >= pruneEvery {
			c.lastPrune = now
			n, err := c.Prune(ctx)
			if err != nil && ctx.Err() == nil {
				c.opts.Log.Warn("usage history pruning", "err", err)
			} else if n > 0 {
				c.opts.Log.Info("garbage collected", "usage_counts", n)
			}
		}
	}
}

// Reader reads a usage history: the store the counter flushes to.
type Reader interface {
	ListUsageCounts(ctx context.Context, f storage.UsageFilter) ([]storage.UsageCount, error)
}

// Current returns r as the overview reads it: with this node's counts not yet flushed added, so that a chart
// shows a token or an activation at once rather than up to a minute later. The other nodes of a cluster add
// theirs when they flush, as before: what one node answers is the cluster's history plus its own latest counts,
// never a count twice.
func (c *Counter) Current(r Reader) Reader { return current{c, r} }

type current struct {
	c *Counter
	r Reader
}

// ListUsageCounts reads r and adds the counts in memory that f selects. The flush lock is held across both, so
// that no flush moves a count from memory to the database between the two reads: each count is in exactly one.
func (cur current) ListUsageCounts(ctx context.Context, f storage.UsageFilter) ([]storage.UsageCount, error) {
	c := cur.c
	c.mu.Lock()
	defer c.mu.Unlock()
	stored, err := cur.r.ListUsageCounts(ctx, f)
	if err != nil {
		return nil, err
	}
	mem := c.unflushed()
	if len(mem) == 0 {
		return stored, nil
	}
	bucket := int64(3600)
	if f.Bucket == 24*time.Hour {
		bucket = 86400
	}
	kinds := map[string]bool{}
	for _, k := range f.Kinds {
		kinds[k] = true
	}
	var scopes map[string]bool
	if f.Scopes != nil {
		scopes = map[string]bool{}
		for _, s := range f.Scopes {
			scopes[s] = true
		}
	}
	sums := make(map[key]int64, len(stored)+len(mem))
	for _, s := range stored {
		sums[key{s.Hour.Unix(), s.Kind, s.Scope}] += s.Count
	}
	for k, n := range mem {
		switch {
		case !kinds[k.kind], scopes != nil && !scopes[k.scope],
			!f.Since.IsZero() && k.hour < f.Since.Unix(), !f.Until.IsZero() && k.hour >= f.Until.Unix():
			continue
		}
		b := k.hour - ((k.hour%bucket)+bucket)%bucket
		sums[key{b, k.kind, k.scope}] += n
	}
	out := make([]storage.UsageCount, 0, len(sums))
	for k, n := range sums {
		out = append(out, storage.UsageCount{Hour: time.Unix(k.hour, 0).UTC(), Kind: k.kind, Scope: k.scope, Count: n})
	}
	// As the store answers: the newest buckets kept under the limit, in time order.
	slices.SortFunc(out, func(a, b storage.UsageCount) int {
		return cmp.Or(b.Hour.Compare(a.Hour), strings.Compare(a.Kind, b.Kind), strings.Compare(a.Scope, b.Scope))
	})
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	if len(out) > limit {
		out = out[:limit]
	}
	slices.SortFunc(out, func(a, b storage.UsageCount) int {
		return cmp.Or(a.Hour.Compare(b.Hour), strings.Compare(a.Kind, b.Kind), strings.Compare(a.Scope, b.Scope))
	})
	return out, nil
}

// unflushed is every count in memory, by hour, kind and scope, left where it is: the current hour's, those of
// hours that ended, and those the database refused at the last flush. The caller holds c.mu.
func (c *Counter) unflushed() map[key]int64 {
	out := make(map[key]int64, len(c.pending))
	for k, n := range c.pending {
		out[k] += n
	}
	for _, b := range append(slices.Clone(c.retired), c.cur.Load()) {
		for i := range b.tokens {
			if n := b.tokens[i].Load(); n > 0 {
				out[key{b.hour, TokenKindPrefix + TokenKinds[i], ""}] += n
			}
		}
		b.mu.Lock()
		for id, n := range b.products {
			scope := strconv.FormatInt(id, 10)
			if id == -1 {
				scope = "other"
			}
			out[key{b.hour, KindActivation, scope}] += n
		}
		b.mu.Unlock()
	}
	return out
}
