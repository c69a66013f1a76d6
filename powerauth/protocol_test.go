package powerauth

import (
	"context"
	"crypto/ecdh"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/powerauth/pacrypto"
	"github.com/tokenmanager/tokenmanager/storage"
)

// pclient is a device of the mobile SDK, speaking to the service directly.
type pclient struct {
	t       testing.TB
	f       *fixture
	app     App
	version string
	device  *ecdh.PrivateKey
	id      string
	keys    pacrypto.Keys
	ctr     []byte
	server  *ecdh.PublicKey
	temp    map[bool]struct {
		id  string
		pub *ecdh.PublicKey
	}
}

func newClient(t testing.TB, f *fixture, appID, version string) *pclient {
	t.Helper()
	app, err := f.svc.App(context.Background(), appID)
	if errors.Is(err, ErrNoApp) {
		app, err = f.svc.CreateApp(context.Background(), appID)
	}
	if err != nil {
		t.Fatal(err)
	}
	return &pclient{t: t, f: f, app: app, version: version, device: pacrypto.GenerateKey(), temp: map[bool]struct {
		id  string
		pub *ecdh.PublicKey
	}{}}
}

// tempKey fetches a temporary key (3.3 only).
func (c *pclient) tempKey(activation bool) error {
	enc := base64.RawURLEncoding
	secret, _ := base64.StdEncoding.DecodeString(c.app.Secret)
	claims := map[string]string{"applicationKey": c.app.Key, "challenge": "abc"}
	key := secret
	if activation {
		claims["activationId"], key = c.id, pacrypto.KDFInternal(c.keys.Transport, secret)
	}
	cl, _ := json.Marshal(claims)
	in := enc.EncodeToString([]byte(`{"alg":"HS256"}`)) + "." + enc.EncodeToString(cl)
	jwt, err := c.f.svc.CreateTempKey(context.Background(), in+"."+enc.EncodeToString(pacrypto.HMAC(key, []byte(in))))
	if err != nil {
		return err
	}
	parts := strings.Split(jwt, ".")
	payload, _ := enc.DecodeString(parts[1])
	var got struct{ Sub, PublicKey string }
	json.Unmarshal(payload, &got)
	pb, _ := base64.StdEncoding.DecodeString(got.PublicKey)
	pub, err := pacrypto.ParsePublicKey(pb)
	if err != nil {
		c.t.Fatal(err)
	}
	c.temp[activation] = struct {
		id  string
		pub *ecdh.PublicKey
	}{got.Sub, pub}
	return nil
}

func (c *pclient) scope(activation bool) (pacrypto.Scope, *ecdh.PublicKey, string) {
	sc := pacrypto.Scope{Version: c.version, AppKey: c.app.Key, AppSecret: c.app.Secret}
	pub := c.app.Master.PublicKey()
	if activation {
		sc.ActivationID, sc.TransportKey, pub = c.id, c.keys.Transport, c.server
	}
	tid := ""
	if c.version == "3.3" {
		tk := c.temp[activation]
		sc.TempKeyID, pub, tid = tk.id, tk.pub, tk.id
	}
	return sc, pub, tid
}

func wire(p pacrypto.Payload, tid string) wirePayload {
	w := encodePayload(p)
	w.TemporaryKeyID = tid
	return w
}

