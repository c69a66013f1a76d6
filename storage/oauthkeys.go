package storage

import (
	"context"
	"time"
)

// OAuthKey is a key that signs JWT access tokens (RFC 9068). Sealed is the private key (PKCS #8) sealed with
// the server key. States are those of token keys: one primary signs, verify keys are still published so that
// the tokens they signed verify, retired keys are neither.
type OAuthKey struct {
	ID     string
	Alg    string // "ES256" or "RS256"
	Sealed []byte
	State  TokenKeyState
	// VerifyUntil is set when the key stops being the primary: the last expiry of any token it can have signed.
	// It is published until then.
	VerifyUntil time.Time
	CreatedAt   time.Time
	RetiredAt   time.Time
}

// OAuthKeys stores the signing keys of JWT access tokens, shared by every node.
type OAuthKeys interface {
	// ListOAuthKeys returns every key, oldest first.
	ListOAuthKeys(ctx context.Context) ([]OAuthKey, error)
	// AddOAuthKey adds k as the primary key in one transaction; the previous primary, if any, becomes verify-only
	// with VerifyUntil previousUntil. ErrConflict if the id exists.
	AddOAuthKey(ctx context.Context, k OAuthKey, previousUntil time.Time) error
	// RetireOAuthKey retires a verify-only key; ErrNotFound if there is no such key, ErrConflict for the primary.
	// Retiring twice is not an error.
	RetireOAuthKey(ctx context.Context, id string, at time.Time) error
}
