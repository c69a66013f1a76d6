package main

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/tokenmanager/tokenmanager/powerauth"
)

// The licensing scenarios: Cryptolens Activate (signed and not) and GetKey, WooCommerce validate, a PowerAuth
// token at the forward-auth endpoint, and a mix of them in a licensing-heavy deployment's proportions. Their
// data is made by benchEnv.licensing.

const (
	scActivateSigned = "license-activate-signed"
	scActivate       = "license-activate"
	scGetKeyGet      = "license-getkey-get"
	scGetKeyPost     = "license-getkey-post"
	scWooValidate    = "woo-validate"
	scPowerAuthFwd   = "powerauth-forward"
	scLicenseMix     = "license-mix"
	// rsaSignings is how many RSA-2048 signatures tmbench times for the signed Activate target.
	rsaSignings = 15
)

// mixShare is one component of license-mix: the scenario whose request it repeats (set up the same way) and its
// share in twentieths.
type mixShare struct {
	scenario string
	setup    func(ctx context.Context, e *benchEnv) (*reqTemplate, error)
	twenties int
}

// licenseMix is the proportions of a licensing-heavy deployment: apps check their license at start and now and
// then (GetKey), new installs and re-installs activate, WordPress shops validate, and a few services ask for and
// check API tokens. The shares add up to 20.
var licenseMix = []mixShare{
	{scGetKeyPost, setupGetKey(http.MethodPost), 12}, // 60 % Cryptolens GetKey
	{scActivate, setupActivate(false), 4},            // 20 % Cryptolens Activate, unsigned
	{scWooValidate, setupWooValidate, 2},             // 10 % WooCommerce validate
	{scOAuthToken, setupOAuthToken, 1},               // 5 % OAuth client_credentials token
	{scVerify, setupVerify, 1},                       // 5 % token verify with Bearer
}

var formHeader = "application/x-www-form-urlencoded"

// cryptolensForm is the form of a Cryptolens key call.
func cryptolensForm(l *licensingSetup, machine string, sign bool) url.Values {
	v := url.Values{"token": {l.apiToken}, "ProductId": {strconv.FormatInt(l.productID, 10)}, "Key": {l.key}}
	if machine != "" {
		v.Set("MachineCode", machine)
	}
	if sign {
		v.Set("Sign", "true")
		v.Set("SignMethod", "1")
	}
	return v
}

// setupActivate cycles through the key's machine codes: after the first round every call re-activates a
// machine, as an installed app does at start. Each body is checked once (Cryptolens answers errors with 200).
func setupActivate(sign bool) func(ctx context.Context, e *benchEnv) (*reqTemplate, error) {
	return func(ctx context.Context, e *benchEnv) (*reqTemplate, error) {
		l, err := e.licensing(ctx)
		if err != nil {
			return nil, err
		}
		if sign {
			if err := e.measureRSASign(); err != nil {
				return nil, err
			}
		}
		h := http.Header{"Content-Type": {formHeader}}
		bodies := make([][]byte, len(l.machines))
		for i, m := range l.machines {
			bodies[i] = []byte(cryptolensForm(l, m, sign).Encode())
			ans, err := e.post(ctx, "/api/key/Activate", h, string(bodies[i]))
			if err != nil {
				return nil, err
			}
			if err := checkCryptolens("POST /api/key/Activate", ans, sign); err != nil {
				return nil, err
			}
		}
		var next atomic.Uint64
		return &reqTemplate{Method: http.MethodPost, URL: e.serverURL("/api/key/Activate"),
			Vary: func() (http.Header, []byte, error) {
				return h, bodies[(next.Add(1)-1)%uint64(len(bodies))], nil
			}}, nil
	}
}

// setupGetKey asks for the key's license, unsigned, with the parameters in the query (GET) or a form (POST).
func setupGetKey(method string) func(ctx context.Context, e *benchEnv) (*reqTemplate, error) {
	return func(ctx context.Context, e *benchEnv) (*reqTemplate, error) {
		l, err := e.licensing(ctx)
		if err != nil {
			return nil, err
		}
		form := cryptolensForm(l, "", false).Encode()
		t := &reqTemplate{Method: method, URL: e.serverURL("/api/key/GetKey"), Header: http.Header{}}
		var ans []byte
		if method == http.MethodGet {
			t.URL += "?" + form
			ans, err = e.call(ctx, method, "/api/key/GetKey?"+form, http.Header{}, "")
		} else {
			t.Header.Set("Content-Type", formHeader)
			t.Body = []byte(form)
			ans, err = e.post(ctx, "/api/key/GetKey", t.Header, form)
		}
		if err != nil {
			return nil, err
		}
		return t, checkCryptolens(method+" /api/key/GetKey", ans, false)
	}
}

// setupWooValidate validates the store key's activation with a fresh Bearer token of the key.
func setupWooValidate(ctx context.Context, e *benchEnv) (*reqTemplate, error) {
	l, err := e.licensing(ctx)
	if err != nil {
		return nil, err
	}
	bearer, err := e.wooToken(ctx, l)
	if err != nil {
		return nil, err
	}
	h := http.Header{"Content-Type": {formHeader}, "Authorization": {"Bearer " + bearer}}
	form := url.Values{"store_code": {l.wooStoreCode}, "sku": {l.wooSKU}, "license_key": {l.wooKey},
		"domain": {l.wooDomain}, "activation_id": {l.wooActivationID}}.Encode()
	const path = "/wp-json/woo-license-keys/v1/validate"
	if _, err := e.post(ctx, path, h, form); err != nil { // refusals are HTTP 500 (the envelope's status)
		return nil, err
	}
	return &reqTemplate{Method: http.MethodPost, URL: e.serverURL(path), Header: h, Body: []byte(form)}, nil
}

