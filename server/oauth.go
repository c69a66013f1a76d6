package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tokenmanager/tokenmanager/apiclient"
	"github.com/tokenmanager/tokenmanager/server/internal/reply"
	"github.com/tokenmanager/tokenmanager/server/internal/surface"
	"github.com/tokenmanager/tokenmanager/token"
)

// The OAuth 2.0 surface for API clients: the client credentials token endpoint (RFC 6749 §4.4, SkyKick's
// POST /auth/token), bearer use (RFC 6750), revocation (RFC 7009), introspection (RFC 7662) and server metadata
// (RFC 8414).
const (
	PathSkyKickToken    = "/auth/token"
	PathOAuthToken      = "/oauth2/token"
	PathOAuthRevoke     = "/oauth2/revoke"
	PathOAuthIntrospect = "/oauth2/introspect"
	// PathOAuthVerify is a protected resource for bearer tokens: it answers whose token it is, or the RFC 6750
	// error. A required scope may be given as ?scope=A+B.
	PathOAuthVerify = "/oauth2/verify"
	// PathOAuthJWKS publishes the public keys that verify JWT access tokens (RFC 7517), for resource servers
	// that check them offline.
	PathOAuthJWKS = "/oauth2/jwks.json"
	// PathOAuthMetadata is the RFC 8414 well-known location; an issuer with a path appends it.
	PathOAuthMetadata = "/.well-known/oauth-authorization-server"
)

// HeaderTokenScope carries the granted scopes (space-separated) on a successful check, next to X-Token-User
// and X-Token-Kind.
const HeaderTokenScope = "X-Token-Scope"

// KindOAuth is the X-Token-Kind of an OAuth access token.
const KindOAuth = "oauth"

// OAuthDeps is what the OAuth surface needs. With Clients nil the surface is off (forward-auth still serves
// the other token kinds).
type OAuthDeps struct {
	Clients *apiclient.Service
	// Issuer is the RFC 8414 issuer identifier (https, no query or fragment). Empty: derived from each request
	// as scheme://host (X-Forwarded-Proto/-Host from trusted proxies), which suits a service at a host's root.
	Issuer string
}

// ValidIssuer checks an issuer identifier as RFC 8414 §2 requires: an https URL without query or fragment.
// A trailing slash is refused so that endpoint URLs can be formed by appending.
func ValidIssuer(issuer string) error {
	u, err := url.Parse(issuer)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.ForceQuery ||
		u.Fragment != "" || strings.HasSuffix(issuer, "/") || strings.Contains(issuer, "#") {
		return fmt.Errorf("issuer %q: want https://host[/path] without query, fragment or trailing slash", issuer)
	}
	return nil
}

func (s *Server) routeOAuth() {
	if s.deps.OAuth.Clients == nil {
		return
	}
	// Registered without a method so that other methods get the RFC's JSON error rather than the mux's text.
	s.mux.HandleFunc(PathSkyKickToken, s.oauthToken)
	s.mux.HandleFunc(PathOAuthToken, s.oauthToken)
	s.mux.HandleFunc(PathOAuthRevoke, s.oauthRevoke)
	s.mux.HandleFunc(PathOAuthIntrospect, s.oauthIntrospect)
	s.mux.HandleFunc("GET "+PathOAuthVerify, s.oauthVerify)
	s.mux.HandleFunc("POST "+PathOAuthVerify, s.oauthVerify)
	s.mux.HandleFunc("GET "+PathOAuthJWKS, s.oauthJWKS)
	s.mux.HandleFunc("GET "+PathOAuthMetadata, s.oauthMetadata)
	s.mux.HandleFunc("GET "+PathOAuthMetadata+"/{path...}", s.oauthMetadata)
}

// --- errors ------------------------------------------------------------------------------------------------

// oauthError is an RFC 6749 §5.2 error response (also used by RFC 7009 and 7662).
type oauthError struct {
	Status      int
	Code        string
	Description string // only %x20-21 / %x23-5B / %x5D-7E (§5.2): no quote, no backslash
	Basic       bool   // add the Basic challenge (a failed or missing client authentication)
	// APIM adds Azure API Management's {"statusCode","message"} members, which SkyKick clients look for.
	APIM       bool
	RetryAfter time.Duration
}

func invalidRequest(desc string) *oauthError {
	return &oauthError{Status: http.StatusBadRequest, Code: "invalid_request", Description: desc}
}

var errUnavailable = &oauthError{Status: http.StatusServiceUnavailable, Code: "temporarily_unavailable",
	Description: "the service is temporarily unavailable", RetryAfter: surface.RetryAfterUnavailable}

// writeOAuthJSON sends a response that may carry a token or credential: RFC 6749 §5.1 wants
// Cache-Control: no-store and Pragma: no-cache on those, and the §5.2 example has them on errors too.
func writeOAuthJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Pragma", "no-cache")
	reply.JSON(w, status, v)
}

func (s *Server) writeOAuthError(w http.ResponseWriter, e *oauthError) {
	if e.Basic {
		w.Header().Set("WWW-Authenticate", s.env.BasicChallenge())
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(e.RetryAfter.Seconds()))))
	}
	body := map[string]any{"error": e.Code}
	if e.Description != "" {
		body["error_description"] = e.Description
	}
	if e.APIM {
		body["statusCode"], body["message"] = e.Status, e.Description
	}
	writeOAuthJSON(w, e.Status, body)
}

// Azure API Management's answers, as SkyKick's gateway gives them.
const (
	apimMissingKey = "Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API."
	apimInvalidKey = "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription."
)

func subscriptionKeyError(err error) *oauthError {
	desc := apimInvalidKey
	if errors.Is(err, apiclient.ErrSubscriptionKeyMissing) {
		desc = apimMissingKey
	}
	return &oauthError{Status: http.StatusUnauthorized, Code: "invalid_client", Description: desc, Basic: true, APIM: true}
}