func (c *pclient) activate(code, otp string) error {
	if c.version == "3.3" {
		if err := c.tempKey(false); err != nil {
			return err
		}
	}
	sc, pub, tid := c.scope(false)
	now := c.f.now.UnixMilli()
	l2, _ := json.Marshal(map[string]string{"devicePublicKey": base64.StdEncoding.EncodeToString(c.device.PublicKey().Bytes()),
		"activationName": "test", "activationOtp": otp})
	env2, p2 := pacrypto.EncryptRequest(pub, sc, pacrypto.SharedInfoActivation2, l2, now)
	l1, _ := json.Marshal(map[string]any{"activationType": "CODE", "identityAttributes": map[string]string{"code": code},
		"activationData": wire(p2, tid)})
	env1, p1 := pacrypto.EncryptRequest(pub, sc, pacrypto.SharedInfoApplication, l1, now)
	resp, _, err := c.f.svc.ActivateWithCode(context.Background(), EncryptionFields{Version: c.version, AppKey: c.app.Key}, wire(p1, tid))
	if err != nil {
		return err
	}
	r1, err := resp.decode()
	if err != nil {
		c.t.Fatal(err)
	}
	plain, err := env1.DecryptResponse(r1)
	if err != nil {
		c.t.Fatal(err)
	}
	var outer struct{ ActivationData wirePayload }
	json.Unmarshal(plain, &outer)
	r2, _ := outer.ActivationData.decode()
	plain, err = env2.DecryptResponse(r2)
	if err != nil {
		c.t.Fatal(err)
	}
	var l struct{ ActivationID, ServerPublicKey, CtrData string }
	json.Unmarshal(plain, &l)
	sp, _ := base64.StdEncoding.DecodeString(l.ServerPublicKey)
	c.server, _ = pacrypto.ParsePublicKey(sp)
	master, _ := pacrypto.MasterSecret(c.device, c.server)
	c.id, c.keys = l.ActivationID, pacrypto.DeriveKeys(master)
	c.ctr, _ = base64.StdEncoding.DecodeString(l.CtrData)
	return nil
}

func (c *pclient) sign(uri string, body []byte, typ pacrypto.SignatureType, keys pacrypto.Keys) string {
	nonce := base64.StdEncoding.EncodeToString(randomBytes(16))
	sig := pacrypto.Signature(c.version, pacrypto.NormalizedData("POST", uri, nonce, body, c.app.Secret), typ.FactorKeys(keys), c.ctr)
	c.ctr = pacrypto.NextCtrData(c.ctr)
	return `PowerAuth pa_activation_id="` + c.id + `" pa_application_key="` + c.app.Key + `" pa_nonce="` + nonce +
		`" pa_signature_type="` + string(typ) + `" pa_signature="` + sig + `" pa_version="` + c.version + `"`
}

// createToken runs token create with a fresh payload; ts is the ECIES timestamp.
func (c *pclient) createToken(typ pacrypto.SignatureType, keys pacrypto.Keys, ts time.Time) (string, error) {
	sc, pub, tid := c.scope(true)
	env, p := pacrypto.EncryptRequest(pub, sc, pacrypto.SharedInfoTokenCreate, []byte("{}"), ts.UnixMilli())
	body, _ := json.Marshal(wire(p, tid))
	resp, _, _, err := c.f.svc.CreateTokenSigned(context.Background(), c.sign("/pa/token/create", body, typ, keys), body)
	if err != nil {
		return "", err
	}
	r, _ := resp.decode()
	plain, err := env.DecryptResponse(r)
	if err != nil {
		c.t.Fatal(err)
	}
	var tok struct{ TokenID string }
	json.Unmarshal(plain, &tok)
	return tok.TokenID, nil
}

