package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func writeFile(p, s string) error { return os.WriteFile(p, []byte(s), 0o600) }

func TestRunLoadCountsOKAndErrors(t *testing.T) {
	var n atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Test") != "1" {
			http.Error(w, "missing header", http.StatusBadRequest)
			return
		}
		if n.Add(1)%4 == 0 {
			http.Error(w, "every fourth fails", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte(`{"ok":true}`))
	}))
	defer ts.Close()

	tmpl := &reqTemplate{Method: http.MethodGet, URL: ts.URL, Header: http.Header{"X-Test": {"1"}}}
	var windowCalls atomic.Int32
	res, err := runLoad(context.Background(), []*reqTemplate{tmpl}, loadConfig{
		Concurrency: 4, Warmup: 50 * time.Millisecond, Duration: 300 * time.Millisecond,
		AtWindowStart: func() { windowCalls.Add(1) }, AtWindowEnd: func() { windowCalls.Add(1) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK == 0 || res.Errors == 0 {
		t.Fatalf("ok=%d errors=%d, want both > 0", res.OK, res.Errors)
	}
	if res.Hist.n != res.OK {
		t.Fatalf("histogram has %d samples for %d ok", res.Hist.n, res.OK)
	}
	if !strings.Contains(res.FirstError, "503") || !strings.Contains(res.FirstError, "every fourth fails") {
		t.Fatalf("first error = %q", res.FirstError)
	}
	if windowCalls.Load() != 2 {
		t.Fatalf("window hooks called %d times", windowCalls.Load())
	}
	// Warm-up and in-flight requests past the end are not counted.
	if total := uint64(n.Load()); res.OK+res.Errors >= total {
		t.Fatalf("counted %d of %d requests; warm-up should be excluded", res.OK+res.Errors, total)
	}
}

func TestRunLoadStopsOnCancel(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer ts.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := runLoad(ctx, []*reqTemplate{{Method: http.MethodGet, URL: ts.URL, Header: http.Header{}}},
		loadConfig{Concurrency: 2, Duration: time.Minute})
	if err == nil {
		t.Fatal("want context error")
	}
	if time.Since(start) > 3*time.Second {
		t.Fatalf("cancel took %v", time.Since(start))
	}
}

func TestBaselineHandler(t *testing.T) {
	rec := httptest.NewRecorder()
	baselineHandler(rec, httptest.NewRequest(http.MethodGet, "/token", nil))
	if rec.Code != 200 || rec.Body.Len() != len(baselineBody) || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("baseline reply %d %q", rec.Code, rec.Body.String())
	}
}

func TestScheduleDueTimes(t *testing.T) {
	start := time.Unix(1000, 0)
	s := &schedule{start: start, rate: 400}
	for i, want := range []time.Duration{0, 2500 * time.Microsecond, 5 * time.Millisecond} {
		if got := s.take().Sub(start); got != want {
			t.Fatalf("request %d due at +%v, want +%v", i, got, want)
		}
	}
	if got := s.at(1000).Sub(start); got != 2500*time.Millisecond {
		t.Fatalf("request 1000 due at +%v", got)
	}
}

// A server that keeps up: every request due in the window is sent and answered.
func TestPacedSendsEveryScheduledRequest(t *testing.T) {
	var n atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { n.Add(1) }))
	defer ts.Close()
	res, err := runLoad(context.Background(), []*reqTemplate{{Method: http.MethodGet, URL: ts.URL}},
		loadConfig{Concurrency: 4, Rate: 200, Warmup: 100 * time.Millisecond, Duration: 500 * time.Millisecond, Grace: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// Due in the window: i/200 s in [0.1 s, 0.6 s), i = 20 … 119.
	if res.OK != 100 || res.Errors != 0 || res.Hist.n != 100 {
		t.Fatalf("ok %d, errors %d, %d latencies; want 100, 0, 100 (%s)", res.OK, res.Errors, res.Hist.n, res.FirstError)
	}
	if n.Load() != 120 {
		t.Fatalf("server got %d requests, want 120 (20 in the warm-up)", n.Load())
	}
}

// One connection, requests due every 5 ms, each answered in ≥ 10 ms: the backlog grows, and latencies
// measured from the schedule show it (from the send they would all be about 10 ms: coordinated omission).
func TestPacedLatencyRunsFromSchedule(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { time.Sleep(10 * time.Millisecond) }))
	defer ts.Close()
	res, err := runLoad(context.Background(), []*reqTemplate{{Method: http.MethodGet, URL: ts.URL}},
		loadConfig{Concurrency: 1, Rate: 200, Duration: 500 * time.Millisecond, Grace: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK+res.Errors != 100 {
		t.Fatalf("%d ok + %d errors, want the 100 requests due in the window", res.OK, res.Errors)
	}
	// Request i (due at 5i ms) cannot finish before 10(i+1) ms: the last ones wait ≥ 500 ms.
	if p99 := res.Hist.percentile(99); p99 < 400*time.Millisecond {
		t.Fatalf("p99 = %v; latency is not counted from the schedule", p99)
	}
	if p50 := res.Hist.percentile(50); p50 < 200*time.Millisecond {
		t.Fatalf("p50 = %v; latency is not counted from the schedule", p50)
	}
}

// A server too slow to answer the schedule within the grace: what is left is counted, as errors with their
// lower-bound latency, and the run ends on time.
func TestPacedCountsUnansweredBacklog(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(150 * time.Millisecond):
		}
	}))
	defer ts.Close()
	t0 := time.Now()
	res, err := runLoad(context.Background(), []*reqTemplate{{Method: http.MethodGet, URL: ts.URL}},
		loadConfig{Concurrency: 1, Rate: 100, Duration: 300 * time.Millisecond, Grace: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d > 3*time.Second {
		t.Fatalf("run took %v; the grace should end it after about 500 ms", d)
	}
	if res.OK+res.Errors != 30 || res.Unsent == 0 || res.Errors < res.Unsent {
		t.Fatalf("ok %d, errors %d, unsent %d; want 30 due requests, most unsent", res.OK, res.Errors, res.Unsent)
	}
	if res.Hist.n != res.OK+res.Unsent {
		t.Fatalf("%d latencies for %d ok and %d unsent", res.Hist.n, res.OK, res.Unsent)
	}
	if !strings.Contains(res.FirstError, "schedule fell behind") {
		t.Fatalf("first error %q", res.FirstError)
	}
	if longest := res.Hist.percentile(100); longest < 200*time.Millisecond {
		t.Fatalf("unsent requests recorded with %v, want at least the grace", longest)
	}
}
