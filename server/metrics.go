package server

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tokenmanager/tokenmanager/audit"
	"github.com/tokenmanager/tokenmanager/server/manage"
	"github.com/tokenmanager/tokenmanager/storage"
)

// metrics are the figures /metrics exposes. Each Server has its own registry, so that tests can run several.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec   // route, method, code
	duration *prometheus.HistogramVec // route
	issued   *prometheus.CounterVec   // kind
	checks   *prometheus.CounterVec   // result: ok or the refusal reason
	// licensing counts licensing API calls by method (the lower-case path of the method table) and result.
	licensing *prometheus.CounterVec

	// byRequest keeps the counter and histogram of each route, method and status once looked up (requestKey →
	// requestMetrics): WithLabelValues hashes the labels and takes a lock on every request. Bounded by the
	// routes (the mux's patterns), methodLabel's eight values and the status codes the server writes.
	byRequest sync.Map
}

type requestKey struct {
	route, method string
	status        int
}

type requestMetrics struct {
	count    prometheus.Counter
	duration prometheus.Observer
}

// latencyBuckets reach down to 100 µs: a token check takes well under a millisecond.
var latencyBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}

func newMetrics(live *liveCounter, rec *audit.Recorder) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tokenmanager_http_requests_total", Help: "HTTP requests by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "tokenmanager_http_request_duration_seconds", Help: "Time to answer an HTTP request, by route pattern.",
			Buckets: latencyBuckets,
		}, []string{"route"}),
		issued: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tokenmanager_tokens_issued_total", Help: "Tokens issued, by kind.",
		}, []string{"kind"}),
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tokenmanager_token_checks_total", Help: "Token checks (verify, logout), by result: ok or the reason for refusal.",
		}, []string{"result"}),
	}
	m.licensing = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tokenmanager_licensing_calls_total", Help: "Licensing API calls by method and result (ok, bad_input, denied, not_found, …).",
	}, []string{"method", "result"})
	m.registry.MustRegister(m.requests, m.duration, m.issued, m.checks, m.licensing,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if live != nil {
		m.registry.MustRegister(live)
	}
	if rec != nil {
		m.registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "tokenmanager_audit_dropped_total", Help: "Audit events lost to a full buffer or a failed write.",
		}, func() float64 { return float64(rec.Dropped()) }))
	}
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

func (m *metrics) observe(r *http.Request, status int, took time.Duration) {
	route := r.Pattern
	if route == "" {
		route = "unmatched"
	}
	key := requestKey{route: route, method: methodLabel(r.Method), status: status}
	rm, ok := m.byRequest.Load(key)
	if !ok {
		rm, _ = m.byRequest.LoadOrStore(key, requestMetrics{
			count:    m.requests.WithLabelValues(route, key.method, strconv.Itoa(status)),
			duration: m.duration.WithLabelValues(route)})
	}
	rm.(requestMetrics).count.Inc()
	rm.(requestMetrics).duration.Observe(took.Seconds())
}

// methodLabel keeps the label's values few: a client may send any method name.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodHead, http.MethodOptions, http.MethodPatch:
		return m
	}
	return "other"
}

// liveCounter reports live tokens and sessions, counted in the database so that every node of a cluster reports
// the same figures. Counting scans the tokens table (about 100 ms at a million tokens), so a count is kept for
// every interval: however often and however many scrapers ask, the database is counted at most once per interval.
type liveCounter struct {
	stats storage.Stats
	idle  time.Duration
	now   func() time.Time
	every time.Duration

	mu               sync.Mutex // held while counting, so concurrent scrapes wait for one count
	at               time.Time  // when the figures below were counted; zero: never
	tokens, sessions int
	err              error

	// grants counts the live OAuth and PowerAuth tokens in the same interval, when the store can (nil: not).
	grants           grantCounter
	oauth, powerauth int
}

// grantCounter is the store counting live OAuth access tokens and PowerAuth tokens.
type grantCounter interface {
	CountLiveGrants(ctx context.Context, now time.Time) (oauth, powerauth int, err error)
}

// liveCountInterval is how long a count of live tokens and sessions is reported before the next: shorter than
// Prometheus' usual scrape interval, so a scraper rarely sees a figure older than its own last scrape.
const liveCountInterval = 10 * time.Second

var (
	liveTokensDesc    = prometheus.NewDesc("tokenmanager_live_tokens", "Tokens neither revoked nor expired.", nil, nil)
	liveSessionsDesc  = prometheus.NewDesc("tokenmanager_live_sessions", "Sessions neither ended nor idle.", nil, nil)
	liveOAuthDesc     = prometheus.NewDesc("tokenmanager_live_oauth_tokens", "Stored OAuth access tokens neither revoked nor expired (JWT access tokens are not stored).", nil, nil)
	livePowerAuthDesc = prometheus.NewDesc("tokenmanager_live_powerauth_tokens", "PowerAuth tokens.", nil, nil)
)

func (c *liveCounter) Describe(ch chan<- *prometheus.Desc) {
	ch <- liveTokensDesc
	ch <- liveSessionsDesc
	if c.grants != nil {
		ch <- liveOAuthDesc
		ch <- livePowerAuthDesc
	}
}

func (c *liveCounter) Collect(ch chan<- prometheus.Metric) {
	n, err := c.counts()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(liveTokensDesc, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(liveTokensDesc, prometheus.GaugeValue, float64(n.Tokens))
	ch <- prometheus.MustNewConstMetric(liveSessionsDesc, prometheus.GaugeValue, float64(n.Sessions))
	if c.grants != nil {
		ch <- prometheus.MustNewConstMetric(liveOAuthDesc, prometheus.GaugeValue, float64(n.OAuth))
		ch <- prometheus.MustNewConstMetric(livePowerAuthDesc, prometheus.GaugeValue, float64(n.PowerAuth))
	}
}

// counts returns the figures of this interval, counting them if none has been taken yet. A failed count is kept
// for the interval too: a database in trouble is not made to count again at every scrape. /metrics and the
// management API's overview both read them, so neither adds a count of its own.
func (c *liveCounter) counts() (manage.LiveCounts, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if c.at.IsZero() || now.Before(c.at) || now.Sub(c.at) >= c.every {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c.tokens, c.sessions, c.err = c.stats.CountLive(ctx, now, now.Add(-c.idle))
		if c.err == nil && c.grants != nil {
			c.oauth, c.powerauth, c.err = c.grants.CountLiveGrants(ctx, now)
		}
		c.at = now
	}
	return manage.LiveCounts{Tokens: c.tokens, Sessions: c.sessions, OAuth: c.oauth, PowerAuth: c.powerauth}, c.err
}
