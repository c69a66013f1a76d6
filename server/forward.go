package server

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/tokenmanager/tokenmanager/apiclient"
	"github.com/tokenmanager/tokenmanager/powerauth"
	"github.com/tokenmanager/tokenmanager/server/internal/reply"
	"github.com/tokenmanager/tokenmanager/token"
)

// PathForwardAuth is the forward-auth endpoint for reverse proxies: nginx auth_request, Traefik ForwardAuth,
// Envoy ext_authz (HTTP). It takes any method and looks at the original request's headers and cookies; it
// answers 200 with X-Token-User, X-Token-Kind (and X-Token-Scope) for the proxy to copy upstream, 401 with a
// WWW-Authenticate challenge, or 403 when the credential is good but not enough. Never 400: nginx turns
// anything but 2xx, 401 and 403 from the subrequest into a 500.
//
// Optional requirements in the query: ?kind=oauth,open (accepted kinds) and ?scope=Partner (every scope
// required; tokens without scopes, such as Spectrum's, fail it).
const PathForwardAuth = "/auth/forward"

func (s *Server) routeForwardAuth() {
	s.mux.HandleFunc(PathForwardAuth, s.forwardAuth)
	// Envoy's ext_authz HTTP service appends the original request's path to its path_prefix.
	s.mux.HandleFunc(PathForwardAuth+"/", s.forwardAuth)
}

// forwardIdentity is who a credential speaks for.
type forwardIdentity struct {
	User   string   // user name, or client id for API clients
	Kind   string   // session, expiring, open (Spectrum), oauth, ...
	Scopes []string // granted scopes; none for Spectrum tokens
}

// errNoCredential is a forwardCheck's "this request carries nothing of my kind".
var errNoCredential = errors.New("no credential of this kind")

// forwardRefusal is a forwardCheck's "I found my kind of credential and refuse it".
type forwardRefusal struct {
	Status    int    // 401 or 403
	Challenge string // WWW-Authenticate value (401)
	Reason    error  // for the log; never sent
}

func (f *forwardRefusal) Error() string { return f.Reason.Error() }

// forwardCheck looks for one kind of credential in r. It returns the identity when it accepts it,
// errNoCredential when r carries none of its kind, a *forwardRefusal when it refuses it, and any other error
// for a failure of its own (storage), which is answered 500.
type forwardCheck func(r *http.Request) (forwardIdentity, error)

// forwardChecks are tried in order; the first that finds its kind of credential decides. A new token kind is
// one forwardCheck function and one append here. PowerAuth comes first: its header is unambiguous.
func (s *Server) forwardChecks() []forwardCheck {
	var checks []forwardCheck
	if s.deps.PowerAuth != nil {
		checks = append(checks, s.forwardPowerAuth)
	}
	if s.deps.OAuth.Clients != nil {
		checks = append(checks, s.forwardOAuth)
	}
	if s.deps.Tokens != nil {
		checks = append(checks, s.forwardSpectrum)
	}
	return checks
}

func (s *Server) forwardAuth(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	q := r.URL.Query()
	required, err := requiredScopes(r)
	if err != nil {
		s.forwardRefuse(w, r, &forwardRefusal{Status: http.StatusForbidden, Reason: errors.New("forward-auth: malformed scope requirement")})
		return
	}
	if len(r.Header.Values("Authorization")) > 1 {
		s.forwardRefuse(w, r, &forwardRefusal{Status: http.StatusUnauthorized, Challenge: s.env.BearerChallenge("invalid_request"),
			Reason: errors.New("more than one Authorization header")})
		return
	}
	for _, check := range s.forwardChecks() {
		id, err := check(r)
		if errors.Is(err, errNoCredential) {
			continue
		}
		var refusal *forwardRefusal
		if errors.As(err, &refusal) {
			s.forwardRefuse(w, r, refusal)
			return
		}
		if err != nil {
			s.restFailure(w, r, err)
			return
		}
		if kinds := splitKinds(q["kind"]); len(kinds) > 0 && !slices.Contains(kinds, id.Kind) {
			s.forwardRefuse(w, r, &forwardRefusal{Status: http.StatusForbidden, Reason: errors.New("forward-auth: token kind " + id.Kind + " not accepted here")})
			return
		}
		for _, sc := range required {
			if !slices.Contains(id.Scopes, sc) {
				s.forwardRefuse(w, r, &forwardRefusal{Status: http.StatusForbidden,
					Challenge: s.env.BearerChallenge("insufficient_scope") + `, scope="` + strings.Join(required, " ") + `"`,
					Reason:    errors.New("forward-auth: insufficient scope")})
				return
			}
		}
		scope := strings.Join(id.Scopes, " ")
		w.Header().Set(HeaderTokenUser, id.User)
		w.Header().Set(HeaderTokenKind, id.Kind)
		// Always sent, empty when there is no scope: proxies that copy it upstream (Traefik authResponseHeaders,
		// Envoy allowed_upstream_headers) then replace a client's own X-Token-Scope rather than keep it.
		w.Header().Set(HeaderTokenScope, scope)
		reply.JSON(w, http.StatusOK, map[string]string{"user": id.User, "kind": id.Kind, "scope": scope})
		return
	}
	// Nothing we recognise: a bare challenge (RFC 6750 §3.1: no error code without credentials).
	s.forwardRefuse(w, r, &forwardRefusal{Status: http.StatusUnauthorized, Challenge: s.env.BearerChallenge(""), Reason: errors.New("no credentials")})
}

