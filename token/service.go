package token

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tokenmanager/tokenmanager/session"
	"github.com/tokenmanager/tokenmanager/storage"
)

// ErrInvalid is the one error callers map to "401 invalid token". The wrapped reason is for logs and metrics.
var ErrInvalid = errors.New("invalid token")

// ErrLifetime is returned for a requested lifetime outside the configured bounds.
var ErrLifetime = errors.New("token lifetime out of range")

// Reasons a token is refused, each wrapping ErrInvalid.
var (
	ErrMalformedToken  = fmt.Errorf("%w: malformed", ErrInvalid)
	ErrExpired         = fmt.Errorf("%w: expired", ErrInvalid)
	ErrRevoked         = fmt.Errorf("%w: revoked or logged out", ErrInvalid)
	ErrSessionMismatch = fmt.Errorf("%w: SESSION cookie missing or not the token's", ErrInvalid)
	ErrSessionGone     = fmt.Errorf("%w: session ended or idle", ErrInvalid)
	ErrHostMismatch    = fmt.Errorf("%w: used from another host", ErrInvalid)
	ErrUserDisabled    = fmt.Errorf("%w: user disabled or removed", ErrInvalid)
)

// Reason names why err refused a token, in a few fixed words fit for a metric label ("" for nil, "error" for
// a failure that is not a refusal).
func Reason(err error) string {
	for _, r := range []struct {
		err  error
		name string
	}{
		{ErrMalformedToken, "malformed"}, {ErrExpired, "expired"}, {ErrRevoked, "revoked"},
		{ErrSessionMismatch, "session_mismatch"}, {ErrSessionGone, "session_gone"},
		{ErrHostMismatch, "host_mismatch"}, {ErrUserDisabled, "user_disabled"},
	} {
		if errors.Is(err, r.err) {
			return r.name
		}
	}
	if err == nil {
		return ""
	}
	return "error"
}

// Config bounds what the service issues and how strictly it checks.
type Config struct {
	// MaxLifetime caps any requested lifetime and is the lifetime of open tokens that ask for none
	// (Spectrum's open tokens never expire; its documentation warns against exactly that). 0 = no cap.
	MaxLifetime time.Duration
	// CheckHost binds session and expiring tokens to the client host that obtained them (Spectrum's default;
	// switch off behind load balancers that hide the client address).
	CheckHost bool
	// TouchInterval throttles last-used writes per token.
	TouchInterval time.Duration
	// SessionCookieLenient accepts a session-bound token presented without its SESSION cookie (none, or the
	// literal "null") when it comes from the host that obtained it, whatever CheckHost says: Precisely's own
	// clients keep only the token of getAccessExpiringToken. A SESSION cookie naming another session is still
	// refused, and the session's idle and absolute limits still apply.
	SessionCookieLenient bool
}

// nullSession is what Spectrum Spatial Analyst sends as its SESSION cookie when it kept no session id.
const nullSession = "null"

// Store is the storage the service needs.
type Store interface {
	storage.Tokens
	storage.Users
}

// Service issues, verifies and logs out Spectrum tokens.
type Service struct {
	codecs   atomic.Pointer[Codec] // replaced whole when the key ring changes
	ring     *Keyring              // nil: the codec given to NewService, for good
	store    Store
	sessions *session.Manager
	cfg      Config
	now      func() time.Time

	reloadMu     sync.Mutex
	lastOnDemand time.Time // last reload caused by a token naming an unknown key
}

// NewService wires a Service; now is the clock (nil = time.Now).
func NewService(codec *Codec, store Store, sessions *session.Manager, cfg Config, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	s := &Service{store: store, sessions: sessions, cfg: cfg, now: now}
	s.codecs.Store(codec)
	return s
}

func (s *Service) codec() *Codec { return s.codecs.Load() }

// CheckHost reports whether session-bound credentials are bound to the client host that obtained them.
func (s *Service) CheckHost() bool { return s.cfg.CheckHost }

