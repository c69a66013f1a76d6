package sqlmap

import (
	"slices"
	"strings"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

// One column list and one scanner per record. A scanner reads the columns of its list, in that order, and
// returns the driver's error mapped to the storage sentinels.

// ScanID reads a row of one integer column (an ID).
func (d *Dialect) ScanID(row Row) (int64, error) {
	var id int64
	return id, d.MapErr(row.Scan(&id))
}

// --- users, tokens, sessions ---

const UserColumns = `name, password_hash, digest_secret, disabled, admin, created_at, updated_at`

func (d *Dialect) ScanUser(row Row) (storage.User, error) {
	var u storage.User
	err := row.Scan(&u.Name, &u.PasswordHash, &u.DigestSecret, &u.Disabled, &u.Admin, d.Time(&u.CreatedAt), d.Time(&u.UpdatedAt))
	return u, d.MapErr(err)
}

// TokenColumns read a token; InsertTokenColumns write one (its session is NULL when it has none).
const (
	TokenColumns       = `id, user_name, kind, coalesce(session_id, ''), client_host, created_at, expires_at, last_used_at, revoked_at`
	InsertTokenColumns = `id, user_name, kind, session_id, client_host, created_at, expires_at, last_used_at, revoked_at`
)

func (d *Dialect) ScanToken(row Row) (storage.Token, error) {
	var t storage.Token
	err := row.Scan(&t.ID, &t.User, &t.Kind, &t.SessionID, &t.ClientHost,
		d.Time(&t.CreatedAt), d.Time(&t.ExpiresAt), d.Time(&t.LastUsedAt), d.Time(&t.RevokedAt))
	return t, d.MapErr(err)
}

// ListTokens is the query of a token listing and its arguments; ok is false when no token can match.
func (d *Dialect) ListTokens(f storage.TokenFilter) (query string, args []any, ok bool) {
	w := d.Where()
	if f.User != "" {
		w.Add("user_name = ?", f.User)
	}
	if f.Kind != "" {
		w.Add("kind = ?", string(f.Kind))
	}
	if f.ClientHost != "" {
		w.Add("client_host = ?", f.ClientHost)
	}
	if !f.CreatedBefore.IsZero() {
		w.Add("created_at < ?", d.TimeArg(f.CreatedBefore))
	}
	if !f.LiveAt.IsZero() {
		w.Add("revoked_at = "+d.Unset+" AND (expires_at = "+d.Unset+" OR expires_at > ?)", d.TimeArg(f.LiveAt))
	}
	d.pageNewest(w, "created_at", "id", f.After)
	q := `SELECT ` + TokenColumns + ` FROM tokens` + w.String() + ` ORDER BY created_at DESC, id LIMIT ` + w.Next(LimitOf(f.Limit))
	return q, w.Args, !w.None
}

const SessionColumns = `id, user_name, client_host, created_at, last_seen_at, ended_at`

func (d *Dialect) ScanSession(row Row) (storage.Session, error) {
	var ss storage.Session
	err := row.Scan(&ss.ID, &ss.User, &ss.ClientHost, d.Time(&ss.CreatedAt), d.Time(&ss.LastSeenAt), d.Time(&ss.EndedAt))
	return ss, d.MapErr(err)
}

// ListSessions is the query of a session listing and its arguments; ok is false when no session can match.
func (d *Dialect) ListSessions(f storage.SessionFilter) (query string, args []any, ok bool) {
	w := d.Where()
	if f.User != "" {
		w.Add("user_name = ?", f.User)
	}
	if f.ClientHost != "" {
		w.Add("client_host = ?", f.ClientHost)
	}
	if !f.SeenSince.IsZero() {
		w.Add("ended_at = "+d.Unset+" AND last_seen_at >= ?", d.TimeArg(f.SeenSince))
	}
	d.pageNewest(w, "created_at", "id", f.After)
	q := `SELECT ` + SessionColumns + ` FROM sessions` + w.String() + ` ORDER BY created_at DESC, id LIMIT ` + w.Next(LimitOf(f.Limit))
	return q, w.Args, !w.None
}

// --- audit, token keys, the change feed ---

const AuditColumns = `id, at, action, outcome, actor, subject, client_host, detail`

func (d *Dialect) ScanAuditEvent(row Row) (storage.AuditEvent, error) {
	var e storage.AuditEvent
	err := row.Scan(&e.ID, d.Time(&e.At), &e.Action, &e.Outcome, &e.Actor, &e.Subject, &e.ClientHost, &e.Detail)
	return e, d.MapErr(err)
}

// ListAudit is the query of an audit listing and its arguments; ok is false when no event can match.
func (d *Dialect) ListAudit(f storage.AuditFilter) (query string, args []any, ok bool) {
	w := d.Where()
	if !f.Since.IsZero() {
		w.Add("at >= ?", d.TimeArg(f.Since))
	}
	if !f.Until.IsZero() {
		w.Add("at < ?", d.TimeArg(f.Until))
	}
	if f.Subject != "" {
		w.Add("(subject = ? OR actor = ?)", f.Subject, f.Subject)
	}
	if f.Action != "" {
		if strings.HasSuffix(f.Action, ".") {
			// A prefix: compare as a range (in byte order; PostgreSQL's column is COLLATE "C"), so that LIKE's
			// wildcards in the input mean nothing.
			w.Add("action >= ? AND action < ?", f.Action, f.Action[:len(f.Action)-1]+"/")
		} else {
			w.Add("action = ?", f.Action)
		}
	}
	if f.BeforeID > 0 {
		w.Add("(at < ? OR (at = ? AND id < ?))", d.TimeArg(f.BeforeAt), d.TimeArg(f.BeforeAt), f.BeforeID)
	}
	q := `SELECT ` + AuditColumns + ` FROM audit_events` + w.String() + ` ORDER BY at DESC, id DESC LIMIT ` + w.Next(LimitOf(f.Limit))
	return q, w.Args, !w.None
}

const TokenKeyColumns = `id, sealed, state, created_at, retired_at`

func (d *Dialect) ScanTokenKey(row Row) (storage.TokenKey, error) {
	var k storage.TokenKey
	err := row.Scan(&k.ID, &k.Sealed, &k.State, d.Time(&k.CreatedAt), d.Time(&k.RetiredAt))
	return k, d.MapErr(err)
}

const OAuthKeyColumns = `id, alg, sealed, state, created_at, verify_until, retired_at`

func (d *Dialect) ScanOAuthKey(row Row) (storage.OAuthKey, error) {
	var k storage.OAuthKey
	err := row.Scan(&k.ID, &k.Alg, &k.Sealed, &k.State, d.Time(&k.CreatedAt), d.Time(&k.VerifyUntil), d.Time(&k.RetiredAt))
	return k, d.MapErr(err)
}

const ChangeColumns = `seq, kind, key, at`

func (d *Dialect) ScanChange(row Row) (storage.Change, error) {
	var c storage.Change
	err := row.Scan(&c.Seq, &c.Kind, &c.Key, d.Time(&c.At))
	return c, d.MapErr(err)
}

// --- API clients and their access tokens ---

// ScopeSep joins the scopes and grant types of API clients and access tokens (where a list is text): neither
// can contain a space.
const ScopeSep = " "

const APIClientColumns = `id, description, primary_key_hash, secondary_key_hash, primary_key_set_at, secondary_key_set_at,
	scopes, grant_types, introspect, token_lifetime_us, require_subscription_key, disabled, created_at, updated_at, token_format`

func (d *Dialect) ScanAPIClient(row Row) (storage.APIClient, error) {
	var c storage.APIClient
	var lifetime int64
	err := row.Scan(&c.ID, &c.Description, &c.PrimaryKeyHash, &c.SecondaryKeyHash,
		d.Time(&c.PrimaryKeySetAt), d.Time(&c.SecondaryKeySetAt), d.List(&c.Scopes, ScopeSep), d.List(&c.GrantTypes, ScopeSep),
		&c.Introspect, &lifetime, &c.RequireSubscriptionKey, &c.Disabled, d.Time(&c.CreatedAt), d.Time(&c.UpdatedAt), &c.TokenFormat)
	c.Scopes, c.GrantTypes = orNil(c.Scopes), orNil(c.GrantTypes)
	c.TokenLifetime = time.Duration(lifetime) * time.Microsecond
	return c, d.MapErr(err)
}

const AccessTokenColumns = `id, client_id, scopes, key_hash, created_at, expires_at, revoked_at`

func (d *Dialect) ScanAccessToken(row Row) (storage.AccessToken, error) {
	var t storage.AccessToken
	err := row.Scan(&t.ID, &t.ClientID, d.List(&t.Scopes, ScopeSep), &t.KeyHash,
		d.Time(&t.CreatedAt), d.Time(&t.ExpiresAt), d.Time(&t.RevokedAt))
	t.Scopes = orNil(t.Scopes)
	return t, d.MapErr(err)
}

// ListAccessTokens is the query of an access-token listing and its arguments; ok is false when no token can
// match.
func (d *Dialect) ListAccessTokens(f storage.AccessTokenFilter) (query string, args []any, ok bool) {
	w := d.Where()
	if f.ClientID != "" {
		w.Add("client_id = ?", f.ClientID)
	}
	if !f.LiveAt.IsZero() {
		w.Add("revoked_at = "+d.Unset+" AND expires_at > ?", d.TimeArg(f.LiveAt))
	}
	d.pageNewest(w, "created_at", "id", f.After)
	q := `SELECT ` + AccessTokenColumns + ` FROM access_tokens` + w.String() + ` ORDER BY created_at DESC, id LIMIT ` + w.Next(LimitOf(f.Limit))
	return q, w.Args, !w.None
}

// --- PowerAuth ---

const PowerAuthActivationColumns = `id, user_name, name, status, created_at, updated_at`

func (d *Dialect) ScanPowerAuthActivation(row Row) (storage.PowerAuthActivation, error) {
	var a storage.PowerAuthActivation
	err := row.Scan(&a.ID, &a.User, &a.Name, &a.Status, d.Time(&a.CreatedAt), d.Time(&a.UpdatedAt))
	return a, d.MapErr(err)
}

const PowerAuthTokenColumns = `id, activation_id, sealed_secret, created_at`

func (d *Dialect) ScanPowerAuthToken(row Row) (storage.PowerAuthToken, error) {
	var t storage.PowerAuthToken
	err := row.Scan(&t.ID, &t.ActivationID, &t.SealedSecret, d.Time(&t.CreatedAt))
	return t, d.MapErr(err)
}

// ScanPowerAuthTokenActivation reads a row of SelectPowerAuthTokenActivation: a token's columns, then its
// activation's, each in the order of its column list.
func (d *Dialect) ScanPowerAuthTokenActivation(row Row) (storage.PowerAuthToken, storage.PowerAuthActivation, error) {
	var t storage.PowerAuthToken
	var a storage.PowerAuthActivation
	err := row.Scan(&t.ID, &t.ActivationID, &t.SealedSecret, d.Time(&t.CreatedAt),
		&a.ID, &a.User, &a.Name, &a.Status, d.Time(&a.CreatedAt), d.Time(&a.UpdatedAt))
	return t, a, d.MapErr(err)
}

// --- licensing ---

const VendorColumns = `user_name, created_at`

func (d *Dialect) ScanVendor(row Row) (storage.Vendor, error) {
	var v storage.Vendor
	err := row.Scan(&v.Name, d.Time(&v.CreatedAt))
	return v, d.MapErr(err)
}

const ProductColumns = `id, vendor, name, public_key, sealed_private_key, block_expired, created_at, allow_activation_management`

func (d *Dialect) ScanProduct(row Row) (storage.Product, error) {
	var p storage.Product
	err := row.Scan(&p.ID, &p.Vendor, &p.Name, &p.PublicKey, &p.SealedPrivateKey, &p.BlockExpired, d.Time(&p.CreatedAt), &p.AllowActivationManagement)
	return p, d.MapErr(err)
}

const CustomerColumns = `id, vendor, name, email, company, max_devices, coalesce(user_name, ''), created_at,
	notes, coalesce(secret_hash, ''), flags`

func (d *Dialect) ScanCustomer(row Row) (storage.Customer, error) {
	var c storage.Customer
	err := row.Scan(&c.ID, &c.Vendor, &c.Name, &c.Email, &c.Company, &c.MaxNoOfDevices, &c.User, d.Time(&c.CreatedAt),
		&c.Notes, &c.SecretHash, &c.Flags)
	return c, d.MapErr(err)
}

const LicenseKeyColumns = `global_id, product_id, id, key, created_at, period, expires_at, features, notes, blocked,
	coalesce(customer_id, 0), trial_activation, trial_started_at, max_machines, allowed_machines, trial_machine,
	coalesce(reseller_id, 0)`

func (d *Dialect) ScanLicenseKey(row Row) (storage.LicenseKey, error) {
	var k storage.LicenseKey
	var features int64
	err := row.Scan(&k.GlobalID, &k.ProductID, &k.ID, &k.Key, d.Time(&k.CreatedAt), &k.Period, d.Time(&k.ExpiresAt),
		&features, &k.Notes, &k.Blocked, &k.CustomerID, &k.TrialActivation, d.Time(&k.TrialStartedAt),
		&k.MaxNoOfMachines, &k.AllowedMachines, &k.TrialMachine, &k.ResellerID)
	for i := range k.Features {
		k.Features[i] = features&(1<<i) != 0
	}
	return k, d.MapErr(err)
}

const ResellerColumns = `id, vendor, name, email, phone, url, description, created_at`

func (d *Dialect) ScanReseller(row Row) (storage.Reseller, error) {
	var r storage.Reseller
	err := row.Scan(&r.ID, &r.Vendor, &r.Name, &r.Email, &r.Phone, &r.URL, &r.Description, d.Time(&r.CreatedAt))
	return r, d.MapErr(err)
}

const LicenseTemplateColumns = `id, product_id, name, period, features, notes, blocked, trial_activation, max_machines,
	allowed_machines, coalesce(reseller_id, 0), created_at`

func (d *Dialect) ScanLicenseTemplate(row Row) (storage.LicenseTemplate, error) {
	var t storage.LicenseTemplate
	var features int64
	err := row.Scan(&t.ID, &t.ProductID, &t.Name, &t.Period, &features, &t.Notes, &t.Blocked, &t.TrialActivation,
		&t.MaxNoOfMachines, &t.AllowedMachines, &t.ResellerID, d.Time(&t.CreatedAt))
	for i := range t.Features {
		t.Features[i] = features&(1<<i) != 0
	}
	return t, d.MapErr(err)
}

// FeatureBits packs F1..F8 into bits 0..7, as the features column holds them.
func FeatureBits(f [8]bool) int16 {
	var b int16
	for i, on := range f {
		if on {
			b |= 1 << i
		}
	}
	return b
}

const ActivationColumns = `key_global_id, machine_code, floating, overdraft, friendly_name, ip, activated_at, floating_expires_at`

func (d *Dialect) ScanActivation(row Row) (storage.Activation, error) {
	var a storage.Activation
	err := row.Scan(&a.KeyGlobalID, &a.MachineCode, &a.Floating, &a.Overdraft, &a.FriendlyName, &a.IP,
		d.Time(&a.ActivatedAt), d.Time(&a.FloatingExpiresAt))
	return a, d.MapErr(err)
}

// SortActivations puts a key's activations in the order ListActivations promises: node-locked first, each group
// by time, then by machine code. A key has few, and sorting them here saves the database a temporary b-tree per
// read, which costs SQLite more than the read itself; it also makes the order of machine codes byte order on
// either backend, whatever the PostgreSQL collation.
func SortActivations(acts []storage.Activation) {
	slices.SortFunc(acts, func(a, b storage.Activation) int {
		if a.Floating != b.Floating {
			if a.Floating {
				return 1
			}
			return -1
		}
		if c := a.ActivatedAt.Compare(b.ActivatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.MachineCode, b.MachineCode)
	})
}

// PermissionSep joins the permissions of API tokens and app authorizations (where a list is text): no
// permission contains a comma.
const PermissionSep = ","

const APITokenColumns = `id, vendor, name, secret_hash, permissions, product_lock, key_lock, feature_lock,
	coalesce(parent_id, 0), created_at, expires_at, revoked_at`

func (d *Dialect) ScanAPIToken(row Row) (storage.APIToken, error) {
	var t storage.APIToken
	err := row.Scan(&t.ID, &t.Vendor, &t.Name, &t.SecretHash, d.List(&t.Permissions, PermissionSep), &t.ProductLock,
		&t.KeyLock, &t.FeatureLock, &t.ParentID, d.Time(&t.CreatedAt), d.Time(&t.ExpiresAt), d.Time(&t.RevokedAt))
	t.Permissions = orNil(t.Permissions)
	return t, d.MapErr(err)
}

// --- app authorizations ---

// AppAuthColumns read an authorization with its child token's expiry and revocation (AppAuthFrom: a LEFT JOIN
// as "t", whose NULLs read as the zero time).
const (
	AppAuthColumns = `a.id, a.request_hash, a.parent_token_id, a.vendor, a.user_name, a.state, a.app_name,
	a.device_name, a.machine_code, a.public_key, a.permissions, a.product_lock, a.key_lock, a.feature_lock,
	a.lifetime_seconds, a.decided_at, coalesce(a.child_token_id, 0), a.issued_at, a.revoked_at,
	t.expires_at, t.revoked_at`
	AppAuthFrom = ` FROM app_authorizations a LEFT JOIN license_api_tokens t ON t.id = a.child_token_id`
)

func (d *Dialect) ScanAppAuth(row Row) (storage.AppAuthorization, error) {
	var a storage.AppAuthorization
	var lifetime int64
	err := row.Scan(&a.ID, &a.RequestHash, &a.ParentTokenID, &a.Vendor, &a.User, &a.State, &a.AppName, &a.DeviceName,
		&a.MachineCode, &a.PublicKey, d.List(&a.Permissions, PermissionSep), &a.ProductLock, &a.KeyLock, &a.FeatureLock,
		&lifetime, d.Time(&a.DecidedAt), &a.ChildTokenID, d.Time(&a.IssuedAt), d.Time(&a.RevokedAt),
		d.Time(&a.TokenExpiresAt), d.Time(&a.TokenRevokedAt))
	a.Permissions = orNil(a.Permissions)
	a.Lifetime = time.Duration(lifetime) * time.Second
	return a, d.MapErr(err)
}

// AppAuthFilter is the WHERE clause of ListAppAuthorizations.
func (d *Dialect) AppAuthFilter(f storage.AppAuthorizationFilter) *Where {
	w := d.Where()
	if f.User != "" {
		w.Add("a.user_name = ?", f.User)
	}
	if f.Vendor != "" {
		w.Add("a.vendor = ?", f.Vendor)
	}
	if f.AppName != "" {
		w.Add("a.app_name = ?", f.AppName)
	}
	if f.BeforeID > 0 {
		w.Add("a.id < ?", f.BeforeID)
	}
	return w
}

// AppDeviceColumns read a device with its customer's vendor (AppDeviceFrom: a JOIN as "c").
const (
	AppDeviceColumns = `d.customer_id, d.machine_code, d.device_name, d.user_name, c.vendor, d.registered_at`
	AppDeviceFrom    = ` FROM app_devices d JOIN license_customers c ON c.id = d.customer_id`
)

func (d *Dialect) ScanAppDevice(row Row) (storage.AppDevice, error) {
	var dev storage.AppDevice
	err := row.Scan(&dev.CustomerID, &dev.MachineCode, &dev.DeviceName, &dev.User, &dev.Vendor, d.Time(&dev.RegisteredAt))
	return dev, d.MapErr(err)
}

// ListAppDevices is the query listing a user's devices (everyone's for ""), and its arguments.
func (d *Dialect) ListAppDevices(user string) (string, []any) {
	w := d.Where()
	if user != "" {
		w.Add("d.user_name = ?", user)
	}
	return `SELECT ` + AppDeviceColumns + AppDeviceFrom + w.String() + ` ORDER BY d.registered_at, d.customer_id, d.machine_code`, w.Args
}

// --- WooCommerce ---

const WooStoreColumns = `id, vendor, name, code_hash, require_token, errors_by_code, created_at`

func (d *Dialect) ScanWooStore(row Row) (storage.WooStore, error) {
	var s storage.WooStore
	err := row.Scan(&s.ID, &s.Vendor, &s.Name, &s.CodeHash, &s.RequireToken, &s.ErrorsByCode, d.Time(&s.CreatedAt))
	return s, d.MapErr(err)
}

const WooSKUColumns = `store_id, sku, product_id, desktop`

func (d *Dialect) ScanWooSKU(row Row) (storage.WooSKU, error) {
	var k storage.WooSKU
	err := row.Scan(&k.StoreID, &k.SKU, &k.ProductID, &k.Desktop)
	return k, d.MapErr(err)
}

const WooTokenColumns = `hash, key_global_id, created_at, expires_at`

func (d *Dialect) ScanWooToken(row Row) (storage.WooToken, error) {
	var t storage.WooToken
	err := row.Scan(&t.Hash, &t.KeyGlobalID, d.Time(&t.CreatedAt), d.Time(&t.ExpiresAt))
	return t, d.MapErr(err)
}

// orNil is l, or nil when it is empty: an empty list reads as nil whatever the column gave.
func orNil(l []string) []string {
	if len(l) == 0 {
		return nil
	}
	return l
}
