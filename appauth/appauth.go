// Package appauth is app and device authorization, Cryptolens' "Get Token" flow: a vendor's app, holding a
// parent token with the GetToken permission, asks a user (on the consent page) to let it act for them; the
// user approves or denies; the app then solves a challenge with the private half of the key it sent and
// receives a child token, bounded by the parent (license.GrantChild). With User Login Auth (the GetLicenseKeys
// permission) the approval also registers the app's device with the user's customer records, within each
// customer's MaxNoOfDevices, and the child token lists the user's license keys.
//
// The package is transport-free: the consent page, the Cryptolens API and the CLI call it.
package appauth

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha512"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/storage"
)

// Errors callers map to their wire; test with errors.Is.
var (
	// ErrRequestNotFound: no approved request that still waits for its token, for this parent token.
	ErrRequestNotFound = errors.New("appauth: the authorization request could not be found")
	// ErrChallenge: no challenge was given, it expired, or it was used (each is good for one GetToken).
	ErrChallenge = errors.New("appauth: no valid challenge")
	// ErrSignature: the signed challenge does not verify with the request's public key.
	ErrSignature = errors.New("appauth: the signed challenge does not verify")
	// ErrDate: the signed date is too far from the server's clock.
	ErrDate = errors.New("appauth: the signed date is outside the allowed window")
	// ErrParent: the request names a token that is unknown, revoked, expired, not a parent token, or whose
	// vendor is disabled.
	ErrParent = errors.New("appauth: the app's token cannot authorize apps")
	// ErrDecided: the request was already approved or denied.
	ErrDecided = errors.New("appauth: the request was already decided")
	// ErrNoCustomer: User Login Auth for a user linked to no customer of the vendor.
	ErrNoCustomer = errors.New("appauth: the user is not linked to a customer of the vendor")
	// ErrDeviceLimit: a customer of the user already has MaxNoOfDevices devices.
	ErrDeviceLimit = errors.New("appauth: device limit reached")
	// ErrNotFound: no such authorization or device (of this user).
	ErrNotFound = errors.New("appauth: not found")
)

// Store is the storage the service needs.
type Store interface {
	storage.AppAuthorizations
	storage.Licensing
	storage.Users
}

// Options configure a Service; zero values take the defaults.
type Options struct {
	Now func() time.Time
	// ChallengeLifetime: how long a challenge may be answered (default 2 minutes; the SDK answers at once).
	ChallengeLifetime time.Duration
	// DateWindow: how far the signed Date may be from the server's clock, either way (default 5 minutes).
	DateWindow time.Duration
	// PickupWindow: how long after approval the app may collect its token (default 1 hour; the SDK polls for
	// 5 minutes).
	PickupWindow time.Duration
	// Retention: how long revoked and expired authorizations stay listed (default 30 days).
	Retention time.Duration
}

// Service is app authorization.
type Service struct {
	store Store
	lic   *license.Service
	o     Options
}

// New returns a Service; lic issues the child tokens and signs license lists.
func New(store Store, lic *license.Service, o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.ChallengeLifetime <= 0 {
		o.ChallengeLifetime = 2 * time.Minute
	}
	if o.DateWindow <= 0 {
		o.DateWindow = 5 * time.Minute
	}
	if o.PickupWindow <= 0 {
		o.PickupWindow = time.Hour
	}
	if o.Retention <= 0 {
		o.Retention = 30 * 24 * time.Hour
	}
	return &Service{store: store, lic: lic, o: o}
}

// ChallengeSize is the number of random bytes in a challenge.
const ChallengeSize = 32

// Consent is what the consent page shows for a request: the app, the vendor behind its token, what the child
// token would get, and (for a signed-in user) whether User Login Auth can register the device.
type Consent struct {
	Request Request
	Parent  storage.APIToken
	Grant   license.ChildGrant
	// Product is the product the child token is locked to, if any.
	Product *storage.Product
	// ExpiresAt is when the child token would expire if issued now.
	ExpiresAt time.Time
	// Customers are the user's customer records with the vendor (User Login Auth).
	Customers []storage.Customer
	// Refusal, if set, is why approving cannot succeed for this user (no customer, device limit).
	Refusal error
	// Decided is the request's record if it was already approved or denied.
	Decided *storage.AppAuthorization
}

