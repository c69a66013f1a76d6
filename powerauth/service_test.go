package powerauth

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/keys"
	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/sqlite"
)

type fixture struct {
	svc   *Service
	store *sqlite.Store
	now   time.Time
}

func (f *fixture) clock() time.Time { return f.now }

func testSealer() *keys.Sealer {
	return keys.NewSealer(keys.Derive(bytes.Repeat([]byte{7}, keys.Size), keys.PurposePowerAuthTokens))
}

func newFixture(t testing.TB, cfg Config) *fixture {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "pa.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	for _, u := range []string{"alice", "bob"} {
		if err := store.CreateUser(ctx, storage.User{Name: u, PasswordHash: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	// Not on a whole second, so millisecond arithmetic is exercised.
	f := &fixture{store: store, now: time.Date(2026, 11, 23, 9, 0, 0, 123_000_000, time.UTC)}
	f.svc = NewService(store, testSealer(), cfg, f.clock)
	return f
}

// device is an activation with one token, as a phone holds it.
type device struct {
	activation storage.PowerAuthActivation
	token      IssuedToken
}

func (f *fixture) newDevice(t *testing.T, user string) device {
	t.Helper()
	ctx := context.Background()
	a, err := f.svc.CreateActivation(ctx, user, "phone")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := f.svc.CreateToken(ctx, user, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	return device{activation: a, token: tok}
}

// header signs at ts with a fresh nonce.
func (d device) header(t *testing.T, ts time.Time, version string) string {
	t.Helper()
	nonce := make([]byte, NonceSize)
	rand.Read(nonce)
	h, err := NewHeader(d.token.ID, d.token.Secret, nonce, ts.UnixMilli(), version)
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

func TestVerifyAcceptsEveryVersion(t *testing.T) {
	f := newFixture(t, Config{})
	d := f.newDevice(t, "alice")
	for _, v := range []string{Version30, Version31, Version32, Version33} {
		got, err := f.svc.Verify(context.Background(), d.header(t, f.now, v))
		if err != nil {
			t.Fatalf("version %s: %v", v, err)
		}
		want := Verified{TokenID: d.token.ID, ActivationID: d.activation.ID, User: "alice", Version: v}
		if got != want {
			t.Fatalf("version %s: %+v, want %+v", v, got, want)
		}
	}
}

// The window edges, with the default (PowerAuth server's) configuration and with a configured one.
func TestVerifyTimestampWindow(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		name                    string
		cfg                     Config
		past, future, futureV32 time.Duration
	}{
		{"defaults", Config{}, 2 * time.Hour, 30 * time.Minute, time.Minute},
		{"configured", Config{MaxAge: 5 * time.Minute, MaxFuture: 2 * time.Minute, MaxFutureV32: 10 * time.Second},
			5 * time.Minute, 2 * time.Minute, 10 * time.Second},
		{"v32 bound larger than the general one", Config{MaxFuture: time.Minute, MaxFutureV32: time.Hour},
			2 * time.Hour, time.Minute, time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.cfg)
			d := f.newDevice(t, "alice")
			check := func(offset time.Duration, version string, want error) {
				t.Helper()
				_, err := f.svc.Verify(context.Background(), d.header(t, f.now.Add(offset), version))
				if !errors.Is(err, want) || (want == nil) != (err == nil) {
					t.Errorf("version %s, timestamp now%+v: %v, want %v", version, offset, err, want)
				}
			}
			for _, v := range []string{Version30, Version31, Version32, Version33} {
				check(-tc.past, v, nil)
				check(-tc.past-ms, v, ErrTooOld)
			}
			for _, v := range []string{Version30, Version31} {
				check(tc.future, v, nil)
				check(tc.future+ms, v, ErrTooNew)
			}
			for _, v := range []string{Version32, Version33} {
				check(tc.futureV32, v, nil)
				check(tc.futureV32+ms, v, ErrTooNew)
			}
		})
	}
}

// A header is accepted once: its nonce is refused for as long as its timestamp could be accepted, even after
// garbage collection runs, and after that the timestamp itself is refused.
func TestVerifyReplayRefusedForTheWholeWindow(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, Config{})
	d := f.newDevice(t, "alice")
	h := d.header(t, f.now, Version33)
	if _, err := f.svc.Verify(ctx, h); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Verify(ctx, h); !errors.Is(err, ErrReplay) {
		t.Fatalf("immediate replay: %v, want ErrReplay", err)
	}
	start := f.now
	for _, after := range []time.Duration{time.Minute, 61 * time.Second, time.Hour, 2 * time.Hour} {
		f.now = start.Add(after)
		if _, err := f.svc.CollectGarbage(ctx, 100); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Verify(ctx, h); !errors.Is(err, ErrReplay) {
			t.Fatalf("replay %v later: %v, want ErrReplay", after, err)
		}
	}
	f.now = start.Add(2*time.Hour + time.Millisecond)
	if _, err := f.svc.Verify(ctx, h); !errors.Is(err, ErrTooOld) {
		t.Fatalf("replay after the window: %v, want ErrTooOld", err)
	}
	// Only now (plus the retention for clock skew) may the nonce be collected.
	f.now = start.Add(2*time.Hour + NonceRetention + time.Millisecond)
	if n, err := f.svc.CollectGarbage(ctx, 100); err != nil || n != 1 {
		t.Fatalf("CollectGarbage = %d, %v; want 1", n, err)
	}
}

