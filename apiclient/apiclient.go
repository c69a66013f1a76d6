// Package apiclient manages API clients and the bearer tokens issued to them: OAuth 2.0 client credentials
// (RFC 6749 §4.4) in the SkyKick style, where an "API user" authenticates with either of two subscription keys
// (a primary and a secondary, so one can be replaced while the other is in use) and may have to repeat a key in
// the Ocp-Apim-Subscription-Key header.
//
// It is its own package rather than part of auth/ because it is a separate aggregate with its own lifecycle
// (clients, keys, tokens, rate limits), and because auth/ is about user accounts and passwords: keeping the two
// apart keeps each small. Like every core package it knows nothing of HTTP; server/ maps its errors to the
// RFC 6749/6750/7009/7662 wire answers.
//
// Secrets at rest: a subscription key is 256 random bits, so its plain SHA-256 is as good as a keyed hash
// (nothing to brute-force) and keeps the CLI independent of the server key; keys imported from another system
// must have at least 32 characters. Access tokens are opaque (32 random bytes) and stored by SHA-256 as well.
// An opaque token rather than a sealed JWE: every use must look the token up anyway (revocation, a disabled
// client, a regenerated key), so a self-contained token would only add length and a key to manage.
//
// A client may instead get JWT access tokens (RFC 9068, jwt.go), for resource servers that verify them offline
// through the JWKS and accept that they see revocation only at exp. Their jti is stored like an opaque token, so
// that everything that looks tokens up here treats both formats alike.
package apiclient

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tokenmanager/tokenmanager/clusterlimit"
	"github.com/tokenmanager/tokenmanager/storage"
)

// GrantClientCredentials is the only grant type we implement.
const GrantClientCredentials = "client_credentials"

// Token and key shapes and limits.
const (
	// TokenPrefix marks our access tokens, so a checker can tell them from Spectrum tokens (JWE) without a
	// lookup, and secret scanners can find leaked ones.
	TokenPrefix = "tmat_"
	tokenBytes  = 32 // RFC 6749 §10.10: at most 2^-160 guessing probability; we give 2^-256
	tokenLen    = len(TokenPrefix) + 43

	keyBytes = 32 // generated subscription keys: 256 bits, 64 hex digits
	// MinImportedKeyLen and MaxKeyLen bound keys brought over from another system.
	MinImportedKeyLen = 32
	MaxKeyLen         = 512

	// DefaultTokenLifetime is SkyKick's expires_in, and RFC 6750 §5.3's "one hour or less".
	DefaultTokenLifetime = time.Hour
	MinTokenLifetime     = time.Minute
	MaxTokenLifetime     = 24 * time.Hour

	maxIDLen    = 128
	maxScopeLen = 128
	maxScopes   = 64
)

// Slot names one of a client's two subscription keys.
type Slot string

const (
	Primary   Slot = "primary"
	Secondary Slot = "secondary"
)

// Errors. Callers map them to wire answers with errors.Is.
var (
	// ErrBadCredentials covers an unknown client, a wrong key and a disabled client alike.
	ErrBadCredentials = errors.New("apiclient: bad client credentials")
	// ErrSubscriptionKeyMissing and ErrSubscriptionKeyInvalid: the client requires the Ocp-Apim-Subscription-Key
	// header and it is absent, or carries none of the client's keys.
	ErrSubscriptionKeyMissing = errors.New("apiclient: subscription key missing")
	ErrSubscriptionKeyInvalid = errors.New("apiclient: subscription key invalid")
	// ErrUnauthorizedClient: the client may not use the grant type.
	ErrUnauthorizedClient = errors.New("apiclient: client may not use this grant type")
	// ErrInvalidScope: malformed, unknown, or not granted to the client.
	ErrInvalidScope = errors.New("apiclient: invalid scope")
	// ErrNotOwner: a client tried to revoke a token issued to another client.
	ErrNotOwner = errors.New("apiclient: token was issued to another client")
	// ErrInvalidSpec: a client definition or key that cannot be stored.
	ErrInvalidSpec = errors.New("apiclient: invalid client definition")
	// ErrUnknownClient: management of a client that does not exist.
	ErrUnknownClient = errors.New("apiclient: no such client")
	// ErrExists: a client with that id exists already.
	ErrExists = errors.New("apiclient: client exists")
)

