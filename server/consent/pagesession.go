package consent

import (
	"net/http"

	"github.com/tokenmanager/tokenmanager/server/internal/pagesession"
	"github.com/tokenmanager/tokenmanager/session"
)

// The user's pages (/User/…) sign in with a cookie of their own, set only by their sign-in form. The API's
// SESSION value travels in token answers (SOAP and REST bodies), where HttpOnly cannot protect it, so it must
// not open the pages: a page session is stored under session.KindPage, which no SESSION value (nor the
// console's cookie) names. Like session tokens, a page session is bound to the client host that signed in when
// host checks are on (package pagesession).

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

// pageCookie is the page session: SameSite=Lax whatever --cookie-samesite says (the pages are never framed or
// called across sites; Lax still sends it when an app opens the consent page).
func (pg *Pages) pageCookie() *pagesession.Cookie {
	return &pagesession.Cookie{Name: pageSessionCookie, Path: pageCookiePath, LegacyPaths: []string{legacyPageCookiePath}, Kind: session.KindPage, SameSite: http.SameSiteLaxMode,
		Sessions: pg.Sessions, HostCheck: pg.HostCheck, SecureCookies: pg.SecureCookies, Env: pg.env}
}

// pageSession returns the user of the request's live page session and the session's storage id; empty when
// there is none, or when it is used from another host than the one that signed in.
func (pg *Pages) pageSession(r *http.Request) (user, id string) {
	rec, _, ok := pg.pageCookie().Session(r)
	if !ok {
		return "", ""
	}
	return rec.User, rec.ID
}

// pageLogin starts a new page session for user (never one named by the request: no fixation), ends the one
// the request presented, and sets the cookie.
func (pg *Pages) pageLogin(w http.ResponseWriter, r *http.Request, user string) error {
	_, _, err := pg.pageCookie().Login(w, r, user)
	return err
}

// pageLogout ends the request's page session and expires its cookie.
func (pg *Pages) pageLogout(w http.ResponseWriter, r *http.Request) error {
	return pg.pageCookie().Logout(w, r)
}
