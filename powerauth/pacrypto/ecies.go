package pacrypto

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
)

// ECIES errors. Callers answer all of them the same way (PowerAuth's ERR_ENCRYPTION), never saying which check
// failed.
var (
	ErrECIESMAC     = errors.New("pacrypto: ECIES MAC mismatch")
	ErrECIESPayload = errors.New("pacrypto: malformed ECIES payload")
)

// Shared info 1 constants (End-To-End-Encryption.md, "Pre-Shared Constants").
const (
	SharedInfoApplication = "/pa/generic/application"
	SharedInfoActivation2 = "/pa/activation"
	SharedInfoGenericAct  = "/pa/generic/activation"
	SharedInfoTokenCreate = "/pa/token/create"
)

// Scope carries what one ECIES context is bound to. TransportKey is nil in application scope.
type Scope struct {
	Version      string // "3.0" … "3.3"
	AppKey       string // Base64 string as sent
	AppSecret    string // Base64 string: its ASCII bytes are hashed (End-To-End-Encryption.md warning box)
	ActivationID string // "" in application scope
	TempKeyID    string // 3.3 only
	TransportKey []byte // activation scope only

	rawSharedInfo2 []byte // replaces the scope's SHARED_INFO_2 base: the generic ECIES of the published 3.1 vectors
}

func (s Scope) v32() bool { return s.Version == "3.2" || s.Version == "3.3" }

// sharedInfo2Base: SHA256(secret) in application scope, HMAC(KEY_TRANSPORT, secret) in activation scope.
func (s Scope) sharedInfo2Base() []byte {
	if s.rawSharedInfo2 != nil {
		return s.rawSharedInfo2
	}
	if s.TransportKey != nil {
		return HMAC(s.TransportKey, []byte(s.AppSecret))
	}
	h := sha256.Sum256([]byte(s.AppSecret))
	return h[:]
}

// associatedData is concatWithSizes(VERSION, APPLICATION_KEY, [ACTIVATION_ID], [TEMP_KEY_ID]) for 3.2+.
func (s Scope) associatedData() []byte {
	parts := [][]byte{[]byte(s.Version), []byte(s.AppKey)}
	if s.ActivationID != "" {
		parts = append(parts, []byte(s.ActivationID))
	}
	if s.Version == "3.3" {
		parts = append(parts, []byte(s.TempKeyID))
	}
	return concatWithSizes(parts...)
}

// concatWithSizes prefixes each part with its length as a 4-byte big-endian int; a nil part is written as
// length 0.
func concatWithSizes(parts ...[]byte) []byte {
	var b bytes.Buffer
	var n [4]byte
	for _, p := range parts {
		binary.BigEndian.PutUint32(n[:], uint32(len(p)))
		b.Write(n[:])
		b.Write(p)
	}
	return b.Bytes()
}

// Payload is one ECIES message. EphemeralKey is set on requests only; Nonce and Timestamp are sent on 3.2+
// requests and responses (3.1 requests carry a nonce only, 3.0 nothing).
type Payload struct {
	EphemeralKey  []byte
	EncryptedData []byte
	MAC           []byte
	Nonce         []byte
	Timestamp     int64
}

// Envelope is the symmetric context of one request/response cycle.
type Envelope struct {
	scope      Scope
	sh1        string
	encKey     []byte
	macKey     []byte
	ivKey      []byte
	reqNonce   []byte
	ephemeral  []byte
	Key        []byte // the 48-byte KEY_SECRET, exposed for tests against published vectors
	RequestTS  int64
	requestSet bool
}

func newEnvelope(sc Scope, sh1 string, z, eph []byte) *Envelope {
	// KDF info: SHARED_INFO_1 ‖ KEY_EPH_PUB, prefixed with the version since 3.2 (the 3.1 vectors fix the order).
	info := append(append([]byte(nil), sh1...), eph...)
	if sc.v32() {
		info = append([]byte(sc.Version), info...)
	}
	k := X963KDF(z, info, 48)
	return &Envelope{scope: sc, sh1: sh1, encKey: k[:16], macKey: k[16:32], ivKey: k[32:], ephemeral: eph, Key: k}
}

// sharedInfo2 for a request (with the ephemeral key) or a response (without).
func (e *Envelope) sharedInfo2(nonce []byte, ts int64, eph []byte) []byte {
	base := e.scope.sharedInfo2Base()
	if !e.scope.v32() {
		return base
	}
	var tsb [8]byte
	binary.BigEndian.PutUint64(tsb[:], uint64(ts))
	return concatWithSizes(base, nonce, tsb[:], eph, e.scope.associatedData())
}

func (e *Envelope) iv(nonce []byte) []byte {
	if e.scope.Version == "3.0" {
		return make([]byte, 16)
	}
	return KDFInternal(e.ivKey, nonce)
}

