package apiclient

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/tokenmanager/tokenmanager/keys"
	"github.com/tokenmanager/tokenmanager/storage"
)

// Signing algorithms of JWT access tokens. ES256 is the default: short signatures, fast keys; RS256 is what
// RFC 9068 requires every resource server to support, for those whose libraries know nothing else.
const (
	AlgES256 = "ES256"
	AlgRS256 = "RS256"
)

// rsaBits is the size of generated RSA keys: RFC 7518 §3.3's minimum, fast enough to verify everywhere.
const rsaBits = 2048

// keyCacheTTL bounds how long a node answers from its copy of the signing keys (JWKS, verification). Signing
// always reads the keys afresh, so a rotation takes effect on every node's next token at once.
const keyCacheTTL = 10 * time.Second

// rotationMargin is added to a replaced key's publication beyond the longest token lifetime: a node that read
// the keys just before a rotation may still sign one token with the old key.
const rotationMargin = time.Minute

// ErrNoSigningKey: no key signs JWT access tokens yet (EnsureSigningKey or 'oauthkey rotate' makes one).
var ErrNoSigningKey = errors.New("apiclient: no signing key for JWT access tokens")

// SigningKeys are the keys that sign JWT access tokens, kept in storage with their private halves sealed by
// the server key. Safe for concurrent use.
type SigningKeys struct {
	store  storage.OAuthKeys
	sealer *keys.Sealer
	now    func() time.Time

	mu       sync.Mutex
	opened   map[string]signingKey // by id: unsealed keys, which never change
	list     []storage.OAuthKey
	loadedAt time.Time
}

type signingKey struct {
	id, alg string
	private crypto.Signer
}

// NewSigningKeys returns the signing keys in store, sealed with sealer (the server key's, for keys.PurposeOAuthSigningKeys).
func NewSigningKeys(store storage.OAuthKeys, sealer *keys.Sealer, now func() time.Time) *SigningKeys {
	if now == nil {
		now = time.Now
	}
	return &SigningKeys{store: store, sealer: sealer, now: now,
		opened: map[string]signingKey{}}
}

// SealedOAuthKeyAD is the associated data a signing key is sealed with: it cannot be moved to another id.
func SealedOAuthKeyAD(id string) string { return "oauth-key:" + id }

// ValidAlg reports whether alg is a signing algorithm we generate keys for.
func ValidAlg(alg string) error {
	if alg != AlgES256 && alg != AlgRS256 {
		return fmt.Errorf("%w: signing algorithm %q (want %s or %s)", ErrInvalidSpec, alg, AlgES256, AlgRS256)
	}
	return nil
}

func generate(alg string) (crypto.Signer, error) {
	switch alg {
	case AlgES256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case AlgRS256:
		return rsa.GenerateKey(rand.Reader, rsaBits)
	}
	return nil, ValidAlg(alg)
}

// Rotate makes a new key of alg the primary and returns its id. The key it replaces goes on verifying, and is
// published, until previousUntil (callers pass the last expiry a token it signed can have).
func (k *SigningKeys) Rotate(ctx context.Context, alg string, previousUntil time.Time) (string, error) {
	priv, err := generate(alg)
	if err != nil {
		return "", err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return "", err
	}
	now := k.now()
	suffix := make([]byte, 4)
	rand.Read(suffix)
	id := "j" + strconv.FormatInt(now.UnixMilli(), 36) + base64.RawURLEncoding.EncodeToString(suffix)
	if err := k.store.AddOAuthKey(ctx, storage.OAuthKey{ID: id, Alg: alg, Sealed: k.sealer.Seal(der, SealedOAuthKeyAD(id)),
		CreatedAt: now}, previousUntil); err != nil {
		return "", fmt.Errorf("apiclient: store signing key: %w", err)
	}
	k.mu.Lock()
	k.loadedAt = time.Time{} // this process sees its own rotation at once
	k.mu.Unlock()
	return id, nil
}

// List returns the stored keys, oldest first.
func (k *SigningKeys) List(ctx context.Context) ([]storage.OAuthKey, error) {
	return k.store.ListOAuthKeys(ctx)
}

