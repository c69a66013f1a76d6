// Package woo maps WooCommerce License Keys (10 Quality's "woo-license-keys" plugin) onto the licensing core:
// the plugin's error list, messages, parameters and tokens, and its stores' settings. The plugin's concepts
// map onto ours like this:
//
//   - store_code: a vendor's WooStore, found by the SHA-256 of the code (one vendor may run several stores).
//   - sku: a WooSKU of that store, naming one of the vendor's products.
//   - license_key: the plugin's "<code>-<order_item_id>" form of one of our keys: its 20 letters without the
//     dashes, a dash, and its GlobalID (unique across products, as an order item id is in a shop). Key
//     makes it; the letters are compared without regard to case, like our keys everywhere.
//   - domain: the machine code of a node-locked activation (scheme, case and a trailing slash ignored). A
//     desktop SKU's activation without a domain gets a machine code of its own, so each takes a seat.
//   - activation_id: the activation's time in Unix seconds; the plugin's id is its date as well.
//   - the key's MaxNoOfMachines is the plugin's "domain" limit: a new domain beyond it is refused (code 202),
//     an activated one may activate again (same activation_id). A key without a limit still records its
//     activations here, since validate needs them; on a key with a limit, localhost is free (activation_id
//     404) unless the SKU is desktop, as in the plugin.
//   - expire: the key's expiry when the product blocks expired keys (Cryptolens' "time-limited" product),
//     none otherwise; a trial-activation key has none until its countdown starts.
//   - a blocked key, or one of another vendor's product, is "Invalid license key." (code 5), like the key of a
//     cancelled order.
package woo

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/tokenmanager/tokenmanager/clusterlimit"
	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/storage"
)

// Error is one error of the plugin's wire: its numeric code, the parameter it is keyed by in the default
// "property" format, and its exact message.
type Error struct {
	Code    int
	Param   string
	Message string
}

// The plugin's errors (codes 1–203, its own) and ours for token authorization, throttling and a domain that cannot be stored (300+, which the
// plugin's documentation leaves unpublished). Three are listed for completeness but never raised here: 1, since
// a wrong store code is answered like a key the store does not have (5), so that store codes cannot be told
// apart by guessing; 4, since a key that passes the format check always splits in two; and 201, the plugin's
// "count" limit, since our limit counts domains (its "domain" type, 202).
var (
	ErrStoreCode       = Error{1, "store_code", "Invalid code."}
	ErrKeyFormat       = Error{2, "license_key", "Invalid license key."}
	ErrKeySKU          = Error{3, "license_key", "Invalid license key."}
	ErrKeyParse        = Error{4, "license_key", "Invalid license key."}
	ErrKeyNotFound     = Error{5, "license_key", "Invalid license key."}
	ErrSKURequired     = Error{100, "sku", "Required."}
	ErrKeyRequired     = Error{101, "license_key", "Required."}
	ErrStoreRequired   = Error{102, "store_code", "Required."}
	ErrActivationReq   = Error{103, "activation_id", "Required."}
	ErrExpired         = Error{200, "license_key", "License key has expired."}
	ErrLimit           = Error{201, "license_key", "License key activation limit reached. Deactivate one of the registered activations to proceed."}
	ErrDomainLimit     = Error{202, "license_key", "License key domain activation limit reached. Deactivate one or more of the registered activations to proceed."}
	ErrActivation      = Error{203, "activation_id", "Invalid activation."}
	ErrTokenRequired   = Error{300, "authorization", "Access token required."}
	ErrTokenInvalid    = Error{301, "authorization", "Invalid access token."}
	ErrGrantType       = Error{302, "grant_type", "Invalid grant type."}
	ErrTooMany         = Error{303, "license_key", "Too many attempts. Try again later."}
	ErrDomain          = Error{304, "domain", "Invalid domain."}
	keyPattern         = regexp.MustCompile(`[A-Za-z0-9]+-[0-9]+`)
	errNothingToRemove = errors.New("license: no such WooCommerce activation")
)

