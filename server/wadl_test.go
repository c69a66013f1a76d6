package server_test

import (
	"encoding/xml"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokenmanager/tokenmanager/server"
	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
	"github.com/tokenmanager/tokenmanager/wsdl"
)

// wadlApp is the part of WADL a client reads to call the service: resources, their paths and methods.
type wadlApp struct {
	XMLName   xml.Name `xml:"http://wadl.dev.java.net/2009/02 application"`
	Resources struct {
		Base      string         `xml:"base,attr"`
		Resources []wadlResource `xml:"resource"`
	} `xml:"resources"`
}

type wadlResource struct {
	Path   string `xml:"path,attr"`
	Params []struct {
		Name     string `xml:"name,attr"`
		Style    string `xml:"style,attr"`
		Required bool   `xml:"required,attr"`
	} `xml:"param"`
	Methods []struct {
		Name string `xml:"name,attr"`
		ID   string `xml:"id,attr"`
	} `xml:"method"`
	Resources []wadlResource `xml:"resource"`
}

// calls walks the resources as a WADL client does: each method's URL is the base and the nested paths joined,
// with template parameters filled from values.
func (r wadlResource) calls(prefix string, values map[string]string, out map[string]string) {
	p := prefix + "/" + r.Path
	for _, prm := range r.Params {
		if prm.Style == "template" {
			p = strings.ReplaceAll(p, "{"+prm.Name+"}", values[prm.Name])
		}
	}
	for _, m := range r.Methods {
		out[m.ID] = m.Name + " " + p
	}
	for _, sub := range r.Resources {
		sub.calls(p, values, out)
	}
}

// TestRESTWADL: /security/rest?_wadl and ?wadl serve a WADL 2009 document that a strict schema of WADL
// accepts (xmllint), whose base is the URL the client used (forwarded only by trusted proxies), and whose
// every method, called as described, reaches a route that serves it.
func TestRESTWADL(t *testing.T) {
	s := newStack(t, func(su *servertest.Setup) {
		su.Server.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	})
	plain := newStack(t)
	forwarded := map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "tokens.example.com:8443"}
	for _, c := range []struct {
		stack    *stack
		query    string
		header   map[string]string
		wantBase string
	}{
		{s, "_wadl", nil, s.URL + "/security/rest"},
		{s, "wadl", nil, s.URL + "/security/rest"},
		{s, "_wadl&_type=xml", nil, s.URL + "/security/rest"},
		{s, "_WADL", forwarded, "https://tokens.example.com:8443/security/rest"},
		{s, "_wadl", map[string]string{"X-Forwarded-Host": `a"b<c`}, "http://localhost/security/rest"}, // not a host: not used
		{plain, "wadl", forwarded, plain.URL + "/security/rest"},                                       // not a trusted proxy
	} {
		r := servertest.Do(t, "GET", c.stack.URL+"/security/rest?"+c.query, "", c.header)
		if r.Status != 200 || r.Header.Get("Content-Type") != "application/xml; charset=utf-8" {
			t.Fatalf("?%s: %d %q %.200s", c.query, r.Status, r.Header.Get("Content-Type"), r.Body)
		}
		var app wadlApp
		if err := xml.Unmarshal([]byte(r.Body), &app); err != nil {
			t.Fatalf("?%s: %v", c.query, err)
		}
		if app.Resources.Base != c.wantBase {
			t.Errorf("?%s with %v: base %q, want %q", c.query, c.header, app.Resources.Base, c.wantBase)
		}
	}
	for _, q := range []string{"", "?wsdl", "?x=_wadl"} {
		if r := servertest.Do(t, "GET", s.URL+"/security/rest"+q, "", nil); r.Status != 404 {
			t.Errorf("GET /security/rest%s: %d", q, r.Status)
		}
	}
	if r := servertest.Do(t, "POST", s.URL+"/security/rest?_wadl", "", nil); r.Status != 405 {
		t.Errorf("POST ?_wadl: %d", r.Status)
	}

	body := servertest.Do(t, "GET", s.URL+"/security/rest?_wadl", "", nil).Body
	t.Run("schema", func(t *testing.T) {
		xmllint, err := exec.LookPath("xmllint")
		if err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatal("CI=true: xmllint (libxml2-utils) is not installed")
			}
			t.Skip("xmllint (libxml2-utils) is not installed")
		}
		doc := filepath.Join(t.TempDir(), "rest.wadl")
		os.WriteFile(doc, []byte(body), 0o600)
		out, err := exec.Command(xmllint, "--noout", "--nonet", "--schema", "testdata/wadl-served.xsd", doc).CombinedOutput()
		if err != nil {
			t.Fatalf("xmllint: %v\n%s", err, out)
		}
		// The schema is not a rubber stamp: a foreign element, a method without a name and a made-up status fail.
		for what, bad := range map[string]string{
			"foreign element": strings.Replace(body, `<resource path="logout">`, `<resource path="logout"><x:y xmlns:x="urn:x"/>`, 1),
			"method no name":  strings.Replace(body, `<method name="GET" id="logout">`, `<method id="logout">`, 1),
			"status 999":      strings.Replace(body, `status="401"`, `status="999"`, 1),
			"base elsewhere":  strings.Replace(body, `/security/rest"`, `/other"`, 1),
		} {
			os.WriteFile(doc, []byte(bad), 0o600)
			if out, err := exec.Command(xmllint, "--noout", "--nonet", "--schema", "testdata/wadl-served.xsd", doc).CombinedOutput(); err == nil {
				t.Errorf("%s: accepted by the schema\n%s", what, out)
			}
		}
	})

	// A client of the WADL: every described method, at the URL the WADL gives it, is served.
	var app wadlApp
	xml.Unmarshal([]byte(body), &app)
	calls := map[string]string{}
	for _, r := range app.Resources.Resources {
		r.calls(app.Resources.Base, map[string]string{"ttl": "30"}, calls)
	}
	want := map[string]string{
		"getAccessToken":        "GET " + s.URL + "/security/rest/token/access/30",
		"getAccessSessionToken": "GET " + s.URL + "/security/rest/token/access/session/30",
		"logout":                "GET " + s.URL + "/security/rest/token/logout",
		"verify":                "GET " + s.URL + server.PathVerify,
	}
	if len(calls) != len(want) {
		t.Errorf("WADL methods %v, want %v", calls, want)
	}
	var sess, tok string
	for _, id := range []string{"getAccessToken", "getAccessSessionToken", "verify", "logout"} {
		if calls[id] != want[id] {
			t.Errorf("%s: WADL says %q, want %q", id, calls[id], want[id])
			continue
		}
		method, u, _ := strings.Cut(calls[id], " ")
		h := map[string]string{"Authorization": servertest.Basic("simon0897", "s3cret")}
		if id == "verify" || id == "logout" {
			h = map[string]string{"Authorization": "Bearer " + tok, "Cookie": "SESSION=" + sess}
		}
		r := servertest.Do(t, method, u, "", h)
		if r.Status != 200 {
			t.Fatalf("%s %s as described: %d %s", method, u, r.Status, r.Body)
		}
		if id == "getAccessSessionToken" {
			m := r.JSON(t)
			tok, sess = m["access_token"].(string), m["session"].(string)
		}
	}
	if got := wsdl.RawWADL(); !strings.Contains(got, `base="http://localhost:8080/security/rest"`) {
		t.Errorf("committed WADL base changed: %.300s", got)
	}
}
