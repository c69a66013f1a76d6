package license_test

import (
	"context"
	"errors"
	"testing"

	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/storage"
)

// TestManagedCustomers: the operator's and vendor accounts' customer operations reach what the access
// reaches, refuse API tokens (which have the customer/ methods), and run a precondition inside the edit.
func TestManagedCustomers(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p := f.Product(t, "acme")
	acme, _ := f.Svc.Vendor(ctx, "acme")
	other, _ := f.Svc.Vendor(ctx, "other")
	token := f.Token(t, "acme", license.TokenSpec{Methods: license.Methods})
	c, err := f.Svc.CreateCustomerWithSettings(ctx, acme, "acme", license.CustomerSettings{CustomerSpec: license.CustomerSpec{Name: "Carol"},
		Notes: "two\nlines", Flags: storage.CustomerAssociation})
	if err != nil || c.Notes != "two\nlines" || c.Flags != storage.CustomerAssociation || c.SecretHash != "" {
		t.Fatalf("CreateCustomerWithSettings = %+v, %v", c, err)
	}
	if _, err := f.Svc.CreateCustomerWithSettings(ctx, acme, "other", license.CustomerSettings{CustomerSpec: license.CustomerSpec{Name: "X"}}); !errors.Is(err, license.ErrAccessDenied) {
		t.Fatalf("a customer for another vendor = %v", err)
	}

	// Another vendor's customer is not found, for every operation; the operator reaches it.
	name := "Mine"
	for what, err := range map[string]error{
		"Customer": func() error { _, err := f.Svc.Customer(ctx, other, c.ID); return err }(),
		"UpdateCustomer": func() error {
			_, err := f.Svc.UpdateCustomer(ctx, other, c.ID, license.CustomerEdit{Name: &name}, nil)
			return err
		}(),
		"DeleteCustomer":      func() error { _, err := f.Svc.DeleteCustomer(ctx, other, c.ID, true); return err }(),
		"CustomerLicenseKeys": func() error { _, err := f.Svc.CustomerLicenseKeys(ctx, other, c.ID); return err }(),
		"missing":             func() error { _, err := f.Svc.Customer(ctx, f.Admin, 0); return err }(),
	} {
		if !errors.Is(err, license.ErrCustomerNotFound) {
			t.Errorf("%s = %v, want ErrCustomerNotFound", what, err)
		}
	}
	for what, err := range map[string]error{
		"UpdateCustomer": func() error {
			_, err := f.Svc.UpdateCustomer(ctx, token, c.ID, license.CustomerEdit{Name: &name}, nil)
			return err
		}(),
		"DeleteCustomer": func() error { _, err := f.Svc.DeleteCustomer(ctx, token, c.ID, true); return err }(),
	} {
		if !errors.Is(err, license.ErrAccessDenied) {
			t.Errorf("%s with an API token = %v, want ErrAccessDenied", what, err)
		}
	}
	if got, _ := f.Store.GetCustomer(ctx, c.ID); got.Name != "Carol" {
		t.Fatalf("refused changes wrote %+v", got)
	}

	// The precondition runs in the edit's transaction: its refusal writes nothing.
	stale := errors.New("stale")
	if _, err := f.Svc.UpdateCustomer(ctx, f.Admin, c.ID, license.CustomerEdit{Name: &name}, func(storage.Customer) error { return stale }); !errors.Is(err, stale) {
		t.Fatalf("a refused precondition = %v", err)
	}
	ic, err := f.Svc.UpdateCustomer(ctx, f.Admin, c.ID, license.CustomerEdit{Name: &name, NewSecret: true},
		func(cur storage.Customer) error {
			if cur.Name != "Carol" {
				return stale
			}
			return nil
		})
	if err != nil || ic.Customer.Name != "Mine" || ic.Secret == "" || ic.Customer.Notes != "two\nlines" {
		t.Fatalf("UpdateCustomer as the operator = %+v, %v", ic, err)
	}

	// Pages: the vendor's only, newest first, bounded.
	for _, n := range []string{"B", "C"} {
		if _, err := f.Svc.CreateCustomer(ctx, acme, "acme", license.CustomerSpec{Name: n}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.Svc.CreateCustomer(ctx, other, "other", license.CustomerSpec{Name: "Theirs"}); err != nil {
		t.Fatal(err)
	}
	page, more, err := f.Svc.FindCustomers(ctx, acme, license.CustomerSearch{Limit: 2})
	if err != nil || len(page) != 2 || !more || page[0].Name != "C" {
		t.Fatalf("first page = %+v, %v, %v", page, more, err)
	}
	page, more, err = f.Svc.FindCustomers(ctx, acme, license.CustomerSearch{Limit: 2, BeforeID: page[1].ID})
	if err != nil || len(page) != 1 || more || page[0].Name != "Mine" {
		t.Fatalf("second page = %+v, %v, %v", page, more, err)
	}
	if page, _, _ := f.Svc.FindCustomers(ctx, acme, license.CustomerSearch{Vendor: "other", Limit: 10}); len(page) != 0 {
		t.Fatalf("a vendor asking for another's: %+v", page)
	}
	if page, _, _ := f.Svc.FindCustomers(ctx, f.Admin, license.CustomerSearch{Limit: 10}); len(page) != 4 {
		t.Fatalf("the operator's: %+v", page)
	}
	for _, q := range []license.CustomerSearch{{Limit: 0}, {Limit: license.MaxCustomersPage + 1}, {Limit: 1, BeforeID: -1}, {Limit: 1, Search: "a\x00"}} {
		if _, _, err := f.Svc.FindCustomers(ctx, acme, q); !errors.Is(err, license.ErrInvalidInput) {
			t.Errorf("FindCustomers(%+v) = %v", q, err)
		}
	}

	// Delete: refused while keys remain, forced unlinks them.
	k := f.Key(t, p.ID, license.KeySpec{CustomerID: c.ID})
	if r, err := f.Svc.DeleteCustomer(ctx, acme, c.ID, false); !errors.Is(err, license.ErrCustomerInUse) || r.Keys != 1 {
		t.Fatalf("unforced delete = %+v, %v", r, err)
	}
	if r, err := f.Svc.DeleteCustomer(ctx, acme, c.ID, true); err != nil || r.Keys != 1 {
		t.Fatalf("forced delete = %+v, %v", r, err)
	}
	if got, err := f.Store.GetLicenseKey(ctx, p.ID, k.Key); err != nil || got.CustomerID != 0 {
		t.Fatalf("the key after its customer: %+v, %v", got, err)
	}
}
