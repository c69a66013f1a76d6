package woo_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/license/woo"
	"github.com/tokenmanager/tokenmanager/storage"
)

const wooCode = "store-code-of-acme"

type wooFixture struct {
	*fixture
	woo  *woo.Service
	shop storage.WooStore
	prod storage.Product
}

func newWooFixture(t *testing.T, spec woo.StoreSpec) *wooFixture {
	t.Helper()
	f := newFixture(t)
	w := woo.New(f.Svc, f.Store, woo.Options{TokenLifetime: 5 * time.Minute})
	if spec.Code == "" {
		spec.Code = wooCode
	}
	st, err := w.CreateStore(context.Background(), f.Admin, "acme", spec)
	if err != nil {
		t.Fatal(err)
	}
	p := f.Product(t, "acme")
	if err := w.SetSKU(context.Background(), f.Admin, st.ID, "ED-PRO", p.ID, false); err != nil {
		t.Fatal(err)
	}
	return &wooFixture{fixture: f, woo: w, shop: st, prod: p}
}

func (f *wooFixture) req(k storage.LicenseKey, domain string, id int64) woo.Request {
	return woo.Request{StoreCode: wooCode, SKU: "ED-PRO", LicenseKey: woo.Key(k), Domain: domain,
		ActivationID: id, IP: "192.0.2.9"}
}

// wantCodes checks that err is a refusal with exactly these codes, in this order.
func wantCodes(t *testing.T, what string, err error, codes ...int) {
	t.Helper()
	var we *woo.Errors
	if !errors.As(err, &we) {
		t.Fatalf("%s: err = %v, want WooCommerce errors %v", what, err, codes)
	}
	var got []int
	for _, e := range we.Errors {
		got = append(got, e.Code)
	}
	if fmt.Sprint(got) != fmt.Sprint(codes) {
		t.Fatalf("%s: codes %v, want %v", what, got, codes)
	}
}

func TestWooKeyForm(t *testing.T) {
	k := storage.LicenseKey{Key: "MUYVD-LSEBY-CXHRQ-XFAGY", GlobalID: 1005}
	if got := woo.Key(k); got != "MUYVDLSEBYCXHRQXFAGY-1005" {
		t.Fatalf("Key = %q", got)
	}
}

func TestWooActivateValidateDeactivate(t *testing.T) {
	f := newWooFixture(t, woo.StoreSpec{})
	ctx := context.Background()
	k := f.Key(t, f.prod.ID, license.KeySpec{MaxNoOfMachines: 2})
	at := f.Clock.Now().Unix()

	l, err := f.woo.Activate(ctx, f.req(k, "https://Example.com/", 0))
	if err != nil {
		t.Fatal(err)
	}
	if l.ActivationID != at || l.TheKey != woo.Key(k) || !l.Expire.IsZero() || l.HasExpired {
		t.Fatalf("activate = %+v, want activation id %d and no expiry (the product does not block expired keys)", l, at)
	}
	// The activation is the domain's node-locked activation, visible to the Cryptolens side too.
	d, err := f.Svc.ShowKey(ctx, f.Admin, f.prod.ID, k.Key)
	if err != nil || len(d.Activations) != 1 || d.Activations[0].MachineCode != "example.com" || d.Activations[0].IP != "192.0.2.9" {
		t.Fatalf("activations = %+v, %v", d.Activations, err)
	}

	// Scheme, case and trailing slash do not make another site; the lower-case letters of the key are the key.
	r := f.req(k, "example.com", at)
	r.LicenseKey = strings.ToLower(r.LicenseKey)
	if l, err := f.woo.Validate(ctx, r); err != nil || l.ActivationID != at {
		t.Fatalf("validate = %+v, %v", l, err)
	}
	wantCodes(t, "validate another id", func() error { _, err := f.woo.Validate(ctx, f.req(k, "example.com", at+1)); return err }(), 203)
	wantCodes(t, "validate another domain", func() error { _, err := f.woo.Validate(ctx, f.req(k, "other.org", at)); return err }(), 203)

	// Activating the same domain again is no new seat and keeps its id.
	f.Clock.Add(time.Minute)
	if l, err := f.woo.Activate(ctx, f.req(k, "http://example.com", 0)); err != nil || l.ActivationID != at {
		t.Fatalf("re-activate = %+v, %v; want the first id %d", l, err, at)
	}
	if err := f.woo.Deactivate(ctx, f.req(k, "example.com", at)); err != nil {
		t.Fatal(err)
	}
	wantCodes(t, "validate after deactivate", func() error { _, err := f.woo.Validate(ctx, f.req(k, "example.com", at)); return err }(), 203)
	wantCodes(t, "deactivate twice", f.woo.Deactivate(ctx, f.req(k, "example.com", at)), 203)
}

