package conformance

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

// appFixture is a vendor with a parent token (GetToken) and a user who authorizes apps.
type appFixture struct {
	parent storage.APIToken
}

func newAppFixture(t *testing.T, s storage.Store) appFixture {
	t.Helper()
	mustVendor(t, s, "acme")
	mustUser(t, s, "carol")
	parent, err := s.CreateAPIToken(context.Background(), storage.APIToken{Vendor: "acme", Name: "parent", SecretHash: []byte{1},
		Permissions: []string{"GetToken", "GetLicenseKeys"}, KeyLock: 30, CreatedAt: base})
	if err != nil {
		t.Fatal(err)
	}
	return appFixture{parent: parent}
}

func requestHash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func (f appFixture) request(name string, state storage.AppAuthState) storage.AppAuthorization {
	return storage.AppAuthorization{RequestHash: requestHash(name), ParentTokenID: f.parent.ID, Vendor: "acme", User: "carol",
		State: state, AppName: "App " + name, DeviceName: "laptop", MachineCode: "mc-" + name, PublicKey: []byte("der-" + name),
		Permissions: []string{"GetLicenseKeys"}, ProductLock: 0, KeyLock: 0, FeatureLock: 8, Lifetime: 30 * 24 * time.Hour,
		DecidedAt: base}
}

func mustAppAuth(t *testing.T, s storage.Store, a storage.AppAuthorization, devices ...storage.AppDevice) storage.AppAuthorization {
	t.Helper()
	got, err := s.CreateAppAuthorization(context.Background(), a, devices)
	if err != nil {
		t.Fatalf("CreateAppAuthorization(%s): %v", a.AppName, err)
	}
	return got
}

func (f appFixture) child(secret byte) storage.APIToken {
	return storage.APIToken{Vendor: "acme", Name: "child", SecretHash: []byte{secret}, Permissions: []string{"GetLicenseKeys"},
		ParentID: f.parent.ID, CreatedAt: base, ExpiresAt: base.Add(30 * 24 * time.Hour)}
}

