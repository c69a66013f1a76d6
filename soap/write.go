package soap

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"
)

// Fault codes, named as in SOAP 1.1; SOAP 1.2 writes Client as Sender and Server as Receiver.
const (
	CodeClient          = "Client"
	CodeServer          = "Server"
	CodeVersionMismatch = "VersionMismatch"
	CodeMustUnderstand  = "MustUnderstand"
)

// Fault is a SOAP Fault and an error.
type Fault struct {
	Version Version
	Code    string
	String  string
	// Status overrides the HTTP status (e.g. 401 for authentication, 413 for size); 0 = the SOAP default.
	Status int
	Header http.Header // extra response headers, e.g. WWW-Authenticate
}

func (f *Fault) Error() string { return "soap fault " + f.Code + ": " + f.String }

// ClientFault is a fault blamed on the request.
func ClientFault(v Version, msg string) *Fault {
	return &Fault{Version: v, Code: CodeClient, String: msg}
}

// ServerFault is a fault blamed on the server; msg must not leak internals.
func ServerFault(v Version, msg string) *Fault {
	return &Fault{Version: v, Code: CodeServer, String: msg}
}

// HTTPStatus is the status the fault is sent with: SOAP 1.1 §6.2 sends every fault with 500; the SOAP 1.2 HTTP
// binding sends Sender faults with 400 and the rest with 500.
func (f *Fault) HTTPStatus() int {
	if f.Status != 0 {
		return f.Status
	}
	if f.Version == V12 && f.Code == CodeClient {
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

// Response is a body element; WriteBody appends its XML.
type Response interface {
	WriteBody(b *bytes.Buffer)
}

// WriteResponse writes body in an envelope of version v with HTTP 200.
func WriteResponse(w http.ResponseWriter, v Version, body Response) {
	var b bytes.Buffer
	b.Grow(512)
	b.WriteString(`<soap:Envelope xmlns:soap="`)
	b.WriteString(v.ns())
	b.WriteString(`"><soap:Body>`)
	body.WriteBody(&b)
	b.WriteString(`</soap:Body></soap:Envelope>`)
	write(w, v, http.StatusOK, b.Bytes())
}

// WriteFault writes f.
func WriteFault(w http.ResponseWriter, f *Fault) {
	v := f.Version
	if v == 0 {
		v = V11
	}
	var b bytes.Buffer
	b.WriteString(`<soap:Envelope xmlns:soap="`)
	b.WriteString(v.ns())
	b.WriteString(`"><soap:Body><soap:Fault>`)
	if v == V12 {
		code := f.Code
		switch code {
		case CodeClient:
			code = "Sender"
		case CodeServer:
			code = "Receiver"
		}
		b.WriteString(`<soap:Code><soap:Value>soap:`)
		b.WriteString(code)
		b.WriteString(`</soap:Value></soap:Code><soap:Reason><soap:Text xml:lang="en">`)
		Escape(&b, f.String)
		b.WriteString(`</soap:Text></soap:Reason>`)
	} else {
		b.WriteString(`<faultcode>soap:`)
		b.WriteString(f.Code)
		b.WriteString(`</faultcode><faultstring>`)
		Escape(&b, f.String)
		b.WriteString(`</faultstring>`)
	}
	b.WriteString(`</soap:Fault></soap:Body></soap:Envelope>`)
	for k, vs := range f.Header {
		w.Header()[k] = vs
	}
	write(w, v, f.HTTPStatus(), b.Bytes())
}

func write(w http.ResponseWriter, v Version, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", v.ContentType())
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(body)
}

// Escape appends s as XML character data.
func Escape(b *bytes.Buffer, s string) {
	if err := xml.EscapeText(b, []byte(s)); err != nil {
		panic(fmt.Sprintf("soap: escape: %v", err)) // bytes.Buffer writes do not fail
	}
}
