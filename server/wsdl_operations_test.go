package server_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/server"
	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
	"github.com/tokenmanager/tokenmanager/wsdl"
)

// TestEveryWSDLOperationHasAHandler posts each operation of each served WSDL's portType to its address: the
// answer may be any fault of the operation's own (missing arguments), never the dispatcher's "unknown
// operation". The documents are the one list of operations; a handler missing for one of them fails here.
func TestEveryWSDLOperationHasAHandler(t *testing.T) {
	st := newStack(t, servertest.WithLicenseStack(&servertest.LicEnv{}, time.Minute))
	for _, svc := range []wsdl.Service{wsdl.TokenManager, wsdl.TokenLogout, wsdl.LicenseService} {
		ops, err := wsdl.Operations(svc)
		if err != nil || len(ops) == 0 {
			t.Fatalf("wsdl.Operations(%s) = %q, %v", svc.Path(), ops, err)
		}
		ns := server.NSSpectrum
		if svc == wsdl.LicenseService {
			ns = wsdl.LicenseNamespace
		}
		for _, op := range ops {
			env := `<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"` +
				` xmlns:op="` + ns + `"><soapenv:Body><op:` + op + `/></soapenv:Body></soapenv:Envelope>`
			r := st.SOAPCall(t, svc.Path(), env)
			if strings.Contains(r.Body, "unknown operation") {
				t.Errorf("%s %s: no handler: %d %s", svc.Path(), op, r.Status, r.Body)
			}
		}
	}
}
