package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/keys"
	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/sqlite"
)

// specDigest is UsernameToken Profile 1.0 §3.1, written out independently of the code under test:
// Password_Digest = Base64 ( SHA-1 ( nonce + created + password ) ).
func specDigest(nonce []byte, created, password string) string {
	sum := sha1.Sum(append(append(append([]byte{}, nonce...), created...), password...))
	return base64.StdEncoding.EncodeToString(sum[:])
}

type digestClock struct{ t atomic.Pointer[time.Time] }

func (c *digestClock) Now() time.Time      { return *c.t.Load() }
func (c *digestClock) Set(t time.Time)     { c.t.Store(&t) }
func (c *digestClock) Add(d time.Duration) { c.Set(c.Now().Add(d)) }

var digestT0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

type digestFixture struct {
	v     *DigestVerifier
	clock *digestClock
	store storage.Store
}

func newDigestFixture(t *testing.T, o DigestOptions) *digestFixture {
	t.Helper()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	master := make([]byte, keys.Size)
	rand.Read(master)
	sealer := keys.NewSealer(master)
	params := Params{Memory: 64, Time: 1, Threads: 1}
	add := func(name, password string, sealed []byte, disabled bool) {
		h, err := HashPassword(password, params)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.CreateUser(ctx, storage.User{Name: name, PasswordHash: h, DigestSecret: sealed, Disabled: disabled}); err != nil {
			t.Fatal(err)
		}
	}
	// The associated data is spelled out here rather than taken from SealedPasswordAD, so a change to it fails.
	add("alice", "alice-pw", sealer.Seal([]byte("alice-pw"), "user-digest:alice"), false)
	add("NNK", "taadtaadpstcsm", sealer.Seal([]byte("taadtaadpstcsm"), "user-digest:NNK"), false)
	add("bob", "bob-pw", nil, false)                                                     // no sealed secret
	add("carol", "carol-pw", sealer.Seal([]byte("carol-pw"), "user-digest:carol"), true) // disabled
	// mallory holds a copy of alice's sealed secret; trudy's was sealed with another server key.
	add("mallory", "alice-pw", sealer.Seal([]byte("alice-pw"), "user-digest:alice"), false)
	add("trudy", "trudy-pw", keys.NewSealer(make([]byte, keys.Size)).Seal([]byte("trudy-pw"), "user-digest:trudy"), false)

	c := &digestClock{}
	c.Set(digestT0)
	o.Now = c.Now
	return &digestFixture{v: NewDigestVerifier(s, sealer, o), clock: c, store: s}
}

func freshNonce() []byte {
	n := make([]byte, 16)
	rand.Read(n)
	return n
}

func (f *digestFixture) verify(user, password string, nonce []byte, created string) (storage.User, error) {
	return f.v.Verify(context.Background(), user, nonce, created, specDigest(nonce, created, password))
}

func TestSealedPasswordAD(t *testing.T) {
	if got := SealedPasswordAD("alice"); got != "user-digest:alice" {
		t.Fatalf("SealedPasswordAD = %q", got)
	}
	sealer := keys.NewSealer(make([]byte, keys.Size))
	p, err := sealer.Open(SealPassword(sealer, "alice", "pw"), "user-digest:alice")
	if err != nil || string(p) != "pw" {
		t.Fatalf("SealPassword: %q %v", p, err)
	}
	n := []byte("0123456789abcdef")
	if got, want := PasswordDigest(n, "2026-11-23T10:00:00Z", "pw"), specDigest(n, "2026-11-23T10:00:00Z", "pw"); got != want {
		t.Fatalf("PasswordDigest = %s, want %s", got, want)
	}
}

