// Package cached keeps recently read users, tokens and sessions, the licensing records that every licensing
// call reads (licensing.go), license keys with their activations and data objects (licensekeys.go), and the API
// clients and access tokens that every OAuth 2.0 call reads (oauth.go), in memory in front of a storage.Store, so
// that checking a token costs no database round trip, while no revocation is missed.
//
// Every revocation reaches the database's change feed (storage.Changes, written by triggers, so whatever
// process or code path made it). The cache reads the feed after each revocation made through this process's
// store, before that call returns, and every SyncInterval for those made elsewhere (another node, the CLI).
// Entries also expire after a TTL, which bounds how stale their non-revocation fields (last use, last seen)
// can be, since those are written by every node but not announced.
package cached

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

// Options tune a Store; zero fields take the defaults.
type Options struct {
	TTL        time.Duration // how long an entry is used before it is read again (default 1 s)
	MaxEntries int           // per kind of record (default 100,000)
	// MaxLag is how long the feed may go unread before every entry is dropped, because changes older than the
	// feed's retention may be gone by the time it is read (default 1 minute; the GC keeps 10 minutes).
	MaxLag time.Duration
	Log    *slog.Logger
	Now    func() time.Time
}

// Store is a storage.Store whose GetUser, GetToken and GetSession, GetAPIToken, GetProduct, GetVendor and
// FindWooStore, GetLicenseKey, GetLicenseKeyByGlobalID, ListActivations and a key's ListDataObjects, and
// GetAPIClient and GetAccessToken, answer from memory when they can.
type Store struct {
	storage.Store
	users    *table[storage.User]
	tokens   *table[storage.Token]
	sessions *table[storage.Session]
	lic      licensing   // see licensing.go
	keys     licenseKeys // see licensekeys.go
	oauth    oauth       // see oauth.go
	opts     Options

	// gen counts drops; a record read from the database is cached only if no drop happened while it was read,
	// so a revocation committed during the read can never leave a stale copy behind.
	gen atomic.Uint64

	syncMu   sync.Mutex
	pos      int64     // feed position; -1 until the first Sync
	lastSync time.Time // last successful read of the feed
}

// feedBatch is how many changes one read of the feed takes; a full batch drops everything (see Sync).
const feedBatch = 10_000

// New puts a cache in front of s and registers with s to hear of its own revocations. Call Sync once before
// serving, then Run.
func New(s storage.Store, o Options) *Store {
	if o.TTL <= 0 {
		o.TTL = time.Second
	}
	if o.MaxEntries <= 0 {
		o.MaxEntries = 100_000
	}
	if o.MaxLag <= 0 {
		o.MaxLag = time.Minute
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	c := &Store{Store: s, opts: o, pos: -1,
		users: newTable[storage.User](o), tokens: newTable[storage.Token](o), sessions: newTable[storage.Session](o),
		lic: newLicensing(o), keys: newLicenseKeys(o), oauth: newOAuth(o)}
	s.OnChange(func(ctx context.Context) {
		if err := c.Sync(ctx); err != nil {
			o.Log.Warn("reading the cache change feed", "err", err)
		}
	})
	return c
}

// Sync reads the change feed and drops what it names. When the feed cannot be read, or was last read too long
// ago, everything is dropped: the cache never answers with what it cannot vouch for.
func (c *Store) Sync(ctx context.Context) error {
	c.syncMu.Lock()
	defer c.syncMu.Unlock()
	now := c.opts.Now()
	if c.pos >= 0 && now.Sub(c.lastSync) > c.opts.MaxLag {
		c.pos = -1
	}
	for {
		if c.pos < 0 {
			return c.restart(ctx, now)
		}
		changes, pos, err := c.Store.ReadChanges(ctx, c.pos, feedBatch)
		if err != nil {
			c.dropAll()
			return fmt.Errorf("cached: reading changes: %w", err)
		}
		for _, ch := range changes {
			c.drop(ch.Kind, ch.Key)
		}
		if len(changes) < feedBatch {
			c.pos, c.lastSync = pos, now
			return nil
		}
		// A burst larger than a batch: drop everything and go on from the newest change.
		c.pos = -1
	}
}

// restart starts reading the feed anew from its current position, dropping everything cached. The position
// is taken first and the drop comes after it: a copy cached after the drop was read after the position was
// taken, so any change it lacks lies past the position and the next read of the feed drops it. Dropping first
// would let a copy read between the drop and the position outlive a change committed in between.
func (c *Store) restart(ctx context.Context, now time.Time) error {
	_, pos, err := c.Store.ReadChanges(ctx, -1, feedBatch)
	c.dropAll()
	if err != nil {
		return fmt.Errorf("cached: reading changes: %w", err)
	}
	c.pos, c.lastSync = pos, now
	return nil
}

// Run calls Sync every interval, and deletes expired entries every sweepInterval, until ctx ends.
func (c *Store) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	var lastSweep time.Time // the first tick sweeps
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := c.Sync(ctx); err != nil && ctx.Err() == nil {
				c.opts.Log.Warn("reading the cache change feed", "err", err)
			}
			if now := c.opts.Now(); now.Sub(lastSweep) >= sweepInterval {
				c.sweep(now)
				lastSweep = now
			}
		}
	}
}

// sweepInterval is how often Run deletes expired entries: an entry is never answered past its TTL anyway, but
// without a sweep the records of tokens no longer presented would stay in memory until the size bound. Every
// 2 s, with the default TTL of 1 s, the copies of tokens presented once (most issued tokens, WooCommerce and
// access tokens) stay at most about 3 s; every 10 s, they were most of the caches' memory under sustained
// issuance, and its sawtooth.
const sweepInterval = 2 * time.Second

