package storage

import (
	"context"
	"errors"
	"time"
)

// App authorization (Cryptolens' "Get Token" flow): a signed-in user lets a vendor's app obtain a child API
// token that acts for them, and with User Login Auth registers the app's device with the user's customer
// records. The app's AuthorizationToken is stored only as its SHA-256; the child token only as any API token.

// ErrLimitReached: a customer already has as many devices as its MaxNoOfDevices allows.
var ErrLimitReached = errors.New("storage: limit reached")

// AppAuthState is the user's decision on an authorization request.
type AppAuthState string

const (
	AppApproved AppAuthState = "approved"
	AppDenied   AppAuthState = "denied"
)

// AppAuthorization is one decided authorization request and, once the app has solved its challenge, the child
// token it was given.
type AppAuthorization struct {
	ID int64 // assigned by the store, never reused
	// RequestHash is the SHA-256 of the app's AuthorizationToken, unique among requests.
	RequestHash   []byte
	ParentTokenID int64  // the vendor's token with the GetToken permission
	Vendor        string // the parent token's vendor
	User          string // who decided
	State         AppAuthState
	AppName       string
	DeviceName    string
	MachineCode   string // empty unless the app asked to authorize a device
	PublicKey     []byte // PKIX DER of the app's RSA public key, which signs the challenge
	// What the child token gets, already bounded by the parent token.
	Permissions []string
	ProductLock int64
	KeyLock     int64
	FeatureLock int64
	Lifetime    time.Duration // of the child token, counted from its issue
	DecidedAt   time.Time
	// ChildTokenID is the token issued for the request; 0 until then.
	ChildTokenID int64
	IssuedAt     time.Time
	RevokedAt    time.Time // zero: not revoked by the user or an administrator
	// Read-only, from the child token's record: when it expires and when it was revoked (directly, or with its
	// parent). Zero when there is no child token.
	TokenExpiresAt time.Time
	TokenRevokedAt time.Time
}

// AppDevice is a device registered with a customer through User Login Auth; MaxNoOfDevices counts these.
type AppDevice struct {
	CustomerID   int64
	MachineCode  string
	DeviceName   string
	User         string // the user who authorized it
	Vendor       string // read-only: the customer's vendor
	RegisteredAt time.Time
}

// AppAuthorizationFilter selects authorizations; zero fields select everything.
type AppAuthorizationFilter struct {
	User   string
	Vendor string
	Limit  int // at most this many, newest first (0: 1000)
	// paging
	AppName  string // only this app's
	BeforeID int64  // only authorizations with a lower id (older)
}

// AppAuthorizations stores authorization requests, their challenges and the devices they registered.
type AppAuthorizations interface {
	// CreateAppAuthorization stores a decided request with a new ID and, in the same transaction, registers
	// devices (each unless the customer already has that machine code). A customer's MaxNoOfDevices is read
	// inside the transaction: ErrLimitReached if a new device would exceed it, and then nothing is written.
	// ErrConflict if a request with the same RequestHash exists; ErrNotFound if the parent token, the vendor,
	// the user or a customer does not exist.
	CreateAppAuthorization(ctx context.Context, a AppAuthorization, devices []AppDevice) (AppAuthorization, error)
	// GetAppAuthorization returns the authorization or ErrNotFound.
	GetAppAuthorization(ctx context.Context, id int64) (AppAuthorization, error)
	// FindAppAuthorization returns the authorization with this request hash, or ErrNotFound.
	FindAppAuthorization(ctx context.Context, requestHash []byte) (AppAuthorization, error)
	// FindAppAuthorizationByToken returns the authorization that issued the child token, or ErrNotFound.
	FindAppAuthorizationByToken(ctx context.Context, childTokenID int64) (AppAuthorization, error)
	// ListAppAuthorizations returns the authorizations f selects, newest first.
	ListAppAuthorizations(ctx context.Context, f AppAuthorizationFilter) ([]AppAuthorization, error)

	// SetAppChallenge gives the authorization a new challenge valid until expiresAt, replacing any other;
	// ErrNotFound if there is no such authorization.
	SetAppChallenge(ctx context.Context, id int64, challenge []byte, expiresAt time.Time) error
	// TakeAppChallenge removes and returns the authorization's challenge if it is still valid at now. Of
	// concurrent callers exactly one gets it; the others, and everyone after, get ErrNotFound.
	TakeAppChallenge(ctx context.Context, id int64, now time.Time) ([]byte, error)
	// IssueAppToken stores child (a new API token) and links it to the approved authorization, in one
	// transaction. ErrConflict if the authorization is not approved, already has a token or was revoked;
	// ErrNotFound if it does not exist.
	IssueAppToken(ctx context.Context, id int64, child APIToken, at time.Time) (APIToken, error)
	// RevokeAppAuthorization marks the authorization revoked and revokes its child token (and any token
	// derived from that) in one transaction. ErrNotFound if absent; revoking twice keeps the first time.
	RevokeAppAuthorization(ctx context.Context, id int64, at time.Time) error

	// ListAppDevices returns the devices registered by user (everyone's if empty), ordered by registration.
	ListAppDevices(ctx context.Context, user string) ([]AppDevice, error)
	// RemoveAppDevice unregisters a customer's device and, in the same transaction, revokes every
	// authorization its user gave for that machine code to the customer's vendor; it returns how many.
	// ErrNotFound if the device is not registered.
	RemoveAppDevice(ctx context.Context, customerID int64, machineCode string, at time.Time) (int, error)

	// ListUserCustomers returns the vendor's customers linked to user, ordered by ID.
	ListUserCustomers(ctx context.Context, vendor, user string) ([]Customer, error)
	// ListCustomerLicenseKeys returns the customer's license keys in every product, ordered by GlobalID.
	ListCustomerLicenseKeys(ctx context.Context, customerID int64) ([]LicenseKey, error)

	// DeleteAppAuthorizations removes, at most limit: requests never picked up that were decided before
	// unusedBefore, and those whose child token expired or was revoked before deadBefore. Returns how many.
	DeleteAppAuthorizations(ctx context.Context, unusedBefore, deadBefore time.Time, limit int) (int, error)
}
