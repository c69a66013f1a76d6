package license

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/tokenmanager/tokenmanager/storage"
)

// KeySpec describes new license keys (Cryptolens' CreateKey parameters).
type KeySpec struct {
	Period          int // days from creation (or, with TrialActivation, from the first activation)
	Features        [8]bool
	Notes           string
	Blocked         bool
	CustomerID      int64 // an existing customer of the vendor; 0 for none
	TrialActivation bool
	MaxNoOfMachines int // 0: machines are not recorded
	AllowedMachines string
	// NewCustomer, if set, creates a customer for the key (needs the AddCustomer permission).
	NewCustomer *CustomerSpec
	// AddOrUseExistingCustomer, with NewCustomer, first looks for the vendor's customer with NewCustomer's
	// e-mail address and uses it; only if there is none is one created.
	AddOrUseExistingCustomer bool
	// ResellerID links the keys to a reseller of the vendor; 0 for none.
	ResellerID int64
	// NoOfKeys is how many keys to make alike (0 counts as 1), all or none.
	NoOfKeys int
}

func (k KeySpec) check() error {
	if k.Period < 0 || k.Period > MaxPeriodDays {
		return invalid("period %d days", k.Period)
	}
	if utf8.RuneCountInString(k.Notes) > MaxNotesLen {
		return invalid("notes are longer than %d characters", MaxNotesLen)
	}
	if err := checkLines("notes", k.Notes, MaxNotesLen*utf8.UTFMax); err != nil {
		return err
	}
	if k.MaxNoOfMachines < 0 || k.MaxNoOfMachines > MaxMachines {
		return invalid("MaxNoOfMachines %d", k.MaxNoOfMachines)
	}
	if k.CustomerID < 0 || k.ResellerID < 0 {
		return invalid("customer id %d, reseller id %d", k.CustomerID, k.ResellerID)
	}
	if k.NoOfKeys < 0 || k.NoOfKeys > MaxKeysPerCall {
		return invalid("NoOfKeys %d: from 1 to %d", k.NoOfKeys, MaxKeysPerCall)
	}
	if k.AddOrUseExistingCustomer && (k.NewCustomer == nil || strings.TrimSpace(k.NewCustomer.Email) == "") {
		return invalid("AddOrUseExistingCustomer needs the customer's e-mail")
	}
	return checkLines("allowed machines", k.AllowedMachines, MaxAllowedMachinesLen)
}

// CreatedKey is a new key, and the customer made (or, with AddOrUseExistingCustomer, found) for it if one was.
type CreatedKey struct {
	Key      storage.LicenseKey
	Keys     []storage.LicenseKey // every key made, Key first
	Customer *storage.Customer
}

// CreateKey makes a key for the product.
func (s *Service) CreateKey(ctx context.Context, a *Access, productID int64, spec KeySpec) (CreatedKey, error) {
	if err := a.allow(MethodCreateKey); err != nil {
		return CreatedKey{}, err
	}
	if spec.NewCustomer != nil {
		if err := a.allow(MethodAddCustomer); err != nil {
			return CreatedKey{}, err
		}
	}
	if err := a.mayCreateKeys(); err != nil {
		return CreatedKey{}, err
	}
	if err := spec.check(); err != nil {
		return CreatedKey{}, err
	}
	p, err := s.product(ctx, a, productID)
	if err != nil {
		return CreatedKey{}, err
	}
	var out CreatedKey
	if spec.ResellerID != 0 {
		if _, err := s.reseller(ctx, p.Vendor, spec.ResellerID); err != nil {
			return CreatedKey{}, err
		}
	}
	switch {
	case spec.NewCustomer != nil && spec.AddOrUseExistingCustomer:
		if err := spec.NewCustomer.check(); err != nil {
			return CreatedKey{}, err
		}
		c, err := s.store.FindCustomerByEmail(ctx, p.Vendor, spec.NewCustomer.Email)
		if errors.Is(err, storage.ErrNotFound) {
			c, err = s.CreateCustomer(ctx, a, p.Vendor, *spec.NewCustomer)
		}
		if err != nil {
			return CreatedKey{}, err
		}
		out.Customer, spec.CustomerID = &c, c.ID
	case spec.NewCustomer != nil:
		c, err := s.CreateCustomer(ctx, a, p.Vendor, *spec.NewCustomer)
		if err != nil {
			return CreatedKey{}, err
		}
		out.Customer, spec.CustomerID = &c, c.ID
	case spec.CustomerID != 0:
		if _, err := s.customer(ctx, p.Vendor, spec.CustomerID); err != nil {
			return CreatedKey{}, err
		}
	}
	now := s.now()
	expires, err := addDays("period", now, spec.Period)
	if err != nil {
		return CreatedKey{}, err
	}
	k := storage.LicenseKey{ProductID: p.ID, CreatedAt: now, Period: spec.Period, ExpiresAt: expires,
		Features: spec.Features, Notes: spec.Notes, Blocked: spec.Blocked, CustomerID: spec.CustomerID,
		TrialActivation: spec.TrialActivation, MaxNoOfMachines: spec.MaxNoOfMachines, AllowedMachines: spec.AllowedMachines,
		ResellerID: spec.ResellerID}
	if spec.NoOfKeys > 1 {
		out.Keys, err = s.insertKeys(ctx, k, spec.NoOfKeys)
	} else {
		k, err = s.insertKey(ctx, k)
		out.Keys = []storage.LicenseKey{k}
	}
	if err == nil {
		out.Key = out.Keys[0]
	}
	s.record(ctx, a, p.Vendor, "license.key.create", fmt.Sprintf("%s id=%d customer=%d reseller=%d keys=%d",
		keyDetail(p.ID, out.Key.Key), out.Key.ID, spec.CustomerID, spec.ResellerID, len(out.Keys)), err)
	if err != nil {
		return CreatedKey{}, err
	}
	return out, nil
}

