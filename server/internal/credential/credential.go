// Package credential reads the credentials a request presents in its Authorization header or token cookie,
// bounding them before they are decoded.
package credential

import (
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/tokenmanager/tokenmanager/token"
)

// TokenCookie is the cookie Spectrum accepts a token in, as an alternative to the Authorization header.
const TokenCookie = "spectrum.authentication.token"

// MaxLen bounds the Authorization header we decode.
const MaxLen = 4096

// Basic parses "Authorization: Basic …". Unlike net/http's BasicAuth it bounds the input first.
func Basic(r *http.Request) (user, pass string, ok bool) {
	h := r.Header.Get("Authorization")
	if len(h) > MaxLen {
		return "", "", false
	}
	scheme, rest, found := strings.Cut(h, " ")
	if !found || !strings.EqualFold(scheme, "Basic") {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
	if err != nil {
		return "", "", false
	}
	user, pass, ok = strings.Cut(string(raw), ":")
	if !ok {
		return "", "", false
	}
	return user, pass, true
}

// BearerToken returns the token from "Authorization: Bearer …" or, failing that, Spectrum's token cookie.
func BearerToken(r *http.Request) string {
	if tok := BearerHeader(r); tok != "" {
		return tok
	}
	if c, err := r.Cookie(TokenCookie); err == nil && len(c.Value) <= token.MaxLen {
		return c.Value
	}
	return ""
}

// BearerHeader returns the token from "Authorization: Bearer …", or "".
func BearerHeader(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" && len(h) <= MaxLen {
		if scheme, rest, found := strings.Cut(h, " "); found && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(rest)
		}
	}
	return ""
}
