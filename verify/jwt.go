package verify

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// maxJWTLen bounds the JWTs we parse.
const maxJWTLen = 8 << 10

// minJWKSInterval bounds how often an unknown kid makes us fetch the JWKS: a flood of tokens with made-up kids
// must not become a flood of requests to the server.
const minJWKSInterval = 5 * time.Second

var jwtAlgs = []jose.SignatureAlgorithm{jose.ES256, jose.RS256}

// jwksCache holds the server's key set.
type jwksCache struct {
	v         *Verifier
	mu        sync.Mutex
	set       jose.JSONWebKeySet
	fetchedAt time.Time
}

// key returns the key kid names, fetching the set when it is stale or, at most every minJWKSInterval, when it
// lacks kid (a rotation).
func (c *jwksCache) key(ctx context.Context, kid string) (*jose.JSONWebKey, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.v.opts.Now()
	age := now.Sub(c.fetchedAt)
	if c.fetchedAt.IsZero() || age >= c.v.opts.JWKSRefresh || len(c.set.Key(kid)) == 0 && age >= minJWKSInterval {
		if err := c.fetch(ctx); err != nil && c.fetchedAt.IsZero() {
			return nil, err
		}
	}
	keys := c.set.Key(kid)
	if len(keys) != 1 {
		return nil, fmt.Errorf("%w: no key %q in the JWKS", ErrInvalid, kid)
	}
	return &keys[0], nil
}

func (c *jwksCache) fetch(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.v.endpoint("/oauth2/jwks.json"), nil)
	if err != nil {
		return err
	}
	var set jose.JSONWebKeySet
	status, err := c.v.do(req, &set)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("%w: JWKS answered %d", ErrUnavailable, status)
	}
	for _, k := range set.Keys {
		if !k.IsPublic() {
			return fmt.Errorf("%w: the JWKS holds a private key", ErrUnavailable)
		}
	}
	c.set, c.fetchedAt = set, c.v.opts.Now()
	return nil
}

// claims are RFC 9068 §2.2's.
type claims struct {
	jwt.Claims
	ClientID string `json:"client_id"`
	Scope    string `json:"scope"`
}

// verifyJWT checks a JWT access token offline: typ at+jwt, a key of the JWKS with its own algorithm, the
// signature, iss, aud and exp.
func (v *Verifier) verifyJWT(ctx context.Context, tok string) (Identity, error) {
	if len(tok) > maxJWTLen {
		return Identity{}, fmt.Errorf("%w: JWT too long", ErrInvalid)
	}
	parsed, err := jwt.ParseSigned(tok, jwtAlgs)
	if err != nil || len(parsed.Headers) != 1 {
		return Identity{}, fmt.Errorf("%w: malformed JWT", ErrInvalid)
	}
	h := parsed.Headers[0]
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); !strings.EqualFold(typ, "at+jwt") && !strings.EqualFold(typ, "application/at+jwt") {
		return Identity{}, fmt.Errorf("%w: not an access token (typ %q)", ErrInvalid, typ)
	}
	issuer, audience := v.opts.Issuer, v.opts.Audience
	if issuer == "" {
		md, err := v.discover(ctx)
		if err != nil {
			return Identity{}, err
		}
		issuer = md.Issuer
	}
	if audience == "" {
		audience = issuer
	}
	key, err := v.jwks.key(ctx, h.KeyID)
	if err != nil {
		return Identity{}, err
	}
	if key.Algorithm != "" && key.Algorithm != h.Algorithm {
		return Identity{}, fmt.Errorf("%w: algorithm %s is not the key's", ErrInvalid, h.Algorithm)
	}
	var c claims
	if err := parsed.Claims(key.Key, &c); err != nil {
		return Identity{}, fmt.Errorf("%w: bad signature", ErrInvalid)
	}
	if c.Expiry == nil || c.ID == "" || c.ClientID == "" {
		return Identity{}, fmt.Errorf("%w: exp, jti or client_id missing", ErrInvalid)
	}
	// RFC 7519 §4.1.4: the current time must be before exp (go-jose lets exp itself pass).
	if !v.opts.Now().Add(-v.opts.Leeway).Before(c.Expiry.Time()) {
		return Identity{}, fmt.Errorf("%w: expired", ErrInvalid)
	}
	if err := c.ValidateWithLeeway(jwt.Expected{Issuer: issuer, AnyAudience: jwt.Audience{audience}, Time: v.opts.Now()}, v.opts.Leeway); err != nil {
		return Identity{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return Identity{Subject: c.ClientID, Kind: KindOAuth, Scopes: strings.Fields(c.Scope), ExpiresAt: c.Expiry.Time()}, nil
}
