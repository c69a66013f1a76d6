// Package signin guards every sign-in of every surface alike: a password, a client secret, a licensing
// access token, a store code. It refuses at once, before any hashing, an account or client address that has
// failed too often, counts and audits the failures, and reports throttled refusals per window (refusals.go).
package signin

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/tokenmanager/tokenmanager/audit"
	"github.com/tokenmanager/tokenmanager/auth"
	"github.com/tokenmanager/tokenmanager/storage"
)

// Guard is the sign-in throttle of one server, with the audit and log of what it refuses.
type Guard struct {
	throttle *auth.Throttle // nil: nothing is throttled
	audit    *audit.Recorder
	log      *slog.Logger
	now      func() time.Time
	host     func(*http.Request) string // the client's address
	refusals *refusalLog
}

// New returns the guard over throttle (nil switches throttling off, not the audit of failures); host is the
// client's address of a request.
func New(throttle *auth.Throttle, rec *audit.Recorder, log *slog.Logger, now func() time.Time, host func(*http.Request) string) *Guard {
	return &Guard{throttle: throttle, audit: rec, log: log, now: now, host: host, refusals: newRefusalLog()}
}

// Authenticate checks a user name and password, throttled: when the client's address, or the account from an
// address that failed for it, has failed too often it refuses at once with *auth.ThrottledError, before any
// hashing; a wrong password counts against both. verify is the check itself (a password, or a WS-Security
// digest).
func (g *Guard) Authenticate(r *http.Request, name string, verify func() (storage.User, error)) (storage.User, error) {
	if err := g.Throttled(r, name, name); err != nil {
		return storage.User{}, err
	}
	u, err := verify()
	switch {
	case errors.Is(err, auth.ErrBadCredentials):
		g.Failed(r, name, name, "bad_credentials")
	case err == nil && g.throttle != nil:
		g.throttle.Succeeded(name, g.host(r))
	}
	return u, err
}

// Throttled refuses an attempt when the client's address, or account (a user name; "" for secrets too long to
// guess, counted per address only), has failed too often; the refusal is logged and audited under subject.
func (g *Guard) Throttled(r *http.Request, account, subject string) *auth.ThrottledError {
	if g.throttle == nil {
		return nil
	}
	wait, ok := g.throttle.Check(account, g.host(r))
	if ok {
		return nil
	}
	g.refused(r, subject)
	return &auth.ThrottledError{RetryAfter: wait}
}

// Failed counts a failed attempt for account against it and the client's address, and audits it under
// subject.
func (g *Guard) Failed(r *http.Request, account, subject, outcome string) {
	g.audit.Record(storage.AuditEvent{Action: "login.fail", Outcome: outcome, Subject: subject, ClientHost: g.host(r)})
	if g.throttle != nil {
		g.throttle.Failed(account, g.host(r))
	}
}
