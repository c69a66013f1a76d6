// Package license is the licensing domain: vendors' products with their signing keys, customers, license keys,
// the machines activated on them, and the access tokens of the licensing API with their permissions and locks.
//
// It is transport-free: the Cryptolens-compatible HTTP API, the SOAP LicenseService and the CLI all call the
// same Service methods and translate its errors (ErrAccessDenied, ErrKeyNotFound, …) into their own wire form.
// Every method takes an *Access, the authority of the caller: an API token (Authenticate), a vendor signed in
// some other way (Vendor) or the operator at the command line (Admin).
package license

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/tokenmanager/tokenmanager/keys"
	"github.com/tokenmanager/tokenmanager/storage"
)

// Errors callers map to their wire. Each may be wrapped with detail for logs; test with errors.Is.
var (
	// ErrUnauthenticated: unknown, malformed, revoked or expired token, or its vendor is disabled.
	ErrUnauthenticated = errors.New("license: unable to authenticate")
	// ErrAccessDenied: the token may not call this method, or a product or key lock forbids the target.
	ErrAccessDenied = errors.New("license: access denied")
	// ErrInvalidInput: a missing, malformed or out-of-range parameter.
	ErrInvalidInput = errors.New("license: invalid input")
	// ErrProductNotFound: no such product, or it belongs to another vendor.
	ErrProductNotFound = errors.New("license: product not found")
	// ErrKeyNotFound: the product has no such key.
	ErrKeyNotFound = errors.New("license: key not found")
	// ErrCustomerNotFound: the vendor has no such customer.
	ErrCustomerNotFound = errors.New("license: customer not found")
	// ErrKeyBlocked: the key is blocked (or expired in a product that blocks expired keys).
	ErrKeyBlocked = errors.New("license: key blocked")
	// ErrMachineLimit: activating another machine would exceed the key's limit.
	ErrMachineLimit = errors.New("license: machine limit reached")
	// ErrNotActivated: a node-locked deactivation of a machine that is not activated.
	ErrNotActivated = errors.New("license: machine not activated")
	// ErrNotVendor: the user does not exist, is disabled or has no vendor role.
	ErrNotVendor = errors.New("license: not a vendor")
)

// invalid wraps ErrInvalidInput with what was wrong.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidInput}, args...)...)
}

// Bounds on what callers may store; the wire parsers bound their input before this.
const (
	MaxKeyLen             = 100
	MaxMachineCodeLen     = 512
	MaxFriendlyNameLen    = 512
	MaxNotesLen           = 500 // Cryptolens' documented limit, in characters
	MaxAllowedMachinesLen = 16 << 10
	MaxNameLen            = 256 // product, customer and token names, e-mail, company
	MaxPeriodDays         = 100 * 366
	MaxMachines           = 1_000_000
	MaxFloatingInterval   = 10 * 365 * 24 * time.Hour
	DefaultTrialDays      = 15 // CreateTrialKey's length when the token has no feature lock
)

// Store is the storage the service needs.
type Store interface {
	storage.Licensing
	storage.LicenseCatalog
	storage.Users
	dataStore // dataobjects.go
	storage.CustomerAccounts
	storage.LicenseActivity
	storage.Removals // deleting a product
	storage.Accounts // the customers' own account pages (account.go)
}

// Options configure a Service.
type Options struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// GenerateKey makes a new product's key pair; nil means RSA-2048 from crypto/rand. Cryptolens clients
	// expect 2048-bit keys (the Python client decodes signatures as exactly 256 bytes).
	GenerateKey func() (*rsa.PrivateKey, error)
	// Passwords hashes and checks end users' passwords (userauth/); nil means argon2id with the default
	// cost, unbounded in concurrency.
	Passwords Passwords
	// Audit receives the licensing changes (nil: none are recorded).
	Audit Auditor
	// CallLog receives the web API log, one entry per licensing call (nil: none is kept).
	CallLog CallLogger
	// Activated, if set, is told of each machine newly activated on a key of a product (not a re-activation
	// or a renewal; every successful activation of a key that records no machines): the usage history counts
	// them. It must not block.
	Activated func(productID int64)
}

// signerEntry is an opened private key with the sealed bytes it came from: when another node rotates the
// product's key, the stored bytes differ and the key is opened again.
type signerEntry struct {
	sealed []byte
	priv   *rsa.PrivateKey
}

// Service is the licensing core.
type Service struct {
	store  Store
	sealer *keys.Sealer
	now    func() time.Time
	genKey func() (*rsa.PrivateKey, error)
	audit  Auditor
	calls  CallLogger
	// activated counts new activations (Options.Activated); nil counts none.
	activated func(productID int64)

	mu      sync.Mutex
	signers map[int64]signerEntry // opened product keys by product id

	pw     Passwords // end users' passwords; see passwords()
	pwOnce sync.Once
}

// New returns a Service over store. sealer seals the products' private keys; make it with
// keys.NewSealerFor(master, keys.PurposeLicenseSigningKeys).
func New(store Store, sealer *keys.Sealer, o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.GenerateKey == nil {
		o.GenerateKey = func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) }
	}
	return &Service{store: store, sealer: sealer, now: o.Now, genKey: o.GenerateKey, signers: map[int64]signerEntry{},
		pw: o.Passwords, audit: o.Audit, calls: o.CallLog,
		activated: o.Activated}
}

// Now is the service's clock, for callers that stamp what they return (a signature's date).
func (s *Service) Now() time.Time { return s.now() }

// AddVendor gives an existing, enabled user the vendor role.
func (s *Service) AddVendor(ctx context.Context, user string) error {
	u, err := s.store.GetUser(ctx, user)
	if errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("%w: no user %q", ErrNotVendor, user)
	}
	if err != nil {
		return err
	}
	if u.Disabled {
		return fmt.Errorf("%w: user %q is disabled", ErrNotVendor, user)
	}
	err = s.store.AddVendor(ctx, storage.Vendor{Name: user, CreatedAt: s.now()})
	s.record(ctx, Admin(), user, "license.vendor.add", "", err)
	return err
}

// ListVendors returns every vendor.
func (s *Service) ListVendors(ctx context.Context) ([]storage.Vendor, error) {
	return s.store.ListVendors(ctx)
}

// checkVendor reports ErrNotVendor unless name is an enabled user with the vendor role.
func (s *Service) checkVendor(ctx context.Context, name string) error {
	if _, err := s.store.GetVendor(ctx, name); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("%w: %q", ErrNotVendor, name)
		}
		return err
	}
	u, err := s.store.GetUser(ctx, name)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && u.Disabled) {
		return fmt.Errorf("%w: user %q is missing or disabled", ErrNotVendor, name)
	}
	return err
}

// days converts a number of days to a duration.
func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }
