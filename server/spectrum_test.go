package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/tokenmanager/tokenmanager/server"
	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
	"github.com/tokenmanager/tokenmanager/storage"
)

const (
	tokPath    = "/security/TokenManagerService"
	logoutPath = "/security/TokenLogoutService"
)

// shape lists an XML document's elements in document order as prefix:local{namespace}, ignoring text.
func shape(t *testing.T, doc string) []string {
	t.Helper()
	d := etree.NewDocument()
	if err := d.ReadFromString(doc); err != nil {
		t.Fatalf("parse %q: %v", doc, err)
	}
	var out []string
	var walk func(e *etree.Element)
	walk = func(e *etree.Element) {
		out = append(out, fmt.Sprintf("%s:%s{%s}", e.Space, e.Tag, e.NamespaceURI()))
		for _, c := range e.ChildElements() {
			walk(c)
		}
	}
	walk(d.Root())
	return out
}

func TestSeedSamplesVerbatim(t *testing.T) {
	s := newStack(t)
	for _, op := range []string{"getAccessExpiringToken", "getAccessSessionToken", "getAccessToken"} {
		t.Run(op, func(t *testing.T) {
			req, err := os.ReadFile(filepath.Join("..", "testdata", "spectrum", op+".request.xml"))
			if err != nil {
				t.Fatal(err)
			}
			sample, _ := os.ReadFile(filepath.Join("..", "testdata", "spectrum", op+".response.xml"))
			resp := s.SOAPCall(t, tokPath, string(req))
			if resp.Status != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/xml") {
				t.Fatalf("status %d, content type %q, body %s", resp.Status, resp.Header.Get("Content-Type"), resp.Body)
			}
			got, want := shape(t, resp.Body), shape(t, string(sample))
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("response elements\n%s\nwant (the documentation's sample)\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			d := etree.NewDocument()
			d.ReadFromString(resp.Body)
			tok := d.FindElement("//token").Text()
			if !strings.HasPrefix(tok, "eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0..") {
				t.Fatalf("token %q does not start with Spectrum's header segment", tok)
			}
			if u := d.FindElement("//username").Text(); u != "simon0897" {
				t.Fatalf("username %q", u)
			}
			sess := ""
			if e := d.FindElement("//session"); e != nil {
				sess = e.Text()
				if !strings.Contains(resp.Header.Get("Set-Cookie"), "SESSION="+sess) {
					t.Fatalf("Set-Cookie %q does not carry the session %q", resp.Header.Get("Set-Cookie"), sess)
				}
			}
			if v := s.Verify(t, tok, sess); v.Status != 200 || v.Header.Get(server.HeaderTokenUser) != "simon0897" {
				t.Fatalf("verify: %d %s", v.Status, v.Body)
			}
		})
	}
}

