// Package console is the web console at /console/: a few static pages and ES modules embedded in the binary,
// a client of the management API (/admin/v1) in the browser. It signs in the server's own accounts (operators
// and vendor accounts) through the same sign-in guard and throttle as every other surface, into a session
// cookie of its own, TM_CONSOLE_SESSION, that the management API accepts too: reads as they are, changes only
// with the session's X-CSRF-Token. The console accepts no other cookie, and no other surface accepts its.
package console

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/tokenmanager/tokenmanager/auth"
	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/server/internal/pagesession"
	"github.com/tokenmanager/tokenmanager/server/internal/reply"
	"github.com/tokenmanager/tokenmanager/server/internal/surface"
	"github.com/tokenmanager/tokenmanager/server/manage"
	"github.com/tokenmanager/tokenmanager/session"
	"github.com/tokenmanager/tokenmanager/storage"
)

// Path is the console's root.
const Path = "/console/"

// CookieName names the console's session cookie.
const CookieName = "TM_CONSOLE_SESSION"

// CSRFHeader carries the session's anti-forgery token on every change.
const CSRFHeader = "X-CSRF-Token"

// The headers of every console answer: nothing but the console's own files runs or loads, the console is never
// framed, and nothing leaks the page's address to another site.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"frame-ancestors 'none'; form-action 'self'; base-uri 'none'"

// maxSignInBytes bounds the sign-in body: a name and a password.
const maxSignInBytes = 8 << 10

//go:embed static
var static embed.FS

// Deps are what the console needs.
type Deps struct {
	Auth *auth.Authenticator // the sign-in's passwords
	// Users reads the account that signed in, for its role.
	Users interface {
		GetUser(ctx context.Context, name string) (storage.User, error)
	}
	// License tells vendor accounts; nil signs in operators only.
	License *license.Service
	// Cookie is the console's session (NewCookie); the management API is given the same one.
	Cookie *pagesession.Cookie
}

// NewCookie is the console's session cookie: SameSite=Strict (nothing of another site ever needs to arrive
// signed in), on path / because the console's scripts call /admin/v1 with it.
func NewCookie(env *surface.Env, sessions *session.Manager, hostCheck, secure bool) *pagesession.Cookie {
	return &pagesession.Cookie{Name: CookieName, Path: "/", Kind: session.KindConsole, SameSite: http.SameSiteStrictMode,
		Sessions: sessions, HostCheck: hostCheck, SecureCookies: secure, Env: env}
}

// Console is the surface.
type Console struct {
	deps Deps
	env  *surface.Env
}

// New returns the console over deps.
func New(env *surface.Env, deps Deps) *Console { return &Console{deps: deps, env: env} }

// Mount adds the console's routes.
func (c *Console) Mount(mux *http.ServeMux) {
	mux.Handle("GET /console", headers(http.RedirectHandler(Path, http.StatusMovedPermanently)))
	mux.Handle("GET "+Path, headers(http.HandlerFunc(c.page)))
	mux.Handle("GET "+Path+"assets/", headers(http.HandlerFunc(c.asset)))
	mux.Handle("GET "+Path+"session", headers(http.HandlerFunc(c.getSession)))
	mux.Handle("POST "+Path+"session", headers(http.HandlerFunc(c.signIn)))
	mux.Handle("DELETE "+Path+"session", headers(http.HandlerFunc(c.signOut)))
}

// headers sets the security headers of every console answer.
func headers(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", contentSecurityPolicy)
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		h.ServeHTTP(w, r)
	})
}

