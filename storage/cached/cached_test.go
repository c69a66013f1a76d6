package cached

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/sqlite"
)

var t0 = time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// fixture is a cache over a real SQLite file, plus a second handle on the file: another process or node.
type fixture struct {
	c     *Store
	other storage.Store
	clk   *clock
}

func newFixture(t *testing.T, wrap func(storage.Store) storage.Store, o Options) *fixture {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tm.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	other, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	clk := &clock{now: t0}
	o.Now = clk.Now
	var inner storage.Store = db
	if wrap != nil {
		inner = wrap(db)
	}
	f := &fixture{c: New(inner, o), other: other, clk: clk}
	if err := f.c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateUser(ctx, storage.User{Name: "alice", PasswordHash: "h", CreatedAt: t0, UpdatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateSession(ctx, storage.Session{ID: "s1", User: "alice", CreatedAt: t0, LastSeenAt: t0}); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []storage.Token{
		{ID: "open", User: "alice", Kind: storage.KindOpen, CreatedAt: t0, LastUsedAt: t0},
		{ID: "bound", User: "alice", Kind: storage.KindSession, SessionID: "s1", CreatedAt: t0, LastUsedAt: t0},
	} {
		if err := db.CreateToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// state reads the three records through the cache: "open token revoked, session ended, user disabled".
func (f *fixture) state(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	tok, err1 := f.c.GetToken(ctx, "open")
	ss, err2 := f.c.GetSession(ctx, "s1")
	u, err3 := f.c.GetUser(ctx, "alice")
	if err1 != nil || err2 != nil || err3 != nil {
		t.Fatal(err1, err2, err3)
	}
	return fmt.Sprintf("revoked=%v ended=%v disabled=%v", tok.Revoked(), ss.Ended(), u.Disabled)
}

func (f *fixture) revokeAll(t *testing.T, s storage.Store) {
	t.Helper()
	ctx := context.Background()
	if err := s.RevokeToken(ctx, "open", t0); err != nil {
		t.Fatal(err)
	}
	if err := s.EndSession(ctx, "s1", t0); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateUser(ctx, "alice", func(u *storage.User) error { u.Disabled = true; return nil }); err != nil {
		t.Fatal(err)
	}
}

const (
	live = "revoked=false ended=false disabled=false"
	dead = "revoked=true ended=true disabled=true"
)

func TestOwnRevocationsAreSeenAtOnce(t *testing.T) {
	f := newFixture(t, nil, Options{TTL: time.Hour})
	if got := f.state(t); got != live {
		t.Fatal(got)
	}
	f.revokeAll(t, f.c) // through the cached store: its OnChange hook reads the feed before returning
	if got := f.state(t); got != dead {
		t.Fatalf("after revoking through this store: %s", got)
	}
}

func TestOtherProcessRevocationsAreSeenAtTheNextSync(t *testing.T) {
	f := newFixture(t, nil, Options{TTL: time.Hour})
	if got := f.state(t); got != live {
		t.Fatal(got)
	}
	f.revokeAll(t, f.other)
	// The cache answers from memory until it reads the feed: this is what the sync interval bounds.
	if got := f.state(t); got != live {
		t.Fatalf("before Sync: %s (the cache was not used)", got)
	}
	if err := f.c.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := f.state(t); got != dead {
		t.Fatalf("after Sync: %s", got)
	}
}

func TestRunSyncs(t *testing.T) {
	f := newFixture(t, nil, Options{TTL: time.Hour})
	f.state(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go f.c.Run(ctx, 5*time.Millisecond)
	f.revokeAll(t, f.other)
	deadline := time.Now().Add(5 * time.Second)
	for f.state(t) != dead {
		if time.Now().After(deadline) {
			t.Fatalf("Run did not pick up the revocations: %s", f.state(t))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// racingStore commits a revocation (elsewhere) and syncs the cache while a token is being read: the read
// returns the token as it was before, which the cache must not keep.
type racingStore struct {
	storage.Store
	during func()
}

func (r *racingStore) GetToken(ctx context.Context, id string) (storage.Token, error) {
	tok, err := r.Store.GetToken(ctx, id)
	if r.during != nil {
		r.during()
		r.during = nil
	}
	return tok, err
}

func TestReadRacingARevocationIsNotKept(t *testing.T) {
	var rs *racingStore
	f := newFixture(t, func(s storage.Store) storage.Store { rs = &racingStore{Store: s}; return rs }, Options{TTL: time.Hour})
	ctx := context.Background()
	rs.during = func() {
		if err := f.other.RevokeToken(ctx, "open", t0); err != nil {
			t.Error(err)
		}
		if err := f.c.Sync(ctx); err != nil {
			t.Error(err)
		}
	}
	if tok, _ := f.c.GetToken(ctx, "open"); tok.Revoked() {
		t.Fatal("the racing read already saw the revocation; the test needs it to see the token before")
	}
	if tok, _ := f.c.GetToken(ctx, "open"); !tok.Revoked() {
		t.Fatal("a copy read before a revocation, and synced during the read, was kept")
	}
}

func TestEntriesExpire(t *testing.T) {
	f := newFixture(t, nil, Options{TTL: time.Second})
	ctx := context.Background()
	f.state(t)
	later := t0.Add(time.Hour)
	if err := f.other.TouchSession(ctx, "s1", later, time.Minute); err != nil { // not announced on the feed
		t.Fatal(err)
	}
	if ss, _ := f.c.GetSession(ctx, "s1"); !ss.LastSeenAt.Equal(t0) {
		t.Fatalf("within the TTL: last seen %v, want the cached %v", ss.LastSeenAt, t0)
	}
	f.clk.Add(time.Second)
	if ss, _ := f.c.GetSession(ctx, "s1"); !ss.LastSeenAt.Equal(later) {
		t.Fatalf("after the TTL: last seen %v, want %v", ss.LastSeenAt, later)
	}
}

func TestOwnTouchesMoveTheCachedCopy(t *testing.T) {
	f := newFixture(t, nil, Options{TTL: time.Hour})
	ctx := context.Background()
	f.state(t)
	later := t0.Add(time.Hour)
	if err := f.c.TouchToken(ctx, "open", later, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := f.c.TouchSession(ctx, "s1", later, time.Minute); err != nil {
		t.Fatal(err)
	}
	tok, _ := f.c.GetToken(ctx, "open")
	ss, _ := f.c.GetSession(ctx, "s1")
	if !tok.LastUsedAt.Equal(later) || !ss.LastSeenAt.Equal(later) {
		t.Fatalf("cached last use %v / last seen %v, want %v", tok.LastUsedAt, ss.LastSeenAt, later)
	}
	if db, _ := f.other.GetToken(ctx, "open"); !db.LastUsedAt.Equal(later) {
		t.Fatalf("the touch was not written through: %v", db.LastUsedAt)
	}
}

// A node that has not read the feed for longer than MaxLag may have missed changes the GC already deleted.
func TestLaggingSyncDropsEverything(t *testing.T) {
	f := newFixture(t, nil, Options{TTL: time.Hour, MaxLag: time.Minute})
	ctx := context.Background()
	f.state(t)
	f.revokeAll(t, f.other)
	if _, err := f.other.DeleteChanges(ctx, time.Now().Add(time.Hour), 1000); err != nil {
		t.Fatal(err)
	}
	f.clk.Add(2 * time.Minute)
	if err := f.c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := f.state(t); got != dead {
		t.Fatalf("after a lagging sync: %s", got)
	}
}

// failingFeed cannot read the change feed.
type failingFeed struct{ storage.Store }

func (failingFeed) ReadChanges(context.Context, int64, int) ([]storage.Change, int64, error) {
	return nil, 0, fmt.Errorf("database gone")
}

func TestUnreadableFeedDropsEverything(t *testing.T) {
	var ff *failingFeed
	f := newFixture(t, func(s storage.Store) storage.Store { return s }, Options{TTL: time.Hour})
	f.state(t)
	f.revokeAll(t, f.other)
	ff = &failingFeed{Store: f.c.Store}
	f.c.Store = ff
	if err := f.c.Sync(context.Background()); err == nil {
		t.Fatal("Sync over an unreadable feed succeeded")
	}
	f.c.Store = ff.Store
	if got := f.state(t); got != dead {
		t.Fatalf("after a failed sync: %s (stale copies kept)", got)
	}
}

func TestSizeIsBounded(t *testing.T) {
	f := newFixture(t, nil, Options{TTL: time.Hour, MaxEntries: 10})
	ctx := context.Background()
	for i := range 50 {
		id := fmt.Sprint("t", i)
		if err := f.other.CreateToken(ctx, storage.Token{ID: id, User: "alice", Kind: storage.KindOpen, CreatedAt: t0, LastUsedAt: t0}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.c.GetToken(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(f.c.tokens.entries); n != 10 {
		t.Fatalf("%d cached tokens, want the bound 10", n)
	}
}

func TestCallersOwnWhatTheyGet(t *testing.T) {
	f := newFixture(t, nil, Options{TTL: time.Hour})
	ctx := context.Background()
	if err := f.c.UpdateUser(ctx, "alice", func(u *storage.User) error { u.DigestSecret = []byte("sealed"); return nil }); err != nil {
		t.Fatal(err)
	}
	u, _ := f.c.GetUser(ctx, "alice")
	u.DigestSecret[0] = 'X'
	if again, _ := f.c.GetUser(ctx, "alice"); string(again.DigestSecret) != "sealed" {
		t.Fatalf("a caller's change reached the cache: %q", again.DigestSecret)
	}
}

func TestRunSweepsExpiredEntries(t *testing.T) {
	f := newFixture(t, nil, Options{TTL: time.Second})
	f.state(t) // caches the open token, the session and the user
	if n := len(f.c.tokens.entries) + len(f.c.sessions.entries) + len(f.c.users.entries); n != 3 {
		t.Fatalf("%d entries cached, want 3", n)
	}
	f.clk.Add(sweepInterval) // all expired, and a sweep is due
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go f.c.Run(ctx, time.Millisecond)
	deadline := time.Now().Add(5 * time.Second)
	for {
		f.c.tokens.mu.RLock()
		n := len(f.c.tokens.entries)
		f.c.tokens.mu.RUnlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d expired token entries still held after Run's sweep", n)
		}
		time.Sleep(time.Millisecond)
	}
}

// restartingFeed runs during while the cache asks the feed for its current position, to start over.
type restartingFeed struct {
	storage.Store
	during func()
}

func (r *restartingFeed) ReadChanges(ctx context.Context, after int64, limit int) ([]storage.Change, int64, error) {
	if after < 0 && r.during != nil {
		during := r.during
		r.during = nil
		during()
	}
	return r.Store.ReadChanges(ctx, after, limit)
}

// TestRestartingSyncKeepsNoCopyOlderThanItsPosition: when a lagging cache starts the feed over, a record read
// and a revocation committed while it takes the feed's position must not leave the old copy behind (the feed
// is read from past the revocation from then on).
func TestRestartingSyncKeepsNoCopyOlderThanItsPosition(t *testing.T) {
	var rf *restartingFeed
	f := newFixture(t, func(s storage.Store) storage.Store { rf = &restartingFeed{Store: s}; return rf }, Options{TTL: time.Hour, MaxLag: time.Minute})
	ctx := context.Background()
	f.clk.Add(2 * time.Minute) // the next Sync starts over
	rf.during = func() {
		if got := f.state(t); got != live {
			t.Errorf("before the revocation: %s", got)
		}
		f.revokeAll(t, f.other)
	}
	if err := f.c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := f.state(t); got != dead {
		t.Fatalf("after a sync that started over: %s", got)
	}
}