// UseKeyring makes the service take its keys from ring: loaded now, again at each Reload, and on demand when a
// token names a key this node has not loaded yet (another node rotated), at most once a second.
func (s *Service) UseKeyring(ctx context.Context, ring *Keyring) error {
	s.ring = ring
	return s.Reload(ctx)
}

// Reload rereads the key ring (a no-op without one).
func (s *Service) Reload(ctx context.Context) error {
	if s.ring == nil {
		return nil
	}
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	return s.load(ctx)
}

// reloadUnless reloads the ring unless the primary key has changed since the caller saw the codec seen (another
// request reloaded it meanwhile): after a rotation, the requests minting at once on a node cost it one reload,
// not one each.
func (s *Service) reloadUnless(ctx context.Context, seen *Codec) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	if s.codec().PrimaryID() != seen.PrimaryID() {
		return nil
	}
	return s.load(ctx)
}

// load replaces the codec with the ring's current one; the caller holds reloadMu.
func (s *Service) load(ctx context.Context) error {
	c, err := s.ring.Load(ctx)
	if err != nil {
		return err
	}
	s.codecs.Store(c)
	return nil
}

// reloadForUnknownKey reloads the ring if tok names a rotated key the current codec lacks, at most once a
// second, so that headers naming made-up keys cannot drive the database.
func (s *Service) reloadForUnknownKey(ctx context.Context, tok string) bool {
	if s.ring == nil || len(tok) > MaxLen || s.codec().KnowsKeyOf(tok) || !namesRotatedKey(tok) {
		return false
	}
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	if s.codec().KnowsKeyOf(tok) { // loaded by another request meanwhile
		return true
	}
	if time.Since(s.lastOnDemand) < time.Second {
		return false
	}
	s.lastOnDemand = time.Now()
	return s.load(ctx) == nil && s.codec().KnowsKeyOf(tok)
}

// Issued is a freshly minted token.
type Issued struct {
	ID        string // the server-side record's id (not a secret: it names the record, it opens nothing)
	Token     string
	User      string
	Kind      storage.TokenKind
	ExpiresAt time.Time // zero: no expiry of its own
}

// IssueSessionToken mints a token for user bound to the session stored under sessionID (which must be a live
// session of user: the session layer signs the user in first) and to clientHost. ttl 0 gives a session token
// (getAccessSessionToken); ttl > 0 an expiring one (getAccessExpiringToken).
func (s *Service) IssueSessionToken(ctx context.Context, user, sessionID, clientHost string, ttl time.Duration) (Issued, error) {
	if ttl < 0 || (s.cfg.MaxLifetime > 0 && ttl > s.cfg.MaxLifetime) {
		return Issued{}, ErrLifetime
	}
	if sessionID == "" {
		return Issued{}, errors.New("token: a session token needs a session")
	}
	kind := storage.KindSession
	if ttl > 0 {
		kind = storage.KindExpiring
	}
	return s.mint(ctx, user, kind, sessionID, clientHost, ttl)
}

// IssueOpenToken mints a token bound to no session and no host. ttl 0 asks for no expiry, which the configured
// maximum lifetime turns into that maximum.
func (s *Service) IssueOpenToken(ctx context.Context, user, clientHost string, ttl time.Duration) (Issued, error) {
	if ttl < 0 || (s.cfg.MaxLifetime > 0 && ttl > s.cfg.MaxLifetime) {
		return Issued{}, ErrLifetime
	}
	if ttl == 0 {
		ttl = s.cfg.MaxLifetime
	}
	return s.mint(ctx, user, storage.KindOpen, "", clientHost, ttl)
}