// open unseals a stored key (once per process: keys never change).
func (k *SigningKeys) open(sk storage.OAuthKey) (signingKey, error) {
	k.mu.Lock()
	got, ok := k.opened[sk.ID]
	k.mu.Unlock()
	if ok {
		return got, nil
	}
	der, err := k.sealer.Open(sk.Sealed, SealedOAuthKeyAD(sk.ID))
	if err != nil {
		return signingKey{}, fmt.Errorf("apiclient: signing key %s does not open with this server key: %w", sk.ID, err)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return signingKey{}, fmt.Errorf("apiclient: signing key %s: %w", sk.ID, err)
	}
	signer, ok := parsed.(crypto.Signer)
	if !ok {
		return signingKey{}, fmt.Errorf("apiclient: signing key %s has an unusable type", sk.ID)
	}
	got = signingKey{id: sk.ID, alg: sk.Alg, private: signer}
	k.mu.Lock()
	k.opened[sk.ID] = got
	k.mu.Unlock()
	return got, nil
}

// primary reads the keys afresh and returns the one that signs.
func (k *SigningKeys) primary(ctx context.Context) (signingKey, error) {
	list, err := k.store.ListOAuthKeys(ctx)
	if err != nil {
		return signingKey{}, fmt.Errorf("apiclient: load signing keys: %w", err)
	}
	k.mu.Lock()
	k.list, k.loadedAt = list, k.now() // what this node signs with, its JWKS publishes
	k.mu.Unlock()
	for _, sk := range list {
		if sk.State == storage.KeyPrimary {
			return k.open(sk)
		}
	}
	return signingKey{}, ErrNoSigningKey
}

// cached returns the keys as read at most keyCacheTTL ago, or at most a second ago when fresh is set (a kid
// this node has not seen: perhaps a rotation on another node).
func (k *SigningKeys) cached(ctx context.Context, fresh bool) ([]storage.OAuthKey, error) {
	k.mu.Lock()
	age := k.now().Sub(k.loadedAt)
	list := k.list
	k.mu.Unlock()
	if !k.loadedAt.IsZero() && (age < time.Second || !fresh && age < keyCacheTTL) {
		return list, nil
	}
	list, err := k.store.ListOAuthKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("apiclient: load signing keys: %w", err)
	}
	k.mu.Lock()
	k.list, k.loadedAt = list, k.now()
	k.mu.Unlock()
	return list, nil
}

// published reports whether sk belongs in the JWKS (and verifies tokens) at now.
func published(sk storage.OAuthKey, now time.Time) bool {
	return sk.State == storage.KeyPrimary || sk.State == storage.KeyVerify && now.Before(sk.VerifyUntil)
}

// verifier returns the public key of id if it may verify tokens now.
func (k *SigningKeys) verifier(ctx context.Context, id string) (signingKey, bool, error) {
	for _, fresh := range []bool{false, true} {
		list, err := k.cached(ctx, fresh)
		if err != nil {
			return signingKey{}, false, err
		}
		for _, sk := range list {
			if sk.ID == id {
				if !published(sk, k.now()) {
					return signingKey{}, false, nil
				}
				key, err := k.open(sk)
				return key, err == nil, err
			}
		}
	}
	return signingKey{}, false, nil
}

// JWKS returns the public keys that verify tokens now: the primary and the keys it replaced whose tokens may
// not have expired yet (RFC 7517 key set).
//
// It reads the keys at most a second old: a resource server that meets a new kid fetches the JWKS at once, and
// must find the key even when another node made it.
func (k *SigningKeys) JWKS(ctx context.Context) (jose.JSONWebKeySet, error) {
	list, err := k.cached(ctx, true)
	if err != nil {
		return jose.JSONWebKeySet{}, err
	}
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
	now := k.now()
	for _, sk := range list {
		if !published(sk, now) {
			continue
		}
		key, err := k.open(sk)
		if err != nil {
			return jose.JSONWebKeySet{}, err
		}
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: key.private.Public(), KeyID: key.id, Algorithm: key.alg, Use: "sig"})
	}
	return set, nil
}
