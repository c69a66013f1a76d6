package e2e

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/storage/postgres/pgtest"
)

// TestServerKeyRotation rotates the server key of two nodes on one database (PostgreSQL when
// TOKENMANAGER_TEST_PG_DSN is set, else one SQLite file shared by the two processes) as docs/operations.md's procedure
// says, under load: every request during the change succeeds; the tokens (of the original token key and of a
// rotated one), the PowerAuth token and the product signing key from before work on both nodes after; a node
// or a command with only the old key is refused.
func TestServerKeyRotation(t *testing.T) {
	t.Parallel()
	needServer(t)
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "shared.db")
	if os.Getenv(pgtest.EnvDSN) != "" {
		db = pgtest.Schema(t)
	}
	oldKey := filepath.Join(dir, "old.key")
	writeKey(t, oldKey, randomKey())
	password := "admin-" + randomHex()
	node := func(name string) *tmServer {
		keyFile := filepath.Join(dir, name+".key")
		writeKey(t, keyFile, readKey(t, oldKey))
		return launchServer(t, &tmServer{DataDir: t.TempDir(), AdminPassword: password, Env: []string{"TOKENMANAGER_DB=" + db}},
			"--key-file", keyFile, "--previous-key-file", filepath.Join(dir, name+".previous"), "--key-check-interval", "100ms",
			"--sign-limit-token", "0", "--sign-limit-address", "0")
	}
	a := node("a")
	b := node("b")
	cliEnv := func(keyFile, previous string) []string {
		env := []string{"TOKENMANAGER_DB=" + db, "TOKENMANAGER_KEY_FILE=" + keyFile}
		if previous != "" {
			env = append(env, "TOKENMANAGER_PREVIOUS_KEY_FILE="+previous)
		}
		return env
	}
	cli := &tmServer{DataDir: t.TempDir(), Env: cliEnv(oldKey, "")}

	// Before: a token of the original token key, one of a rotated token key, a PowerAuth token, a product and
	// a license signed with its key.
	original := a.mustRESTToken(t, adminUser, password, false, 600)
	cli.mustCLI(t, "", "tokenkey", "rotate")
	r, rotated := a.restToken(t, adminUser, password, true, 600)
	if r.Status != http.StatusOK || rotated.Session == "" {
		t.Fatalf("session token after tokenkey rotate: %s", r)
	}
	const paUser, paPass = "mobile", "mobile-password"
	cli.mustCLI(t, paPass+"\n", "user", "add", paUser, "--password-stdin")
	activation := strings.TrimSpace(cli.mustCLI(t, "", "powerauth", "activation", "create", paUser, "--name", "phone"))
	r = paPost(t, a.URL+"/pa/v3/token/create", paUser, paPass, `{"activationId":"`+activation+`"}`)
	var pa struct {
		TokenID     string `json:"tokenId"`
		TokenSecret string `json:"tokenSecret"`
	}
	if r.Status != http.StatusOK || json.Unmarshal(r.Body, &pa) != nil {
		t.Fatalf("PowerAuth token: %s", r)
	}
	paSecret, _ := base64.StdEncoding.DecodeString(pa.TokenSecret)
	cli.mustCLI(t, "", "vendor", "add", adminUser)
	product := createdID(t, cli.mustCLI(t, "", "product", "add", "Rotated App", "--vendor", adminUser), "product")
	pubXML := cli.mustCLI(t, "", "product", "pubkey", product)
	pub := parseRSAKeyValue(t, pubXML)
	licenseKey := strings.TrimSpace(cli.mustCLI(t, "", "key", "create", "--product", product, "--max-machines", "1000"))
	licToken := strings.TrimSpace(cli.mustCLI(t, "", "apitoken", "create", "--vendor", adminUser, "--methods", "Activate",
		"--product-lock", product, "--name", "rotation"))
	var machines atomic.Int64
	sign := func(node *tmServer) (license, signature []byte, err error) {
		return signedActivation(node, licToken, product, licenseKey, fmt.Sprint("m", machines.Add(1)), pub)
	}
	license, signature, serr := sign(a)
	if serr != nil {
		t.Fatal(serr)
	}

	// Requests during the change: tokens issued on one node and verified on the other, PowerAuth checks and
	// signed licenses, on both nodes in turn, until the procedure is over.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var requests atomic.Int64
	var failures []string
	var failMu sync.Mutex
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			nodes := [2]*tmServer{a, b}
			for n := i; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				from, to := nodes[n%2], nodes[(n+1)%2]
				if err := loadStep(from, to, password, pa.TokenID, paSecret, sign); err != nil {
					failMu.Lock()
					failures = append(failures, err.Error())
					failMu.Unlock()
				}
				requests.Add(1)
			}
		}()
	}
	waitRequests := func(n int64) { // let some load run through each stage
		deadline := time.Now().Add(startTimeout)
		for target := requests.Load() + n; requests.Load() < target && time.Now().Before(deadline); {
			time.Sleep(20 * time.Millisecond)
		}
	}

	// 1. A new key.
	newKey := filepath.Join(dir, "new.key")
	out, err := runTM(t, nil, "serverkey", "generate", newKey)
	if fi, serr := os.Stat(newKey); err != nil || serr != nil || fi.Mode().Perm() != 0o600 || strings.Contains(out, readKey(t, newKey)) {
		t.Fatalf("serverkey generate: %v %v; printed %q", err, serr, out)
	}
	if out, err := runTM(t, nil, "serverkey", "generate", newKey); err == nil || !strings.Contains(out, "never overwritten") {
		t.Fatalf("serverkey generate on an existing file: %v %q", err, out)
	}
	waitRequests(5)
	// 2. Every node gets the new key as --key-file and the current one as --previous-key-file, then SIGHUP.
	for _, n := range []struct {
		name string
		srv  *tmServer
	}{{"a", a}, {"b", b}} {
		writeKey(t, filepath.Join(dir, n.name+".previous"), readKey(t, oldKey))
		replaceKey(t, filepath.Join(dir, n.name+".key"), readKey(t, newKey))
		hup(t, n.srv, 1)
		waitRequests(5)
	}
	// 3. The rotation.
	rotator := &tmServer{DataDir: cli.DataDir, Env: cliEnv(newKey, oldKey)}
	// The original and the rotated token key, the PowerAuth token's secret, the product's signing key, and the
	// JWT signing key the first node made at its start.
	if out := rotator.mustCLI(t, "", "serverkey", "rotate"); !strings.HasPrefix(out, "re-sealed 5 secrets;") {
		t.Fatalf("serverkey rotate printed %q", out)
	}
	waitLog(t, a, `"msg":"server key changed"`, 1)
	waitLog(t, b, `"msg":"server key changed"`, 1)
	waitRequests(5)
	// 4. Again, for what a node sealed with the old key before it saw the change.
	// (The load seals nothing new: none here.)
	if out := rotator.mustCLI(t, "", "serverkey", "rotate"); !strings.HasPrefix(out, "re-sealed 0 secrets;") {
		t.Fatalf("second serverkey rotate printed %q", out)
	}
	// 5. The old key leaves the nodes.
	for _, n := range []struct {
		name string
		srv  *tmServer
	}{{"a", a}, {"b", b}} {
		if err := os.Remove(filepath.Join(dir, n.name+".previous")); err != nil {
			t.Fatal(err)
		}
		hup(t, n.srv, 2)
		waitRequests(5)
	}
	close(stop)
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("%d of %d requests failed during the rotation; first: %s", len(failures), requests.Load(), failures[0])
	}
	t.Logf("%d rounds of requests during the rotation, none failed", requests.Load())

	// After: everything from before works on both nodes, with the new key only.
	for _, n := range []*tmServer{a, b} {
		n.mustVerify(t, "token of the original token key", original.AccessToken, "", adminUser, "open")
		n.mustVerify(t, "token of a rotated token key", rotated.AccessToken, rotated.Session, adminUser, "expiring")
		if r := paVerify(t, n.URL, paClientHeader(pa.TokenID, paSecret, "3.3")); r.Status != http.StatusOK {
			t.Errorf("PowerAuth token from before on %s: %s", n.URL, r)
		}
		if _, _, err := sign(n); err != nil {
			t.Errorf("signing with the product key from before on %s: %v", n.URL, err)
		}
	}
	h := sha256.Sum256(license)
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], signature); err != nil {
		t.Errorf("the license signed before: %v", err)
	}
	newCLI := &tmServer{DataDir: cli.DataDir, Env: cliEnv(newKey, "")}
	if got := newCLI.mustCLI(t, "", "product", "pubkey", product); got != pubXML {
		t.Errorf("product key changed: %q, was %q", got, pubXML)
	}
	if fp := strings.Fields(newCLI.mustCLI(t, "", "serverkey", "fingerprint")); len(fp) != 5 || fp[0] != "key" ||
		fp[3] != "database" || fp[1] != fp[4] {
		t.Errorf("the database's fingerprint is not the new key's: %q", fp)
	}
	// A node restarted on the new key alone serves the old tokens: nothing depends on the old key any more.
	a.Stop()
	a2 := launchServer(t, &tmServer{DataDir: a.DataDir, AdminPassword: password, Env: []string{"TOKENMANAGER_DB=" + db}},
		"--key-file", newKey)
	a2.mustVerify(t, "token of the original token key, after a restart on the new key", original.AccessToken, "", adminUser, "open")
	a2.mustVerify(t, "token of a rotated token key, after a restart", rotated.AccessToken, rotated.Session, adminUser, "expiring")

	// A node or a command still on the old key alone is refused, saying why.
	out, err = runTM(t, []string{"TOKENMANAGER_DB=" + db, "TOKENMANAGER_KEY_FILE=" + oldKey}, "serve", "--listen", "127.0.0.1:0",
		"--data-dir", t.TempDir())
	if err == nil || !strings.Contains(out, "refusing to start") || !strings.Contains(out, wrongKeyMessage) ||
		!strings.Contains(out, "serverkey rotate") {
		t.Fatalf("serve on the old key: %v\n%s", err, out)
	}
	if _, err := cli.cli(t, "", "tokenkey", "list"); err != nil {
		t.Logf("tokenkey list needs no key: %v", err)
	}
	if _, err := cli.cli(t, "", "product", "pubkey", product); err == nil || !strings.Contains(err.Error(), wrongKeyMessage) {
		t.Fatalf("a command on the old key: %v", err)
	}
}

