package e2e

// The example resource server (examples/resource-server, built on the verify package) in front of the built
// tokenmanager, driven with every kind of credential: JWT and opaque OAuth access tokens, a Spectrum session
// token with its SESSION cookie, a PowerAuth header.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startResourceServer builds and runs the example against s; extra are more flags.
func startResourceServer(t *testing.T, s *tmServer, clientID, secret string, extra ...string) string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "resource-server")
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, goBin, "build", "-o", bin, "./examples/resource-server")
	build.Dir = repoRoot
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./examples/resource-server: %v\n%s", err, out)
	}
	addrFile := filepath.Join(dir, "addr")
	cmd := exec.Command(bin, append([]string{"--tokenmanager", s.URL, "--listen", "127.0.0.1:0", "--client-id", clientID,
		"--addr-file", addrFile}, extra...)...)
	cmd.Env = childEnv("RS_CLIENT_SECRET=" + secret)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("resource server output:\n%s", out)
		}
	})
	deadline := time.Now().Add(startTimeout)
	for {
		if b, err := os.ReadFile(addrFile); err == nil {
			if _, port, err := net.SplitHostPort(string(b)); err == nil && port != "" {
				return "http://" + string(b)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the resource server wrote no address within %v", startTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type whoami struct {
	Subject string   `json:"subject"`
	Kind    string   `json:"kind"`
	Scopes  []string `json:"scopes"`
	Client  bool     `json:"client"`
}

func TestResourceServerExample(t *testing.T) {
	t.Parallel()
	needServer(t)
	s := startServer(t)
	reports := s.addClient(t, "", "reports", "--scope", "Reports", "--token-format", "jwt")
	legacy := s.addClient(t, "", "legacy", "--scope", "Reports")
	rs := s.addClient(t, "", "resource-server", "--grant-types", "", "--introspect")
	// No cache: every answer is the server's, so a revocation shows at once.
	rsURL := startResourceServer(t, s, rs.ID, rs.Primary, "--cache-ttl", "-1s")

	call := func(path string, h http.Header) (response, whoami) {
		t.Helper()
		r := do(t, "GET", rsURL+path, "", h)
		var w whoami
		if r.Status == http.StatusOK {
			if err := json.Unmarshal(r.Body, &w); err != nil {
				t.Fatalf("%s: %s", path, r)
			}
		}
		return r, w
	}
	bearer := func(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }

	if r, _ := call("/whoami", nil); r.Status != 401 || r.Header.Get("WWW-Authenticate") != `Bearer realm="tokenmanager"` {
		t.Fatalf("no credential: %s", r)
	}

	jwt := s.mustOAuthToken(t, reports.ID, reports.Primary, "Reports", nil)
	opaque := s.mustOAuthToken(t, legacy.ID, legacy.Primary, "Reports", nil)
	for name, tok := range map[string]string{"JWT": jwt, "opaque": opaque} {
		for _, path := range []string{"/whoami", "/reports"} {
			r, w := call(path, bearer(tok))
			if r.Status != 200 || w.Kind != "oauth" || !w.Client || len(w.Scopes) != 1 || w.Scopes[0] != "Reports" {
				t.Fatalf("%s token at %s: %s", name, path, r)
			}
		}
	}

	sess := s.mustRESTToken(t, adminUser, s.AdminPassword, true, 0)
	h := bearer(sess.AccessToken)
	h.Set("Cookie", "SESSION="+sess.Session)
	if r, w := call("/whoami", h); r.Status != 200 || w.Subject != adminUser || w.Kind != "session" || w.Client {
		t.Fatalf("Spectrum session token: %s", r)
	}
	if r, _ := call("/reports", h); r.Status != 403 ||
		r.Header.Get("WWW-Authenticate") != `Bearer realm="tokenmanager", error="insufficient_scope", error_description="the token lacks a required scope", scope="Reports"` {
		t.Fatalf("Spectrum token where a scope is required: %s", r)
	}
	if r, _ := call("/whoami", bearer(sess.AccessToken)); r.Status != 401 || !strings.Contains(r.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Fatalf("a session token without its SESSION cookie: %s", r)
	}

	// PowerAuth: a device's MAC token, each header good once.
	const user, pass = "mobile", "mobile-password"
	s.mustCLI(t, pass+"\n", "user", "add", user, "--password-stdin")
	activation := strings.TrimSpace(s.mustCLI(t, "", "powerauth", "activation", "create", user))
	pr := paPost(t, s.URL+"/pa/v3/token/create", user, pass, `{"activationId":"`+activation+`"}`)
	var pat struct {
		TokenID     string `json:"tokenId"`
		TokenSecret string `json:"tokenSecret"`
	}
	if pr.Status != 200 || json.Unmarshal(pr.Body, &pat) != nil {
		t.Fatalf("PowerAuth token: %s", pr)
	}
	secret, _ := base64.StdEncoding.DecodeString(pat.TokenSecret)
	pa := http.Header{"X-PowerAuth-Token": {paClientHeader(pat.TokenID, secret, "3.1")}}
	if r, w := call("/whoami", pa); r.Status != 200 || w.Subject != user || w.Kind != "powerauth" {
		t.Fatalf("PowerAuth: %s", r)
	}
	if r, _ := call("/whoami", pa); r.Status != 401 || !strings.Contains(r.Header.Get("WWW-Authenticate"), "PowerAuth") {
		t.Fatalf("a replayed PowerAuth header: %s", r)
	}

	// Revoked (opaque: seen at once without a cache), forged, wrong scope.
	if r := s.clientPost(t, "/oauth2/revoke", legacy, "token="+opaque); r.Status != 200 {
		t.Fatalf("revoke: %s", r)
	}
	if r, _ := call("/whoami", bearer(opaque)); r.Status != 401 {
		t.Fatalf("a revoked opaque token: %s", r)
	}
	parts := strings.Split(jwt, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString(bytes.Replace(payload, []byte(`"reports"`), []byte(`"legacy!"`), -1)) + "." + parts[2]
	if r, _ := call("/whoami", bearer(forged)); r.Status != 401 || !strings.Contains(r.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Fatalf("a forged JWT: %s", r)
	}
	other := s.addClient(t, "", "other", "--scope", "Other", "--token-format", "jwt")
	if r, _ := call("/reports", bearer(s.mustOAuthToken(t, other.ID, other.Primary, "", nil))); r.Status != 403 {
		t.Fatalf("a JWT without the scope: %s", r)
	}
}
