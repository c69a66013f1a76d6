package auth

import (
	"crypto/sha256"
	"math"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/tokenmanager/tokenmanager/clusterlimit"
)

// ThrottledError refuses an attempt without looking at the password: too many failures for the account or from
// the address. RetryAfter is when one more attempt will be allowed.
type ThrottledError struct{ RetryAfter time.Duration }

func (e *ThrottledError) Error() string {
	return "auth: too many failed sign-ins; retry in " + e.RetryAfter.Round(time.Second).String()
}

// Throttle slows password guessing without letting a guesser lock out the account's owner. It counts failed
// sign-ins in token buckets and refuses further attempts for a bucket that is empty until it refills. A refused
// attempt costs no password hash, so a storm costs the attacker more than it costs us. Successes cost nothing.
//
//   - Per address (IPv6: per /64, and per /48 with four times the allowance): stops one address, or one routed
//     network, guessing across many accounts.
//   - Per account, counting failures from anywhere: stops a distributed guess at one password. It applies only
//     to addresses that have themselves failed for that account within the account bucket's refill time
//     (burst × interval), and a good sign-in clears that mark. So a storm from many addresses slows the
//     attackers down while the owner, from an address that has not failed, signs in at once.
//
// Every bucket recovers by itself (one attempt per interval), so nobody waits for an administrator. Memory is
// bounded: at maxThrottleKeys keys a map drops buckets that have refilled completely (they remember nothing a
// new one would not); it never drops one that is limiting. When every bucket is in use, new keys share one
// overflow bucket, and address marks fall back to "this address failed recently for any account": an attack
// big enough to fill the maps is limited more coarsely, never forgotten.
//
// With a clusterlimit.Sync (several nodes on one database) every bucket and mark also has a cluster-wide twin,
// and an attempt is refused when either refuses: the node's own buckets count exactly what it saw, the twins
// what the whole cluster saw, up to one sync interval ago.
type Throttle struct {
	accounts, addresses, networks *buckets
	marks                         *marks // account+address pairs that failed recently
	now                           func() time.Time
	shared                        sharedThrottle
}

// sharedThrottle is the cluster-wide twin of each bucket, and of the marks: a mark is a bucket set to 1 that
// drains in the marks' ttl. All nil on a single node.
type sharedThrottle struct {
	accounts, addresses, networks, marks *clusterlimit.Bucket
}

// ThrottleConfig sets the buckets. Burst failures are allowed at once; then one more per Every.
type ThrottleConfig struct {
	AccountBurst int
	AccountEvery time.Duration
	AddressBurst int
	AddressEvery time.Duration
	Now          func() time.Time // clock; nil means time.Now
	// Shared, when set, makes the limits hold across every node syncing through the same database.
	Shared *clusterlimit.Sync
}

// DefaultThrottle allows 10 quick failures per account, then one every 30 s; 50 per address (many users may
// share a NAT), then one every 3 s.
var DefaultThrottle = ThrottleConfig{AccountBurst: 10, AccountEvery: 30 * time.Second, AddressBurst: 50, AddressEvery: 3 * time.Second}

// maxThrottleKeys bounds each bucket map (about 200 bytes a key).
const maxThrottleKeys = 100_000

// networkFactor is how much more an IPv6 /48 may fail, as a whole, than one of its /64s: a routed /48 holds
// 65,536 /64s, which would otherwise each get a full allowance.
const networkFactor = 4

// NewThrottle returns a Throttle. A zero burst switches that dimension off.
func NewThrottle(c ThrottleConfig) *Throttle {
	if c.Now == nil {
		c.Now = time.Now
	}
	t := &Throttle{
		accounts:  newBuckets(c.AccountBurst, c.AccountEvery),
		addresses: newBuckets(c.AddressBurst, c.AddressEvery),
		networks:  newBuckets(c.AddressBurst*networkFactor, c.AddressEvery/networkFactor),
		now:       c.Now,
	}
	if t.accounts != nil {
		t.marks = &marks{ttl: time.Duration(c.AccountBurst) * c.AccountEvery, m: map[string]time.Time{}}
	}
	if c.Shared != nil {
		t.shared.addresses = c.Shared.Bucket("signin-address", float64(c.AddressBurst), c.AddressEvery)
		t.shared.networks = c.Shared.Bucket("signin-network", float64(c.AddressBurst*networkFactor), c.AddressEvery/networkFactor)
		if t.accounts != nil {
			t.shared.accounts = c.Shared.Bucket("signin-account", float64(c.AccountBurst), c.AccountEvery)
			t.shared.marks = c.Shared.Bucket("signin-mark", 1, t.marks.ttl)
		}
	}
	return t
}

