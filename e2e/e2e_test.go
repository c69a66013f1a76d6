// Package e2e runs the real tokenmanager binary and drives it with real SOAP clients (zeep, node-soap),
// plain HTTP and the user CLI. Everything talks to 127.0.0.1 only, and every wait is bounded.
//
// Tools that are not Go (Debian python3-zeep, node + testdata/interop/node/node_modules) are optional
// locally: a test skips with install instructions when one is missing, except under CI=true, where a
// missing tool fails the test.
package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	jwePrefix    = "eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0.."
	adminUser    = "admin"
	startTimeout = 20 * time.Second // until the server has written its address file
	stopTimeout  = 15 * time.Second // SIGTERM until exit
	cliTimeout   = 30 * time.Second
	toolTimeout  = 2 * time.Minute // one run of a client script
	systemPython = "/usr/bin/python3"
)

var (
	repoRoot  string // the module root (parent of e2e/)
	serverBin string // built once by TestMain
	buildErr  error
)

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	repoRoot = filepath.Dir(wd)
	if !testing.Short() {
		dir, err := os.MkdirTemp("", "tokenmanager-e2e-bin-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			return 1
		}
		defer os.RemoveAll(dir)
		serverBin = filepath.Join(dir, "tokenmanager")
		buildErr = build(serverBin)
	}
	return m.Run()
}

// build compiles ./cmd/tokenmanager (cgo on: go-sqlite3) into out.
func build(out string) error {
	// go test puts its own GOROOT/bin first on the PATH of the tests it runs, so this finds the go that runs us.
	goBin, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("no go command on PATH: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", out, "./cmd/tokenmanager")
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/tokenmanager: %v\n%s", err, b)
	}
	return nil
}

// needServer skips in -short mode and fails when the binary did not build.
func needServer(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: skipped with -short")
	}
	if buildErr != nil {
		t.Fatal(buildErr)
	}
}

// skipOrFatal skips locally, but fails under CI=true, where every tool must be installed.
func skipOrFatal(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatal("CI=true: " + msg)
	}
	t.Skip(msg)
}

// lockedBuffer collects a child's output while it runs.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// childEnv is the test's environment without TOKENMANAGER_* (every flag reads one) and without proxies
// (requests and axios honour them, even for 127.0.0.1), plus extra.
func childEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "TOKENMANAGER_"), strings.EqualFold(k, "http_proxy"),
			strings.EqualFold(k, "https_proxy"), strings.EqualFold(k, "all_proxy"):
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost")
	return append(env, extra...)
}

type tmServer struct {
	URL           string // http://127.0.0.1:PORT
	Addr          string // 127.0.0.1:PORT
	DataDir       string
	AdminPassword string
	Env           []string // more environment for the server and its CLI (TOKENMANAGER_DB, TOKENMANAGER_KEY, …)
	Pid           int      // the server process
	out           *lockedBuffer
	stop          func() // SIGTERM, wait, fail the test unless it exits 0; idempotent
	kill          func() // SIGKILL and wait: a crash; the test does not fail for it
}

// Kill kills the server with SIGKILL, as a crash or an OOM kill would.
func (s *tmServer) Kill() { s.kill() }

// startServer runs `tokenmanager serve` on a free loopback port with a fresh data directory and stops it with
// SIGTERM when the test ends (or at Stop), failing the test unless it then exits 0. extra are more serve
// flags; with --tls-cert among them the URL is https.
func startServer(t *testing.T, extra ...string) *tmServer {
	t.Helper()
	return launchServer(t, &tmServer{DataDir: t.TempDir(), AdminPassword: "admin-" + randomHex()}, extra...)
}

// Stop stops the server now.
func (s *tmServer) Stop() { s.stop() }

