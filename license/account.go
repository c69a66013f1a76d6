package license

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

// A customer's own view of their licenses (the /account/ pages): a server user linked to customer records
// (storage.Customer.User) sees the keys of every such record, of every vendor that linked them, and may free
// machines from a key when the key's product allows it (Product.AllowActivationManagement) or the customer
// record does (storage.CustomerActivationManagement, Cryptolens' AllowActivationManagement).

// MaxAccountKeys bounds the keys one account page lists.
const MaxAccountKeys = 500

// AccountKey is one license key as its customer sees it.
type AccountKey struct {
	Customer storage.Customer
	Product  storage.Product
	Key      storage.LicenseKey
	Machines []storage.Activation
	// Blocked: the key is blocked, or past its expiry in a product that treats expired keys as blocked.
	Blocked bool
	// CanFree: the customer may free the key's machines (ManagesActivations).
	CanFree bool
}

// ManagesActivations reports whether customer c may free machines of a key of product p themselves: the
// product allows it for all its customers, or the vendor allowed this customer.
func ManagesActivations(p storage.Product, c storage.Customer) bool {
	return p.AllowActivationManagement || c.Flags&storage.CustomerActivationManagement != 0
}

// AccountKeys returns the keys of every customer record linked to user, with their machines, ordered by
// vendor, customer and key; at most MaxAccountKeys (more reports true).
func (s *Service) AccountKeys(ctx context.Context, user string) (keys []AccountKey, more bool, err error) {
	if user == "" {
		return nil, false, nil
	}
	customers, err := s.store.ListCustomersOfUser(ctx, user)
	if err != nil {
		return nil, false, err
	}
	products := map[int64]storage.Product{}
	now := s.now()
	for _, c := range customers {
		ks, err := s.store.ListCustomerLicenseKeys(ctx, c.ID)
		if err != nil {
			return nil, false, err
		}
		for _, k := range ks {
			if len(keys) == MaxAccountKeys {
				return keys, true, nil
			}
			p, ok := products[k.ProductID]
			if !ok {
				if p, err = s.store.GetProduct(ctx, k.ProductID); err != nil {
					return nil, false, err
				}
				products[k.ProductID] = p
			}
			if p.Vendor != c.Vendor { // a key's customer is its vendor's; never show another vendor's key
				continue
			}
			acts, err := s.store.ListActivations(ctx, k.GlobalID)
			if err != nil {
				return nil, false, err
			}
			keys = append(keys, AccountKey{Customer: c, Product: p, Key: k, Machines: acts,
				Blocked: k.Blocked || (p.BlockExpired && expired(k, now)), CanFree: ManagesActivations(p, c)})
		}
	}
	return keys, false, nil
}

// FreeAccountMachine frees machine (floating or node-locked) from the key with this GlobalID, for user: the
// key must belong to one of the user's customer records (else ErrKeyNotFound, as for no key at all) and its
// product or customer must allow activation management (else ErrAccessDenied); ErrNotActivated if the
// machine is not on the key. The ownership and the setting are checked again in the transaction that frees
// the machine. Audited as license.activation.remove with user as the actor.
func (s *Service) FreeAccountMachine(ctx context.Context, user string, globalID int64, machine string, floating bool) (err error) {
	ctx = WithActor(ctx, user)
	if user == "" || globalID <= 0 || machine == "" || len(machine) > MaxMachineCodeLen {
		return invalid("no such key or machine")
	}
	customers, err := s.store.ListCustomersOfUser(ctx, user)
	if err != nil {
		return err
	}
	mine := map[int64]storage.Customer{}
	for _, c := range customers {
		mine[c.ID] = c
	}
	k, err := s.store.GetLicenseKeyByGlobalID(ctx, globalID)
	if errors.Is(err, storage.ErrNotFound) {
		err = ErrKeyNotFound
	}
	var p storage.Product
	if err == nil {
		p, err = s.store.GetProduct(ctx, k.ProductID)
	}
	if err == nil {
		err = accountKeyCheck(p, mine)(k)
	}
	if err != nil {
		if errors.Is(err, ErrKeyNotFound) || errors.Is(err, ErrAccessDenied) {
			s.recordAny(ctx, nil, "", "license.activation.remove", fmt.Sprintf("key_global_id=%d machine=%q", globalID, machine), err)
		}
		return err
	}
	vendor := &Access{vendor: p.Vendor, all: true}
	defer func() { s.recordActivation(ctx, vendor, "license.activation.remove", p.ID, k.Key, machine, err) }()
	return s.removeActivation(ctx, vendor, p.ID, k.Key, machine, floating, accountKeyCheck(p, mine))
}

// accountKeyCheck refuses a key of product p that is not one of the customers' or whose machines they may
// not free.
func accountKeyCheck(p storage.Product, customers map[int64]storage.Customer) func(storage.LicenseKey) error {
	return func(k storage.LicenseKey) error {
		c, ok := customers[k.CustomerID]
		if k.CustomerID == 0 || !ok || c.Vendor != p.Vendor || k.ProductID != p.ID {
			return ErrKeyNotFound
		}
		if !ManagesActivations(p, c) {
			return fmt.Errorf("%w: product %d does not let its customers free machines", ErrAccessDenied, p.ID)
		}
		return nil
	}
}

// DaysLeft is the days from now until the key expires, a part of a day counted as one (a key made for 30
// days has 30 left, not 29 and some hours); 0 once expired.
func DaysLeft(k storage.LicenseKey, now time.Time) int {
	if k.ExpiresAt.IsZero() || !now.Before(k.ExpiresAt) {
		return 0
	}
	const day = 24 * time.Hour
	return int((k.ExpiresAt.Sub(now) + day - 1) / day)
}
