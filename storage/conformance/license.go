package conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

func mustVendor(t *testing.T, s storage.Store, name string) {
	t.Helper()
	mustUser(t, s, name)
	if err := s.AddVendor(context.Background(), storage.Vendor{Name: name, CreatedAt: base}); err != nil {
		t.Fatalf("AddVendor(%q): %v", name, err)
	}
}

func mustProduct(t *testing.T, s storage.Store, vendor, name string) storage.Product {
	t.Helper()
	p, err := s.CreateProduct(context.Background(), storage.Product{Vendor: vendor, Name: name, PublicKey: []byte("pub-" + name), CreatedAt: base},
		func(id int64) ([]byte, error) { return fmt.Appendf(nil, "sealed-%d", id), nil })
	if err != nil {
		t.Fatalf("CreateProduct(%q): %v", name, err)
	}
	return p
}

func mustKey(t *testing.T, s storage.Store, k storage.LicenseKey) storage.LicenseKey {
	t.Helper()
	if k.CreatedAt.IsZero() {
		k.CreatedAt = base
	}
	got, err := s.CreateLicenseKey(context.Background(), k)
	if err != nil {
		t.Fatalf("CreateLicenseKey(%q): %v", k.Key, err)
	}
	return got
}

func testLicenseVendors(t *testing.T, s storage.Store) {
	ctx := context.Background()
	if err := s.AddVendor(ctx, storage.Vendor{Name: "ghost", CreatedAt: base}); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("AddVendor(no such user) = %v, want ErrNotFound", err)
	}
	mustVendor(t, s, "zed")
	mustVendor(t, s, "acme")
	if err := s.AddVendor(ctx, storage.Vendor{Name: "acme", CreatedAt: base}); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("AddVendor(twice) = %v, want ErrConflict", err)
	}
	mustUser(t, s, "plain")
	if _, err := s.GetVendor(ctx, "plain"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("GetVendor(user without the role) = %v, want ErrNotFound", err)
	}
	v, err := s.GetVendor(ctx, "acme")
	if err != nil || v.Name != "acme" || !v.CreatedAt.Equal(base) {
		t.Fatalf("GetVendor = %+v, %v", v, err)
	}
	list, err := s.ListVendors(ctx)
	if err != nil || len(list) != 2 || list[0].Name != "acme" || list[1].Name != "zed" {
		t.Fatalf("ListVendors = %+v, %v", list, err)
	}
}

func testLicenseProducts(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustUser(t, s, "plain")
	_, err := s.CreateProduct(ctx, storage.Product{Vendor: "plain", Name: "x", PublicKey: []byte("k"), CreatedAt: base},
		func(int64) ([]byte, error) { return []byte("s"), nil })
	if !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("CreateProduct(user is no vendor) = %v, want ErrNotFound", err)
	}
	mustVendor(t, s, "acme")
	mustVendor(t, s, "other")
	a := mustProduct(t, s, "acme", "Editor")
	b := mustProduct(t, s, "other", "Viewer")
	c := mustProduct(t, s, "acme", "Compiler")
	if a.ID <= 0 || b.ID <= a.ID || c.ID <= b.ID {
		t.Fatalf("product ids %d, %d, %d: want positive and increasing", a.ID, b.ID, c.ID)
	}
	if want := fmt.Sprintf("sealed-%d", a.ID); string(a.SealedPrivateKey) != want {
		t.Fatalf("sealed key = %q, want %q (seal must see the new id)", a.SealedPrivateKey, want)
	}
	got, err := s.GetProduct(ctx, a.ID)
	if err != nil || !reflect.DeepEqual(got, a) {
		t.Fatalf("GetProduct = %+v, %v; want %+v", got, err, a)
	}
	boom := errors.New("seal failed")
	_, err = s.CreateProduct(ctx, storage.Product{Vendor: "acme", Name: "bad", PublicKey: []byte("k"), CreatedAt: base},
		func(int64) ([]byte, error) { return nil, boom })
	if !errors.Is(err, boom) {
		t.Fatalf("CreateProduct(seal fails) = %v, want the seal error", err)
	}
	if _, err := s.GetProduct(ctx, 9999); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("GetProduct(missing) = %v", err)
	}
	list, err := s.ListProducts(ctx, "acme")
	if err != nil || len(list) != 2 || list[0].ID != a.ID || list[1].ID != c.ID {
		t.Fatalf("ListProducts(acme) = %+v, %v; the failed create must not have left a row", list, err)
	}
	if all, err := s.ListProducts(ctx, ""); err != nil || len(all) != 3 {
		t.Fatalf("ListProducts(all) = %d products, %v", len(all), err)
	}
	up, err := s.UpdateProduct(ctx, a.ID, func(p *storage.Product) error {
		p.Name, p.BlockExpired = "Editor Pro", true
		return nil
	})
	if err != nil || up.Name != "Editor Pro" || !up.BlockExpired {
		t.Fatalf("UpdateProduct = %+v, %v", up, err)
	}
	if got, _ := s.GetProduct(ctx, a.ID); got.Name != "Editor Pro" || !got.BlockExpired || !bytes.Equal(got.SealedPrivateKey, a.SealedPrivateKey) {
		t.Fatalf("after update: %+v", got)
	}
	if _, err := s.UpdateProduct(ctx, 9999, func(*storage.Product) error { return nil }); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("UpdateProduct(missing) = %v", err)
	}
}