// Consent checks req against its parent token and, if user is not empty, against the user's customers.
// Errors: ErrParent, or the license package's ErrInvalidInput (the request contradicts its token, or asks for
// nothing the token can give), ErrProductNotFound.
func (s *Service) Consent(ctx context.Context, req Request, user string) (Consent, error) {
	c := Consent{Request: req}
	parent, err := s.parent(ctx, req.TokenID)
	if err != nil {
		return c, err
	}
	c.Parent = parent
	if c.Grant, err = s.lic.GrantChild(ctx, parent, req.ChildRequest()); err != nil {
		if errors.Is(err, license.ErrAccessDenied) {
			return c, fmt.Errorf("%w: %v", ErrParent, err)
		}
		return c, err
	}
	c.ExpiresAt = s.o.Now().Add(c.Grant.Lifetime)
	if c.Grant.ProductLock != 0 {
		if p, err := s.store.GetProduct(ctx, c.Grant.ProductLock); err == nil {
			c.Product = &p
		}
	}
	if a, err := s.store.FindAppAuthorization(ctx, req.Hash()); err == nil {
		c.Decided = &a
	} else if !errors.Is(err, storage.ErrNotFound) {
		return c, err
	}
	if user != "" && req.UserLogin() {
		if c.Customers, err = s.store.ListUserCustomers(ctx, parent.Vendor, user); err != nil {
			return c, err
		}
		c.Refusal = s.deviceRefusal(ctx, c.Customers, user, req.MachineCode)
	}
	return c, nil
}

// deviceRefusal says why a device could not be registered now (a hint for the page; Approve decides).
func (s *Service) deviceRefusal(ctx context.Context, customers []storage.Customer, user, machineCode string) error {
	if len(customers) == 0 {
		return ErrNoCustomer
	}
	devs, err := s.store.ListAppDevices(ctx, user)
	if err != nil {
		return err
	}
	for _, c := range customers {
		n, have := 0, false
		for _, d := range devs {
			if d.CustomerID == c.ID {
				n++
				have = have || d.MachineCode == machineCode
			}
		}
		if !have && c.MaxNoOfDevices > 0 && n >= c.MaxNoOfDevices {
			return fmt.Errorf("%w: %s already has %d of %d devices", ErrDeviceLimit, c.Name, n, c.MaxNoOfDevices)
		}
	}
	return nil
}

// parent returns the live parent token named by a request.
func (s *Service) parent(ctx context.Context, id int64) (storage.APIToken, error) {
	t, err := s.store.GetAPIToken(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return t, fmt.Errorf("%w: no token %d", ErrParent, id)
	}
	if err != nil {
		return t, err
	}
	now := s.o.Now()
	if !license.IsParent(t) || t.Revoked() || (!t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt)) {
		return t, fmt.Errorf("%w: token %d is revoked, expired or lacks GetToken", ErrParent, id)
	}
	if _, err := s.lic.Vendor(ctx, t.Vendor); err != nil {
		if errors.Is(err, license.ErrNotVendor) {
			return t, fmt.Errorf("%w: %v", ErrParent, err)
		}
		return t, err
	}
	return t, nil
}

// Approve records user's approval of req and, for User Login Auth, registers the device with each of the
// user's customers of the vendor in the same transaction. Errors: those of Consent, ErrDecided,
// ErrNoCustomer, ErrDeviceLimit.
func (s *Service) Approve(ctx context.Context, req Request, user string) (storage.AppAuthorization, error) {
	c, err := s.Consent(ctx, req, user)
	if err != nil {
		return storage.AppAuthorization{}, err
	}
	if c.Decided != nil {
		return storage.AppAuthorization{}, ErrDecided
	}
	now := s.o.Now()
	var devices []storage.AppDevice
	if req.UserLogin() {
		if len(c.Customers) == 0 {
			return storage.AppAuthorization{}, ErrNoCustomer
		}
		for _, cu := range c.Customers {
			devices = append(devices, storage.AppDevice{CustomerID: cu.ID, MachineCode: req.MachineCode, DeviceName: req.DeviceName,
				User: user, RegisteredAt: now})
		}
	}
	return s.record(ctx, c, storage.AppApproved, user, devices)
}