// Check reports whether an attempt for account from addr may go ahead; if not, how long until one may. An
// empty account (a credential that names none, such as a bearer token) is counted per address only.
func (t *Throttle) Check(account, addr string) (retryAfter time.Duration, ok bool) {
	now := t.now()
	account = accountKey(account)
	key, network := addressKeys(addr)
	retryAfter = max(t.addresses.wait(key, now), t.shared.addresses.Wait(key, now))
	if network != "" {
		retryAfter = max(retryAfter, t.networks.wait(network, now), t.shared.networks.Wait(network, now))
	}
	if account != "" && t.accounts != nil && t.failedFrom(account, key, now) {
		if w := max(t.accounts.wait(account, now), t.shared.accounts.Wait(account, now)); w > 0 {
			// An address that keeps trying while refused stays marked, rather than come back clean later. The
			// cluster's mark is renewed only once half drained: a storm of refusals writes nothing per request.
			pair := pairKey(account, key)
			t.marks.mark(pair, now)
			if t.shared.marks != nil && t.shared.marks.Level(pair, now) < 0.5 {
				t.shared.marks.Set(pair, 1)
			}
			retryAfter = max(retryAfter, w)
		}
	}
	return retryAfter, retryAfter == 0
}

// Failed records a failed attempt for account from addr.
func (t *Throttle) Failed(account, addr string) {
	now := t.now()
	account = accountKey(account)
	key, network := addressKeys(addr)
	if account != "" && t.accounts != nil {
		t.accounts.take(account, now)
		t.marks.mark(pairKey(account, key), now)
		t.shared.accounts.Add(account, 1)
		t.shared.marks.Set(pairKey(account, key), 1)
	}
	t.addresses.take(key, now)
	t.shared.addresses.Add(key, 1)
	if network != "" {
		t.networks.take(network, now)
		t.shared.networks.Add(network, 1)
	}
}

// Succeeded records a good sign-in for account from addr: the address is no longer one that failed for it.
func (t *Throttle) Succeeded(account, addr string) {
	if account == "" || t.marks == nil {
		return
	}
	key, _ := addressKeys(addr)
	pair := pairKey(accountKey(account), key)
	t.marks.clear(pair)
	if t.shared.marks != nil && t.shared.marks.Level(pair, t.now()) > 0 {
		t.shared.marks.Set(pair, 0) // written only when there is a mark to clear
	}
}

// failedFrom reports whether the address (key) failed for account recently: only then does the account's own
// bucket apply to it.
func (t *Throttle) failedFrom(account, key string, now time.Time) bool {
	pair := pairKey(account, key)
	if t.shared.marks != nil {
		// Every mark this node makes is also the cluster's, at once (until the next sync, in memory), and a good
		// sign-in on any node clears it there: the cluster's mark decides, unless it had no room to keep one.
		if t.shared.marks.Level(pair, now) > 0 {
			return true
		}
		if !t.shared.marks.Saturated() {
			return false
		}
	}
	marked, known := t.marks.marked(pair, now)
	if known {
		return marked
	}
	// The marks overflowed, so this pair may have failed unrecorded: treat any address that failed recently,
	// for whichever account, as one that failed for this one.
	return t.addresses.used(key, now)
}

func pairKey(account, addrKey string) string { return account + "\x00" + addrKey }

// accountKey is account, or a digest of it when long: a key per unknown name an attacker makes up must not cost
// kilobytes.
func accountKey(account string) string {
	if len(account) <= 64 {
		return account
	}
	sum := sha256.Sum256([]byte(account))
	return "\x00" + string(sum[:16])
}

// addressKeys is the bucket key of addr and, for IPv6, of its /48. IPv6 clients are grouped by /64, the block
// one subscriber usually gets, so that rotating through one's own addresses does not reset the count.
func addressKeys(addr string) (key, network string) {
	ip, err := netip.ParseAddr(addr)
	if err != nil || ip.Is4() || ip.Is4In6() {
		return addr, ""
	}
	p64, _ := ip.Prefix(64)
	p48, _ := ip.Prefix(48)
	return p64.String(), p48.String()
}

type buckets struct {
	burst     int
	limit     rate.Limit
	mu        sync.Mutex
	m         map[string]*rate.Limiter
	overflow  *rate.Limiter // shared by the keys that found the map full of buckets in use
	lastSweep time.Time
}

func newBuckets(burst int, every time.Duration) *buckets {
	if burst <= 0 || every <= 0 {
		return nil
	}
	return &buckets{burst: burst, limit: rate.Every(every), m: map[string]*rate.Limiter{},
		overflow: rate.NewLimiter(rate.Every(every), burst)}
}

// lookup is key's bucket: its own, the overflow bucket when the map is full, or nil when it has none.
func (b *buckets) lookup(key string) *rate.Limiter {
	if l := b.m[key]; l != nil {
		return l
	}
	if len(b.m) >= maxThrottleKeys {
		return b.overflow
	}
	return nil
}

// wait is how long until key has an attempt left (0: now).
func (b *buckets) wait(key string, now time.Time) time.Duration {
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	l := b.lookup(key)
	if l == nil {
		return 0
	}
	tokens := l.TokensAt(now)
	if tokens >= 1 {
		return 0
	}
	return time.Duration(math.Ceil((1 - tokens) / float64(b.limit) * float64(time.Second)))
}

// used reports whether key's bucket has taken a failure that has not refilled yet.
func (b *buckets) used(key string, now time.Time) bool {
	if b == nil {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	l := b.lookup(key)
	return l != nil && l.TokensAt(now) < float64(b.burst)
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
		if len(b.m) >= maxThrottleKeys {
			b.overflow.AllowN(now, 1)
			return
		}
		l = rate.NewLimiter(b.limit, b.burst)
		b.m[key] = l
	}
	l.AllowN(now, 1)
}

// sweep drops buckets that have refilled completely: they remember nothing a new bucket would not. Buckets that
// still hold failures are kept, whatever it costs the new key. A scan of the whole map runs at most once a
// second, so a flood of new keys against a full map does not scan it each time.
func (b *buckets) sweep(now time.Time) {
	if !b.lastSweep.IsZero() && now.Sub(b.lastSweep) < time.Second {
		return
	}
	b.lastSweep = now
	for k, l := range b.m {
		if l.TokensAt(now) >= float64(b.burst) {
			delete(b.m, k)
		}
	}
}

// marks remembers when an account+address pair last failed, for ttl. Bounded like buckets; when full of live
// marks it says so (overflowing) rather than forget one.
type marks struct {
	ttl         time.Duration
	mu          sync.Mutex
	m           map[string]time.Time
	overflowEnd time.Time // until then a pair without a mark may have failed unrecorded
	lastSweep   time.Time
}

func (k *marks) mark(key string, now time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.m[key]; !ok && len(k.m) >= maxThrottleKeys {
		if k.lastSweep.IsZero() || now.Sub(k.lastSweep) >= time.Second {
			k.lastSweep = now
			for p, at := range k.m {
				if now.Sub(at) >= k.ttl {
					delete(k.m, p)
				}
			}
		}
		if len(k.m) >= maxThrottleKeys {
			k.overflowEnd = now.Add(k.ttl)
			return
		}
	}
	k.m[key] = now
}

func (k *marks) clear(key string) {
	k.mu.Lock()
	delete(k.m, key)
	k.mu.Unlock()
}

// marked reports whether key failed within ttl; known is false when it has no mark but might have failed
// while the map was full.
func (k *marks) marked(key string, now time.Time) (marked, known bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if at, ok := k.m[key]; ok {
		return now.Sub(at) < k.ttl, true
	}
	return false, !now.Before(k.overflowEnd)
}