// insertKeys stores n copies of k under fresh key strings in one transaction, drawing again on a clash.
func (s *Service) insertKeys(ctx context.Context, k storage.LicenseKey, n int) ([]storage.LicenseKey, error) {
	batch := make([]storage.LicenseKey, n)
	for range 5 {
		seen := make(map[string]bool, n)
		for i := range batch {
			batch[i] = k
			for batch[i].Key = NewKeyString(); seen[batch[i].Key]; batch[i].Key = NewKeyString() {
			}
			seen[batch[i].Key] = true
		}
		created, err := s.store.CreateLicenseKeys(ctx, batch)
		if errors.Is(err, storage.ErrConflict) {
			continue
		}
		return created, err
	}
	return nil, errors.New("license: could not draw unused key strings")
}

// insertKey stores k under a fresh random key string, drawing again on the (astronomically unlikely) clash.
func (s *Service) insertKey(ctx context.Context, k storage.LicenseKey) (storage.LicenseKey, error) {
	for range 5 {
		k.Key = NewKeyString()
		created, err := s.store.CreateLicenseKey(ctx, k)
		if errors.Is(err, storage.ErrConflict) {
			continue
		}
		return created, err
	}
	return storage.LicenseKey{}, errors.New("license: could not draw an unused key string")
}

// keyAlphabet is Cryptolens' key alphabet: upper-case letters (e.g. MUYVD-LSEBY-CXHRQ-XFAGY).
const keyAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

// NewKeyString returns XXXXX-XXXXX-XXXXX-XXXXX of 20 uniformly random letters from crypto/rand (94 bits).
func NewKeyString() string {
	const groups, per = 4, 5
	out := make([]byte, 0, groups*per+groups-1)
	var buf [64]byte
	n := 0
	for len(out) < cap(out) {
		if n == 0 {
			rand.Read(buf[:])
			n = len(buf)
		}
		n--
		b := buf[n]
		if b >= 26*9 { // 234..255 would bias the modulo
			continue
		}
		if len(out)%(per+1) == per {
			out = append(out, '-')
		}
		out = append(out, keyAlphabet[b%26])
	}
	return string(out)
}

// normalizeKey is how a presented key is looked up: Cryptolens keys are upper case; users paste them with
// stray spaces and in lower case.
func normalizeKey(key string) (string, error) {
	key = strings.ToUpper(strings.TrimSpace(key))
	if key == "" {
		return "", invalid("no key given")
	}
	if len(key) > MaxKeyLen {
		return "", invalid("key longer than %d bytes", MaxKeyLen)
	}
	return key, nil
}

// getKey reads a key of a checked product.
func (s *Service) getKey(ctx context.Context, productID int64, key string) (storage.LicenseKey, error) {
	key, err := normalizeKey(key)
	if err != nil {
		return storage.LicenseKey{}, err
	}
	k, err := s.store.GetLicenseKey(ctx, productID, key)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.LicenseKey{}, ErrKeyNotFound
	}
	return k, err
}

// CreateTrialKey makes (or finds again) a trial key for one machine: node-locked to it, valid for the token's
// feature lock in days (DefaultTrialDays without one). A machine that already has a trial key of the product
// that is not blocked gets the same key back, expired or not, so a trial cannot be restarted.
func (s *Service) CreateTrialKey(ctx context.Context, a *Access, productID int64, machineCode string) (storage.LicenseKey, error) {
	if err := a.allow(MethodCreateTrialKey); err != nil {
		return storage.LicenseKey{}, err
	}
	if err := a.mayCreateKeys(); err != nil {
		return storage.LicenseKey{}, err
	}
	if machineCode == "" {
		return storage.LicenseKey{}, invalid("a trial key needs a machine code")
	}
	if err := CheckText("machine code", machineCode, MaxMachineCodeLen); err != nil {
		return storage.LicenseKey{}, err
	}
	p, err := s.product(ctx, a, productID)
	if err != nil {
		return storage.LicenseKey{}, err
	}
	if k, err := s.store.FindTrialKey(ctx, p.ID, machineCode); err == nil && !k.Blocked {
		return k, nil
	} else if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return storage.LicenseKey{}, err
	}
	length := DefaultTrialDays
	if fl := a.token.FeatureLock; fl > 0 && fl <= MaxPeriodDays {
		length = int(fl)
	}
	now := s.now()
	expires, err := addDays("trial length", now, length)
	if err != nil {
		return storage.LicenseKey{}, err
	}
	k, err := s.insertKey(ctx, storage.LicenseKey{ProductID: p.ID, CreatedAt: now, Period: length,
		ExpiresAt: expires, MaxNoOfMachines: 1, AllowedMachines: machineCode, TrialMachine: machineCode})
	s.record(ctx, a, p.Vendor, "license.key.create_trial", fmt.Sprintf("%s id=%d days=%d", keyDetail(p.ID, k.Key), k.ID, length), err)
	return k, err
}

