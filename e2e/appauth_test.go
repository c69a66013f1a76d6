package e2e

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestAppAuthorizationInChromium: the whole app authorization flow against the built binary. The vendor sets
// up a product, a customer linked to the end user's account and a parent token with the CLI; the "desktop app"
// (this test: a fresh RSA-2048 key and AuthorizationToken, and a polling loop that calls GetChallenge and
// GetToken as Cryptolens' .NET SDK does) opens the consent page in headless Chromium, where the user signs in
// and allows it; the loop receives its child token, which lists the user's license keys with a signature
// verified here independently. The user then revokes the app on the list page and the token dies at once; an
// administrator revokes another with the CLI.
func TestAppAuthorizationInChromium(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := browser(t, nil)

	srv.mustCLI(t, "paul-pass-1\n", "user", "add", "paul", "--password-stdin")
	srv.mustCLI(t, "", "vendor", "add", adminUser)
	product := createdID(t, srv.mustCLI(t, "", "product", "add", "Desktop App", "--vendor", adminUser), "product")
	customer := createdID(t, srv.mustCLI(t, "", "customer", "add", "--vendor", adminUser, "--name", "Paul", "--user", "paul",
		"--max-devices", "2"), "customer")
	key := strings.TrimSpace(srv.mustCLI(t, "", "key", "create", "--product", product, "--customer", customer, "--period", "30",
		"--notes", "internal note"))
	parent := strings.TrimSpace(srv.mustCLI(t, "", "apitoken", "create", "--vendor", adminUser, "--methods", "GetToken,GetLicenseKeys",
		"--product-lock", product, "--key-lock", "30", "--feature-lock", "8", "--name", "desktop app"))
	pub := parseRSAKeyValue(t, srv.mustCLI(t, "", "product", "pubkey", product))

	appKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	authToken := make([]byte, 30)
	rand.Read(authToken)
	consent := consentURL(t, srv.URL, parent, appKey, authToken, "Photo Editor", "machine-A")

	// The app waits for its token as the SDK does, from the moment it opens the browser.
	pollCtx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	got := make(chan string, 1)
	go func() { got <- pollForToken(pollCtx, srv.URL, parent, appKey, authToken) }()

	p := &page{t: t, ctx: ctx}
	run(p, chromedp.Steps(chromedp.Navigate(consent), chromedp.WaitVisible(chromedp.ID("username"))))
	if name := run(p, chromedp.Text(chromedp.ID("app-name"))); name != "Photo Editor" {
		t.Fatalf("the sign-in page shows app %q", name)
	}
	run(p, chromedp.Steps(chromedp.SetValue(chromedp.ID("username"), "paul"), chromedp.SetValue(chromedp.ID("password"), "paul-pass-1"),
		chromedp.Click(chromedp.ID("signin")), chromedp.WaitVisible(chromedp.ID("approve"))))
	if perms := run(p, chromedp.Text(chromedp.ID("permissions"))); !strings.Contains(perms, "see your license keys") {
		t.Fatalf("the consent page lists %q", perms)
	}
	if expiry := run(p, chromedp.Text(chromedp.ID("expiry"))); !strings.HasPrefix(expiry, "30 days") {
		t.Fatalf("the consent page says %q", expiry)
	}
	run(p, chromedp.Steps(chromedp.Click(chromedp.ID("approve")), chromedp.WaitVisible(chromedp.ID("outcome"))))
	if state := run(p, chromedp.AttributeValue(chromedp.ID("outcome"), "data-state")).Value; state != "approved" {
		t.Fatalf("outcome %q", state)
	}

	var child string
	select {
	case child = <-got:
	case <-time.After(60 * time.Second):
		t.Fatal("the app's polling loop received no token within 60 s of the approval")
	}
	if child == "" {
		t.Fatal("the app's polling loop gave up")
	}
	keys, machines := getLicenseKeys(t, srv.URL, child, pub)
	if len(keys) != 1 || keys[0]["key"] != key || keys[0]["notes"] != nil || !slices.Equal(machines, []string{"machine-A"}) {
		t.Fatalf("GetLicenseKeys: keys %v machines %v; want Paul's key with its notes hidden (feature lock 8), machine-A", keys, machines)
	}

	// The user revokes the app on the list page; the token dies at once.
	run(p, chromedp.Steps(chromedp.Navigate(srv.URL+"/User/AuthorizedApps/"), chromedp.WaitVisible(chromedp.CSS(`tr[data-state="active"]`))))
	run(p, chromedp.Steps(chromedp.Click(chromedp.CSS(`button[id^="revoke-"]`)), chromedp.WaitVisible(chromedp.CSS(`tr[data-state="revoked"]`))))
	if m := cryptolensCall(t, srv.URL, "User/GetLicenseKeys", url.Values{"token": {child}, "Sign": {"true"}}); m["message"] != "Unable to authenticate." {
		t.Fatalf("GetLicenseKeys after the user revoked the app: %v", m)
	}

	// A password sign-in (userauth/Login) for a second device; an administrator revokes it with the CLI.
	m := cryptolensCall(t, srv.URL, "userauth/Login", url.Values{"token": {parent}, "UserName": {"paul"}, "Password": {"paul-pass-1"},
		"MachineCode": {"machine-B"}, "VendorAppName": {"Photo Editor CLI"}})
	second, _ := m["token"].(string)
	if second == "" {
		t.Fatalf("userauth/Login: %v", m)
	}
	if _, machines := getLicenseKeys(t, srv.URL, second, pub); !slices.Equal(machines, []string{"machine-A", "machine-B"}) {
		t.Fatalf("machines after the second device: %v", machines)
	}
	list := srv.mustCLI(t, "", "appauth", "list", "--user", "paul")
	row := regexp.MustCompile(`(?m)^(\d+)\s+paul\s+admin\s+Photo Editor CLI\s+.*active$`).FindStringSubmatch(list)
	if row == nil || !regexp.MustCompile(`(?m)^\d+\s+paul\s+admin\s+Photo Editor\s+.*revoked$`).MatchString(list) {
		t.Fatalf("appauth list:\n%s", list)
	}
	// The server keeps API tokens (an app's child token is one) in its cache: a revocation by the CLI, another
	// process, reaches it at its next read of the change feed.
	srv.mustCLI(t, "", "appauth", "revoke", row[1])
	eventually(t, "GetLicenseKeys after the CLI revoked it", func() error {
		if m := cryptolensCall(t, srv.URL, "User/GetLicenseKeys", url.Values{"token": {second}}); m["message"] != "Unable to authenticate." {
			return fmt.Errorf("%v", m)
		}
		return nil
	})
	if out := srv.mustCLI(t, "", "audit", "--action", "appauth."); !strings.Contains(out, "appauth.approve") || !strings.Contains(out, "appauth.revoke") {
		t.Fatalf("audit:\n%s", out)
	}
}

