package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/keys"
	"github.com/tokenmanager/tokenmanager/powerauth"
	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/sqlite"
)

// TestResealerPowerAuthProtocol: applications, activation keys and temporary keys sealed the way the service
// seals them are re-sealed by a rotation and open with the new key alone.
func TestResealerPowerAuthProtocol(t *testing.T) {
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
	sealer := func(k []byte) *keys.Sealer { return keys.NewSealer(powerauth.SecretKey(k)) }
	app, err := powerauth.NewService(store, sealer(old), powerauth.Config{}, nil).CreateApp(ctx, "mobile")
	if err != nil {
		t.Fatal(err)
	}
	if err := store.CreateUser(ctx, storage.User{Name: "alice", PasswordHash: "h"}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	actKeys := []byte("device public and server private")
	if err := store.CreatePowerAuthKeyedActivation(ctx, storage.PowerAuthActivation{ID: "a1", User: "alice", Status: storage.PowerAuthActive,
		CreatedAt: now, UpdatedAt: now}, storage.PowerAuthKeys{AppID: "mobile", Version: 3,
		Sealed: sealer(old).Seal(actKeys, powerauth.SealedAD(storage.SealedPowerAuthActivation, "a1"))}); err != nil {
		t.Fatal(err)
	}
	if err := store.CreatePowerAuthTempKey(ctx, storage.PowerAuthTempKey{ID: "t1", AppID: "mobile", Public: []byte{4}, ExpiresAt: now,
		Sealed: sealer(old).Seal([]byte("temp"), powerauth.SealedAD(storage.SealedPowerAuthTempKey, "t1"))}); err != nil {
		t.Fatal(err)
	}
	n, err := store.ResealServerKey(ctx, keys.Fingerprint(old), keys.Fingerprint(next), resealer(old, next))
	if err != nil || n != 4 { // the original token key joins the ring, and the three values
		t.Fatalf("re-seal = %d, %v; want 4", n, err)
	}
	again, err := powerauth.NewService(store, sealer(next), powerauth.Config{}, nil).App(ctx, "mobile")
	if err != nil || again.Secret != app.Secret || !again.Master.Equal(app.Master) {
		t.Fatalf("application after the re-seal: %v", err)
	}
	k, _ := store.GetPowerAuthKeys(ctx, "a1")
	if v, err := sealer(next).Open(k.Sealed, powerauth.SealedAD(storage.SealedPowerAuthActivation, "a1")); err != nil || string(v) != string(actKeys) {
		t.Fatalf("activation keys: %v", err)
	}
	tk, _ := store.GetPowerAuthTempKey(ctx, "t1")
	if v, err := sealer(next).Open(tk.Sealed, powerauth.SealedAD(storage.SealedPowerAuthTempKey, "t1")); err != nil || string(v) != "temp" {
		t.Fatalf("temporary key: %v", err)
	}
}
