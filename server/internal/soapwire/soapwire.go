// Package soapwire is what the SOAP services share: their callers' authentication and ?wsdl.
package soapwire

import (
	"errors"
	"net/http"
	"strings"

	"github.com/tokenmanager/tokenmanager/auth"
	"github.com/tokenmanager/tokenmanager/server/internal/credential"
	"github.com/tokenmanager/tokenmanager/server/internal/reply"
	"github.com/tokenmanager/tokenmanager/server/internal/surface"
	"github.com/tokenmanager/tokenmanager/soap"
	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/wsdl"
)

// Users authenticates the callers of a SOAP service by user name and password.
type Users struct {
	Env    *surface.Env
	Auth   *auth.Authenticator
	Digest *auth.DigestVerifier // WS-Security PasswordDigest; nil refuses digests
}

// User authenticates a SOAP caller: HTTP Basic, or else a WS-Security UsernameToken in the SOAP header
// (PasswordText checked like Basic; PasswordDigest against the user's sealed password, with replay protection).
func (us Users) User(r *http.Request, env *soap.Envelope) (storage.User, error) {
	var u storage.User
	var err error
	if name, pass, ok := credential.Basic(r); ok {
		u, err = us.Env.SignIn.Authenticate(r, name, func() (storage.User, error) { return us.Auth.Authenticate(r.Context(), name, pass) })
	} else {
		ut, ferr := soap.UsernameTokenFrom(env)
		switch {
		case ferr != nil:
			return storage.User{}, ferr
		case ut == nil:
			return storage.User{}, us.AuthFault(env, "authentication required")
		case ut.Digest && us.Digest == nil:
			return storage.User{}, us.AuthFault(env, "PasswordDigest is not enabled on this server")
		case ut.Digest:
			u, err = us.Env.SignIn.Authenticate(r, ut.Username, func() (storage.User, error) {
				return us.Digest.Verify(r.Context(), ut.Username, ut.Nonce, ut.Created, ut.Password)
			})
		default:
			u, err = us.Env.SignIn.Authenticate(r, ut.Username, func() (storage.User, error) {
				return us.Auth.Authenticate(r.Context(), ut.Username, ut.Password)
			})
		}
	}
	var throttled *auth.ThrottledError
	switch {
	case errors.Is(err, auth.ErrBadCredentials):
		return storage.User{}, us.AuthFault(env, "invalid user name or password")
	case errors.As(err, &throttled):
		h := http.Header{}
		reply.RetryAfter(h, throttled.RetryAfter)
		return storage.User{}, &soap.Fault{Version: env.Version, Code: soap.CodeClient, String: "too many failed sign-ins; retry later",
			Status: http.StatusTooManyRequests, Header: h}
	case errors.Is(err, auth.ErrReplay):
		return storage.User{}, soap.ClientFault(env.Version, "WS-Security UsernameToken nonce was already used")
	case errors.Is(err, auth.ErrStale):
		return storage.User{}, soap.ClientFault(env.Version, "WS-Security UsernameToken Created is outside the accepted time window")
	case errors.Is(err, auth.ErrNonceCacheFull):
		return storage.User{}, &soap.Fault{Version: env.Version, Code: soap.CodeServer, String: "too many digest authentications; retry later", Status: http.StatusServiceUnavailable}
	}
	return u, err
}

func (us Users) AuthFault(env *soap.Envelope, msg string) *soap.Fault {
	return &soap.Fault{Version: env.Version, Code: soap.CodeClient, String: msg, Status: http.StatusUnauthorized,
		Header: http.Header{"Www-Authenticate": {us.Env.BasicChallenge()}}}
}

// WSDL answers ?wsdl (any case) with the document whose soap:address is the URL the client used.
func WSDL(env *surface.Env, svc wsdl.Service) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.URL.RawQuery, "wsdl") {
			w.Header().Set("Allow", "POST")
			http.Error(w, "POST a SOAP envelope here, or GET "+svc.Path()+"?wsdl for the service description", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		if err := wsdl.Write(w, svc, env.Clients.BaseURL(r)); err != nil {
			env.InternalError(r.Context(), err)
		}
	}
}
