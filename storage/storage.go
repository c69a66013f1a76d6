// Package storage defines what tokenmanager keeps between requests and the errors every backend reports.
//
// Each aggregate has one small interface; a backend (storage/sqlite, storage/postgres) implements all of
// them and is done when it passes storage/conformance. Nothing here stores a usable secret: tokens are kept by
// their random id (the token itself is encrypted with a key that never reaches the database), sessions by a hash
// of the cookie value, passwords as argon2id hashes.
package storage

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors. Backends wrap them with %w; callers test with errors.Is.
var (
	ErrNotFound = errors.New("storage: not found")
	ErrConflict = errors.New("storage: already exists")
	// ErrStaleTokenKey: a token sealed with a key that is no longer the ring's primary (another process rotated
	// the ring since this one loaded it). The token must be sealed again with the current primary key.
	ErrStaleTokenKey = errors.New("storage: the token key is no longer the primary key")
)

// ErrUnavailable: the database cannot be reached or cannot take writes (the server is down or restarting, the
// connection broke, the disk is full). Nothing was changed by the failed call, or whether it was is unknown
// and the caller was told nothing; the same call may succeed later, so the service answers 503 with
// Retry-After. Backends wrap it around the driver's error.
var ErrUnavailable = errors.New("storage: database unavailable")

