package license_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/keys"
	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/license/licensetest"
	"github.com/tokenmanager/tokenmanager/storage"
)

// The licensing core over a fresh SQLite store: see licensetest.
type fixture = licensetest.Fixture

var (
	newFixture = licensetest.New
	master     = licensetest.Master
	testKeys   = licensetest.TestKeys
)

var keyPattern = regexp.MustCompile(`^[A-Z]{5}-[A-Z]{5}-[A-Z]{5}-[A-Z]{5}$`)

func TestNewKeyString(t *testing.T) {
	seen := map[string]bool{}
	letters := map[rune]int{}
	for range 2000 {
		k := license.NewKeyString()
		if !keyPattern.MatchString(k) {
			t.Fatalf("key %q is not XXXXX-XXXXX-XXXXX-XXXXX", k)
		}
		if seen[k] {
			t.Fatalf("key %q drawn twice", k)
		}
		seen[k] = true
		for _, r := range k {
			letters[r]++
		}
	}
	// 40 000 letters: every one of the 26 appears; a broken draw (e.g. a fixed byte) would not.
	if len(letters) != 27 { // 26 letters and '-'
		t.Fatalf("only %d distinct characters in 2000 keys", len(letters))
	}
}

func TestProductKeySealedAndExported(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p := f.Product(t, "acme")
	if len(p.SealedPrivateKey) == 0 || len(p.PublicKey) == 0 {
		t.Fatalf("product stored without keys: %+v", p)
	}
	pub, err := license.PublicKey(p)
	if err != nil || pub.N.BitLen() != 2048 {
		t.Fatalf("public key: %v (%d bits)", err, pub.N.BitLen())
	}
	// The sealed private key opens only as this product's and only with the right server key.
	sealer := keys.NewSealerFor(master, keys.PurposeLicenseSigningKeys)
	if _, err := sealer.Open(p.SealedPrivateKey, fmt.Sprintf("license-product-key:%d", p.ID)); err != nil {
		t.Fatalf("sealed key does not open for its own row: %v", err)
	}
	if _, err := sealer.Open(p.SealedPrivateKey, fmt.Sprintf("license-product-key:%d", p.ID+1)); err == nil {
		t.Fatal("sealed key opened for another row")
	}
	if _, err := keys.NewSealer(master).Open(p.SealedPrivateKey, fmt.Sprintf("license-product-key:%d", p.ID)); err == nil {
		t.Fatal("sealed key opened with the general-purpose sealer")
	}

	// A fresh service over the same database (as after a restart) opens the key from storage and signs with it;
	// one with another server key cannot.
	k := f.Key(t, p.ID, license.KeySpec{Period: 30})
	for _, tc := range []struct {
		master []byte
		ok     bool
	}{{master, true}, {make([]byte, 31), false}} {
		fresh := license.New(f.Store, keys.NewSealerFor(append(tc.master, 1), keys.PurposeLicenseSigningKeys), license.Options{Now: f.Clock.Now})
		if tc.ok {
			fresh = license.New(f.Store, keys.NewSealerFor(master, keys.PurposeLicenseSigningKeys), license.Options{Now: f.Clock.Now})
		}
		l, err := fresh.GetKey(ctx, license.Admin(), p.ID, k.Key, 0)
		if err != nil {
			t.Fatal(err)
		}
		signed, err := fresh.Sign(l)
		if tc.ok != (err == nil) {
			t.Fatalf("sign after restart (right key %v): %v", tc.ok, err)
		}
		if tc.ok {
			verifySHA256(t, pub, signed.LicenseKey, signed.Signature)
		}
	}

	// <RSAKeyValue> carries the same modulus and exponent.
	xml := license.PublicKeyXML(pub)
	m := regexp.MustCompile(`^<RSAKeyValue><Modulus>([A-Za-z0-9+/=]+)</Modulus><Exponent>([A-Za-z0-9+/=]+)</Exponent></RSAKeyValue>$`).FindStringSubmatch(xml)
	if m == nil {
		t.Fatalf("RSAKeyValue = %q", xml)
	}
	n, _ := base64.StdEncoding.DecodeString(m[1])
	e, _ := base64.StdEncoding.DecodeString(m[2])
	if new(big.Int).SetBytes(n).Cmp(pub.N) != 0 || new(big.Int).SetBytes(e).Int64() != int64(pub.E) || m[2] != "AQAB" {
		t.Fatalf("RSAKeyValue does not hold the key: exponent %q", m[2])
	}
	if pemText, err := license.PublicKeyPEM(pub); err != nil || !regexp.MustCompile(`^-----BEGIN PUBLIC KEY-----\n`).MatchString(pemText) {
		t.Fatalf("PEM = %q, %v", pemText, err)
	}
}

