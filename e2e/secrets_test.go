package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoSecretsAtRest runs a scenario through every dialect, stops the server, and reads every byte the data
// directory holds besides the server key (the database and its WAL): no password, token, session cookie,
// subscription key, MAC secret or licensing token appears, raw or base64, and no private key in the clear.
func TestNoSecretsAtRest(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	const user, pass = "alice", "alice-secret-password-123"
	srv.mustCLI(t, pass+"\n", "user", "add", user, "--password-stdin")
	sess := srv.mustRESTToken(t, user, pass, true, 0)
	open := srv.mustRESTToken(t, user, pass, false, 60)
	srv.mustVerify(t, "session token", sess.AccessToken, sess.Session, user, "session")

	c := srv.addClient(t, "", "--scope", "Partner")
	oauthTok := srv.mustOAuthToken(t, c.ID, c.Primary, "Partner", nil)

	activation := strings.TrimSpace(srv.mustCLI(t, "", "powerauth", "activation", "create", user, "--name", "phone"))
	r := paPost(t, srv.URL+"/pa/v3/token/create", user, pass, `{"activationId":"`+activation+`"}`)
	var pa struct {
		TokenID     string `json:"tokenId"`
		TokenSecret string `json:"tokenSecret"`
	}
	if r.Status != http.StatusOK || json.Unmarshal(r.Body, &pa) != nil {
		t.Fatalf("PowerAuth token: %s", r)
	}
	paSecret, _ := base64.StdEncoding.DecodeString(pa.TokenSecret)

	srv.mustCLI(t, "", "vendor", "add", user)
	product := createdID(t, srv.mustCLI(t, "", "product", "add", "App", "--vendor", user), "product")
	key := strings.TrimSpace(srv.mustCLI(t, "", "key", "create", "--product", product, "--max-machines", "2"))
	licTok := strings.TrimSpace(srv.mustCLI(t, "", "apitoken", "create", "--vendor", user, "--methods", "Activate", "--product-lock", product))
	resp, err := http.PostForm(srv.URL+"/api/key/Activate", url.Values{"token": {licTok}, "ProductId": {product}, "Key": {key}, "MachineCode": {"m1"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	srv.Stop()

	var stored []byte
	entries, _ := os.ReadDir(srv.DataDir)
	for _, e := range entries {
		if e.Name() == "server.key" || e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(srv.DataDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, b...)
	}
	if len(stored) < 10000 {
		t.Fatalf("only %d bytes in the data directory: nothing to judge", len(stored))
	}
	secrets := map[string][]byte{
		"user password": []byte(pass), "admin password": []byte(srv.AdminPassword),
		"session token": []byte(sess.AccessToken), "SESSION cookie": []byte(sess.Session), "open token": []byte(open.AccessToken),
		"subscription key (primary)": []byte(c.Primary), "subscription key (secondary)": []byte(c.Secondary),
		"OAuth access token": []byte(oauthTok), "PowerAuth secret (base64)": []byte(pa.TokenSecret),
		"PowerAuth secret (raw)": paSecret, "PowerAuth secret (hex)": []byte(hex.EncodeToString(paSecret)),
		"licensing API token": []byte(licTok),
	}
	for name, secret := range secrets {
		if len(secret) < 8 {
			t.Fatalf("%s is too short to look for: %q", name, secret)
		}
		if bytes.Contains(stored, secret) {
			t.Errorf("the %s is stored in usable form", name)
		}
	}
	// A PKCS #8 RSA private key begins: version 0, then the rsaEncryption algorithm identifier.
	pkcs8RSA := []byte{0x02, 0x01, 0x00, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01}
	if bytes.Contains(stored, pkcs8RSA) || bytes.Contains(stored, []byte("PRIVATE KEY")) {
		t.Error("a product's private signing key is stored in the clear")
	}
}
