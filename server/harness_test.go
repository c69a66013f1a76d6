package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/audit"
	"github.com/tokenmanager/tokenmanager/auth"
	"github.com/tokenmanager/tokenmanager/keys"
	"github.com/tokenmanager/tokenmanager/server"
	"github.com/tokenmanager/tokenmanager/session"
	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/cached"
	"github.com/tokenmanager/tokenmanager/storage/sqlite"
	"github.com/tokenmanager/tokenmanager/token"
)

var cheap = auth.Params{Memory: 64, Time: 1, Threads: 1}

var serverKey = make([]byte, 32)

// clock is an injectable, concurrency-safe time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// stack is a real server on loopback over a real SQLite file.
type stack struct {
	URL   string
	Store storage.Store
	Clock *clock
	Audit *audit.Recorder
}

// setup is what options may change before the server starts.
type setup struct {
	Server  server.Config
	Token   token.Config
	Session session.Config
	Log     *slog.Logger // nil: discard
	// DBPath is the SQLite file; stacks given the same path share it, like nodes of a cluster.
	DBPath string
	// wire runs after the core dependencies exist and before the server is built; a surface's tests use it
	// to add their own dependencies (see the with* options in each surface's test file).
	wire []func(st *stack, d *server.Deps)
}

type option func(*setup)

func newStack(t testing.TB, opts ...option) *stack {
	t.Helper()
	ctx := context.Background()
	su := setup{
		Server:  server.Config{MaxTokenLifetime: 24 * time.Hour, MaxBodyBytes: 64 << 10},
		Token:   token.Config{MaxLifetime: 24 * time.Hour, CheckHost: true, TouchInterval: time.Minute},
		Session: session.DefaultConfig,
		DBPath:  filepath.Join(t.TempDir(), "tokens.db"),
	}
	for _, o := range opts {
		o(&su)
	}
	db, err := sqlite.Open(ctx, su.DBPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clk := &clock{now: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)}
	// The server reads through the cache, as `serve` does; stacks sharing a file hear of each other's changes
	// through the feed, read every few milliseconds here.
	store := cached.New(db, cached.Options{Now: clk.Now})
	if err := store.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	syncCtx, stopSync := context.WithCancel(ctx)
	t.Cleanup(stopSync)
	go store.Run(syncCtx, 5*time.Millisecond)
	for _, u := range [][2]string{{"simon0897", "s3cret"}, {"paul1234", "pa55"}} {
		h, _ := auth.HashPassword(u[1], cheap)
		// simon0897 may use WS-Security PasswordDigest; paul1234 may not.
		var sealed []byte
		if u[0] == "simon0897" {
			sealed = auth.SealPassword(keys.NewSealer(serverKey), u[0], u[1])
		}
		err := store.CreateUser(ctx, storage.User{Name: u[0], PasswordHash: h, DigestSecret: sealed})
		if err != nil && !errors.Is(err, storage.ErrConflict) { // a second stack over the same file finds them
			t.Fatal(err)
		}
	}
	codec, _ := token.NewCodec(make([]byte, 32))
	sessions := session.NewManager(store, su.Session, clk.Now)
	deps := server.Deps{
		Auth:     auth.New(store, auth.Options{Params: cheap, CacheKey: []byte("k"), CacheTTL: time.Minute}),
		Digest:   auth.NewDigestVerifier(store, keys.NewSealer(serverKey), auth.DigestOptions{Now: clk.Now}),
		Tokens:   token.NewService(codec, store, sessions, su.Token, clk.Now),
		Sessions: sessions,
		Probe:    store,
		Admin:    store,
		Log:      su.Log,
		Now:      clk.Now,
	}
	rec := audit.New(store, audit.Options{Now: clk.Now})
	t.Cleanup(rec.Close)
	deps.Audit = rec
	st := &stack{Store: store, Clock: clk, Audit: rec}
	for _, w := range su.wire {
		w(st, &deps)
	}
	ts := httptest.NewServer(server.New(su.Server, deps))
	t.Cleanup(ts.Close)
	st.URL = ts.URL
	return st
}

type response struct {
	Status int
	Header http.Header
	Body   string
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.Body), &m); err != nil {
		t.Fatalf("body %q is not JSON: %v", r.Body, err)
	}
	return m
}

func do(t *testing.T, method, url string, body string, header map[string]string) response {
	t.Helper()
	h := http.Header{}
	for k, v := range header {
		h.Set(k, v)
	}
	return send(t, method, url, body, h)
}

// send requests url with the headers h (several values per name allowed) and reads the whole answer.
func send(t *testing.T, method, url, body string, h http.Header) response {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range h {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}
}

func basic(user, pass string) string {
	req, _ := http.NewRequest("GET", "/", nil)
	req.SetBasicAuth(user, pass)
	return req.Header.Get("Authorization")
}

// soapCall posts a SOAP 1.1 envelope with simon0897's credentials.
func (s *stack) soapCall(t *testing.T, path, envelope string) response {
	t.Helper()
	return do(t, "POST", s.URL+path, envelope, map[string]string{
		"Content-Type": "text/xml; charset=utf-8", "SOAPAction": `""`, "Authorization": basic("simon0897", "s3cret")})
}

func (s *stack) verify(t *testing.T, tok, sess string) response {
	t.Helper()
	h := map[string]string{"Authorization": "Bearer " + tok}
	if sess != "" {
		h["Cookie"] = "SESSION=" + sess
	}
	return do(t, "GET", s.URL+server.PathVerify, "", h)
}
