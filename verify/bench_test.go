package verify_test

import (
	"context"
	"testing"

	"github.com/tokenmanager/tokenmanager/verify"
)

// BenchmarkAccessTokenJWT is offline verification of an ES256 JWT with the JWKS in memory: no request.
func BenchmarkAccessTokenJWT(b *testing.B) {
	ts := newTokenServer(b)
	v, _ := verify.New(ts.URL, verify.Options{})
	tok := ts.accessToken(b, "reports", "")
	ctx := context.Background()
	if _, err := v.AccessToken(ctx, tok); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := v.AccessToken(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAccessTokenOpaqueIntrospection asks the server each time (cache off): one loopback round trip.
func BenchmarkAccessTokenOpaqueIntrospection(b *testing.B) {
	ts := newTokenServer(b)
	v, _ := verify.New(ts.URL, verify.Options{ClientID: "rs", ClientSecret: ts.Keys["rs"], CacheTTL: -1})
	tok := ts.accessToken(b, "legacy", "")
	ctx := context.Background()
	for b.Loop() {
		if _, err := v.AccessToken(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}