// DecryptRequest opens a request with the private key the client encrypted to (the temporary key in 3.3, the
// master or activation server key before).
func DecryptRequest(priv *ecdh.PrivateKey, sc Scope, sh1 string, p Payload) (*Envelope, []byte, error) {
	if len(p.EncryptedData) == 0 || len(p.EncryptedData)%aes.BlockSize != 0 || len(p.MAC) != sha256.Size {
		return nil, nil, ErrECIESPayload
	}
	if sc.Version != "3.0" && len(p.Nonce) != 16 {
		return nil, nil, ErrECIESPayload
	}
	pub, err := ParsePublicKey(p.EphemeralKey)
	if err != nil {
		return nil, nil, ErrECIESPayload
	}
	z, err := priv.ECDH(pub)
	if err != nil {
		return nil, nil, ErrECIESPayload
	}
	e := newEnvelope(sc, sh1, z, p.EphemeralKey)
	mac := HMAC(e.macKey, p.EncryptedData, e.sharedInfo2(p.Nonce, p.Timestamp, p.EphemeralKey))
	if !hmac.Equal(mac, p.MAC) {
		return nil, nil, ErrECIESMAC
	}
	plain, err := cbcDecrypt(e.encKey, e.iv(p.Nonce), p.EncryptedData)
	if err != nil {
		return nil, nil, ErrECIESPayload
	}
	e.reqNonce, e.RequestTS, e.requestSet = p.Nonce, p.Timestamp, true
	return e, plain, nil
}

// EncryptRequest is the client side (used by tests and by the Go client in e2e).
func EncryptRequest(pub *ecdh.PublicKey, sc Scope, sh1 string, plain []byte, ts int64) (*Envelope, Payload) {
	eph := GenerateKey()
	z, err := eph.ECDH(pub)
	if err != nil {
		panic(err)
	}
	ephBytes := eph.PublicKey().Bytes()
	e := newEnvelope(sc, sh1, z, ephBytes)
	p := Payload{EphemeralKey: ephBytes}
	if sc.Version != "3.0" {
		p.Nonce = randomBytes(16)
	}
	if sc.v32() {
		p.Timestamp = ts
	}
	p.EncryptedData = cbcEncrypt(e.encKey, e.iv(p.Nonce), plain)
	p.MAC = HMAC(e.macKey, p.EncryptedData, e.sharedInfo2(p.Nonce, p.Timestamp, ephBytes))
	e.reqNonce, e.RequestTS, e.requestSet = p.Nonce, p.Timestamp, true
	return e, p
}

// EncryptResponse seals the answer to the request e was opened from. 3.2+ answers get their own nonce and
// timestamp; 3.0/3.1 reuse the request's IV.
func (e *Envelope) EncryptResponse(plain []byte, ts int64) Payload {
	var p Payload
	nonce := e.reqNonce
	if e.scope.v32() {
		nonce = randomBytes(16)
		p.Nonce, p.Timestamp = nonce, ts
	}
	p.EncryptedData = cbcEncrypt(e.encKey, e.iv(nonce), plain)
	p.MAC = HMAC(e.macKey, p.EncryptedData, e.sharedInfo2(p.Nonce, p.Timestamp, nil))
	return p
}

// DecryptResponse opens a response with the envelope of its request (client side).
func (e *Envelope) DecryptResponse(p Payload) ([]byte, error) {
	if len(p.EncryptedData) == 0 || len(p.EncryptedData)%aes.BlockSize != 0 || len(p.MAC) != sha256.Size {
		return nil, ErrECIESPayload
	}
	nonce := e.reqNonce
	if e.scope.v32() {
		if len(p.Nonce) != 16 {
			return nil, ErrECIESPayload
		}
		nonce = p.Nonce
	}
	mac := HMAC(e.macKey, p.EncryptedData, e.sharedInfo2(p.Nonce, p.Timestamp, nil))
	if !hmac.Equal(mac, p.MAC) {
		return nil, ErrECIESMAC
	}
	return cbcDecrypt(e.encKey, e.iv(nonce), p.EncryptedData)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// cbcEncrypt is AES/CBC/PKCS7Padding.
func cbcEncrypt(key, iv, plain []byte) []byte {
	c, _ := aes.NewCipher(key)
	pad := aes.BlockSize - len(plain)%aes.BlockSize
	buf := append(append([]byte(nil), plain...), bytes.Repeat([]byte{byte(pad)}, pad)...)
	cipher.NewCBCEncrypter(c, iv).CryptBlocks(buf, buf)
	return buf
}

func cbcDecrypt(key, iv, data []byte) ([]byte, error) {
	if len(data) == 0 || len(data)%aes.BlockSize != 0 {
		return nil, ErrECIESPayload
	}
	c, _ := aes.NewCipher(key)
	buf := make([]byte, len(data))
	cipher.NewCBCDecrypter(c, iv).CryptBlocks(buf, data)
	pad := int(buf[len(buf)-1])
	if pad == 0 || pad > aes.BlockSize {
		return nil, ErrECIESPayload
	}
	for _, b := range buf[len(buf)-pad:] {
		if int(b) != pad {
			return nil, ErrECIESPayload
		}
	}
	return buf[:len(buf)-pad], nil
}

// CBCNoPadding encrypts whole blocks (the status blob).
func CBCNoPadding(key, iv, data []byte) []byte {
	c, _ := aes.NewCipher(key)
	out := make([]byte, len(data))
	cipher.NewCBCEncrypter(c, iv).CryptBlocks(out, data)
	return out
}

// CBCNoPaddingDecrypt is its inverse.
func CBCNoPaddingDecrypt(key, iv, data []byte) []byte {
	c, _ := aes.NewCipher(key)
	out := make([]byte, len(data))
	cipher.NewCBCDecrypter(c, iv).CryptBlocks(out, data)
	return out
}
