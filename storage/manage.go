package storage

import (
	"context"
	"errors"
	"time"
)

// ErrInUse: the record is referred to by others, and the change would leave them dangling.
var ErrInUse = errors.New("storage: in use")

// AdminToken is a personal token for the management API (/admin/v1): it acts as its user, narrowed to its
// scope. Only the SHA-256 of its secret is stored.
type AdminToken struct {
	ID         string // public part of the token, names the record
	User       string
	Name       string // what the owner calls it ("CI deploys")
	SecretHash []byte // SHA-256 of the secret part
	ReadOnly   bool   // GET only
	Vendor     string // "" for every vendor the user reaches; else only this vendor's objects
	CreatedAt  time.Time
	ExpiresAt  time.Time // zero: never
	LastUsedAt time.Time
	RevokedAt  time.Time // zero: live
}

// Live reports whether the token may be used at now.
func (t AdminToken) Live(now time.Time) bool {
	return t.RevokedAt.IsZero() && (t.ExpiresAt.IsZero() || now.Before(t.ExpiresAt))
}

// AdminTokens stores management API tokens.
type AdminTokens interface {
	// CreateAdminToken adds t; ErrConflict if the id exists, ErrNotFound if the user does not.
	CreateAdminToken(ctx context.Context, t AdminToken) error
	// GetAdminToken returns the token or ErrNotFound.
	GetAdminToken(ctx context.Context, id string) (AdminToken, error)
	// ListAdminTokens returns the tokens of user (every user's if empty), newest first, at most limit (0: 1000).
	ListAdminTokens(ctx context.Context, user string, limit int) ([]AdminToken, error)
	// RevokeAdminToken marks the token revoked; ErrNotFound if absent. Revoking twice is not an error.
	RevokeAdminToken(ctx context.Context, id string, at time.Time) error
	// TouchAdminToken sets LastUsedAt if the stored value is older than at-minInterval.
	TouchAdminToken(ctx context.Context, id string, at time.Time, minInterval time.Duration) error
}

// ProductRemoval is what a product's deletion took with it.
type ProductRemoval struct {
	Keys, Activations, SKUs int
}

// Removals deletes records that others refer to, in one transaction each.
type Removals interface {
	// DeleteUser removes the user with their tokens, sessions, PowerAuth activations and admin API tokens
	// (revoking and ending them first, so every cache hears of it). ErrNotFound if absent; ErrInUse if the user
	// is a vendor, a licensing customer's account or holds app authorizations: those are removed first.
	DeleteUser(ctx context.Context, name string, at time.Time) error
	// DeleteProduct removes the product. With license keys or WooCommerce SKUs on it, ErrInUse unless force;
	// forced, its keys (with their activations) and SKUs go in the same transaction. ErrNotFound if absent.
	DeleteProduct(ctx context.Context, id int64, force bool) (ProductRemoval, error)
	// DeleteLicenseKey removes the product's key. With activations, ErrInUse unless force; forced, they go in
	// the same transaction. It returns how many activations went. ErrNotFound if absent.
	DeleteLicenseKey(ctx context.Context, productID int64, key string, force bool) (activations int, err error)
}
