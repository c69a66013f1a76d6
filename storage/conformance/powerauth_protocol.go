package conformance

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

func mustPowerAuthApp(t *testing.T, s storage.Store, id, key string) storage.PowerAuthApp {
	t.Helper()
	a := storage.PowerAuthApp{ID: id, Key: key, MasterPublic: []byte{4, 1, 2}, Sealed: []byte("sealed:" + id), CreatedAt: base}
	if err := s.CreatePowerAuthApp(context.Background(), a); err != nil {
		t.Fatalf("CreatePowerAuthApp(%q): %v", id, err)
	}
	return a
}

func testPowerAuthApps(t *testing.T, s storage.Store) {
	ctx := context.Background()
	if _, err := s.GetPowerAuthApp(ctx, "mobile"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("GetPowerAuthApp(missing) = %v", err)
	}
	a := mustPowerAuthApp(t, s, "mobile", "a2V5MQ==")
	mustPowerAuthApp(t, s, "other", "a2V5Mg==")
	if err := s.CreatePowerAuthApp(ctx, storage.PowerAuthApp{ID: "mobile", Key: "new", MasterPublic: []byte{4}, Sealed: []byte{1}, CreatedAt: base}); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("duplicate id = %v, want ErrConflict", err)
	}
	if err := s.CreatePowerAuthApp(ctx, storage.PowerAuthApp{ID: "third", Key: "a2V5MQ==", MasterPublic: []byte{4}, Sealed: []byte{1}, CreatedAt: base}); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("duplicate key = %v, want ErrConflict", err)
	}
	got, err := s.GetPowerAuthApp(ctx, "mobile")
	if err != nil || got.Key != a.Key || !bytes.Equal(got.Sealed, a.Sealed) || !bytes.Equal(got.MasterPublic, a.MasterPublic) || !got.CreatedAt.Equal(base) {
		t.Fatalf("GetPowerAuthApp = %+v, %v", got, err)
	}
	if got, err := s.GetPowerAuthAppByKey(ctx, "a2V5Mg=="); err != nil || got.ID != "other" {
		t.Fatalf("GetPowerAuthAppByKey = %+v, %v", got, err)
	}
	if _, err := s.GetPowerAuthAppByKey(ctx, "A2V5Mg=="); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("keys compare exactly: %v", err)
	}
	list, err := s.ListPowerAuthApps(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("ListPowerAuthApps = %+v, %v", list, err)
	}
}

