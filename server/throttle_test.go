package server_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/apiclient"
	"github.com/tokenmanager/tokenmanager/auth"
	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/server"
	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
)

func restSignIn(t *testing.T, s *stack, user, pass, from string) servertest.Response {
	t.Helper()
	return servertest.Do(t, "GET", s.URL+"/security/rest/token/access/60", "", map[string]string{
		"Authorization": servertest.Basic(user, pass), "X-Forwarded-For": from})
}

func TestWrongPasswordStormIsThrottledPerAccount(t *testing.T) {
	s := newStack(t, servertest.WithThrottle(auth.ThrottleConfig{AccountBurst: 3, AccountEvery: 30 * time.Second, AddressBurst: 100, AddressEvery: time.Second}))
	for i := range 3 {
		if r := restSignIn(t, s, "simon0897", "guess", "192.0.2.1"); r.Status != 401 {
			t.Fatalf("wrong password %d: %d", i+1, r.Status)
		}
	}
	// Locked for the address that failed: even the right password is refused without being checked.
	r := restSignIn(t, s, "simon0897", "s3cret", "192.0.2.1")
	if r.Status != 429 || r.Header.Get("Retry-After") != "30" || !strings.Contains(r.Body, "too many failed sign-ins") {
		t.Fatalf("locked account from the failing address: %d Retry-After %q %s", r.Status, r.Header.Get("Retry-After"), r.Body)
	}
	soapResp := servertest.Do(t, "POST", s.URL+tokPath, seedRequest(t, "getAccessToken"), map[string]string{
		"Content-Type": "text/xml", "Authorization": servertest.Basic("simon0897", "s3cret"), "X-Forwarded-For": "192.0.2.1"})
	if soapResp.Status != 429 || soapResp.Header.Get("Retry-After") == "" || !strings.Contains(soapResp.Body, "too many failed sign-ins") {
		t.Fatalf("SOAP for a locked account: %d %s", soapResp.Status, soapResp.Body)
	}
	// Other users keep working, from the same address too.
	if r := restSignIn(t, s, "paul1234", "pa55", "192.0.2.1"); r.Status != 200 {
		t.Fatalf("another user during the storm: %d", r.Status)
	}
	// Recovery without an administrator.
	s.Clock.Add(30 * time.Second)
	if r := restSignIn(t, s, "simon0897", "s3cret", "192.0.2.1"); r.Status != 200 {
		t.Fatalf("after the refill interval: %d %s", r.Status, r.Body)
	}
}

// TestStormDoesNotLockOutOwner: wrong passwords from 20 addresses lock the account for those addresses only;
// its owner, from an address that has not failed, signs in at once, and the attackers stay throttled.
func TestStormDoesNotLockOutOwner(t *testing.T) {
	s := newStack(t, servertest.WithThrottle(auth.DefaultThrottle))
	attacker := func(i int) string { return fmt.Sprintf("127.0.1.%d", i+1) }
	for range 3 {
		for i := range 20 {
			restSignIn(t, s, "simon0897", "guess", attacker(i))
		}
	}
	if r := restSignIn(t, s, "simon0897", "s3cret", "127.0.0.1"); r.Status != 200 {
		t.Fatalf("the owner from a clean address during the storm: %d %s", r.Status, r.Body)
	}
	for i := range 20 {
		if r := restSignIn(t, s, "simon0897", "s3cret", attacker(i)); r.Status != 429 {
			t.Fatalf("attacker %s with the right password: %d", attacker(i), r.Status)
		}
	}
	s.Clock.Add(10 * time.Minute) // attackers that kept trying while refused stay marked
	for i := range 20 {
		restSignIn(t, s, "simon0897", "guess", attacker(i))
	}
	if r := restSignIn(t, s, "simon0897", "s3cret", attacker(7)); r.Status != 429 {
		t.Fatalf("attacker after ten minutes of storm: %d", r.Status)
	}
	if r := restSignIn(t, s, "simon0897", "s3cret", "127.0.0.1"); r.Status != 200 {
		t.Fatalf("the owner again: %d", r.Status)
	}
}

// TestThrottledRefusalsAuditedPerWindow: a flood of refusals writes audit rows per account, address and
// window, with the count, not one per request.
func TestThrottledRefusalsAuditedPerWindow(t *testing.T) {
	var logs syncBuffer
	s := newStack(t, servertest.WithThrottle(auth.ThrottleConfig{AccountBurst: 1, AccountEvery: time.Hour, AddressBurst: 1000, AddressEvery: time.Second}),
		func(su *servertest.Setup) { su.Log = slog.New(slog.NewTextHandler(&logs, nil)) })
	restSignIn(t, s, "paul1234", "guess", "192.0.2.9")
	const windows, perWindow = 3, 60
	for range windows {
		for range perWindow {
			if r := restSignIn(t, s, "paul1234", "pa55", "192.0.2.9"); r.Status != 429 {
				t.Fatalf("not throttled: %d", r.Status)
			}
		}
		s.Clock.Add(time.Minute)
	}
	restSignIn(t, s, "paul1234", "pa55", "192.0.2.9") // the next refusal writes the last window's count
	rows, refusals := 0, 0
	for _, e := range s.AuditLog(t) {
		if e.Outcome != "throttled" {
			continue
		}
		rows++
		n, err := strconv.Atoi(strings.TrimPrefix(e.Detail, "refusals="))
		if err != nil || e.Subject != "paul1234" || e.ClientHost != "192.0.2.9" {
			t.Fatalf("row %+v", e)
		}
		refusals += n
	}
	if rows > 2*windows+1 || refusals != windows*perWindow+1 {
		t.Fatalf("%d refusals written as %d rows counting %d", windows*perWindow+1, rows, refusals)
	}
	if n := strings.Count(logs.String(), "sign-in throttled"); n < 1 || n > windows+1 {
		t.Fatalf("%d refusals logged in %d lines", windows*perWindow+1, n)
	}
}