// Errors is a refused call: the errors in the order raised, and whether the store keys them by code.
// RetryAfter is set with ErrTooMany: when one more attempt will be allowed.
type Errors struct {
	Errors     []Error
	ByCode     bool
	RetryAfter time.Duration
}

func (e *Errors) Error() string {
	var b strings.Builder
	b.WriteString("license: woocommerce:")
	for _, x := range e.Errors {
		fmt.Fprintf(&b, " %d %s", x.Code, x.Message)
	}
	return b.String()
}

// Has reports whether the error with this code was raised.
func (e *Errors) Has(code int) bool {
	for _, x := range e.Errors {
		if x.Code == code {
			return true
		}
	}
	return false
}

// Options configure a Service.
type Options struct {
	// TokenLifetime is how long a token of the token endpoint lives (default 10 minutes).
	TokenLifetime time.Duration
	// Shared, when set, makes the per-key token limit hold across every node syncing through the same database.
	Shared *clusterlimit.Sync
}

// DefaultTokenLifetime is the lifetime of the token endpoint's tokens unless configured.
const DefaultTokenLifetime = 10 * time.Minute

// The token endpoint's bounds per key. A client is expected to keep its token for its lifetime, so an honest
// key needs few: each of a few sites holds one and renews it every TokenLifetime. Issuance beyond the rate is
// refused (ErrTooMany); beyond MaxTokensPerKey live tokens the oldest are dropped, so a new token always
// works and a client whose token was dropped gets 301 and asks for a new one, which is what it does when its
// token expires.
const (
	TokenBurst      = 20               // tokens a key may get at once,
	TokenEvery      = 30 * time.Second // then one more per interval (per node)
	MaxTokensPerKey = 20               // live tokens a key keeps; the oldest beyond are dropped (all nodes)
)

// Store is what the WooCommerce layer keeps: its stores, SKUs and tokens, over the licensing data.
type Store interface {
	storage.Licensing
	storage.WooCommerce
}

// Service serves the WooCommerce License Keys API and its stores' settings.
type Service struct {
	svc    *license.Service
	store  Store
	ttl    time.Duration
	issues *keyRate
}

// New returns the WooCommerce License Keys layer over svc; store is normally the same backend as svc's.
func New(svc *license.Service, store Store, o Options) *Service {
	if o.TokenLifetime <= 0 {
		o.TokenLifetime = DefaultTokenLifetime
	}
	return &Service{svc: svc, store: store, ttl: o.TokenLifetime, issues: newKeyRate(TokenBurst, TokenEvery, o.Shared)}
}

// TokenLifetime is the lifetime of the token endpoint's tokens.
func (w *Service) TokenLifetime() time.Duration { return w.ttl }

// Key is the plugin's form of a key: its letters without dashes, a dash, its GlobalID.
func Key(k storage.LicenseKey) string {
	return strings.ReplaceAll(k.Key, "-", "") + "-" + strconv.FormatInt(k.GlobalID, 10)
}

// Request is a call of activate, validate or deactivate, with its parameters as sent.
type Request struct {
	StoreCode, SKU, LicenseKey string
	Domain                     string // "" means the plugin's default, localhost
	ActivationID               int64  // validate and deactivate
	IP                         string
	Token                      string // the Bearer token presented, "" if none
}

// License is what a successful activate or validate returns.
type License struct {
	TheKey       string
	ActivationID int64
	Expire       time.Time // zero: the key does not expire
	HasExpired   bool
}

// call is a request that passed the plugin's breaking checks.
type call struct {
	req     Request
	store   storage.WooStore
	vendor  *license.Access // the store's vendor's
	sku     storage.WooSKU
	product storage.Product
	key     storage.LicenseKey
	domain  string
	now     time.Time
	errs    Errors
}

