package e2e

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The client side of PowerAuth MAC tokens is written here from the protocol text, independently of the server's
// powerauth package: digest = Base64(HMAC-SHA256(secret, nonce ‖ "&" ‖ ms timestamp [‖ "&" ‖ version])).
func paClientHeader(tokenID string, secret []byte, version string) string {
	nonce := make([]byte, 16)
	rand.Read(nonce)
	ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
	m := hmac.New(sha256.New, secret)
	m.Write(nonce)
	m.Write([]byte("&" + ts))
	if version == "3.2" || version == "3.3" {
		m.Write([]byte("&" + version))
	}
	// The mobile SDKs' field order: version first.
	return `PowerAuth version="` + version + `", token_id="` + tokenID + `", token_digest="` +
		base64.StdEncoding.EncodeToString(m.Sum(nil)) + `", nonce="` + base64.StdEncoding.EncodeToString(nonce) +
		`", timestamp="` + ts + `"`
}

// paPost posts JSON with Basic credentials.
func paPost(t *testing.T, url, user, pass, body string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(user, pass)
	req.Header.Set("Content-Type", "application/json")
	return send(t, req)
}

func paVerify(t *testing.T, url, header string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url+"/pa/v3/token/verify", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-PowerAuth-Token", header)
	return send(t, req)
}

func send(t *testing.T, req *http.Request) response {
	t.Helper()
	res, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	return response{Status: res.StatusCode, Header: res.Header, Body: body}
}

const paTokenInvalid = `{"status":"ERROR","responseObject":{"code":"ERR_AUTHENTICATION","message":"POWER_AUTH_TOKEN_INVALID"}}`

// TestPowerAuthTokens: the operator's CLI registers a device, the device's owner creates a MAC token over the
// API, a client computes digests with it and is accepted once per header; blocking the device kills the token.
func TestPowerAuthTokens(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	const user, pass = "mobile", "mobile-password"
	srv.mustCLI(t, pass+"\n", "user", "add", user, "--password-stdin")
	activation := strings.TrimSpace(srv.mustCLI(t, "", "powerauth", "activation", "create", user, "--name", "Pixel 9"))
	if out := srv.mustCLI(t, "", "powerauth", "activation", "list", "--user", user); !strings.Contains(out, activation) ||
		!strings.Contains(out, "active") || !strings.Contains(out, "Pixel 9") {
		t.Fatalf("activation list = %q", out)
	}

	r := paPost(t, srv.URL+"/pa/v3/token/create", user, pass, `{"activationId":"`+activation+`"}`)
	var tok struct {
		TokenID     string `json:"tokenId"`
		TokenSecret string `json:"tokenSecret"`
	}
	if r.Status != http.StatusOK || json.Unmarshal(r.Body, &tok) != nil || tok.TokenID == "" {
		t.Fatalf("token create: %s", r)
	}
	secret, err := base64.StdEncoding.DecodeString(tok.TokenSecret)
	if err != nil || len(secret) != 16 {
		t.Fatalf("tokenSecret %q", tok.TokenSecret)
	}
	if r := paPost(t, srv.URL+"/pa/v3/token/create", user, "wrong", `{"activationId":"`+activation+`"}`); r.Status != http.StatusUnauthorized {
		t.Fatalf("token create with a wrong password: %s", r)
	}

	for _, version := range []string{"3.1", "3.3"} {
		h := paClientHeader(tok.TokenID, secret, version)
		r := paVerify(t, srv.URL, h)
		var body struct {
			Status         string `json:"status"`
			ResponseObject struct {
				UserID string `json:"userId"`
			} `json:"responseObject"`
		}
		if r.Status != http.StatusOK || json.Unmarshal(r.Body, &body) != nil || body.Status != "OK" ||
			body.ResponseObject.UserID != user || r.Header.Get("X-Token-User") != user {
			t.Fatalf("version %s: %s", version, r)
		}
		if r := paVerify(t, srv.URL, h); r.Status != http.StatusUnauthorized || string(bytes.TrimSpace(r.Body)) != paTokenInvalid {
			t.Fatalf("version %s replay: %s; want 401 %s", version, r, paTokenInvalid)
		}
	}

	// A second implementation of the client: Python's standard library.
	t.Run("python client", func(t *testing.T) {
		if _, err := exec.LookPath(systemPython); err != nil {
			skipOrFatal(t, "%s not found (Debian package python3)", systemPython)
		}
		const script = `
import base64, hashlib, hmac, os, sys, time
token_id, secret = sys.argv[1], base64.b64decode(sys.argv[2])
nonce, ts = os.urandom(16), str(int(time.time() * 1000))
digest = hmac.new(secret, nonce + b"&" + ts.encode() + b"&3.2", hashlib.sha256).digest()
print('PowerAuth token_id="%s" token_digest="%s" nonce="%s" timestamp="%s" version="3.2"' % (
    token_id, base64.b64encode(digest).decode(), base64.b64encode(nonce).decode(), ts))
`
		ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
		defer cancel()
		out, err := exec.CommandContext(ctx, systemPython, "-c", script, tok.TokenID, tok.TokenSecret).Output()
		if err != nil {
			t.Fatalf("python: %v", err)
		}
		h := strings.TrimSpace(string(out))
		if r := paVerify(t, srv.URL, h); r.Status != http.StatusOK {
			t.Fatalf("python-made header %q: %s", h, r)
		}
		if r := paVerify(t, srv.URL, h); r.Status != http.StatusUnauthorized {
			t.Fatalf("python-made header replayed: %s", r)
		}
	})

	if out := srv.mustCLI(t, "", "powerauth", "token", "list", "--activation", activation); !strings.Contains(out, tok.TokenID) ||
		strings.Contains(out, tok.TokenSecret) {
		t.Fatalf("token list = %q; want the token id and not its secret", out)
	}
	srv.mustCLI(t, "", "powerauth", "activation", "block", activation)
	if r := paVerify(t, srv.URL, paClientHeader(tok.TokenID, secret, "3.3")); r.Status != http.StatusUnauthorized {
		t.Fatalf("token of a blocked activation: %s", r)
	}
	srv.mustCLI(t, "", "powerauth", "activation", "unblock", activation)
	if r := paVerify(t, srv.URL, paClientHeader(tok.TokenID, secret, "3.3")); r.Status != http.StatusUnauthorized {
		t.Fatalf("old token after unblock: %s", r)
	}
	if out := srv.mustCLI(t, "", "powerauth", "token", "list"); strings.Contains(out, tok.TokenID) {
		t.Fatalf("token list after block = %q; the token should be gone", out)
	}
	srv.mustCLI(t, "", "powerauth", "activation", "remove", activation)
	if r := paPost(t, srv.URL+"/pa/v3/token/create", user, pass, `{"activationId":"`+activation+`"}`); r.Status != http.StatusUnauthorized {
		t.Fatalf("token create on a removed activation: %s", r)
	}
}
