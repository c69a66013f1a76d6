package e2e

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/keys"
	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/license/woo"
	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/sqlite"
)

// withServerLicensing opens the running server's database and licensing core, as the vendor tools do, for fn.
func withServerLicensing(t *testing.T, srv *tmServer, fn func(ctx context.Context, svc *license.Service)) {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(srv.DataDir, "tokenmanager.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	master, _, err := keys.LoadOrCreate(filepath.Join(srv.DataDir, "server.key"))
	if err != nil {
		t.Fatal(err)
	}
	fn(ctx, license.New(store, keys.NewSealerFor(master, keys.PurposeLicenseSigningKeys), license.Options{}))
}

// setupVendorProduct makes the server's admin a vendor with one product, and a licensing access token that may
// only call GetKey.
func setupVendorProduct(t *testing.T, srv *tmServer) (p storage.Product, token string) {
	t.Helper()
	withServerLicensing(t, srv, func(ctx context.Context, svc *license.Service) {
		if err := svc.AddVendor(ctx, adminUser); err != nil {
			t.Fatal(err)
		}
		var err error
		if p, err = svc.CreateProduct(ctx, license.Admin(), adminUser, license.ProductSpec{Name: "e2e product"}); err != nil {
			t.Fatal(err)
		}
		tok, err := svc.CreateAPIToken(ctx, adminUser, license.TokenSpec{Name: "e2e", Methods: []license.Method{license.MethodGetKey}})
		if err != nil {
			t.Fatal(err)
		}
		token = tok.Token
	})
	return p, token
}

// zeepLicenseReport is what testdata/interop/zeep_license.py prints.
type zeepLicenseReport struct {
	ZeepVersion string   `json:"zeep_version"`
	OK          bool     `json:"ok"`
	Failed      []string `json:"failed"`
	Checks      []struct {
		Name   string          `json:"name"`
		OK     bool            `json:"ok"`
		Detail json.RawMessage `json:"detail"`
	} `json:"checks"`
	Key      string `json:"key"`
	GlobalID int64  `json:"global_id"`
	Signed   struct {
		LicenseKey string `json:"license_key_b64"`
		Signature  string `json:"signature_b64"`
	} `json:"signed"`
}

// TestZeepLicense drives the SOAP LicenseService of the built binary with zeep, verifies the signed license
// zeep received with the product's public key, and uses the key zeep made on the WooCommerce token endpoint,
// whose lifetime comes from --woo-token-lifetime.
func TestZeepLicense(t *testing.T) {
	t.Parallel()
	needServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, systemPython, "-c", "import zeep").CombinedOutput(); err != nil {
		skipOrFatal(t, "zeep is not importable by %s (%v: %s); install it with: apt-get install -y python3-zeep",
			systemPython, err, bytes.TrimSpace(out))
	}
	srv := startServer(t, "--woo-token-lifetime", "90s")
	product, token := setupVendorProduct(t, srv)

	run, cancelRun := context.WithTimeout(context.Background(), toolTimeout)
	defer cancelRun()
	cmd := exec.CommandContext(run, systemPython, filepath.Join(repoRoot, "testdata", "interop", "zeep_license.py"),
		"--url", srv.URL, "--user", adminUser, "--product-id", strconv.FormatInt(product.ID, 10))
	cmd.Dir = repoRoot
	cmd.Env = childEnv("TM_PASSWORD="+srv.AdminPassword, "TM_LICENSE_TOKEN="+token)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var rep zeepLicenseReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("no JSON report (%v; run: %v)\nstdout:\n%s\nstderr:\n%s", err, runErr, stdout.String(), stderr.String())
	}
	t.Logf("zeep %s", rep.ZeepVersion)
	if runErr != nil || !rep.OK || len(rep.Failed) > 0 || len(rep.Checks) < 20 {
		var details []string
		for _, c := range rep.Checks {
			if !c.OK {
				details = append(details, fmt.Sprintf("  FAILED %s: %s", c.Name, c.Detail))
			}
		}
		t.Fatalf("zeep reported failures (exit: %v, %d checks):\n%s\nstderr:\n%s", runErr, len(rep.Checks),
			strings.Join(details, "\n"), stderr.String())
	}

	// The license zeep got verifies with the product's key, over the bytes it decoded.
	body, err1 := base64.StdEncoding.DecodeString(rep.Signed.LicenseKey)
	sig, err2 := base64.StdEncoding.DecodeString(rep.Signed.Signature)
	if err1 != nil || err2 != nil {
		t.Fatalf("signed license in the report: %v %v", err1, err2)
	}
	pub, err := license.PublicKey(product)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(body)
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig); err != nil {
		t.Fatalf("the license zeep received does not verify with the product's key: %v", err)
	}
	var signed struct {
		Key               string
		ActivatedMachines []struct{ Mid string }
	}
	if err := json.Unmarshal(body, &signed); err != nil || signed.Key != rep.Key ||
		len(signed.ActivatedMachines) != 1 || signed.ActivatedMachines[0].Mid != "zeep-machine-1" {
		t.Fatalf("signed license %s: want key %s activated on zeep-machine-1", body, rep.Key)
	}

	// The WooCommerce token endpoint of the same binary, for the key zeep made: its lifetime is the flag's.
	wooKey := strings.ReplaceAll(rep.Key, "-", "") + "-" + strconv.FormatInt(rep.GlobalID, 10)
	r := get(t, srv.URL+"/wp-json/woo-license-keys/v1/token?"+url.Values{"grant_type": {"license_key"}, "license_key": {wooKey}}.Encode(), "", "", "", nil)
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		Expires     int    `json:"expires"`
	}
	if err := json.Unmarshal(r.Body, &tok); err != nil || r.Status != 200 || tok.TokenType != "Bearer" || tok.Expires != 90 || tok.AccessToken == "" {
		t.Fatalf("WooCommerce token for %s: %s", wooKey, r)
	}
}

