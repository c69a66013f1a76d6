package server_test

// Bearer use (RFC 6750, B1–B8), revocation (RFC 7009, R1–R5), introspection (RFC 7662, I1–I5) and metadata
// (RFC 8414, M1–M7), rule by rule.

import (
	"encoding/json"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/apiclient"
	"github.com/tokenmanager/tokenmanager/server"
	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
)

const realm = `Bearer realm="tokenmanager"`

// challengeParams parses a Bearer challenge's auth-params and fails on a repeated one (§3: MUST NOT).
func challengeParams(t *testing.T, c string) map[string]string {
	t.Helper()
	rest, ok := strings.CutPrefix(c, "Bearer ")
	if !ok {
		t.Fatalf("challenge %q does not use the Bearer scheme", c)
	}
	out := map[string]string{}
	for rest != "" {
		k, v, ok := strings.Cut(rest, `="`)
		if !ok {
			t.Fatalf("challenge %q: malformed auth-param", c)
		}
		val, tail, ok := strings.Cut(v, `"`)
		if !ok {
			t.Fatalf("challenge %q: unterminated quoted string", c)
		}
		k = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(k), ","))
		if _, dup := out[k]; dup {
			t.Fatalf("challenge %q repeats %s", c, k)
		}
		out[k] = val
		rest = strings.TrimSpace(tail)
	}
	return out
}

func TestB1BearerHeaderSyntax(t *testing.T) {
	st, c := plainStack(t)
	tok := st.mustToken(t, "app", c.PrimaryKey, "")
	for _, h := range []string{"Bearer " + tok, "bearer " + tok, "BEARER " + tok, "Bearer   " + tok} {
		if r := servertest.Send(t, "GET", st.URL+server.PathOAuthVerify, "", http.Header{"Authorization": {h}}); r.Status != http.StatusOK {
			t.Errorf("%.12q…: %d %s", h, r.Status, r.Body)
		}
	}
	for _, h := range []string{"Bearer", "Bearer ", "Bearer " + tok + " x", "Bearer " + tok + "*", "Bearer =abc", "Bearer a=b"} {
		r := servertest.Send(t, "GET", st.URL+server.PathOAuthVerify, "", http.Header{"Authorization": {h}})
		p := challengeParams(t, r.Header.Get("WWW-Authenticate"))
		if r.Status != http.StatusBadRequest || p["error"] != "invalid_request" {
			t.Errorf("%q: %d %v, want 400 invalid_request", h, r.Status, p)
		}
	}
}

func TestB2HeaderIsTheOnlyMethod(t *testing.T) {
	st, c := plainStack(t)
	tok := st.mustToken(t, "app", c.PrimaryKey, "")
	// A token only in the query or the body is an unsupported method: treated as no credentials.
	for name, r := range map[string]servertest.Response{
		"query": servertest.Send(t, "GET", st.URL+server.PathOAuthVerify+"?access_token="+tok, "", nil),
		"body":  servertest.Send(t, "POST", st.URL+server.PathOAuthVerify, "access_token="+tok, http.Header{"Content-Type": {formType}}),
	} {
		if r.Status != http.StatusUnauthorized || r.Header.Get("WWW-Authenticate") != realm {
			t.Errorf("%s: %d %q, want 401 with a bare challenge", name, r.Status, r.Header.Get("WWW-Authenticate"))
		}
	}
}

func TestB3EveryRefusalChallenges(t *testing.T) {
	st, c := plainStack(t)
	tok := st.mustToken(t, "app", c.PrimaryKey, "Partner")
	for name, r := range map[string]servertest.Response{
		"none":               st.bearerGet(t, "", ""),
		"invalid":            st.bearerGet(t, "", "nope"),
		"insufficient scope": st.bearerGet(t, "?scope=Distributor", tok),
		"malformed":          servertest.Send(t, "GET", st.URL+server.PathOAuthVerify, "", http.Header{"Authorization": {"Bearer"}}),
	} {
		c := r.Header.Get("WWW-Authenticate")
		if !strings.HasPrefix(c, realm) {
			t.Errorf("%s: WWW-Authenticate %q, want %s…", name, c, realm)
			continue
		}
		challengeParams(t, c) // no repeated parameter
	}
}