func (s *Service) mint(ctx context.Context, user string, kind storage.TokenKind, sessionID, clientHost string, ttl time.Duration) (Issued, error) {
	now := s.now()
	rec := storage.Token{ID: newTokenID(now), User: user, Kind: kind, SessionID: sessionID,
		ClientHost: clientHost, CreatedAt: now, LastUsedAt: now}
	claims := Claims{ID: rec.ID, User: user, Kind: kind, Session: sessionID, IssuedAt: now.Unix()}
	if kind != storage.KindOpen {
		claims.Host = clientHost
	}
	if ttl > 0 {
		rec.ExpiresAt = now.Add(ttl)
		claims.ExpiresAt = rec.ExpiresAt.Unix()
	}
	for attempt := 0; ; attempt++ {
		c := s.codec()
		tok, err := c.Seal(claims)
		if err != nil {
			return Issued{}, fmt.Errorf("token: seal: %w", err)
		}
		if s.ring != nil { // the store checks that the key is still the primary when the record commits
			rec.KeyID = storedKeyID(c.PrimaryID())
		}
		// The token reaches the client only after its record is committed, so logout and revocation always find it.
		err = s.store.CreateToken(ctx, rec)
		if errors.Is(err, storage.ErrStaleTokenKey) && attempt == 0 {
			// The ring was rotated since this node loaded it: take the new primary key and seal again, so that
			// no token of a key that can now be retired is handed out.
			if err := s.reloadUnless(ctx, c); err != nil {
				return Issued{}, err
			}
			continue
		}
		if err != nil {
			return Issued{}, fmt.Errorf("token: store: %w", err)
		}
		return Issued{ID: rec.ID, Token: tok, User: user, Kind: kind, ExpiresAt: rec.ExpiresAt}, nil
	}
}

// storedKeyID is the storage id of the codec key id ("" names the original key).
func storedKeyID(id string) string {
	if id == "" {
		return storage.OriginalTokenKey
	}
	return id
}

