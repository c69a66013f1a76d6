// Package licensesoap serves the SOAP LicenseService: the licensing operations of the Cryptolens-compatible
// API (activate, getKey, deactivate, createKey, …) for SOAP users, on the same license.Service calls, in our
// own namespace and with the token services' conventions (document/literal wrapped, unqualified children,
// SOAP 1.1 and 1.2 on one address, ?wsdl with the address rewritten). Errors are SOAP Faults carrying
// Cryptolens' messages.
package licensesoap

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/server/cryptolens"
	"github.com/tokenmanager/tokenmanager/server/internal/credential"
	"github.com/tokenmanager/tokenmanager/server/internal/reply"
	"github.com/tokenmanager/tokenmanager/server/internal/signlimit"
	"github.com/tokenmanager/tokenmanager/server/internal/soapwire"
	"github.com/tokenmanager/tokenmanager/server/internal/surface"
	"github.com/tokenmanager/tokenmanager/soap"
	"github.com/tokenmanager/tokenmanager/wsdl"
)

// operation answers one SOAP operation with the caller's licensing authority.
type operation = func(*http.Request, *soap.Envelope, *license.Access) (soap.Response, error)

// Service is the SOAP LicenseService over the licensing core.
type Service struct {
	env        *surface.Env
	users      soapwire.Users // vendors signed in with a password
	licenses   *license.Service
	signLimits *signlimit.Limiter // every license answered is signed
}

// New returns the service over licenses; users authenticates vendors who sign in with a password, and
// signLimits is the limiter the server shares with its other licensing surfaces.
func New(env *surface.Env, users soapwire.Users, licenses *license.Service, signLimits *signlimit.Limiter) *Service {
	return &Service{env: env, users: users, licenses: licenses, signLimits: signLimits}
}

// Mount adds the service and its ?wsdl at wsdl.LicenseService's path.
func (ls *Service) Mount(mux *http.ServeMux) {
	ep := &soap.Endpoint{MaxBytes: ls.env.MaxBodyBytes, Failure: ls.env.Failure,
		Understood: map[string][]string{soap.NSWSSE: {"Security"}}}
	ops := map[string]func(*http.Request, *soap.Envelope, *license.Access) (soap.Response, error){
		"activate":      ls.activate,
		"deactivate":    ls.deactivate,
		"getKey":        ls.getKey,
		"createKey":     ls.createKey,
		"blockKey":      ls.block(true),
		"unblockKey":    ls.block(false),
		"extendLicense": ls.extend,
	}
	maps.Copy(ops, ls.dataOperations()) // data.go
	maps.Copy(ops, ls.customerOps())    // customers.go
	maps.Copy(ops, ls.keyOps())         // keys.go
	for op, h := range ops {
		ep.Handle(wsdl.LicenseNamespace, op, func(w http.ResponseWriter, r *http.Request, env *soap.Envelope) (soap.Response, error) {
			a, err := ls.access(r, env)
			if err != nil {
				return nil, err
			}
			// The audit events of the licensing changes name the caller's address.
			return h(r.WithContext(license.WithClient(r.Context(), ls.env.Clients.Host(r))), env, a)
		})
	}
	mux.Handle("POST "+wsdl.LicenseService.Path(), ep)
	mux.HandleFunc("GET "+wsdl.LicenseService.Path(), soapwire.WSDL(ls.env, wsdl.LicenseService))
}

// access authenticates a LicenseService call: a licensing access token (Authorization: Bearer, or Basic
// with an empty user name and the token as the password), or else a vendor's password (Basic or a WS-Security
// UsernameToken, as the token services take it).
func (ls *Service) access(r *http.Request, env *soap.Envelope) (*license.Access, error) {
	tok := credential.BearerHeader(r)
	if user, pass, ok := credential.Basic(r); ok && user == "" {
		tok = pass
	}
	if tok != "" {
		a, err := ls.licenses.Authenticate(r.Context(), tok)
		if errors.Is(err, license.ErrUnauthenticated) {
			ls.env.Log.InfoContext(r.Context(), "licensing token refused", "reason", err.Error())
			return nil, ls.users.AuthFault(env, cryptolens.MsgUnauthenticated)
		}
		return a, err
	}
	u, err := ls.users.User(r, env)
	if err != nil {
		return nil, err
	}
	a, err := ls.licenses.Vendor(r.Context(), u.Name)
	if err != nil {
		return nil, ls.fault(env, err)
	}
	return a, nil
}

