package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/tokenmanager/tokenmanager/server"
	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
)

const appOrigin = "https://app.example.com"

func withCORS(origins ...string) servertest.Option {
	return func(su *servertest.Setup) { su.Server.CORSOrigins = origins }
}

func TestCORSPreflightForSOAPAndREST(t *testing.T) {
	s := newStack(t, withCORS(appOrigin, "http://127.0.0.1:5173"))
	cases := []struct{ path, method, headers string }{
		{tokPath, "POST", "authorization,content-type,soapaction"}, // text/xml SOAP with Basic; browsers sort the list
		{logoutPath, "POST", "authorization,content-type,soapaction"},
		{"/security/rest/token/access/session/0", "GET", "authorization"},
		{server.PathVerify, "GET", "authorization"},
	}
	for _, c := range cases {
		resp := servertest.Do(t, "OPTIONS", s.URL+c.path, "", map[string]string{
			"Origin": appOrigin, "Access-Control-Request-Method": c.method, "Access-Control-Request-Headers": c.headers})
		h := resp.Header
		if resp.Status/100 != 2 || h.Get("Access-Control-Allow-Origin") != appOrigin || h.Get("Access-Control-Allow-Credentials") != "true" {
			t.Errorf("preflight %s %s: %d %v", c.method, c.path, resp.Status, h)
			continue
		}
		if !strings.Contains(h.Get("Access-Control-Allow-Methods"), c.method) {
			t.Errorf("preflight %s: Allow-Methods %q", c.path, h.Get("Access-Control-Allow-Methods"))
		}
		allowed := strings.ToLower(h.Get("Access-Control-Allow-Headers"))
		for _, want := range strings.Split(c.headers, ",") {
			if !strings.Contains(allowed, want) {
				t.Errorf("preflight %s: Allow-Headers %q lacks %s", c.path, allowed, want)
			}
		}
		if !strings.Contains(strings.Join(h.Values("Vary"), ","), "Origin") {
			t.Errorf("preflight %s: no Vary: Origin", c.path)
		}
	}
}

func TestCORSActualRequestEchoesTheOrigin(t *testing.T) {
	s := newStack(t, withCORS(appOrigin))
	resp := servertest.Do(t, "GET", s.URL+"/security/rest/token/access/session/0", "", map[string]string{
		"Origin": appOrigin, "Authorization": servertest.Basic("simon0897", "s3cret")})
	h := resp.Header
	if resp.Status != 200 || h.Get("Access-Control-Allow-Origin") != appOrigin || h.Get("Access-Control-Allow-Credentials") != "true" {
		t.Fatalf("credentialed GET from %s: %d %v", appOrigin, resp.Status, h)
	}
	if h.Get("Access-Control-Allow-Origin") == "*" {
		t.Fatal("wildcard origin with credentials")
	}
	if !strings.Contains(strings.Join(h.Values("Vary"), ","), "Origin") {
		t.Errorf("no Vary: Origin: %v", h)
	}
	exposed := strings.ToLower(h.Get("Access-Control-Expose-Headers"))
	for _, want := range []string{"x-token-user", "x-token-kind"} {
		if !strings.Contains(exposed, want) {
			t.Errorf("Expose-Headers %q lacks %s", exposed, want)
		}
	}
}

func TestCORSOriginNotListedGetsNoHeaders(t *testing.T) {
	s := newStack(t, withCORS(appOrigin))
	for _, origin := range []string{"https://evil.example.com", "https://app.example.com.evil.example", "http://app.example.com", "null"} {
		pre := servertest.Do(t, "OPTIONS", s.URL+tokPath, "", map[string]string{
			"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type,soapaction"})
		get := servertest.Do(t, "GET", s.URL+"/security/rest/token/access/session/0", "", map[string]string{"Origin": origin, "Authorization": servertest.Basic("simon0897", "s3cret")})
		for name, r := range map[string]servertest.Response{"preflight": pre, "request": get} {
			for k := range r.Header {
				if strings.HasPrefix(k, "Access-Control-") {
					t.Errorf("%s from %s: %s: %s", name, origin, k, r.Header.Get(k))
				}
			}
		}
	}
}

func TestNoCORSWithoutOrigins(t *testing.T) {
	s := newStack(t)
	resp := servertest.Do(t, "OPTIONS", s.URL+tokPath, "", map[string]string{"Origin": appOrigin, "Access-Control-Request-Method": "POST"})
	if resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("CORS headers without a configured origin: %v", resp.Header)
	}
}

func TestParseOrigins(t *testing.T) {
	got, err := server.ParseOrigins(" https://a.example.com/, http://127.0.0.1:8000 ,")
	if err != nil || strings.Join(got, " ") != "https://a.example.com http://127.0.0.1:8000" {
		t.Fatalf("ParseOrigins = %v, %v", got, err)
	}
	for _, bad := range []string{"*", "https://*.example.com", "example.com", "ftp://a.example.com", "https://a.example.com/app", "https://user@a.example.com", "https://a.example.com?x=1"} {
		if _, err := server.ParseOrigins(bad); err == nil {
			t.Errorf("ParseOrigins(%q) accepted", bad)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("server.New accepted a wildcard origin")
		}
	}()
	server.New(server.Config{CORSOrigins: []string{"*"}}, server.Deps{})
}

// The consent pages carry a CSRF token in their forms: a listed origin may call the token API, but must never be
// allowed to read a page, with or without a preflight.
func TestCORSNeverOnPages(t *testing.T) {
	s := servertest.NewAppStack(t, withCORS(appOrigin))
	for _, path := range []string{"/User/AuthorizedApps/", "/User/AuthorizedApps", "/User/AuthorizeApp/", "/User/AuthorizeApp/?AppName=x"} {
		get := servertest.Do(t, "GET", s.URL+path, "", map[string]string{"Origin": appOrigin, "Cookie": "SESSION=x"})
		post := servertest.Do(t, "POST", s.URL+path, "action=x", map[string]string{"Origin": appOrigin, "Content-Type": "application/x-www-form-urlencoded"})
		pre := servertest.Do(t, "OPTIONS", s.URL+path, "", map[string]string{"Origin": appOrigin, "Access-Control-Request-Method": "POST"})
		for name, r := range map[string]servertest.Response{"GET": get, "POST": post, "preflight": pre} {
			for k := range r.Header {
				if strings.HasPrefix(k, "Access-Control-") {
					t.Errorf("%s %s from a listed origin: %s: %s", name, path, k, r.Header.Get(k))
				}
			}
		}
		if get.Status == http.StatusNotFound || get.Status == http.StatusMethodNotAllowed {
			t.Errorf("GET %s: %d, want the page's handler (the test must reach it)", path, get.Status)
		}
	}
	// The API keeps its CORS answers on the same server.
	resp := servertest.Do(t, "GET", s.URL+server.PathVerify, "", map[string]string{"Origin": appOrigin})
	if resp.Header.Get("Access-Control-Allow-Origin") != appOrigin || resp.Header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Errorf("check endpoint lost CORS: %v", resp.Header)
	}
}