// launchServer starts the binary on s.DataDir (kept from an earlier run, or new).
func launchServer(t *testing.T, s *tmServer, extra ...string) *tmServer {
	t.Helper()
	needServer(t)
	s.out = &lockedBuffer{}
	addrFile := filepath.Join(t.TempDir(), "addr")
	args := append([]string{"serve", "--listen", "127.0.0.1:0", "--data-dir", s.DataDir, "--addr-file", addrFile}, extra...)
	cmd := exec.Command(serverBin, args...)
	cmd.Env = childEnv(append([]string{"TOKENMANAGER_ADMIN_PASSWORD=" + s.AdminPassword}, s.Env...)...)
	cmd.Stdout, cmd.Stderr = s.out, s.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.Pid = cmd.Process.Pid
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	exited := false
	s.stop = func() {
		if exited {
			return
		}
		exited = true
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("server did not exit 0 after SIGTERM: %v", err)
			}
		case <-time.After(stopTimeout):
			_ = cmd.Process.Kill()
			<-done
			t.Errorf("server still running %v after SIGTERM; killed", stopTimeout)
		}
	}
	s.kill = func() {
		if !exited {
			exited = true
			_ = cmd.Process.Kill()
			<-done
		}
	}
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			t.Logf("server output:\n%s", s.out.String())
		}
	})

	deadline := time.Now().Add(startTimeout)
	for {
		// Wait for a complete host:port: the file may be seen half-written.
		if b, err := os.ReadFile(addrFile); err == nil {
			if _, port, err := net.SplitHostPort(string(bytes.TrimSpace(b))); err == nil && port != "" {
				s.Addr = string(bytes.TrimSpace(b))
				break
			}
		}
		select {
		case err := <-done:
			exited = true
			t.Fatalf("server exited before writing %s: %v", addrFile, err)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("server wrote no address to %s within %v", addrFile, startTimeout)
		}
	}
	host, _, err := net.SplitHostPort(s.Addr)
	if err != nil || host != "127.0.0.1" {
		t.Fatalf("address file holds %q, want 127.0.0.1:PORT", s.Addr)
	}
	s.URL = "http://" + s.Addr
	if slices.Contains(extra, "--tls-cert") {
		s.URL = "https://" + s.Addr
	}
	return s
}

// cli runs `tokenmanager ARGS... --data-dir DIR` against the server's data directory.
func (s *tmServer) cli(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, serverBin, append(args, "--data-dir", s.DataDir)...)
	cmd.Env = childEnv(s.Env...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		err = fmt.Errorf("tokenmanager %s: %w; stderr: %s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), err
}

func (s *tmServer) mustCLI(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, err := s.cli(t, stdin, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func randomHex() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// --- plain HTTP helpers ---------------------------------------------------------------------------------

var httpClient = &http.Client{
	Timeout:   15 * time.Second,
	Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
}

type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) String() string {
	return fmt.Sprintf("HTTP %d %v %q", r.Status, r.Header, r.Body)
}

// get sends GET url with Basic credentials (if user != ""), a Bearer token (if token != "") and cookies.
func get(t *testing.T, url, user, pass, token string, cookies map[string]string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	res, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		t.Fatalf("GET %s: reading body: %v", url, err)
	}
	return response{Status: res.StatusCode, Header: res.Header, Body: body}
}

func sessionCookie(session string) map[string]string {
	if session == "" {
		return nil
	}
	return map[string]string{"SESSION": session}
}

type verifyBody struct {
	Username string `json:"username"`
	Kind     string `json:"kind"`
}

// verify calls the check endpoint with a Bearer token and, for session-bound tokens, the SESSION cookie.
func (s *tmServer) verify(t *testing.T, token, session string) (response, verifyBody) {
	t.Helper()
	r := get(t, s.URL+"/security/rest/token/verify", "", "", token, sessionCookie(session))
	var vb verifyBody
	if r.Status == http.StatusOK {
		if err := json.Unmarshal(r.Body, &vb); err != nil {
			t.Errorf("verify: 200 with a body that is not JSON: %v; %s", err, r)
		}
	}
	return r, vb
}

func (s *tmServer) mustVerify(t *testing.T, what, token, session, wantUser, wantKind string) {
	t.Helper()
	r, vb := s.verify(t, token, session)
	if r.Status != http.StatusOK || vb.Username != wantUser || vb.Kind != wantKind || r.Header.Get("X-Token-User") != wantUser {
		t.Errorf("%s: verify = %s; want 200, username %q, kind %q, X-Token-User %q", what, r, wantUser, wantKind, wantUser)
	}
}

func (s *tmServer) mustReject(t *testing.T, what, token, session string) {
	t.Helper()
	r, _ := s.verify(t, token, session)
	if r.Status != http.StatusUnauthorized || r.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("%s: verify = %s; want 401 with WWW-Authenticate", what, r)
	}
}

