package conformance

import (
	"context"
	"errors"
	"fmt"
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

// testTokenKeyCheckedAtMint: a token sealed with a key that is no longer the primary is refused at the commit,
// so that a node which has not yet reloaded the ring after a rotation never hands one out.
func testTokenKeyCheckedAtMint(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustUser(t, s, "alice")
	n := 0
	create := func(key string) error {
		n++
		return s.CreateToken(ctx, storage.Token{ID: fmt.Sprintf("t%d", n), User: "alice", Kind: storage.KindOpen,
			CreatedAt: base, LastUsedAt: base, KeyID: key})
	}
	// Never rotated: the original key is the primary.
	if err := create(storage.OriginalTokenKey); err != nil {
		t.Fatalf("the original key before any rotation: %v", err)
	}
	if err := create("k1"); !errors.Is(err, storage.ErrStaleTokenKey) {
		t.Fatalf("a key the ring does not have: %v, want ErrStaleTokenKey", err)
	}
	if err := s.AddTokenKey(ctx, storage.TokenKey{ID: "k1", Sealed: []byte("sealed-1"), CreatedAt: base}); err != nil {
		t.Fatal(err)
	}
	if err := create(storage.OriginalTokenKey); !errors.Is(err, storage.ErrStaleTokenKey) {
		t.Fatalf("the original key after a rotation: %v, want ErrStaleTokenKey", err)
	}
	if err := create("k1"); err != nil {
		t.Fatalf("the new primary: %v", err)
	}
	if err := create(""); err != nil {
		t.Fatalf("no key named (unchecked): %v", err)
	}
	if _, err := s.GetToken(ctx, "t2"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a refused token was stored: %v", err)
	}
	if got, _ := s.ListTokens(ctx, storage.TokenFilter{}); len(got) != 3 {
		t.Fatalf("stored %d tokens, want 3 (t1, t4, t5)", len(got))
	}
}
