package conformance

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

// The management API's storage: admin API tokens and the removals of users and products.

func testAdminTokens(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustUser(t, s, "alice")
	mustUser(t, s, "bob")
	tok := storage.AdminToken{ID: "a1", User: "alice", Name: "CI", SecretHash: []byte("hash-1"), ReadOnly: true, Vendor: "acme",
		CreatedAt: base, ExpiresAt: base.Add(time.Hour)}
	if err := s.CreateAdminToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAdminToken(ctx, tok); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("a repeated id: %v", err)
	}
	if err := s.CreateAdminToken(ctx, storage.AdminToken{ID: "a0", User: "ghost", SecretHash: []byte("h"), CreatedAt: base}); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a token of no user: %v", err)
	}
	if err := s.CreateAdminToken(ctx, storage.AdminToken{ID: "a2", User: "alice", SecretHash: []byte("hash-2"), CreatedAt: base.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAdminToken(ctx, storage.AdminToken{ID: "b1", User: "bob", SecretHash: []byte("hash-3"), CreatedAt: base.Add(2 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetAdminToken(ctx, "a1")
	if err != nil || got.User != "alice" || got.Name != "CI" || string(got.SecretHash) != "hash-1" || !got.ReadOnly || got.Vendor != "acme" ||
		!got.CreatedAt.Equal(base) || !got.ExpiresAt.Equal(base.Add(time.Hour)) || !got.LastUsedAt.IsZero() || !got.RevokedAt.IsZero() {
		t.Fatalf("GetAdminToken = %+v, %v", got, err)
	}
	if !got.Live(base) || got.Live(base.Add(time.Hour)) {
		t.Fatal("Live does not follow the expiry")
	}
	if _, err := s.GetAdminToken(ctx, "nope"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("GetAdminToken(missing) = %v", err)
	}
	list, _ := s.ListAdminTokens(ctx, "alice", 0)
	if got := ids(list, func(t storage.AdminToken) string { return t.ID }); got != "a2 a1" {
		t.Fatalf("alice's tokens: %s", got)
	}
	list, _ = s.ListAdminTokens(ctx, "", 2)
	if got := ids(list, func(t storage.AdminToken) string { return t.ID }); got != "b1 a2" {
		t.Fatalf("every token, two: %s", got)
	}
	if err := s.TouchAdminToken(ctx, "a1", base.Add(time.Minute), time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchAdminToken(ctx, "a1", base.Add(90*time.Second), time.Minute); err != nil { // throttled
		t.Fatal(err)
	}
	if got, _ := s.GetAdminToken(ctx, "a1"); !got.LastUsedAt.Equal(base.Add(time.Minute)) {
		t.Fatalf("last used: %v", got.LastUsedAt)
	}
	if err := s.RevokeAdminToken(ctx, "a1", base.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeAdminToken(ctx, "a1", base.Add(time.Hour)); err != nil {
		t.Fatalf("revoking twice: %v", err)
	}
	if got, _ := s.GetAdminToken(ctx, "a1"); !got.RevokedAt.Equal(base.Add(time.Minute)) || got.Live(base) {
		t.Fatalf("revoked: %+v", got)
	}
	if err := s.RevokeAdminToken(ctx, "nope", base); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("RevokeAdminToken(missing) = %v", err)
	}
}

func testDeleteUser(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustUser(t, s, "alice")
	if err := s.CreateSession(ctx, storage.Session{ID: "s1", User: "alice", ClientHost: "h", CreatedAt: base, LastSeenAt: base}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateToken(ctx, storage.Token{ID: "t1", User: "alice", Kind: storage.KindSession, SessionID: "s1", ClientHost: "h",
		CreatedAt: base, LastUsedAt: base}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreatePowerAuthActivation(ctx, storage.PowerAuthActivation{ID: "pa1", User: "alice", Name: "phone", CreatedAt: base}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAdminToken(ctx, storage.AdminToken{ID: "a1", User: "alice", SecretHash: []byte("h"), CreatedAt: base}); err != nil {
		t.Fatal(err)
	}
	_, after, err := s.ReadChanges(ctx, -1, 10)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, "alice", base.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetUser(ctx, "alice"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("the user after delete: %v", err)
	}
	for name, err := range map[string]error{
		"token":       func() error { _, err := s.GetToken(ctx, "t1"); return err }(),
		"session":     func() error { _, err := s.GetSession(ctx, "s1"); return err }(),
		"activation":  func() error { _, err := s.GetPowerAuthActivation(ctx, "pa1"); return err }(),
		"admin token": func() error { _, err := s.GetAdminToken(ctx, "a1"); return err }(),
	} {
		if !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("the user's %s after delete: %v", name, err)
		}
	}
	changes, _, err := s.ReadChanges(ctx, after, 100)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[storage.ChangeKind]bool{}
	for _, c := range changes {
		seen[c.Kind] = true
	}
	if !seen[storage.ChangedToken] || !seen[storage.ChangedSession] || !seen[storage.ChangedUser] {
		t.Fatalf("the caches hear of the delete: %+v", changes)
	}
	if err := s.DeleteUser(ctx, "alice", base); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("DeleteUser(missing) = %v", err)
	}
	mustVendor(t, s, "acme")
	if err := s.DeleteUser(ctx, "acme", base); !errors.Is(err, storage.ErrInUse) {
		t.Fatalf("DeleteUser(a vendor) = %v, want ErrInUse", err)
	}
	if _, err := s.GetVendor(ctx, "acme"); err != nil {
		t.Fatalf("the vendor after a refused delete: %v", err)
	}
}

func testDeleteProduct(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustVendor(t, s, "acme")
	empty := mustProduct(t, s, "acme", "Empty")
	if r, err := s.DeleteProduct(ctx, empty.ID, false); err != nil || r != (storage.ProductRemoval{}) {
		t.Fatalf("deleting a product without keys: %+v, %v", r, err)
	}
	if _, err := s.GetProduct(ctx, empty.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("the product after delete: %v", err)
	}
	if _, err := s.DeleteProduct(ctx, empty.ID, true); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("DeleteProduct(missing) = %v", err)
	}
	p := mustProduct(t, s, "acme", "App")
	other := mustProduct(t, s, "acme", "Other")
	mustKey(t, s, storage.LicenseKey{ProductID: p.ID, Key: "K1"})
	mustKey(t, s, storage.LicenseKey{ProductID: p.ID, Key: "K2"})
	kept := mustKey(t, s, storage.LicenseKey{ProductID: other.ID, Key: "K3"})
	if _, _, err := s.UpdateActivations(ctx, p.ID, "K1", func(storage.LicenseKey, []storage.Activation) (storage.ActivationChanges, error) {
		return storage.ActivationChanges{Put: []storage.Activation{{MachineCode: "m1", ActivatedAt: base}}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	ws := mustWooStore(t, s, "acme", "code")
	if err := s.PutWooSKU(ctx, storage.WooSKU{StoreID: ws.ID, SKU: "sku-1", ProductID: p.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteProduct(ctx, p.ID, false); !errors.Is(err, storage.ErrInUse) {
		t.Fatalf("deleting a product with keys unforced: %v", err)
	}
	if _, err := s.GetLicenseKey(ctx, p.ID, "K1"); err != nil {
		t.Fatalf("a key after a refused delete: %v", err)
	}
	r, err := s.DeleteProduct(ctx, p.ID, true)
	if err != nil || r != (storage.ProductRemoval{Keys: 2, Activations: 1, SKUs: 1}) {
		t.Fatalf("forced delete: %+v, %v", r, err)
	}
	if _, err := s.GetLicenseKey(ctx, p.ID, "K1"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a key of the deleted product: %v", err)
	}
	if skus, _ := s.ListWooSKUs(ctx, ws.ID); len(skus) != 0 {
		t.Fatalf("SKUs of the deleted product: %+v", skus)
	}
	if _, err := s.GetLicenseKey(ctx, other.ID, kept.Key); err != nil {
		t.Fatalf("another product's key: %v", err)
	}
}

func testDeleteLicenseKey(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustVendor(t, s, "acme")
	p := mustProduct(t, s, "acme", "App")
	other := mustProduct(t, s, "acme", "Other")
	mustKey(t, s, storage.LicenseKey{ProductID: p.ID, Key: "K1"})
	mustKey(t, s, storage.LicenseKey{ProductID: p.ID, Key: "K2"})
	mustKey(t, s, storage.LicenseKey{ProductID: other.ID, Key: "K1"})
	if _, _, err := s.UpdateActivations(ctx, p.ID, "K1", func(storage.LicenseKey, []storage.Activation) (storage.ActivationChanges, error) {
		return storage.ActivationChanges{Put: []storage.Activation{{MachineCode: "m1", ActivatedAt: base}, {MachineCode: "m2", ActivatedAt: base}}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.DeleteLicenseKey(ctx, p.ID, "K2", false); err != nil || n != 0 {
		t.Fatalf("deleting a key without activations: %d, %v", n, err)
	}
	if _, err := s.GetLicenseKey(ctx, p.ID, "K2"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("the key after delete: %v", err)
	}
	if _, err := s.DeleteLicenseKey(ctx, p.ID, "K2", true); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("DeleteLicenseKey(missing) = %v", err)
	}
	if _, err := s.DeleteLicenseKey(ctx, p.ID, "K1", false); !errors.Is(err, storage.ErrInUse) {
		t.Fatalf("deleting an activated key unforced: %v", err)
	}
	k, err := s.GetLicenseKey(ctx, p.ID, "K1")
	if err != nil {
		t.Fatalf("the key after a refused delete: %v", err)
	}
	if acts, err := s.ListActivations(ctx, k.GlobalID); err != nil || len(acts) != 2 {
		t.Fatalf("activations after a refused delete: %v %v", acts, err)
	}
	if n, err := s.DeleteLicenseKey(ctx, p.ID, "K1", true); err != nil || n != 2 {
		t.Fatalf("forced delete: %d, %v", n, err)
	}
	if acts, err := s.ListActivations(ctx, k.GlobalID); err != nil || len(acts) != 0 {
		t.Fatalf("activations of the deleted key: %v %v", acts, err)
	}
	if _, err := s.GetLicenseKey(ctx, other.ID, "K1"); err != nil {
		t.Fatalf("the same key string in another product went too: %v", err)
	}
}
