package server

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/soap"
	"github.com/tokenmanager/tokenmanager/wsdl"
)

// The SOAP LicenseService: the licensing operations of the Cryptolens-compatible API for SOAP users, on the same
// license.Service calls, in our own namespace and with the token services' conventions (document/literal
// wrapped, unqualified children, SOAP 1.1 and 1.2 on one address, ?wsdl with the address rewritten). Errors
// are SOAP Faults carrying Cryptolens' messages.

func (s *Server) routeLicenseSOAP() {
	if s.deps.License == nil {
		return
	}
	ep := &soap.Endpoint{MaxBytes: s.cfg.MaxBodyBytes, OnError: s.internalError,
		Understood: map[string][]string{soap.NSWSSE: {"Security"}}}
	for op, h := range map[string]func(*http.Request, *soap.Envelope, *license.Access) (soap.Response, error){
		"activate":      s.licActivate,
		"deactivate":    s.licDeactivate,
		"getKey":        s.licGetKey,
		"createKey":     s.licCreateKey,
		"blockKey":      s.licBlock(true),
		"unblockKey":    s.licBlock(false),
		"extendLicense": s.licExtend,
		// Product listings (license_soap_keys.go).
		"getKeys":     s.licGetKeys,
		"getProducts": s.licGetProducts,
	} {
		ep.Handle(wsdl.LicenseNamespace, op, func(w http.ResponseWriter, r *http.Request, env *soap.Envelope) (soap.Response, error) {
			a, err := s.licenseAccess(r, env)
			if err != nil {
				return nil, err
			}
			return h(r, env, a)
		})
	}
	s.mux.Handle("POST "+wsdl.LicenseService.Path(), ep)
	s.mux.HandleFunc("GET "+wsdl.LicenseService.Path(), s.serveWSDL(wsdl.LicenseService))
}

// licenseAccess authenticates a LicenseService call: a licensing access token (Authorization: Bearer, or Basic
// with an empty user name and the token as the password), or else a vendor's password (Basic or a WS-Security
// UsernameToken, as the token services take it).
func (s *Server) licenseAccess(r *http.Request, env *soap.Envelope) (*license.Access, error) {
	tok := bearerHeader(r)
	if user, pass, ok := basicAuth(r); ok && user == "" {
		tok = pass
	}
	if tok != "" {
		a, err := s.deps.License.Authenticate(r.Context(), tok)
		if errors.Is(err, license.ErrUnauthenticated) {
			s.deps.Log.InfoContext(r.Context(), "licensing token refused", "reason", err.Error())
			return nil, s.soapAuthFault(env, clMsgUnauthenticated)
		}
		return a, err
	}
	u, err := s.soapUser(r, env)
	if err != nil {
		return nil, err
	}
	a, err := s.deps.License.Vendor(r.Context(), u.Name)
	if err != nil {
		return nil, s.licenseFault(env, err)
	}
	return a, nil
}

// licenseFault is the translation of license errors into SOAP Faults carrying Cryptolens' messages.
func (s *Server) licenseFault(env *soap.Envelope, err error) error {
	msg, ok := licenseMessage(err)
	switch {
	case !ok:
		return err // internal: logged, answered with a generic Server fault
	case errors.Is(err, license.ErrUnauthenticated):
		return s.soapAuthFault(env, msg)
	}
	return soap.ClientFault(env.Version, msg)
}

// --- request arguments ---

// licSOAPArgs reads an operation's children by local name (qualified or not). xsi:nil counts as absent. The first
// missing or malformed argument is remembered and reported as one Client fault.
type licSOAPArgs struct {
	env *soap.Envelope
	bad string
}

const nsXSI = "http://www.w3.org/2001/XMLSchema-instance"

func soapChild(parent *etree.Element, local string) *etree.Element {
	for _, c := range parent.ChildElements() {
		if c.Tag != local {
			continue
		}
		for _, a := range c.Attr {
			if a.Key == "nil" && a.NamespaceURI() == nsXSI && (a.Value == "true" || a.Value == "1") {
				return nil
			}
		}
		return c
	}
	return nil
}