func testPowerAuthKeyedActivation(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustUser(t, s, "alice")
	mustPowerAuthApp(t, s, "mobile", "a2V5MQ==")
	a := storage.PowerAuthActivation{ID: "pa1", User: "alice", Status: storage.PowerAuthCreated, CreatedAt: base, UpdatedAt: base}
	k := storage.PowerAuthKeys{AppID: "mobile", CodeHash: []byte("code-1"), OTPHash: []byte("otp"), CodeExpiresAt: base.Add(time.Hour),
		MaxFailedAttempts: 5, Version: 3}
	if err := s.CreatePowerAuthKeyedActivation(ctx, storage.PowerAuthActivation{ID: "x", User: "nobody", Status: storage.PowerAuthCreated,
		CreatedAt: base, UpdatedAt: base}, k); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("unknown user = %v, want ErrNotFound", err)
	}
	bad := k
	bad.AppID = "nope"
	if err := s.CreatePowerAuthKeyedActivation(ctx, storage.PowerAuthActivation{ID: "x", User: "alice", Status: storage.PowerAuthCreated,
		CreatedAt: base, UpdatedAt: base}, bad); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("unknown app = %v, want ErrNotFound", err)
	}
	if _, err := s.GetPowerAuthActivation(ctx, "x"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a refused keyed activation left its activation behind: %v", err)
	}
	if err := s.CreatePowerAuthKeyedActivation(ctx, a, k); err != nil {
		t.Fatal(err)
	}
	// The code is unique among waiting activations; the second is refused whole.
	a2 := a
	a2.ID = "pa2"
	if err := s.CreatePowerAuthKeyedActivation(ctx, a2, k); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("same code twice = %v, want ErrConflict", err)
	}
	if _, err := s.GetPowerAuthActivation(ctx, "pa2"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("the refused activation was written: %v", err)
	}
	if id, err := s.FindPowerAuthCode(ctx, []byte("code-1")); err != nil || id != "pa1" {
		t.Fatalf("FindPowerAuthCode = %q, %v", id, err)
	}
	if _, err := s.FindPowerAuthCode(ctx, []byte("code-2")); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("FindPowerAuthCode(missing) = %v", err)
	}
	got, err := s.GetPowerAuthKeys(ctx, "pa1")
	if err != nil || got.AppID != "mobile" || string(got.OTPHash) != "otp" || got.Sealed != nil || got.MaxFailedAttempts != 5 ||
		got.Version != 3 || !got.CodeExpiresAt.Equal(base.Add(time.Hour)) {
		t.Fatalf("GetPowerAuthKeys = %+v, %v", got, err)
	}

	// The key exchange: the code is spent, keys stored, the activation active.
	err = s.UpdatePowerAuthKeyed(ctx, "pa1", func(a *storage.PowerAuthActivation, k *storage.PowerAuthKeys) error {
		a.Status, a.Name = storage.PowerAuthActive, "Pixel"
		k.CodeHash, k.OTPHash, k.Sealed, k.ServerPublic, k.CtrData = nil, nil, []byte("sealed-keys"), []byte{4, 9}, bytes.Repeat([]byte{1}, 16)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.FindPowerAuthCode(ctx, []byte("code-1")); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a spent code is still found: %v", err)
	}
	mustPowerAuthToken(t, s, "tok1", "pa1")

	// An aborted update writes nothing.
	boom := errors.New("boom")
	err = s.UpdatePowerAuthKeyed(ctx, "pa1", func(a *storage.PowerAuthActivation, k *storage.PowerAuthKeys) error {
		k.FailedAttempts, a.Status = 5, storage.PowerAuthBlocked
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("aborted update = %v", err)
	}
	if k, _ := s.GetPowerAuthKeys(ctx, "pa1"); k.FailedAttempts != 0 || string(k.Sealed) != "sealed-keys" {
		t.Fatalf("aborted update wrote %+v", k)
	}
	// Counter moves and a block, in one update: the tokens die with the activation's active state.
	err = s.UpdatePowerAuthKeyed(ctx, "pa1", func(a *storage.PowerAuthActivation, k *storage.PowerAuthKeys) error {
		k.Counter, k.FailedAttempts, a.Status = 7, 5, storage.PowerAuthBlocked
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if k, _ := s.GetPowerAuthKeys(ctx, "pa1"); k.Counter != 7 || k.FailedAttempts != 5 {
		t.Fatalf("after update %+v", k)
	}
	if _, err := s.GetPowerAuthToken(ctx, "tok1"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("token outlived its blocked activation: %v", err)
	}
	if err := s.UpdatePowerAuthKeyed(ctx, "nope", func(*storage.PowerAuthActivation, *storage.PowerAuthKeys) error { return nil }); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("update of a missing activation = %v", err)
	}
	// A simple activation has no protocol state.
	mustActivation(t, s, "simple", "alice", base)
	if _, err := s.GetPowerAuthKeys(ctx, "simple"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("GetPowerAuthKeys(simple) = %v", err)
	}
	if err := s.UpdatePowerAuthKeyed(ctx, "simple", func(*storage.PowerAuthActivation, *storage.PowerAuthKeys) error { return nil }); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("UpdatePowerAuthKeyed(simple) = %v", err)
	}
}

func testPowerAuthTempKeys(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustPowerAuthApp(t, s, "mobile", "a2V5MQ==")
	k := storage.PowerAuthTempKey{ID: "t1", AppID: "mobile", Public: []byte{4, 4}, Sealed: []byte("sealed:t1"), ExpiresAt: base.Add(time.Minute)}
	if err := s.CreatePowerAuthTempKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	if err := s.CreatePowerAuthTempKey(ctx, k); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("duplicate = %v", err)
	}
	bad := k
	bad.ID, bad.AppID = "t9", "nope"
	if err := s.CreatePowerAuthTempKey(ctx, bad); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("unknown app = %v, want ErrNotFound", err)
	}
	k2 := k
	k2.ID, k2.ActivationID, k2.ExpiresAt = "t2", "pa1", base.Add(time.Hour)
	if err := s.CreatePowerAuthTempKey(ctx, k2); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetPowerAuthTempKey(ctx, "t2")
	if err != nil || got.ActivationID != "pa1" || !got.ExpiresAt.Equal(k2.ExpiresAt) || string(got.Sealed) != "sealed:t1" {
		t.Fatalf("GetPowerAuthTempKey = %+v, %v", got, err)
	}
	n, err := s.DeletePowerAuthTempKeys(ctx, base.Add(30*time.Minute), 10)
	if err != nil || n != 1 {
		t.Fatalf("DeletePowerAuthTempKeys = %d, %v", n, err)
	}
	if _, err := s.GetPowerAuthTempKey(ctx, "t1"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("expired key still there: %v", err)
	}
}

