package conformance

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

func testTokenKeys(t *testing.T, s storage.Store) {
	ctx := context.Background()
	if keys, err := s.ListTokenKeys(ctx); err != nil || len(keys) != 0 {
		t.Fatalf("a new store's keys: %v, %v", keys, err)
	}
	states := func() string {
		t.Helper()
		keys, err := s.ListTokenKeys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return ids(keys, func(k storage.TokenKey) string { return k.ID + "=" + string(k.State) })
	}
	if err := s.AddTokenKey(ctx, storage.TokenKey{ID: "k1", Sealed: []byte("sealed-1"), CreatedAt: base}); err != nil {
		t.Fatal(err)
	}
	if got := states(); got != "original=verify k1=primary" {
		t.Fatalf("after the first rotation: %s", got)
	}
	if err := s.AddTokenKey(ctx, storage.TokenKey{ID: "k2", Sealed: []byte("sealed-2"), CreatedAt: base.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if got := states(); got != "original=verify k1=verify k2=primary" {
		t.Fatalf("after the second rotation: %s", got)
	}
	if err := s.AddTokenKey(ctx, storage.TokenKey{ID: "k2", Sealed: []byte("x"), CreatedAt: base}); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("a repeated id: %v", err)
	}
	if got := states(); got != "original=verify k1=verify k2=primary" {
		t.Fatalf("a failed rotation changed the ring: %s", got)
	}
	if err := s.RetireTokenKey(ctx, "k2", base); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("retiring the primary: %v", err)
	}
	if err := s.RetireTokenKey(ctx, "nope", base); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("retiring an unknown key: %v", err)
	}
	for _, id := range []string{storage.OriginalTokenKey, "k1", "k1"} { // twice is fine
		if err := s.RetireTokenKey(ctx, id, base.Add(2*time.Hour)); err != nil {
			t.Fatalf("retire %s: %v", id, err)
		}
	}
	keys, _ := s.ListTokenKeys(ctx)
	if states() != "original=retired k1=retired k2=primary" || string(keys[2].Sealed) != "sealed-2" ||
		keys[0].Sealed != nil || !keys[1].RetiredAt.Equal(base.Add(2*time.Hour)) {
		t.Fatalf("after retiring: %+v", keys)
	}
}
