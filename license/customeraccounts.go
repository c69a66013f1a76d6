package license

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/tokenmanager/tokenmanager/storage"
)

// Customers as Cryptolens' customer/ methods manage them: settings, a customer secret and the customer's
// licenses. A customer secret is shown once, when it is made (AddCustomer, or EditCustomer asking for a new
// one), and stored only as its SHA-256: it has 122 random bits, so a fast hash suffices and lets the secret be
// looked up.

// Bounds on customer settings.
const (
	MaxCustomerNotesLen = 1000 // Cryptolens' documented limit, in characters
	MaxCustomersListed  = 1000 // GetCustomers without a Limit
)

// CustomerSettings describe a customer added with AddCustomer.
type CustomerSettings struct {
	CustomerSpec
	Notes string
	Flags int // storage.CustomerAssociation | …
}

// IssuedCustomer is a customer with its secret, shown this once; Secret is empty when none was made.
type IssuedCustomer struct {
	Customer storage.Customer
	Secret   string
}

// newCustomerSecret is a random version 4 UUID, the form Cryptolens' customer secrets take.
func newCustomerSecret() (secret, hash string) {
	b := make([]byte, 16)
	rand.Read(b)
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	h := hex.EncodeToString(b)
	secret = h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
	return secret, hashCustomerSecret(secret)
}

func hashCustomerSecret(secret string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(secret))))
	return hex.EncodeToString(sum[:])
}

func (c CustomerSettings) check() error {
	if err := c.CustomerSpec.check(); err != nil {
		return err
	}
	if err := checkLines("notes", c.Notes, MaxCustomerNotesLen); err != nil {
		return err
	}
	if c.Flags&^(storage.CustomerAssociation|storage.CustomerActivationManagement|storage.CustomerMultipleUsers) != 0 {
		return invalid("customer flags %d", c.Flags)
	}
	return nil
}

// AddCustomer is customer/AddCustomer: a customer of the caller's vendor, with a new secret.
func (s *Service) AddCustomer(ctx context.Context, a *Access, spec CustomerSettings) (IssuedCustomer, error) {
	if err := a.allow(MethodAddCustomer); err != nil {
		return IssuedCustomer{}, err
	}
	vendor, err := vendorOf(a)
	if err != nil {
		return IssuedCustomer{}, err
	}
	return s.createCustomer(ctx, vendor, spec, true)
}

// CustomerEdit is customer/EditCustomer: nil fields stay as they are.
type CustomerEdit struct {
	Name, Email, Company *string
	MaxNoOfDevices       *int
	// Flags set (or clear) the flags in FlagMask.
	Flags, FlagMask int
	// NewSecret replaces the customer's secret with a new one, returned once.
	NewSecret bool
	// Notes (not a parameter of customer/EditCustomer) replaces the notes.
	Notes *string
}

// EditCustomer changes the caller's vendor's customer.
func (s *Service) EditCustomer(ctx context.Context, a *Access, id int64, e CustomerEdit) (IssuedCustomer, error) {
	if err := a.allow(MethodEditCustomer); err != nil {
		return IssuedCustomer{}, err
	}
	vendor, err := vendorOf(a)
	if err != nil {
		return IssuedCustomer{}, err
	}
	return s.editCustomer(ctx, vendor, id, e, nil)
}

// editCustomer applies e to the customer of vendor ("": any vendor's) inside one transaction; check, when
// set, runs first on the stored customer and may refuse the change (its error is returned as it is).
func (s *Service) editCustomer(ctx context.Context, vendor string, id int64, e CustomerEdit, check func(storage.Customer) error) (IssuedCustomer, error) {
	var secret, hash string
	if e.NewSecret {
		secret, hash = newCustomerSecret()
	}
	c, err := s.store.UpdateCustomer(ctx, id, func(c *storage.Customer) error {
		if vendor != "" && c.Vendor != vendor {
			return fmt.Errorf("%w: %d", ErrCustomerNotFound, id)
		}
		if check != nil {
			if err := check(*c); err != nil {
				return err
			}
		}
		set := func(dst *string, v *string) {
			if v != nil {
				*dst = *v
			}
		}
		set(&c.Name, e.Name)
		set(&c.Email, e.Email)
		set(&c.Company, e.Company)
		set(&c.Notes, e.Notes)
		if e.MaxNoOfDevices != nil {
			c.MaxNoOfDevices = *e.MaxNoOfDevices
		}
		c.Flags = c.Flags&^e.FlagMask | e.Flags&e.FlagMask
		if e.NewSecret {
			c.SecretHash = hash
		}
		return CustomerSettings{CustomerSpec: CustomerSpec{Name: c.Name, Email: c.Email, Company: c.Company,
			MaxNoOfDevices: c.MaxNoOfDevices}, Notes: c.Notes, Flags: c.Flags}.check()
	})
	if errors.Is(err, storage.ErrNotFound) {
		err = fmt.Errorf("%w: %d", ErrCustomerNotFound, id)
	}
	if err != nil {
		return IssuedCustomer{}, err
	}
	return IssuedCustomer{Customer: c, Secret: secret}, nil
}