func TestB4NoCredentialsNoErrorCode(t *testing.T) {
	st, _ := plainStack(t)
	for name, h := range map[string]http.Header{
		"no Authorization": nil,
		"Basic":            {"Authorization": {servertest.Basic("app", "x")}},
		"other scheme":     {"Authorization": {"Digest username=x"}},
	} {
		r := servertest.Send(t, "GET", st.URL+server.PathOAuthVerify, "", h)
		if r.Status != http.StatusUnauthorized || r.Header.Get("WWW-Authenticate") != realm || strings.Contains(r.Body, `"error"`) {
			t.Errorf("%s: %d %q %s; want 401, exactly %s, no error code", name, r.Status, r.Header.Get("WWW-Authenticate"), r.Body, realm)
		}
	}
}

func TestB5InvalidRequest(t *testing.T) {
	st, c := plainStack(t)
	tok := st.mustToken(t, "app", c.PrimaryKey, "")
	auth := http.Header{"Authorization": {"Bearer " + tok}}
	for name, r := range map[string]servertest.Response{
		"header and query": servertest.Send(t, "GET", st.URL+server.PathOAuthVerify+"?access_token="+tok, "", auth),
		"header and body": servertest.Send(t, "POST", st.URL+server.PathOAuthVerify, "access_token="+tok,
			http.Header{"Authorization": {"Bearer " + tok}, "Content-Type": {formType}}),
		"two headers": servertest.Send(t, "GET", st.URL+server.PathOAuthVerify, "", http.Header{"Authorization": {"Bearer " + tok, "Bearer " + tok}}),
	} {
		p := challengeParams(t, r.Header.Get("WWW-Authenticate"))
		if r.Status != http.StatusBadRequest || p["error"] != "invalid_request" {
			t.Errorf("%s: %d %v, want 400 invalid_request", name, r.Status, p)
		}
	}
}

func TestB6InvalidToken(t *testing.T) {
	st, c := plainStack(t)
	expired := st.mustToken(t, "app", c.PrimaryKey, "")
	st.Clock.Add(time.Hour)
	revoked := st.mustToken(t, "app", c.PrimaryKey, "")
	if r := st.post(t, server.PathOAuthRevoke, "token="+revoked, clientBasic("app", c.PrimaryKey)); r.Status != 200 {
		t.Fatal(r.Body)
	}
	for name, tok := range map[string]string{
		"expired": expired, "revoked": revoked, "unknown": apiclient.TokenPrefix + strings.Repeat("x", 43), "garbage": "abc.def",
	} {
		r := st.bearerGet(t, "", tok)
		p := challengeParams(t, r.Header.Get("WWW-Authenticate"))
		if r.Status != http.StatusUnauthorized || p["error"] != "invalid_token" || p["error_description"] == "" || p["realm"] != "tokenmanager" {
			t.Errorf("%s: %d %v, want 401 invalid_token with a description", name, r.Status, p)
		}
	}
}

func TestB7InsufficientScope(t *testing.T) {
	st, c := plainStack(t)
	tok := st.mustToken(t, "app", c.PrimaryKey, "Partner")
	r := st.bearerGet(t, "?scope=Distributor", tok)
	p := challengeParams(t, r.Header.Get("WWW-Authenticate"))
	if r.Status != http.StatusForbidden || p["error"] != "insufficient_scope" || p["scope"] != "Distributor" {
		t.Fatalf("%d %v, want 403 insufficient_scope with scope=Distributor", r.Status, p)
	}
	if r := st.bearerGet(t, "?scope=Partner", tok); r.Status != http.StatusOK || r.Header.Get(server.HeaderTokenScope) != "Partner" {
		t.Errorf("granted scope: %d %s", r.Status, r.Body)
	}
}

