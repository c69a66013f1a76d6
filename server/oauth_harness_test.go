package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tokenmanager/tokenmanager/apiclient"
	"github.com/tokenmanager/tokenmanager/keys"
	"github.com/tokenmanager/tokenmanager/server"
	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
)

// oauthStack is a stack with the OAuth surface wired in.
type oauthStack struct {
	*stack
	Clients *apiclient.Service
}

type oauthSetup struct {
	Limits apiclient.Config
	Issuer string
	// JWT gives the service signing keys (sealed with a fixed test server key), so that clients can get JWTs.
	JWT bool
}

// newOAuthStack builds a stack whose Deps carry an apiclient.Service over the stack's store and clock.
func newOAuthStack(t *testing.T, o oauthSetup, opts ...servertest.Option) *oauthStack {
	t.Helper()
	var svc *apiclient.Service
	opts = append(opts, func(su *servertest.Setup) {
		su.Wire = append(su.Wire, func(st *servertest.Stack, d *server.Deps) {
			cfg := o.Limits
			if o.JWT {
				cfg.Signing = apiclient.NewSigningKeys(st.Store, keys.NewSealerFor(make([]byte, 32), keys.PurposeOAuthSigningKeys), st.Clock.Now)
			}
			svc = apiclient.New(st.Store, cfg, st.Clock.Now)
			if err := svc.EnsureSigningKey(context.Background()); err != nil {
				t.Fatal(err)
			}
			d.OAuth = server.OAuthDeps{Clients: svc, Issuer: o.Issuer}
		})
	})
	st := newStack(t, opts...)
	return &oauthStack{stack: st, Clients: svc}
}

func (o *oauthStack) client(t *testing.T, spec apiclient.Spec) apiclient.Created {
	t.Helper()
	c, err := o.Clients.Create(context.Background(), spec)
	if err != nil {
		t.Fatalf("create client %+v: %v", spec, err)
	}
	return c
}

const formType = "application/x-www-form-urlencoded"

// post sends a form to path with the given Authorization ("" for none) and extra headers.
func (o *oauthStack) post(t *testing.T, path, form, authz string, extra ...string) servertest.Response {
	t.Helper()
	h := http.Header{"Content-Type": {formType}}
	if authz != "" {
		h.Set("Authorization", authz)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		h.Add(extra[i], extra[i+1])
	}
	return servertest.Send(t, "POST", o.URL+path, form, h)
}

// token asks /auth/token for a client_credentials token with Basic credentials (RFC 6749 encoding).
func (o *oauthStack) token(t *testing.T, id, key, scope string, extra ...string) servertest.Response {
	t.Helper()
	form := "grant_type=client_credentials"
	if scope != "" {
		form += "&scope=" + url.QueryEscape(scope)
	}
	return o.post(t, server.PathSkyKickToken, form, clientBasic(id, key), extra...)
}

// mustToken returns an access token or fails.
func (o *oauthStack) mustToken(t *testing.T, id, key, scope string, extra ...string) string {
	t.Helper()
	r := o.token(t, id, key, scope, extra...)
	if r.Status != http.StatusOK {
		t.Fatalf("token for %s: %d %s", id, r.Status, r.Body)
	}
	tok, _ := r.JSON(t)["access_token"].(string)
	if tok == "" {
		t.Fatalf("no access_token in %s", r.Body)
	}
	return tok
}

// clientBasic is RFC 6749 §2.3.1: form-urlencode id and secret, then Basic.
func clientBasic(id, secret string) string {
	return servertest.Basic(url.QueryEscape(id), url.QueryEscape(secret))
}

// bearerGet calls the protected check route with a bearer token and extra headers.
func (o *oauthStack) bearerGet(t *testing.T, query, tok string, extra ...string) servertest.Response {
	t.Helper()
	h := http.Header{}
	if tok != "" {
		h.Set("Authorization", "Bearer "+tok)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		h.Add(extra[i], extra[i+1])
	}
	return servertest.Send(t, "GET", o.URL+server.PathOAuthVerify+query, "", h)
}

// introspect posts to the introspection endpoint as the given client.
func (o *oauthStack) introspect(t *testing.T, id, key, form string) servertest.Response {
	t.Helper()
	return o.post(t, server.PathOAuthIntrospect, form, clientBasic(id, key))
}

// oauthErr asserts an RFC 6749 §5.2 error: status, error code, JSON content type, no-store and no-cache, and
// that error/error_description stay within %x20-21 / %x23-5B / %x5D-7E.
func oauthErr(t *testing.T, what string, r servertest.Response, status int, code string) map[string]any {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: status %d, want %d; body %s", what, r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: Content-Type %q, want application/json", what, ct)
	}
	if r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("Pragma") != "no-cache" {
		t.Errorf("%s: Cache-Control %q, Pragma %q; want no-store, no-cache", what, r.Header.Get("Cache-Control"), r.Header.Get("Pragma"))
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(r.Body), &m); err != nil {
		t.Fatalf("%s: body %q is not JSON", what, r.Body)
	}
	if m["error"] != code {
		t.Fatalf("%s: error %v, want %q; body %s", what, m["error"], code, r.Body)
	}
	for _, k := range []string{"error", "error_description"} {
		if v, ok := m[k]; ok {
			s, isString := v.(string)
			if !isString || !errorCharsOK(s) {
				t.Errorf("%s: %s %q has characters outside RFC 6749 §5.2's set", what, k, v)
			}
		}
	}
	return m
}

func errorCharsOK(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
