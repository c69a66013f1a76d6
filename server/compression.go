package server

import (
	"mime"
	"net/http"

	"github.com/klauspost/compress/gzhttp"

	"github.com/tokenmanager/tokenmanager/server/internal/inflate"
	"github.com/tokenmanager/tokenmanager/soap"
)

// Compressed request bodies (RFC 7694) and compressed answers.
//
// A gzip or deflate body is decoded before any handler sees it, so every handler's --max-body-bytes bound, and
// the body budget (bodybudget.go), count decoded bytes: a compression bomb is refused with 413 after
// --max-body-bytes of output, having cost that much memory at most. Any other coding gets 415 with
// Accept-Encoding naming the codings accepted.
//
// Answers are gzipped when the client asks (Accept-Encoding) and they are SOAP, XML or JSON of at least
// gzipMinSize bytes. HTML pages never are: they carry CSRF tokens next to text a request can choose, which is
// what BREACH needs to read a secret through compressed sizes.
const gzipMinSize = 1024

// compressedTypes are the answers that may be gzipped: SOAP (1.1 and 1.2), the WSDLs and the WADL, and JSON.
var compressedTypes = []string{"text/xml", "application/soap+xml", "application/xml", "application/json"}

// gzipAnswers wraps h so that it gzips the answers above.
func gzipAnswers(h http.Handler) http.Handler {
	wrap, err := gzhttp.NewWrapper(gzhttp.MinSize(gzipMinSize), gzhttp.ContentTypes(compressedTypes), gzhttp.EnableZstd(false))
	if err != nil { // fixed options
		panic("server: gzip: " + err.Error())
	}
	return wrap(h)
}

// decodeBody replaces a compressed request body by its decoded bytes, bounded by MaxBodyBytes. It returns
// false, having answered 415, for a coding it does not know.
func (s *Server) decodeBody(w http.ResponseWriter, r *http.Request) bool {
	coding, err := inflate.Coding(r.Header)
	if err != nil {
		unsupportedEncoding(w, r)
		return false
	}
	if coding == "" {
		r.Header.Del("Content-Encoding")
		return true
	}
	r.Body = inflate.Body(r.Body, coding, s.cfg.MaxBodyBytes)
	// The length and coding were the compressed body's; handlers see the decoded one, of unknown length.
	r.ContentLength = -1
	r.Header.Del("Content-Length")
	r.Header.Del("Content-Encoding")
	return true
}

// unsupportedEncoding answers 415 with Accept-Encoding (RFC 7694 §3): a SOAP Fault for a SOAP request, in the
// version its Content-Type names, plain text otherwise.
func unsupportedEncoding(w http.ResponseWriter, r *http.Request) {
	msg := "unsupported Content-Encoding; accepted: " + inflate.Accepted + ", identity"
	w.Header().Set("Accept-Encoding", inflate.Accepted)
	w.Header().Set("Connection", "close") // the body is not read
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "text/xml":
		soap.WriteFault(w, &soap.Fault{Version: soap.V11, Code: soap.CodeClient, String: msg, Status: http.StatusUnsupportedMediaType})
	case "application/soap+xml":
		soap.WriteFault(w, &soap.Fault{Version: soap.V12, Code: soap.CodeClient, String: msg, Status: http.StatusUnsupportedMediaType})
	default:
		http.Error(w, msg, http.StatusUnsupportedMediaType)
	}
}
