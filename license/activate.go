package license

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

// FieldMask hides fields of a license from the caller. A set bit hides the field; 0 shows everything. The bit
// values are those of Cryptolens' FieldsToReturn (named in its C++ client); which fields a mask hides is how
// Cryptolens documents it ("the Hide column"). A token's feature lock, on Activate and GetKey, is such a mask
// and is added to what the request asks to hide, so a client cannot unhide what its token hides.
type FieldMask int64

const (
	HideID                FieldMask = 1 << 1
	HideKey               FieldMask = 1 << 2
	HideNotes             FieldMask = 1 << 3
	HideGlobalID          FieldMask = 1 << 4
	HideCustomer          FieldMask = 1 << 5
	HideActivatedMachines FieldMask = 1 << 6 // then only the calling machine is listed
	HideAllowedMachines   FieldMask = 1 << 7
	HideMaxNoOfMachines   FieldMask = 1 << 8
	HideDataObjects       FieldMask = 1 << 9
)

// Has reports whether every bit of f is set in m.
func (m FieldMask) Has(f FieldMask) bool { return m&f == f }

// License is a key as one caller may see it: the answer of Activate and GetKey, ready to be signed.
type License struct {
	Product  storage.Product
	Key      storage.LicenseKey
	Customer *storage.Customer // nil if none
	Reseller *storage.Reseller // nil if none
	// Machines are the activations the answer lists: the node-locked ones, or for a floating activation only
	// the calling machine (Cryptolens lists no other floating machines), or only the calling machine when the
	// mask hides ActivatedMachines.
	Machines []storage.Activation
	// DataObjects are the key's own data objects (not its machines'), none when the mask hides them.
	DataObjects []storage.DataObject
	Hidden      FieldMask
	// Counts for Cryptolens' metadata.
	NodeLocked     int // node-locked machines
	FloatingInUse  int // floating machines whose time has not run out
	Expired        bool
	BlockedExpired bool // blocked because expired in a product that blocks expired keys
	At             time.Time
}

// Mid is the machine id Cryptolens shows for an activation: floating ones carry the "floating:" prefix,
// overdraft ones "floating:overdraft:" (19 characters, the offset Cryptolens' clients strip).
func Mid(a storage.Activation) string {
	switch {
	case a.Floating && a.Overdraft:
		return "floating:overdraft:" + a.MachineCode
	case a.Floating:
		return "floating:" + a.MachineCode
	}
	return a.MachineCode
}

// ActivateRequest is one machine asking to use a key.
type ActivateRequest struct {
	ProductID    int64
	Key          string
	MachineCode  string
	FriendlyName string
	IP           string
	// FloatingInterval > 0 makes this a floating activation that lasts that long unless renewed.
	FloatingInterval time.Duration
	// MaxOverdraft floating machines may be admitted beyond MaxNoOfMachines.
	MaxOverdraft int
	// Hide is what the caller asks to leave out (Cryptolens' FieldsToReturn).
	Hide FieldMask
}

func (r ActivateRequest) check() error {
	if err := CheckText("machine code", r.MachineCode, MaxMachineCodeLen); err != nil {
		return err
	}
	if err := CheckText("friendly name", r.FriendlyName, MaxFriendlyNameLen); err != nil {
		return err
	}
	if r.FloatingInterval < 0 || r.FloatingInterval > MaxFloatingInterval {
		return invalid("floating interval %v", r.FloatingInterval)
	}
	if r.MaxOverdraft < 0 || r.MaxOverdraft > MaxMachines {
		return invalid("MaxOverdraft %d", r.MaxOverdraft)
	}
	if r.Hide < 0 {
		return invalid("FieldsToReturn %d", r.Hide)
	}
	return nil
}

// blockedNow reports whether the key may not be used at t: blocked, or expired in a product that blocks
// expired keys. Like Cryptolens, a trial-activation key whose countdown has not started is not blocked for
// its expiry, so pre-made keys stay usable.
func blockedNow(p storage.Product, k storage.LicenseKey, t time.Time) (blocked, forExpiry bool) {
	if k.Blocked {
		return true, false
	}
	if p.BlockExpired && expired(k, t) && !(k.TrialActivation && k.TrialStartedAt.IsZero()) {
		return true, true
	}
	return false, false
}

func expired(k storage.LicenseKey, t time.Time) bool {
	return !k.ExpiresAt.IsZero() && t.After(k.ExpiresAt)
}