// ListKeys returns the product's keys.
func (s *Service) ListKeys(ctx context.Context, a *Access, productID int64) ([]storage.LicenseKey, error) {
	if _, err := s.product(ctx, a, productID); err != nil {
		return nil, err
	}
	return s.store.ListLicenseKeys(ctx, productID)
}

// KeyDetails is a key with its customer and every activation, for vendors' tools.
type KeyDetails struct {
	Key         storage.LicenseKey
	Customer    *storage.Customer
	Activations []storage.Activation
}

// ShowKey returns a key with its customer and activations.
func (s *Service) ShowKey(ctx context.Context, a *Access, productID int64, key string) (KeyDetails, error) {
	p, err := s.product(ctx, a, productID)
	if err != nil {
		return KeyDetails{}, err
	}
	k, err := s.getKey(ctx, p.ID, key)
	if err != nil {
		return KeyDetails{}, err
	}
	if err := a.keyAllowed(k); err != nil {
		return KeyDetails{}, err
	}
	d := KeyDetails{Key: k}
	if k.CustomerID != 0 {
		if c, err := s.customer(ctx, p.Vendor, k.CustomerID); err == nil {
			d.Customer = &c
		}
	}
	d.Activations, err = s.store.ListActivations(ctx, k.GlobalID)
	return d, err
}

type keyCheckKey struct{}

// WithKeyCheck makes the key changes called with the context run check on the key as stored, in the change's
// own transaction, before changing it; its error refuses the change. The management API checks If-Match so.
func WithKeyCheck(ctx context.Context, check func(storage.LicenseKey) error) context.Context {
	return context.WithValue(ctx, keyCheckKey{}, check)
}

// updateKey changes a key of a product the access reaches, checking the method and the key lock.
func (s *Service) updateKey(ctx context.Context, a *Access, m Method, productID int64, key string,
	change func(k *storage.LicenseKey) error) error {
	if err := a.allow(m); err != nil {
		return err
	}
	p, err := s.product(ctx, a, productID)
	if err != nil {
		return err
	}
	key, err = normalizeKey(key)
	if err != nil {
		return err
	}
	_, _, err = s.store.UpdateActivations(ctx, p.ID, key, func(k storage.LicenseKey, _ []storage.Activation) (storage.ActivationChanges, error) {
		if err := a.keyAllowed(k); err != nil {
			return storage.ActivationChanges{}, err
		}
		if check, ok := ctx.Value(keyCheckKey{}).(func(storage.LicenseKey) error); ok {
			if err := check(k); err != nil {
				return storage.ActivationChanges{}, err
			}
		}
		if err := change(&k); err != nil {
			return storage.ActivationChanges{}, err
		}
		return storage.ActivationChanges{Key: &k}, nil
	})
	if errors.Is(err, storage.ErrNotFound) {
		err = ErrKeyNotFound
	}
	// One event per method that changes a key: license.key.blockkey, license.key.extendlicense, …
	s.record(ctx, a, p.Vendor, "license.key."+strings.ToLower(string(m)), keyDetail(p.ID, key), err)
	return err
}

// BlockKey blocks (or, with blocked false, unblocks) a key.
func (s *Service) BlockKey(ctx context.Context, a *Access, productID int64, key string, blocked bool) error {
	m := MethodBlockKey
	if !blocked {
		m = MethodUnblockKey
	}
	return s.updateKey(ctx, a, m, productID, key, func(k *storage.LicenseKey) error {
		k.Blocked = blocked
		return nil
	})
}

// ExtendLicense moves a key's expiry n days later. An extension past MaxExpiry is refused (ErrInvalidInput)
// and changes nothing, however many extensions came before it.
func (s *Service) ExtendLicense(ctx context.Context, a *Access, productID int64, key string, n int) error {
	if n < 0 || n > MaxPeriodDays {
		return invalid("NoOfDays %d", n)
	}
	return s.updateKey(ctx, a, MethodExtendLicense, productID, key, func(k *storage.LicenseKey) error {
		from := k.ExpiresAt
		if from.IsZero() {
			from = s.now()
		}
		expires, err := addDays("NoOfDays", from, n)
		if err != nil {
			return err
		}
		if k.TrialActivation && k.TrialStartedAt.IsZero() {
			// The countdown has not started; the first activation will recompute the expiry from the period,
			// which therefore stays within the bound a new key's period has.
			if k.Period+n > MaxPeriodDays {
				return invalid("the trial period would be %d days, more than %d", k.Period+n, MaxPeriodDays)
			}
			k.Period += n
		}
		k.ExpiresAt = expires
		return nil
	})
}