func (f *fixture) initActivation(t testing.TB, app, user, otp string) PendingActivation {
	t.Helper()
	p, err := f.svc.InitActivation(context.Background(), app, user, otp)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (f *fixture) keysOf(t *testing.T, id string) storage.PowerAuthKeys {
	t.Helper()
	k, err := f.store.GetPowerAuthKeys(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Every protocol version activates, signs in its format and creates tokens.
func TestProtocolVersions(t *testing.T) {
	f := newFixture(t, Config{})
	for _, v := range []string{"3.0", "3.1", "3.2", "3.3"} {
		c := newClient(t, f, "app", v)
		if err := c.activate(f.initActivation(t, "app", "alice", "").Code, ""); err != nil {
			t.Fatalf("%s: activate: %v", v, err)
		}
		if v == "3.3" {
			if err := c.tempKey(true); err != nil {
				t.Fatal(err)
			}
		}
		for _, typ := range []pacrypto.SignatureType{pacrypto.Possession, pacrypto.PossessionKnowledge, pacrypto.PossessionKnowledgeBiometry} {
			if id, err := c.createToken(typ, c.keys, f.now); err != nil || id == "" {
				t.Fatalf("%s %s: %v", v, typ, err)
			}
		}
		if k := f.keysOf(t, c.id); k.Counter != 3 || k.FailedAttempts != 0 {
			t.Fatalf("%s: %+v", v, k)
		}
		st, err := f.svc.ProtocolStatus(context.Background(), c.id, randomBytes(16))
		if err != nil || st.Nonce == "" {
			t.Fatalf("%s status: %v", v, err)
		}
	}
}

func TestProtocolExpiredTemporaryKey(t *testing.T) {
	f := newFixture(t, Config{TempKeyLifetime: time.Minute})
	c := newClient(t, f, "app", "3.3")
	if err := c.activate(f.initActivation(t, "app", "alice", "").Code, ""); err != nil {
		t.Fatal(err)
	}
	if err := c.tempKey(true); err != nil {
		t.Fatal(err)
	}
	before := f.keysOf(t, c.id)
	f.now = f.now.Add(time.Minute)
	if _, err := c.createToken(pacrypto.Possession, c.keys, f.now); !errors.Is(err, ErrTemporaryKey) {
		t.Fatalf("expired temporary key: %v", err)
	}
	if after := f.keysOf(t, c.id); string(after.CtrData) != string(before.CtrData) || after.FailedAttempts != 0 {
		t.Fatalf("the refusal changed the counter: %+v", after)
	}
	if toks, _ := f.svc.ListTokens(context.Background(), c.id); len(toks) != 0 {
		t.Fatal("a token was made")
	}
	// The collector deletes it once it is past the retention.
	f.now = f.now.Add(NonceRetention + time.Second)
	if n, err := f.svc.CollectTempKeys(context.Background(), 10); err != nil || n != 2 {
		t.Fatalf("CollectTempKeys = %d, %v", n, err)
	}
}

func TestProtocolStaleECIESTimestamp(t *testing.T) {
	f := newFixture(t, Config{})
	c := newClient(t, f, "app", "3.2")
	if err := c.activate(f.initActivation(t, "app", "alice", "").Code, ""); err != nil {
		t.Fatal(err)
	}
	for _, ts := range []time.Time{f.now.Add(-61 * time.Second), f.now.Add(61 * time.Second)} {
		if _, err := c.createToken(pacrypto.Possession, c.keys, ts); !errors.Is(err, ErrEncryption) {
			t.Fatalf("timestamp %s: %v", ts.Sub(f.now), err)
		}
		c.ctr = f.keysOf(t, c.id).CtrData // the server did not check the signature
	}
}

func TestProtocolBlocksAfterFailedAttempts(t *testing.T) {
	f := newFixture(t, Config{MaxFailedAttempts: 3})
	c := newClient(t, f, "app", "3.1")
	if err := c.activate(f.initActivation(t, "app", "alice", "").Code, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := c.createToken(pacrypto.Possession, c.keys, f.now); err != nil {
		t.Fatal(err)
	}
	wrong := c.keys
	wrong.Possession = randomBytes(16)
	for i := 1; i <= 3; i++ {
		if _, err := c.createToken(pacrypto.Possession, wrong, f.now); !errors.Is(err, ErrSignature) {
			t.Fatalf("attempt %d: %v", i, err)
		}
		c.ctr = f.keysOf(t, c.id).CtrData
		if k := f.keysOf(t, c.id); k.FailedAttempts != i {
			t.Fatalf("after %d failures: %d", i, k.FailedAttempts)
		}
	}
	a, _ := f.svc.Activation(context.Background(), "", c.id)
	if a.Status != storage.PowerAuthBlocked {
		t.Fatalf("status %s, want blocked", a.Status)
	}
	if toks, _ := f.svc.ListTokens(context.Background(), c.id); len(toks) != 0 {
		t.Fatal("tokens outlived the block")
	}
	if _, err := c.createToken(pacrypto.Possession, c.keys, f.now); !errors.Is(err, ErrSignature) {
		t.Fatalf("signature on a blocked activation: %v", err)
	}
}

func TestProtocolWrongTenant(t *testing.T) {
	f := newFixture(t, Config{})
	a := newClient(t, f, "app-a", "3.3")
	if err := a.activate(f.initActivation(t, "app-a", "alice", "").Code, ""); err != nil {
		t.Fatal(err)
	}
	b := newClient(t, f, "app-b", "3.3")
	if err := b.activate(f.initActivation(t, "app-b", "bob", "").Code, ""); err != nil {
		t.Fatal(err)
	}
	// A code of application A cannot be used through application B.
	b2 := newClient(t, f, "app-b", "3.3")
	if err := b2.activate(f.initActivation(t, "app-a", "bob", "").Code, ""); !errors.Is(err, ErrActivationRefused) {
		t.Fatalf("code of another application: %v", err)
	}
	// A's activation signed with B's application key: refused, nothing counted.
	mixed := *a
	mixed.app = b.app
	if err := a.tempKey(true); err != nil {
		t.Fatal(err)
	}
	mixed.temp = a.temp
	if _, err := mixed.createToken(pacrypto.Possession, a.keys, f.now); !errors.Is(err, ErrSignature) {
		t.Fatalf("another application's key: %v", err)
	}
	// B's activation-scope temporary key used for A's activation.
	if err := b.tempKey(true); err != nil {
		t.Fatal(err)
	}
	a.temp[true] = b.temp[true]
	a.ctr = f.keysOf(t, a.id).CtrData
	if _, err := a.createToken(pacrypto.Possession, a.keys, f.now); !errors.Is(err, ErrTemporaryKey) {
		t.Fatalf("another activation's temporary key: %v", err)
	}
	// An application-scope key where the activation scope is needed.
	a.temp[true] = a.temp[false]
	a.ctr = f.keysOf(t, a.id).CtrData
	if _, err := a.createToken(pacrypto.Possession, a.keys, f.now); !errors.Is(err, ErrTemporaryKey) {
		t.Fatalf("application-scope temporary key: %v", err)
	}
	if k := f.keysOf(t, a.id); k.FailedAttempts != 0 || k.Counter != 0 {
		t.Fatalf("wrong-tenant requests changed A: %+v", k)
	}
	// A keystore request for A's activation signed with B's transport key.
	bad := *b
	bad.id = a.id
	if err := bad.tempKey(true); !errors.Is(err, ErrTemporaryKey) {
		t.Fatalf("keystore for another activation: %v", err)
	}
}

func TestProtocolActivationCodeRules(t *testing.T) {
	f := newFixture(t, Config{CodeLifetime: time.Hour})
	c := newClient(t, f, "app", "3.2")
	p := f.initActivation(t, "app", "alice", "123456")
	if err := c.activate(p.Code, "654321"); !errors.Is(err, ErrActivationRefused) {
		t.Fatalf("wrong OTP: %v", err)
	}
	if err := c.activate(p.Code, "123456"); err != nil {
		t.Fatalf("right OTP: %v", err)
	}
	if err := newClient(t, f, "app", "3.2").activate(p.Code, "123456"); !errors.Is(err, ErrActivationRefused) {
		t.Fatalf("spent code: %v", err)
	}
	late := f.initActivation(t, "app", "alice", "")
	f.now = f.now.Add(time.Hour)
	if err := newClient(t, f, "app", "3.2").activate(late.Code, ""); !errors.Is(err, ErrActivationRefused) {
		t.Fatalf("expired code: %v", err)
	}
	if _, err := f.svc.InitActivation(context.Background(), "app", "nobody", ""); !errors.Is(err, ErrNoUser) {
		t.Fatalf("unknown user: %v", err)
	}
	if _, err := f.svc.InitActivation(context.Background(), "nope", "alice", ""); !errors.Is(err, ErrNoApp) {
		t.Fatalf("unknown app: %v", err)
	}
	if _, err := f.svc.CreateApp(context.Background(), "bad id"); !errors.Is(err, ErrBadAppID) {
		t.Fatalf("bad id: %v", err)
	}
	if _, err := f.svc.InitActivation(context.Background(), "app", "alice", strings.Repeat("1", 256)); !errors.Is(err, ErrBadOTP) {
		t.Fatalf("long OTP: %v", err)
	}
	if _, err := f.svc.AppInfo(context.Background(), "nope"); !errors.Is(err, ErrNoApp) {
		t.Fatalf("unknown app's info: %v", err)
	}
	if a, err := f.svc.AppInfo(context.Background(), "app"); err != nil || a.ID != "app" || a.Key == "" || a.Sealed != nil {
		t.Fatalf("app info, without its sealed secrets: %+v %v", a, err)
	}
}