func TestB8DefaultLifetimeIsAnHourAtMost(t *testing.T) {
	st, c := plainStack(t)
	r := st.token(t, "app", c.PrimaryKey, "")
	if r.JSON(t)["expires_in"] != 3600.0 {
		t.Fatalf("expires_in %v, want 3600", r.JSON(t)["expires_in"])
	}
	tok := r.JSON(t)["access_token"].(string)
	st.Clock.Add(time.Hour - time.Second)
	if r := st.bearerGet(t, "", tok); r.Status != http.StatusOK {
		t.Fatalf("a second before expiry: %d", r.Status)
	}
	st.Clock.Add(time.Second)
	if r := st.bearerGet(t, "", tok); r.Status != http.StatusUnauthorized {
		t.Fatalf("at expiry: %d", r.Status)
	}
}

// --- RFC 7009 ----------------------------------------------------------------------------------------------

func TestR1RevocationParameters(t *testing.T) {
	st, c := plainStack(t)
	auth := clientBasic("app", c.PrimaryKey)
	oauthErr(t, "no token", st.post(t, server.PathOAuthRevoke, "token_type_hint=access_token", auth), http.StatusBadRequest, "invalid_request")
	oauthErr(t, "GET", servertest.Send(t, "GET", st.URL+server.PathOAuthRevoke, "", http.Header{"Authorization": {auth}}), http.StatusMethodNotAllowed, "invalid_request")
	// A hint we do not know, or one that does not fit, is only a hint: the token is found and revoked anyway.
	for _, hint := range []string{"bogus", "refresh_token", "access_token"} {
		tok := st.mustToken(t, "app", c.PrimaryKey, "")
		if r := st.post(t, server.PathOAuthRevoke, "token="+tok+"&token_type_hint="+hint, auth); r.Status != http.StatusOK {
			t.Fatalf("hint %s: %d %s", hint, r.Status, r.Body)
		}
		if r := st.bearerGet(t, "", tok); r.Status != http.StatusUnauthorized {
			t.Errorf("hint %s: token still works", hint)
		}
	}
}

func TestR2RevocationAuthenticatesAndChecksOwnership(t *testing.T) {
	st, c := plainStack(t)
	other := st.client(t, apiclient.Spec{ID: "other"})
	tok := st.mustToken(t, "app", c.PrimaryKey, "")
	oauthErr(t, "bad credentials", st.post(t, server.PathOAuthRevoke, "token="+tok, clientBasic("app", "wrong")), http.StatusUnauthorized, "invalid_client")
	oauthErr(t, "no credentials", st.post(t, server.PathOAuthRevoke, "token="+tok, ""), http.StatusUnauthorized, "invalid_client")
	// §2.1: the token was not issued to the caller, so it is not revoked; the answer is §2.2's 200, the same as
	// for an unknown token, so that the caller learns nothing about the token.
	forged := tok[:len(tok)-4] + "AAAA" // well formed, never issued
	if forged == tok {
		forged = tok[:len(tok)-4] + "BBBB"
	}
	unknown := st.post(t, server.PathOAuthRevoke, "token="+forged, clientBasic("other", other.PrimaryKey))
	r := st.post(t, server.PathOAuthRevoke, "token="+tok, clientBasic("other", other.PrimaryKey))
	if r.Status != http.StatusOK || r.Status != unknown.Status || r.Body != unknown.Body || r.Header.Get("Cache-Control") != unknown.Header.Get("Cache-Control") {
		t.Fatalf("another client's token: %d %q; an unknown token: %d %q; want the same 200", r.Status, r.Body, unknown.Status, unknown.Body)
	}
	if r := st.bearerGet(t, "", tok); r.Status != http.StatusOK {
		t.Fatalf("another client's revocation revoked the token: %d", r.Status)
	}
	// Body credentials work here too.
	if r := st.post(t, server.PathOAuthRevoke, "token="+tok+"&client_id=app&client_secret="+c.PrimaryKey, ""); r.Status != http.StatusOK {
		t.Fatalf("client_secret_post: %d %s", r.Status, r.Body)
	}
}