// Deny records user's refusal: the app's GetChallenge will not find the request, and it cannot be approved
// later. A request whose parent token is not valid cannot be recorded (ErrParent); it is refused anyway.
func (s *Service) Deny(ctx context.Context, req Request, user string) (storage.AppAuthorization, error) {
	c, err := s.Consent(ctx, req, "")
	if errors.Is(err, license.ErrInvalidInput) || errors.Is(err, license.ErrProductNotFound) {
		err = nil // nothing would be granted anyway; the denial is still worth remembering
	}
	if err != nil {
		return storage.AppAuthorization{}, err
	}
	if c.Decided != nil {
		return storage.AppAuthorization{}, ErrDecided
	}
	return s.record(ctx, c, storage.AppDenied, user, nil)
}

func (s *Service) record(ctx context.Context, c Consent, state storage.AppAuthState, user string, devices []storage.AppDevice) (storage.AppAuthorization, error) {
	req := c.Request
	if err := req.checkText(); err != nil {
		return storage.AppAuthorization{}, err
	}
	der := []byte{} // a password sign-in (Login) has no app key
	if req.PublicKey != nil {
		var err error
		if der, err = x509.MarshalPKIXPublicKey(req.PublicKey); err != nil {
			return storage.AppAuthorization{}, err
		}
	}
	a := storage.AppAuthorization{RequestHash: req.Hash(), ParentTokenID: c.Parent.ID, Vendor: c.Parent.Vendor, User: user,
		State: state, AppName: req.AppName, DeviceName: req.DeviceName, MachineCode: req.MachineCode, PublicKey: der,
		ProductLock: c.Grant.ProductLock, KeyLock: c.Grant.KeyLock, FeatureLock: c.Grant.FeatureLock,
		Lifetime: c.Grant.Lifetime.Truncate(time.Second), DecidedAt: s.o.Now()}
	for _, m := range c.Grant.Methods {
		a.Permissions = append(a.Permissions, string(m))
	}
	a, err := s.store.CreateAppAuthorization(ctx, a, devices)
	switch {
	case errors.Is(err, storage.ErrConflict):
		return a, ErrDecided
	case errors.Is(err, storage.ErrLimitReached):
		return a, fmt.Errorf("%w: %v", ErrDeviceLimit, err)
	}
	return a, err
}

// pending returns the approved request of authToken made for the parent token that a presents, if its token
// has not been collected, it was not revoked and the pick-up window is open; otherwise ErrRequestNotFound.
func (s *Service) pending(ctx context.Context, parent *license.Access, authToken string) (storage.AppAuthorization, error) {
	p, ok := parent.Token()
	if !ok || !license.IsParent(p) {
		return storage.AppAuthorization{}, fmt.Errorf("%w: not a parent token", license.ErrAccessDenied)
	}
	raw, err := ParseAuthorizationToken(authToken)
	if err != nil {
		return storage.AppAuthorization{}, fmt.Errorf("%w: AuthorizationToken %v", license.ErrInvalidInput, err)
	}
	a, err := s.store.FindAppAuthorization(ctx, HashAuthorizationToken(raw))
	if errors.Is(err, storage.ErrNotFound) {
		return a, fmt.Errorf("%w: unknown (or not yet approved)", ErrRequestNotFound)
	}
	if err != nil {
		return a, err
	}
	switch {
	case a.ParentTokenID != p.ID:
		return a, fmt.Errorf("%w: request %d was made for token %d, not %d", ErrRequestNotFound, a.ID, a.ParentTokenID, p.ID)
	case a.State != storage.AppApproved:
		return a, fmt.Errorf("%w: request %d was %s", ErrRequestNotFound, a.ID, a.State)
	case a.ChildTokenID != 0:
		return a, fmt.Errorf("%w: request %d already has its token", ErrRequestNotFound, a.ID)
	case !a.RevokedAt.IsZero():
		return a, fmt.Errorf("%w: request %d was revoked", ErrRequestNotFound, a.ID)
	case !s.o.Now().Before(a.DecidedAt.Add(s.o.PickupWindow)):
		return a, fmt.Errorf("%w: request %d was approved too long ago", ErrRequestNotFound, a.ID)
	}
	return a, nil
}

