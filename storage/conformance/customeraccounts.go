package conformance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

// Customer settings and the vendors' end-user accounts (storage.CustomerAccounts).

func mustCustomer(t *testing.T, s storage.Store, c storage.Customer) storage.Customer {
	t.Helper()
	if c.CreatedAt.IsZero() {
		c.CreatedAt = base
	}
	got, err := s.CreateCustomer(context.Background(), c)
	if err != nil {
		t.Fatalf("CreateCustomer(%q): %v", c.Name, err)
	}
	return got
}

func testCustomerSettings(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustVendor(t, s, "acme")
	mustVendor(t, s, "other")
	want := storage.Customer{Vendor: "acme", Name: "Carol", Email: "carol@example.com", Company: "Example Ltd", CreatedAt: base,
		Notes: "met at the fair", SecretHash: "5ec2e7", Flags: storage.CustomerAssociation | storage.CustomerMultipleUsers}
	c := mustCustomer(t, s, want)
	want.ID = c.ID
	if got, err := s.GetCustomer(ctx, c.ID); err != nil || got != want {
		t.Fatalf("GetCustomer = %+v, %v; want %+v", got, err, want)
	}
	// The secret finds the customer only within its vendor.
	if got, err := s.FindCustomerBySecret(ctx, "acme", "5ec2e7"); err != nil || got != want {
		t.Fatalf("FindCustomerBySecret = %+v, %v", got, err)
	}
	for _, v := range [][2]string{{"other", "5ec2e7"}, {"acme", "5ec2e8"}, {"acme", ""}} {
		if _, err := s.FindCustomerBySecret(ctx, v[0], v[1]); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("FindCustomerBySecret(%q, %q) = %v, want ErrNotFound", v[0], v[1], err)
		}
	}
	// Two customers of a vendor cannot share a secret; customers without one can be many.
	if _, err := s.CreateCustomer(ctx, storage.Customer{Vendor: "acme", Name: "Twin", SecretHash: "5ec2e7", CreatedAt: base}); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("CreateCustomer(same secret) = %v, want ErrConflict", err)
	}
	mustCustomer(t, s, storage.Customer{Vendor: "acme", Name: "NoSecret1"})
	mustCustomer(t, s, storage.Customer{Vendor: "acme", Name: "NoSecret2"})

	// UpdateCustomer writes the settings; an error from update writes nothing.
	got, err := s.UpdateCustomer(ctx, c.ID, func(c *storage.Customer) error {
		c.Name, c.Email, c.Company, c.MaxNoOfDevices, c.Notes, c.SecretHash, c.Flags = "Carol B", "cb@example.com", "B Ltd", 4, "", "", 0
		return nil
	})
	if err != nil || got.Name != "Carol B" || got.SecretHash != "" {
		t.Fatalf("UpdateCustomer = %+v, %v", got, err)
	}
	if read, err := s.GetCustomer(ctx, c.ID); err != nil || read != got {
		t.Fatalf("after UpdateCustomer: %+v, %v; want %+v", read, err, got)
	}
	boom := errors.New("boom")
	if _, err := s.UpdateCustomer(ctx, c.ID, func(c *storage.Customer) error { c.Name = "lost"; return boom }); !errors.Is(err, boom) {
		t.Fatalf("UpdateCustomer(abort) = %v", err)
	}
	if read, _ := s.GetCustomer(ctx, c.ID); read.Name != "Carol B" {
		t.Fatalf("an aborted update wrote %q", read.Name)
	}
	if _, err := s.UpdateCustomer(ctx, 9999, func(*storage.Customer) error { return nil }); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("UpdateCustomer(missing) = %v", err)
	}
}

