package pacrypto

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
)

type eciesVectorFile struct {
	MasterServerPrivateKey, MasterServerPublicKey, ServerPrivateKey, ServerPublicKey string
	TempKeyIDApplication                                                             string `json:"tempKeyIdApplication"`
	TempKeyIDActivation                                                              string `json:"tempKeyIdActivation"`
	ActivationID                                                                     string `json:"activationId"`
	ApplicationKey, ApplicationSecret, TransportKey                                  string
	Data                                                                             []struct {
		Scope, SharedInfo1, PlainRequest, PlainResponse, EnvelopeKey string
		Request                                                      struct {
			TemporaryKeyID                                string `json:"temporaryKeyId"`
			EphemeralPublicKey, EncryptedData, MAC, Nonce string
			Timestamp                                     int64
		}
		Response struct {
			EncryptedData, MAC, Nonce string
			Timestamp                 int64
		}
	}
}

func TestECIESVectors33(t *testing.T) {
	raw, err := os.ReadFile("testdata/ecies-v33.json")
	if err != nil {
		t.Fatal(err)
	}
	var f eciesVectorFile
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	master, err := ParsePrivateKey(b64(t, f.MasterServerPrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	server, err := ParsePrivateKey(b64(t, f.ServerPrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range f.Data {
		sc := Scope{Version: "3.3", AppKey: f.ApplicationKey, AppSecret: f.ApplicationSecret, TempKeyID: v.Request.TemporaryKeyID}
		priv := master
		if v.Scope == "activation" {
			sc.ActivationID, sc.TransportKey, priv = f.ActivationID, b64(t, f.TransportKey), server
		}
		p := Payload{EphemeralKey: b64(t, v.Request.EphemeralPublicKey), EncryptedData: b64(t, v.Request.EncryptedData),
			MAC: b64(t, v.Request.MAC), Nonce: b64(t, v.Request.Nonce), Timestamp: v.Request.Timestamp}
		env, plain, err := DecryptRequest(priv, sc, v.SharedInfo1, p)
		if err != nil {
			t.Fatalf("vector %d: %v", i, err)
		}
		if !bytes.Equal(plain, b64(t, v.PlainRequest)) || !bytes.Equal(env.Key, b64(t, v.EnvelopeKey)) {
			t.Errorf("vector %d: plaintext or envelope key differs", i)
		}
		resp := Payload{EncryptedData: b64(t, v.Response.EncryptedData), MAC: b64(t, v.Response.MAC),
			Nonce: b64(t, v.Response.Nonce), Timestamp: v.Response.Timestamp}
		got, err := env.DecryptResponse(resp)
		if err != nil || !bytes.Equal(got, b64(t, v.PlainResponse)) {
			t.Errorf("vector %d: response: %v", i, err)
		}

		// Each field is covered: a changed byte anywhere is refused.
		for name, mutate := range map[string]func(*Payload, *Scope){
			"data":      func(p *Payload, _ *Scope) { p.EncryptedData = flip(p.EncryptedData) },
			"mac":       func(p *Payload, _ *Scope) { p.MAC = flip(p.MAC) },
			"nonce":     func(p *Payload, _ *Scope) { p.Nonce = flip(p.Nonce) },
			"timestamp": func(p *Payload, _ *Scope) { p.Timestamp++ },
			"tempKey":   func(_ *Payload, s *Scope) { s.TempKeyID += "x" },
			"appKey":    func(_ *Payload, s *Scope) { s.AppKey = "x" + s.AppKey },
			"sh1":       nil,
		} {
			q, s, sh1 := p, sc, v.SharedInfo1
			if mutate == nil {
				sh1 += "/"
			} else {
				mutate(&q, &s)
			}
			if _, _, err := DecryptRequest(priv, s, sh1, q); err == nil {
				t.Errorf("vector %d: %s changed, still accepted", i, name)
			}
		}
	}
}

func flip(b []byte) []byte {
	c := append([]byte(nil), b...)
	c[len(c)/2] ^= 1
	return c
}

// Our own client and server agree in every version, both directions.
func TestECIESRoundTrip(t *testing.T) {
	priv := GenerateKey()
	for _, version := range []string{"3.0", "3.1", "3.2", "3.3"} {
		for _, act := range []bool{false, true} {
			sc := Scope{Version: version, AppKey: "WQBeNgCHGlW58rzUlP7Ehg==", AppSecret: "Epbv1D+tibvvkqGIyDOT5g=="}
			if version == "3.3" {
				sc.TempKeyID = "k1"
			}
			if act {
				sc.ActivationID, sc.TransportKey = "a", bytes.Repeat([]byte{9}, 16)
			}
			cenv, p := EncryptRequest(priv.PublicKey(), sc, SharedInfoTokenCreate, []byte("{}"), 1700000000000)
			senv, plain, err := DecryptRequest(priv, sc, SharedInfoTokenCreate, p)
			if err != nil || string(plain) != "{}" {
				t.Fatalf("%s %v: %v %q", version, act, err, plain)
			}
			r := senv.EncryptResponse([]byte(`{"ok":1}`), 1700000000001)
			got, err := cenv.DecryptResponse(r)
			if err != nil || string(got) != `{"ok":1}` {
				t.Fatalf("%s %v: response %v", version, act, err)
			}
		}
	}
}

// The 3.1 vectors (request nonce, response under the request's IV, no timestamps or associated data).
func TestECIESVectors31(t *testing.T) {
	raw, err := os.ReadFile("testdata/ecies-v31.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		PrivateKey string
		Data       []struct {
			Request, Response, SharedInfo1, SharedInfo2, Eph, MAC, Encrypted, Nonce, ResponseMAC, ResponseEncrypted string
		}
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	priv, err := ParsePrivateKey(b64(t, f.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range f.Data {
		sc := Scope{Version: "3.1", rawSharedInfo2: append([]byte{}, b64(t, v.SharedInfo2)...)}
		env, plain, err := DecryptRequest(priv, sc, string(b64(t, v.SharedInfo1)), Payload{EphemeralKey: b64(t, v.Eph),
			EncryptedData: b64(t, v.Encrypted), MAC: b64(t, v.MAC), Nonce: b64(t, v.Nonce)})
		if err != nil {
			t.Fatalf("vector %d: %v", i, err)
		}
		if !bytes.Equal(plain, b64(t, v.Request)) {
			t.Errorf("vector %d: request %q", i, plain)
		}
		r := env.EncryptResponse(b64(t, v.Response), 0)
		if !bytes.Equal(r.EncryptedData, b64(t, v.ResponseEncrypted)) || !bytes.Equal(r.MAC, b64(t, v.ResponseMAC)) {
			t.Errorf("vector %d: response differs", i)
		}
	}
}
