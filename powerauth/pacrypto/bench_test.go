package pacrypto

import (
	"bytes"
	"testing"
)

// BenchmarkVerifySignatureWorstCase: a possession_knowledge signature that matches nothing, so all 20 counter
// values of the look-ahead window are tried (what a wrong signature costs the server).
func BenchmarkVerifySignatureWorstCase(b *testing.B) {
	k := Keys{Possession: bytes.Repeat([]byte{1}, 16), Knowledge: bytes.Repeat([]byte{2}, 16)}
	data := NormalizedData("POST", "/pa/token/create", "AAAAAAAAAAAAAAAAAAAAAA==", bytes.Repeat([]byte{'x'}, 200), "c2VjcmV0c2VjcmV0c2VjcmV0")
	ctr := bytes.Repeat([]byte{3}, 16)
	for b.Loop() {
		VerifySignature("3.3", data, PossessionKnowledge.FactorKeys(k), ctr, 20, "nope")
	}
}

// BenchmarkECIESDecryptRequest: the server's cost of opening one token-create payload (ECDH, KDF, MAC, AES).
func BenchmarkECIESDecryptRequest(b *testing.B) {
	priv := GenerateKey()
	sc := Scope{Version: "3.3", AppKey: "k", AppSecret: "s", ActivationID: "a", TempKeyID: "t", TransportKey: bytes.Repeat([]byte{9}, 16)}
	_, p := EncryptRequest(priv.PublicKey(), sc, SharedInfoTokenCreate, []byte("{}"), 1)
	for b.Loop() {
		if _, _, err := DecryptRequest(priv, sc, SharedInfoTokenCreate, p); err != nil {
			b.Fatal(err)
		}
	}
}