func (a *licSOAPArgs) text(parent *etree.Element, name string, required bool) (string, bool) {
	c := soapChild(parent, name)
	if c == nil {
		if required && a.bad == "" {
			a.bad = name + " is required"
		}
		return "", false
	}
	return c.Text(), true
}

func (a *licSOAPArgs) str(name string, required bool) string {
	v, _ := a.text(a.env.Body, name, required)
	return v
}

func (a *licSOAPArgs) num(name string, required bool, bits int) int64 {
	v, ok := a.text(a.env.Body, name, required)
	if !ok {
		return 0
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, bits)
	if err != nil && a.bad == "" {
		a.bad = name + " must be an integer"
	}
	return n
}

func (a *licSOAPArgs) long(name string, required bool) int64 { return a.num(name, required, 64) }
func (a *licSOAPArgs) int(name string, required bool) int    { return int(a.num(name, required, 32)) }

// boolean reads an xs:boolean: true, false, 1 or 0.
func (a *licSOAPArgs) boolean(name string) bool {
	v, ok := a.text(a.env.Body, name, false)
	switch strings.TrimSpace(v) {
	case "true", "1":
		return true
	case "false", "0":
	default:
		if ok && a.bad == "" {
			a.bad = name + " must be true or false"
		}
	}
	return false
}

// err is the Client fault for the first bad argument, or nil.
func (a *licSOAPArgs) err() error {
	if a.bad == "" {
		return nil
	}
	return soap.ClientFault(a.env.Version, clMsgBadInput+" ("+a.bad+")")
}

// --- responses ---

// licResponse is <ns2:{op}Response> with what body writes inside.
type licResponse struct {
	op   string
	body func(x *licXMLWriter)
}

func (r licResponse) WriteBody(b *bytes.Buffer) {
	b.WriteString(`<ns2:` + r.op + `Response xmlns:ns2="` + wsdl.LicenseNamespace + `">`)
	if r.body != nil {
		r.body(&licXMLWriter{b})
	}
	b.WriteString(`</ns2:` + r.op + `Response>`)
}

type licXMLWriter struct{ b *bytes.Buffer }

func (x *licXMLWriter) open(name string)  { x.b.WriteString("<" + name + ">") }
func (x *licXMLWriter) close(name string) { x.b.WriteString("</" + name + ">") }

func (x *licXMLWriter) elem(name, text string) {
	x.open(name)
	soap.Escape(x.b, text)
	x.close(name)
}

func (x *licXMLWriter) long(name string, v int64) { x.elem(name, strconv.FormatInt(v, 10)) }
func (x *licXMLWriter) bool(name string, v bool)  { x.elem(name, strconv.FormatBool(v)) }
func (x *licXMLWriter) time(name string, t time.Time) {
	x.elem(name, t.UTC().Format(time.RFC3339))
}

