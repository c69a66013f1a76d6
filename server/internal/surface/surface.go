// Package surface is the contract between the server and each of its surfaces (a wire dialect such as
// Cryptolens' API or the SOAP LicenseService): a surface is mounted on the server's mux with one call, and is
// given the server's shared environment to log, audit, throttle and answer with.
package surface

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/tokenmanager/tokenmanager/audit"
	"github.com/tokenmanager/tokenmanager/server/internal/clienthost"
	"github.com/tokenmanager/tokenmanager/server/internal/signin"
)

// A Surface adds its routes to the server's mux.
type Surface interface {
	Mount(mux *http.ServeMux)
}

// Env is what the server shares with every surface.
type Env struct {
	Log     *slog.Logger     // adds each request's id to the lines logged with its context
	Now     func() time.Time // the clock
	Audit   *audit.Recorder  // nil records nothing
	Clients clienthost.Resolver
	SignIn  *signin.Guard
	// Realm is sent in WWW-Authenticate challenges.
	Realm string
	// MaxBodyBytes bounds request bodies.
	MaxBodyBytes int64
	// Issued records a token of any kind handed out to who (a user or an API client), in the metrics and the
	// audit log; detail names the record, never the token.
	Issued func(r *http.Request, kind, who, detail string)
	// LicensingCall counts a licensing call in the metrics by method (the lower-case path of a fixed table) and
	// result (ok, bad_input, denied, not_found, …); nil counts nothing.
	LicensingCall func(method, result string)
}

// InternalError logs err (which never contains a credential) for the operator; a failure because the client
// went away is no fault of ours and is logged at debug level, an unavailable database as a warning.
func (e *Env) InternalError(ctx context.Context, err error) {
	if ctx.Err() != nil {
		e.Log.DebugContext(ctx, "request abandoned by the client", "err", err)
		return
	}
	if Unavailable(err) {
		e.Log.WarnContext(ctx, "database unavailable", "err", err) // the operator's to fix, not a bug of ours
		return
	}
	e.Log.ErrorContext(ctx, "internal error", "err", err)
}

// BasicChallenge is the WWW-Authenticate value asking for a user name and password.
func (e *Env) BasicChallenge() string { return `Basic realm="` + e.Realm + `", charset="UTF-8"` }

// BearerChallenge is the WWW-Authenticate value asking for a bearer token, with the RFC 6750 error code err
// when there is one.
func (e *Env) BearerChallenge(err string) string {
	c := `Bearer realm="` + e.Realm + `"`
	if err != "" {
		c += `, error="` + err + `"`
	}
	return c
}
