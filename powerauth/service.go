package powerauth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tokenmanager/tokenmanager/keys"
	"github.com/tokenmanager/tokenmanager/storage"
)

// Reasons a presented token is refused. Each wraps ErrInvalid (see also HeaderError and ErrHeaderMissing).
var (
	ErrTooOld             = fmt.Errorf("%w: timestamp too old", ErrInvalid)
	ErrTooNew             = fmt.Errorf("%w: timestamp too far in the future", ErrInvalid)
	ErrUnknownToken       = fmt.Errorf("%w: unknown or removed token", ErrInvalid)
	ErrActivationInactive = fmt.Errorf("%w: activation blocked or removed", ErrInvalid)
	ErrUserDisabled       = fmt.Errorf("%w: user disabled or removed", ErrInvalid)
	ErrDigestMismatch     = fmt.Errorf("%w: digest mismatch", ErrInvalid)
	ErrReplay             = fmt.Errorf("%w: nonce already used", ErrInvalid)
)

// Errors of the management operations.
var (
	// ErrNoActivation is an unknown activation, or, for a user acting through the API, one that is not theirs
	// or not active: PowerAuth refuses all of those the same way (the signature over the activation fails).
	ErrNoActivation = errors.New("powerauth: no such activation")
	// ErrActivationState is a state change the activation's current state does not allow.
	ErrActivationState = errors.New("powerauth: activation state does not allow this")
	// ErrNoToken is an unknown token (operator removal only; users get PowerAuth's quiet success).
	ErrNoToken = errors.New("powerauth: no such token")
	// ErrNoUser is an activation requested for a user that does not exist.
	ErrNoUser = errors.New("powerauth: no such user")
	// ErrBadName is a device name that is too long or contains control characters.
	ErrBadName = errors.New("powerauth: activation name must be at most 255 characters without control characters")

	errNoSealer = errors.New("powerauth: no server key given: cannot create or verify tokens")
)

// MaxNameLen bounds an activation's device name, in characters.
const MaxNameLen = 255

// Config is the accepted timestamp window. The defaults are PowerAuth server's.
type Config struct {
	// MaxAge is how old a token timestamp may be (powerauth.service.token.timestamp.validity: 2 h). Every
	// accepted nonce is remembered until its timestamp is this old, so a header is never accepted twice.
	MaxAge time.Duration
	// MaxFuture is how far ahead of our clock a timestamp may be (…token.timestamp.forward.validity: 30 min).
	MaxFuture time.Duration
	// MaxFutureV32 is the tighter bound for 3.2 and 3.3, whose clients synchronize their clock with the server
	// (requestExpirationInMilliseconds: 60 s). The smaller of it and MaxFuture applies.
	MaxFutureV32 time.Duration

	// The PowerAuth protocol (activation with a code, signatures, ECIES):
	// CodeLifetime is how long an activation code can be used (default 1 h).
	CodeLifetime time.Duration
	// MaxFailedAttempts blocks an activation after this many failed signatures in a row (PowerAuth: 5).
	MaxFailedAttempts int
	// LookAhead is how many counter values ahead of the server's a signature may be (PowerAuth: 20).
	LookAhead int
	// TempKeyLifetime is how long a temporary ECIES key (3.3) can be used (default 5 min).
	TempKeyLifetime time.Duration
	// ECIESWindow is how far a 3.2+ ECIES timestamp may be from our clock, either way
	// (requestExpirationInMilliseconds: 60 s); a nonce is remembered that long past its timestamp.
	ECIESWindow time.Duration
}

// DefaultConfig is PowerAuth server's defaults.
var DefaultConfig = Config{MaxAge: 2 * time.Hour, MaxFuture: 30 * time.Minute, MaxFutureV32: time.Minute,
	CodeLifetime: time.Hour, MaxFailedAttempts: 5, LookAhead: 20, TempKeyLifetime: 5 * time.Minute, ECIESWindow: time.Minute}

// Store is the storage the service needs.
type Store interface {
	storage.PowerAuth
	storage.PowerAuthProtocol
	storage.Users
}

// Service manages activations and MAC tokens and verifies token headers.
type Service struct {
	store  Store
	sealer *keys.Sealer
	cfg    Config
	now    func() time.Time
}