func TestR3InvalidTokensAnswered200(t *testing.T) {
	st, c := plainStack(t)
	auth := clientBasic("app", c.PrimaryKey)
	tok := st.mustToken(t, "app", c.PrimaryKey, "")
	st.post(t, server.PathOAuthRevoke, "token="+tok, auth)
	for name, bad := range map[string]string{
		"unknown": apiclient.TokenPrefix + strings.Repeat("A", 43), "garbage": "garbage", "already revoked": tok,
	} {
		if r := st.post(t, server.PathOAuthRevoke, "token="+url.QueryEscape(bad), auth); r.Status != http.StatusOK {
			t.Errorf("%s: %d %s, want 200", name, r.Status, r.Body)
		}
	}
	// A Spectrum token is not ours to revoke here (it has its own logout): §2.2.1 unsupported_token_type.
	spectrum := servertest.Do(t, "GET", st.URL+"/security/rest/token/access/60", "", map[string]string{"Authorization": servertest.Basic("simon0897", "s3cret")}).JSON(t)["access_token"].(string)
	oauthErr(t, "Spectrum token", st.post(t, server.PathOAuthRevoke, "token="+spectrum, auth), http.StatusBadRequest, "unsupported_token_type")
}

func TestR4RevocationIsImmediate(t *testing.T) {
	st, c := plainStack(t)
	rs := st.client(t, apiclient.Spec{ID: "rs", GrantTypes: []string{}, Introspect: true})
	tok := st.mustToken(t, "app", c.PrimaryKey, "")
	if r := st.introspect(t, "rs", rs.PrimaryKey, "token="+tok); r.JSON(t)["active"] != true {
		t.Fatalf("before: %s", r.Body)
	}
	if r := st.post(t, server.PathOAuthRevoke, "token="+tok, clientBasic("app", c.PrimaryKey)); r.Status != http.StatusOK {
		t.Fatal(r.Body)
	}
	if r := st.introspect(t, "rs", rs.PrimaryKey, "token="+tok); strings.TrimSpace(r.Body) != `{"active":false}` {
		t.Errorf("introspection after revocation: %s", r.Body)
	}
	r := st.bearerGet(t, "", tok)
	if p := challengeParams(t, r.Header.Get("WWW-Authenticate")); r.Status != http.StatusUnauthorized || p["error"] != "invalid_token" {
		t.Errorf("bearer use after revocation: %d %v", r.Status, p)
	}
}

func TestR5StorageFailureIs503(t *testing.T) {
	st, c := plainStack(t)
	tok := st.mustToken(t, "app", c.PrimaryKey, "")
	st.Store.Close() // the database goes away
	r := st.post(t, server.PathOAuthRevoke, "token="+tok, clientBasic("app", c.PrimaryKey))
	oauthErr(t, "revoke with the store down", r, http.StatusServiceUnavailable, "temporarily_unavailable")
	if r.Header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
}

// --- RFC 7662 ----------------------------------------------------------------------------------------------

func TestI1IntrospectionRequiresAuthentication(t *testing.T) {
	st, c := plainStack(t)
	tok := st.mustToken(t, "app", c.PrimaryKey, "")
	r := st.post(t, server.PathOAuthIntrospect, "token="+tok, "")
	oauthErr(t, "unauthenticated", r, http.StatusUnauthorized, "invalid_client")
	if strings.Contains(r.Body, "active") {
		t.Errorf("unauthenticated caller learnt something: %s", r.Body)
	}
	oauthErr(t, "no token", st.introspect(t, "app", c.PrimaryKey, ""), http.StatusBadRequest, "invalid_request")
}

func TestI2BadClientCredentials(t *testing.T) {
	st, c := plainStack(t)
	tok := st.mustToken(t, "app", c.PrimaryKey, "")
	r := st.introspect(t, "app", "wrong", "token="+tok)
	oauthErr(t, "bad credentials", r, http.StatusUnauthorized, "invalid_client")
	if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Basic ") {
		t.Errorf("WWW-Authenticate %q", r.Header.Get("WWW-Authenticate"))
	}
}