func TestWooLimitAndLocalhost(t *testing.T) {
	f := newWooFixture(t, woo.StoreSpec{})
	ctx := context.Background()
	k := f.Key(t, f.prod.ID, license.KeySpec{MaxNoOfMachines: 2, AllowedMachines: "vip.example"})
	for i, d := range []string{"a.example", "b.example"} {
		if _, err := f.woo.Activate(ctx, f.req(k, d, 0)); err != nil {
			t.Fatalf("activation %d: %v", i, err)
		}
		f.Clock.Add(time.Second)
	}
	_, err := f.woo.Activate(ctx, f.req(k, "c.example", 0))
	wantCodes(t, "third domain", err, 202)
	if _, err := f.woo.Activate(ctx, f.req(k, "a.example", 0)); err != nil {
		t.Fatalf("an activated domain at the limit: %v", err)
	}
	if _, err := f.woo.Activate(ctx, f.req(k, "vip.example", 0)); err != nil {
		t.Fatalf("a domain in AllowedMachines at the limit: %v", err)
	}
	// localhost (the default domain) is free on a key with a limit: id 404, nothing recorded.
	for _, d := range []string{"", "localhost", "http://localhost:8080/"} {
		l, err := f.woo.Activate(ctx, f.req(k, d, 0))
		if err != nil || l.ActivationID != 404 {
			t.Fatalf("activate %q = %+v, %v; want id 404", d, l, err)
		}
	}
	if _, err := f.woo.Validate(ctx, f.req(k, "", 404)); err != nil {
		t.Fatalf("validate localhost 404: %v", err)
	}
	wantCodes(t, "404 from a real domain", func() error { _, err := f.woo.Validate(ctx, f.req(k, "a.example", 404)); return err }(), 203)
	if err := f.woo.Deactivate(ctx, f.req(k, "localhost", 404)); err != nil {
		t.Fatalf("deactivate localhost 404: %v", err)
	}
	d, _ := f.Svc.ShowKey(ctx, f.Admin, f.prod.ID, k.Key)
	if len(d.Activations) != 3 {
		t.Fatalf("activations = %+v; want a, b and vip", d.Activations)
	}
}

func TestWooUnlimitedKeyRecords(t *testing.T) {
	f := newWooFixture(t, woo.StoreSpec{})
	ctx := context.Background()
	k := f.Key(t, f.prod.ID, license.KeySpec{}) // MaxNoOfMachines 0: Cryptolens records nothing
	l, err := f.woo.Activate(ctx, f.req(k, "localhost", 0))
	if err != nil || l.ActivationID != f.Clock.Now().Unix() {
		t.Fatalf("activate = %+v, %v; localhost is recorded when the key has no limit", l, err)
	}
	if _, err := f.woo.Validate(ctx, f.req(k, "localhost", l.ActivationID)); err != nil {
		t.Fatalf("validate: %v", err)
	}
	if err := f.woo.Deactivate(ctx, f.req(k, "localhost", l.ActivationID)); err != nil {
		t.Fatal(err)
	}
}

