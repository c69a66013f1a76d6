package server

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/tokenmanager/tokenmanager/server/internal/credential"
)

// Parsing of what OAuth 2.0 clients send: form bodies (RFC 6749 §3.2, RFC 7009 §2.1, RFC 7662 §2.1), client
// credentials (§2.3.1) and bearer tokens (RFC 6750 §2.1). Everything here is bounded and has a fuzz target.

// maxOAuthForm bounds an OAuth request body: the largest legitimate one (an introspection request for a
// Spectrum token) is well under 1 KiB.
const maxOAuthForm = 16 << 10

// maxFormParams bounds the number of parameters in an OAuth form.
const maxFormParams = 32

// Header carrying the SkyKick / Azure API Management subscription key.
const headerSubscriptionKey = "Ocp-Apim-Subscription-Key"

var (
	errFormDuplicate = errors.New("a parameter is included more than once")
	errFormTooMany   = errors.New("too many parameters")
	errFormEncoding  = errors.New("the body is not valid application/x-www-form-urlencoded UTF-8")
)

// parseOAuthForm parses an application/x-www-form-urlencoded body by RFC 6749 §3.2's rules: a parameter may
// appear once, a parameter without a value counts as omitted, unknown parameters are the caller's to ignore.
func parseOAuthForm(body string) (map[string]string, error) {
	if strings.Count(body, "&") >= maxFormParams {
		return nil, errFormTooMany
	}
	vals, err := url.ParseQuery(body)
	if err != nil {
		return nil, errFormEncoding
	}
	form := make(map[string]string, len(vals))
	for k, vs := range vals {
		if !utf8.ValidString(k) {
			return nil, errFormEncoding
		}
		if len(vs) > 1 {
			return nil, errFormDuplicate // not naming it: error_description must not echo client input (§5.2)
		}
		if !utf8.ValidString(vs[0]) {
			return nil, errFormEncoding
		}
		if vs[0] != "" {
			form[k] = vs[0]
		}
	}
	return form, nil
}

// readOAuthForm checks that r is a POST with a form body and parses it. Client credentials in the query string
// are refused (RFC 6749 §2.3.1: they "MUST NOT be included in the request URI").
func readOAuthForm(w http.ResponseWriter, r *http.Request) (map[string]string, *oauthError) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return nil, &oauthError{Status: http.StatusMethodNotAllowed, Code: "invalid_request", Description: "use POST"}
	}
	q := r.URL.Query()
	if q.Has("client_secret") || q.Has("client_id") {
		return nil, invalidRequest("client credentials must not be sent in the URI")
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, invalidRequest("the body must be application/x-www-form-urlencoded")
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return nil, invalidRequest("the body must be UTF-8")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxOAuthForm))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &oauthError{Status: http.StatusRequestEntityTooLarge, Code: "invalid_request", Description: "the body is too large"}
		}
		return nil, invalidRequest("the body could not be read")
	}
	form, err := parseOAuthForm(string(body))
	if err != nil {
		return nil, invalidRequest(err.Error())
	}
	return form, nil
}

// clientCredentials is how a request authenticates its client.
type clientCredentials struct {
	ID, Secret string
	Header     bool // sent with HTTP Basic (a failure then must be answered 401 with a Basic challenge)
}

var errBadBasic = errors.New("malformed Basic client credentials")

// decodeClientBasic decodes the credentials of "Authorization: Basic …" for a client: base64, split at the
// first colon, then each half form-urlencoded-decoded (RFC 6749 §2.3.1 and Appendix B: "+" is a space). Reuses
// basicAuth for the bounded base64 step.
func decodeClientBasic(r *http.Request) (id, secret string, err error) {
	user, pass, ok := credential.Basic(r)
	if !ok {
		return "", "", errBadBasic
	}
	if id, err = url.QueryUnescape(user); err != nil {
		return "", "", errBadBasic
	}
	if secret, err = url.QueryUnescape(pass); err != nil {
		return "", "", errBadBasic
	}
	if id == "" || !utf8.ValidString(id) || !utf8.ValidString(secret) {
		return "", "", errBadBasic
	}
	return id, secret, nil
}