func (c *call) fail(e ...Error) *Errors {
	c.errs.Errors = append(c.errs.Errors, e...)
	return &c.errs
}

// hashSecret is how store codes and tokens are kept and looked up.
func hashSecret(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// domainMachine is the machine code for a domain: esc_url-style prefixes, case and a trailing slash do not make a
// different site. A domain too long to be a machine code is replaced by its hash, consistently.
func domainMachine(raw string) string {
	d := strings.ToLower(strings.TrimSpace(raw))
	for _, scheme := range []string{"http://", "https://"} {
		d = strings.TrimPrefix(d, scheme)
	}
	d = strings.TrimRight(d, "/")
	if d == "" {
		return "localhost"
	}
	if len(d) > license.MaxMachineCodeLen {
		h := sha256.Sum256([]byte(d))
		return "sha256:" + hex.EncodeToString(h[:])
	}
	return d
}

// parseKey splits the plugin's key form into our key's letters and its GlobalID, raising codes 2 and 4.
func parseKey(key string) (code string, globalID int64, e *Error) {
	if m := keyPattern.FindString(key); m == "" || m != key {
		return "", 0, &ErrKeyFormat
	}
	parts := strings.Split(key, "-")
	if len(parts) != 2 {
		return "", 0, &ErrKeyParse
	}
	id, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || id <= 0 {
		return "", 0, &ErrKeyNotFound // an order item id no shop has
	}
	return strings.ToUpper(parts[0]), id, nil
}

// findKey returns the key the plugin's form names, or code 5: none, blocked, or the letters do not match.
func (w *Service) findKey(ctx context.Context, code string, globalID int64) (storage.LicenseKey, storage.Product, *Error, error) {
	k, err := w.store.GetLicenseKeyByGlobalID(ctx, globalID)
	if errors.Is(err, storage.ErrNotFound) {
		return k, storage.Product{}, &ErrKeyNotFound, nil
	}
	if err != nil {
		return k, storage.Product{}, nil, err
	}
	if subtle.ConstantTimeCompare([]byte(code), []byte(strings.ReplaceAll(k.Key, "-", ""))) != 1 || k.Blocked {
		return k, storage.Product{}, &ErrKeyNotFound, nil
	}
	p, err := w.store.GetProduct(ctx, k.ProductID)
	if err != nil {
		return k, p, nil, err
	}
	return k, p, nil, nil
}

// maxTokenLen bounds a presented token before it is hashed and looked up.
const maxTokenLen = 512

// validToken returns the live token presented, or code 301.
func (w *Service) validToken(ctx context.Context, token string, now time.Time) (storage.WooToken, *Error, error) {
	if len(token) > maxTokenLen {
		return storage.WooToken{}, &ErrTokenInvalid, nil
	}
	t, err := w.store.GetWooToken(ctx, hashSecret(token))
	if errors.Is(err, storage.ErrNotFound) || (err == nil && !now.Before(t.ExpiresAt)) {
		return storage.WooToken{}, &ErrTokenInvalid, nil
	}
	return t, nil, err
}

// check runs the plugin's breaking checks in its order (102, 101, 100, 103, 2, 4, 5, 3), then the token checks
// of a store that requires one (300, 301). A wrong store code, or a store of a disabled vendor, is not told
// apart from a right one: the checks that need no store run, then the key is "Invalid license key." (5), as for
// a key the store does not have; so the token checks come after the key's, whose answers are the same either
// way. An error is either *Errors or an internal one.
func (w *Service) check(ctx context.Context, req Request, needActivation bool) (*call, error) {
	c := &call{req: req, now: w.svc.Now(), domain: domainMachine(req.Domain)}
	if req.StoreCode == "" {
		return nil, c.fail(ErrStoreRequired)
	}
	if req.LicenseKey == "" {
		return nil, c.fail(ErrKeyRequired)
	}
	st, err := w.store.FindWooStore(ctx, hashSecret(req.StoreCode))
	open := err == nil
	if errors.Is(err, storage.ErrNotFound) {
		err = nil
	}
	if err != nil {
		return nil, err
	}
	if open {
		a, err := w.svc.Vendor(ctx, st.Vendor)
		if errors.Is(err, license.ErrNotVendor) {
			open = false // a disabled vendor's stores are closed
		} else if err != nil {
			return nil, err
		}
		c.vendor = a
	}
	if open {
		c.store, c.errs.ByCode = st, st.ErrorsByCode
	}
	if req.SKU == "" {
		return nil, c.fail(ErrSKURequired)
	}
	if needActivation && req.ActivationID == 0 {
		return nil, c.fail(ErrActivationReq)
	}
	if license.CheckText("domain", c.domain, license.MaxMachineCodeLen) != nil {
		return nil, c.fail(ErrDomain) // control characters: WordPress's sanitizing keeps all but NUL
	}
	code, globalID, e := parseKey(req.LicenseKey)
	if e != nil {
		return nil, c.fail(*e)
	}
	k, p, e, err := w.findKey(ctx, code, globalID) // also without a store: the same work, the same time
	if err != nil {
		return nil, err
	}
	if !open || e != nil || p.Vendor != st.Vendor {
		return nil, c.fail(ErrKeyNotFound)
	}
	sku, err := w.store.GetWooSKU(ctx, st.ID, req.SKU)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && sku.ProductID != k.ProductID) {
		return nil, c.fail(ErrKeySKU)
	}
	if err != nil {
		return nil, err
	}
	if st.RequireToken {
		if req.Token == "" {
			return nil, c.fail(ErrTokenRequired)
		}
		tok, e, err := w.validToken(ctx, req.Token, c.now)
		if err != nil {
			return nil, err
		}
		if e != nil {
			return nil, c.fail(*e)
		}
		if tok.KeyGlobalID != k.GlobalID {
			return nil, c.fail(ErrTokenInvalid) // a token of another key
		}
	}
	c.sku, c.product, c.key = sku, p, k
	return c, nil
}

