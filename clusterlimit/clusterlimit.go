// Package clusterlimit makes request limits hold across the nodes of a cluster, through the database they share
// and no other server.
//
// Each node keeps its own limits in memory as before, and beside them a Bucket per limit here: a leaky bucket per
// key (an account, an address, a client) whose level is what the whole cluster has taken from it. A node adds
// to it only in memory; a Sync writes what was added, aggregated per key, once per interval (one row per key per
// interval, in one round trip, however many requests were counted), and reads back every counter any node
// changed since its last read. So a refused request costs no write at all, a counted one a share of one write,
// and every node sees the others' counts within about one interval: behind N nodes a client gets the allowance
// of one plus at most what the other nodes let through in one interval.
//
// A single node needs none of this: a nil *Sync gives nil Buckets, whose methods answer as an empty bucket.
package clusterlimit

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

// Store is what a Sync needs of the database.
type Store interface {
	AddLimitCounts(ctx context.Context, now time.Time, adds []storage.LimitAdd) error
	LimitCountsSince(ctx context.Context, since time.Time) ([]storage.LimitCount, error)
}

// Options configure a Sync.
type Options struct {
	// Interval is how often counts are written and read back; 0 means DefaultInterval.
	Interval time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Log gets failed syncs (at warning level) and nothing per request; nil discards.
	Log *slog.Logger
	// MaxKeys bounds the counters a node remembers; 0 means 200,000. Past it, counters that other nodes changed
	// and this one has not used are not remembered, and new keys are limited by the node's own limits only.
	MaxKeys int
}

// DefaultInterval is how often a Sync writes and reads: the slack of a cluster-wide limit is what the other
// nodes let through in about this long.
const DefaultInterval = 200 * time.Millisecond

// readOverlap is how far before its last read a Sync reads again: a row is stamped with its writer's clock
// before it commits, so one committed late, or stamped by a node whose clock is a little behind, is still
// read. Rows read twice do no harm: each is the counter's whole state, not a change.
const readOverlap = 2 * time.Second

// firstRead is how far back a node starting up reads: longer than any limit takes to refill.
const firstRead = 15 * time.Minute

// Sync shares the Buckets of one node with the other nodes through the database.
type Sync struct {
	store    Store
	interval time.Duration
	now      func() time.Time
	log      *slog.Logger
	maxKeys  int

	mu        sync.Mutex
	m         map[[storage.LimitKeyLen]byte]*entry
	full      bool // the map was full at the last add or read (logged once per episode)
	lastRead  time.Time
	lastPrune time.Time
	flushMu   sync.Mutex // one flush at a time

	flushes, rows, reads atomic.Int64
}

// entry is one counter as this node knows it: the cluster's level as last read (or as last written by this
// node), what this node is writing now, and what it added since.
type entry struct {
	stored   storage.LimitCount
	known    bool
	inflight change
	pending  change
}

// change is what a node adds to a counter between two writes: n added, or with reset the level set to n.
type change struct {
	n     float64
	reset bool
}

func (c change) empty() bool { return c.n == 0 && !c.reset }

// apply is level after c.
func (c change) apply(level float64) float64 {
	if c.reset {
		return c.n
	}
	return level + c.n
}

// then is c followed by d, as one change.
func (c change) then(d change) change {
	if d.reset {
		return d
	}
	return change{n: c.n + d.n, reset: c.reset}
}

// New returns a Sync over store. Call Run to start it.
func New(store Store, o Options) *Sync {
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.MaxKeys <= 0 {
		o.MaxKeys = 200_000
	}
	return &Sync{store: store, interval: o.Interval, now: o.Now, log: o.Log, maxKeys: o.MaxKeys,
		m: map[[storage.LimitKeyLen]byte]*entry{}}
}

// Run flushes every interval until ctx ends, then once more so that what this node counted last is not lost.
func (s *Sync) Run(ctx context.Context) {
	if s == nil {
		return
	}
	t := time.NewTicker(s.interval)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			s.Flush(final)
			cancel()
			return
		case <-t.C:
		}
		err := s.Flush(ctx)
		switch {
		case err != nil && !failing && ctx.Err() == nil:
			s.log.Warn("shared limits: sync failed; limits hold per node until it works again", "err", err)
			failing = true
		case err == nil && failing:
			s.log.Info("shared limits: sync works again")
			failing = false
		}
	}
}

// Stats are a Sync's counts since it started.
type Stats struct {
	Flushes int64 // writes sent (each one round trip)
	Rows    int64 // counter rows written
	Reads   int64 // reads of changed counters
}

func (s *Sync) Stats() Stats {
	return Stats{Flushes: s.flushes.Load(), Rows: s.rows.Load(), Reads: s.reads.Load()}
}

