package license_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/storage"
)

func parentToken(t *testing.T, f *fixture, spec license.TokenSpec) storage.APIToken {
	t.Helper()
	a := f.Token(t, "acme", spec)
	tok, ok := a.Token()
	if !ok || !license.IsParent(tok) {
		t.Fatalf("token %+v is not a parent", tok)
	}
	return tok
}

func TestGrantChildIsBoundedByTheParent(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p := f.Product(t, "acme")
	other := f.Product(t, "acme")
	foreign := f.Product(t, "other")
	d := 24 * time.Hour
	parent := parentToken(t, f, license.TokenSpec{Methods: []license.Method{license.MethodGetToken, license.MethodGetLicenseKeys,
		license.MethodGetKey}, ProductLock: p.ID, KeyLock: 30, FeatureLock: int64(license.HideNotes)})
	free := parentToken(t, f, license.TokenSpec{Methods: []license.Method{license.MethodGetToken, license.MethodActivate}})

	for _, tc := range []struct {
		name   string
		parent storage.APIToken
		req    license.ChildRequest
		want   license.ChildGrant
		err    error
	}{
		{"within bounds", parent, license.ChildRequest{Methods: []license.Method{license.MethodGetLicenseKeys}, Days: 10},
			license.ChildGrant{Methods: []license.Method{license.MethodGetLicenseKeys}, ProductLock: p.ID,
				FeatureLock: int64(license.HideNotes), Lifetime: 10 * d}, nil},
		{"longer than the key lock is capped", parent, license.ChildRequest{Methods: []license.Method{license.MethodGetKey}, Days: 90},
			license.ChildGrant{Methods: []license.Method{license.MethodGetKey}, ProductLock: p.ID, FeatureLock: int64(license.HideNotes),
				Lifetime: 30 * d, Capped: true}, nil},
		{"no expiry asked: the key lock", parent, license.ChildRequest{Methods: []license.Method{license.MethodGetKey}},
			license.ChildGrant{Methods: []license.Method{license.MethodGetKey}, ProductLock: p.ID, FeatureLock: int64(license.HideNotes),
				Lifetime: 30 * d}, nil},
		{"no expiry and no key lock: the default", free, license.ChildRequest{Methods: []license.Method{license.MethodActivate}},
			license.ChildGrant{Methods: []license.Method{license.MethodActivate}, Lifetime: license.DefaultChildDays * d}, nil},
		{"methods the parent lacks are withheld, GetToken always", parent, license.ChildRequest{Methods: []license.Method{
			license.MethodActivate, license.MethodGetKey, license.MethodGetToken, license.MethodGetKey}, FeatureLock: int64(license.HideCustomer)},
			license.ChildGrant{Methods: []license.Method{license.MethodGetKey}, Withheld: []license.Method{license.MethodActivate, license.MethodGetToken},
				ProductLock: p.ID, FeatureLock: int64(license.HideNotes | license.HideCustomer), Lifetime: 30 * d}, nil},
		{"the parent's product", parent, license.ChildRequest{Methods: []license.Method{license.MethodGetKey}, ProductLock: p.ID, KeyLock: 2, Days: 1},
			license.ChildGrant{Methods: []license.Method{license.MethodGetKey}, ProductLock: p.ID, KeyLock: 2, FeatureLock: int64(license.HideNotes),
				Lifetime: d}, nil},
		{"another product than the parent's", parent, license.ChildRequest{Methods: []license.Method{license.MethodGetKey}, ProductLock: other.ID},
			license.ChildGrant{}, license.ErrInvalidInput},
		{"a product of the vendor's choosing", free, license.ChildRequest{Methods: []license.Method{license.MethodActivate}, ProductLock: other.ID},
			license.ChildGrant{Methods: []license.Method{license.MethodActivate}, ProductLock: other.ID, Lifetime: license.DefaultChildDays * d}, nil},
		{"another vendor's product", free, license.ChildRequest{Methods: []license.Method{license.MethodActivate}, ProductLock: foreign.ID},
			license.ChildGrant{}, license.ErrProductNotFound},
		{"key lock without product", free, license.ChildRequest{Methods: []license.Method{license.MethodActivate}, KeyLock: 3},
			license.ChildGrant{}, license.ErrInvalidInput},
		{"nothing the parent can give", parent, license.ChildRequest{Methods: []license.Method{license.MethodActivate}},
			license.ChildGrant{}, license.ErrInvalidInput},
		{"GetLicenseKeys without a product", parentToken(t, f, license.TokenSpec{Methods: []license.Method{license.MethodGetToken, license.MethodGetLicenseKeys}}),
			license.ChildRequest{Methods: []license.Method{license.MethodGetLicenseKeys}}, license.ChildGrant{}, license.ErrInvalidInput},
		{"GetLicenseKeys with a product of the app's choosing", parentToken(t, f, license.TokenSpec{Methods: []license.Method{license.MethodGetToken, license.MethodGetLicenseKeys}}),
			license.ChildRequest{Methods: []license.Method{license.MethodGetLicenseKeys}, ProductLock: other.ID},
			license.ChildGrant{Methods: []license.Method{license.MethodGetLicenseKeys}, ProductLock: other.ID, Lifetime: license.DefaultChildDays * d}, nil},
		{"negative days", parent, license.ChildRequest{Methods: []license.Method{license.MethodGetKey}, Days: -1},
			license.ChildGrant{}, license.ErrInvalidInput},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := f.Svc.GrantChild(ctx, tc.parent, tc.req)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil || !slices.Equal(g.Methods, tc.want.Methods) || !slices.Equal(g.Withheld, tc.want.Withheld) ||
				g.ProductLock != tc.want.ProductLock || g.KeyLock != tc.want.KeyLock || g.FeatureLock != tc.want.FeatureLock ||
				g.Lifetime != tc.want.Lifetime || g.Capped != tc.want.Capped {
				t.Fatalf("grant %+v, %v; want %+v", g, err, tc.want)
			}
		})
	}

	// Not a parent, revoked, expired.
	plain := f.Token(t, "acme", license.TokenSpec{Methods: []license.Method{license.MethodGetKey}})
	plainTok, _ := plain.Token()
	if _, err := f.Svc.GrantChild(ctx, plainTok, license.ChildRequest{Methods: []license.Method{license.MethodGetKey}}); !errors.Is(err, license.ErrAccessDenied) {
		t.Fatalf("grant under a token without GetToken: %v", err)
	}
	short := parentToken(t, f, license.TokenSpec{Methods: []license.Method{license.MethodGetToken, license.MethodGetKey},
		ExpiresAt: f.Clock.Now().Add(48 * time.Hour)})
	g, err := f.Svc.GrantChild(ctx, short, license.ChildRequest{Methods: []license.Method{license.MethodGetKey}, Days: 5})
	if err != nil || g.Lifetime != 48*time.Hour || !g.Capped {
		t.Fatalf("grant under a parent expiring in 2 days: %+v, %v; want 48h, capped", g, err)
	}
	f.Clock.Add(49 * time.Hour)
	if _, err := f.Svc.GrantChild(ctx, short, license.ChildRequest{Methods: []license.Method{license.MethodGetKey}}); !errors.Is(err, license.ErrAccessDenied) {
		t.Fatalf("grant under an expired parent: %v", err)
	}
}