func TestVerifyRefusals(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, Config{})
	d := f.newDevice(t, "alice")

	if _, err := f.svc.Verify(ctx, ""); !errors.Is(err, ErrHeaderMissing) {
		t.Errorf("no header: %v", err)
	}
	if _, err := f.svc.Verify(ctx, "PowerAuth nonsense"); !errors.Is(err, ErrInvalid) {
		t.Errorf("garbage: %v", err)
	}

	// A wrong secret, and a header claiming another version than its digest was made for.
	nonce := make([]byte, NonceSize)
	rand.Read(nonce)
	wrong, _ := NewHeader(d.token.ID, make([]byte, SecretSize), nonce, f.now.UnixMilli(), Version33)
	if _, err := f.svc.Verify(ctx, wrong.String()); !errors.Is(err, ErrDigestMismatch) {
		t.Errorf("wrong secret: %v", err)
	}
	h, _ := NewHeader(d.token.ID, d.token.Secret, nonce, f.now.UnixMilli(), Version33)
	relabelled := h
	relabelled.Version = Version32
	if _, err := f.svc.Verify(ctx, relabelled.String()); !errors.Is(err, ErrDigestMismatch) {
		t.Errorf("version relabelled: %v", err)
	}
	// Forged headers did not burn the nonce: the genuine one with the same nonce still passes.
	if _, err := f.svc.Verify(ctx, h.String()); err != nil {
		t.Errorf("genuine header after forgeries with its nonce: %v", err)
	}

	unknown, _ := NewHeader("d6561669-34d6-4fee-8913-89477687a5cb", d.token.Secret, nonce, f.now.UnixMilli(), Version33)
	if _, err := f.svc.Verify(ctx, unknown.String()); !errors.Is(err, ErrUnknownToken) {
		t.Errorf("unknown token: %v", err)
	}

	if err := f.store.UpdateUser(ctx, "alice", func(u *storage.User) error { u.Disabled = true; return nil }); err != nil {
		t.Fatal(err)
	}
	// A disable removes the user's tokens (the activation stays): refused even once the user is enabled again.
	if _, err := f.svc.Verify(ctx, d.header(t, f.now, Version33)); !errors.Is(err, ErrUnknownToken) {
		t.Errorf("disabled user: %v", err)
	}
	if err := f.store.UpdateUser(ctx, "alice", func(u *storage.User) error { u.Disabled = false; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Verify(ctx, d.header(t, f.now, Version33)); !errors.Is(err, ErrUnknownToken) {
		t.Errorf("a token of a user disabled and enabled again: %v", err)
	}
}

func TestRemovedTokenRefused(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, Config{})
	d := f.newDevice(t, "alice")
	other, err := f.svc.CreateToken(ctx, "alice", d.activation.ID)
	if err != nil {
		t.Fatal(err)
	}
	if removed, err := f.svc.RemoveToken(ctx, "alice", d.token.ID, d.activation.ID); err != nil || !removed {
		t.Fatalf("RemoveToken = %v, %v", removed, err)
	}
	if _, err := f.svc.Verify(ctx, d.header(t, f.now, Version33)); !errors.Is(err, ErrUnknownToken) {
		t.Fatalf("removed token: %v, want ErrUnknownToken", err)
	}
	// Its sibling is untouched.
	if _, err := f.svc.Verify(ctx, device{d.activation, other}.header(t, f.now, Version33)); err != nil {
		t.Fatalf("sibling token: %v", err)
	}
	// Quiet for a user, an error for the operator.
	if removed, err := f.svc.RemoveToken(ctx, "alice", d.token.ID, ""); err != nil || removed {
		t.Fatalf("RemoveToken(again) = %v, %v; want false, nil", removed, err)
	}
	if _, err := f.svc.RemoveToken(ctx, "", d.token.ID, ""); !errors.Is(err, ErrNoToken) {
		t.Fatalf("operator RemoveToken(missing) = %v, want ErrNoToken", err)
	}
	if removed, err := f.svc.RemoveToken(ctx, "", other.ID, ""); err != nil || !removed {
		t.Fatalf("operator RemoveToken = %v, %v", removed, err)
	}
}