// page answers the console's one HTML page for every path under /console/ that is not a file: the scripts
// route by path, so that a deep link (/console/products/3/keys/…) works on reload.
func (c *Console) page(w http.ResponseWriter, r *http.Request) {
	b, err := static.ReadFile("static/index.html")
	if err != nil {
		c.env.InternalError(r.Context(), err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b)
}

// asset answers one embedded file under /console/assets/.
func (c *Console) asset(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, Path+"assets/")
	if name == "" || strings.Contains(name, "..") || !fs.ValidPath(name) {
		http.NotFound(w, r)
		return
	}
	b, err := static.ReadFile("static/assets/" + name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	ct := mime.TypeByExtension(path.Ext(name))
	switch path.Ext(name) {
	case ".js":
		ct = "text/javascript; charset=utf-8"
	case ".css":
		ct = "text/css; charset=utf-8"
	}
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	// Revalidated on every use: a new binary's files replace the old ones at once.
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(b)
}

// sessionView is what the console's scripts learn of their session.
type sessionView struct {
	User          string    `json:"user"`
	Role          string    `json:"role"` // operator or vendor
	Vendor        string    `json:"vendor,omitempty"`
	CSRF          string    `json:"csrf"` // send it in X-CSRF-Token with every change
	IdleExpiresAt time.Time `json:"idle_expires_at"`
	ExpiresAt     time.Time `json:"expires_at,omitzero"`
}

// getSession tells the scripts who is signed in and the session's anti-forgery token; 401 when no one is.
func (c *Console) getSession(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	rec, value, ok := c.deps.Cookie.Session(r)
	if !ok {
		manage.Problem(w, http.StatusUnauthorized, "not signed in")
		return
	}
	role, vendor, err := c.role(r, rec.User)
	if err != nil {
		c.refuseRole(w, r, err)
		return
	}
	c.answer(w, http.StatusOK, rec, value, role, vendor)
}

func (c *Console) answer(w http.ResponseWriter, status int, rec storage.Session, value, role, vendor string) {
	idle, abs := c.deps.Cookie.Sessions.Deadlines(rec)
	reply.JSON(w, status, sessionView{User: rec.User, Role: role, Vendor: vendor, CSRF: c.deps.Cookie.CSRFToken(value),
		IdleExpiresAt: idle, ExpiresAt: abs})
}

var errNoRole = errors.New("neither an operator nor a vendor account")

// role is what the account may do in the console: operator (the admin flag), vendor (owns a vendor), or
// errNoRole. A disabled account has none.
func (c *Console) role(r *http.Request, user string) (role, vendor string, err error) {
	u, err := c.deps.Users.GetUser(r.Context(), user)
	if errors.Is(err, storage.ErrNotFound) {
		return "", "", errNoRole
	}
	if err != nil {
		return "", "", err
	}
	if u.Disabled {
		return "", "", errNoRole
	}
	if u.Admin {
		return "operator", "", nil
	}
	if c.deps.License == nil {
		return "", "", errNoRole
	}
	if _, err := c.deps.License.Vendor(r.Context(), user); err != nil {
		if errors.Is(err, license.ErrNotVendor) {
			return "", "", errNoRole
		}
		return "", "", err
	}
	return "vendor", user, nil
}

func (c *Console) refuseRole(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, errNoRole) {
		manage.Problem(w, http.StatusForbidden, "the console is for operators and vendor accounts")
		return
	}
	status := c.env.Failure(r.Context(), w.Header(), err)
	manage.Problem(w, status, "")
}

type signInBody struct {
	User     string `json:"user"`
	Password string `json:"password"`
}

// signIn checks a user name and password through the server's sign-in guard (throttled and audited like every
// sign-in) and starts a console session for an operator or vendor account. Only a script of the console's own
// origin can send it: the body must be JSON, which a form of another site cannot send without a CORS
// preflight nothing here answers, and a browser that says where the request comes from must say same-origin.
func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		manage.Problem(w, http.StatusForbidden, "sign in from the console's own page")
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		manage.Problem(w, http.StatusUnsupportedMediaType, "send the sign-in as application/json")
		return
	}
	var b signInBody
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxSignInBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		manage.Problem(w, http.StatusBadRequest, "body: "+err.Error())
		return
	}
	switch {
	case b.User == "" || len(b.User) > 256:
		manage.Problem(w, http.StatusBadRequest, "user: enter your user name")
		return
	case b.Password == "" || len(b.Password) > 1024:
		manage.Problem(w, http.StatusBadRequest, "password: enter your password")
		return
	}
	u, err := c.env.SignIn.Authenticate(r, b.User, func() (storage.User, error) { return c.deps.Auth.Authenticate(r.Context(), b.User, b.Password) })
	var throttled *auth.ThrottledError
	switch {
	case errors.Is(err, auth.ErrBadCredentials):
		manage.Problem(w, http.StatusUnauthorized, "wrong user name or password")
		return
	case errors.As(err, &throttled):
		reply.RetryAfter(w.Header(), throttled.RetryAfter)
		manage.Problem(w, http.StatusTooManyRequests, fmt.Sprintf("too many failed sign-ins; try again in %s", throttled.RetryAfter.Round(time.Second)))
		return
	case err != nil:
		c.refuseRole(w, r, err)
		return
	}
	role, vendor, err := c.role(r, u.Name)
	if err != nil {
		c.refuseRole(w, r, err)
		return
	}
	value, rec, err := c.deps.Cookie.Login(w, r, u.Name)
	if err != nil {
		c.refuseRole(w, r, err)
		return
	}
	c.record(r, "console.signin", u.Name)
	c.answer(w, http.StatusOK, rec, value, role, vendor)
}

// signOut ends the session; like every change it needs the session's token, so another site cannot sign the
// user out either.
func (c *Console) signOut(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	rec, value, ok := c.deps.Cookie.Session(r)
	if !ok {
		c.deps.Cookie.Logout(w, r) // an ended or foreign session: drop the cookie all the same
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if !c.deps.Cookie.ValidCSRF(value, r.Header.Get(CSRFHeader)) {
		manage.Problem(w, http.StatusForbidden, "sign-out needs the session's X-CSRF-Token header")
		return
	}
	if err := c.deps.Cookie.Logout(w, r); err != nil {
		c.refuseRole(w, r, err)
		return
	}
	c.record(r, "console.signout", rec.User)
	w.WriteHeader(http.StatusNoContent)
}

func (c *Console) record(r *http.Request, action, user string) {
	if c.env.Audit != nil {
		c.env.Audit.Record(storage.AuditEvent{Action: action, Outcome: "ok", Actor: user, Subject: user, ClientHost: c.env.Clients.Host(r)})
	}
}
