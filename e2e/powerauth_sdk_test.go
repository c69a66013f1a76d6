package e2e

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/powerauth/pacrypto"
)

// paSDK is a client that follows the steps of Wultra's mobile SDK (protocol 3.3) as powerauth-crypto documents
// them: the flow, the JSON and the headers are written here; the primitives come from pacrypto, which is checked
// against Wultra's published vectors.
type paSDK struct {
	t                    *testing.T
	url                  string
	appKey, appSecret    string
	masterPub            *ecdh.PublicKey
	device               *ecdh.PrivateKey
	activationID         string
	serverPub            *ecdh.PublicKey
	keys                 pacrypto.Keys
	ctr                  []byte
	history              [][]byte // every counter value the client had, the last one current
	appTempID, actTempID string
	appTemp, actTemp     *ecdh.PublicKey
}

var b64e = base64.StdEncoding

func (c *paSDK) post(path string, hdr map[string]string, body []byte) response {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.url+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return send(c.t, req)
}

func mustJSON(t *testing.T, r response, status int, v any) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("HTTP %d, want %d: %s", r.Status, status, r.Body)
	}
	if v != nil {
		if err := json.Unmarshal(r.Body, v); err != nil {
			t.Fatalf("%v: %s", err, r.Body)
		}
	}
}