// testPowerAuthProtocolResealed: a server key change hands out the protocol's sealed values and stores them.
func testPowerAuthProtocolResealed(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustUser(t, s, "alice")
	mustPowerAuthApp(t, s, "mobile", "a2V5MQ==")
	if err := s.CreatePowerAuthKeyedActivation(ctx, storage.PowerAuthActivation{ID: "pa1", User: "alice", Status: storage.PowerAuthActive,
		CreatedAt: base, UpdatedAt: base}, storage.PowerAuthKeys{AppID: "mobile", Sealed: []byte("sealed:pa1"), Version: 3}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreatePowerAuthKeyedActivation(ctx, storage.PowerAuthActivation{ID: "pa2", User: "alice", Status: storage.PowerAuthCreated,
		CreatedAt: base, UpdatedAt: base}, storage.PowerAuthKeys{AppID: "mobile", CodeHash: []byte("c"), Version: 3}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreatePowerAuthTempKey(ctx, storage.PowerAuthTempKey{ID: "t1", AppID: "mobile", Public: []byte{4}, Sealed: []byte("sealed:t1"),
		ExpiresAt: base}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.InitSetting(ctx, storage.SettingServerKey, "old"); err != nil {
		t.Fatal(err)
	}
	seen := map[storage.SealedKind]string{}
	_, err := s.ResealServerKey(ctx, "old", "new", func(v storage.SealedValue) ([]byte, error) {
		switch v.Kind {
		case storage.SealedPowerAuthApp, storage.SealedPowerAuthActivation, storage.SealedPowerAuthTempKey:
			seen[v.Kind] += v.ID + "=" + string(v.Value) + ";"
			return append([]byte("new:"), v.Value...), nil
		}
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[storage.SealedKind]string{storage.SealedPowerAuthApp: "mobile=sealed:mobile;",
		storage.SealedPowerAuthActivation: "pa1=sealed:pa1;", storage.SealedPowerAuthTempKey: "t1=sealed:t1;"}
	for k, v := range want {
		if seen[k] != v {
			t.Errorf("handed out %s %q, want %q", k, seen[k], v)
		}
	}
	a, _ := s.GetPowerAuthApp(ctx, "mobile")
	k, _ := s.GetPowerAuthKeys(ctx, "pa1")
	tk, _ := s.GetPowerAuthTempKey(ctx, "t1")
	if string(a.Sealed) != "new:sealed:mobile" || string(k.Sealed) != "new:sealed:pa1" || string(tk.Sealed) != "new:sealed:t1" {
		t.Fatalf("after re-seal: %q %q %q", a.Sealed, k.Sealed, tk.Sealed)
	}
}