func testCustomerQuery(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustVendor(t, s, "acme")
	mustVendor(t, s, "other")
	a := mustCustomer(t, s, storage.Customer{Vendor: "acme", Name: "Alice Smith", Email: "alice@example.com", Company: "Widgets"})
	b := mustCustomer(t, s, storage.Customer{Vendor: "acme", Name: "Bob", Email: "bob@EXAMPLE.org", Company: "100% Gadgets"})
	c := mustCustomer(t, s, storage.Customer{Vendor: "acme", Name: "Carl_x", Email: "", Company: ""})
	o := mustCustomer(t, s, storage.Customer{Vendor: "other", Name: "Alice Other", Email: "alice@example.com"})
	ids := func(q storage.CustomerQuery) []int64 {
		t.Helper()
		list, err := s.QueryCustomers(ctx, q)
		if err != nil {
			t.Fatalf("QueryCustomers(%+v): %v", q, err)
		}
		var out []int64
		for _, c := range list {
			out = append(out, c.ID)
		}
		return out
	}
	for _, tc := range []struct {
		q    storage.CustomerQuery
		want []int64
	}{
		{storage.CustomerQuery{Vendor: "acme"}, []int64{c.ID, b.ID, a.ID}}, // newest first
		{storage.CustomerQuery{Vendor: "acme", Limit: 2}, []int64{c.ID, b.ID}},
		{storage.CustomerQuery{Vendor: "acme", Search: "ALICE"}, []int64{a.ID}}, // name, any case
		{storage.CustomerQuery{Vendor: "acme", Search: "example"}, []int64{b.ID, a.ID}},
		{storage.CustomerQuery{Vendor: "acme", Search: "gadget"}, []int64{b.ID}}, // company
		{storage.CustomerQuery{Vendor: "acme", Search: "0%"}, []int64{b.ID}},     // % taken literally
		{storage.CustomerQuery{Vendor: "acme", Search: "l_x"}, []int64{c.ID}},    // _ taken literally
		{storage.CustomerQuery{Vendor: "acme", Search: "%"}, []int64{b.ID}},
		{storage.CustomerQuery{Vendor: "acme", ID: b.ID}, []int64{b.ID}},
		{storage.CustomerQuery{Vendor: "other", ID: b.ID}, nil}, // another vendor's id
		{storage.CustomerQuery{Vendor: "acme", Search: "zzz"}, nil},
		{storage.CustomerQuery{Vendor: "ac\x00me"}, nil},
		// The management API's pages: every vendor's, or one's, below an id.
		{storage.CustomerQuery{AllVendors: true, Search: "alice"}, []int64{o.ID, a.ID}},
		{storage.CustomerQuery{AllVendors: true, Vendor: "acme", Search: "alice"}, []int64{a.ID}},
		{storage.CustomerQuery{Vendor: "acme", BeforeID: c.ID, Limit: 1}, []int64{b.ID}},
		{storage.CustomerQuery{AllVendors: true, BeforeID: o.ID}, []int64{c.ID, b.ID, a.ID}},
		{storage.CustomerQuery{Vendor: ""}, nil}, // without AllVendors, no vendor is no customer
	} {
		if got := ids(tc.q); !slices.Equal(got, tc.want) {
			t.Errorf("QueryCustomers(%+v) = %v, want %v", tc.q, got, tc.want)
		}
	}
}

func testDeleteCustomer(t *testing.T, s storage.Store) {
	ctx := context.Background()
	f := newAppFixture(t, s) // vendor acme, user carol
	p := mustProduct(t, s, "acme", "App")
	c := mustCustomer(t, s, storage.Customer{Vendor: "acme", Name: "Carol", User: "carol", MaxNoOfDevices: 2})
	k := mustKey(t, s, storage.LicenseKey{ProductID: p.ID, Key: "AAAAA-BBBBB", CustomerID: c.ID})
	u, err := s.CreateEndUser(ctx, storage.EndUser{Vendor: "acme", Name: "eve", PasswordHash: "h", CustomerID: c.ID, CreatedAt: base, UpdatedAt: base})
	if err != nil {
		t.Fatal(err)
	}
	mustAppAuth(t, s, f.request("a1", storage.AppApproved),
		storage.AppDevice{CustomerID: c.ID, MachineCode: "mc", User: "carol", RegisteredAt: base})
	if devs, err := s.ListAppDevices(ctx, "carol"); err != nil || len(devs) != 1 {
		t.Fatalf("devices before: %+v, %v", devs, err)
	}
	// Without force, a customer with keys stays, and nothing of it changes.
	if r, err := s.DeleteCustomer(ctx, c.ID, false); !errors.Is(err, storage.ErrInUse) || r.Keys != 1 {
		t.Fatalf("DeleteCustomer(unforced, with a key) = %+v, %v; want 1 key, ErrInUse", r, err)
	}
	if got, err := s.GetLicenseKey(ctx, p.ID, k.Key); err != nil || got.CustomerID != c.ID {
		t.Fatalf("a refused delete unlinked the key: %+v, %v", got, err)
	}
	if got, err := s.GetEndUser(ctx, "acme", u.Name); err != nil || got.CustomerID != c.ID {
		t.Fatalf("a refused delete dissociated the end user: %+v, %v", got, err)
	}
	if devs, err := s.ListAppDevices(ctx, "carol"); err != nil || len(devs) != 1 {
		t.Fatalf("a refused delete removed devices: %+v, %v", devs, err)
	}
	if r, err := s.DeleteCustomer(ctx, c.ID, true); err != nil || r != (storage.CustomerRemoval{Keys: 1, EndUsers: 1, Devices: 1}) {
		t.Fatalf("DeleteCustomer(forced) = %+v, %v", r, err)
	}
	if _, err := s.GetCustomer(ctx, c.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("GetCustomer(deleted) = %v", err)
	}
	if got, err := s.GetLicenseKey(ctx, p.ID, k.Key); err != nil || got.CustomerID != 0 {
		t.Fatalf("the key after its customer went: %+v, %v", got, err)
	}
	if got, err := s.GetEndUser(ctx, "acme", u.Name); err != nil || got.CustomerID != 0 {
		t.Fatalf("the end user after its customer went: %+v, %v", got, err)
	}
	if devs, err := s.ListAppDevices(ctx, "carol"); err != nil || len(devs) != 0 {
		t.Fatalf("devices after their customer went: %+v, %v", devs, err)
	}
	if _, err := s.DeleteCustomer(ctx, c.ID, true); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("DeleteCustomer twice = %v", err)
	}
	if _, err := s.DeleteCustomer(ctx, c.ID, false); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("DeleteCustomer(unforced, missing) = %v", err)
	}
	// A customer without keys goes without force.
	d := mustCustomer(t, s, storage.Customer{Vendor: "acme", Name: "Dan"})
	if r, err := s.DeleteCustomer(ctx, d.ID, false); err != nil || r != (storage.CustomerRemoval{}) {
		t.Fatalf("DeleteCustomer(no keys) = %+v, %v", r, err)
	}
}