func (s *Server) forwardRefuse(w http.ResponseWriter, r *http.Request, f *forwardRefusal) {
	s.deps.Log.InfoContext(r.Context(), "forward-auth refused", "status", f.Status, "reason", f.Error())
	if f.Challenge != "" {
		w.Header().Set("WWW-Authenticate", f.Challenge)
	}
	msg := "unauthorized"
	if f.Status == http.StatusForbidden {
		msg = "forbidden"
	}
	reply.JSON(w, f.Status, restError{msg})
}

// splitKinds reads ?kind=a,b&kind=c.
func splitKinds(vals []string) []string {
	var out []string
	for _, v := range vals {
		for k := range strings.SplitSeq(v, ",") {
			if k = strings.TrimSpace(k); k != "" {
				out = append(out, k)
			}
		}
	}
	return out
}

// forwardOAuth accepts our OAuth access tokens from "Authorization: Bearer tmat_…", with the client's
// subscription-key rule.
func (s *Server) forwardOAuth(r *http.Request) (forwardIdentity, error) {
	tok, err := parseBearerHeader(r.Header.Get("Authorization"))
	if err != nil || !apiclient.IsAccessToken(tok) {
		return forwardIdentity{}, errNoCredential
	}
	v, refusal, err := s.checkOAuthBearer(r, tok, nil)
	if err != nil {
		return forwardIdentity{}, err
	}
	if refusal != nil {
		return forwardIdentity{}, &forwardRefusal{Status: refusal.Status, Challenge: s.bearerRefusalChallenge(*refusal),
			Reason: errors.New("forward-auth: " + refusal.Description)}
	}
	return forwardIdentity{User: v.Client.ID, Kind: KindOAuth, Scopes: v.Scopes}, nil
}

// forwardPowerAuth accepts an X-PowerAuth-Token header (and uses up its nonce, on every node).
func (s *Server) forwardPowerAuth(r *http.Request) (forwardIdentity, error) {
	user, ok, err := s.powerAuthVerify(r)
	switch {
	case errors.Is(err, powerauth.ErrInvalid):
		return forwardIdentity{}, &forwardRefusal{Status: http.StatusUnauthorized, Challenge: s.powerAuthChallenge(), Reason: err}
	case err != nil:
		return forwardIdentity{}, err
	case !ok:
		return forwardIdentity{}, errNoCredential
	}
	return forwardIdentity{User: user, Kind: TokenKindPowerAuth}, nil
}

// forwardSpectrum accepts Spectrum tokens exactly as the verify endpoint does (Bearer header or token cookie,
// plus the SESSION cookie for session-bound kinds, host binding behind trusted proxies).
func (s *Server) forwardSpectrum(r *http.Request) (forwardIdentity, error) {
	p := s.presented(r)
	if p.Token == "" {
		return forwardIdentity{}, errNoCredential
	}
	v, err := s.deps.Tokens.Verify(r.Context(), p)
	if errors.Is(err, token.ErrInvalid) {
		return forwardIdentity{}, &forwardRefusal{Status: http.StatusUnauthorized, Challenge: s.env.BearerChallenge("invalid_token"), Reason: err}
	}
	if err != nil {
		return forwardIdentity{}, err
	}
	return forwardIdentity{User: v.User, Kind: string(v.Kind)}, nil
}
