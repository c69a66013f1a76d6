package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// listenPprof serves the runtime profiles (/debug/pprof/) on addr, which must be a loopback address: profiles
// show code paths and timing, and a heap profile can hold request data, so they are never served to the
// network. Used by `make bench --profile` to take CPU profiles of the running server.
func listenPprof(addr string, log *slog.Logger) (*http.Server, net.Addr, error) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return serveLoopback(addr, mux, log, "the profile listener")
}

// listenMetrics serves the Prometheus metrics on addr, a loopback address, away from the service's listener:
// the service's clients can then neither read them nor make the server count its tokens at their pace.
func listenMetrics(addr string, metrics http.Handler, log *slog.Logger) (*http.Server, net.Addr, error) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics)
	return serveLoopback(addr, mux, log, "the metrics listener")
}

// serveLoopback serves h on addr, refusing any address but a loopback one (127.0.0.1:PORT, [::1]:PORT,
// localhost:PORT). It serves until closed.
func serveLoopback(addr string, h http.Handler, log *slog.Logger, what string) (*http.Server, net.Addr, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, err
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, nil, fmt.Errorf("%q is not a loopback address (127.0.0.1:PORT or [::1]:PORT)", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	serveInBackground(srv, ln, log, what)
	return srv, ln.Addr(), nil
}
