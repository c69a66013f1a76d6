// Package powerauth implements PowerAuth-style MAC tokens (Wultra's "MAC Token-Based Authentication"): a device
// (an activation) registered to a user obtains a token id and a 16-byte secret, and then authenticates each
// request with an X-PowerAuth-Token header carrying a fresh nonce, a millisecond timestamp and
// HMAC-SHA256(secret, nonce ‖ "&" ‖ timestamp [‖ "&" ‖ version]) instead of the secret itself.
//
// The package is transport-free: it parses and formats the header value, computes digests and keeps
// activations and tokens through storage.PowerAuth. server/ maps its errors to PowerAuth's wire answers.
package powerauth

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"strconv"
)

// Protocol versions whose token headers are accepted.
const (
	Version30 = "3.0"
	Version31 = "3.1"
	Version32 = "3.2"
	Version33 = "3.3"
)

// Sizes fixed by the protocol.
const (
	SecretSize = 16 // token secret, raw bytes
	NonceSize  = 16 // nonce, raw bytes
	DigestSize = sha256.Size
)

// ErrUnsupportedVersion is returned for a version other than 3.0–3.3.
var ErrUnsupportedVersion = errors.New("powerauth: unsupported version")

// versionInDigest reports whether version is known and whether its digest covers the version string: 3.2
// added "&version" to the digested data (powerauth-crypto "Fix #524"), and 3.3 kept it.
func versionInDigest(version string) (known, included bool) {
	switch version {
	case Version30, Version31:
		return true, false
	case Version32, Version33:
		return true, true
	}
	return false, false
}

// Digest returns HMAC-SHA256(secret, nonce ‖ "&" ‖ decimal(timestampMillis)), with ‖ "&" ‖ version appended for
// 3.2 and 3.3: the token_digest of PowerAuth's TokenUtils.computeTokenDigest, before Base64.
func Digest(secret, nonce []byte, timestampMillis int64, version string) ([]byte, error) {
	known, withVersion := versionInDigest(version)
	if !known {
		return nil, ErrUnsupportedVersion
	}
	m := hmac.New(sha256.New, secret)
	m.Write(nonce)
	m.Write([]byte{'&'})
	m.Write(strconv.AppendInt(nil, timestampMillis, 10))
	if withVersion {
		m.Write([]byte{'&'})
		m.Write([]byte(version))
	}
	return m.Sum(nil), nil
}