type restToken struct {
	AccessToken string `json:"access_token"`
	Session     string `json:"session"`
	Username    string `json:"username"`
}

// restToken gets a token over REST with Basic credentials: a session token from /access/session/{ttl}
// when session is true, else an open token from /access/{ttl}.
func (s *tmServer) restToken(t *testing.T, user, pass string, session bool, ttl int) (response, restToken) {
	t.Helper()
	path := fmt.Sprintf("/security/rest/token/access/%d", ttl)
	if session {
		path = fmt.Sprintf("/security/rest/token/access/session/%d", ttl)
	}
	r := get(t, s.URL+path, user, pass, "", nil)
	var rt restToken
	if r.Status == http.StatusOK {
		if err := json.Unmarshal(r.Body, &rt); err != nil {
			t.Errorf("GET %s: 200 with a body that is not JSON: %v; %s", path, err, r)
		}
	}
	return r, rt
}

func (s *tmServer) mustRESTToken(t *testing.T, user, pass string, session bool, ttl int) restToken {
	t.Helper()
	r, rt := s.restToken(t, user, pass, session, ttl)
	if r.Status != http.StatusOK || !strings.HasPrefix(rt.AccessToken, jwePrefix) || rt.Username != user ||
		(session && rt.Session == "") || (!session && rt.Session != "") {
		t.Fatalf("REST token for %s (session=%v, ttl=%d) = %s", user, session, ttl, r)
	}
	return rt
}

func mustBasicRejected(t *testing.T, what string, r response) {
	t.Helper()
	if r.Status != http.StatusUnauthorized || !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), `Basic realm="tokenmanager"`) {
		t.Errorf("%s: %s; want 401 with WWW-Authenticate: Basic realm=\"tokenmanager\"…", what, r)
	}
}

// --- the SOAP client scripts ------------------------------------------------------------------------------

// clientReport is the JSON that testdata/interop/zeep_client.py and node/client.js print.
type clientReport struct {
	Client      string   `json:"client"`
	ZeepVersion string   `json:"zeep_version"`
	SoapVersion string   `json:"soap_version"`
	NodeVersion string   `json:"node_version"`
	OK          bool     `json:"ok"`
	Failed      []string `json:"failed"`
	Checks      []struct {
		Name   string          `json:"name"`
		OK     bool            `json:"ok"`
		Detail json.RawMessage `json:"detail"`
	} `json:"checks"`
	Tokens map[string]struct {
		Token            string `json:"token"`
		Session          string `json:"session"`
		Username         string `json:"username"`
		SetCookieSession string `json:"set_cookie_session"`
	} `json:"tokens"`
	Verify            map[string]reportVerify `json:"verify"`
	VerifyAfterLogout map[string]reportVerify `json:"verify_after_logout"`
	Fault             struct {
		Raised bool `json:"raised"`
	} `json:"fault"`
	BadCredentials struct {
		Status int `json:"status"`
	} `json:"bad_credentials"`
	SOAP12OpenToken struct {
		Token    string `json:"token"`
		Username string `json:"username"`
	} `json:"soap12_open_token"`
	Logout map[string]struct {
		OK bool `json:"ok"`
	} `json:"logout"`
}

type reportVerify struct {
	Status     int             `json:"status"`
	Body       json.RawMessage `json:"body"`
	XTokenUser string          `json:"x_token_user"`
}