// consentURL is the AuthorizeApp URL the .NET SDK opens: PascalCase names, values through EscapeDataString.
func consentURL(t *testing.T, base, parent string, key *rsa.PrivateKey, authToken []byte, app, machine string) string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(parent)
	var parts []string
	if err != nil || json.Unmarshal(raw, &parts) != nil || len(parts) != 2 {
		t.Fatalf("parent token %q is not base64 of [id, secret]", parent)
	}
	pk, _ := json.Marshal(map[string]any{"Exponent": big.NewInt(int64(key.E)).Bytes(), "Modulus": key.N.Bytes(), "D": nil, "P": nil, "Q": nil})
	q := url.Values{"AuthorizationToken": {base64.StdEncoding.EncodeToString(authToken)}, "PublicKey": {string(pk)},
		"Scope": {`{"GetLicenseKeys":true,"Activate":false,"LockToProduct":0,"LockToKey":0,"LockToFeature":0}`}, "VendorAppName": {app},
		"Expires": {"90"}, "TokenId": {parts[0]}, "MachineCode": {machine}, "DeviceName": {"PAUL-PC"}, "Algorithm": {"RSA_2048"}}
	return base + "/User/AuthorizeApp/?" + strings.ReplaceAll(q.Encode(), "+", "%20")
}