// TestDigestOASISExample uses the Nonce and Created of the UsernameToken Profile's PasswordDigest example (user
// NNK) with a password of our choosing. The expected digest was computed outside Go, two ways that agree:
//
//	{ printf 'WScqanjCEAC4mQoBE07sAQ==' | base64 -d; printf '2003-07-16T01:24:32Z'; printf 'taadtaadpstcsm'; } |
//	  openssl dgst -sha1 -binary | base64
//	python3 -c "import hashlib,base64; print(base64.b64encode(hashlib.sha1(base64.b64decode(
//	  'WScqanjCEAC4mQoBE07sAQ==')+b'2003-07-16T01:24:32Z'+b'taadtaadpstcsm').digest()).decode())"
func TestDigestOASISExample(t *testing.T) {
	const want = "AtYMdWClJo7PIuTpqmhmEEoEZyc="
	nonce, _ := base64.StdEncoding.DecodeString("WScqanjCEAC4mQoBE07sAQ==")
	const created = "2003-07-16T01:24:32Z"
	if got := specDigest(nonce, created, "taadtaadpstcsm"); got != want {
		t.Fatalf("spec formula in the test gives %s, want %s", got, want)
	}
	f := newDigestFixture(t, DigestOptions{})
	f.clock.Set(time.Date(2003, 7, 16, 1, 25, 0, 0, time.UTC))
	u, err := f.v.Verify(context.Background(), "NNK", nonce, created, want)
	if err != nil || u.Name != "NNK" {
		t.Fatalf("Verify: %+v %v", u, err)
	}
	// Created is digested as sent: the same instant written differently does not verify.
	if _, err := f.v.Verify(context.Background(), "NNK", freshNonce(), "2003-07-16T01:24:32.000Z", want); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("re-spelled Created: %v", err)
	}
}

func TestDigestVerify(t *testing.T) {
	f := newDigestFixture(t, DigestOptions{})
	ctx := context.Background()
	created := digestT0.Format(time.RFC3339)

	u, err := f.verify("alice", "alice-pw", freshNonce(), created)
	if err != nil || u.Name != "alice" {
		t.Fatalf("valid digest: %+v %v", u, err)
	}
	for name, err := range map[string]error{
		"wrong password":                    errOf(f.verify("alice", "alice-pW", freshNonce(), created)),
		"unknown user":                      errOf(f.verify("nobody", "alice-pw", freshNonce(), created)),
		"no sealed secret (right password)": errOf(f.verify("bob", "bob-pw", freshNonce(), created)),
		"disabled user (right password)":    errOf(f.verify("carol", "carol-pw", freshNonce(), created)),
		"digest not base64":                 errOf(f.v.Verify(ctx, "alice", freshNonce(), created, "%%%")),
		"digest of wrong length":            errOf(f.v.Verify(ctx, "alice", freshNonce(), created, "AAAA")),
		"empty digest":                      errOf(f.v.Verify(ctx, "alice", freshNonce(), created, "")),
		"nonce of 7 bytes":                  errOf(f.verify("alice", "alice-pw", []byte("1234567"), created)),
		"empty nonce":                       errOf(f.verify("alice", "alice-pw", nil, created)),
		"nonce of 65 bytes":                 errOf(f.verify("alice", "alice-pw", make([]byte, 65), created)),
		"digest for another user":           errOf(f.v.Verify(ctx, "alice", []byte("12345678"), created, specDigest([]byte("12345678"), created, "bob-pw"))),
	} {
		if !errors.Is(err, ErrBadCredentials) {
			t.Errorf("%s: %v, want ErrBadCredentials", name, err)
		}
	}
	if _, err := f.verify("alice", "alice-pw", []byte("12345678"), created); err != nil {
		t.Fatalf("nonce of 8 bytes: %v", err)
	}
	// A secret sealed for another row, or with another server key, does not open: an internal error, never a
	// verification and never mistaken for a wrong password.
	for name, pw := range map[string]string{"mallory": "alice-pw", "trudy": "trudy-pw"} {
		u, err := f.verify(name, pw, freshNonce(), created)
		if err == nil || errors.Is(err, ErrBadCredentials) || u.Name != "" {
			t.Errorf("%s: secret that does not open gave %+v, %v; want an internal error", name, u, err)
		}
	}
	// Digest text with whitespace (xsd:base64Binary) still verifies.
	n := freshNonce()
	d := specDigest(n, created, "alice-pw")
	if _, err := f.v.Verify(ctx, "alice", n, created, "\n  "+d[:10]+"\n"+d[10:]+"  "); err != nil {
		t.Fatalf("digest with whitespace: %v", err)
	}
}

