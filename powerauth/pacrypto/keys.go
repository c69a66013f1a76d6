package pacrypto

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/asn1"
	"errors"
	"math/big"
)

// ErrBadKey is a public or private key that is not a P-256 key in one of the encodings PowerAuth uses.
var ErrBadKey = errors.New("pacrypto: not a P-256 key")

// ParsePublicKey reads a P-256 point, uncompressed (65 bytes, as the Java server sends) or compressed (33 bytes,
// as the mobile SDK sends ephemeral keys).
func ParsePublicKey(b []byte) (*ecdh.PublicKey, error) {
	switch {
	case len(b) == 65 && b[0] == 4:
	case len(b) == 33 && (b[0] == 2 || b[0] == 3):
		x, y := elliptic.UnmarshalCompressed(elliptic.P256(), b)
		if x == nil {
			return nil, ErrBadKey
		}
		u := make([]byte, 65)
		u[0] = 4
		x.FillBytes(u[1:33])
		y.FillBytes(u[33:])
		b = u
	default:
		return nil, ErrBadKey
	}
	k, err := ecdh.P256().NewPublicKey(b)
	if err != nil {
		return nil, ErrBadKey
	}
	return k, nil
}

// ParsePrivateKey reads the scalar D as Java's BigInteger bytes: big-endian, possibly with a leading zero byte or
// shorter than 32 bytes.
func ParsePrivateKey(b []byte) (*ecdh.PrivateKey, error) {
	for len(b) > 32 && b[0] == 0 {
		b = b[1:]
	}
	if len(b) > 32 {
		return nil, ErrBadKey
	}
	d := make([]byte, 32)
	copy(d[32-len(b):], b)
	k, err := ecdh.P256().NewPrivateKey(d)
	if err != nil {
		return nil, ErrBadKey
	}
	return k, nil
}

// GenerateKey makes a new P-256 key pair.
func GenerateKey() *ecdh.PrivateKey {
	k, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

// ecdsaKey converts an ECDH private key for signing.
func ecdsaKey(k *ecdh.PrivateKey) *ecdsa.PrivateKey {
	p, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), k.Bytes())
	if err != nil {
		panic(err) // an ECDH P-256 key is always a valid scalar
	}
	return p
}

func ecdsaPublic(k *ecdh.PublicKey) *ecdsa.PublicKey {
	p, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), k.Bytes())
	if err != nil {
		panic(err)
	}
	return p
}

// SignDER is ECDSA.sign (SHA256withECDSA) with the DER signature Java produces; used for the activation code
// signature.
func SignDER(k *ecdh.PrivateKey, data []byte) []byte {
	h := sha256.Sum256(data)
	sig, err := ecdsa.SignASN1(rand.Reader, ecdsaKey(k), h[:])
	if err != nil {
		panic(err)
	}
	return sig
}

// VerifyDER checks a DER ECDSA-SHA256 signature.
func VerifyDER(k *ecdh.PublicKey, data, sig []byte) bool {
	h := sha256.Sum256(data)
	return ecdsa.VerifyASN1(ecdsaPublic(k), h[:], sig)
}

// SignRaw is ES256 as JWS wants it: R ‖ S, 32 bytes each.
func SignRaw(k *ecdh.PrivateKey, data []byte) []byte {
	der := SignDER(k, data)
	var sig struct{ R, S *big.Int }
	if _, err := asn1.Unmarshal(der, &sig); err != nil {
		panic(err)
	}
	out := make([]byte, 64)
	sig.R.FillBytes(out[:32])
	sig.S.FillBytes(out[32:])
	return out
}

// VerifyRaw checks an R ‖ S ES256 signature.
func VerifyRaw(k *ecdh.PublicKey, data, sig []byte) bool {
	if len(sig) != 64 {
		return false
	}
	h := sha256.Sum256(data)
	return ecdsa.Verify(ecdsaPublic(k), h[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:]))
}