// TestParentKeyLockIsDays: on a token with GetToken the key lock bounds child lifetimes in days; it needs no
// product lock and does not lock the parent's own calls to one key.
func TestParentKeyLockIsDays(t *testing.T) {
	f := newFixture(t)
	p := f.Product(t, "acme")
	f.Key(t, p.ID, license.KeySpec{})
	k2 := f.Key(t, p.ID, license.KeySpec{})
	parent := f.Token(t, "acme", license.TokenSpec{Methods: []license.Method{license.MethodGetToken, license.MethodGetKey}, KeyLock: 1})
	if _, err := f.Svc.GetKey(context.Background(), parent, p.ID, k2.Key, 0); err != nil {
		t.Fatalf("a parent with key lock 1 (days) reading key 2: %v", err)
	}
	if _, err := f.Svc.CreateAPIToken(context.Background(), "acme", license.TokenSpec{Methods: []license.Method{license.MethodGetKey}, KeyLock: 1}); !errors.Is(err, license.ErrInvalidInput) {
		t.Fatalf("an ordinary token with a key lock but no product lock: %v", err)
	}
}

func TestIssueChild(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p := f.Product(t, "acme")
	parent := f.Token(t, "acme", license.TokenSpec{Methods: []license.Method{license.MethodGetToken, license.MethodGetKey},
		ProductLock: p.ID, KeyLock: 7, FeatureLock: int64(license.HideNotes)})
	ptok, _ := parent.Token()
	g, err := f.Svc.GrantChild(ctx, ptok, license.ChildRequest{Methods: []license.Method{license.MethodGetKey}})
	if err != nil {
		t.Fatal(err)
	}
	var stored storage.APIToken
	issued, err := f.Svc.IssueChild(parent, "My App", g, func(tok storage.APIToken) (storage.APIToken, error) {
		stored = tok
		return f.Store.CreateAPIToken(ctx, tok)
	})
	if err != nil {
		t.Fatal(err)
	}
	if stored.ParentID != ptok.ID || stored.Vendor != "acme" || stored.ProductLock != p.ID || stored.FeatureLock != int64(license.HideNotes) ||
		!slices.Equal(stored.Permissions, []string{"GetKey"}) || !stored.ExpiresAt.Equal(f.Clock.Now().Add(7*24*time.Hour)) {
		t.Fatalf("child stored as %+v", stored)
	}
	child, err := f.Svc.Authenticate(ctx, issued.Token)
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Allow(license.MethodGetKey); err != nil {
		t.Fatal(err)
	}
	if err := child.Allow(license.MethodGetToken); !errors.Is(err, license.ErrAccessDenied) {
		t.Fatalf("a child may call GetToken: %v", err)
	}
	f.Clock.Add(7*24*time.Hour + time.Second)
	if _, err := f.Svc.Authenticate(ctx, issued.Token); !errors.Is(err, license.ErrUnauthenticated) {
		t.Fatalf("a child past the parent's key lock: %v", err)
	}
	if _, err := f.Svc.IssueChild(child, "x", g, nil); !errors.Is(err, license.ErrAccessDenied) {
		t.Fatalf("a child issuing a child: %v", err)
	}
}