// RemoveCustomer is customer/RemoveCustomer: the customer goes; its keys stay, without a customer, and its end
// users stay, associated with none.
func (s *Service) RemoveCustomer(ctx context.Context, a *Access, id int64) error {
	if err := a.allow(MethodRemoveCustomer); err != nil {
		return err
	}
	vendor, err := vendorOf(a)
	if err != nil {
		return err
	}
	_, err = s.deleteCustomer(ctx, vendor, id, true)
	return err
}

// deleteCustomer removes the customer of vendor ("": any vendor's), see storage.DeleteCustomer.
func (s *Service) deleteCustomer(ctx context.Context, vendor string, id int64, force bool) (storage.CustomerRemoval, error) {
	if _, err := s.customer(ctx, vendor, id); err != nil {
		return storage.CustomerRemoval{}, err
	}
	r, err := s.store.DeleteCustomer(ctx, id, force)
	switch {
	case errors.Is(err, storage.ErrInUse):
		return r, fmt.Errorf("%w: customer %d has %d license key(s); change their customer first, or force, "+
			"which unlinks them (the keys stay in their products)", ErrCustomerInUse, id, r.Keys)
	case errors.Is(err, storage.ErrNotFound):
		return r, fmt.Errorf("%w: %d", ErrCustomerNotFound, id)
	}
	return r, err
}

// CustomerFilter is customer/GetCustomers' Search, Limit and CustomerId.
type CustomerFilter struct {
	Search string
	Limit  int   // 0: all (at most MaxCustomersListed)
	ID     int64 // 0: any
}

// GetCustomers lists the caller's vendor's customers, newest first.
func (s *Service) GetCustomers(ctx context.Context, a *Access, f CustomerFilter) ([]storage.Customer, error) {
	if err := a.allow(MethodGetCustomers); err != nil {
		return nil, err
	}
	vendor, err := vendorOf(a)
	if err != nil {
		return nil, err
	}
	if f.Limit < 0 || f.ID < 0 {
		return nil, invalid("Limit %d, CustomerId %d", f.Limit, f.ID)
	}
	if err := CheckText("search", f.Search, MaxNameLen); err != nil {
		return nil, err
	}
	if f.Limit == 0 || f.Limit > MaxCustomersListed {
		f.Limit = MaxCustomersListed
	}
	return s.store.QueryCustomers(ctx, storage.CustomerQuery{Vendor: vendor, Search: f.Search, ID: f.ID, Limit: f.Limit})
}

// LicenseKeyObject is a license key as Cryptolens' lists of keys carry it (GetCustomerLicenses,
// userauth/Login): the form the .NET SDK's LicenseKey reads, lower camel case, dates ISO 8601.
type LicenseKeyObject = linqKey

// GetCustomerLicenses is customer/GetCustomerLicenses: the customer's keys the token reaches.
func (s *Service) GetCustomerLicenses(ctx context.Context, a *Access, id int64) ([]LicenseKeyObject, error) {
	if err := a.allow(MethodGetCustomerLicenses); err != nil {
		return nil, err
	}
	vendor, err := vendorOf(a)
	if err != nil {
		return nil, err
	}
	c, err := s.customer(ctx, vendor, id)
	if err != nil {
		return nil, err
	}
	return s.customerKeys(ctx, a, c.ID)
}

// GetCustomerLicensesBySecret is customer/GetCustomerLicensesBySecret: the same, the customer named by its
// secret. An unknown secret is ErrCustomerNotFound.
func (s *Service) GetCustomerLicensesBySecret(ctx context.Context, a *Access, secret string) ([]LicenseKeyObject, error) {
	if err := a.allow(MethodGetCustomerLicensesBySecret); err != nil {
		return nil, err
	}
	vendor, err := vendorOf(a)
	if err != nil {
		return nil, err
	}
	if secret == "" || len(secret) > MaxNameLen {
		return nil, invalid("customer secret of %d bytes", len(secret))
	}
	c, err := s.store.FindCustomerBySecret(ctx, vendor, hashCustomerSecret(secret))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("%w: no customer has this secret", ErrCustomerNotFound)
	}
	if err != nil {
		return nil, err
	}
	return s.customerKeys(ctx, a, c.ID)
}

// customerKeys lists the customer's keys as the access may see them: only its locked product's and key, the
// fields its feature lock hides hidden.
func (s *Service) customerKeys(ctx context.Context, a *Access, customerID int64) ([]LicenseKeyObject, error) {
	keys, err := s.store.ListCustomerLicenseKeys(ctx, customerID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	products := map[int64]*storage.Product{}
	out := []LicenseKeyObject{}
	for _, k := range keys {
		if (a.token.ProductLock != 0 && a.token.ProductLock != k.ProductID) || a.keyAllowed(k) != nil {
			continue
		}
		p, seen := products[k.ProductID]
		if !seen {
			got, err := s.product(ctx, a, k.ProductID)
			if err != nil && !errors.Is(err, ErrProductNotFound) {
				return nil, err
			}
			if err == nil {
				p = &got
			}
			products[k.ProductID] = p
		}
		if p == nil {
			continue
		}
		acts, err := s.store.ListActivations(ctx, k.GlobalID)
		if err != nil {
			return nil, err
		}
		l := s.view(*p, k, acts, a, 0, now)
		if l.Hidden.Has(HideActivatedMachines) {
			l.Machines = nil
		}
		if l, err = s.withCustomer(ctx, l); err != nil {
			return nil, err
		}
		out = append(out, linqSignKey(l, now))
	}
	return out, nil
}