// setupPowerAuthForward sends the PowerAuth token at /auth/forward with a fresh header each time: a nonce never
// used before (a random prefix and a counter) and the current time, digested with the token's secret (one
// HMAC-SHA256 in tmbench; the server's cost includes writing the nonce down).
func setupPowerAuthForward(ctx context.Context, e *benchEnv) (*reqTemplate, error) {
	l, err := e.licensing(ctx)
	if err != nil {
		return nil, err
	}
	vary := powerAuthHeaders(l.paTokenID, l.paSecret)
	h, _, err := vary()
	if err != nil {
		return nil, err
	}
	if _, err := e.call(ctx, http.MethodGet, "/auth/forward", h, ""); err != nil {
		return nil, err
	}
	return &reqTemplate{Method: http.MethodGet, URL: e.serverURL("/auth/forward"), Vary: vary}, nil
}

// powerAuthHeaders returns a Vary that makes a new X-PowerAuth-Token header for every request: the nonce is 8
// random bytes of the run and an 8-byte counter, so no two requests share one.
func powerAuthHeaders(tokenID string, secret []byte) func() (http.Header, []byte, error) {
	var prefix [8]byte
	rand.Read(prefix[:])
	var n atomic.Uint64
	return func() (http.Header, []byte, error) {
		var nonce [16]byte
		copy(nonce[:8], prefix[:])
		binary.BigEndian.PutUint64(nonce[8:], n.Add(1))
		hd, err := powerauth.NewHeader(tokenID, secret, nonce[:], time.Now().UnixMilli(), "3.3")
		if err != nil {
			return nil, nil, err
		}
		return http.Header{powerauth.HeaderName: {hd.String()}}, nil, nil
	}
}

// setupLicenseMix interleaves the components' requests in licenseMix's proportions: request i of the run is
// component schedule[i % 20], so every window holds the shares exactly. Each component's request is the one its
// own scenario sends (set up the same way), so the mix's figure can be held against theirs.
func setupLicenseMix(ctx context.Context, e *benchEnv) (*reqTemplate, error) {
	var schedule []func() ([]byte, error)
	for _, c := range licenseMix {
		tmpl, err := c.setup(ctx, e)
		if err != nil {
			return nil, fmt.Errorf("license-mix, %s: %w", c.scenario, err)
		}
		tgt, err := compile(tmpl)
		if err != nil {
			return nil, err
		}
		for range c.twenties {
			schedule = append(schedule, tgt.request)
		}
	}
	if len(schedule) != 20 {
		return nil, fmt.Errorf("license-mix: shares add up to %d twentieths", len(schedule))
	}
	// Spread each component over the 20 slots (12 GetKey would otherwise come back to back).
	spread := make([]func() ([]byte, error), 0, 20)
	for i := range 20 {
		spread = append(spread, schedule[(i*7)%20]) // 7 and 20 are coprime: a permutation
	}
	var next atomic.Uint64
	return &reqTemplate{Method: http.MethodGet, URL: e.serverURL("/"),
		Serialized: func() ([]byte, error) { return spread[(next.Add(1)-1)%20]() }}, nil
}

// mixNeeds are the scenarios whose figures the mix's target is made of.
func mixNeeds() []string {
	var out []string
	for _, c := range licenseMix {
		out = append(out, c.scenario)
	}
	return out
}

// mixExpected is the rate the mix would reach if each request cost what it costs in its own scenario: the
// weighted harmonic mean of the components' rates. ok is false when a component has no figure.
func mixExpected(rates map[string]float64) (float64, bool) {
	var perReq float64
	for _, c := range licenseMix {
		r := rates[c.scenario]
		if r <= 0 {
			return 0, false
		}
		perReq += float64(c.twenties) / 20 / r
	}
	return 1 / perReq, true
}

// measureRSASign times RSA-2048 PKCS #1 v1.5 signatures of a license-sized body, as the server signs
// licenses (once per run): the median of rsaSignings, in tmbench, like P3's argon2id.
func (e *benchEnv) measureRSASign() error {
	if e.rep.RSASignMs > 0 {
		return nil
	}
	t, err := medianRSASignTime(rsaSignings)
	if err != nil {
		return err
	}
	e.rep.RSASignMs = float64(t) / float64(time.Millisecond)
	e.logf("RSA-2048 (PKCS #1 v1.5, SHA-256): median signature %v of %d in tmbench", t.Round(time.Microsecond), rsaSignings)
	return nil
}

func medianRSASignTime(n int) (time.Duration, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return 0, err
	}
	body := make([]byte, 1200) // about a license's JSON
	rand.Read(body)
	times := make([]time.Duration, n)
	for i := range times {
		t0 := time.Now()
		d := sha256.Sum256(body)
		if _, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, d[:]); err != nil {
			return 0, err
		}
		times[i] = time.Since(t0)
	}
	return median(times), nil
}
