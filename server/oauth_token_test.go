package server_test

// The token endpoint, rule by rule: the SkyKick checklist (reference/protocols.md §5.2) and RFC 6749 T1–T14
// (§3.1 there). Each rule is its own test.

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/apiclient"
	"github.com/tokenmanager/tokenmanager/server"
	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
)

// SkyKick's documented sample (seed 001).
const (
	skUser  = "4f3d7c7bd74649b9a798ab8f8e8c6b81"
	skKey   = "1476aca794464056ba8aa6a1a9f921da"
	skBasic = "Basic NGYzZDdjN2JkNzQ2NDliOWE3OThhYjhmOGU4YzZiODE6MTQ3NmFjYTc5NDQ2NDA1NmJhOGFhNmExYTlmOTIxZGE="
)

func skyKickStack(t *testing.T, o oauthSetup) (*oauthStack, apiclient.Created) {
	t.Helper()
	st := newOAuthStack(t, o)
	c := st.client(t, apiclient.Spec{ID: skUser, PrimaryKey: skKey, Scopes: []string{"Partner", "Distributor"}, RequireSubscriptionKey: true})
	return st, c
}

func TestSkyKickSampleBasicString(t *testing.T) {
	if got := "Basic " + base64.StdEncoding.EncodeToString([]byte(skUser+":"+skKey)); got != skBasic {
		t.Fatalf("the seed's Basic string does not encode its sample: %s", got)
	}
	st, _ := skyKickStack(t, oauthSetup{})
	// The documented request, verbatim: Basic, Ocp-Apim-Subscription-Key, form body with scope.
	r := st.post(t, server.PathSkyKickToken, "grant_type=client_credentials&scope=Partner", skBasic,
		"Ocp-Apim-Subscription-Key", skKey)
	if r.Status != http.StatusOK {
		t.Fatalf("documented request: %d %s", r.Status, r.Body)
	}
	m := r.JSON(t)
	if m["expires_in"] != 3600.0 || m["token_type"] != "Bearer" || m["access_token"] == "" {
		t.Fatalf("response %s", r.Body)
	}
	// Used as documented: Bearer plus the subscription key.
	use := st.bearerGet(t, "", m["access_token"].(string), "Ocp-Apim-Subscription-Key", skKey)
	if use.Status != http.StatusOK || use.Header.Get(server.HeaderTokenUser) != skUser {
		t.Fatalf("using the token: %d %s", use.Status, use.Body)
	}
}

func TestSkyKickEitherKeyWorks(t *testing.T) {
	st, c := skyKickStack(t, oauthSetup{})
	keys := []string{c.PrimaryKey, c.SecondaryKey}
	for _, basicKey := range keys {
		for _, headerKey := range keys {
			if r := st.token(t, skUser, basicKey, "Partner", "Ocp-Apim-Subscription-Key", headerKey); r.Status != http.StatusOK {
				t.Errorf("Basic with one key, header with the other: %d %s", r.Status, r.Body)
			}
		}
	}
}

func TestSkyKickSubscriptionKeyRequiredAndMatching(t *testing.T) {
	st, c := skyKickStack(t, oauthSetup{})
	other := st.client(t, apiclient.Spec{ID: "other"})
	cases := []struct {
		name   string
		header []string
		msg    string
	}{
		{"missing", nil, "missing subscription key"},
		{"wrong", []string{"Ocp-Apim-Subscription-Key", strings.Repeat("0", 32)}, "invalid subscription key"},
		{"another client's key", []string{"Ocp-Apim-Subscription-Key", other.PrimaryKey}, "invalid subscription key"},
		{"twice", []string{"Ocp-Apim-Subscription-Key", c.PrimaryKey, "Ocp-Apim-Subscription-Key", c.PrimaryKey}, "invalid subscription key"},
	}
	for _, tc := range cases {
		r := st.token(t, skUser, c.PrimaryKey, "Partner", tc.header...)
		m := oauthErr(t, tc.name, r, http.StatusUnauthorized, "invalid_client")
		// Azure API Management's members, which SkyKick clients look for, next to the RFC's.
		if m["statusCode"] != 401.0 || !strings.Contains(m["message"].(string), tc.msg) {
			t.Errorf("%s: body %s, want APIM's statusCode 401 and a message about a %s", tc.name, r.Body, tc.msg)
		}
		if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Basic ") {
			t.Errorf("%s: a 401 without a challenge", tc.name)
		}
	}
	// A client not configured so needs no header.
	if r := st.token(t, "other", other.PrimaryKey, ""); r.Status != http.StatusOK {
		t.Errorf("client without the requirement: %d %s", r.Status, r.Body)
	}
}