// NewService wires a Service. sealer seals token secrets at rest (give it a key derived for
// keys.PurposePowerAuthTokens); it may be nil for a service that only manages activations and removes tokens
// (the CLI), which then cannot create or verify tokens. Zero fields of cfg take DefaultConfig's; now is the
// clock (nil: time.Now).
func NewService(store Store, sealer *keys.Sealer, cfg Config, now func() time.Time) *Service {
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = DefaultConfig.MaxAge
	}
	if cfg.MaxFuture <= 0 {
		cfg.MaxFuture = DefaultConfig.MaxFuture
	}
	if cfg.MaxFutureV32 <= 0 {
		cfg.MaxFutureV32 = DefaultConfig.MaxFutureV32
	}
	if cfg.CodeLifetime <= 0 {
		cfg.CodeLifetime = DefaultConfig.CodeLifetime
	}
	if cfg.MaxFailedAttempts <= 0 || cfg.MaxFailedAttempts > 255 {
		cfg.MaxFailedAttempts = DefaultConfig.MaxFailedAttempts
	}
	if cfg.LookAhead <= 0 || cfg.LookAhead > 255 {
		cfg.LookAhead = DefaultConfig.LookAhead
	}
	if cfg.TempKeyLifetime <= 0 {
		cfg.TempKeyLifetime = DefaultConfig.TempKeyLifetime
	}
	if cfg.ECIESWindow <= 0 {
		cfg.ECIESWindow = DefaultConfig.ECIESWindow
	}
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, sealer: sealer, cfg: cfg, now: now}
}

// Config returns the effective configuration.
func (s *Service) Config() Config { return s.cfg }

// newUUID returns a random (version 4) UUID in lower case.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hexdigits = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hexdigits[c>>4], hexdigits[c&0x0f])
	}
	return string(out)
}

// validName: at most MaxNameLen characters of valid UTF-8 without control characters.
func validName(name string) bool {
	return utf8.RuneCountInString(name) <= MaxNameLen && utf8.ValidString(name) && strings.IndexFunc(name, unicode.IsControl) < 0
}

// idAttempts is how often a fresh random id is tried when it collides (PowerAuth: generateTokenIdIterations).
const idAttempts = 10

// CreateActivation registers a new active device for user.
func (s *Service) CreateActivation(ctx context.Context, user, name string) (storage.PowerAuthActivation, error) {
	if !validName(name) {
		return storage.PowerAuthActivation{}, ErrBadName
	}
	now := s.now()
	for range idAttempts {
		a := storage.PowerAuthActivation{ID: newUUID(), User: user, Name: name, Status: storage.PowerAuthActive,
			CreatedAt: now, UpdatedAt: now}
		err := s.store.CreatePowerAuthActivation(ctx, a)
		switch {
		case err == nil:
			return a, nil
		case errors.Is(err, storage.ErrNotFound):
			return storage.PowerAuthActivation{}, ErrNoUser
		case !errors.Is(err, storage.ErrConflict):
			return storage.PowerAuthActivation{}, fmt.Errorf("powerauth: create activation: %w", err)
		}
	}
	return storage.PowerAuthActivation{}, errors.New("powerauth: could not find a free activation id")
}

// Activation returns an activation. With user != "" (a user acting through the API) it must be that user's.
func (s *Service) Activation(ctx context.Context, user, id string) (storage.PowerAuthActivation, error) {
	a, err := s.store.GetPowerAuthActivation(ctx, strings.ToLower(id))
	if errors.Is(err, storage.ErrNotFound) || (err == nil && user != "" && a.User != user) {
		return storage.PowerAuthActivation{}, ErrNoActivation
	}
	if err != nil {
		return storage.PowerAuthActivation{}, fmt.Errorf("powerauth: load activation: %w", err)
	}
	return a, nil
}

// ListActivations returns user's activations, or everyone's for user "".
func (s *Service) ListActivations(ctx context.Context, user string) ([]storage.PowerAuthActivation, error) {
	return s.store.ListPowerAuthActivations(ctx, user)
}

// BlockActivation suspends an active activation (operator action); its tokens are deleted at once.
func (s *Service) BlockActivation(ctx context.Context, id string) (storage.PowerAuthActivation, error) {
	return s.setStatus(ctx, "", id, storage.PowerAuthBlocked, storage.PowerAuthActive)
}

// UnblockActivation makes a blocked activation active again (operator action). Its old tokens stay gone: the
// device asks for new ones.
func (s *Service) UnblockActivation(ctx context.Context, id string) (storage.PowerAuthActivation, error) {
	return s.setStatus(ctx, "", id, storage.PowerAuthActive, storage.PowerAuthBlocked)
}

// RemoveActivation ends an activation for good, deleting its tokens. The operator (user "") may remove an active
// or blocked one; a user acting through the API only their own active one, as PowerAuth requires a signature
// by the activation itself.
func (s *Service) RemoveActivation(ctx context.Context, user, id string) (storage.PowerAuthActivation, error) {
	if user != "" {
		return s.setStatus(ctx, user, id, storage.PowerAuthRemoved, storage.PowerAuthActive)
	}
	return s.setStatus(ctx, "", id, storage.PowerAuthRemoved, storage.PowerAuthActive, storage.PowerAuthBlocked)
}

