// Package server wires the HTTP surfaces: routes, limits, logging, and the translation between wire formats
// and the core packages. Each surface has its own file.
package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime/debug"
	"time"

	"github.com/tokenmanager/tokenmanager/auth"
	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/token"
)

// Config is what the HTTP layer needs to know.
type Config struct {
	// Realm is sent in WWW-Authenticate challenges.
	Realm string
	// MaxBodyBytes bounds request bodies (default 1 MiB).
	MaxBodyBytes int64
	// TrustedProxies are the peers whose X-Forwarded-For/-Proto/-Host are believed.
	TrustedProxies []netip.Prefix
	// MaxTokenLifetime bounds tokenLifeInMinutes and ttlInMinutes.
	MaxTokenLifetime time.Duration
	// SecureCookies adds Secure to the SESSION cookie even on plain HTTP (e.g. behind a TLS-terminating proxy).
	SecureCookies bool
}

// Deps are the core services the handlers call.
type Deps struct {
	Auth    *auth.Authenticator
	Digest  *auth.DigestVerifier // WS-Security PasswordDigest; nil refuses digests
	Tokens  *token.Service
	License *license.Service // licensing APIs; nil leaves them out
	Log     *slog.Logger
}

// Server is the HTTP handler for every surface.
type Server struct {
	cfg     Config
	deps    Deps
	clients clientInfo
	mux     *http.ServeMux
}

// New builds the handler.
func New(cfg Config, deps Deps) *Server {
	if cfg.Realm == "" {
		cfg.Realm = "tokenmanager"
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, deps: deps, clients: clientInfo{trusted: cfg.TrustedProxies}, mux: http.NewServeMux()}
	s.routeSpectrumSOAP()
	s.routeSpectrumREST()
	s.routeCryptolens()
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	return s
}

// ServeHTTP adds panic recovery and access logging around the routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			// The stack goes to the log for us; the client gets a bare 500.
			s.deps.Log.Error("panic serving request", "path", r.URL.Path, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			if !rec.wrote {
				http.Error(rec, "internal server error", http.StatusInternalServerError)
			}
		}
		if s.deps.Log.Enabled(r.Context(), slog.LevelDebug) {
			// Never the query string or headers: they can carry credentials.
			s.deps.Log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", rec.status,
				"duration", time.Since(start), "client", s.clients.host(r))
		}
	}()
	s.mux.ServeHTTP(rec, r)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// internalError logs err (which never contains a credential) for the operator.
func (s *Server) internalError(ctx context.Context, err error) {
	s.deps.Log.ErrorContext(ctx, "internal error", "err", err)
}
