package license

import (
	"context"
	"errors"
	"fmt"

	"github.com/tokenmanager/tokenmanager/storage"
)

// Customers as the operator and the vendors' own accounts manage them (the command line, the management
// API): the same operations as the customer/ methods of an API token (customeraccounts.go), reaching every
// vendor's customers for the operator, audited here with the acting account.

// ErrCustomerInUse: the customer still has license keys, and the delete was not forced.
var ErrCustomerInUse = errors.New("license: customer in use")

// MaxCustomersPage bounds a page of FindCustomers.
const MaxCustomersPage = 500

// accountOnly refuses an API token: tokens manage customers through the customer/ methods, which check their
// permissions.
func accountOnly(a *Access, what string) error {
	if a.tokenID != 0 {
		return fmt.Errorf("%w: %s needs vendor access, not an API token", ErrAccessDenied, what)
	}
	return nil
}

// Customer returns a customer the access reaches; another vendor's is ErrCustomerNotFound.
func (s *Service) Customer(ctx context.Context, a *Access, id int64) (storage.Customer, error) {
	if id <= 0 {
		return storage.Customer{}, fmt.Errorf("%w: %d", ErrCustomerNotFound, id)
	}
	return s.customer(ctx, a.vendor, id)
}

// CustomerSearch selects a page of customers, newest first.
type CustomerSearch struct {
	Vendor   string // "": every vendor the access reaches
	Search   string // a part of the name, company or e-mail, ignoring ASCII case
	BeforeID int64  // > 0: the page after one that ended with this customer
	Limit    int    // 1 to MaxCustomersPage
}

// FindCustomers returns a page of the customers the access reaches, and whether more follow. A vendor's
// access asking for another vendor's customers finds none.
func (s *Service) FindCustomers(ctx context.Context, a *Access, q CustomerSearch) ([]storage.Customer, bool, error) {
	if q.Limit < 1 || q.Limit > MaxCustomersPage || q.BeforeID < 0 {
		return nil, false, invalid("limit %d (1 to %d), before %d", q.Limit, MaxCustomersPage, q.BeforeID)
	}
	if err := CheckText("search", q.Search, MaxNameLen); err != nil {
		return nil, false, err
	}
	if a.vendor != "" {
		if q.Vendor != "" && q.Vendor != a.vendor {
			return nil, false, nil
		}
		q.Vendor = a.vendor
	}
	// One more than the page tells whether another page follows.
	cs, err := s.store.QueryCustomers(ctx, storage.CustomerQuery{Vendor: q.Vendor, AllVendors: true, Search: q.Search,
		BeforeID: q.BeforeID, Limit: q.Limit + 1})
	if err != nil {
		return nil, false, err
	}
	if len(cs) > q.Limit {
		return cs[:q.Limit], true, nil
	}
	return cs, false, nil
}

// UpdateCustomer applies e to a customer the access reaches. check, when set, runs on the stored customer
// inside the same transaction before the change and may refuse it (a stale ETag); its error is returned as it
// is. With e.NewSecret the new secret is returned, this once.
func (s *Service) UpdateCustomer(ctx context.Context, a *Access, id int64, e CustomerEdit, check func(storage.Customer) error) (IssuedCustomer, error) {
	if err := accountOnly(a, "editing a customer"); err != nil {
		return IssuedCustomer{}, err
	}
	ic, err := s.editCustomer(ctx, a.vendor, id, e, check)
	if err == nil {
		s.record(ctx, a, ic.Customer.Vendor, "license.customer.edit", fmt.Sprintf("customer=%d new_secret=%t", id, e.NewSecret), nil)
	}
	return ic, err
}

// DeleteCustomer removes a customer the access reaches. A customer with license keys is refused with
// ErrCustomerInUse unless force; forced, in one transaction, its keys are unlinked (they belong to their
// product and stay, as customer/RemoveCustomer leaves them), its end users dissociated and its devices
// removed. The counts say what changed.
func (s *Service) DeleteCustomer(ctx context.Context, a *Access, id int64, force bool) (storage.CustomerRemoval, error) {
	if err := accountOnly(a, "deleting a customer"); err != nil {
		return storage.CustomerRemoval{}, err
	}
	c, err := s.Customer(ctx, a, id)
	if err != nil {
		return storage.CustomerRemoval{}, err
	}
	r, err := s.deleteCustomer(ctx, c.Vendor, id, force)
	if err == nil {
		s.record(ctx, a, c.Vendor, "license.customer.delete", fmt.Sprintf("customer=%d keys=%d end_users=%d devices=%d",
			id, r.Keys, r.EndUsers, r.Devices), nil)
	}
	return r, err
}

// CustomerLicenseKeys returns a customer's license keys in every product, ordered by GlobalID.
func (s *Service) CustomerLicenseKeys(ctx context.Context, a *Access, id int64) ([]storage.LicenseKey, error) {
	c, err := s.Customer(ctx, a, id)
	if err != nil {
		return nil, err
	}
	return s.store.ListCustomerLicenseKeys(ctx, c.ID)
}