// AllowedMachine reports whether mc is listed in the key's AllowedMachines (one a line).
func AllowedMachine(k storage.LicenseKey, mc string) bool {
	if mc == "" || k.AllowedMachines == "" {
		return false
	}
	for line := range strings.Lines(k.AllowedMachines) {
		if strings.TrimSpace(line) == mc {
			return true
		}
	}
	return false
}

// Activate records the machine on the key (unless the key records no machines: MaxNoOfMachines 0) and returns
// the license. Re-activating a machine is not a new seat. A machine listed in AllowedMachines is admitted
// even at the limit. Floating activations (FloatingInterval > 0) hold a seat until they run out, and renewing
// one extends it. The seat decision and its write are one transaction: of two machines racing for the last
// seat, one gets it and the other ErrMachineLimit.
func (s *Service) Activate(ctx context.Context, a *Access, req ActivateRequest) (_ License, err error) {
	defer func() { s.recordActivation(ctx, a, "license.activate", req.ProductID, req.Key, req.MachineCode, err) }()
	if err := a.allow(MethodActivate); err != nil {
		return License{}, err
	}
	if err := req.check(); err != nil {
		return License{}, err
	}
	p, err := s.product(ctx, a, req.ProductID)
	if err != nil {
		return License{}, err
	}
	key, err := normalizeKey(req.Key)
	if err != nil {
		return License{}, err
	}
	now := s.now()
	floating := req.FloatingInterval > 0
	fresh := false
	k, acts, err := s.store.UpdateActivations(ctx, p.ID, key, func(k storage.LicenseKey, acts []storage.Activation) (storage.ActivationChanges, error) {
		ch, err := DecideActivate(a, p, k, acts, req, now)
		fresh = err == nil && (k.MaxNoOfMachines <= 0 || NewSeat(acts, ch, now))
		return ch, err
	})
	if errors.Is(err, storage.ErrNotFound) {
		return License{}, ErrKeyNotFound
	}
	if err != nil {
		return License{}, err
	}
	if fresh {
		s.NoteActivation(p.ID)
	}
	l := s.view(p, k, acts, a, req.Hide, now)
	switch {
	case k.MaxNoOfMachines <= 0:
		l.Machines = nil
	case floating:
		l.Machines = pick(acts, func(x storage.Activation) bool { return x.Floating && x.MachineCode == req.MachineCode })
	case l.Hidden.Has(HideActivatedMachines):
		l.Machines = pick(acts, func(x storage.Activation) bool { return !x.Floating && x.MachineCode == req.MachineCode })
	}
	return s.withCustomer(ctx, l)
}

// DecideActivate is the seat decision, run with the key locked (inside storage's UpdateActivations). Activate
// runs it; so does any other activation front end that adds rules of its own around it.
func DecideActivate(a *Access, p storage.Product, k storage.LicenseKey, acts []storage.Activation, req ActivateRequest, now time.Time) (storage.ActivationChanges, error) {
	var ch storage.ActivationChanges
	if err := a.keyAllowed(k); err != nil {
		return ch, err
	}
	if blocked, _ := blockedNow(p, k, now); blocked {
		return ch, ErrKeyBlocked
	}
	if k.MaxNoOfMachines > 0 && req.MachineCode == "" {
		return ch, invalid("the key is node-locked and no machine code was given")
	}
	if k.TrialActivation && k.TrialStartedAt.IsZero() {
		exp, err := addDays("period", now, k.Period)
		if err != nil {
			exp = MaxExpiry // a period stored before periods were bounded
		}
		k.TrialStartedAt, k.ExpiresAt = now, exp
		ch.Key = &k
	}
	if k.MaxNoOfMachines <= 0 {
		return ch, nil // Cryptolens: with no limit, machine codes are not recorded
	}
	allowed := AllowedMachine(k, req.MachineCode)
	if req.FloatingInterval <= 0 {
		var n int
		for _, x := range acts {
			if x.Floating {
				continue
			}
			if x.MachineCode == req.MachineCode {
				return ch, nil // already activated
			}
			n++
		}
		if n >= k.MaxNoOfMachines && !allowed {
			return ch, ErrMachineLimit
		}
		ch.Put = append(ch.Put, storage.Activation{MachineCode: req.MachineCode, FriendlyName: req.FriendlyName,
			IP: req.IP, ActivatedAt: now})
		return ch, nil
	}

	// Floating: seats whose time ran out are freed (and their records removed) before counting.
	var mine *storage.Activation
	active := 0
	for _, x := range acts {
		if !x.Floating {
			continue
		}
		if !x.FloatingExpiresAt.After(now) {
			ch.Delete = append(ch.Delete, x)
			continue
		}
		if x.MachineCode == req.MachineCode {
			mine = &x
			continue
		}
		active++
	}
	next := storage.Activation{MachineCode: req.MachineCode, Floating: true, FriendlyName: req.FriendlyName,
		IP: req.IP, ActivatedAt: now, FloatingExpiresAt: now.Add(req.FloatingInterval)}
	switch {
	case mine != nil: // a heartbeat: renew, keeping when and how it was admitted
		next.ActivatedAt, next.Overdraft = mine.ActivatedAt, mine.Overdraft
	case active < k.MaxNoOfMachines || allowed:
	case active < k.MaxNoOfMachines+req.MaxOverdraft:
		next.Overdraft = true
	default:
		return storage.ActivationChanges{}, ErrMachineLimit
	}
	ch.Delete = slices.DeleteFunc(ch.Delete, func(x storage.Activation) bool { return x.MachineCode == req.MachineCode })
	ch.Put = append(ch.Put, next)
	return ch, nil
}

