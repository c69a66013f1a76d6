package wsdl

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/beevik/etree"
)

const (
	nsWSDL        = "http://schemas.xmlsoap.org/wsdl/"
	nsSOAP        = "http://schemas.xmlsoap.org/wsdl/soap/"
	nsSOAP12      = "http://schemas.xmlsoap.org/wsdl/soap12/"
	nsXS          = "http://www.w3.org/2001/XMLSchema"
	httpTransport = "http://schemas.xmlsoap.org/soap/http"
)

type spec struct {
	svc       Service
	path      string
	portType  string
	binding11 string
	binding12 string
	service   string
	port11    string
	port12    string
}

var specs = []spec{
	{
		svc:       TokenManager,
		path:      "/security/TokenManagerService",
		portType:  "TokenManagerService",
		binding11: "TokenManagerServiceImplServiceSoapBinding",
		binding12: "TokenManagerServiceImplServiceSoap12Binding",
		service:   "TokenManagerServiceImplService",
		port11:    "TokenManagerServiceImplPort",
		port12:    "TokenManagerServiceImplSoap12Port",
	},
	{
		svc:       TokenLogout,
		path:      "/security/TokenLogoutService",
		portType:  "TokenLogoutService",
		binding11: "TokenLogoutServiceImplServiceSoapBinding",
		binding12: "TokenLogoutServiceImplServiceSoap12Binding",
		service:   "TokenLogoutServiceImplService",
		port11:    "TokenLogoutServiceImplPort",
		port12:    "TokenLogoutServiceImplSoap12Port",
	},
}

// children returns the child elements of e in namespace ns with local name tag.
func children(e *etree.Element, ns, tag string) []*etree.Element {
	var out []*etree.Element
	for _, c := range e.ChildElements() {
		if c.NamespaceURI() == ns && c.Tag == tag {
			out = append(out, c)
		}
	}
	return out
}

func child(t *testing.T, e *etree.Element, ns, tag string) *etree.Element {
	t.Helper()
	cs := children(e, ns, tag)
	if len(cs) != 1 {
		t.Fatalf("<%s> has %d {%s}%s children, want 1", e.FullTag(), len(cs), ns, tag)
	}
	return cs[0]
}

func byName(t *testing.T, e *etree.Element, ns, tag, name string) *etree.Element {
	t.Helper()
	for _, c := range children(e, ns, tag) {
		if c.SelectAttrValue("name", "") == name {
			return c
		}
	}
	t.Fatalf("no {%s}%s named %q under <%s>", ns, tag, name, e.FullTag())
	return nil
}

// names returns the name attributes of e's {ns}tag children, in document order.
func names(e *etree.Element, ns, tag string) []string {
	var out []string
	for _, c := range children(e, ns, tag) {
		out = append(out, c.SelectAttrValue("name", ""))
	}
	return out
}

// qname resolves the QName attribute attr of e to {uri}local form.
func qname(t *testing.T, e *etree.Element, attr string) string {
	t.Helper()
	v := e.SelectAttrValue(attr, "")
	prefix, local, ok := strings.Cut(v, ":")
	if !ok {
		t.Fatalf("<%s %s=%q>: want a prefixed QName", e.FullTag(), attr, v)
	}
	for p := e; p != nil; p = p.Parent() {
		if a := p.SelectAttr("xmlns:" + prefix); a != nil {
			return "{" + a.Value + "}" + local
		}
	}
	t.Fatalf("<%s %s=%q>: prefix %q not declared", e.FullTag(), attr, v, prefix)
	return ""
}

func equal(a, b []string) bool { return strings.Join(a, "\x00") == strings.Join(b, "\x00") }

func parse(t *testing.T, b []byte) *etree.Element {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(b); err != nil {
		t.Fatalf("output is not well-formed XML: %v", err)
	}
	root := doc.Root()
	if root == nil || root.NamespaceURI() != nsWSDL || root.Tag != "definitions" {
		t.Fatalf("root element is not wsdl:definitions")
	}
	return root
}

func write(t *testing.T, s Service, base string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, s, base); err != nil {
		t.Fatalf("Write(%d, %q): %v", s, base, err)
	}
	return buf.Bytes()
}

