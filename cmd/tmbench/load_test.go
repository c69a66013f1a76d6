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

	tr := newTransport(4)
	defer tr.CloseIdleConnections()
	tmpl := &reqTemplate{Method: http.MethodGet, URL: ts.URL, Header: http.Header{"X-Test": {"1"}}}
	var windowCalls atomic.Int32
	res, err := runLoad(context.Background(), &http.Client{Transport: tr}, []*reqTemplate{tmpl}, loadConfig{
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
	tr := newTransport(2)
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := runLoad(ctx, &http.Client{Transport: tr}, []*reqTemplate{{Method: http.MethodGet, URL: ts.URL, Header: http.Header{}}},
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