func TestRequestVariantsAccepted(t *testing.T) {
	s := newStack(t)
	const pb = "http://token.security.common.server.platform.spectrum.pb.com/"
	const precisely = "http://token.security.common.server.platform.spectrum.precisely.com/"
	cases := []struct {
		name, contentType, action, body, wantNS string
	}{
		{"no header, no SOAPAction, odd prefixes", "text/xml", "",
			`<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body><x:getAccessToken xmlns:x="` + pb + `"/></S:Body></S:Envelope>`, pb},
		{"default namespace, qualified child (gowsdl style), quoted action", `text/xml; charset="utf-8"`, `''`,
			`<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><getAccessExpiringToken xmlns="` + pb + `"><tokenLifeInMinutes>5</tokenLifeInMinutes></getAccessExpiringToken></soap:Body></soap:Envelope>`, pb},
		{"precisely namespace, qualified prefixed child, whitespace", "text/xml", `"urn:anything"`,
			"\n  <e:Envelope xmlns:e=\"http://schemas.xmlsoap.org/soap/envelope/\">\n <e:Header></e:Header>\n <e:Body>\n  <p:getAccessExpiringToken xmlns:p=\"" + precisely + "\">\n   <p:tokenLifeInMinutes> 60 </p:tokenLifeInMinutes>\n  </p:getAccessExpiringToken>\n </e:Body>\n</e:Envelope>\n", precisely},
		{"suds style: two prefixes for the envelope namespace", "text/xml", `"getAccessSessionToken"`,
			`<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ns1="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ns0="` + pb + `"><SOAP-ENV:Header/><ns1:Body><ns0:getAccessSessionToken/></ns1:Body></SOAP-ENV:Envelope>`, pb},
		{"SOAP 1.2", `application/soap+xml; charset=utf-8; action=""`, "",
			`<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body><t:getAccessToken xmlns:t="` + pb + `"/></env:Body></env:Envelope>`, pb},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := map[string]string{"Content-Type": c.contentType, "Authorization": servertest.Basic("simon0897", "s3cret")}
			if c.action != "" {
				h["SOAPAction"] = c.action
			}
			resp := servertest.Do(t, "POST", s.URL+tokPath, c.body, h)
			if resp.Status != 200 {
				t.Fatalf("status %d: %s", resp.Status, resp.Body)
			}
			d := etree.NewDocument()
			if err := d.ReadFromString(resp.Body); err != nil {
				t.Fatal(err)
			}
			wrapper := d.FindElement("/Envelope/Body/*")
			if wrapper.NamespaceURI() != c.wantNS || wrapper.Space != "ns2" || !strings.HasSuffix(wrapper.Tag, "Response") {
				t.Fatalf("wrapper %s:%s in %s, want ns2:…Response in %s", wrapper.Space, wrapper.Tag, wrapper.NamespaceURI(), c.wantNS)
			}
			soap12 := strings.HasPrefix(c.contentType, "application/soap+xml")
			wantEnv := "http://schemas.xmlsoap.org/soap/envelope/"
			if soap12 {
				wantEnv = "http://www.w3.org/2003/05/soap-envelope"
			}
			if d.Root().NamespaceURI() != wantEnv || soap12 != strings.HasPrefix(resp.Header.Get("Content-Type"), "application/soap+xml") {
				t.Fatalf("response envelope %s, Content-Type %s: not the request's SOAP version", d.Root().NamespaceURI(), resp.Header.Get("Content-Type"))
			}
		})
	}
}

func expiring(ttl string) string {
	return `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:tok="http://token.security.common.server.platform.spectrum.pb.com/"><soapenv:Body><tok:getAccessExpiringToken>` +
		ttl + `</tok:getAccessExpiringToken></soapenv:Body></soapenv:Envelope>`
}

