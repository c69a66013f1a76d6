package server_test

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/license/woo"
	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
)

func gzipped(s string) string {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	io.WriteString(w, s)
	w.Close()
	return b.String()
}

func zlibbed(s string) string {
	var b bytes.Buffer
	w := zlib.NewWriter(&b)
	io.WriteString(w, s)
	w.Close()
	return b.String()
}

func deflated(s string) string {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.DefaultCompression)
	io.WriteString(w, s)
	w.Close()
	return b.String()
}

// rawClient neither asks for nor decodes compressed answers by itself, so the test sees them as sent.
var rawClient = &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: 30 * time.Second}

func rawDo(t *testing.T, method, url, body string, h map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header.Set(k, v)
	}
	resp, err := rawClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// TestCompressedRequests: gzip and deflate (zlib or raw) SOAP bodies are decoded; a compression bomb gets 413
// after --max-body-bytes of output; other codings get 415 with Accept-Encoding, in SOAP where SOAP was sent.
func TestCompressedRequests(t *testing.T) {
	s := newStack(t) // --max-body-bytes 64 KiB
	env := seedRequest(t, "getAccessSessionToken")
	soapH := func(ce string) map[string]string {
		return map[string]string{"Content-Type": "text/xml; charset=utf-8", "SOAPAction": `""`,
			"Authorization": servertest.Basic("simon0897", "s3cret"), "Content-Encoding": ce}
	}
	for ce, body := range map[string]string{"gzip": gzipped(env), "x-gzip": gzipped(env), "deflate": zlibbed(env),
		"Deflate": deflated(env), "identity": env, "gzip, identity": gzipped(env)} {
		resp, b := rawDo(t, "POST", s.URL+tokPath, body, soapH(ce))
		if resp.StatusCode != 200 || !strings.Contains(string(b), "<token>") {
			t.Errorf("Content-Encoding %q: %d %s", ce, resp.StatusCode, b)
		}
	}

	// A bomb: 16 MiB of spaces inside the envelope, about 16 KiB of gzip.
	bomb := gzipped(strings.Replace(env, "<soapenv:Body>", "<soapenv:Body>"+strings.Repeat(" ", 16<<20), 1))
	if len(bomb) > 64<<10 {
		t.Fatalf("the bomb is %d bytes compressed", len(bomb))
	}
	resp, b := rawDo(t, "POST", s.URL+tokPath, bomb, soapH("gzip"))
	if resp.StatusCode != 413 || !strings.Contains(string(b), "request body too large") {
		t.Errorf("gzip bomb on SOAP: %d %s", resp.StatusCode, b)
	}
	// Just under the limit is fine, just over is not: the bound is on the decoded size.
	pad := func(n int) string {
		return strings.Replace(env, "<soapenv:Body>", "<soapenv:Body>"+strings.Repeat(" ", n-len(env)), 1)
	}
	if resp, b := rawDo(t, "POST", s.URL+tokPath, gzipped(pad(64<<10)), soapH("gzip")); resp.StatusCode != 200 {
		t.Errorf("64 KiB decoded: %d %s", resp.StatusCode, b)
	}
	if resp, _ := rawDo(t, "POST", s.URL+tokPath, gzipped(pad(64<<10+1)), soapH("gzip")); resp.StatusCode != 413 {
		t.Errorf("64 KiB + 1 decoded: %d", resp.StatusCode)
	}

	// Malformed compressed bytes are the SOAP client's fault, as malformed XML is.
	resp, b = rawDo(t, "POST", s.URL+tokPath, env, soapH("gzip"))
	if resp.StatusCode != 500 || !strings.Contains(string(b), "<faultcode>soap:Client</faultcode>") {
		t.Errorf("plain XML sent as gzip: %d %s", resp.StatusCode, b)
	}

	// Other codings: 415 naming the accepted ones.
	for _, c := range []struct{ ce, ct, want string }{
		{"br", "text/xml; charset=utf-8", "<faultcode>soap:Client</faultcode>"},
		{"zstd", "application/soap+xml; charset=utf-8", "<soap:Value>soap:Sender</soap:Value>"},
		{"gzip, gzip", "text/xml", "<faultcode>soap:Client</faultcode>"},
		{"compress", "application/json", "unsupported Content-Encoding"},
	} {
		h := soapH(c.ce)
		h["Content-Type"] = c.ct
		resp, b := rawDo(t, "POST", s.URL+tokPath, env, h)
		if resp.StatusCode != 415 || resp.Header.Get("Accept-Encoding") != "gzip, deflate" ||
			!strings.Contains(string(b), c.want) || !strings.Contains(string(b), "accepted: gzip, deflate, identity") {
			t.Errorf("Content-Encoding %q: %d Accept-Encoding %q %s", c.ce, resp.StatusCode, resp.Header.Get("Accept-Encoding"), b)
		}
	}
}