// expiry is the key's expiry as the plugin shows it; zero when the key does not expire.
func expiry(p storage.Product, k storage.LicenseKey) time.Time {
	if !p.BlockExpired || (k.TrialActivation && k.TrialStartedAt.IsZero()) {
		return time.Time{}
	}
	return k.ExpiresAt
}

func (c *call) expired() bool {
	e := expiry(c.product, c.key)
	return !e.IsZero() && c.now.After(e)
}

// localhostFree is the plugin's development exemption: on a key with a limit, a non-desktop activation from
// localhost is not recorded and gets activation_id 404.
func (c *call) localhostFree() bool {
	return c.key.MaxNoOfMachines > 0 && !c.sku.Desktop && strings.Contains(c.domain, "localhost")
}

// matches reports whether an activation is the one the request names.
func (c *call) matches(a storage.Activation) bool {
	return !a.Floating && a.ActivatedAt.Unix() == c.req.ActivationID && (c.sku.Desktop || a.MachineCode == c.domain)
}

func (c *call) license(k storage.LicenseKey, activationID int64) License {
	l := License{TheKey: Key(k), ActivationID: activationID, Expire: expiry(c.product, k)}
	l.HasExpired = !l.Expire.IsZero() && c.now.After(l.Expire)
	return l
}

// Activate is the plugin's activate: it records the domain on the key (unless localhost is free) and returns
// the license with the activation's id.
func (w *Service) Activate(ctx context.Context, req Request) (License, error) {
	c, err := w.check(ctx, req, false)
	if err != nil {
		return License{}, err
	}
	desktopAnon := c.sku.Desktop && c.domain == "localhost"
	acts, err := w.store.ListActivations(ctx, c.key.GlobalID)
	if err != nil {
		return License{}, err
	}
	// The non-breaking checks: both may be raised. The limit is checked again, under the key's lock, below.
	if c.expired() {
		c.errs.Errors = append(c.errs.Errors, ErrExpired)
	}
	if !c.localhostFree() && c.overLimit(acts, desktopAnon) {
		c.errs.Errors = append(c.errs.Errors, ErrDomainLimit)
	}
	if len(c.errs.Errors) > 0 {
		return License{}, &c.errs
	}
	if c.localhostFree() {
		return c.license(c.key, 404), nil
	}
	machine := c.domain
	if desktopAnon {
		machine = "desktop:" + rand.Text() // each anonymous desktop activation is a seat of its own
	}
	a := c.vendor
	fresh := false
	k, acts, err := w.store.UpdateActivations(ctx, c.product.ID, c.key.Key, func(k storage.LicenseKey, acts []storage.Activation) (storage.ActivationChanges, error) {
		ch, err := license.DecideActivate(a, c.product, k, acts, license.ActivateRequest{MachineCode: machine, IP: req.IP}, c.now)
		fresh = err == nil && license.NewSeat(acts, ch, c.now)
		if err != nil || k.MaxNoOfMachines > 0 {
			return ch, err
		}
		// Without a limit Cryptolens records nothing; the plugin's validate needs the activation, so record it.
		for _, x := range acts {
			if !x.Floating && x.MachineCode == machine {
				return ch, nil
			}
		}
		ch.Put = append(ch.Put, storage.Activation{MachineCode: machine, IP: req.IP, ActivatedAt: c.now})
		fresh = true
		return ch, nil
	})
	if err == nil && fresh {
		w.svc.NoteActivation(c.product.ID)
	}
	switch {
	case errors.Is(err, license.ErrMachineLimit):
		return License{}, c.fail(ErrDomainLimit)
	case errors.Is(err, license.ErrKeyBlocked), errors.Is(err, storage.ErrNotFound):
		return License{}, c.fail(ErrKeyNotFound)
	case err != nil:
		return License{}, err
	}
	for _, x := range acts {
		if !x.Floating && x.MachineCode == machine {
			return c.license(k, x.ActivatedAt.Unix()), nil
		}
	}
	return License{}, fmt.Errorf("license: woocommerce activation of key %d was not recorded", k.GlobalID)
}