func TestWooDesktop(t *testing.T) {
	f := newWooFixture(t, woo.StoreSpec{})
	ctx := context.Background()
	if err := f.woo.SetSKU(ctx, f.Admin, f.shop.ID, "APP", f.prod.ID, true); err != nil {
		t.Fatal(err)
	}
	k := f.Key(t, f.prod.ID, license.KeySpec{MaxNoOfMachines: 2})
	req := func(domain string, id int64) woo.Request {
		r := f.req(k, domain, id)
		r.SKU = "APP"
		return r
	}
	// Without a domain every activation is a seat of its own; localhost is not free.
	first, err := f.woo.Activate(ctx, req("", 0))
	if err != nil {
		t.Fatal(err)
	}
	f.Clock.Add(time.Second)
	second, err := f.woo.Activate(ctx, req("", 0))
	if err != nil || second.ActivationID == first.ActivationID {
		t.Fatalf("second desktop activation = %+v, %v", second, err)
	}
	_, err = f.woo.Activate(ctx, req("", 0))
	wantCodes(t, "third desktop activation", err, 202)
	// Desktop activations are validated by id alone.
	if _, err := f.woo.Validate(ctx, req("whatever.example", first.ActivationID)); err != nil {
		t.Fatalf("validate desktop: %v", err)
	}
	if err := f.woo.Deactivate(ctx, req("", first.ActivationID)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.woo.Activate(ctx, req("", 0)); err != nil {
		t.Fatalf("a freed desktop seat: %v", err)
	}
}

func TestWooExpiry(t *testing.T) {
	f := newWooFixture(t, woo.StoreSpec{})
	ctx := context.Background()
	if _, err := f.Svc.SetBlockExpired(ctx, f.Admin, f.prod.ID, true); err != nil {
		t.Fatal(err)
	}
	k := f.Key(t, f.prod.ID, license.KeySpec{Period: 1, MaxNoOfMachines: 1})
	l, err := f.woo.Activate(ctx, f.req(k, "a.example", 0))
	if err != nil || !l.Expire.Equal(k.ExpiresAt) || l.HasExpired {
		t.Fatalf("activate = %+v, %v; want expiry %v", l, err, k.ExpiresAt)
	}
	f.Clock.Add(25 * time.Hour)
	_, err = f.woo.Activate(ctx, f.req(k, "a.example", 0))
	wantCodes(t, "activate an expired key from its domain", err, 200)
	_, err = f.woo.Activate(ctx, f.req(k, "b.example", 0))
	wantCodes(t, "activate an expired, full key", err, 200, 202)
	_, err = f.woo.Validate(ctx, f.req(k, "a.example", l.ActivationID))
	wantCodes(t, "validate expired", err, 200)
	_, err = f.woo.Validate(ctx, f.req(k, "a.example", l.ActivationID+1))
	wantCodes(t, "validate expired, unknown activation", err, 200, 203)
	wantCodes(t, "deactivate expired", f.woo.Deactivate(ctx, f.req(k, "a.example", l.ActivationID)), 200)

	// A trial-activation key has no expiry until its first activation starts the countdown.
	trial := f.Key(t, f.prod.ID, license.KeySpec{Period: 3, TrialActivation: true, MaxNoOfMachines: 1})
	f.Clock.Add(10 * 24 * time.Hour)
	l, err = f.woo.Activate(ctx, f.req(trial, "t.example", 0))
	if err != nil || !l.Expire.Equal(f.Clock.Now().Add(72*time.Hour)) {
		t.Fatalf("trial activation = %+v, %v; want expiry three days from now", l, err)
	}
}

func TestWooChecksInOrder(t *testing.T) {
	f := newWooFixture(t, woo.StoreSpec{})
	ctx := context.Background()
	k := f.Key(t, f.prod.ID, license.KeySpec{MaxNoOfMachines: 1})
	blocked := f.Key(t, f.prod.ID, license.KeySpec{Blocked: true})
	otherProduct := f.Product(t, "acme")
	onOther := f.Key(t, otherProduct.ID, license.KeySpec{})
	foreign := f.Key(t, f.Product(t, "other").ID, license.KeySpec{})
	good := f.req(k, "a.example", 0)
	wrongLetters := strings.Replace(woo.Key(k), k.Key[:1], string(rune((k.Key[0]-'A'+1)%26+'A')), 1)
	cases := []struct {
		name   string
		change func(r *woo.Request)
		codes  []int
	}{
		{"everything missing", func(r *woo.Request) { *r = woo.Request{} }, []int{102}},
		{"no key", func(r *woo.Request) { r.LicenseKey, r.SKU = "", "" }, []int{101}},
		{"wrong store code", func(r *woo.Request) { r.StoreCode = "nope-nope-nope" }, []int{5}},
		{"no sku", func(r *woo.Request) { r.SKU, r.LicenseKey = "", "x" }, []int{100}},
		{"Cryptolens form", func(r *woo.Request) { r.LicenseKey = k.Key }, []int{2}},
		{"not numeric id", func(r *woo.Request) { r.LicenseKey = "ABC-12x" }, []int{2}},
		{"unknown id", func(r *woo.Request) { r.LicenseKey = "ABC-999999" }, []int{5}},
		{"id out of range", func(r *woo.Request) { r.LicenseKey = "ABC-99999999999999999999" }, []int{5}},
		{"wrong letters", func(r *woo.Request) { r.LicenseKey = wrongLetters }, []int{5}},
		{"blocked key", func(r *woo.Request) { r.LicenseKey = woo.Key(blocked) }, []int{5}},
		{"another vendor's key", func(r *woo.Request) { r.LicenseKey = woo.Key(foreign) }, []int{5}},
		{"unknown sku", func(r *woo.Request) { r.SKU = "NOPE" }, []int{3}},
		{"key of another product", func(r *woo.Request) { r.LicenseKey = woo.Key(onOther) }, []int{3}},
	}
	for _, c := range cases {
		r := good
		c.change(&r)
		_, err := f.woo.Activate(ctx, r)
		wantCodes(t, c.name, err, c.codes...)
	}
	// Validate and deactivate check activation_id after the SKU and before the key.
	r := good
	r.LicenseKey = "bad key"
	_, err := f.woo.Validate(ctx, r)
	wantCodes(t, "validate without activation_id", err, 103)
	wantCodes(t, "deactivate without activation_id", f.woo.Deactivate(ctx, r), 103)

	// The store's error format travels with the errors.
	var we *woo.Errors
	if !errors.As(func() error { _, err := f.woo.Activate(ctx, woo.Request{StoreCode: wooCode}); return err }(), &we) || we.ByCode {
		t.Fatal("errors of a property-format store are not marked by code")
	}
	byCode := true
	if _, err := f.woo.UpdateStore(ctx, f.Admin, f.shop.ID, woo.StoreChange{ErrorsByCode: &byCode}); err != nil {
		t.Fatal(err)
	}
	_, err = f.woo.Activate(ctx, woo.Request{StoreCode: wooCode, LicenseKey: "x"})
	if !errors.As(err, &we) || !we.ByCode || !we.Has(100) {
		t.Fatalf("errors of a code-format store: %v", err)
	}
}

func TestWooDisabledVendorClosesStore(t *testing.T) {
	f := newWooFixture(t, woo.StoreSpec{})
	ctx := context.Background()
	k := f.Key(t, f.prod.ID, license.KeySpec{})
	if err := f.Store.UpdateUser(ctx, "acme", func(u *storage.User) error { u.Disabled = true; return nil }); err != nil {
		t.Fatal(err)
	}
	_, err := f.woo.Activate(ctx, f.req(k, "a.example", 0))
	wantCodes(t, "disabled vendor", err, 5)
	_, err = f.woo.IssueToken(ctx, "license_key", woo.Key(k))
	wantCodes(t, "token for a disabled vendor's key", err, 5)
}

// A wrong store code gets the answer the right one gets for a key the store does not have, whatever else the
// request holds, also at a store that requires tokens: guessing codes tells nothing.
func TestWooWrongStoreCodeLooksLikeAnUnknownKey(t *testing.T) {
	for _, requireToken := range []bool{false, true} {
		f := newWooFixture(t, woo.StoreSpec{RequireToken: requireToken})
		ctx := context.Background()
		k := f.Key(t, f.prod.ID, license.KeySpec{})
		foreign := f.Key(t, f.Product(t, "other").ID, license.KeySpec{})
		variants := map[string]func(r *woo.Request){
			"unknown key":          func(r *woo.Request) { r.LicenseKey = "ABCDE-424242" },
			"another vendor's key": func(r *woo.Request) { r.LicenseKey = woo.Key(foreign) },
			"malformed key":        func(r *woo.Request) { r.LicenseKey = "not a key" },
			"no sku":               func(r *woo.Request) { r.SKU, r.LicenseKey = "", "ABCDE-424242" },
			"a token":              func(r *woo.Request) { r.LicenseKey, r.Token = "ABCDE-424242", "some-token" },
		}
		for name, change := range variants {
			for _, op := range []string{"activate", "validate"} {
				answer := func(code string) error {
					r := f.req(k, "a.example", 5)
					r.StoreCode = code
					change(&r)
					if op == "validate" {
						_, err := f.woo.Validate(ctx, r)
						return err
					}
					_, err := f.woo.Activate(ctx, r)
					return err
				}
				right, wrong := answer(wooCode), answer("wrong-store-code")
				var a, b *woo.Errors
				if !errors.As(right, &a) || !errors.As(wrong, &b) || fmt.Sprint(a.Errors) != fmt.Sprint(b.Errors) || a.ByCode != b.ByCode {
					t.Errorf("require token %v, %s, %s: right code %v, wrong code %v", requireToken, op, name, right, wrong)
				}
			}
		}
		// A good key at a wrong code: the key is not that store's.
		r := f.req(k, "a.example", 0)
		r.StoreCode = "wrong-store-code"
		_, err := f.woo.Activate(ctx, r)
		wantCodes(t, "a good key at a wrong store code", err, 5)
	}
}

// The token endpoint issues a key at most TokenBurst tokens at once, then one per TokenEvery, and keeps at
// most MaxTokensPerKey live: the oldest are dropped and stop working, the newest work.
func TestWooTokenIssuanceBounded(t *testing.T) {
	f := newWooFixture(t, woo.StoreSpec{RequireToken: true})
	ctx := context.Background()
	k := f.Key(t, f.prod.ID, license.KeySpec{})
	other := f.Key(t, f.prod.ID, license.KeySpec{})
	var toks []string
	for range woo.TokenBurst {
		tok, err := f.woo.IssueToken(ctx, "license_key", woo.Key(k))
		if err != nil {
			t.Fatalf("token %d: %v", len(toks)+1, err)
		}
		toks = append(toks, tok.Token)
		f.Clock.Add(time.Millisecond) // "oldest" is by issue time
	}
	_, err := f.woo.IssueToken(ctx, "license_key", woo.Key(k))
	var we *woo.Errors
	if !errors.As(err, &we) || !we.Has(303) || we.RetryAfter <= 0 || we.RetryAfter > woo.TokenEvery {
		t.Fatalf("one token too many: %v (%+v)", err, we)
	}
	if _, err := f.woo.IssueToken(ctx, "license_key", woo.Key(other)); err != nil {
		t.Fatalf("another key is not limited by this one: %v", err)
	}
	// Bad keys get their usual answers, not 303: only issuance counts.
	_, err = f.woo.IssueToken(ctx, "license_key", "ABCDE-424242")
	wantCodes(t, "unknown key while limited", err, 5)

	f.Clock.Add(woo.TokenEvery)
	newest, err := f.woo.IssueToken(ctx, "license_key", woo.Key(k))
	if err != nil {
		t.Fatalf("after the interval: %v", err)
	}
	use := func(tok string) error {
		r := f.req(k, "a.example", 0)
		r.Token = tok
		_, err := f.woo.Activate(ctx, r)
		return err
	}
	wantCodes(t, "the oldest token, dropped", use(toks[0]), 301)
	for i, tok := range append(toks[1:], newest.Token) {
		if err := use(tok); err != nil {
			t.Fatalf("live token %d: %v", i+2, err)
		}
	}
}

func TestWooTokens(t *testing.T) {
	f := newWooFixture(t, woo.StoreSpec{RequireToken: true})
	ctx := context.Background()
	k := f.Key(t, f.prod.ID, license.KeySpec{MaxNoOfMachines: 1})
	k2 := f.Key(t, f.prod.ID, license.KeySpec{MaxNoOfMachines: 1})

	_, err := f.woo.IssueToken(ctx, "client_credentials", woo.Key(k))
	wantCodes(t, "wrong grant type", err, 302)
	_, err = f.woo.IssueToken(ctx, "license_key", "")
	wantCodes(t, "no key", err, 101)
	_, err = f.woo.IssueToken(ctx, "license_key", "nope")
	wantCodes(t, "malformed key", err, 2)
	_, err = f.woo.IssueToken(ctx, "license_key", "ABCDE-424242")
	wantCodes(t, "unknown key", err, 5)

	tok, err := f.woo.IssueToken(ctx, "license_key", woo.Key(k))
	if err != nil || len(tok.Token) != 43 || tok.Lifetime != 5*time.Minute {
		t.Fatalf("IssueToken = %+v, %v", tok, err)
	}
	other, err := f.woo.IssueToken(ctx, "license_key", woo.Key(k2))
	if err != nil {
		t.Fatal(err)
	}

	r := f.req(k, "a.example", 0)
	_, err = f.woo.Activate(ctx, r)
	wantCodes(t, "no token", err, 300)
	r.Token = "not-a-token"
	_, err = f.woo.Activate(ctx, r)
	wantCodes(t, "unknown token", err, 301)
	r.Token = other.Token
	_, err = f.woo.Activate(ctx, r)
	wantCodes(t, "token of another key", err, 301)
	r.Token = tok.Token
	l, err := f.woo.Activate(ctx, r)
	if err != nil {
		t.Fatalf("activate with the key's token: %v", err)
	}
	v := f.req(k, "a.example", l.ActivationID)
	v.Token = tok.Token
	if _, err := f.woo.Validate(ctx, v); err != nil {
		t.Fatalf("validate with the token: %v", err)
	}
	f.Clock.Add(5 * time.Minute)
	_, err = f.woo.Validate(ctx, v)
	wantCodes(t, "expired token", err, 301)
	f.Clock.Add(time.Minute)

	// The token is stored only as its hash, and issuing clears expired ones.
	if _, err := f.Store.GetWooToken(ctx, []byte(tok.Token)); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("token stored in the clear? %v", err)
	}
	if _, err := f.woo.IssueToken(ctx, "license_key", woo.Key(k)); err != nil {
		t.Fatal(err)
	}
	if n, _ := f.Store.DeleteWooTokens(ctx, f.Clock.Now().Add(time.Hour), 100); n != 1 {
		t.Fatalf("%d tokens were left; want only the fresh one (issuing clears expired ones)", n)
	}

	// Switching the requirement off: tokens are no longer needed.
	off := false
	if _, err := f.woo.UpdateStore(ctx, f.Admin, f.shop.ID, woo.StoreChange{RequireToken: &off}); err != nil {
		t.Fatal(err)
	}
	v.Token = ""
	if _, err := f.woo.Validate(ctx, v); err != nil {
		t.Fatalf("validate without token on a store that does not require one: %v", err)
	}
}

