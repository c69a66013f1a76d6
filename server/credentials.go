package server

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tokenmanager/tokenmanager/auth"
	"github.com/tokenmanager/tokenmanager/storage"

	"github.com/tokenmanager/tokenmanager/session"
	"github.com/tokenmanager/tokenmanager/token"
)

// TokenCookie is the cookie Spectrum accepts a token in, as an alternative to the Authorization header.
const TokenCookie = "spectrum.authentication.token"

// maxCredentialLen bounds the Authorization header we decode.
const maxCredentialLen = 4096

// basicAuth parses "Authorization: Basic …". Unlike net/http's BasicAuth it bounds the input first.
func basicAuth(r *http.Request) (user, pass string, ok bool) {
	h := r.Header.Get("Authorization")
	if len(h) > maxCredentialLen {
		return "", "", false
	}
	scheme, rest, found := strings.Cut(h, " ")
	if !found || !strings.EqualFold(scheme, "Basic") {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
	if err != nil {
		return "", "", false
	}
	user, pass, ok = strings.Cut(string(raw), ":")
	if !ok {
		return "", "", false
	}
	return user, pass, true
}

// bearerToken returns the token from "Authorization: Bearer …" or, failing that, Spectrum's token cookie.
func bearerToken(r *http.Request) string {
	if tok := bearerHeader(r); tok != "" {
		return tok
	}
	if c, err := r.Cookie(TokenCookie); err == nil && len(c.Value) <= token.MaxLen {
		return c.Value
	}
	return ""
}

// bearerHeader returns the token from "Authorization: Bearer …", or "".
func bearerHeader(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" && len(h) <= maxCredentialLen {
		if scheme, rest, found := strings.Cut(h, " "); found && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(rest)
		}
	}
	return ""
}

// authenticate checks a user name and password, throttled: when the client's address, or the account from an
// address that failed for it, has failed too often it refuses at once with *auth.ThrottledError, before any
// hashing; a wrong password counts against both. verify is the check itself (a password, or a WS-Security
// digest).
func (s *Server) authenticate(r *http.Request, name string, verify func() (storage.User, error)) (storage.User, error) {
	if err := s.throttled(r, name, name); err != nil {
		return storage.User{}, err
	}
	u, err := verify()
	switch {
	case errors.Is(err, auth.ErrBadCredentials):
		s.failedSignIn(r, name, name, "bad_credentials")
	case err == nil && s.deps.Throttle != nil:
		s.deps.Throttle.Succeeded(name, s.clients.host(r))
	}
	return u, err
}

// throttled refuses an attempt when the client's address, or account (a user name; "" for secrets too long to
// guess, counted per address only), has failed too often; the refusal is logged and audited under subject.
func (s *Server) throttled(r *http.Request, account, subject string) *auth.ThrottledError {
	if s.deps.Throttle == nil {
		return nil
	}
	wait, ok := s.deps.Throttle.Check(account, s.clients.host(r))
	if ok {
		return nil
	}
	s.refused(r, subject)
	return &auth.ThrottledError{RetryAfter: wait}
}

// failedSignIn counts a failed attempt for account against it and the client's address, and audits it under
// subject.
func (s *Server) failedSignIn(r *http.Request, account, subject, outcome string) {
	s.signInFailed(r, subject, outcome)
	if s.deps.Throttle != nil {
		s.deps.Throttle.Failed(account, s.clients.host(r))
	}
}

// retryAfter sets Retry-After in whole seconds, rounded up.
func retryAfter(h http.Header, wait time.Duration) {
	h.Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
}

// presented gathers what a request shows to use a token.
func (s *Server) presented(r *http.Request) token.Presented {
	p := token.Presented{Token: bearerToken(r), ClientHost: s.clients.host(r)}
	if c, err := r.Cookie(session.CookieName); err == nil {
		p.Session = c.Value
	}
	return p
}

func (s *Server) basicChallenge() string { return `Basic realm="` + s.cfg.Realm + `", charset="UTF-8"` }

func (s *Server) bearerChallenge(err string) string {
	c := `Bearer realm="` + s.cfg.Realm + `"`
	if err != "" {
		c += `, error="` + err + `"`
	}
	return c
}
