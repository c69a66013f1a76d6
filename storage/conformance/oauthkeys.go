package conformance

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

// testOAuthKeys: the signing keys of JWT access tokens rotate as token keys do, and the key a rotation
// replaces keeps the time until which its tokens can live.
func testOAuthKeys(t *testing.T, s storage.Store) {
	ctx := context.Background()
	if keys, err := s.ListOAuthKeys(ctx); err != nil || len(keys) != 0 {
		t.Fatalf("a new store's keys: %v, %v", keys, err)
	}
	states := func() string {
		t.Helper()
		keys, err := s.ListOAuthKeys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return ids(keys, func(k storage.OAuthKey) string { return k.ID + "=" + string(k.State) })
	}
	until1 := base.Add(25 * time.Hour)
	if err := s.AddOAuthKey(ctx, storage.OAuthKey{ID: "j1", Alg: "ES256", Sealed: []byte("sealed-1"), CreatedAt: base}, until1); err != nil {
		t.Fatal(err)
	}
	if got := states(); got != "j1=primary" {
		t.Fatalf("after the first key: %s", got)
	}
	if err := s.AddOAuthKey(ctx, storage.OAuthKey{ID: "j2", Alg: "RS256", Sealed: []byte("sealed-2"), CreatedAt: base.Add(time.Hour)}, until1); err != nil {
		t.Fatal(err)
	}
	if err := s.AddOAuthKey(ctx, storage.OAuthKey{ID: "j2", Alg: "ES256", Sealed: []byte("x"), CreatedAt: base.Add(2 * time.Hour)}, base); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("a repeated id: %v", err)
	}
	if got := states(); got != "j1=verify j2=primary" {
		t.Fatalf("a failed rotation changed the keys: %s", got)
	}
	keys, _ := s.ListOAuthKeys(ctx)
	if !keys[0].VerifyUntil.Equal(until1) || !keys[1].VerifyUntil.IsZero() || keys[1].Alg != "RS256" ||
		string(keys[1].Sealed) != "sealed-2" || !keys[1].CreatedAt.Equal(base.Add(time.Hour)) {
		t.Fatalf("after the rotation: %+v", keys)
	}
	if err := s.RetireOAuthKey(ctx, "j2", base); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("retiring the primary: %v", err)
	}
	if err := s.RetireOAuthKey(ctx, "nope", base); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("retiring an unknown key: %v", err)
	}
	for range 2 { // twice is fine
		if err := s.RetireOAuthKey(ctx, "j1", base.Add(3*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	keys, _ = s.ListOAuthKeys(ctx)
	if states() != "j1=retired j2=primary" || !keys[0].RetiredAt.Equal(base.Add(3*time.Hour)) {
		t.Fatalf("after retiring: %+v", keys)
	}
}
