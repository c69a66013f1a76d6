package auth

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/clusterlimit"
	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/postgres"
	"github.com/tokenmanager/tokenmanager/storage/postgres/pgtest"
	"github.com/tokenmanager/tokenmanager/storage/sqlite"
)

// sharedStores are the databases two nodes can share in a test: a SQLite file, and PostgreSQL when given.
func sharedStores(t *testing.T) map[string]func(t *testing.T) storage.Store {
	return map[string]func(t *testing.T) storage.Store{
		"sqlite": func(t *testing.T) storage.Store {
			s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"))
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

// Two nodes' throttles on one database: a storm spread over both is throttled at one node's count, an address
// that failed on one node meets the account's bucket on the other, and the owner from a clean address still
// signs in.
func TestThrottleAcrossNodes(t *testing.T) {
	for name, open := range sharedStores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			store := open(t)
			now := time.Now().Truncate(time.Microsecond)
			clock := func() time.Time { return now }
			cfg := ThrottleConfig{AccountBurst: 5, AccountEvery: time.Minute, AddressBurst: 8, AddressEvery: time.Minute, Now: clock}
			syncs := []*clusterlimit.Sync{clusterlimit.New(store, clusterlimit.Options{Now: clock}), clusterlimit.New(store, clusterlimit.Options{Now: clock})}
			nodes := make([]*Throttle, 2)
			for i := range nodes {
				c := cfg
				c.Shared = syncs[i]
				nodes[i] = NewThrottle(c)
			}
			sync := func() {
				for _, s := range append(syncs, syncs[0]) {
					if err := s.Flush(ctx); err != nil {
						t.Fatal(err)
					}
				}
			}
			// One address guessing many accounts, alternating nodes, the nodes syncing between attempts.
			accepted := 0
			for i := range 40 {
				n := nodes[i%2]
				if _, ok := n.Check(string(rune('a'+i)), "203.0.113.5"); ok {
					accepted++
					n.Failed(string(rune('a'+i)), "203.0.113.5")
				}
				sync()
			}
			if accepted != cfg.AddressBurst {
				t.Fatalf("the address failed %d times over two nodes; one node allows %d", accepted, cfg.AddressBurst)
			}
			// Many addresses guessing alice's password: the account's bucket counts them all, cluster-wide.
			accepted = 0
			for i := range 20 {
				addr := "198.51.100." + string(rune('0'+i%10)) + string(rune('0'+i/10))
				n := nodes[i%2]
				// Each address fails once first (that marks it), then tries again on the other node.
				if _, ok := n.Check("alice", addr); ok {
					accepted++
					n.Failed("alice", addr)
				}
				sync()
				if _, ok := nodes[(i+1)%2].Check("alice", addr); ok {
					accepted++
					nodes[(i+1)%2].Failed("alice", addr)
				}
				sync()
			}
			// Every new address gets its first failure (it was not marked yet); after the account's burst of 5,
			// a marked address is refused on the other node as on its own.
			if accepted > 20+cfg.AccountBurst {
				t.Fatalf("%d failures accepted for alice; want at most %d", accepted, 20+cfg.AccountBurst)
			}
			if _, ok := nodes[1].Check("alice", "198.51.100.00"); ok {
				t.Fatal("an address that failed for alice on node A is let through on node B")
			}
			// The owner, from an address that never failed, signs in on either node.
			for i, n := range nodes {
				if w, ok := n.Check("alice", "192.0.2.44"); !ok {
					t.Fatalf("the owner is locked out on node %d (retry in %v)", i, w)
				}
			}
			// A good sign-in clears the address's mark on every node.
			nodes[0].Succeeded("alice", "198.51.100.00")
			sync()
			if _, ok := nodes[1].Check("alice", "198.51.100.00"); !ok {
				t.Fatal("after a good sign-in on A, B still applies alice's bucket to that address")
			}
		})
	}
}