// newTokenID returns a record id that starts with the issue time in milliseconds (6 bytes) and ends with 80
// random bits, in hex. Ids in time order make each new record land at the end of the database's id index,
// where the pages of the last few records are already being written, instead of on a random page of it: with
// a million records, a random id costs a page write of its own per token (measured: see docs/benchmarks.md).
// The id is no secret (it names a record and opens nothing; only the server and administrators see it), so
// revealing when the token was issued reveals nothing the record does not.
func newTokenID(now time.Time) string {
	var b [16]byte
	ms := uint64(now.UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	rand.Read(b[6:])
	return hex.EncodeToString(b[:])
}

// Presented is what a request shows to prove itself.
type Presented struct {
	Token      string
	Session    string // SESSION cookie value, if any
	ClientHost string
}

// Verified describes an accepted token.
type Verified struct {
	TokenID   string
	User      string
	Kind      storage.TokenKind
	SessionID string
	ExpiresAt time.Time // the token's own expiry; zero: none
	// For session-bound tokens, when the session dies: IdleExpiresAt unless it is used again before (each use
	// moves it on, recorded at most once per touch interval), SessionExpiresAt (the absolute cap, zero: none)
	// in any case.
	IdleExpiresAt    time.Time
	SessionExpiresAt time.Time
}

// Deadline is the earliest moment the token dies if it is not used again: its own expiry, its session's idle
// deadline or its session's absolute cap. Zero: never (an open token without expiry).
func (v Verified) Deadline() time.Time {
	var d time.Time
	for _, t := range []time.Time{v.ExpiresAt, v.IdleExpiresAt, v.SessionExpiresAt} {
		if !t.IsZero() && (d.IsZero() || t.Before(d)) {
			d = t
		}
	}
	return d
}

// Verify accepts a token only if it decrypts with our key, has not expired, was not revoked or logged out,
// belongs to an enabled user, and, for session-bound kinds, comes with its SESSION cookie, from its host
// (when host checks are on), within the session's idle and absolute limits. A success counts as activity.
func (s *Service) Verify(ctx context.Context, p Presented) (Verified, error) {
	c, err := s.codec().Open(p.Token)
	if err != nil && s.reloadForUnknownKey(ctx, p.Token) {
		c, err = s.codec().Open(p.Token)
	}
	if err != nil {
		return Verified{}, ErrMalformedToken
	}
	now := s.now()
	if c.ExpiresAt != 0 && now.Unix() >= c.ExpiresAt {
		return Verified{}, ErrExpired
	}
	bound := c.Kind != storage.KindOpen
	if bound {
		noCookie := p.Session == "" || p.Session == nullSession
		switch {
		case noCookie && s.cfg.SessionCookieLenient:
			// Without its cookie the token alone would be a bearer credential: the host binding is what
			// stands in for the session id, so it applies even with host checks off.
			if c.Host != p.ClientHost {
				return Verified{}, ErrHostMismatch
			}
		case noCookie || subtle.ConstantTimeCompare([]byte(session.ID(p.Session)), []byte(c.Session)) != 1:
			return Verified{}, ErrSessionMismatch
		}
		if s.cfg.CheckHost && c.Host != p.ClientHost {
			return Verified{}, ErrHostMismatch
		}
	}
	rec, err := s.store.GetToken(ctx, c.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return Verified{}, ErrRevoked // garbage-collected after its session or expiry ended
	}
	if err != nil {
		return Verified{}, fmt.Errorf("token: load: %w", err)
	}
	if rec.Revoked() {
		return Verified{}, ErrRevoked
	}
	var sess storage.Session
	if bound {
		if sess, err = s.sessions.CheckID(ctx, c.Session); err != nil {
			if errors.Is(err, session.ErrNotUsable) {
				return Verified{}, fmt.Errorf("%w (%v)", ErrSessionGone, err)
			}
			return Verified{}, err
		}
	}
	u, err := s.store.GetUser(ctx, c.User)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return Verified{}, fmt.Errorf("token: load user: %w", err)
	}
	if err != nil || u.Disabled {
		return Verified{}, ErrUserDisabled
	}
	if now.Sub(rec.LastUsedAt) >= s.cfg.TouchInterval {
		if err := s.store.TouchToken(ctx, rec.ID, now, s.cfg.TouchInterval); err != nil {
			return Verified{}, fmt.Errorf("token: touch: %w", err)
		}
	}
	v := Verified{TokenID: rec.ID, User: rec.User, Kind: rec.Kind, SessionID: rec.SessionID, ExpiresAt: rec.ExpiresAt}
	if bound {
		v.IdleExpiresAt, v.SessionExpiresAt = s.sessions.Deadlines(sess)
	}
	return v, nil
}

// Logout verifies the presented token and then ends it: a session-bound token ends its whole session (and so
// every token in it); an open token is revoked alone.
func (s *Service) Logout(ctx context.Context, p Presented) (Verified, error) {
	v, err := s.Verify(ctx, p)
	if err != nil {
		return Verified{}, err
	}
	if v.SessionID != "" {
		return v, s.sessions.End(ctx, v.SessionID)
	}
	if err := s.store.RevokeToken(ctx, v.TokenID, s.now()); err != nil {
		return Verified{}, fmt.Errorf("token: revoke: %w", err)
	}
	return v, nil
}

// CollectGarbage deletes tokens and sessions that can never be used again, in batches, and returns how many.
// Safe to run on every node at once.
func (s *Service) CollectGarbage(ctx context.Context, sessions storage.Sessions, batch int) (tokens, sess int, err error) {
	now := s.now()
	cfg := s.sessions.Config()
	for {
		n, err := sessions.DeleteSessions(ctx, now.Add(-cfg.IdleTimeout), batch)
		sess += n
		if err != nil {
			return 0, sess, err
		}
		if n < batch {
			break
		}
	}
	for {
		n, err := s.store.DeleteTokens(ctx, now, batch)
		tokens += n
		if err != nil {
			return tokens, sess, err
		}
		if n < batch {
			break
		}
	}
	return tokens, sess, nil
}