func testEndUsers(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustVendor(t, s, "acme")
	mustVendor(t, s, "other")
	c := mustCustomer(t, s, storage.Customer{Vendor: "acme", Name: "Carol"})
	foreign := mustCustomer(t, s, storage.Customer{Vendor: "other", Name: "Dave"})
	want := storage.EndUser{Vendor: "acme", Name: "Eve", Email: "eve@example.com", PasswordHash: "$argon2id$h", CustomerID: c.ID,
		CreatedAt: base, UpdatedAt: base}
	u, err := s.CreateEndUser(ctx, want)
	if err != nil || u.ID <= 0 {
		t.Fatalf("CreateEndUser = %+v, %v", u, err)
	}
	want.ID = u.ID
	// Names compare ignoring case, within a vendor.
	for _, name := range []string{"Eve", "eve", "EVE"} {
		if got, err := s.GetEndUser(ctx, "acme", name); err != nil || got != want {
			t.Fatalf("GetEndUser(%q) = %+v, %v; want %+v", name, got, err, want)
		}
	}
	if _, err := s.GetEndUser(ctx, "other", "eve"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("GetEndUser(other vendor) = %v", err)
	}
	if _, err := s.CreateEndUser(ctx, storage.EndUser{Vendor: "acme", Name: "eVe", PasswordHash: "h", CreatedAt: base, UpdatedAt: base}); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("CreateEndUser(same name, other case) = %v, want ErrConflict", err)
	}
	if _, err := s.CreateEndUser(ctx, storage.EndUser{Vendor: "other", Name: "eve", PasswordHash: "h", CreatedAt: base, UpdatedAt: base}); err != nil {
		t.Fatalf("CreateEndUser(same name, other vendor) = %v", err)
	}
	// (A customer of another vendor is the service's to refuse: the store only checks that it exists.)
	_ = foreign
	for _, bad := range []storage.EndUser{{Vendor: "ghost", Name: "x"}, {Vendor: "acme", Name: "x", CustomerID: 9999}} {
		bad.PasswordHash, bad.CreatedAt, bad.UpdatedAt = "h", base, base
		if _, err := s.CreateEndUser(ctx, bad); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("CreateEndUser(%+v) = %v, want ErrNotFound", bad, err)
		}
	}
	mustEnd := func(name string, customer int64) {
		t.Helper()
		if _, err := s.CreateEndUser(ctx, storage.EndUser{Vendor: "acme", Name: name, PasswordHash: "h", CustomerID: customer,
			CreatedAt: base, UpdatedAt: base}); err != nil {
			t.Fatal(err)
		}
	}
	mustEnd("adam", 0)
	mustEnd("Zed", c.ID)
	names := func(customer int64) []string {
		t.Helper()
		list, err := s.ListEndUsers(ctx, "acme", customer)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, u := range list {
			out = append(out, u.Name)
		}
		return out
	}
	if got := names(0); !slices.Equal(got, []string{"adam", "Eve", "Zed"}) {
		t.Fatalf("ListEndUsers = %v", got)
	}
	if got := names(c.ID); !slices.Equal(got, []string{"Eve", "Zed"}) {
		t.Fatalf("ListEndUsers(customer) = %v", got)
	}

	// Updates: every mutable field, the reset token included; an aborted one writes nothing.
	later := base.Add(time.Hour)
	got, err := s.UpdateEndUser(ctx, "acme", "EVE", func(u *storage.EndUser) error {
		u.Email, u.PasswordHash, u.CustomerID, u.ResetHash, u.ResetExpiresAt, u.UpdatedAt = "e2@example.com", "h2", 0, "abc", later, later
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if read, err := s.GetEndUser(ctx, "acme", "eve"); err != nil || read != got || read.ResetHash != "abc" || !read.ResetExpiresAt.Equal(later) {
		t.Fatalf("after UpdateEndUser: %+v, %v; want %+v", read, err, got)
	}
	boom := errors.New("boom")
	if _, err := s.UpdateEndUser(ctx, "acme", "eve", func(u *storage.EndUser) error { u.PasswordHash = "lost"; return boom }); !errors.Is(err, boom) {
		t.Fatalf("UpdateEndUser(abort) = %v", err)
	}
	if read, _ := s.GetEndUser(ctx, "acme", "eve"); read.PasswordHash != "h2" {
		t.Fatal("an aborted update wrote")
	}
	if _, err := s.UpdateEndUser(ctx, "acme", "eve", func(u *storage.EndUser) error { u.CustomerID = 9999; return nil }); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("UpdateEndUser(missing customer) = %v", err)
	}
	if _, err := s.UpdateEndUser(ctx, "other", "adam", func(*storage.EndUser) error { return nil }); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("UpdateEndUser(other vendor's name) = %v", err)
	}
	if err := s.DeleteEndUser(ctx, "other", "adam"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("DeleteEndUser(other vendor) = %v", err)
	}
	if err := s.DeleteEndUser(ctx, "acme", "ADAM"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetEndUser(ctx, "acme", "adam"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("GetEndUser(deleted) = %v", err)
	}
	for _, odd := range []string{"e\x00ve", "\xff"} {
		if _, err := s.GetEndUser(ctx, "acme", odd); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("GetEndUser(%q) = %v", odd, err)
		}
	}
}

