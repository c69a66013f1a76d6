package licensesoap

import (
	"strings"
	"testing"

	"github.com/tokenmanager/tokenmanager/soap"
)

// FuzzLicenseSOAPArgs reads the LicenseService's arguments out of arbitrary envelopes.
func FuzzLicenseSOAPArgs(f *testing.F) {
	f.Add(`<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><l:createKey xmlns:l="http://license.tokenmanager.dev/">` +
		`<productId>3</productId><period> 30 </period><f1>1</f1><notes>a &amp; b</notes><newCustomer><name>Ada</name></newCustomer>` +
		`</l:createKey></e:Body></e:Envelope>`)
	f.Add(`<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` +
		`<e:Body><activate><productId xsi:nil="true"/><floatingTimeInterval>99999999999</floatingTimeInterval></activate></e:Body></e:Envelope>`)
	f.Fuzz(func(t *testing.T, body string) {
		env, err := soap.Read(strings.NewReader(body), "text/xml")
		if err != nil {
			return
		}
		a := &argReader{env: env}
		a.long("productId", true)
		a.int("period", false)
		a.int("floatingTimeInterval", false)
		a.boolean("floating")
		a.str("key", true)
		if nc := soapChild(env.Body, "newCustomer"); nc != nil {
			a.text(nc, "name", false)
		}
		if err := a.err(); (err == nil) != (a.bad == "") {
			t.Fatalf("err %v with bad %q", err, a.bad)
		}
	})
}
