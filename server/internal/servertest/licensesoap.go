package servertest

import (
	"context"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/storage"
)

const (
	LicPath = "/security/LicenseService"
	LicNS   = "http://license.tokenmanager.dev/"
)

// LicStack is a stack whose simon0897 is a vendor with one product; paul1234 is no vendor.
type LicStack struct {
	*Stack
	Env  *LicEnv
	Prod storage.Product
}

func NewLicStack(t *testing.T) *LicStack {
	t.Helper()
	env := &LicEnv{}
	st := NewStack(t, WithLicenseStack(env, time.Minute))
	ctx := context.Background()
	if err := env.Svc.AddVendor(ctx, "simon0897"); err != nil {
		t.Fatal(err)
	}
	p, err := env.Svc.CreateProduct(ctx, license.Admin(), "simon0897", license.ProductSpec{Name: "Editor"})
	if err != nil {
		t.Fatal(err)
	}
	return &LicStack{Stack: st, Env: env, Prod: p}
}

// Call posts one LicenseService operation (SOAP 1.1) with the given Authorization header ("" for none).
func (l *LicStack) Call(t *testing.T, authz, op, inner string) Response {
	t.Helper()
	env := `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:lic="` + LicNS + `">` +
		`<soapenv:Body><lic:` + op + `>` + inner + `</lic:` + op + `></soapenv:Body></soapenv:Envelope>`
	h := map[string]string{"Content-Type": "text/xml; charset=utf-8", "SOAPAction": `""`}
	if authz != "" {
		h["Authorization"] = authz
	}
	return Do(t, "POST", l.URL+LicPath, env, h)
}

func (l *LicStack) OK(t *testing.T, authz, op, inner string) *etree.Element {
	t.Helper()
	r := l.Call(t, authz, op, inner)
	if r.Status != 200 {
		t.Fatalf("%s: HTTP %d %s", op, r.Status, r.Body)
	}
	d := etree.NewDocument()
	if err := d.ReadFromString(r.Body); err != nil {
		t.Fatal(err)
	}
	w := d.FindElement("/Envelope/Body/*")
	if w == nil || w.Tag != op+"Response" || w.NamespaceURI() != LicNS {
		t.Fatalf("%s: response %s", op, r.Body)
	}
	return w
}

func (l *LicStack) Fault(t *testing.T, authz, op, inner string, status int, want string) Response {
	t.Helper()
	r := l.Call(t, authz, op, inner)
	code, msg := FaultString(t, r.Body)
	if r.Status != status || msg != want {
		t.Fatalf("%s: HTTP %d %s %q; want HTTP %d %q", op, r.Status, code, msg, status, want)
	}
	return r
}

func LicText(e *etree.Element, path string) string {
	if c := e.FindElement(path); c != nil {
		return c.Text()
	}
	return "<absent>"
}
