package conformance

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

func testLicenseResellers(t *testing.T, s storage.Store) {
	ctx := context.Background()
	if _, err := s.CreateReseller(ctx, storage.Reseller{Vendor: "ghost", Name: "R", CreatedAt: base}); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("CreateReseller(no vendor) = %v, want ErrNotFound", err)
	}
	mustVendor(t, s, "acme")
	mustVendor(t, s, "zed")
	want := storage.Reseller{Vendor: "acme", Name: "Shop", Email: "s@example.com", Phone: "+1 555", URL: "https://shop.example",
		Description: "EU reseller", CreatedAt: base}
	r1, err := s.CreateReseller(ctx, want)
	if err != nil || r1.ID <= 0 {
		t.Fatalf("CreateReseller = %+v, %v", r1, err)
	}
	want.ID = r1.ID
	if got, err := s.GetReseller(ctx, r1.ID); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("GetReseller = %+v, %v; want %+v", got, err, want)
	}
	r2, _ := s.CreateReseller(ctx, storage.Reseller{Vendor: "zed", Name: "Other", CreatedAt: base})
	if _, err := s.GetReseller(ctx, 9999); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("GetReseller(absent) = %v, want ErrNotFound", err)
	}
	if l, err := s.ListResellers(ctx, "acme"); err != nil || len(l) != 1 || l[0].ID != r1.ID {
		t.Fatalf("ListResellers(acme) = %+v, %v", l, err)
	}
	if l, err := s.ListResellers(ctx, ""); err != nil || len(l) != 2 || l[1].ID != r2.ID {
		t.Fatalf("ListResellers(all) = %+v, %v", l, err)
	}

	// A key points to a reseller; the pointer is written by UpdateActivations and must name a reseller.
	p := mustProduct(t, s, "acme", "One")
	k := mustKey(t, s, storage.LicenseKey{ProductID: p.ID, Key: "RESEL-LERKE-YAAAA-AAAAA", ResellerID: r1.ID})
	if got, _ := s.GetLicenseKey(ctx, p.ID, k.Key); got.ResellerID != r1.ID {
		t.Fatalf("key's reseller = %d, want %d", got.ResellerID, r1.ID)
	}
	if _, err := s.CreateLicenseKey(ctx, storage.LicenseKey{ProductID: p.ID, Key: "NORES", ResellerID: 9999, CreatedAt: base}); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("CreateLicenseKey(no reseller) = %v, want ErrNotFound", err)
	}
	_, _, err = s.UpdateActivations(ctx, p.ID, k.Key, func(k storage.LicenseKey, _ []storage.Activation) (storage.ActivationChanges, error) {
		k.ResellerID = 0
		return storage.ActivationChanges{Key: &k}, nil
	})
	if got, _ := s.GetLicenseKey(ctx, p.ID, k.Key); err != nil || got.ResellerID != 0 {
		t.Fatalf("reseller after clearing = %d, %v", got.ResellerID, err)
	}
}

func testLicenseTemplates(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustVendor(t, s, "acme")
	p1 := mustProduct(t, s, "acme", "One")
	p2 := mustProduct(t, s, "acme", "Two")
	r, err := s.CreateReseller(ctx, storage.Reseller{Vendor: "acme", Name: "Shop", CreatedAt: base})
	if err != nil {
		t.Fatal(err)
	}
	want := storage.LicenseTemplate{ProductID: p1.ID, Name: "Pro yearly", Period: 365,
		Features: [8]bool{true, false, false, true, false, false, false, true}, Notes: "from template", Blocked: true,
		TrialActivation: true, MaxNoOfMachines: 3, AllowedMachines: "m1\nm2", ResellerID: r.ID, CreatedAt: base}
	t1, err := s.CreateLicenseTemplate(ctx, want)
	if err != nil || t1.ID <= 0 {
		t.Fatalf("CreateLicenseTemplate = %+v, %v", t1, err)
	}
	want.ID = t1.ID
	if got, err := s.GetLicenseTemplate(ctx, t1.ID); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("GetLicenseTemplate = %+v, %v; want %+v", got, err, want)
	}
	for _, bad := range []storage.LicenseTemplate{{ProductID: 9999, Name: "x", CreatedAt: base},
		{ProductID: p1.ID, Name: "x", ResellerID: 9999, CreatedAt: base}} {
		if _, err := s.CreateLicenseTemplate(ctx, bad); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("CreateLicenseTemplate(%+v) = %v, want ErrNotFound", bad, err)
		}
	}
	t2, _ := s.CreateLicenseTemplate(ctx, storage.LicenseTemplate{ProductID: p1.ID, Name: "Basic", CreatedAt: base})
	t3, _ := s.CreateLicenseTemplate(ctx, storage.LicenseTemplate{ProductID: p2.ID, Name: "Other", CreatedAt: base})
	if l, err := s.ListLicenseTemplates(ctx, p1.ID); err != nil || len(l) != 2 || l[0].ID != t1.ID || l[1].ID != t2.ID {
		t.Fatalf("ListLicenseTemplates = %+v, %v", l, err)
	}
	if err := s.DeleteLicenseTemplate(ctx, t2.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteLicenseTemplate(ctx, t2.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("DeleteLicenseTemplate(twice) = %v, want ErrNotFound", err)
	}
	if _, err := s.GetLicenseTemplate(ctx, t2.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("GetLicenseTemplate(deleted) = %v, want ErrNotFound", err)
	}
	// Ids are never reused: a token may be locked to one.
	t4, _ := s.CreateLicenseTemplate(ctx, storage.LicenseTemplate{ProductID: p1.ID, Name: "Again", CreatedAt: base})
	if t4.ID <= t3.ID {
		t.Fatalf("template id %d reused (last %d)", t4.ID, t3.ID)
	}
}

