// Package token mints and checks Spectrum-compatible tokens and keeps their server-side state.
//
// A token is a JWE in compact form with alg=dir and enc=A128CBC-HS256, whose protected header is byte for byte
// Spectrum's {"enc":"A128CBC-HS256","alg":"dir"}. go-jose's Encrypter would serialize the header in its own
// member order ({"alg":…,"enc":…}), and the header bytes are the AEAD's additional data, so we assemble the
// compact form ourselves around go-jose's A128CBC-HS256 AEAD. Tests check that go-jose's own parser decrypts
// what we mint.
package token

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	josecipher "github.com/go-jose/go-jose/v4/cipher"

	"github.com/tokenmanager/tokenmanager/storage"
)

// Header is the JWE protected header of every token we mint.
const Header = `{"enc":"A128CBC-HS256","alg":"dir"}`

// HeaderSegment is the first compact segment: base64url(Header).
var HeaderSegment = base64.RawURLEncoding.EncodeToString([]byte(Header))

// MaxLen bounds what Open will look at; our tokens are about 300 bytes.
const MaxLen = 2048

// A128CBC-HS256: 16-byte IV, and a tag of half the 32-byte HMAC-SHA-256 output (RFC 7518 §5.2.3).
const (
	ivSize  = 16
	tagSize = 16
)

// Claims is what a token carries, encrypted.
type Claims struct {
	ID        string            `json:"jti"`
	User      string            `json:"sub"`
	Kind      storage.TokenKind `json:"knd"`
	Session   string            `json:"sid,omitempty"` // storage id of the bound session
	Host      string            `json:"hst,omitempty"` // client host at issue
	IssuedAt  int64             `json:"iat"`           // Unix seconds
	ExpiresAt int64             `json:"exp,omitempty"` // Unix seconds; 0 = none
}

// ErrMalformed is returned by Open for anything that is not a token we minted with this key.
var ErrMalformed = errors.New("token: malformed or not ours")

// Codec seals and opens tokens with one key. Safe for concurrent use.
type Codec struct {
	aead cipher.AEAD
}

// NewCodec takes the 32-byte A128CBC-HS256 key (MAC key ‖ encryption key).
func NewCodec(key []byte) (*Codec, error) {
	aead, err := josecipher.NewCBCHMAC(key, aes.NewCipher)
	if err != nil {
		return nil, fmt.Errorf("token: key: %w", err)
	}
	return &Codec{aead: aead}, nil
}

// Seal returns the compact JWE for c.
func (k *Codec) Seal(c Claims) (string, error) {
	plaintext, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	iv := make([]byte, ivSize)
	rand.Read(iv)
	sealed := k.aead.Seal(nil, iv, plaintext, []byte(HeaderSegment))
	ct, tag := sealed[:len(sealed)-tagSize], sealed[len(sealed)-tagSize:]

	enc := base64.RawURLEncoding
	var b strings.Builder
	b.Grow(len(HeaderSegment) + 3 + enc.EncodedLen(ivSize) + enc.EncodedLen(len(ct)) + enc.EncodedLen(len(tag)) + 1)
	b.WriteString(HeaderSegment)
	b.WriteString("..") // alg=dir: the encrypted-key segment is empty
	b.WriteString(enc.EncodeToString(iv))
	b.WriteByte('.')
	b.WriteString(enc.EncodeToString(ct))
	b.WriteByte('.')
	b.WriteString(enc.EncodeToString(tag))
	return b.String(), nil
}

// Open checks and decrypts a token. Only our exact header is accepted, which rules out every other alg, enc,
// zip and crit; the encrypted-key segment must be empty (RFC 7516 §5.2 step 10, which go-jose does not check).
func (k *Codec) Open(tok string) (Claims, error) {
	if len(tok) > MaxLen {
		return Claims{}, ErrMalformed
	}
	header, rest, ok := strings.Cut(tok, ".")
	if !ok || header != HeaderSegment {
		return Claims{}, ErrMalformed
	}
	encKey, rest, ok := strings.Cut(rest, ".")
	if !ok || encKey != "" {
		return Claims{}, ErrMalformed
	}
	ivPart, rest, ok := strings.Cut(rest, ".")
	if !ok {
		return Claims{}, ErrMalformed
	}
	ctPart, tagPart, ok := strings.Cut(rest, ".")
	if !ok || strings.Contains(tagPart, ".") {
		return Claims{}, ErrMalformed
	}
	enc := base64.RawURLEncoding
	iv, err1 := enc.DecodeString(ivPart)
	ct, err2 := enc.DecodeString(ctPart)
	tag, err3 := enc.DecodeString(tagPart)
	if err1 != nil || err2 != nil || err3 != nil || len(iv) != ivSize || len(ct) == 0 {
		return Claims{}, ErrMalformed
	}
	plaintext, err := k.aead.Open(nil, iv, append(ct, tag...), []byte(HeaderSegment))
	if err != nil {
		return Claims{}, ErrMalformed
	}
	var c Claims
	if err := json.Unmarshal(plaintext, &c); err != nil || c.ID == "" || c.User == "" {
		return Claims{}, ErrMalformed
	}
	return c, nil
}
