package conformance

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/tokenmanager/tokenmanager/storage"
)

// Data objects: named int32/string values on a vendor, product, key or machine.
var dataObjectTests = []struct {
	name string
	fn   func(t *testing.T, s storage.Store)
}{
	{"DataObjectCRUD", testDataObjectCRUD},
	{"DataObjectLimitAndDuplicates", testDataObjectLimitAndDuplicates},
	{"DataObjectIncrementRace", testDataObjectIncrementRace},
	{"DataObjectBoundRace", testDataObjectBoundRace},
	{"DataObjectAddLimitRace", testDataObjectAddLimitRace},
	{"DataObjectBatch", testDataObjectBatch},
}

func mustDataObject(t *testing.T, s storage.Store, o storage.DataObject) storage.DataObject {
	t.Helper()
	if o.CreatedAt.IsZero() {
		o.CreatedAt = base
	}
	got, err := s.AddDataObject(context.Background(), o, 0, false)
	if err != nil {
		t.Fatalf("AddDataObject(%q): %v", o.Name, err)
	}
	return got
}

func testDataObjectCRUD(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustVendor(t, s, "acme")
	mustVendor(t, s, "other")
	key := storage.DataOwner{Vendor: "acme", Type: storage.DataOnKey, ID: 7}
	machine := storage.DataOwner{Vendor: "acme", Type: storage.DataOnMachine, ID: 7, MachineCode: "m1"}
	a := mustDataObject(t, s, storage.DataObject{Owner: key, Name: "usage", StringValue: "héllo", IntValue: -5})
	b := mustDataObject(t, s, storage.DataObject{Owner: key, Name: "seats%", IntValue: math.MaxInt32})
	c := mustDataObject(t, s, storage.DataObject{Owner: machine, Name: "usage"})
	mustDataObject(t, s, storage.DataObject{Owner: storage.DataOwner{Vendor: "other", Type: storage.DataOnKey, ID: 7}, Name: "usage"})
	if a.ID == 0 || a.ID == b.ID || b.ID == c.ID {
		t.Fatalf("ids %d %d %d", a.ID, b.ID, c.ID)
	}
	got, err := s.GetDataObject(ctx, a.ID)
	if err != nil || got != a {
		t.Fatalf("GetDataObject = %+v, %v; want %+v", got, err, a)
	}
	if _, err := s.GetDataObject(ctx, 9999); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("GetDataObject(absent) = %v", err)
	}
	if got, err := s.FindDataObject(ctx, machine, "usage"); err != nil || got.ID != c.ID {
		t.Fatalf("FindDataObject(machine) = %+v, %v", got, err)
	}
	if _, err := s.FindDataObject(ctx, machine, "nope"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("FindDataObject(absent) = %v", err)
	}
	list, err := s.ListDataObjects(ctx, storage.DataObjectFilter{Vendor: "acme", Owner: &key})
	if err != nil || len(list) != 2 || list[0].ID != a.ID || list[1].ID != b.ID {
		t.Fatalf("ListDataObjects(key) = %+v, %v", list, err)
	}
	// Contains is a plain substring: % matches itself only.
	list, err = s.ListDataObjects(ctx, storage.DataObjectFilter{Vendor: "acme", Contains: "%"})
	if err != nil || len(list) != 1 || list[0].ID != b.ID {
		t.Fatalf("ListDataObjects(contains %%) = %+v, %v", list, err)
	}
	list, err = s.ListDataObjects(ctx, storage.DataObjectFilter{Vendor: "acme"})
	if err != nil || len(list) != 3 {
		t.Fatalf("ListDataObjects(vendor) = %d objects, %v", len(list), err)
	}
	if err := s.SetDataObjectInt(ctx, a.ID, 42); err != nil {
		t.Fatal(err)
	}
	if err := s.SetDataObjectString(ctx, a.ID, "new"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetDataObject(ctx, a.ID); got.IntValue != 42 || got.StringValue != "new" {
		t.Fatalf("after set: %+v", got)
	}
	if v, err := s.AddDataObjectInt(ctx, a.ID, 8, nil); err != nil || v != 50 {
		t.Fatalf("AddDataObjectInt = %d, %v", v, err)
	}
	// Leaving int32 is refused, with or without a bound, and changes nothing.
	if _, err := s.AddDataObjectInt(ctx, b.ID, 1, nil); !errors.Is(err, storage.ErrOutOfRange) {
		t.Fatalf("overflow: %v", err)
	}
	if got, _ := s.GetDataObject(ctx, b.ID); got.IntValue != math.MaxInt32 {
		t.Fatalf("after refused overflow: %d", got.IntValue)
	}
	bound := int64(45)
	if _, err := s.AddDataObjectInt(ctx, a.ID, -6, &bound); !errors.Is(err, storage.ErrOutOfRange) {
		t.Fatalf("decrement below bound: %v", err)
	}
	if v, err := s.AddDataObjectInt(ctx, a.ID, -5, &bound); err != nil || v != 45 {
		t.Fatalf("decrement to bound = %d, %v", v, err)
	}
	for _, f := range []func() error{
		func() error { return s.SetDataObjectInt(ctx, 9999, 1) },
		func() error { return s.SetDataObjectString(ctx, 9999, "x") },
		func() error { return second(s.AddDataObjectInt(ctx, 9999, 1, nil)) },
		func() error { return s.RemoveDataObject(ctx, 9999) },
	} {
		if err := f(); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("change of an absent object: %v", err)
		}
	}
	if err := s.RemoveDataObject(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetDataObject(ctx, a.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("after remove: %v", err)
	}
	if _, err := s.AddDataObject(ctx, storage.DataObject{Owner: storage.DataOwner{Vendor: "nobody"}, CreatedAt: base}, 0, false); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("AddDataObject(unknown vendor) = %v", err)
	}
}