func testLicenseCustomers(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustVendor(t, s, "acme")
	mustVendor(t, s, "other")
	mustUser(t, s, "carol")
	want := storage.Customer{Vendor: "acme", Name: "Carol", Email: "carol@example.com", Company: "Example Ltd",
		MaxNoOfDevices: 3, User: "carol", CreatedAt: base}
	c, err := s.CreateCustomer(ctx, want)
	if err != nil || c.ID <= 0 {
		t.Fatalf("CreateCustomer = %+v, %v", c, err)
	}
	want.ID = c.ID
	if got, err := s.GetCustomer(ctx, c.ID); err != nil || got != want {
		t.Fatalf("GetCustomer = %+v, %v; want %+v", got, err, want)
	}
	if _, err := s.CreateCustomer(ctx, storage.Customer{Vendor: "acme", Name: "x", User: "ghost", CreatedAt: base}); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("CreateCustomer(linked user missing) = %v, want ErrNotFound", err)
	}
	if _, err := s.CreateCustomer(ctx, storage.Customer{Vendor: "ghost", Name: "x", CreatedAt: base}); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("CreateCustomer(vendor missing) = %v, want ErrNotFound", err)
	}
	if _, err := s.CreateCustomer(ctx, storage.Customer{Vendor: "other", Name: "Dave", CreatedAt: base}); err != nil {
		t.Fatal(err)
	}
	if list, err := s.ListCustomers(ctx, "acme"); err != nil || len(list) != 1 || list[0] != want {
		t.Fatalf("ListCustomers(acme) = %+v, %v", list, err)
	}
	if all, err := s.ListCustomers(ctx, ""); err != nil || len(all) != 2 {
		t.Fatalf("ListCustomers(all) = %+v, %v", all, err)
	}
	if _, err := s.GetCustomer(ctx, 9999); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("GetCustomer(missing) = %v", err)
	}
}

