package wsdl

import (
	_ "embed"
	"encoding/xml"
	"io"
	"strings"
)

// RESTPath is where the WADL of the REST token service is served (with ?_wadl or ?wadl), and the base of its
// resources.
const RESTPath = "/security/rest"

// WADLNamespace is the namespace of WADL as submitted to the W3C in 2009.
const WADLNamespace = "http://wadl.dev.java.net/2009/02"

//go:embed TokenREST.wadl
var tokenRESTWADL string

// committedWADLBase is the resources base of the committed document; WriteWADL replaces it.
const committedWADLBase = `base="` + committedBase + RESTPath + `"`

func init() {
	if strings.Count(tokenRESTWADL, committedWADLBase) != 1 {
		panic("wsdl: the embedded WADL must have exactly one " + committedWADLBase)
	}
}

// WriteWADL writes the WADL of the REST token service with its resources base set to baseURL+RESTPath.
// baseURL is scheme://host[:port] with no trailing slash, as for Write.
func WriteWADL(w io.Writer, baseURL string) error {
	var esc strings.Builder
	esc.WriteString(`base="`)
	if err := xml.EscapeText(&esc, []byte(baseURL+RESTPath)); err != nil {
		return err
	}
	esc.WriteByte('"')
	_, err := io.WriteString(w, strings.Replace(tokenRESTWADL, committedWADLBase, esc.String(), 1))
	return err
}

// RawWADL returns the embedded WADL as committed (base http://localhost:8080/security/rest).
func RawWADL() string { return tokenRESTWADL }
