package conformance

import (
	"context"
	"fmt"
	"testing"

	"github.com/tokenmanager/tokenmanager/storage"
)

// testActivationManagement: the product setting is stored at creation, written by UpdateProduct, read back by
// every product read, and off by default.
func testActivationManagement(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustVendor(t, s, "acme")
	off := mustProduct(t, s, "acme", "Off")
	if off.AllowActivationManagement {
		t.Fatalf("a new product allows activation management: %+v", off)
	}
	on, err := s.CreateProduct(ctx, storage.Product{Vendor: "acme", Name: "On", PublicKey: []byte("pub"), CreatedAt: base, AllowActivationManagement: true},
		func(id int64) ([]byte, error) { return fmt.Appendf(nil, "sealed-%d", id), nil })
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetProduct(ctx, on.ID); err != nil || !got.AllowActivationManagement {
		t.Fatalf("GetProduct(created on) = %+v, %v", got, err)
	}
	up, err := s.UpdateProduct(ctx, off.ID, func(p *storage.Product) error { p.AllowActivationManagement = true; return nil })
	if err != nil || !up.AllowActivationManagement {
		t.Fatalf("UpdateProduct = %+v, %v", up, err)
	}
	if _, err := s.UpdateProduct(ctx, on.ID, func(p *storage.Product) error { p.AllowActivationManagement = false; return nil }); err != nil {
		t.Fatal(err)
	}
	list, err := s.ListProducts(ctx, "acme")
	if err != nil || len(list) != 2 || !list[0].AllowActivationManagement || list[1].AllowActivationManagement {
		t.Fatalf("ListProducts = %+v, %v", list, err)
	}
}

// testCustomersOfUser: a user's customer records across vendors, and nobody else's.
func testCustomersOfUser(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustVendor(t, s, "zeta")
	mustVendor(t, s, "acme")
	mustUser(t, s, "carol")
	mustUser(t, s, "dave")
	zc := mustCustomer(t, s, storage.Customer{Vendor: "zeta", Name: "Carol at zeta", User: "carol"})
	a1 := mustCustomer(t, s, storage.Customer{Vendor: "acme", Name: "Carol", User: "carol"})
	mustCustomer(t, s, storage.Customer{Vendor: "acme", Name: "Dave", User: "dave"})
	mustCustomer(t, s, storage.Customer{Vendor: "acme", Name: "Unlinked"})
	a2 := mustCustomer(t, s, storage.Customer{Vendor: "acme", Name: "Carol's firm", User: "carol"})
	list, err := s.ListCustomersOfUser(ctx, "carol")
	if err != nil || len(list) != 3 || list[0].ID != a1.ID || list[1].ID != a2.ID || list[2].ID != zc.ID || list[2].Vendor != "zeta" {
		t.Fatalf("ListCustomersOfUser(carol) = %+v, %v", list, err)
	}
	for _, u := range []string{"", "nobody", "Carol", "carol\x00"} {
		if list, err := s.ListCustomersOfUser(ctx, u); err != nil || len(list) != 0 {
			t.Fatalf("ListCustomersOfUser(%q) = %+v, %v", u, list, err)
		}
	}
}
