package e2e

// Forward-auth behind a real nginx (Debian nginx-light has auth_request built in): the repository's
// deploy/nginx/forward-auth.conf, verbatim but for its three addresses, in front of a tiny Go backend, with the
// built tokenmanager deciding. Also the client CLI and the token endpoint against the built binary.

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const nginxBin = "/usr/sbin/nginx"

// do sends one request with the given headers (bounded body read).
func do(t *testing.T, method, rawURL, body string, h http.Header) response {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range h {
		req.Header[k] = vs
	}
	res, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	return response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// apiClient is what `tokenmanager client add` prints.
type apiClient struct{ ID, Primary, Secondary string }

func (s *tmServer) addClient(t *testing.T, stdin string, args ...string) apiClient {
	t.Helper()
	out := s.mustCLI(t, stdin, append([]string{"client", "add"}, args...)...)
	var c apiClient
	for line := range strings.SplitSeq(out, "\n") {
		k, v, _ := strings.Cut(line, ": ")
		switch k {
		case "client_id":
			c.ID = v
		case "primary_key":
			c.Primary = v
		case "secondary_key":
			c.Secondary = v
		}
	}
	if c.ID == "" || c.Primary == "" || c.Secondary == "" {
		t.Fatalf("client add printed %q", out)
	}
	return c
}

// oauthToken gets an access token from /auth/token with Basic credentials and extra headers.
func (s *tmServer) oauthToken(t *testing.T, id, key, scope string, extra http.Header) response {
	t.Helper()
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	for k, v := range extra {
		h[k] = v
	}
	req, _ := http.NewRequest("POST", "/", nil)
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(key))
	h.Set("Authorization", req.Header.Get("Authorization"))
	return do(t, "POST", s.URL+"/auth/token", "grant_type=client_credentials&scope="+url.QueryEscape(scope), h)
}

func (s *tmServer) mustOAuthToken(t *testing.T, id, key, scope string, extra http.Header) string {
	t.Helper()
	r := s.oauthToken(t, id, key, scope, extra)
	var body struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
		TokenType   string `json:"token_type"`
	}
	if r.Status != http.StatusOK || json.Unmarshal(r.Body, &body) != nil || body.AccessToken == "" || body.ExpiresIn != 3600 || body.TokenType != "Bearer" {
		t.Fatalf("token for %s: %s", id, r)
	}
	return body.AccessToken
}

