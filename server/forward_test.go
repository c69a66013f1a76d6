package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/tokenmanager/tokenmanager/apiclient"
	"github.com/tokenmanager/tokenmanager/server"
	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
)

// forward calls the forward-auth endpoint as a proxy would: the original request's headers, any method.
func forward(t *testing.T, base, method, query string, h http.Header) servertest.Response {
	t.Helper()
	return servertest.Send(t, method, base+server.PathForwardAuth+query, "", h)
}

func TestForwardAuthAcceptsEveryTokenKind(t *testing.T) {
	st, c := plainStack(t)
	simon := map[string]string{"Authorization": servertest.Basic("simon0897", "s3cret")}
	sess := servertest.Do(t, "GET", st.URL+"/security/rest/token/access/session/0", "", simon).JSON(t)
	open := servertest.Do(t, "GET", st.URL+"/security/rest/token/access/60", "", simon).JSON(t)
	oauthTok := st.mustToken(t, "app", c.PrimaryKey, "Partner")

	cases := []struct {
		name       string
		h          http.Header
		user, kind string
		scope      string
	}{
		{"Spectrum session token + SESSION", http.Header{"Authorization": {"Bearer " + sess["access_token"].(string)},
			"Cookie": {"SESSION=" + sess["session"].(string)}}, "simon0897", "session", ""},
		{"Spectrum token in its cookie", http.Header{"Cookie": {server.TokenCookie + "=" + sess["access_token"].(string) +
			"; SESSION=" + sess["session"].(string)}}, "simon0897", "session", ""},
		{"Spectrum open token", http.Header{"Authorization": {"Bearer " + open["access_token"].(string)}}, "simon0897", "open", ""},
		{"OAuth bearer", http.Header{"Authorization": {"Bearer " + oauthTok}}, "app", "oauth", "Partner"},
	}
	for _, tc := range cases {
		for _, method := range []string{"GET", "POST", "DELETE"} {
			r := forward(t, st.URL, method, "", tc.h)
			if r.Status != http.StatusOK || r.Header.Get(server.HeaderTokenUser) != tc.user ||
				r.Header.Get(server.HeaderTokenKind) != tc.kind || r.Header.Get(server.HeaderTokenScope) != tc.scope {
				t.Errorf("%s (%s): %d user %q kind %q scope %q; want 200 %s %s %q", tc.name, method, r.Status,
					r.Header.Get(server.HeaderTokenUser), r.Header.Get(server.HeaderTokenKind), r.Header.Get(server.HeaderTokenScope),
					tc.user, tc.kind, tc.scope)
			}
		}
	}
}

