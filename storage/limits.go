package storage

import (
	"context"
	"time"
)

// Limits is the state the request limits of several nodes share (sign-in throttles, client and licensing rate
// limits, WS-Security nonces), so that behind N nodes a client gets the allowance of one, not N. A single node
// keeps all of it in memory and never calls these; the PostgreSQL backend is what they are for.
type Limits interface {
	// AddLimitCounts applies adds in one round trip (one row written per add, whatever its count): each
	// counter first decays to its level at now, then takes the add (or, with Reset, is set to it).
	AddLimitCounts(ctx context.Context, now time.Time, adds []LimitAdd) error
	// LimitCountsSince returns the counters changed at or after since, as stored (At is their last change).
	LimitCountsSince(ctx context.Context, since time.Time) ([]LimitCount, error)
	// DeleteLimitCounts removes counters that decayed to zero before cutoff, at most limit of them; returns how
	// many.
	DeleteLimitCounts(ctx context.Context, cutoff time.Time, limit int) (int, error)

	// UseWSSENonce records that a WS-Security nonce (by its digest) was accepted and must be refused until
	// expires: ErrConflict when it is already recorded and has not expired at now.
	UseWSSENonce(ctx context.Context, nonce []byte, expires, now time.Time) error
	// DeleteWSSENonces removes nonces that expired before cutoff, at most limit of them; returns how many.
	DeleteWSSENonces(ctx context.Context, cutoff time.Time, limit int) (int, error)
}

// LimitKeyLen is the length of a limit counter's key: a digest of what it counts (a user name, an address), so
// the table holds no names and every row has one small size.
const LimitKeyLen = 16

// LimitAdd is a change to one counter. A counter is a leaky bucket: its level goes down by Rate a second (never
// below zero) and up by what is added.
type LimitAdd struct {
	Key   [LimitKeyLen]byte
	N     float64 // added to the level
	Rate  float64 // decay per second, > 0
	Reset bool    // set the level to N instead of adding it
}

// LimitCount is a counter as stored: Level at At, decaying by Rate a second from then.
type LimitCount struct {
	Key   [LimitKeyLen]byte
	Level float64
	Rate  float64
	At    time.Time
}

// LevelAt is c's level at now.
func (c LimitCount) LevelAt(now time.Time) float64 {
	return max(0, c.Level-max(0, now.Sub(c.At).Seconds())*c.Rate)
}
