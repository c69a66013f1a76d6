package apiclient_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/apiclient"
	"github.com/tokenmanager/tokenmanager/clusterlimit"
	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/sqlite"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

type fixture struct {
	svc   *apiclient.Service
	store storage.Store
	clk   *clock
}

func newFixture(t testing.TB, cfg apiclient.Config) *fixture {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "tokens.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	clk := &clock{now: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)}
	return &fixture{svc: apiclient.New(store, cfg, clk.Now), store: store, clk: clk}
}

func (f *fixture) create(t *testing.T, spec apiclient.Spec) apiclient.Created {
	t.Helper()
	c, err := f.svc.Create(context.Background(), spec)
	if err != nil {
		t.Fatalf("Create(%+v): %v", spec, err)
	}
	return c
}

func (f *fixture) auth(t *testing.T, id, key string) apiclient.Authenticated {
	t.Helper()
	a, err := f.svc.Authenticate(context.Background(), id, key)
	if err != nil {
		t.Fatalf("Authenticate(%s): %v", id, err)
	}
	return a
}

func (f *fixture) issue(t *testing.T, a apiclient.Authenticated, scope string) apiclient.Issued {
	t.Helper()
	iss, err := f.svc.Issue(context.Background(), a, scope)
	if err != nil {
		t.Fatalf("Issue(%q): %v", scope, err)
	}
	return iss
}

