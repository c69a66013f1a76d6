package license

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

// Method is a licensing API method an access token may be allowed to call. The names are Cryptolens'.
type Method string

const (
	MethodActivate       Method = "Activate"
	MethodDeactivate     Method = "Deactivate"
	MethodGetKey         Method = "GetKey"
	MethodCreateKey      Method = "CreateKey"
	MethodCreateTrialKey Method = "CreateTrialKey"
	MethodBlockKey       Method = "BlockKey"
	MethodUnblockKey     Method = "UnblockKey"
	MethodExtendLicense  Method = "ExtendLicense"
	MethodAddCustomer    Method = "AddCustomer" // CreateKey with NewCustomer needs it too
	MethodGetToken       Method = "GetToken"
	MethodGetLicenseKeys Method = "GetLicenseKeys"
)

// Methods lists every method a token can be granted. auth/KeyLock is not among them: a token may call it
// when its key lock is -1 (Cryptolens' rule).
var Methods = []Method{MethodActivate, MethodDeactivate, MethodGetKey, MethodCreateKey, MethodCreateTrialKey,
	MethodBlockKey, MethodUnblockKey, MethodExtendLicense, MethodAddCustomer, MethodGetToken, MethodGetLicenseKeys}

// Data-object methods (dataobjects.go): one permission per group, as Cryptolens names them; each covers the
// method's …ToKey and …ToMachineCode variants. UploadValuesToKey takes IncrementIntValue and/or
// DecrementIntValue, after the changes it carries.
const (
	MethodAddDataObject     Method = "AddDataObject"
	MethodListDataObjects   Method = "ListDataObjects"
	MethodRemoveDataObject  Method = "RemoveDataObject"
	MethodSetIntValue       Method = "SetIntValue"
	MethodIncrementIntValue Method = "IncrementIntValue"
	MethodDecrementIntValue Method = "DecrementIntValue"
	MethodSetStringValue    Method = "SetStringValue"
)

func init() {
	Methods = append(Methods, MethodAddDataObject, MethodListDataObjects, MethodRemoveDataObject, MethodSetIntValue,
		MethodIncrementIntValue, MethodDecrementIntValue, MethodSetStringValue)
}

// Messages, events, the web API log and metered usage (activity.go).
const (
	MethodGetMessages   Method = "GetMessages"
	MethodCreateMessage Method = "CreateMessage"
	MethodRemoveMessage Method = "RemoveMessage"
	MethodRegisterEvent Method = "RegisterEvent" // RegisterEvents too
	MethodGetEvents     Method = "GetEvents"
	MethodGetWebAPILog  Method = "GetWebAPILog"
	MethodRecordUsage   Method = "RecordUsage"
)

func init() {
	Methods = append(Methods, MethodGetMessages, MethodCreateMessage, MethodRemoveMessage, MethodRegisterEvent, MethodGetEvents,
		MethodGetWebAPILog, MethodRecordUsage)
}

// ParseMethod returns the method named s, ignoring case.
func ParseMethod(s string) (Method, error) {
	for _, m := range Methods {
		if strings.EqualFold(string(m), strings.TrimSpace(s)) {
			return m, nil
		}
	}
	return "", invalid("unknown method %q", s)
}

// KeyLockAny is the key lock that lets a token call auth/KeyLock (Cryptolens' "Key Lock = -1").
const KeyLockAny = -1

// Access is the authority a call runs with.
type Access struct {
	vendor  string // "" only for the operator (Admin)
	tokenID int64  // 0 unless an API token
	token   storage.APIToken
	all     bool // every method (operator, signed-in vendor)
}

// vendorOf is the vendor whose records a vendor-wide call reaches (customers and their users, messages,
// events, the web API log): the operator has none and must act as a vendor.
func vendorOf(a *Access) (string, error) {
	if a.vendor == "" {
		return "", invalid("call with a vendor's access: customers, users, messages, events and the web API log belong to one vendor")
	}
	return a.vendor, nil
}

// Admin is the operator's authority at the command line: every method on every vendor's products.
func Admin() *Access { return &Access{all: true} }

// Vendor is the authority of a vendor who authenticated by other means (a password): every method on the
// vendor's own products, no locks.
func (s *Service) Vendor(ctx context.Context, name string) (*Access, error) {
	if err := s.checkVendor(ctx, name); err != nil {
		return nil, err
	}
	return &Access{vendor: name, all: true}, nil
}

