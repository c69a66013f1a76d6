package e2e

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// getWith sends GET url with the headers h and reads at most 1 MiB of the answer.
func getWith(t *testing.T, method, url string, h map[string]string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header.Set(k, v)
	}
	res, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	return response{Status: res.StatusCode, Header: res.Header, Body: body}
}

// A listed origin may call the token API from its pages, but must not read the consent pages, whose forms
// carry the CSRF token.
func TestCORSOnlyOnTheTokenAPI(t *testing.T) {
	const origin = "https://app.example.com"
	srv := startServer(t, "--cors-origins", origin)
	for _, path := range []string{"/User/AuthorizedApps/", "/User/AuthorizeApp/"} {
		for _, method := range []string{"GET", "OPTIONS"} {
			r := getWith(t, method, srv.URL+path, map[string]string{"Origin": origin, "Access-Control-Request-Method": "POST"})
			for k := range r.Header {
				if strings.HasPrefix(k, "Access-Control-") {
					t.Errorf("%s %s from a listed origin: %s: %s", method, path, k, r.Header.Get(k))
				}
			}
		}
	}
	for _, path := range []string{"/security/rest/token/verify", "/security/rest/token/access/session/0"} {
		r := getWith(t, "GET", srv.URL+path, map[string]string{"Origin": origin})
		if r.Header.Get("Access-Control-Allow-Origin") != origin || r.Header.Get("Access-Control-Allow-Credentials") != "true" {
			t.Errorf("GET %s from a listed origin: no CORS answer: %v", path, r.Header)
		}
	}
}

var metricsAddrLog = regexp.MustCompile(`"msg":"serving metrics","addr":"([^"]+)"`)

// --metrics-addr moves /metrics to a loopback listener of its own, and refuses any other address.
func TestMetricsAddr(t *testing.T) {
	srv := startServer(t, "--metrics-addr", "127.0.0.1:0")
	var addr string
	eventually(t, "the metrics listener is logged", func() error {
		m := metricsAddrLog.FindStringSubmatch(srv.out.String())
		if m == nil {
			return fmt.Errorf("no \"serving metrics\" line in the log")
		}
		addr = m[1]
		return nil
	})
	if addr == "" {
		t.FailNow()
	}
	if r := getWith(t, "GET", "http://"+addr+"/metrics", nil); r.Status != 200 || !strings.Contains(string(r.Body), "tokenmanager_live_tokens") {
		t.Errorf("metrics listener: %d %.200q", r.Status, r.Body)
	}
	if r := getWith(t, "GET", srv.URL+"/metrics", nil); r.Status != http.StatusNotFound {
		t.Errorf("/metrics on the service's listener with --metrics-addr: %d, want 404", r.Status)
	}

	plain := startServer(t)
	if r := getWith(t, "GET", plain.URL+"/metrics", nil); r.Status != 200 {
		t.Errorf("/metrics on the service's listener without --metrics-addr: %d", r.Status)
	}

	for _, bad := range []string{"0.0.0.0:0", "[::]:0", ":0"} {
		out, err := (&tmServer{DataDir: t.TempDir()}).cli(t, "", "serve", "--listen", "127.0.0.1:0", "--metrics-addr", bad)
		if err == nil || !strings.Contains(err.Error(), "--metrics-addr") || !strings.Contains(err.Error(), "loopback") {
			t.Errorf("serve --metrics-addr %s: %v %s, want a refusal", bad, err, out)
		}
	}
}