// pollForToken is the SDK's loop: GetChallenge, then GetToken with the challenge signed (SHA-512, PKCS #1
// v1.5) together with the date, until a token comes back or ctx ends ("").
func pollForToken(ctx context.Context, base, parent string, key *rsa.PrivateKey, authToken []byte) string {
	at := base64.StdEncoding.EncodeToString(authToken)
	for {
		if c, err := post(ctx, base, "auth/GetChallenge", url.Values{"AuthorizationToken": {at}, "token": {parent}, "v": {"1"}}); err == nil && c["result"] == float64(0) {
			challenge, _ := base64.StdEncoding.DecodeString(c["challenge"].(string))
			date := time.Now().Unix()
			sum := sha512.Sum512(binary.LittleEndian.AppendUint64(challenge, uint64(date)))
			sig, _ := rsa.SignPKCS1v15(nil, key, crypto.SHA512, sum[:])
			r, err := post(ctx, base, "auth/GetToken/", url.Values{"AuthorizationToken": {at}, "Date": {strconv.FormatInt(date, 10)},
				"SignedChallenge": {base64.StdEncoding.EncodeToString(sig)}, "token": {parent}, "v": {"1"}})
			if tok, _ := r["token"].(string); err == nil && tok != "" {
				return tok
			}
		}
		select {
		case <-ctx.Done():
			return ""
		case <-time.After(300 * time.Millisecond):
		}
	}
}

func post(ctx context.Context, base, method string, form url.Values) (map[string]any, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/api/"+method, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("%s: %q", method, body)
	}
	return m, nil
}

func cryptolensCall(t *testing.T, base, method string, form url.Values) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := post(ctx, base, method, form)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// getLicenseKeys calls User/GetLicenseKeys and verifies the answer as the .NET SDK does: RSASSA-PKCS1-v1_5
// SHA-256 over results ‖ activatedMachineCodes ‖ int64-LE(signDate), with the product's public key.
func getLicenseKeys(t *testing.T, base, token string, pub *rsa.PublicKey) ([]map[string]any, []string) {
	t.Helper()
	m := cryptolensCall(t, base, "User/GetLicenseKeys", url.Values{"token": {token}, "Sign": {"True"}, "MachineCode": {"machine-A"}})
	if m["result"] != float64(0) {
		t.Fatalf("GetLicenseKeys: %v", m)
	}
	results, _ := base64.StdEncoding.DecodeString(m["results"].(string))
	machines, _ := base64.StdEncoding.DecodeString(m["activatedMachineCodes"].(string))
	sig, _ := base64.StdEncoding.DecodeString(m["signature"].(string))
	sum := sha256.Sum256(slices.Concat(results, machines, binary.LittleEndian.AppendUint64(nil, uint64(int64(m["signDate"].(float64))))))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
		t.Fatalf("GetLicenseKeys signature: %v", err)
	}
	var rs []struct {
		LicenseKey map[string]any `json:"licenseKey"`
	}
	var mcs []string
	if json.Unmarshal(results, &rs) != nil || json.Unmarshal(machines, &mcs) != nil {
		t.Fatalf("results %s machines %s", results, machines)
	}
	var keys []map[string]any
	for _, r := range rs {
		keys = append(keys, r.LicenseKey)
	}
	return keys, mcs
}

// parseRSAKeyValue reads `product pubkey`'s <RSAKeyValue> as the SDKs do.
func parseRSAKeyValue(t *testing.T, s string) *rsa.PublicKey {
	t.Helper()
	var v struct{ Modulus, Exponent string }
	if err := xml.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	n, err1 := base64.StdEncoding.DecodeString(v.Modulus)
	e, err2 := base64.StdEncoding.DecodeString(v.Exponent)
	if err1 != nil || err2 != nil {
		t.Fatalf("RSAKeyValue %q", s)
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
}
