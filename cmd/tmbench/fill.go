package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/tokenmanager/tokenmanager/auth"
	"github.com/tokenmanager/tokenmanager/session"
	"github.com/tokenmanager/tokenmanager/storage"
)

// P4: the store filled with live tokens and sessions, written through the storage interface while the server
// runs idle, so that the *-full scenarios measure P1 and P2 against tables of realistic size.

// fillReport is what the fill did and the server's memory around it.
type fillReport struct {
	Users    int `json:"users"`
	Sessions int `json:"sessions"`
	Tokens   int `json:"tokens"`
	// Activations and DataObjects are the licensing rows written after the tokens (fill_licensing.go), on
	// LicenseKeys keys of the licensing scenarios' product.
	Activations int     `json:"activations"`
	DataObjects int     `json:"data_objects"`
	LicenseKeys int     `json:"license_keys"`
	Seconds     float64 `json:"seconds"`
	// LiveTokens and LiveSessions are the store's own count after the fill (the earlier scenarios' tokens and
	// sessions included).
	LiveTokens   int    `json:"live_tokens"`
	LiveSessions int    `json:"live_sessions"`
	CountError   string `json:"count_error,omitempty"`
	// BeforeFill, AfterFill and End are the first node's memory just before and right after the fill, and after
	// the last scenario on the full store (before cold-issuance, which runs last: its bursts of argon2id memory,
	// 19 MiB a sign-in, are not the store's). VmHWM was reset right after the fill (PeakReset), so End.HWM is the
	// peak of the scenarios on the full store; otherwise the whole run's.
	BeforeFill     memory `json:"before_fill"`
	AfterFill      memory `json:"after_fill"`
	AfterFillError string `json:"after_fill_error,omitempty"`
	End            memory `json:"end"`
	EndError       string `json:"end_error,omitempty"`
	PeakReset      bool   `json:"peak_reset"`
}

// fillWriters is how many goroutines write. SQLite takes one writer at a time, so more would only queue;
// PostgreSQL commits several at once.
const fillWriters = 16

func (e *benchEnv) fill(ctx context.Context) error {
	o, pid := e.o, e.srv.Pid()
	fr := &fillReport{Users: o.fillUsers, Sessions: o.fillSessions, Tokens: o.fillTokens}
	if m, err := readMemory(pid); err == nil {
		fr.BeforeFill = m
	}
	store, err := e.openStore(ctx)
	if err != nil {
		return err
	}
	e.logf("P4: filling the store with %d tokens and %d sessions of %d users (%d writers), server idle (VmRSS %s)",
		o.fillTokens, o.fillSessions, o.fillUsers, fillWriters, fmtMB(fr.BeforeFill.RSS))
	start := time.Now()
	if err := fillStore(ctx, store, o.fillUsers, o.fillSessions, o.fillTokens, e.logf); err != nil {
		return fmt.Errorf("P4 fill: %w", err)
	}
	if o.fillActivations > 0 || o.fillDataObjects > 0 {
		plan := planLicensingFill(o.fillActivations, o.fillDataObjects)
		l, err := e.licensing(ctx)
		if err != nil {
			return fmt.Errorf("P4 fill: licensing data: %w", err)
		}
		e.logf("P4: %d license activations and %d data objects on %d new keys of product %d", plan.activations, plan.dataObjects, plan.keys, l.productID)
		if err := fillLicensing(ctx, store, l.vendor, l.productID, plan, e.logf); err != nil {
			return fmt.Errorf("P4 fill: %w", err)
		}
		fr.Activations, fr.DataObjects, fr.LicenseKeys = plan.activations, plan.dataObjects, plan.keys
	}
	fr.Seconds = time.Since(start).Seconds()
	now := time.Now()
	if fr.LiveTokens, fr.LiveSessions, err = store.CountLive(ctx, now, now.Add(-session.DefaultConfig.IdleTimeout)); err != nil {
		fr.CountError = err.Error()
	}
	if fr.AfterFill, err = readMemory(pid); err != nil {
		fr.AfterFillError = err.Error()
	}
	// The peak so far (cold-issuance holds 19 MiB per request in argon2id) says nothing about the filled
	// store: keep it for the whole-run figure and start P4's peak afresh.
	e.rep.peakBeforeReset = fr.AfterFill.HWM
	if err := resetPeakRSS(pid); err != nil {
		e.logf("P4: could not reset the server's VmHWM (%v): its peak covers the whole run", err)
	} else {
		fr.PeakReset = true
	}
	e.logf("P4: filled in %.1fs; the store counts %d live tokens and %d live sessions; server RSS %s (VmHWM %s)",
		fr.Seconds, fr.LiveTokens, fr.LiveSessions, fmtMB(fr.AfterFill.RSS), fmtMB(fr.AfterFill.HWM))
	e.rep.Fill = fr
	return nil
}