// Challenge gives the app a new random challenge for its approved request (Cryptolens' GetChallenge),
// replacing any earlier one.
func (s *Service) Challenge(ctx context.Context, parent *license.Access, authToken string) ([]byte, error) {
	a, err := s.pending(ctx, parent, authToken)
	if err != nil {
		return nil, err
	}
	challenge := make([]byte, ChallengeSize)
	rand.Read(challenge)
	if err := s.store.SetAppChallenge(ctx, a.ID, challenge, s.o.Now().Add(s.o.ChallengeLifetime)); err != nil {
		return nil, err
	}
	return challenge, nil
}

// SignedMessage is what the app signs: the challenge followed by the date as a little-endian int64.
func SignedMessage(challenge []byte, date int64) []byte {
	return binary.LittleEndian.AppendUint64(bytes.Clone(challenge), uint64(date))
}

// Issued is a child token handed to an app.
type Issued struct {
	license.IssuedToken
	Authorization storage.AppAuthorization
}

// Token answers Cryptolens' GetToken: it uses up the request's challenge (whatever the outcome), checks date
// against the clock and the signature (RSASSA-PKCS1-v1_5 with SHA-512 over SignedMessage) against the
// request's public key, and issues the child token. Of two concurrent calls, one at most gets a token.
func (s *Service) Token(ctx context.Context, parent *license.Access, authToken string, date int64, signature []byte) (Issued, error) {
	a, err := s.pending(ctx, parent, authToken)
	if err != nil {
		return Issued{}, err
	}
	challenge, err := s.store.TakeAppChallenge(ctx, a.ID, s.o.Now())
	if errors.Is(err, storage.ErrNotFound) {
		return Issued{}, fmt.Errorf("%w: request %d", ErrChallenge, a.ID)
	}
	if err != nil {
		return Issued{}, err
	}
	now := s.o.Now()
	if d := now.Sub(time.Unix(date, 0)); d > s.o.DateWindow || d < -s.o.DateWindow {
		return Issued{}, fmt.Errorf("%w: %v from the server's clock", ErrDate, d.Round(time.Second))
	}
	pub, err := x509.ParsePKIXPublicKey(a.PublicKey)
	rsaPub, ok := pub.(*rsa.PublicKey)
	if err != nil || !ok {
		return Issued{}, fmt.Errorf("appauth: request %d: stored public key: %v", a.ID, err)
	}
	sum := sha512.Sum512(SignedMessage(challenge, date))
	if err := rsa.VerifyPKCS1v15(rsaPub, crypto.SHA512, sum[:], signature); err != nil {
		return Issued{}, fmt.Errorf("%w: request %d", ErrSignature, a.ID)
	}
	return s.issue(ctx, parent, a)
}

// issue makes the child token of an approved authorization and links them.
func (s *Service) issue(ctx context.Context, parent *license.Access, a storage.AppAuthorization) (Issued, error) {
	g := license.ChildGrant{ProductLock: a.ProductLock, KeyLock: a.KeyLock, FeatureLock: a.FeatureLock, Lifetime: a.Lifetime}
	for _, p := range a.Permissions {
		g.Methods = append(g.Methods, license.Method(p))
	}
	issued, err := s.lic.IssueChild(parent, childName(a), g, func(t storage.APIToken) (storage.APIToken, error) {
		return s.store.IssueAppToken(ctx, a.ID, t, s.o.Now())
	})
	if errors.Is(err, storage.ErrConflict) {
		return Issued{}, fmt.Errorf("%w: request %d was collected or revoked meanwhile", ErrRequestNotFound, a.ID)
	}
	if err != nil {
		return Issued{}, err
	}
	a.ChildTokenID, a.IssuedAt, a.TokenExpiresAt = issued.Record.ID, issued.Record.CreatedAt, issued.Record.ExpiresAt
	return Issued{IssuedToken: issued, Authorization: a}, nil
}