func errOf(_ storage.User, err error) error { return err }

func TestDigestReplay(t *testing.T) {
	f := newDigestFixture(t, DigestOptions{Window: 5 * time.Minute})
	nonce, created := freshNonce(), digestT0.Format(time.RFC3339Nano)
	if _, err := f.verify("alice", "alice-pw", nonce, created); err != nil {
		t.Fatal(err)
	}
	if _, err := f.verify("alice", "alice-pw", nonce, created); !errors.Is(err, ErrReplay) {
		t.Fatalf("replay: %v", err)
	}
	// Still refused at the very end of the window…
	f.clock.Add(5 * time.Minute)
	if _, err := f.verify("alice", "alice-pw", nonce, created); !errors.Is(err, ErrReplay) {
		t.Fatalf("replay at the window's end: %v", err)
	}
	// …and stale after it (the nonce may be forgotten: Created, which the digest covers, now fails).
	f.clock.Add(time.Second)
	if _, err := f.verify("alice", "alice-pw", nonce, created); !errors.Is(err, ErrStale) {
		t.Fatalf("replay after the window: %v", err)
	}
	// A wrong digest with a used nonce is bad credentials, not a replay, and does not burn a fresh nonce.
	f.clock.Set(digestT0)
	n2 := freshNonce()
	if _, err := f.verify("alice", "wrong", n2, created); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("wrong password: %v", err)
	}
	if _, err := f.verify("alice", "alice-pw", n2, created); err != nil {
		t.Fatalf("nonce burnt by a failed digest: %v", err)
	}
	// A valid digest from a disabled user burns its nonce too.
	n3 := freshNonce()
	if _, err := f.verify("carol", "carol-pw", n3, created); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("disabled: %v", err)
	}
	if err := f.store.UpdateUser(context.Background(), "carol", func(u *storage.User) error { u.Disabled = false; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := f.verify("carol", "carol-pw", n3, created); !errors.Is(err, ErrReplay) {
		t.Fatalf("nonce of a disabled user's valid digest: %v", err)
	}
}

func TestDigestWindow(t *testing.T) {
	const window = 5 * time.Minute
	f := newDigestFixture(t, DigestOptions{Window: window})
	for _, tc := range []struct {
		offset time.Duration
		stale  bool
	}{
		{0, false},
		{window - time.Second, false},
		{-(window - time.Second), false},
		{window, false},
		{-window, false},
		{window + time.Second, true},
		{-(window + time.Second), true},
		{24 * time.Hour, true},
	} {
		created := digestT0.Add(tc.offset).Format(time.RFC3339)
		_, err := f.verify("alice", "alice-pw", freshNonce(), created)
		if tc.stale != errors.Is(err, ErrStale) || (!tc.stale && err != nil) {
			t.Errorf("Created now%+v: %v (stale expected: %v)", tc.offset, err, tc.stale)
		}
	}
	// Stale is decided before the digest: a wrong password with a stale Created is stale.
	if _, err := f.verify("alice", "wrong", freshNonce(), digestT0.Add(-time.Hour).Format(time.RFC3339)); !errors.Is(err, ErrStale) {
		t.Errorf("stale and wrong: %v", err)
	}
	// The default window is five minutes.
	d := newDigestFixture(t, DigestOptions{})
	if _, err := d.verify("alice", "alice-pw", freshNonce(), digestT0.Add(5*time.Minute).Format(time.RFC3339)); err != nil {
		t.Errorf("default window, +5m: %v", err)
	}
	if _, err := d.verify("alice", "alice-pw", freshNonce(), digestT0.Add(5*time.Minute+time.Second).Format(time.RFC3339)); !errors.Is(err, ErrStale) {
		t.Errorf("default window, +5m1s: %v", err)
	}
}

func TestDigestCreatedFormats(t *testing.T) {
	f := newDigestFixture(t, DigestOptions{})
	for _, created := range []string{
		"2026-11-23T10:00:00Z",
		"2026-11-23T10:00:00.123Z",       // WCF, CXF
		"2026-11-23T10:00:00.123456789Z", // nanoseconds
		"2026-11-23T10:00:00+00:00",      // zeep
		"2026-11-23T11:30:00+01:30",      // offset
		"2026-11-23T10:00:00",            // no zone: UTC, as WSS requires
		"2026-11-23T10:00:00.5",          // no zone, fraction
		"\n 2026-11-23T10:00:00Z \n",     // whitespace collapses (and is digested as sent)
	} {
		if _, err := f.verify("alice", "alice-pw", freshNonce(), created); err != nil {
			t.Errorf("%q: %v", created, err)
		}
	}
	for _, created := range []string{"", "yesterday", "2026-11-23", "2026-11-23 10:00:00Z", "2026-11-23T25:00:00Z",
		"1795860000", "2026-11-23T10:00:00Zjunk", "2026-11-23T10:00:00.Z"} {
		if _, err := f.verify("alice", "alice-pw", freshNonce(), created); !errors.Is(err, ErrStale) {
			t.Errorf("%q: %v, want ErrStale", created, err)
		}
	}
}

func TestDigestNonceCacheBound(t *testing.T) {
	f := newDigestFixture(t, DigestOptions{Window: time.Minute, MaxNonces: 3})
	created := digestT0.Format(time.RFC3339)
	for i := range 3 {
		if _, err := f.verify("alice", "alice-pw", freshNonce(), created); err != nil {
			t.Fatalf("%d: %v", i, err)
		}
	}
	// Full of live nonces: refuse rather than forget one.
	if _, err := f.verify("alice", "alice-pw", freshNonce(), created); !errors.Is(err, ErrNonceCacheFull) {
		t.Fatalf("full cache: %v", err)
	}
	// A wrong password is still just that.
	if _, err := f.verify("alice", "nope", freshNonce(), created); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("full cache, wrong password: %v", err)
	}
	// Once the first three expire (Created + window) there is room again.
	f.clock.Add(time.Minute + time.Second)
	later := f.clock.Now().Format(time.RFC3339)
	for i := range 3 {
		if _, err := f.verify("alice", "alice-pw", freshNonce(), later); err != nil {
			t.Fatalf("after expiry %d: %v", i, err)
		}
	}
	f.v.mu.Lock()
	n, h := len(f.v.seen), len(f.v.expiry)
	f.v.mu.Unlock()
	if n != 3 || h != 3 {
		t.Fatalf("cache holds %d nonces, heap %d; want 3", n, h)
	}
}

