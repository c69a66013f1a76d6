package conformance

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

// testLicenseKeyChanges: every change of a license key, of its activations, or of a data object on it or on one
// of its machines reaches the change feed under the key's global id, and every read right after the change sees
// it, although the key, its activations and its data objects were all read (and so may be cached) before each.
func testLicenseKeyChanges(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustVendor(t, s, "acme")
	p := mustProduct(t, s, "acme", "editor")
	c := mustCustomer(t, s, storage.Customer{Vendor: "acme", Name: "Carol", CreatedAt: base})
	k := mustKey(t, s, storage.LicenseKey{ProductID: p.ID, Key: "KEYCH-AAAAA-BBBBB-CCCCC", CreatedAt: base, Period: 30,
		MaxNoOfMachines: 5, CustomerID: c.ID})
	keyData := storage.DataObjectFilter{Vendor: "acme", Owner: &storage.DataOwner{Vendor: "acme", Type: storage.DataOnKey, ID: k.GlobalID}, Limit: 100}

	// readAll reads what a GetKey reads, as a request would, so that a cache in front holds it; check then looks
	// at what the reads return.
	type view struct {
		key  storage.LicenseKey
		acts []storage.Activation
		objs []storage.DataObject
	}
	readAll := func() view {
		t.Helper()
		var v view
		var err error
		if v.key, err = s.GetLicenseKey(ctx, p.ID, k.Key); err != nil {
			t.Fatal(err)
		}
		if byID, err := s.GetLicenseKeyByGlobalID(ctx, k.GlobalID); err != nil || byID != v.key {
			t.Fatalf("GetLicenseKeyByGlobalID = %+v, %v; GetLicenseKey = %+v", byID, err, v.key)
		}
		if v.acts, err = s.ListActivations(ctx, k.GlobalID); err != nil {
			t.Fatal(err)
		}
		if v.objs, err = s.ListDataObjects(ctx, keyData); err != nil {
			t.Fatal(err)
		}
		return v
	}
	readAll()
	_, after, err := s.ReadChanges(ctx, -1, 10)
	if err != nil {
		t.Fatal(err)
	}

	update := func(ch storage.ActivationChanges) {
		t.Helper()
		if _, _, err := s.UpdateActivations(ctx, p.ID, k.Key, func(storage.LicenseKey, []storage.Activation) (storage.ActivationChanges, error) {
			return ch, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	m1 := storage.Activation{MachineCode: "machine-1", FriendlyName: "laptop", ActivatedAt: base}
	update(storage.ActivationChanges{Put: []storage.Activation{m1}})
	if v := readAll(); len(v.acts) != 1 || v.acts[0].MachineCode != "machine-1" {
		t.Fatalf("activations right after one was added: %+v", v.acts)
	}
	m1.FriendlyName = "desktop"
	update(storage.ActivationChanges{Put: []storage.Activation{m1}})
	if v := readAll(); len(v.acts) != 1 || v.acts[0].FriendlyName != "desktop" {
		t.Fatalf("activations right after one was changed: %+v", v.acts)
	}
	blocked := k
	blocked.Blocked = true
	update(storage.ActivationChanges{Key: &blocked})
	if v := readAll(); !v.key.Blocked {
		t.Fatalf("the key right after it was blocked: %+v", v.key)
	}

	o := mustDataObject(t, s, storage.DataObject{Owner: *keyData.Owner, Name: "usage", IntValue: 1, CreatedAt: base})
	if v := readAll(); len(v.objs) != 1 || v.objs[0].IntValue != 1 {
		t.Fatalf("data objects right after one was added: %+v", v.objs)
	}
	steps := []struct {
		what   string
		change func() error
		want   func([]storage.DataObject) bool
	}{
		{"set to 7", func() error { return s.SetDataObjectInt(ctx, o.ID, 7) },
			func(d []storage.DataObject) bool { return len(d) == 1 && d[0].IntValue == 7 }},
		{"given a string", func() error { return s.SetDataObjectString(ctx, o.ID, "seven") },
			func(d []storage.DataObject) bool { return len(d) == 1 && d[0].StringValue == "seven" }},
		{"increased by 2", func() error { _, err := s.AddDataObjectInt(ctx, o.ID, 2, nil); return err },
			func(d []storage.DataObject) bool { return len(d) == 1 && d[0].IntValue == 9 }},
		{"increased in a batch", func() error { return s.AddDataObjectInts(ctx, []storage.DataDelta{{ID: o.ID, Delta: 1}}) },
			func(d []storage.DataObject) bool { return len(d) == 1 && d[0].IntValue == 10 }},
		{"removed", func() error { return s.RemoveDataObject(ctx, o.ID) },
			func(d []storage.DataObject) bool { return len(d) == 0 }},
	}
	for _, step := range steps {
		if err := step.change(); err != nil {
			t.Fatalf("data object %s: %v", step.what, err)
		}
		if v := readAll(); !step.want(v.objs) {
			t.Fatalf("data objects right after one was %s: %+v", step.what, v.objs)
		}
	}
	mustDataObject(t, s, storage.DataObject{Owner: storage.DataOwner{Vendor: "acme", Type: storage.DataOnMachine, ID: k.GlobalID,
		MachineCode: "machine-1"}, Name: "seat", CreatedAt: base})

	if _, err := s.DeleteCustomer(ctx, c.ID, true); err != nil {
		t.Fatal(err)
	}
	if v := readAll(); v.key.CustomerID != 0 {
		t.Fatalf("the key right after its customer was removed: customer %d", v.key.CustomerID)
	}
	update(storage.ActivationChanges{Delete: []storage.Activation{m1}})
	if v := readAll(); len(v.acts) != 0 {
		t.Fatalf("activations right after the machine was removed: %+v", v.acts)
	}

	changes, _, err := s.ReadChanges(ctx, after, 1000)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ch := range changes {
		if ch.Kind == storage.ChangedLicenseKey {
			if ch.Key != strconv.FormatInt(k.GlobalID, 10) {
				t.Errorf("a license key change names %q, want the key's global id %d", ch.Key, k.GlobalID)
			}
			n++
		}
	}
	// Two activation writes, one key change, one machine removal, five data object writes and two adds, the
	// customer's removal: each wrote at least one change.
	if n < 12 {
		t.Errorf("%d license key changes on the feed, want at least 12: %+v", n, changes)
	}

	// Removed, and made again under the same string: the reads find the new key, not a copy of the old one.
	if _, err := s.DeleteLicenseKey(ctx, p.ID, k.Key, true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetLicenseKey(ctx, p.ID, k.Key); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("the key right after its removal: %v, want ErrNotFound", err)
	}
	if _, err := s.GetLicenseKeyByGlobalID(ctx, k.GlobalID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("the key by global id right after its removal: %v, want ErrNotFound", err)
	}
	again := mustKey(t, s, storage.LicenseKey{ProductID: p.ID, Key: k.Key, CreatedAt: base.Add(time.Hour), Period: 60})
	if got, err := s.GetLicenseKey(ctx, p.ID, k.Key); err != nil || got.GlobalID != again.GlobalID || got.Period != 60 {
		t.Fatalf("the key made again under the same string = %+v, %v; want global id %d", got, err, again.GlobalID)
	}
}
