package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"os/exec"
	"strings"
	"testing"

	"github.com/tokenmanager/tokenmanager/storage/postgres/pgtest"
)

const wrongKeyMessage = "is not the key this database was set up with"

// TestServerKeyMismatchRefused: a database remembers the server key it was first used with. A node started on
// it with another key refuses to start, saying so, instead of issuing tokens no other node accepts; so does
// a CLI command that would use the key. The right key still starts.
func TestServerKeyMismatchRefused(t *testing.T) {
	t.Parallel()
	keyA, keyB := randomKey(), randomKey()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		checkKeyMismatch(t, t.TempDir(), nil, keyA, keyB)
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		dsn := pgtest.Schema(t)
		checkKeyMismatch(t, t.TempDir(), []string{"TOKENMANAGER_DB=" + dsn}, keyA, keyB)
	})
}

func checkKeyMismatch(t *testing.T, dataDir string, env []string, keyA, keyB string) {
	password := "admin-" + randomHex()
	withKey := func(key string) []string { return append(append([]string(nil), env...), "TOKENMANAGER_KEY="+key) }
	a := launchServer(t, &tmServer{DataDir: dataDir, AdminPassword: password, Env: withKey(keyA)})
	tok := a.mustRESTToken(t, adminUser, password, false, 60)
	a.Stop()

	out, err := runTM(t, withKey(keyB), "serve", "--listen", "127.0.0.1:0", "--data-dir", dataDir)
	if err == nil || !strings.Contains(out, wrongKeyMessage) || !strings.Contains(out, "refusing to start") {
		t.Fatalf("serve with another key: %v\n%s", err, out)
	}
	if strings.Contains(out, keyA) || strings.Contains(out, keyB) {
		t.Fatalf("the message shows a key:\n%s", out)
	}
	b := &tmServer{DataDir: dataDir, Env: withKey(keyB)}
	if _, err := b.cli(t, "", "tokenkey", "rotate"); err == nil || !strings.Contains(err.Error(), wrongKeyMessage) {
		t.Fatalf("tokenkey rotate with another key: %v", err)
	}
	// With its own key the database serves on, and the tokens issued before still verify.
	a2 := launchServer(t, &tmServer{DataDir: dataDir, AdminPassword: password, Env: withKey(keyA)})
	a2.mustVerify(t, "token from before the refused start", tok.AccessToken, "", adminUser, "open")
}

func randomKey() string {
	k := make([]byte, 32)
	rand.Read(k)
	return base64.StdEncoding.EncodeToString(k)
}

// runTM runs the binary to its end (a command expected to fail quickly) and returns its combined output.
func runTM(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, serverBin, args...)
	cmd.Env = childEnv(env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}
