package e2e

// JWT access tokens (RFC 9068) from the built binary, checked by PyJWT (Debian python3-jwt) knowing nothing but
// the JWKS URL: through a signing-key rotation, after revocation, tampered and expired.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

type pyJWTResult struct {
	OK     bool              `json:"ok"`
	Error  string            `json:"error"`
	Claims map[string]any    `json:"claims"`
	Header map[string]string `json:"header"`
}

// needPyJWT skips (fails under CI=true) unless the system Python has PyJWT with PyJWKClient.
func needPyJWT(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*1e9)
	defer cancel()
	if out, err := exec.CommandContext(ctx, systemPython, "-c", "from jwt import PyJWKClient").CombinedOutput(); err != nil {
		skipOrFatal(t, "PyJWT is not importable by %s (%v: %s); install it with: apt-get install -y python3-jwt",
			systemPython, err, bytes.TrimSpace(out))
	}
}

// pyJWTVerify runs testdata/interop/pyjwt_verify.py on tokens.
func pyJWTVerify(t *testing.T, s *tmServer, leeway int, tokens map[string]string) map[string]pyJWTResult {
	t.Helper()
	in, _ := json.Marshal(map[string]any{"jwks_uri": s.URL + "/oauth2/jwks.json", "issuer": s.URL, "audience": s.URL,
		"leeway": leeway, "tokens": tokens})
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, systemPython, filepath.Join(repoRoot, "testdata", "interop", "pyjwt_verify.py"))
	cmd.Env = childEnv()
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pyjwt_verify.py: %v\n%s", err, stderr.String())
	}
	res := map[string]pyJWTResult{}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("pyjwt_verify.py printed %q: %v", out, err)
	}
	return res
}

func (s *tmServer) introspectActive(t *testing.T, c apiClient, tok string) bool {
	t.Helper()
	r := s.clientPost(t, "/oauth2/introspect", c, "token="+url.QueryEscape(tok))
	var body map[string]any
	if r.Status != http.StatusOK || json.Unmarshal(r.Body, &body) != nil {
		t.Fatalf("introspect: %s", r)
	}
	return body["active"] == true
}

func (s *tmServer) clientPost(t *testing.T, path string, c apiClient, form string) response {
	t.Helper()
	req, _ := http.NewRequest("POST", "/", nil)
	req.SetBasicAuth(url.QueryEscape(c.ID), url.QueryEscape(c.Primary))
	return do(t, "POST", s.URL+path, form, http.Header{"Authorization": {req.Header.Get("Authorization")},
		"Content-Type": {"application/x-www-form-urlencoded"}})
}

func TestJWTAccessTokensWithPyJWT(t *testing.T) {
	t.Parallel()
	needServer(t)
	needPyJWT(t)
	s := startServer(t)
	reports := s.addClient(t, "", "reports", "--scope", "Reports", "--token-format", "jwt")
	rs := s.addClient(t, "", "resource-server", "--grant-types", "", "--introspect")

	first := s.mustOAuthToken(t, reports.ID, reports.Primary, "Reports", nil)
	res := pyJWTVerify(t, s, 0, map[string]string{"first": first})
	if r := res["first"]; !r.OK || r.Claims["client_id"] != "reports" || r.Claims["sub"] != "reports" ||
		r.Claims["scope"] != "Reports" || r.Header["typ"] != "at+jwt" || r.Header["alg"] != "ES256" {
		t.Fatalf("PyJWT on a fresh token: %+v", r)
	}

	// Rotation: the new key signs at once, the old one keeps verifying its tokens.
	out := s.mustCLI(t, "", "oauthkey", "rotate", "--alg", "RS256")
	if !strings.Contains(out, "new signing key") {
		t.Fatalf("oauthkey rotate: %q", out)
	}
	second := s.mustOAuthToken(t, reports.ID, reports.Primary, "Reports", nil)
	if list := s.mustCLI(t, "", "oauthkey", "list"); strings.Count(list, "primary") != 1 || strings.Count(list, "verify") != 1 {
		t.Fatalf("oauthkey list after a rotation:\n%s", list)
	}

	// Revocation is seen by introspection; an offline verifier cannot see it before exp (as documented).
	revoked := s.mustOAuthToken(t, reports.ID, reports.Primary, "Reports", nil)
	if !s.introspectActive(t, rs, revoked) {
		t.Fatal("a live JWT is inactive at introspection")
	}
	if r := s.clientPost(t, "/oauth2/revoke", reports, "token="+url.QueryEscape(revoked)); r.Status != http.StatusOK {
		t.Fatalf("revoke: %s", r)
	}
	if s.introspectActive(t, rs, revoked) {
		t.Fatal("a revoked JWT is active at introspection")
	}
	if !s.introspectActive(t, rs, first) || !s.introspectActive(t, rs, second) {
		t.Fatal("tokens of both keys should be active at introspection")
	}

	parts := strings.Split(second, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString(bytes.Replace(payload, []byte(`"Reports"`), []byte(`"Admin"`), 1)) + "." + parts[2]
	res = pyJWTVerify(t, s, 0, map[string]string{"first": first, "second": second, "revoked": revoked, "forged": forged})
	if !res["first"].OK || !res["second"].OK || res["second"].Header["alg"] != "RS256" || res["first"].Header["kid"] == res["second"].Header["kid"] {
		t.Fatalf("PyJWT after a rotation: %+v", res)
	}
	if !res["revoked"].OK {
		t.Fatalf("PyJWT on the revoked token: %+v (offline verification cannot know)", res["revoked"])
	}
	if r := res["forged"]; r.OK || r.Error != "InvalidSignatureError" {
		t.Fatalf("PyJWT on a forged token: %+v", r)
	}
	if s.introspectActive(t, rs, forged) {
		t.Fatal("a forged JWT is active at introspection")
	}
	// Seen from two hours later (a negative leeway), every token has expired.
	for name, r := range pyJWTVerify(t, s, -7200, map[string]string{"first": first, "second": second}) {
		if r.OK || r.Error != "ExpiredSignatureError" {
			t.Errorf("PyJWT two hours later, %s: %+v", name, r)
		}
	}
	// Another issuer or audience is refused.
	in := map[string]string{"second": second}
	s2 := *s
	s2.URL = strings.Replace(s.URL, "127.0.0.1", "localhost", 1)
	if r := pyJWTVerify(t, &s2, 0, in)["second"]; r.OK || r.Error != "InvalidAudienceError" && r.Error != "InvalidIssuerError" {
		t.Fatalf("PyJWT expecting another issuer: %+v", r)
	}
}
