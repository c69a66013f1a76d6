package storage

import (
	"context"
	"time"
)

// Reseller is someone a vendor sells keys through; a key may name one (Cryptolens' ResellerId).
type Reseller struct {
	ID          int64 // assigned by the store, never reused
	Vendor      string
	Name        string
	Email       string
	Phone       string
	URL         string
	Description string
	CreatedAt   time.Time
}

// LicenseTemplate is a stored set of CreateKey parameters of one product (Cryptolens' license template, named
// by LicenseTemplateId): key/CreateKeyFromTemplate issues a key from it.
type LicenseTemplate struct {
	ID              int64 // assigned by the store, never reused
	ProductID       int64
	Name            string
	Period          int // days
	Features        [8]bool
	Notes           string
	Blocked         bool
	TrialActivation bool
	MaxNoOfMachines int
	AllowedMachines string
	ResellerID      int64 // 0 = none
	CreatedAt       time.Time
}

// LicenseCatalog stores resellers and license templates, and creates keys in batches.
type LicenseCatalog interface {
	// CreateReseller stores r with a new ID; ErrNotFound if r.Vendor is not a vendor.
	CreateReseller(ctx context.Context, r Reseller) (Reseller, error)
	// GetReseller returns the reseller or ErrNotFound.
	GetReseller(ctx context.Context, id int64) (Reseller, error)
	// ListResellers returns the vendor's resellers (everyone's if vendor is empty) ordered by ID.
	ListResellers(ctx context.Context, vendor string) ([]Reseller, error)

	// CreateLicenseTemplate stores t with a new ID; ErrNotFound if the product (or reseller) does not exist.
	CreateLicenseTemplate(ctx context.Context, t LicenseTemplate) (LicenseTemplate, error)
	// GetLicenseTemplate returns the template or ErrNotFound.
	GetLicenseTemplate(ctx context.Context, id int64) (LicenseTemplate, error)
	// ListLicenseTemplates returns the product's templates ordered by ID.
	ListLicenseTemplates(ctx context.Context, productID int64) ([]LicenseTemplate, error)
	// DeleteLicenseTemplate removes the template; ErrNotFound if absent. Keys made from it are not touched.
	DeleteLicenseTemplate(ctx context.Context, id int64) error

	// CreateLicenseKeys stores keys of one product in one transaction, each with a new GlobalID and the next
	// ID within the product, in order: all are stored or none. ErrConflict if any key string is taken,
	// ErrNotFound if the product (or a customer or reseller) does not exist.
	CreateLicenseKeys(ctx context.Context, keys []LicenseKey) ([]LicenseKey, error)
	// FindCustomerByEmail returns the vendor's oldest customer with this e-mail address, or ErrNotFound.
	FindCustomerByEmail(ctx context.Context, vendor, email string) (Customer, error)
}