func testAppAuthorizationLifecycle(t *testing.T, s storage.Store) {
	ctx := context.Background()
	f := newAppFixture(t, s)
	want := f.request("one", storage.AppApproved)
	a := mustAppAuth(t, s, want)
	if a.ID <= 0 {
		t.Fatalf("id %d", a.ID)
	}
	want.ID = a.ID
	for name, get := range map[string]func() (storage.AppAuthorization, error){
		"Get":  func() (storage.AppAuthorization, error) { return s.GetAppAuthorization(ctx, a.ID) },
		"Find": func() (storage.AppAuthorization, error) { return s.FindAppAuthorization(ctx, requestHash("one")) },
	} {
		if got, err := get(); err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("%s = %+v, %v; want %+v", name, got, err, want)
		}
	}
	if _, err := s.CreateAppAuthorization(ctx, f.request("one", storage.AppDenied), nil); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("second request with the same hash: %v, want ErrConflict", err)
	}
	orphan := f.request("orphan", storage.AppApproved)
	orphan.ParentTokenID = 9999
	if _, err := s.CreateAppAuthorization(ctx, orphan, nil); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("unknown parent token: %v, want ErrNotFound", err)
	}
	stranger := f.request("stranger", storage.AppApproved)
	stranger.User = "nobody"
	if _, err := s.CreateAppAuthorization(ctx, stranger, nil); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("unknown user: %v, want ErrNotFound", err)
	}
	for _, err := range []error{
		func() error { _, err := s.GetAppAuthorization(ctx, 9999); return err }(),
		func() error { _, err := s.FindAppAuthorization(ctx, requestHash("none")); return err }(),
		func() error { _, err := s.FindAppAuthorizationByToken(ctx, f.parent.ID); return err }(),
		s.SetAppChallenge(ctx, 9999, []byte("c"), base.Add(time.Minute)),
		s.RevokeAppAuthorization(ctx, 9999, base),
	} {
		if !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("on a missing authorization: %v, want ErrNotFound", err)
		}
	}

	// Challenges: the latest replaces the previous, expires, and is taken once.
	if _, err := s.TakeAppChallenge(ctx, a.ID, base); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("take without a challenge: %v", err)
	}
	if err := s.SetAppChallenge(ctx, a.ID, []byte("first"), base.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.SetAppChallenge(ctx, a.ID, []byte("second"), base.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if c, err := s.TakeAppChallenge(ctx, a.ID, base.Add(time.Minute)); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("take at expiry = %q, %v; want ErrNotFound", c, err)
	}
	if err := s.SetAppChallenge(ctx, a.ID, []byte("third"), base.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if c, err := s.TakeAppChallenge(ctx, a.ID, base.Add(59*time.Second)); err != nil || !bytes.Equal(c, []byte("third")) {
		t.Fatalf("take = %q, %v; want third", c, err)
	}
	if _, err := s.TakeAppChallenge(ctx, a.ID, base); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("second take: %v, want ErrNotFound", err)
	}

	// Issue once.
	issuedAt := base.Add(2 * time.Minute)
	child, err := s.IssueAppToken(ctx, a.ID, f.child(7), issuedAt)
	if err != nil || child.ID <= 0 {
		t.Fatalf("IssueAppToken = %+v, %v", child, err)
	}
	if stored, err := s.GetAPIToken(ctx, child.ID); err != nil || stored.ParentID != f.parent.ID || !bytes.Equal(stored.SecretHash, []byte{7}) {
		t.Fatalf("child token stored as %+v, %v", stored, err)
	}
	if _, err := s.IssueAppToken(ctx, a.ID, f.child(8), issuedAt); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("second issue: %v, want ErrConflict", err)
	}
	if list, _ := s.ListAPITokens(ctx, "acme"); len(list) != 2 {
		t.Fatalf("%d API tokens after a refused second issue, want 2 (parent and one child)", len(list))
	}
	got, err := s.FindAppAuthorizationByToken(ctx, child.ID)
	if err != nil || got.ID != a.ID || got.ChildTokenID != child.ID || !got.IssuedAt.Equal(issuedAt) ||
		!got.TokenExpiresAt.Equal(child.ExpiresAt) || !got.TokenRevokedAt.IsZero() {
		t.Fatalf("FindAppAuthorizationByToken = %+v, %v", got, err)
	}

	denied := mustAppAuth(t, s, f.request("denied", storage.AppDenied))
	if _, err := s.IssueAppToken(ctx, denied.ID, f.child(9), issuedAt); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("issue for a denied request: %v, want ErrConflict", err)
	}
	if _, err := s.IssueAppToken(ctx, 9999, f.child(9), issuedAt); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("issue for a missing request: %v, want ErrNotFound", err)
	}

	// Revocation takes the child token (and its own children) with it.
	grandchild, err := s.CreateAPIToken(ctx, storage.APIToken{Vendor: "acme", SecretHash: []byte{10}, ParentID: child.ID, CreatedAt: base})
	if err != nil {
		t.Fatal(err)
	}
	at := base.Add(time.Hour)
	if err := s.RevokeAppAuthorization(ctx, a.ID, at); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeAppAuthorization(ctx, a.ID, at.Add(time.Hour)); err != nil {
		t.Fatalf("second revoke: %v", err)
	}
	got, _ = s.GetAppAuthorization(ctx, a.ID)
	if !got.RevokedAt.Equal(at) || !got.TokenRevokedAt.Equal(at) {
		t.Fatalf("after revoke: revoked %v, token revoked %v; want both %v", got.RevokedAt, got.TokenRevokedAt, at)
	}
	for _, id := range []int64{child.ID, grandchild.ID} {
		if tok, _ := s.GetAPIToken(ctx, id); !tok.RevokedAt.Equal(at) {
			t.Fatalf("token %d revoked at %v, want %v", id, tok.RevokedAt, at)
		}
	}
	if tok, _ := s.GetAPIToken(ctx, f.parent.ID); tok.Revoked() {
		t.Fatal("revoking an authorization revoked the parent token")
	}
	revokedFirst := mustAppAuth(t, s, f.request("revoked-first", storage.AppApproved))
	if err := s.RevokeAppAuthorization(ctx, revokedFirst.ID, at); err != nil {
		t.Fatal(err)
	}
	if _, err := s.IssueAppToken(ctx, revokedFirst.ID, f.child(11), at); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("issue after revocation: %v, want ErrConflict", err)
	}

	// Listing: newest first, by user and vendor.
	mustUser(t, s, "dave")
	other := f.request("dave", storage.AppApproved)
	other.User = "dave"
	mustAppAuth(t, s, other)
	if list, err := s.ListAppAuthorizations(ctx, storage.AppAuthorizationFilter{User: "carol"}); err != nil || len(list) != 3 ||
		list[0].ID != revokedFirst.ID || list[2].ID != a.ID {
		t.Fatalf("ListAppAuthorizations(carol) = %+v, %v", list, err)
	}
	if list, _ := s.ListAppAuthorizations(ctx, storage.AppAuthorizationFilter{Vendor: "acme", Limit: 2}); len(list) != 2 {
		t.Fatalf("limit 2 gave %d", len(list))
	}
	if list, _ := s.ListAppAuthorizations(ctx, storage.AppAuthorizationFilter{Vendor: "nobody"}); len(list) != 0 {
		t.Fatalf("another vendor's list has %d", len(list))
	}
	// Paged by id, newest first; by app name.
	authPage := func(f storage.AppAuthorizationFilter) func(int, *storage.AppAuthorization) ([]storage.AppAuthorization, error) {
		return func(limit int, after *storage.AppAuthorization) ([]storage.AppAuthorization, error) {
			f.Limit = limit
			if after != nil {
				f.BeforeID = after.ID
			}
			return s.ListAppAuthorizations(ctx, f)
		}
	}
	authID := func(a storage.AppAuthorization) string { return strconv.FormatInt(a.ID, 10) }
	all, _ := s.ListAppAuthorizations(ctx, storage.AppAuthorizationFilter{})
	for limit := 1; limit <= len(all)+1; limit++ {
		if got, want := follow(t, "authorizations", limit, authPage(storage.AppAuthorizationFilter{}), authID), ids(all, authID); got != want {
			t.Errorf("authorizations, %d a page: %q, want %q", limit, got, want)
		}
	}
	if got := follow(t, "by app", 1, authPage(storage.AppAuthorizationFilter{AppName: other.AppName}), authID); got != authID(all[0]) {
		t.Errorf("by app %q: %q", other.AppName, got)
	}
	if got := follow(t, "no such app", 1, authPage(storage.AppAuthorizationFilter{AppName: "no such app"}), authID); got != "" {
		t.Errorf("no such app: %q", got)
	}
}