func TestSkyKickScopes(t *testing.T) {
	st, c := skyKickStack(t, oauthSetup{})
	for _, scope := range []string{"Partner", "Distributor"} {
		if r := st.token(t, skUser, c.PrimaryKey, scope, "Ocp-Apim-Subscription-Key", skKey); r.Status != http.StatusOK {
			t.Errorf("scope %s: %d %s", scope, r.Status, r.Body)
		}
	}
	for _, scope := range []string{"partner", "Reseller", "Partner Reseller"} {
		oauthErr(t, "scope "+scope, st.token(t, skUser, c.PrimaryKey, scope, "Ocp-Apim-Subscription-Key", skKey),
			http.StatusBadRequest, "invalid_scope")
	}
}

func TestSkyKickResponseShape(t *testing.T) {
	st, c := skyKickStack(t, oauthSetup{})
	r := st.token(t, skUser, c.PrimaryKey, "Partner", "Ocp-Apim-Subscription-Key", skKey)
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(r.Body), &raw); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range raw {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"access_token", "expires_in", "token_type"}) {
		t.Fatalf("members %v, want exactly access_token, expires_in, token_type (scope was as requested)", keys)
	}
	if string(raw["expires_in"]) != "3600" || string(raw["token_type"]) != `"Bearer"` {
		t.Fatalf("body %s", r.Body)
	}
}

func TestSkyKickRateLimit(t *testing.T) {
	st, c := skyKickStack(t, oauthSetup{Limits: apiclient.Config{RateInterval: time.Minute, RateBurst: 2}})
	for range 2 {
		st.mustToken(t, skUser, c.PrimaryKey, "Partner", "Ocp-Apim-Subscription-Key", skKey)
	}
	r := st.token(t, skUser, c.PrimaryKey, "Partner", "Ocp-Apim-Subscription-Key", skKey)
	if r.Status != http.StatusTooManyRequests {
		t.Fatalf("third request in a burst of 2: %d %s", r.Status, r.Body)
	}
	secs, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || secs < 1 || secs > 60 {
		t.Fatalf("Retry-After %q, want whole seconds in 1..60", r.Header.Get("Retry-After"))
	}
	m := r.JSON(t)
	if m["statusCode"] != 429.0 || m["message"] != "Rate limit is exceeded. Try again in "+strconv.Itoa(secs)+" seconds." {
		t.Errorf("429 body %s, want APIM's", r.Body)
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("429 without Cache-Control: no-store")
	}
	st.Clock.Add(time.Duration(secs) * time.Second)
	st.mustToken(t, skUser, c.PrimaryKey, "Partner", "Ocp-Apim-Subscription-Key", skKey)
}

