package e2e

import (
	"crypto/tls"
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

// TestConfigFile: a config file sets what flags and TOKENMANAGER_* variables do not; flags beat variables,
// which beat the file; `config print` shows the outcome with secrets masked.
func TestConfigFile(t *testing.T) {
	t.Parallel()
	needServer(t)
	conf := filepath.Join(t.TempDir(), "tokenmanager.conf")
	os.WriteFile(conf, []byte("# test\nmax-token-lifetime = 5m\nlog-level = warn\ngc-interval = \"7m\"\n"), 0o600)

	srv := startServer(t, "--config", conf)
	if r, _ := srv.restToken(t, adminUser, srv.AdminPassword, false, 10); r.Status != http.StatusBadRequest {
		t.Fatalf("a 10-minute token with max-token-lifetime = 5m from the file: %s", r)
	}
	srv.mustRESTToken(t, adminUser, srv.AdminPassword, false, 5)

	cmd := exec.Command(serverBin, "config", "print", "--config", conf, "--log-level", "error",
		"--db", "sqlite:/var/lib/x.db", "--data-dir", t.TempDir())
	cmd.Env = childEnv("TOKENMANAGER_GC_INTERVAL=9m", "TOKENMANAGER_KEY=c2VjcmV0", "TOKENMANAGER_ADMIN_PASSWORD=hunter2")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("config print: %v\n%s", err, out)
	}
	for _, want := range []string{
		`max-token-lifetime = "5m0s"`, "# config file",
		`log-level = "error"`, "# flag",
		`gc-interval = "9m0s"`, "# env",
		"# TOKENMANAGER_KEY: set (masked)", "# TOKENMANAGER_ADMIN_PASSWORD: set (masked)",
	} {
		if !strings.Contains(strings.Join(strings.Fields(string(out)), " "), want) {
			t.Errorf("config print lacks %q:\n%s", want, out)
		}
	}
	for _, secret := range []string{"c2VjcmV0", "hunter2"} {
		if strings.Contains(string(out), secret) {
			t.Errorf("config print shows the secret %q", secret)
		}
	}

	// A typo in the file stops the start instead of leaving a default in force.
	bad := filepath.Join(t.TempDir(), "bad.conf")
	os.WriteFile(bad, []byte("max-token-lifetme = 5m\n"), 0o600)
	cmd = exec.Command(serverBin, "serve", "--config", bad, "--data-dir", t.TempDir(), "--listen", "127.0.0.1:0")
	cmd.Env = childEnv()
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), `unknown setting "max-token-lifetme"`) {
		t.Fatalf("serve with a misspelt setting: %v %s", err, out)
	}
}

// TestHTTPSRedirectAndHSTS: with TLS, a plain HTTP listener sends clients to HTTPS, and HTTPS answers carry HSTS.
func TestHTTPSRedirectAndHSTS(t *testing.T) {
	t.Parallel()
	certFile, keyFile, _, _ := testCertificate(t)
	plain := freeLoopbackAddr(t)
	srv := startServer(t, "--tls-cert", certFile, "--tls-key", keyFile, "--redirect-http", plain, "--hsts-max-age", "24h")
	client := &http.Client{
		Timeout:       10 * time.Second,
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, // our own test certificate
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Get("http://" + plain + "/security/TokenManagerService?wsdl")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	_, tlsPort, _ := net.SplitHostPort(srv.Addr)
	if want := "https://127.0.0.1:" + tlsPort + "/security/TokenManagerService?wsdl"; resp.StatusCode != http.StatusPermanentRedirect || resp.Header.Get("Location") != want {
		t.Fatalf("plain HTTP: %d Location %q, want 308 to %s", resp.StatusCode, resp.Header.Get("Location"), want)
	}
	resp, err = client.Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Strict-Transport-Security") != "max-age=86400" {
		t.Fatalf("HSTS = %q", resp.Header.Get("Strict-Transport-Security"))
	}
}

// freeLoopbackAddr returns a loopback address that was free a moment ago.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestAuditCLI: the events of a user's day reach the audit log, `tokenmanager audit` finds them, and neither
// the log nor the server's output holds a password or token.
func TestAuditCLI(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "--log-level", "debug")
	const user, pass = "alice", "alice-audit-password"
	srv.mustCLI(t, pass+"\n", "user", "add", user, "--password-stdin")
	sess := srv.mustRESTToken(t, user, pass, true, 0)
	srv.restToken(t, user, pass+"-wrong", true, 0)
	srv.mustReject(t, "token without SESSION", sess.AccessToken, "")
	srv.mustCLI(t, "", "user", "disable", user)

	want := []string{"user.add", "token.issue", "login.fail", "user.disable"}
	var events []map[string]any
	deadline := time.Now().Add(10 * time.Second)
	for {
		out := srv.mustCLI(t, "", "audit", "--user", user, "--json")
		events = events[:0]
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var e map[string]any
			if line != "" && json.Unmarshal([]byte(line), &e) == nil {
				events = append(events, e)
			}
		}
		if len(events) >= len(want) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond) // the server writes its events in batches
	}
	var got []string
	for i := len(events) - 1; i >= 0; i-- {
		got = append(got, events[i]["Action"].(string))
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("audit --user %s: %v, want %v", user, got, want)
	}
	refused := srv.mustCLI(t, "", "audit", "--action", "token.refuse")
	if !strings.Contains(refused, "session_mismatch") {
		t.Errorf("audit --action token.refuse:\n%s", refused)
	}
	everything := srv.mustCLI(t, "", "audit", "--json", "--limit", "1000") + srv.out.String()
	for _, secret := range []string{pass, sess.AccessToken, sess.Session, srv.AdminPassword} {
		if strings.Contains(everything, secret) {
			t.Errorf("a secret (%.6s…) appears in the audit log or the server's output", secret)
		}
	}
}