// A refused attempt writes nothing, and a storm of failures writes one row per key per sync, whatever their
// number. Measured through the store: rows written per refused request.
func TestThrottleStormWrites(t *testing.T) {
	for name, open := range sharedStores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			store := &countingLimits{Store: open(t)}
			s := clusterlimit.New(store, clusterlimit.Options{})
			th := NewThrottle(ThrottleConfig{AccountBurst: 10, AccountEvery: time.Minute, AddressBurst: 50, AddressEvery: time.Minute, Shared: s})
			refused := 0
			for i := range 5000 {
				if _, ok := th.Check("alice", "203.0.113.9"); ok {
					th.Failed("alice", "203.0.113.9")
				} else {
					refused++
				}
				if i%500 == 0 {
					if err := s.Flush(ctx); err != nil {
						t.Fatal(err)
					}
				}
			}
			before := store.rows
			for range 10_000 {
				if _, ok := th.Check("alice", "203.0.113.9"); ok {
					t.Fatal("let through")
				}
				refused++
			}
			if err := s.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if d := store.rows - before; d != 0 {
				t.Fatalf("10,000 refused attempts wrote %d rows", d)
			}
			t.Logf("%s: %d attempts, %d refused, %d rows written in %d statements: %.5f rows per refused attempt",
				name, 15000, refused, store.rows, store.writes, float64(store.rows)/float64(refused))
			// 10 failures reach the buckets: account, address, mark; at most one row each per flush.
			if store.rows > 3*11 {
				t.Fatalf("%d rows for 10 counted failures", store.rows)
			}
		})
	}
}

type countingLimits struct {
	storage.Store
	writes, rows int
}

func (c *countingLimits) AddLimitCounts(ctx context.Context, now time.Time, adds []storage.LimitAdd) error {
	c.writes++
	c.rows += len(adds)
	return c.Store.AddLimitCounts(ctx, now, adds)
}

// A nonce accepted by one node is refused by another on the same database.
func TestDigestNonceAcrossNodes(t *testing.T) {
	f := newDigestFixture(t, DigestOptions{})
	f.v.shared = f.store
	other := NewDigestVerifier(f.store, f.v.sealer, DigestOptions{Now: f.clock.Now, Nonces: f.store})
	nonce, created := freshNonce(), digestT0.Format(time.RFC3339)
	if _, err := f.verify("alice", "alice-pw", nonce, created); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Verify(context.Background(), "alice", nonce, created, specDigest(nonce, created, "alice-pw")); !errors.Is(err, ErrReplay) {
		t.Fatalf("replay on the other node: %v; want ErrReplay", err)
	}
	// And the other way round, with a wrong password costing no record.
	n2 := freshNonce()
	if _, err := other.Verify(context.Background(), "alice", n2, created, specDigest(n2, created, "wrong")); !errors.Is(err, ErrBadCredentials) {
		t.Fatal(err)
	}
	if _, err := f.verify("alice", "alice-pw", n2, created); err != nil {
		t.Fatalf("a nonce only tried with a wrong password: %v", err)
	}
	if _, err := other.Verify(context.Background(), "alice", n2, created, specDigest(n2, created, "alice-pw")); !errors.Is(err, ErrReplay) {
		t.Fatalf("replay of a nonce accepted on the first node: %v", err)
	}
}

// BenchmarkThrottleRefused is the cost of a refused sign-in check on one node (in memory) and on a node of a
// cluster (its shared counters looked up in memory too; no database call on this path).
func BenchmarkThrottleRefused(b *testing.B) {
	cfg := ThrottleConfig{AccountBurst: 10, AccountEvery: time.Minute, AddressBurst: 50, AddressEvery: time.Minute}
	s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "t.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for _, shared := range []bool{false, true} {
		name := "memory"
		c := cfg
		if shared {
			name, c.Shared = "shared", clusterlimit.New(s, clusterlimit.Options{})
		}
		b.Run(name, func(b *testing.B) {
			th := NewThrottle(c)
			for range 60 {
				th.Failed("alice", "203.0.113.9")
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := th.Check("alice", "203.0.113.9"); ok {
					b.Fatal("let through")
				}
			}
		})
	}
}
