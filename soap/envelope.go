// Package soap reads SOAP 1.1 and 1.2 envelopes, writes responses and faults, and dispatches requests on the
// body element's {namespace URI, local name}. Prefixes, SOAPAction and whitespace never decide anything.
package soap

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/beevik/etree"
)

// Version is a SOAP version.
type Version int

const (
	V11 Version = iota + 1
	V12
)

// Envelope namespaces.
const (
	NS11 = "http://schemas.xmlsoap.org/soap/envelope/"
	NS12 = "http://www.w3.org/2003/05/soap-envelope"
)

// ContentType is the media type responses of this version carry.
func (v Version) ContentType() string {
	if v == V12 {
		return "application/soap+xml; charset=utf-8"
	}
	return "text/xml; charset=utf-8"
}

func (v Version) ns() string {
	if v == V12 {
		return NS12
	}
	return NS11
}

// MaxDepth bounds element nesting; real requests are a handful deep.
const MaxDepth = 64

// Envelope is a parsed request.
type Envelope struct {
	Version Version
	Header  *etree.Element // nil when absent, and always from ReadStream
	Body    *etree.Element // the first element child of Body: the operation (nil from ReadStream)

	hdr xnode // the Header (nil when absent) and the operation, whichever reader made them
	op  xnode
}

// Operation names the request: the body element's namespace URI and local name.
func (e *Envelope) Operation() (ns, local string) {
	return e.op.nsURI(), e.op.local()
}

// Repeated returns the local name of the first child element of the operation that appears more than once, or
// "". None of the operations we serve takes a repeated parameter, and guessing which copy the client meant is
// how two parsers come to disagree about one request.
func (e *Envelope) Repeated() string {
	seen := map[string]bool{}
	for _, c := range e.op.elems() {
		if seen[c.local()] {
			return c.local()
		}
		seen[c.local()] = true
	}
	return ""
}

// Child returns the text of the operation's child element called local, in any namespace (qualified or not),
// and whether it was present.
func (e *Envelope) Child(local string) (string, bool) {
	for _, c := range e.op.elems() {
		if c.local() == local {
			return strings.TrimSpace(c.text()), true
		}
	}
	return "", false
}

// Read parses an envelope from r. contentType is the request's Content-Type header; when it names one SOAP
// version and the envelope is the other, that is a VersionMismatch fault. Every error is a *Fault.
func Read(r io.Reader, contentType string) (*Envelope, error) {
	doc := etree.NewDocument()
	doc.ReadSettings = etree.ReadSettings{MaxDepth: MaxDepth}
	if _, err := doc.ReadFrom(r); err != nil {
		if errors.Is(err, etree.ErrMaxDepth) {
			return nil, ClientFault(V11, "XML nested too deeply")
		}
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &Fault{Version: V11, Code: CodeClient, String: "request body too large", Status: http.StatusRequestEntityTooLarge}
		}
		return nil, ClientFault(V11, "malformed XML: "+err.Error())
	}
	for _, tok := range doc.Child {
		switch tok.(type) {
		case *etree.Directive:
			return nil, ClientFault(V11, "a SOAP message must not contain a document type declaration")
		}
	}
	root := doc.Root()
	if root == nil {
		return nil, ClientFault(V11, "the document is not a SOAP Envelope")
	}
	env, err := envelopeOf(etreeNode{root}, contentType)
	if err != nil {
		return nil, err
	}
	if env.hdr != nil {
		env.Header = env.hdr.(etreeNode).e
	}
	env.Body = env.op.(etreeNode).e
	return env, nil
}

// envelopeOf checks the document element root of a parsed request and finds its Header and operation.
func envelopeOf(root xnode, contentType string) (*Envelope, error) {
	if root.local() != "Envelope" {
		return nil, ClientFault(V11, "the document is not a SOAP Envelope")
	}
	var v Version
	switch root.nsURI() {
	case NS11:
		v = V11
	case NS12:
		v = V12
	default:
		return nil, &Fault{Version: V11, Code: CodeVersionMismatch, String: "unknown SOAP envelope namespace"}
	}
	if want := versionOfContentType(contentType); want != 0 && want != v {
		return nil, &Fault{Version: want, Code: CodeVersionMismatch,
			String: "the Content-Type and the envelope namespace name different SOAP versions"}
	}
	env := &Envelope{Version: v}
	var body xnode
	for _, c := range root.elems() {
		if c.nsURI() != v.ns() {
			return nil, ClientFault(v, "unexpected element "+c.local()+" in the Envelope")
		}
		switch {
		case c.local() == "Header" && env.hdr == nil && body == nil:
			env.hdr = c
		case c.local() == "Body" && body == nil:
			body = c
		default:
			return nil, ClientFault(v, "unexpected or repeated element "+c.local()+" in the Envelope")
		}
	}
	if body == nil {
		return nil, ClientFault(v, "the Envelope has no Body")
	}
	ops := body.elems()
	if len(ops) != 1 {
		return nil, ClientFault(v, "the Body must contain exactly one operation element")
	}
	env.op = ops[0]
	return env, nil
}

func versionOfContentType(ct string) Version {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return 0
	}
	switch mt {
	case "text/xml":
		return V11
	case "application/soap+xml":
		return V12
	}
	return 0
}