func TestI3ActiveResponse(t *testing.T) {
	st, c := plainStack(t)
	issued := st.Clock.Now()
	tok := st.mustToken(t, "app", c.PrimaryKey, "Partner Distributor")
	r := st.introspect(t, "app", c.PrimaryKey, "token="+tok+"&token_type_hint=access_token")
	if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("%d %q %s", r.Status, r.Header.Get("Content-Type"), r.Body)
	}
	var got struct {
		Active    *bool  `json:"active"`
		Scope     string `json:"scope"`
		ClientID  string `json:"client_id"`
		TokenType string `json:"token_type"`
		Exp       *int64 `json:"exp"`
		Iat       *int64 `json:"iat"`
		Sub       string `json:"sub"`
	}
	if err := json.Unmarshal([]byte(r.Body), &got); err != nil {
		t.Fatalf("types: %v in %s", err, r.Body)
	}
	if got.Active == nil || !*got.Active || got.Scope != "Partner Distributor" || got.ClientID != "app" || got.Sub != "app" ||
		got.TokenType != "Bearer" || got.Exp == nil || *got.Exp != issued.Add(time.Hour).Unix() || got.Iat == nil || *got.Iat != issued.Unix() {
		t.Fatalf("introspection %s", r.Body)
	}
}

func TestI4InactiveIsExactlyActiveFalse(t *testing.T) {
	st, c := plainStack(t)
	other := st.client(t, apiclient.Spec{ID: "other"})
	auth := clientBasic("app", c.PrimaryKey)
	revoked := st.mustToken(t, "app", c.PrimaryKey, "")
	st.post(t, server.PathOAuthRevoke, "token="+revoked, auth)
	othersToken := st.mustToken(t, "other", other.PrimaryKey, "")
	expired := st.mustToken(t, "app", c.PrimaryKey, "")
	st.Clock.Add(2 * time.Hour)
	spectrum := servertest.Do(t, "GET", st.URL+"/security/rest/token/access/600", "", map[string]string{"Authorization": servertest.Basic("simon0897", "s3cret")}).JSON(t)["access_token"].(string)
	for name, tok := range map[string]string{
		"unknown": apiclient.TokenPrefix + strings.Repeat("A", 43), "garbage": "garbage", "revoked": revoked,
		"expired": expired, "another client's": othersToken, "Spectrum token, caller may not introspect": spectrum,
	} {
		r := st.introspect(t, "app", c.PrimaryKey, "token="+url.QueryEscape(tok))
		if r.Status != http.StatusOK || strings.TrimSpace(r.Body) != `{"active":false}` {
			t.Errorf("%s: %d %s, want exactly {\"active\":false}", name, r.Status, r.Body)
		}
	}
}

func TestI5NotCachedBeyondExp(t *testing.T) {
	st, c := plainStack(t)
	tok := st.mustToken(t, "app", c.PrimaryKey, "")
	r := st.introspect(t, "app", c.PrimaryKey, "token="+tok)
	// We let nobody cache it (no-store); a resource server that caches anyway has exp to stop at.
	if r.Header.Get("Cache-Control") != "no-store" || r.JSON(t)["exp"] == nil {
		t.Fatalf("Cache-Control %q, body %s", r.Header.Get("Cache-Control"), r.Body)
	}
}

