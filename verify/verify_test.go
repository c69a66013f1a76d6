package verify_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/verify"
)

func newVerifier(t *testing.T, ts *tokenServer, opts verify.Options) *verify.Verifier {
	t.Helper()
	if opts.Now == nil {
		opts.Now = ts.Clock.Now
	}
	v, err := verify.New(ts.URL, opts)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestNewRefusesBadBaseURLs(t *testing.T) {
	for _, bad := range []string{"", "tokens.example.com", "ftp://h", "https://", "https://h/?q=1", "https://h/#f"} {
		if _, err := verify.New(bad, verify.Options{}); err == nil {
			t.Errorf("New(%q) accepted", bad)
		}
	}
	if _, err := verify.New("https://h", verify.Options{Realm: `a"b`}); err == nil {
		t.Error("a realm with a quote was accepted")
	}
}

func TestJWTOfflineThroughJWKS(t *testing.T) {
	ts := newTokenServer(t)
	v := newVerifier(t, ts, verify.Options{})
	ctx := context.Background()
	tok := ts.accessToken(t, "reports", "Reports")
	id, err := v.AccessToken(ctx, tok)
	if err != nil || id.Subject != "reports" || id.Kind != verify.KindOAuth || !id.Client() || !id.HasScopes("Reports") || id.HasScopes("Admin") {
		t.Fatalf("AccessToken: %+v, %v", id, err)
	}
	before := ts.requests.Load()
	for range 20 {
		if _, err := v.AccessToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if n := ts.requests.Load() - before; n != 0 {
		t.Fatalf("offline verification asked the server %d times", n)
	}

	// Revocation is not seen offline before exp; with IntrospectJWTs it is.
	ts.revoke(t, "reports", tok)
	if _, err := v.AccessToken(ctx, tok); err != nil {
		t.Fatalf("offline verification of a revoked JWT: %v (it cannot know)", err)
	}
	strict := newVerifier(t, ts, verify.Options{IntrospectJWTs: true, ClientID: "rs", ClientSecret: ts.Keys["rs"]})
	if _, err := strict.AccessToken(ctx, tok); !errors.Is(err, verify.ErrInvalid) {
		t.Fatalf("IntrospectJWTs on a revoked JWT: %v", err)
	}

	// Tampered, and from another issuer or audience.
	parts := strings.Split(tok, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), `"Reports"`, `"Admin"`, 1))) + "." + parts[2]
	for name, bad := range map[string]string{"forged": forged, "unsigned": parts[0] + "." + parts[1] + ".",
		"alg none": "eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0." + parts[1] + ".", "huge": tok + strings.Repeat("A", 9000)} {
		if _, err := v.AccessToken(ctx, bad); !errors.Is(err, verify.ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
	other := newVerifier(t, ts, verify.Options{Audience: "https://another.example"})
	if _, err := other.AccessToken(ctx, ts.accessToken(t, "reports", "")); !errors.Is(err, verify.ErrInvalid) {
		t.Fatalf("another audience: %v", err)
	}

	// Expired: an hour later.
	fresh := ts.accessToken(t, "reports", "")
	ts.Clock.Add(time.Hour)
	if _, err := v.AccessToken(ctx, fresh); !errors.Is(err, verify.ErrInvalid) {
		t.Fatalf("an expired JWT: %v", err)
	}
}

func TestJWKSRotationSeenOnUnknownKid(t *testing.T) {
	ts := newTokenServer(t)
	v := newVerifier(t, ts, verify.Options{})
	ctx := context.Background()
	old := ts.accessToken(t, "reports", "")
	if _, err := v.AccessToken(ctx, old); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Clients.RotateSigningKey(ctx, "RS256"); err != nil {
		t.Fatal(err)
	}
	ts.Clock.Add(6 * time.Second) // past the bound on refetches for unknown kids
	fresh := ts.accessToken(t, "reports", "")
	for _, tok := range []string{old, fresh} {
		if _, err := v.AccessToken(ctx, tok); err != nil {
			t.Fatalf("after rotation: %v", err)
		}
	}
	// A made-up kid within the bound costs no request.
	before := ts.requests.Load()
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"ES256","kid":"nope","typ":"at+jwt"}`))
	if _, err := v.AccessToken(ctx, h+"."+strings.Split(fresh, ".")[1]+".AAAA"); !errors.Is(err, verify.ErrInvalid) {
		t.Fatalf("an unknown kid: %v", err)
	}
	if n := ts.requests.Load() - before; n != 0 {
		t.Fatalf("an unknown kid made %d requests within the refetch bound", n)
	}
}

func TestOpaqueTokensByIntrospectionCached(t *testing.T) {
	ts := newTokenServer(t)
	ctx := context.Background()
	v := newVerifier(t, ts, verify.Options{ClientID: "rs", ClientSecret: ts.Keys["rs"], CacheTTL: 30 * time.Second})
	tok := ts.accessToken(t, "legacy", "")
	before := ts.requests.Load()
	for range 5 {
		id, err := v.AccessToken(ctx, tok)
		if err != nil || id.Subject != "legacy" || !id.HasScopes("Reports") {
			t.Fatalf("AccessToken: %+v, %v", id, err)
		}
	}
	if n := ts.requests.Load() - before; n != 1 {
		t.Fatalf("5 checks within the cache time made %d requests, want 1", n)
	}
	ts.revoke(t, "legacy", tok)
	if _, err := v.AccessToken(ctx, tok); err != nil {
		t.Fatalf("the cached answer should stand until CacheTTL: %v", err)
	}
	ts.Clock.Add(31 * time.Second)
	if _, err := v.AccessToken(ctx, tok); !errors.Is(err, verify.ErrInvalid) {
		t.Fatalf("a revoked token after CacheTTL: %v", err)
	}

	// Without credentials, or with wrong ones, opaque tokens cannot be checked: refused, or unavailable.
	if _, err := newVerifier(t, ts, verify.Options{}).AccessToken(ctx, ts.accessToken(t, "legacy", "")); !errors.Is(err, verify.ErrInvalid) {
		t.Fatalf("no client credentials: %v", err)
	}
	wrong := newVerifier(t, ts, verify.Options{ClientID: "rs", ClientSecret: "wrong-wrong-wrong-wrong-wrong-wrong"})
	if _, err := wrong.AccessToken(ctx, ts.accessToken(t, "legacy", "")); !errors.Is(err, verify.ErrUnavailable) {
		t.Fatalf("wrong client credentials: %v", err)
	}
}

func TestCacheIsBounded(t *testing.T) {
	ts := newTokenServer(t)
	ctx := context.Background()
	v := newVerifier(t, ts, verify.Options{ClientID: "rs", ClientSecret: ts.Keys["rs"], CacheSize: 2, CacheTTL: time.Minute})
	var toks []string
	for range 3 {
		toks = append(toks, ts.accessToken(t, "legacy", ""))
	}
	for _, tok := range toks { // three answers into a cache of two: the first is pushed out
		v.AccessToken(ctx, tok)
	}
	before := ts.requests.Load()
	v.AccessToken(ctx, toks[2])
	v.AccessToken(ctx, toks[0])
	if n := ts.requests.Load() - before; n != 1 {
		t.Fatalf("requests after overflowing the cache: %d, want 1 (the evicted one)", n)
	}
}

func TestSpectrumToken(t *testing.T) {
	ts := newTokenServer(t)
	v := newVerifier(t, ts, verify.Options{})
	tok := ts.spectrumToken(t)
	id, err := v.SpectrumToken(context.Background(), tok, "", "")
	if err != nil || id.Subject != "alice" || id.Kind != "open" || id.Client() {
		t.Fatalf("SpectrumToken: %+v, %v", id, err)
	}
	if _, err := v.SpectrumToken(context.Background(), tok[:len(tok)-2]+"xx", "", ""); !errors.Is(err, verify.ErrInvalid) {
		t.Fatalf("a damaged Spectrum token: %v", err)
	}
}

func TestUnavailableIsNotARefusal(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	v, _ := verify.New(dead.URL, verify.Options{ClientID: "rs", ClientSecret: "x"})
	for _, tok := range []string{"tmat_x", "eyJhbGciOiJFUzI1NiIsImtpZCI6ImsiLCJ0eXAiOiJhdCtqd3QifQ.e30.AAAA"} {
		if _, err := v.AccessToken(context.Background(), tok); !errors.Is(err, verify.ErrUnavailable) {
			t.Errorf("%.10s against a closed port: %v", tok, err)
		}
	}
	// And the middleware says 503 rather than 401.
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Authorization", "Bearer tmat_x")
	v.Middleware(verify.Require{})(http.NotFoundHandler()).ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("middleware with the server down: %d %v", rec.Code, rec.Header())
	}
}

func TestMiddlewareAnswers(t *testing.T) {
	ts := newTokenServer(t)
	v := newVerifier(t, ts, verify.Options{ClientID: "rs", ClientSecret: ts.Keys["rs"]})
	h := v.Middleware(verify.Require{Scopes: []string{"Reports"}, Kinds: []string{verify.KindOAuth, "open"}})(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id, _ := verify.FromContext(r.Context())
			fmt.Fprintf(w, "%s %s %s", id.Subject, id.Kind, strings.Join(id.Scopes, ","))
		}))
	jwt, opaque := ts.accessToken(t, "reports", ""), ts.accessToken(t, "legacy", "")
	admin := ts.accessToken(t, "reports", "Admin")
	spectrum := ts.spectrumToken(t)
	cases := []struct {
		name, authz string
		status      int
		challenge   string // a substring of WWW-Authenticate ("" for none expected)
		body        string
	}{
		{"no credential", "", 401, `Bearer realm="tokenmanager"`, ""},
		{"another scheme", "Basic YTpi", 401, `Bearer realm="tokenmanager"`, ""},
		{"malformed", "Bearer a b", 400, `error="invalid_request"`, ""},
		{"bad token", "Bearer tmat_nope", 401, `error="invalid_token"`, ""},
		{"JWT", "Bearer " + jwt, 200, "", "reports oauth Reports,Admin"},
		{"opaque", "Bearer " + opaque, 200, "", "legacy oauth Reports"},
		{"scope missing", "Bearer " + admin, 403, `error="insufficient_scope", error_description="the token lacks a required scope", scope="Reports"`, ""},
		{"Spectrum token without scopes", "Bearer " + spectrum, 403, `error="insufficient_scope"`, ""},
	}
	for _, tc := range cases {
		req := httptest.NewRequest("GET", "/reports", nil)
		if tc.authz != "" {
			req.Header.Set("Authorization", tc.authz)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		ch := rec.Header().Get("WWW-Authenticate")
		if rec.Code != tc.status || !strings.Contains(ch, tc.challenge) || (tc.challenge == "" && ch != "") ||
			tc.body != "" && rec.Body.String() != tc.body {
			t.Errorf("%s: %d %q %q", tc.name, rec.Code, ch, rec.Body)
		}
		if tc.name == "no credential" && strings.Contains(ch, "error=") {
			t.Errorf("no credential: the challenge has an error code (RFC 6750 §3.1): %q", ch)
		}
	}
	twice := httptest.NewRequest("GET", "/", nil)
	twice.Header.Add("Authorization", "Bearer "+jwt)
	twice.Header.Add("Authorization", "Bearer "+jwt)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, twice)
	if rec.Code != 400 {
		t.Errorf("two Authorization headers: %d", rec.Code)
	}
}
