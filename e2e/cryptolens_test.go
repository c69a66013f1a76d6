package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestCryptolensNodeClient: the vendor sets up a product, keys and an API token with the CLI; Cryptolens'
// official Node client (npm "cryptolens"), pointed at the built binary, activates, re-activates and
// deactivates machines and verifies every signed answer with the product's exported <RSAKeyValue>; it changes
// features and notes, creates a key from a template the vendor stored with the CLI, and lists keys and products.
func TestCryptolensNodeClient(t *testing.T) {
	srv := startServer(t)
	node, err := exec.LookPath("node")
	if err != nil {
		skipOrFatal(t, "node is not installed: apt-get install -y nodejs npm, then make test-deps")
	}
	dir := filepath.Join(repoRoot, "testdata", "interop", "node")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "cryptolens", "package.json")); err != nil {
		skipOrFatal(t, "the cryptolens client is not installed in %s: run make test-deps (npm ci --prefix testdata/interop/node)", dir)
	}

	srv.mustCLI(t, "", "vendor", "add", adminUser)
	product := createdID(t, srv.mustCLI(t, "", "product", "add", "Desktop App", "--vendor", adminUser), "product")
	other := createdID(t, srv.mustCLI(t, "", "product", "add", "Other App", "--vendor", adminUser), "product")
	keys := strings.Fields(srv.mustCLI(t, "", "key", "create", "--product", product, "--count", "2", "--max-machines", "1",
		"--period", "30", "--features", "1"))
	if len(keys) != 2 {
		t.Fatalf("key create --count 2 printed %q", keys)
	}
	template := createdID(t, srv.mustCLI(t, "", "template", "add", "--product", product, "--name", "Pro", "--period", "365",
		"--features", "3"), "template")
	token := strings.TrimSpace(srv.mustCLI(t, "", "apitoken", "create", "--vendor", adminUser, "--methods",
		"Activate,Deactivate,GetKey,AddDataObject,ListDataObjects,AddFeature,RemoveFeature,ChangeNotes,CreateKeyFromTemplate,GetKeys,GetProducts",
		"--product-lock", product, "--name", "node e2e"))
	pubFile := filepath.Join(t.TempDir(), "pub.xml")
	otherPubFile := filepath.Join(t.TempDir(), "other.xml")
	for file, id := range map[string]string{pubFile: product, otherPubFile: other} {
		xml := srv.mustCLI(t, "", "product", "pubkey", id)
		if !regexp.MustCompile(`^<RSAKeyValue><Modulus>[A-Za-z0-9+/=]{344}</Modulus><Exponent>AQAB</Exponent></RSAKeyValue>\n$`).MatchString(xml) {
			t.Fatalf("product pubkey %s = %q", id, xml)
		}
		if err := os.WriteFile(file, []byte(xml), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(dir, "cryptolens_client.js"), "--url", srv.URL, "--product", product,
		"--key", keys[0], "--floating-key", keys[1], "--pubkey", pubFile, "--other-pubkey", otherPubFile, "--template", template)
	cmd.Dir = repoRoot
	cmd.Env = childEnv("TM_CL_TOKEN=" + token)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var rep struct {
		CryptolensVersion string `json:"cryptolens_version"`
		NodeVersion       string `json:"node_version"`
		OK                bool
		Failed            []string
		Error             string
		Checks            []struct {
			Name   string
			OK     bool
			Detail json.RawMessage
		}
		License struct {
			Key               string
			ActivatedMachines []map[string]any
		}
		DataObjects []struct {
			ID       int64 `json:"Id"`
			Name     string
			IntValue int
		} `json:"dataObjects"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("no JSON report (%v; run: %v)\nstdout:\n%s\nstderr:\n%s", err, runErr, stdout.String(), stderr.String())
	}
	t.Logf("cryptolens %s, node %s, %d checks", rep.CryptolensVersion, rep.NodeVersion, len(rep.Checks))
	if runErr != nil || !rep.OK || len(rep.Failed) > 0 || len(rep.Checks) < 42 {
		var details []string
		for _, c := range rep.Checks {
			if !c.OK {
				details = append(details, "  FAILED "+c.Name+": "+string(c.Detail))
			}
		}
		t.Fatalf("cryptolens client (exit %v, %d checks): %s\n%s\nstderr:\n%s", runErr, len(rep.Checks), rep.Error,
			strings.Join(details, "\n"), stderr.String())
	}
	// Independently of the script: what the server recorded, seen through the CLI.
	if rep.License.Key != keys[0] || len(rep.License.ActivatedMachines) != 1 || rep.License.ActivatedMachines[0]["IP"] != "127.0.0.1" {
		t.Errorf("license the client received: %+v", rep.License)
	}
	// The data objects the client added, read back over the API.
	res, err := httpClient.PostForm(srv.URL+"/api/data/ListDataObjectsToKey", url.Values{"token": {token}, "ProductId": {product}, "Key": {keys[0]}})
	if err != nil {
		t.Fatal(err)
	}
	var listed struct {
		Result      int
		DataObjects []struct {
			ID       int64 `json:"id"`
			Name     string
			IntValue int `json:"intValue"`
		} `json:"dataObjects"`
	}
	err = json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&listed)
	res.Body.Close()
	if err != nil || listed.Result != 0 || len(listed.DataObjects) != 2 || len(rep.DataObjects) != 2 ||
		listed.DataObjects[0].ID != rep.DataObjects[0].ID || listed.DataObjects[0].Name != "usage" || listed.DataObjects[0].IntValue != 3 {
		t.Errorf("data objects listed %+v (%v), the client saw %+v", listed, err, rep.DataObjects)
	}
	acts := srv.mustCLI(t, "", "activation", "list", "--product", product, keys[0])
	if !strings.Contains(acts, "machine-B") || strings.Contains(acts, "machine-A") {
		t.Errorf("activations after the run:\n%s", acts)
	}
	floating := srv.mustCLI(t, "", "activation", "list", "--product", product, keys[1])
	if !strings.Contains(floating, "float-1") || !strings.Contains(floating, "floating") || strings.Contains(floating, "float-2") {
		t.Errorf("floating activations after the run:\n%s", floating)
	}
	// The vendor frees the seat from the CLI; revoking the token locks the client out.
	srv.mustCLI(t, "", "activation", "remove", "--product", product, keys[0], "machine-B")
	if acts := srv.mustCLI(t, "", "activation", "list", "--product", product, keys[0]); strings.Contains(acts, "machine-B") {
		t.Errorf("machine-B still listed after activation remove:\n%s", acts)
	}
	tokens := srv.mustCLI(t, "", "apitoken", "list")
	id := regexp.MustCompile(`(?m)^(\d+)\s+admin\s+node e2e`).FindStringSubmatch(tokens)
	if id == nil {
		t.Fatalf("apitoken list:\n%s", tokens)
	}
	// The server keeps API tokens in its cache: a revocation by the CLI, another process, reaches it at its next
	// read of the change feed, as a revoked token's does.
	srv.mustCLI(t, "", "apitoken", "revoke", id[1])
	eventually(t, "GetKey with the revoked token refused", func() error {
		res, err := httpClient.PostForm(srv.URL+"/api/key/GetKey", url.Values{"token": {token}, "ProductId": {product}, "Key": {keys[0]}})
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
		res.Body.Close()
		if string(body) != `{"result":1,"message":"Unable to authenticate."}`+"\n" {
			return fmt.Errorf("HTTP %d %q", res.StatusCode, body)
		}
		return nil
	})
}

var createdRE = regexp.MustCompile(`^created (\w+) (\d+) `)

// createdID reads the id from "created product 3 (…) of …".
func createdID(t *testing.T, out, what string) string {
	t.Helper()
	m := createdRE.FindStringSubmatch(out)
	if m == nil || m[1] != what {
		t.Fatalf("expected \"created %s N …\", got %q", what, out)
	}
	return m[2]
}

// TestProductKeyRotationCLI: rotating a product's signing key needs --yes (apps pin the public key), prints the
// new public key, and is what `product pubkey` shows from then on.
func TestProductKeyRotationCLI(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	srv.mustCLI(t, "", "vendor", "add", adminUser)
	product := createdID(t, srv.mustCLI(t, "", "product", "add", "Desktop App", "--vendor", adminUser), "product")
	before := srv.mustCLI(t, "", "product", "pubkey", product)
	if _, err := srv.cli(t, "", "product", "rotate-key", product); err == nil || !strings.Contains(err.Error(), "--yes") {
		t.Fatalf("rotate-key without --yes: %v", err)
	}
	if srv.mustCLI(t, "", "product", "pubkey", product) != before {
		t.Fatal("a refused rotation changed the key")
	}
	printed := srv.mustCLI(t, "", "product", "rotate-key", product, "--yes")
	after := srv.mustCLI(t, "", "product", "pubkey", product)
	if printed != after || after == before || !strings.HasPrefix(after, "<RSAKeyValue><Modulus>") {
		t.Fatalf("rotate-key printed %q; pubkey now %q (before %q)", printed, after, before)
	}
	if out := srv.mustCLI(t, "", "audit", "--action", "license.product.rotate_key"); !strings.Contains(out, "product="+product) {
		t.Fatalf("no audit event for the rotation:\n%s", out)
	}
}