func (c *Store) sweep(now time.Time) {
	c.users.sweep(now)
	c.tokens.sweep(now)
	c.sessions.sweep(now)
	c.lic.sweep(now)
	c.keys.sweep(now)
	c.oauth.sweep(now)
}

func (c *Store) drop(kind storage.ChangeKind, key string) {
	c.gen.Add(1)
	switch kind {
	case storage.ChangedUser:
		c.users.drop(key)
	case storage.ChangedToken:
		c.tokens.drop(key)
	case storage.ChangedSession:
		c.sessions.drop(key)
	default:
		if !c.lic.drop(kind, key) && !c.keys.drop(kind, key) && !c.oauth.drop(kind, key) { // a kind this version does not know: be safe
			c.dropAll()
		}
	}
}

func (c *Store) dropAll() {
	c.gen.Add(1)
	c.users.dropAll()
	c.tokens.dropAll()
	c.sessions.dropAll()
	c.lic.dropAll()
	c.keys.dropAll()
	c.oauth.dropAll()
}

// read answers key from t, or loads it with load and keeps it.
func read[V any](c *Store, t *table[V], key string, load func() (V, error)) (V, error) {
	now := c.opts.Now()
	if v, ok := t.get(key, now); ok {
		return v, nil
	}
	gen := c.gen.Load()
	v, err := load()
	if err == nil {
		t.put(key, v, now, func() bool { return c.gen.Load() == gen })
	}
	return v, err
}

func (c *Store) GetUser(ctx context.Context, name string) (storage.User, error) {
	u, err := read(c, c.users, name, func() (storage.User, error) { return c.Store.GetUser(ctx, name) })
	u.DigestSecret = slices.Clone(u.DigestSecret) // callers own what they get
	return u, err
}

func (c *Store) GetToken(ctx context.Context, id string) (storage.Token, error) {
	return read(c, c.tokens, id, func() (storage.Token, error) { return c.Store.GetToken(ctx, id) })
}

func (c *Store) GetSession(ctx context.Context, id string) (storage.Session, error) {
	return read(c, c.sessions, id, func() (storage.Session, error) { return c.Store.GetSession(ctx, id) })
}

// TouchToken writes through and moves the cached last use along, so the next check does not write again. The
// copy moves only where the store's own condition lets the write through (last use at least minInterval before
// at): a throttled touch changes nothing, in the database or here.
func (c *Store) TouchToken(ctx context.Context, id string, at time.Time, minInterval time.Duration) error {
	err := c.Store.TouchToken(ctx, id, at, minInterval)
	if err == nil {
		c.tokens.update(id, func(t *storage.Token) {
			if touches(t.LastUsedAt, at, minInterval) {
				t.LastUsedAt = at
			}
		})
	}
	return err
}

// TouchSession writes through and moves the cached last-seen time along, under the store's condition: a
// throttled touch, or one of an ended session, changes nothing.
func (c *Store) TouchSession(ctx context.Context, id string, at time.Time, minInterval time.Duration) error {
	err := c.Store.TouchSession(ctx, id, at, minInterval)
	if err == nil {
		c.sessions.update(id, func(s *storage.Session) {
			if !s.Ended() && touches(s.LastSeenAt, at, minInterval) {
				s.LastSeenAt = at
			}
		})
	}
	return err
}

// touches is the condition under which the stores write a touch at at: the last one is minInterval old or more.
func touches(last, at time.Time, minInterval time.Duration) bool {
	return !last.After(at.Add(-minInterval))
}

// table is one kind of record: a bounded map of copies with their expiry.
type table[V any] struct {
	mu      sync.RWMutex
	entries map[string]entry[V]
	ttl     time.Duration
	max     int
}

type entry[V any] struct {
	v       V
	expires time.Time
}

func newTable[V any](o Options) *table[V] {
	return &table[V]{entries: make(map[string]entry[V]), ttl: o.TTL, max: o.MaxEntries}
}

func (t *table[V]) get(key string, now time.Time) (V, bool) {
	t.mu.RLock()
	e, ok := t.entries[key]
	t.mu.RUnlock()
	if !ok || !now.Before(e.expires) {
		var zero V
		return zero, false
	}
	return e.v, true
}

// put stores v unless still() says a drop happened since it was read.
func (t *table[V]) put(key string, v V, now time.Time, still func() bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !still() { // checked under the lock that drop also takes
		return
	}
	if _, ok := t.entries[key]; !ok && len(t.entries) >= t.max {
		for k := range t.entries { // map order is random: this evicts a random entry
			delete(t.entries, k)
			break
		}
	}
	t.entries[key] = entry[V]{v: v, expires: now.Add(t.ttl)}
}

func (t *table[V]) update(key string, fn func(*V)) {
	t.mu.Lock()
	if e, ok := t.entries[key]; ok {
		fn(&e.v)
		t.entries[key] = e
	}
	t.mu.Unlock()
}

func (t *table[V]) sweep(now time.Time) {
	t.mu.Lock()
	for k, e := range t.entries {
		if !now.Before(e.expires) {
			delete(t.entries, k)
		}
	}
	t.mu.Unlock()
}

// dropWhere drops every entry whose value matches: a scan of the whole table, for changes rare enough to afford it.
func (t *table[V]) dropWhere(match func(V) bool) {
	t.mu.Lock()
	for k, e := range t.entries {
		if match(e.v) {
			delete(t.entries, k)
		}
	}
	t.mu.Unlock()
}

func (t *table[V]) drop(key string) {
	t.mu.Lock()
	delete(t.entries, key)
	t.mu.Unlock()
}

func (t *table[V]) dropAll() {
	t.mu.Lock()
	clear(t.entries)
	t.mu.Unlock()
}