// Account reports whether the access is the operator's or a vendor's own (signed in with a password), not an
// API token's: what managing settings, such as a vendor's stores, takes.
func (a *Access) Account() bool { return a.all && a.tokenID == 0 }

// VendorName is the vendor whose products the access reaches; empty for the operator.
func (a *Access) VendorName() string { return a.vendor }

// FeatureLock is the token's feature lock (0 without a token).
func (a *Access) FeatureLock() int64 { return a.token.FeatureLock }

// Token is the API token the access comes from, and false for a vendor's or the operator's access.
func (a *Access) Token() (storage.APIToken, bool) { return a.token, a.tokenID != 0 }

// keyLock is the key a token is locked to. On a token with the GetToken permission (a parent token) the key
// lock is the longest life of its child tokens in days, Cryptolens' reuse of the field, and locks no key.
func (a *Access) keyLock() int64 {
	if slices.Contains(a.token.Permissions, string(MethodGetToken)) {
		return 0
	}
	return a.token.KeyLock
}

// Allow reports ErrAccessDenied unless the access may call m. Every Service method checks its own; a
// transport may ask first, before it parses the call's parameters.
func (a *Access) Allow(m Method) error { return a.allow(m) }

// allow checks the method permission.
func (a *Access) allow(m Method) error {
	if a.all || slices.Contains(a.token.Permissions, string(m)) {
		return nil
	}
	return fmt.Errorf("%w: token %d may not call %s", ErrAccessDenied, a.tokenID, m)
}

// product checks the product lock and that the product is the caller's vendor's.
func (s *Service) product(ctx context.Context, a *Access, id int64) (storage.Product, error) {
	if id <= 0 {
		return storage.Product{}, invalid("product id %d", id)
	}
	if a.token.ProductLock != 0 && a.token.ProductLock != id {
		return storage.Product{}, fmt.Errorf("%w: token %d is locked to product %d", ErrAccessDenied, a.tokenID, a.token.ProductLock)
	}
	p, err := s.store.GetProduct(ctx, id)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && a.vendor != "" && p.Vendor != a.vendor) {
		return storage.Product{}, fmt.Errorf("%w: %d", ErrProductNotFound, id)
	}
	return p, err
}

// keyAllowed checks the key lock against a key of an already checked product.
func (a *Access) keyAllowed(k storage.LicenseKey) error {
	if lock := a.keyLock(); lock > 0 && lock != k.ID {
		return fmt.Errorf("%w: token %d is locked to key %d", ErrAccessDenied, a.tokenID, a.token.KeyLock)
	}
	return nil
}

// mayCreateKeys refuses tokens locked to one key: they reach that key and nothing else.
func (a *Access) mayCreateKeys() error {
	if a.keyLock() > 0 {
		return fmt.Errorf("%w: token %d is locked to key %d", ErrAccessDenied, a.tokenID, a.token.KeyLock)
	}
	return nil
}

// TokenSpec describes a new access token.
type TokenSpec struct {
	Name        string
	Methods     []Method
	ProductLock int64 // 0: every product of the vendor
	// KeyLock 0: every key; > 0: the key with this ID (needs ProductLock); KeyLockAny: may call auth/KeyLock. With
	// the GetToken method it is instead the longest life of the token's child tokens in days (0: no bound).
	KeyLock     int64
	FeatureLock int64
	ExpiresAt   time.Time // zero: never
}

// IssuedToken is a new access token. Token is shown to the vendor once and never stored.
type IssuedToken struct {
	Token  string
	Record storage.APIToken
}

// secretBytes is the random part of a token: 30 bytes, 40 base64 characters, as Cryptolens' own tokens.
const secretBytes = 30

// maxTokenLen bounds a presented token before decoding.
const maxTokenLen = 512