// testAppChallengeRace: many GetToken requests racing with one challenge; exactly one gets it.
func testAppChallengeRace(t *testing.T, s storage.Store) {
	ctx := context.Background()
	f := newAppFixture(t, s)
	a := mustAppAuth(t, s, f.request("race", storage.AppApproved))
	for round := range 3 {
		if err := s.SetAppChallenge(ctx, a.ID, fmt.Appendf(nil, "challenge-%d", round), base.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		const racers = 16
		var wg sync.WaitGroup
		var mu sync.Mutex
		won := 0
		for range racers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := s.TakeAppChallenge(ctx, a.ID, base)
				switch {
				case err == nil:
					if string(c) != fmt.Sprintf("challenge-%d", round) {
						t.Errorf("took %q", c)
					}
					mu.Lock()
					won++
					mu.Unlock()
				case !errors.Is(err, storage.ErrNotFound):
					t.Errorf("TakeAppChallenge: %v", err)
				}
			}()
		}
		wg.Wait()
		if won != 1 {
			t.Fatalf("round %d: %d callers took the challenge, want exactly 1", round, won)
		}
	}
}

func testAppDevices(t *testing.T, s storage.Store) {
	ctx := context.Background()
	f := newAppFixture(t, s)
	p := mustProduct(t, s, "acme", "Desk")
	c, err := s.CreateCustomer(ctx, storage.Customer{Vendor: "acme", Name: "Carol", MaxNoOfDevices: 2, User: "carol", CreatedAt: base})
	if err != nil {
		t.Fatal(err)
	}
	unlimited, err := s.CreateCustomer(ctx, storage.Customer{Vendor: "acme", Name: "Carol's firm", User: "carol", CreatedAt: base})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateCustomer(ctx, storage.Customer{Vendor: "acme", Name: "Unlinked", CreatedAt: base}); err != nil {
		t.Fatal(err)
	}
	if list, err := s.ListUserCustomers(ctx, "acme", "carol"); err != nil || len(list) != 2 || list[0].ID != c.ID || list[1].ID != unlimited.ID {
		t.Fatalf("ListUserCustomers = %+v, %v", list, err)
	}
	if list, _ := s.ListUserCustomers(ctx, "other", "carol"); len(list) != 0 {
		t.Fatalf("customers of another vendor: %+v", list)
	}
	k1 := mustKey(t, s, storage.LicenseKey{ProductID: p.ID, Key: "K1", CustomerID: c.ID})
	mustKey(t, s, storage.LicenseKey{ProductID: p.ID, Key: "K2"})
	k3 := mustKey(t, s, storage.LicenseKey{ProductID: p.ID, Key: "K3", CustomerID: c.ID})
	if keys, err := s.ListCustomerLicenseKeys(ctx, c.ID); err != nil || len(keys) != 2 || keys[0].GlobalID != k1.GlobalID || keys[1].GlobalID != k3.GlobalID {
		t.Fatalf("ListCustomerLicenseKeys = %+v, %v", keys, err)
	}

	device := func(customer int64, mc string) storage.AppDevice {
		return storage.AppDevice{CustomerID: customer, MachineCode: mc, DeviceName: "dev " + mc, User: "carol", RegisteredAt: base}
	}
	req := func(name, mc string) storage.AppAuthorization {
		r := f.request(name, storage.AppApproved)
		r.MachineCode = mc
		return r
	}
	a1 := mustAppAuth(t, s, req("a1", "m1"), device(c.ID, "m1"), device(unlimited.ID, "m1"))
	a2 := mustAppAuth(t, s, req("a2", "m2"), device(c.ID, "m2"))
	mustAppAuth(t, s, req("a1-again", "m1"), device(c.ID, "m1")) // already registered: no new device
	_, err = s.CreateAppAuthorization(ctx, req("a3", "m3"), []storage.AppDevice{device(unlimited.ID, "m3"), device(c.ID, "m3")})
	if !errors.Is(err, storage.ErrLimitReached) {
		t.Fatalf("third device of a customer limited to 2: %v, want ErrLimitReached", err)
	}
	if _, err := s.FindAppAuthorization(ctx, requestHash("a3")); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a refused request was stored: %v", err)
	}
	if _, err := s.CreateAppAuthorization(ctx, req("ghost", "m9"), []storage.AppDevice{device(9999, "m9")}); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("device of a missing customer: %v, want ErrNotFound", err)
	}
	devs, err := s.ListAppDevices(ctx, "carol")
	if err != nil || len(devs) != 3 {
		t.Fatalf("ListAppDevices = %+v, %v; want m1 twice (two customers) and m2", devs, err)
	}
	for _, d := range devs {
		if d.Vendor != "acme" || d.User != "carol" || !d.RegisteredAt.Equal(base) || d.MachineCode == "m3" {
			t.Fatalf("device %+v", d)
		}
	}
	if all, _ := s.ListAppDevices(ctx, ""); len(all) != 3 {
		t.Fatalf("every device: %d", len(all))
	}
	// Paged: registered at the same instant, told apart by customer and machine code.
	devPage := func(f storage.AppDeviceFilter) func(int, *storage.AppDevice) ([]storage.AppDevice, error) {
		return func(limit int, after *storage.AppDevice) ([]storage.AppDevice, error) {
			f.Limit = limit
			if after != nil {
				f.AfterAt, f.AfterCustomer, f.AfterMachine = after.RegisteredAt, after.CustomerID, after.MachineCode
			}
			return s.PageAppDevices(ctx, f)
		}
	}
	devID := func(d storage.AppDevice) string { return fmt.Sprintf("%d/%s", d.CustomerID, d.MachineCode) }
	wantDevs := fmt.Sprintf("%d/m1 %d/m2 %d/m1", c.ID, c.ID, unlimited.ID)
	for limit := 1; limit <= 4; limit++ {
		if got := follow(t, "devices", limit, devPage(storage.AppDeviceFilter{User: "carol"}), devID); got != wantDevs {
			t.Errorf("devices, %d a page: %q, want %q", limit, got, wantDevs)
		}
	}
	if got := follow(t, "acme's devices", 2, devPage(storage.AppDeviceFilter{Vendor: "acme"}), devID); got != wantDevs {
		t.Errorf("acme's devices: %q", got)
	}
	if got := follow(t, "other's devices", 2, devPage(storage.AppDeviceFilter{Vendor: "other"}), devID); got != "" {
		t.Errorf("another vendor's devices: %q", got)
	}
	child, err := s.IssueAppToken(ctx, a1.ID, f.child(20), base)
	if err != nil {
		t.Fatal(err)
	}

	// Removing m1 from the limited customer revokes both authorizations given for m1, and frees a seat.
	at := base.Add(time.Hour)
	n, err := s.RemoveAppDevice(ctx, c.ID, "m1", at)
	if err != nil || n != 2 {
		t.Fatalf("RemoveAppDevice = %d, %v; want 2 authorizations revoked", n, err)
	}
	if got, _ := s.GetAppAuthorization(ctx, a1.ID); !got.RevokedAt.Equal(at) || !got.TokenRevokedAt.Equal(at) {
		t.Fatalf("a1 after its device was removed: %+v", got)
	}
	if tok, _ := s.GetAPIToken(ctx, child.ID); !tok.Revoked() {
		t.Fatal("the child token of a removed device still lives")
	}
	if got, _ := s.GetAppAuthorization(ctx, a2.ID); !got.RevokedAt.IsZero() {
		t.Fatal("removing m1 revoked the authorization for m2")
	}
	if _, err := s.RemoveAppDevice(ctx, c.ID, "m1", at); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("second removal: %v, want ErrNotFound", err)
	}
	mustAppAuth(t, s, req("a3-retry", "m3"), device(c.ID, "m3"))
	if devs, _ := s.ListAppDevices(ctx, "carol"); len(devs) != 3 {
		t.Fatalf("after removing one and adding one: %d devices, want 3", len(devs))
	}
}