// Registering one name from many nodes at once makes one account; the others are refused as conflicts.
func testEndUserRegisterRace(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustVendor(t, s, "acme")
	const n = 8
	errs := race(s, n, func(i int) error {
		_, err := s.CreateEndUser(ctx, storage.EndUser{Vendor: "acme", Name: fmt.Sprintf("%c%s", "Ss"[i%2], "am"),
			PasswordHash: fmt.Sprint("h", i), CreatedAt: base, UpdatedAt: base})
		return err
	})
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, storage.ErrConflict):
			t.Fatalf("racer %d: %v", i, err)
		}
	}
	if won != 1 {
		t.Fatalf("%d racers registered the name, want 1", won)
	}
	if list, err := s.ListEndUsers(ctx, "acme", 0); err != nil || len(list) != 1 {
		t.Fatalf("end users after the race: %+v, %v", list, err)
	}
}

// A password reset token is spent once: racing updates that each take it only if it is still there let one win.
func testEndUserResetRace(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustVendor(t, s, "acme")
	if _, err := s.CreateEndUser(ctx, storage.EndUser{Vendor: "acme", Name: "eve", PasswordHash: "h", ResetHash: "tok",
		ResetExpiresAt: base.Add(time.Hour), CreatedAt: base, UpdatedAt: base}); err != nil {
		t.Fatal(err)
	}
	spent := errors.New("spent")
	const n = 8
	errs := race(s, n, func(i int) error {
		_, err := s.UpdateEndUser(ctx, "acme", "eve", func(u *storage.EndUser) error {
			if u.ResetHash != "tok" {
				return spent
			}
			u.ResetHash, u.ResetExpiresAt, u.PasswordHash = "", time.Time{}, fmt.Sprint("new", i)
			return nil
		})
		return err
	})
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, spent):
			t.Fatalf("racer %d: %v", i, err)
		}
	}
	if won != 1 {
		t.Fatalf("the reset token was spent %d times, want once", won)
	}
}
