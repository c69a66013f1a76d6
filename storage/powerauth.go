package storage

import (
	"context"
	"time"
)

// PowerAuthActivationStatus is the state of a PowerAuth activation. Only an active activation may create or use tokens;
// removed is final.
type PowerAuthActivationStatus string

const (
	PowerAuthActive  PowerAuthActivationStatus = "active"
	PowerAuthBlocked PowerAuthActivationStatus = "blocked"
	PowerAuthRemoved PowerAuthActivationStatus = "removed"
)

// PowerAuthActivation is a device registered to a user (PowerAuth's activation), under which MAC tokens are created.
type PowerAuthActivation struct {
	ID        string // UUID
	User      string
	Name      string // the device's name, as the user or operator gave it
	Status    PowerAuthActivationStatus
	CreatedAt time.Time
	UpdatedAt time.Time
}

// PowerAuthToken is a PowerAuth MAC token. The 16-byte secret is needed in the clear to check a digest, so it is kept
// only sealed with the server key (keys.Sealer); the database never holds it in usable form.
type PowerAuthToken struct {
	ID           string // UUID, sent by the client in X-PowerAuth-Token token_id
	ActivationID string
	SealedSecret []byte
	CreatedAt    time.Time
}

// PowerAuth stores activations, their MAC tokens and the nonces already accepted from those tokens.
type PowerAuth interface {
	// CreatePowerAuthActivation adds a; ErrConflict if the id exists, ErrNotFound if the user does not.
	CreatePowerAuthActivation(ctx context.Context, a PowerAuthActivation) error
	// GetPowerAuthActivation returns the activation or ErrNotFound.
	GetPowerAuthActivation(ctx context.Context, id string) (PowerAuthActivation, error)
	// ListPowerAuthActivations returns the user's activations (every user's when user is ""), oldest first.
	ListPowerAuthActivations(ctx context.Context, user string) ([]PowerAuthActivation, error)
	// UpdatePowerAuthActivation applies update to the stored activation inside one transaction; ErrNotFound if absent.
	// Returning an error from update aborts without writing. If the activation is not active afterwards, its
	// tokens are deleted in the same transaction: a token never outlives its activation's active state.
	UpdatePowerAuthActivation(ctx context.Context, id string, update func(*PowerAuthActivation) error) error

	// CreatePowerAuthToken adds t; ErrConflict if the id exists, ErrNotFound unless t.ActivationID names an active
	// activation at the moment of the write (checked in the same transaction, so a concurrent block or remove
	// cannot leave a live token behind).
	CreatePowerAuthToken(ctx context.Context, t PowerAuthToken) error
	// GetPowerAuthToken returns the token or ErrNotFound.
	GetPowerAuthToken(ctx context.Context, id string) (PowerAuthToken, error)
	// GetPowerAuthTokenActivation returns the token and its activation, read together (what checking a token
	// header needs), or ErrNotFound if there is no such token.
	GetPowerAuthTokenActivation(ctx context.Context, id string) (PowerAuthToken, PowerAuthActivation, error)
	// ListPowerAuthTokens returns the activation's tokens (every token when activationID is ""), oldest first.
	ListPowerAuthTokens(ctx context.Context, activationID string) ([]PowerAuthToken, error)
	// DeletePowerAuthToken removes the token; ErrNotFound if absent.
	DeletePowerAuthToken(ctx context.Context, id string) error
	// DeletePowerAuthUserTokens removes every token of every activation of user (the activations stay) and
	// returns how many.
	DeletePowerAuthUserTokens(ctx context.Context, user string) (int, error)

	// UsePowerAuthNonce records that nonce was accepted for tokenID and must be refused until expires. It returns
	// ErrConflict if the pair is already recorded with an expiry not before now (a replay); a recorded pair
	// whose expiry has passed is overwritten. Atomic across every process sharing the database: of concurrent
	// calls with the same pair, exactly one succeeds.
	UsePowerAuthNonce(ctx context.Context, tokenID string, nonce []byte, expires, now time.Time) error
	// DeletePowerAuthNonces removes nonces that expired before cutoff, at most limit of them; returns how many.
	DeletePowerAuthNonces(ctx context.Context, cutoff time.Time, limit int) (int, error)
}
