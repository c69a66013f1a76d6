package pacrypto

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// SignatureType is pa_signature_type: which factor keys sign, in order.
type SignatureType string

const (
	Possession                  SignatureType = "possession"
	Knowledge                   SignatureType = "knowledge"
	Biometry                    SignatureType = "biometry"
	PossessionKnowledge         SignatureType = "possession_knowledge"
	PossessionBiometry          SignatureType = "possession_biometry"
	PossessionKnowledgeBiometry SignatureType = "possession_knowledge_biometry"
)

// ParseSignatureType accepts the header's value in any case, as the Java server does.
func ParseSignatureType(s string) (SignatureType, bool) {
	t := SignatureType(strings.ToLower(s))
	switch t {
	case Possession, Knowledge, Biometry, PossessionKnowledge, PossessionBiometry, PossessionKnowledgeBiometry:
		return t, true
	}
	return "", false
}

// FactorKeys picks the factor keys for t, in signing order.
func (t SignatureType) FactorKeys(k Keys) [][]byte {
	var out [][]byte
	for _, f := range strings.Split(string(t), "_") {
		switch f {
		case "possession":
			out = append(out, k.Possession)
		case "knowledge":
			out = append(out, k.Knowledge)
		case "biometry":
			out = append(out, k.Biometry)
		}
	}
	return out
}

// Enum is the Java enum name (POSSESSION_KNOWLEDGE), as PowerAuth stores a token's signature type.
func (t SignatureType) Enum() string { return strings.ToUpper(string(t)) }

// NextCtrData moves the hash-based counter one step: convert32Bto16B(SHA256(ctr)).
func NextCtrData(ctr []byte) []byte {
	h := sha256.Sum256(ctr)
	return Fold16(h[:])
}

// signatureComponents is computeSignatureComponents of Computing-and-Validating-Signatures.md.
func signatureComponents(data []byte, keys [][]byte, ctr []byte) [][]byte {
	out := make([][]byte, len(keys))
	for i := range keys {
		derived := HMAC(keys[i], ctr) // the docs' pseudo-code says keys[0]; the vectors say keys[i]
		for j := 0; j < i; j++ {
			current := HMAC(keys[j+1], ctr)
			derived = HMAC(current, derived)
		}
		out[i] = HMAC(derived, data)
	}
	return out
}

// Decimal reports whether version signs in the decimal format (3.0); 3.1 and later use Base64.
func Decimal(version string) bool { return version == "3.0" }

// Signature computes the online signature string for version: 8-digit decimal groups joined by "-" for 3.0,
// Base64 of the last 16 bytes of each component for 3.1+.
func Signature(version string, data []byte, keys [][]byte, ctr []byte) string {
	comps := signatureComponents(data, keys, ctr)
	if Decimal(version) {
		parts := make([]string, len(comps))
		for i, c := range comps {
			n := (binary.BigEndian.Uint32(c[len(c)-4:]) & 0x7fffffff) % 100000000
			parts[i] = fmt.Sprintf("%08d", n)
		}
		return strings.Join(parts, "-")
	}
	out := make([]byte, 0, 16*len(comps))
	for _, c := range comps {
		out = append(out, c[16:]...)
	}
	return base64.StdEncoding.EncodeToString(out)
}

// ErrSignature is a signature that matched no counter value in the look-ahead window.
var ErrSignature = errors.New("pacrypto: signature does not match")

// VerifySignature tries the counter values ctr, next(ctr), … (lookAhead of them) and returns how many steps
// ahead the match was; the caller stores NextCtrData of the matching value. Comparisons are constant time.
func VerifySignature(version string, data []byte, keys [][]byte, ctr []byte, lookAhead int, got string) (steps int, matched []byte, err error) {
	c := ctr
	for i := 0; i < lookAhead; i++ {
		want := Signature(version, data, keys, c)
		if hmac.Equal([]byte(want), []byte(got)) {
			return i, c, nil
		}
		c = NextCtrData(c)
	}
	return 0, nil, ErrSignature
}

// NormalizedData is the signed data of an HTTP request:
// METHOD & Base64(uriId) & nonce & Base64(body) & applicationSecret.
func NormalizedData(method, uriID, nonceB64 string, body []byte, appSecretB64 string) []byte {
	enc := base64.StdEncoding
	return []byte(strings.ToUpper(method) + "&" + enc.EncodeToString([]byte(uriID)) + "&" + nonceB64 + "&" +
		enc.EncodeToString(body) + "&" + appSecretB64)
}