func TestSkyKickBearerUseNeedsSubscriptionKey(t *testing.T) {
	st, c := skyKickStack(t, oauthSetup{})
	tok := st.mustToken(t, skUser, c.PrimaryKey, "Partner", "Ocp-Apim-Subscription-Key", skKey)
	r := st.bearerGet(t, "", tok)
	if r.Status != http.StatusUnauthorized || !strings.Contains(r.Body, "missing subscription key") ||
		!strings.HasPrefix(r.Header.Get("WWW-Authenticate"), `Bearer realm="tokenmanager"`) {
		t.Errorf("without the header: %d %v %s", r.Status, r.Header, r.Body)
	}
	if r := st.bearerGet(t, "", tok, "Ocp-Apim-Subscription-Key", strings.Repeat("f", 32)); r.Status != http.StatusUnauthorized ||
		!strings.Contains(r.Body, "invalid subscription key") {
		t.Errorf("with a wrong key: %d %s", r.Status, r.Body)
	}
	if r := st.bearerGet(t, "", tok, "Ocp-Apim-Subscription-Key", c.SecondaryKey); r.Status != http.StatusOK {
		t.Errorf("with the other valid key: %d %s", r.Status, r.Body)
	}
}

// --- RFC 6749 ----------------------------------------------------------------------------------------------

func plainStack(t *testing.T) (*oauthStack, apiclient.Created) {
	t.Helper()
	st := newOAuthStack(t, oauthSetup{})
	return st, st.client(t, apiclient.Spec{ID: "app", Scopes: []string{"Partner", "Distributor"}})
}

func TestT1TokenEndpointIsPostOnly(t *testing.T) {
	st, c := plainStack(t)
	for _, method := range []string{"GET", "PUT", "DELETE"} {
		h := http.Header{"Authorization": {clientBasic("app", c.PrimaryKey)}, "Content-Type": {formType}}
		r := servertest.Send(t, method, st.URL+server.PathOAuthToken+"?grant_type=client_credentials", "grant_type=client_credentials", h)
		oauthErr(t, method, r, http.StatusMethodNotAllowed, "invalid_request")
		if r.Header.Get("Allow") != "POST" {
			t.Errorf("%s: Allow %q, want POST", method, r.Header.Get("Allow"))
		}
	}
}

func TestT2GrantTypeAndFormEncoding(t *testing.T) {
	st, c := plainStack(t)
	auth := clientBasic("app", c.PrimaryKey)
	oauthErr(t, "no grant_type", st.post(t, server.PathOAuthToken, "scope=Partner", auth), http.StatusBadRequest, "invalid_request")
	for _, g := range []string{"password", "authorization_code", "refresh_token", "Client_Credentials"} {
		oauthErr(t, g, st.post(t, server.PathOAuthToken, "grant_type="+g, auth), http.StatusBadRequest, "unsupported_grant_type")
	}
	for name, h := range map[string]http.Header{
		"JSON body":  {"Content-Type": {"application/json"}, "Authorization": {auth}},
		"no type":    {"Authorization": {auth}},
		"latin1":     {"Content-Type": {formType + "; charset=ISO-8859-1"}, "Authorization": {auth}},
		"multi-part": {"Content-Type": {"multipart/form-data; boundary=x"}, "Authorization": {auth}},
	} {
		oauthErr(t, name, servertest.Send(t, "POST", st.URL+server.PathOAuthToken, "grant_type=client_credentials", h), http.StatusBadRequest, "invalid_request")
	}
	h := http.Header{"Content-Type": {formType + "; charset=utf-8"}, "Authorization": {auth}}
	if r := servertest.Send(t, "POST", st.URL+server.PathOAuthToken, "grant_type=client_credentials", h); r.Status != http.StatusOK {
		t.Errorf("charset=utf-8: %d %s", r.Status, r.Body)
	}
	oauthErr(t, "bad escape", st.post(t, server.PathOAuthToken, "grant_type=client_credentials&scope=%zz", auth), http.StatusBadRequest, "invalid_request")
	oauthErr(t, "invalid UTF-8", st.post(t, server.PathOAuthToken, "grant_type=client_credentials&scope=%ff", auth), http.StatusBadRequest, "invalid_request")
	big := "grant_type=client_credentials&x=" + strings.Repeat("a", 20<<10)
	if r := st.post(t, server.PathOAuthToken, big, auth); r.Status != http.StatusRequestEntityTooLarge || r.JSON(t)["error"] != "invalid_request" {
		t.Errorf("20 KiB body: %d %s", r.Status, r.Body)
	}
}

func TestT3EmptyUnknownAndRepeatedParameters(t *testing.T) {
	st, c := plainStack(t)
	auth := clientBasic("app", c.PrimaryKey)
	// scope= is no scope: the client's default (all its scopes), which differs from the request, so echoed.
	r := st.post(t, server.PathOAuthToken, "grant_type=client_credentials&scope=", auth)
	if r.Status != http.StatusOK || r.JSON(t)["scope"] != "Partner Distributor" {
		t.Errorf("empty scope: %d %s", r.Status, r.Body)
	}
	if r := st.post(t, server.PathOAuthToken, "grant_type=client_credentials&frobnicate=yes&scope=Partner", auth); r.Status != http.StatusOK {
		t.Errorf("unknown parameter not ignored: %d %s", r.Status, r.Body)
	}
	for _, body := range []string{
		"grant_type=client_credentials&grant_type=client_credentials",
		"grant_type=client_credentials&scope=Partner&scope=Distributor",
		"grant_type=client_credentials&scope=&scope=Partner",
		`grant_type=client_credentials&a%22%5C%C3%A9=1&a%22%5C%C3%A9=2`, // the description must not echo the name
	} {
		oauthErr(t, body, st.post(t, server.PathOAuthToken, body, auth), http.StatusBadRequest, "invalid_request")
	}
}

func TestT4BasicCredentialsAreFormURLEncoded(t *testing.T) {
	st := newOAuthStack(t, oauthSetup{})
	secret := "p+a%s:s wörd/=&?-long-enough-to-be-imported"
	st.client(t, apiclient.Spec{ID: "odd.client~1", PrimaryKey: secret})
	// RFC 6749 Appendix B: each part form-urlencoded ("+" for space, %XX), then joined by the first colon.
	enc := func(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "%20", "+") }
	if r := st.post(t, server.PathOAuthToken, "grant_type=client_credentials", servertest.Basic(enc("odd.client~1"), enc(secret))); r.Status != http.StatusOK {
		t.Fatalf("encoded credentials: %d %s", r.Status, r.Body)
	}
	// Sent raw, the "+" and "%s" would decode to something else: refused, which proves the decoding happens.
	oauthErr(t, "raw secret", st.post(t, server.PathOAuthToken, "grant_type=client_credentials", servertest.Basic("odd.client~1", secret)),
		http.StatusUnauthorized, "invalid_client")
	// The same client with body credentials (client_secret_post) is decoded by the form parser alone.
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {"odd.client~1"}, "client_secret": {secret}}
	if r := st.post(t, server.PathOAuthToken, form.Encode(), ""); r.Status != http.StatusOK {
		t.Fatalf("body credentials: %d %s", r.Status, r.Body)
	}
}

func TestT5CredentialsInTheURIRefused(t *testing.T) {
	st, c := plainStack(t)
	q := "?client_id=app&client_secret=" + c.PrimaryKey
	h := http.Header{"Content-Type": {formType}}
	body := "grant_type=client_credentials&client_id=app&client_secret=" + c.PrimaryKey
	oauthErr(t, "query credentials", servertest.Send(t, "POST", st.URL+server.PathOAuthToken+q, body, h), http.StatusBadRequest, "invalid_request")
	oauthErr(t, "query client_id", servertest.Send(t, "POST", st.URL+server.PathOAuthToken+"?client_id=app", body, h), http.StatusBadRequest, "invalid_request")
}