func TestFaults(t *testing.T) {
	s := newStack(t)
	cases := []struct {
		name, contentType, body string
		status                  int
		code, msgContains       string
	}{
		{"malformed XML", "text/xml", `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>`, 500, "soap:Client", "malformed XML"},
		{"not an envelope", "text/xml", `<hello/>`, 500, "soap:Client", "not a SOAP Envelope"},
		{"unknown operation", "text/xml", `<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><t:stealToken xmlns:t="http://token.security.common.server.platform.spectrum.pb.com/"/></e:Body></e:Envelope>`, 500, "soap:Client", "unknown operation"},
		{"right name, wrong namespace", "text/xml", `<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><getAccessToken/></e:Body></e:Envelope>`, 500, "soap:Client", "unknown operation"},
		{"lifetime missing", "text/xml", expiring(""), 500, "soap:Client", "tokenLifeInMinutes is required"},
		{"lifetime not an integer", "text/xml", expiring("<tokenLifeInMinutes>sixty</tokenLifeInMinutes>"), 500, "soap:Client", "integer"},
		{"lifetime fractional", "text/xml", expiring("<tokenLifeInMinutes>1.5</tokenLifeInMinutes>"), 500, "soap:Client", "integer"},
		{"lifetime zero", "text/xml", expiring("<tokenLifeInMinutes>0</tokenLifeInMinutes>"), 500, "soap:Client", "greater than zero"},
		{"lifetime negative", "text/xml", expiring("<tokenLifeInMinutes>-5</tokenLifeInMinutes>"), 500, "soap:Client", "greater than zero"},
		{"lifetime above maximum", "text/xml", expiring("<tokenLifeInMinutes>1441</tokenLifeInMinutes>"), 500, "soap:Client", "maximum of 1440"},
		{"lifetime overflow", "text/xml", expiring("<tokenLifeInMinutes>99999999999999999999</tokenLifeInMinutes>"), 500, "soap:Client", "integer"},
		{"document type declaration", "text/xml", `<!DOCTYPE x [<!ENTITY a "aaaa">]><e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><x/></e:Body></e:Envelope>`, 500, "soap:Client", "document type"},
		{"too deep", "text/xml", `<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body>` + strings.Repeat("<a>", 100) + strings.Repeat("</a>", 100) + `</e:Body></e:Envelope>`, 500, "soap:Client", "deeply"},
		{"two operations", "text/xml", `<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><a/><b/></e:Body></e:Envelope>`, 500, "soap:Client", "exactly one"},
		{"unknown envelope namespace", "text/xml", `<e:Envelope xmlns:e="urn:not-soap"><e:Body/></e:Envelope>`, 500, "soap:VersionMismatch", "namespace"},
		{"1.2 envelope sent as text/xml", "text/xml", `<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body><x/></e:Body></e:Envelope>`, 500, "soap:VersionMismatch", "different SOAP versions"},
		{"SOAP 1.2 fault is Sender with 400", "application/soap+xml", `<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body><t:nope xmlns:t="urn:x"/></e:Body></e:Envelope>`, 400, "soap:Sender", "unknown operation"},
		{"mustUnderstand header not understood", "text/xml", `<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Header><h:Tx xmlns:h="urn:tx" e:mustUnderstand="1"/></e:Header><e:Body><t:getAccessToken xmlns:t="http://token.security.common.server.platform.spectrum.pb.com/"/></e:Body></e:Envelope>`, 500, "soap:MustUnderstand", "not understood"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := servertest.Do(t, "POST", s.URL+tokPath, c.body, map[string]string{"Content-Type": c.contentType, "Authorization": servertest.Basic("simon0897", "s3cret")})
			if resp.Status != c.status {
				t.Fatalf("status %d, want %d: %s", resp.Status, c.status, resp.Body)
			}
			code, msg := servertest.FaultString(t, resp.Body)
			if code != c.code || !strings.Contains(msg, c.msgContains) {
				t.Fatalf("fault %s %q, want %s containing %q", code, msg, c.code, c.msgContains)
			}
		})
	}
	t.Run("body over the limit", func(t *testing.T) {
		big := expiring("<tokenLifeInMinutes>5</tokenLifeInMinutes>" + strings.Repeat(" ", 65<<10))
		if resp := s.SOAPCall(t, tokPath, big); resp.Status != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d, want 413", resp.Status)
		}
	})
	t.Run("chunked body over the limit", func(t *testing.T) {
		req, _ := http.NewRequest("POST", s.URL+tokPath, strings.NewReader(expiring(strings.Repeat("<a/>", 20<<10))))
		req.ContentLength = -1 // chunked: the limit must hold while reading
		req.SetBasicAuth("simon0897", "s3cret")
		req.Header.Set("Content-Type", "text/xml")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d, want 413", resp.StatusCode)
		}
	})
}

func TestBasicAuthRequired(t *testing.T) {
	s := newStack(t)
	body := expiring("<tokenLifeInMinutes>5</tokenLifeInMinutes>")
	for name, authz := range map[string]string{
		"none": "", "wrong password": servertest.Basic("simon0897", "nope"), "unknown user": servertest.Basic("mallory", "x"),
		"not base64": "Basic !!!", "bearer instead": "Bearer abc",
	} {
		t.Run(name, func(t *testing.T) {
			h := map[string]string{"Content-Type": "text/xml"}
			if authz != "" {
				h["Authorization"] = authz
			}
			resp := servertest.Do(t, "POST", s.URL+tokPath, body, h)
			if resp.Status != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), `Basic realm="tokenmanager"`) {
				t.Fatalf("status %d, WWW-Authenticate %q", resp.Status, resp.Header.Get("WWW-Authenticate"))
			}
			rest := servertest.Do(t, "GET", s.URL+"/security/rest/token/access/5", "", h)
			if rest.Status != 401 || rest.Header.Get("WWW-Authenticate") == "" {
				t.Fatalf("REST: status %d", rest.Status)
			}
		})
	}
	// A disabled user's correct password is refused too.
	s.Store.UpdateUser(context.Background(), "simon0897", func(u *storage.User) error { u.Disabled = true; return nil })
	if resp := s.SOAPCall(t, tokPath, body); resp.Status != 401 {
		t.Fatalf("disabled user: status %d", resp.Status)
	}
}