// writeLicenseXML writes a license as the WSDL's tns:license: the fields the caller may see, and the signed form.
func writeLicenseXML(x *licXMLWriter, l license.License, signed license.Signed) error {
	var stamp struct{ SignDate int64 }
	if err := json.Unmarshal(signed.LicenseKey, &stamp); err != nil {
		return err
	}
	k, h := l.Key, l.Hidden
	x.open("return")
	x.long("productId", k.ProductID)
	if !h.Has(license.HideID) {
		x.long("id", k.ID)
	}
	if !h.Has(license.HideKey) {
		x.elem("key", k.Key)
	}
	x.time("created", k.CreatedAt)
	if !k.ExpiresAt.IsZero() {
		x.time("expires", k.ExpiresAt)
	}
	x.long("period", int64(k.Period))
	for i, on := range k.Features {
		x.bool("f"+strconv.Itoa(i+1), on)
	}
	if !h.Has(license.HideNotes) {
		x.elem("notes", k.Notes)
	}
	x.bool("block", k.Blocked || l.BlockedExpired)
	if !h.Has(license.HideGlobalID) {
		x.long("globalId", k.GlobalID)
	}
	if c := l.Customer; c != nil && !h.Has(license.HideCustomer) {
		x.open("customer")
		x.long("id", c.ID)
		x.elem("name", c.Name)
		x.elem("email", c.Email)
		x.elem("companyName", c.Company)
		x.time("created", c.CreatedAt)
		x.close("customer")
	}
	for _, m := range l.Machines {
		x.open("activatedMachine")
		x.elem("mid", license.Mid(m))
		x.elem("friendlyName", m.FriendlyName)
		x.elem("ip", m.IP)
		x.time("time", m.ActivatedAt)
		if !m.FloatingExpiresAt.IsZero() {
			x.time("floatingExpires", m.FloatingExpiresAt)
		}
		x.close("activatedMachine")
	}
	x.bool("trialActivation", k.TrialActivation)
	if !h.Has(license.HideMaxNoOfMachines) {
		x.long("maxNoOfMachines", int64(k.MaxNoOfMachines))
	}
	if !h.Has(license.HideAllowedMachines) {
		x.elem("allowedMachines", k.AllowedMachines)
	}
	x.time("signDate", time.Unix(stamp.SignDate, 0))
	x.elem("licenseKey", base64.StdEncoding.EncodeToString(signed.LicenseKey))
	x.elem("signature", base64.StdEncoding.EncodeToString(signed.Signature))
	x.close("return")
	return nil
}

// licAllowSign checks the signing limits (every license answer of this service is signed; its schema requires
// the signature) before the call changes anything: a Client fault with HTTP 429 and Retry-After when limited.
func (s *Server) licAllowSign(r *http.Request, env *soap.Envelope, a *license.Access) error {
	e := s.allowSign(r, a)
	if e == nil {
		return nil
	}
	h := http.Header{}
	retryAfter(h, e.wait)
	return &soap.Fault{Version: env.Version, Code: soap.CodeClient, String: e.message(), Status: http.StatusTooManyRequests, Header: h}
}

// licenseResponse signs l and answers it.
func (s *Server) licenseResponse(env *soap.Envelope, l license.License) (soap.Response, error) {
	signed, err := s.deps.License.Sign(l)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := writeLicenseXML(&licXMLWriter{&buf}, l, signed); err != nil {
		return nil, err
	}
	_, op := env.Operation()
	return licResponse{op: op, body: func(x *licXMLWriter) { x.b.Write(buf.Bytes()) }}, nil
}

func emptyLicResponse(env *soap.Envelope) soap.Response {
	_, op := env.Operation()
	return licResponse{op: op}
}

// --- operations ---

func (s *Server) licActivate(r *http.Request, env *soap.Envelope, a *license.Access) (soap.Response, error) {
	args := &licSOAPArgs{env: env}
	req := license.ActivateRequest{
		ProductID: args.long("productId", true), Key: args.str("key", true),
		MachineCode: args.str("machineCode", false), FriendlyName: args.str("friendlyName", false),
		FloatingInterval: time.Duration(args.int("floatingTimeInterval", false)) * time.Second,
		MaxOverdraft:     args.int("maxOverdraft", false),
		Hide:             license.FieldMask(args.long("fieldsToReturn", false)),
		IP:               s.clients.host(r),
	}
	if err := args.err(); err != nil {
		return nil, err
	}
	if err := s.licAllowSign(r, env, a); err != nil {
		return nil, err
	}
	l, err := s.deps.License.Activate(r.Context(), a, req)
	if err != nil {
		return nil, s.licenseFault(env, err)
	}
	return s.licenseResponse(env, l)
}

