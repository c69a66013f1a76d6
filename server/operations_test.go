package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/tokenmanager/tokenmanager/server"
	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
)

// scrape reads /metrics with the Prometheus text parser.
func (s *stack) scrape(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	resp := servertest.Do(t, "GET", s.URL+"/metrics", "", nil)
	if resp.Status != 200 {
		t.Fatalf("/metrics: %d", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(strings.NewReader(resp.Body))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	return families
}

// value returns the value of the family's sample whose labels include want (-1 if none).
func value(families map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	f := families[name]
	if f == nil {
		return -1
	}
next:
	for _, m := range f.GetMetric() {
		for k, v := range want {
			found := false
			for _, l := range m.GetLabel() {
				if l.GetName() == k && l.GetValue() == v {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	return -1
}

func TestMetrics(t *testing.T) {
	s := newStack(t)
	for range 3 {
		s.SignIn(t, "simon0897", "s3cret", "")
	}
	tok, sess, _ := s.SignIn(t, "simon0897", "s3cret", "")
	open := s.restJSON(t, "/security/rest/token/access/60")["access_token"].(string)
	s.Verify(t, tok, sess)
	s.Verify(t, tok, "")      // no SESSION
	s.Verify(t, open+"x", "") // tampered
	servertest.Do(t, "GET", s.URL+"/nowhere", "", nil)
	servertest.Do(t, "BREW", s.URL+"/healthz", "", nil) // a method nobody routes

	m := s.scrape(t)
	sessionRoute := map[string]string{"route": "GET /security/rest/token/access/session/{ttl}", "method": "GET", "code": "200"}
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"tokenmanager_http_requests_total", sessionRoute, 4},
		{"tokenmanager_http_requests_total", map[string]string{"route": "GET " + server.PathVerify, "code": "401"}, 2},
		{"tokenmanager_http_requests_total", map[string]string{"route": "unmatched", "code": "404"}, 1},
		{"tokenmanager_http_requests_total", map[string]string{"method": "other"}, 1},
		{"tokenmanager_http_request_duration_seconds", map[string]string{"route": "GET /security/rest/token/access/session/{ttl}"}, 4},
		{"tokenmanager_tokens_issued_total", map[string]string{"kind": "session"}, 4},
		{"tokenmanager_tokens_issued_total", map[string]string{"kind": "open"}, 1},
		{"tokenmanager_token_checks_total", map[string]string{"result": "ok"}, 1},
		{"tokenmanager_token_checks_total", map[string]string{"result": "session_mismatch"}, 1},
		{"tokenmanager_token_checks_total", map[string]string{"result": "malformed"}, 1},
		{"tokenmanager_live_tokens", nil, 5},
		{"tokenmanager_live_sessions", nil, 4},
	}
	for _, c := range checks {
		if got := value(m, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes"} {
		if m[name] == nil {
			t.Errorf("%s missing", name)
		}
	}
	// Idle sessions and their tokens leave the gauges.
	s.Clock.Add(31 * 60e9)
	if got := value(s.scrape(t), "tokenmanager_live_sessions", nil); got != 0 {
		t.Errorf("live sessions after the idle timeout = %v", got)
	}
}

func TestHealthAndReadiness(t *testing.T) {
	s := newStack(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		if r := servertest.Do(t, "GET", s.URL+path, "", nil); r.Status != 200 {
			t.Errorf("%s: %d", path, r.Status)
		}
	}
	s.Store.Close() // the database goes away
	if r := servertest.Do(t, "GET", s.URL+"/readyz", "", nil); r.Status != 503 {
		t.Errorf("/readyz without a database: %d", r.Status)
	}
	if r := servertest.Do(t, "GET", s.URL+"/healthz", "", nil); r.Status != 200 {
		t.Errorf("/healthz without a database: %d (liveness must not depend on it)", r.Status)
	}
}

// syncBuffer collects log output from concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}
func (b *syncBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.b.String() }

func TestRequestIDs(t *testing.T) {
	var logs syncBuffer
	s := newStack(t, func(su *servertest.Setup) {
		su.Log = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	resp := servertest.Do(t, "GET", s.URL+server.PathVerify, "", map[string]string{"Authorization": "Bearer nonsense", "X-Request-Id": "trace-42.a_b"})
	if resp.Header.Get("X-Request-Id") != "trace-42.a_b" {
		t.Fatalf("a plain incoming id is echoed; got %q", resp.Header.Get("X-Request-Id"))
	}
	for _, bad := range []string{"has space", "semi;colon", strings.Repeat("x", 65), `{"json":1}`} {
		resp := servertest.Do(t, "GET", s.URL+"/healthz", "", map[string]string{"X-Request-Id": bad})
		if got := resp.Header.Get("X-Request-Id"); got == bad || len(got) != 16 {
			t.Errorf("incoming id %q: answered %q, want a fresh one", bad, got)
		}
	}
	// Every log line of the refused request carries its id.
	var refused map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["msg"] == "token refused" {
			refused = rec
		}
		if rec["msg"] == "request" && rec["path"] == server.PathVerify && rec["request_id"] != "trace-42.a_b" {
			t.Errorf("access log line without the request id: %s", line)
		}
	}
	if refused == nil || refused["request_id"] != "trace-42.a_b" || refused["reason"] != "malformed" {
		t.Fatalf("token refusal logged as %v", refused)
	}
	if strings.Contains(logs.String(), "nonsense") {
		t.Fatal("the presented token reached the log")
	}
}

// countingProbe is the real store, counting the live-token counts asked of it.
type countingProbe struct {
	server.Probe
	counts *atomic.Int64
}

func (p countingProbe) CountLive(ctx context.Context, now, seenSince time.Time) (int, int, error) {
	p.counts.Add(1)
	return p.Probe.CountLive(ctx, now, seenSince)
}

// Counting live tokens scans the table: whatever the scrape rate, and however many scrapers at once, the
// database is counted at most once per interval.
func TestMetricsCountLiveOncePerInterval(t *testing.T) {
	var counts atomic.Int64
	s := newStack(t, func(su *servertest.Setup) {
		su.Wire = append(su.Wire, func(st *servertest.Stack, d *server.Deps) { d.Probe = countingProbe{d.Probe, &counts} })
	})
	s.SignIn(t, "simon0897", "s3cret", "")
	var wg sync.WaitGroup
	for range 4 { // four scrapers at once, 25 scrapes each
		wg.Go(func() {
			for range 25 {
				if got := value(s.scrape(t), "tokenmanager_live_tokens", nil); got != 1 {
					t.Errorf("live tokens = %v, want 1", got)
				}
			}
		})
	}
	wg.Wait()
	if n := counts.Load(); n != 1 {
		t.Fatalf("100 scrapes within one interval counted the database %d times, want 1", n)
	}
	// The next interval counts again, and sees what changed.
	s.SignIn(t, "simon0897", "s3cret", "")
	s.Clock.Add(11 * time.Second)
	for range 10 {
		if got := value(s.scrape(t), "tokenmanager_live_tokens", nil); got != 2 {
			t.Fatalf("live tokens in the next interval = %v, want 2", got)
		}
	}
	if n := counts.Load(); n != 2 {
		t.Fatalf("two intervals counted the database %d times, want 2", n)
	}
}