func TestBlockedActivationRefusedAndItsTokensDie(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, Config{})
	d := f.newDevice(t, "alice")
	if _, err := f.svc.BlockActivation(ctx, d.activation.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Verify(ctx, d.header(t, f.now, Version33)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("token of a blocked activation: %v", err)
	}
	if _, err := f.svc.CreateToken(ctx, "alice", d.activation.ID); !errors.Is(err, ErrNoActivation) {
		t.Fatalf("CreateToken(blocked) = %v, want ErrNoActivation", err)
	}
	if _, err := f.svc.RemoveActivation(ctx, "alice", d.activation.ID); !errors.Is(err, ErrNoActivation) {
		t.Fatalf("user removes a blocked activation: %v, want ErrNoActivation", err)
	}
	if _, err := f.svc.BlockActivation(ctx, d.activation.ID); !errors.Is(err, ErrActivationState) {
		t.Fatalf("block twice: %v, want ErrActivationState", err)
	}
	a, err := f.svc.UnblockActivation(ctx, d.activation.ID)
	if err != nil || a.Status != storage.PowerAuthActive {
		t.Fatalf("unblock: %+v, %v", a, err)
	}
	// The old token stayed dead; a new one works.
	if _, err := f.svc.Verify(ctx, d.header(t, f.now, Version33)); !errors.Is(err, ErrUnknownToken) {
		t.Fatalf("old token after unblock: %v, want ErrUnknownToken", err)
	}
	tok, err := f.svc.CreateToken(ctx, "alice", d.activation.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Verify(ctx, device{a, tok}.header(t, f.now, Version33)); err != nil {
		t.Fatalf("new token after unblock: %v", err)
	}
	if _, err := f.svc.UnblockActivation(ctx, d.activation.ID); !errors.Is(err, ErrActivationState) {
		t.Fatalf("unblock an active activation: %v, want ErrActivationState", err)
	}
}

func TestRemovedActivationKillsItsTokens(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, Config{})
	d := f.newDevice(t, "alice")
	keep := f.newDevice(t, "alice")
	a, err := f.svc.RemoveActivation(ctx, "alice", d.activation.ID)
	if err != nil || a.Status != storage.PowerAuthRemoved {
		t.Fatalf("remove: %+v, %v", a, err)
	}
	if _, err := f.svc.Verify(ctx, d.header(t, f.now, Version33)); !errors.Is(err, ErrUnknownToken) {
		t.Fatalf("token of a removed activation: %v", err)
	}
	if toks, _ := f.svc.ListTokens(ctx, d.activation.ID); len(toks) != 0 {
		t.Fatalf("tokens left: %+v", toks)
	}
	for name, op := range map[string]func() error{
		"unblock": func() error { _, err := f.svc.UnblockActivation(ctx, d.activation.ID); return err },
		"block":   func() error { _, err := f.svc.BlockActivation(ctx, d.activation.ID); return err },
		"remove":  func() error { _, err := f.svc.RemoveActivation(ctx, "", d.activation.ID); return err },
	} {
		if err := op(); !errors.Is(err, ErrActivationState) {
			t.Errorf("%s a removed activation: %v, want ErrActivationState", name, err)
		}
	}
	if _, err := f.svc.Verify(ctx, keep.header(t, f.now, Version33)); err != nil {
		t.Fatalf("the other device: %v", err)
	}
	// The operator may remove a blocked activation.
	if _, err := f.svc.BlockActivation(ctx, keep.activation.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.RemoveActivation(ctx, "", keep.activation.ID); err != nil {
		t.Fatalf("operator removes a blocked activation: %v", err)
	}
}

func TestAnotherUsersActivationRefused(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, Config{})
	d := f.newDevice(t, "alice")
	if _, err := f.svc.CreateToken(ctx, "bob", d.activation.ID); !errors.Is(err, ErrNoActivation) {
		t.Fatalf("bob creates a token on alice's activation: %v", err)
	}
	if _, err := f.svc.Activation(ctx, "bob", d.activation.ID); !errors.Is(err, ErrNoActivation) {
		t.Fatalf("bob reads alice's activation: %v", err)
	}
	if _, err := f.svc.RemoveActivation(ctx, "bob", d.activation.ID); !errors.Is(err, ErrNoActivation) {
		t.Fatalf("bob removes alice's activation: %v", err)
	}
	if removed, err := f.svc.RemoveToken(ctx, "bob", d.token.ID, ""); err != nil || removed {
		t.Fatalf("bob removes alice's token: %v, %v", removed, err)
	}
	bobs := f.newDevice(t, "bob")
	// Naming bob's own activation does not help with alice's token.
	if removed, err := f.svc.RemoveToken(ctx, "bob", d.token.ID, bobs.activation.ID); err != nil || removed {
		t.Fatalf("bob removes alice's token via his activation: %v, %v", removed, err)
	}
	// Nor can alice remove her token naming the wrong activation.
	if removed, err := f.svc.RemoveToken(ctx, "alice", d.token.ID, bobs.activation.ID); err != nil || removed {
		t.Fatalf("alice removes her token naming bob's activation: %v, %v", removed, err)
	}
	if _, err := f.svc.Verify(ctx, d.header(t, f.now, Version33)); err != nil {
		t.Fatalf("alice's token after bob's attempts: %v", err)
	}
	if got, _ := f.svc.ListActivations(ctx, "bob"); len(got) != 1 || got[0].ID != bobs.activation.ID {
		t.Fatalf("bob's activations: %+v", got)
	}
}

