package clusterlimit_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/clusterlimit"
	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/postgres"
	"github.com/tokenmanager/tokenmanager/storage/postgres/pgtest"
	"github.com/tokenmanager/tokenmanager/storage/sqlite"
)

// backends are the stores the tests run on: SQLite always, PostgreSQL when its test server is given.
func backends(t *testing.T) map[string]func(t *testing.T) storage.Store {
	return map[string]func(t *testing.T) storage.Store{
		"sqlite": func(t *testing.T) storage.Store {
			s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "tm.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
		"postgres": func(t *testing.T) storage.Store {
			s, err := postgres.Open(context.Background(), pgtest.Schema(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
	}
}

// counting counts what a Sync asks of the store, and can be made to fail.
type counting struct {
	clusterlimit.Store
	writes, rows atomic.Int64
	fail         atomic.Bool
}

func (c *counting) AddLimitCounts(ctx context.Context, now time.Time, adds []storage.LimitAdd) error {
	if c.fail.Load() {
		return errors.New("database away")
	}
	c.writes.Add(1)
	c.rows.Add(int64(len(adds)))
	return c.Store.AddLimitCounts(ctx, now, adds)
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestTwoNodesShareOneBucket(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			store := &counting{Store: open(t)}
			clk := &clock{t: time.Now().Truncate(time.Microsecond)}
			a := clusterlimit.New(store, clusterlimit.Options{Now: clk.Now})
			b := clusterlimit.New(store, clusterlimit.Options{Now: clk.Now})
			ba, bb := a.Bucket("signin", 10, time.Second), b.Bucket("signin", 10, time.Second)
			other := a.Bucket("other", 10, time.Second)
			for range 6 {
				ba.Add("alice", 1)
				bb.Add("alice", 1)
			}
			// Each node alone is within the burst.
			if w := ba.Wait("alice", clk.Now()); w != 0 {
				t.Fatalf("A before any sync waits %v", w)
			}
			for _, s := range []*clusterlimit.Sync{a, b, a} {
				if err := s.Flush(ctx); err != nil {
					t.Fatal(err)
				}
			}
			// Together they took 12 of 10: both nodes refuse, for the 3 over the burst's last one.
			for n, bk := range map[string]*clusterlimit.Bucket{"A": ba, "B": bb} {
				if l := bk.Level("alice", clk.Now()); l != 12 {
					t.Fatalf("%s sees level %v; want 12", n, l)
				}
				if w := bk.Wait("alice", clk.Now()); w != 3*time.Second {
					t.Fatalf("%s waits %v; want 3s", n, w)
				}
			}
			if w := other.Wait("alice", clk.Now()); w != 0 {
				t.Fatalf("another bucket with the same key waits %v", w)
			}
			// A storm of refused requests writes nothing: Wait only reads memory.
			writes, rows := store.writes.Load(), store.rows.Load()
			for range 10_000 {
				if ba.Wait("alice", clk.Now()) == 0 {
					t.Fatal("let through")
				}
			}
			for range 5 {
				if err := a.Flush(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if store.writes.Load() != writes || store.rows.Load() != rows {
				t.Fatalf("refused requests wrote %d statements, %d rows", store.writes.Load()-writes, store.rows.Load()-rows)
			}
			// Many counted requests between two flushes: one row.
			for range 1000 {
				bb.Add("bob", 1)
			}
			if err := b.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if d := store.rows.Load() - rows; d != 1 {
				t.Fatalf("1000 counts for one key wrote %d rows; want 1", d)
			}
			// The bucket drains: 3 s later, one more is allowed on either node.
			clk.Add(3 * time.Second)
			if w := bb.Wait("alice", clk.Now()); w != 0 {
				t.Fatalf("after refilling B waits %v", w)
			}
			// A reset on one node reaches the other.
			ba.Set("alice", 0)
			if err := a.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if err := b.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if l := bb.Level("alice", clk.Now()); l != 0 {
				t.Fatalf("after a reset on A, B sees %v", l)
			}
		})
	}
}

// A write that fails keeps its counts for the next one; meanwhile the node still counts them itself.
func TestFailedWriteIsRetried(t *testing.T) {
	ctx := context.Background()
	store := &counting{Store: backends(t)["sqlite"](t)}
	clk := &clock{t: time.Now().Truncate(time.Microsecond)}
	a := clusterlimit.New(store, clusterlimit.Options{Now: clk.Now})
	b := clusterlimit.New(store, clusterlimit.Options{Now: clk.Now})
	ba, bb := a.Bucket("x", 5, time.Hour), b.Bucket("x", 5, time.Hour)
	ba.Add("k", 3)
	store.fail.Store(true)
	if err := a.Flush(ctx); err == nil {
		t.Fatal("flush over a failing store succeeded")
	}
	if l := ba.Level("k", clk.Now()); l != 3 {
		t.Fatalf("A's own level after a failed write: %v", l)
	}
	ba.Add("k", 1)
	store.fail.Store(false)
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if l := bb.Level("k", clk.Now()); l < 3.99 || l > 4 {
		t.Fatalf("B sees %v; want 4", l)
	}
}

func TestNilIsOff(t *testing.T) {
	var s *clusterlimit.Sync
	b := s.Bucket("x", 1, time.Second)
	b.Add("k", 100)
	if b.Wait("k", time.Now()) != 0 || b.Level("k", time.Now()) != 0 {
		t.Fatal("a nil bucket limits")
	}
	s.Run(context.Background())
}