// GetKey returns the license without recording anything.
func (s *Service) GetKey(ctx context.Context, a *Access, productID int64, key string, hide FieldMask) (License, error) {
	if err := a.allow(MethodGetKey); err != nil {
		return License{}, err
	}
	if hide < 0 {
		return License{}, invalid("FieldsToReturn %d", hide)
	}
	p, err := s.product(ctx, a, productID)
	if err != nil {
		return License{}, err
	}
	k, err := s.getKey(ctx, p.ID, key)
	if err != nil {
		return License{}, err
	}
	if err := a.keyAllowed(k); err != nil {
		return License{}, err
	}
	now := s.now()
	if blocked, _ := blockedNow(p, k, now); blocked {
		return License{}, ErrKeyBlocked
	}
	acts, err := s.store.ListActivations(ctx, k.GlobalID)
	if err != nil {
		return License{}, err
	}
	l := s.view(p, k, acts, a, hide, now)
	if l.Hidden.Has(HideActivatedMachines) {
		l.Machines = nil // GetKey has no calling machine to show
	}
	return s.withCustomer(ctx, l)
}

// view builds the license as the caller may see it; Machines defaults to the node-locked activations.
func (s *Service) view(p storage.Product, k storage.LicenseKey, acts []storage.Activation, a *Access, hide FieldMask, now time.Time) License {
	l := License{Product: p, Key: k, Hidden: hide | FieldMask(a.token.FeatureLock), At: now, Expired: expired(k, now)}
	_, l.BlockedExpired = blockedNow(p, k, now)
	for _, x := range acts {
		switch {
		case !x.Floating:
			l.NodeLocked++
			l.Machines = append(l.Machines, x)
		case x.FloatingExpiresAt.After(now):
			l.FloatingInUse++
		}
	}
	return l
}

// withCustomer adds the key's data objects, customer and reseller, when it has them and they are still the vendor's.
func (s *Service) withCustomer(ctx context.Context, l License) (License, error) {
	l, err := s.withDataObjects(ctx, l)
	if err != nil {
		return License{}, err
	}
	if l.Key.ResellerID != 0 {
		r, err := s.reseller(ctx, l.Product.Vendor, l.Key.ResellerID)
		switch {
		case err == nil:
			l.Reseller = &r
		case !errors.Is(err, ErrResellerNotFound):
			return License{}, err
		}
	}
	if l.Key.CustomerID == 0 {
		return l, nil
	}
	c, err := s.customer(ctx, l.Product.Vendor, l.Key.CustomerID)
	if errors.Is(err, ErrCustomerNotFound) {
		return l, nil
	}
	if err != nil {
		return License{}, err
	}
	l.Customer = &c
	return l, nil
}

func pick(acts []storage.Activation, keep func(storage.Activation) bool) []storage.Activation {
	var out []storage.Activation
	for _, x := range acts {
		if keep(x) {
			out = append(out, x)
		}
	}
	return out
}

// DeactivateRequest releases a machine.
type DeactivateRequest struct {
	ProductID   int64
	Key         string
	MachineCode string
	// Floating releases the machine's floating seat (never an error if it has none) instead of its
	// node-locked activation (ErrNotActivated if it has none).
	Floating bool
}