// TestCompressedJSONBody: the WooCommerce wire reads a gzipped form; a bomb there gets WordPress's 413.
func TestCompressedJSONBody(t *testing.T) {
	w := servertest.NewWooStack(t, woo.StoreSpec{})
	resp, b := rawDo(t, "POST", w.URL+servertest.WooBase+"activate", gzipped("store_code=x&sku=y"),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Content-Encoding": "gzip"})
	if resp.StatusCode != 400 || !strings.Contains(string(b), `"params":["license_key"]`) {
		t.Errorf("gzipped form: %d %s (want the missing license_key only)", resp.StatusCode, b)
	}
	resp, b = rawDo(t, "POST", w.URL+servertest.WooBase+"activate", gzipped("store_code="+strings.Repeat("a", 8<<20)),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Content-Encoding": "gzip"})
	if resp.StatusCode != 413 || !strings.Contains(string(b), "rest_request_too_large") {
		t.Errorf("gzipped bomb: %d %s", resp.StatusCode, b)
	}
}

// TestCompressedBodyBudget: the body budget counts decoded bytes, so a small compressed body that decodes to a
// large one cannot get past it.
func TestCompressedBodyBudget(t *testing.T) {
	s := newStack(t, func(su *servertest.Setup) { su.Server.MaxBodyMemory = 1 })
	holdBody(t, s.URL, 64<<10, 20<<10)
	time.Sleep(50 * time.Millisecond) // let the server take the held body's share
	big := gzipped("<x>" + strings.Repeat("A", 40<<10) + "</x>")
	resp, _ := rawDo(t, "POST", s.URL+tokPath, big, map[string]string{"Content-Type": "text/xml", "Content-Encoding": "gzip"})
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("%d compressed bytes of 40 KiB decoded beyond the budget: %d, want 503", len(big), resp.StatusCode)
	}
	if r := s.SOAPCall(t, tokPath, seedRequest(t, "getAccessToken")); r.Status != 200 {
		t.Fatalf("a token request while the budget is exhausted: %d", r.Status)
	}
}

// TestGzipAnswers: SOAP, XML and JSON answers of 1 KiB or more are gzipped when asked for; small ones, and
// answers to clients that did not ask, are not.
func TestGzipAnswers(t *testing.T) {
	w := servertest.NewWooStack(t, woo.StoreSpec{})
	gz := map[string]string{"Accept-Encoding": "gzip"}
	for _, path := range []string{"/security/TokenManagerService?wsdl", "/security/rest?_wadl", "/wp-json/woo-license-keys/v1"} {
		resp, b := rawDo(t, "GET", w.URL+path, "", gz)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") {
			t.Errorf("GET %s: %d Content-Encoding %q Vary %q", path, resp.StatusCode, resp.Header.Get("Content-Encoding"), resp.Header.Get("Vary"))
			continue
		}
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		plain, err := io.ReadAll(zr)
		_, want := rawDo(t, "GET", w.URL+path, "", nil)
		if err != nil || !bytes.Equal(plain, want) || len(b) >= len(want) {
			t.Errorf("GET %s: gzip of %d bytes decodes to %d (%v), uncompressed answer %d bytes", path, len(b), len(plain), err, len(want))
		}
	}
	// Not asked, or refused: as is.
	for _, ae := range []string{"", "identity", "gzip;q=0", "br"} {
		resp, _ := rawDo(t, "GET", w.URL+"/security/TokenManagerService?wsdl", "", map[string]string{"Accept-Encoding": ae})
		if resp.Header.Get("Content-Encoding") != "" {
			t.Errorf("Accept-Encoding %q: Content-Encoding %q", ae, resp.Header.Get("Content-Encoding"))
		}
	}
	// Small answers (a token, a SOAP response, plain text) are sent as they are.
	r, _ := rawDo(t, "GET", w.URL+"/security/rest/token/access/60", "", map[string]string{"Accept-Encoding": "gzip", "Authorization": servertest.Basic("simon0897", "s3cret")})
	resp, b := rawDo(t, "POST", w.URL+tokPath, seedRequest(t, "getAccessToken"), map[string]string{"Accept-Encoding": "gzip",
		"Content-Type": "text/xml", "Authorization": servertest.Basic("simon0897", "s3cret")})
	h, _ := rawDo(t, "GET", w.URL+"/healthz", "", gz)
	for what, rr := range map[string]*http.Response{"REST token": r, "SOAP token": resp, "healthz": h} {
		if rr.StatusCode != 200 || rr.Header.Get("Content-Encoding") != "" {
			t.Errorf("%s: %d Content-Encoding %q", what, rr.StatusCode, rr.Header.Get("Content-Encoding"))
		}
	}
	if !strings.Contains(string(b), "<token>") {
		t.Errorf("SOAP token answer: %s", b)
	}
}