func TestIntrospectSpectrumTokens(t *testing.T) {
	st, _ := plainStack(t)
	rs := st.client(t, apiclient.Spec{ID: "rs", GrantTypes: []string{}, Introspect: true})
	simon := map[string]string{"Authorization": servertest.Basic("simon0897", "s3cret")}
	open := servertest.Do(t, "GET", st.URL+"/security/rest/token/access/60", "", simon).JSON(t)
	r := st.introspect(t, "rs", rs.PrimaryKey, "token="+open["access_token"].(string))
	m := r.JSON(t)
	if m["active"] != true || m["username"] != "simon0897" || m["sub"] != "simon0897" || m["kind"] != "open" || m["exp"] == nil {
		t.Fatalf("open token: %s", r.Body)
	}
	sess := servertest.Do(t, "GET", st.URL+"/security/rest/token/access/session/60", "", simon).JSON(t)
	tok, cookie := sess["access_token"].(string), sess["session"].(string)
	// A session token is active only with its SESSION cookie and, with host checks on, from its host.
	if r := st.introspect(t, "rs", rs.PrimaryKey, "token="+tok); strings.TrimSpace(r.Body) != `{"active":false}` {
		t.Errorf("session token without its session: %s", r.Body)
	}
	form := url.Values{"token": {tok}, "session": {cookie}, "client_host": {"127.0.0.1"}}
	if r := st.introspect(t, "rs", rs.PrimaryKey, form.Encode()); r.JSON(t)["kind"] != "expiring" || r.JSON(t)["active"] != true {
		t.Errorf("session token with its session: %s", r.Body)
	}
	form.Set("client_host", "192.0.2.1")
	if r := st.introspect(t, "rs", rs.PrimaryKey, form.Encode()); strings.TrimSpace(r.Body) != `{"active":false}` {
		t.Errorf("session token from another host: %s", r.Body)
	}
}

// --- RFC 8414 ----------------------------------------------------------------------------------------------

func metadata(t *testing.T, url string, h http.Header) (servertest.Response, map[string]any) {
	t.Helper()
	r := servertest.Send(t, "GET", url, "", h)
	if r.Status != http.StatusOK {
		return r, nil
	}
	return r, r.JSON(t)
}

func TestM1WellKnownLocationForBothIssuerShapes(t *testing.T) {
	st, _ := plainStack(t)
	if _, m := metadata(t, st.URL+server.PathOAuthMetadata, nil); m == nil || m["issuer"] != st.URL {
		t.Errorf("issuer at the host's root: %v, want %s", m, st.URL)
	}
	withPath := newOAuthStack(t, oauthSetup{Issuer: "https://auth.example.com/tenant1"})
	withPath.client(t, apiclient.Spec{ID: "app"})
	r, m := metadata(t, withPath.URL+server.PathOAuthMetadata+"/tenant1", nil)
	if m == nil || m["issuer"] != "https://auth.example.com/tenant1" || m["token_endpoint"] != "https://auth.example.com/tenant1/oauth2/token" {
		t.Errorf("issuer with a path: %d %s", r.Status, r.Body)
	}
	if r, _ := metadata(t, withPath.URL+server.PathOAuthMetadata+"/tenant2", nil); r.Status != http.StatusNotFound {
		t.Errorf("another issuer's path: %d, want 404", r.Status)
	}
	if r, _ := metadata(t, st.URL+server.PathOAuthMetadata+"/tenant1", nil); r.Status != http.StatusNotFound {
		t.Errorf("a path suffix without such an issuer: %d, want 404", r.Status)
	}
}

func TestM2NoEmptyArrays(t *testing.T) {
	st := newOAuthStack(t, oauthSetup{})
	st.client(t, apiclient.Spec{ID: "app"}) // no scopes anywhere
	r, m := metadata(t, st.URL+server.PathOAuthMetadata, nil)
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Errorf("Content-Type %q", r.Header.Get("Content-Type"))
	}
	for k, v := range m {
		if a, ok := v.([]any); ok && len(a) == 0 {
			t.Errorf("%s is an empty array", k)
		}
	}
	if _, ok := m["scopes_supported"]; ok {
		t.Errorf("scopes_supported with no scopes: %s", r.Body)
	}
}