// addresses returns the soap:address and soap12:address locations of the
// service's ports, in port order.
func addresses(t *testing.T, root *etree.Element, sp spec) (loc11, loc12 string) {
	t.Helper()
	svc := byName(t, root, nsWSDL, "service", sp.service)
	p11 := byName(t, svc, nsWSDL, "port", sp.port11)
	p12 := byName(t, svc, nsWSDL, "port", sp.port12)
	return child(t, p11, nsSOAP, "address").SelectAttrValue("location", ""),
		child(t, p12, nsSOAP12, "address").SelectAttrValue("location", "")
}

func TestPath(t *testing.T) {
	for _, sp := range specs {
		if got := sp.svc.Path(); got != sp.path {
			t.Errorf("Service(%d).Path() = %q, want %q", sp.svc, got, sp.path)
		}
	}
	if got := Service(7).Path(); got != "" {
		t.Errorf("unknown Service.Path() = %q, want empty", got)
	}
}

func TestStructure(t *testing.T) {
	for _, sp := range specs {
		t.Run(sp.service, func(t *testing.T) {
			root := parse(t, write(t, sp.svc, "https://tm.example.com:8443"))
			ops := operations(t, sp.svc)

			if got := root.SelectAttrValue("targetNamespace", ""); got != Namespace {
				t.Errorf("targetNamespace = %q, want %q", got, Namespace)
			}
			if got := root.SelectAttrValue("xmlns:tns", ""); got != Namespace {
				t.Errorf("xmlns:tns = %q, want %q", got, Namespace)
			}

			// Schema.
			schema := child(t, child(t, root, nsWSDL, "types"), nsXS, "schema")
			if got := schema.SelectAttrValue("targetNamespace", ""); got != Namespace {
				t.Errorf("schema targetNamespace = %q, want %q", got, Namespace)
			}
			if got := schema.SelectAttrValue("elementFormDefault", ""); got != "unqualified" {
				t.Errorf("elementFormDefault = %q, want unqualified", got)
			}
			var wantElems []string
			for _, op := range ops {
				wantElems = append(wantElems, op, op+"Response")
			}
			if got := names(schema, nsXS, "element"); !equal(got, wantElems) {
				t.Errorf("schema elements = %q, want %q", got, wantElems)
			}

			// Messages, one per element, each with a single "parameters" part.
			if got := names(root, nsWSDL, "message"); !equal(got, wantElems) {
				t.Errorf("messages = %q, want %q", got, wantElems)
			}
			for _, m := range wantElems {
				part := child(t, byName(t, root, nsWSDL, "message", m), nsWSDL, "part")
				if got := part.SelectAttrValue("name", ""); got != "parameters" {
					t.Errorf("message %s: part name = %q, want parameters", m, got)
				}
				if got, want := qname(t, part, "element"), "{"+Namespace+"}"+m; got != want {
					t.Errorf("message %s: part element = %s, want %s", m, got, want)
				}
			}

			// portType.
			if got := names(root, nsWSDL, "portType"); !equal(got, []string{sp.portType}) {
				t.Fatalf("portTypes = %q, want [%q]", got, sp.portType)
			}
			pt := byName(t, root, nsWSDL, "portType", sp.portType)
			if got := names(pt, nsWSDL, "operation"); !equal(got, ops) {
				t.Errorf("portType operations = %q, want %q", got, ops)
			}
			for _, op := range ops {
				o := byName(t, pt, nsWSDL, "operation", op)
				if got, want := qname(t, child(t, o, nsWSDL, "input"), "message"), "{"+Namespace+"}"+op; got != want {
					t.Errorf("portType %s input = %s, want %s", op, got, want)
				}
				if got, want := qname(t, child(t, o, nsWSDL, "output"), "message"), "{"+Namespace+"}"+op+"Response"; got != want {
					t.Errorf("portType %s output = %s, want %s", op, got, want)
				}
			}

			// Bindings: SOAP 1.1 first, then SOAP 1.2.
			if got, want := names(root, nsWSDL, "binding"), []string{sp.binding11, sp.binding12}; !equal(got, want) {
				t.Errorf("bindings = %q, want %q", got, want)
			}
			for _, b := range []struct{ name, ns string }{{sp.binding11, nsSOAP}, {sp.binding12, nsSOAP12}} {
				be := byName(t, root, nsWSDL, "binding", b.name)
				if got, want := qname(t, be, "type"), "{"+Namespace+"}"+sp.portType; got != want {
					t.Errorf("binding %s type = %s, want %s", b.name, got, want)
				}
				sb := child(t, be, b.ns, "binding")
				if got := sb.SelectAttrValue("style", ""); got != "document" {
					t.Errorf("binding %s style = %q, want document", b.name, got)
				}
				if got := sb.SelectAttrValue("transport", ""); got != httpTransport {
					t.Errorf("binding %s transport = %q, want %q", b.name, got, httpTransport)
				}
				if got := names(be, nsWSDL, "operation"); !equal(got, ops) {
					t.Errorf("binding %s operations = %q, want %q", b.name, got, ops)
				}
				for _, op := range ops {
					o := byName(t, be, nsWSDL, "operation", op)
					so := child(t, o, b.ns, "operation")
					if a := so.SelectAttr("soapAction"); a == nil || a.Value != "" {
						t.Errorf("binding %s op %s: soapAction must be present and empty", b.name, op)
					}
					for _, dir := range []string{"input", "output"} {
						body := child(t, child(t, o, nsWSDL, dir), b.ns, "body")
						if got := body.SelectAttrValue("use", ""); got != "literal" {
							t.Errorf("binding %s op %s %s: use = %q, want literal", b.name, op, dir, got)
						}
					}
				}
			}

			// Exactly one service, with the SOAP 1.1 port first.
			if got := names(root, nsWSDL, "service"); !equal(got, []string{sp.service}) {
				t.Fatalf("services = %q, want [%q]", got, sp.service)
			}
			svc := byName(t, root, nsWSDL, "service", sp.service)
			if got, want := names(svc, nsWSDL, "port"), []string{sp.port11, sp.port12}; !equal(got, want) {
				t.Errorf("ports = %q, want %q", got, want)
			}
			for _, p := range []struct{ port, binding string }{{sp.port11, sp.binding11}, {sp.port12, sp.binding12}} {
				pe := byName(t, svc, nsWSDL, "port", p.port)
				if got, want := qname(t, pe, "binding"), "{"+Namespace+"}"+p.binding; got != want {
					t.Errorf("port %s binding = %s, want %s", p.port, got, want)
				}
			}
		})
	}
}