// testAppDeviceLimitRace: approvals of different devices racing for a customer's last free slots.
func testAppDeviceLimitRace(t *testing.T, s storage.Store) {
	ctx := context.Background()
	f := newAppFixture(t, s)
	c, err := s.CreateCustomer(ctx, storage.Customer{Vendor: "acme", Name: "Carol", MaxNoOfDevices: 3, User: "carol", CreatedAt: base})
	if err != nil {
		t.Fatal(err)
	}
	const racers = 10
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := f.request(fmt.Sprint("r", i), storage.AppApproved)
			_, err := s.CreateAppAuthorization(ctx, r, []storage.AppDevice{{CustomerID: c.ID, MachineCode: fmt.Sprint("m", i), User: "carol", RegisteredAt: base}})
			switch {
			case err == nil:
				mu.Lock()
				won++
				mu.Unlock()
			case !errors.Is(err, storage.ErrLimitReached):
				t.Errorf("CreateAppAuthorization: %v", err)
			}
		}()
	}
	wg.Wait()
	if devs, _ := s.ListAppDevices(ctx, "carol"); won != 3 || len(devs) != 3 {
		t.Fatalf("%d approvals won, %d devices stored; want 3 and 3", won, len(devs))
	}
}

func testAppAuthorizationGarbageCollection(t *testing.T, s storage.Store) {
	ctx := context.Background()
	f := newAppFixture(t, s)
	unused := mustAppAuth(t, s, f.request("unused", storage.AppApproved))
	denied := mustAppAuth(t, s, f.request("denied", storage.AppDenied))
	fresh := f.request("fresh", storage.AppApproved)
	fresh.DecidedAt = base.Add(2 * time.Hour)
	fresh = mustAppAuth(t, s, fresh)
	live := mustAppAuth(t, s, f.request("live", storage.AppApproved))
	if _, err := s.IssueAppToken(ctx, live.ID, f.child(30), base); err != nil {
		t.Fatal(err)
	}
	expired := mustAppAuth(t, s, f.request("expired", storage.AppApproved))
	short := f.child(31)
	short.ExpiresAt = base.Add(time.Hour)
	if _, err := s.IssueAppToken(ctx, expired.ID, short, base); err != nil {
		t.Fatal(err)
	}
	revoked := mustAppAuth(t, s, f.request("revoked", storage.AppApproved))
	if _, err := s.IssueAppToken(ctx, revoked.ID, f.child(32), base); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeAppAuthorization(ctx, revoked.ID, base.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	n, err := s.DeleteAppAuthorizations(ctx, base.Add(time.Hour), base.Add(2*time.Hour), 100)
	if err != nil || n != 4 {
		t.Fatalf("DeleteAppAuthorizations = %d, %v; want 4 (unused, denied, expired, revoked)", n, err)
	}
	for id, kept := range map[int64]bool{unused.ID: false, denied.ID: false, fresh.ID: true, live.ID: true, expired.ID: false, revoked.ID: false} {
		if _, err := s.GetAppAuthorization(ctx, id); (err == nil) != kept {
			t.Errorf("authorization %d: err %v, want kept=%v", id, err, kept)
		}
	}
	if n, err := s.DeleteAppAuthorizations(ctx, base.Add(3*time.Hour), base, 1); err != nil || n != 1 {
		t.Fatalf("limit 1: %d, %v", n, err)
	}
}