func TestDigestConcurrent(t *testing.T) {
	f := newDigestFixture(t, DigestOptions{})
	created := digestT0.Format(time.RFC3339Nano)
	shared := freshNonce()
	var wg sync.WaitGroup
	var ok, replays atomic.Int32
	errs := make(chan error, 64)
	for i := range 64 {
		wg.Go(func() {
			if i%2 == 0 { // everyone sends the same message: exactly one wins
				_, err := f.verify("alice", "alice-pw", shared, created)
				switch {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, ErrReplay):
					replays.Add(1)
				default:
					errs <- err
				}
				return
			}
			user, pw := "alice", "alice-pw"
			if i%4 == 1 {
				user, pw = "NNK", "taadtaadpstcsm"
			}
			if u, err := f.verify(user, pw, freshNonce(), created); err != nil || u.Name != user {
				errs <- fmt.Errorf("%s: %+v %v", user, u, err)
			}
			if _, err := f.verify(user, "wrong", freshNonce(), created); !errors.Is(err, ErrBadCredentials) {
				errs <- fmt.Errorf("%s wrong password: %v", user, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if ok.Load() != 1 || replays.Load() != 31 {
		t.Fatalf("shared nonce: %d accepted, %d replays; want 1 and 31", ok.Load(), replays.Load())
	}
}