func testLicenseKeyBatches(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustVendor(t, s, "acme")
	p := mustProduct(t, s, "acme", "One")
	mustKey(t, s, storage.LicenseKey{ProductID: p.ID, Key: "TAKEN"})
	batch := func(prefix string, n int) []storage.LicenseKey {
		out := make([]storage.LicenseKey, n)
		for i := range out {
			out[i] = storage.LicenseKey{ProductID: p.ID, Key: fmt.Sprintf("%s-%d", prefix, i), CreatedAt: base, Notes: "batch"}
		}
		return out
	}
	got, err := s.CreateLicenseKeys(ctx, batch("A", 3))
	if err != nil || len(got) != 3 || got[0].ID != 2 || got[2].ID != 4 || got[1].GlobalID <= got[0].GlobalID {
		t.Fatalf("CreateLicenseKeys = %+v, %v", got, err)
	}
	// One clash writes none of the batch.
	bad := batch("B", 3)
	bad[2].Key = "TAKEN"
	if _, err := s.CreateLicenseKeys(ctx, bad); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("CreateLicenseKeys(a taken key) = %v, want ErrConflict", err)
	}
	bad = batch("C", 2)
	bad[1].CustomerID = 9999
	if _, err := s.CreateLicenseKeys(ctx, bad); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("CreateLicenseKeys(no customer) = %v, want ErrNotFound", err)
	}
	if l, _ := s.ListLicenseKeys(ctx, p.ID); len(l) != 4 {
		t.Fatalf("after refused batches the product has %d keys, want 4", len(l))
	}

	// Batches racing for one product take distinct, gapless numbers.
	const racers, per = 4, 5
	var wg sync.WaitGroup
	errs := make(chan error, racers)
	for r := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.CreateLicenseKeys(ctx, batch(fmt.Sprintf("R%d", r), per))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("racing CreateLicenseKeys: %v", err)
		}
	}
	l, err := s.ListLicenseKeys(ctx, p.ID)
	if err != nil || len(l) != 4+racers*per {
		t.Fatalf("after the race: %d keys, %v", len(l), err)
	}
	for i, k := range l {
		if k.ID != int64(i+1) {
			t.Fatalf("key %d has ID %d: numbers must be distinct and gapless", i, k.ID)
		}
	}

	// A customer by e-mail: the vendor's oldest with that address.
	c1, _ := s.CreateCustomer(ctx, storage.Customer{Vendor: "acme", Name: "A", Email: "a@example.com", CreatedAt: base})
	s.CreateCustomer(ctx, storage.Customer{Vendor: "acme", Name: "A2", Email: "a@example.com", CreatedAt: base.Add(time.Hour)})
	mustVendor(t, s, "zed")
	s.CreateCustomer(ctx, storage.Customer{Vendor: "zed", Name: "Z", Email: "z@example.com", CreatedAt: base})
	if c, err := s.FindCustomerByEmail(ctx, "acme", "a@example.com"); err != nil || c.ID != c1.ID {
		t.Fatalf("FindCustomerByEmail = %+v, %v; want id %d", c, err, c1.ID)
	}
	if _, err := s.FindCustomerByEmail(ctx, "acme", "z@example.com"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("FindCustomerByEmail(another vendor's) = %v, want ErrNotFound", err)
	}
}
