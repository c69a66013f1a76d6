package storage

import (
	"context"
	"time"
)

// Licensing records. Vendors are users allowed to sell software; each owns products, customers and the API
// tokens that reach them. A product's RSA private key is stored only sealed with the server key, an API
// token only as a hash of its secret.

// Vendor marks a user as a software vendor.
type Vendor struct {
	Name      string // the user's name
	CreatedAt time.Time
}

// Product is something a vendor licenses. Its key pair signs the licenses issued for it.
type Product struct {
	ID        int64 // assigned by the store, never reused
	Vendor    string
	Name      string
	PublicKey []byte // PKIX DER of the RSA public key
	// SealedPrivateKey is the PKCS #8 DER of the RSA private key, sealed with the server key; it is bound to the
	// product id (see CreateProduct), so it does not open in another row.
	SealedPrivateKey []byte
	// BlockExpired treats a key past its expiry as blocked (Cryptolens' "Block Expired Licenses").
	BlockExpired bool
	CreatedAt    time.Time
	// AllowActivationManagement lets the customers of the product's keys free machines themselves on their
	// account pages (Cryptolens' AllowActivationManagement).
	AllowActivationManagement bool
}

// Customer is someone a vendor issues keys to.
type Customer struct {
	ID             int64 // assigned by the store
	Vendor         string
	Name           string
	Email          string
	Company        string
	MaxNoOfDevices int    // devices the customer's own login may use; 0 = unlimited
	User           string // linked user account; empty if none
	CreatedAt      time.Time

	// Cryptolens' customer settings (customer/AddCustomer, customer/EditCustomer).
	Notes string
	// SecretHash is the hex SHA-256 of the customer secret (GetCustomerLicensesBySecret); "": none.
	SecretHash string
	// Flags are CustomerAssociation, CustomerActivationManagement and CustomerMultipleUsers.
	Flags int
}

// Customer flags, Cryptolens' EnableCustomerAssociation, AllowActivationManagement and
// AllowMultipleUserAssociation. They are kept and answered; no customer portal acts on them.
const (
	CustomerAssociation          = 1 << 0
	CustomerActivationManagement = 1 << 1
	CustomerMultipleUsers        = 1 << 2
)

// LicenseKey is one key of a product.
type LicenseKey struct {
	GlobalID  int64 // assigned by the store, unique across products
	ProductID int64
	ID        int64 // assigned by the store: 1, 2, 3 … within the product
	Key       string
	CreatedAt time.Time
	Period    int       // days
	ExpiresAt time.Time // zero: no expiry date
	Features  [8]bool   // F1..F8
	Notes     string
	Blocked   bool
	// CustomerID links the key to a customer of the same vendor; 0 = none.
	CustomerID int64
	// TrialActivation starts the Period at the first activation instead of at creation.
	TrialActivation bool
	// TrialStartedAt is when the first activation started a TrialActivation key's countdown; zero before.
	TrialStartedAt time.Time
	// MaxNoOfMachines bounds node-locked (and concurrent floating) machines; 0 = machines are not recorded.
	MaxNoOfMachines int
	// AllowedMachines are machine codes, one a line, that may activate even when the limit is reached.
	AllowedMachines string
	// TrialMachine is the machine code a trial key was made for (CreateTrialKey); empty for other keys.
	TrialMachine string
	// ResellerID links the key to a reseller of the same vendor; 0 = none.
	ResellerID int64
}

// Activation is one machine using a key: node-locked until deactivated, or floating until FloatingExpiresAt.
type Activation struct {
	KeyGlobalID  int64
	MachineCode  string
	Floating     bool
	Overdraft    bool // a floating seat granted beyond MaxNoOfMachines
	FriendlyName string
	IP           string
	ActivatedAt  time.Time
	// FloatingExpiresAt ends a floating activation unless renewed; zero for node-locked ones.
	FloatingExpiresAt time.Time
}

// ActivationChanges is what an UpdateActivations decision writes, all in the same transaction.
type ActivationChanges struct {
	// Key, if set, replaces the key's mutable fields (everything but GlobalID, ProductID, ID, Key, CreatedAt).
	Key *LicenseKey
	// Put inserts or replaces activations, identified by (MachineCode, Floating).
	Put []Activation
	// Delete removes activations identified by (MachineCode, Floating); absent ones are ignored.
	Delete []Activation
}

// APIToken is an access token of the licensing API. Only a hash of its secret is stored.
type APIToken struct {
	ID         int64 // assigned by the store
	Vendor     string
	Name       string // what the vendor calls it
	SecretHash []byte
	// Permissions are the method names the token may call.
	Permissions []string
	ProductLock int64 // 0: any product of the vendor
	KeyLock     int64 // 0: any key; > 0: the key with this ID (within ProductLock); -1: may call auth/KeyLock
	FeatureLock int64 // meaning depends on the method (field mask, trial length)
	ParentID    int64 // token this one was derived from (auth/KeyLock); 0 if none
	CreatedAt   time.Time
	ExpiresAt   time.Time // zero: no expiry
	RevokedAt   time.Time // zero: live
}