func TestSprayFromOneAddressIsThrottledPerAddress(t *testing.T) {
	s := newStack(t, servertest.WithThrottle(auth.ThrottleConfig{AccountBurst: 100, AccountEvery: time.Second, AddressBurst: 5, AddressEvery: 10 * time.Second}))
	for _, user := range []string{"a", "b", "c", "d", "e"} {
		restSignIn(t, s, user, "guess", "192.0.2.66")
	}
	if r := restSignIn(t, s, "paul1234", "pa55", "192.0.2.66"); r.Status != 429 {
		t.Fatalf("from the spraying address: %d", r.Status)
	}
	if r := restSignIn(t, s, "paul1234", "pa55", "192.0.2.67"); r.Status != 200 {
		t.Fatalf("from another address: %d", r.Status)
	}
}

func TestUnknownUserAndWrongPasswordAnswerAlike(t *testing.T) {
	s := newStack(t)
	unknown := restSignIn(t, s, "nobody", "guess", "")
	wrong := restSignIn(t, s, "simon0897", "guess", "")
	if unknown.Status != wrong.Status || unknown.Body != wrong.Body ||
		unknown.Header.Get("WWW-Authenticate") != wrong.Header.Get("WWW-Authenticate") {
		t.Fatalf("unknown user: %d %q %v\nwrong password: %d %q %v", unknown.Status, unknown.Body, unknown.Header,
			wrong.Status, wrong.Body, wrong.Header)
	}
}

// TestClientAndLicenseTokenGuessingThrottled: wrong client keys at the token endpoint and guessed license API
// tokens are throttled per address; no wrong key locks out the client, and the right key or a valid token is
// answered even from an address that is throttled (a shared NAT).
func TestClientAndLicenseTokenGuessingThrottled(t *testing.T) {
	cfg := auth.ThrottleConfig{AccountBurst: 3, AccountEvery: time.Minute, AddressBurst: 5, AddressEvery: time.Minute}
	st := newOAuthStack(t, oauthSetup{}, servertest.WithThrottle(cfg))
	c := st.client(t, apiclient.Spec{ID: "app", Scopes: []string{"Partner"}})
	tokenReq := func(path, key, from string) servertest.Response {
		return servertest.Send(t, "POST", st.URL+path, "grant_type=client_credentials&token=x", http.Header{
			"Authorization": {clientBasic("app", key)}, "Content-Type": {formType}, "X-Forwarded-For": {from}})
	}
	for i := range 20 { // from rotating addresses: the client id is never locked
		if r := tokenReq(server.PathOAuthToken, "wrong-key", fmt.Sprintf("127.0.2.%d", i/5)); r.Status != 401 {
			t.Fatalf("wrong client key %d: %d", i, r.Status)
		}
	}
	for _, path := range []string{server.PathOAuthToken, server.PathOAuthIntrospect} {
		if r := tokenReq(path, c.PrimaryKey, "203.0.113.9"); r.Status != 200 {
			t.Fatalf("%s: the right key after wrong ones for the client: %d %s", path, r.Status, r.Body)
		}
	}
	r := tokenReq(server.PathOAuthToken, "wrong-key", "127.0.2.0")
	if r.Status != 429 || r.Header.Get("Retry-After") == "" || !strings.Contains(r.Body, "invalid_client") {
		t.Fatalf("a wrong key from a throttled address: %d %v %s", r.Status, r.Header, r.Body)
	}
	if r := tokenReq(server.PathOAuthToken, c.PrimaryKey, "127.0.2.0"); r.Status != 200 {
		t.Fatalf("the right key from a throttled address: %d %s", r.Status, r.Body)
	}

	cl := servertest.NewCLStack(t, servertest.WithThrottle(cfg))
	valid := cl.Token(t, license.TokenSpec{})
	getKey := func(tok, from string) servertest.Response {
		return servertest.Send(t, "POST", cl.URL+"/api/key/GetKey", "token="+url.QueryEscape(tok)+"&ProductId=1&Key=AAAAA-AAAAA-AAAAA-AAAAA",
			http.Header{"Content-Type": {formType}, "X-Forwarded-For": {from}})
	}
	for range 5 {
		if r := getKey("guess", "192.0.2.66"); !strings.Contains(r.Body, "Unable to authenticate.") {
			t.Fatalf("guessed license token: %d %s", r.Status, r.Body)
		}
	}
	if r := getKey("guess", "192.0.2.66"); r.Status != 429 || r.Header.Get("Retry-After") == "" {
		t.Fatalf("sixth guess from the same address: %d %s", r.Status, r.Body)
	}
	if r := getKey("guess", "192.0.2.67"); r.Status != 200 {
		t.Fatalf("another address: %d %s", r.Status, r.Body)
	}
	for range 10 { // a valid token behind the same address is answered, and its calls do not count
		if r := getKey(valid, "192.0.2.66"); r.Status != 200 || strings.Contains(r.Body, "Unable to authenticate.") {
			t.Fatalf("a valid token from a throttled address: %d %s", r.Status, r.Body)
		}
	}
}
