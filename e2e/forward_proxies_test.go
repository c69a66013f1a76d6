package e2e

// The Traefik and Envoy forward-auth recipes (deploy/traefik, deploy/envoy). Neither proxy is packaged by Debian
// or npm, so they do not run here: the test reads each file (YAML, through Debian's python3-yaml), checks what
// the recipe relies on, and sends the built tokenmanager the authorization requests each proxy makes from that
// configuration (as their documentation describes them), with every kind of credential.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// loadYAML returns a YAML file of the repository as generic JSON values.
func loadYAML(t *testing.T, rel string) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	if err := exec.CommandContext(ctx, systemPython, "-c", "import yaml").Run(); err != nil {
		skipOrFatal(t, "PyYAML is not importable by %s; install it with: apt-get install -y python3-yaml", systemPython)
	}
	out, err := exec.CommandContext(ctx, systemPython, "-c",
		"import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)", filepath.Join(repoRoot, rel)).Output()
	if err != nil {
		t.Fatalf("%s is not valid YAML: %v", rel, err)
	}
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// dig follows keys (strings) and indexes (ints) into generic JSON.
func dig(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("no %q at %v", k, path)
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				t.Fatalf("no [%d] at %v", k, path)
			}
			v = l[k]
		}
	}
	return v
}

func strs(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// credentials are one request's worth of each kind, as a client sends them; PowerAuth headers are made per use.
type proxyCredentials struct {
	jwt, opaque, sessionToken, session string
	paHeader                           func() string
}

func proxyFixture(t *testing.T, s *tmServer) proxyCredentials {
	t.Helper()
	reports := s.addClient(t, "", "reports", "--scope", "Reports", "--token-format", "jwt")
	legacy := s.addClient(t, "", "legacy", "--scope", "Reports")
	sess := s.mustRESTToken(t, adminUser, s.AdminPassword, true, 0)
	const user, pass = "mobile", "mobile-password"
	s.mustCLI(t, pass+"\n", "user", "add", user, "--password-stdin")
	activation := strings.TrimSpace(s.mustCLI(t, "", "powerauth", "activation", "create", user))
	pr := paPost(t, s.URL+"/pa/v3/token/create", user, pass, `{"activationId":"`+activation+`"}`)
	var pat struct{ TokenID, TokenSecret string }
	if pr.Status != 200 || json.Unmarshal(pr.Body, &pat) != nil {
		t.Fatalf("PowerAuth token: %s", pr)
	}
	secret, _ := base64.StdEncoding.DecodeString(pat.TokenSecret)
	return proxyCredentials{
		jwt: s.mustOAuthToken(t, reports.ID, reports.Primary, "Reports", nil), opaque: s.mustOAuthToken(t, legacy.ID, legacy.Primary, "Reports", nil),
		sessionToken: sess.AccessToken, session: sess.Session,
		paHeader: func() string { return paClientHeader(pat.TokenID, secret, "3.1") },
	}
}

// clientRequests are the end users' requests the proxies see: each credential kind, and none.
func (c proxyCredentials) clientRequests() map[string]http.Header {
	reqs := map[string]http.Header{
		"jwt":       {"Authorization": {"Bearer " + c.jwt}, "X-Token-User": {"forged-by-client"}},
		"opaque":    {"Authorization": {"Bearer " + c.opaque}},
		"session":   {"Authorization": {"Bearer " + c.sessionToken}, "Cookie": {"SESSION=" + c.session + "; theme=dark"}},
		"powerauth": {"X-PowerAuth-Token": {c.paHeader()}},
		"none":      {"Accept": {"application/json"}},
	}
	for kind, h := range reqs { // canonical names, as a server reads them
		canon := http.Header{}
		for k, v := range h {
			canon[http.CanonicalHeaderKey(k)] = v
		}
		reqs[kind] = canon
	}
	return reqs
}

var proxyWant = map[string]struct {
	status     int
	user, kind string
}{
	"jwt": {200, "reports", "oauth"}, "opaque": {200, "legacy", "oauth"}, "session": {200, adminUser, "session"},
	"powerauth": {200, "mobile", "powerauth"}, "none": {401, "", ""},
}

func TestTraefikForwardAuthRecipe(t *testing.T) {
	t.Parallel()
	needServer(t)
	static := loadYAML(t, "deploy/traefik/traefik.yml")
	dyn := loadYAML(t, "deploy/traefik/dynamic.yml")
	if dig(t, static, "providers", "file", "filename") != "dynamic.yml" {
		t.Fatal("traefik.yml does not load dynamic.yml")
	}
	mw := dig(t, dyn, "http", "middlewares").(map[string]any)
	for _, r := range []string{"app", "reports"} {
		chain := strs(dig(t, dyn, "http", "routers", r, "middlewares"))
		if len(chain) != 2 || chain[0] != "tokenmanager-strip" || mw[chain[1]] == nil {
			t.Fatalf("router %s: middlewares %v; want the strip middleware first, then a forwardAuth", r, chain)
		}
	}
	strip := dig(t, mw, "tokenmanager-strip", "headers", "customRequestHeaders").(map[string]any)
	for _, h := range []string{"X-Token-User", "X-Token-Kind", "X-Token-Scope"} {
		if v, ok := strip[h]; !ok || v != "" {
			t.Fatalf("the strip middleware does not remove %s", h)
		}
	}

	s := startServer(t)
	creds := proxyFixture(t, s)
	for _, name := range []string{"tokenmanager-auth", "tokenmanager-reports"} {
		fa := dig(t, mw, name, "forwardAuth").(map[string]any)
		if fa["trustForwardHeader"] != false {
			t.Fatalf("%s: trustForwardHeader must be false (clients could claim any address)", name)
		}
		respHeaders := strs(fa["authResponseHeaders"])
		if !slices.Equal(respHeaders, []string{"X-Token-User", "X-Token-Kind", "X-Token-Scope"}) {
			t.Fatalf("%s: authResponseHeaders %v", name, respHeaders)
		}
		addr, err := url.Parse(fa["address"].(string))
		if err != nil || addr.Path != "/auth/forward" || addr.Host != "127.0.0.1:8080" {
			t.Fatalf("%s: address %v", name, fa["address"])
		}
		allowed := strs(fa["authRequestHeaders"])
		for kind, client := range creds.clientRequests() {
			// Traefik's forward request: GET to the address, only authRequestHeaders copied, X-Forwarded-* added.
			h := http.Header{"X-Forwarded-Method": {"GET"}, "X-Forwarded-Uri": {"/reports/2026"}, "X-Forwarded-Proto": {"http"}}
			for _, a := range allowed {
				if v := client.Values(a); len(v) > 0 {
					h[http.CanonicalHeaderKey(a)] = v
				}
			}
			r := do(t, "GET", s.URL+addr.RequestURI(), "", h)
			want := proxyWant[kind]
			if name == "tokenmanager-reports" && want.status == 200 && want.kind != "oauth" {
				want.status = 403 // only OAuth access tokens with the scope Reports pass there
			}
			if r.Status != want.status {
				t.Errorf("%s, %s credential: %s", name, kind, r)
				continue
			}
			if want.status == 401 && !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer ") {
				t.Errorf("%s, %s: no challenge for Traefik to pass on: %s", name, kind, r)
			}
			if want.status == 200 {
				for _, rh := range respHeaders {
					if _, ok := r.Header[rh]; !ok {
						t.Errorf("%s, %s: %s missing from the answer: Traefik would leave the client's own", name, kind, rh)
					}
				}
				if r.Header.Get("X-Token-User") != want.user || r.Header.Get("X-Token-Kind") != want.kind {
					t.Errorf("%s, %s: %v", name, kind, r.Header)
				}
			}
		}
	}
}