func testDataObjectLimitAndDuplicates(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustVendor(t, s, "acme")
	p := storage.DataOwner{Vendor: "acme", Type: storage.DataOnProduct, ID: 1}
	for _, n := range []string{"a", "b"} {
		if _, err := s.AddDataObject(ctx, storage.DataObject{Owner: p, Name: n, CreatedAt: base}, 2, true); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.AddDataObject(ctx, storage.DataObject{Owner: p, Name: "c", CreatedAt: base}, 2, false); !errors.Is(err, storage.ErrDataObjectLimit) {
		t.Fatalf("third object: %v", err)
	}
	if _, err := s.AddDataObject(ctx, storage.DataObject{Owner: p, Name: "a", CreatedAt: base}, 3, true); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("duplicate name: %v", err)
	}
	// Without the check a name may repeat; another owner has its own count.
	if _, err := s.AddDataObject(ctx, storage.DataObject{Owner: p, Name: "a", CreatedAt: base}, 3, false); err != nil {
		t.Fatal(err)
	}
	other := p
	other.ID = 2
	if _, err := s.AddDataObject(ctx, storage.DataObject{Owner: other, Name: "a", CreatedAt: base}, 1, true); err != nil {
		t.Fatal(err)
	}
}

const dataRacers, dataSteps = 16, 50

// Racing increments without a bound: every one counts.
func testDataObjectIncrementRace(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustVendor(t, s, "acme")
	o := mustDataObject(t, s, storage.DataObject{Owner: storage.DataOwner{Vendor: "acme", Type: storage.DataOnKey, ID: 1}, Name: "n"})
	errs := race(s, dataRacers, func(int) error {
		for range dataSteps {
			if _, err := s.AddDataObjectInt(ctx, o.ID, 1, nil); err != nil {
				return err
			}
		}
		return nil
	})
	noErrors(t, "increment", errs)
	if got, _ := s.GetDataObject(ctx, o.ID); got.IntValue != dataRacers*dataSteps {
		t.Fatalf("value %d after %d increments", got.IntValue, dataRacers*dataSteps)
	}
}