// runClient runs a client script and decodes its report; the script's own failed checks fail the test.
func runClient(t *testing.T, srv *tmServer, name string, args ...string) clientReport {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, append(args, "--url", srv.URL, "--user", adminUser)...)
	cmd.Dir = repoRoot
	cmd.Env = childEnv("TM_PASSWORD=" + srv.AdminPassword)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var rep clientReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("%s: no JSON report (%v; run: %v)\nstdout:\n%s\nstderr:\n%s", name, err, runErr, stdout.String(), stderr.String())
	}
	versions := []string{rep.Client}
	for _, v := range [][2]string{{"zeep", rep.ZeepVersion}, {"soap", rep.SoapVersion}, {"node", rep.NodeVersion}} {
		if v[1] != "" {
			versions = append(versions, v[0]+" "+v[1])
		}
	}
	t.Log(strings.Join(versions, ", "))
	if runErr != nil || !rep.OK || len(rep.Failed) > 0 {
		var details []string
		for _, c := range rep.Checks {
			if !c.OK {
				details = append(details, fmt.Sprintf("  FAILED %s: %s", c.Name, c.Detail))
			}
		}
		t.Errorf("%s reported failures (exit: %v):\n%s\nfull report:\n%s\nstderr:\n%s",
			rep.Client, runErr, strings.Join(details, "\n"), stdout.String(), stderr.String())
	}
	return rep
}

// checkReport asserts the essentials of a report independently of the script's own checks, then uses the
// token the script left valid (the expiring one) for a REST logout.
func checkReport(t *testing.T, srv *tmServer, rep clientReport) {
	t.Helper()
	wantSession := map[string]bool{"expiring": true, "session": true, "open": false}
	for kind, session := range wantSession {
		tok, ok := rep.Tokens[kind]
		if !ok {
			t.Errorf("%s: no %s token in the report", rep.Client, kind)
			continue
		}
		if !strings.HasPrefix(tok.Token, jwePrefix) || tok.Username != adminUser {
			t.Errorf("%s: %s token = %+v", rep.Client, kind, tok)
		}
		if session && (tok.Session == "" || tok.SetCookieSession != tok.Session) {
			t.Errorf("%s: %s token: session %q, Set-Cookie SESSION %q; want equal, non-empty", rep.Client, kind, tok.Session, tok.SetCookieSession)
		}
		if !session && tok.Session != "" {
			t.Errorf("%s: open token has session %q", rep.Client, tok.Session)
		}
		v := rep.Verify[kind]
		var vb verifyBody
		_ = json.Unmarshal(v.Body, &vb)
		if v.Status != http.StatusOK || vb.Username != adminUser || vb.Kind != kind || v.XTokenUser != adminUser {
			t.Errorf("%s: verify %s before logout = %+v", rep.Client, kind, v)
		}
	}
	for kind, want := range map[string]int{"session": 401, "open": 401, "expiring": 200} {
		if got := rep.VerifyAfterLogout[kind].Status; got != want {
			t.Errorf("%s: verify %s after logout = %d, want %d", rep.Client, kind, got, want)
		}
	}
	if !rep.Logout["session"].OK || !rep.Logout["open"].OK {
		t.Errorf("%s: SOAP logout results %+v", rep.Client, rep.Logout)
	}
	if !rep.Fault.Raised {
		t.Errorf("%s: getAccessExpiringToken(-5) raised no SOAP fault", rep.Client)
	}
	if rep.BadCredentials.Status != http.StatusUnauthorized {
		t.Errorf("%s: bad credentials gave HTTP %d, want 401", rep.Client, rep.BadCredentials.Status)
	}
	if !strings.HasPrefix(rep.SOAP12OpenToken.Token, jwePrefix) || rep.SOAP12OpenToken.Username != adminUser {
		t.Errorf("%s: SOAP 1.2 getAccessToken = %+v", rep.Client, rep.SOAP12OpenToken)
	}

	// The script's tokens are real server tokens: the surviving one works from Go too, and REST logout ends it.
	exp := rep.Tokens["expiring"]
	if exp.Token == "" {
		return
	}
	srv.mustVerify(t, rep.Client+" expiring token", exp.Token, exp.Session, adminUser, "expiring")
	r := get(t, srv.URL+"/security/rest/token/logout", "", "", exp.Token, sessionCookie(exp.Session))
	if r.Status != http.StatusOK {
		t.Errorf("REST logout of the %s expiring token: %s", rep.Client, r)
	}
	srv.mustReject(t, rep.Client+" expiring token after REST logout", exp.Token, exp.Session)
}