func TestClientCLIAndTokenEndpoint(t *testing.T) {
	s := startServer(t)
	// SkyKick's documented sample, imported with its existing key; the secondary is generated.
	c := s.addClient(t, "1476aca794464056ba8aa6a1a9f921da\n", "4f3d7c7bd74649b9a798ab8f8e8c6b81",
		"--scope", "Partner", "--scope", "Distributor", "--require-subscription-key", "--import-keys")
	if c.Primary != "1476aca794464056ba8aa6a1a9f921da" || len(c.Secondary) != 64 {
		t.Fatalf("imported client %+v", c)
	}
	skHeader := http.Header{"Ocp-Apim-Subscription-Key": {c.Primary}}
	r := do(t, "POST", s.URL+"/auth/token", "grant_type=client_credentials&scope=Partner", http.Header{
		"Authorization":             {"Basic NGYzZDdjN2JkNzQ2NDliOWE3OThhYjhmOGU4YzZiODE6MTQ3NmFjYTc5NDQ2NDA1NmJhOGFhNmExYTlmOTIxZGE="},
		"Ocp-Apim-Subscription-Key": {c.Primary},
		"Content-Type":              {"application/x-www-form-urlencoded"},
	})
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"expires_in":3600`) {
		t.Fatalf("SkyKick's documented request: %s", r)
	}
	viaPrimary := s.mustOAuthToken(t, c.ID, c.Primary, "Partner", skHeader)
	viaSecondary := s.mustOAuthToken(t, c.ID, c.Secondary, "Partner", skHeader)
	check := func(tok string) int {
		return do(t, "GET", s.URL+"/oauth2/verify", "", http.Header{"Authorization": {"Bearer " + tok}, "Ocp-Apim-Subscription-Key": {c.Secondary}}).Status
	}
	if check(viaPrimary) != 200 || check(viaSecondary) != 200 {
		t.Fatal("fresh tokens refused")
	}

	out := s.mustCLI(t, "", "client", "show", c.ID)
	if !strings.Contains(out, "Partner Distributor") || strings.Contains(out, c.Primary) || strings.Contains(out, c.Secondary) {
		t.Errorf("client show: %q", out)
	}
	if out := s.mustCLI(t, "", "client", "list"); !strings.Contains(out, c.ID) || !strings.Contains(out, "required") {
		t.Errorf("client list: %q", out)
	}

	// Rotation: the regenerated primary's tokens die, the secondary's live. The CLI is another process: the
	// running server hears of its changes at its next read of the change feed.
	out = s.mustCLI(t, "", "client", "regenerate-key", c.ID, "primary")
	newPrimary := strings.TrimSpace(strings.TrimPrefix(out, "primary_key:"))
	if len(newPrimary) != 64 {
		t.Fatalf("regenerate-key printed %q", out)
	}
	eventually(t, "tokens after regenerating the primary", func() error {
		if p, q := check(viaPrimary), check(viaSecondary); p != 401 || q != 200 {
			return fmt.Errorf("old-primary token %d, secondary token %d; want 401, 200", p, q)
		}
		return nil
	})
	if r := s.oauthToken(t, c.ID, c.Primary, "Partner", skHeader); r.Status != http.StatusUnauthorized {
		t.Errorf("old primary still gets tokens: %s", r)
	}
	s.mustOAuthToken(t, c.ID, newPrimary, "Partner", http.Header{"Ocp-Apim-Subscription-Key": {newPrimary}})

	status := func(want int) func() error {
		return func() error {
			if got := check(viaSecondary); got != want {
				return fmt.Errorf("the secondary's token: %d, want %d", got, want)
			}
			return nil
		}
	}
	s.mustCLI(t, "", "client", "disable", c.ID)
	eventually(t, "a disabled client's token", status(401))
	s.mustCLI(t, "", "client", "enable", c.ID)
	eventually(t, "a re-enabled client's token", status(200))
	s.mustCLI(t, "", "client", "remove", c.ID)
	eventually(t, "a removed client's token", status(401))
	if _, err := s.cli(t, "", "client", "show", c.ID); err == nil {
		t.Error("client show after remove succeeded")
	}
	if out, err := s.cli(t, "", "client", "add", "--help"); err != nil {
		t.Errorf("client add --help: %v", err)
	} else if out != "" {
		t.Errorf("client add --help printed to stdout: %q", out)
	}
}

// startNginx runs nginx with deploy/nginx/forward-auth.conf pointed at tm and backend, on a fresh loopback port,
// in the foreground with a temporary prefix; it is stopped when the test ends. It returns the base URL.
func startNginx(t *testing.T, tmAddr, backendAddr string) string {
	t.Helper()
	if _, err := os.Stat(nginxBin); err != nil {
		skipOrFatal(t, "%s not found: install Debian's nginx-light (or nginx) for the forward-auth test", nginxBin)
	}
	site, err := os.ReadFile(filepath.Join(repoRoot, "deploy", "nginx", "forward-auth.conf"))
	if err != nil {
		t.Fatal(err)
	}
	for attempt := 1; ; attempt++ {
		listen := freeLoopbackAddr(t)
		conf := strings.NewReplacer("127.0.0.1:8080", tmAddr, "127.0.0.1:9000", backendAddr, "127.0.0.1:8000", listen).Replace(string(site))
		for _, addr := range []string{tmAddr, backendAddr, listen} {
			if !strings.Contains(conf, addr) {
				t.Fatalf("deploy/nginx/forward-auth.conf no longer has the placeholder address for %s", addr)
			}
		}
		base, ok := runNginx(t, conf, listen)
		if ok {
			return base
		}
		if attempt == 3 {
			t.Fatal("nginx did not start (see log above)")
		}
	}
}

func runNginx(t *testing.T, site, listen string) (string, bool) {
	t.Helper()
	prefix := t.TempDir()
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;" // workers would otherwise run as nobody and could not enter the 0700 temp prefix
	}
	main := fmt.Sprintf(`%s
worker_processes 1;
pid %[2]s/nginx.pid;
error_log stderr notice;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path %[2]s/client_body;
    proxy_temp_path %[2]s/proxy;
    fastcgi_temp_path %[2]s/fastcgi;
    uwsgi_temp_path %[2]s/uwsgi;
    scgi_temp_path %[2]s/scgi;
    include %[2]s/forward-auth.conf;
}
`, user, prefix)
	for name, body := range map[string]string{"forward-auth.conf": site, "nginx.conf": main} {
		if err := os.WriteFile(filepath.Join(prefix, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out := &lockedBuffer{}
	cmd := exec.Command(nginxBin, "-p", prefix+"/", "-c", filepath.Join(prefix, "nginx.conf"), "-e", "stderr", "-g", "daemon off;")
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = childEnv()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGQUIT) // graceful
		select {
		case <-done:
		case <-time.After(stopTimeout):
			_ = cmd.Process.Kill()
			<-done
			t.Errorf("nginx still running %v after SIGQUIT; killed", stopTimeout)
		}
	}
	deadline := time.Now().Add(startTimeout)
	for {
		if c, err := net.DialTimeout("tcp", listen, time.Second); err == nil {
			c.Close()
			t.Cleanup(func() {
				stop()
				if t.Failed() {
					t.Logf("nginx output:\n%s", out.String())
				}
			})
			return "http://" + listen, true
		}
		select {
		case err := <-done:
			t.Logf("nginx exited before listening (%v):\n%s", err, out.String())
			return "", false
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("nginx did not listen on %s within %v:\n%s", listen, startTimeout, out.String())
		}
	}
}

// backendSeen is what the protected backend was told by nginx.
type backendSeen struct {
	User, Kind, Scope string
}

func TestForwardAuthBehindNginx(t *testing.T) {
	s := startServer(t)

	var mu sync.Mutex
	var hits []backendSeen
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen := backendSeen{User: r.Header.Get("X-Token-User"), Kind: r.Header.Get("X-Token-Kind"), Scope: r.Header.Get("X-Token-Scope")}
		mu.Lock()
		hits = append(hits, seen)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(seen)
	}))
	defer backend.Close()
	base := startNginx(t, s.Addr, strings.TrimPrefix(backend.URL, "http://"))

	sess := s.mustRESTToken(t, adminUser, s.AdminPassword, true, 0)
	open := s.mustRESTToken(t, adminUser, s.AdminPassword, false, 60)
	c := s.addClient(t, "", "--scope", "Partner")
	oauthTok := s.mustOAuthToken(t, c.ID, c.Primary, "Partner", nil)

	allowed := []struct {
		name string
		h    http.Header
		want backendSeen
	}{
		{"Spectrum session token + SESSION cookie", http.Header{"Authorization": {"Bearer " + sess.AccessToken},
			"Cookie": {"SESSION=" + sess.Session}}, backendSeen{adminUser, "session", ""}},
		{"Spectrum open token", http.Header{"Authorization": {"Bearer " + open.AccessToken}}, backendSeen{adminUser, "open", ""}},
		{"OAuth bearer", http.Header{"Authorization": {"Bearer " + oauthTok}}, backendSeen{c.ID, "oauth", "Partner"}},
		{"OAuth bearer with spoofed identity headers", http.Header{"Authorization": {"Bearer " + oauthTok},
			"X-Token-User": {"root"}, "X-Token-Kind": {"session"}}, backendSeen{c.ID, "oauth", "Partner"}},
	}
	for _, tc := range allowed {
		for _, method := range []string{"GET", "POST"} {
			r := do(t, method, base+"/some/api?x=1", "payload", tc.h)
			var seen backendSeen
			if r.Status != http.StatusOK || json.Unmarshal(r.Body, &seen) != nil || seen != tc.want {
				t.Errorf("%s (%s) through nginx: %s; want 200 and the backend told %+v", tc.name, method, r, tc.want)
			}
		}
	}

	// A PowerAuth MAC token header: let through once; its replay never reaches the backend.
	activation := strings.TrimSpace(s.mustCLI(t, "", "powerauth", "activation", "create", adminUser, "--name", "nginx test"))
	var paTok struct {
		TokenID     string `json:"tokenId"`
		TokenSecret string `json:"tokenSecret"`
	}
	if r := paPost(t, s.URL+"/pa/v3/token/create", adminUser, s.AdminPassword, `{"activationId":"`+activation+`"}`); r.Status != http.StatusOK ||
		json.Unmarshal(r.Body, &paTok) != nil {
		t.Fatalf("PowerAuth token create: %s", r)
	}
	paSecret, _ := base64.StdEncoding.DecodeString(paTok.TokenSecret)
	paHeader := http.Header{"X-PowerAuth-Token": {paClientHeader(paTok.TokenID, paSecret, "3.1")}}
	var seen backendSeen
	if r := do(t, "GET", base+"/some/api", "", paHeader); r.Status != http.StatusOK || json.Unmarshal(r.Body, &seen) != nil ||
		seen != (backendSeen{adminUser, "powerauth", ""}) {
		t.Errorf("PowerAuth header through nginx: %s", r)
	}
	mu.Lock()
	afterPA := len(hits)
	mu.Unlock()
	if r := do(t, "GET", base+"/some/api", "", paHeader); r.Status != http.StatusUnauthorized {
		t.Errorf("replayed PowerAuth header through nginx: %s; want 401", r)
	}
	mu.Lock()
	if len(hits) != afterPA {
		t.Error("a replayed PowerAuth header reached the backend")
	}
	before := len(hits)
	mu.Unlock()
	revoked := s.mustOAuthToken(t, c.ID, c.Primary, "Partner", nil)
	form := url.Values{"token": {revoked}, "client_id": {c.ID}, "client_secret": {c.Primary}}
	if r := do(t, "POST", s.URL+"/oauth2/revoke", form.Encode(), http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}); r.Status != 200 {
		t.Fatalf("revoke: %s", r)
	}
	refused := []struct {
		name      string
		h         http.Header
		challenge string
	}{
		{"no credentials", nil, `Bearer realm="tokenmanager"`},
		{"spoofed identity headers only", http.Header{"X-Token-User": {"root"}}, `Bearer realm="tokenmanager"`},
		{"session token without its SESSION cookie", http.Header{"Authorization": {"Bearer " + sess.AccessToken}}, `Bearer realm="tokenmanager", error="invalid_token"`},
		{"revoked OAuth token", http.Header{"Authorization": {"Bearer " + revoked}}, `Bearer realm="tokenmanager", error="invalid_token"`},
		{"garbage", http.Header{"Authorization": {"Bearer garbage"}}, `Bearer realm="tokenmanager", error="invalid_token"`},
		{"user credentials", http.Header{"Authorization": {"Basic " + basicValue(adminUser, s.AdminPassword)}}, `Bearer realm="tokenmanager"`},
	}
	for _, tc := range refused {
		r := do(t, "GET", base+"/some/api", "", tc.h)
		if r.Status != http.StatusUnauthorized || !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), tc.challenge) {
			t.Errorf("%s through nginx: %s; want 401 with WWW-Authenticate %s…", tc.name, r, tc.challenge)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(hits) != before {
		t.Errorf("refused requests reached the backend: %+v", hits[before:])
	}
}

func basicValue(user, pass string) string {
	req, _ := http.NewRequest("GET", "/", nil)
	req.SetBasicAuth(user, pass)
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
}