// overLimit reports whether activating the request's domain would exceed the key's limit.
func (c *call) overLimit(acts []storage.Activation, desktopAnon bool) bool {
	if c.key.MaxNoOfMachines <= 0 || (license.AllowedMachine(c.key, c.domain) && !desktopAnon) {
		return false
	}
	n := 0
	for _, x := range acts {
		if x.Floating {
			continue
		}
		if !desktopAnon && x.MachineCode == c.domain {
			return false // activated already: not a new seat
		}
		n++
	}
	return n >= c.key.MaxNoOfMachines
}

// activationKnown is the plugin's activation check (code 203), with its localhost exemption.
func (c *call) activationKnown(acts []storage.Activation) bool {
	if c.key.MaxNoOfMachines > 0 && strings.Contains(c.domain, "localhost") && c.req.ActivationID == 404 {
		return true
	}
	for _, x := range acts {
		if c.matches(x) {
			return true
		}
	}
	return false
}

// Validate is the plugin's validate: the key is usable and the activation exists.
func (w *Service) Validate(ctx context.Context, req Request) (License, error) {
	c, err := w.check(ctx, req, true)
	if err != nil {
		return License{}, err
	}
	acts, err := w.store.ListActivations(ctx, c.key.GlobalID)
	if err != nil {
		return License{}, err
	}
	if c.expired() {
		c.errs.Errors = append(c.errs.Errors, ErrExpired)
	}
	if !c.activationKnown(acts) {
		c.errs.Errors = append(c.errs.Errors, ErrActivation)
	}
	if len(c.errs.Errors) > 0 {
		return License{}, &c.errs
	}
	return c.license(c.key, req.ActivationID), nil
}

