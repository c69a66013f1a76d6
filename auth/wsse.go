package auth

import (
	"container/heap"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tokenmanager/tokenmanager/keys"
	"github.com/tokenmanager/tokenmanager/storage"
)

// WS-Security PasswordDigest errors. Wrong user, wrong password, a disabled account and a user without a sealed
// password all answer ErrBadCredentials.
var (
	// ErrReplay is a valid digest whose nonce was already accepted within the window.
	ErrReplay = errors.New("auth: WS-Security nonce already used")
	// ErrStale is a Created timestamp outside the window around now, or one that does not parse.
	ErrStale = errors.New("auth: WS-Security Created timestamp missing, malformed or outside the allowed window")
	// ErrNonceCacheFull is returned for a valid digest when the replay cache holds MaxNonces unexpired nonces:
	// without room to remember the nonce the digest cannot be accepted safely (fail closed). It is an overload
	// condition, not a client error.
	ErrNonceCacheFull = errors.New("auth: WS-Security nonce cache full")
)

// MinNonceLen is the shortest nonce accepted for a PasswordDigest; shorter ones make replays cheap to stage.
const MinNonceLen = 8

// maxDigestNonceLen bounds the nonce (soap.MaxWSSENonce) so the replay cache's memory is bounded too.
const maxDigestNonceLen = 64

// SealedPasswordAD is the associated data used with keys.Sealer for a user's DigestSecret: a secret sealed for
// one user does not open for another.
func SealedPasswordAD(name string) string { return "user-digest:" + name }

// SealPassword seals password as name's storage.User.DigestSecret.
func SealPassword(s *keys.Sealer, name, password string) []byte {
	return s.Seal([]byte(password), SealedPasswordAD(name))
}

// PasswordDigest is the UsernameToken Profile 1.0 §3.1 digest: Base64(SHA-1(nonce ‖ created ‖ password)).
func PasswordDigest(nonce []byte, created, password string) string {
	sum := digest(nonce, created, []byte(password))
	return base64.StdEncoding.EncodeToString(sum[:])
}

func digest(nonce []byte, created string, password []byte) [sha1.Size]byte {
	h := sha1.New()
	h.Write(nonce)
	h.Write([]byte(created))
	h.Write(password)
	var sum [sha1.Size]byte
	h.Sum(sum[:0])
	return sum
}

// DigestOptions configure a DigestVerifier.
type DigestOptions struct {
	// Window is how far Created may be from now, either way; 0 means 5 minutes.
	Window time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MaxNonces bounds the replay cache; 0 means 100000. When it is full of unexpired nonces, new digests are
	// refused with ErrNonceCacheFull.
	MaxNonces int
	// Nonces, when set, is the record of accepted nonces every node of a cluster shares: a nonce accepted by one
	// node is refused by all. Each accepted digest costs one write there; a replay caught in this node's own
	// cache costs none.
	Nonces NonceStore
}

// NonceStore records WS-Security nonces (by digest) across nodes; storage.Limits provides it.
type NonceStore interface {
	// UseWSSENonce records nonce until expires, or returns storage.ErrConflict if it is recorded and unexpired.
	UseWSSENonce(ctx context.Context, nonce []byte, expires, now time.Time) error
}

// DigestVerifier checks WS-Security UsernameToken PasswordDigest credentials:
// PasswordDigest = Base64(SHA-1(nonce ‖ created ‖ password)), computed against the user's password as sealed in
// storage.User.DigestSecret, with Created inside ±Window of now and each nonce accepted once.
//
// The replay cache is per process; with DigestOptions.Nonces it is backed by the database every node shares, so
// a digest replayed to another node of a cluster within the window is refused there too.
type DigestVerifier struct {
	users     storage.Users
	sealer    *keys.Sealer
	window    time.Duration
	now       func() time.Time
	maxNonces int
	shared    NonceStore
	dummy     []byte // a sealed secret opened for unknown users and users without one, so they cost the same

	mu     sync.Mutex
	seen   map[string]time.Time // nonce → when it stops mattering (Created + window)
	expiry nonceHeap            // the same entries, soonest expiry first
}

