package server

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/tokenmanager/tokenmanager/auth"
	"github.com/tokenmanager/tokenmanager/server/internal/credential"
	"github.com/tokenmanager/tokenmanager/server/internal/reply"
	"github.com/tokenmanager/tokenmanager/session/dbstore"
	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/token"
	"github.com/tokenmanager/tokenmanager/wsdl"
)

// Spectrum's REST twins of the token operations, and the check endpoint other services call.
const (
	pathRESTSession = "/security/rest/token/access/session/{ttl}"
	pathRESTOpen    = "/security/rest/token/access/{ttl}"
	pathRESTLogout  = "/security/rest/token/logout"
	// PathVerify answers whether a request's token (and SESSION cookie) may be used, and whose it is.
	PathVerify = "/security/rest/token/verify"
)

func (s *Server) routeSpectrumREST() {
	s.mux.HandleFunc("GET "+pathRESTSession, s.restSessionToken)
	s.mux.HandleFunc("GET "+pathRESTOpen, s.restOpenToken)
	s.mux.HandleFunc("GET "+pathRESTLogout, s.restLogout)
	s.mux.HandleFunc("GET "+PathVerify, s.restVerify)
	s.mux.HandleFunc("GET "+wsdl.RESTPath, s.restWADL)
}

// restWADL answers ?_wadl (the convention of Spectrum's REST stack, and its "Getting a Token" page) and ?wadl
// (its "Logging Off" page) with the WADL whose resources base is the URL the client used, as ?wsdl does.
func (s *Server) restWADL(w http.ResponseWriter, r *http.Request) {
	first, _, _ := strings.Cut(r.URL.RawQuery, "&") // e.g. ?_wadl&_type=xml
	if key, _, _ := strings.Cut(first, "="); !strings.EqualFold(key, "_wadl") && !strings.EqualFold(key, "wadl") {
		reply.JSON(w, http.StatusNotFound, restError{"GET " + wsdl.RESTPath + "?_wadl for the service description"})
		return
	}
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	if err := wsdl.WriteWADL(w, s.clients.BaseURL(r)); err != nil {
		s.env.InternalError(r.Context(), err)
	}
}

type restToken struct {
	AccessToken string `json:"access_token"`
	Session     string `json:"session,omitempty"`
	Username    string `json:"username"`
}

type restError struct {
	Error string `json:"error"`
}

// restUser authenticates a REST token request with HTTP Basic; on failure it has answered 401 (or 429).
func (s *Server) restUser(w http.ResponseWriter, r *http.Request) (storage.User, bool) {
	name, pass, ok := credential.Basic(r)
	var u storage.User
	var err error
	if ok {
		u, err = s.signIn.Authenticate(r, name, func() (storage.User, error) { return s.deps.Auth.Authenticate(r.Context(), name, pass) })
	}
	var throttled *auth.ThrottledError
	switch {
	case !ok || errors.Is(err, auth.ErrBadCredentials):
		w.Header().Set("WWW-Authenticate", s.env.BasicChallenge())
		reply.JSON(w, http.StatusUnauthorized, restError{"invalid user name or password"})
		return storage.User{}, false
	case errors.As(err, &throttled):
		reply.RetryAfter(w.Header(), throttled.RetryAfter)
		reply.JSON(w, http.StatusTooManyRequests, restError{"too many failed sign-ins; retry later"})
		return storage.User{}, false
	case err != nil:
		s.restFailure(w, r, err)
		return storage.User{}, false
	}
	return u, true
}

func (s *Server) restLifetime(w http.ResponseWriter, r *http.Request) (time.Duration, bool) {
	ttl, err := s.parseLifetime(r.PathValue("ttl"), true)
	if err != nil {
		reply.JSON(w, http.StatusBadRequest, restError{"ttlInMinutes " + err.Error()})
		return 0, false
	}
	return ttl, true
}