func TestWooStoreSettings(t *testing.T) {
	f := newWooFixture(t, woo.StoreSpec{})
	ctx := context.Background()
	if _, err := f.woo.CreateStore(ctx, f.Admin, "other", woo.StoreSpec{Code: wooCode}); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("CreateStore(taken code) = %v, want ErrConflict", err)
	}
	if _, err := f.woo.CreateStore(ctx, f.Admin, "other", woo.StoreSpec{Code: "short"}); !errors.Is(err, license.ErrInvalidInput) {
		t.Fatalf("CreateStore(short code) = %v, want ErrInvalidInput", err)
	}
	if _, err := f.woo.CreateStore(ctx, f.Admin, "plain", woo.StoreSpec{Code: "plain-store-code"}); !errors.Is(err, license.ErrNotVendor) {
		t.Fatalf("CreateStore(not a vendor) = %v, want ErrNotVendor", err)
	}
	other, err := f.Svc.Vendor(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.woo.CreateStore(ctx, other, "acme", woo.StoreSpec{Code: "sneaky-store-code"}); !errors.Is(err, license.ErrAccessDenied) {
		t.Fatalf("CreateStore(for another vendor) = %v, want ErrAccessDenied", err)
	}
	if err := f.woo.SetSKU(ctx, other, f.shop.ID, "X", f.prod.ID, false); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("SetSKU(on another vendor's store) = %v, want ErrNotFound", err)
	}
	foreign := f.Product(t, "other")
	if err := f.woo.SetSKU(ctx, f.Admin, f.shop.ID, "X", foreign.ID, false); !errors.Is(err, license.ErrProductNotFound) {
		t.Fatalf("SetSKU(another vendor's product) = %v, want ErrProductNotFound", err)
	}
	if err := f.woo.SetSKU(ctx, f.Admin, f.shop.ID, " X ", f.prod.ID, false); !errors.Is(err, license.ErrInvalidInput) {
		t.Fatalf("SetSKU(padded) = %v, want ErrInvalidInput", err)
	}
	tokenAccess := f.Token(t, "acme", license.TokenSpec{Methods: []license.Method{license.MethodActivate}})
	if _, err := f.woo.ListStores(ctx, tokenAccess); !errors.Is(err, license.ErrAccessDenied) {
		t.Fatalf("ListStores(API token) = %v, want ErrAccessDenied", err)
	}
	acme, _ := f.Svc.Vendor(ctx, "acme")
	if list, err := f.woo.ListStores(ctx, acme); err != nil || len(list) != 1 || list[0].ID != f.shop.ID {
		t.Fatalf("ListStores(acme) = %+v, %v", list, err)
	}
	// A new code replaces the old one.
	code := "renewed-store-code"
	if _, err := f.woo.UpdateStore(ctx, acme, f.shop.ID, woo.StoreChange{Code: &code}); err != nil {
		t.Fatal(err)
	}
	k := f.Key(t, f.prod.ID, license.KeySpec{})
	_, err = f.woo.Activate(ctx, f.req(k, "a.example", 0))
	wantCodes(t, "old code", err, 5)
	r := f.req(k, "a.example", 0)
	r.StoreCode = code
	if _, err := f.woo.Activate(ctx, r); err != nil {
		t.Fatalf("new code: %v", err)
	}
	if skus, err := f.woo.ListSKUs(ctx, acme, f.shop.ID); err != nil || len(skus) != 1 {
		t.Fatalf("ListSKUs = %+v, %v", skus, err)
	}
	if err := f.woo.RemoveSKU(ctx, acme, f.shop.ID, "ED-PRO"); err != nil {
		t.Fatal(err)
	}
	_, err = f.woo.Activate(ctx, r)
	wantCodes(t, "removed SKU", err, 3)
}

func TestWooLastSeatRace(t *testing.T) {
	f := newWooFixture(t, woo.StoreSpec{})
	ctx := context.Background()
	k := f.Key(t, f.prod.ID, license.KeySpec{MaxNoOfMachines: 1})
	const racers = 8
	errs := make(chan error, racers)
	for i := range racers {
		go func() {
			_, err := f.woo.Activate(ctx, f.req(k, fmt.Sprintf("site-%d.example", i), 0))
			errs <- err
		}()
	}
	won := 0
	for range racers {
		err := <-errs
		if err == nil {
			won++
			continue
		}
		wantCodes(t, "a losing racer", err, 202)
	}
	if won != 1 {
		t.Fatalf("%d domains got the last seat, want 1", won)
	}
	if d, _ := f.Svc.ShowKey(ctx, f.Admin, f.prod.ID, k.Key); len(d.Activations) != 1 {
		t.Fatalf("activations = %+v", d.Activations)
	}
}