// NewDigestVerifier returns a DigestVerifier over users, opening sealed passwords with sealer.
func NewDigestVerifier(users storage.Users, sealer *keys.Sealer, o DigestOptions) *DigestVerifier {
	if o.Window <= 0 {
		o.Window = 5 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxNonces <= 0 {
		o.MaxNonces = 100_000
	}
	return &DigestVerifier{
		users: users, sealer: sealer, window: o.Window, now: o.Now, maxNonces: o.MaxNonces, shared: o.Nonces,
		dummy: sealer.Seal([]byte("tokenmanager dummy password"), SealedPasswordAD("")),
		seen:  make(map[string]time.Time),
	}
}

// Verify returns the enabled user whose password the digest was computed with, or:
//   - ErrStale if created is unparsable (RFC 3339 / xsd:dateTime; no zone is taken as UTC) or outside ±Window;
//   - ErrBadCredentials for an unknown user, a wrong digest, a disabled user, a user without a sealed password,
//     or a nonce shorter than MinNonceLen (unknown users and users without a secret cost the same work);
//   - ErrReplay if this nonce was already accepted and has not expired;
//   - ErrNonceCacheFull (see DigestOptions.MaxNonces);
//   - another error if the user cannot be loaded or the sealed password does not open (wrong server key).
//
// created must be the Created text exactly as sent; digestB64 is the Password element's text.
func (d *DigestVerifier) Verify(ctx context.Context, username string, nonce []byte, created string, digestB64 string) (storage.User, error) {
	now := d.now()
	c, ok := parseDateTime(created)
	if !ok {
		return storage.User{}, ErrStale
	}
	if skew := now.Sub(c); skew > d.window || skew < -d.window {
		return storage.User{}, ErrStale
	}
	// Invalid digests and nonces still go through the same work below; they just cannot match.
	got, err := base64.StdEncoding.DecodeString(stripSpace(digestB64))
	if err != nil || len(got) != sha1.Size {
		got = nil
	}
	nonceOK := len(nonce) >= MinNonceLen && len(nonce) <= maxDigestNonceLen

	u, err := d.users.GetUser(ctx, username)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		d.dummyWork(nonce, created, got)
		return storage.User{}, ErrBadCredentials
	case err != nil:
		return storage.User{}, fmt.Errorf("auth: load user: %w", err)
	case len(u.DigestSecret) == 0:
		d.dummyWork(nonce, created, got)
		return storage.User{}, ErrBadCredentials
	}
	password, err := d.sealer.Open(u.DigestSecret, SealedPasswordAD(u.Name))
	if err != nil {
		return storage.User{}, fmt.Errorf("auth: user %q: open digest secret: %w", u.Name, err)
	}
	want := digest(nonce, created, password)
	clear(password)
	if subtle.ConstantTimeCompare(got, want[:]) != 1 || !nonceOK {
		return storage.User{}, ErrBadCredentials
	}
	// The digest is valid: remember the nonce whatever happens next, so it is never accepted twice.
	rerr := d.remember(ctx, string(nonce), c.Add(d.window), now)
	if u.Disabled {
		return storage.User{}, ErrBadCredentials
	}
	if rerr != nil {
		return storage.User{}, rerr
	}
	return u, nil
}

func (d *DigestVerifier) dummyWork(nonce []byte, created string, got []byte) {
	p, err := d.sealer.Open(d.dummy, SealedPasswordAD(""))
	if err != nil {
		panic("auth: dummy digest secret does not open: " + err.Error()) // sealed by this verifier
	}
	want := digest(nonce, created, p)
	subtle.ConstantTimeCompare(got, want[:])
}

// remember records nonce until expires, or reports ErrReplay if it is already recorded and unexpired: in this
// node's cache, or (with a shared store) by any node. The nonce goes into the cache before the shared store is
// asked, so two requests on this node with one nonce never both reach it, and the lock is not held meanwhile.
func (d *DigestVerifier) remember(ctx context.Context, nonce string, expires, now time.Time) error {
	if err := d.rememberLocal(nonce, expires, now); err != nil || d.shared == nil {
		return err
	}
	sum := sha256.Sum256([]byte(nonce))
	switch err := d.shared.UseWSSENonce(ctx, sum[:], expires, now); {
	case errors.Is(err, storage.ErrConflict):
		return ErrReplay // accepted by another node: it stays in this cache too
	case err != nil:
		// Not known to be recorded anywhere: forget it here too, so the database decides a retry.
		d.mu.Lock()
		if d.seen[nonce].Equal(expires) {
			delete(d.seen, nonce)
		}
		d.mu.Unlock()
		return fmt.Errorf("auth: record WS-Security nonce: %w", err)
	}
	return nil
}

func (d *DigestVerifier) rememberLocal(nonce string, expires, now time.Time) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for len(d.expiry) > 0 && d.expiry[0].expires.Before(now) {
		e := heap.Pop(&d.expiry).(nonceEntry)
		if d.seen[e.nonce].Equal(e.expires) {
			delete(d.seen, e.nonce)
		}
	}
	if exp, ok := d.seen[nonce]; ok && !exp.Before(now) {
		return ErrReplay
	}
	if len(d.seen) >= d.maxNonces {
		return ErrNonceCacheFull
	}
	d.seen[nonce] = expires
	heap.Push(&d.expiry, nonceEntry{nonce: nonce, expires: expires})
	return nil
}

type nonceEntry struct {
	nonce   string
	expires time.Time
}

type nonceHeap []nonceEntry

func (h nonceHeap) Len() int           { return len(h) }
func (h nonceHeap) Less(i, j int) bool { return h[i].expires.Before(h[j].expires) }
func (h nonceHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *nonceHeap) Push(x any)        { *h = append(*h, x.(nonceEntry)) }
func (h *nonceHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nonceEntry{}
	*h = old[:len(old)-1]
	return e
}

// parseDateTime parses an xsd:dateTime as WS-Security uses it: RFC 3339 with optional fractional seconds and a
// zone (Z or ±hh:mm), or no zone at all, which WSS requires to be UTC anyway.
func parseDateTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s) // xsd:dateTime collapses whitespace
	if len(s) > 64 {
		return time.Time{}, false
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	if t, err := time.ParseInLocation("2006-01-02T15:04:05.999999999", s, time.UTC); err == nil {
		return t, true
	}
	return time.Time{}, false
}

func stripSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, s)
}
