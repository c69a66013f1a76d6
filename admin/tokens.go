package admin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tokenmanager/tokenmanager/storage"
)

// Admin API tokens look like tmat_<id>_<secret>: the prefix lets secret scanners and people recognize one,
// the id (8 random bytes, hex) names the record, the secret is 32 random bytes (base64url), of which only the
// SHA-256 is stored.
const (
	TokenPrefix = "tmat_"
	// MaxTokenLifetime bounds an admin API token's life; a token never lives forever.
	MaxTokenLifetime = 366 * 24 * time.Hour
	// DefaultTokenLifetime is a token's life when none is asked for.
	DefaultTokenLifetime = 90 * 24 * time.Hour
	// MaxTokenNameLen bounds a token's name, in characters.
	MaxTokenNameLen = 100
	// touchInterval throttles the last-used writes of a busy token.
	touchInterval = time.Minute
)

// ErrBadToken: the presented admin API token is malformed, unknown, revoked or expired. Callers answer 401
// alike for all of these.
var ErrBadToken = errors.New("invalid admin API token")

// TokenSpec describes a new admin API token.
type TokenSpec struct {
	Name     string
	ReadOnly bool
	// Vendor, when set, narrows the token to this vendor's objects; the caller has checked that the user
	// reaches the vendor.
	Vendor   string
	Lifetime time.Duration // 0: DefaultTokenLifetime
}

// CreateToken issues a token for user and returns it (shown once, never stored) with its record.
func (s *Service) CreateToken(ctx context.Context, a Actor, user string, spec TokenSpec) (string, storage.AdminToken, error) {
	if spec.Lifetime == 0 {
		spec.Lifetime = DefaultTokenLifetime
	}
	if spec.Lifetime < time.Minute || spec.Lifetime > MaxTokenLifetime {
		return "", storage.AdminToken{}, invalid("a token lives from a minute to %d days", int(MaxTokenLifetime.Hours()/24))
	}
	if !utf8.ValidString(spec.Name) || utf8.RuneCountInString(spec.Name) > MaxTokenNameLen || strings.ContainsFunc(spec.Name, isControl) {
		return "", storage.AdminToken{}, invalid("a token name is at most %d printable characters", MaxTokenNameLen)
	}
	var idb [8]byte
	var secret [32]byte
	rand.Read(idb[:])
	rand.Read(secret[:])
	sec := base64.RawURLEncoding.EncodeToString(secret[:])
	sum := sha256.Sum256([]byte(sec))
	now := s.now()
	t := storage.AdminToken{ID: hex.EncodeToString(idb[:]), User: user, Name: spec.Name, SecretHash: sum[:], ReadOnly: spec.ReadOnly,
		Vendor: spec.Vendor, CreatedAt: now, ExpiresAt: now.Add(spec.Lifetime)}
	if err := s.store.CreateAdminToken(ctx, t); err != nil {
		return "", storage.AdminToken{}, mapErr(err)
	}
	scope := "read-write"
	if t.ReadOnly {
		scope = "read-only"
	}
	if err := s.record(ctx, a, "admintoken.create", user, fmt.Sprintf("id=%s scope=%s vendor=%q", t.ID, scope, t.Vendor)); err != nil {
		return "", storage.AdminToken{}, err
	}
	return TokenPrefix + t.ID + "_" + sec, t, nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// IsToken reports whether s looks like an admin API token (and not a Spectrum or other token).
func IsToken(s string) bool { return strings.HasPrefix(s, TokenPrefix) }

// Authenticate returns the live token presented as tok, and records its use. Every failure is ErrBadToken,
// unless the database failed.
func (s *Service) Authenticate(ctx context.Context, tok string) (storage.AdminToken, error) {
	rest, ok := strings.CutPrefix(tok, TokenPrefix)
	if !ok || len(rest) > 100 {
		return storage.AdminToken{}, ErrBadToken
	}
	id, sec, ok := strings.Cut(rest, "_")
	if !ok || len(id) != 16 || sec == "" {
		return storage.AdminToken{}, ErrBadToken
	}
	t, err := s.store.GetAdminToken(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.AdminToken{}, ErrBadToken
	}
	if err != nil {
		return storage.AdminToken{}, err
	}
	sum := sha256.Sum256([]byte(sec))
	if subtle.ConstantTimeCompare(sum[:], t.SecretHash) != 1 || !t.Live(s.now()) {
		return storage.AdminToken{}, ErrBadToken
	}
	// A failed touch loses only the last-used time, which is no reason to refuse the call.
	_ = s.store.TouchAdminToken(ctx, id, s.now(), touchInterval)
	return t, nil
}

// ListTokens returns user's tokens (everyone's if user is empty), newest first, at most limit (0: 1000).
func (s *Service) ListTokens(ctx context.Context, user string, limit int) ([]storage.AdminToken, error) {
	return s.store.ListAdminTokens(ctx, user, limit)
}

// GetToken returns the token id if it is user's (any user's when user is empty).
func (s *Service) GetToken(ctx context.Context, user, id string) (storage.AdminToken, error) {
	t, err := s.store.GetAdminToken(ctx, id)
	if err == nil && user != "" && t.User != user {
		err = storage.ErrNotFound // someone else's: as if there were none
	}
	return t, mapErr(err)
}

// RevokeToken revokes the token id if it is user's (any user's when user is empty).
func (s *Service) RevokeToken(ctx context.Context, a Actor, user, id string) error {
	t, err := s.GetToken(ctx, user, id)
	if err != nil {
		return err
	}
	if err := s.store.RevokeAdminToken(ctx, id, s.now()); err != nil {
		return mapErr(err)
	}
	return s.record(ctx, a, "admintoken.revoke", t.User, "id="+id)
}
