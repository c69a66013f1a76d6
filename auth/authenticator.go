package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/tokenmanager/tokenmanager/storage"
)

// ErrBadCredentials is the one answer for an unknown user, a wrong password and a disabled account, so a caller
// cannot tell them apart.
var ErrBadCredentials = errors.New("auth: bad credentials")

// Authenticator checks user name and password pairs.
//
// Every token request carries the password (HTTP Basic), and argon2id costs ~25 ms by design, so a successful
// verification is remembered for CacheTTL under HMAC(key, user ‖ 0 ‖ password) together with the hash it was
// checked against. A hit still reads the user row: a disabled user, or a changed password (a new hash, possibly
// written by another process such as the CLI), misses the cache at once.
type Authenticator struct {
	users    storage.Users
	params   Params
	cacheKey []byte
	cacheTTL time.Duration
	now      func() time.Time
	dummy    string // hash checked for unknown users so they take as long as known ones

	mu     sync.Mutex
	cache  map[[sha256.Size]byte]cacheEntry
	flight singleflight.Group // concurrent checks of the same credentials and hash

	// slots bounds the argon2id checks running at once for credentials not in the cache: every wrong password
	// is one. Kept below the CPU count, a storm of wrong passwords cannot take every core from token checks,
	// which hash nothing; the sign-ins beyond it wait their turn.
	slots         chan struct{}
	hashing, peak atomic.Int64 // checks holding a slot now, and at most so far (for tests)
}

type cacheEntry struct {
	hash    string
	expires time.Time
}

// maxCacheEntries bounds the cache's memory; when full, expired entries go first, then everything.
const maxCacheEntries = 100_000

// Options configure an Authenticator.
type Options struct {
	Params   Params        // hashing cost for new hashes; zero means DefaultParams
	CacheKey []byte        // HMAC key for cache keys (derived from the server key)
	CacheTTL time.Duration // 0 disables the cache
	// HashConcurrency is how many sign-ins whose credentials are not in the cache may hash at once; 0 means
	// DefaultHashConcurrency.
	HashConcurrency int
	Now             func() time.Time // clock; nil means time.Now
}

// DefaultHashConcurrency is half the CPUs Go may use (at least one): failing sign-ins can take at most that.
func DefaultHashConcurrency() int { return max(1, runtime.GOMAXPROCS(0)/2) }

// New returns an Authenticator over users.
func New(users storage.Users, o Options) *Authenticator {
	if o.Params == (Params{}) {
		o.Params = DefaultParams
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.HashConcurrency <= 0 {
		o.HashConcurrency = DefaultHashConcurrency()
	}
	dummy, err := HashPassword("tokenmanager dummy password", o.Params)
	if err != nil {
		panic(err)
	}
	return &Authenticator{
		users: users, params: o.Params, cacheKey: o.CacheKey, cacheTTL: o.CacheTTL, now: o.Now, dummy: dummy,
		cache: make(map[[sha256.Size]byte]cacheEntry), slots: make(chan struct{}, o.HashConcurrency),
	}
}

// Params returns the hashing parameters used for new hashes.
func (a *Authenticator) Params() Params { return a.params }

// Authenticate returns the enabled user whose password this is, or ErrBadCredentials.
func (a *Authenticator) Authenticate(ctx context.Context, name, password string) (storage.User, error) {
	u, err := a.users.GetUser(ctx, name)
	if errors.Is(err, storage.ErrNotFound) {
		a.verify(a.dummy, password) // same cost as a real check
		return storage.User{}, ErrBadCredentials
	}
	if err != nil {
		return storage.User{}, fmt.Errorf("auth: load user: %w", err)
	}
	key := a.key(name, password)
	if a.cached(key, u.PasswordHash) {
		if u.Disabled {
			return storage.User{}, ErrBadCredentials
		}
		return u, nil
	}
	// Callers presenting the same credentials at once (a client's burst after a restart) share one check.
	res, err, _ := a.flight.Do(string(key[:])+u.PasswordHash, func() (any, error) { return a.verify(u.PasswordHash, password) })
	ok, _ := res.(bool)
	if err != nil {
		return storage.User{}, fmt.Errorf("auth: user %q: %w", name, err)
	}
	if !ok || u.Disabled {
		return storage.User{}, ErrBadCredentials
	}
	a.remember(key, u.PasswordHash)
	return u, nil
}

// verify is VerifyPassword within the Authenticator's hashing slots.
func (a *Authenticator) verify(hash, password string) (bool, error) {
	a.slots <- struct{}{}
	defer func() { <-a.slots }()
	n := a.hashing.Add(1)
	defer a.hashing.Add(-1)
	for p := a.peak.Load(); n > p && !a.peak.CompareAndSwap(p, n); p = a.peak.Load() {
	}
	return VerifyPassword(hash, password)
}

// Forget drops every cached verification. Call it after changing any password or account state in-process;
// changes from other processes are caught by the hash comparison in Authenticate.
func (a *Authenticator) Forget() {
	a.mu.Lock()
	clear(a.cache)
	a.mu.Unlock()
}

func (a *Authenticator) key(name, password string) [sha256.Size]byte {
	m := hmac.New(sha256.New, a.cacheKey)
	m.Write([]byte(name))
	m.Write([]byte{0})
	m.Write([]byte(password))
	var k [sha256.Size]byte
	m.Sum(k[:0])
	return k
}

func (a *Authenticator) cached(key [sha256.Size]byte, hash string) bool {
	if a.cacheTTL <= 0 {
		return false
	}
	a.mu.Lock()
	e, ok := a.cache[key]
	a.mu.Unlock()
	return ok && e.hash == hash && a.now().Before(e.expires)
}

func (a *Authenticator) remember(key [sha256.Size]byte, hash string) {
	if a.cacheTTL <= 0 {
		return
	}
	now := a.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.cache) >= maxCacheEntries {
		for k, e := range a.cache {
			if !now.Before(e.expires) {
				delete(a.cache, k)
			}
		}
		if len(a.cache) >= maxCacheEntries {
			clear(a.cache)
		}
	}
	a.cache[key] = cacheEntry{hash: hash, expires: now.Add(a.cacheTTL)}
}

// HashPassword hashes a new password with the Authenticator's cost, within its hashing slots: for accounts
// kept elsewhere (a vendor's end users) that share this server's bound on hashing.
func (a *Authenticator) HashPassword(password string) (string, error) {
	a.slots <- struct{}{}
	defer func() { <-a.slots }()
	return HashPassword(password, a.params)
}

// VerifyHash checks password against hash within the hashing slots. An empty hash (an unknown account) is
// checked against a dummy hash, so that it costs as much as a known one, and reports false.
func (a *Authenticator) VerifyHash(hash, password string) (bool, error) {
	if hash == "" {
		a.verify(a.dummy, password)
		return false, nil
	}
	return a.verify(hash, password)
}