// fillSession is what a filled token needs to know of its session.
type fillSession struct {
	id, user, host string
}

// fillStore writes users, then sessions, then tokens, shaped as the service makes them (token/service.go
// mint, session/session.go Create): random ids, users spread over nUsers names, a quarter each of session and
// expiring tokens (bound to a session of the same user and host) and half open ones, expiring in a day.
func fillStore(ctx context.Context, store storage.Store, nUsers, nSessions, nTokens int, logf func(string, ...any)) error {
	now := time.Now()
	hash, err := auth.HashPassword(rand.Text(), auth.DefaultParams) // nobody signs in as these users
	if err != nil {
		return err
	}
	users := make([]string, nUsers)
	for i := range users {
		users[i] = fmt.Sprintf("fill%06d", i)
	}
	if err := inParallel(ctx, fillWriters, nUsers, func(ctx context.Context, i int) error {
		return store.CreateUser(ctx, storage.User{Name: users[i], PasswordHash: hash, CreatedAt: now, UpdatedAt: now})
	}); err != nil {
		return fmt.Errorf("users: %w", err)
	}

	var done atomic.Int64
	progress := func(what string, total int) func() {
		done.Store(0)
		t0 := time.Now()
		stop := make(chan struct{})
		finished := make(chan struct{})
		go func() {
			defer close(finished)
			tick := time.NewTicker(5 * time.Second)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					n := done.Load()
					rate := float64(n) / time.Since(t0).Seconds()
					eta := "?"
					if rate > 0 {
						eta = (time.Duration(float64(total-int(n))/rate) * time.Second).Round(time.Second).String()
					}
					logf("P4: %d of %d %s (%.0f/s, %s to go)", n, total, what, rate, eta)
				}
			}
		}()
		return func() { close(stop); <-finished }
	}

	sessions := make([]fillSession, nSessions)
	stop := progress("sessions", nSessions)
	err = inParallel(ctx, fillWriters, nSessions, func(ctx context.Context, i int) error {
		rng := mrand.New(mrand.NewPCG(uint64(i), 1))
		s := fillSession{id: sessionID(), user: users[rng.IntN(len(users))], host: randomHost(rng)}
		sessions[i] = s
		created := now.Add(-time.Duration(rng.Int64N(int64(20 * time.Minute))))
		err := store.CreateSession(ctx, storage.Session{ID: s.id, User: s.user, ClientHost: s.host, CreatedAt: created, LastSeenAt: now})
		done.Add(1)
		return err
	})
	stop()
	if err != nil {
		return fmt.Errorf("sessions: %w", err)
	}

	stop = progress("tokens", nTokens)
	err = inParallel(ctx, fillWriters, nTokens, func(ctx context.Context, i int) error {
		rng := mrand.New(mrand.NewPCG(uint64(i), 2))
		err := store.CreateToken(ctx, fillToken(rng, now, users, sessions))
		done.Add(1)
		return err
	})
	stop()
	if err != nil {
		return fmt.Errorf("tokens: %w", err)
	}
	return nil
}

// fillToken is one live token record: half open tokens of a random user, a quarter expiring and a quarter
// session tokens of a random session's user and host.
func fillToken(rng *mrand.Rand, now time.Time, users []string, sessions []fillSession) storage.Token {
	created := now.Add(-time.Duration(rng.Int64N(int64(time.Hour))))
	t := storage.Token{ID: tokenID(), CreatedAt: created, LastUsedAt: created}
	kind := rng.IntN(4)
	if len(sessions) == 0 {
		kind = 0
	}
	switch kind {
	case 0, 1:
		t.Kind, t.User, t.ClientHost = storage.KindOpen, users[rng.IntN(len(users))], randomHost(rng)
		t.ExpiresAt = created.Add(24 * time.Hour)
	default:
		s := sessions[rng.IntN(len(sessions))]
		t.User, t.SessionID, t.ClientHost = s.user, s.id, s.host
		t.Kind = storage.KindSession // no expiry of its own: lives as long as its session
		if kind == 2 {
			t.Kind, t.ExpiresAt = storage.KindExpiring, created.Add(24*time.Hour)
		}
	}
	return t
}

// tokenID is a random token record id as token.Service mints them: 16 random bytes in hex.
func tokenID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// sessionID is a random session record id as session.Manager makes them: the hash of a random cookie value.
func sessionID() string { return session.ID(rand.Text()) }

// randomHost is a client address in 10.0.0.0/8.
func randomHost(rng *mrand.Rand) string {
	return fmt.Sprintf("10.%d.%d.%d", rng.IntN(256), rng.IntN(256), 1+rng.IntN(254))
}

// fmtMB prints bytes in decimal megabytes, the unit of the RSS target.
func fmtMB(n uint64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }
