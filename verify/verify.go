package verify

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Token kinds, as Identity.Kind names them.
const (
	KindOAuth     = "oauth"     // an API client's access token
	KindPowerAuth = "powerauth" // an X-PowerAuth-Token header
	// Spectrum token kinds are the server's: "session", "expiring", "open".
)

// Errors. A refused credential is ErrInvalid (the reason wraps it); a server that could not answer is
// ErrUnavailable, which must not be taken for a refusal.
var (
	ErrInvalid      = errors.New("verify: credential refused")
	ErrUnavailable  = errors.New("verify: token server unavailable")
	ErrNoCredential = errors.New("verify: no credential in the request")
)

// Identity is who a verified credential speaks for.
type Identity struct {
	// Subject is the user name (Spectrum and PowerAuth tokens) or the client id (OAuth access tokens).
	Subject string
	// Kind is KindOAuth, KindPowerAuth, or the Spectrum token kind.
	Kind string
	// Scopes granted to an OAuth access token; none for other kinds.
	Scopes []string
	// ExpiresAt is when the token expires; zero when unknown or never.
	ExpiresAt time.Time
}

// Client reports whether the identity is an API client rather than a user.
func (id Identity) Client() bool { return id.Kind == KindOAuth }

// HasScopes reports whether every one of want was granted.
func (id Identity) HasScopes(want ...string) bool {
	for _, w := range want {
		if !slices.Contains(id.Scopes, w) {
			return false
		}
	}
	return true
}

// Options configure a Verifier; zero values take the defaults.
type Options struct {
	// HTTPClient talks to the server (default: a client with a 10-second timeout).
	HTTPClient *http.Client
	// ClientID and ClientSecret are an API client's credentials for introspection of opaque OAuth tokens
	// (a client created with --introspect sees every client's tokens; others only their own).
	ClientID, ClientSecret string
	// Issuer and Audience that JWT access tokens must carry. Default: the issuer of the server's RFC 8414
	// metadata, and that issuer as the audience.
	Issuer, Audience string
	// IntrospectJWTs asks the server about JWTs too (after the offline check), so that revocation is seen
	// within CacheTTL rather than at exp.
	IntrospectJWTs bool
	// CacheTTL is how long an answer of the server is reused (default 10s; negative: never).
	CacheTTL time.Duration
	// CacheSize bounds the cached answers (default 10000).
	CacheSize int
	// JWKSRefresh is how often the JWKS is fetched again even without an unknown kid (default 5 minutes).
	JWKSRefresh time.Duration
	// Leeway tolerated on exp for clock skew with the server (default 0).
	Leeway time.Duration
	// Realm is the realm of the middleware's challenges (default "tokenmanager").
	Realm string
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Verifier checks credentials against one tokenmanager server. Safe for concurrent use.
type Verifier struct {
	base  *url.URL
	opts  Options
	cache *cache
	jwks  *jwksCache

	mdMu     sync.Mutex
	metadata *metadata
}

// Limits on what the server sends back, so that a wrong URL cannot make us read without end.
const maxResponse = 1 << 20

// New returns a Verifier for the server at baseURL (scheme://host[:port][/path], where the server's routes
// start). It makes no request until the first check.
func New(baseURL string, opts Options) (*Verifier, error) {
	u, err := url.Parse(strings.TrimSuffix(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("verify: base URL %q: want http(s)://host[:port][/path]", baseURL)
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if opts.CacheTTL == 0 {
		opts.CacheTTL = 10 * time.Second
	}
	if opts.CacheSize <= 0 {
		opts.CacheSize = 10000
	}
	if opts.JWKSRefresh <= 0 {
		opts.JWKSRefresh = 5 * time.Minute
	}
	if opts.Realm == "" {
		opts.Realm = "tokenmanager"
	}
	if strings.ContainsFunc(opts.Realm, func(r rune) bool { return r < 0x20 || r > 0x7e || r == '"' || r == '\\' }) {
		return nil, fmt.Errorf("verify: realm %q: printable ASCII without quote or backslash", opts.Realm)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	v := &Verifier{base: u, opts: opts, cache: newCache(opts.CacheSize)}
	v.jwks = &jwksCache{v: v}
	return v, nil
}

func (v *Verifier) endpoint(path string) string { return v.base.String() + path }

// cacheKey names one question to the server without keeping the credential itself in memory as a key.
func cacheKey(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return string(h.Sum(nil))
}

// cached answers from the cache, or asks and caches a definitive answer (an identity or a refusal), for at
// most CacheTTL and never past the token's expiry.
func (v *Verifier) cached(key string, ask func() (Identity, error)) (Identity, error) {
	now := v.opts.Now()
	if v.opts.CacheTTL > 0 {
		if e, ok := v.cache.get(key, now); ok {
			return e.id, e.err
		}
	}
	id, err := ask()
	if v.opts.CacheTTL > 0 && (err == nil || errors.Is(err, ErrInvalid)) {
		until := now.Add(v.opts.CacheTTL)
		if !id.ExpiresAt.IsZero() && id.ExpiresAt.Before(until) {
			until = id.ExpiresAt
		}
		v.cache.put(key, entry{id: id, err: err, until: until})
	}
	return id, err
}

// do sends req and decodes a JSON answer into out; the status is returned for the caller to judge. Network
// failures and 5xx answers are ErrUnavailable.
func (v *Verifier) do(req *http.Request, out any) (int, error) {
	res, err := v.opts.HTTPClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxResponse))
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if res.StatusCode >= 500 || res.StatusCode == http.StatusTooManyRequests {
		return res.StatusCode, fmt.Errorf("%w: %s answered %d", ErrUnavailable, req.URL.Path, res.StatusCode)
	}
	if res.StatusCode == http.StatusOK && out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			return res.StatusCode, fmt.Errorf("%w: %s answered malformed JSON", ErrUnavailable, req.URL.Path)
		}
	}
	return res.StatusCode, nil
}

// --- Spectrum tokens -----------------------------------------------------------------------------------------

// SpectrumToken checks a Spectrum token (the JWE from /security/rest/token/access/…) with the value of its
// SESSION cookie ("" for tokens not bound to a session) through /security/rest/token/verify. clientIP is the
// end user's address, sent as X-Forwarded-For; the server believes it only from a trusted proxy
// (serve --trusted-proxy), which matters when it checks that a token is used from the host it was issued to.
func (v *Verifier) SpectrumToken(ctx context.Context, token, session, clientIP string) (Identity, error) {
	if token == "" {
		return Identity{}, ErrNoCredential
	}
	return v.cached(cacheKey("spectrum", token, session, clientIP), func() (Identity, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.endpoint("/security/rest/token/verify"), nil)
		if err != nil {
			return Identity{}, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		if session != "" {
			req.AddCookie(&http.Cookie{Name: "SESSION", Value: session})
		}
		if clientIP != "" {
			req.Header.Set("X-Forwarded-For", clientIP)
		}
		var body struct {
			Username  string     `json:"username"`
			Kind      string     `json:"kind"`
			ExpiresAt *time.Time `json:"expires_at"`
		}
		status, err := v.do(req, &body)
		if err != nil {
			return Identity{}, err
		}
		if status != http.StatusOK || body.Username == "" {
			return Identity{}, fmt.Errorf("%w: Spectrum token (verify answered %d)", ErrInvalid, status)
		}
		id := Identity{Subject: body.Username, Kind: body.Kind}
		if body.ExpiresAt != nil {
			id.ExpiresAt = *body.ExpiresAt
		}
		return id, nil
	})
}

// --- PowerAuth -------------------------------------------------------------------------------------------