func testLicenseKeys(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustVendor(t, s, "acme")
	p1 := mustProduct(t, s, "acme", "One")
	p2 := mustProduct(t, s, "acme", "Two")
	cust, err := s.CreateCustomer(ctx, storage.Customer{Vendor: "acme", Name: "Carol", CreatedAt: base})
	if err != nil {
		t.Fatal(err)
	}
	full := storage.LicenseKey{ProductID: p1.ID, Key: "AAAAA-BBBBB-CCCCC-DDDDD", CreatedAt: base, Period: 30,
		ExpiresAt: base.Add(30 * 24 * time.Hour), Features: [8]bool{true, false, true, false, false, false, false, true},
		Notes: "first key", Blocked: true, CustomerID: cust.ID, TrialActivation: true, TrialStartedAt: base.Add(time.Hour),
		MaxNoOfMachines: 2, AllowedMachines: "m1\nm2", TrialMachine: "machine-x"}
	k1 := mustKey(t, s, full)
	if k1.ID != 1 || k1.GlobalID <= 0 {
		t.Fatalf("first key of a product: ID %d, GlobalID %d; want 1 and positive", k1.ID, k1.GlobalID)
	}
	full.ID, full.GlobalID = k1.ID, k1.GlobalID
	got, err := s.GetLicenseKey(ctx, p1.ID, full.Key)
	if err != nil || !reflect.DeepEqual(got, full) {
		t.Fatalf("GetLicenseKey = %+v, %v; want %+v", got, err, full)
	}
	k2 := mustKey(t, s, storage.LicenseKey{ProductID: p1.ID, Key: "EEEEE-FFFFF-GGGGG-HHHHH"})
	other := mustKey(t, s, storage.LicenseKey{ProductID: p2.ID, Key: full.Key}) // the same string in another product
	if k2.ID != 2 || other.ID != 1 || other.GlobalID == k1.GlobalID || k2.GlobalID == k1.GlobalID {
		t.Fatalf("ids: k2 %d/%d, other product %d/%d; want per-product 2 and 1 with distinct global ids", k2.ID, k2.GlobalID, other.ID, other.GlobalID)
	}
	if _, err := s.CreateLicenseKey(ctx, storage.LicenseKey{ProductID: p1.ID, Key: full.Key, CreatedAt: base}); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("CreateLicenseKey(duplicate string) = %v, want ErrConflict", err)
	}
	if _, err := s.CreateLicenseKey(ctx, storage.LicenseKey{ProductID: 9999, Key: "X", CreatedAt: base}); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("CreateLicenseKey(no product) = %v, want ErrNotFound", err)
	}
	if _, err := s.CreateLicenseKey(ctx, storage.LicenseKey{ProductID: p1.ID, Key: "Y", CustomerID: 9999, CreatedAt: base}); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("CreateLicenseKey(no customer) = %v, want ErrNotFound", err)
	}
	if _, err := s.GetLicenseKey(ctx, p2.ID, k2.Key); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("GetLicenseKey(key of another product) = %v, want ErrNotFound", err)
	}
	if k, err := s.FindTrialKey(ctx, p1.ID, "machine-x"); err != nil || k.GlobalID != k1.GlobalID {
		t.Fatalf("FindTrialKey = %+v, %v", k, err)
	}
	for _, mc := range []string{"machine-y", ""} {
		if _, err := s.FindTrialKey(ctx, p1.ID, mc); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("FindTrialKey(%q) = %v, want ErrNotFound", mc, err)
		}
	}
	list, err := s.ListLicenseKeys(ctx, p1.ID)
	if err != nil || len(list) != 2 || list[0].Key != full.Key || list[1].Key != k2.Key {
		t.Fatalf("ListLicenseKeys = %+v, %v", list, err)
	}
}

