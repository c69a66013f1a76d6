package wsdl

import (
	"testing"
)

// TestLicenseServiceStructure checks our LicenseService document by the conventions of the token services:
// one wrapper element and message per operation and response, one portType, a SOAP 1.1 and a SOAP 1.2 binding
// with empty soapActions and literal bodies, and both ports on the rewritten address.
func TestLicenseServiceStructure(t *testing.T) {
	ops := []string{"activate", "deactivate", "getKey", "createKey", "blockKey", "unblockKey", "extendLicense",
		"getKeys", "getProducts"}
	root := parse(t, write(t, LicenseService, "https://lic.example.com"))
	if got := root.SelectAttrValue("targetNamespace", ""); got != LicenseNamespace {
		t.Fatalf("targetNamespace = %q", got)
	}
	schema := child(t, child(t, root, nsWSDL, "types"), nsXS, "schema")
	if schema.SelectAttrValue("targetNamespace", "") != LicenseNamespace || schema.SelectAttrValue("elementFormDefault", "") != "unqualified" {
		t.Fatalf("schema attributes %v", schema.Attr)
	}
	var elems []string
	for _, op := range ops {
		elems = append(elems, op, op+"Response")
	}
	if got := names(schema, nsXS, "element"); !equal(got, elems) {
		t.Errorf("schema elements = %q, want %q", got, elems)
	}
	if got := names(schema, nsXS, "complexType"); !equal(got, []string{"license", "customer", "machine", "newCustomer", "createdKey",
		"keysPage", "listedKey", "product"}) {
		t.Errorf("schema types = %q", got)
	}
	if got := names(root, nsWSDL, "message"); !equal(got, elems) {
		t.Errorf("messages = %q, want %q", got, elems)
	}
	for _, m := range elems {
		part := child(t, byName(t, root, nsWSDL, "message", m), nsWSDL, "part")
		if got, want := qname(t, part, "element"), "{"+LicenseNamespace+"}"+m; got != want || part.SelectAttrValue("name", "") != "parameters" {
			t.Errorf("message %s part = %s, want parameters of %s", m, got, want)
		}
	}
	pt := byName(t, root, nsWSDL, "portType", "LicenseService")
	if got := names(pt, nsWSDL, "operation"); !equal(got, ops) {
		t.Errorf("portType operations = %q", got)
	}
	if got := names(root, nsWSDL, "binding"); !equal(got, []string{"LicenseServiceSoapBinding", "LicenseServiceSoap12Binding"}) {
		t.Fatalf("bindings = %q", got)
	}
	for _, b := range []struct{ name, ns string }{{"LicenseServiceSoapBinding", nsSOAP}, {"LicenseServiceSoap12Binding", nsSOAP12}} {
		be := byName(t, root, nsWSDL, "binding", b.name)
		if qname(t, be, "type") != "{"+LicenseNamespace+"}LicenseService" || child(t, be, b.ns, "binding").SelectAttrValue("transport", "") != httpTransport {
			t.Errorf("binding %s: type or transport", b.name)
		}
		if got := names(be, nsWSDL, "operation"); !equal(got, ops) {
			t.Errorf("binding %s operations = %q", b.name, got)
		}
		for _, op := range ops {
			o := byName(t, be, nsWSDL, "operation", op)
			if a := child(t, o, b.ns, "operation").SelectAttr("soapAction"); a == nil || a.Value != "" {
				t.Errorf("binding %s op %s: soapAction must be present and empty", b.name, op)
			}
			for _, dir := range []string{"input", "output"} {
				if got := child(t, child(t, o, nsWSDL, dir), b.ns, "body").SelectAttrValue("use", ""); got != "literal" {
					t.Errorf("binding %s op %s %s: use = %q", b.name, op, dir, got)
				}
			}
		}
	}
	sp := spec{service: "LicenseService", port11: "LicenseServicePort", port12: "LicenseServiceSoap12Port"}
	l11, l12 := addresses(t, root, sp)
	if want := "https://lic.example.com/security/LicenseService"; l11 != want || l12 != want {
		t.Errorf("addresses %q, %q; want %q", l11, l12, want)
	}
	if LicenseService.Path() != "/security/LicenseService" {
		t.Errorf("Path = %q", LicenseService.Path())
	}
}
