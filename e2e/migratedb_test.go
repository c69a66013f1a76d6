package e2e

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/tokenmanager/tokenmanager/storage/postgres/pgtest"
)

// TestMigrateDB moves a deployment from SQLite to PostgreSQL: tokens issued and a license key activated on the
// SQLite node all hold on two nodes of a cluster on the copy, which runs with the SQLite node's server key.
func TestMigrateDB(t *testing.T) {
	t.Parallel()
	needServer(t)
	dsn := pgtest.Schema(t)
	password := "admin-" + randomHex()
	flags := []string{"--trusted-proxies", "127.0.0.1"}
	old := launchServer(t, &tmServer{DataDir: t.TempDir(), AdminPassword: password}, flags...)

	const client = "198.51.100.20"
	var tokens []restToken
	for i := range 4 {
		tokens = append(tokens, issueVia(t, old, client, i%2 == 0)) // sessions and open tokens
	}
	revoked := issueVia(t, old, client, false)
	do(t, "GET", old.URL+"/security/rest/token/logout", "", clusterHeader(client, revoked))
	verifyVia(t, old, revoked, client, http.StatusUnauthorized)

	old.mustCLI(t, "", "vendor", "add", adminUser)
	product := createdID(t, old.mustCLI(t, "", "product", "add", "Migrated App", "--vendor", adminUser), "product")
	key := strings.TrimSpace(old.mustCLI(t, "", "key", "create", "--product", product, "--max-machines", "2"))
	apiToken := strings.TrimSpace(old.mustCLI(t, "", "apitoken", "create", "--vendor", adminUser, "--methods", "Activate",
		"--product-lock", product, "--name", "migration"))
	if res := activateOn(t, old, apiToken, product, key, "machine-before"); res.Result != 0 {
		t.Fatalf("activation on SQLite: %+v", res)
	}
	old.Stop()

	keyFile := filepath.Join(old.DataDir, "server.key")
	src := "sqlite:" + filepath.Join(old.DataDir, "tokenmanager.db")
	out, stderr, err := migrateDB(t, "--from", src, "--to", dsn, "--progress-every", "1")
	if err != nil {
		t.Fatalf("migrate-db: %v\n%s%s", err, out, stderr)
	}
	if !strings.Contains(out, "counts and checksums match") || !strings.Contains(stderr, "migrate-db: users: 1 of ") ||
		!strings.Contains(stderr, "migrate-db: license_activations: 1 rows copied") {
		t.Errorf("migrate-db output:\n%s\nstderr:\n%s", out, stderr)
	}

	env := []string{"TOKENMANAGER_DB=" + dsn, "TOKENMANAGER_KEY_FILE=" + keyFile}
	a := launchServer(t, &tmServer{DataDir: t.TempDir(), AdminPassword: password, Env: env}, flags...)
	b := launchServer(t, &tmServer{DataDir: t.TempDir(), AdminPassword: password, Env: env}, flags...)
	for _, node := range []*tmServer{a, b} {
		for _, tok := range tokens {
			verifyVia(t, node, tok, client, http.StatusOK)
		}
		verifyVia(t, node, revoked, client, http.StatusUnauthorized)
	}
	list := a.mustCLI(t, "", "activation", "list", "--product", product, key)
	if !strings.Contains(list, "machine-before") {
		t.Errorf("activation list on the cluster:\n%s", list)
	}
	// The key's seats carry over: the activated machine again, one new, and then the limit.
	for i, c := range []struct {
		node    *tmServer
		machine string
		want    int
	}{{b, "machine-before", 0}, {a, "machine-after", 0}, {b, "machine-too-many", 1}} {
		if res := activateOn(t, c.node, apiToken, product, key, c.machine); res.Result != c.want {
			t.Errorf("activation %d (%s) on the cluster: %+v, want result %d", i, c.machine, res, c.want)
		}
	}
	// New ids do not collide with copied ones.
	if p2 := createdID(t, b.mustCLI(t, "", "product", "add", "After", "--vendor", adminUser), "product"); p2 == product {
		t.Errorf("new product got the copied id %s", p2)
	}
	fresh := issueVia(t, a, client, true)
	verifyVia(t, b, fresh, client, http.StatusOK)

	t.Run("a target with data is refused", func(t *testing.T) {
		out, stderr, err := migrateDB(t, "--from", src, "--to", dsn)
		if err == nil || !strings.Contains(stderr, "the target database is not empty") || !strings.Contains(stderr, "--force") {
			t.Fatalf("migrate-db into a running cluster's database: %v\n%s%s", err, out, stderr)
		}
		verifyVia(t, a, fresh, client, http.StatusOK)
	})

	t.Run("a second run after an interrupted one", func(t *testing.T) {
		dsn2 := pgtest.Schema(t)
		if out, stderr, err := migrateDB(t, "--from", src, "--to", dsn2, "--key-file", keyFile); err != nil {
			t.Fatalf("first run: %v\n%s%s", err, out, stderr)
		}
		// What a run that died after copying some tables leaves: its marker, the first tables filled, the last
		// ones empty, and this one half full.
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, dsn2)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		for _, q := range []string{
			`INSERT INTO settings (name, value) VALUES ('migrate_db_in_progress', 'copy from SQLite started earlier')`,
			`DELETE FROM app_authorizations`, `DELETE FROM license_activations`, `DELETE FROM cache_changes`,
			`DELETE FROM tokens WHERE id IN (SELECT id FROM tokens ORDER BY id LIMIT 2)`,
		} {
			if _, err := conn.Exec(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		out, stderr, err := migrateDB(t, "--from", src, "--to", dsn2, "--key-file", keyFile)
		if err != nil || !strings.Contains(out, "an unfinished copy was found in the target and done over") {
			t.Fatalf("second run: %v\n%s%s", err, out, stderr)
		}
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM license_activations`).Scan(&n); err != nil || n != 1 {
			t.Errorf("activations after the second run: %d, %v", n, err)
		}
		c := launchServer(t, &tmServer{DataDir: t.TempDir(), AdminPassword: password,
			Env: []string{"TOKENMANAGER_DB=" + dsn2, "TOKENMANAGER_KEY_FILE=" + keyFile}}, flags...)
		for _, tok := range tokens {
			verifyVia(t, c, tok, client, http.StatusOK)
		}
	})

	t.Run("another server key is refused", func(t *testing.T) {
		dsn3 := pgtest.Schema(t)
		other := filepath.Join(t.TempDir(), "other.key")
		key := make([]byte, 32)
		rand.Read(key)
		if err := os.WriteFile(other, []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		out, stderr, err := migrateDB(t, "--from", src, "--to", dsn3, "--key-file", other)
		if err == nil || !strings.Contains(stderr, "not the one the source database was set up with") {
			t.Fatalf("migrate-db with another key: %v\n%s%s", err, out, stderr)
		}
	})
}

// migrateDB runs `tokenmanager migrate-db ARGS`.
func migrateDB(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, serverBin, append([]string{"migrate-db"}, args...)...)
	cmd.Env = childEnv()
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

type activation struct {
	Result  int    `json:"result"`
	Message string `json:"message"`
}

// activateOn activates a machine on a license key through node's licensing API.
func activateOn(t *testing.T, node *tmServer, token, product, key, machine string) activation {
	t.Helper()
	res, err := httpClient.PostForm(node.URL+"/api/key/Activate", url.Values{"token": {token}, "ProductId": {product},
		"Key": {key}, "MachineCode": {machine}})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	var a activation
	if err := json.Unmarshal(body, &a); err != nil {
		t.Fatal(fmt.Errorf("HTTP %d %q: %v", res.StatusCode, body, err))
	}
	return a
}