func (s *Service) setStatus(ctx context.Context, user, id string, to storage.PowerAuthActivationStatus,
	from ...storage.PowerAuthActivationStatus) (storage.PowerAuthActivation, error) {
	var out storage.PowerAuthActivation
	err := s.store.UpdatePowerAuthActivation(ctx, strings.ToLower(id), func(a *storage.PowerAuthActivation) error {
		if user != "" && a.User != user {
			return ErrNoActivation
		}
		allowed := false
		for _, f := range from {
			allowed = allowed || a.Status == f
		}
		if !allowed {
			if user != "" {
				return ErrNoActivation
			}
			return fmt.Errorf("%w: activation %s is %s", ErrActivationState, a.ID, a.Status)
		}
		a.Status, a.UpdatedAt = to, s.now()
		out = *a
		return nil
	})
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return storage.PowerAuthActivation{}, ErrNoActivation
	case errors.Is(err, ErrNoActivation), errors.Is(err, ErrActivationState):
		return storage.PowerAuthActivation{}, err
	case err != nil:
		return storage.PowerAuthActivation{}, fmt.Errorf("powerauth: update activation: %w", err)
	}
	return out, nil
}

// IssuedToken is a freshly created token: the only time its secret leaves the server.
type IssuedToken struct {
	ID           string
	Secret       []byte // SecretSize bytes
	ActivationID string
}

// sealedSecretAD binds a sealed secret to its token and activation, so a sealed value copied into another row
// does not open.
func sealedSecretAD(tokenID, activationID string) string {
	return "powerauth-token:" + tokenID + "\x00" + activationID
}

// CreateToken creates a token for user's active activation (POST /pa/v3/token/create).
func (s *Service) CreateToken(ctx context.Context, user, activationID string) (IssuedToken, error) {
	if s.sealer == nil {
		return IssuedToken{}, errNoSealer
	}
	a, err := s.Activation(ctx, user, activationID)
	if err != nil {
		return IssuedToken{}, err
	}
	if a.Status != storage.PowerAuthActive {
		return IssuedToken{}, ErrNoActivation
	}
	secret := make([]byte, SecretSize)
	rand.Read(secret)
	for range idAttempts {
		t := storage.PowerAuthToken{ID: newUUID(), ActivationID: a.ID, CreatedAt: s.now()}
		t.SealedSecret = s.sealer.Seal(secret, sealedSecretAD(t.ID, t.ActivationID))
		err := s.store.CreatePowerAuthToken(ctx, t)
		switch {
		case err == nil:
			return IssuedToken{ID: t.ID, Secret: secret, ActivationID: a.ID}, nil
		case errors.Is(err, storage.ErrNotFound): // blocked or removed since we looked
			return IssuedToken{}, ErrNoActivation
		case !errors.Is(err, storage.ErrConflict):
			return IssuedToken{}, fmt.Errorf("powerauth: create token: %w", err)
		}
	}
	return IssuedToken{}, errors.New("powerauth: could not find a free token id")
}

// ListTokens returns an activation's tokens, or every token for activationID "".
func (s *Service) ListTokens(ctx context.Context, activationID string) ([]storage.PowerAuthToken, error) {
	return s.store.ListPowerAuthTokens(ctx, strings.ToLower(activationID))
}

// RemoveToken deletes a token. The operator (user "") removes any token and is told when there is none. A user
// removes only a token of their own activation (of activationID, when given); anything else is quietly not
// removed, as PowerAuth's /pa/v3/token/remove answers OK either way.
func (s *Service) RemoveToken(ctx context.Context, user, tokenID, activationID string) (removed bool, err error) {
	tokenID = strings.ToLower(tokenID)
	if user != "" {
		t, err := s.store.GetPowerAuthToken(ctx, tokenID)
		if errors.Is(err, storage.ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("powerauth: load token: %w", err)
		}
		if activationID != "" && strings.ToLower(activationID) != t.ActivationID {
			return false, nil
		}
		if _, err := s.Activation(ctx, user, t.ActivationID); errors.Is(err, ErrNoActivation) {
			return false, nil
		} else if err != nil {
			return false, err
		}
	}
	err = s.store.DeletePowerAuthToken(ctx, tokenID)
	switch {
	case errors.Is(err, storage.ErrNotFound) && user != "":
		return false, nil
	case errors.Is(err, storage.ErrNotFound):
		return false, ErrNoToken
	case err != nil:
		return false, fmt.Errorf("powerauth: delete token: %w", err)
	}
	return true, nil
}