func testLicenseActivations(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustVendor(t, s, "acme")
	p := mustProduct(t, s, "acme", "One")
	k := mustKey(t, s, storage.LicenseKey{ProductID: p.ID, Key: "K1", MaxNoOfMachines: 5, TrialActivation: true, Period: 10})

	_, _, err := s.UpdateActivations(ctx, p.ID, "nope", func(storage.LicenseKey, []storage.Activation) (storage.ActivationChanges, error) {
		t.Error("decide called for a missing key")
		return storage.ActivationChanges{}, nil
	})
	if !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("UpdateActivations(missing key) = %v, want ErrNotFound", err)
	}

	node := storage.Activation{MachineCode: "m1", FriendlyName: "laptop", IP: "192.0.2.1", ActivatedAt: base}
	float := storage.Activation{MachineCode: "m1", Floating: true, Overdraft: true, IP: "192.0.2.2",
		ActivatedAt: base.Add(time.Minute), FloatingExpiresAt: base.Add(2 * time.Minute)}
	gotKey, acts, err := s.UpdateActivations(ctx, p.ID, "K1", func(cur storage.LicenseKey, acts []storage.Activation) (storage.ActivationChanges, error) {
		if cur.GlobalID != k.GlobalID || len(acts) != 0 {
			return storage.ActivationChanges{}, fmt.Errorf("decide saw key %+v and %d activations", cur, len(acts))
		}
		cur.TrialStartedAt, cur.ExpiresAt = base, base.Add(10*24*time.Hour)
		return storage.ActivationChanges{Key: &cur, Put: []storage.Activation{float, node}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	node.KeyGlobalID, float.KeyGlobalID = k.GlobalID, k.GlobalID
	if !gotKey.TrialStartedAt.Equal(base) || !gotKey.ExpiresAt.Equal(base.Add(10*24*time.Hour)) {
		t.Fatalf("key after update: %+v", gotKey)
	}
	// Same machine code, node-locked and floating: two activations, node-locked listed first.
	if !reflect.DeepEqual(acts, []storage.Activation{node, float}) {
		t.Fatalf("activations returned = %+v", acts)
	}
	if listed, err := s.ListActivations(ctx, k.GlobalID); err != nil || !reflect.DeepEqual(listed, acts) {
		t.Fatalf("ListActivations = %+v, %v", listed, err)
	}
	if stored, _ := s.GetLicenseKey(ctx, p.ID, "K1"); !stored.TrialStartedAt.Equal(base) {
		t.Fatalf("stored key not updated: %+v", stored)
	}

	// Put replaces by (machine, floating); Delete removes; an absent Delete is ignored.
	renewed := float
	renewed.FloatingExpiresAt = base.Add(time.Hour)
	_, acts, err = s.UpdateActivations(ctx, p.ID, "K1", func(storage.LicenseKey, []storage.Activation) (storage.ActivationChanges, error) {
		return storage.ActivationChanges{Put: []storage.Activation{renewed},
			Delete: []storage.Activation{{MachineCode: "m1"}, {MachineCode: "absent"}}}, nil
	})
	if err != nil || !reflect.DeepEqual(acts, []storage.Activation{renewed}) {
		t.Fatalf("after replace and delete: %+v, %v", acts, err)
	}

	// An error from decide writes nothing.
	boom := errors.New("limit")
	_, _, err = s.UpdateActivations(ctx, p.ID, "K1", func(cur storage.LicenseKey, _ []storage.Activation) (storage.ActivationChanges, error) {
		cur.Blocked = true
		return storage.ActivationChanges{Key: &cur, Put: []storage.Activation{{MachineCode: "m9", ActivatedAt: base}}}, boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("UpdateActivations(decide fails) = %v, want the decide error", err)
	}
	if listed, _ := s.ListActivations(ctx, k.GlobalID); len(listed) != 1 {
		t.Fatalf("an aborted decision wrote activations: %+v", listed)
	}
	if stored, _ := s.GetLicenseKey(ctx, p.ID, "K1"); stored.Blocked {
		t.Fatal("an aborted decision wrote the key")
	}
}

// testLicenseLastSeatRace: many machines race for the last free seat of a key; exactly one gets it.
func testLicenseLastSeatRace(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustVendor(t, s, "acme")
	p := mustProduct(t, s, "acme", "One")
	mustKey(t, s, storage.LicenseKey{ProductID: p.ID, Key: "K1", MaxNoOfMachines: 3})
	errLimit := errors.New("limit reached")
	activate := func(machine string) error {
		_, _, err := s.UpdateActivations(ctx, p.ID, "K1", func(k storage.LicenseKey, acts []storage.Activation) (storage.ActivationChanges, error) {
			if len(acts) >= k.MaxNoOfMachines {
				return storage.ActivationChanges{}, errLimit
			}
			// A slow decision widens the window in which an unserialized backend would let a second racer
			// decide on the same, stale, count.
			time.Sleep(20 * time.Millisecond)
			return storage.ActivationChanges{Put: []storage.Activation{{MachineCode: machine, ActivatedAt: base}}}, nil
		})
		return err
	}
	for _, m := range []string{"taken-1", "taken-2"} {
		if err := activate(m); err != nil {
			t.Fatal(err)
		}
	}
	const racers = 8
	warm(s, racers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	results := make(chan error, racers)
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results <- activate(fmt.Sprintf("racer-%d", i))
		}()
	}
	close(start)
	wg.Wait()
	close(results)
	won, lost := 0, 0
	for err := range results {
		switch {
		case err == nil:
			won++
		case errors.Is(err, errLimit):
			lost++
		default:
			t.Errorf("racer: %v", err)
		}
	}
	if won != 1 || lost != racers-1 {
		t.Fatalf("%d won and %d were refused; want exactly 1 winner", won, lost)
	}
	k, _ := s.GetLicenseKey(ctx, p.ID, "K1")
	if acts, _ := s.ListActivations(ctx, k.GlobalID); len(acts) != 3 {
		t.Fatalf("%d activations stored, want 3", len(acts))
	}
}

func testLicenseAPITokens(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustVendor(t, s, "acme")
	mustVendor(t, s, "other")
	if _, err := s.CreateAPIToken(ctx, storage.APIToken{Vendor: "ghost", SecretHash: []byte("h"), CreatedAt: base}); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("CreateAPIToken(vendor missing) = %v, want ErrNotFound", err)
	}
	parent := storage.APIToken{Vendor: "acme", Name: "app", SecretHash: []byte{1, 2, 3}, Permissions: []string{"Activate", "GetKey"},
		ProductLock: 7, KeyLock: -1, FeatureLock: 64, CreatedAt: base, ExpiresAt: base.Add(time.Hour)}
	got, err := s.CreateAPIToken(ctx, parent)
	if err != nil || got.ID <= 0 {
		t.Fatalf("CreateAPIToken = %+v, %v", got, err)
	}
	parent.ID = got.ID
	if stored, err := s.GetAPIToken(ctx, parent.ID); err != nil || !reflect.DeepEqual(stored, parent) {
		t.Fatalf("GetAPIToken = %+v, %v; want %+v", stored, err, parent)
	}
	child, err := s.CreateAPIToken(ctx, storage.APIToken{Vendor: "acme", SecretHash: []byte{4}, Permissions: []string{"Activate"},
		ProductLock: 7, KeyLock: 3, ParentID: parent.ID, CreatedAt: base})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateAPIToken(ctx, storage.APIToken{Vendor: "acme", SecretHash: []byte{5}, ParentID: 9999, CreatedAt: base}); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("CreateAPIToken(parent missing) = %v, want ErrNotFound", err)
	}
	unrelated, err := s.CreateAPIToken(ctx, storage.APIToken{Vendor: "other", SecretHash: []byte{6}, CreatedAt: base})
	if err != nil {
		t.Fatal(err)
	}
	if stored, _ := s.GetAPIToken(ctx, unrelated.ID); stored.Permissions != nil {
		t.Fatalf("no permissions stored as %#v, want nil", stored.Permissions)
	}
	if list, err := s.ListAPITokens(ctx, "acme"); err != nil || len(list) != 2 || list[0].ID != parent.ID || list[1].ID != child.ID {
		t.Fatalf("ListAPITokens(acme) = %+v, %v", list, err)
	}
	if all, err := s.ListAPITokens(ctx, ""); err != nil || len(all) != 3 {
		t.Fatalf("ListAPITokens(all) = %d, %v", len(all), err)
	}
	at := base.Add(time.Minute)
	if err := s.RevokeAPIToken(ctx, parent.ID, at); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeAPIToken(ctx, parent.ID, at.Add(time.Hour)); err != nil {
		t.Fatalf("second revoke: %v", err)
	}
	for id, want := range map[int64]bool{parent.ID: true, child.ID: true, unrelated.ID: false} {
		tok, err := s.GetAPIToken(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if tok.Revoked() != want || (want && !tok.RevokedAt.Equal(at)) {
			t.Errorf("token %d: revoked at %v, want revoked=%v at %v", id, tok.RevokedAt, want, at)
		}
	}
	if err := s.RevokeAPIToken(ctx, 9999, at); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("RevokeAPIToken(missing) = %v", err)
	}
}
