package verify

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"slices"
	"strings"
)

// Require is what a route demands of a credential.
type Require struct {
	// Scopes the token must have been granted, every one (only OAuth access tokens carry scopes).
	Scopes []string
	// Kinds of credential accepted (KindOAuth, KindPowerAuth, "session", "expiring", "open"); none: any.
	Kinds []string
}

type ctxKey struct{}

// FromContext returns the identity the middleware verified for this request.
func FromContext(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(ctxKey{}).(Identity)
	return id, ok
}

// NewContext returns ctx carrying id (for tests of handlers behind the middleware).
func NewContext(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// Names of the credentials the middleware looks for.
const (
	headerPowerAuth = "X-PowerAuth-Token"
	cookieSession   = "SESSION"
	cookieToken     = "spectrum.authentication.token" // Spectrum's alternative to the Authorization header
	maxHeader       = 16 << 10
)

// Check verifies the credential r carries: an X-PowerAuth-Token header, or a Bearer token (Authorization
// header, or Spectrum's token cookie) that is an OAuth access token or a Spectrum token with its SESSION cookie.
// ErrNoCredential when there is none.
func (v *Verifier) Check(r *http.Request) (Identity, error) {
	if pa := r.Header.Values(headerPowerAuth); len(pa) > 0 {
		if len(pa) > 1 || len(pa[0]) > maxHeader {
			return Identity{}, errors.Join(ErrInvalid, errors.New("malformed X-PowerAuth-Token"))
		}
		return v.PowerAuth(r.Context(), pa[0])
	}
	tok, err := bearer(r)
	if err != nil {
		return Identity{}, err
	}
	if strings.HasPrefix(tok, "tmat_") || IsJWT(tok) {
		return v.AccessToken(r.Context(), tok)
	}
	var session string
	if c, err := r.Cookie(cookieSession); err == nil {
		session = c.Value
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = ""
	}
	return v.SpectrumToken(r.Context(), tok, session, host)
}

// errMalformed is an Authorization header we cannot read: RFC 6750's invalid_request.
var errMalformed = errors.New("verify: malformed Authorization header")

func bearer(r *http.Request) (string, error) {
	authz := r.Header.Values("Authorization")
	if len(authz) > 1 {
		return "", errMalformed
	}
	if len(authz) == 1 {
		scheme, tok, ok := strings.Cut(authz[0], " ")
		if !strings.EqualFold(scheme, "Bearer") {
			return "", ErrNoCredential // another scheme: not ours to judge
		}
		tok = strings.TrimSpace(tok)
		if !ok || tok == "" || len(tok) > maxHeader || strings.ContainsAny(tok, " \t") {
			return "", errMalformed
		}
		return tok, nil
	}
	if c, err := r.Cookie(cookieToken); err == nil && c.Value != "" && len(c.Value) <= maxHeader {
		return c.Value, nil
	}
	return "", ErrNoCredential
}

// Middleware returns net/http middleware that lets a request through only with a credential meeting req, and
// puts its Identity into the request's context. Refusals follow RFC 6750 §3: 401 with a bare challenge
// without credentials, 400 invalid_request for a malformed Authorization header, 401 invalid_token, 403
// insufficient_scope with the scope required; 503 with Retry-After when the server cannot be asked.
func (v *Verifier) Middleware(req Require) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id, err := v.Check(r)
			switch {
			case errors.Is(err, ErrNoCredential):
				v.refuse(w, http.StatusUnauthorized, "", "", "")
				return
			case errors.Is(err, errMalformed):
				v.refuse(w, http.StatusBadRequest, "invalid_request", "malformed Authorization header", "")
				return
			case errors.Is(err, ErrInvalid):
				if r.Header.Get(headerPowerAuth) != "" {
					w.Header().Add("WWW-Authenticate", `PowerAuth realm="`+v.opts.Realm+`"`)
				}
				v.refuse(w, http.StatusUnauthorized, "invalid_token", "the token is invalid, expired or revoked", "")
				return
			case err != nil:
				w.Header().Set("Retry-After", "5")
				writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "temporarily_unavailable"})
				return
			}
			if len(req.Kinds) > 0 && !slices.Contains(req.Kinds, id.Kind) {
				v.refuse(w, http.StatusForbidden, "insufficient_scope", "this kind of token is not accepted here", strings.Join(req.Scopes, " "))
				return
			}
			if !id.HasScopes(req.Scopes...) {
				v.refuse(w, http.StatusForbidden, "insufficient_scope", "the token lacks a required scope", strings.Join(req.Scopes, " "))
				return
			}
			next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), id)))
		})
	}
}

// refuse answers with a Bearer challenge: realm, then error, error_description and scope (RFC 6750 §3), each
// from a fixed set of our own strings or validated scope tokens, so no quoting is needed.
func (v *Verifier) refuse(w http.ResponseWriter, status int, code, desc, scope string) {
	c := `Bearer realm="` + v.opts.Realm + `"`
	body := map[string]string{}
	if code != "" {
		c += `, error="` + code + `", error_description="` + desc + `"`
		body["error"], body["error_description"] = code, desc
	}
	if scope != "" {
		c += `, scope="` + scope + `"`
		body["scope"] = scope
	}
	w.Header().Add("WWW-Authenticate", c)
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