const logoutEnvelope = `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:tok="http://token.security.common.server.platform.spectrum.pb.com/"><soapenv:Header/><soapenv:Body><tok:logout/></soapenv:Body></soapenv:Envelope>`

func TestSOAPLogout(t *testing.T) {
	s := newStack(t)
	iss := s.restJSON(t, "/security/rest/token/access/session/0")
	tok, sess := iss["access_token"].(string), iss["session"].(string)
	other := s.restJSON(t, "/security/rest/token/access/60")["access_token"].(string)

	// Logout authenticates with the token, not Basic.
	noToken := servertest.Do(t, "POST", s.URL+logoutPath, logoutEnvelope, map[string]string{"Content-Type": "text/xml"})
	if noToken.Status != 401 {
		t.Fatalf("logout without a token: %d", noToken.Status)
	}
	resp := servertest.Do(t, "POST", s.URL+logoutPath, logoutEnvelope, map[string]string{
		"Content-Type": "text/xml", "Authorization": "Bearer " + tok, "Cookie": "SESSION=" + sess})
	if resp.Status != 200 {
		t.Fatalf("logout: %d %s", resp.Status, resp.Body)
	}
	if got := shape(t, resp.Body); strings.Join(got, " ") !=
		"soap:Envelope{http://schemas.xmlsoap.org/soap/envelope/} soap:Body{http://schemas.xmlsoap.org/soap/envelope/} ns2:logoutResponse{http://token.security.common.server.platform.spectrum.pb.com/}" {
		t.Fatalf("logout response %v", got)
	}
	if v := s.Verify(t, tok, sess); v.Status != 401 {
		t.Fatalf("token works after logout: %d", v.Status)
	}
	// The token cookie is accepted in place of the Authorization header, and other tokens are untouched.
	if v := servertest.Do(t, "GET", s.URL+server.PathVerify, "", map[string]string{"Cookie": "spectrum.authentication.token=" + other}); v.Status != 200 {
		t.Fatalf("unrelated open token after logout: %d", v.Status)
	}
	resp = servertest.Do(t, "POST", s.URL+logoutPath, logoutEnvelope, map[string]string{"Content-Type": "text/xml", "Cookie": "spectrum.authentication.token=" + other})
	if resp.Status != 200 {
		t.Fatalf("logout by token cookie: %d %s", resp.Status, resp.Body)
	}
	if v := s.Verify(t, other, ""); v.Status != 401 {
		t.Fatalf("open token after its logout: %d", v.Status)
	}
}

func (s *stack) restJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	resp := servertest.Do(t, "GET", s.URL+path, "", map[string]string{"Authorization": servertest.Basic("simon0897", "s3cret")})
	if resp.Status != 200 {
		t.Fatalf("GET %s: %d %s", path, resp.Status, resp.Body)
	}
	return resp.JSON(t)
}