// childName is how the vendor's token list names a child token.
func childName(a storage.AppAuthorization) string {
	name := a.AppName + " for " + a.User
	if a.DeviceName != "" {
		name += " on " + a.DeviceName
	}
	if len(name) > license.MaxNameLen {
		name = name[:license.MaxNameLen]
	}
	return name
}

// LoginRequest is Cryptolens-style user login with a password (/api/userauth/Login): the app asks for the
// user's license keys directly, for one device.
type LoginRequest struct {
	AppName     string
	MachineCode string
	DeviceName  string
	Days        int
}

func (lr LoginRequest) checkText() error {
	return Request{AppName: lr.AppName, MachineCode: lr.MachineCode, DeviceName: lr.DeviceName}.checkText()
}

// Login authorizes the app for user, whose password the caller has checked, as if the user had approved a
// User Login Auth request on the consent page: the device is registered and a child token with the
// GetLicenseKeys permission is issued at once.
func (s *Service) Login(ctx context.Context, parent *license.Access, user string, lr LoginRequest) (Issued, error) {
	p, ok := parent.Token()
	if !ok {
		return Issued{}, fmt.Errorf("%w: not a parent token", license.ErrAccessDenied)
	}
	switch {
	case lr.MachineCode == "" || len(lr.MachineCode) > license.MaxMachineCodeLen:
		return Issued{}, fmt.Errorf("%w: a machine code of 1 to %d bytes is needed", license.ErrInvalidInput, license.MaxMachineCodeLen)
	case len(lr.AppName) > MaxNameLen || len(lr.DeviceName) > MaxNameLen:
		return Issued{}, fmt.Errorf("%w: app or device name longer than %d bytes", license.ErrInvalidInput, MaxNameLen)
	case lr.Days < 0:
		return Issued{}, fmt.Errorf("%w: negative Expires", license.ErrInvalidInput)
	}
	if err := lr.checkText(); err != nil {
		return Issued{}, err
	}
	raw := make([]byte, 30)
	rand.Read(raw) // a request id of our own: this request never travels
	req := Request{AuthorizationToken: raw, AppName: lr.AppName, Days: lr.Days, TokenID: p.ID,
		MachineCode: lr.MachineCode, DeviceName: lr.DeviceName,
		Scope: Scope{Methods: []license.Method{license.MethodGetLicenseKeys}}}
	if req.AppName == "" {
		req.AppName = "password sign-in"
	}
	a, err := s.Approve(ctx, req, user)
	if err != nil {
		return Issued{}, err
	}
	return s.issue(ctx, parent, a)
}

// LicenseKeys answers Cryptolens' User/GetLicenseKeys for a child token: the license keys of the customers the
// token's user is linked to, with the machine codes the user authorized for them, signed. Errors: the
// license package's ErrAccessDenied for a token that no user authorized, ErrNoCustomer.
func (s *Service) LicenseKeys(ctx context.Context, child *license.Access) (license.UserKeys, error) {
	t, ok := child.Token()
	if !ok {
		return license.UserKeys{}, fmt.Errorf("%w: not an app's token", license.ErrAccessDenied)
	}
	if err := child.Allow(license.MethodGetLicenseKeys); err != nil {
		return license.UserKeys{}, err
	}
	a, err := s.store.FindAppAuthorizationByToken(ctx, t.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return license.UserKeys{}, fmt.Errorf("%w: token %d was not issued to an app by a user", license.ErrAccessDenied, t.ID)
	}
	if err != nil {
		return license.UserKeys{}, err
	}
	customers, err := s.store.ListUserCustomers(ctx, a.Vendor, a.User)
	if err != nil {
		return license.UserKeys{}, err
	}
	if len(customers) == 0 {
		return license.UserKeys{}, ErrNoCustomer
	}
	var keys []storage.LicenseKey
	ids := map[int64]bool{}
	for _, c := range customers {
		ids[c.ID] = true
		ks, err := s.store.ListCustomerLicenseKeys(ctx, c.ID)
		if err != nil {
			return license.UserKeys{}, err
		}
		keys = append(keys, ks...)
	}
	devs, err := s.store.ListAppDevices(ctx, a.User)
	if err != nil {
		return license.UserKeys{}, err
	}
	var codes []string
	for _, d := range devs {
		if ids[d.CustomerID] && !slices.Contains(codes, d.MachineCode) {
			codes = append(codes, d.MachineCode)
		}
	}
	return s.lic.SignUserKeys(ctx, child, keys, codes)
}

