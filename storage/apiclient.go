package storage

import (
	"context"
	"time"
)

// APIClient is an API integration that obtains OAuth 2.0 access tokens with the client credentials grant
// (SkyKick's "API user"). It holds two subscription keys so that one can be replaced while the other is in use;
// only their SHA-256 hashes are stored.
type APIClient struct {
	ID          string
	Description string
	// PrimaryKeyHash and SecondaryKeyHash are SHA-256 hashes of the two subscription keys (32 bytes each).
	PrimaryKeyHash   []byte
	SecondaryKeyHash []byte
	// PrimaryKeySetAt and SecondaryKeySetAt say when each key was last generated, for rotation hygiene.
	PrimaryKeySetAt   time.Time
	SecondaryKeySetAt time.Time
	// Scopes the client may ask for (case-sensitive scope tokens, e.g. "Partner", "Distributor").
	Scopes []string
	// GrantTypes the client may use at the token endpoint ("client_credentials"); empty for a client that only
	// introspects.
	GrantTypes []string
	// Introspect lets the client introspect any token (a resource server); others see only their own.
	Introspect bool
	// TokenLifetime is the lifetime of the access tokens issued to the client.
	TokenLifetime time.Duration
	// RequireSubscriptionKey demands the Ocp-Apim-Subscription-Key header, carrying one of the client's keys,
	// at the token endpoint and on every use of its tokens (SkyKick's API gateway does).
	RequireSubscriptionKey bool
	Disabled               bool
	CreatedAt              time.Time
	UpdatedAt              time.Time

	// TokenFormat is "jwt" (RFC 9068 signed JWTs), "opaque" (tmat_ strings), or "" for the server's default.
	TokenFormat string
}

// AccessToken is the server-side record of an opaque OAuth 2.0 access token. The token itself is never
// stored: ID is the hex SHA-256 of it.
type AccessToken struct {
	ID       string
	ClientID string
	Scopes   []string
	// KeyHash is the hash of the subscription key the client authenticated with; the token dies when that key
	// is regenerated.
	KeyHash   []byte
	CreatedAt time.Time
	ExpiresAt time.Time
	RevokedAt time.Time // zero: live
}

// Revoked reports whether the token was revoked.
func (t AccessToken) Revoked() bool { return !t.RevokedAt.IsZero() }

// APIClients stores API clients and the access tokens issued to them.
type APIClients interface {
	// CreateAPIClient adds c; ErrConflict if the id is taken.
	CreateAPIClient(ctx context.Context, c APIClient) error
	// GetAPIClient returns the client or ErrNotFound.
	GetAPIClient(ctx context.Context, id string) (APIClient, error)
	// UpdateAPIClient applies update to the stored client inside one transaction; ErrNotFound if absent.
	// Returning an error from update aborts without writing. The id cannot be changed.
	UpdateAPIClient(ctx context.Context, id string, update func(*APIClient) error) error
	// ListAPIClients returns all clients ordered by id.
	ListAPIClients(ctx context.Context) ([]APIClient, error)
	// DeleteAPIClient removes the client and every access token issued to it, in one transaction;
	// ErrNotFound if absent.
	DeleteAPIClient(ctx context.Context, id string) error

	// CreateAccessToken adds t; ErrConflict if the id exists, ErrNotFound if its client does not. Returns only
	// after the write is durable enough that the token may be handed to a client.
	CreateAccessToken(ctx context.Context, t AccessToken) error
	// GetAccessToken returns the token or ErrNotFound.
	GetAccessToken(ctx context.Context, id string) (AccessToken, error)
	// RevokeAccessToken marks the token revoked at the given time; ErrNotFound if absent. Revoking twice is not
	// an error and keeps the first time.
	RevokeAccessToken(ctx context.Context, id string, at time.Time) error
	// DeleteAccessTokens removes tokens expired or revoked before cutoff, at most limit of them; returns how many.
	DeleteAccessTokens(ctx context.Context, cutoff time.Time, limit int) (int, error)
	// ListAccessTokens returns the tokens f selects, newest first (created_at, then id).
	ListAccessTokens(ctx context.Context, f AccessTokenFilter) ([]AccessToken, error)
}