func TestEnvoyExtAuthzRecipe(t *testing.T) {
	t.Parallel()
	needServer(t)
	cfg := loadYAML(t, "deploy/envoy/envoy.yaml")
	hcm := dig(t, cfg, "static_resources", "listeners", 0, "filter_chains", 0, "filters", 0, "typed_config")
	if dig(t, hcm, "use_remote_address") != true {
		t.Fatal("use_remote_address must be on: the client's address reaches tokenmanager in X-Forwarded-For")
	}
	filters := dig(t, hcm, "http_filters").([]any)
	if dig(t, filters, 0, "name") != "envoy.filters.http.ext_authz" || dig(t, filters, len(filters)-1, "name") != "envoy.filters.http.router" {
		t.Fatal("ext_authz must come first and the router last")
	}
	ea := dig(t, filters, 0, "typed_config")
	if dig(t, ea, "failure_mode_allow") != false {
		t.Fatal("failure_mode_allow must be false: tokenmanager unreachable must not let requests through")
	}
	patterns := func(v any) []string {
		var out []string
		for _, p := range v.([]any) {
			out = append(out, p.(map[string]any)["exact"].(string))
		}
		return out
	}
	allowed := append(patterns(dig(t, ea, "allowed_headers", "patterns")), "authorization", "host", "content-length")
	upstream := patterns(dig(t, ea, "http_service", "authorization_response", "allowed_upstream_headers", "patterns"))
	clientHeaders := patterns(dig(t, ea, "http_service", "authorization_response", "allowed_client_headers", "patterns"))
	if !slices.Equal(upstream, []string{"x-token-user", "x-token-kind", "x-token-scope"}) || !slices.Contains(clientHeaders, "www-authenticate") {
		t.Fatalf("authorization_response: upstream %v, client %v", upstream, clientHeaders)
	}
	prefix := dig(t, ea, "http_service", "path_prefix").(string)
	if dig(t, ea, "http_service", "server_uri", "cluster") != "tokenmanager" {
		t.Fatal("server_uri.cluster is not the tokenmanager cluster")
	}

	s := startServer(t)
	creds := proxyFixture(t, s)
	for kind, client := range creds.clientRequests() {
		for _, method := range []string{"GET", "POST"} {
			// Envoy's authorization request: the original method and path under path_prefix, no body, only
			// the allowed headers, and X-Forwarded-For as use_remote_address set it.
			h := http.Header{"X-Forwarded-For": {"127.0.0.1"}}
			for _, a := range allowed {
				if v := client.Values(a); len(v) > 0 {
					h[http.CanonicalHeaderKey(a)] = v
				}
			}
			if kind == "powerauth" {
				h.Set("X-PowerAuth-Token", creds.paHeader()) // a fresh nonce for each request, as a client sends
			}
			r := do(t, method, s.URL+prefix+"/reports/2026?page=2", "", h)
			want := proxyWant[kind]
			if r.Status != want.status {
				t.Errorf("%s %s credential: %s", method, kind, r)
				continue
			}
			if want.status == 401 && r.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s: no challenge for Envoy to pass on", kind)
			}
			if want.status == 200 {
				for _, uh := range upstream {
					if _, ok := r.Header[http.CanonicalHeaderKey(uh)]; !ok {
						t.Errorf("%s: %s missing from the answer: Envoy would leave the client's own", kind, uh)
					}
				}
				if r.Header.Get("X-Token-User") != want.user || r.Header.Get("X-Token-Kind") != want.kind {
					t.Errorf("%s: %v", kind, r.Header)
				}
			}
		}
	}
}
