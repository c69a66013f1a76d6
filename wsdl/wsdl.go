// Package wsdl holds the hand-written WSDL 1.1 documents of the Spectrum-compatible
// TokenManagerService and TokenLogoutService, and of our own LicenseService, and writes
// them with the endpoint addresses rewritten for the host that serves them.
//
// The documents are document/literal wrapped, with elementFormDefault="unqualified",
// and each has a SOAP 1.1 port (listed first) and a SOAP 1.2 port on the same address.
// The token services are in Spectrum's namespace
// http://token.security.common.server.platform.spectrum.pb.com/, the LicenseService in
// http://license.tokenmanager.dev/.
package wsdl

import (
	_ "embed"
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Namespace is the targetNamespace of the two Spectrum documents, TokenManagerService and TokenLogoutService.
const Namespace = "http://token.security.common.server.platform.spectrum.pb.com/"

// LicenseNamespace is the targetNamespace of our own LicenseService (no Spectrum counterpart to follow).
const LicenseNamespace = "http://license.tokenmanager.dev/"

// committedBase is the scheme://host:port part of every address in the
// committed documents; Write replaces it.
const committedBase = "http://localhost:8080"

//go:embed TokenManagerService.wsdl
var tokenManagerWSDL []byte

//go:embed TokenLogoutService.wsdl
var tokenLogoutWSDL []byte

//go:embed LicenseService.wsdl
var licenseWSDL []byte

// Service names one of the WSDL documents we serve.
type Service int

const (
	TokenManager   Service = iota // /security/TokenManagerService
	TokenLogout                   // /security/TokenLogoutService
	LicenseService                // /security/LicenseService
	serviceCount
)

// Path is the endpoint path of the service, e.g. "/security/TokenManagerService".
func (s Service) Path() string {
	switch s {
	case TokenManager:
		return "/security/TokenManagerService"
	case TokenLogout:
		return "/security/TokenLogoutService"
	case LicenseService:
		return "/security/LicenseService"
	}
	return ""
}

// doc is a document split around the literal committed address.
type doc struct {
	raw []byte
	// chunks are the pieces of raw between occurrences of the committed
	// address; len(chunks) == occurrences+1.
	chunks [][]byte
	size   int // total length of chunks
}

var docs [serviceCount]doc

func init() {
	for s, raw := range map[Service][]byte{TokenManager: tokenManagerWSDL, TokenLogout: tokenLogoutWSDL, LicenseService: licenseWSDL} {
		addr := committedBase + s.Path()
		parts := strings.Split(string(raw), `location="`+addr+`"`)
		if len(parts) < 2 {
			panic(fmt.Sprintf("wsdl: embedded document for %s has no address %q", s.Path(), addr))
		}
		d := doc{raw: raw}
		for _, p := range parts {
			d.chunks = append(d.chunks, []byte(p))
			d.size += len(p)
		}
		docs[s] = d
	}
}

func lookup(s Service) (*doc, bool) {
	if s < 0 || int(s) >= len(docs) {
		return nil, false
	}
	return &docs[s], true
}

// Write writes the WSDL of s with every soap:address / soap12:address location set to
// baseURL+s.Path(). baseURL is scheme://host[:port] with no trailing slash, already validated by the caller;
// it must be XML-attribute-escaped by Write.
func Write(w io.Writer, s Service, baseURL string) error {
	d, ok := lookup(s)
	if !ok {
		return fmt.Errorf("wsdl: unknown service %d", int(s))
	}
	var esc strings.Builder
	esc.WriteString(`location="`)
	// EscapeText escapes &, <, >, ", ' and the whitespace characters that
	// attribute-value normalisation would otherwise fold, so the result is
	// safe inside a double-quoted attribute.
	if err := xml.EscapeText(&esc, []byte(baseURL+s.Path())); err != nil {
		return err
	}
	esc.WriteByte('"')
	loc := esc.String()

	buf := make([]byte, 0, d.size+(len(d.chunks)-1)*len(loc))
	for i, c := range d.chunks {
		if i > 0 {
			buf = append(buf, loc...)
		}
		buf = append(buf, c...)
	}
	_, err := w.Write(buf)
	return err
}

// Raw returns the embedded document as committed (addresses http://localhost:8080/...).
// It returns a fresh copy on every call, or nil for an unknown service.
func Raw(s Service) []byte {
	d, ok := lookup(s)
	if !ok {
		return nil
	}
	return slices.Clone(d.raw)
}

// Operations returns the operations of the service's portType, in document order: the one list of what a
// service offers, which its handlers and the tests are checked against.
func Operations(s Service) ([]string, error) {
	d, ok := lookup(s)
	if !ok {
		return nil, fmt.Errorf("wsdl: unknown service %d", int(s))
	}
	var defs struct {
		PortTypes []struct {
			Operations []struct {
				Name string `xml:"name,attr"`
			} `xml:"operation"`
		} `xml:"portType"`
	}
	if err := xml.Unmarshal(d.raw, &defs); err != nil {
		return nil, fmt.Errorf("wsdl: %s: %w", s.Path(), err)
	}
	if len(defs.PortTypes) != 1 {
		return nil, fmt.Errorf("wsdl: %s has %d portTypes, want 1", s.Path(), len(defs.PortTypes))
	}
	var ops []string
	for _, op := range defs.PortTypes[0].Operations {
		ops = append(ops, op.Name)
	}
	return ops, nil
}
