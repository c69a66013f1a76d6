package server_test

import (
	"runtime"
	"strings"
	"testing"

	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
)

// Hostile SOAP bodies: each gets a clear Fault, in bounded memory, and no panic.
func TestHostileEnvelopes(t *testing.T) {
	s := newStack(t, func(su *servertest.Setup) { su.Server.MaxBodyBytes = 1 << 20 }) // serve's default: the depth limit must bite first
	const env11 = `<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body>`
	const end11 = `</e:Body></e:Envelope>`
	const op = `<t:getAccessExpiringToken xmlns:t="http://token.security.common.server.platform.spectrum.pb.com/">`
	cases := []struct {
		name, body, code, msg string
	}{
		{"billion laughs", `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">` +
			`<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>` + env11 + op + `<tokenLifeInMinutes>&lol3;</tokenLifeInMinutes></t:getAccessExpiringToken>` + end11,
			"soap:Client", "entity"},
		{"external entity (XXE)", `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>` + env11 + op +
			`<tokenLifeInMinutes>&xxe;</tokenLifeInMinutes></t:getAccessExpiringToken>` + end11, "soap:Client", "entity"},
		{"10,000-deep nesting", env11 + strings.Repeat("<a>", 10000) + strings.Repeat("</a>", 10000) + end11, "soap:Client", "deeply"},
		{"invalid UTF-8", env11 + op + "<tokenLifeInMinutes>5\xff\xfe</tokenLifeInMinutes></t:getAccessExpiringToken>" + end11, "soap:Client", "malformed XML"},
		{"duplicate parameter", env11 + op + `<tokenLifeInMinutes>5</tokenLifeInMinutes><tokenLifeInMinutes>1440</tokenLifeInMinutes></t:getAccessExpiringToken>` + end11,
			"soap:Client", "tokenLifeInMinutes appears more than once"},
		{"two Bodies", `<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body>` + op + `</t:getAccessExpiringToken></e:Body><e:Body/></e:Envelope>`,
			"soap:Client", ""},
		{"1.1 envelope with 1.2 content type", env11 + op + `</t:getAccessExpiringToken>` + end11, "soap:VersionMismatch", "different SOAP versions"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ct := "text/xml; charset=utf-8"
			if strings.HasPrefix(c.name, "1.1 envelope") {
				ct = "application/soap+xml"
			}
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			resp := servertest.Do(t, "POST", s.URL+tokPath, c.body, map[string]string{"Content-Type": ct, "Authorization": servertest.Basic("simon0897", "s3cret")})
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			if resp.Status/100 != 4 && resp.Status != 500 {
				t.Fatalf("status %d: %s", resp.Status, resp.Body)
			}
			code, msg := servertest.FaultString(t, resp.Body)
			if code != c.code || !strings.Contains(msg, c.msg) {
				t.Fatalf("fault %s %q, want %s containing %q", code, msg, c.code, c.msg)
			}
			if strings.Contains(resp.Body, "root:") {
				t.Fatal("the response carries a local file's contents")
			}
			// Bounded memory: the whole request, server included, allocates far less than an expansion would.
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
				t.Fatalf("the request allocated %d MiB", grew>>20)
			}
		})
	}
}
