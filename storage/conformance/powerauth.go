package conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

func mustActivation(t *testing.T, s storage.Store, id, user string, created time.Time) storage.PowerAuthActivation {
	t.Helper()
	a := storage.PowerAuthActivation{ID: id, User: user, Name: "phone " + id, Status: storage.PowerAuthActive,
		CreatedAt: created, UpdatedAt: created}
	if err := s.CreatePowerAuthActivation(context.Background(), a); err != nil {
		t.Fatalf("CreatePowerAuthActivation(%q): %v", id, err)
	}
	return a
}

func mustPowerAuthToken(t *testing.T, s storage.Store, id, activationID string) storage.PowerAuthToken {
	t.Helper()
	tok := storage.PowerAuthToken{ID: id, ActivationID: activationID, SealedSecret: []byte("sealed:" + id), CreatedAt: base}
	if err := s.CreatePowerAuthToken(context.Background(), tok); err != nil {
		t.Fatalf("CreatePowerAuthToken(%q): %v", id, err)
	}
	return tok
}

func testPowerAuthActivationCRUD(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustUser(t, s, "alice")
	mustUser(t, s, "bob")
	if _, err := s.GetPowerAuthActivation(ctx, "a1"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("GetPowerAuthActivation(missing) = %v, want ErrNotFound", err)
	}
	err := s.CreatePowerAuthActivation(ctx, storage.PowerAuthActivation{ID: "ax", User: "nobody", Status: storage.PowerAuthActive})
	if !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("CreatePowerAuthActivation(unknown user) = %v, want ErrNotFound", err)
	}
	want := mustActivation(t, s, "a1", "alice", base.Add(time.Second))
	if err := s.CreatePowerAuthActivation(ctx, want); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("CreatePowerAuthActivation(duplicate) = %v, want ErrConflict", err)
	}
	got, err := s.GetPowerAuthActivation(ctx, "a1")
	if err != nil || got != want {
		t.Fatalf("GetPowerAuthActivation = %+v, %v; want %+v", got, err, want)
	}
	mustActivation(t, s, "a0", "bob", base.Add(2*time.Second))
	mustActivation(t, s, "a2", "alice", base)

	list, err := s.ListPowerAuthActivations(ctx, "alice")
	if err != nil || len(list) != 2 || list[0].ID != "a2" || list[1].ID != "a1" {
		t.Fatalf("ListPowerAuthActivations(alice) = %+v, %v; want a2, a1 (oldest first)", list, err)
	}
	all, err := s.ListPowerAuthActivations(ctx, "")
	if err != nil || len(all) != 3 || all[0].ID != "a2" || all[2].ID != "a0" {
		t.Fatalf("ListPowerAuthActivations(all) = %+v, %v", all, err)
	}
	if none, err := s.ListPowerAuthActivations(ctx, "carol"); err != nil || len(none) != 0 {
		t.Fatalf("ListPowerAuthActivations(carol) = %+v, %v", none, err)
	}

	later := base.Add(time.Hour)
	err = s.UpdatePowerAuthActivation(ctx, "a1", func(a *storage.PowerAuthActivation) error {
		a.Status, a.Name, a.UpdatedAt = storage.PowerAuthBlocked, "old phone", later
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _ = s.GetPowerAuthActivation(ctx, "a1")
	if got.Status != storage.PowerAuthBlocked || got.Name != "old phone" || !got.UpdatedAt.Equal(later) ||
		!got.CreatedAt.Equal(want.CreatedAt) || got.User != "alice" {
		t.Fatalf("after update: %+v", got)
	}
	boom := errors.New("boom")
	err = s.UpdatePowerAuthActivation(ctx, "a1", func(a *storage.PowerAuthActivation) error {
		a.Status = storage.PowerAuthRemoved
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("UpdatePowerAuthActivation = %v, want the updater's error", err)
	}
	if got, _ := s.GetPowerAuthActivation(ctx, "a1"); got.Status != storage.PowerAuthBlocked {
		t.Fatalf("an aborted update was written: %+v", got)
	}
	err = s.UpdatePowerAuthActivation(ctx, "nope", func(*storage.PowerAuthActivation) error { return nil })
	if !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("UpdatePowerAuthActivation(missing) = %v, want ErrNotFound", err)
	}
}

func testPowerAuthTokenLifecycle(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustUser(t, s, "alice")
	mustActivation(t, s, "a1", "alice", base)
	mustActivation(t, s, "a2", "alice", base)
	if _, err := s.GetPowerAuthToken(ctx, "t1"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("GetPowerAuthToken(missing) = %v", err)
	}
	if _, _, err := s.GetPowerAuthTokenActivation(ctx, "t1"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("GetPowerAuthTokenActivation(missing) = %v", err)
	}
	want := mustPowerAuthToken(t, s, "t1", "a1")
	if err := s.CreatePowerAuthToken(ctx, want); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("CreatePowerAuthToken(duplicate) = %v, want ErrConflict", err)
	}
	err := s.CreatePowerAuthToken(ctx, storage.PowerAuthToken{ID: "tx", ActivationID: "nope", SealedSecret: []byte{1}, CreatedAt: base})
	if !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("CreatePowerAuthToken(unknown activation) = %v, want ErrNotFound", err)
	}
	got, err := s.GetPowerAuthToken(ctx, "t1")
	if err != nil || got.ID != want.ID || got.ActivationID != "a1" || !bytes.Equal(got.SealedSecret, want.SealedSecret) ||
		!got.CreatedAt.Equal(base) {
		t.Fatalf("GetPowerAuthToken = %+v, %v; want %+v", got, err, want)
	}
	// Read together, the token and its activation are what each read alone returns.
	wantAct, err := s.GetPowerAuthActivation(ctx, "a1")
	if err != nil {
		t.Fatal(err)
	}
	if tok, act, err := s.GetPowerAuthTokenActivation(ctx, "t1"); err != nil || !reflect.DeepEqual(tok, got) || !reflect.DeepEqual(act, wantAct) {
		t.Fatalf("GetPowerAuthTokenActivation = %+v, %+v, %v; want %+v, %+v", tok, act, err, got, wantAct)
	}
	mustPowerAuthToken(t, s, "t2", "a2")
	mustPowerAuthToken(t, s, "t3", "a1")
	if l, err := s.ListPowerAuthTokens(ctx, "a1"); err != nil || len(l) != 2 || l[0].ID != "t1" || l[1].ID != "t3" {
		t.Fatalf("ListPowerAuthTokens(a1) = %+v, %v", l, err)
	}
	if l, err := s.ListPowerAuthTokens(ctx, ""); err != nil || len(l) != 3 {
		t.Fatalf("ListPowerAuthTokens(all) = %+v, %v", l, err)
	}
	if err := s.DeletePowerAuthToken(ctx, "t1"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeletePowerAuthToken(ctx, "t1"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("DeletePowerAuthToken(twice) = %v, want ErrNotFound", err)
	}
	if _, err := s.GetPowerAuthToken(ctx, "t1"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("deleted token still there: %v", err)
	}
}