func (s *Server) restSessionToken(w http.ResponseWriter, r *http.Request) {
	u, ok := s.restUser(w, r)
	if !ok {
		return
	}
	ttl, ok := s.restLifetime(w, r)
	if !ok {
		return
	}
	sess, err := s.sessions.Login(r, w, u.Name)
	if err != nil {
		s.restIssueError(w, r, err)
		return
	}
	iss, err := s.deps.Tokens.IssueSessionToken(r.Context(), u.Name, dbstore.StorageID(sess), s.clients.Host(r), ttl)
	if err != nil {
		s.restIssueError(w, r, err)
		return
	}
	s.issued(r, iss)
	reply.JSON(w, http.StatusOK, restToken{AccessToken: iss.Token, Session: sess.ID, Username: iss.User})
}

func (s *Server) restOpenToken(w http.ResponseWriter, r *http.Request) {
	u, ok := s.restUser(w, r)
	if !ok {
		return
	}
	ttl, ok := s.restLifetime(w, r)
	if !ok {
		return
	}
	iss, err := s.deps.Tokens.IssueOpenToken(r.Context(), u.Name, s.clients.Host(r), ttl)
	if err != nil {
		s.restIssueError(w, r, err)
		return
	}
	s.issued(r, iss)
	reply.JSON(w, http.StatusOK, restToken{AccessToken: iss.Token, Username: iss.User})
}

func (s *Server) restIssueError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, token.ErrLifetime) {
		reply.JSON(w, http.StatusBadRequest, restError{"ttlInMinutes exceeds the server's maximum"})
		return
	}
	s.restFailure(w, r, err)
}

// tokenRefused answers 401 for a refused token (RFC 6750 §3: no error code when no token was sent).
func (s *Server) tokenRefused(w http.ResponseWriter, r *http.Request, p token.Presented, err error) {
	if !errors.Is(err, token.ErrInvalid) {
		s.restFailure(w, r, err)
		return
	}
	s.logRefusal(r.Context(), err)
	code := "invalid_token"
	if p.Token == "" {
		code = ""
	}
	w.Header().Set("WWW-Authenticate", s.env.BearerChallenge(code))
	reply.JSON(w, http.StatusUnauthorized, restError{"invalid token"})
}

func (s *Server) restLogout(w http.ResponseWriter, r *http.Request) {
	p := s.presented(r)
	v, err := s.deps.Tokens.Logout(r.Context(), p)
	s.used(r, "logout", v, err)
	if err != nil {
		s.tokenRefused(w, r, p, err)
		return
	}
	if v.SessionID != "" {
		s.sessions.Forget(r, w)
	}
	reply.JSON(w, http.StatusOK, map[string]string{"username": v.User})
}

// verifyResponse is the body of a successful check. ExpiresAt is when the token dies if it is not used again
// (absent: never); for session-bound tokens the session's two deadlines are given too.
type verifyResponse struct {
	Username         string            `json:"username"`
	Kind             storage.TokenKind `json:"kind"`
	ExpiresAt        *time.Time        `json:"expires_at,omitempty"`
	IdleExpiresAt    *time.Time        `json:"idle_expires_at,omitempty"`
	SessionExpiresAt *time.Time        `json:"session_expires_at,omitempty"`
}

// timeOrNil is t in UTC, or nil for the zero time (omitted from the JSON).
func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

// Headers a successful check sets, for proxies (nginx auth_request) that copy them to the upstream request.
const (
	HeaderTokenUser = "X-Token-User"
	HeaderTokenKind = "X-Token-Kind"
)

func (s *Server) restVerify(w http.ResponseWriter, r *http.Request) {
	p := s.presented(r)
	v, err := s.deps.Tokens.Verify(r.Context(), p)
	s.used(r, "verify", v, err)
	if err != nil {
		s.tokenRefused(w, r, p, err)
		return
	}
	resp := verifyResponse{Username: v.User, Kind: v.Kind, ExpiresAt: timeOrNil(v.Deadline()),
		IdleExpiresAt: timeOrNil(v.IdleExpiresAt), SessionExpiresAt: timeOrNil(v.SessionExpiresAt)}
	w.Header().Set(HeaderTokenUser, v.User)
	w.Header().Set(HeaderTokenKind, string(v.Kind))
	writeVerifyResponse(w, resp)
}
