package server_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/tokenmanager/tokenmanager/apiclient"
	"github.com/tokenmanager/tokenmanager/server"
	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
)

// jwtStack has a client "reports" whose tokens are JWTs and a resource server "rs" that may introspect any token.
func jwtStack(t *testing.T) (*oauthStack, apiclient.Created, apiclient.Created) {
	st := newOAuthStack(t, oauthSetup{JWT: true, Issuer: "https://auth.example.com"})
	c := st.client(t, apiclient.Spec{ID: "reports", Scopes: []string{"Reports", "Admin"}, TokenFormat: apiclient.FormatJWT})
	rs := st.client(t, apiclient.Spec{ID: "rs", GrantTypes: []string{}, Introspect: true})
	return st, c, rs
}

func TestJWTAccessTokenThroughJWKS(t *testing.T) {
	st, c, _ := jwtStack(t)
	r := st.token(t, "reports", c.PrimaryKey, "Reports")
	if r.Status != http.StatusOK {
		t.Fatalf("token: %d %s", r.Status, r.Body)
	}
	body := r.JSON(t)
	tok, _ := body["access_token"].(string)
	if !strings.HasPrefix(tok, "eyJ") || body["token_type"] != "Bearer" || body["expires_in"] != float64(3600) {
		t.Fatalf("token response %s", r.Body)
	}

	md := servertest.Send(t, "GET", st.URL+server.PathOAuthMetadata, "", nil).JSON(t)
	if md["jwks_uri"] != "https://auth.example.com"+server.PathOAuthJWKS {
		t.Fatalf("metadata jwks_uri %v", md["jwks_uri"])
	}
	jr := servertest.Send(t, "GET", st.URL+server.PathOAuthJWKS, "", nil)
	if jr.Status != http.StatusOK || jr.Header.Get("Content-Type") != "application/jwk-set+json" {
		t.Fatalf("JWKS: %d %s %s", jr.Status, jr.Header.Get("Content-Type"), jr.Body)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(jr.Body), &set); err != nil || len(set.Keys) != 1 || !set.Keys[0].IsPublic() ||
		set.Keys[0].Use != "sig" || set.Keys[0].Algorithm != "ES256" {
		t.Fatalf("JWKS %s: %v", jr.Body, err)
	}
	if strings.Contains(jr.Body, `"d"`) {
		t.Fatal("the JWKS carries a private key")
	}
	parsed, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	var claims jwt.Claims
	if err := parsed.Claims(set.Key(parsed.Headers[0].KeyID)[0].Key, &claims); err != nil {
		t.Fatal(err)
	}
	if err := claims.Validate(jwt.Expected{Issuer: "https://auth.example.com", AnyAudience: []string{"https://auth.example.com"},
		Subject: "reports", Time: st.Clock.Now()}); err != nil {
		t.Fatal(err)
	}

	// The protected route and forward-auth take the JWT like an opaque token, scope checks included.
	if v := st.bearerGet(t, "?scope=Reports", tok); v.Status != http.StatusOK || v.Header.Get(server.HeaderTokenUser) != "reports" {
		t.Fatalf("verify: %d %s", v.Status, v.Body)
	}
	if v := st.bearerGet(t, "?scope=Admin", tok); v.Status != http.StatusForbidden ||
		!strings.Contains(v.Header.Get("WWW-Authenticate"), `error="insufficient_scope"`) {
		t.Fatalf("verify with a scope not granted: %d %v", v.Status, v.Header)
	}
	h := http.Header{"Authorization": {"Bearer " + tok}}
	if f := forward(t, st.URL, "GET", "?kind=oauth", h); f.Status != http.StatusOK || f.Header.Get(server.HeaderTokenScope) != "Reports" {
		t.Fatalf("forward-auth: %d %s", f.Status, f.Body)
	}
}

func TestJWTRevocationAndIntrospection(t *testing.T) {
	st, c, rs := jwtStack(t)
	other := st.client(t, apiclient.Spec{ID: "other"})
	tok := st.mustToken(t, "reports", c.PrimaryKey, "")
	form := "token=" + url.QueryEscape(tok)

	in := st.introspect(t, "rs", rs.PrimaryKey, form).JSON(t)
	if in["active"] != true || in["client_id"] != "reports" || in["scope"] != "Reports Admin" {
		t.Fatalf("introspection of a live JWT: %v", in)
	}
	// Another client sees nothing of it, and cannot revoke it.
	if in := st.introspect(t, "other", other.PrimaryKey, form).JSON(t); len(in) != 1 || in["active"] != false {
		t.Fatalf("introspection by another client: %v", in)
	}
	if r := st.post(t, server.PathOAuthRevoke, form, clientBasic("other", other.PrimaryKey)); r.Status != http.StatusOK {
		t.Fatalf("revoke by another client: %d", r.Status)
	}
	if in := st.introspect(t, "rs", rs.PrimaryKey, form).JSON(t); in["active"] != true {
		t.Fatal("another client revoked the JWT")
	}
	if r := st.post(t, server.PathOAuthRevoke, form, clientBasic("reports", c.PrimaryKey)); r.Status != http.StatusOK {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	if in := st.introspect(t, "rs", rs.PrimaryKey, form).JSON(t); len(in) != 1 || in["active"] != false {
		t.Fatalf("introspection of a revoked JWT: %v", in)
	}
	if v := st.bearerGet(t, "", tok); v.Status != http.StatusUnauthorized ||
		!strings.Contains(v.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Fatalf("a revoked JWT at the protected route: %d", v.Status)
	}

	// Tampered and expired ones are inactive too.
	live := st.mustToken(t, "reports", c.PrimaryKey, "Reports")
	parts := strings.Split(live, ".")
	tampered := parts[0] + "." + parts[1] + "x." + parts[2]
	for name, bad := range map[string]string{"tampered": tampered, "header only": parts[0] + "..",
		"foreign alg none": "eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0." + parts[1] + "."} {
		if in := st.introspect(t, "rs", rs.PrimaryKey, "token="+url.QueryEscape(bad)).JSON(t); in["active"] != false {
			t.Errorf("%s JWT is active", name)
		}
		if v := st.bearerGet(t, "", bad); v.Status != http.StatusUnauthorized {
			t.Errorf("%s JWT at the protected route: %d", name, v.Status)
		}
	}
	st.Clock.Add(time.Hour)
	if in := st.introspect(t, "rs", rs.PrimaryKey, "token="+url.QueryEscape(live)).JSON(t); in["active"] != false {
		t.Fatal("an expired JWT is active")
	}
}

func TestJWKSWithoutSigningKeys(t *testing.T) {
	st := newOAuthStack(t, oauthSetup{})
	if r := servertest.Send(t, "GET", st.URL+server.PathOAuthJWKS, "", nil); r.Status != http.StatusNotFound {
		t.Fatalf("JWKS without JWTs: %d", r.Status)
	}
	if md := servertest.Send(t, "GET", st.URL+server.PathOAuthMetadata, "", nil).JSON(t); md["jwks_uri"] != nil {
		t.Fatalf("metadata names a JWKS that does not exist: %v", md["jwks_uri"])
	}
}
