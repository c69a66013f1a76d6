package pacrypto

import "encoding/binary"

// Activation states in the status blob.
const (
	StatusCreated       = 1
	StatusPendingCommit = 2
	StatusActive        = 3
	StatusBlocked       = 4
	StatusRemoved       = 5
)

// StatusBlob is the 32-byte plaintext of Activation-Status.md.
type StatusBlob struct {
	Status, CurrentVersion, UpgradeVersion byte
	CtrByte, FailCount, MaxFailCount       byte
	CtrLookAhead                           byte
	CtrDataHash                            []byte // 16 bytes
}

// Bytes lays the blob out: 0xDEC0DED1, status, versions, 5 reserved, ctr byte, fail counts, look-ahead, hash.
func (b StatusBlob) Bytes() []byte {
	out := make([]byte, 32)
	binary.BigEndian.PutUint32(out, 0xDEC0DED1)
	out[4], out[5], out[6] = b.Status, b.CurrentVersion, b.UpgradeVersion
	out[12], out[13], out[14], out[15] = b.CtrByte, b.FailCount, b.MaxFailCount, b.CtrLookAhead
	copy(out[16:], b.CtrDataHash)
	return out
}

// ParseStatusBlob reads a decrypted blob; ok is false without the magic prefix.
func ParseStatusBlob(p []byte) (StatusBlob, bool) {
	if len(p) != 32 || binary.BigEndian.Uint32(p) != 0xDEC0DED1 {
		return StatusBlob{}, false
	}
	return StatusBlob{Status: p[4], CurrentVersion: p[5], UpgradeVersion: p[6], CtrByte: p[12], FailCount: p[13],
		MaxFailCount: p[14], CtrLookAhead: p[15], CtrDataHash: append([]byte(nil), p[16:32]...)}, true
}

// StatusIV is KDF_INTERNAL(KDF(KEY_TRANSPORT, 3000), challenge ‖ nonce).
func StatusIV(transport, challenge, nonce []byte) []byte {
	return KDFInternal(KDF(transport, IndexTransportIV), append(append([]byte(nil), challenge...), nonce...))
}

// CtrDataHash is KDF_INTERNAL(KDF(KEY_TRANSPORT, 4000), CTR_DATA).
func CtrDataHash(transport, ctr []byte) []byte {
	return KDFInternal(KDF(transport, IndexTransportCtr), ctr)
}

// EncryptStatus encrypts the blob for a status challenge with the server's nonce.
func EncryptStatus(transport, challenge, nonce []byte, b StatusBlob) []byte {
	return CBCNoPadding(transport, StatusIV(transport, challenge, nonce), b.Bytes())
}