func TestTokenManagerSchema(t *testing.T) {
	root := parse(t, Raw(TokenManager))
	schema := child(t, child(t, root, nsWSDL, "types"), nsXS, "schema")
	xsInt := "{" + nsXS + "}int"
	xsString := "{" + nsXS + "}string"
	tokenInfo := "{" + Namespace + "}tokenInfo"

	seq := func(el *etree.Element) *etree.Element {
		t.Helper()
		return child(t, child(t, el, nsXS, "complexType"), nsXS, "sequence")
	}

	// Request wrappers.
	req := seq(byName(t, schema, nsXS, "element", "getAccessExpiringToken"))
	if got := names(req, nsXS, "element"); !equal(got, []string{"tokenLifeInMinutes"}) {
		t.Fatalf("getAccessExpiringToken children = %q", got)
	}
	ttl := byName(t, req, nsXS, "element", "tokenLifeInMinutes")
	if got := qname(t, ttl, "type"); got != xsInt {
		t.Errorf("tokenLifeInMinutes type = %s, want %s", got, xsInt)
	}
	if got := ttl.SelectAttrValue("minOccurs", "1"); got != "1" {
		t.Errorf("tokenLifeInMinutes minOccurs = %q, want 1", got)
	}
	for _, op := range []string{"getAccessSessionToken", "getAccessToken"} {
		if n := len(seq(byName(t, schema, nsXS, "element", op)).ChildElements()); n != 0 {
			t.Errorf("%s: sequence has %d children, want empty", op, n)
		}
	}

	// Response wrappers.
	for _, op := range []string{"getAccessExpiringToken", "getAccessSessionToken", "getAccessToken"} {
		s := seq(byName(t, schema, nsXS, "element", op+"Response"))
		if got := names(s, nsXS, "element"); !equal(got, []string{"return"}) {
			t.Errorf("%sResponse children = %q, want [return]", op, got)
			continue
		}
		ret := byName(t, s, nsXS, "element", "return")
		if got := qname(t, ret, "type"); got != tokenInfo {
			t.Errorf("%sResponse/return type = %s, want %s", op, got, tokenInfo)
		}
		if got := ret.SelectAttrValue("minOccurs", ""); got != "0" {
			t.Errorf("%sResponse/return minOccurs = %q, want 0", op, got)
		}
	}

	// tokenInfo: session, token, username in this order, all optional strings.
	ti := child(t, byName(t, schema, nsXS, "complexType", "tokenInfo"), nsXS, "sequence")
	want := []string{"session", "token", "username"}
	if got := names(ti, nsXS, "element"); !equal(got, want) {
		t.Fatalf("tokenInfo children = %q, want %q", got, want)
	}
	for _, e := range children(ti, nsXS, "element") {
		if got := qname(t, e, "type"); got != xsString {
			t.Errorf("tokenInfo/%s type = %s, want %s", e.SelectAttrValue("name", ""), got, xsString)
		}
		if got := e.SelectAttrValue("minOccurs", ""); got != "0" {
			t.Errorf("tokenInfo/%s minOccurs = %q, want 0", e.SelectAttrValue("name", ""), got)
		}
	}
}

