package auth

import (
	"math"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// ThrottledError refuses an attempt without looking at the password: too many failures for the account or from
// the address. RetryAfter is when one more attempt will be allowed.
type ThrottledError struct{ RetryAfter time.Duration }

func (e *ThrottledError) Error() string {
	return "auth: too many failed sign-ins; retry in " + e.RetryAfter.Round(time.Second).String()
}

// Throttle slows password guessing: it counts failed sign-ins per account and per client address, each in a
// token bucket, and refuses further attempts for a key whose bucket is empty until it refills. A refused attempt
// costs no password hash, so a storm costs the attacker more than it costs us. Successes cost nothing.
//
// The account bucket stops a distributed guess at one password; the address bucket stops one address guessing
// across many accounts. Both recover by themselves (a bucket refills one attempt per Every), so a locked-out user
// is back after a short wait without an administrator.
type Throttle struct {
	accounts, addresses *buckets
	now                 func() time.Time
}

// ThrottleConfig sets the buckets. Burst failures are allowed at once; then one more per Every.
type ThrottleConfig struct {
	AccountBurst int
	AccountEvery time.Duration
	AddressBurst int
	AddressEvery time.Duration
	Now          func() time.Time // clock; nil means time.Now
}

// DefaultThrottle allows 10 quick failures per account, then one every 30 s; 50 per address (many users may
// share a NAT), then one every 3 s.
var DefaultThrottle = ThrottleConfig{AccountBurst: 10, AccountEvery: 30 * time.Second, AddressBurst: 50, AddressEvery: 3 * time.Second}

// maxThrottleKeys bounds each bucket map; full (idle) buckets are dropped first when it is reached.
const maxThrottleKeys = 100_000

// NewThrottle returns a Throttle. A zero burst switches that dimension off.
func NewThrottle(c ThrottleConfig) *Throttle {
	if c.Now == nil {
		c.Now = time.Now
	}
	return &Throttle{
		accounts:  newBuckets(c.AccountBurst, c.AccountEvery),
		addresses: newBuckets(c.AddressBurst, c.AddressEvery),
		now:       c.Now,
	}
}

// Check reports whether an attempt for account from addr may go ahead; if not, how long until one may. An
// empty account (a credential that names none, such as a bearer token) is counted per address only.
func (t *Throttle) Check(account, addr string) (retryAfter time.Duration, ok bool) {
	now := t.now()
	var a time.Duration
	if account != "" {
		a = t.accounts.wait(account, now)
	}
	b := t.addresses.wait(addressKey(addr), now)
	retryAfter = max(a, b)
	return retryAfter, retryAfter == 0
}

// Failed records a failed attempt for account from addr.
func (t *Throttle) Failed(account, addr string) {
	now := t.now()
	if account != "" {
		t.accounts.take(account, now)
	}
	t.addresses.take(addressKey(addr), now)
}

// addressKey groups IPv6 clients by /64, the block one subscriber usually gets, so that rotating through one's
// own addresses does not reset the count.
func addressKey(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil || ip.Is4() || ip.Is4In6() {
		return addr
	}
	p, _ := ip.Prefix(64)
	return p.String()
}

type buckets struct {
	burst int
	limit rate.Limit
	mu    sync.Mutex
	m     map[string]*rate.Limiter
}

func newBuckets(burst int, every time.Duration) *buckets {
	if burst <= 0 || every <= 0 {
		return nil
	}
	return &buckets{burst: burst, limit: rate.Every(every), m: map[string]*rate.Limiter{}}
}

// wait is how long until key has an attempt left (0: now).
func (b *buckets) wait(key string, now time.Time) time.Duration {
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	l := b.m[key]
	if l == nil {
		return 0
	}
	tokens := l.TokensAt(now)
	if tokens >= 1 {
		return 0
	}
	return time.Duration(math.Ceil((1 - tokens) / float64(b.limit) * float64(time.Second)))
}

func (b *buckets) take(key string, now time.Time) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	l := b.m[key]
	if l == nil {
		if len(b.m) >= maxThrottleKeys {
			b.sweep(now)
		}
		l = rate.NewLimiter(b.limit, b.burst)
		b.m[key] = l
	}
	l.AllowN(now, 1)
}

// sweep drops buckets that have refilled completely: they remember nothing a new bucket would not. If every
// bucket is in use the map is cleared, trading precision for a bound on memory.
func (b *buckets) sweep(now time.Time) {
	for k, l := range b.m {
		if l.TokensAt(now) >= float64(b.burst) {
			delete(b.m, k)
		}
	}
	if len(b.m) >= maxThrottleKeys {
		clear(b.m)
	}
}