// Flush writes what this node counted since the last flush, one row per counter, and reads back the counters
// any node changed since the last read. When the write fails, what it held is kept for the next one.
func (s *Sync) Flush(ctx context.Context) error {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	now := s.now().Truncate(time.Microsecond) // as stored

	s.mu.Lock()
	var adds []storage.LimitAdd
	for k, e := range s.m {
		if e.pending.empty() || e.stored.Rate <= 0 {
			continue
		}
		e.inflight, e.pending = e.pending, change{}
		adds = append(adds, storage.LimitAdd{Key: k, N: e.inflight.n, Reset: e.inflight.reset, Rate: e.stored.Rate})
	}
	since := s.lastRead.Add(-readOverlap)
	if s.lastRead.IsZero() {
		since = now.Add(-firstRead)
	}
	s.mu.Unlock()

	var werr error
	if len(adds) > 0 {
		werr = s.store.AddLimitCounts(ctx, now, adds)
		if werr == nil {
			s.flushes.Add(1)
			s.rows.Add(int64(len(adds)))
		}
	}
	s.mu.Lock()
	for _, a := range adds {
		e := s.m[a.Key]
		if werr != nil {
			e.pending = e.inflight.then(e.pending)
		} else {
			// Until the read below says otherwise, the stored level is ours plus what we wrote.
			e.stored.Level, e.stored.At = e.inflight.apply(e.stored.LevelAt(now)), now
			e.known = true
		}
		e.inflight = change{}
	}
	s.mu.Unlock()
	if werr != nil {
		return werr
	}

	rows, err := s.store.LimitCountsSince(ctx, since)
	if err != nil {
		return err
	}
	s.reads.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastRead = now
	for _, r := range rows {
		e := s.m[r.Key]
		if e == nil {
			if r.LevelAt(now) <= 0 || !s.room() {
				continue
			}
			e = &entry{}
			s.m[r.Key] = e
		}
		// The row is the counter's whole state after every write up to the read, ours included.
		e.stored, e.known = r, true
	}
	if now.Sub(s.lastPrune) >= time.Second {
		s.lastPrune = now
		for k, e := range s.m {
			if e.pending.empty() && e.inflight.empty() && e.stored.LevelAt(now) <= 0 {
				delete(s.m, k)
			}
		}
	}
	return nil
}

// room reports whether another counter may be remembered; s.mu is held.
func (s *Sync) room() bool {
	if len(s.m) < s.maxKeys {
		s.full = false
		return true
	}
	if !s.full {
		s.full = true
		s.log.Warn("shared limits: too many counters to remember; new keys are limited per node", "max", s.maxKeys)
	}
	return false
}

// Bucket is one cluster-wide limit: burst at once, then one more per every, per key. name sets it apart from
// the other limits (keys of different Buckets never meet); a nil Sync gives a nil Bucket.
func (s *Sync) Bucket(name string, burst float64, every time.Duration) *Bucket {
	if s == nil || burst <= 0 || every <= 0 {
		return nil
	}
	return &Bucket{s: s, name: name, burst: burst, rate: float64(time.Second) / float64(every)}
}

// Bucket is a cluster-wide token bucket per key. The methods of a nil Bucket answer as an empty bucket.
type Bucket struct {
	s     *Sync
	name  string
	burst float64
	rate  float64 // per second
}

func (b *Bucket) key(k string) [storage.LimitKeyLen]byte {
	h := sha256.New()
	h.Write([]byte(b.name))
	h.Write([]byte{0})
	h.Write([]byte(k))
	var out [storage.LimitKeyLen]byte
	copy(out[:], h.Sum(nil))
	return out
}

// Level is what the cluster has taken from key's bucket, as this node knows it at now: the last level read or
// written, decayed, plus what this node counted since.
func (b *Bucket) Level(key string, now time.Time) float64 {
	if b == nil {
		return 0
	}
	b.s.mu.Lock()
	defer b.s.mu.Unlock()
	e := b.s.m[b.key(key)]
	if e == nil {
		return 0
	}
	level := 0.0
	if e.known {
		level = e.stored.LevelAt(now)
	}
	return e.pending.apply(e.inflight.apply(level))
}

// Wait is how long until key's bucket has one left (0: now).
func (b *Bucket) Wait(key string, now time.Time) time.Duration {
	if b == nil {
		return 0
	}
	over := b.Level(key, now) - (b.burst - 1)
	if over <= 0 {
		return 0
	}
	return time.Duration(over / b.rate * float64(time.Second))
}

// Saturated reports whether the Sync had no room for a counter lately: then a key may lack its counter, and
// callers fall back to what they keep themselves.
func (b *Bucket) Saturated() bool {
	if b == nil {
		return false
	}
	b.s.mu.Lock()
	defer b.s.mu.Unlock()
	return b.s.full
}

// Add counts n against key (in memory; the next flush writes it).
func (b *Bucket) Add(key string, n float64) { b.change(key, change{n: n}) }

// Set sets key's level to n, for every node (in memory; the next flush writes it).
func (b *Bucket) Set(key string, n float64) { b.change(key, change{n: n, reset: true}) }

func (b *Bucket) change(key string, c change) {
	if b == nil {
		return
	}
	k := b.key(key)
	b.s.mu.Lock()
	defer b.s.mu.Unlock()
	e := b.s.m[k]
	if e == nil {
		if !b.s.room() {
			return
		}
		e = &entry{}
		b.s.m[k] = e
	}
	e.stored.Rate = b.rate
	e.pending = e.pending.then(c)
}
