package woocommerce_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/auth"
	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/license/woo"
	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
)

const wooTooMany = `{"error":true,"status":429,"errors":{"license_key":["Too many attempts. Try again later."]}}`

// Wrong store codes, keys and tokens count against the client's address; once it is throttled even a right
// request from it waits, while other addresses and successes are not affected.
func TestWooGuessingThrottledPerAddress(t *testing.T) {
	cfg := auth.ThrottleConfig{AccountBurst: 3, AccountEvery: time.Minute, AddressBurst: 5, AddressEvery: time.Minute}
	w := servertest.NewWooStack(t, woo.StoreSpec{}, servertest.WithThrottle(cfg))
	k := w.Key(t, license.KeySpec{})
	good := servertest.WooForm(servertest.WooParamsFor(k, "a.example", 0)...)
	from := func(addr string) map[string]string { return map[string]string{"X-Forwarded-For": addr} }
	const invalidKey = `{"error":true,"status":500,"errors":{"license_key":["Invalid license key."]}}`

	// Successes never count: a busy address is not refused for them.
	for range 10 {
		if r := w.Post(t, "activate", good, from("192.0.2.4")); r.Status != 200 {
			t.Fatalf("activate: %d %s", r.Status, r.Body)
		}
	}
	// Five wrong store codes from one address, then the right one is refused there, and answered elsewhere.
	for i := range 5 {
		bad := servertest.WooForm("store_code", "guess-"+strconv.Itoa(i), "sku", servertest.WooSKU, "license_key", woo.Key(k))
		servertest.WooWantBody(t, "wrong store code", w.Post(t, "activate", bad, from("192.0.2.1")), 500, invalidKey)
	}
	r := w.Post(t, "activate", good, from("192.0.2.1"))
	servertest.WooWantBody(t, "right store code from the throttled address", r, http.StatusTooManyRequests, wooTooMany)
	if s, _ := strconv.Atoi(r.Header.Get("Retry-After")); s < 1 || s > 60 {
		t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
	}
	if r := w.Post(t, "activate", good, from("192.0.2.2")); r.Status != 200 {
		t.Fatalf("from another address: %d %s", r.Status, r.Body)
	}
	// Through Ajax the refusal is HTTP 200 like every Ajax answer, with Retry-After.
	r = servertest.Do(t, "POST", w.URL+servertest.WooAjax+"?action=license_key_activate", good, map[string]string{
		"Content-Type": "application/x-www-form-urlencoded", "X-Forwarded-For": "192.0.2.1"})
	servertest.WooWantBody(t, "ajax from the throttled address", r, 200, wooTooMany)
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After through Ajax")
	}

	// The token endpoint: unknown keys count too.
	grant := func(key, addr string) servertest.Response {
		return servertest.Do(t, "GET", w.URL+servertest.WooBase+"token?"+servertest.WooForm("grant_type", "license_key", "license_key", key), "", from(addr))
	}
	for i := range 5 {
		servertest.WooWantBody(t, "unknown key", grant("ABCDE-"+strconv.Itoa(900000+i), "192.0.2.3"), 500, invalidKey)
	}
	servertest.WooWantBody(t, "a right key from the throttled address", grant(woo.Key(k), "192.0.2.3"), http.StatusTooManyRequests, wooTooMany)

	// The address recovers by itself.
	w.Clock.Add(time.Minute)
	if r := w.Post(t, "activate", good, from("192.0.2.1")); r.Status != 200 {
		t.Fatalf("after a minute: %d %s", r.Status, r.Body)
	}
}

// A key gets WooTokenBurst tokens at once, then 429 with Retry-After until its bucket refills; a refused issue is
// no guess and does not count against the address.
func TestWooTokenIssuanceLimitedPerKey(t *testing.T) {
	cfg := auth.ThrottleConfig{AccountBurst: 3, AccountEvery: time.Minute, AddressBurst: 5, AddressEvery: time.Minute}
	w := servertest.NewWooStack(t, woo.StoreSpec{RequireToken: true}, servertest.WithThrottle(cfg))
	k := w.Key(t, license.KeySpec{})
	grant := func() servertest.Response {
		return servertest.Do(t, "POST", w.URL+servertest.WooBase+"token", servertest.WooForm("grant_type", "license_key", "license_key", woo.Key(k)),
			map[string]string{"Content-Type": "application/x-www-form-urlencoded", "X-Forwarded-For": "192.0.2.8"})
	}
	for i := range woo.TokenBurst {
		if r := grant(); r.Status != 200 {
			t.Fatalf("token %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	for range 10 {
		r := grant()
		servertest.WooWantBody(t, "a token too many", r, http.StatusTooManyRequests, wooTooMany)
		if s, _ := strconv.Atoi(r.Header.Get("Retry-After")); s < 1 || s > int(woo.TokenEvery/time.Second) {
			t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
		}
	}
	w.Clock.Add(woo.TokenEvery)
	if r := grant(); r.Status != 200 {
		t.Fatalf("after the interval: %d %s", r.Status, r.Body)
	}
}