// ErrInvalidToken is the one error a refused access token maps to ("401 invalid_token"); the reasons wrap it
// for logs and metrics.
var ErrInvalidToken = errors.New("invalid access token")

var (
	ErrMalformedToken = fmt.Errorf("%w: malformed", ErrInvalidToken)
	ErrUnknownToken   = fmt.Errorf("%w: unknown", ErrInvalidToken)
	ErrExpiredToken   = fmt.Errorf("%w: expired", ErrInvalidToken)
	ErrRevokedToken   = fmt.Errorf("%w: revoked", ErrInvalidToken)
	ErrClientGone     = fmt.Errorf("%w: client disabled or removed", ErrInvalidToken)
	ErrKeyReplaced    = fmt.Errorf("%w: issued with a subscription key since regenerated", ErrInvalidToken)
)

// RateLimitError says the client asked for tokens too often; RetryAfter is when the next one will be granted.
type RateLimitError struct{ RetryAfter time.Duration }

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("apiclient: token rate limit exceeded; retry after %v", e.RetryAfter)
}

// Config tunes the service.
type Config struct {
	// RateInterval and RateBurst limit token issuance per client (a token bucket of RateBurst tokens, refilled
	// one per RateInterval). RateInterval 0 disables the limit. The limit is per node, unless Shared is set.
	RateInterval time.Duration
	RateBurst    int
	// Shared, when set, makes the rate limit hold across every node syncing through the same database.
	Shared *clusterlimit.Sync

	// JWT access tokens (RFC 9068). DefaultFormat is the format of clients that have none of their own
	// (FormatOpaque when empty); Signing signs and verifies JWTs (nil: JWTs are off, and clients set to them
	// are refused tokens); SigningAlg is the algorithm of keys made by rotation (AlgES256 when empty); Audience
	// is the aud claim (the issuer when empty).
	DefaultFormat string
	Signing       *SigningKeys
	SigningAlg    string
	Audience      string
}

// Service manages API clients and issues, checks and revokes their access tokens. Safe for concurrent use.
type Service struct {
	cfg    Config
	store  storage.APIClients
	now    func() time.Time
	limits *limiter
	dummy  storage.APIClient // compared against for unknown clients, so they cost what known ones do
}

// New returns a Service over store; now is the clock (nil = time.Now).
func New(store storage.APIClients, cfg Config, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	s := &Service{cfg: cfg, store: store, now: now, limits: newLimiter(cfg.RateInterval, cfg.RateBurst, cfg.Shared)}
	s.dummy = storage.APIClient{PrimaryKeyHash: HashKey(randomHex(keyBytes)), SecondaryKeyHash: HashKey(randomHex(keyBytes))}
	return s
}