func TestRESTTwins(t *testing.T) {
	s := newStack(t)
	sess := s.restJSON(t, "/security/rest/token/access/session/0")
	if len(sess) != 3 || sess["username"] != "simon0897" || sess["session"] == "" {
		t.Fatalf("session token JSON %v", sess)
	}
	v := s.Verify(t, sess["access_token"].(string), sess["session"].(string))
	// A session token dies after 30 idle minutes (the session's cap, a day, comes later): see TestVerifyDeadlines.
	if v.Status != 200 || v.JSON(t)["kind"] != "session" || v.JSON(t)["expires_at"] != "2026-11-23T08:30:00Z" {
		t.Fatalf("verify session token: %d %s", v.Status, v.Body)
	}
	exp := s.restJSON(t, "/security/rest/token/access/session/30")
	v = s.Verify(t, exp["access_token"].(string), exp["session"].(string))
	if v.Status != 200 || v.JSON(t)["kind"] != "expiring" || v.JSON(t)["expires_at"] == nil {
		t.Fatalf("verify expiring token: %d %s", v.Status, v.Body)
	}
	open := s.restJSON(t, "/security/rest/token/access/60")
	if len(open) != 2 || open["username"] != "simon0897" {
		t.Fatalf("open token JSON %v", open)
	}
	if v := s.Verify(t, open["access_token"].(string), ""); v.Status != 200 || v.JSON(t)["kind"] != "open" {
		t.Fatalf("verify open token: %d %s", v.Status, v.Body)
	}
	for _, bad := range []string{"abc", "-1", "1441", "1.5"} {
		resp := servertest.Do(t, "GET", s.URL+"/security/rest/token/access/session/"+bad, "", map[string]string{"Authorization": servertest.Basic("simon0897", "s3cret")})
		if resp.Status != 400 {
			t.Errorf("ttl %q: status %d", bad, resp.Status)
		}
	}
	// REST logout with the session token ends the session: the expiring token of another session lives on.
	lo := servertest.Do(t, "GET", s.URL+"/security/rest/token/logout", "", map[string]string{
		"Authorization": "Bearer " + sess["access_token"].(string), "Cookie": "SESSION=" + sess["session"].(string)})
	if lo.Status != 200 {
		t.Fatalf("REST logout: %d %s", lo.Status, lo.Body)
	}
	if v := s.Verify(t, sess["access_token"].(string), sess["session"].(string)); v.Status != 401 {
		t.Fatalf("after REST logout: %d", v.Status)
	}
	if v := s.Verify(t, exp["access_token"].(string), exp["session"].(string)); v.Status != 200 {
		t.Fatalf("other session after logout: %d", v.Status)
	}
	if lo := servertest.Do(t, "GET", s.URL+"/security/rest/token/logout", "", nil); lo.Status != 401 {
		t.Fatalf("REST logout without token: %d", lo.Status)
	}
}

func TestVerifyRejections(t *testing.T) {
	// 127.0.0.1 is a trusted proxy here, so X-Forwarded-For plays the client host.
	s := newStack(t, func(su *servertest.Setup) {
		su.Server.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	})
	issue := func(path, host string) (string, string) {
		resp := servertest.Do(t, "GET", s.URL+path, "", map[string]string{"Authorization": servertest.Basic("simon0897", "s3cret"), "X-Forwarded-For": host})
		m := resp.JSON(t)
		sess, _ := m["session"].(string)
		return m["access_token"].(string), sess
	}
	check := func(tok, sess, host string) servertest.Response {
		h := map[string]string{"Authorization": "Bearer " + tok, "X-Forwarded-For": host}
		if sess != "" {
			h["Cookie"] = "SESSION=" + sess
		}
		return servertest.Do(t, "GET", s.URL+server.PathVerify, "", h)
	}
	const host = "198.51.100.7"
	tok, sess := issue("/security/rest/token/access/session/60", host)
	if r := check(tok, sess, host); r.Status != 200 {
		t.Fatalf("fresh token: %d %s", r.Status, r.Body)
	}
	_, otherSess := issue("/security/rest/token/access/session/60", host)

	cases := map[string]servertest.Response{
		"no SESSION":      check(tok, "", host),
		"wrong SESSION":   check(tok, otherSess, host),
		"another host":    check(tok, sess, "203.0.113.1"),
		"garbage token":   check("eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0..AAAA.BBBB.CCCC", sess, host),
		"lower-case name": servertest.Do(t, "GET", s.URL+server.PathVerify, "", map[string]string{"Authorization": "Bearer " + tok, "Cookie": "session=" + sess, "X-Forwarded-For": host}),
		"no token at all": servertest.Do(t, "GET", s.URL+server.PathVerify, "", nil),
	}
	for name, r := range cases {
		if r.Status != 401 || !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer ") {
			t.Errorf("%s: status %d, WWW-Authenticate %q", name, r.Status, r.Header.Get("WWW-Authenticate"))
		}
	}
	if r := cases["no token at all"]; strings.Contains(r.Header.Get("WWW-Authenticate"), "error=") {
		t.Errorf("no token: RFC 6750 wants no error code, got %q", r.Header.Get("WWW-Authenticate"))
	}

	// Idle: 29 minutes is fine (and is activity), then 30 minutes and a second without use is not.
	s.Clock.Add(29 * time.Minute)
	if r := check(tok, sess, host); r.Status != 200 {
		t.Fatalf("after 29 idle minutes: %d", r.Status)
	}
	s.Clock.Add(30*time.Minute + time.Second)
	if r := check(tok, sess, host); r.Status != 401 {
		t.Fatalf("after 30:01 idle: %d", r.Status)
	}

	// Expiry: an open token of 5 minutes, used every minute, dies at 5.
	open, _ := issue("/security/rest/token/access/5", host)
	for i := 1; i <= 4; i++ {
		s.Clock.Add(time.Minute)
		if r := check(open, "", "192.0.2.1"); r.Status != 200 { // open tokens are not host-bound
			t.Fatalf("open token at minute %d: %d", i, r.Status)
		}
	}
	s.Clock.Add(time.Minute)
	if r := check(open, "", host); r.Status != 401 {
		t.Fatalf("open token at expiry: %d", r.Status)
	}

	// Disabled user: refused at once, and for good: enabling the user again does not bring the token back.
	open, _ = issue("/security/rest/token/access/60", host)
	ctx := context.Background()
	s.Store.UpdateUser(ctx, "simon0897", func(u *storage.User) error { u.Disabled = true; return nil })
	if r := check(open, "", host); r.Status != 401 {
		t.Fatalf("disabled user's token: %d", r.Status)
	}
	s.Store.UpdateUser(ctx, "simon0897", func(u *storage.User) error { u.Disabled = false; return nil })
	if r := check(open, "", host); r.Status != 401 {
		t.Fatalf("re-enabled user's token from before the disable: %d", r.Status)
	}
	if fresh, _ := issue("/security/rest/token/access/60", host); check(fresh, "", host).Status != 200 {
		t.Fatal("re-enabled user's new token refused")
	}
}