// fault is the translation of license errors into SOAP Faults carrying Cryptolens' messages.
func (ls *Service) fault(env *soap.Envelope, err error) error {
	msg, ok := cryptolens.Message(err)
	switch {
	case !ok:
		return err // internal: logged, answered with a generic Server fault
	case errors.Is(err, license.ErrUnauthenticated):
		return ls.users.AuthFault(env, msg)
	}
	return soap.ClientFault(env.Version, msg)
}

// --- request arguments ---

// argReader reads an operation's children by local name (qualified or not). xsi:nil counts as absent. The first
// missing or malformed argument is remembered and reported as one Client fault.
type argReader struct {
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

func (a *argReader) text(parent *etree.Element, name string, required bool) (string, bool) {
	c := soapChild(parent, name)
	if c == nil {
		if required && a.bad == "" {
			a.bad = name + " is required"
		}
		return "", false
	}
	return c.Text(), true
}

func (a *argReader) str(name string, required bool) string {
	v, _ := a.text(a.env.Body, name, required)
	return v
}

func (a *argReader) num(name string, required bool, bits int) int64 {
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

func (a *argReader) long(name string, required bool) int64 { return a.num(name, required, 64) }
func (a *argReader) int(name string, required bool) int    { return int(a.num(name, required, 32)) }

// boolean reads an xs:boolean: true, false, 1 or 0.
func (a *argReader) boolean(name string) bool {
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
func (a *argReader) err() error {
	if a.bad == "" {
		return nil
	}
	return soap.ClientFault(a.env.Version, cryptolens.MsgBadInput+" ("+a.bad+")")
}

// --- responses ---

// response is <ns2:{op}Response> with what body writes inside.
type response struct {
	op   string
	body func(x *xmlWriter)
}

func (r response) WriteBody(b *bytes.Buffer) {
	b.WriteString(`<ns2:` + r.op + `Response xmlns:ns2="` + wsdl.LicenseNamespace + `">`)
	if r.body != nil {
		r.body(&xmlWriter{b})
	}
	b.WriteString(`</ns2:` + r.op + `Response>`)
}

type xmlWriter struct{ b *bytes.Buffer }

func (x *xmlWriter) open(name string)  { x.b.WriteString("<" + name + ">") }
func (x *xmlWriter) close(name string) { x.b.WriteString("</" + name + ">") }

func (x *xmlWriter) elem(name, text string) {
	x.open(name)
	soap.Escape(x.b, text)
	x.close(name)
}

func (x *xmlWriter) long(name string, v int64) { x.elem(name, strconv.FormatInt(v, 10)) }
func (x *xmlWriter) bool(name string, v bool)  { x.elem(name, strconv.FormatBool(v)) }
func (x *xmlWriter) time(name string, t time.Time) {
	x.elem(name, t.UTC().Format(time.RFC3339))
}

// writeLicenseXML writes a license as the WSDL's tns:license: the fields the caller may see, and the signed form.
func writeLicenseXML(x *xmlWriter, l license.License, signed license.Signed) error {
	var stamp struct{ SignDate int64 }
	if err := json.Unmarshal(signed.LicenseKey, &stamp); err != nil {
		return err
	}
	x.open("return")
	writeKeyHead(x, l)
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
	writeKeyLimits(x, l)
	for _, o := range l.DataObjects {
		writeDataObject(x, "dataObject", o)
	}
	x.time("signDate", time.Unix(stamp.SignDate, 0))
	x.elem("licenseKey", base64.StdEncoding.EncodeToString(signed.LicenseKey))
	x.elem("signature", base64.StdEncoding.EncodeToString(signed.Signature))
	x.close("return")
	return nil
}

// writeKeyHead writes the fields a license (tns:license) and a listed key (tns:listedKey) open with, in the
// WSDL's order: what the caller may see of the key, then its customer.
func writeKeyHead(x *xmlWriter, l license.License) {
	k, h := l.Key, l.Hidden
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
}

// writeKeyLimits writes the machine limits both types carry after the key's machines or reseller.
func writeKeyLimits(x *xmlWriter, l license.License) {
	k, h := l.Key, l.Hidden
	x.bool("trialActivation", k.TrialActivation)
	if !h.Has(license.HideMaxNoOfMachines) {
		x.long("maxNoOfMachines", int64(k.MaxNoOfMachines))
	}
	if !h.Has(license.HideAllowedMachines) {
		x.elem("allowedMachines", k.AllowedMachines)
	}
}

// allowSign checks the signing limits (every license answer of this service is signed; its schema requires
// the signature) before the call changes anything: a Client fault with HTTP 429 and Retry-After when limited.
func (ls *Service) allowSign(r *http.Request, env *soap.Envelope, a *license.Access) error {
	e := ls.signLimits.Allow(r.Context(), a, ls.env.Clients.Host(r), ls.env.Now())
	if e == nil {
		return nil
	}
	h := http.Header{}
	reply.RetryAfter(h, e.Wait)
	return &soap.Fault{Version: env.Version, Code: soap.CodeClient, String: e.Message(), Status: http.StatusTooManyRequests, Header: h}
}

// licenseAnswer signs l and answers it.
func (ls *Service) licenseAnswer(env *soap.Envelope, l license.License) (soap.Response, error) {
	signed, err := ls.licenses.Sign(l)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := writeLicenseXML(&xmlWriter{&buf}, l, signed); err != nil {
		return nil, err
	}
	_, op := env.Operation()
	return response{op: op, body: func(x *xmlWriter) { x.b.Write(buf.Bytes()) }}, nil
}

func emptyResponse(env *soap.Envelope) soap.Response {
	_, op := env.Operation()
	return response{op: op}
}

// --- operations ---

func (ls *Service) activate(r *http.Request, env *soap.Envelope, a *license.Access) (soap.Response, error) {
	args := &argReader{env: env}
	req := license.ActivateRequest{
		ProductID: args.long("productId", true), Key: args.str("key", true),
		MachineCode: args.str("machineCode", false), FriendlyName: args.str("friendlyName", false),
		FloatingInterval: time.Duration(args.int("floatingTimeInterval", false)) * time.Second,
		MaxOverdraft:     args.int("maxOverdraft", false),
		Hide:             license.FieldMask(args.long("fieldsToReturn", false)),
		IP:               ls.env.Clients.Host(r),
	}
	if err := args.err(); err != nil {
		return nil, err
	}
	if err := ls.allowSign(r, env, a); err != nil {
		return nil, err
	}
	l, err := ls.licenses.Activate(r.Context(), a, req)
	if err != nil {
		return nil, ls.fault(env, err)
	}
	return ls.licenseAnswer(env, l)
}

func (ls *Service) getKey(r *http.Request, env *soap.Envelope, a *license.Access) (soap.Response, error) {
	args := &argReader{env: env}
	product, key := args.long("productId", true), args.str("key", true)
	hide := license.FieldMask(args.long("fieldsToReturn", false))
	if err := args.err(); err != nil {
		return nil, err
	}
	if err := ls.allowSign(r, env, a); err != nil {
		return nil, err
	}
	l, err := ls.licenses.GetKey(r.Context(), a, product, key, hide)
	if err != nil {
		return nil, ls.fault(env, err)
	}
	return ls.licenseAnswer(env, l)
}

func (ls *Service) deactivate(r *http.Request, env *soap.Envelope, a *license.Access) (soap.Response, error) {
	args := &argReader{env: env}
	req := license.DeactivateRequest{ProductID: args.long("productId", true), Key: args.str("key", true),
		MachineCode: args.str("machineCode", true), Floating: args.boolean("floating")}
	if err := args.err(); err != nil {
		return nil, err
	}
	if err := ls.licenses.Deactivate(r.Context(), a, req); err != nil {
		return nil, ls.fault(env, err)
	}
	return emptyResponse(env), nil
}

func (ls *Service) createKey(r *http.Request, env *soap.Envelope, a *license.Access) (soap.Response, error) {
	args := &argReader{env: env}
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
	created, err := ls.licenses.CreateKey(r.Context(), a, product, spec)
	if err != nil {
		return nil, ls.fault(env, err)
	}
	_, op := env.Operation()
	return response{op: op, body: func(x *xmlWriter) {
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

func (ls *Service) block(block bool) func(*http.Request, *soap.Envelope, *license.Access) (soap.Response, error) {
	return func(r *http.Request, env *soap.Envelope, a *license.Access) (soap.Response, error) {
		args := &argReader{env: env}
		product, key := args.long("productId", true), args.str("key", true)
		if err := args.err(); err != nil {
			return nil, err
		}
		if err := ls.licenses.BlockKey(r.Context(), a, product, key, block); err != nil {
			return nil, ls.fault(env, err)
		}
		return emptyResponse(env), nil
	}
}

func (ls *Service) extend(r *http.Request, env *soap.Envelope, a *license.Access) (soap.Response, error) {
	args := &argReader{env: env}
	product, key, n := args.long("productId", true), args.str("key", true), args.int("noOfDays", true)
	if err := args.err(); err != nil {
		return nil, err
	}
	if err := ls.licenses.ExtendLicense(r.Context(), a, product, key, n); err != nil {
		return nil, ls.fault(env, err)
	}
	return emptyResponse(env), nil
}
