// Package pacrypto is the cryptography of the PowerAuth protocol, version 3 (crypto 3.0 to 3.3), as Wultra's
// powerauth-crypto documentation defines it: the key derivations, the request signatures with their hash-based
// counter, ECIES in application and activation scope, the activation status blob and activation codes. It holds
// no state; the powerauth package stores keys and counters.
package pacrypto

import (
	"crypto/aes"
	"crypto/ecdh"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
)

// Indexes of the keys derived from KEY_MASTER_SECRET with KDF (Key-derivation.md).
const (
	IndexSignaturePossession = 1
	IndexSignatureKnowledge  = 2
	IndexSignatureBiometry   = 3
	IndexTransport           = 1000
	IndexVault               = 2000
	IndexTransportIV         = 3000 // the status blob's IV key (Activation-Status.md)
	IndexTransportCtr        = 4000 // the status blob's counter-hash key
)

// Fold16 is ByteUtils.convert32Bto16B: byte i XOR byte i+16.
func Fold16(b []byte) []byte {
	out := make([]byte, 16)
	for i := range out {
		out[i] = b[i] ^ b[i+16]
	}
	return out
}

// KDF derives a 16-byte key from a 16-byte key and an index: AES(key) of the index as a big-endian long in the
// last 8 bytes of a zero block (ByteBuffer.allocate(16).putLong(0).putLong(index)).
func KDF(key []byte, index uint64) []byte {
	c, err := aes.NewCipher(key)
	if err != nil {
		panic("pacrypto: KDF key must be 16 bytes")
	}
	var in, out [16]byte
	binary.BigEndian.PutUint64(in[8:], index)
	c.Encrypt(out[:], in[:])
	return out[:]
}

// KDFInternal is KDF_INTERNAL: HMAC-SHA256 keyed with key over index, folded to 16 bytes. (Basic-definitions.md
// describes the roles the other way round; the implementation, and every published vector, key with key.)
func KDFInternal(key, index []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(index)
	return Fold16(m.Sum(nil))
}

// HMAC is HMAC-SHA256.
func HMAC(key []byte, data ...[]byte) []byte {
	m := hmac.New(sha256.New, key)
	for _, d := range data {
		m.Write(d)
	}
	return m.Sum(nil)
}

// X963KDF is the ANSI X9.63 KDF with SHA-256: SHA256(secret ‖ counter(4 bytes, from 1) ‖ info) blocks.
func X963KDF(secret, info []byte, n int) []byte {
	out := make([]byte, 0, n+sha256.Size)
	var ctr [4]byte
	for i := uint32(1); len(out) < n; i++ {
		binary.BigEndian.PutUint32(ctr[:], i)
		h := sha256.New()
		h.Write(secret)
		h.Write(ctr[:])
		h.Write(info)
		out = h.Sum(out)
	}
	return out[:n]
}

// MasterSecret is KEY_MASTER_SECRET = convert32Bto16B(ECDH(private, public)).
func MasterSecret(priv *ecdh.PrivateKey, pub *ecdh.PublicKey) ([]byte, error) {
	z, err := priv.ECDH(pub)
	if err != nil {
		return nil, errors.New("pacrypto: ECDH failed")
	}
	return Fold16(z), nil
}

// Keys are the keys an activation derives from KEY_MASTER_SECRET.
type Keys struct {
	Possession, Knowledge, Biometry, Transport, Vault []byte
}

// DeriveKeys derives the standard keys from the master secret.
func DeriveKeys(master []byte) Keys {
	return Keys{
		Possession: KDF(master, IndexSignaturePossession),
		Knowledge:  KDF(master, IndexSignatureKnowledge),
		Biometry:   KDF(master, IndexSignatureBiometry),
		Transport:  KDF(master, IndexTransport),
		Vault:      KDF(master, IndexVault),
	}
}
