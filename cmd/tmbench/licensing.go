package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
)

// The licensing scenarios' data, made the way an operator makes it: the server's own CLI on the server's
// database (vendor, product, keys, licensing API token, WooCommerce store, SKU and key, PowerAuth activation),
// then the server's HTTP API for what a client asks for itself (the PowerAuth token, the WooCommerce
// activation). Made once per run, on first use.

// licensingSetup is what the licensing scenarios send.
type licensingSetup struct {
	vendor    string
	productID int64
	// key is the Cryptolens key of the Activate and GetKey scenarios, machines the machine codes its Activate
	// requests take turns with (all within its seat limit, so every call after the first round re-activates).
	key      string
	machines []string
	apiToken string // licensing API token: Activate, GetKey, locked to the product

	wooStoreCode, wooSKU, wooKey string
	wooDomain, wooActivationID   string

	paActivation, paTokenID string
	paSecret                []byte
}

// Sizes of the licensing data.
const (
	benchMachines    = 5  // machine codes the Activate scenarios cycle through
	benchMaxMachines = 10 // the key's seat limit, as a typical node-locked license
	benchWooDomain   = "shop.example.com"
)

// cli runs `tokenmanager ARGS…` on the first node's database and returns its standard output, trimmed.
func (e *benchEnv) cli(ctx context.Context, stdin string, args ...string) (string, error) {
	if e.dsn == "" {
		args = append(args, "--data-dir", e.srv.DataDir())
	}
	cmd := exec.CommandContext(ctx, e.o.bin, args...)
	cmd.Env = append(withoutEnv(withoutEnv(cmd.Environ(), "TOKENMANAGER_DB"), "TOKENMANAGER_KEY"), e.serverEnv...)
	cmd.Stdin = strings.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("tokenmanager %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

// licensing makes the licensing data once.
func (e *benchEnv) licensing(ctx context.Context) (*licensingSetup, error) {
	if e.lic != nil {
		return e.lic, nil
	}
	l := &licensingSetup{vendor: "admin", wooSKU: "BENCH-EDITOR", wooDomain: benchWooDomain}
	if _, err := e.cli(ctx, "", "vendor", "add", l.vendor); err != nil {
		return nil, err
	}
	out, err := e.cli(ctx, "", "product", "add", "Bench Editor", "--vendor", l.vendor)
	if err != nil {
		return nil, err
	}
	if l.productID, err = parseCreatedProduct(out); err != nil {
		return nil, err
	}
	product := strconv.FormatInt(l.productID, 10)
	if l.key, err = e.cli(ctx, "", "key", "create", "--product", product, "--period", "365", "--max-machines", strconv.Itoa(benchMaxMachines)); err != nil {
		return nil, err
	}
	l.machines = machineCodes("bench", benchMachines)
	if l.apiToken, err = e.cli(ctx, "", "apitoken", "create", "--vendor", l.vendor, "--methods", "Activate,GetKey",
		"--product-lock", product, "--name", "tmbench"); err != nil {
		return nil, err
	}

	// WooCommerce: a store that requires Bearer tokens, selling the product under a SKU, and a key of its own.
	l.wooStoreCode = "bench-" + randomHex(16)
	out, err = e.cli(ctx, l.wooStoreCode+"\n", "woo", "store", "add", l.vendor, "--code-stdin", "--name", "Bench shop", "--require-token")
	if err != nil {
		return nil, err
	}
	store, err := parseCreatedStore(out)
	if err != nil {
		return nil, err
	}
	if _, err := e.cli(ctx, "", "woo", "sku", "set", store, l.wooSKU, product); err != nil {
		return nil, err
	}
	wooKey, err := e.cli(ctx, "", "key", "create", "--product", product, "--period", "365", "--max-machines", strconv.Itoa(benchMaxMachines))
	if err != nil {
		return nil, err
	}
	if l.wooKey, err = e.cli(ctx, "", "woo", "key", product, wooKey); err != nil {
		return nil, err
	}
	bearer, err := e.wooToken(ctx, l)
	if err != nil {
		return nil, err
	}
	form := url.Values{"store_code": {l.wooStoreCode}, "sku": {l.wooSKU}, "license_key": {l.wooKey}, "domain": {l.wooDomain}}
	body, err := e.post(ctx, "/wp-json/woo-license-keys/v1/activate",
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Authorization": {"Bearer " + bearer}}, form.Encode())
	if err != nil {
		return nil, err
	}
	if l.wooActivationID, err = parseWooActivation(body); err != nil {
		return nil, err
	}

	// PowerAuth: an activation of the admin (CLI) and a token for it (the simple call, as a server-side app).
	if l.paActivation, err = e.cli(ctx, "", "powerauth", "activation", "create", "admin", "--name", "tmbench"); err != nil {
		return nil, err
	}
	body, err = e.post(ctx, "/pa/v3/token/create", http.Header{"Content-Type": {"application/json"}, "Authorization": {e.basicAuth()}},
		`{"activationId":"`+l.paActivation+`"}`)
	if err != nil {
		return nil, err
	}
	if l.paTokenID, l.paSecret, err = parsePowerAuthToken(body); err != nil {
		return nil, err
	}
	e.logf("licensing data made with %s: vendor %s, product %d, key with %d seats, licensing API token; WooCommerce store (tokens required), SKU %s, key %s activated on %s; PowerAuth activation %s with token %s",
		e.o.bin, l.vendor, l.productID, benchMaxMachines, l.wooSKU, l.wooKey, l.wooDomain, l.paActivation, l.paTokenID)
	e.lic = l
	return l, nil
}

// wooToken asks the WooCommerce token endpoint for a Bearer token of the store's key. Each scenario takes a fresh
// one: they live --woo-token-lifetime (10 minutes by default), about as long as the whole run.
func (e *benchEnv) wooToken(ctx context.Context, l *licensingSetup) (string, error) {
	q := url.Values{"grant_type": {"license_key"}, "license_key": {l.wooKey}}
	body, err := e.call(ctx, http.MethodGet, "/wp-json/woo-license-keys/v1/token?"+q.Encode(), http.Header{}, "")
	if err != nil {
		return "", err
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		return "", fmt.Errorf("WooCommerce token endpoint: no access_token in %.200s", body)
	}
	return tok.AccessToken, nil
}

// parseCreatedProduct reads the id from `product add`'s "created product N (NAME) of VENDOR".
func parseCreatedProduct(out string) (int64, error) {
	f := strings.Fields(out)
	if len(f) < 3 || f[0] != "created" || f[1] != "product" {
		return 0, fmt.Errorf("product add printed %q", out)
	}
	id, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("product add printed %q", out)
	}
	return id, nil
}

// parseCreatedStore reads the id from `woo store add`'s "created store N of VENDOR".
func parseCreatedStore(out string) (string, error) {
	f := strings.Fields(out)
	if len(f) < 3 || f[0] != "created" || f[1] != "store" {
		return "", fmt.Errorf("woo store add printed %q", out)
	}
	if id, err := strconv.ParseInt(f[2], 10, 64); err != nil || id <= 0 {
		return "", fmt.Errorf("woo store add printed %q", out)
	}
	return f[2], nil
}

// parseWooActivation reads activation_id from the plugin's activate envelope.
func parseWooActivation(body []byte) (string, error) {
	var env struct {
		Error bool `json:"error"`
		Data  struct {
			ActivationID json.Number `json:"activation_id"`
		} `json:"data"`
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if err := d.Decode(&env); err != nil || env.Error || env.Data.ActivationID == "" {
		return "", fmt.Errorf("WooCommerce activate: no activation_id in %.200s", body)
	}
	return env.Data.ActivationID.String(), nil
}

// parsePowerAuthToken reads the token id and secret from /pa/v3/token/create's answer.
func parsePowerAuthToken(body []byte) (id string, secret []byte, err error) {
	var pa struct{ TokenID, TokenSecret string }
	if err := json.Unmarshal(body, &pa); err != nil || pa.TokenID == "" {
		return "", nil, fmt.Errorf("PowerAuth token create: no tokenId in %.200s", body)
	}
	if secret, err = base64.StdEncoding.DecodeString(pa.TokenSecret); err != nil || len(secret) != 16 {
		return "", nil, fmt.Errorf("PowerAuth token create: tokenSecret is not Base64 of 16 bytes: %.200s", body)
	}
	return pa.TokenID, secret, nil
}

// checkCryptolens checks a Cryptolens answer: result 0 and, when signed, a signature (Cryptolens answers its
// errors with HTTP 200 too, so the status alone says nothing).
func checkCryptolens(what string, body []byte, signed bool) error {
	var ans struct {
		Result    *int    `json:"result"`
		Message   string  `json:"message"`
		Signature *string `json:"signature"`
	}
	if err := json.Unmarshal(body, &ans); err != nil || ans.Result == nil {
		return fmt.Errorf("%s: not a Cryptolens answer: %.200s", what, body)
	}
	if *ans.Result != 0 {
		return fmt.Errorf("%s: result %d: %s", what, *ans.Result, ans.Message)
	}
	if signed != (ans.Signature != nil && *ans.Signature != "") {
		return fmt.Errorf("%s: signed %v, but the signature is %v", what, signed, ans.Signature)
	}
	return nil
}

// machineCodes are n machine codes as Cryptolens' SDKs make them: the hex SHA-256 of something of the machine.
func machineCodes(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		h := sha256.Sum256([]byte(prefix + strconv.Itoa(i)))
		out[i] = hex.EncodeToString(h[:])
	}
	return out
}

func randomHex(n int) string { return tokenID()[:min(n, 32)] }