// CreateAPIToken makes an access token for vendor. The token is base64 of the JSON array ["id","secret"], the
// form Cryptolens' SDKs decode; only SHA-256 of the secret is stored.
func (s *Service) CreateAPIToken(ctx context.Context, vendor string, spec TokenSpec) (IssuedToken, error) {
	if err := s.checkVendor(ctx, vendor); err != nil {
		return IssuedToken{}, err
	}
	if len(spec.Methods) == 0 {
		return IssuedToken{}, invalid("a token needs at least one method")
	}
	if err := CheckText("token name", spec.Name, MaxNameLen); err != nil {
		return IssuedToken{}, err
	}
	if spec.ExpiresAt.After(MaxExpiry) {
		return IssuedToken{}, invalid("a token cannot expire after %s", MaxExpiry.Format(time.DateOnly))
	}
	if spec.KeyLock > 0 && spec.ProductLock <= 0 && !slices.Contains(spec.Methods, MethodGetToken) {
		return IssuedToken{}, invalid("a key lock needs a product lock: key ids are per product")
	}
	if spec.KeyLock < KeyLockAny || spec.ProductLock < 0 {
		return IssuedToken{}, invalid("product lock %d, key lock %d", spec.ProductLock, spec.KeyLock)
	}
	if spec.ProductLock > 0 {
		if _, err := s.product(ctx, &Access{vendor: vendor, all: true}, spec.ProductLock); err != nil {
			return IssuedToken{}, err
		}
	}
	perms := make([]string, 0, len(spec.Methods))
	for _, m := range spec.Methods {
		if _, err := ParseMethod(string(m)); err != nil {
			return IssuedToken{}, err
		}
		if !slices.Contains(perms, string(m)) {
			perms = append(perms, string(m))
		}
	}
	issued, err := s.issue(ctx, storage.APIToken{Vendor: vendor, Name: spec.Name, Permissions: perms,
		ProductLock: spec.ProductLock, KeyLock: spec.KeyLock, FeatureLock: spec.FeatureLock, ExpiresAt: spec.ExpiresAt})
	s.record(ctx, Admin(), vendor, "license.token.create", fmt.Sprintf("id=%d methods=%s product_lock=%d key_lock=%d", issued.Record.ID,
		strings.Join(perms, ","), spec.ProductLock, spec.KeyLock), err)
	return issued, err
}

// issue stores t with a fresh secret and returns the token string.
func (s *Service) issue(ctx context.Context, t storage.APIToken) (IssuedToken, error) {
	return s.issueWith(t, func(t storage.APIToken) (storage.APIToken, error) { return s.store.CreateAPIToken(ctx, t) })
}

// issueWith gives t a fresh secret and stores it with store, which returns the stored record (with its ID).
func (s *Service) issueWith(t storage.APIToken, store func(storage.APIToken) (storage.APIToken, error)) (IssuedToken, error) {
	secret := make([]byte, secretBytes)
	rand.Read(secret)
	encoded := base64.StdEncoding.EncodeToString(secret)
	t.SecretHash = hashSecret(encoded)
	t.CreatedAt = s.now()
	rec, err := store(t)
	if err != nil {
		return IssuedToken{}, err
	}
	body, _ := json.Marshal([]string{strconv.FormatInt(rec.ID, 10), encoded})
	return IssuedToken{Token: base64.StdEncoding.EncodeToString(body), Record: rec}, nil
}

func hashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// parseToken splits a presented token into its id and secret.
func parseToken(tok string) (int64, string, bool) {
	if tok == "" || len(tok) > maxTokenLen {
		return 0, "", false
	}
	// A token pasted unencoded into a query string arrives with its '+' turned into ' '.
	tok = strings.ReplaceAll(strings.TrimSpace(tok), " ", "+")
	raw, err := base64.StdEncoding.DecodeString(tok)
	if err != nil {
		if raw, err = base64.RawStdEncoding.DecodeString(tok); err != nil {
			return 0, "", false
		}
	}
	var parts []string
	if json.Unmarshal(raw, &parts) != nil || len(parts) != 2 || parts[1] == "" {
		return 0, "", false
	}
	id, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil || id <= 0 {
		return 0, "", false
	}
	return id, parts[1], true
}

// Authenticate returns the authority of a presented access token, or ErrUnauthenticated.
func (s *Service) Authenticate(ctx context.Context, token string) (*Access, error) {
	id, secret, ok := parseToken(token)
	if !ok {
		return nil, fmt.Errorf("%w: malformed token", ErrUnauthenticated)
	}
	t, err := s.store.GetAPIToken(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("%w: no token %d", ErrUnauthenticated, id)
	}
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(hashSecret(secret), t.SecretHash) != 1 {
		return nil, fmt.Errorf("%w: wrong secret for token %d", ErrUnauthenticated, id)
	}
	if t.Revoked() || (!t.ExpiresAt.IsZero() && !s.now().Before(t.ExpiresAt)) {
		return nil, fmt.Errorf("%w: token %d revoked or expired", ErrUnauthenticated, id)
	}
	if err := s.checkVendor(ctx, t.Vendor); err != nil {
		if errors.Is(err, ErrNotVendor) {
			return nil, fmt.Errorf("%w: token %d: %v", ErrUnauthenticated, id, err)
		}
		return nil, err
	}
	return &Access{vendor: t.Vendor, tokenID: t.ID, token: t}, nil
}