// HashKey is how subscription keys are stored.
func HashKey(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

// tokenID is the storage id of an access token.
func tokenID(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// --- management ------------------------------------------------------------------------------------------

// Spec describes a new client.
type Spec struct {
	// ID is the client id (SkyKick's "API user ID"); empty generates 32 hex digits as SkyKick's are.
	ID          string
	Description string
	// Scopes the client may request; requests without a scope get all of them.
	Scopes []string
	// GrantTypes nil means [client_credentials]; an empty, non-nil slice makes a client that can only
	// introspect and revoke.
	GrantTypes []string
	// Introspect lets the client introspect every token, not only its own.
	Introspect bool
	// TokenLifetime of issued tokens; 0 means DefaultTokenLifetime.
	TokenLifetime          time.Duration
	RequireSubscriptionKey bool
	// TokenFormat is FormatJWT, FormatOpaque, or "" for the server's default.
	TokenFormat string
	// PrimaryKey and SecondaryKey import existing keys (at least MinImportedKeyLen characters); empty ones are
	// generated.
	PrimaryKey, SecondaryKey string
}

// Created is a new client with its keys in the clear: the only time they are available.
type Created struct {
	Client       storage.APIClient
	PrimaryKey   string
	SecondaryKey string
}

// Create validates spec and stores the new client.
func (s *Service) Create(ctx context.Context, spec Spec) (Created, error) {
	if spec.ID == "" {
		spec.ID = randomHex(16)
	}
	if err := ValidID(spec.ID); err != nil {
		return Created{}, err
	}
	if spec.GrantTypes == nil {
		spec.GrantTypes = []string{GrantClientCredentials}
	}
	for _, g := range spec.GrantTypes {
		if g != GrantClientCredentials {
			return Created{}, fmt.Errorf("%w: grant type %q is not supported (only %s)", ErrInvalidSpec, g, GrantClientCredentials)
		}
	}
	if spec.TokenLifetime == 0 {
		spec.TokenLifetime = DefaultTokenLifetime
	}
	if spec.TokenLifetime < MinTokenLifetime || spec.TokenLifetime > MaxTokenLifetime {
		return Created{}, fmt.Errorf("%w: token lifetime %v is outside %v..%v", ErrInvalidSpec, spec.TokenLifetime, MinTokenLifetime, MaxTokenLifetime)
	}
	if err := ValidFormat(spec.TokenFormat); err != nil {
		return Created{}, err
	}
	scopes, err := validScopeList(spec.Scopes)
	if err != nil {
		return Created{}, err
	}
	if err := validDescription(spec.Description); err != nil {
		return Created{}, err
	}
	keys := [2]string{spec.PrimaryKey, spec.SecondaryKey}
	for i, k := range keys {
		if k == "" {
			keys[i] = randomHex(keyBytes)
		} else if err := validImportedKey(k); err != nil {
			return Created{}, err
		}
	}
	if keys[0] == keys[1] {
		return Created{}, fmt.Errorf("%w: the primary and secondary keys must differ", ErrInvalidSpec)
	}
	now := s.now()
	c := storage.APIClient{
		ID: spec.ID, Description: spec.Description,
		PrimaryKeyHash: HashKey(keys[0]), SecondaryKeyHash: HashKey(keys[1]), PrimaryKeySetAt: now, SecondaryKeySetAt: now,
		Scopes: scopes, GrantTypes: slices.Compact(slices.Clone(spec.GrantTypes)), Introspect: spec.Introspect,
		TokenLifetime: spec.TokenLifetime, RequireSubscriptionKey: spec.RequireSubscriptionKey, CreatedAt: now, UpdatedAt: now,
		TokenFormat: spec.TokenFormat,
	}
	if err := s.store.CreateAPIClient(ctx, c); err != nil {
		if errors.Is(err, storage.ErrConflict) {
			return Created{}, fmt.Errorf("%w: %q", ErrExists, spec.ID)
		}
		return Created{}, err
	}
	return Created{Client: c, PrimaryKey: keys[0], SecondaryKey: keys[1]}, nil
}

// RegenerateKey replaces one of the client's keys with a fresh one and returns it. Tokens obtained with the
// old key stop working at once (that is the point when a key has leaked); tokens obtained with the other key
// are untouched, which is what makes rotation without downtime possible.
func (s *Service) RegenerateKey(ctx context.Context, id string, slot Slot) (string, error) {
	if slot != Primary && slot != Secondary {
		return "", fmt.Errorf("%w: key slot %q (want primary or secondary)", ErrInvalidSpec, slot)
	}
	key := randomHex(keyBytes)
	now := s.now()
	err := s.store.UpdateAPIClient(ctx, id, func(c *storage.APIClient) error {
		if slot == Primary {
			c.PrimaryKeyHash, c.PrimaryKeySetAt = HashKey(key), now
		} else {
			c.SecondaryKeyHash, c.SecondaryKeySetAt = HashKey(key), now
		}
		c.UpdatedAt = now
		return nil
	})
	if err != nil {
		return "", clientErr(id, err)
	}
	return key, nil
}

// SetDisabled disables (or re-enables) a client. A disabled client cannot authenticate, and its tokens are
// refused while it stays disabled.
func (s *Service) SetDisabled(ctx context.Context, id string, disabled bool) error {
	_, err := s.Update(ctx, id, Change{Disabled: &disabled})
	return err
}

// Remove deletes a client and every token issued to it.
func (s *Service) Remove(ctx context.Context, id string) error {
	return clientErr(id, s.store.DeleteAPIClient(ctx, id))
}

// Get returns a client.
func (s *Service) Get(ctx context.Context, id string) (storage.APIClient, error) {
	c, err := s.store.GetAPIClient(ctx, id)
	return c, clientErr(id, err)
}

// List returns every client, ordered by id.
func (s *Service) List(ctx context.Context) ([]storage.APIClient, error) {
	return s.store.ListAPIClients(ctx)
}

func clientErr(id string, err error) error {
	if errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("%w: %q", ErrUnknownClient, id)
	}
	return err
}

// ValidID accepts client ids of 1 to 128 characters from [A-Za-z0-9._~-], starting with a letter or digit:
// safe in logs, shell commands and URLs without quoting.
func ValidID(id string) error {
	if id == "" || len(id) > maxIDLen {
		return fmt.Errorf("%w: client id must have 1 to %d characters", ErrInvalidSpec, maxIDLen)
	}
	for i, r := range id {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || (i > 0 && strings.ContainsRune("._~-", r))
		if !ok {
			return fmt.Errorf("%w: client id %q: use letters, digits and . _ ~ - (not first)", ErrInvalidSpec, id)
		}
	}
	return nil
}

func validImportedKey(k string) error {
	if len(k) < MinImportedKeyLen || len(k) > MaxKeyLen || !utf8.ValidString(k) || strings.ContainsFunc(k, isControl) {
		return fmt.Errorf("%w: an imported key must be %d to %d bytes of UTF-8 text without control characters",
			ErrInvalidSpec, MinImportedKeyLen, MaxKeyLen)
	}
	return nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// --- scopes ----------------------------------------------------------------------------------------------

// ValidScopeToken reports whether s is a scope-token: 1*( %x21 / %x23-5B / %x5D-7E ) (RFC 6749 §3.3).
func ValidScopeToken(s string) bool {
	if s == "" || len(s) > maxScopeLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// ParseScope splits a scope parameter: scope-tokens separated by single spaces. Repeats are dropped, order is
// kept. An empty string is no scope.
func ParseScope(raw string) ([]string, error) {
	if raw == "" {
		return nil, nil
	}
	parts := strings.Split(raw, " ")
	if len(parts) > maxScopes {
		return nil, fmt.Errorf("%w: more than %d scopes", ErrInvalidScope, maxScopes)
	}
	var out []string
	for _, p := range parts {
		if !ValidScopeToken(p) {
			return nil, fmt.Errorf("%w: malformed scope", ErrInvalidScope)
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

func validScopeList(scopes []string) ([]string, error) {
	var out []string
	for _, sc := range scopes {
		if !ValidScopeToken(sc) {
			return nil, fmt.Errorf("%w: scope %q: use printable ASCII without space, \" or \\", ErrInvalidSpec, sc)
		}
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	if len(out) > maxScopes {
		return nil, fmt.Errorf("%w: more than %d scopes", ErrInvalidSpec, maxScopes)
	}
	return out, nil
}

// --- authentication --------------------------------------------------------------------------------------

// Authenticated is a client that proved it holds one of its keys.
type Authenticated struct {
	Client  storage.APIClient
	keyHash []byte
}

// Authenticate returns the enabled client id whose primary or secondary key is key, or ErrBadCredentials.
// Both keys are compared in constant time, and an unknown client costs the same comparisons.
func (s *Service) Authenticate(ctx context.Context, id, key string) (Authenticated, error) {
	c, err := s.store.GetAPIClient(ctx, id)
	known := err == nil
	if errors.Is(err, storage.ErrNotFound) {
		c = s.dummy
	} else if err != nil {
		return Authenticated{}, fmt.Errorf("apiclient: load client: %w", err)
	}
	h := HashKey(key)
	if !matchesKey(c, h) || !known || c.Disabled || len(key) > MaxKeyLen {
		return Authenticated{}, ErrBadCredentials
	}
	return Authenticated{Client: c, keyHash: h}, nil
}

// matchesKey compares h with both key hashes, always both, in constant time.
func matchesKey(c storage.APIClient, h []byte) bool {
	p := subtle.ConstantTimeCompare(h, c.PrimaryKeyHash)
	q := subtle.ConstantTimeCompare(h, c.SecondaryKeyHash)
	return p|q == 1
}

// CheckSubscriptionKey enforces the Ocp-Apim-Subscription-Key rule for c: when the client requires it, key
// (the header value; "" when absent) must be one of the client's two keys.
func CheckSubscriptionKey(c storage.APIClient, key string) error {
	if !c.RequireSubscriptionKey {
		return nil
	}
	if key == "" {
		return ErrSubscriptionKeyMissing
	}
	if len(key) > MaxKeyLen || !matchesKey(c, HashKey(key)) {
		return ErrSubscriptionKeyInvalid
	}
	return nil
}

// --- tokens ----------------------------------------------------------------------------------------------

// Issued is a fresh access token.
type Issued struct {
	Token     string
	ClientID  string
	Scopes    []string
	Scope     string // Scopes joined by spaces, as the scope response parameter has it
	ExpiresIn time.Duration
	ExpiresAt time.Time
	Format    string // FormatOpaque or FormatJWT
}

// Issue mints an access token for a client authenticated for the client_credentials grant. scope is the
// request's scope parameter ("" when absent, which grants every scope the client has).
func (s *Service) Issue(ctx context.Context, a Authenticated, scope string) (Issued, error) {
	return s.IssueFor(ctx, a, scope, "")
}

// IssueFor is Issue with the issuer identifier that JWT access tokens name (their iss claim).
func (s *Service) IssueFor(ctx context.Context, a Authenticated, scope, issuer string) (Issued, error) {
	c := a.Client
	if !slices.Contains(c.GrantTypes, GrantClientCredentials) {
		return Issued{}, ErrUnauthorizedClient
	}
	requested, err := ParseScope(scope)
	if err != nil {
		return Issued{}, err
	}
	granted := requested
	if len(requested) == 0 {
		granted = c.Scopes
	}
	for _, sc := range granted {
		if !slices.Contains(c.Scopes, sc) {
			return Issued{}, fmt.Errorf("%w: not granted to the client", ErrInvalidScope)
		}
	}
	now := s.now()
	if wait := s.limits.reserve(c.ID, now); wait > 0 {
		return Issued{}, &RateLimitError{RetryAfter: wait}
	}
	format := s.formatOf(c)
	rec := storage.AccessToken{ClientID: c.ID, Scopes: granted, KeyHash: a.keyHash,
		// Whole seconds: a JWT's exp and iat are, and the record must say what the token says.
		CreatedAt: now.Truncate(time.Second), ExpiresAt: now.Truncate(time.Second).Add(c.TokenLifetime)}
	var tok string
	if format == FormatJWT {
		jti := newJTI()
		rec.ID = tokenID(jti)
		var err error
		if tok, err = s.signJWT(ctx, rec, jti, issuer); err != nil {
			return Issued{}, err
		}
	} else {
		b := make([]byte, tokenBytes)
		rand.Read(b)
		tok = TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
		rec.ID = tokenID(tok)
	}
	// The token reaches the client only after its record is committed, so revocation always finds it.
	if err := s.store.CreateAccessToken(ctx, rec); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return Issued{}, ErrBadCredentials // the client was removed meanwhile
		}
		return Issued{}, fmt.Errorf("apiclient: store token: %w", err)
	}
	return Issued{Token: tok, ClientID: c.ID, Scopes: granted, Scope: strings.Join(granted, " "),
		ExpiresIn: c.TokenLifetime, ExpiresAt: rec.ExpiresAt, Format: format}, nil
}

// IsAccessToken reports whether s has the shape of our access tokens, opaque or JWT (it may still be invalid).
func IsAccessToken(s string) bool { return strings.HasPrefix(s, TokenPrefix) || IsJWT(s) }

func wellFormed(tok string) bool {
	if len(tok) != tokenLen || !strings.HasPrefix(tok, TokenPrefix) {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(tok[len(TokenPrefix):])
	return err == nil
}

// Verified describes an accepted access token.
type Verified struct {
	TokenID   string
	Client    storage.APIClient
	Scopes    []string
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// HasScopes reports whether the token was granted every one of want.
func (v Verified) HasScopes(want []string) bool {
	for _, w := range want {
		if !slices.Contains(v.Scopes, w) {
			return false
		}
	}
	return true
}

// Verify accepts a token only if it is ours, unexpired, unrevoked, its client exists and is enabled, and the
// key it was obtained with is still one of the client's keys. The subscription-key header rule is the
// caller's to apply with CheckSubscriptionKey(v.Client, header).
func (s *Service) Verify(ctx context.Context, tok string) (Verified, error) {
	rec, err := s.record(ctx, tok)
	if err != nil {
		return Verified{}, err
	}
	if rec.Revoked() {
		return Verified{}, ErrRevokedToken
	}
	if !s.now().Before(rec.ExpiresAt) {
		return Verified{}, ErrExpiredToken
	}
	c, err := s.store.GetAPIClient(ctx, rec.ClientID)
	if errors.Is(err, storage.ErrNotFound) {
		return Verified{}, ErrClientGone
	}
	if err != nil {
		return Verified{}, fmt.Errorf("apiclient: load client: %w", err)
	}
	if c.Disabled {
		return Verified{}, ErrClientGone
	}
	if !matchesKey(c, rec.KeyHash) {
		return Verified{}, ErrKeyReplaced
	}
	return Verified{TokenID: rec.ID, Client: c, Scopes: rec.Scopes, IssuedAt: rec.CreatedAt, ExpiresAt: rec.ExpiresAt}, nil
}

// Introspect reports whether tok is active for caller (RFC 7662): an active token of the caller's own, or any
// active token when the caller may introspect. Anything else is simply inactive; only storage failures are
// errors.
func (s *Service) Introspect(ctx context.Context, caller storage.APIClient, tok string) (Verified, bool, error) {
	v, err := s.Verify(ctx, tok)
	if errors.Is(err, ErrInvalidToken) {
		return Verified{}, false, nil
	}
	if err != nil {
		return Verified{}, false, err
	}
	if !caller.Introspect && v.Client.ID != caller.ID {
		return Verified{}, false, nil
	}
	return v, true, nil
}

// Revoke revokes tok on behalf of caller (RFC 7009). Unknown, malformed, expired and already revoked tokens
// are not errors; a token issued to another client is ErrNotOwner.
func (s *Service) Revoke(ctx context.Context, caller storage.APIClient, tok string) error {
	rec, err := s.record(ctx, tok)
	if errors.Is(err, ErrInvalidToken) {
		return nil
	}
	if err != nil {
		return err
	}
	if rec.ClientID != caller.ID {
		return ErrNotOwner
	}
	if err := s.store.RevokeAccessToken(ctx, rec.ID, s.now()); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("apiclient: revoke: %w", err)
	}
	return nil
}

// record returns the stored record of an opaque or JWT access token; a JWT's signature is checked first.
func (s *Service) record(ctx context.Context, tok string) (storage.AccessToken, error) {
	if IsJWT(tok) {
		return s.jwtRecord(ctx, tok)
	}
	if !wellFormed(tok) {
		return storage.AccessToken{}, ErrMalformedToken
	}
	rec, err := s.store.GetAccessToken(ctx, tokenID(tok))
	if errors.Is(err, storage.ErrNotFound) {
		return rec, ErrUnknownToken
	}
	if err != nil {
		return rec, fmt.Errorf("apiclient: load token: %w", err)
	}
	return rec, nil
}

// ScopesSupported returns every scope some client may request, sorted, for the server metadata.
func (s *Service) ScopesSupported(ctx context.Context) ([]string, error) {
	clients, err := s.store.ListAPIClients(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, c := range clients {
		if !c.Disabled {
			out = append(out, c.Scopes...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// CollectGarbage deletes expired and revoked tokens in batches and returns how many. Safe on every node.
func (s *Service) CollectGarbage(ctx context.Context, batch int) (int, error) {
	now, total := s.now(), 0
	for {
		n, err := s.store.DeleteAccessTokens(ctx, now, batch)
		total += n
		if err != nil || n < batch {
			return total, err
		}
	}
}