func verifySHA256(t *testing.T, pub *rsa.PublicKey, data, sig []byte) {
	t.Helper()
	d := sha256.Sum256(data)
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, d[:], sig); err != nil {
		t.Fatalf("signature does not verify: %v", err)
	}
}

func TestNodeLockedSeats(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p := f.Product(t, "acme")
	k := f.Key(t, p.ID, license.KeySpec{MaxNoOfMachines: 2, AllowedMachines: "vip\n"})
	for _, m := range []string{"m1", "m2", "m1"} { // m1 again: re-activation takes no seat
		l, err := f.Activate(f.Admin, p.ID, k.Key, m, 0, 0)
		if err != nil {
			t.Fatalf("activate %s: %v", m, err)
		}
		if l.NodeLocked != len(l.Machines) {
			t.Fatalf("machines listed %d, node-locked %d", len(l.Machines), l.NodeLocked)
		}
	}
	if _, err := f.Activate(f.Admin, p.ID, k.Key, "m3", 0, 0); !errors.Is(err, license.ErrMachineLimit) {
		t.Fatalf("third machine: %v, want ErrMachineLimit", err)
	}
	// AllowedMachines take precedence over the limit.
	l, err := f.Activate(f.Admin, p.ID, k.Key, "vip", 0, 0)
	if err != nil || l.NodeLocked != 3 {
		t.Fatalf("allowed machine at the limit: %+v, %v", l.NodeLocked, err)
	}
	if err := f.Svc.Deactivate(ctx, f.Admin, license.DeactivateRequest{ProductID: p.ID, Key: k.Key, MachineCode: "m2"}); err != nil {
		t.Fatal(err)
	}
	if err := f.Svc.Deactivate(ctx, f.Admin, license.DeactivateRequest{ProductID: p.ID, Key: k.Key, MachineCode: "m2"}); !errors.Is(err, license.ErrNotActivated) {
		t.Fatalf("second deactivation: %v, want ErrNotActivated", err)
	}
	// Still 2 of 2 (m1 and vip): m3 is refused until another leaves.
	if _, err := f.Activate(f.Admin, p.ID, k.Key, "m3", 0, 0); !errors.Is(err, license.ErrMachineLimit) {
		t.Fatalf("m3 with m1 and vip active: %v", err)
	}
	if err := f.Svc.Deactivate(ctx, f.Admin, license.DeactivateRequest{ProductID: p.ID, Key: k.Key, MachineCode: "m1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Activate(f.Admin, p.ID, k.Key, "m3", 0, 0); err != nil {
		t.Fatalf("m3 after m1 left: %v", err)
	}
	// A lower-case, space-padded key finds the same key; machine codes are opaque and compared exactly.
	if _, err := f.Activate(f.Admin, p.ID, "  "+toLower(k.Key)+" ", "m3", 0, 0); err != nil {
		t.Fatalf("key in lower case: %v", err)
	}
	// A key without a limit records nothing.
	free := f.Key(t, p.ID, license.KeySpec{})
	l, err = f.Activate(f.Admin, p.ID, free.Key, "anything", 0, 0)
	if err != nil || len(l.Machines) != 0 || l.NodeLocked != 0 {
		t.Fatalf("unlimited key: %+v, %v", l.Machines, err)
	}
	if err := f.Svc.Deactivate(ctx, f.Admin, license.DeactivateRequest{ProductID: p.ID, Key: free.Key, MachineCode: "anything"}); !errors.Is(err, license.ErrNotActivated) {
		t.Fatalf("deactivate on an unlimited key: %v, want ErrNotActivated", err)
	}
	if _, err := f.Activate(f.Admin, p.ID, k.Key, "", 0, 0); !errors.Is(err, license.ErrInvalidInput) {
		t.Fatalf("node-locked key without machine code: %v", err)
	}
}

func toLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

func TestLastSeatRace(t *testing.T) {
	f := newFixture(t)
	p := f.Product(t, "acme")
	k := f.Key(t, p.ID, license.KeySpec{MaxNoOfMachines: 1})
	const racers = 6
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, racers)
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := f.Activate(f.Admin, p.ID, k.Key, fmt.Sprint("machine-", i), 0, 0)
			errs <- err
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	won := 0
	for err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, license.ErrMachineLimit):
			t.Errorf("racer: %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d machines got the only seat", won)
	}
}