// ListAPITokens returns the vendor's tokens (everyone's if vendor is empty).
func (s *Service) ListAPITokens(ctx context.Context, vendor string) ([]storage.APIToken, error) {
	return s.store.ListAPITokens(ctx, vendor)
}

// RevokeAPIToken revokes a token and every token derived from it. With a vendor, only that vendor's tokens.
func (s *Service) RevokeAPIToken(ctx context.Context, vendor string, id int64) error {
	t, err := s.store.GetAPIToken(ctx, id)
	if err == nil && vendor != "" && t.Vendor != vendor {
		err = storage.ErrNotFound
	}
	if err != nil {
		return err
	}
	err = s.store.RevokeAPIToken(ctx, id, s.now())
	s.record(ctx, Admin(), t.Vendor, "license.token.revoke", fmt.Sprintf("id=%d", id), err)
	return err
}

// KeyLock implements auth/KeyLock: for a token whose key lock is KeyLockAny, a new token with the same
// permissions, locked to the given key (and its product). Returns the new token and the key's ID.
func (s *Service) KeyLock(ctx context.Context, a *Access, productID int64, key string) (IssuedToken, int64, error) {
	if a.tokenID == 0 || a.token.KeyLock > KeyLockAny {
		return IssuedToken{}, 0, fmt.Errorf("%w: KeyLock needs a token with key lock %d", ErrAccessDenied, KeyLockAny)
	}
	p, err := s.product(ctx, a, productID)
	if err != nil {
		return IssuedToken{}, 0, err
	}
	k, err := s.getKey(ctx, p.ID, key)
	if err != nil {
		return IssuedToken{}, 0, err
	}
	child := a.token
	child.ID, child.RevokedAt, child.ParentID = 0, time.Time{}, a.tokenID
	// Not GetToken: on the child the key lock is a key, and it must not be read as a number of days.
	child.Permissions = slices.DeleteFunc(slices.Clone(child.Permissions), func(p string) bool { return p == string(MethodGetToken) })
	child.ProductLock, child.KeyLock = p.ID, k.ID
	issued, err := s.issue(ctx, child)
	s.record(ctx, a, p.Vendor, "license.token.keylock", fmt.Sprintf("id=%d parent=%d %s", issued.Record.ID, a.tokenID, keyDetail(p.ID, key)), err)
	return issued, k.ID, err
}

// Customers and the vendors' end-user accounts (customer/ and userauth/), Cryptolens' permission names.
// UserAuthNormal signs users in and changes their passwords; UserAuthAdmin does that and manages the accounts.
const (
	MethodGetCustomers                Method = "GetCustomers"
	MethodEditCustomer                Method = "EditCustomer"
	MethodRemoveCustomer              Method = "RemoveCustomer"
	MethodGetCustomerLicenses         Method = "GetCustomerLicenses"
	MethodGetCustomerLicensesBySecret Method = "GetCustomerLicensesBySecret"
	MethodUserAuthNormal              Method = "UserAuthNormal"
	MethodUserAuthAdmin               Method = "UserAuthAdmin"
)

func init() {
	Methods = append(Methods, MethodGetCustomers, MethodEditCustomer, MethodRemoveCustomer, MethodGetCustomerLicenses,
		MethodGetCustomerLicensesBySecret, MethodUserAuthNormal, MethodUserAuthAdmin)
}

// Key changes, license templates and product listings (key/AddFeature … key/CreateKeyFromTemplate,
// product/GetProducts, product/GetKeys), each its own permission as Cryptolens names them.
const (
	MethodAddFeature            Method = "AddFeature"
	MethodRemoveFeature         Method = "RemoveFeature"
	MethodChangeNotes           Method = "ChangeNotes"
	MethodChangeCustomer        Method = "ChangeCustomer"
	MethodChangeReseller        Method = "ChangeReseller"
	MethodMachineLockLimit      Method = "MachineLockLimit"
	MethodCreateKeyFromTemplate Method = "CreateKeyFromTemplate"
	MethodGetProducts           Method = "GetProducts"
	MethodGetKeys               Method = "GetKeys"
)

func init() {
	Methods = append(Methods, MethodAddFeature, MethodRemoveFeature, MethodChangeNotes, MethodChangeCustomer,
		MethodChangeReseller, MethodMachineLockLimit, MethodCreateKeyFromTemplate, MethodGetProducts, MethodGetKeys)
}