func TestHostCheckCanBeSwitchedOff(t *testing.T) {
	s := newStack(t, func(su *servertest.Setup) {
		su.Server.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
		su.Token.CheckHost = false
	})
	resp := servertest.Do(t, "GET", s.URL+"/security/rest/token/access/session/0", "", map[string]string{"Authorization": servertest.Basic("simon0897", "s3cret"), "X-Forwarded-For": "198.51.100.7"})
	m := resp.JSON(t)
	r := servertest.Do(t, "GET", s.URL+server.PathVerify, "", map[string]string{
		"Authorization": "Bearer " + m["access_token"].(string), "Cookie": "SESSION=" + m["session"].(string), "X-Forwarded-For": "203.0.113.1"})
	if r.Status != 200 {
		t.Fatalf("host checks off, other host: %d", r.Status)
	}
}

func TestWSDLAddress(t *testing.T) {
	plain := newStack(t)
	proxied := newStack(t, func(su *servertest.Setup) {
		su.Server.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	})
	forwarded := map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "tokens.example.com"}
	cases := []struct {
		s          *stack
		path       string
		header     map[string]string
		wantPrefix string
	}{
		{plain, tokPath + "?wsdl", nil, plain.URL + tokPath},
		{plain, logoutPath + "?WSDL", nil, plain.URL + logoutPath},
		{plain, tokPath + "?wsdl", forwarded, plain.URL + tokPath}, // not a trusted proxy: headers ignored
		{proxied, tokPath + "?wsdl", forwarded, "https://tokens.example.com" + tokPath},
	}
	for _, c := range cases {
		resp := servertest.Do(t, "GET", c.s.URL+c.path, "", c.header)
		if resp.Status != 200 {
			t.Fatalf("GET %s: %d", c.path, resp.Status)
		}
		d := etree.NewDocument()
		if err := d.ReadFromString(resp.Body); err != nil {
			t.Fatal(err)
		}
		addrs := d.FindElements("//service/port/address")
		if len(addrs) != 2 {
			t.Fatalf("%s: %d addresses", c.path, len(addrs))
		}
		for _, a := range addrs {
			if got := a.SelectAttrValue("location", ""); got != c.wantPrefix {
				t.Errorf("%s with %v: location %q, want %q", c.path, c.header, got, c.wantPrefix)
			}
		}
	}
	if resp := servertest.Do(t, "GET", plain.URL+tokPath, "", nil); resp.Status != http.StatusMethodNotAllowed {
		t.Fatalf("GET without ?wsdl: %d", resp.Status)
	}
}
