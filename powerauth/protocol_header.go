package powerauth

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"strings"
)

// Headers of the PowerAuth protocol.
const (
	// AuthorizationHeader carries a PowerAuth signature of the request.
	AuthorizationHeader = "X-PowerAuth-Authorization"
	// EncryptionHeader names the application (and activation) an ECIES-encrypted request is for.
	EncryptionHeader = "X-PowerAuth-Encryption"
)

// ErrProtocolHeader is a signature or encryption header that does not parse.
var ErrProtocolHeader = errors.New("powerauth: malformed protocol header")

// SignatureHeader is X-PowerAuth-Authorization: PowerAuth pa_activation_id="…", pa_application_key="…",
// pa_nonce="…", pa_signature_type="…", pa_signature="…", pa_version="3.3".
type SignatureHeader struct {
	ActivationID, AppKey, Nonce, SignatureType, Signature, Version string
}

// EncryptionFields is X-PowerAuth-Encryption: PowerAuth version="3.3" application_key="…" [activation_id="…"].
type EncryptionFields struct {
	Version, AppKey, ActivationID string
}

// parseFields splits a "PowerAuth k=v …" value with the token header's rules (any order, commas optional,
// quoted or bare, bounded, no repeated key) into a map.
func parseFields(v string) (map[string]string, error) {
	if len(v) > MaxHeaderLen {
		return nil, ErrProtocolHeader
	}
	rest, ok := strings.CutPrefix(strings.TrimSpace(v), headerPrefix)
	if !ok {
		return nil, ErrProtocolHeader
	}
	out := map[string]string{}
	for fields := 0; ; fields++ {
		rest = strings.TrimLeft(rest, " \t,")
		if rest == "" {
			return out, nil
		}
		if fields == maxFields {
			return nil, ErrProtocolHeader
		}
		key, value, r, err := nextField(rest)
		if err != nil {
			return nil, ErrProtocolHeader
		}
		if _, dup := out[key]; dup {
			return nil, ErrProtocolHeader
		}
		out[key], rest = value, r
	}
}

// ParseSignatureHeader parses and checks the presence of every field of a signature header.
func ParseSignatureHeader(v string) (SignatureHeader, error) {
	f, err := parseFields(v)
	if err != nil {
		return SignatureHeader{}, err
	}
	h := SignatureHeader{ActivationID: strings.ToLower(f["pa_activation_id"]), AppKey: f["pa_application_key"], Nonce: f["pa_nonce"],
		SignatureType: f["pa_signature_type"], Signature: f["pa_signature"], Version: f["pa_version"]}
	if h.ActivationID == "" || h.AppKey == "" || h.Nonce == "" || h.SignatureType == "" || h.Signature == "" || !knownVersion(h.Version) {
		return SignatureHeader{}, ErrProtocolHeader
	}
	return h, nil
}

// ParseEncryptionHeader parses an encryption header; activation_id is optional.
func ParseEncryptionHeader(v string) (EncryptionFields, error) {
	f, err := parseFields(v)
	if err != nil {
		return EncryptionFields{}, err
	}
	h := EncryptionFields{Version: f["version"], AppKey: f["application_key"], ActivationID: strings.ToLower(f["activation_id"])}
	if h.AppKey == "" || !knownVersion(h.Version) {
		return EncryptionFields{}, ErrProtocolHeader
	}
	return h, nil
}

func knownVersion(v string) bool { return v == "3.0" || v == "3.1" || v == "3.2" || v == "3.3" }

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func subtleEqual(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }
