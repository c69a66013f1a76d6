package main

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"strconv"
	"time"

	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/storage"
)

// P4 for the licensing scenarios: license activations and data objects written into the store after the tokens
// and sessions, through the storage interface and shaped as the license service makes them, on keys of the
// product the licensing scenarios use (so the product's and the vendor's tables are the ones that grew).

const (
	defaultFillActivations = 100_000
	defaultFillDataObjects = 100_000
	// fillMachinesPerKey is how many machines each filled key has: a node-locked license of a small office.
	fillMachinesPerKey = 10
)

// fillLicensingPlan is how the filled rows spread over keys.
type fillLicensingPlan struct {
	keys        int
	actsPerKey  []int // machines activated on key i
	dataPerKey  []int // data objects attached to key i or its machines
	activations int
	dataObjects int
}

// planLicensingFill spreads nActs activations fillMachinesPerKey to a key and nData data objects evenly over the
// same keys (enough keys are made that no key or machine passes the service's limit of data objects).
func planLicensingFill(nActs, nData int) fillLicensingPlan {
	keys := (nActs + fillMachinesPerKey - 1) / fillMachinesPerKey
	// A key and its machines hold at most MaxDataObjects each; half of a key's objects go on the key itself.
	if need := (nData + license.MaxDataObjects - 1) / license.MaxDataObjects; need > keys {
		keys = need
	}
	p := fillLicensingPlan{keys: keys, activations: nActs, dataObjects: nData}
	p.actsPerKey, p.dataPerKey = make([]int, keys), make([]int, keys)
	for i := range keys {
		p.actsPerKey[i] = nActs/keys + b2i(i < nActs%keys)
		p.dataPerKey[i] = nData/keys + b2i(i < nData%keys)
	}
	return p
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// fillLicensing makes the plan's keys (CreateLicenseKey), activates their machines (UpdateActivations, one
// call per key), and adds their data objects (AddDataObject with the service's
// limit and name check), every other one on one of the key's machines. Names are the ones apps use: a usage
// counter, the features beyond F1…F8, and numbered counters.
func fillLicensing(ctx context.Context, store storage.Store, vendor string, productID int64, plan fillLicensingPlan, logf func(string, ...any)) error {
	if plan.keys == 0 {
		return nil
	}
	now := time.Now()
	keys := make([]storage.LicenseKey, plan.keys)
	if err := inParallel(ctx, fillWriters, plan.keys, func(ctx context.Context, i int) error {
		created := now.Add(-time.Duration(mrand.Int64N(int64(300 * 24 * time.Hour))))
		k, err := store.CreateLicenseKey(ctx, storage.LicenseKey{ProductID: productID, Key: license.NewKeyString(), CreatedAt: created,
			Period: 365, ExpiresAt: created.AddDate(0, 0, 365), MaxNoOfMachines: fillMachinesPerKey})
		keys[i] = k
		return err
	}); err != nil {
		return fmt.Errorf("license keys: %w", err)
	}
	machines := func(i int) []string { return machineCodes("fill"+strconv.Itoa(i)+"-", fillMachinesPerKey) }

	t0 := time.Now()
	report := func(what string, total int) {
		logf("P4: %d %s in %.1fs", total, what, time.Since(t0).Seconds())
		t0 = time.Now()
	}
	// One call per key with all its machines (the rows are those Activate writes, one machine each; one
	// transaction per key keeps the fill short: one per machine took 2,000 rows/s here).
	if err := inParallel(ctx, fillWriters, plan.keys, func(ctx context.Context, i int) error {
		rng := mrand.New(mrand.NewPCG(uint64(i), 3))
		codes := machines(i)
		var ch storage.ActivationChanges
		for m := range plan.actsPerKey[i] {
			ch.Put = append(ch.Put, storage.Activation{MachineCode: codes[m], IP: randomHost(rng),
				ActivatedAt: keys[i].CreatedAt.Add(time.Duration(rng.Int64N(int64(24 * time.Hour))))})
		}
		if len(ch.Put) == 0 {
			return nil
		}
		_, _, err := store.UpdateActivations(ctx, productID, keys[i].Key, func(storage.LicenseKey, []storage.Activation) (storage.ActivationChanges, error) {
			return ch, nil
		})
		return err
	}); err != nil {
		return fmt.Errorf("activations: %w", err)
	}
	report("license activations", plan.activations)

	type dslot struct{ key, n int }
	dslots := make([]dslot, 0, plan.dataObjects)
	for i, n := range plan.dataPerKey {
		for x := range n {
			dslots = append(dslots, dslot{i, x})
		}
	}
	if err := inParallel(ctx, fillWriters, len(dslots), func(ctx context.Context, j int) error {
		d := dslots[j]
		k := keys[d.key]
		o := storage.DataObject{Owner: storage.DataOwner{Vendor: vendor, Type: storage.DataOnKey, ID: k.GlobalID},
			Name: fillDataName(d.n), IntValue: int64(j % 1000), CreatedAt: k.CreatedAt}
		if acts := plan.actsPerKey[d.key]; acts > 0 { // every other one on one of the key's activated machines
			o.Name = fillDataName(d.n / 2)
			if d.n%2 == 1 {
				o.Owner.Type = storage.DataOnMachine
				o.Owner.MachineCode = machines(d.key)[(d.n/2)%acts]
				o.Name = fillDataName(d.n / 2 / acts)
			}
		}
		_, err := store.AddDataObject(ctx, o, license.MaxDataObjects, true)
		return err
	}); err != nil {
		return fmt.Errorf("data objects: %w", err)
	}
	report("data objects", len(dslots))
	return nil
}

// fillDataName is the i-th name of a key's (or machine's) data objects.
func fillDataName(i int) string {
	switch i {
	case 0:
		return "usage"
	case 1:
		return "cryptolens_features"
	}
	return "counter" + strconv.Itoa(i)
}
