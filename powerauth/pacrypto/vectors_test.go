package pacrypto

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"strconv"
	"testing"
)

// vectors reads one of the published test-vector files: {"data":[{"input":{…},"output":{…}}]}.
func vectors(t *testing.T, name string) []struct{ In, Out map[string]string } {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Data []struct {
			Input  map[string]string `json:"input"`
			Output map[string]string `json:"output"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Data) == 0 {
		t.Fatalf("%s: no vectors", name)
	}
	out := make([]struct{ In, Out map[string]string }, len(f.Data))
	for i, d := range f.Data {
		out[i].In, out[i].Out = d.Input, d.Output
	}
	return out
}

func b64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("base64 %q: %v", s, err)
	}
	return b
}

func TestDerivedKeysVectors(t *testing.T) {
	for i, v := range vectors(t, "compute-derived-keys.json") {
		k := DeriveKeys(b64(t, v.In["masterSecretKey"]))
		for name, got := range map[string][]byte{"signaturePossessionKey": k.Possession, "signatureKnowledgeKey": k.Knowledge,
			"signatureBiometryKey": k.Biometry, "transportKey": k.Transport, "vaultEncryptionKey": k.Vault} {
			if want := v.Out[name]; base64.StdEncoding.EncodeToString(got) != want {
				t.Errorf("vector %d %s = %x, want %s", i, name, got, want)
			}
		}
	}
}

func TestMasterSecretVectors(t *testing.T) {
	for i, v := range vectors(t, "compute-master-secret-key.json") {
		devPriv, err := ParsePrivateKey(b64(t, v.In["devicePrivateKey"]))
		if err != nil {
			t.Fatal(err)
		}
		srvPriv, err := ParsePrivateKey(b64(t, v.In["serverPrivateKey"]))
		if err != nil {
			t.Fatal(err)
		}
		devPub, err := ParsePublicKey(b64(t, v.In["devicePublicKey"]))
		if err != nil {
			t.Fatal(err)
		}
		srvPub, err := ParsePublicKey(b64(t, v.In["serverPublicKey"]))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(devPriv.PublicKey().Bytes(), devPub.Bytes()) || !bytes.Equal(srvPriv.PublicKey().Bytes(), srvPub.Bytes()) {
			t.Fatalf("vector %d: private and public keys do not pair", i)
		}
		server, _ := MasterSecret(srvPriv, devPub)
		client, _ := MasterSecret(devPriv, srvPub)
		want := v.Out["masterSecretKey"]
		if base64.StdEncoding.EncodeToString(server) != want || !bytes.Equal(server, client) {
			t.Errorf("vector %d: master secret %x / %x, want %s", i, server, client, want)
		}
	}
}

func testSignatures(t *testing.T, file, version string) {
	for i, v := range vectors(t, file) {
		typ, ok := ParseSignatureType(v.In["signatureType"])
		if !ok {
			t.Fatalf("vector %d: type %q", i, v.In["signatureType"])
		}
		k := Keys{Possession: b64(t, v.In["signaturePossessionKey"]), Knowledge: b64(t, v.In["signatureKnowledgeKey"]),
			Biometry: b64(t, v.In["signatureBiometryKey"])}
		ctr, data := b64(t, v.In["counterData"]), b64(t, v.In["data"])
		want := v.Out["signature"]
		if got := Signature(version, data, typ.FactorKeys(k), ctr); got != want {
			t.Errorf("%s vector %d (%s): %s, want %s", file, i, typ, got, want)
		}
		// The server finds it a few counter steps behind the client, and not with another factor's key.
		behind := ctr
		steps, matched, err := VerifySignature(version, data, typ.FactorKeys(k), behind, 20, want)
		if err != nil || steps != 0 || !bytes.Equal(matched, ctr) {
			t.Errorf("vector %d: verify %d %v", i, steps, err)
		}
		wrong := Keys{Possession: k.Knowledge, Knowledge: k.Biometry, Biometry: k.Possession}
		if _, _, err := VerifySignature(version, data, typ.FactorKeys(wrong), ctr, 20, want); err == nil {
			t.Errorf("vector %d: verified with the wrong factor keys", i)
		}
	}
}

func TestSignatureVectors30Decimal(t *testing.T) { testSignatures(t, "signatures-v3.json", "3.0") }
func TestSignatureVectors31Base64(t *testing.T)  { testSignatures(t, "signatures-v31.json", "3.1") }

func TestLookAheadWindow(t *testing.T) {
	k := [][]byte{bytes.Repeat([]byte{1}, 16)}
	ctr := bytes.Repeat([]byte{7}, 16)
	ahead := ctr
	for range 5 {
		ahead = NextCtrData(ahead)
	}
	sig := Signature("3.3", []byte("data"), k, ahead)
	steps, matched, err := VerifySignature("3.3", []byte("data"), k, ctr, 20, sig)
	if err != nil || steps != 5 || !bytes.Equal(matched, ahead) {
		t.Fatalf("5 ahead: %d %v", steps, err)
	}
	if _, _, err := VerifySignature("3.3", []byte("data"), k, ctr, 5, sig); err == nil {
		t.Fatal("found outside the window")
	}
}

func TestStatusBlobVectors(t *testing.T) {
	for i, v := range vectors(t, "activation-status-blob-iv.json") {
		got := StatusIV(b64(t, v.In["transportKey"]), b64(t, v.In["challenge"]), b64(t, v.In["nonce"]))
		if base64.StdEncoding.EncodeToString(got) != v.Out["iv"] {
			t.Errorf("iv vector %d: %x want %s", i, got, v.Out["iv"])
		}
	}
	for i, v := range vectors(t, "activation-status-blob-data.json") {
		tk, ch, nonce, ctr := b64(t, v.In["transportKey"]), b64(t, v.In["challenge"]), b64(t, v.In["nonce"]), b64(t, v.In["ctrData"])
		plain := CBCNoPaddingDecrypt(tk, StatusIV(tk, ch, nonce), b64(t, v.In["encryptedStatusBlob"]))
		blob, ok := ParseStatusBlob(plain)
		if !ok {
			t.Fatalf("blob %d: bad magic %x", i, plain)
		}
		n := func(k string) byte { x, _ := strconv.Atoi(v.Out[k]); return byte(x) }
		if blob.Status != n("activationStatus") || blob.CurrentVersion != n("currentVersion") || blob.UpgradeVersion != n("upgradeVersion") ||
			blob.FailCount != n("failedAttempts") || blob.MaxFailCount != n("maxFailedAttempts") || blob.CtrLookAhead != n("ctrLookAhead") ||
			blob.CtrByte != n("ctrByte") {
			t.Errorf("blob %d: %+v, want %v", i, blob, v.Out)
		}
		if base64.StdEncoding.EncodeToString(blob.CtrDataHash) != v.Out["ctrDataHash"] {
			t.Errorf("blob %d: ctr hash %x want %s", i, blob.CtrDataHash, v.Out["ctrDataHash"])
		}
		// The blob's counter hash is of the server's ctr_data; the vector's ctrData is the client's,
		// counterDistance steps ahead (the client looks back that far to resynchronize).
		dist, _ := strconv.Atoi(v.Out["counterDistance"])
		server := ctr
		found := -1
		for d := 0; d <= 40 && found < 0; d++ {
			if bytes.Equal(CtrDataHash(tk, server), blob.CtrDataHash) {
				found = d
			}
			server = NextCtrData(server)
		}
		if found != dist {
			t.Errorf("blob %d: server counter %d steps ahead, want %d", i, found, dist)
		}
		// Our layout equals the published plaintext except the five reserved bytes, which Wultra's server fills.
		mine := blob.Bytes()
		copy(mine[7:12], plain[7:12])
		if !bytes.Equal(mine, plain) {
			t.Errorf("blob %d: layout %x, want %x", i, mine, plain)
		}
	}
}

func TestFingerprintVectors(t *testing.T) {
	for i, v := range vectors(t, "public-key-fingerprint-v3.json") {
		got := Fingerprint(b64(t, v.In["devicePublicKey"]), b64(t, v.In["serverPublicKey"]), v.Out["activationId"])
		if got != v.Out["fingerprint"] {
			t.Errorf("vector %d: %s want %s", i, got, v.Out["fingerprint"])
		}
	}
}

func TestActivationSignatureVectors(t *testing.T) {
	for i, v := range vectors(t, "verify-activation-data-signature-v3.json") {
		priv, err := ParsePrivateKey(b64(t, v.In["masterPrivateKey"]))
		if err != nil {
			t.Fatal(err)
		}
		pub, err := ParsePublicKey(b64(t, v.In["masterPublicKey"]))
		if err != nil || !bytes.Equal(pub.Bytes(), priv.PublicKey().Bytes()) {
			t.Fatalf("vector %d: key pair", i)
		}
		code := v.In["activationCode"]
		if !ValidActivationCode(code) {
			t.Errorf("vector %d: code %s refused", i, code)
		}
		if !VerifyDER(pub, []byte(code), b64(t, v.Out["activationSignature"])) {
			t.Errorf("vector %d: published signature does not verify", i)
		}
		if !VerifyDER(pub, []byte(code), SignDER(priv, []byte(code))) {
			t.Errorf("vector %d: our signature does not verify", i)
		}
	}
}

func TestActivationCodes(t *testing.T) {
	// Activation-Code.md, "Test values".
	for _, c := range []string{"AAAAA-AAAAA-AAAAA-AAAAA", "LLLLL-LLLLL-LLLLL-LQJTA", "KKKKK-KKKKK-KKKKK-KDJNQ",
		"MMMMM-MMMMM-MMMMM-MUTOA", "VVVVV-VVVVV-VVVVV-VTFVA", "55555-55555-55555-55YMA", "W65WE-3T7VI-7FBS2-A4OYA",
		"DD7P5-SY4RW-XHSNB-GO52A", "X3TS3-TI35Z-JZDNT-TRPFA", "HCPJX-U4QC4-7UISL-NJYMA", "XHGSM-KYQDT-URE34-UZGWQ",
		"45AWJ-BVACS-SBWHS-ABANA"} {
		if !ValidActivationCode(c) {
			t.Errorf("%s refused", c)
		}
	}
	for _, c := range []string{"AAAAA-AAAAA-AAAAB-AAAAA", "VVVVV-VVVVV-VVVVV-VTFVQ", "AAAAA-AAAAA-AAAAA-AAAA", "aaaaa-aaaaa-aaaaa-aaaaa", "AAAAAAAAAAAAAAAAAAAAAAA"} {
		if ValidActivationCode(c) {
			t.Errorf("%s accepted", c)
		}
	}
	for range 50 {
		if c := NewActivationCode(); !ValidActivationCode(c) {
			t.Fatalf("generated %s refused", c)
		}
	}
}