// A token never outlives its activation's active state: blocking or removing deletes it, unblocking does not
// bring it back, and no token can be created under an activation that is not active.
func testPowerAuthTokensDieWithActivation(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustUser(t, s, "alice")
	mustActivation(t, s, "a1", "alice", base)
	mustActivation(t, s, "a2", "alice", base)
	mustPowerAuthToken(t, s, "t1", "a1")
	mustPowerAuthToken(t, s, "t2", "a1")
	mustPowerAuthToken(t, s, "t3", "a2")
	setStatus := func(id string, st storage.PowerAuthActivationStatus) {
		t.Helper()
		if err := s.UpdatePowerAuthActivation(ctx, id, func(a *storage.PowerAuthActivation) error {
			a.Status = st
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	// A rename of an active activation keeps its tokens.
	if err := s.UpdatePowerAuthActivation(ctx, "a1", func(a *storage.PowerAuthActivation) error {
		a.Name = "renamed"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if l, _ := s.ListPowerAuthTokens(ctx, "a1"); len(l) != 2 {
		t.Fatalf("rename lost tokens: %+v", l)
	}
	setStatus("a1", storage.PowerAuthBlocked)
	if l, _ := s.ListPowerAuthTokens(ctx, "a1"); len(l) != 0 {
		t.Fatalf("tokens of a blocked activation survive: %+v", l)
	}
	if _, err := s.GetPowerAuthToken(ctx, "t1"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("GetPowerAuthToken(token of blocked activation) = %v, want ErrNotFound", err)
	}
	err := s.CreatePowerAuthToken(ctx, storage.PowerAuthToken{ID: "t4", ActivationID: "a1", SealedSecret: []byte{1}, CreatedAt: base})
	if !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("CreatePowerAuthToken(blocked activation) = %v, want ErrNotFound", err)
	}
	setStatus("a1", storage.PowerAuthActive)
	if l, _ := s.ListPowerAuthTokens(ctx, "a1"); len(l) != 0 {
		t.Fatalf("unblocking brought tokens back: %+v", l)
	}
	if _, err := s.GetPowerAuthToken(ctx, "t3"); err != nil {
		t.Fatalf("another activation's token was touched: %v", err)
	}
	setStatus("a2", storage.PowerAuthRemoved)
	if _, err := s.GetPowerAuthToken(ctx, "t3"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("token of a removed activation survives: %v", err)
	}
	err = s.CreatePowerAuthToken(ctx, storage.PowerAuthToken{ID: "t5", ActivationID: "a2", SealedSecret: []byte{1}, CreatedAt: base})
	if !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("CreatePowerAuthToken(removed activation) = %v, want ErrNotFound", err)
	}
}

func testPowerAuthNonceReplay(t *testing.T, s storage.Store) {
	ctx := context.Background()
	nonce := []byte("0123456789abcdef")
	expires := base.Add(2 * time.Hour)
	if err := s.UsePowerAuthNonce(ctx, "t1", nonce, expires, base); err != nil {
		t.Fatalf("first use: %v", err)
	}
	if err := s.UsePowerAuthNonce(ctx, "t1", nonce, expires, base.Add(time.Minute)); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("replay = %v, want ErrConflict", err)
	}
	// Still refused at the very instant of expiry.
	if err := s.UsePowerAuthNonce(ctx, "t1", nonce, expires.Add(time.Hour), expires); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("replay at expiry = %v, want ErrConflict", err)
	}
	if err := s.UsePowerAuthNonce(ctx, "t2", nonce, expires, base); err != nil {
		t.Fatalf("same nonce, other token: %v", err)
	}
	if err := s.UsePowerAuthNonce(ctx, "t1", []byte("0123456789abcdeF"), expires, base); err != nil {
		t.Fatalf("other nonce, same token: %v", err)
	}
	// Past its expiry (not yet collected) the pair may be used again, and is then remembered anew.
	after := expires.Add(time.Microsecond)
	if err := s.UsePowerAuthNonce(ctx, "t1", nonce, after.Add(time.Hour), after); err != nil {
		t.Fatalf("use after expiry: %v", err)
	}
	if err := s.UsePowerAuthNonce(ctx, "t1", nonce, after.Add(2*time.Hour), after.Add(time.Minute)); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("replay of the renewed pair = %v, want ErrConflict", err)
	}
}

func testPowerAuthNonceGarbageCollection(t *testing.T, s storage.Store) {
	ctx := context.Background()
	for i := range 5 {
		if err := s.UsePowerAuthNonce(ctx, "t1", []byte{byte(i)}, base.Add(time.Duration(i)*time.Minute), base); err != nil {
			t.Fatal(err)
		}
	}
	// Expired before base+3m: the nonces expiring at +0, +1 and +2 minutes, removed two at a time.
	cutoff := base.Add(3 * time.Minute)
	if n, err := s.DeletePowerAuthNonces(ctx, cutoff, 2); err != nil || n != 2 {
		t.Fatalf("DeletePowerAuthNonces(limit 2) = %d, %v; want 2", n, err)
	}
	if n, err := s.DeletePowerAuthNonces(ctx, cutoff, 10); err != nil || n != 1 {
		t.Fatalf("DeletePowerAuthNonces = %d, %v; want 1", n, err)
	}
	if n, err := s.DeletePowerAuthNonces(ctx, cutoff, 10); err != nil || n != 0 {
		t.Fatalf("DeletePowerAuthNonces(again) = %d, %v; want 0", n, err)
	}
	// The unexpired ones are still remembered.
	for _, i := range []byte{3, 4} {
		if err := s.UsePowerAuthNonce(ctx, "t1", []byte{i}, base.Add(time.Hour), base); !errors.Is(err, storage.ErrConflict) {
			t.Fatalf("nonce %d forgotten by garbage collection: %v", i, err)
		}
	}
}

// Many concurrent uses of one nonce: exactly one wins, every other is told it is a replay.
func testPowerAuthNonceRace(t *testing.T, s storage.Store) {
	ctx := context.Background()
	const n = 16
	for round := range 5 {
		nonce := fmt.Appendf(nil, "race-nonce-%02d", round)
		var wg sync.WaitGroup
		errs := make([]error, n)
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				errs[i] = s.UsePowerAuthNonce(ctx, "t1", nonce, base.Add(time.Hour), base)
			})
		}
		close(start)
		wg.Wait()
		won := 0
		for i, err := range errs {
			switch {
			case err == nil:
				won++
			case errors.Is(err, storage.ErrConflict):
			default:
				t.Fatalf("round %d, goroutine %d: %v", round, i, err)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d of %d concurrent uses of one nonce succeeded, want exactly 1", round, won, n)
		}
	}
}

func testPowerAuthUserTokens(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustUser(t, s, "alice")
	mustUser(t, s, "bob")
	mustActivation(t, s, "a1", "alice", base)
	mustActivation(t, s, "a2", "alice", base)
	mustActivation(t, s, "b1", "bob", base)
	for id, act := range map[string]string{"t1": "a1", "t2": "a1", "t3": "a2", "t4": "b1"} {
		mustPowerAuthToken(t, s, id, act)
	}
	if n, err := s.DeletePowerAuthUserTokens(ctx, "alice"); err != nil || n != 3 {
		t.Fatalf("DeletePowerAuthUserTokens(alice) = %d, %v; want 3", n, err)
	}
	if left, _ := s.ListPowerAuthTokens(ctx, ""); len(left) != 1 || left[0].ID != "t4" {
		t.Fatalf("tokens left: %+v", left)
	}
	if a, err := s.GetPowerAuthActivation(ctx, "a1"); err != nil || a.Status != storage.PowerAuthActive {
		t.Fatalf("alice's activation after: %+v, %v", a, err)
	}
}