// List returns authorizations, newest first.
func (s *Service) List(ctx context.Context, f storage.AppAuthorizationFilter) ([]storage.AppAuthorization, error) {
	return s.store.ListAppAuthorizations(ctx, f)
}

// Get returns an authorization; with user set, only that user's (ErrNotFound otherwise).
func (s *Service) Get(ctx context.Context, id int64, user string) (storage.AppAuthorization, error) {
	a, err := s.store.GetAppAuthorization(ctx, id)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && user != "" && a.User != user) {
		return storage.AppAuthorization{}, fmt.Errorf("%w: authorization %d", ErrNotFound, id)
	}
	return a, err
}

// Revoke revokes an authorization and its child token at once; with user set, only that user's.
func (s *Service) Revoke(ctx context.Context, id int64, user string) (storage.AppAuthorization, error) {
	a, err := s.Get(ctx, id, user)
	if err != nil {
		return a, err
	}
	if err := s.store.RevokeAppAuthorization(ctx, id, s.o.Now()); err != nil {
		return a, err
	}
	return s.store.GetAppAuthorization(ctx, id)
}

// Devices returns the devices user registered (everyone's if empty).
func (s *Service) Devices(ctx context.Context, user string) ([]storage.AppDevice, error) {
	return s.store.ListAppDevices(ctx, user)
}

// RemoveDevice unregisters a device, freeing its place under MaxNoOfDevices, and revokes every authorization
// given for it; with user set, only that user's devices. Returns how many authorizations were revoked.
func (s *Service) RemoveDevice(ctx context.Context, customerID int64, machineCode, user string) (int, error) {
	if user != "" {
		devs, err := s.store.ListAppDevices(ctx, user)
		if err != nil {
			return 0, err
		}
		if !slices.ContainsFunc(devs, func(d storage.AppDevice) bool { return d.CustomerID == customerID && d.MachineCode == machineCode }) {
			return 0, fmt.Errorf("%w: device %q of customer %d", ErrNotFound, machineCode, customerID)
		}
	}
	n, err := s.store.RemoveAppDevice(ctx, customerID, machineCode, s.o.Now())
	if errors.Is(err, storage.ErrNotFound) {
		return 0, fmt.Errorf("%w: device %q of customer %d", ErrNotFound, machineCode, customerID)
	}
	return n, err
}

// CollectGarbage deletes requests never collected within the pick-up window, and authorizations whose token
// expired or was revoked longer than the retention ago; at most limit.
func (s *Service) CollectGarbage(ctx context.Context, limit int) (int, error) {
	now := s.o.Now()
	return s.store.DeleteAppAuthorizations(ctx, now.Add(-s.o.PickupWindow), now.Add(-s.o.Retention), limit)
}

// State is how an authorization stands at now, for lists.
func (s *Service) State(a storage.AppAuthorization) string {
	now := s.o.Now()
	switch {
	case a.State == storage.AppDenied:
		return "denied"
	case !a.RevokedAt.IsZero() || !a.TokenRevokedAt.IsZero():
		return "revoked"
	case a.ChildTokenID == 0 && !now.Before(a.DecidedAt.Add(s.o.PickupWindow)):
		return "not collected"
	case a.ChildTokenID == 0:
		return "waiting for the app"
	case !a.TokenExpiresAt.IsZero() && !now.Before(a.TokenExpiresAt):
		return "expired"
	}
	return "active"
}
