package server

import (
	"net/http"

	"github.com/tokenmanager/tokenmanager/server/internal/credential"

	"github.com/tokenmanager/tokenmanager/session"
	"github.com/tokenmanager/tokenmanager/token"
)

// TokenCookie is the cookie Spectrum accepts a token in, as an alternative to the Authorization header.
const TokenCookie = credential.TokenCookie

// presented gathers what a request shows to use a token.
func (s *Server) presented(r *http.Request) token.Presented {
	p := token.Presented{Token: credential.BearerToken(r), ClientHost: s.clients.Host(r)}
	if c, err := r.Cookie(session.CookieName); err == nil {
		p.Session = c.Value
	}
	return p
}