func TestZeep(t *testing.T) {
	t.Parallel()
	needServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, systemPython, "-c", "import zeep").CombinedOutput(); err != nil {
		skipOrFatal(t, "zeep is not importable by %s (%v: %s); install it with: apt-get install -y python3-zeep",
			systemPython, err, bytes.TrimSpace(out))
	}
	srv := startServer(t)
	rep := runClient(t, srv, systemPython, filepath.Join(repoRoot, "testdata", "interop", "zeep_client.py"))
	checkReport(t, srv, rep)
}

func TestNodeSoap(t *testing.T) {
	t.Parallel()
	needServer(t)
	node, err := exec.LookPath("node")
	if err != nil {
		skipOrFatal(t, "node is not installed: apt-get install -y nodejs npm, then make test-deps")
	}
	dir := filepath.Join(repoRoot, "testdata", "interop", "node")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "soap", "package.json")); err != nil {
		skipOrFatal(t, "node-soap is not installed in %s: run make test-deps (npm ci --prefix testdata/interop/node)", dir)
	}
	srv := startServer(t)
	rep := runClient(t, srv, node, filepath.Join(dir, "client.js"))
	checkReport(t, srv, rep)
}

func TestCLIUsers(t *testing.T) {
	t.Parallel()
	// The polls below sign in every 10 ms until the server has read a change (a disable, an enable): under load
	// that is more than the default ten failures per account, and the throttle would answer 429 instead of the
	// 401 this test is about. The throttle has tests of its own.
	srv := startServer(t, "--throttle-account", "1000/1s")
	const user, pass1, pass2 = "alice", "alice-password-1", "alice-password-2"

	// The CLI adds a user while the server runs; the server sees it at once.
	srv.mustCLI(t, pass1+"\n", "user", "add", user, "--password-stdin")
	if out := srv.mustCLI(t, "", "user", "list"); !strings.Contains(out, user) || !strings.Contains(out, adminUser) {
		t.Errorf("user list = %q; want %s and %s", out, user, adminUser)
	}
	sess := srv.mustRESTToken(t, user, pass1, true, 0)
	open := srv.mustRESTToken(t, user, pass1, false, 10)
	srv.mustVerify(t, "session token", sess.AccessToken, sess.Session, user, "session")
	srv.mustVerify(t, "open token", open.AccessToken, "", user, "open")
	srv.mustReject(t, "session token without SESSION", sess.AccessToken, "")
	r, _ := srv.restToken(t, user, pass1+"x", true, 0)
	mustBasicRejected(t, "wrong password", r)

	// Disabling the user rejects its tokens and its password (once the server has read the change feed).
	srv.mustCLI(t, "", "user", "disable", user)
	srv.mustRejectSoon(t, "session token of a disabled user", sess.AccessToken, sess.Session)
	srv.mustRejectSoon(t, "open token of a disabled user", open.AccessToken, "")
	r, _ = srv.restToken(t, user, pass1, false, 10)
	mustBasicRejected(t, "disabled user", r)
	srv.mustVerify(t, "admin unaffected", srv.mustRESTToken(t, adminUser, srv.AdminPassword, false, 10).AccessToken, "", adminUser, "open")

	// Enabling it lets the user sign in again, but the disable ended their tokens and sessions for good.
	srv.mustCLI(t, "", "user", "enable", user)
	eventually(t, "sign-in after enable", func() error {
		if r, _ := srv.restToken(t, user, pass1, false, 10); r.Status != http.StatusOK {
			return fmt.Errorf("REST token = %s", r)
		}
		return nil
	})
	srv.mustReject(t, "session token after disable and enable", sess.AccessToken, sess.Session)
	srv.mustReject(t, "open token after disable and enable", open.AccessToken, "")
	open = srv.mustRESTToken(t, user, pass1, false, 10)
	srv.mustVerify(t, "open token got after enable", open.AccessToken, "", user, "open")

	// A new password replaces the old one and ends the sessions opened with the old one.
	before := srv.mustRESTToken(t, user, pass1, true, 0)
	srv.mustCLI(t, pass2+"\n", "user", "passwd", user, "--password-stdin")
	srv.mustRejectSoon(t, "session token from before passwd", before.AccessToken, before.Session)
	eventually(t, "old password after passwd", func() error {
		if r, _ := srv.restToken(t, user, pass1, false, 10); r.Status != http.StatusUnauthorized {
			return fmt.Errorf("REST token = %s", r)
		}
		return nil
	})
	r, _ = srv.restToken(t, user, pass1, false, 10)
	mustBasicRejected(t, "old password after passwd", r)
	srv.mustVerify(t, "open token from before passwd", open.AccessToken, "", user, "open")
	fresh := srv.mustRESTToken(t, user, pass2, true, 0)
	srv.mustVerify(t, "token got with the new password", fresh.AccessToken, fresh.Session, user, "session")
}

