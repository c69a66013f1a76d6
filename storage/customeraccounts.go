package storage

import (
	"context"
	"time"
)

// EndUser is a vendor's end-user account, Cryptolens' "user" of the userauth methods: someone who signs in to
// the vendor's app with a name and password to reach the licenses of the customer the account is associated
// with. End users are not operator users (User): they belong to one vendor, which alone sees them.
type EndUser struct {
	ID     int64 // assigned by the store
	Vendor string
	// Name is unique within the vendor, ignoring case.
	Name         string
	Email        string
	PasswordHash string // PHC-formatted argon2id hash
	CustomerID   int64  // associated customer of the same vendor; 0 = none
	// ResetHash is the hex SHA-256 of the live password reset token; "": none. Good until ResetExpiresAt, once.
	ResetHash      string
	ResetExpiresAt time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// CustomerQuery selects a vendor's customers for customer/GetCustomers.
type CustomerQuery struct {
	Vendor string
	// Search, when set, keeps customers whose name, company or e-mail contains it, ignoring ASCII case.
	Search string
	// ID, when > 0, keeps only that customer.
	ID int64
	// Limit bounds the number returned, newest first; 0: all.
	Limit int

	// For the management API's pages of customers.
	// AllVendors reads every vendor's customers; Vendor, when set, still narrows them to one.
	AllVendors bool
	// BeforeID, when > 0, keeps customers whose ID is below it: the page after one that ended there.
	BeforeID int64
}

// CustomerRemoval counts what DeleteCustomer changed: the keys it unlinked (they stay in their product), the
// end users it dissociated and the devices it removed.
type CustomerRemoval struct {
	Keys, EndUsers, Devices int
}

// CustomerAccounts stores what Cryptolens' customer/ and userauth/ methods change: customers' settings and
// secrets, and the vendors' end-user accounts.
type CustomerAccounts interface {
	// UpdateCustomer applies update to the customer inside one transaction and writes Name, Email, Company,
	// MaxNoOfDevices, Notes, SecretHash and Flags. ErrNotFound if absent; an error from update aborts.
	UpdateCustomer(ctx context.Context, id int64, update func(*Customer) error) (Customer, error)
	// DeleteCustomer removes the customer in one transaction: its keys stay, without a customer; its end users
	// stay, associated with none; the devices registered with it (app authorization) go. ErrNotFound if absent.
	// Unless force, a customer with license keys is kept and ErrInUse returned, with the keys counted.
	DeleteCustomer(ctx context.Context, id int64, force bool) (CustomerRemoval, error)
	// FindCustomerBySecret returns the vendor's customer whose SecretHash is secretHash, or ErrNotFound.
	FindCustomerBySecret(ctx context.Context, vendor string, secretHash string) (Customer, error)
	// QueryCustomers returns the vendor's customers matching q, newest (highest ID) first.
	QueryCustomers(ctx context.Context, q CustomerQuery) ([]Customer, error)
	// ListCustomerLicenseKeys returns the customer's license keys in every product, ordered by GlobalID.
	ListCustomerLicenseKeys(ctx context.Context, customerID int64) ([]LicenseKey, error)

	// CreateEndUser stores u with a new ID; ErrConflict if the vendor has an end user of that name (ignoring
	// case), ErrNotFound if the vendor or the customer does not exist.
	CreateEndUser(ctx context.Context, u EndUser) (EndUser, error)
	// GetEndUser returns the vendor's end user of that name (ignoring case) or ErrNotFound.
	GetEndUser(ctx context.Context, vendor, name string) (EndUser, error)
	// ListEndUsers returns the vendor's end users ordered by name; customerID > 0 keeps that customer's.
	ListEndUsers(ctx context.Context, vendor string, customerID int64) ([]EndUser, error)
	// UpdateEndUser applies update inside one transaction, the row locked against other updates, and writes
	// Email, PasswordHash, CustomerID, ResetHash, ResetExpiresAt and UpdatedAt. ErrNotFound if absent (or the
	// new customer is); an error from update aborts and is returned as is.
	UpdateEndUser(ctx context.Context, vendor, name string, update func(*EndUser) error) (EndUser, error)
	// DeleteEndUser removes the vendor's end user of that name; ErrNotFound if absent.
	DeleteEndUser(ctx context.Context, vendor, name string) error
}