// loadStep is one round of requests: a token issued on from and checked on to, a PowerAuth check and a signed
// license on from.
func loadStep(from, to *tmServer, password, paToken string, paSecret []byte,
	sign func(*tmServer) ([]byte, []byte, error)) error {
	req, _ := http.NewRequest("GET", from.URL+"/security/rest/token/access/60", nil)
	req.SetBasicAuth(adminUser, password)
	res, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	res.Body.Close()
	var tok restToken
	if res.StatusCode != http.StatusOK || json.Unmarshal(body, &tok) != nil {
		return fmt.Errorf("token on %s: HTTP %d %q", from.URL, res.StatusCode, body)
	}
	req, _ = http.NewRequest("GET", to.URL+"/security/rest/token/verify", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	if s, err := statusOf(req); err != nil || s != http.StatusOK {
		return fmt.Errorf("verify on %s: %d %v", to.URL, s, err)
	}
	req, _ = http.NewRequest("GET", from.URL+"/pa/v3/token/verify", nil)
	req.Header.Set("X-PowerAuth-Token", paClientHeader(paToken, paSecret, "3.3"))
	if s, err := statusOf(req); err != nil || s != http.StatusOK {
		return fmt.Errorf("PowerAuth verify on %s: %d %v", from.URL, s, err)
	}
	_, _, err = sign(from)
	return err
}

// signedActivation activates machine with Sign=true on node and checks the license's signature with pub.
func signedActivation(node *tmServer, token, product, key, machine string, pub *rsa.PublicKey) (license, signature []byte, err error) {
	res, err := httpClient.PostForm(node.URL+"/api/key/Activate", url.Values{"token": {token}, "ProductId": {product},
		"Key": {key}, "MachineCode": {machine}, "Sign": {"true"}})
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	var answer struct {
		Result     int     `json:"result"`
		LicenseKey string  `json:"licenseKey"`
		Signature  *string `json:"signature"`
	}
	if err := json.Unmarshal(body, &answer); err != nil || answer.Result != 0 || answer.Signature == nil {
		return nil, nil, fmt.Errorf("signed activation on %s: HTTP %d %q", node.URL, res.StatusCode, body)
	}
	license, err1 := base64.StdEncoding.DecodeString(answer.LicenseKey)
	signature, err2 := base64.StdEncoding.DecodeString(*answer.Signature)
	h := sha256.Sum256(license)
	if err1 != nil || err2 != nil || rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], signature) != nil {
		return nil, nil, fmt.Errorf("signed activation on %s: the signature does not verify: %q", node.URL, body)
	}
	return license, signature, nil
}

func writeKey(t *testing.T, path, key string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// replaceKey replaces the key file at path in one step, as an operator's deployment tool would.
func replaceKey(t *testing.T, path, key string) {
	t.Helper()
	tmp := path + ".tmp"
	writeKey(t, tmp, key)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func readKey(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// hup sends SIGHUP to srv and waits for its n-th "server keys read again".
func hup(t *testing.T, srv *tmServer, n int) {
	t.Helper()
	if err := syscall.Kill(srv.Pid, syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitLog(t, srv, `"msg":"server keys read again"`, n)
}

// waitLog waits until srv has logged line at least n times.
func waitLog(t *testing.T, srv *tmServer, line string, n int) {
	t.Helper()
	deadline := time.Now().Add(startTimeout)
	for strings.Count(srv.out.String(), line) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not log %s %d times within %v:\n%s", srv.URL, line, n, startTimeout, srv.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