// findClientCredentials returns the client's credentials from HTTP Basic or from client_id/client_secret in
// the body, refusing requests that use both (RFC 6749 §2.3: "MUST NOT use more than one authentication method").
// A Basic failure is reported with Header set so the caller answers with a Basic challenge.
func findClientCredentials(r *http.Request, form map[string]string) (clientCredentials, *oauthError) {
	auths := r.Header.Values("Authorization")
	if len(auths) > 1 {
		return clientCredentials{}, invalidRequest("more than one Authorization header")
	}
	bodyID, bodySecret := form["client_id"], form["client_secret"]
	if len(auths) == 1 {
		scheme, _, _ := strings.Cut(auths[0], " ")
		if !strings.EqualFold(scheme, "Basic") {
			return clientCredentials{}, &oauthError{Status: http.StatusUnauthorized, Code: "invalid_client",
				Description: "client authentication uses HTTP Basic", Basic: true}
		}
		if bodySecret != "" {
			return clientCredentials{}, invalidRequest("the client authenticated with more than one method")
		}
		id, secret, err := decodeClientBasic(r)
		if err != nil {
			return clientCredentials{}, &oauthError{Status: http.StatusUnauthorized, Code: "invalid_client",
				Description: "malformed Basic credentials", Basic: true}
		}
		if bodyID != "" && bodyID != id {
			return clientCredentials{}, invalidRequest("client_id differs from the authenticated client")
		}
		return clientCredentials{ID: id, Secret: secret, Header: true}, nil
	}
	if bodyID == "" || bodySecret == "" {
		return clientCredentials{}, &oauthError{Status: http.StatusUnauthorized, Code: "invalid_client",
			Description: "client authentication required", Basic: true}
	}
	return clientCredentials{ID: bodyID, Secret: bodySecret}, nil
}

// subscriptionKey returns the Ocp-Apim-Subscription-Key header ("" when absent). Several values are answered
// with a value no key can equal (keys have no control characters).
func subscriptionKey(r *http.Request) string {
	vs := r.Header.Values(headerSubscriptionKey)
	switch len(vs) {
	case 0:
		return ""
	case 1:
		return vs[0]
	}
	return "\x00"
}

var (
	errBearerMissing   = errors.New("no bearer token")
	errBearerMalformed = errors.New("malformed bearer credentials")
	errBearerTwice     = errors.New("bearer token sent by more than one method")
)

// parseBearerHeader reads "Bearer" 1*SP b64token (RFC 6750 §2.1). The scheme name is case-insensitive.
// errBearerMissing covers no header and other schemes: RFC 6750 §3.1 treats an unsupported method like no
// credentials at all.
func parseBearerHeader(h string) (string, error) {
	if h == "" {
		return "", errBearerMissing
	}
	if len(h) > credential.MaxLen {
		return "", errBearerMalformed
	}
	scheme, rest, found := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", errBearerMissing
	}
	tok := strings.TrimLeft(rest, " ")
	if !found || !isB64Token(tok) {
		return "", errBearerMalformed
	}
	return tok, nil
}

// isB64Token matches 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func isB64Token(s string) bool {
	body := strings.TrimRight(s, "=")
	if body == "" {
		return false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '-', c == '.', c == '_', c == '~', c == '+', c == '/':
		default:
			return false
		}
	}
	return true
}

// bearerFromRequest returns the request's bearer token. Only the Authorization header is supported (RFC 6750
// §2.1); a token that also arrives as an access_token query or form parameter makes the request invalid
// (§3.1: "uses more than one method"); one that arrives only there is an unsupported method, i.e. missing.
func bearerFromRequest(r *http.Request) (string, error) {
	auths := r.Header.Values("Authorization")
	if len(auths) > 1 {
		return "", errBearerMalformed
	}
	var h string
	if len(auths) == 1 {
		h = auths[0]
	}
	tok, err := parseBearerHeader(h)
	if err != nil {
		return "", err
	}
	if r.URL.Query().Has("access_token") {
		return "", errBearerTwice
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/x-www-form-urlencoded" && r.Body != nil {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxOAuthForm+1))
		if err != nil || len(body) > maxOAuthForm {
			return "", errBearerMalformed
		}
		if vals, err := url.ParseQuery(string(body)); err == nil && vals.Has("access_token") {
			return "", errBearerTwice
		}
	}
	return tok, nil
}
