package server

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/rs/cors"

	"github.com/tokenmanager/tokenmanager/wsdl"
)

// corsPolicy lets the pages of listed origins call us with credentials (fetch credentials: 'include',
// XMLHttpRequest withCredentials), which is how a single-page app on another origin keeps its SESSION cookie.
type corsPolicy struct{ c *cors.Cors }

// newCORS builds the policy for origins; no origins, no policy.
func newCORS(origins []string) (corsPolicy, error) {
	if len(origins) == 0 {
		return corsPolicy{}, nil
	}
	for _, o := range origins {
		if err := checkOrigin(o); err != nil {
			return corsPolicy{}, err
		}
	}
	return corsPolicy{cors.New(cors.Options{
		AllowedOrigins: origins,
		AllowedMethods: []string{http.MethodGet, http.MethodPost},
		// What the token operations need: SOAP's text/xml or application/soap+xml body and SOAPAction, and the
		// Authorization header that carries Basic credentials or the token.
		AllowedHeaders: []string{"Authorization", "Content-Type", "SOAPAction", "X-Requested-With"},
		// Readable by the page: who the check endpoint says the token belongs to, and the challenge on a 401.
		ExposedHeaders:   []string{HeaderTokenUser, HeaderTokenKind, "WWW-Authenticate"},
		AllowCredentials: true,
		MaxAge:           600,
	})}, nil
}

// wrap applies the policy to the requests for which api(path) holds and to no other: a listed origin may call the
// API, but must never read a page, whose forms carry a CSRF token that only the page itself may see.
func (p corsPolicy) wrap(h http.Handler, api func(path string) bool) http.Handler {
	if p.c == nil {
		return h
	}
	withCORS := p.c.Handler(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if api(r.URL.Path) {
			withCORS.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// browserAPI tells the routes a page of a listed origin calls (docs/sessions-and-browsers.md): the
// Spectrum token operations over SOAP and REST. Nothing else answers CORS, the consent pages least of all.
func browserAPI(path string) bool {
	return path == wsdl.TokenManager.Path() || path == wsdl.TokenLogout.Path() || strings.HasPrefix(path, "/security/rest/token/")
}

// checkOrigin accepts only exact origins: with credentials, a wildcard would hand every site on the web the
// user's session.
func checkOrigin(o string) error {
	u, err := url.Parse(o)
	switch {
	case o == "*" || strings.Contains(o, "*"):
		return fmt.Errorf("CORS origin %q: wildcards are refused, because the requests carry credentials; list each origin", o)
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return fmt.Errorf("CORS origin %q: want scheme://host[:port], e.g. https://app.example.com", o)
	}
	return nil
}

// ParseOrigins splits a comma-separated list of origins and checks each, for flags and config.
func ParseOrigins(list string) ([]string, error) {
	var out []string
	for _, o := range strings.Split(list, ",") {
		o = strings.TrimSuffix(strings.TrimSpace(o), "/")
		if o == "" {
			continue
		}
		if err := checkOrigin(o); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}
