package license

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

// KeyEdit changes a license key; nil fields stay as they are.
type KeyEdit struct {
	Features    *[8]bool // the whole set
	Notes       *string
	MaxMachines *int
	CustomerID  *int64 // 0 unlinks
	Blocked     *bool
	ExpiresAt   *time.Time // at most MaxExpiry
}

// methodSetExpiry names the expiry's change in the audit log (license.key.setexpiry): no API call sets it.
const methodSetExpiry Method = "SetExpiry"

// keyEditEvent is one audited change of an edit: the method whose own call makes the same change.
type keyEditEvent struct {
	m      Method
	detail string
}

// EditKey applies e to a key of a product the access reaches, in one transaction: every change or none. check,
// when set, runs on the stored key inside that transaction before the change and may refuse it (a stale ETag);
// its error is returned as it is. Each field is allowed and audited as its own call is (AddFeature,
// ChangeNotes, …: one event per field that changed, so the log reads the same whichever way the change came);
// the expiry, which no single call sets, needs vendor access and is audited as license.key.setexpiry.
func (s *Service) EditKey(ctx context.Context, a *Access, productID int64, key string, e KeyEdit,
	check func(storage.LicenseKey) error) (storage.LicenseKey, error) {
	if e.Notes != nil {
		if err := checkNotes(*e.Notes); err != nil {
			return storage.LicenseKey{}, err
		}
	}
	if e.MaxMachines != nil && (*e.MaxMachines < 0 || *e.MaxMachines > MaxMachines) {
		return storage.LicenseKey{}, invalid("NumberOfMachines %d", *e.MaxMachines)
	}
	if e.CustomerID != nil && *e.CustomerID < 0 {
		return storage.LicenseKey{}, invalid("customer id %d", *e.CustomerID)
	}
	var expires time.Time
	if e.ExpiresAt != nil {
		expires = e.ExpiresAt.UTC().Truncate(time.Second)
		if expires.Before(time.Unix(0, 0)) || expires.After(MaxExpiry) {
			return storage.LicenseKey{}, invalid("a key cannot expire after %s", MaxExpiry.Format(time.RFC3339))
		}
	}
	p, err := s.product(ctx, a, productID)
	if err != nil {
		return storage.LicenseKey{}, err
	}
	key, err = normalizeKey(key)
	if err != nil {
		return storage.LicenseKey{}, err
	}
	// The authority of every field given, before anything is read: a refusal is audited as the single call's.
	refuse := func(m Method, err error) (storage.LicenseKey, error) {
		s.record(ctx, a, p.Vendor, "license.key."+strings.ToLower(string(m)), keyDetail(p.ID, key), err)
		return storage.LicenseKey{}, err
	}
	for _, m := range e.methods() {
		if err := a.allow(m); err != nil {
			return refuse(m, err)
		}
	}
	if e.ExpiresAt != nil && a.tokenID != 0 {
		return refuse(methodSetExpiry, fmt.Errorf("%w: setting a key's expiry needs vendor access, not an API token", ErrAccessDenied))
	}
	if e.CustomerID != nil && *e.CustomerID != 0 {
		if _, err := s.customer(ctx, p.Vendor, *e.CustomerID); err != nil {
			return storage.LicenseKey{}, err
		}
	}
	var events []keyEditEvent
	var out storage.LicenseKey
	_, _, err = s.store.UpdateActivations(ctx, p.ID, key, func(k storage.LicenseKey, _ []storage.Activation) (storage.ActivationChanges, error) {
		events = events[:0] // a retried transaction starts over
		if err := a.keyAllowed(k); err != nil {
			return storage.ActivationChanges{}, err
		}
		if check != nil {
			if err := check(k); err != nil {
				return storage.ActivationChanges{}, err
			}
		}
		if err := e.apply(&k, expires, &events); err != nil {
			return storage.ActivationChanges{}, err
		}
		out = k
		return storage.ActivationChanges{Key: &k}, nil
	})
	if errors.Is(err, storage.ErrNotFound) {
		err = ErrKeyNotFound
	}
	if err != nil {
		if errors.Is(err, ErrAccessDenied) { // the key lock: audited as a refusal of the first change
			if ms := e.methods(); len(ms) > 0 {
				return refuse(ms[0], err)
			}
		}
		return storage.LicenseKey{}, err
	}
	for _, ev := range events {
		s.record(ctx, a, p.Vendor, "license.key."+strings.ToLower(string(ev.m)), keyDetail(p.ID, key)+ev.detail, nil)
	}
	return out, nil
}

// methods are the single calls whose authority the edit needs.
func (e KeyEdit) methods() []Method {
	var ms []Method
	if e.CustomerID != nil {
		ms = append(ms, MethodChangeCustomer)
	}
	if e.Notes != nil {
		ms = append(ms, MethodChangeNotes)
	}
	if e.MaxMachines != nil {
		ms = append(ms, MethodMachineLockLimit)
	}
	if e.Features != nil { // the whole set: it may turn features on and off
		ms = append(ms, MethodAddFeature, MethodRemoveFeature)
	}
	if e.Blocked != nil {
		if *e.Blocked {
			ms = append(ms, MethodBlockKey)
		} else {
			ms = append(ms, MethodUnblockKey)
		}
	}
	return ms
}

// apply changes k, noting an event for each field whose value changes.
func (e KeyEdit) apply(k *storage.LicenseKey, expires time.Time, events *[]keyEditEvent) error {
	note := func(m Method, detail string) { *events = append(*events, keyEditEvent{m, detail}) }
	if e.CustomerID != nil && k.CustomerID != *e.CustomerID {
		k.CustomerID = *e.CustomerID
		note(MethodChangeCustomer, fmt.Sprintf(" customer=%d", *e.CustomerID))
	}
	if e.Notes != nil && k.Notes != *e.Notes {
		k.Notes = *e.Notes
		note(MethodChangeNotes, "")
	}
	if e.MaxMachines != nil && k.MaxNoOfMachines != *e.MaxMachines {
		k.MaxNoOfMachines = *e.MaxMachines
		note(MethodMachineLockLimit, fmt.Sprintf(" max_machines=%d", *e.MaxMachines))
	}
	if e.Features != nil {
		for i, on := range e.Features {
			if k.Features[i] == on {
				continue
			}
			k.Features[i] = on
			if on {
				note(MethodAddFeature, fmt.Sprintf(" feature=%d", i+1))
			} else {
				note(MethodRemoveFeature, fmt.Sprintf(" feature=%d", i+1))
			}
		}
	}
	if e.ExpiresAt != nil && !k.ExpiresAt.Equal(expires) {
		if k.TrialActivation && k.TrialStartedAt.IsZero() {
			// The first activation sets the expiry from the period; one set now would be overwritten then.
			return invalid("the key's period starts at its first activation; extend the period instead")
		}
		k.ExpiresAt = expires
		note(methodSetExpiry, " expires="+expires.Format(time.RFC3339))
	}
	if e.Blocked != nil && k.Blocked != *e.Blocked {
		k.Blocked = *e.Blocked
		if *e.Blocked {
			note(MethodBlockKey, "")
		} else {
			note(MethodUnblockKey, "")
		}
	}
	return nil
}
