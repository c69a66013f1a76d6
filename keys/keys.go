// Package keys holds the server key: one 32-byte secret shared by every node, kept out of the database, from
// which each purpose derives its own subkey (token encryption, sealing secrets at rest, credential-cache keys).
package keys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
)

// Size is the length of the server key and of every derived key.
const Size = 32

// Purposes for Derive. Changing one invalidates everything made with the old subkey.
const (
	PurposeTokenEncryption = "tokenmanager/v1/token-encryption"
	PurposeSeal            = "tokenmanager/v1/seal"
	PurposeCredentialCache = "tokenmanager/v1/credential-cache"
	// PurposePowerAuthTokens keys the Sealer of PowerAuth MAC token secrets:
	// NewSealer(Derive(master, PurposePowerAuthTokens)).
	PurposePowerAuthTokens = "tokenmanager/v1/powerauth-tokens"
	// PurposeLicenseSigningKeys seals the products' RSA private keys that sign licenses.
	PurposeLicenseSigningKeys = "tokenmanager/v1/license-signing-keys"
	// PurposeCSRF keys the HMAC form tokens of the server's HTML pages (the consent page).
	PurposeCSRF = "tokenmanager/v1/csrf"
	// PurposeOAuthSigningKeys seals the private keys that sign JWT access tokens.
	PurposeOAuthSigningKeys = "tokenmanager/v1/oauth-signing-keys"
	// PurposeFingerprint names the key's fingerprint (see Fingerprint).
	PurposeFingerprint = "tokenmanager/v1/fingerprint"
)

// Parse decodes a base64 (standard or URL, padded or not) server key and checks its length.
func Parse(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil {
			if len(k) != Size {
				return nil, fmt.Errorf("keys: server key is %d bytes, want %d", len(k), Size)
			}
			return k, nil
		}
	}
	return nil, errors.New("keys: server key is not base64")
}

// LoadOrCreate reads the key file at path, or creates it (mode 0600) with a fresh random key if it does not
// exist. A file readable by group or others is refused: the key decrypts every token.
func LoadOrCreate(path string) (key []byte, created bool, err error) {
	key, err = Load(path)
	if err == nil {
		return key, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	key = make([]byte, Size)
	rand.Read(key)
	if err := Create(path, key); errors.Is(err, fs.ErrExist) {
		// Another process created it meanwhile: read theirs instead of overwriting it.
		return LoadOrCreate(path)
	} else if err != nil {
		return nil, false, err
	}
	return key, true, nil
}

// Load reads the key file at path; a file readable by group or others is refused.
func Load(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("keys: %s is readable by others (mode %v); chmod 600 it", path, fi.Mode().Perm())
	}
	k, err := Parse(string(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// Create writes key to a new file at path (mode 0600, its directory made 0700 if missing); fs.ErrExist if
// there is one already.
func Create(path string, key []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, werr := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		os.Remove(path)
		return err
	}
	return nil
}

// Derive returns the subkey of master for purpose (HKDF-SHA256).
func Derive(master []byte, purpose string) []byte {
	k, err := hkdf.Key(sha256.New, master, nil, purpose, Size)
	if err != nil {
		panic("keys: hkdf: " + err.Error()) // only for lengths we never ask for
	}
	return k
}

// Fingerprint names the server key without revealing it (hex of a subkey: HKDF output, which cannot be turned
// back into the key or any other subkey), so the database can hold it and every process can tell whether it has
// the key the database was set up with.
func Fingerprint(master []byte) string { return hex.EncodeToString(Derive(master, PurposeFingerprint)) }

// Sealer encrypts small secrets for storage (AES-256-GCM, random nonce). The associated data binds a sealed
// value to its row, so a value copied into another row does not open. A Sealer made from a Set seals with the
// set's active key and opens with either.
type Sealer struct {
	aead cipher.AEAD // a Sealer of one key

	set    *Set // a Sealer over a Set
	derive func(master []byte) []byte
	cache  atomic.Pointer[setAEADs]
}

// NewSealer makes a Sealer from the server key.
func NewSealer(master []byte) *Sealer { return NewSealerFor(master, PurposeSeal) }

// NewSealerFor makes a Sealer whose key is derived for purpose, so secrets of one kind cannot be opened with
// the key of another.
func NewSealerFor(master []byte, purpose string) *Sealer {
	return &Sealer{aead: newAEAD(Derive(master, purpose))}
}

func newAEAD(key []byte) cipher.AEAD {
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return aead
}

// Seal returns nonce ‖ ciphertext.
func (s *Sealer) Seal(plaintext []byte, associated string) []byte {
	aead := s.aeads()[0]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	rand.Read(nonce)
	return aead.Seal(nonce, nonce, plaintext, []byte(associated))
}

// Open reverses Seal, with any key of the Sealer.
func (s *Sealer) Open(sealed []byte, associated string) ([]byte, error) {
	var err error
	for _, aead := range s.aeads() {
		n := aead.NonceSize()
		if len(sealed) < n {
			return nil, errors.New("keys: sealed value too short")
		}
		var p []byte
		if p, err = aead.Open(nil, sealed[:n], sealed[n:], []byte(associated)); err == nil {
			return p, nil
		}
	}
	return nil, err
}
