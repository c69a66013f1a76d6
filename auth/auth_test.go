package auth

import (
	"context"
	"errors"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/sqlite"
)

// cheap keeps tests fast; the format and comparison are what is under test.
var cheap = Params{Memory: 64, Time: 1, Threads: 1}

func TestHashAndVerify(t *testing.T) {
	h, err := HashPassword("correct horse", cheap)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") || strings.Contains(h, "correct horse") {
		t.Fatalf("hash %q", h)
	}
	if ok, err := VerifyPassword(h, "correct horse"); !ok || err != nil {
		t.Fatalf("right password: %v %v", ok, err)
	}
	if ok, _ := VerifyPassword(h, "correct horsf"); ok {
		t.Fatal("wrong password accepted")
	}
	h2, _ := HashPassword("correct horse", cheap)
	if h == h2 {
		t.Fatal("two hashes share a salt")
	}
	for _, bad := range []string{"", "$2a$10$abc", "$argon2id$v=19$m=64,t=0,p=1$c2FsdA$aGFzaGhhc2hoYXNoaGFzaA", "$argon2i$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA"} {
		if _, err := VerifyPassword(bad, "x"); err == nil {
			t.Errorf("hash %q accepted", bad)
		}
	}
	if _, err := HashPassword(strings.Repeat("x", MaxPasswordLen+1), cheap); err == nil {
		t.Fatal("overlong password hashed")
	}
}

func newAuth(t *testing.T, now *time.Time) (*Authenticator, storage.Store) {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	a := New(s, Options{Params: cheap, CacheKey: []byte("k"), CacheTTL: time.Minute, Now: func() time.Time { return *now }})
	h, _ := HashPassword("pw", cheap)
	if err := s.CreateUser(context.Background(), storage.User{Name: "alice", PasswordHash: h}); err != nil {
		t.Fatal(err)
	}
	return a, s
}

func TestAuthenticate(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1e9, 0)
	a, s := newAuth(t, &now)
	if u, err := a.Authenticate(ctx, "alice", "pw"); err != nil || u.Name != "alice" {
		t.Fatalf("good credentials: %v", err)
	}
	for _, c := range [][2]string{{"alice", "nope"}, {"bob", "pw"}, {"", ""}} {
		if _, err := a.Authenticate(ctx, c[0], c[1]); !errors.Is(err, ErrBadCredentials) {
			t.Errorf("%q/%q: %v, want ErrBadCredentials", c[0], c[1], err)
		}
	}
	// Disabled in the store (as the CLI does from another process): refused even though cached.
	s.UpdateUser(ctx, "alice", func(u *storage.User) error { u.Disabled = true; return nil })
	if _, err := a.Authenticate(ctx, "alice", "pw"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("disabled user: %v", err)
	}
}

func TestCacheFollowsPasswordChange(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1e9, 0)
	a, s := newAuth(t, &now)
	if _, err := a.Authenticate(ctx, "alice", "pw"); err != nil {
		t.Fatal(err)
	}
	if len(a.cache) != 1 {
		t.Fatalf("cache has %d entries after a success", len(a.cache))
	}
	h, _ := HashPassword("new", cheap)
	s.UpdateUser(ctx, "alice", func(u *storage.User) error { u.PasswordHash = h; return nil })
	if _, err := a.Authenticate(ctx, "alice", "pw"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("old password after change: %v", err)
	}
	if _, err := a.Authenticate(ctx, "alice", "new"); err != nil {
		t.Fatalf("new password: %v", err)
	}
}

func TestCacheExpires(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1e9, 0)
	a, _ := newAuth(t, &now)
	a.Authenticate(ctx, "alice", "pw")
	key := a.key("alice", "pw")
	u, _ := a.users.GetUser(ctx, "alice")
	if !a.cached(key, u.PasswordHash) {
		t.Fatal("not cached")
	}
	now = now.Add(time.Minute)
	if a.cached(key, u.PasswordHash) {
		t.Fatal("cache entry outlived its TTL")
	}
	a.Forget()
	if len(a.cache) != 0 {
		t.Fatal("Forget left entries")
	}
}

func BenchmarkVerifyDefaultParams(b *testing.B) {
	h, _ := HashPassword("benchmark password", DefaultParams)
	for b.Loop() {
		VerifyPassword(h, "benchmark password")
	}
}

// A burst of sign-ins with the same credentials and a cold cache (every client of a service after a restart)
// costs one argon2id computation, not one per request.
func TestConcurrentChecksOfTheSameCredentialsShareOneHash(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1e9, 0)
	a, s := newAuth(t, &now)
	slow := Params{Memory: 19 * 1024, Time: 4, Threads: 1} // long enough that every caller arrives during it
	h, _ := HashPassword("burst-pw", slow)
	if err := s.CreateUser(ctx, storage.User{Name: "bob", PasswordHash: h}); err != nil {
		t.Fatal(err)
	}
	const callers = 8
	before := hashes.Load()
	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			<-start
			_, err := a.Authenticate(ctx, "bob", "burst-pw")
			errs <- err
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := hashes.Load() - before; n != 1 {
		t.Fatalf("%d callers with the same credentials computed %d hashes, want 1", callers, n)
	}
	// Different passwords are never shared: each is checked.
	before = hashes.Load()
	if _, err := a.Authenticate(ctx, "bob", "wrong"); !errors.Is(err, ErrBadCredentials) {
		t.Fatal(err)
	}
	if n := hashes.Load() - before; n != 1 {
		t.Fatalf("a wrong password computed %d hashes, want 1", n)
	}
}

// TestFailingSignInsHashBelowTheCPUCount: however many wrong passwords and unknown users arrive at once, no
// more of them hash at a time than the Authenticator's slots, fewer than the CPUs when there are two or more.
func TestFailingSignInsHashBelowTheCPUCount(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1e9, 0)
	a, s := newAuth(t, &now)
	if procs := runtime.GOMAXPROCS(0); procs >= 2 && cap(a.slots) >= procs {
		t.Fatalf("%d hashing slots for sign-ins on %d CPUs", cap(a.slots), procs)
	}
	h, _ := HashPassword("pw", Params{Memory: 4 * 1024, Time: 2, Threads: 1}) // slow enough to overlap
	if err := s.CreateUser(ctx, storage.User{Name: "bob", PasswordHash: h}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			user := []string{"bob", "nobody"}[i%2]
			if _, err := a.Authenticate(ctx, user, "wrong"+strconv.Itoa(i)); !errors.Is(err, ErrBadCredentials) {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if p := a.peak.Load(); p < 1 || p > int64(cap(a.slots)) {
		t.Fatalf("%d failing sign-ins hashed at once; the bound is %d", p, cap(a.slots))
	}
	if b := New(s, Options{HashConcurrency: 3}); cap(b.slots) != 3 {
		t.Fatalf("HashConcurrency 3 gave %d slots", cap(b.slots))
	}
}