// Deactivate is the plugin's deactivate: it removes the activation (for localhost's 404 there is nothing to
// remove). Like the plugin, it refuses an expired key.
func (w *Service) Deactivate(ctx context.Context, req Request) error {
	c, err := w.check(ctx, req, true)
	if err != nil {
		return err
	}
	acts, err := w.store.ListActivations(ctx, c.key.GlobalID)
	if err != nil {
		return err
	}
	if c.expired() {
		c.errs.Errors = append(c.errs.Errors, ErrExpired)
	}
	if !c.activationKnown(acts) {
		c.errs.Errors = append(c.errs.Errors, ErrActivation)
	}
	if len(c.errs.Errors) > 0 {
		return &c.errs
	}
	if c.req.ActivationID == 404 && c.localhostFree() {
		return nil
	}
	_, _, err = w.store.UpdateActivations(ctx, c.product.ID, c.key.Key, func(_ storage.LicenseKey, acts []storage.Activation) (storage.ActivationChanges, error) {
		var ch storage.ActivationChanges
		for _, x := range acts {
			if c.matches(x) {
				ch.Delete = append(ch.Delete, x)
			}
		}
		if len(ch.Delete) == 0 {
			return ch, errNothingToRemove // removed by a concurrent call
		}
		return ch, nil
	})
	switch {
	case errors.Is(err, errNothingToRemove):
		return c.fail(ErrActivation)
	case errors.Is(err, storage.ErrNotFound):
		return c.fail(ErrKeyNotFound)
	}
	return err
}

// Token is an issued access token of the token endpoint, shown once.
type Token struct {
	Token     string
	Lifetime  time.Duration
	ExpiresAt time.Time
}

// tokenBytes is the randomness of a token: 32 bytes, 43 characters of unpadded base64url.
const tokenBytes = 32

// IssueToken is the token endpoint (grant_type=license_key): a token for the key, stored only as its hash.
// Its errors are *Errors in the default property format: the request names no store. A key of a disabled
// vendor gets none (5, like a blocked key); a key gets at most TokenBurst at once, then one per
// TokenEvery (303 with RetryAfter), and keeps at most MaxTokensPerKey live ones, the oldest dropped.
//
// No store code is asked for: the token is bound to its key and is of use only together with a store code at
// activate, validate and deactivate, which check the code first; and the plugin's clients ask for a token with
// grant_type and license_key alone.
func (w *Service) IssueToken(ctx context.Context, grantType, licenseKey string) (Token, error) {
	fail := func(e Error) error { return &Errors{Errors: []Error{e}} }
	if grantType != "license_key" {
		return Token{}, fail(ErrGrantType)
	}
	if licenseKey == "" {
		return Token{}, fail(ErrKeyRequired)
	}
	code, globalID, e := parseKey(licenseKey)
	if e != nil {
		return Token{}, fail(*e)
	}
	k, p, e, err := w.findKey(ctx, code, globalID)
	if err != nil {
		return Token{}, err
	}
	if e != nil {
		return Token{}, fail(*e)
	}
	if _, err := w.svc.Vendor(ctx, p.Vendor); errors.Is(err, license.ErrNotVendor) {
		return Token{}, fail(ErrKeyNotFound) // a disabled vendor's keys are closed, as at its stores
	} else if err != nil {
		return Token{}, err
	}
	now := w.svc.Now()
	if wait := w.issues.take(k.GlobalID, now); wait > 0 {
		return Token{}, &Errors{Errors: []Error{ErrTooMany}, RetryAfter: wait}
	}
	// Expired tokens are useless; each issue clears a bounded number of them, so no separate collector is needed.
	if _, err := w.store.DeleteWooTokens(ctx, now, 100); err != nil {
		return Token{}, err
	}
	raw := make([]byte, tokenBytes)
	rand.Read(raw)
	tok := base64.RawURLEncoding.EncodeToString(raw)
	t := storage.WooToken{Hash: hashSecret(tok), KeyGlobalID: k.GlobalID, CreatedAt: now, ExpiresAt: now.Add(w.ttl)}
	if err := w.store.CreateWooToken(ctx, t); err != nil {
		return Token{}, err
	}
	if _, err := w.store.TrimWooTokens(ctx, k.GlobalID, now, MaxTokensPerKey); err != nil {
		return Token{}, err
	}
	return Token{Token: tok, Lifetime: w.ttl, ExpiresAt: t.ExpiresAt}, nil
}