// Deactivate removes a machine from a key.
func (s *Service) Deactivate(ctx context.Context, a *Access, req DeactivateRequest) (err error) {
	defer func() { s.recordActivation(ctx, a, "license.deactivate", req.ProductID, req.Key, req.MachineCode, err) }()
	if err := a.allow(MethodDeactivate); err != nil {
		return err
	}
	if err := CheckText("machine code", req.MachineCode, MaxMachineCodeLen); err != nil {
		return err
	}
	p, err := s.product(ctx, a, req.ProductID)
	if err != nil {
		return err
	}
	key, err := normalizeKey(req.Key)
	if err != nil {
		return err
	}
	now := s.now()
	_, _, err = s.store.UpdateActivations(ctx, p.ID, key, func(k storage.LicenseKey, acts []storage.Activation) (storage.ActivationChanges, error) {
		if err := a.keyAllowed(k); err != nil {
			return storage.ActivationChanges{}, err
		}
		if blocked, _ := blockedNow(p, k, now); blocked {
			return storage.ActivationChanges{}, ErrKeyBlocked
		}
		for _, x := range acts {
			if x.Floating == req.Floating && x.MachineCode == req.MachineCode {
				return storage.ActivationChanges{Delete: []storage.Activation{x}}, nil
			}
		}
		if req.Floating {
			return storage.ActivationChanges{}, nil
		}
		return storage.ActivationChanges{}, fmt.Errorf("%w: %q", ErrNotActivated, req.MachineCode)
	})
	if errors.Is(err, storage.ErrNotFound) {
		return ErrKeyNotFound
	}
	return err
}

// RemoveActivation is the vendor's or operator's removal of a machine (the CLI's "activation remove"): like a
// node-locked or floating Deactivate, but also on blocked keys, and only with a vendor's or operator's access.
func (s *Service) RemoveActivation(ctx context.Context, a *Access, productID int64, key, machineCode string, floating bool) (err error) {
	defer func() { s.recordActivation(ctx, a, "license.activation.remove", productID, key, machineCode, err) }()
	return s.removeActivation(ctx, a, productID, key, machineCode, floating, nil)
}

// removeActivation is RemoveActivation's core, unaudited. check, when set, sees the stored key in the
// transaction that frees the machine and may refuse (the customer's own page checks the key is still theirs).
func (s *Service) removeActivation(ctx context.Context, a *Access, productID int64, key, machineCode string, floating bool,
	check func(storage.LicenseKey) error) (err error) {
	if !a.all || a.tokenID != 0 {
		return fmt.Errorf("%w: removing activations needs vendor access", ErrAccessDenied)
	}
	p, err := s.product(ctx, a, productID)
	if err != nil {
		return err
	}
	key, err = normalizeKey(key)
	if err != nil {
		return err
	}
	_, _, err = s.store.UpdateActivations(ctx, p.ID, key, func(k storage.LicenseKey, acts []storage.Activation) (storage.ActivationChanges, error) {
		if check != nil {
			if err := check(k); err != nil {
				return storage.ActivationChanges{}, err
			}
		}
		for _, x := range acts {
			if x.Floating == floating && x.MachineCode == machineCode {
				return storage.ActivationChanges{Delete: []storage.Activation{x}}, nil
			}
		}
		return storage.ActivationChanges{}, fmt.Errorf("%w: %q", ErrNotActivated, machineCode)
	})
	if errors.Is(err, storage.ErrNotFound) {
		return ErrKeyNotFound
	}
	return err
}

// recordActivation audits an activation or a deactivation, granted or refused: refusals (a machine over the
// limit) are what a vendor looks for when a customer calls.
func (s *Service) recordActivation(ctx context.Context, a *Access, action string, productID int64, key, machine string, err error) {
	vendor := ""
	if a != nil {
		vendor = a.vendor
	}
	s.recordAny(ctx, a, vendor, action, fmt.Sprintf("%s machine=%q", keyDetail(productID, key), machine), err)
}

// NewSeat reports whether ch, the changes of an activation, gives a machine a seat it did not hold at now: not a
// re-activation, nor a floating seat's renewal. The usage history counts these.
func NewSeat(acts []storage.Activation, ch storage.ActivationChanges, now time.Time) bool {
	for _, put := range ch.Put {
		held := false
		for _, x := range acts {
			if x.Floating == put.Floating && x.MachineCode == put.MachineCode && (!x.Floating || x.FloatingExpiresAt.After(now)) {
				held = true
				break
			}
		}
		if !held {
			return true
		}
	}
	return false
}

// NoteActivation counts an activation of the product in the usage history (Options.Activated), for activation
// front ends that decide seats themselves (DecideActivate).
func (s *Service) NoteActivation(productID int64) {
	if s.activated != nil {
		s.activated(productID)
	}
}
