package license_test

import (
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/keys"
	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/license/licensetest"
)

// TestActivatedCountsNewSeats: the usage history hears of a machine taking a seat, not of a re-activation or a
// floating seat's renewal, nor of a refusal; a key that records no machines counts each activation.
func TestActivatedCountsNewSeats(t *testing.T) {
	f := licensetest.New(t)
	counted := map[int64]int{}
	svc := license.New(f.Store, keys.NewSealerFor(licensetest.Master, keys.PurposeLicenseSigningKeys), license.Options{
		Now: f.Clock.Now, Activated: func(id int64) { counted[id]++ }})
	p := f.Product(t, "acme")
	seats := f.Key(t, p.ID, license.KeySpec{MaxNoOfMachines: 2})
	open := f.Key(t, p.ID, license.KeySpec{})
	activate := func(key, machine string, floating time.Duration) error {
		_, err := svc.Activate(t.Context(), f.Admin, license.ActivateRequest{ProductID: p.ID, Key: key, MachineCode: machine,
			FloatingInterval: floating})
		return err
	}
	for _, step := range []struct {
		key, machine string
		floating     time.Duration
		later        time.Duration // the clock moves on this much first
		ok           bool
		want         int
	}{
		{seats.Key, "m1", 0, 0, true, 1},
		{seats.Key, "m1", 0, 0, true, 1}, // again: the same seat
		{seats.Key, "m2", 0, 0, true, 2},
		{seats.Key, "m3", 0, 0, false, 2},                         // over the limit
		{seats.Key, "f1", time.Minute, 0, true, 3},                // a floating seat
		{seats.Key, "f1", time.Minute, 30 * time.Second, true, 3}, // its renewal
		{seats.Key, "f1", time.Minute, 2 * time.Minute, true, 4},  // run out, then taken again
		{open.Key, "any", 0, 0, true, 5},                          // no machines recorded: each activation counts
		{open.Key, "any", 0, 0, true, 6},
	} {
		f.Clock.Add(step.later)
		err := activate(step.key, step.machine, step.floating)
		if (err == nil) != step.ok || counted[p.ID] != step.want {
			t.Fatalf("activate %s: %v; counted %d, want %d", step.machine, err, counted[p.ID], step.want)
		}
	}
}