func TestM3IssuerIsHTTPSWithoutQueryOrFragment(t *testing.T) {
	for _, bad := range []string{"http://auth.example.com", "https://auth.example.com/?x=1", "https://auth.example.com#f",
		"https://auth.example.com/", "auth.example.com", "https://user@auth.example.com", "https://auth.example.com?"} {
		if server.ValidIssuer(bad) == nil {
			t.Errorf("ValidIssuer(%q) accepted it", bad)
		}
	}
	for _, good := range []string{"https://auth.example.com", "https://auth.example.com:8443/t/1"} {
		if err := server.ValidIssuer(good); err != nil {
			t.Errorf("ValidIssuer(%q) = %v", good, err)
		}
	}
	// Behind a TLS-terminating trusted proxy the derived issuer is the https URL the client used.
	st := newOAuthStack(t, oauthSetup{}, func(su *servertest.Setup) {
		su.Server.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	})
	_, m := metadata(t, st.URL+server.PathOAuthMetadata, http.Header{"X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"api.example.com"}})
	if m["issuer"] != "https://api.example.com" || m["token_endpoint"] != "https://api.example.com/oauth2/token" {
		t.Errorf("behind a proxy: %v", m)
	}
}

func TestM4TokenEndpointNoAuthorizationEndpoint(t *testing.T) {
	st, _ := plainStack(t)
	_, m := metadata(t, st.URL+server.PathOAuthMetadata, nil)
	if m["token_endpoint"] != st.URL+server.PathOAuthToken {
		t.Errorf("token_endpoint %v", m["token_endpoint"])
	}
	if _, ok := m["authorization_endpoint"]; ok {
		t.Error("authorization_endpoint advertised without a grant that uses it")
	}
}

func TestM5NoResponseTypes(t *testing.T) {
	st, _ := plainStack(t)
	if _, m := metadata(t, st.URL+server.PathOAuthMetadata, nil); m == nil {
		t.Fatal("no metadata")
	} else if _, ok := m["response_types_supported"]; ok {
		t.Error("response_types_supported present (we decided to omit it: no response type exists for client credentials only)")
	}
}

func TestM6GrantTypesListedExplicitly(t *testing.T) {
	st, _ := plainStack(t)
	_, m := metadata(t, st.URL+server.PathOAuthMetadata, nil)
	if g, _ := json.Marshal(m["grant_types_supported"]); string(g) != `["client_credentials"]` {
		t.Errorf("grant_types_supported %s", g)
	}
}

func TestM7EndpointsAndAuthMethodsWork(t *testing.T) {
	st, c := plainStack(t)
	st.client(t, apiclient.Spec{ID: "b", Scopes: []string{"Reseller", "Partner"}})
	_, m := metadata(t, st.URL+server.PathOAuthMetadata, nil)
	if s, _ := json.Marshal(m["scopes_supported"]); string(s) != `["Distributor","Partner","Reseller"]` {
		t.Errorf("scopes_supported %s", s)
	}
	for _, k := range []string{"token_endpoint_auth_methods_supported", "revocation_endpoint_auth_methods_supported", "introspection_endpoint_auth_methods_supported"} {
		if s, _ := json.Marshal(m[k]); string(s) != `["client_secret_basic","client_secret_post"]` {
			t.Errorf("%s %s", k, s)
		}
	}
	// Every advertised endpoint answers with every advertised method.
	for _, bodyAuth := range []bool{false, true} {
		post := func(endpoint, form string) servertest.Response {
			if bodyAuth {
				return st.post(t, strings.TrimPrefix(endpoint, st.URL), form+"&client_id=app&client_secret="+c.PrimaryKey, "")
			}
			return st.post(t, strings.TrimPrefix(endpoint, st.URL), form, clientBasic("app", c.PrimaryKey))
		}
		r := post(m["token_endpoint"].(string), "grant_type=client_credentials")
		tok, _ := r.JSON(t)["access_token"].(string)
		if r := post(m["introspection_endpoint"].(string), "token="+tok); r.JSON(t)["active"] != true {
			t.Errorf("body auth %v: introspection %s", bodyAuth, r.Body)
		}
		if r := post(m["revocation_endpoint"].(string), "token="+tok); r.Status != http.StatusOK {
			t.Errorf("body auth %v: revocation %d %s", bodyAuth, r.Status, r.Body)
		}
	}
}
