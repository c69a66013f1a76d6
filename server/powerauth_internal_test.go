package server

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/keys"
	"github.com/tokenmanager/tokenmanager/powerauth"
	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/sqlite"
)

// powerAuthVerify is the hook forward-auth calls; its three outcomes must be told apart by the caller.
func TestPowerAuthVerifyHook(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "hook.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := store.CreateUser(ctx, storage.User{Name: "alice", PasswordHash: "x"}); err != nil {
		t.Fatal(err)
	}
	svc := powerauth.NewService(store, keys.NewSealer(make([]byte, keys.Size)), powerauth.Config{}, nil)
	a, err := svc.CreateActivation(ctx, "alice", "phone")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := svc.CreateToken(ctx, "alice", a.ID)
	if err != nil {
		t.Fatal(err)
	}
	header := func() string {
		nonce := make([]byte, powerauth.NonceSize)
		rand.Read(nonce)
		h, _ := powerauth.NewHeader(tok.ID, tok.Secret, nonce, time.Now().UnixMilli(), powerauth.Version33)
		return h.String()
	}
	s := New(Config{}, Deps{PowerAuth: svc})

	r := httptest.NewRequest("GET", "/auth", nil)
	if user, ok, err := s.powerAuthVerify(r); user != "" || ok || err != nil {
		t.Fatalf("no header: %q, %v, %v; want \"\", false, nil", user, ok, err)
	}
	if user, ok, err := New(Config{}, Deps{}).powerAuthVerify(r); user != "" || ok || err != nil {
		t.Fatalf("PowerAuth not configured: %q, %v, %v", user, ok, err)
	}

	h := header()
	r.Header.Set(powerauth.HeaderName, h)
	if user, ok, err := s.powerAuthVerify(r); user != "alice" || !ok || err != nil {
		t.Fatalf("valid header: %q, %v, %v; want alice, true, nil", user, ok, err)
	}
	if user, ok, err := s.powerAuthVerify(r); user != "" || ok || !errors.Is(err, powerauth.ErrReplay) {
		t.Fatalf("replayed header: %q, %v, %v; want a refusal (ErrReplay)", user, ok, err)
	}
	r.Header.Set(powerauth.HeaderName, "PowerAuth garbage")
	if _, ok, err := s.powerAuthVerify(r); ok || !errors.Is(err, powerauth.ErrInvalid) {
		t.Fatalf("malformed header: %v, %v; want a refusal", ok, err)
	}

	// A storage failure is not a refusal: forward-auth must answer 500, not 401.
	store.Close()
	r.Header.Set(powerauth.HeaderName, header())
	if _, ok, err := s.powerAuthVerify(r); ok || err == nil || errors.Is(err, powerauth.ErrInvalid) {
		t.Fatalf("closed store: %v, %v; want an error that is not ErrInvalid", ok, err)
	}
}
