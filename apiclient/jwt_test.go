package apiclient_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/tokenmanager/tokenmanager/apiclient"
	"github.com/tokenmanager/tokenmanager/keys"
)

const testIssuer = "https://auth.example.com"

// newJWTFixture is a fixture whose service signs JWTs for clients that ask for them (opaque by default).
func newJWTFixture(t *testing.T, alg string) *fixture {
	f := newFixture(t, apiclient.Config{})
	master := make([]byte, 32)
	master[0] = 7
	f.svc = apiclient.New(f.store, apiclient.Config{Signing: apiclient.NewSigningKeys(f.store, keys.NewSealerFor(master, keys.PurposeOAuthSigningKeys), f.clk.Now),
		SigningAlg: alg}, f.clk.Now)
	if err := f.svc.EnsureSigningKey(context.Background()); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) issueJWT(t *testing.T, a apiclient.Authenticated, scope string) apiclient.Issued {
	t.Helper()
	iss, err := f.svc.IssueFor(context.Background(), a, scope, testIssuer)
	if err != nil || iss.Format != apiclient.FormatJWT || !apiclient.IsJWT(iss.Token) || !apiclient.IsAccessToken(iss.Token) {
		t.Fatalf("IssueFor: %+v, %v", iss, err)
	}
	return iss
}

// jwksVerify checks tok as an outside resource server would: with nothing but the published key set.
func (f *fixture) jwksVerify(t *testing.T, tok string) (map[string]any, error) {
	t.Helper()
	set, err := f.svc.Signing().JWKS(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	if err != nil {
		return nil, err
	}
	keys := set.Key(parsed.Headers[0].KeyID)
	if len(keys) != 1 {
		return nil, errors.New("kid not in the JWKS")
	}
	var claims map[string]any
	return claims, parsed.Claims(keys[0].Key, &claims)
}

func TestJWTAccessTokenClaimsAndHeader(t *testing.T) {
	for _, alg := range []string{apiclient.AlgES256, apiclient.AlgRS256} {
		t.Run(alg, func(t *testing.T) {
			f := newJWTFixture(t, alg)
			c := f.create(t, apiclient.Spec{ID: "billing", Scopes: []string{"Partner", "Distributor"}, TokenFormat: apiclient.FormatJWT})
			iss := f.issueJWT(t, f.auth(t, "billing", c.PrimaryKey), "Partner")
			hdr, _ := base64.RawURLEncoding.DecodeString(strings.Split(iss.Token, ".")[0])
			var h map[string]string
			if err := json.Unmarshal(hdr, &h); err != nil || h["typ"] != "at+jwt" || h["alg"] != alg || h["kid"] == "" {
				t.Fatalf("header %s", hdr)
			}
			claims, err := f.jwksVerify(t, iss.Token)
			if err != nil {
				t.Fatal(err)
			}
			now := f.clk.Now().Unix()
			if claims["iss"] != testIssuer || claims["aud"] != testIssuer || claims["sub"] != "billing" ||
				claims["client_id"] != "billing" || claims["scope"] != "Partner" || claims["jti"] == "" ||
				claims["iat"] != float64(now) || claims["exp"] != float64(now+3600) {
				t.Fatalf("claims %v", claims)
			}
			v, err := f.svc.Verify(context.Background(), iss.Token)
			if err != nil || v.Client.ID != "billing" || !v.HasScopes([]string{"Partner"}) || v.HasScopes([]string{"Distributor"}) {
				t.Fatalf("Verify: %+v, %v", v, err)
			}
		})
	}
}

func TestJWTRevokedTamperedExpired(t *testing.T) {
	f := newJWTFixture(t, "")
	ctx := context.Background()
	c := f.create(t, apiclient.Spec{ID: "billing", Scopes: []string{"Partner"}, TokenFormat: apiclient.FormatJWT})
	other := f.create(t, apiclient.Spec{ID: "other"})
	a := f.auth(t, "billing", c.PrimaryKey)

	tok := f.issueJWT(t, a, "").Token
	parts := strings.Split(tok, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), `"Partner"`, `"Admin"`, 1))) + "." + parts[2]
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sig[0] ^= 1
	flipped := parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig)
	for name, bad := range map[string]string{"forged payload": forged, "flipped signature": flipped,
		"no signature": parts[0] + "." + parts[1] + ".", "too long": tok + strings.Repeat("A", 9000)} {
		if _, err := f.svc.Verify(ctx, bad); !errors.Is(err, apiclient.ErrInvalidToken) {
			t.Errorf("%s: Verify = %v, want ErrInvalidToken", name, err)
		}
		if _, err := f.jwksVerify(t, bad); err == nil && name != "too long" {
			t.Errorf("%s: go-jose accepted it", name)
		}
	}

	// Revocation by another client is refused silently; by its own client it takes.
	if err := f.svc.Revoke(ctx, other.Client, tok); !errors.Is(err, apiclient.ErrNotOwner) {
		t.Fatalf("revoke by another client: %v", err)
	}
	if _, ok, _ := f.svc.Introspect(ctx, a.Client, tok); !ok {
		t.Fatal("a live JWT is inactive")
	}
	if err := f.svc.Revoke(ctx, a.Client, tok); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := f.svc.Introspect(ctx, a.Client, tok); ok || err != nil {
		t.Fatalf("a revoked JWT: active %v, %v", ok, err)
	}
	if _, err := f.jwksVerify(t, tok); err != nil {
		t.Fatalf("offline verification cannot see revocation, and should not pretend to: %v", err)
	}

	live := f.issueJWT(t, a, "").Token
	f.clk.Add(time.Hour)
	if _, err := f.svc.Verify(ctx, live); !errors.Is(err, apiclient.ErrExpiredToken) {
		t.Fatalf("an expired JWT: %v", err)
	}
}

