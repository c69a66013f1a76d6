// Package servertest builds the server the tests of server/ and of its surface packages run against: a real
// server on loopback over a real SQLite file, on a clock of the test's (harness.go), with the licensing,
// WooCommerce and app-authorization fixtures the surfaces' tests share.
package servertest

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/tokenmanager/tokenmanager/admin"
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
	"github.com/tokenmanager/tokenmanager/usage"
)

var Cheap = auth.Params{Memory: 64, Time: 1, Threads: 1}

var ServerKey = make([]byte, 32)

// Clock is an injectable, concurrency-safe time source.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Stack is a real server on loopback over a real SQLite file.
type Stack struct {
	Server *server.Server
	URL    string
	Store  storage.Store
	Clock  *Clock
	Audit  *audit.Recorder
	Usage  *usage.Counter // the usage history's counter; tests flush it
}

// Setup is what options may change before the server starts.
type Setup struct {
	Server  server.Config
	Token   token.Config
	Session session.Config
	Log     *slog.Logger // nil: discard
	// DBPath is the SQLite file; stacks given the same path share it, like nodes of a cluster.
	DBPath string
	// Wire runs after the core dependencies exist and before the server is built; a surface's tests use it
	// to add their own dependencies (see the With* options).
	Wire []func(st *Stack, d *server.Deps)
}

type Option func(*Setup)

func NewStack(t testing.TB, opts ...Option) *Stack {
	t.Helper()
	ctx := context.Background()
	su := Setup{
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
	clk := &Clock{now: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)}
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
		h, _ := auth.HashPassword(u[1], Cheap)
		// simon0897 may use WS-Security PasswordDigest; paul1234 may not.
		var sealed []byte
		if u[0] == "simon0897" {
			sealed = auth.SealPassword(keys.NewSealer(ServerKey), u[0], u[1])
		}
		err := store.CreateUser(ctx, storage.User{Name: u[0], PasswordHash: h, DigestSecret: sealed})
		if err != nil && !errors.Is(err, storage.ErrConflict) { // a second stack over the same file finds them
			t.Fatal(err)
		}
	}
	codec, _ := token.NewCodec(make([]byte, 32))
	sessions := session.NewManager(store, su.Session, clk.Now)
	deps := server.Deps{
		Auth:     auth.New(store, auth.Options{Params: Cheap, CacheKey: []byte("k"), CacheTTL: time.Minute}),
		Digest:   auth.NewDigestVerifier(store, keys.NewSealer(ServerKey), auth.DigestOptions{Now: clk.Now}),
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
	deps.Manage.Admin = admin.New(store, func(_ context.Context, e storage.AuditEvent) error { rec.Record(e); return nil }, clk.Now)
	st := &Stack{Store: store, Clock: clk, Audit: rec}
	// The usage history: counted on the stack's clock, written when a test calls st.Usage.Flush.
	st.Usage = usage.New(store, usage.Options{Now: clk.Now})
	deps.Usage, deps.History = st.Usage, store
	for _, w := range su.Wire {
		w(st, &deps)
	}
	st.Server = server.New(su.Server, deps)
	ts := httptest.NewServer(checkOpenAPI(t, st.Server))
	t.Cleanup(ts.Close)
	st.URL = ts.URL
	return st
}

type Response struct {
	Status int
	Header http.Header
	Body   string
}

func (r Response) JSON(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.Body), &m); err != nil {
		t.Fatalf("body %q is not JSON: %v", r.Body, err)
	}
	return m
}

func Do(t *testing.T, method, url string, body string, header map[string]string) Response {
	t.Helper()
	h := http.Header{}
	for k, v := range header {
		h.Set(k, v)
	}
	return Send(t, method, url, body, h)
}

// Send requests url with the headers h (several values per name allowed) and reads the whole answer.
func Send(t *testing.T, method, url, body string, h http.Header) Response {
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
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}
}

func Basic(user, pass string) string {
	req, _ := http.NewRequest("GET", "/", nil)
	req.SetBasicAuth(user, pass)
	return req.Header.Get("Authorization")
}

// SOAPCall posts a SOAP 1.1 envelope with simon0897's credentials.
func (s *Stack) SOAPCall(t *testing.T, path, envelope string) Response {
	t.Helper()
	return Do(t, "POST", s.URL+path, envelope, map[string]string{
		"Content-Type": "text/xml; charset=utf-8", "SOAPAction": `""`, "Authorization": Basic("simon0897", "s3cret")})
}

func (s *Stack) Verify(t *testing.T, tok, sess string) Response {
	t.Helper()
	h := map[string]string{"Authorization": "Bearer " + tok}
	if sess != "" {
		h["Cookie"] = "SESSION=" + sess
	}
	return Do(t, "GET", s.URL+server.PathVerify, "", h)
}

// SignIn gets a session token over REST as user, presenting cookie (if any) as SESSION.
func (s *Stack) SignIn(t *testing.T, user, pass, cookie string) (tok, sess string, resp Response) {
	t.Helper()
	h := map[string]string{"Authorization": Basic(user, pass)}
	if cookie != "" {
		h["Cookie"] = "SESSION=" + cookie
	}
	resp = Do(t, "GET", s.URL+"/security/rest/token/access/session/0", "", h)
	if resp.Status != 200 {
		t.Fatalf("sign-in as %s: %d %s", user, resp.Status, resp.Body)
	}
	m := resp.JSON(t)
	return m["access_token"].(string), m["session"].(string), resp
}
