package server_test

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/apiclient"
	"github.com/tokenmanager/tokenmanager/auth"
	"github.com/tokenmanager/tokenmanager/server"
)

// withThrottle throttles sign-ins on the stack's clock, with X-Forwarded-For playing the client address.
func withThrottle(c auth.ThrottleConfig) option {
	return func(su *setup) {
		su.Server.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
		su.wire = append(su.wire, func(st *stack, d *server.Deps) {
			c.Now = st.Clock.Now
			d.Throttle = auth.NewThrottle(c)
		})
	}
}

func restSignIn(t *testing.T, s *stack, user, pass, from string) response {
	t.Helper()
	return do(t, "GET", s.URL+"/security/rest/token/access/60", "", map[string]string{
		"Authorization": basic(user, pass), "X-Forwarded-For": from})
}

func TestWrongPasswordStormIsThrottledPerAccount(t *testing.T) {
	s := newStack(t, withThrottle(auth.ThrottleConfig{AccountBurst: 3, AccountEvery: 30 * time.Second, AddressBurst: 100, AddressEvery: time.Second}))
	for i := range 3 {
		if r := restSignIn(t, s, "simon0897", "guess", "192.0.2.1"); r.Status != 401 {
			t.Fatalf("wrong password %d: %d", i+1, r.Status)
		}
	}
	// Locked: even the right password, from anywhere, is refused without being checked.
	for _, from := range []string{"192.0.2.1", "203.0.113.5"} {
		r := restSignIn(t, s, "simon0897", "s3cret", from)
		if r.Status != 429 || r.Header.Get("Retry-After") != "30" || !strings.Contains(r.Body, "too many failed sign-ins") {
			t.Fatalf("locked account from %s: %d Retry-After %q %s", from, r.Status, r.Header.Get("Retry-After"), r.Body)
		}
	}
	soapResp := do(t, "POST", s.URL+tokPath, seedRequest(t, "getAccessToken"), map[string]string{
		"Content-Type": "text/xml", "Authorization": basic("simon0897", "s3cret"), "X-Forwarded-For": "192.0.2.1"})
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

func TestSprayFromOneAddressIsThrottledPerAddress(t *testing.T) {
	s := newStack(t, withThrottle(auth.ThrottleConfig{AccountBurst: 100, AccountEvery: time.Second, AddressBurst: 5, AddressEvery: 10 * time.Second}))
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

// TestClientAndLicenseTokenGuessingThrottled: wrong client keys at the token endpoint are throttled per client
// and address; guessed license API tokens per address.
func TestClientAndLicenseTokenGuessingThrottled(t *testing.T) {
	cfg := auth.ThrottleConfig{AccountBurst: 3, AccountEvery: time.Minute, AddressBurst: 5, AddressEvery: time.Minute}
	st := newOAuthStack(t, oauthSetup{}, withThrottle(cfg))
	c := st.client(t, apiclient.Spec{ID: "app", Scopes: []string{"Partner"}})
	tokenReq := func(key, from string) response {
		return send(t, "POST", st.URL+server.PathOAuthToken, "grant_type=client_credentials", http.Header{
			"Authorization": {clientBasic("app", key)}, "Content-Type": {formType}, "X-Forwarded-For": {from}})
	}
	for range 3 {
		if r := tokenReq("wrong-key", "192.0.2.1"); r.Status != 401 {
			t.Fatalf("wrong client key: %d", r.Status)
		}
	}
	r := tokenReq(c.PrimaryKey, "203.0.113.9") // the right key, from elsewhere: the client is locked
	if r.Status != 429 || r.Header.Get("Retry-After") == "" || !strings.Contains(r.Body, "invalid_client") {
		t.Fatalf("locked client: %d %v %s", r.Status, r.Header, r.Body)
	}
	st.Clock.Add(time.Minute)
	if r := tokenReq(c.PrimaryKey, "203.0.113.9"); r.Status != 200 {
		t.Fatalf("after recovery: %d %s", r.Status, r.Body)
	}

	cl := newCLStack(t, withThrottle(cfg))
	guess := func(from string) response {
		return send(t, "POST", cl.URL+"/api/key/GetKey", "token=guess&ProductId=1&Key=AAAAA-AAAAA-AAAAA-AAAAA",
			http.Header{"Content-Type": {formType}, "X-Forwarded-For": {from}})
	}
	for range 5 {
		if r := guess("192.0.2.66"); !strings.Contains(r.Body, "Unable to authenticate.") {
			t.Fatalf("guessed license token: %d %s", r.Status, r.Body)
		}
	}
	if r := guess("192.0.2.66"); r.Status != 429 || r.Header.Get("Retry-After") == "" {
		t.Fatalf("sixth guess from the same address: %d %s", r.Status, r.Body)
	}
	if r := guess("192.0.2.67"); r.Status != 200 {
		t.Fatalf("another address: %d %s", r.Status, r.Body)
	}
}
