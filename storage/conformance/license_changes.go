package conformance

import (
	"context"
	"encoding/hex"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

// testLicenseChanges: every change of a licensing record that nodes keep in memory (an API token, a product, a
// WooCommerce store, SKU and token) reaches the change feed under its key, and reads right after the change see it, also when
// the same record was read (and so may be cached) before.
func testLicenseChanges(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustVendor(t, s, "acme")
	p := mustProduct(t, s, "acme", "editor")
	ws := mustWooStore(t, s, "acme", "code-1")
	tok, err := s.CreateAPIToken(ctx, storage.APIToken{Vendor: "acme", SecretHash: []byte{1}, Permissions: []string{"GetKey"}, CreatedAt: base})
	if err != nil {
		t.Fatal(err)
	}
	child, err := s.CreateAPIToken(ctx, storage.APIToken{Vendor: "acme", SecretHash: []byte{2}, ParentID: tok.ID, CreatedAt: base})
	if err != nil {
		t.Fatal(err)
	}
	// Read everything once, as a request would, so that a cache in front holds it.
	for _, id := range []int64{tok.ID, child.ID} {
		if _, err := s.GetAPIToken(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.GetProduct(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetVendor(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FindWooStore(ctx, ws.CodeHash); err != nil {
		t.Fatal(err)
	}
	if err := s.PutWooSKU(ctx, storage.WooSKU{StoreID: ws.ID, SKU: "EDITOR", ProductID: p.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetWooSKU(ctx, ws.ID, "EDITOR"); err != nil {
		t.Fatal(err)
	}
	k := mustKey(t, s, storage.LicenseKey{ProductID: p.ID, Key: "WOOTK-AAAAA-BBBBB-CCCCC"})
	live := storage.WooToken{Hash: []byte("live-token"), KeyGlobalID: k.GlobalID, CreatedAt: base, ExpiresAt: base.Add(100 * 365 * 24 * time.Hour)}
	expired := storage.WooToken{Hash: []byte("expired-token"), KeyGlobalID: k.GlobalID, CreatedAt: base, ExpiresAt: base.Add(time.Minute)}
	for _, tok := range []storage.WooToken{live, expired} {
		if err := s.CreateWooToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetWooToken(ctx, tok.Hash); err != nil {
			t.Fatal(err)
		}
	}
	_, after, err := s.ReadChanges(ctx, -1, 10)
	if err != nil {
		t.Fatal(err)
	}

	at := base.Add(time.Minute)
	if err := s.RevokeAPIToken(ctx, tok.ID, at); err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{tok.ID, child.ID} {
		if got, err := s.GetAPIToken(ctx, id); err != nil || !got.Revoked() {
			t.Fatalf("API token %d right after its revocation: revoked %v, %v", id, got.RevokedAt, err)
		}
	}
	if _, err := s.UpdateProduct(ctx, p.ID, func(p *storage.Product) error { p.BlockExpired = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetProduct(ctx, p.ID); err != nil || !got.BlockExpired {
		t.Fatalf("product right after its update: %+v, %v", got, err)
	}
	if err := s.PutWooSKU(ctx, storage.WooSKU{StoreID: ws.ID, SKU: "EDITOR", ProductID: p.ID, Desktop: true}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetWooSKU(ctx, ws.ID, "EDITOR"); err != nil || !got.Desktop {
		t.Fatalf("SKU right after its change: %+v, %v", got, err)
	}
	if err := s.DeleteWooSKU(ctx, ws.ID, "EDITOR"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetWooSKU(ctx, ws.ID, "EDITOR"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("SKU right after its removal: %v, want ErrNotFound", err)
	}
	// A live token trimmed away is gone at once; both removals are announced.
	if n, err := s.TrimWooTokens(ctx, k.GlobalID, time.Now(), 0); err != nil || n != 1 {
		t.Fatalf("TrimWooTokens(keep 0) = %d, %v; want the live token", n, err)
	}
	if _, err := s.GetWooToken(ctx, live.Hash); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a WooCommerce token right after it was trimmed: %v, want ErrNotFound", err)
	}
	if n, err := s.DeleteWooTokens(ctx, base.Add(time.Hour), 10); err != nil || n != 1 {
		t.Fatalf("DeleteWooTokens = %d, %v; want the expired token", n, err)
	}
	newHash := []byte("hash-code-2")
	if _, err := s.UpdateWooStore(ctx, ws.ID, func(w *storage.WooStore) error { w.CodeHash, w.RequireToken = newHash, true; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FindWooStore(ctx, ws.CodeHash); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("the store by its old code after a new one: %v, want ErrNotFound", err)
	}
	if got, err := s.FindWooStore(ctx, newHash); err != nil || !got.RequireToken {
		t.Fatalf("the store by its new code: %+v, %v", got, err)
	}
	if _, err := s.DeleteWooStore(ctx, ws.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FindWooStore(ctx, newHash); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("the store after its removal: %v, want ErrNotFound", err)
	}

	changes, _, err := s.ReadChanges(ctx, after, 100)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[storage.ChangeKind]map[string]bool{}
	for _, c := range changes {
		if seen[c.Kind] == nil {
			seen[c.Kind] = map[string]bool{}
		}
		seen[c.Kind][c.Key] = true
	}
	for _, want := range []struct {
		kind storage.ChangeKind
		key  string
	}{
		{storage.ChangedAPIToken, strconv.FormatInt(tok.ID, 10)},
		{storage.ChangedAPIToken, strconv.FormatInt(child.ID, 10)},
		{storage.ChangedProduct, strconv.FormatInt(p.ID, 10)},
		{storage.ChangedWooStore, hex.EncodeToString(ws.CodeHash)},
		{storage.ChangedWooStore, hex.EncodeToString(newHash)},
		{storage.ChangedWooSKU, strconv.FormatInt(ws.ID, 10) + "/EDITOR"},
		{storage.ChangedWooToken, hex.EncodeToString(live.Hash)},
		{storage.ChangedWooToken, hex.EncodeToString(expired.Hash)},
	} {
		if !seen[want.kind][want.key] {
			t.Errorf("no %s change for %q on the feed: %+v", want.kind, want.key, changes)
		}
	}
}
