package cached

import (
	"context"
	"fmt"
	"testing"

	"github.com/tokenmanager/tokenmanager/storage"
)

// keyFixture adds a license key with a machine and a data object on it to the licensing fixture.
type keyFixture struct {
	*licFixture
	key    storage.LicenseKey
	object int64
}

func newKeyFixture(t *testing.T) *keyFixture {
	t.Helper()
	f := &keyFixture{licFixture: newLicFixture(t)}
	ctx := context.Background()
	k, err := f.other.CreateLicenseKey(ctx, storage.LicenseKey{ProductID: f.product, Key: "AAAAA-BBBBB-CCCCC-DDDDD", CreatedAt: t0, MaxNoOfMachines: 3})
	if err != nil {
		t.Fatal(err)
	}
	f.key = k
	f.activate(t, f.other, "machine-1")
	o, err := f.other.AddDataObject(ctx, storage.DataObject{Owner: f.keyOwner(), Name: "usage", IntValue: 1, CreatedAt: t0}, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	f.object = o.ID
	return f
}

func (f *keyFixture) keyOwner() storage.DataOwner {
	return storage.DataOwner{Vendor: "alice", Type: storage.DataOnKey, ID: f.key.GlobalID}
}

func (f *keyFixture) activate(t *testing.T, s storage.Store, machine string) {
	t.Helper()
	_, _, err := s.UpdateActivations(context.Background(), f.product, f.key.Key, func(storage.LicenseKey, []storage.Activation) (storage.ActivationChanges, error) {
		return storage.ActivationChanges{Put: []storage.Activation{{MachineCode: machine, ActivatedAt: t0}}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// keyState reads what a GetKey reads, through the cache.
func (f *keyFixture) keyState(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	k, err1 := f.c.GetLicenseKey(ctx, f.product, f.key.Key)
	byID, err2 := f.c.GetLicenseKeyByGlobalID(ctx, f.key.GlobalID)
	acts, err3 := f.c.ListActivations(ctx, f.key.GlobalID)
	owner := f.keyOwner()
	objs, err4 := f.c.ListDataObjects(ctx, storage.DataObjectFilter{Vendor: "alice", Owner: &owner, Limit: 100})
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil || len(objs) != 1 {
		t.Fatal(err1, err2, err3, err4, objs)
	}
	return fmt.Sprintf("blocked=%v/%v machines=%d usage=%d", k.Blocked, byID.Blocked, len(acts), objs[0].IntValue)
}

func (f *keyFixture) changeKey(t *testing.T, s storage.Store) {
	t.Helper()
	ctx := context.Background()
	blocked := f.key
	blocked.Blocked = true
	if _, _, err := s.UpdateActivations(ctx, f.product, f.key.Key, func(storage.LicenseKey, []storage.Activation) (storage.ActivationChanges, error) {
		return storage.ActivationChanges{Key: &blocked}, nil
	}); err != nil {
		t.Fatal(err)
	}
	f.activate(t, s, "machine-2")
	if _, err := s.AddDataObjectInt(ctx, f.object, 4, nil); err != nil {
		t.Fatal(err)
	}
}

const (
	keyBefore = "blocked=false/false machines=1 usage=1"
	keyAfter  = "blocked=true/true machines=2 usage=5"
)

func TestOwnLicenseKeyChangesAreSeenAtOnce(t *testing.T) {
	f := newKeyFixture(t)
	if got := f.keyState(t); got != keyBefore {
		t.Fatal(got)
	}
	f.changeKey(t, f.c)
	if got := f.keyState(t); got != keyAfter {
		t.Fatalf("after changing through this store: %s", got)
	}
}

func TestOtherNodesLicenseKeyChangesAreSeenAtTheNextSync(t *testing.T) {
	f := newKeyFixture(t)
	if got := f.keyState(t); got != keyBefore {
		t.Fatal(got)
	}
	f.changeKey(t, f.other)
	if got := f.keyState(t); got != keyBefore {
		t.Fatalf("before Sync: %s (the cache was not used)", got)
	}
	if err := f.c.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := f.keyState(t); got != keyAfter {
		t.Fatalf("after Sync: %s", got)
	}
}

// A caller changing the lists it got must not change the cached copies.
func TestLicenseKeyListsAreTheCallers(t *testing.T) {
	f := newKeyFixture(t)
	ctx := context.Background()
	owner := f.keyOwner()
	filter := storage.DataObjectFilter{Vendor: "alice", Owner: &owner, Limit: 100}
	for range 2 { // the first read fills the cache, the second answers from it
		acts, _ := f.c.ListActivations(ctx, f.key.GlobalID)
		acts[0].MachineCode = "changed"
		objs, _ := f.c.ListDataObjects(ctx, filter)
		objs[0].Name = "changed"
	}
	acts, _ := f.c.ListActivations(ctx, f.key.GlobalID)
	objs, _ := f.c.ListDataObjects(ctx, filter)
	if acts[0].MachineCode != "machine-1" || objs[0].Name != "usage" {
		t.Fatalf("a caller's change reached the cache: %+v %+v", acts, objs)
	}
}

// A listing with another filter than a key's own objects is not answered from a key's entry.
func TestOnlyAKeysOwnDataObjectsAreCached(t *testing.T) {
	f := newKeyFixture(t)
	ctx := context.Background()
	owner := f.keyOwner()
	if objs, err := f.c.ListDataObjects(ctx, storage.DataObjectFilter{Vendor: "alice", Owner: &owner, Limit: 100}); err != nil || len(objs) != 1 {
		t.Fatal(objs, err)
	}
	if objs, err := f.c.ListDataObjects(ctx, storage.DataObjectFilter{Vendor: "bob", Owner: &owner, Limit: 100}); err != nil || len(objs) != 0 {
		t.Fatalf("another vendor's listing of the key's objects: %+v, %v", objs, err)
	}
	if objs, err := f.c.ListDataObjects(ctx, storage.DataObjectFilter{Vendor: "alice", Owner: &owner, Contains: "nothing"}); err != nil || len(objs) != 0 {
		t.Fatalf("a listing by name: %+v, %v", objs, err)
	}
}