func TestActivationCreation(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, Config{})
	if _, err := f.svc.CreateActivation(ctx, "nobody", "x"); !errors.Is(err, ErrNoUser) {
		t.Fatalf("unknown user: %v", err)
	}
	for _, name := range []string{string(bytes.Repeat([]byte("ä"), MaxNameLen+1)), "tab\there", "bad\xffutf8"} {
		if _, err := f.svc.CreateActivation(ctx, "alice", name); !errors.Is(err, ErrBadName) {
			t.Errorf("name %q: %v, want ErrBadName", name, err)
		}
	}
	a, err := f.svc.CreateActivation(ctx, "alice", string(bytes.Repeat([]byte("ä"), MaxNameLen)))
	if err != nil {
		t.Fatal(err)
	}
	if !uuidPattern.MatchString(a.ID) || a.Status != storage.PowerAuthActive || a.User != "alice" || !a.CreatedAt.Equal(f.now) {
		t.Fatalf("activation %+v", a)
	}
	tok, err := f.svc.CreateToken(ctx, "alice", a.ID)
	if err != nil || !uuidPattern.MatchString(tok.ID) || len(tok.Secret) != SecretSize {
		t.Fatalf("token %+v, %v", tok, err)
	}
}

// The stored token holds the secret only sealed: not in the clear, and useless under another server key.
func TestTokenSecretSealed(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, Config{})
	d := f.newDevice(t, "alice")
	stored, err := f.store.GetPowerAuthToken(ctx, d.token.ID)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(stored.SealedSecret, d.token.Secret) {
		t.Fatal("sealed secret contains the secret")
	}
	other := NewService(f.store, keys.NewSealer(keys.Derive(make([]byte, keys.Size), keys.PurposePowerAuthTokens)), Config{}, f.clock)
	_, err = other.Verify(ctx, d.header(t, f.now, Version33))
	if err == nil || errors.Is(err, ErrInvalid) {
		t.Fatalf("verify under another server key: %v, want a (non-refusal) error", err)
	}
}

// BenchmarkVerify measures a full check over a real SQLite file: three reads and the nonce insert (one commit).
func BenchmarkVerify(b *testing.B) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	if err := store.CreateUser(ctx, storage.User{Name: "alice", PasswordHash: "x"}); err != nil {
		b.Fatal(err)
	}
	svc := NewService(store, testSealer(), Config{}, nil)
	a, _ := svc.CreateActivation(ctx, "alice", "phone")
	tok, err := svc.CreateToken(ctx, "alice", a.ID)
	if err != nil {
		b.Fatal(err)
	}
	headers := make([]string, b.N)
	nonce := make([]byte, NonceSize)
	for i := range headers {
		rand.Read(nonce)
		h, _ := NewHeader(tok.ID, tok.Secret, nonce, time.Now().UnixMilli(), Version33)
		headers[i] = h.String()
	}
	b.ResetTimer()
	for i := range b.N {
		if _, err := svc.Verify(ctx, headers[i]); err != nil {
			b.Fatal(err)
		}
	}
}
