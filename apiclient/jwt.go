package apiclient

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/tokenmanager/tokenmanager/storage"
)

// Token formats of a client's access tokens.
const (
	FormatOpaque = "opaque" // tmat_ strings, checked by a lookup
	// FormatJWT is RFC 9068: a JWT signed by one of the SigningKeys, which resource servers can verify offline
	// through the JWKS. Its jti is stored like an opaque token, so that revocation and introspection still work
	// (for those who ask).
	FormatJWT = "jwt"
)

// JWTType is the typ header of JWT access tokens (RFC 9068 §2.1), which keeps them apart from ID tokens and
// other JWTs signed with the same keys.
const JWTType = "at+jwt"

// maxJWTLen bounds the JWTs we parse: ours are well under 2 KiB even with 64 scopes and RSA signatures.
const maxJWTLen = 8 << 10

var jwtAlgs = []jose.SignatureAlgorithm{jose.ES256, jose.RS256}

// ValidFormat checks a client's token format ("" meaning the server's default).
func ValidFormat(f string) error {
	if f != "" && f != FormatJWT && f != FormatOpaque {
		return fmt.Errorf("%w: token format %q (want %s or %s)", ErrInvalidSpec, f, FormatJWT, FormatOpaque)
	}
	return nil
}

// SetTokenFormat sets the format of the client's future access tokens: FormatJWT, FormatOpaque, or "" for the
// server's default. Tokens already issued keep theirs.
func (s *Service) SetTokenFormat(ctx context.Context, id, format string) error {
	_, err := s.Update(ctx, id, Change{TokenFormat: &format})
	return err
}

// formatOf is the format a client's next token takes.
func (s *Service) formatOf(c storage.APIClient) string {
	if c.TokenFormat != "" {
		return c.TokenFormat
	}
	if s.cfg.DefaultFormat != "" {
		return s.cfg.DefaultFormat
	}
	return FormatOpaque
}

// RotateSigningKey makes a new key of alg ("" for the configured algorithm) sign JWT access tokens. The
// replaced key is published until every token it can have signed has expired: the longest lifetime of any
// client's tokens, plus a margin for nodes that read the keys just before the rotation.
func (s *Service) RotateSigningKey(ctx context.Context, alg string) (string, error) {
	if s.cfg.Signing == nil {
		return "", ErrNoSigningKey
	}
	if alg == "" {
		alg = s.alg()
	}
	longest, err := s.longestLifetime(ctx)
	if err != nil {
		return "", err
	}
	return s.cfg.Signing.Rotate(ctx, alg, s.now().Add(longest+rotationMargin))
}

// EnsureSigningKey makes the first signing key unless there is one. Nodes starting together may each make one;
// all of them verify, one signs.
func (s *Service) EnsureSigningKey(ctx context.Context) error {
	if s.cfg.Signing == nil {
		return nil
	}
	_, err := s.cfg.Signing.primary(ctx)
	if errors.Is(err, ErrNoSigningKey) {
		_, err = s.RotateSigningKey(ctx, "")
	}
	return err
}

func (s *Service) alg() string {
	if s.cfg.SigningAlg != "" {
		return s.cfg.SigningAlg
	}
	return AlgES256
}

func (s *Service) longestLifetime(ctx context.Context) (time.Duration, error) {
	clients, err := s.store.ListAPIClients(ctx)
	if err != nil {
		return 0, err
	}
	longest := DefaultTokenLifetime
	for _, c := range clients {
		longest = max(longest, c.TokenLifetime)
	}
	return longest, nil
}

// Signing returns the signing keys (nil when JWTs are off).
func (s *Service) Signing() *SigningKeys { return s.cfg.Signing }

// atClaims are RFC 9068 §2.2's claims.
type atClaims struct {
	Issuer   string `json:"iss"`
	Subject  string `json:"sub"`
	Audience string `json:"aud"`
	Expiry   int64  `json:"exp"`
	IssuedAt int64  `json:"iat"`
	ID       string `json:"jti"`
	ClientID string `json:"client_id"`
	Scope    string `json:"scope,omitempty"`
}

// signJWT signs the access token whose record is rec.
func (s *Service) signJWT(ctx context.Context, rec storage.AccessToken, jti, issuer string) (string, error) {
	if s.cfg.Signing == nil {
		return "", ErrNoSigningKey
	}
	key, err := s.cfg.Signing.primary(ctx)
	if err != nil {
		return "", err
	}
	if issuer == "" {
		return "", errors.New("apiclient: a JWT access token needs an issuer")
	}
	aud := s.cfg.Audience
	if aud == "" {
		aud = issuer
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(key.alg),
		Key: jose.JSONWebKey{Key: key.private, KeyID: key.id}}, (&jose.SignerOptions{}).WithType(JWTType))
	if err != nil {
		return "", fmt.Errorf("apiclient: signer: %w", err)
	}
	return jwt.Signed(signer).Claims(atClaims{Issuer: issuer, Subject: rec.ClientID, Audience: aud,
		Expiry: rec.ExpiresAt.Unix(), IssuedAt: rec.CreatedAt.Unix(), ID: jti, ClientID: rec.ClientID,
		Scope: strings.Join(rec.Scopes, " ")}).Serialize()
}

func newJTI() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// IsJWT reports whether tok has the compact JWS shape (three dot-separated parts, a JSON header first).
func IsJWT(tok string) bool {
	return strings.HasPrefix(tok, "eyJ") && strings.Count(tok, ".") == 2
}

// parseJWT checks a JWT access token's signature against the published keys and returns its claims; expiry
// is the caller's to check (revocation looks at expired tokens too).
func (s *Service) parseJWT(ctx context.Context, tok string) (atClaims, error) {
	var c atClaims
	if s.cfg.Signing == nil || len(tok) > maxJWTLen || !IsJWT(tok) {
		return c, ErrMalformedToken
	}
	parsed, err := jwt.ParseSigned(tok, jwtAlgs)
	if err != nil || len(parsed.Headers) != 1 {
		return c, ErrMalformedToken
	}
	h := parsed.Headers[0]
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); !strings.EqualFold(typ, JWTType) && !strings.EqualFold(typ, "application/"+JWTType) {
		return c, ErrMalformedToken
	}
	key, ok, err := s.cfg.Signing.verifier(ctx, h.KeyID)
	if err != nil {
		return c, err
	}
	if !ok || key.alg != h.Algorithm { // an unknown or retired key, or an algorithm the key is not for
		return c, ErrUnknownToken
	}
	if err := parsed.Claims(key.private.Public(), &c); err != nil {
		return c, ErrUnknownToken
	}
	if c.ID == "" || c.ClientID == "" {
		return c, ErrMalformedToken
	}
	return c, nil
}

// jwtRecord returns the stored record of a JWT access token after checking its signature.
func (s *Service) jwtRecord(ctx context.Context, tok string) (storage.AccessToken, error) {
	c, err := s.parseJWT(ctx, tok)
	if err != nil {
		return storage.AccessToken{}, err
	}
	rec, err := s.store.GetAccessToken(ctx, tokenID(c.ID))
	if errors.Is(err, storage.ErrNotFound) {
		return rec, ErrUnknownToken
	}
	if err != nil {
		return rec, fmt.Errorf("apiclient: load token: %w", err)
	}
	// The record must be this token's: the same client and the same lifetime, or the JWT is not ours.
	if rec.ClientID != c.ClientID || rec.ExpiresAt.Unix() != c.Expiry || !slices.Equal(rec.Scopes, splitScope(c.Scope)) {
		return rec, ErrUnknownToken
	}
	return rec, nil
}

func splitScope(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, " ")
}
