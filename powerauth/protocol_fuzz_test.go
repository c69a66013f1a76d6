package powerauth

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// The parsers of the protocol's headers take any input without panicking, stay within their bounds and accept
// only what has every required field.
func FuzzParseSignatureHeader(f *testing.F) {
	f.Add(`PowerAuth pa_activation_id="7a24c6e9-48e9-43c2-ab4a-aed6270e924d", pa_application_key="Z19gyYaW5kb521fYWN0aXZ==", pa_nonce="kYjzVBB8Y0ZFabxSWbWovY==", pa_signature_type="possession_knowledge" pa_signature="MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", pa_version="3.2"`)
	f.Add(`PowerAuth pa_version=3.3 pa_activation_id=a`)
	f.Add(`PowerAuth a="`)
	f.Fuzz(func(t *testing.T, v string) {
		h, err := ParseSignatureHeader(v)
		if err != nil {
			return
		}
		if len(v) > MaxHeaderLen || h.ActivationID == "" || h.Signature == "" || !knownVersion(h.Version) {
			t.Fatalf("accepted %q as %+v", v, h)
		}
		for _, f := range []string{h.ActivationID, h.AppKey, h.Nonce, h.Signature, h.SignatureType} {
			if len(f) > maxValueLen || strings.ContainsRune(f, '"') {
				t.Fatalf("field %q of %q", f, v)
			}
		}
	})
}

func FuzzParseEncryptionHeader(f *testing.F) {
	f.Add(`PowerAuth version="3.3" application_key="UNfS0VZX3JhbmRvbQ=="`)
	f.Add(`PowerAuth application_key="UNfS0VZX3JhbmRvbQ==", activation_id="c564e700-7e86-4a87-b6c8-a5a0cc89683f", version="3.2"`)
	f.Fuzz(func(t *testing.T, v string) {
		h, err := ParseEncryptionHeader(v)
		if err == nil && (h.AppKey == "" || !knownVersion(h.Version) || len(v) > MaxHeaderLen) {
			t.Fatalf("accepted %q as %+v", v, h)
		}
	})
}

// FuzzProtocolBodies feeds arbitrary bodies to every protocol entry point of a service with one application and
// one active activation: nothing panics, and nothing is created.
func FuzzProtocolBodies(f *testing.F) {
	f.Add(`{"ephemeralPublicKey":"A97NlW0JPLJfpG0AUvaRHRGSHh+quZu+u0c+yxsK7Xji","encryptedData":"qYLONkDWFpXefTKPbaKTA/PWdRYH5pk9uvGjUqSYbeK7Q0aOohK2MknTyviyNuSp","mac":"DNlZdsM1wgH8v2mAROjj3vmQu4DI4ZJnuTBzQMrHsew=","nonce":"ZQxUjy/hSRyJ3xBtqyXBeQ==","timestamp":1691762307382}`, "x.y.z")
	f.Add(`{}`, "eyJhbGciOiJIUzI1NiJ9.eyJhcHBsaWNhdGlvbktleSI6ImEiLCJjaGFsbGVuZ2UiOiJiIn0.AAAA")
	f.Add(`[`, "..")
	fx := newFixture(f, Config{})
	c := newClient(f, fx, "app", "3.2")
	if err := c.activate(fx.initActivation(f, "app", "alice", "").Code, ""); err != nil {
		f.Fatal(err)
	}
	sig := c.sign("/pa/token/create", []byte("{}"), "possession", c.keys)
	f.Fuzz(func(t *testing.T, body, jwt string) {
		ctx := context.Background()
		var w wirePayload
		if json.Unmarshal([]byte(body), &w) == nil {
			if _, _, err := fx.svc.ActivateWithCode(ctx, EncryptionFields{Version: "3.2", AppKey: c.app.Key}, w); err == nil {
				t.Fatal("activation from a fuzzed body")
			}
		}
		if _, _, _, err := fx.svc.CreateTokenSigned(ctx, sig, []byte(body)); err == nil {
			t.Fatal("token from a fuzzed body")
		}
		if _, err := fx.svc.CreateTempKey(ctx, jwt); err == nil {
			t.Fatal("temporary key from a fuzzed JWT")
		}
	})
}