func TestSignUserKeys(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p := f.Product(t, "acme")
	other := f.Product(t, "acme")
	cust, err := f.Svc.CreateCustomer(ctx, f.Admin, "acme", license.CustomerSpec{Name: "Carol", Email: "carol@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	k1 := f.Key(t, p.ID, license.KeySpec{Period: 30, Notes: "secret notes", CustomerID: cust.ID, MaxNoOfMachines: 2, Features: [8]bool{true}})
	k2 := f.Key(t, other.ID, license.KeySpec{CustomerID: cust.ID})
	if _, err := f.Activate(f.Admin, p.ID, k1.Key, "machine-1", 0, 0); err != nil {
		t.Fatal(err)
	}
	access := func(fl license.FieldMask, productLock int64) *license.Access {
		return f.Token(t, "acme", license.TokenSpec{Methods: []license.Method{license.MethodGetLicenseKeys}, ProductLock: productLock, FeatureLock: int64(fl)})
	}
	pub, err := license.PublicKey(p)
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		LicenseKey map[string]any `json:"licenseKey"`
	}
	read := func(a *license.Access) ([]result, []string) {
		t.Helper()
		uk, err := f.Svc.SignUserKeys(ctx, a, []storage.LicenseKey{k1, k2}, []string{"machine-1", "machine-2"})
		if err != nil {
			t.Fatal(err)
		}
		// Verified the way the .NET SDK does: SHA-256 over results ‖ machine codes ‖ int64 LE of the date.
		msg := append(append(append([]byte{}, uk.Results...), uk.ActivatedMachineCodes...), binary.LittleEndian.AppendUint64(nil, uint64(uk.SignDate.Unix()))...)
		sum := sha256.Sum256(msg)
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], uk.Signature); err != nil {
			t.Fatalf("signature: %v", err)
		}
		var rs []result
		var mcs []string
		if json.Unmarshal(uk.Results, &rs) != nil || json.Unmarshal(uk.ActivatedMachineCodes, &mcs) != nil {
			t.Fatalf("results %s / machines %s", uk.Results, uk.ActivatedMachineCodes)
		}
		return rs, mcs
	}
	rs, mcs := read(access(0, p.ID))
	if len(rs) != 1 || !slices.Equal(mcs, []string{"machine-1", "machine-2"}) {
		t.Fatalf("%d results (want 1: the other product's key is left out), machines %v", len(rs), mcs)
	}
	lk := rs[0].LicenseKey
	if lk["key"] != k1.Key || lk["notes"] != "secret notes" || lk["f1"] != true || lk["customer"] == nil || lk["id"] != float64(k1.ID) ||
		lk["created"] != "2026-11-23T08:00:00Z" || len(lk["activatedMachines"].([]any)) != 1 {
		t.Fatalf("license key %v", lk)
	}
	rs, _ = read(access(license.HideNotes|license.HideCustomer|license.HideKey|license.HideID|license.HideActivatedMachines, p.ID))
	lk = rs[0].LicenseKey
	if lk["key"] != nil || lk["notes"] != nil || lk["customer"] != nil || lk["id"] != float64(0) || len(lk["activatedMachines"].([]any)) != 0 ||
		lk["f1"] != true {
		t.Fatalf("masked by the feature lock: %v", lk)
	}
	if _, err := f.Svc.SignUserKeys(ctx, access(0, 0), nil, nil); !errors.Is(err, license.ErrAccessDenied) {
		t.Fatalf("without a product lock: %v", err)
	}
	noPerm := f.Token(t, "acme", license.TokenSpec{Methods: []license.Method{license.MethodGetKey}, ProductLock: p.ID})
	if _, err := f.Svc.SignUserKeys(ctx, noPerm, nil, nil); !errors.Is(err, license.ErrAccessDenied) {
		t.Fatalf("without the method: %v", err)
	}
	uk, err := f.Svc.SignUserKeys(ctx, access(0, p.ID), nil, nil)
	if err != nil || string(uk.Results) != "[]" || string(uk.ActivatedMachineCodes) != "[]" {
		t.Fatalf("no keys: %s %s %v", uk.Results, uk.ActivatedMachineCodes, err)
	}
}
