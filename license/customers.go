package license

import (
	"context"
	"errors"
	"fmt"

	"github.com/tokenmanager/tokenmanager/storage"
)

// CustomerSpec describes a new customer.
type CustomerSpec struct {
	Name, Email, Company string
	MaxNoOfDevices       int    // 0 = unlimited
	User                 string // link to an existing user; empty for none
}

func (c CustomerSpec) check() error {
	for _, f := range [][2]string{{"customer name", c.Name}, {"e-mail", c.Email}, {"company", c.Company}} {
		if err := CheckText(f[0], f[1], MaxNameLen); err != nil {
			return err
		}
	}
	if c.MaxNoOfDevices < 0 || c.MaxNoOfDevices > MaxMachines {
		return invalid("MaxNoOfDevices %d", c.MaxNoOfDevices)
	}
	return nil
}

// CreateCustomer adds a customer of the vendor.
func (s *Service) CreateCustomer(ctx context.Context, a *Access, vendor string, spec CustomerSpec) (storage.Customer, error) {
	return s.CreateCustomerWithSettings(ctx, a, vendor, CustomerSettings{CustomerSpec: spec})
}

// CreateCustomerWithSettings adds a customer of the vendor with Cryptolens' settings too (notes, flags), and
// no secret (NewCustomerSecret makes one).
func (s *Service) CreateCustomerWithSettings(ctx context.Context, a *Access, vendor string, spec CustomerSettings) (storage.Customer, error) {
	if a.vendor != "" && a.vendor != vendor {
		return storage.Customer{}, fmt.Errorf("%w: customers of %q", ErrAccessDenied, vendor)
	}
	if err := s.checkVendor(ctx, vendor); err != nil {
		return storage.Customer{}, err
	}
	ic, err := s.createCustomer(ctx, vendor, spec, false)
	s.record(ctx, a, vendor, "license.customer.create", fmt.Sprintf("customer=%d", ic.Customer.ID), err)
	return ic.Customer, err
}

// createCustomer stores a new customer of vendor, with a new secret if asked: what CreateCustomer (the
// operator's and vendors' accounts) and AddCustomer (an API token) share.
func (s *Service) createCustomer(ctx context.Context, vendor string, spec CustomerSettings, withSecret bool) (IssuedCustomer, error) {
	if err := spec.check(); err != nil {
		return IssuedCustomer{}, err
	}
	var secret, hash string
	if withSecret {
		secret, hash = newCustomerSecret()
	}
	c, err := s.store.CreateCustomer(ctx, storage.Customer{Vendor: vendor, Name: spec.Name, Email: spec.Email,
		Company: spec.Company, MaxNoOfDevices: spec.MaxNoOfDevices, User: spec.User, CreatedAt: s.now(),
		Notes: spec.Notes, SecretHash: hash, Flags: spec.Flags})
	if errors.Is(err, storage.ErrNotFound) {
		return IssuedCustomer{}, invalid("no user %q to link", spec.User)
	}
	if err != nil {
		return IssuedCustomer{}, err
	}
	return IssuedCustomer{Customer: c, Secret: secret}, nil
}

// ListCustomers returns the customers the access reaches.
func (s *Service) ListCustomers(ctx context.Context, a *Access) ([]storage.Customer, error) {
	return s.store.ListCustomers(ctx, a.vendor)
}

// customer returns the vendor's customer (any vendor's for ""), or ErrCustomerNotFound.
func (s *Service) customer(ctx context.Context, vendor string, id int64) (storage.Customer, error) {
	c, err := s.store.GetCustomer(ctx, id)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && vendor != "" && c.Vendor != vendor) {
		return storage.Customer{}, fmt.Errorf("%w: %d", ErrCustomerNotFound, id)
	}
	return c, err
}
