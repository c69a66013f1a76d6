package server

import (
	"errors"
	"net/http"

	"github.com/tokenmanager/tokenmanager/session"
)

// The user's pages (/User/…) sign in with a cookie of their own, set only by their sign-in form. The API's
// SESSION value travels in token answers (SOAP and REST bodies), where HttpOnly cannot protect it, so it must
// not open the pages: a page session is stored under session.PageID, which no SESSION value names. Like session
// tokens, a page session is bound to the client host that signed in when host checks are on.

// pageSessionCookie names the pages' session cookie.
const pageSessionCookie = "TM_PAGE_SESSION"

// pageCookiePath scopes the cookie to the pages.
const pageCookiePath = "/User/"

// hostCheck reports whether sessions are bound to the client host that created them (--host-check).
func (s *Server) hostCheck() bool { return s.deps.Tokens == nil || s.deps.Tokens.CheckHost() }

// pageSession returns the user of the request's live page session and the session's storage id; empty when
// there is none, or when it is used from another host than the one that signed in.
func (s *Server) pageSession(r *http.Request) (user, id string) {
	c, err := r.Cookie(pageSessionCookie)
	if err != nil {
		return "", ""
	}
	rec, err := s.deps.Sessions.CheckPage(r.Context(), c.Value)
	if err != nil {
		if !errors.Is(err, session.ErrNotUsable) {
			s.env.InternalError(r.Context(), err)
		}
		return "", ""
	}
	if s.hostCheck() && rec.ClientHost != s.clients.Host(r) {
		s.deps.Log.WarnContext(r.Context(), "page session used from another host; refused", "user", rec.User, "client", s.clients.Host(r))
		return "", ""
	}
	return rec.User, rec.ID
}

// pageLogin starts a new page session for user (never one named by the request: no fixation), ends the one
// the request presented, and sets the cookie.
func (s *Server) pageLogin(w http.ResponseWriter, r *http.Request, user string) error {
	value, _, err := s.deps.Sessions.CreatePage(r.Context(), user, s.clients.Host(r))
	if err != nil {
		return err
	}
	s.endPageSession(r)
	http.SetCookie(w, s.pageCookie(r, value, 0))
	return nil
}

// pageLogout ends the request's page session and expires its cookie.
func (s *Server) pageLogout(w http.ResponseWriter, r *http.Request) error {
	if err := s.endPageSession(r); err != nil {
		return err
	}
	http.SetCookie(w, s.pageCookie(r, "", -1))
	return nil
}

func (s *Server) endPageSession(r *http.Request) error {
	c, err := r.Cookie(pageSessionCookie)
	if err != nil || c.Value == "" || len(c.Value) > session.MaxCookieLen {
		return nil
	}
	return s.deps.Sessions.End(r.Context(), session.PageID(c.Value))
}

// pageCookie is the page-session cookie: HttpOnly, SameSite=Lax whatever --cookie-samesite says (the pages are
// never framed or called across sites; Lax still sends it when an app opens the consent page), Secure under
// TLS or --secure-cookies. maxAge < 0 expires it.
func (s *Server) pageCookie(r *http.Request, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: pageSessionCookie, Value: value, Path: pageCookiePath, MaxAge: maxAge, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: s.cfg.SecureCookies || r.TLS != nil}
}