// Revoked reports whether the token was revoked.
func (t APIToken) Revoked() bool { return !t.RevokedAt.IsZero() }

// Licensing stores vendors, products, customers, keys, activations and API tokens.
type Licensing interface {
	// AddVendor gives the existing user name the vendor role; ErrNotFound if there is no such user,
	// ErrConflict if the user already is a vendor.
	AddVendor(ctx context.Context, v Vendor) error
	// GetVendor returns the vendor or ErrNotFound.
	GetVendor(ctx context.Context, name string) (Vendor, error)
	// ListVendors returns the vendors ordered by name.
	ListVendors(ctx context.Context) ([]Vendor, error)

	// CreateProduct stores p with a new ID. seal is called inside the transaction with that ID and returns the
	// sealed private key to store, so the sealed value can be bound to its row. ErrNotFound if p.Vendor is not
	// a vendor.
	CreateProduct(ctx context.Context, p Product, seal func(id int64) ([]byte, error)) (Product, error)
	// GetProduct returns the product or ErrNotFound.
	GetProduct(ctx context.Context, id int64) (Product, error)
	// ListProducts returns the vendor's products (every product if vendor is empty) ordered by ID.
	ListProducts(ctx context.Context, vendor string) ([]Product, error)
	// UpdateProduct applies update to the product inside one transaction; Name, BlockExpired and the key pair
	// (PublicKey, SealedPrivateKey) are written.
	UpdateProduct(ctx context.Context, id int64, update func(*Product) error) (Product, error)

	// CreateCustomer stores c with a new ID; ErrNotFound if the vendor (or the linked user) does not exist.
	CreateCustomer(ctx context.Context, c Customer) (Customer, error)
	// GetCustomer returns the customer or ErrNotFound.
	GetCustomer(ctx context.Context, id int64) (Customer, error)
	// ListCustomers returns the vendor's customers (everyone's if vendor is empty) ordered by ID.
	ListCustomers(ctx context.Context, vendor string) ([]Customer, error)

	// CreateLicenseKey stores k with a new GlobalID and the next ID within its product; ErrConflict if the
	// product already has a key with the same string, ErrNotFound if the product (or customer) does not exist.
	CreateLicenseKey(ctx context.Context, k LicenseKey) (LicenseKey, error)
	// GetLicenseKey returns the product's key with this string, or ErrNotFound.
	GetLicenseKey(ctx context.Context, productID int64, key string) (LicenseKey, error)
	// FindTrialKey returns the product's most recent key made for machineCode by CreateTrialKey, or ErrNotFound.
	FindTrialKey(ctx context.Context, productID int64, machineCode string) (LicenseKey, error)
	// ListLicenseKeys returns the product's keys ordered by ID.
	ListLicenseKeys(ctx context.Context, productID int64) ([]LicenseKey, error)
	// ListActivations returns the key's activations, node-locked first, each group ordered by time.
	ListActivations(ctx context.Context, keyGlobalID int64) ([]Activation, error)

	// UpdateActivations is the one read-modify-write of a key and its machines. It reads the product's key and
	// its activations with the key locked against every other UpdateActivations of the same key, calls decide,
	// writes the changes decide returns and commits, then returns the key and activations as written. Concurrent
	// calls for one key are serialized, so decide sees the previous call's changes: two machines racing for
	// the last seat cannot both get it. An error from decide aborts without writing and is returned as is.
	// decide may be called more than once (a backend may retry on a serialization failure), so it must not
	// have side effects. ErrNotFound if there is no such key.
	UpdateActivations(ctx context.Context, productID int64, key string,
		decide func(k LicenseKey, acts []Activation) (ActivationChanges, error)) (LicenseKey, []Activation, error)

	// CreateAPIToken stores t with a new ID; ErrNotFound if the vendor (or the parent token) does not exist.
	CreateAPIToken(ctx context.Context, t APIToken) (APIToken, error)
	// GetAPIToken returns the token or ErrNotFound.
	GetAPIToken(ctx context.Context, id int64) (APIToken, error)
	// ListAPITokens returns the vendor's tokens (everyone's if vendor is empty) ordered by ID.
	ListAPITokens(ctx context.Context, vendor string) ([]APIToken, error)
	// RevokeAPIToken revokes the token and every token derived from it; ErrNotFound if absent. Revoking twice is
	// not an error and keeps the first time.
	RevokeAPIToken(ctx context.Context, id int64, at time.Time) error
}
