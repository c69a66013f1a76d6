package e2e

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestVendorDay runs "A vendor's day" of docs/management-api.md, as it stands, against the built binary: the
// operator's setup (an account and a read-write admin token narrowed to its vendor, from the CLI), then the
// vendor's day over the API with curl, the app's calls on the licensing API included. Then it checks what each
// step answered: the signed license verifies with the PEM the API gave, the blocked key's activation is refused
// with Cryptolens' message, the audit log names the vendor and its token for each change; and the same token
// reads no other vendor's product (404, as a missing one) and no operator route (403).
func TestVendorDay(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("no curl")
	}
	srv := startServer(t)
	// Another vendor, with a product the token must not reach.
	srv.mustCLI(t, "globex's password\n", "user", "add", "globex", "--password-stdin")
	srv.mustCLI(t, "", "vendor", "add", "globex")
	theirs := createdID(t, srv.mustCLI(t, "", "product", "add", "Globex Suite", "--vendor", "globex"), "product")

	work := t.TempDir()
	// The two blocks run in one shell; the last line hands the test what the script kept in variables.
	script := docBlock(t, "docs/management-api.md", "vendor-day-setup") + docBlock(t, "docs/management-api.md", "vendor-day-example") +
		`printf '%s\n' "$TOKEN" "$PRODUCT" "$KEY" "$OTHER" "$CUSTOMER" > vars` + "\n"
	printed := runScript(t, srv, script, work, "ACME_PASSWORD=acme's long password")
	// The setup's CLI prints a line each; the day starts at /me's answer.
	lines := strings.Split(printed, "\n")
	for len(lines) > 0 && !strings.HasPrefix(lines[0], `{"user":`) {
		lines = lines[1:]
	}
	if len(lines) < 8 {
		t.Fatalf("a vendor's day printed:\n%s", printed)
	}
	vb, err := os.ReadFile(filepath.Join(work, "vars"))
	if err != nil {
		t.Fatal(err)
	}
	v := strings.Split(strings.TrimSpace(string(vb)), "\n")
	if len(v) != 5 || v[0] == "" || v[1] == "" || v[2] == "" || v[3] == "" || v[4] == "" {
		t.Fatalf("the script's variables: %q\nstdout:\n%s", v, printed)
	}
	token, product, key, other := v[0], v[1], v[2], v[3]
	tokenID := strings.Split(token, "_")[1]

	// Line by line, what each step printed.
	want := func(i int, what, sub string) {
		t.Helper()
		if i >= len(lines) || !strings.Contains(lines[i], sub) {
			t.Errorf("%s: line %d lacks %s:\n%s", what, i, sub, printed)
		}
	}
	want(0, "me", `"user":"acme","role":"vendor","vendor":"acme","read_only":false,"token_id":"`+tokenID+`"`)
	want(1, "20 keys", "20")
	want(2, "key assigned", fmt.Sprintf(`"key":"%s","product_id":%s`, key, product))
	want(2, "key assigned", fmt.Sprintf(`"customer_id":%s`, v[4]))
	want(3, "the app activates", `"result":0`)
	want(4, "the vendor sees the activation", `"machine_code":"carols-laptop"`)
	want(5, "the blocked key's activation", `{"result":1,"message":"The key is blocked and cannot be accessed."}`)
	want(6, "extended", fmt.Sprintf(`"key":"%s"`, other))

	// The license GetKey answered verifies with the public key the API gave as PEM, and is the key's.
	pemBytes, err := os.ReadFile(filepath.Join(work, "photo-editor.pem"))
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(pemBytes)
	if blk == nil || blk.Type != "PUBLIC KEY" {
		t.Fatalf("photo-editor.pem: %q", pemBytes)
	}
	pub, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	var signed struct {
		Result     int
		LicenseKey string `json:"licenseKey"`
		Signature  string `json:"signature"`
	}
	lj, _ := os.ReadFile(filepath.Join(work, "license.json"))
	if err := json.Unmarshal(lj, &signed); err != nil || signed.Result != 0 {
		t.Fatalf("license.json: %s %v", lj, err)
	}
	raw, err1 := base64.StdEncoding.DecodeString(signed.LicenseKey)
	sig, err2 := base64.StdEncoding.DecodeString(signed.Signature)
	sum := sha256.Sum256(raw)
	if err1 != nil || err2 != nil || rsa.VerifyPKCS1v15(pub.(*rsa.PublicKey), crypto.SHA256, sum[:], sig) != nil {
		t.Fatalf("the signed license does not verify with the product's PEM: %s", lj)
	}
	var lic struct {
		Key       string
		ProductID int64 `json:"ProductId"`
	}
	if json.Unmarshal(raw, &lic) != nil || lic.Key != key || fmt.Sprint(lic.ProductID) != product {
		t.Fatalf("the signed license: %s", raw)
	}

	// The audit log, as the vendor read it: each change of the day, acme its actor, the token named; the app's
	// activations are the app's, not the token's.
	var audit struct {
		Items []struct{ Action, Actor, Subject, Detail string }
	}
	if err := json.Unmarshal([]byte(lines[7]), &audit); err != nil {
		t.Fatalf("the audit log: %v\n%s", err, lines[7])
	}
	seen := map[string]int{}
	for _, e := range audit.Items {
		if !strings.HasPrefix(e.Action, "license.") || e.Subject != "acme" {
			t.Errorf("the vendor's audit log shows %+v", e)
		}
		if e.Action == "license.vendor.add" { // the operator's, at the command line
			if e.Actor == "acme" || strings.Contains(e.Detail, "admintoken=") {
				t.Errorf("the vendor's making: %+v", e)
			}
			continue
		}
		if e.Action == "license.activate" {
			if strings.Contains(e.Detail, "admintoken=") {
				t.Errorf("the app's activation names the admin token: %+v", e)
			}
			seen[e.Action]++
			continue
		}
		if e.Actor != "acme" || !strings.HasSuffix(e.Detail, "admintoken="+tokenID) {
			t.Errorf("a change made with the token: %+v", e)
		}
		seen[e.Action]++
	}
	for action, n := range map[string]int{"license.product.create": 1, "license.key.create": 1, "license.customer.create": 1,
		"license.key.changecustomer": 1, "license.token.create": 1, "license.activation.remove": 1, "license.key.blockkey": 1,
		"license.key.extendlicense": 1, "license.activate": 2} {
		if seen[action] != n {
			t.Errorf("%d %s events in the vendor's audit log, want %d: %+v", seen[action], action, n, audit.Items)
		}
	}

	// The same token: another vendor's product is a missing one; operator routes are refused.
	r := get(t, srv.URL+"/admin/v1/products/"+theirs, "", "", token, nil)
	none := get(t, srv.URL+"/admin/v1/products/999999", "", "", token, nil)
	if r.Status != 404 || !bytes.Equal(r.Body, none.Body) {
		t.Errorf("globex's product with acme's token: %s; a missing one: %s", r, none)
	}
	if r := get(t, srv.URL+"/admin/v1/products?vendor=globex", "", "", token, nil); r.Status != 200 || strings.Contains(string(r.Body), "Globex") {
		t.Errorf("globex's products listed with acme's token: %s", r)
	}
	for _, path := range []string{"/admin/v1/users", "/admin/v1/tokens", "/admin/v1/clients", "/admin/v1/license/activations"} {
		if r := get(t, srv.URL+path, "", "", token, nil); r.Status != 403 {
			t.Errorf("%s with acme's token: %s", path, r)
		}
	}
}