// TestWSDL checks the service and port names, and that soap:address follows the URL the client used.
func TestWSDL(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	type port struct {
		Name     string `xml:"name,attr"`
		Location struct {
			URL string `xml:"location,attr"`
		} `xml:"address"`
	}
	type definitions struct {
		TargetNamespace string `xml:"targetNamespace,attr"`
		Service         struct {
			Name  string `xml:"name,attr"`
			Ports []port `xml:"port"`
		} `xml:"service"`
	}
	for _, c := range []struct {
		path, service string
		ports         []string
	}{
		{"/security/TokenManagerService", "TokenManagerServiceImplService", []string{"TokenManagerServiceImplPort", "TokenManagerServiceImplSoap12Port"}},
		{"/security/TokenLogoutService", "TokenLogoutServiceImplService", []string{"TokenLogoutServiceImplPort"}},
	} {
		for _, host := range []string{srv.Addr, "localhost:" + srv.Addr[strings.LastIndex(srv.Addr, ":")+1:]} {
			req, err := http.NewRequest(http.MethodGet, srv.URL+c.path+"?wsdl", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Host = host
			res, err := httpClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(res.Body)
			res.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			var d definitions
			if res.StatusCode != http.StatusOK {
				t.Errorf("GET %s?wsdl (Host %s): HTTP %d", c.path, host, res.StatusCode)
				continue
			}
			if err := xml.Unmarshal(body, &d); err != nil {
				t.Errorf("GET %s?wsdl: %v", c.path, err)
				continue
			}
			if d.TargetNamespace != "http://token.security.common.server.platform.spectrum.pb.com/" || d.Service.Name != c.service {
				t.Errorf("%s: targetNamespace %q, service %q", c.path, d.TargetNamespace, d.Service.Name)
			}
			if len(d.Service.Ports) < len(c.ports) {
				t.Errorf("%s: ports %+v, want at least %v", c.path, d.Service.Ports, c.ports)
				continue
			}
			want := "http://" + host + c.path
			for i, p := range d.Service.Ports {
				if i < len(c.ports) && p.Name != c.ports[i] {
					t.Errorf("%s: port %d is %q, want %q", c.path, i, p.Name, c.ports[i])
				}
				if p.Location.URL != want {
					t.Errorf("%s (Host %s): port %s address %q, want %q", c.path, host, p.Name, p.Location.URL, want)
				}
			}
		}
	}
}

// crossProcessBound is how long a change made by another process (the CLI, another node) may take to reach a
// server: its --cache-sync-interval (100 ms by default), with room for a loaded test machine.
const crossProcessBound = 3 * time.Second

// eventually retries check until it passes or crossProcessBound has passed, and then reports its last error:
// for what another process changed, which a server hears of at its next read of the change feed.
func eventually(t *testing.T, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(crossProcessBound)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%s (after %v): %v", what, crossProcessBound, err)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// mustRejectSoon is mustReject for a token another process revoked.
func (s *tmServer) mustRejectSoon(t *testing.T, what, token, session string) {
	t.Helper()
	eventually(t, what, func() error {
		if r, _ := s.verify(t, token, session); r.Status != http.StatusUnauthorized || r.Header.Get("WWW-Authenticate") == "" {
			return fmt.Errorf("verify = %s; want 401 with WWW-Authenticate", r)
		}
		return nil
	})
}
