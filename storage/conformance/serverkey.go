package conformance

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

// testServerKeyReseal: every sealed value is handed out and replaced in one transaction with the fingerprint; a
// failure half-way leaves every value and the fingerprint as they were; a database on another key is refused.
func testServerKeyReseal(t *testing.T, s storage.Store) {
	ctx := context.Background()
	if _, err := s.ServerKeyFingerprint(ctx); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("ServerKeyFingerprint of a new database = %v, want ErrNotFound", err)
	}
	if _, err := s.InitSetting(ctx, storage.SettingServerKey, "old"); err != nil {
		t.Fatal(err)
	}
	mustUser(t, s, "digest")
	if err := s.UpdateUser(ctx, "digest", func(u *storage.User) error { u.DigestSecret = []byte("sealed-pw"); return nil }); err != nil {
		t.Fatal(err)
	}
	mustUser(t, s, "plain") // no sealed value: not handed out
	mustVendor(t, s, "vendor")
	p := mustProduct(t, s, "vendor", "app")
	mustActivation(t, s, "act1", "digest", base)
	mustPowerAuthToken(t, s, "tok1", "act1")
	if err := s.AddOAuthKey(ctx, storage.OAuthKey{ID: "ok1", Alg: "ES256", Sealed: []byte("sealed-ok1"), State: storage.KeyPrimary,
		CreatedAt: base}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	pid := strconv.FormatInt(p.ID, 10)

	snapshot := func() map[string]string {
		t.Helper()
		got := map[string]string{}
		if fp, err := s.ServerKeyFingerprint(ctx); err != nil {
			t.Fatal(err)
		} else {
			got["fingerprint"] = fp
		}
		keys, err := s.ListTokenKeys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			got["key "+k.ID] = string(k.State) + " " + string(k.Sealed)
		}
		if u, err := s.GetUser(ctx, "digest"); err != nil {
			t.Fatal(err)
		} else {
			got["user"] = string(u.DigestSecret)
		}
		if p, err := s.GetProduct(ctx, p.ID); err != nil {
			t.Fatal(err)
		} else {
			got["product"] = string(p.SealedPrivateKey)
		}
		if tok, err := s.GetPowerAuthToken(ctx, "tok1"); err != nil {
			t.Fatal(err)
		} else {
			got["powerauth"] = string(tok.SealedSecret)
		}
		oks, err := s.ListOAuthKeys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range oks {
			got["oauth "+k.ID] = string(k.Sealed)
		}
		return got
	}
	prefix := func(v storage.SealedValue) ([]byte, error) {
		if v.Value == nil {
			return []byte("new:" + v.ID), nil
		}
		return append([]byte("new:"), v.Value...), nil
	}

	before := snapshot()
	// A failure at the last value: everything handed out before it was written and must be rolled back.
	boom := errors.New("boom")
	var seen []storage.SealedValue
	_, err := s.ResealServerKey(ctx, "old", "new", func(v storage.SealedValue) ([]byte, error) {
		seen = append(seen, v)
		if len(seen) == 5 {
			return nil, boom
		}
		return prefix(v)
	})
	if !errors.Is(err, boom) {
		t.Fatalf("ResealServerKey with a failing reseal = %v, want it", err)
	}
	if got := snapshot(); !equalMaps(got, before) {
		t.Fatalf("after a failed re-seal:\n%v\nwant\n%v", got, before)
	}
	want := []storage.SealedValue{
		{Kind: storage.SealedTokenKey, ID: storage.OriginalTokenKey},
		{Kind: storage.SealedDigestPassword, ID: "digest", Value: []byte("sealed-pw")},
		{Kind: storage.SealedSigningKey, ID: pid, Value: []byte("sealed-" + pid)},
		{Kind: storage.SealedPowerAuthSecret, ID: "tok1", Owner: "act1", Value: []byte("sealed:tok1")},
		{Kind: storage.SealedOAuthKey, ID: "ok1", Value: []byte("sealed-ok1")},
	}
	if !equalSealed(seen, want) {
		t.Fatalf("handed out %+v, want %+v", seen, want)
	}

	// A database on another key: refused before anything is handed out.
	_, err = s.ResealServerKey(ctx, "other", "new", func(storage.SealedValue) ([]byte, error) {
		t.Fatal("reseal called for a database on another key")
		return nil, nil
	})
	if !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("ResealServerKey from another key = %v, want ErrConflict", err)
	}

	n, err := s.ResealServerKey(ctx, "old", "new", prefix)
	if err != nil || n != 5 {
		t.Fatalf("ResealServerKey = %d, %v; want 5 values", n, err)
	}
	wantAfter := map[string]string{
		"fingerprint":  "new",
		"key original": "primary new:original", // the original key joined the ring, sealed, as the primary it was
		"user":         "new:sealed-pw",
		"product":      "new:sealed-" + pid,
		"powerauth":    "new:sealed:tok1",
		"oauth ok1":    "new:sealed-ok1",
	}
	if got := snapshot(); !equalMaps(got, wantAfter) {
		t.Fatalf("after the re-seal:\n%v\nwant\n%v", got, wantAfter)
	}
	// Tokens of the original key still mint: it is the primary.
	if err := s.CreateToken(ctx, storage.Token{ID: "t-after", User: "digest", Kind: storage.KindSession, KeyID: storage.OriginalTokenKey,
		CreatedAt: base, ExpiresAt: base.Add(3600e9), LastUsedAt: base}); err != nil {
		t.Fatalf("CreateToken with the original key after the re-seal: %v", err)
	}

	// A second pass (the database is on the new key already) hands out what is there, the original key with its
	// stored value, and stores only what reseal returns.
	seen = nil
	n, err = s.ResealServerKey(ctx, "old", "new", func(v storage.SealedValue) ([]byte, error) {
		seen = append(seen, v)
		if v.Kind == storage.SealedPowerAuthSecret {
			return []byte("again"), nil
		}
		return nil, nil
	})
	if err != nil || n != 1 || len(seen) != 5 || string(seen[0].Value) != "new:original" {
		t.Fatalf("second pass = %d, %v, handed out %+v", n, err, seen)
	}
	if got := snapshot()["powerauth"]; got != "again" {
		t.Fatalf("powerauth secret after the second pass = %q", got)
	}
}

