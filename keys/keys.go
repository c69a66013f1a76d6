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
	b, err := os.ReadFile(path)
	if err == nil {
		fi, err := os.Stat(path)
		if err != nil {
			return nil, false, err
		}
		if fi.Mode().Perm()&0o077 != 0 {
			return nil, false, fmt.Errorf("keys: %s is readable by others (mode %v); chmod 600 it", path, fi.Mode().Perm())
		}
		k, err := Parse(string(b))
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", path, err)
		}
		return k, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	key = make([]byte, Size)
	rand.Read(key)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, err
	}
	// O_EXCL: if another process created it meanwhile, read theirs instead of overwriting it.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return LoadOrCreate(path)
	}
	if err != nil {
		return nil, false, err
	}
	_, werr := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		os.Remove(path)
		return nil, false, err
	}
	return key, true, nil
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
// value to its row, so a value copied into another row does not open.
type Sealer struct{ aead cipher.AEAD }

// NewSealer makes a Sealer from the server key.
func NewSealer(master []byte) *Sealer { return NewSealerFor(master, PurposeSeal) }

// NewSealerFor makes a Sealer whose key is derived for purpose, so secrets of one kind cannot be opened with
// the key of another.
func NewSealerFor(master []byte, purpose string) *Sealer {
	block, err := aes.NewCipher(Derive(master, purpose))
	if err != nil {
		panic(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return &Sealer{aead: aead}
}

// Seal returns nonce ‖ ciphertext.
func (s *Sealer) Seal(plaintext []byte, associated string) []byte {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plaintext)+s.aead.Overhead())
	rand.Read(nonce)
	return s.aead.Seal(nonce, nonce, plaintext, []byte(associated))
}

// Open reverses Seal.
func (s *Sealer) Open(sealed []byte, associated string) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("keys: sealed value too short")
	}
	return s.aead.Open(nil, sealed[:n], sealed[n:], []byte(associated))
}