func TestCreateGeneratesIDAndKeysAndStoresOnlyHashes(t *testing.T) {
	f := newFixture(t, apiclient.Config{})
	c := f.create(t, apiclient.Spec{Scopes: []string{"Partner", "Distributor"}})
	if _, err := hex.DecodeString(c.Client.ID); err != nil || len(c.Client.ID) != 32 {
		t.Errorf("generated id %q, want 32 hex digits like SkyKick's API user ids", c.Client.ID)
	}
	for _, k := range []string{c.PrimaryKey, c.SecondaryKey} {
		if b, err := hex.DecodeString(k); err != nil || len(b) != 32 {
			t.Errorf("generated key %q, want 256 bits in hex", k)
		}
	}
	if c.PrimaryKey == c.SecondaryKey {
		t.Fatal("primary and secondary keys are equal")
	}
	stored, err := f.store.GetAPIClient(context.Background(), c.Client.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{c.PrimaryKey, c.SecondaryKey} {
		if bytes.Contains(stored.PrimaryKeyHash, []byte(k)) || bytes.Contains(stored.SecondaryKeyHash, []byte(k)) {
			t.Fatal("a key is stored in the clear")
		}
	}
	if !bytes.Equal(stored.PrimaryKeyHash, apiclient.HashKey(c.PrimaryKey)) || !bytes.Equal(stored.SecondaryKeyHash, apiclient.HashKey(c.SecondaryKey)) {
		t.Fatal("stored hashes are not the keys' SHA-256")
	}
	if stored.TokenLifetime != time.Hour || !slices.Equal(stored.GrantTypes, []string{"client_credentials"}) {
		t.Errorf("defaults: lifetime %v, grants %v; want 1h, [client_credentials]", stored.TokenLifetime, stored.GrantTypes)
	}
	if _, err := f.svc.Create(context.Background(), apiclient.Spec{ID: c.Client.ID}); !errors.Is(err, apiclient.ErrExists) {
		t.Fatalf("Create(duplicate) = %v, want ErrExists", err)
	}
}

func TestCreateRejectsBadSpecs(t *testing.T) {
	f := newFixture(t, apiclient.Config{})
	long := strings.Repeat("k", apiclient.MinImportedKeyLen)
	for name, spec := range map[string]apiclient.Spec{
		"id with space":        {ID: "a b"},
		"id starting with dot": {ID: ".a"},
		"id too long":          {ID: strings.Repeat("a", 129)},
		"scope with quote":     {ID: "a", Scopes: []string{`Part"ner`}},
		"scope with space":     {ID: "a", Scopes: []string{"Part ner"}},
		"empty scope":          {ID: "a", Scopes: []string{""}},
		"unknown grant":        {ID: "a", GrantTypes: []string{"password"}},
		"lifetime too short":   {ID: "a", TokenLifetime: time.Second},
		"lifetime too long":    {ID: "a", TokenLifetime: 25 * time.Hour},
		"short imported key":   {ID: "a", PrimaryKey: "short"},
		"control in key":       {ID: "a", PrimaryKey: long + "\n"},
		"equal imported keys":  {ID: "a", PrimaryKey: long, SecondaryKey: long},
	} {
		if _, err := f.svc.Create(context.Background(), spec); !errors.Is(err, apiclient.ErrInvalidSpec) {
			t.Errorf("%s: Create = %v, want ErrInvalidSpec", name, err)
		}
	}
}

func TestAuthenticateWithEitherKey(t *testing.T) {
	f := newFixture(t, apiclient.Config{})
	c := f.create(t, apiclient.Spec{ID: "api"})
	other := f.create(t, apiclient.Spec{ID: "other"})
	ctx := context.Background()
	for _, k := range []string{c.PrimaryKey, c.SecondaryKey} {
		if a, err := f.svc.Authenticate(ctx, "api", k); err != nil || a.Client.ID != "api" {
			t.Errorf("Authenticate with a valid key = %+v, %v", a, err)
		}
	}
	for name, try := range map[string][2]string{
		"wrong key":             {"api", c.PrimaryKey + "x"},
		"other client's key":    {"api", other.PrimaryKey},
		"unknown client":        {"nobody", c.PrimaryKey},
		"empty key":             {"api", ""},
		"key differing in case": {"api", strings.ToUpper(c.PrimaryKey)},
	} {
		if _, err := f.svc.Authenticate(ctx, try[0], try[1]); !errors.Is(err, apiclient.ErrBadCredentials) {
			t.Errorf("%s: Authenticate = %v, want ErrBadCredentials", name, err)
		}
	}
	if err := f.svc.SetDisabled(ctx, "api", true); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Authenticate(ctx, "api", c.PrimaryKey); !errors.Is(err, apiclient.ErrBadCredentials) {
		t.Errorf("disabled client: Authenticate = %v, want ErrBadCredentials", err)
	}
}

func TestImportedKeysWork(t *testing.T) {
	f := newFixture(t, apiclient.Config{})
	// The sample from SkyKick's documentation (seed 001).
	f.create(t, apiclient.Spec{ID: "4f3d7c7bd74649b9a798ab8f8e8c6b81", PrimaryKey: "1476aca794464056ba8aa6a1a9f921da"})
	f.auth(t, "4f3d7c7bd74649b9a798ab8f8e8c6b81", "1476aca794464056ba8aa6a1a9f921da")
}

func TestRegenerateKeyKillsOnlyThatKeysTokens(t *testing.T) {
	f := newFixture(t, apiclient.Config{})
	ctx := context.Background()
	c := f.create(t, apiclient.Spec{ID: "api"})
	viaPrimary := f.issue(t, f.auth(t, "api", c.PrimaryKey), "")
	viaSecondary := f.issue(t, f.auth(t, "api", c.SecondaryKey), "")

	newKey, err := f.svc.RegenerateKey(ctx, "api", apiclient.Primary)
	if err != nil {
		t.Fatal(err)
	}
	if newKey == c.PrimaryKey || len(newKey) != 64 {
		t.Fatalf("regenerated key %q", newKey)
	}
	if _, err := f.svc.Authenticate(ctx, "api", c.PrimaryKey); !errors.Is(err, apiclient.ErrBadCredentials) {
		t.Errorf("old primary still authenticates: %v", err)
	}
	f.auth(t, "api", newKey)
	f.auth(t, "api", c.SecondaryKey)
	if _, err := f.svc.Verify(ctx, viaPrimary.Token); !errors.Is(err, apiclient.ErrKeyReplaced) {
		t.Errorf("token from the old primary: Verify = %v, want ErrKeyReplaced", err)
	}
	if _, err := f.svc.Verify(ctx, viaSecondary.Token); err != nil {
		t.Errorf("token from the untouched secondary: Verify = %v", err)
	}
	if _, err := f.svc.RegenerateKey(ctx, "api", "tertiary"); !errors.Is(err, apiclient.ErrInvalidSpec) {
		t.Errorf("RegenerateKey(tertiary) = %v", err)
	}
	if _, err := f.svc.RegenerateKey(ctx, "nobody", apiclient.Secondary); !errors.Is(err, apiclient.ErrUnknownClient) {
		t.Errorf("RegenerateKey(unknown) = %v", err)
	}
}

func TestIssueScopes(t *testing.T) {
	f := newFixture(t, apiclient.Config{})
	c := f.create(t, apiclient.Spec{ID: "api", Scopes: []string{"Partner", "Distributor"}})
	a := f.auth(t, "api", c.PrimaryKey)
	for req, want := range map[string]string{
		"":                    "Partner Distributor",
		"Partner":             "Partner",
		"Distributor Partner": "Distributor Partner",
		"Partner Partner":     "Partner",
	} {
		if got := f.issue(t, a, req); got.Scope != want || got.ExpiresIn != time.Hour {
			t.Errorf("Issue(%q) scope %q, expires in %v; want %q, 1h", req, got.Scope, got.ExpiresIn, want)
		}
	}
	for _, req := range []string{"partner", "Reseller", "Partner  Distributor", " Partner", "Partner ", `Part"ner`, "Pärtner", "Partner\tDistributor"} {
		if _, err := f.svc.Issue(context.Background(), a, req); !errors.Is(err, apiclient.ErrInvalidScope) {
			t.Errorf("Issue(%q) = %v, want ErrInvalidScope", req, err)
		}
	}
}

func TestIssueRequiresTheGrant(t *testing.T) {
	f := newFixture(t, apiclient.Config{})
	c := f.create(t, apiclient.Spec{ID: "rs", GrantTypes: []string{}, Introspect: true})
	if _, err := f.svc.Issue(context.Background(), f.auth(t, "rs", c.PrimaryKey), ""); !errors.Is(err, apiclient.ErrUnauthorizedClient) {
		t.Fatalf("Issue for a client without the grant = %v, want ErrUnauthorizedClient", err)
	}
}

func TestTokenShape(t *testing.T) {
	f := newFixture(t, apiclient.Config{})
	c := f.create(t, apiclient.Spec{ID: "api"})
	a := f.auth(t, "api", c.PrimaryKey)
	seen := map[string]bool{}
	for range 50 {
		tok := f.issue(t, a, "").Token
		body, ok := strings.CutPrefix(tok, apiclient.TokenPrefix)
		if !ok || len(body) != 43 || seen[tok] {
			t.Fatalf("token %q: want prefix %s, 43 base64url characters (256 bits), unique", tok, apiclient.TokenPrefix)
		}
		seen[tok] = true
	}
}

func TestVerifyRefusals(t *testing.T) {
	f := newFixture(t, apiclient.Config{})
	ctx := context.Background()
	c := f.create(t, apiclient.Spec{ID: "api", TokenLifetime: 10 * time.Minute})
	a := f.auth(t, "api", c.PrimaryKey)
	tok := f.issue(t, a, "").Token

	v, err := f.svc.Verify(ctx, tok)
	if err != nil || v.Client.ID != "api" || !v.ExpiresAt.Equal(f.clk.Now().Add(10*time.Minute)) {
		t.Fatalf("Verify = %+v, %v", v, err)
	}
	for name, bad := range map[string]string{
		"empty":           "",
		"no prefix":       strings.TrimPrefix(tok, apiclient.TokenPrefix),
		"truncated":       tok[:len(tok)-1],
		"not base64url":   tok[:len(tok)-1] + "*",
		"unknown":         apiclient.TokenPrefix + strings.Repeat("A", 43),
		"Spectrum-shaped": "eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0..a.b.c",
	} {
		if _, err := f.svc.Verify(ctx, bad); !errors.Is(err, apiclient.ErrInvalidToken) {
			t.Errorf("%s: Verify = %v, want ErrInvalidToken", name, err)
		}
	}

	f.clk.Add(10 * time.Minute)
	if _, err := f.svc.Verify(ctx, tok); !errors.Is(err, apiclient.ErrExpiredToken) {
		t.Errorf("at expiry: Verify = %v, want ErrExpiredToken", err)
	}

	tok = f.issue(t, a, "").Token
	if err := f.svc.SetDisabled(ctx, "api", true); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Verify(ctx, tok); !errors.Is(err, apiclient.ErrClientGone) {
		t.Errorf("disabled client: Verify = %v, want ErrClientGone", err)
	}
	if err := f.svc.SetDisabled(ctx, "api", false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Verify(ctx, tok); err != nil {
		t.Errorf("re-enabled client: Verify = %v", err)
	}
	if err := f.svc.Remove(ctx, "api"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Verify(ctx, tok); !errors.Is(err, apiclient.ErrInvalidToken) {
		t.Errorf("removed client: Verify = %v, want ErrInvalidToken", err)
	}
	if err := f.svc.Remove(ctx, "api"); !errors.Is(err, apiclient.ErrUnknownClient) {
		t.Errorf("Remove twice = %v, want ErrUnknownClient", err)
	}
}

func TestRevokeAndIntrospectOwnership(t *testing.T) {
	f := newFixture(t, apiclient.Config{})
	ctx := context.Background()
	c1 := f.create(t, apiclient.Spec{ID: "one"})
	c2 := f.create(t, apiclient.Spec{ID: "two"})
	rs := f.create(t, apiclient.Spec{ID: "rs", GrantTypes: []string{}, Introspect: true})
	one, two, res := f.auth(t, "one", c1.PrimaryKey), f.auth(t, "two", c2.PrimaryKey), f.auth(t, "rs", rs.PrimaryKey)
	tok := f.issue(t, one, "").Token

	if _, active, err := f.svc.Introspect(ctx, one.Client, tok); err != nil || !active {
		t.Errorf("owner introspects: active=%v, %v", active, err)
	}
	if _, active, err := f.svc.Introspect(ctx, two.Client, tok); err != nil || active {
		t.Errorf("another client introspects: active=%v, %v; want inactive", active, err)
	}
	if v, active, err := f.svc.Introspect(ctx, res.Client, tok); err != nil || !active || v.Client.ID != "one" {
		t.Errorf("resource server introspects: %+v active=%v, %v", v, active, err)
	}

	if err := f.svc.Revoke(ctx, two.Client, tok); !errors.Is(err, apiclient.ErrNotOwner) {
		t.Errorf("another client revokes: %v, want ErrNotOwner", err)
	}
	if _, err := f.svc.Verify(ctx, tok); err != nil {
		t.Fatalf("a refused revocation revoked: %v", err)
	}
	for _, junk := range []string{"", "garbage", apiclient.TokenPrefix + strings.Repeat("A", 43)} {
		if err := f.svc.Revoke(ctx, one.Client, junk); err != nil {
			t.Errorf("Revoke(%q) = %v, want nil", junk, err)
		}
	}
	if err := f.svc.Revoke(ctx, one.Client, tok); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Revoke(ctx, one.Client, tok); err != nil {
		t.Errorf("second revoke = %v", err)
	}
	if _, err := f.svc.Verify(ctx, tok); !errors.Is(err, apiclient.ErrRevokedToken) {
		t.Errorf("after revoke: Verify = %v", err)
	}
	if _, active, _ := f.svc.Introspect(ctx, res.Client, tok); active {
		t.Error("revoked token introspects active")
	}
}

func TestSubscriptionKeyRule(t *testing.T) {
	f := newFixture(t, apiclient.Config{})
	c := f.create(t, apiclient.Spec{ID: "sk", RequireSubscriptionKey: true})
	free := f.create(t, apiclient.Spec{ID: "free"})
	for key, want := range map[string]error{
		c.PrimaryKey:       nil,
		c.SecondaryKey:     nil,
		"":                 apiclient.ErrSubscriptionKeyMissing,
		free.PrimaryKey:    apiclient.ErrSubscriptionKeyInvalid,
		c.PrimaryKey + " ": apiclient.ErrSubscriptionKeyInvalid,
	} {
		if err := apiclient.CheckSubscriptionKey(c.Client, key); !errors.Is(err, want) && !(want == nil && err == nil) {
			t.Errorf("CheckSubscriptionKey(%q) = %v, want %v", key, err, want)
		}
	}
	if err := apiclient.CheckSubscriptionKey(free.Client, ""); err != nil {
		t.Errorf("client without the requirement: %v", err)
	}
}

func TestRateLimit(t *testing.T) {
	f := newFixture(t, apiclient.Config{RateInterval: time.Minute, RateBurst: 3})
	ctx := context.Background()
	c := f.create(t, apiclient.Spec{ID: "api"})
	other := f.create(t, apiclient.Spec{ID: "other"})
	a := f.auth(t, "api", c.PrimaryKey)
	for range 3 {
		f.issue(t, a, "")
	}
	_, err := f.svc.Issue(ctx, a, "")
	var rl *apiclient.RateLimitError
	if !errors.As(err, &rl) || rl.RetryAfter <= 0 || rl.RetryAfter > time.Minute {
		t.Fatalf("4th token in a burst of 3: %v, want a RateLimitError with 0 < RetryAfter <= 1m", err)
	}
	// A refused request costs nothing: after the advertised wait exactly one more token is granted.
	f.clk.Add(rl.RetryAfter)
	f.issue(t, a, "")
	if _, err := f.svc.Issue(ctx, a, ""); !errors.As(err, &rl) {
		t.Fatalf("second token after one refill: %v, want RateLimitError", err)
	}
	// Buckets are per client.
	f.issue(t, f.auth(t, "other", other.PrimaryKey), "")
	// Invalid requests do not consume the budget.
	f.clk.Add(time.Hour)
	for range 5 {
		f.svc.Issue(ctx, a, "Nope")
	}
	for range 3 {
		f.issue(t, a, "")
	}
}

func TestParseScope(t *testing.T) {
	for raw, want := range map[string][]string{
		"":            nil,
		"a":           {"a"},
		"a b a":       {"a", "b"},
		"!#[]~":       {"!#[]~"},
		"urn:x:y/z=1": {"urn:x:y/z=1"},
	} {
		got, err := apiclient.ParseScope(raw)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("ParseScope(%q) = %q, %v; want %q", raw, got, err, want)
		}
	}
	for _, raw := range []string{" ", "a  b", "a\\b", `a"b`, "a\x7f", "é", strings.Repeat("a ", 65) + "a"} {
		if _, err := apiclient.ParseScope(raw); !errors.Is(err, apiclient.ErrInvalidScope) {
			t.Errorf("ParseScope(%q) = %v, want ErrInvalidScope", raw, err)
		}
	}
}

func TestCollectGarbage(t *testing.T) {
	f := newFixture(t, apiclient.Config{})
	ctx := context.Background()
	c := f.create(t, apiclient.Spec{ID: "api", TokenLifetime: time.Minute})
	a := f.auth(t, "api", c.PrimaryKey)
	for range 5 {
		f.issue(t, a, "")
	}
	f.issue(t, a, "")
	f.clk.Add(30 * time.Second)
	live2 := f.issue(t, a, "")
	f.clk.Add(45 * time.Second) // the first six have expired
	n, err := f.svc.CollectGarbage(ctx, 2)
	if err != nil || n != 6 {
		t.Fatalf("CollectGarbage = %d, %v; want 6", n, err)
	}
	if _, err := f.svc.Verify(ctx, live2.Token); err != nil {
		t.Errorf("unexpired token collected: %v", err)
	}
}

// Two nodes on one database share each client's rate limit: the burst is spent across both, not once per node.
func TestRateLimitAcrossNodes(t *testing.T) {
	f := newFixture(t, apiclient.Config{})
	ctx := context.Background()
	var nodes []*apiclient.Service
	var syncs []*clusterlimit.Sync
	for range 2 {
		s := clusterlimit.New(f.store, clusterlimit.Options{Now: f.clk.Now})
		syncs = append(syncs, s)
		nodes = append(nodes, apiclient.New(f.store, apiclient.Config{RateInterval: time.Minute, RateBurst: 4, Shared: s}, f.clk.Now))
	}
	c := f.create(t, apiclient.Spec{ID: "api"})
	a := f.auth(t, "api", c.PrimaryKey)
	granted := 0
	for i := range 12 {
		if _, err := nodes[i%2].Issue(ctx, a, ""); err == nil {
			granted++
		} else if !errors.As(err, new(*apiclient.RateLimitError)) {
			t.Fatal(err)
		}
		for _, s := range append(syncs, syncs[0]) {
			if err := s.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if granted != 4 {
		t.Fatalf("%d tokens granted over two nodes; the burst is 4", granted)
	}
}