// testServerKeyResealRing: a rotated ring is handed out whole, the original key (never stored) with no value, and
// keeps its states.
func testServerKeyResealRing(t *testing.T, s storage.Store) {
	ctx := context.Background()
	if _, err := s.InitSetting(ctx, storage.SettingServerKey, "old"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddTokenKey(ctx, storage.TokenKey{ID: "k1", Sealed: []byte("sealed-k1"), CreatedAt: base}); err != nil {
		t.Fatal(err)
	}
	var seen []string
	n, err := s.ResealServerKey(ctx, "old", "new", func(v storage.SealedValue) ([]byte, error) {
		seen = append(seen, v.ID+"="+string(v.Value))
		return append([]byte("new:"), v.Value...), nil
	})
	if err != nil || n != 2 {
		t.Fatalf("ResealServerKey = %d, %v", n, err)
	}
	if len(seen) != 2 || seen[0] != "k1=sealed-k1" || seen[1] != "original=" {
		t.Fatalf("handed out %q", seen)
	}
	keys, err := s.ListTokenKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, k := range keys {
		got[k.ID] = string(k.State) + " " + string(k.Sealed)
	}
	if want := map[string]string{"original": "verify new:", "k1": "primary new:sealed-k1"}; !equalMaps(got, want) {
		t.Fatalf("ring after the re-seal %v, want %v", got, want)
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func equalSealed(a, b []storage.SealedValue) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Kind != b[i].Kind || a[i].ID != b[i].ID || a[i].Owner != b[i].Owner || !bytes.Equal(a[i].Value, b[i].Value) ||
			(a[i].Value == nil) != (b[i].Value == nil) {
			return false
		}
	}
	return true
}