// User is an account that may obtain tokens.
type User struct {
	Name         string
	PasswordHash string // PHC-formatted argon2id hash
	// DigestSecret is the user's password sealed with the server key, present only when the user may
	// authenticate with WS-Security PasswordDigest (which needs the plaintext on the server). Empty otherwise.
	DigestSecret []byte
	Disabled     bool
	Admin        bool // may use the admin API over every user's tokens and sessions
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// TokenKind says how a token is bound.
type TokenKind string

const (
	// KindSession is a getAccessSessionToken token: bound to a session, no expiry of its own.
	KindSession TokenKind = "session"
	// KindExpiring is a getAccessExpiringToken token: bound to a session and with an expiry.
	KindExpiring TokenKind = "expiring"
	// KindOpen is a getAccessToken token: bound to no session and no host.
	KindOpen TokenKind = "open"
)

// Token is the server-side record of an issued token, keyed by the random id sealed inside the token.
type Token struct {
	ID         string
	User       string
	Kind       TokenKind
	SessionID  string // storage id of the session (see Session.ID); empty for open tokens
	ClientHost string
	CreatedAt  time.Time
	ExpiresAt  time.Time // zero: no expiry of its own
	LastUsedAt time.Time
	RevokedAt  time.Time // zero: live
	// KeyID names the token key the token was sealed with (OriginalTokenKey for the original key). CreateToken
	// refuses the token with ErrStaleTokenKey unless it is the primary key of the ring at the commit, so that no
	// token of a key that can be retired is ever handed out. Empty skips the check. Not stored.
	KeyID string
}

// Revoked reports whether the token was logged out or revoked.
func (t Token) Revoked() bool { return !t.RevokedAt.IsZero() }

// Session is the server side of a SESSION cookie.
type Session struct {
	ID         string // hash of the cookie value; the cookie value itself is never stored
	User       string
	ClientHost string
	CreatedAt  time.Time
	LastSeenAt time.Time
	EndedAt    time.Time // zero: live
}

// Ended reports whether the session was logged out or ended.
func (s Session) Ended() bool { return !s.EndedAt.IsZero() }

// Users stores accounts.
type Users interface {
	// CreateUser adds u; ErrConflict if the name is taken.
	CreateUser(ctx context.Context, u User) error
	// GetUser returns the user or ErrNotFound.
	GetUser(ctx context.Context, name string) (User, error)
	// UpdateUser applies update to the stored user inside one transaction; ErrNotFound if absent.
	// Returning an error from update aborts without writing. When the user is disabled before or after the
	// update, the same transaction revokes every live token and ends every live session of the user, and deletes
	// their PowerAuth tokens: a disable ends them for good, and an enable never brings one back.
	UpdateUser(ctx context.Context, name string, update func(*User) error) error
	// ListUsers returns all users ordered by name.
	ListUsers(ctx context.Context) ([]User, error)
	// CountUsers returns how many users exist.
	CountUsers(ctx context.Context) (int, error)
}

// Tokens stores token records.
type Tokens interface {
	// CreateToken adds t; ErrConflict if the id exists, ErrStaleTokenKey if t.KeyID is set and is not the
	// ring's primary key. Returns only after the write is durable enough that the token may be handed to a client.
	CreateToken(ctx context.Context, t Token) error
	// GetToken returns the token or ErrNotFound.
	GetToken(ctx context.Context, id string) (Token, error)
	// TouchToken sets LastUsedAt to at if the stored value is older than at-minInterval (throttled touch).
	TouchToken(ctx context.Context, id string, at time.Time, minInterval time.Duration) error
	// RevokeToken marks the token revoked at the given time; ErrNotFound if absent. Revoking twice is not an error.
	RevokeToken(ctx context.Context, id string, at time.Time) error
	// RevokeSessionTokens revokes every live token bound to the session.
	RevokeSessionTokens(ctx context.Context, sessionID string, at time.Time) (int, error)
	// DeleteTokens removes tokens expired or revoked before cutoff, at most limit of them; returns how many.
	DeleteTokens(ctx context.Context, cutoff time.Time, limit int) (int, error)
	// ListTokens returns the tokens f selects, newest first.
	ListTokens(ctx context.Context, f TokenFilter) ([]Token, error)
	// RevokeUserTokens revokes every live token of user and ends every live session of user, in one
	// transaction; it returns how many tokens it revoked.
	RevokeUserTokens(ctx context.Context, user string, at time.Time) (int, error)
}

// TokenFilter selects tokens for the admin listing; zero fields select everything.
type TokenFilter struct {
	User          string
	Kind          TokenKind
	ClientHost    string
	CreatedBefore time.Time // only tokens older than this
	LiveAt        time.Time // only tokens neither revoked nor expired at this time
	Limit         int       // at most this many (0: 1000)
	// paging: only tokens after this position in the newest-first order (created_at, then id)
	After PageAfter
}

// SessionFilter selects sessions for the admin listing; zero fields select everything.
type SessionFilter struct {
	User       string
	ClientHost string
	SeenSince  time.Time // only sessions not ended and last seen at or after this (live ones)
	Limit      int       // at most this many (0: 1000)
	// paging: only sessions after this position in the newest-first order (created_at, then id)
	After PageAfter
}

// Sessions stores sessions.
type Sessions interface {
	// CreateSession adds s; ErrConflict if the id exists.
	CreateSession(ctx context.Context, s Session) error
	// GetSession returns the session or ErrNotFound.
	GetSession(ctx context.Context, id string) (Session, error)
	// TouchSession sets LastSeenAt to at if the stored value is older than at-minInterval and the session is live.
	TouchSession(ctx context.Context, id string, at time.Time, minInterval time.Duration) error
	// EndSession marks the session ended and revokes its tokens, in one transaction.
	EndSession(ctx context.Context, id string, at time.Time) error
	// EndUserSessions ends every live session of user and revokes their tokens, in one transaction, and
	// returns how many sessions it ended (for a disabled account or a changed password).
	EndUserSessions(ctx context.Context, user string, at time.Time) (int, error)
	// DeleteSessions removes sessions ended, or last seen, before cutoff, at most limit; returns how many.
	DeleteSessions(ctx context.Context, cutoff time.Time, limit int) (int, error)
	// ListSessions returns the sessions f selects, newest first.
	ListSessions(ctx context.Context, f SessionFilter) ([]Session, error)
}

// AuditEvent is one entry of the audit log. None of its fields may hold a token, password or secret: token and
// session ids (random names of server-side records, useless without the server key) are the most it names.
type AuditEvent struct {
	ID         int64
	At         time.Time
	Action     string // what happened: "token.issue", "token.refuse", "login.fail", "user.disable", ...
	Outcome    string // "ok", or why not
	Actor      string // who did it: a user name, "cli", or "" when unknown
	Subject    string // whom it concerns: usually a user name
	ClientHost string
	Detail     string // a short, secret-free description (token kind, id, ...)
}

// AuditFilter selects audit events; zero fields select everything.
type AuditFilter struct {
	Since, Until time.Time
	Subject      string // events whose Subject or Actor is this
	Action       string // exact action, or a prefix ending in "." ("token.")
	Limit        int    // at most this many, newest first (0: 1000)
	// Before, when BeforeID is set, keeps only events listed after (BeforeAt, BeforeID) in the newest-first
	// order: the position a paging cursor carries.
	BeforeAt time.Time
	BeforeID int64
}

// Audit stores the audit log.
type Audit interface {
	// AppendAudit adds events in one transaction.
	AppendAudit(ctx context.Context, events []AuditEvent) error
	// ListAudit returns the events f selects, newest first.
	ListAudit(ctx context.Context, f AuditFilter) ([]AuditEvent, error)
	// DeleteAudit removes events before cutoff, at most limit; returns how many.
	DeleteAudit(ctx context.Context, cutoff time.Time, limit int) (int, error)
}

// TokenKeyState is where a token key is in its life.
type TokenKeyState string

const (
	KeyPrimary TokenKeyState = "primary" // mints new tokens (and checks them)
	KeyVerify  TokenKeyState = "verify"  // checks the tokens it minted, mints none
	KeyRetired TokenKeyState = "retired" // its tokens are refused
)

// OriginalTokenKey is the id under which the original token key (derived from the server key; stored only from
// the first server key rotation on, sealed with the new key) is listed once keys have been rotated.
const OriginalTokenKey = "original"

// TokenKey is a token encryption key. Sealed is the key sealed with the server key; nil for the original key
// until the server key is rotated (storage.ServerKeys).
type TokenKey struct {
	ID        string
	Sealed    []byte
	State     TokenKeyState
	CreatedAt time.Time
	RetiredAt time.Time
}

// TokenKeys stores the token key ring, shared by every node.
type TokenKeys interface {
	// ListTokenKeys returns every key, oldest first. None: only the original key exists, as primary.
	ListTokenKeys(ctx context.Context) ([]TokenKey, error)
	// AddTokenKey adds k as the primary key, in one transaction: the previous primary (the original key if
	// there was none) becomes verify-only. ErrConflict if the id exists.
	AddTokenKey(ctx context.Context, k TokenKey) error
	// RetireTokenKey retires a verify-only key; ErrNotFound if there is none such, ErrConflict for the primary.
	RetireTokenKey(ctx context.Context, id string, at time.Time) error
}

// Stats counts what is live, for metrics.
type Stats interface {
	// CountLive returns how many tokens are neither revoked nor expired at now, and how many sessions are
	// not ended and were last seen at or after seenSince.
	CountLive(ctx context.Context, now, seenSince time.Time) (tokens, sessions int, err error)
}

// ChangeKind names the kind of record a Change concerns.
type ChangeKind string

// The records whose changes in-memory caches must hear of.
const (
	ChangedToken   ChangeKind = "token"   // Key is a token id: the token was revoked
	ChangedSession ChangeKind = "session" // Key is a session id: the session was ended
	ChangedUser    ChangeKind = "user"    // Key is a user name: the user was changed (disabled, new password) or removed
)

// The licensing records kept in memory (migration 0023): any change or removal of one is announced.
const (
	ChangedAPIToken ChangeKind = "apitoken" // Key is a licensing API token's id (decimal)
	ChangedProduct  ChangeKind = "product"  // Key is a product's id (decimal)
	ChangedVendor   ChangeKind = "vendor"   // Key is a vendor's user name
	ChangedWooStore ChangeKind = "woostore" // Key is the lowercase hex of a WooCommerce store's code hash
)

// Also kept in memory (migration 0025): an API client (any change or its removal), an OAuth access token (its
// revocation), a license key with its activations and the data objects on it and on its machines (any change of
// one of them), a WooCommerce SKU (its change or removal) and a WooCommerce token (its removal).
const (
	ChangedAPIClient   ChangeKind = "apiclient"   // Key is an API client's id
	ChangedAccessToken ChangeKind = "accesstoken" // Key is an OAuth access token's id
	ChangedLicenseKey  ChangeKind = "licensekey"  // Key is a license key's global id (decimal)
	ChangedWooSKU      ChangeKind = "woosku"      // Key is a WooCommerce SKU's store id (decimal), "/" and the SKU
	ChangedWooToken    ChangeKind = "wootoken"    // Key is the lowercase hex of a WooCommerce token's hash
)

// Change says that copies of one record that a node keeps in memory are stale.
type Change struct {
	Seq  int64
	Kind ChangeKind
	Key  string
	At   time.Time
}

// Changes is the feed behind the in-memory caches of tokens, sessions and users. Database triggers write it, so
// every process and node sharing the database sees every revocation, whichever code path made it.
type Changes interface {
	// ReadChanges returns up to limit changes past position after, in position order, and the position to pass
	// next time. A negative position returns no changes, only the current position (where a new reader starts).
	// A change may be returned more than once, and one whose transaction committed late may come with a position
	// below one already read; callers only drop cache entries, which is idempotent.
	ReadChanges(ctx context.Context, after int64, limit int) ([]Change, int64, error)
	// DeleteChanges removes changes made before cutoff, at most limit of them; returns how many.
	DeleteChanges(ctx context.Context, cutoff time.Time, limit int) (int, error)
	// OnChange registers fn to run after each commit of this store that writes a change of a record named by a
	// ChangeKind (a token revoked, a session ended, a user changed, a licensing or OAuth record changed), before
	// the call that made it returns: a process's own changes reach its caches at once, without waiting for the
	// next read of the feed. Call before serving; not safe concurrently.
	OnChange(fn func(ctx context.Context))
}

// Settings holds values shared by every node, each set once.
type Settings interface {
	// InitSetting stores value under name unless name already has a value, and returns the value stored (value
	// itself the first time), atomically: of processes racing to set it, all get the first one's value.
	InitSetting(ctx context.Context, name, value string) (string, error)
}

// Store is everything a backend provides.
type Store interface {
	Users
	Tokens
	Sessions
	Changes
	Stats
	Audit
	TokenKeys
	Settings
	ServerKeys
	APIClients
	PowerAuth
	PowerAuthProtocol
	Licensing
	LicenseCatalog
	WooCommerce
	AppAuthorizations
	DataObjects
	CustomerAccounts
	LicenseActivity
	// Limits: state shared by the request limits of several nodes.
	Limits
	// JWT access tokens' signing keys.
	OAuthKeys
	// management API
	AdminTokens
	Removals
	AdminPages
	// usage history (the management API's charts)
	UsageHistory
	// the customers' own account pages
	Accounts
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	Close() error
}