func TestT6OneAuthenticationMethodOnly(t *testing.T) {
	st, c := plainStack(t)
	auth := clientBasic("app", c.PrimaryKey)
	oauthErr(t, "Basic and client_secret", st.post(t, server.PathOAuthToken,
		"grant_type=client_credentials&client_id=app&client_secret="+c.PrimaryKey, auth), http.StatusBadRequest, "invalid_request")
	oauthErr(t, "Basic and a different client_id", st.post(t, server.PathOAuthToken,
		"grant_type=client_credentials&client_id=other", auth), http.StatusBadRequest, "invalid_request")
	h := http.Header{"Content-Type": {formType}, "Authorization": {auth, auth}}
	oauthErr(t, "two Authorization headers", servertest.Send(t, "POST", st.URL+server.PathOAuthToken, "grant_type=client_credentials", h),
		http.StatusBadRequest, "invalid_request")
	// Basic plus the same client_id in the body is one method identifying itself twice: accepted.
	if r := st.post(t, server.PathOAuthToken, "grant_type=client_credentials&client_id=app", auth); r.Status != http.StatusOK {
		t.Errorf("Basic with matching client_id: %d %s", r.Status, r.Body)
	}
}

func TestT7InvalidClient(t *testing.T) {
	st, c := plainStack(t)
	wantChallenge := `Basic realm="tokenmanager"`
	cases := map[string]servertest.Response{
		"wrong key":         st.token(t, "app", c.PrimaryKey+"0", ""),
		"unknown client":    st.token(t, "nobody", c.PrimaryKey, ""),
		"malformed Basic":   st.post(t, server.PathOAuthToken, "grant_type=client_credentials", "Basic !!!"),
		"bad escape":        st.post(t, server.PathOAuthToken, "grant_type=client_credentials", servertest.Basic("app", "%zz")),
		"Bearer scheme":     st.post(t, server.PathOAuthToken, "grant_type=client_credentials", "Bearer abc"),
		"no credentials":    st.post(t, server.PathOAuthToken, "grant_type=client_credentials", ""),
		"body, wrong key":   st.post(t, server.PathOAuthToken, "grant_type=client_credentials&client_id=app&client_secret=x", ""),
		"body, no secret":   st.post(t, server.PathOAuthToken, "grant_type=client_credentials&client_id=app", ""),
		"secret, no client": st.post(t, server.PathOAuthToken, "grant_type=client_credentials&client_secret="+c.PrimaryKey, ""),
	}
	var bodies []string
	for name, r := range cases {
		oauthErr(t, name, r, http.StatusUnauthorized, "invalid_client")
		if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), wantChallenge) {
			t.Errorf("%s: WWW-Authenticate %q, want %s…", name, r.Header.Get("WWW-Authenticate"), wantChallenge)
		}
		if name == "wrong key" || name == "unknown client" {
			bodies = append(bodies, r.Body)
		}
	}
	if bodies[0] != bodies[1] {
		t.Errorf("an unknown client and a wrong key are told apart: %q vs %q", bodies[0], bodies[1])
	}
	if err := st.Clients.SetDisabled(t.Context(), "app", true); err != nil {
		t.Fatal(err)
	}
	oauthErr(t, "disabled client", st.token(t, "app", c.PrimaryKey, ""), http.StatusUnauthorized, "invalid_client")
}

func TestT8UnauthorizedClient(t *testing.T) {
	st := newOAuthStack(t, oauthSetup{})
	rs := st.client(t, apiclient.Spec{ID: "resource-server", GrantTypes: []string{}, Introspect: true})
	oauthErr(t, "client without the grant", st.token(t, "resource-server", rs.PrimaryKey, ""), http.StatusBadRequest, "unauthorized_client")
}

