// Package verify lets a Go service accept tokenmanager's credentials without writing an HTTP client for them:
// Spectrum tokens (with their SESSION cookie), OAuth 2.0 access tokens of API clients (JWTs verified offline
// through the server's JWKS, opaque tmat_ tokens through introspection), and PowerAuth X-PowerAuth-Token
// headers.
//
//	v, err := verify.New("https://tokens.example.com", verify.Options{
//		ClientID: "billing-rs", ClientSecret: os.Getenv("RS_KEY"), // for opaque OAuth tokens
//	})
//	http.Handle("/reports/", v.Middleware(verify.Require{Scopes: []string{"Reports"}})(reports))
//
// In a handler, [FromContext] returns the verified [Identity]: the user name or client id, the token kind and
// the granted scopes. The middleware answers what RFC 6750 §3 asks: 401 with a bare Bearer challenge when the
// request has no credential, 401 error="invalid_token" when it is refused, and 403 error="insufficient_scope"
// with the required scope when it lacks one (or is of a kind not accepted there).
//
// # Caching and revocation
//
// Answers of the server about Spectrum and opaque OAuth tokens are cached for Options.CacheTTL (10 seconds by
// default, at most Options.CacheSize entries): a revocation reaches this service within that time. JWTs are
// verified offline against the JWKS, which is fetched again when a token names a key not seen yet; offline
// verification cannot see a revocation before the token's exp, so keep JWT lifetimes short, or set
// Options.IntrospectJWTs to ask the server about each (cached) JWT as well. PowerAuth headers are never cached:
// each carries a fresh nonce, which the server uses up, so a cached answer would let a replay through.
//
// The package uses only the standard library and go-jose, and talks to the server over its public HTTP API
// (/security/rest/token/verify, /oauth2/introspect, /oauth2/jwks.json, /pa/v3/token/verify and the RFC 8414
// metadata), so it works against any version of the server that has them.
package verify