// rateLimited is APIM's 429: {"statusCode":429,"message":"Rate limit is exceeded. Try again in N seconds."}.
func (s *Server) writeRateLimited(w http.ResponseWriter, wait time.Duration) {
	secs := int(math.Ceil(wait.Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	writeOAuthJSON(w, http.StatusTooManyRequests, map[string]any{
		"statusCode": http.StatusTooManyRequests, "message": fmt.Sprintf("Rate limit is exceeded. Try again in %d seconds.", secs)})
}

// --- client authentication ---------------------------------------------------------------------------------

// authenticateClient authenticates the request's client (HTTP Basic or body) and applies its subscription-key
// rule. On failure it returns the error to send.
func (s *Server) authenticateClient(r *http.Request, form map[string]string) (apiclient.Authenticated, *oauthError) {
	creds, oe := findClientCredentials(r, form)
	if oe != nil {
		return apiclient.Authenticated{}, oe
	}
	// Client keys are 256-bit random: guessing one is hopeless, so failures count per address only (a lock per
	// client id would only let anyone lock a client out), and the key is checked first (a hash and one indexed
	// read), so that the right key is never refused because others failed from the same address.
	subject := "client:" + safeID(creds.ID)
	a, err := s.deps.OAuth.Clients.Authenticate(r.Context(), creds.ID, creds.Secret)
	if errors.Is(err, apiclient.ErrBadCredentials) {
		if te := s.signIn.Throttled(r, "", subject); te != nil {
			return apiclient.Authenticated{}, &oauthError{Status: http.StatusTooManyRequests, Code: "invalid_client",
				Description: "too many failed client authentications; retry later", RetryAfter: te.RetryAfter}
		}
		s.deps.Log.InfoContext(r.Context(), "client authentication failed", "client_id", safeID(creds.ID))
		s.signIn.Failed(r, "", subject, "bad_credentials")
		return apiclient.Authenticated{}, &oauthError{Status: http.StatusUnauthorized, Code: "invalid_client",
			Description: "client authentication failed", Basic: true}
	}
	if err != nil {
		s.env.InternalError(r.Context(), err)
		return apiclient.Authenticated{}, errUnavailable
	}
	if err := apiclient.CheckSubscriptionKey(a.Client, subscriptionKey(r)); err != nil {
		return apiclient.Authenticated{}, subscriptionKeyError(err)
	}
	return a, nil
}

// safeID is a client id fit for a log line: valid ids as they are, anything else replaced.
func safeID(id string) string {
	if apiclient.ValidID(id) != nil {
		return "(invalid id)"
	}
	return id
}

// --- token endpoint ----------------------------------------------------------------------------------------

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
	TokenType   string `json:"token_type"`
	Scope       string `json:"scope,omitempty"`
}

// oauthToken is the token endpoint. Checks run from the request's shape to the client's rights: method and
// body, grant_type, client authentication, subscription key, grant permission, scope, rate limit.
func (s *Server) oauthToken(w http.ResponseWriter, r *http.Request) {
	form, oe := readOAuthForm(w, r)
	if oe != nil {
		s.writeOAuthError(w, oe)
		return
	}
	switch grant := form["grant_type"]; {
	case grant == "":
		s.writeOAuthError(w, invalidRequest("grant_type is required"))
		return
	case grant != apiclient.GrantClientCredentials:
		s.writeOAuthError(w, &oauthError{Status: http.StatusBadRequest, Code: "unsupported_grant_type",
			Description: "only client_credentials is supported"})
		return
	}
	a, oe := s.authenticateClient(r, form)
	if oe != nil {
		s.writeOAuthError(w, oe)
		return
	}
	iss, err := s.deps.OAuth.Clients.IssueFor(r.Context(), a, form["scope"], s.oauthIssuer(r))
	var limited *apiclient.RateLimitError
	switch {
	case errors.As(err, &limited):
		s.writeRateLimited(w, limited.RetryAfter)
		return
	case errors.Is(err, apiclient.ErrUnauthorizedClient):
		s.writeOAuthError(w, &oauthError{Status: http.StatusBadRequest, Code: "unauthorized_client",
			Description: "the client may not use the client_credentials grant"})
		return
	case errors.Is(err, apiclient.ErrInvalidScope):
		s.writeOAuthError(w, &oauthError{Status: http.StatusBadRequest, Code: "invalid_scope",
			Description: "the scope is malformed, unknown or not granted to the client"})
		return
	case errors.Is(err, apiclient.ErrBadCredentials):
		s.writeOAuthError(w, &oauthError{Status: http.StatusUnauthorized, Code: "invalid_client",
			Description: "client authentication failed", Basic: true})
		return
	case err != nil:
		s.env.InternalError(r.Context(), err)
		s.writeOAuthError(w, errUnavailable)
		return
	}
	s.recordIssue(r, KindOAuth, iss.ClientID, "scope="+strconv.Quote(iss.Scope))
	resp := tokenResponse{AccessToken: iss.Token, ExpiresIn: int64(iss.ExpiresIn / time.Second), TokenType: "Bearer"}
	if iss.Scope != form["scope"] {
		resp.Scope = iss.Scope // RFC 6749 §3.3: required when it differs from the request
	}
	writeOAuthJSON(w, http.StatusOK, resp)
}

// --- revocation ------------------------------------------------------------------------------------------

// oauthRevoke is RFC 7009 revocation for our access tokens. Spectrum tokens end with their own logout
// operation; a JWE-shaped token is answered unsupported_token_type (§2.2.1) without looking at it.
func (s *Server) oauthRevoke(w http.ResponseWriter, r *http.Request) {
	_, a, tok, ok := s.clientTokenRequest(w, r)
	if !ok {
		return
	}
	// token_type_hint is only a hint (§2.1): we have one kind of revocable token, so any value is ignored.
	if !apiclient.IsAccessToken(tok) && looksLikeJWE(tok) {
		s.writeOAuthError(w, &oauthError{Status: http.StatusBadRequest, Code: "unsupported_token_type",
			Description: "Spectrum tokens are revoked by their logout operation"})
		return
	}
	switch err := s.deps.OAuth.Clients.Revoke(r.Context(), a.Client, tok); {
	case errors.Is(err, apiclient.ErrNotOwner):
		// §2.1 says to refuse, and the token is left alone; but telling the caller so (invalid_grant) would tell
		// it that the token is live and belongs to someone. The answer is §2.2's, as for an unknown token: 200.
	case err != nil:
		s.env.InternalError(r.Context(), err)
		s.writeOAuthError(w, errUnavailable) // §2.2.1: 503 means "the token still exists; retry"
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(http.StatusOK)
}

// clientTokenRequest reads what revocation and introspection share: the form, its client's authentication and
// the token asked about. On failure it has answered.
func (s *Server) clientTokenRequest(w http.ResponseWriter, r *http.Request) (map[string]string, apiclient.Authenticated, string, bool) {
	form, oe := readOAuthForm(w, r)
	if oe == nil {
		var a apiclient.Authenticated
		if a, oe = s.authenticateClient(r, form); oe == nil {
			if tok := form["token"]; tok != "" {
				return form, a, tok, true
			}
			oe = invalidRequest("token is required")
		}
	}
	s.writeOAuthError(w, oe)
	return nil, apiclient.Authenticated{}, "", false
}

// looksLikeJWE reports the compact JWE shape (five dot-separated parts) of Spectrum tokens.
func looksLikeJWE(tok string) bool {
	return len(tok) <= token.MaxLen && strings.Count(tok, ".") == 4
}

// --- introspection ---------------------------------------------------------------------------------------

type introspection struct {
	Active    bool   `json:"active"`
	Scope     string `json:"scope,omitempty"`
	ClientID  string `json:"client_id,omitempty"`
	Username  string `json:"username,omitempty"`
	TokenType string `json:"token_type,omitempty"`
	Exp       int64  `json:"exp,omitempty"`
	Iat       int64  `json:"iat,omitempty"`
	Sub       string `json:"sub,omitempty"`
	Kind      string `json:"kind,omitempty"` // extension: oauth, or the Spectrum token kind
}

// oauthIntrospect is RFC 7662 introspection for authenticated clients. A client sees its own access tokens;
// a client allowed to introspect sees every access token and Spectrum tokens too. For a Spectrum token bound
// to a session, the caller passes the SESSION cookie value as the extension parameter "session" and, with
// host checks on, the end user's address as "client_host": the token is active only with them, as it is
// everywhere else.
func (s *Server) oauthIntrospect(w http.ResponseWriter, r *http.Request) {
	form, a, tok, ok := s.clientTokenRequest(w, r)
	if !ok {
		return
	}
	inactive := introspection{Active: false} // exactly {"active":false} (§2.2): nothing about why
	if apiclient.IsAccessToken(tok) {
		v, active, err := s.deps.OAuth.Clients.Introspect(r.Context(), a.Client, tok)
		if err != nil {
			s.env.InternalError(r.Context(), err)
			s.writeOAuthError(w, errUnavailable)
			return
		}
		if !active {
			writeOAuthJSON(w, http.StatusOK, inactive)
			return
		}
		writeOAuthJSON(w, http.StatusOK, introspection{Active: true, Scope: strings.Join(v.Scopes, " "),
			ClientID: v.Client.ID, TokenType: "Bearer", Exp: v.ExpiresAt.Unix(), Iat: v.IssuedAt.Unix(),
			Sub: v.Client.ID, Kind: KindOAuth})
		return
	}
	if !a.Client.Introspect || s.deps.Tokens == nil {
		writeOAuthJSON(w, http.StatusOK, inactive)
		return
	}
	v, err := s.deps.Tokens.Verify(r.Context(), token.Presented{Token: tok, Session: form["session"], ClientHost: form["client_host"]})
	if errors.Is(err, token.ErrInvalid) {
		writeOAuthJSON(w, http.StatusOK, inactive)
		return
	}
	if err != nil {
		s.env.InternalError(r.Context(), err)
		s.writeOAuthError(w, errUnavailable)
		return
	}
	resp := introspection{Active: true, Username: v.User, Sub: v.User, TokenType: "Bearer", Kind: string(v.Kind)}
	if !v.ExpiresAt.IsZero() {
		resp.Exp = v.ExpiresAt.Unix()
	}
	writeOAuthJSON(w, http.StatusOK, resp)
}

// --- bearer use ------------------------------------------------------------------------------------------

// bearerRefusal is an RFC 6750 §3 answer.
type bearerRefusal struct {
	Status      int
	Code        string // "" when the request had no credentials (§3.1: no error information then)
	Description string
	Scope       string // for insufficient_scope
	APIM        bool   // a subscription-key failure, answered as Azure API Management does
}

// bearerRefusalChallenge is the WWW-Authenticate value: realm, then error, error_description and scope, each
// at most once (§3).
func (s *Server) bearerRefusalChallenge(br bearerRefusal) string {
	c := s.env.BearerChallenge(br.Code)
	if br.Code != "" && br.Description != "" {
		c += `, error_description="` + br.Description + `"`
	}
	if br.Scope != "" {
		c += `, scope="` + br.Scope + `"`
	}
	return c
}

func (s *Server) writeBearerRefusal(w http.ResponseWriter, br bearerRefusal) {
	w.Header().Set("WWW-Authenticate", s.bearerRefusalChallenge(br))
	body := map[string]any{}
	if br.Code != "" {
		body["error"] = br.Code
		if br.Description != "" {
			body["error_description"] = br.Description
		}
	}
	if br.APIM {
		body["statusCode"], body["message"] = br.Status, br.Description
	}
	if len(body) == 0 {
		// No credentials: no error code (§3.1), just the sentence SkyKick's backend answers with.
		body["Message"] = "Authorization has been denied for this request."
	}
	reply.JSON(w, br.Status, body)
}

// checkOAuthBearer verifies an access token presented on request r (already extracted) against the required
// scopes, including its client's subscription-key rule. It returns the verified token or the refusal.
func (s *Server) checkOAuthBearer(r *http.Request, tok string, required []string) (apiclient.Verified, *bearerRefusal, error) {
	v, err := s.deps.OAuth.Clients.Verify(r.Context(), tok)
	if errors.Is(err, apiclient.ErrInvalidToken) {
		s.logRefusal(r.Context(), err)
		return v, &bearerRefusal{Status: http.StatusUnauthorized, Code: "invalid_token",
			Description: "the access token is invalid, expired or revoked"}, nil
	}
	if err != nil {
		return v, nil, err
	}
	if err := apiclient.CheckSubscriptionKey(v.Client, subscriptionKey(r)); err != nil {
		desc := apimInvalidKey
		if errors.Is(err, apiclient.ErrSubscriptionKeyMissing) {
			desc = apimMissingKey
		}
		return v, &bearerRefusal{Status: http.StatusUnauthorized, Description: desc, APIM: true}, nil
	}
	if !v.HasScopes(required) {
		return v, &bearerRefusal{Status: http.StatusForbidden, Code: "insufficient_scope",
			Description: "the access token lacks a required scope", Scope: strings.Join(required, " ")}, nil
	}
	return v, nil, nil
}

// requiredScopes reads ?scope= (space-separated, may repeat) from a check request.
func requiredScopes(r *http.Request) ([]string, error) {
	var out []string
	for _, raw := range r.URL.Query()["scope"] {
		sc, err := apiclient.ParseScope(raw)
		if err != nil {
			return nil, err
		}
		out = append(out, sc...)
	}
	return out, nil
}

type oauthVerifyResponse struct {
	ClientID string `json:"client_id"`
	Scope    string `json:"scope"`
	Exp      int64  `json:"exp"`
	Kind     string `json:"kind"`
}

// oauthVerify is the protected check route for access tokens (RFC 6750).
func (s *Server) oauthVerify(w http.ResponseWriter, r *http.Request) {
	required, err := requiredScopes(r)
	if err != nil {
		s.writeBearerRefusal(w, bearerRefusal{Status: http.StatusBadRequest, Code: "invalid_request", Description: "malformed scope parameter"})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxOAuthForm)
	tok, err := bearerFromRequest(r)
	switch {
	case errors.Is(err, errBearerMissing):
		s.writeBearerRefusal(w, bearerRefusal{Status: http.StatusUnauthorized})
		return
	case errors.Is(err, errBearerTwice):
		s.writeBearerRefusal(w, bearerRefusal{Status: http.StatusBadRequest, Code: "invalid_request",
			Description: "the access token was sent by more than one method"})
		return
	case err != nil:
		s.writeBearerRefusal(w, bearerRefusal{Status: http.StatusBadRequest, Code: "invalid_request",
			Description: "malformed Authorization header"})
		return
	}
	v, refusal, err := s.checkOAuthBearer(r, tok, required)
	if err != nil {
		s.env.InternalError(r.Context(), err)
		reply.RetryAfter(w.Header(), surface.RetryAfterUnavailable)
		reply.JSON(w, http.StatusServiceUnavailable, restError{"temporarily unavailable"})
		return
	}
	if refusal != nil {
		s.writeBearerRefusal(w, *refusal)
		return
	}
	scope := strings.Join(v.Scopes, " ")
	w.Header().Set(HeaderTokenUser, v.Client.ID)
	w.Header().Set(HeaderTokenKind, KindOAuth)
	w.Header().Set(HeaderTokenScope, scope)
	reply.JSON(w, http.StatusOK, oauthVerifyResponse{ClientID: v.Client.ID, Scope: scope, Exp: v.ExpiresAt.Unix(), Kind: KindOAuth})
}

// --- metadata --------------------------------------------------------------------------------------------

// asMetadata is RFC 8414 §2. response_types_supported is left out on purpose: the text calls it REQUIRED, but a
// server with only the client credentials grant has no response type, and §2 also says claims with zero
// elements MUST be omitted (Errata ID 7793 points out exactly this conflict).
type asMetadata struct {
	Issuer                         string   `json:"issuer"`
	TokenEndpoint                  string   `json:"token_endpoint"`
	TokenEndpointAuthMethods       []string `json:"token_endpoint_auth_methods_supported"`
	GrantTypes                     []string `json:"grant_types_supported"`
	RevocationEndpoint             string   `json:"revocation_endpoint"`
	RevocationEndpointAuthMethods  []string `json:"revocation_endpoint_auth_methods_supported"`
	IntrospectionEndpoint          string   `json:"introspection_endpoint"`
	IntrospectionEndpointAuthMeths []string `json:"introspection_endpoint_auth_methods_supported"`
	ScopesSupported                []string `json:"scopes_supported,omitempty"`
	JWKSURI                        string   `json:"jwks_uri,omitempty"`
}

// oauthIssuer is the issuer identifier: the configured one, or scheme://host of the request.
func (s *Server) oauthIssuer(r *http.Request) string {
	if s.deps.OAuth.Issuer != "" {
		return s.deps.OAuth.Issuer
	}
	return s.clients.BaseURL(r)
}

// oauthJWKS serves the key set that verifies JWT access tokens: the signing key and the keys it replaced
// while tokens they signed may live. Public, and cached briefly by clients: a resource server that meets an
// unknown kid fetches it again.
func (s *Server) oauthJWKS(w http.ResponseWriter, r *http.Request) {
	signing := s.deps.OAuth.Clients.Signing()
	if signing == nil {
		http.NotFound(w, r)
		return
	}
	set, err := signing.JWKS(r.Context())
	if err != nil {
		s.env.InternalError(r.Context(), err)
		reply.RetryAfter(w.Header(), surface.RetryAfterUnavailable)
		reply.JSON(w, http.StatusServiceUnavailable, restError{"temporarily unavailable"})
		return
	}
	w.Header().Set("Cache-Control", "max-age=60")
	w.Header().Set("Content-Type", "application/jwk-set+json")
	if err := json.NewEncoder(w).Encode(set); err != nil {
		s.deps.Log.DebugContext(r.Context(), "JWKS not sent", "err", err)
	}
}

func (s *Server) oauthMetadata(w http.ResponseWriter, r *http.Request) {
	issuer := s.oauthIssuer(r)
	// RFC 8414 §3: for issuer https://h/p the document is at /.well-known/oauth-authorization-server/p. The bare
	// location is served too, for clients that append the suffix to the issuer (the proxy maps /p/ to us).
	if suffix := r.PathValue("path"); suffix != "" {
		u, err := url.Parse(issuer)
		if err != nil || strings.TrimPrefix(u.Path, "/") != suffix {
			http.NotFound(w, r)
			return
		}
	}
	scopes, err := s.deps.OAuth.Clients.ScopesSupported(r.Context())
	if err != nil {
		s.env.InternalError(r.Context(), err)
		reply.RetryAfter(w.Header(), surface.RetryAfterUnavailable)
		reply.JSON(w, http.StatusServiceUnavailable, restError{"temporarily unavailable"})
		return
	}
	methods := []string{"client_secret_basic", "client_secret_post"}
	md := asMetadata{
		Issuer: issuer, TokenEndpoint: issuer + PathOAuthToken, TokenEndpointAuthMethods: methods,
		GrantTypes:         []string{apiclient.GrantClientCredentials},
		RevocationEndpoint: issuer + PathOAuthRevoke, RevocationEndpointAuthMethods: methods,
		IntrospectionEndpoint: issuer + PathOAuthIntrospect, IntrospectionEndpointAuthMeths: methods,
		ScopesSupported: scopes,
	}
	if s.deps.OAuth.Clients.Signing() != nil {
		md.JWKSURI = issuer + PathOAuthJWKS
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "max-age=300")
	if err := json.NewEncoder(w).Encode(md); err != nil {
		// The headers are sent; a client that went away is all this can be.
		s.deps.Log.DebugContext(r.Context(), "metadata not sent", "err", err)
	}
}