// Racing increments and decrements with bounds: exactly as many succeed as the bound leaves room for, the
// value never passes it, and each success saw a distinct value.
func testDataObjectBoundRace(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustVendor(t, s, "acme")
	o := mustDataObject(t, s, storage.DataObject{Owner: storage.DataOwner{Vendor: "acme", Type: storage.DataOnKey, ID: 1}, Name: "n"})
	const up = 300 // fewer than racers × steps
	bound := int64(up)
	seen := make([][]int64, dataRacers)
	errs := race(s, dataRacers, func(i int) error {
		for range dataSteps {
			v, err := s.AddDataObjectInt(ctx, o.ID, 1, &bound)
			if errors.Is(err, storage.ErrOutOfRange) {
				continue
			}
			if err != nil {
				return err
			}
			seen[i] = append(seen[i], v)
		}
		return nil
	})
	noErrors(t, "bounded increment", errs)
	distinct := map[int64]bool{}
	for _, vs := range seen {
		for _, v := range vs {
			if v < 1 || v > up || distinct[v] {
				t.Fatalf("increment answered %d (bound %d, seen before: %v)", v, up, distinct[v])
			}
			distinct[v] = true
		}
	}
	if got, _ := s.GetDataObject(ctx, o.ID); got.IntValue != up || len(distinct) != up {
		t.Fatalf("value %d, %d successes; want %d", got.IntValue, len(distinct), up)
	}
	// Down by 2 to a lower bound of 1: 149 decrements fit (300 → 2), none more.
	lower := int64(1)
	var ok [dataRacers]int
	errs = race(s, dataRacers, func(i int) error {
		for range dataSteps {
			_, err := s.AddDataObjectInt(ctx, o.ID, -2, &lower)
			if errors.Is(err, storage.ErrOutOfRange) {
				continue
			}
			if err != nil {
				return err
			}
			ok[i]++
		}
		return nil
	})
	noErrors(t, "bounded decrement", errs)
	total := 0
	for _, n := range ok {
		total += n
	}
	if got, _ := s.GetDataObject(ctx, o.ID); got.IntValue != 2 || total != 149 {
		t.Fatalf("value %d after %d decrements; want 2 after 149", got.IntValue, total)
	}
}

// Racing adds on one owner never pass the limit nor repeat a checked name.
func testDataObjectAddLimitRace(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustVendor(t, s, "acme")
	owner := storage.DataOwner{Vendor: "acme", Type: storage.DataOnMachine, ID: 3, MachineCode: "m"}
	const limit = 5
	errs := race(s, dataRacers, func(i int) error {
		_, err := s.AddDataObject(ctx, storage.DataObject{Owner: owner, Name: string(rune('a' + i)), CreatedAt: base}, limit, true)
		if errors.Is(err, storage.ErrDataObjectLimit) {
			return nil
		}
		return err
	})
	noErrors(t, "add", errs)
	list, err := s.ListDataObjects(ctx, storage.DataObjectFilter{Vendor: "acme", Owner: &owner})
	if err != nil || len(list) != limit {
		t.Fatalf("%d objects after racing adds (limit %d), %v", len(list), limit, err)
	}
	errs = race(s, dataRacers, func(int) error {
		_, err := s.AddDataObject(ctx, storage.DataObject{Owner: storage.DataOwner{Vendor: "acme"}, Name: "same", CreatedAt: base}, 0, true)
		if errors.Is(err, storage.ErrConflict) {
			return nil
		}
		return err
	})
	noErrors(t, "unique add", errs)
	list, err = s.ListDataObjects(ctx, storage.DataObjectFilter{Vendor: "acme", Contains: "same"})
	if err != nil || len(list) != 1 {
		t.Fatalf("%d objects named alike after racing checked adds, %v", len(list), err)
	}
}

// A batch applies all of its changes or none.
func testDataObjectBatch(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustVendor(t, s, "acme")
	owner := storage.DataOwner{Vendor: "acme", Type: storage.DataOnKey, ID: 1}
	a := mustDataObject(t, s, storage.DataObject{Owner: owner, Name: "a", IntValue: 10})
	b := mustDataObject(t, s, storage.DataObject{Owner: owner, Name: "b", IntValue: math.MinInt32 + 1})
	if err := s.AddDataObjectInts(ctx, []storage.DataDelta{{ID: a.ID, Delta: 5}, {ID: b.ID, Delta: -1}}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]storage.DataDelta{{{ID: a.ID, Delta: 5}, {ID: b.ID, Delta: -1}}, {{ID: a.ID, Delta: 5}, {ID: 9999, Delta: 1}}} {
		if err := s.AddDataObjectInts(ctx, bad); err == nil {
			t.Fatalf("batch %v accepted", bad)
		}
	}
	ga, _ := s.GetDataObject(ctx, a.ID)
	gb, _ := s.GetDataObject(ctx, b.ID)
	if ga.IntValue != 15 || gb.IntValue != math.MinInt32 {
		t.Fatalf("after refused batches: a=%d b=%d", ga.IntValue, gb.IntValue)
	}
}