// TestAdminCLIAndAPI: an operator lists and revokes other users' tokens and sessions, from the CLI and over
// the admin API with the bootstrap admin account; the revoked tokens stop working on the running server.
func TestAdminCLIAndAPI(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	const user, pass = "bob", "bob-password"
	srv.mustCLI(t, pass+"\n", "user", "add", user, "--password-stdin")
	sess := srv.mustRESTToken(t, user, pass, true, 0)
	open1 := srv.mustRESTToken(t, user, pass, false, 60)
	open2 := srv.mustRESTToken(t, user, pass, false, 60)

	out := srv.mustCLI(t, "", "token", "list", "--user", user, "--live")
	if strings.Count(out, user) != 3 {
		t.Fatalf("token list:\n%s", out)
	}
	// Revoke one open token by its id: the newest open token is first in the list of open ones.
	open := srv.mustCLI(t, "", "token", "list", "--user", user, "--kind", "open")
	lines := strings.Split(strings.TrimSpace(open), "\n")
	id := strings.Fields(lines[1])[0]
	srv.mustCLI(t, "", "token", "revoke", id)
	if show := srv.mustCLI(t, "", "token", "show", id); !strings.Contains(show, "revoked") {
		t.Fatalf("token show after revoke:\n%s", show)
	}
	srv.mustReject(t, "the revoked open token", open2.AccessToken, "")
	srv.mustVerify(t, "the other open token", open1.AccessToken, "", user, "open")

	// The bootstrap admin ends bob's session over the admin API.
	r := get(t, srv.URL+"/admin/v1/sessions?user="+user+"&live=true", adminUser, srv.AdminPassword, "", nil)
	var sessions struct{ Items []struct{ ID string } }
	if r.Status != 200 || json.Unmarshal(r.Body, &sessions) != nil || len(sessions.Items) != 1 {
		t.Fatalf("admin API sessions: %s", r)
	}
	req, _ := http.NewRequest("DELETE", srv.URL+"/admin/v1/sessions/"+sessions.Items[0].ID, nil)
	req.SetBasicAuth(adminUser, srv.AdminPassword)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 204 {
		t.Fatalf("admin API end session: %v %v", resp, err)
	}
	resp.Body.Close()
	srv.mustReject(t, "session token after the admin ended its session", sess.AccessToken, sess.Session)

	// A user who is not an administrator is refused.
	if r := get(t, srv.URL+"/admin/v1/tokens", user, pass, "", nil); r.Status != 403 {
		t.Fatalf("admin API as a plain user: %s", r)
	}
	// And everything of bob, at once.
	if out := srv.mustCLI(t, "", "token", "revoke-user", user); !strings.Contains(out, "revoked 1 token") {
		t.Fatalf("revoke-user: %q", out)
	}
	srv.mustRejectSoon(t, "open token after revoke-user", open1.AccessToken, "")
	if out := srv.mustCLI(t, "", "session", "list", "--user", user, "--live"); strings.Count(out, "\n") != 1 {
		t.Fatalf("live sessions after revoke-user:\n%s", out)
	}
}

// TestKeyRotation: two server processes on one data directory, one started before and one after a rotation.
// Each accepts the other's tokens (the older one loads the new key when a token names it), tokens of the old
// key keep working, and once the old key is retired a fresh node refuses them.
func TestKeyRotation(t *testing.T) {
	t.Parallel()
	a := startServer(t)
	before := a.mustRESTToken(t, adminUser, a.AdminPassword, false, 60)
	if out := a.mustCLI(t, "", "tokenkey", "rotate"); !strings.Contains(out, "new primary token key") {
		t.Fatalf("tokenkey rotate: %q", out)
	}
	list := a.mustCLI(t, "", "tokenkey", "list")
	states := map[string]string{}
	var primary string
	for _, line := range strings.Split(strings.TrimSpace(list), "\n")[1:] {
		f := strings.Fields(line)
		states[f[0]] = f[1]
		if f[1] == "primary" {
			primary = f[0]
		}
	}
	if len(states) != 2 || states["original"] != "verify" || primary == "" {
		t.Fatalf("tokenkey list after rotate:\n%s", list)
	}
	b := launchServer(t, &tmServer{DataDir: a.DataDir, AdminPassword: a.AdminPassword})
	r, after := b.restToken(t, adminUser, b.AdminPassword, false, 60)
	if r.Status != http.StatusOK || strings.HasPrefix(after.AccessToken, jwePrefix) {
		t.Fatalf("a token minted after the rotation: %s; want the new key's header, not Spectrum's", r)
	}
	a.mustVerify(t, "new-key token on the node started before the rotation", after.AccessToken, "", adminUser, "open")
	a.mustVerify(t, "old-key token on the old node", before.AccessToken, "", adminUser, "open")
	b.mustVerify(t, "old-key token on the new node", before.AccessToken, "", adminUser, "open")

	if _, err := a.cli(t, "", "tokenkey", "retire", primary); err == nil {
		t.Fatal("retiring the primary key was allowed")
	}
	a.mustCLI(t, "", "tokenkey", "retire", "original")
	c := launchServer(t, &tmServer{DataDir: a.DataDir, AdminPassword: a.AdminPassword})
	c.mustReject(t, "old-key token after its key was retired", before.AccessToken, "")
	c.mustVerify(t, "new-key token after the old key was retired", after.AccessToken, "", adminUser, "open")
}
