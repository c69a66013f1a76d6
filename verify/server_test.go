package verify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tokenmanager/tokenmanager/apiclient"
	"github.com/tokenmanager/tokenmanager/auth"
	"github.com/tokenmanager/tokenmanager/keys"
	"github.com/tokenmanager/tokenmanager/server"
	"github.com/tokenmanager/tokenmanager/session"
	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/sqlite"
	"github.com/tokenmanager/tokenmanager/token"
)

// The tests run a real tokenmanager server in process (SQLite file, real HTTP on loopback): the package is
// checked against the real endpoints, not against a model of them. The end-to-end test in e2e/ does the same
// with the built binary and every token kind.

// testingTB is what the helpers need of a test; examples pass an exampleTB.
type testingTB interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	TempDir() string
	Cleanup(func())
}

// exampleTB runs the helpers outside a test: failures panic, cleanups run at close.
type exampleTB struct{ cleanups []func() }

func (e *exampleTB) Helper()                           {}
func (e *exampleTB) Fatal(args ...any)                 { panic(fmt.Sprint(args...)) }
func (e *exampleTB) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }
func (e *exampleTB) Cleanup(f func())                  { e.cleanups = append(e.cleanups, f) }
func (e *exampleTB) TempDir() string {
	dir, err := os.MkdirTemp("", "verify-example-")
	if err != nil {
		panic(err)
	}
	e.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func (e *exampleTB) close() {
	for i := len(e.cleanups) - 1; i >= 0; i-- {
		e.cleanups[i]()
	}
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// tokenServer is a tokenmanager server with a user "alice" (password "wonderland"), an API client "reports"
// (JWTs, scopes Reports and Admin), an API client "legacy" (opaque tokens, scope Reports), and a resource
// server client "rs" that may introspect every token.
type tokenServer struct {
	URL      string
	Clock    *clock
	Clients  *apiclient.Service
	Keys     map[string]string // client id → primary key
	requests atomic.Int64      // requests the server has answered
}

func newTokenServer(tb testingTB) *tokenServer {
	tb.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "tokens.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	clk := &clock{now: time.Now().Truncate(time.Second)}
	cheap := auth.Params{Memory: 64, Time: 1, Threads: 1}
	h, _ := auth.HashPassword("wonderland", cheap)
	if err := store.CreateUser(ctx, storage.User{Name: "alice", PasswordHash: h}); err != nil {
		tb.Fatal(err)
	}
	codec, _ := token.NewCodec(make([]byte, 32))
	sessions := session.NewManager(store, session.DefaultConfig, clk.Now)
	clients := apiclient.New(store, apiclient.Config{Signing: apiclient.NewSigningKeys(store, keys.NewSealerFor(make([]byte, 32), keys.PurposeOAuthSigningKeys), clk.Now)}, clk.Now)
	if err := clients.EnsureSigningKey(ctx); err != nil {
		tb.Fatal(err)
	}
	ts := &tokenServer{Clock: clk, Clients: clients, Keys: map[string]string{}}
	for _, spec := range []apiclient.Spec{
		{ID: "reports", Scopes: []string{"Reports", "Admin"}, TokenFormat: apiclient.FormatJWT},
		{ID: "legacy", Scopes: []string{"Reports"}},
		{ID: "rs", GrantTypes: []string{}, Introspect: true},
	} {
		c, err := clients.Create(ctx, spec)
		if err != nil {
			tb.Fatal(err)
		}
		ts.Keys[spec.ID] = c.PrimaryKey
	}
	srv := server.New(server.Config{MaxTokenLifetime: 24 * time.Hour, MaxBodyBytes: 64 << 10}, server.Deps{
		Auth:     auth.New(store, auth.Options{Params: cheap, CacheKey: []byte("k"), CacheTTL: time.Minute}),
		Tokens:   token.NewService(codec, store, sessions, token.Config{MaxLifetime: 24 * time.Hour, CheckHost: true, TouchInterval: time.Minute}, clk.Now),
		Sessions: sessions, OAuth: server.OAuthDeps{Clients: clients}, Now: clk.Now,
	})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts.requests.Add(1)
		srv.ServeHTTP(w, r)
	}))
	tb.Cleanup(hs.Close)
	ts.URL = hs.URL
	return ts
}

func (ts *tokenServer) post(tb testingTB, path, id, form string) map[string]any {
	tb.Helper()
	req, _ := http.NewRequest("POST", ts.URL+path, strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, ts.Keys[id])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var m map[string]any
	json.Unmarshal(b, &m)
	if res.StatusCode != http.StatusOK {
		tb.Fatalf("POST %s as %s: %d %s", path, id, res.StatusCode, b)
	}
	return m
}

// accessToken gets a token of client id from the token endpoint.
func (ts *tokenServer) accessToken(tb testingTB, id, scope string) string {
	tb.Helper()
	tok, _ := ts.post(tb, server.PathOAuthToken, id, "grant_type=client_credentials&scope="+url.QueryEscape(scope))["access_token"].(string)
	return tok
}

// revoke revokes a token as client id.
func (ts *tokenServer) revoke(tb testingTB, id, tok string) {
	tb.Helper()
	ts.post(tb, server.PathOAuthRevoke, id, "token="+url.QueryEscape(tok))
}

// spectrumToken gets alice an open Spectrum token through the REST API.
func (ts *tokenServer) spectrumToken(tb testingTB) string {
	tb.Helper()
	req, _ := http.NewRequest("GET", ts.URL+"/security/rest/token/access/60", nil)
	req.SetBasicAuth("alice", "wonderland")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil || body.AccessToken == "" {
		tb.Fatalf("Spectrum token: %d %v", res.StatusCode, err)
	}
	return body.AccessToken
}
