package server_test

import (
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/tokenmanager/tokenmanager/server"
)

// FuzzWSDLRequest: any request URL and forwarded headers (from a trusted proxy) give either the WSDL, as
// well-formed XML whose soap:address is a parseable http(s) URL, or a plain refusal; never a panic, and never
// markup injected through a header.
func FuzzWSDLRequest(f *testing.F) {
	for _, seed := range [][4]string{
		{"/security/TokenManagerService", "wsdl", "https", "tokens.example.com"},
		{"/security/TokenLogoutService", "WSDL", "", ""},
		{"/security/LicenseService", "wsdl", "http", `evil"><x:inject/>`},
		{"/security/TokenManagerService", "wsdl&x=1", "gopher", "[::1]:8443"},
		{"/security/TokenManagerService", "", "", ""},
	} {
		f.Add(seed[0], seed[1], seed[2], seed[3])
	}
	h := server.New(server.Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}}, server.Deps{})
	f.Fuzz(func(t *testing.T, path, query, proto, host string) {
		u := &url.URL{Path: "/" + strings.TrimLeft(path, "/"), RawQuery: query}
		req, err := http.NewRequest("GET", "http://127.0.0.1"+u.RequestURI(), nil)
		if err != nil {
			return // not a request a client could send
		}
		req.RemoteAddr = "127.0.0.1:5000"
		req.Header.Set("X-Forwarded-Proto", proto)
		req.Header.Set("X-Forwarded-Host", host)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Header().Get("Content-Type"), "xml") {
			return
		}
		dec := xml.NewDecoder(strings.NewReader(rec.Body.String()))
		for {
			tok, err := dec.Token()
			if err != nil {
				if err.Error() == "EOF" {
					return
				}
				t.Fatalf("the WSDL for %q %q %q is not well-formed: %v", u, proto, host, err)
			}
			if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "address" {
				for _, a := range se.Attr {
					if a.Name.Local != "location" {
						continue
					}
					loc, err := url.Parse(a.Value)
					if err != nil || (loc.Scheme != "http" && loc.Scheme != "https") || loc.Host == "" {
						t.Fatalf("soap:address %q from proto %q host %q", a.Value, proto, host)
					}
				}
			}
		}
	})
}