func TestFloating(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p := f.Product(t, "acme")
	k := f.Key(t, p.ID, license.KeySpec{MaxNoOfMachines: 2})
	const interval = 100 * time.Second
	l, err := f.Activate(f.Admin, p.ID, k.Key, "a", interval, 0)
	if err != nil || len(l.Machines) != 1 || license.Mid(l.Machines[0]) != "floating:a" || l.FloatingInUse != 1 {
		t.Fatalf("first floating: %+v, %v", l.Machines, err)
	}
	if !l.Machines[0].FloatingExpiresAt.Equal(f.Clock.Now().Add(interval)) {
		t.Fatalf("floating expires %v", l.Machines[0].FloatingExpiresAt)
	}
	f.Clock.Add(60 * time.Second)
	if _, err := f.Activate(f.Admin, p.ID, k.Key, "b", interval, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Activate(f.Admin, p.ID, k.Key, "c", interval, 0); !errors.Is(err, license.ErrMachineLimit) {
		t.Fatalf("third floating machine: %v", err)
	}
	// With an overdraft of 1, c gets a seat beyond the limit, marked as overdraft; d does not.
	l, err = f.Activate(f.Admin, p.ID, k.Key, "c", interval, 1)
	if err != nil || license.Mid(l.Machines[0]) != "floating:overdraft:c" || l.FloatingInUse != 3 {
		t.Fatalf("overdraft: %+v, %v", l, err)
	}
	if _, err := f.Activate(f.Admin, p.ID, k.Key, "d", interval, 1); !errors.Is(err, license.ErrMachineLimit) {
		t.Fatalf("beyond the overdraft: %v", err)
	}
	// a's time runs out at +100 s; b renews at +90 s and keeps its seat; then d fits.
	f.Clock.Add(30 * time.Second) // +90 s
	if l, err := f.Activate(f.Admin, p.ID, k.Key, "b", interval, 0); err != nil || !l.Machines[0].ActivatedAt.Equal(f.Clock.Now().Add(-30*time.Second)) {
		t.Fatalf("heartbeat of b: %+v, %v (activation time must be kept)", l.Machines, err)
	}
	f.Clock.Add(10 * time.Second) // +100 s: a expired exactly now
	if _, err := f.Activate(f.Admin, p.ID, k.Key, "d", interval, 0); !errors.Is(err, license.ErrMachineLimit) {
		t.Fatalf("d while b and overdraft c hold the seats: %v", err)
	}
	// Release c's floating seat: never an error, even twice, or for a machine without one.
	for _, m := range []string{"c", "c", "never"} {
		if err := f.Svc.Deactivate(ctx, f.Admin, license.DeactivateRequest{ProductID: p.ID, Key: k.Key, MachineCode: m, Floating: true}); err != nil {
			t.Fatalf("floating deactivate %s: %v", m, err)
		}
	}
	if _, err := f.Activate(f.Admin, p.ID, k.Key, "d", interval, 0); err != nil {
		t.Fatalf("d after c left and a expired: %v", err)
	}
	// Floating seats are apart from node-locked ones.
	l, err = f.Activate(f.Admin, p.ID, k.Key, "node-1", 0, 0)
	if err != nil || l.NodeLocked != 1 || l.FloatingInUse != 2 || len(l.Machines) != 1 || license.Mid(l.Machines[0]) != "node-1" {
		t.Fatalf("node-locked next to floating: %+v, %v", l, err)
	}
	got, err := f.Svc.GetKey(ctx, f.Admin, p.ID, k.Key, 0)
	if err != nil || got.FloatingInUse != 2 || got.NodeLocked != 1 || len(got.Machines) != 1 {
		t.Fatalf("GetKey counts: %+v, %v", got, err)
	}
	f.Clock.Add(time.Hour)
	if got, _ := f.Svc.GetKey(ctx, f.Admin, p.ID, k.Key, 0); got.FloatingInUse != 0 {
		t.Fatalf("floating seats in use an hour later: %d", got.FloatingInUse)
	}
}

func TestBlockExpireTrial(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p := f.Product(t, "acme")
	k := f.Key(t, p.ID, license.KeySpec{Period: 10, MaxNoOfMachines: 1})
	if err := f.Svc.BlockKey(ctx, f.Admin, p.ID, k.Key, true); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Activate(f.Admin, p.ID, k.Key, "m", 0, 0); !errors.Is(err, license.ErrKeyBlocked) {
		t.Fatalf("blocked key: %v", err)
	}
	if _, err := f.Svc.GetKey(ctx, f.Admin, p.ID, k.Key, 0); !errors.Is(err, license.ErrKeyBlocked) {
		t.Fatalf("GetKey of a blocked key: %v", err)
	}
	if err := f.Svc.BlockKey(ctx, f.Admin, p.ID, k.Key, false); err != nil {
		t.Fatal(err)
	}
	// Expiry is advisory unless the product blocks expired keys.
	f.Clock.Add(11 * 24 * time.Hour)
	l, err := f.Activate(f.Admin, p.ID, k.Key, "m", 0, 0)
	if err != nil || !l.Expired {
		t.Fatalf("expired key in a lenient product: %+v, %v", l.Expired, err)
	}
	if _, err := f.Svc.SetBlockExpired(ctx, f.Admin, p.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Activate(f.Admin, p.ID, k.Key, "m", 0, 0); !errors.Is(err, license.ErrKeyBlocked) {
		t.Fatalf("expired key, product blocks expired keys: %v", err)
	}
	if err := f.Svc.ExtendLicense(ctx, f.Admin, p.ID, k.Key, 5); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Activate(f.Admin, p.ID, k.Key, "m", 0, 0); err != nil {
		t.Fatalf("after ExtendLicense: %v", err)
	}

	// Trial activation: the period starts at the first activation, and an unstarted trial key is not blocked
	// for an expiry date that has passed.
	tk := f.Key(t, p.ID, license.KeySpec{Period: 3, TrialActivation: true, MaxNoOfMachines: 1})
	f.Clock.Add(30 * 24 * time.Hour)
	l, err = f.Activate(f.Admin, p.ID, tk.Key, "m", 0, 0)
	if err != nil || !l.Key.TrialStartedAt.Equal(f.Clock.Now()) || !l.Key.ExpiresAt.Equal(f.Clock.Now().Add(3*24*time.Hour)) {
		t.Fatalf("trial activation: %+v, %v", l.Key, err)
	}
	f.Clock.Add(24 * time.Hour)
	if l, err := f.Activate(f.Admin, p.ID, tk.Key, "m", 0, 0); err != nil || !l.Key.TrialStartedAt.Equal(f.Clock.Now().Add(-24*time.Hour)) {
		t.Fatalf("re-activation restarted the trial: %+v, %v", l.Key, err)
	}
	f.Clock.Add(3 * 24 * time.Hour)
	if _, err := f.Activate(f.Admin, p.ID, tk.Key, "m", 0, 0); !errors.Is(err, license.ErrKeyBlocked) {
		t.Fatalf("trial over: %v", err)
	}
}

func TestTokensAndLocks(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p := f.Product(t, "acme")
	p2 := f.Product(t, "acme")
	foreign := f.Product(t, "other")
	k1 := f.Key(t, p.ID, license.KeySpec{MaxNoOfMachines: 5, Notes: "secret notes"})
	k2 := f.Key(t, p.ID, license.KeySpec{MaxNoOfMachines: 5})
	fk := f.Key(t, foreign.ID, license.KeySpec{})

	issued, err := f.Svc.CreateAPIToken(ctx, "acme", license.TokenSpec{Name: "app", Methods: []license.Method{license.MethodGetKey}})
	if err != nil {
		t.Fatal(err)
	}
	// The token is base64 of ["id","secret"]; only a hash is stored.
	raw, _ := base64.StdEncoding.DecodeString(issued.Token)
	var parts []string
	if err := json.Unmarshal(raw, &parts); err != nil || len(parts) != 2 || parts[0] != fmt.Sprint(issued.Record.ID) || len(parts[1]) != 40 {
		t.Fatalf("token %q decodes to %q", issued.Token, raw)
	}
	if h := sha256.Sum256([]byte(parts[1])); string(issued.Record.SecretHash) != string(h[:]) {
		t.Fatal("stored hash is not SHA-256 of the secret")
	}
	last := "A" // change the secret's last character (to one it is not: a fixed "A" equals it one time in 64)
	if parts[1][39] == 'A' {
		last = "B"
	}
	forged, _ := json.Marshal([]string{parts[0], parts[1][:39] + last})
	for name, tok := range map[string]string{"empty": "", "garbage": "not base64!", "wrong secret": base64.StdEncoding.EncodeToString(forged),
		"unknown id": base64.StdEncoding.EncodeToString([]byte(`["999","` + parts[1] + `"]`))} {
		if _, err := f.Svc.Authenticate(ctx, tok); !errors.Is(err, license.ErrUnauthenticated) {
			t.Errorf("%s token: %v, want ErrUnauthenticated", name, err)
		}
	}
	a, err := f.Svc.Authenticate(ctx, issued.Token)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Svc.GetKey(ctx, a, p.ID, k1.Key, 0); err != nil {
		t.Fatalf("granted method: %v", err)
	}
	if _, err := f.Activate(a, p.ID, k1.Key, "m", 0, 0); !errors.Is(err, license.ErrAccessDenied) {
		t.Fatalf("method not granted: %v", err)
	}
	if _, err := f.Svc.GetKey(ctx, a, foreign.ID, fk.Key, 0); !errors.Is(err, license.ErrProductNotFound) {
		t.Fatalf("another vendor's product: %v, want ErrProductNotFound", err)
	}

	// Product lock, key lock.
	pl := f.Token(t, "acme", license.TokenSpec{Methods: []license.Method{license.MethodGetKey}, ProductLock: p2.ID})
	if _, err := f.Svc.GetKey(ctx, pl, p.ID, k1.Key, 0); !errors.Is(err, license.ErrAccessDenied) {
		t.Fatalf("product lock: %v", err)
	}
	if _, err := f.Svc.CreateAPIToken(ctx, "acme", license.TokenSpec{Methods: []license.Method{license.MethodGetKey}, KeyLock: 1}); !errors.Is(err, license.ErrInvalidInput) {
		t.Fatalf("key lock without product lock: %v", err)
	}
	kl := f.Token(t, "acme", license.TokenSpec{Methods: []license.Method{license.MethodGetKey, license.MethodCreateKey}, ProductLock: p.ID, KeyLock: k2.ID})
	if _, err := f.Svc.GetKey(ctx, kl, p.ID, k1.Key, 0); !errors.Is(err, license.ErrAccessDenied) {
		t.Fatalf("key lock, other key: %v", err)
	}
	if _, err := f.Svc.GetKey(ctx, kl, p.ID, k2.Key, 0); err != nil {
		t.Fatalf("key lock, its key: %v", err)
	}
	if _, err := f.Svc.CreateKey(ctx, kl, p.ID, license.KeySpec{}); !errors.Is(err, license.ErrAccessDenied) {
		t.Fatalf("key-locked token creating keys: %v", err)
	}

	// Feature lock hides fields and cannot be undone by the request.
	fl := f.Token(t, "acme", license.TokenSpec{Methods: []license.Method{license.MethodGetKey},
		FeatureLock: int64(license.HideNotes | license.HideKey)})
	l, err := f.Svc.GetKey(ctx, fl, p.ID, k1.Key, license.HideCustomer)
	if err != nil || l.Hidden != license.HideNotes|license.HideKey|license.HideCustomer {
		t.Fatalf("feature lock mask: %v, %v", l.Hidden, err)
	}
	body, _ := license.LicenseJSON(l, f.Clock.Now())
	var m map[string]any
	json.Unmarshal(body, &m)
	if m["Notes"] != nil || m["Key"] != nil || m["Customer"] != nil || m["ID"] == nil {
		t.Fatalf("masked JSON: %s", body)
	}

	// auth/KeyLock: only for key lock -1; the child is locked to the key and dies with its parent.
	parent, err := f.Svc.CreateAPIToken(ctx, "acme", license.TokenSpec{Methods: []license.Method{license.MethodGetKey}, KeyLock: license.KeyLockAny})
	if err != nil {
		t.Fatal(err)
	}
	pa, _ := f.Svc.Authenticate(ctx, parent.Token)
	child, keyID, err := f.Svc.KeyLock(ctx, pa, p.ID, k2.Key)
	if err != nil || keyID != k2.ID || child.Record.KeyLock != k2.ID || child.Record.ProductLock != p.ID || child.Record.ParentID != parent.Record.ID {
		t.Fatalf("KeyLock = %+v, %d, %v", child.Record, keyID, err)
	}
	ca, err := f.Svc.Authenticate(ctx, child.Token)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Svc.GetKey(ctx, ca, p.ID, k1.Key, 0); !errors.Is(err, license.ErrAccessDenied) {
		t.Fatalf("child token on another key: %v", err)
	}
	if _, _, err := f.Svc.KeyLock(ctx, ca, p.ID, k2.Key); !errors.Is(err, license.ErrAccessDenied) {
		t.Fatalf("KeyLock with a key-locked token: %v", err)
	}
	if _, _, err := f.Svc.KeyLock(ctx, a, p.ID, k2.Key); !errors.Is(err, license.ErrAccessDenied) {
		t.Fatalf("KeyLock without key lock -1: %v", err)
	}
	if err := f.Svc.RevokeAPIToken(ctx, "acme", parent.Record.ID); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{parent.Token, child.Token} {
		if _, err := f.Svc.Authenticate(ctx, tok); !errors.Is(err, license.ErrUnauthenticated) {
			t.Fatalf("revoked token: %v", err)
		}
	}

	// Expiry, and a disabled vendor.
	exp := f.Svc
	short, _ := exp.CreateAPIToken(ctx, "acme", license.TokenSpec{Methods: []license.Method{license.MethodGetKey}, ExpiresAt: f.Clock.Now().Add(time.Minute)})
	f.Clock.Add(time.Minute)
	if _, err := f.Svc.Authenticate(ctx, short.Token); !errors.Is(err, license.ErrUnauthenticated) {
		t.Fatalf("expired token: %v", err)
	}
	if err := f.Store.UpdateUser(ctx, "acme", func(u *storage.User) error { u.Disabled = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Svc.Authenticate(ctx, issued.Token); !errors.Is(err, license.ErrUnauthenticated) {
		t.Fatalf("token of a disabled vendor: %v", err)
	}
}

func TestCreateTrialKey(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p := f.Product(t, "acme")
	a := f.Token(t, "acme", license.TokenSpec{Methods: []license.Method{license.MethodCreateTrialKey}, FeatureLock: 7})
	k, err := f.Svc.CreateTrialKey(ctx, a, p.ID, "machine-1")
	if err != nil || k.Period != 7 || !k.ExpiresAt.Equal(f.Clock.Now().Add(7*24*time.Hour)) || k.MaxNoOfMachines != 1 {
		t.Fatalf("trial key = %+v, %v", k, err)
	}
	f.Clock.Add(30 * 24 * time.Hour)
	again, err := f.Svc.CreateTrialKey(ctx, a, p.ID, "machine-1")
	if err != nil || again.Key != k.Key {
		t.Fatalf("second trial for the same machine: %q, %v; want the first key %q", again.Key, err, k.Key)
	}
	other, err := f.Svc.CreateTrialKey(ctx, f.Admin, p.ID, "machine-2")
	if err != nil || other.Key == k.Key || other.Period != license.DefaultTrialDays {
		t.Fatalf("other machine: %+v, %v", other, err)
	}
	if _, err := f.Svc.CreateTrialKey(ctx, a, p.ID, ""); !errors.Is(err, license.ErrInvalidInput) {
		t.Fatalf("no machine code: %v", err)
	}
}

func TestMetadataSignature(t *testing.T) {
	f := newFixture(t)
	p := f.Product(t, "acme")
	k := f.Key(t, p.ID, license.KeySpec{MaxNoOfMachines: 3, Period: 2})
	l, err := f.Activate(f.Admin, p.ID, k.Key, "m1", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	md, err := f.Svc.SignedMetadata(l)
	if err != nil {
		t.Fatal(err)
	}
	if md.ActivatedMachines != 1 || !md.LicenseStatus.IsValid || md.LicenseStatus.TimeLimited {
		t.Fatalf("metadata = %+v", md)
	}
	wrapped, _ := base64.StdEncoding.DecodeString(md.Signature)
	var w struct{ Data, Signature []byte }
	if err := json.Unmarshal(wrapped, &w); err != nil {
		t.Fatal(err)
	}
	pub, _ := license.PublicKey(p)
	d := sha512.Sum512(w.Data)
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA512, d[:], w.Signature); err != nil {
		t.Fatalf("metadata signature: %v", err)
	}
	var data license.Metadata
	if err := json.Unmarshal(w.Data, &data); err != nil || data.ActivatedMachines != 1 || data.Signature != "" {
		t.Fatalf("signed data = %s", w.Data)
	}
}

// BenchmarkActivate measures a heartbeat of an activated machine (the common call: one write transaction on
// SQLite) plus signing the answer; b.ReportMetric prints activations per second.
func BenchmarkActivate(b *testing.B) {
	f := newFixture(b)
	p := f.Product(b, "acme")
	k := f.Key(b, p.ID, license.KeySpec{MaxNoOfMachines: 1})
	for b.Loop() {
		l, err := f.Activate(f.Admin, p.ID, k.Key, "m1", 0, 0)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.Svc.Sign(l); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "activations/s")
}

// BenchmarkCreateKey measures key creation, what `key create --count` does per key.
func BenchmarkCreateKey(b *testing.B) {
	f := newFixture(b)
	p := f.Product(b, "acme")
	for b.Loop() {
		if _, err := f.Svc.CreateKey(context.Background(), f.Admin, p.ID, license.KeySpec{Period: 30}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "keys/s")
}

// TestRotateProductKey: after a rotation every node signs with the new key (a node that had opened the old one
// notices the stored key changed), and signatures verify only against the new public key.
func TestRotateProductKey(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p := f.Product(t, "acme")
	k := f.Key(t, p.ID, license.KeySpec{Period: 30})
	other := license.New(f.Store, keys.NewSealerFor(master, keys.PurposeLicenseSigningKeys), license.Options{Now: f.Clock.Now})
	sign := func(svc *license.Service) license.Signed {
		t.Helper()
		l, err := svc.GetKey(ctx, license.Admin(), p.ID, k.Key, 0)
		if err != nil {
			t.Fatal(err)
		}
		signed, err := svc.Sign(l)
		if err != nil {
			t.Fatal(err)
		}
		return signed
	}
	oldPub, _ := license.PublicKey(p)
	verifySHA256(t, oldPub, sign(other).LicenseKey, sign(other).Signature) // the other node has the old key open

	for _, vendor := range []string{"other", "acme"} { // another vendor's token, and even the owner's: tokens may not
		a := f.Token(t, vendor, license.TokenSpec{Methods: []license.Method{license.MethodGetKey}})
		if _, err := f.Svc.RotateProductKey(ctx, a, p.ID); !errors.Is(err, license.ErrAccessDenied) {
			t.Fatalf("rotation with a token of %s: %v", vendor, err)
		}
	}
	rotated, err := f.Svc.RotateProductKey(ctx, f.Admin, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	newPub, _ := license.PublicKey(rotated)
	if newPub.N.Cmp(oldPub.N) == 0 {
		t.Fatal("the key did not change")
	}
	for name, svc := range map[string]*license.Service{"rotating node": f.Svc, "other node": other} {
		s := sign(svc)
		verifySHA256(t, newPub, s.LicenseKey, s.Signature)
		d := sha256.Sum256(s.LicenseKey)
		if rsa.VerifyPKCS1v15(oldPub, crypto.SHA256, d[:], s.Signature) == nil {
			t.Errorf("%s still signs with the old key", name)
		}
	}
}
