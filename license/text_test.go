package license_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/license"
)

func TestCheckText(t *testing.T) {
	for v, ok := range map[string]bool{
		"": true, "machine-1": true, "Ün 名": true, strings.Repeat("x", 10): true, strings.Repeat("x", 11): false,
		"a\x00b": false, "a\xffb": false, "a\x1bb": false, "a\x7fb": false, "a\u0085b": false, "a\nb": false, "a\tb": false,
	} {
		if err := license.CheckText("field", v, 10); (err == nil) != ok || (err != nil && !errors.Is(err, license.ErrInvalidInput)) {
			t.Errorf("CheckText(%q) = %v, want ok %v", v, err, ok)
		}
	}
}

// TestExtendLicenseCapped: an extension past year 9999 is refused and changes nothing; so is one that would
// make a not-yet-started trial's period longer than a new key's may be.
func TestExtendLicenseCapped(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p := f.Product(t, "acme")
	k := f.Key(t, p.ID, license.KeySpec{Period: 30})
	var err error
	n := 0
	for ; n < 100 && err == nil; n++ {
		err = f.Svc.ExtendLicense(ctx, f.Admin, p.ID, k.Key, license.MaxPeriodDays)
	}
	if !errors.Is(err, license.ErrInvalidInput) {
		t.Fatalf("after %d extensions: %v", n, err)
	}
	got, _ := f.Svc.ShowKey(ctx, f.Admin, p.ID, k.Key)
	if got.Key.ExpiresAt.After(license.MaxExpiry) || got.Key.ExpiresAt.Before(license.MaxExpiry.Add(-license.MaxPeriodDays*24*time.Hour)) {
		t.Fatalf("expires %v after %d extensions", got.Key.ExpiresAt, n)
	}
	trial := f.Key(t, p.ID, license.KeySpec{Period: 30, TrialActivation: true})
	if err := f.Svc.ExtendLicense(ctx, f.Admin, p.ID, trial.Key, license.MaxPeriodDays); !errors.Is(err, license.ErrInvalidInput) {
		t.Fatalf("a trial period beyond %d days: %v", license.MaxPeriodDays, err)
	}
}