func TestT9Scope(t *testing.T) {
	st, c := plainStack(t)
	for _, scope := range []string{"Unknown", "Partner Unknown", "Partner  Distributor", `Part"ner`} {
		oauthErr(t, "scope "+scope, st.token(t, "app", c.PrimaryKey, scope), http.StatusBadRequest, "invalid_scope")
	}
	// Omitted: the client's scopes, and scope in the response since it differs from (no) request.
	if r := st.token(t, "app", c.PrimaryKey, ""); r.JSON(t)["scope"] != "Partner Distributor" {
		t.Errorf("omitted scope: %s", r.Body)
	}
	// As requested: no scope member. Normalised (a repeat dropped): scope member with what was granted.
	if r := st.token(t, "app", c.PrimaryKey, "Distributor"); r.Status != http.StatusOK || strings.Contains(r.Body, `"scope"`) {
		t.Errorf("scope as requested: %d %s", r.Status, r.Body)
	}
	if r := st.token(t, "app", c.PrimaryKey, "Distributor Distributor"); r.JSON(t)["scope"] != "Distributor" {
		t.Errorf("repeated scope: %s", r.Body)
	}
}

func TestT10SuccessResponseTypes(t *testing.T) {
	st, c := plainStack(t)
	r := st.token(t, "app", c.PrimaryKey, "Partner")
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(r.Body), &raw); err != nil || r.Status != http.StatusOK {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	if _, err := strconv.Atoi(string(raw["expires_in"])); err != nil {
		t.Errorf("expires_in %s is not a JSON integer", raw["expires_in"])
	}
	if !strings.EqualFold(strings.Trim(string(raw["token_type"]), `"`), "bearer") {
		t.Errorf("token_type %s", raw["token_type"])
	}
	if _, ok := raw["refresh_token"]; ok {
		t.Error("a refresh token for client credentials (§4.4.3: SHOULD NOT)")
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
}

func TestT11NoStoreNoCache(t *testing.T) {
	st, c := plainStack(t)
	for name, r := range map[string]servertest.Response{
		"success": st.token(t, "app", c.PrimaryKey, ""),
		"error":   st.token(t, "app", "wrong", ""),
	} {
		if r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("Pragma") != "no-cache" {
			t.Errorf("%s: Cache-Control %q, Pragma %q", name, r.Header.Get("Cache-Control"), r.Header.Get("Pragma"))
		}
	}
}

func TestT12ErrorBodies(t *testing.T) {
	st, c := plainStack(t)
	auth := clientBasic("app", c.PrimaryKey)
	// One of each error the endpoint gives; oauthErr checks the JSON shape and the character set.
	oauthErr(t, "invalid_request", st.post(t, server.PathOAuthToken, "", auth), 400, "invalid_request")
	oauthErr(t, "invalid_client", st.token(t, "app", "x", ""), 401, "invalid_client")
	oauthErr(t, "unsupported_grant_type", st.post(t, server.PathOAuthToken, "grant_type=password", auth), 400, "unsupported_grant_type")
	oauthErr(t, "invalid_scope", st.token(t, "app", c.PrimaryKey, "Nope"), 400, "invalid_scope")
	rs := st.client(t, apiclient.Spec{ID: "rs", GrantTypes: []string{}})
	oauthErr(t, "unauthorized_client", st.token(t, "rs", rs.PrimaryKey, ""), 400, "unauthorized_client")
}

func TestT13IssuanceIsRateLimited(t *testing.T) {
	st := newOAuthStack(t, oauthSetup{Limits: apiclient.Config{RateInterval: time.Hour, RateBurst: 3}})
	c := st.client(t, apiclient.Spec{ID: "app"})
	got := map[int]int{}
	for range 5 {
		got[st.token(t, "app", c.PrimaryKey, "").Status]++
	}
	if got[200] != 3 || got[429] != 2 {
		t.Fatalf("statuses %v, want 3×200 then 2×429", got)
	}
}

func TestT14TokensAreUnguessable(t *testing.T) {
	st, c := plainStack(t)
	seen := map[string]bool{}
	for range 20 {
		tok := st.mustToken(t, "app", c.PrimaryKey, "")
		b, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(tok, apiclient.TokenPrefix))
		if err != nil || len(b) < 20 || seen[tok] {
			t.Fatalf("token %q: want ≥ 20 random bytes (2^-160), unique", tok)
		}
		seen[tok] = true
	}
}