// Verified describes an accepted token header.
type Verified struct {
	TokenID      string
	ActivationID string
	User         string
	Version      string
}

// Verify checks an X-PowerAuth-Token header value: its syntax and fields, the timestamp window, that the token
// exists under an active activation of an enabled user, the digest (in constant time), and finally that the
// nonce was not accepted before, recording it in storage (shared by every node) until the timestamp leaves the
// window. The nonce is recorded only after the digest checks out, so forged headers cannot fill the table.
// Every refusal wraps ErrInvalid; other errors are failures of the storage.
func (s *Service) Verify(ctx context.Context, headerValue string) (Verified, error) {
	if s.sealer == nil {
		return Verified{}, errNoSealer
	}
	if headerValue == "" {
		return Verified{}, ErrHeaderMissing
	}
	h, err := ParseHeader(headerValue)
	if err != nil {
		return Verified{}, err
	}
	c, err := h.Validate()
	if err != nil {
		return Verified{}, err
	}
	now := s.now()
	ts := time.UnixMilli(c.Timestamp)
	if ts.Before(now.Add(-s.cfg.MaxAge)) {
		return Verified{}, ErrTooOld
	}
	future := s.cfg.MaxFuture
	if _, withVersion := versionInDigest(c.Version); withVersion {
		future = min(future, s.cfg.MaxFutureV32)
	}
	if ts.After(now.Add(future)) {
		return Verified{}, ErrTooNew
	}

	// One read for the token and its activation: the token's row names an existing activation (a removed
	// activation takes its tokens with it).
	t, a, err := s.store.GetPowerAuthTokenActivation(ctx, c.TokenID)
	if errors.Is(err, storage.ErrNotFound) {
		return Verified{}, ErrUnknownToken
	}
	if err != nil {
		return Verified{}, fmt.Errorf("powerauth: load token: %w", err)
	}
	if a.Status != storage.PowerAuthActive {
		return Verified{}, ErrActivationInactive
	}
	u, err := s.store.GetUser(ctx, a.User)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && u.Disabled) {
		return Verified{}, ErrUserDisabled
	}
	if err != nil {
		return Verified{}, fmt.Errorf("powerauth: load user: %w", err)
	}
	secret, err := s.sealer.Open(t.SealedSecret, sealedSecretAD(t.ID, t.ActivationID))
	if err != nil {
		return Verified{}, fmt.Errorf("powerauth: token %s: secret does not open with this server key: %w", t.ID, err)
	}
	want, err := Digest(secret, c.Nonce, c.Timestamp, c.Version)
	if err != nil {
		return Verified{}, err
	}
	if !hmac.Equal(want, c.Digest) {
		return Verified{}, ErrDigestMismatch
	}
	// Remember the nonce for as long as this timestamp stays acceptable.
	err = s.store.UsePowerAuthNonce(ctx, t.ID, c.Nonce, ts.Add(s.cfg.MaxAge), now)
	if errors.Is(err, storage.ErrConflict) {
		return Verified{}, ErrReplay
	}
	if err != nil {
		return Verified{}, fmt.Errorf("powerauth: record nonce: %w", err)
	}
	return Verified{TokenID: t.ID, ActivationID: a.ID, User: a.User, Version: c.Version}, nil
}

// NonceRetention is how long past its expiry a used nonce is kept before garbage collection, so that a node
// whose clock runs behind the collector's still finds it.
const NonceRetention = 5 * time.Minute

// CollectGarbage deletes used nonces that can no longer matter, in batches; returns how many. Safe to run on
// every node at once.
func (s *Service) CollectGarbage(ctx context.Context, batch int) (int, error) {
	cutoff := s.now().Add(-NonceRetention)
	total := 0
	for {
		n, err := s.store.DeletePowerAuthNonces(ctx, cutoff, batch)
		total += n
		if err != nil {
			return total, err
		}
		if n < batch {
			break
		}
	}
	// Expired temporary ECIES keys go the same way.
	n, err := s.CollectTempKeys(ctx, batch)
	return total + n, err
}

// SealedSecretAD is the associated data a token's secret is sealed with, for re-sealing it under another server
// key.
func SealedSecretAD(tokenID, activationID string) string {
	return sealedSecretAD(tokenID, activationID)
}

// SecretKey is the key, derived from the server key master, that the Sealer of token secrets is made of.
func SecretKey(master []byte) []byte { return keys.Derive(master, keys.PurposePowerAuthTokens) }