func TestForwardAuthRefusals(t *testing.T) {
	st, c := plainStack(t)
	sk := st.client(t, apiclient.Spec{ID: "sk", RequireSubscriptionKey: true})
	simon := map[string]string{"Authorization": servertest.Basic("simon0897", "s3cret")}
	sess := servertest.Do(t, "GET", st.URL+"/security/rest/token/access/session/0", "", simon).JSON(t)
	open := servertest.Do(t, "GET", st.URL+"/security/rest/token/access/60", "", simon).JSON(t)["access_token"].(string)
	oauthTok := st.mustToken(t, "app", c.PrimaryKey, "Partner")
	skTok := st.mustToken(t, "sk", sk.PrimaryKey, "", "Ocp-Apim-Subscription-Key", sk.PrimaryKey)
	revoked := st.mustToken(t, "app", c.PrimaryKey, "")
	st.post(t, server.PathOAuthRevoke, "token="+revoked, clientBasic("app", c.PrimaryKey))
	bearer := func(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }

	cases := []struct {
		name      string
		query     string
		h         http.Header
		status    int
		challenge string // expected WWW-Authenticate prefix; "" for none required
	}{
		{"nothing", "", nil, 401, realm},
		{"Basic credentials", "", http.Header{"Authorization": {servertest.Basic("simon0897", "s3cret")}}, 401, realm},
		{"session token without SESSION", "", bearer(sess["access_token"].(string)), 401, realm + `, error="invalid_token"`},
		{"garbage bearer", "", bearer("garbage"), 401, realm + `, error="invalid_token"`},
		{"malformed bearer", "", http.Header{"Authorization": {"Bearer a b"}}, 401, realm + `, error="invalid_token"`},
		{"revoked OAuth token", "", bearer(revoked), 401, realm + `, error="invalid_token"`},
		{"OAuth token without the subscription key", "", bearer(skTok), 401, realm},
		{"two Authorization headers", "", http.Header{"Authorization": {"Bearer " + oauthTok, "Bearer " + open}}, 401, realm},
		{"scope not granted", "?scope=Distributor", bearer(oauthTok), 403, realm + `, error="insufficient_scope", scope="Distributor"`},
		{"Spectrum token where a scope is required", "?scope=Partner", bearer(open), 403, ""},
		{"kind not accepted", "?kind=oauth", bearer(open), 403, ""},
		{"malformed scope requirement", "?scope=a%20%20b", bearer(oauthTok), 403, ""},
	}
	for _, tc := range cases {
		r := forward(t, st.URL, "GET", tc.query, tc.h)
		if r.Status != tc.status || !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), tc.challenge) {
			t.Errorf("%s: %d %q; want %d %q…", tc.name, r.Status, r.Header.Get("WWW-Authenticate"), tc.status, tc.challenge)
		}
		if r.Status != 401 && r.Status != 403 {
			t.Errorf("%s: status %d, which nginx would turn into a 500", tc.name, r.Status)
		}
		if r.Header.Get(server.HeaderTokenUser) != "" {
			t.Errorf("%s: a refusal names a user", tc.name)
		}
	}
	// Requirements that are met.
	if r := forward(t, st.URL, "GET", "?kind=open,oauth", bearer(open)); r.Status != http.StatusOK {
		t.Errorf("kind=open,oauth with an open token: %d", r.Status)
	}
	if r := forward(t, st.URL, "GET", "?kind=oauth&scope=Partner", bearer(oauthTok)); r.Status != http.StatusOK {
		t.Errorf("kind=oauth&scope=Partner: %d", r.Status)
	}
	h := bearer(skTok)
	h.Set("Ocp-Apim-Subscription-Key", sk.SecondaryKey)
	if r := forward(t, st.URL, "GET", "", h); r.Status != http.StatusOK {
		t.Errorf("OAuth token with the subscription key: %d", r.Status)
	}
}

func TestForwardAuthWithoutOAuth(t *testing.T) {
	// The endpoint serves Spectrum tokens even when no API clients are configured.
	st := newStack(t)
	open := servertest.Do(t, "GET", st.URL+"/security/rest/token/access/60", "", map[string]string{"Authorization": servertest.Basic("simon0897", "s3cret")}).JSON(t)
	r := forward(t, st.URL, "GET", "", http.Header{"Authorization": {"Bearer " + open["access_token"].(string)}})
	if r.Status != http.StatusOK || r.Header.Get(server.HeaderTokenKind) != "open" {
		t.Fatalf("%d %v", r.Status, r.Header)
	}
	if r := servertest.Do(t, "POST", st.URL+server.PathOAuthToken, "grant_type=client_credentials", nil); r.Status != http.StatusNotFound {
		t.Errorf("token endpoint without API clients configured: %d, want 404", r.Status)
	}
}

// Envoy's ext_authz HTTP service asks path_prefix + the original path; the answer is the same, and the scope
// header is present (empty) for tokens without scopes so that a proxy copying it replaces the client's own.
func TestForwardAuthUnderPathPrefix(t *testing.T) {
	st, c := plainStack(t)
	tok := st.mustToken(t, "app", c.PrimaryKey, "Partner")
	r := forward(t, st.URL, "POST", "/reports/2026?x=1", http.Header{"Authorization": {"Bearer " + tok}})
	if r.Status != http.StatusOK || r.Header.Get(server.HeaderTokenUser) != "app" || r.Header.Get(server.HeaderTokenScope) != "Partner" {
		t.Fatalf("under the prefix: %d %v", r.Status, r.Header)
	}
	if r := forward(t, st.URL, "GET", "/x", nil); r.Status != http.StatusUnauthorized || r.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("no credential under the prefix: %d", r.Status)
	}
	simon := map[string]string{"Authorization": servertest.Basic("simon0897", "s3cret")}
	open := servertest.Do(t, "GET", st.URL+"/security/rest/token/access/60", "", simon).JSON(t)["access_token"].(string)
	r = forward(t, st.URL, "GET", "/x", http.Header{"Authorization": {"Bearer " + open}})
	if vals, ok := r.Header[server.HeaderTokenScope]; r.Status != http.StatusOK || !ok || len(vals) != 1 || vals[0] != "" {
		t.Fatalf("a token without scopes: %d, X-Token-Scope %q present %v", r.Status, vals, ok)
	}
}
