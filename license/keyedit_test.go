package license_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/license/licensetest"
	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/postgres"
	"github.com/tokenmanager/tokenmanager/storage/postgres/pgtest"
)

func TestEditKeySQLite(t *testing.T) { testEditKey(t, newFixture(t)) }

func TestEditKeyPostgres(t *testing.T) {
	st, err := postgres.Open(context.Background(), pgtest.Schema(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	testEditKey(t, licensetest.On(t, st))
}

var errStale = errors.New("stale")

func testEditKey(t *testing.T, f *licensetest.Fixture) {
	ctx := context.Background()
	p := f.Product(t, "acme")
	k := f.Key(t, p.ID, license.KeySpec{Period: 30, Notes: "old"})
	acme, _ := f.Svc.Vendor(ctx, "acme")
	other, _ := f.Svc.Vendor(ctx, "other")
	ours, err := f.Svc.CreateCustomer(ctx, acme, "acme", license.CustomerSpec{Name: "Ours"})
	if err != nil {
		t.Fatal(err)
	}
	theirs, _ := f.Svc.CreateCustomer(ctx, other, "other", license.CustomerSpec{Name: "Theirs"})
	feats := [8]bool{true, false, true}
	notes, machines, customer, blocked := "new notes", 3, ours.ID, true
	exp := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)

	// One edit of every field: one transaction, each change audited as its own call is.
	got, err := f.Svc.EditKey(ctx, acme, p.ID, k.Key, license.KeyEdit{Features: &feats, Notes: &notes, MaxMachines: &machines,
		CustomerID: &customer, Blocked: &blocked, ExpiresAt: &exp}, nil)
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := f.Store.GetLicenseKey(ctx, p.ID, k.Key)
	for _, k := range []storage.LicenseKey{got, stored} {
		if k.Features != feats || k.Notes != notes || k.MaxNoOfMachines != 3 || k.CustomerID != ours.ID || !k.Blocked || !k.ExpiresAt.Equal(exp) {
			t.Fatalf("edited: %+v", k)
		}
	}

	// Refusals change nothing, a stale check included, whichever field is refused.
	tooLate := license.MaxExpiry.Add(time.Second)
	long := strings.Repeat("n", 600)
	neg, unblock := -1, false
	never := func(storage.LicenseKey) error { return errStale }
	for name, c := range map[string]struct {
		a     *license.Access
		e     license.KeyEdit
		check func(storage.LicenseKey) error
		want  error
	}{
		"after MaxExpiry":    {acme, license.KeyEdit{Blocked: &unblock, ExpiresAt: &tooLate}, nil, license.ErrInvalidInput},
		"long notes":         {acme, license.KeyEdit{Blocked: &unblock, Notes: &long}, nil, license.ErrInvalidInput},
		"negative machines":  {acme, license.KeyEdit{Blocked: &unblock, MaxMachines: &neg}, nil, license.ErrInvalidInput},
		"another's customer": {acme, license.KeyEdit{Blocked: &unblock, CustomerID: &theirs.ID}, nil, license.ErrCustomerNotFound},
		"another vendor":     {other, license.KeyEdit{Blocked: &unblock}, nil, license.ErrProductNotFound},
		"stale":              {acme, license.KeyEdit{Blocked: &unblock, Notes: &long}, never, license.ErrInvalidInput},
		"stale, valid":       {acme, license.KeyEdit{Blocked: &unblock}, never, errStale},
	} {
		if _, err := f.Svc.EditKey(ctx, c.a, p.ID, k.Key, c.e, c.check); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
	if now, _ := f.Store.GetLicenseKey(ctx, p.ID, k.Key); now != stored {
		t.Fatalf("a refused edit changed the key:\n%+v\n%+v", now, stored)
	}

	// An API token needs each field's permission; the expiry needs vendor access.
	tok := f.Token(t, "acme", license.TokenSpec{Methods: []license.Method{license.MethodChangeNotes}})
	if _, err := f.Svc.EditKey(ctx, tok, p.ID, k.Key, license.KeyEdit{Notes: &notes}, nil); err != nil {
		t.Fatalf("a token with ChangeNotes: %v", err)
	}
	for name, e := range map[string]license.KeyEdit{"blocked": {Blocked: &unblock}, "expires": {Notes: &notes, ExpiresAt: &exp}} {
		if _, err := f.Svc.EditKey(ctx, tok, p.ID, k.Key, e, nil); !errors.Is(err, license.ErrAccessDenied) {
			t.Errorf("a token with ChangeNotes only, %s: %v", name, err)
		}
	}

	// Two edits checking the same version: exactly one is made, the other sees the change and is refused.
	version := func(want storage.LicenseKey) func(storage.LicenseKey) error {
		return func(cur storage.LicenseKey) error {
			if cur != want {
				return errStale
			}
			return nil
		}
	}
	for round := range 5 {
		read, _ := f.Store.GetLicenseKey(ctx, p.ID, k.Key)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n := strings.Repeat("x", round*2+i+1)
				_, errs[i] = f.Svc.EditKey(ctx, acme, p.ID, k.Key, license.KeyEdit{Notes: &n}, version(read))
			}()
		}
		wg.Wait()
		ok, stale := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, errStale):
				stale++
			default:
				t.Fatal(err)
			}
		}
		if ok != 1 || stale != 1 {
			t.Fatalf("round %d: %d made, %d stale: %v", round, ok, stale, errs)
		}
	}

	// The audit log names each field that changed, as the single calls do, never the whole key.
	var actions []string
	for _, e := range f.Audit.Events() {
		if strings.Contains(e.Detail, k.Key) {
			t.Errorf("%s names the whole key", e.Action)
		}
		actions = append(actions, e.Action)
	}
	all := strings.Join(actions, " ")
	for _, a := range []string{"license.key.addfeature", "license.key.changenotes", "license.key.machinelocklimit",
		"license.key.changecustomer", "license.key.blockkey", "license.key.setexpiry"} {
		if !strings.Contains(all, a) {
			t.Errorf("no %s in %v", a, actions)
		}
	}
}