func TestJWTSigningKeyRotation(t *testing.T) {
	f := newJWTFixture(t, apiclient.AlgES256)
	ctx := context.Background()
	c := f.create(t, apiclient.Spec{ID: "billing", TokenFormat: apiclient.FormatJWT, TokenLifetime: 2 * time.Hour})
	a := f.auth(t, "billing", c.PrimaryKey)
	old := f.issueJWT(t, a, "").Token
	f.clk.Add(time.Minute)
	if _, err := f.svc.RotateSigningKey(ctx, apiclient.AlgRS256); err != nil {
		t.Fatal(err)
	}
	f.clk.Add(time.Minute)
	fresh := f.issueJWT(t, a, "").Token
	if !strings.HasPrefix(fresh, "eyJhbGciOiJSUzI1NiIs") {
		t.Fatalf("after rotating to RS256: %.30s", fresh)
	}
	for _, tok := range []string{old, fresh} {
		if _, err := f.jwksVerify(t, tok); err != nil {
			t.Fatalf("JWKS after rotation: %v", err)
		}
		if _, err := f.svc.Verify(ctx, tok); err != nil {
			t.Fatalf("Verify after rotation: %v", err)
		}
	}
	set, _ := f.svc.Signing().JWKS(ctx)
	if len(set.Keys) != 2 {
		t.Fatalf("JWKS has %d keys, want 2", len(set.Keys))
	}
	// The old key leaves the JWKS once its last possible token has expired (2h after rotation, plus a margin).
	f.clk.Add(2*time.Hour - time.Second) // a second before the rotation + 2h + 1m
	if set, _ = f.svc.Signing().JWKS(ctx); len(set.Keys) != 2 {
		t.Fatalf("the old key left before its tokens could have expired: %d keys", len(set.Keys))
	}
	f.clk.Add(time.Minute)
	if set, _ = f.svc.Signing().JWKS(ctx); len(set.Keys) != 1 {
		t.Fatalf("the old key is still published: %d keys", len(set.Keys))
	}

	// Retiring a key refuses its tokens at once on this node (and on others within a reload).
	keys, _ := f.svc.Signing().List(ctx)
	f.svc.RotateSigningKey(ctx, "")
	f.clk.Add(time.Minute)
	newest := f.issueJWT(t, a, "").Token
	if err := f.store.RetireOAuthKey(ctx, keys[1].ID, f.clk.Now()); err != nil {
		t.Fatal(err)
	}
	f.clk.Add(11 * time.Second)
	if _, err := f.svc.Verify(ctx, fresh); !errors.Is(err, apiclient.ErrUnknownToken) {
		t.Fatalf("a token of a retired key: %v", err)
	}
	if _, err := f.svc.Verify(ctx, newest); err != nil {
		t.Fatal(err)
	}
}

func TestTokenFormatSetting(t *testing.T) {
	f := newJWTFixture(t, "")
	ctx := context.Background()
	c := f.create(t, apiclient.Spec{ID: "billing"})
	a := f.auth(t, "billing", c.PrimaryKey)
	if iss := f.issue(t, a, ""); iss.Format != apiclient.FormatOpaque {
		t.Fatalf("default format: %s", iss.Format)
	}
	if err := f.svc.SetTokenFormat(ctx, "billing", "jwt"); err != nil {
		t.Fatal(err)
	}
	f.issueJWT(t, f.auth(t, "billing", c.PrimaryKey), "")
	for _, bad := range []string{"JWT", "paseto"} {
		if err := f.svc.SetTokenFormat(ctx, "billing", bad); !errors.Is(err, apiclient.ErrInvalidSpec) {
			t.Errorf("format %q: %v", bad, err)
		}
	}
	if err := f.svc.SetTokenFormat(ctx, "nope", "jwt"); !errors.Is(err, apiclient.ErrUnknownClient) {
		t.Errorf("unknown client: %v", err)
	}
	// A server without signing keys refuses to make JWTs rather than fall back silently.
	plain := apiclient.New(f.store, apiclient.Config{DefaultFormat: apiclient.FormatJWT}, f.clk.Now)
	if _, err := plain.IssueFor(ctx, f.auth(t, "billing", c.PrimaryKey), "", testIssuer); !errors.Is(err, apiclient.ErrNoSigningKey) {
		t.Fatalf("JWT without keys: %v", err)
	}
}
