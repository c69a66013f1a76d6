package signin

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/tokenmanager/tokenmanager/storage"
)

// A throttled refusal is cheap to send and comes in floods, so it is reported per window, not per request:
// the first refusal of an account and address in a window writes an audit row ("refusals=1") and a WARN line
// at once; the others of that window are counted and written as one row ("refusals=N") once the window has
// ended, with the next throttled refusal from anyone. The refusals= figures of the rows add up to the refusals.
const (
	refusalWindow  = time.Minute
	maxRefusalKeys = 10_000 // beyond it, new account/address pairs share one tally, named "*"
)

type refusalKey struct{ subject, client string }

type refusalTally struct {
	start time.Time
	n     int // refusals in the window, the first included
}

// refusalReport is one audit row due: n refusals of key.
type refusalReport struct {
	key refusalKey
	n   int
}

type refusalLog struct {
	mu        sync.Mutex
	tallies   map[refusalKey]*refusalTally
	lastSweep time.Time
	lines     *rate.Limiter // WARN lines, across every pair: many pairs must not flood the log either
	unlogged  int           // first refusals whose line lines refused, told in the next line
}

func newRefusalLog() *refusalLog {
	return &refusalLog{tallies: map[refusalKey]*refusalTally{}, lines: rate.NewLimiter(1, 10)}
}

// note counts a refusal of k at now. It returns the audit rows due, and whether to log this refusal (with the
// number of first refusals left unlogged since the last line).
func (l *refusalLog) note(k refusalKey, now time.Time) (due []refusalReport, logIt bool, unlogged int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) >= time.Second {
		l.lastSweep = now
		for key, t := range l.tallies {
			if now.Sub(t.start) >= refusalWindow {
				if t.n > 1 {
					due = append(due, refusalReport{key, t.n - 1})
				}
				delete(l.tallies, key)
			}
		}
	}
	t := l.tallies[k]
	if t == nil && len(l.tallies) >= maxRefusalKeys {
		k = refusalKey{"*", "*"}
		t = l.tallies[k]
	}
	if t != nil && now.Sub(t.start) < refusalWindow {
		t.n++
		return due, false, 0
	}
	if t != nil && t.n > 1 { // ended, not yet swept
		due = append(due, refusalReport{k, t.n - 1})
	}
	l.tallies[k] = &refusalTally{start: now, n: 1}
	due = append(due, refusalReport{k, 1})
	if !l.lines.AllowN(now, 1) {
		l.unlogged++
		return due, false, 0
	}
	unlogged, l.unlogged = l.unlogged, 0
	return due, true, unlogged
}

// refused reports a throttled refusal of subject (a user name, "client:ID", or "") from the request's address.
func (g *Guard) refused(r *http.Request, subject string) {
	client := g.host(r)
	due, logIt, unlogged := g.refusals.note(refusalKey{subject, client}, g.now())
	for _, d := range due {
		g.audit.Record(storage.AuditEvent{Action: "login.fail", Outcome: "throttled", Subject: d.key.subject,
			ClientHost: d.key.client, Detail: "refusals=" + strconv.Itoa(d.n)})
	}
	if logIt {
		g.log.WarnContext(r.Context(), "sign-in throttled; further refusals in the next minute are counted, not logged",
			"account", subject, "client", client, "unlogged_pairs", unlogged)
	}
}
