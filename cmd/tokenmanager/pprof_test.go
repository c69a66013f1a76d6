package main

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

func TestPprofOnlyOnLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", "[::]:0", ":0", "192.0.2.1:0", "example.com:0"} {
		if srv, _, err := listenPprof(addr, slog.Default()); err == nil {
			srv.Close()
			t.Errorf("listenPprof(%q) served profiles off loopback", addr)
		}
	}
	srv, addr, err := listenPprof("127.0.0.1:0", slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	resp, err := http.Get("http://" + addr.String() + "/debug/pprof/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(body), "tokenmanager") && !strings.Contains(string(body), ".test") {
		t.Fatalf("cmdline: %d %q", resp.StatusCode, body)
	}
}

func TestMetricsOnlyOnLoopback(t *testing.T) {
	metrics := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "tokenmanager_live_tokens 0\n") })
	for _, addr := range []string{"0.0.0.0:0", "[::]:0", ":0", "192.0.2.1:0", "example.com:0"} {
		if srv, _, err := listenMetrics(addr, metrics, slog.Default()); err == nil {
			srv.Close()
			t.Errorf("listenMetrics(%q) served metrics off loopback", addr)
		} else if !strings.Contains(err.Error(), "loopback") {
			t.Errorf("listenMetrics(%q): %v, want the loopback refusal", addr, err)
		}
	}
	srv, addr, err := listenMetrics("127.0.0.1:0", metrics, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	resp, err := http.Get("http://" + addr.String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(body), "tokenmanager_live_tokens") {
		t.Fatalf("/metrics: %d %q", resp.StatusCode, body)
	}
}