// keystore asks /pa/v3/keystore/create for a temporary key of the application (activation false) or of the
// activation, checks the ES256 answer against the master or server public key, and keeps the key.
func (c *paSDK) keystore(activation bool) {
	c.t.Helper()
	secret, _ := b64e.DecodeString(c.appSecret)
	claims := map[string]string{"applicationKey": c.appKey, "challenge": b64e.EncodeToString(randBytes(16))}
	signKey, verifyKey := secret, c.masterPub
	if activation {
		claims["activationId"] = c.activationID
		signKey, verifyKey = pacrypto.KDFInternal(c.keys.Transport, secret), c.serverPub
	}
	cl, _ := json.Marshal(claims)
	enc := base64.RawURLEncoding
	input := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc.EncodeToString(cl)
	jwt := input + "." + enc.EncodeToString(pacrypto.HMAC(signKey, []byte(input)))
	body, _ := json.Marshal(map[string]any{"requestObject": map[string]string{"jwt": jwt}})
	var resp struct {
		ResponseObject struct {
			JWT string `json:"jwt"`
		} `json:"responseObject"`
	}
	mustJSON(c.t, c.post("/pa/v3/keystore/create", nil, body), 200, &resp)
	parts := strings.Split(resp.ResponseObject.JWT, ".")
	if len(parts) != 3 {
		c.t.Fatalf("keystore answer %q", resp.ResponseObject.JWT)
	}
	sig, _ := enc.DecodeString(parts[2])
	if !pacrypto.VerifyRaw(verifyKey, []byte(parts[0]+"."+parts[1]), sig) {
		c.t.Fatal("keystore answer not signed by the expected key")
	}
	payload, _ := enc.DecodeString(parts[1])
	var got struct {
		Sub, PublicKey, Challenge, ApplicationKey, ActivationID string
		ExpMS                                                   int64 `json:"exp_ms"`
	}
	if err := json.Unmarshal(payload, &got); err != nil || got.Challenge != claims["challenge"] || got.ApplicationKey != c.appKey ||
		got.ActivationID != claims["activationId"] || got.ExpMS <= time.Now().UnixMilli() {
		c.t.Fatalf("keystore claims %s", payload)
	}
	pubBytes, _ := b64e.DecodeString(got.PublicKey)
	pub, err := pacrypto.ParsePublicKey(pubBytes)
	if err != nil {
		c.t.Fatal(err)
	}
	if activation {
		c.actTempID, c.actTemp = got.Sub, pub
	} else {
		c.appTempID, c.appTemp = got.Sub, pub
	}
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

type paWire struct {
	TemporaryKeyID     string `json:"temporaryKeyId,omitempty"`
	EphemeralPublicKey string `json:"ephemeralPublicKey,omitempty"`
	EncryptedData      string `json:"encryptedData"`
	MAC                string `json:"mac"`
	Nonce              string `json:"nonce,omitempty"`
	Timestamp          int64  `json:"timestamp,omitempty"`
}

func wireOf(p pacrypto.Payload, tempID string) paWire {
	return paWire{TemporaryKeyID: tempID, EphemeralPublicKey: b64e.EncodeToString(p.EphemeralKey), EncryptedData: b64e.EncodeToString(p.EncryptedData),
		MAC: b64e.EncodeToString(p.MAC), Nonce: b64e.EncodeToString(p.Nonce), Timestamp: p.Timestamp}
}

func (c *paSDK) open(env *pacrypto.Envelope, w paWire) []byte {
	c.t.Helper()
	var p pacrypto.Payload
	p.EncryptedData, _ = b64e.DecodeString(w.EncryptedData)
	p.MAC, _ = b64e.DecodeString(w.MAC)
	p.Nonce, _ = b64e.DecodeString(w.Nonce)
	p.Timestamp = w.Timestamp
	plain, err := env.DecryptResponse(p)
	if err != nil {
		c.t.Fatalf("response does not open: %v", err)
	}
	return plain
}

func (c *paSDK) appScope() pacrypto.Scope {
	return pacrypto.Scope{Version: "3.3", AppKey: c.appKey, AppSecret: c.appSecret, TempKeyID: c.appTempID}
}

func (c *paSDK) actScope() pacrypto.Scope {
	return pacrypto.Scope{Version: "3.3", AppKey: c.appKey, AppSecret: c.appSecret, TempKeyID: c.actTempID,
		ActivationID: c.activationID, TransportKey: c.keys.Transport}
}

// activationBody builds the two ECIES layers of /pa/v3/activation/create.
func (c *paSDK) activationBody(code, otp string) (env1, env2 *pacrypto.Envelope, body []byte) {
	l2, _ := json.Marshal(map[string]string{"devicePublicKey": b64e.EncodeToString(c.device.PublicKey().Bytes()),
		"activationName": "Go SDK client", "activationOtp": otp, "platform": "unknown", "deviceInfo": "go-test"})
	now := time.Now().UnixMilli()
	env2, p2 := pacrypto.EncryptRequest(c.appTemp, c.appScope(), pacrypto.SharedInfoActivation2, l2, now)
	l1, _ := json.Marshal(map[string]any{"type": "CODE", "identityAttributes": map[string]string{"code": code},
		"activationData": wireOf(p2, c.appTempID)})
	env1, p1 := pacrypto.EncryptRequest(c.appTemp, c.appScope(), pacrypto.SharedInfoApplication, l1, now)
	body, _ = json.Marshal(wireOf(p1, c.appTempID))
	return env1, env2, body
}

func (c *paSDK) encryptionHeader() map[string]string {
	return map[string]string{"X-PowerAuth-Encryption": `PowerAuth version="3.3" application_key="` + c.appKey + `"`}
}

func (c *paSDK) activate(code string) {
	c.t.Helper()
	c.device = pacrypto.GenerateKey()
	env1, env2, body := c.activationBody(code, "")
	var outer paWire
	mustJSON(c.t, c.post("/pa/v3/activation/create", c.encryptionHeader(), body), 200, &outer)
	var l1 struct {
		ActivationData paWire `json:"activationData"`
	}
	if err := json.Unmarshal(c.open(env1, outer), &l1); err != nil {
		c.t.Fatal(err)
	}
	var l2 struct{ ActivationID, ServerPublicKey, CtrData string }
	if err := json.Unmarshal(c.open(env2, l1.ActivationData), &l2); err != nil {
		c.t.Fatal(err)
	}
	pub, _ := b64e.DecodeString(l2.ServerPublicKey)
	var err error
	if c.serverPub, err = pacrypto.ParsePublicKey(pub); err != nil {
		c.t.Fatal(err)
	}
	master, err := pacrypto.MasterSecret(c.device, c.serverPub)
	if err != nil {
		c.t.Fatal(err)
	}
	c.activationID, c.keys = l2.ActivationID, pacrypto.DeriveKeys(master)
	c.ctr, _ = b64e.DecodeString(l2.CtrData)
	c.history = [][]byte{c.ctr}
}

// status returns the decrypted status blob.
func (c *paSDK) status() pacrypto.StatusBlob {
	c.t.Helper()
	challenge := randBytes(16)
	body, _ := json.Marshal(map[string]any{"requestObject": map[string]string{"activationId": c.activationID,
		"challenge": b64e.EncodeToString(challenge)}})
	var resp struct {
		Status         string
		ResponseObject struct{ EncryptedStatusBlob, Nonce string }
	}
	mustJSON(c.t, c.post("/pa/v3/activation/status", nil, body), 200, &resp)
	blob, _ := b64e.DecodeString(resp.ResponseObject.EncryptedStatusBlob)
	nonce, _ := b64e.DecodeString(resp.ResponseObject.Nonce)
	if len(blob) != 32 {
		c.t.Fatalf("status blob %d bytes", len(blob))
	}
	st, ok := pacrypto.ParseStatusBlob(pacrypto.CBCNoPaddingDecrypt(c.keys.Transport, pacrypto.StatusIV(c.keys.Transport, challenge, nonce), blob))
	if !ok {
		c.t.Fatal("status blob does not decrypt")
	}
	return st
}

// sign makes X-PowerAuth-Authorization over body and moves the local counter, as the SDK does.
func (c *paSDK) sign(uriID string, body []byte, typ pacrypto.SignatureType, keys pacrypto.Keys) map[string]string {
	nonce := b64e.EncodeToString(randBytes(16))
	data := pacrypto.NormalizedData("POST", uriID, nonce, body, c.appSecret)
	sig := pacrypto.Signature("3.3", data, typ.FactorKeys(keys), c.ctr)
	c.ctr = pacrypto.NextCtrData(c.ctr)
	c.history = append(c.history, c.ctr)
	return map[string]string{"X-PowerAuth-Authorization": `PowerAuth pa_activation_id="` + c.activationID + `", pa_application_key="` +
		c.appKey + `", pa_nonce="` + nonce + `", pa_signature_type="` + string(typ) + `", pa_signature="` + sig + `", pa_version="3.3"`}
}

func (c *paSDK) tokenRequest() (*pacrypto.Envelope, []byte) {
	env, p := pacrypto.EncryptRequest(c.actTemp, c.actScope(), pacrypto.SharedInfoTokenCreate, []byte("{}"), time.Now().UnixMilli())
	body, _ := json.Marshal(wireOf(p, c.actTempID))
	return env, body
}

func paErr(code, message string) string {
	return `{"status":"ERROR","responseObject":{"code":"` + code + `","message":"` + message + `"}}`
}

func mustPAErr(t *testing.T, what string, r response, status int, code, message string) {
	t.Helper()
	if want := paErr(code, message); r.Status != status || strings.TrimSpace(string(r.Body)) != want {
		t.Fatalf("%s: HTTP %d %s; want %d %s", what, r.Status, r.Body, status, want)
	}
}

// TestPowerAuthSDKFlow: an application and an activation code from the CLI; then the SDK's steps against the
// built binary: temporary keys, activation create, status, token create with a possession signature, token use,
// token remove, activation remove; bad input refused with PowerAuth's codes and nothing changed.
func TestPowerAuthSDKFlow(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	srv.mustCLI(t, "alice-password\n", "user", "add", "alice", "--password-stdin")
	out := srv.mustCLI(t, "", "powerauth", "app", "add", "mobile-banking")
	field := func(out, name string) string {
		m := regexp.MustCompile(`(?m)^` + name + `:\s+(\S+)$`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no %s in %q", name, out)
		}
		return m[1]
	}
	c := &paSDK{t: t, url: srv.URL, appKey: field(out, "application key"), appSecret: field(out, "application secret")}
	mp, _ := b64e.DecodeString(field(out, "master public key"))
	var err error
	if c.masterPub, err = pacrypto.ParsePublicKey(mp); err != nil {
		t.Fatal(err)
	}
	init := srv.mustCLI(t, "", "powerauth", "activation", "init", "--app", "mobile-banking", "--user", "alice")
	code, codeSig := field(init, "activation code"), field(init, "activation signature")
	sigBytes, _ := b64e.DecodeString(codeSig)
	if !pacrypto.VerifyDER(c.masterPub, []byte(code), sigBytes) { // the SDK checks the code's signature when scanned
		t.Fatal("activation signature does not verify with the master public key")
	}

	c.keystore(false)
	// A wrong code: ERR_ACTIVATION, the activation stays waiting.
	c.device = pacrypto.GenerateKey()
	_, _, body := c.activationBody("AAAAA-AAAAA-AAAAA-AAAAA", "")
	mustPAErr(t, "unknown code", c.post("/pa/v3/activation/create", c.encryptionHeader(), body), 400, "ERR_ACTIVATION", "POWER_AUTH_ACTIVATION_INVALID")
	c.activate(code)
	if out := srv.mustCLI(t, "", "powerauth", "activation", "list", "--user", "alice"); !strings.Contains(out, c.activationID) ||
		!strings.Contains(out, "active") || !strings.Contains(out, "Go SDK client") {
		t.Fatalf("activation list = %q", out)
	}
	// The code is spent.
	c2 := *c
	c2.device = pacrypto.GenerateKey()
	_, _, body = c2.activationBody(code, "")
	mustPAErr(t, "code reused", c.post("/pa/v3/activation/create", c.encryptionHeader(), body), 400, "ERR_ACTIVATION", "POWER_AUTH_ACTIVATION_INVALID")

	st := c.status()
	if st.Status != pacrypto.StatusActive || st.FailCount != 0 || st.MaxFailCount != 5 || st.CtrLookAhead != 20 ||
		!bytes.Equal(st.CtrDataHash, pacrypto.CtrDataHash(c.keys.Transport, c.ctr)) {
		t.Fatalf("status %+v", st)
	}

	c.keystore(true)
	env, body := c.tokenRequest()
	var enc paWire
	mustJSON(t, c.post("/pa/v3/token/create", c.sign("/pa/token/create", body, pacrypto.Possession, c.keys), body), 200, &enc)
	var tok struct{ TokenID, TokenSecret string }
	if err := json.Unmarshal(c.open(env, enc), &tok); err != nil || tok.TokenID == "" {
		t.Fatalf("token %s %v", c.open(env, enc), err)
	}
	secret, _ := b64e.DecodeString(tok.TokenSecret)
	if r := paVerify(t, srv.URL, paClientHeader(tok.TokenID, secret, "3.3")); r.Status != 200 {
		t.Fatalf("token use: %s", r)
	}
	if out := srv.mustCLI(t, "", "powerauth", "token", "list", "--activation", c.activationID); !strings.Contains(out, tok.TokenID) {
		t.Fatalf("token list = %q", out)
	}
	tokens := func() int {
		return strings.Count(srv.mustCLI(t, "", "powerauth", "token", "list", "--activation", c.activationID), c.activationID)
	}

	// Replayed ECIES nonce: the same encrypted body with a fresh, valid signature.
	before := c.status()
	mustPAErr(t, "replayed ECIES body", c.post("/pa/v3/token/create", c.sign("/pa/token/create", body, pacrypto.Possession, c.keys), body),
		400, "ERR_ENCRYPTION", "POWER_AUTH_ENCRYPTION_FAILED")
	c.undo() // the server never checked that signature
	// Tampered MAC.
	_, body = c.tokenRequest()
	var w paWire
	json.Unmarshal(body, &w)
	macBytes, _ := b64e.DecodeString(w.MAC)
	macBytes[0] ^= 1
	w.MAC = b64e.EncodeToString(macBytes)
	tampered, _ := json.Marshal(w)
	mustPAErr(t, "tampered MAC", c.post("/pa/v3/token/create", c.sign("/pa/token/create", tampered, pacrypto.Possession, c.keys), tampered),
		400, "ERR_ENCRYPTION", "POWER_AUTH_ENCRYPTION_FAILED")
	c.undo()
	// Unknown temporary key.
	w.TemporaryKeyID, w.MAC = "d6561669-34d6-4fee-8913-89477687a5cb", b64e.EncodeToString(macBytes)
	unknown, _ := json.Marshal(w)
	mustPAErr(t, "unknown temporary key", c.post("/pa/v3/token/create", c.sign("/pa/token/create", unknown, pacrypto.Possession, c.keys), unknown),
		400, "ERR_TEMPORARY_KEY", "POWER_AUTH_TEMPORARY_KEY_FAILURE")
	c.undo()
	if after := c.status(); !bytes.Equal(after.CtrDataHash, before.CtrDataHash) || after.FailCount != 0 || tokens() != 1 {
		t.Fatalf("refused payloads changed something: %+v -> %+v", before, after)
	}

	// Wrong counter (a signature with a value the server is already past) and wrong factor (a wrong PIN's
	// knowledge key): 401, no token, the failed attempts counted as PowerAuth counts them.
	_, body = c.tokenRequest()
	saved := c.history
	c.ctr = c.history[len(c.history)-2] // the value of the last accepted signature: the server is past it
	mustPAErr(t, "stale counter", c.post("/pa/v3/token/create", c.sign("/pa/token/create", body, pacrypto.Possession, c.keys), body),
		401, "ERR_AUTHENTICATION", "POWER_AUTH_SIGNATURE_INVALID")
	c.history = saved
	c.ctr = saved[len(saved)-1]
	wrongPIN := c.keys
	wrongPIN.Knowledge = randBytes(16)
	_, body = c.tokenRequest()
	mustPAErr(t, "wrong knowledge factor", c.post("/pa/v3/token/create", c.sign("/pa/token/create", body, pacrypto.PossessionKnowledge, wrongPIN), body),
		401, "ERR_AUTHENTICATION", "POWER_AUTH_SIGNATURE_INVALID")
	c.undo() // a refused signature does not move the server's counter
	if after := c.status(); after.FailCount != 2 || !bytes.Equal(after.CtrDataHash, before.CtrDataHash) || tokens() != 1 {
		t.Fatalf("after two bad signatures: %+v (tokens %d)", after, tokens())
	}
	// A good two-factor signature clears the failed attempts.
	env, body = c.tokenRequest()
	mustJSON(t, c.post("/pa/v3/token/create", c.sign("/pa/token/create", body, pacrypto.PossessionKnowledge, c.keys), body), 200, &enc)
	var tok2 struct{ TokenID, TokenSecret string }
	json.Unmarshal(c.open(env, enc), &tok2)
	if st := c.status(); st.FailCount != 0 || tokens() != 2 {
		t.Fatalf("after a good signature: %+v", st)
	}

	// Token remove: signed; the token dies.
	rm, _ := json.Marshal(map[string]any{"requestObject": map[string]string{"tokenId": tok.TokenID}})
	r := c.post("/pa/v3/token/remove", c.sign("/pa/token/remove", rm, pacrypto.Possession, c.keys), rm)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"status":"OK"`) {
		t.Fatalf("token remove: %s", r)
	}
	if r := paVerify(t, srv.URL, paClientHeader(tok.TokenID, secret, "3.3")); r.Status != 401 {
		t.Fatalf("removed token still accepted: %s", r)
	}
	// Activation remove needs two factors; possession alone is refused and changes nothing.
	mustPAErr(t, "remove with one factor", c.post("/pa/v3/activation/remove", c.sign("/pa/activation/remove", []byte("{}"), pacrypto.Possession, c.keys), []byte("{}")),
		401, "ERR_AUTHENTICATION", "POWER_AUTH_SIGNATURE_TYPE_INVALID")
	c.undo()
	r = c.post("/pa/v3/activation/remove", c.sign("/pa/activation/remove", []byte("{}"), pacrypto.PossessionKnowledge, c.keys), []byte("{}"))
	if r.Status != 200 {
		t.Fatalf("activation remove: %s", r)
	}
	if st := c.status(); st.Status != pacrypto.StatusRemoved {
		t.Fatalf("status after remove %+v", st)
	}
	secret2, _ := b64e.DecodeString(tok2.TokenSecret)
	if r := paVerify(t, srv.URL, paClientHeader(tok2.TokenID, secret2, "3.3")); r.Status != 401 {
		t.Fatalf("token of a removed activation accepted: %s", r)
	}
	// The audit log is written in batches: wait for it.
	eventually(t, "the SDK's calls in the audit log", func() error {
		audit := srv.mustCLI(t, "", "audit", "--user", "alice")
		for _, a := range []string{"powerauth.activation.create", "token.issue", "powerauth.token.remove", "powerauth.activation.remove"} {
			if !strings.Contains(audit, a) {
				return fmt.Errorf("audit lacks %s:\n%s", a, audit)
			}
		}
		return nil
	})
}

// undo takes back the counter step of the last signature, one the server refused before checking it.
func (c *paSDK) undo() {
	c.history = c.history[:len(c.history)-1]
	c.ctr = c.history[len(c.history)-1]
}
