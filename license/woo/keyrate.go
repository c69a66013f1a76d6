package woo

import (
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/tokenmanager/tokenmanager/clusterlimit"
)

// maxKeyRates bounds keyRate's map; only keys that passed their check get an entry, so it stays near the number
// of keys in use, and full (idle) buckets are dropped first.
const maxKeyRates = 100_000

// keyRate is a token bucket per license key (by GlobalID), for successful operations that write rows.
type keyRate struct {
	burst  int
	limit  rate.Limit
	shared *clusterlimit.Bucket // the cluster's count per key; nil on one node

	mu sync.Mutex
	m  map[int64]*rate.Limiter
}

func newKeyRate(burst int, every time.Duration, shared *clusterlimit.Sync) *keyRate {
	return &keyRate{burst: burst, limit: rate.Every(every), m: map[int64]*rate.Limiter{},
		shared: shared.Bucket("woo-token", float64(burst), every)}
}

// take spends one of key's tokens at now and returns 0, or returns how long until one is available (spending
// none).
func (k *keyRate) take(key int64, now time.Time) time.Duration {
	id := strconv.FormatInt(key, 10)
	if d := k.shared.Wait(id, now); d > 0 {
		return d
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	l := k.m[key]
	if l == nil {
		if len(k.m) >= maxKeyRates {
			k.evict(now)
		}
		l = rate.NewLimiter(k.limit, k.burst)
		k.m[key] = l
	}
	r := l.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d
	}
	k.shared.Add(id, 1)
	return 0
}

// evict drops full buckets, which remember nothing; if that frees nothing, those at least half full, so that
// memory stays bounded while the buckets that limit most are kept; only if every bucket is nearly empty, all.
func (k *keyRate) evict(now time.Time) {
	for key, l := range k.m {
		if l.TokensAt(now) >= float64(k.burst) {
			delete(k.m, key)
		}
	}
	if len(k.m) < maxKeyRates {
		return
	}
	for key, l := range k.m {
		if l.TokensAt(now) >= float64(k.burst)/2 {
			delete(k.m, key)
		}
	}
	if len(k.m) >= maxKeyRates {
		clear(k.m)
	}
}
