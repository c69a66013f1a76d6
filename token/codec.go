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
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	josecipher "github.com/go-jose/go-jose/v4/cipher"

	"github.com/tokenmanager/tokenmanager/storage"
)

// Header is the JWE protected header of the tokens we mint with the original key: Spectrum's, byte for byte.
const Header = `{"enc":"A128CBC-HS256","alg":"dir"}`

// HeaderSegment is the first compact segment: base64url(Header).
var HeaderSegment = base64.RawURLEncoding.EncodeToString([]byte(Header))

// headerWithKID is the header of tokens minted with a rotated key: Spectrum's members in Spectrum's order, and
// the key's id last. Only exact header bytes are accepted, so a kid never needs parsing.
func headerWithKID(kid string) string {
	return `{"enc":"A128CBC-HS256","alg":"dir","kid":"` + kid + `"}`
}

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

// Key is one token key. The original key has the empty ID and mints Spectrum's exact header; a rotated key's
// ID goes into its tokens' header as "kid".
type Key struct {
	ID     string
	Secret []byte // 32 bytes: MAC key ‖ encryption key
}

// Codec seals tokens with its primary key and opens tokens of any of its keys. Safe for concurrent use.
type Codec struct {
	primary  *codecKey
	byHeader map[string]*codecKey // header segment → key
	opened   openedTokens
}

// openedTokens remembers the claims of tokens this codec has opened, by the token's SHA-256: a client presents
// the same token again and again, and hashing it costs a fraction of decrypting, authenticating and decoding it.
// Only a digest is kept, never a token. A codec with other keys (after a rotation or retirement) is a new Codec
// with an empty memory, so nothing outlives the keys it was opened with. Expiry and every server-side check
// still run on each use.
type openedTokens struct {
	mu     sync.RWMutex
	claims map[[sha256.Size]byte]Claims
}

// maxOpened bounds the memory (about 250 bytes an entry, 4 MB in all): enough for the tokens in active use at
// once; a token beyond it is decrypted again, at first-sight cost.
const maxOpened = 16384

func (o *openedTokens) get(key [sha256.Size]byte) (Claims, bool) {
	o.mu.RLock()
	c, ok := o.claims[key]
	o.mu.RUnlock()
	return c, ok
}

func (o *openedTokens) put(key [sha256.Size]byte, c Claims) {
	o.mu.Lock()
	if o.claims == nil {
		o.claims = make(map[[sha256.Size]byte]Claims)
	}
	if len(o.claims) >= maxOpened {
		for k := range o.claims { // random order: evicts a random entry
			delete(o.claims, k)
			break
		}
	}
	o.claims[key] = c
	o.mu.Unlock()
}

type codecKey struct {
	id            string
	headerSegment string
	aead          cipher.AEAD
}

// NewCodec takes the 32-byte A128CBC-HS256 key of a codec with the original key alone.
func NewCodec(key []byte) (*Codec, error) {
	return NewRing(Key{Secret: key})
}

// NewRing returns a codec that mints with primary and also opens tokens minted with others.
func NewRing(primary Key, others ...Key) (*Codec, error) {
	c := &Codec{byHeader: map[string]*codecKey{}}
	for i, k := range append([]Key{primary}, others...) {
		if k.ID != "" && !validKID(k.ID) {
			return nil, fmt.Errorf("token: key id %q: want 1-32 of [a-z0-9-]", k.ID)
		}
		aead, err := josecipher.NewCBCHMAC(k.Secret, aes.NewCipher)
		if err != nil {
			return nil, fmt.Errorf("token: key %q: %w", k.ID, err)
		}
		header := Header
		if k.ID != "" {
			header = headerWithKID(k.ID)
		}
		ck := &codecKey{id: k.ID, headerSegment: base64.RawURLEncoding.EncodeToString([]byte(header)), aead: aead}
		if _, dup := c.byHeader[ck.headerSegment]; dup {
			return nil, fmt.Errorf("token: key %q given twice", k.ID)
		}
		c.byHeader[ck.headerSegment] = ck
		if i == 0 {
			c.primary = ck
		}
	}
	return c, nil
}

