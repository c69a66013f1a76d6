// Package signlimit limits the signed licenses the licensing surfaces answer, one limiter shared by all of them.
package signlimit

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/tokenmanager/tokenmanager/clusterlimit"
	"github.com/tokenmanager/tokenmanager/license"
)

// A signed license costs an RSA-2048 private-key operation (about a millisecond of CPU), and the access token
// that asks for one usually ships inside the vendor's app, so anyone can ask. Signed answers are therefore
// limited by two token buckets: one per access token (or per vendor signed in with a password) and one per
// client address (IPv6: per /64). Unsigned answers are not limited: they cost what any read costs.

// Limits configure the limits.
type Limits struct {
	Token   Limit // per access token, or per vendor signed in with a password
	Address Limit // per client address (IPv6: per /64)
	// Shared, when set, makes both limits hold across every node syncing through the same database.
	Shared *clusterlimit.Sync
}

// Limit is one bucket's size: Burst signed answers at once, then one more per Every. Every <= 0 switches
// the bucket off.
type Limit struct {
	Burst int
	Every time.Duration
}

// Default limits: a busy app's whole user base behind one token, and one office behind one address.
var (
	DefaultToken   = Limit{Burst: 600, Every: 20 * time.Millisecond}
	DefaultAddress = Limit{Burst: 60, Every: time.Second}
)

// maxSignBuckets bounds each map. A bucket is made only for a signature that was granted, so the per-token
// limit bounds how fast the address map grows; the bound is a backstop.
const maxSignBuckets = 20_000

type signBuckets struct {
	limit  Limit
	m      map[string]*rate.Limiter
	shared *clusterlimit.Bucket // the cluster's count per key; nil on one node
}

func newSignBuckets(name string, l Limit, shared *clusterlimit.Sync) *signBuckets {
	if l.Every <= 0 {
		return nil
	}
	l.Burst = max(l.Burst, 1)
	return &signBuckets{limit: l, m: map[string]*rate.Limiter{}, shared: shared.Bucket(name, float64(l.Burst), l.Every)}
}

// wait is how long until key has a signature left (0: now); a key without a bucket has a full one.
func (b *signBuckets) wait(key string, now time.Time) time.Duration {
	if b == nil {
		return 0
	}
	if d := b.shared.Wait(key, now); d > 0 {
		return d
	}
	l := b.m[key]
	if l == nil {
		if len(b.m) >= maxSignBuckets && !b.evict(now) {
			return b.limit.Every // every bucket is limiting someone: refuse newcomers rather than forget one
		}
		return 0
	}
	tokens := l.TokensAt(now)
	if tokens >= 1 {
		return 0
	}
	return time.Duration(math.Ceil((1 - tokens) * float64(b.limit.Every)))
}

func (b *signBuckets) take(key string, now time.Time) {
	if b == nil {
		return
	}
	b.shared.Add(key, 1)
	l := b.m[key]
	if l == nil {
		l = rate.NewLimiter(rate.Every(b.limit.Every), b.limit.Burst)
		b.m[key] = l
	}
	l.AllowN(now, 1)
}

// evict drops buckets that are full again (forgetting them changes nothing) and reports whether room was made.
func (b *signBuckets) evict(now time.Time) bool {
	for k, l := range b.m {
		if l.TokensAt(now) >= float64(b.limit.Burst) {
			delete(b.m, k)
		}
	}
	return len(b.m) < maxSignBuckets
}

// Limiter is both buckets: a signature is granted only when both have one, and then taken from both.
type Limiter struct {
	log     *slog.Logger
	mu      sync.Mutex
	token   *signBuckets
	address *signBuckets
}

// New returns the limiter of l; its refusals are logged at debug level to log.
func New(l Limits, log *slog.Logger) *Limiter {
	return &Limiter{log: log, token: newSignBuckets("sign-token", l.Token, l.Shared),
		address: newSignBuckets("sign-address", l.Address, l.Shared)}
}

// allow takes a signature for the caller and the address, or returns how long until one would be granted.
func (l *Limiter) allow(caller, address string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if d := max(l.token.wait(caller, now), l.address.wait(address, now)); d > 0 {
		return d
	}
	l.token.take(caller, now)
	l.address.take(address, now)
	return 0
}

// signAddressKey groups IPv6 clients by /64, the block one subscriber usually gets.
func signAddressKey(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil || ip.Is4() || ip.Is4In6() {
		return addr
	}
	p, _ := ip.Prefix(64)
	return p.String()
}

// signCaller names the bucket of the access a signature is asked with: its token, or its vendor.
func signCaller(a *license.Access) string {
	if t, ok := a.Token(); ok {
		return "token:" + strconv.FormatInt(t.ID, 10)
	}
	return "vendor:" + a.VendorName()
}

// LimitedError is a signed answer refused by the limit; Wait is when one more would be granted.
type LimitedError struct{ Wait time.Duration }

func (e *LimitedError) Error() string {
	return fmt.Sprintf("too many signed answers; retry in %v", e.Wait)
}

// Message is the refusal in words, with the wait in whole seconds (rounded up).
func (e *LimitedError) Message() string {
	return "Too many signed requests. Try again in " + strconv.Itoa(int((e.Wait+time.Second-1)/time.Second)) + " seconds."
}

// Allow checks the limits for a signed answer to a, for the client at address at now; nil when granted.
func (l *Limiter) Allow(ctx context.Context, a *license.Access, address string, now time.Time) *LimitedError {
	wait := l.allow(signCaller(a), signAddressKey(address), now)
	if wait <= 0 {
		return nil
	}
	l.log.DebugContext(ctx, "signed answer limited", "caller", signCaller(a), "client", address)
	return &LimitedError{Wait: wait}
}
