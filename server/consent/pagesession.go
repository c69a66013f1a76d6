package consent

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

// pageCookiePath scopes the cookie: "/", so that one sign-in covers the user's pages under /User/ and the
// account pages under /account/. Two cookies with a path each would need two sign-ins (or a sign-in that sets
// both and a sign-out that ends both) and would shadow each other on the way back; nothing else reads the
// cookie (the API's surfaces never look at it, and every page checks it in pageSession), so the wider path
// sends it to no one who could use it. legacyPageCookiePath is the path the cookie had before: a sign-in and
// a sign-out expire it there, so that a cookie left from then cannot shadow the new one on /User/.
const (
	pageCookiePath       = "/"
	legacyPageCookiePath = "/User/"
)

// pageSession returns the user of the request's live page session and the session's storage id; empty when
// there is none, or when it is used from another host than the one that signed in.
func (pg *Pages) pageSession(r *http.Request) (user, id string) {
	c, err := r.Cookie(pageSessionCookie)
	if err != nil {
		return "", ""
	}
	rec, err := pg.Sessions.CheckPage(r.Context(), c.Value)
	if err != nil {
		if !errors.Is(err, session.ErrNotUsable) {
			pg.env.InternalError(r.Context(), err)
		}
		return "", ""
	}
	if pg.HostCheck && rec.ClientHost != pg.env.Clients.Host(r) {
		pg.env.Log.WarnContext(r.Context(), "page session used from another host; refused", "user", rec.User, "client", pg.env.Clients.Host(r))
		return "", ""
	}
	return rec.User, rec.ID
}

// pageLogin starts a new page session for user (never one named by the request: no fixation), ends the one
// the request presented, and sets the cookie.
func (pg *Pages) pageLogin(w http.ResponseWriter, r *http.Request, user string) error {
	value, _, err := pg.Sessions.CreatePage(r.Context(), user, pg.env.Clients.Host(r))
	if err != nil {
		return err
	}
	pg.endPageSession(r)
	pg.expireLegacyCookie(w, r)
	http.SetCookie(w, pg.pageCookie(r, value, 0))
	return nil
}

// pageLogout ends the request's page session and expires its cookie.
func (pg *Pages) pageLogout(w http.ResponseWriter, r *http.Request) error {
	if err := pg.endPageSession(r); err != nil {
		return err
	}
	pg.expireLegacyCookie(w, r)
	http.SetCookie(w, pg.pageCookie(r, "", -1))
	return nil
}

func (pg *Pages) expireLegacyCookie(w http.ResponseWriter, r *http.Request) {
	c := pg.pageCookie(r, "", -1)
	c.Path = legacyPageCookiePath
	http.SetCookie(w, c)
}

func (pg *Pages) endPageSession(r *http.Request) error {
	c, err := r.Cookie(pageSessionCookie)
	if err != nil || c.Value == "" || len(c.Value) > session.MaxCookieLen {
		return nil
	}
	return pg.Sessions.End(r.Context(), session.PageID(c.Value))
}

// pageCookie is the page-session cookie: HttpOnly, SameSite=Lax whatever --cookie-samesite says (the pages are
// never framed or called across sites; Lax still sends it when an app opens the consent page), Secure under
// TLS or --secure-cookies. maxAge < 0 expires it.
func (pg *Pages) pageCookie(r *http.Request, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: pageSessionCookie, Value: value, Path: pageCookiePath, MaxAge: maxAge, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: pg.SecureCookies || r.TLS != nil}
}