// PowerAuth checks an X-PowerAuth-Token header value through /pa/v3/token/verify. Never cached: the header's
// nonce is used up by the check, and a second check of the same header is refused as a replay.
func (v *Verifier) PowerAuth(ctx context.Context, header string) (Identity, error) {
	if header == "" {
		return Identity{}, ErrNoCredential
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.endpoint("/pa/v3/token/verify"), nil)
	if err != nil {
		return Identity{}, err
	}
	req.Header.Set("X-PowerAuth-Token", header)
	var body struct {
		Status         string `json:"status"`
		ResponseObject struct {
			UserID string `json:"userId"`
		} `json:"responseObject"`
	}
	status, err := v.do(req, &body)
	if err != nil {
		return Identity{}, err
	}
	if status != http.StatusOK || body.ResponseObject.UserID == "" {
		return Identity{}, fmt.Errorf("%w: PowerAuth token (verify answered %d)", ErrInvalid, status)
	}
	return Identity{Subject: body.ResponseObject.UserID, Kind: KindPowerAuth}, nil
}

// --- OAuth access tokens ---------------------------------------------------------------------------------

// IsJWT reports whether tok has the compact JWS shape of JWT access tokens.
func IsJWT(tok string) bool { return strings.HasPrefix(tok, "eyJ") && strings.Count(tok, ".") == 2 }

// AccessToken checks an API client's OAuth access token: a JWT offline against the server's JWKS (and by
// introspection too with Options.IntrospectJWTs), an opaque token by introspection with the configured client
// credentials.
func (v *Verifier) AccessToken(ctx context.Context, token string) (Identity, error) {
	if token == "" {
		return Identity{}, ErrNoCredential
	}
	if IsJWT(token) {
		id, err := v.verifyJWT(ctx, token)
		if err != nil || !v.opts.IntrospectJWTs {
			return id, err
		}
	}
	return v.cached(cacheKey("introspect", token), func() (Identity, error) { return v.introspect(ctx, token) })
}

// introspect asks /oauth2/introspect (RFC 7662) about an access token.
func (v *Verifier) introspect(ctx context.Context, token string) (Identity, error) {
	if v.opts.ClientID == "" {
		return Identity{}, fmt.Errorf("%w: opaque access tokens need Options.ClientID and ClientSecret for introspection", ErrInvalid)
	}
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.endpoint("/oauth2/introspect"), strings.NewReader(form.Encode()))
	if err != nil {
		return Identity{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(v.opts.ClientID), url.QueryEscape(v.opts.ClientSecret)) // RFC 6749 §2.3.1
	var body struct {
		Active   bool   `json:"active"`
		ClientID string `json:"client_id"`
		Scope    string `json:"scope"`
		Exp      int64  `json:"exp"`
		Kind     string `json:"kind"`
	}
	status, err := v.do(req, &body)
	if err != nil {
		return Identity{}, err
	}
	if status == http.StatusUnauthorized {
		// Our own credentials were refused: a configuration error, not the token's fault.
		return Identity{}, fmt.Errorf("%w: introspection refused the resource server's client credentials", ErrUnavailable)
	}
	if status != http.StatusOK || !body.Active || body.Kind != KindOAuth || body.ClientID == "" {
		return Identity{}, fmt.Errorf("%w: access token inactive", ErrInvalid)
	}
	id := Identity{Subject: body.ClientID, Kind: KindOAuth, Scopes: strings.Fields(body.Scope)}
	if body.Exp > 0 {
		id.ExpiresAt = time.Unix(body.Exp, 0)
	}
	return id, nil
}

// metadata is what we read of the RFC 8414 document: the issuer. The keys are fetched from the base URL we were
// given, not from the document's jwks_uri, which names the public address (behind a proxy, perhaps not ours).
type metadata struct {
	Issuer string `json:"issuer"`
}

// discover reads the server's metadata once (and again after a failure).
func (v *Verifier) discover(ctx context.Context) (*metadata, error) {
	v.mdMu.Lock()
	defer v.mdMu.Unlock()
	if v.metadata != nil {
		return v.metadata, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.endpoint("/.well-known/oauth-authorization-server"), nil)
	if err != nil {
		return nil, err
	}
	var md metadata
	status, err := v.do(req, &md)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK || md.Issuer == "" {
		return nil, fmt.Errorf("%w: no OAuth metadata at %s (answered %d)", ErrUnavailable, req.URL, status)
	}
	v.metadata = &md
	return v.metadata, nil
}