func (s *Server) licGetKey(r *http.Request, env *soap.Envelope, a *license.Access) (soap.Response, error) {
	args := &licSOAPArgs{env: env}
	product, key := args.long("productId", true), args.str("key", true)
	hide := license.FieldMask(args.long("fieldsToReturn", false))
	if err := args.err(); err != nil {
		return nil, err
	}
	if err := s.licAllowSign(r, env, a); err != nil {
		return nil, err
	}
	l, err := s.deps.License.GetKey(r.Context(), a, product, key, hide)
	if err != nil {
		return nil, s.licenseFault(env, err)
	}
	return s.licenseResponse(env, l)
}

func (s *Server) licDeactivate(r *http.Request, env *soap.Envelope, a *license.Access) (soap.Response, error) {
	args := &licSOAPArgs{env: env}
	req := license.DeactivateRequest{ProductID: args.long("productId", true), Key: args.str("key", true),
		MachineCode: args.str("machineCode", true), Floating: args.boolean("floating")}
	if err := args.err(); err != nil {
		return nil, err
	}
	if err := s.deps.License.Deactivate(r.Context(), a, req); err != nil {
		return nil, s.licenseFault(env, err)
	}
	return emptyLicResponse(env), nil
}

func (s *Server) licCreateKey(r *http.Request, env *soap.Envelope, a *license.Access) (soap.Response, error) {
	args := &licSOAPArgs{env: env}
	product := args.long("productId", true)
	spec := license.KeySpec{Period: args.int("period", false), Notes: args.str("notes", false),
		Blocked: args.boolean("block"), CustomerID: args.long("customerId", false),
		TrialActivation: args.boolean("trialActivation"), MaxNoOfMachines: args.int("maxNoOfMachines", false),
		AllowedMachines: args.str("allowedMachines", false)}
	for i := range spec.Features {
		spec.Features[i] = args.boolean("f" + strconv.Itoa(i+1))
	}
	if nc := soapChild(env.Body, "newCustomer"); nc != nil {
		name, _ := args.text(nc, "name", false)
		email, _ := args.text(nc, "email", false)
		company, _ := args.text(nc, "companyName", false)
		spec.NewCustomer = &license.CustomerSpec{Name: name, Email: email, Company: company}
	}
	if err := args.err(); err != nil {
		return nil, err
	}
	created, err := s.deps.License.CreateKey(r.Context(), a, product, spec)
	if err != nil {
		return nil, s.licenseFault(env, err)
	}
	_, op := env.Operation()
	return licResponse{op: op, body: func(x *licXMLWriter) {
		x.open("return")
		x.elem("key", created.Key.Key)
		x.long("id", created.Key.ID)
		x.long("globalId", created.Key.GlobalID)
		if created.Key.CustomerID != 0 {
			x.long("customerId", created.Key.CustomerID)
		}
		x.close("return")
	}}, nil
}

func (s *Server) licBlock(block bool) func(*http.Request, *soap.Envelope, *license.Access) (soap.Response, error) {
	return func(r *http.Request, env *soap.Envelope, a *license.Access) (soap.Response, error) {
		args := &licSOAPArgs{env: env}
		product, key := args.long("productId", true), args.str("key", true)
		if err := args.err(); err != nil {
			return nil, err
		}
		if err := s.deps.License.BlockKey(r.Context(), a, product, key, block); err != nil {
			return nil, s.licenseFault(env, err)
		}
		return emptyLicResponse(env), nil
	}
}

func (s *Server) licExtend(r *http.Request, env *soap.Envelope, a *license.Access) (soap.Response, error) {
	args := &licSOAPArgs{env: env}
	product, key, n := args.long("productId", true), args.str("key", true), args.int("noOfDays", true)
	if err := args.err(); err != nil {
		return nil, err
	}
	if err := s.deps.License.ExtendLicense(r.Context(), a, product, key, n); err != nil {
		return nil, s.licenseFault(env, err)
	}
	return emptyLicResponse(env), nil
}