func TestTokenLogoutSchema(t *testing.T) {
	root := parse(t, Raw(TokenLogout))
	schema := child(t, child(t, root, nsWSDL, "types"), nsXS, "schema")
	for _, el := range []string{"logout", "logoutResponse"} {
		s := child(t, child(t, byName(t, schema, nsXS, "element", el), nsXS, "complexType"), nsXS, "sequence")
		if n := len(s.ChildElements()); n != 0 {
			t.Errorf("%s: sequence has %d children, want empty", el, n)
		}
	}
}

func TestAddressRewrite(t *testing.T) {
	bases := []string{
		"https://tm.example.com:8443",
		"http://10.0.0.1",
		"http://[::1]:9090",
		`http://a"<b`,            // hostile: must be escaped, not break the document
		`http://x'&y></z>"&amp;`, // more hostile characters
		"http://tab\there\nnl",   // whitespace would be normalised if left raw
	}
	for _, sp := range specs {
		for _, base := range bases {
			out := write(t, sp.svc, base)
			root := parse(t, out)
			want := base + sp.path
			l11, l12 := addresses(t, root, sp)
			if l11 != want || l12 != want {
				t.Errorf("%s base %q: locations = %q, %q; want %q", sp.service, base, l11, l12, want)
			}
			if bytes.Contains(out, []byte("localhost:8080")) {
				t.Errorf("%s base %q: output still contains the committed address", sp.service, base)
			}
			if strings.ContainsAny(base, `"<&`+"\t\n") && bytes.Contains(out, []byte(base)) {
				t.Errorf("%s base %q: base URL written unescaped", sp.service, base)
			}
		}
	}
}

func TestWriteCommittedBaseIsRaw(t *testing.T) {
	for _, sp := range specs {
		if got := write(t, sp.svc, "http://localhost:8080"); !bytes.Equal(got, Raw(sp.svc)) {
			t.Errorf("%s: Write with the committed base differs from Raw", sp.service)
		}
	}
}

func TestRaw(t *testing.T) {
	for _, sp := range specs {
		raw := Raw(sp.svc)
		root := parse(t, raw)
		want := "http://localhost:8080" + sp.path
		l11, l12 := addresses(t, root, sp)
		if l11 != want || l12 != want {
			t.Errorf("%s: raw locations = %q, %q; want %q", sp.service, l11, l12, want)
		}
		raw[0] = 'X'
		if Raw(sp.svc)[0] == 'X' {
			t.Errorf("%s: Raw returned shared storage", sp.service)
		}
	}
	if Raw(Service(-1)) != nil || Raw(serviceCount) != nil {
		t.Error("Raw of an unknown service should be nil")
	}
}

type failWriter struct{}

var errFail = errors.New("fail")

func (failWriter) Write([]byte) (int, error) { return 0, errFail }

func TestWriteErrors(t *testing.T) {
	if err := Write(&bytes.Buffer{}, serviceCount, "http://x"); err == nil {
		t.Error("Write of an unknown service: want error")
	}
	if err := Write(failWriter{}, TokenManager, "http://x"); !errors.Is(err, errFail) {
		t.Errorf("Write to a failing writer: err = %v, want %v", err, errFail)
	}
}

func BenchmarkWrite(b *testing.B) {
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := Write(&buf, TokenManager, "https://tm.example.com:8443"); err != nil {
			b.Fatal(err)
		}
	}
}

// operations is the service's portType operations, which every other part of its document must match.
func operations(t *testing.T, svc Service) []string {
	t.Helper()
	ops, err := Operations(svc)
	if err != nil || len(ops) == 0 {
		t.Fatalf("Operations(%s) = %q, %v", svc.Path(), ops, err)
	}
	return ops
}
