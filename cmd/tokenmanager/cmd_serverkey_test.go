package main

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/auth"
	"github.com/tokenmanager/tokenmanager/keys"
	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/powerauth"
	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/sqlite"
	"github.com/tokenmanager/tokenmanager/token"
)

// TestResealer re-seals every kind of secret of a real database, sealed the way the services seal them, and
// opens each the way the services open them, with the new key alone; a value that opens with neither key stops
// the rotation with nothing changed.
func TestResealer(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "tm.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	old, next := newKey(), newKey()
	if _, err := store.InitSetting(ctx, settingServerKey, keys.Fingerprint(old)); err != nil {
		t.Fatal(err)
	}
	// A token of the original token key; a WS-Security digest password; a product's signing key; a PowerAuth secret.
	codec, err := token.NewKeyring(store, old).Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := codec.Seal(token.Claims{ID: "t1", User: "alice", Kind: storage.KindOpen, IssuedAt: time.Now().Unix()})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.CreateUser(ctx, storage.User{Name: "alice", PasswordHash: "h",
		DigestSecret: auth.SealPassword(keys.NewSealer(old), "alice", "digest password")}); err != nil {
		t.Fatal(err)
	}
	lic := license.New(store, keys.NewSealerFor(old, keys.PurposeLicenseSigningKeys), license.Options{})
	if err := lic.AddVendor(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	p, err := lic.CreateProduct(ctx, license.Admin(), "alice", license.ProductSpec{Name: "app"})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.CreatePowerAuthActivation(ctx, storage.PowerAuthActivation{ID: "a1", User: "alice", Status: storage.PowerAuthActive,
		CreatedAt: time.Now(), UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	paSecret := []byte("0123456789abcdef")
	if err := store.CreatePowerAuthToken(ctx, storage.PowerAuthToken{ID: "pt1", ActivationID: "a1", CreatedAt: time.Now(),
		SealedSecret: keys.NewSealer(powerauth.SecretKey(old)).Seal(paSecret, powerauth.SealedSecretAD("pt1", "a1"))}); err != nil {
		t.Fatal(err)
	}

	// A value that opens with neither key: refused, and nothing changes.
	if err := store.CreateUser(ctx, storage.User{Name: "bob", PasswordHash: "h",
		DigestSecret: auth.SealPassword(keys.NewSealer(newKey()), "bob", "x")}); err != nil {
		t.Fatal(err)
	}
	_, err = store.ResealServerKey(ctx, keys.Fingerprint(old), keys.Fingerprint(next), resealer(old, next))
	if err == nil || !strings.Contains(err.Error(), "digest-password bob opens with neither key") {
		t.Fatalf("re-seal with a stray value: %v", err)
	}
	if fp, _ := store.ServerKeyFingerprint(ctx); fp != keys.Fingerprint(old) {
		t.Fatal("a refused re-seal changed the fingerprint")
	}
	if list, _ := store.ListTokenKeys(ctx); len(list) != 0 {
		t.Fatalf("a refused re-seal changed the ring: %v", list)
	}
	if err := store.UpdateUser(ctx, "bob", func(u *storage.User) error { u.DigestSecret = nil; return nil }); err != nil {
		t.Fatal(err)
	}

	n, err := store.ResealServerKey(ctx, keys.Fingerprint(old), keys.Fingerprint(next), resealer(old, next))
	if err != nil || n != 4 {
		t.Fatalf("re-seal = %d, %v; want 4", n, err)
	}
	// Everything opens with the new key alone, as the services open it.
	codec, err = token.NewKeyring(store, next).Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := codec.Open(tok); err != nil || c.ID != "t1" {
		t.Fatalf("token of the original key after the re-seal: %+v %v", c, err)
	}
	u, _ := store.GetUser(ctx, "alice")
	if pw, err := keys.NewSealer(next).Open(u.DigestSecret, auth.SealedPasswordAD("alice")); err != nil || string(pw) != "digest password" {
		t.Fatalf("digest password: %q %v", pw, err)
	}
	sp, _ := store.GetProduct(ctx, p.ID)
	if _, err := keys.NewSealerFor(next, keys.PurposeLicenseSigningKeys).Open(sp.SealedPrivateKey, license.SigningKeyAD(p.ID)); err != nil {
		t.Fatalf("product key: %v", err)
	}
	pt, _ := store.GetPowerAuthToken(ctx, "pt1")
	if s, err := keys.NewSealer(powerauth.SecretKey(next)).Open(pt.SealedSecret, powerauth.SealedSecretAD("pt1", "a1")); err != nil || string(s) != string(paSecret) {
		t.Fatalf("PowerAuth secret: %q %v", s, err)
	}
	if _, err := keys.NewSealer(old).Open(u.DigestSecret, auth.SealedPasswordAD("alice")); err == nil {
		t.Fatal("the old key still opens a re-sealed value")
	}
	// A second pass finds nothing sealed with the old key.
	if n, err := store.ResealServerKey(ctx, keys.Fingerprint(old), keys.Fingerprint(next), resealer(old, next)); err != nil || n != 0 {
		t.Fatalf("second pass = %d, %v; want 0", n, err)
	}
}

func newKey() []byte {
	k := make([]byte, keys.Size)
	rand.Read(k)
	return k
}