// TestCLIWoo sets up a WooCommerce store with the CLI while the server runs, and uses it over HTTP: the token
// requirement the CLI switches on and off takes effect at once.
func TestCLIWoo(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	product, _ := setupVendorProduct(t, srv)
	var key storage.LicenseKey
	withServerLicensing(t, srv, func(ctx context.Context, svc *license.Service) {
		k, err := svc.CreateKey(ctx, license.Admin(), product.ID, license.KeySpec{MaxNoOfMachines: 1})
		if err != nil {
			t.Fatal(err)
		}
		key = k.Key
	})
	const code = "e2e-store-code"
	pid := strconv.FormatInt(product.ID, 10)
	if out := srv.mustCLI(t, code+"\n", "woo", "store", "add", adminUser, "--code-stdin", "--name", "e2e shop", "--require-token"); out != "created store 1 of admin\n" {
		t.Fatalf("store add: %q", out)
	}
	if _, err := srv.cli(t, code+"\n", "woo", "store", "add", adminUser, "--code-stdin"); err == nil {
		t.Fatal("a second store with the same code was accepted")
	}
	srv.mustCLI(t, "", "woo", "sku", "set", "1", "E2E-SKU", pid)
	if out := srv.mustCLI(t, "", "woo", "sku", "list", "1"); !strings.Contains(out, "E2E-SKU") {
		t.Fatalf("sku list: %q", out)
	}
	if out := srv.mustCLI(t, "", "woo", "store", "list"); !strings.Contains(out, "e2e shop") || !strings.Contains(out, "true") {
		t.Fatalf("store list: %q", out)
	}
	wooKey := strings.TrimSpace(srv.mustCLI(t, "", "woo", "key", pid, key.Key))
	if wooKey != woo.Key(key) {
		t.Fatalf("woo key = %q, want %q", wooKey, woo.Key(key))
	}

	post := func(op, bearer string, form url.Values) (response, map[string]any) {
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/wp-json/woo-license-keys/v1/"+op, strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		res, err := httpClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
		var m map[string]any
		json.Unmarshal(body, &m)
		return response{Status: res.StatusCode, Header: res.Header, Body: body}, m
	}
	params := url.Values{"store_code": {code}, "sku": {"E2E-SKU"}, "license_key": {wooKey}, "domain": {"https://shop.example"}}
	if r, _ := post("activate", "", params); r.Status != 401 {
		t.Fatalf("activate without token on a store requiring one: %s", r)
	}
	r := get(t, srv.URL+"/wp-json/woo-license-keys/v1/token?"+url.Values{"grant_type": {"license_key"}, "license_key": {wooKey}}.Encode(), "", "", "", nil)
	var tok struct {
		AccessToken string `json:"access_token"`
		Expires     int    `json:"expires"`
	}
	if err := json.Unmarshal(r.Body, &tok); err != nil || tok.AccessToken == "" || tok.Expires != 600 {
		t.Fatalf("token (default lifetime 600 s): %s", r)
	}
	r, m := post("activate", tok.AccessToken, params)
	data, _ := m["data"].(map[string]any)
	if r.Status != 200 || data["the_key"] != wooKey {
		t.Fatalf("activate with the token: %s", r)
	}
	params.Set("activation_id", fmt.Sprint(data["activation_id"]))
	if r, m := post("validate", tok.AccessToken, params); r.Status != 200 || m["message"] != "License Key is valid." {
		t.Fatalf("validate: %s", r)
	}
	// The server keeps stores in its cache: the CLI's change reaches it at its next read of the change feed.
	srv.mustCLI(t, "", "woo", "store", "set", "1", "--require-token=false")
	eventually(t, "validate without token after the requirement was switched off", func() error {
		if r, _ := post("validate", "", params); r.Status != 200 {
			return fmt.Errorf("%s", r)
		}
		return nil
	})
	if r, m := post("deactivate", "", params); r.Status != 200 || m["message"] != "Activation has been deactivated." {
		t.Fatalf("deactivate without token after the requirement was switched off: %s", r)
	}

	// A store without --code-stdin gets a code made for it, printed once; delete refuses a store selling SKUs
	// unless forced, and its code opens nothing after.
	out := srv.mustCLI(t, "", "woo", "store", "add", adminUser, "--name", "outlet")
	made, ok := strings.CutPrefix(strings.Split(out, "\n")[1], "store_code: ")
	if !strings.HasPrefix(out, "created store 2 of admin\n") || !ok || len(made) != 43 {
		t.Fatalf("store add without a code: %q", out)
	}
	srv.mustCLI(t, "", "woo", "sku", "set", "2", "E2E-SKU", pid)
	params.Set("store_code", made)
	params.Set("domain", "https://outlet.example")
	params.Del("activation_id")
	r, m = post("activate", "", params)
	data, _ = m["data"].(map[string]any)
	if r.Status != 200 || data["the_key"] != wooKey {
		t.Fatalf("activate through the made code: %s", r)
	}
	params.Set("activation_id", fmt.Sprint(data["activation_id"]))
	if r, _ := post("validate", "", params); r.Status != 200 {
		t.Fatalf("validate through the made code: %s", r)
	}
	if _, err := srv.cli(t, "", "woo", "store", "delete", "2"); err == nil || !strings.Contains(err.Error(), "sells 1 SKU") {
		t.Fatalf("delete of a store selling a SKU: %v", err)
	}
	if out := srv.mustCLI(t, "", "woo", "store", "delete", "2", "--force"); out != "store 2 deleted (1 SKU(s) with it)\n" {
		t.Fatalf("store delete --force: %q", out)
	}
	// The server keeps stores in its cache: the CLI's delete reaches it at its next read of the change feed.
	eventually(t, "the deleted store's code refused", func() error {
		if r, m := post("validate", "", params); r.Status == 200 || m["success"] == true {
			return fmt.Errorf("still validates: %s", r)
		}
		return nil
	})
}
