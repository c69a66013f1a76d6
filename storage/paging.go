package storage

import (
	"context"
	"time"
)

// The paged listings of the management API's operator routes: each answers at most Limit rows, in a fixed order,
// after the position a paging cursor carries, so that a page is one bounded query however long the table is.

// PageAfter is a cursor's position in a listing ordered by a time and then a string id: only rows after (At,
// ID) in the listing's own order are answered. Zero (ID "") is the first page.
type PageAfter struct {
	At time.Time
	ID string
}

// AccessTokenFilter selects OAuth access tokens, newest first; zero fields select everything.
type AccessTokenFilter struct {
	ClientID string
	LiveAt   time.Time // only tokens neither revoked nor expired at this time
	Limit    int       // at most this many (0: 1000)
	After    PageAfter
}

// PowerAuthActivationFilter selects PowerAuth activations, oldest first; zero fields select everything.
type PowerAuthActivationFilter struct {
	User   string
	Status PowerAuthActivationStatus
	Limit  int // at most this many (0: 1000)
	After  PageAfter
}

// PowerAuthTokenFilter selects PowerAuth MAC tokens, oldest first; zero fields select everything.
type PowerAuthTokenFilter struct {
	ActivationID string
	User         string // tokens of this user's activations
	Limit        int    // at most this many (0: 1000)
	After        PageAfter
}

// AppDeviceFilter selects registered app devices, in the order of registration; zero fields select everything.
type AppDeviceFilter struct {
	User   string
	Vendor string
	Limit  int // at most this many (0: 1000)
	// After, when AfterMachine is set, keeps only devices registered after (AfterAt, AfterCustomer, AfterMachine).
	AfterAt       time.Time
	AfterCustomer int64
	AfterMachine  string
}

// AdminPages are the paged listings of the operator's routes over PowerAuth and app devices (tokens, sessions,
// access tokens and app authorizations are paged through their own filters).
type AdminPages interface {
	PagePowerAuthActivations(ctx context.Context, f PowerAuthActivationFilter) ([]PowerAuthActivation, error)
	PagePowerAuthTokens(ctx context.Context, f PowerAuthTokenFilter) ([]PowerAuthToken, error)
	PageAppDevices(ctx context.Context, f AppDeviceFilter) ([]AppDevice, error)
}
