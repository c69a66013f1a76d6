// Package pagesession is the cookie session of the server's own HTML surfaces (the consent pages, the web
// console): a random value in an HttpOnly cookie of the surface's own name, stored only as a hash under a
// session kind of its own (session.KindID), so that a value of one surface opens nothing in another, nor is a
// SESSION handed out by the API accepted as one. Like session tokens, a page session is bound to the client
// host that signed in when host checks are on (--host-check), and lives as long as the session manager's idle
// and absolute lifetimes allow.
package pagesession

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"

	"github.com/tokenmanager/tokenmanager/server/internal/surface"
	"github.com/tokenmanager/tokenmanager/session"
	"github.com/tokenmanager/tokenmanager/storage"
)

// Cookie is one surface's page session.
type Cookie struct {
	Name string // the cookie's name, e.g. TM_PAGE_SESSION
	Path string // the cookie's path
	// LegacyPaths are paths the cookie had in earlier versions: Login and Logout expire it there as well, so
	// that a cookie left from then cannot shadow the current one (browsers send the longer path's first).
	LegacyPaths []string
	Kind        session.Kind  // the storage domain of its values
	SameSite    http.SameSite // Lax for pages an app opens, Strict for the console
	Sessions    *session.Manager
	// HostCheck binds a session to the client host that signed in (--host-check).
	HostCheck bool
	// SecureCookies adds Secure even on plain HTTP (--secure-cookies); requests over TLS get it anyway.
	SecureCookies bool
	Env           *surface.Env
}

// Presented returns the request's cookie value, if it carries the cookie at all.
func (c *Cookie) Presented(r *http.Request) (string, bool) {
	k, err := r.Cookie(c.Name)
	if err != nil {
		return "", false
	}
	return k.Value, true
}

// Session returns the live session of the request's cookie and the cookie's value; false when there is none,
// or when it is used from another host than the one that signed in (logged).
func (c *Cookie) Session(r *http.Request) (storage.Session, string, bool) {
	value, ok := c.Presented(r)
	if !ok {
		return storage.Session{}, "", false
	}
	rec, err := c.Sessions.CheckKind(r.Context(), c.Kind, value)
	if err != nil {
		if !errors.Is(err, session.ErrNotUsable) {
			c.Env.InternalError(r.Context(), err)
		}
		return storage.Session{}, "", false
	}
	if c.HostCheck && rec.ClientHost != c.Env.Clients.Host(r) {
		c.Env.Log.WarnContext(r.Context(), string(c.Kind)+" session used from another host; refused", "user", rec.User, "client", c.Env.Clients.Host(r))
		return storage.Session{}, "", false
	}
	return rec, value, true
}

// Login starts a new session for user (never one named by the request: no fixation), ends the one the request
// presented, and sets the cookie. It returns the new cookie value and session.
func (c *Cookie) Login(w http.ResponseWriter, r *http.Request, user string) (string, storage.Session, error) {
	value, rec, err := c.Sessions.CreateKind(r.Context(), c.Kind, user, c.Env.Clients.Host(r))
	if err != nil {
		return "", storage.Session{}, err
	}
	if err := c.end(r); err != nil {
		return "", storage.Session{}, err
	}
	c.expireLegacy(w, r)
	http.SetCookie(w, c.cookie(r, value, 0))
	return value, rec, nil
}

// Logout ends the request's session and expires its cookie.
func (c *Cookie) Logout(w http.ResponseWriter, r *http.Request) error {
	if err := c.end(r); err != nil {
		return err
	}
	c.expireLegacy(w, r)
	http.SetCookie(w, c.cookie(r, "", -1))
	return nil
}

func (c *Cookie) expireLegacy(w http.ResponseWriter, r *http.Request) {
	for _, p := range c.LegacyPaths {
		k := c.cookie(r, "", -1)
		k.Path = p
		http.SetCookie(w, k)
	}
}

func (c *Cookie) end(r *http.Request) error {
	value, ok := c.Presented(r)
	if !ok || value == "" || len(value) > session.MaxCookieLen {
		return nil
	}
	return c.Sessions.End(r.Context(), session.KindID(c.Kind, value))
}

// cookie is the session cookie: HttpOnly, Secure under TLS or --secure-cookies, expiring with the browser
// (the server ends it sooner: idle and absolute lifetimes). maxAge < 0 expires it.
func (c *Cookie) cookie(r *http.Request, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: c.Name, Value: value, Path: c.Path, MaxAge: maxAge, HttpOnly: true,
		SameSite: c.SameSite, Secure: c.SecureCookies || r.TLS != nil}
}

// CSRFToken is the anti-forgery token of the session whose cookie value is value: a script of the surface's
// own origin reads it (the cookie itself is HttpOnly) and sends it back in a header with every change; a page
// of another site can neither read it nor compute it. It is derived from the secret cookie value in a domain
// of its own, so it is neither the stored id nor a way back to the cookie.
func (c *Cookie) CSRFToken(value string) string {
	sum := sha256.Sum256([]byte("tokenmanager " + string(c.Kind) + " csrf v1\x00" + value))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// maxCSRFLen bounds a presented token before it is compared.
const maxCSRFLen = 128

// ValidCSRF reports, in constant time, whether presented is the anti-forgery token of the cookie value.
func (c *Cookie) ValidCSRF(value, presented string) bool {
	if value == "" || presented == "" || len(presented) > maxCSRFLen {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(c.CSRFToken(value)), []byte(presented)) == 1
}
