package apiclient

import (
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/tokenmanager/tokenmanager/clusterlimit"
)

// maxLimiters bounds the limiter map. Entries are made only for authenticated clients, so it stays at the
// number of active clients; the bound is a backstop.
const maxLimiters = 10_000

// limiter is a token bucket per client id. SkyKick has "strict rate limits on the auth operation" so that
// integrators cache their tokens; this is ours.
type limiter struct {
	every  time.Duration
	burst  int
	shared *clusterlimit.Bucket // the cluster's count of each client's tokens; nil on one node

	mu sync.Mutex
	m  map[string]*rate.Limiter
}

// newLimiter returns nil (no limit) for every <= 0.
func newLimiter(every time.Duration, burst int, shared *clusterlimit.Sync) *limiter {
	if every <= 0 {
		return nil
	}
	burst = max(burst, 1)
	return &limiter{every: every, burst: burst, m: make(map[string]*rate.Limiter),
		shared: shared.Bucket("oauth-client", float64(burst), every)}
}

// reserve takes one token from id's bucket at now, or returns how long until one is available (taking none).
func (l *limiter) reserve(id string, now time.Time) time.Duration {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if d := l.shared.Wait(id, now); d > 0 {
		return d // refused by the cluster's count: nothing taken, nothing written
	}
	lim, ok := l.m[id]
	if !ok {
		if len(l.m) >= maxLimiters {
			l.evict(now)
		}
		lim = rate.NewLimiter(rate.Every(l.every), l.burst)
		l.m[id] = lim
	}
	r := lim.ReserveN(now, 1)
	if !r.OK() {
		return l.every
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d
	}
	l.shared.Add(id, 1)
	return 0
}

// evict drops buckets that are full again: forgetting them changes nothing.
func (l *limiter) evict(now time.Time) {
	for id, lim := range l.m {
		if lim.TokensAt(now) >= float64(l.burst) {
			delete(l.m, id)
		}
	}
	if len(l.m) >= maxLimiters {
		clear(l.m) // all busy: lose some precision rather than memory
	}
}