// --- the vendor's settings ---

// StoreSpec describes a store. Code is the store code its clients send (the plugin's "security code").
type StoreSpec struct {
	Name         string
	Code         string
	RequireToken bool
	ErrorsByCode bool
}

// MinStoreCodeLen bounds how short a store code may be: it is the only thing that picks the store.
const MinStoreCodeLen = 8

func checkStoreCode(code string) error {
	if len(code) < MinStoreCodeLen {
		return fmt.Errorf("%w: a store code needs at least %d characters", license.ErrInvalidInput, MinStoreCodeLen)
	}
	return license.CheckText("store code", code, license.MaxNameLen)
}

// storeAccess returns the store if the access reaches it: the operator, or its vendor signed in; not tokens.
func (w *Service) storeAccess(ctx context.Context, a *license.Access, id int64) (storage.WooStore, error) {
	if !a.Account() {
		return storage.WooStore{}, fmt.Errorf("%w: stores are managed by their vendor", license.ErrAccessDenied)
	}
	st, err := w.store.GetWooStore(ctx, id)
	if err == nil && a.VendorName() != "" && st.Vendor != a.VendorName() {
		err = storage.ErrNotFound
	}
	if errors.Is(err, storage.ErrNotFound) {
		return storage.WooStore{}, fmt.Errorf("%w: no store %d", storage.ErrNotFound, id)
	}
	return st, err
}

// CreateStore adds a store for the vendor. ErrConflict (wrapped) if another store has the same code.
func (w *Service) CreateStore(ctx context.Context, a *license.Access, vendor string, spec StoreSpec) (storage.WooStore, error) {
	if !a.Account() || (a.VendorName() != "" && a.VendorName() != vendor) {
		return storage.WooStore{}, fmt.Errorf("%w: stores of %q", license.ErrAccessDenied, vendor)
	}
	if _, err := w.svc.Vendor(ctx, vendor); err != nil {
		return storage.WooStore{}, err
	}
	if err := checkStoreCode(spec.Code); err != nil {
		return storage.WooStore{}, err
	}
	if err := license.CheckText("store name", spec.Name, license.MaxNameLen); err != nil {
		return storage.WooStore{}, err
	}
	st, err := w.store.CreateWooStore(ctx, storage.WooStore{Vendor: vendor, Name: strings.TrimSpace(spec.Name),
		CodeHash: hashSecret(spec.Code), RequireToken: spec.RequireToken, ErrorsByCode: spec.ErrorsByCode,
		CreatedAt: w.svc.Now()})
	if errors.Is(err, storage.ErrConflict) {
		return storage.WooStore{}, fmt.Errorf("%w: another store has this code", storage.ErrConflict)
	}
	if err == nil {
		w.svc.Record(ctx, a, vendor, "woo.store.create", fmt.Sprintf("store=%d name=%q", st.ID, st.Name))
	}
	return st, err
}

// ListStores returns the stores the access reaches.
func (w *Service) ListStores(ctx context.Context, a *license.Access) ([]storage.WooStore, error) {
	if !a.Account() {
		return nil, fmt.Errorf("%w: stores are managed by their vendor", license.ErrAccessDenied)
	}
	return w.store.ListWooStores(ctx, a.VendorName())
}

// StoreChange changes a store's settings; nil fields stay as they are.
type StoreChange struct {
	Name         *string
	Code         *string
	RequireToken *bool
	ErrorsByCode *bool
	// Check, when set, runs on the stored settings inside the change's transaction; its error aborts the
	// change (the management API's If-Match).
	Check func(storage.WooStore) error
}