func validKID(id string) bool {
	if len(id) == 0 || len(id) > 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// PrimaryID is the id of the key new tokens are minted with ("" for the original key).
func (k *Codec) PrimaryID() string { return k.primary.id }

// KnowsKeyOf reports whether tok's header names a key of this codec.
func (k *Codec) KnowsKeyOf(tok string) bool {
	header, _, _ := strings.Cut(tok, ".")
	_, ok := k.byHeader[header]
	return ok
}

// namesRotatedKey reports whether tok's header has the shape of a rotated key's (a kid this codec may not have
// loaded yet, because another node rotated): the cue to reload the key ring, and nothing else is.
func namesRotatedKey(tok string) bool {
	header, _, _ := strings.Cut(tok, ".")
	if len(header) > 128 {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(header)
	if err != nil {
		return false
	}
	kid, ok := strings.CutPrefix(string(b), `{"enc":"A128CBC-HS256","alg":"dir","kid":"`)
	kid, ok2 := strings.CutSuffix(kid, `"}`)
	return ok && ok2 && validKID(kid)
}

// Seal returns the compact JWE for c.
func (k *Codec) Seal(c Claims) (string, error) {
	plaintext, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	iv := make([]byte, ivSize)
	rand.Read(iv)
	p := k.primary
	sealed := p.aead.Seal(nil, iv, plaintext, []byte(p.headerSegment))
	ct, tag := sealed[:len(sealed)-tagSize], sealed[len(sealed)-tagSize:]

	enc := base64.RawURLEncoding
	var b strings.Builder
	b.Grow(len(p.headerSegment) + 3 + enc.EncodedLen(ivSize) + enc.EncodedLen(len(ct)) + enc.EncodedLen(len(tag)) + 1)
	b.WriteString(p.headerSegment)
	b.WriteString("..") // alg=dir: the encrypted-key segment is empty
	b.WriteString(enc.EncodeToString(iv))
	b.WriteByte('.')
	b.WriteString(enc.EncodeToString(ct))
	b.WriteByte('.')
	b.WriteString(enc.EncodeToString(tag))
	return b.String(), nil
}

// Open checks and decrypts a token. Only the exact headers of our keys are accepted, which rules out every other
// alg, enc, zip and crit; the encrypted-key segment must be empty (RFC 7516 §5.2 step 10, which go-jose does
// not check).
func (k *Codec) Open(tok string) (Claims, error) {
	if len(tok) > MaxLen {
		return Claims{}, ErrMalformed
	}
	digest := sha256.Sum256([]byte(tok))
	if c, ok := k.opened.get(digest); ok {
		return c, nil
	}
	c, err := k.open(tok)
	if err == nil {
		k.opened.put(digest, c)
	}
	return c, err
}

// open decrypts and checks tok.
func (k *Codec) open(tok string) (Claims, error) {
	header, rest, ok := strings.Cut(tok, ".")
	key := k.byHeader[header]
	if !ok || key == nil {
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
	// Strict: the unused low bits of a segment's last character must be zero, so each token has one spelling
	// (otherwise up to 15 other strings would decode to the same bytes and open as the same token).
	enc := base64.RawURLEncoding.Strict()
	iv, err1 := enc.DecodeString(ivPart)
	ct, err2 := enc.DecodeString(ctPart)
	tag, err3 := enc.DecodeString(tagPart)
	if err1 != nil || err2 != nil || err3 != nil || len(iv) != ivSize || len(ct) == 0 {
		return Claims{}, ErrMalformed
	}
	plaintext, err := key.aead.Open(nil, iv, append(ct, tag...), []byte(header))
	if err != nil {
		return Claims{}, ErrMalformed
	}
	var c Claims
	if err := json.Unmarshal(plaintext, &c); err != nil || c.ID == "" || c.User == "" {
		return Claims{}, ErrMalformed
	}
	return c, nil
}