// UpdateStore changes a store's settings.
func (w *Service) UpdateStore(ctx context.Context, a *license.Access, id int64, ch StoreChange) (storage.WooStore, error) {
	st, err := w.storeAccess(ctx, a, id)
	if err != nil {
		return storage.WooStore{}, err
	}
	if ch.Code != nil {
		if err := checkStoreCode(*ch.Code); err != nil {
			return storage.WooStore{}, err
		}
	}
	if ch.Name != nil {
		if err := license.CheckText("store name", *ch.Name, license.MaxNameLen); err != nil {
			return storage.WooStore{}, err
		}
	}
	updated, err := w.store.UpdateWooStore(ctx, id, func(st *storage.WooStore) error {
		if ch.Check != nil {
			if err := ch.Check(*st); err != nil {
				return err
			}
		}
		if ch.Name != nil {
			st.Name = strings.TrimSpace(*ch.Name)
		}
		if ch.Code != nil {
			st.CodeHash = hashSecret(*ch.Code)
		}
		if ch.RequireToken != nil {
			st.RequireToken = *ch.RequireToken
		}
		if ch.ErrorsByCode != nil {
			st.ErrorsByCode = *ch.ErrorsByCode
		}
		return nil
	})
	if err == nil {
		// What changed, never the new code itself: it is the store's secret.
		w.svc.Record(ctx, a, st.Vendor, "woo.store.update", fmt.Sprintf("store=%d name_changed=%v code_changed=%v require_token=%v errors_by_code=%v",
			id, ch.Name != nil, ch.Code != nil, updated.RequireToken, updated.ErrorsByCode))
	}
	return updated, err
}

// SetSKU makes the store sell the product under sku (replacing what the SKU named before).
func (w *Service) SetSKU(ctx context.Context, a *license.Access, storeID int64, sku string, productID int64, desktop bool) error {
	st, err := w.storeAccess(ctx, a, storeID)
	if err != nil {
		return err
	}
	if sku == "" || sku != strings.TrimSpace(sku) {
		return fmt.Errorf("%w: a SKU must be non-empty, without surrounding spaces", license.ErrInvalidInput)
	}
	if err := license.CheckText("SKU", sku, license.MaxNameLen); err != nil {
		return err
	}
	p, err := w.svc.Product(ctx, license.Admin(), productID)
	if err == nil && p.Vendor != st.Vendor {
		err = fmt.Errorf("%w: %d", license.ErrProductNotFound, productID) // as to the vendor: none of theirs
	}
	if err != nil {
		return err
	}
	err = w.store.PutWooSKU(ctx, storage.WooSKU{StoreID: st.ID, SKU: sku, ProductID: productID, Desktop: desktop})
	if err == nil {
		w.svc.Record(ctx, a, st.Vendor, "woo.sku.set", fmt.Sprintf("store=%d sku=%q product=%d desktop=%v", st.ID, sku, productID, desktop))
	}
	return err
}

// ListSKUs returns the store's SKUs.
func (w *Service) ListSKUs(ctx context.Context, a *license.Access, storeID int64) ([]storage.WooSKU, error) {
	if _, err := w.storeAccess(ctx, a, storeID); err != nil {
		return nil, err
	}
	return w.store.ListWooSKUs(ctx, storeID)
}

// RemoveSKU stops the store selling under sku.
func (w *Service) RemoveSKU(ctx context.Context, a *license.Access, storeID int64, sku string) error {
	st, err := w.storeAccess(ctx, a, storeID)
	if err != nil {
		return err
	}
	err = w.store.DeleteWooSKU(ctx, storeID, sku)
	if err == nil {
		w.svc.Record(ctx, a, st.Vendor, "woo.sku.remove", fmt.Sprintf("store=%d sku=%q", st.ID, sku))
	}
	return err
}
