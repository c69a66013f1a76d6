// Package server wires the HTTP surfaces: routes, limits, logging, and the translation between wire formats
// and the core packages. The generic surfaces have a file each here (Spectrum SOAP and REST, OAuth,
// forward-auth, PowerAuth, admin, operations); the licensing wires are packages of their own, each mounted on
// the mux with one call: cryptolens (Cryptolens' /api/, app authorization's GetToken), licensesoap (the SOAP
// LicenseService), woocommerce (WooCommerce License Keys) and consent (the app-authorization pages). What
// they share with the server is in server/internal.
package server

import (
	"context"
	"fmt"
	"github.com/tokenmanager/tokenmanager/admin"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gorilla/sessions"

	"github.com/tokenmanager/tokenmanager/appauth"
	"github.com/tokenmanager/tokenmanager/audit"
	"github.com/tokenmanager/tokenmanager/auth"
	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/license/woo"
	"github.com/tokenmanager/tokenmanager/powerauth"
	"github.com/tokenmanager/tokenmanager/server/consent"
	"github.com/tokenmanager/tokenmanager/server/console"
	"github.com/tokenmanager/tokenmanager/server/cryptolens"
	"github.com/tokenmanager/tokenmanager/server/internal/clienthost"
	"github.com/tokenmanager/tokenmanager/server/internal/pagesession"
	"github.com/tokenmanager/tokenmanager/server/internal/signin"
	"github.com/tokenmanager/tokenmanager/server/internal/signlimit"
	"github.com/tokenmanager/tokenmanager/server/internal/soapwire"
	"github.com/tokenmanager/tokenmanager/server/internal/surface"
	"github.com/tokenmanager/tokenmanager/server/licensesoap"
	"github.com/tokenmanager/tokenmanager/server/manage"
	"github.com/tokenmanager/tokenmanager/server/woocommerce"
	"github.com/tokenmanager/tokenmanager/session"
	"github.com/tokenmanager/tokenmanager/session/dbstore"
	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/token"
	"github.com/tokenmanager/tokenmanager/usage"
)

// Config is what the HTTP layer needs to know.
type Config struct {
	// Realm is sent in WWW-Authenticate challenges.
	Realm string
	// MaxBodyBytes bounds request bodies (default 1 MiB).
	MaxBodyBytes int64
	// MaxBodyMemory bounds the bytes of all the request bodies being read at once (default 32 MiB, at least
	// MaxBodyBytes); see bodybudget.go.
	MaxBodyMemory int64
	// TrustedProxies are the peers whose X-Forwarded-For/-Proto/-Host are believed.
	TrustedProxies []netip.Prefix
	// MaxTokenLifetime bounds tokenLifeInMinutes and ttlInMinutes.
	MaxTokenLifetime time.Duration
	// SecureCookies adds Secure to the SESSION cookie even on plain HTTP (e.g. behind a TLS-terminating proxy).
	// Requests that arrive over TLS get it anyway.
	SecureCookies bool
	// CookieSameSite is the SESSION cookie's SameSite attribute (default Lax). None lets a page on another
	// site send the cookie, and forces Secure, without which browsers drop such a cookie.
	CookieSameSite http.SameSite
	// CORSOrigins are the exact origins ("https://app.example.com") whose pages may call us with credentials.
	// Empty: no CORS headers at all, so browsers allow same-origin pages only.
	CORSOrigins []string
	// SignLimits bound the signed licenses the licensing surfaces answer; nil means the defaults.
	SignLimits *SignLimits
	// MetricsElsewhere leaves /metrics out of the routes: the caller serves MetricsHandler on a listener of
	// its own (serve's --metrics-addr), so that the service's clients cannot read or load it.
	MetricsElsewhere bool
}

// Deps are the core services the handlers call.
type Deps struct {
	Auth   *auth.Authenticator
	Digest *auth.DigestVerifier // WS-Security PasswordDigest; nil refuses digests
	// Throttle refuses sign-ins for accounts and addresses that failed too often; nil switches it off.
	Throttle *auth.Throttle
	// Audit receives the audit events; nil records none.
	Audit *audit.Recorder
	// Admin backs the admin API; nil leaves it out.
	Admin    AdminStore
	Tokens   *token.Service
	OAuth    OAuthDeps // API clients: OAuth 2.0 token endpoint, revocation, introspection (oauth.go)
	Sessions *session.Manager
	// PowerAuth serves the PowerAuth-style MAC token routes (server/powerauth.go); nil leaves them out.
	PowerAuth *powerauth.Service
	// License is the licensing core behind the Cryptolens wire and the SOAP LicenseService; nil leaves them out.
	License *license.Service
	// Woo is the WooCommerce License Keys layer over License; nil leaves its routes out.
	Woo     *woo.Service
	AppAuth AppAuthDeps // app authorization: the consent pages (package consent), the GetToken flow (package cryptolens)
	// Manage is the management API's core (users, admin API tokens, token keys: package manage); a nil
	// Manage.Admin leaves those routes out. The admin API needs Admin set too.
	Manage ManageDeps
	// Probe is the database, for /readyz and the live token and session gauges; nil leaves both out.
	Probe Probe
	Log   *slog.Logger
	Now   func() time.Time // the clock (nil = time.Now)

	// Usage counts the tokens issued for the usage history (package usage); nil counts nothing.
	Usage *usage.Counter
	// History reads the usage history for the management API's /stats routes; nil leaves them out.
	History manage.History
}

// AppAuthDeps are the app authorization surfaces' dependencies; a nil Service leaves them out.
type AppAuthDeps struct {
	Service *appauth.Service
	// CSRFKey keys the form tokens of the consent and list pages: keys.Derive(master, keys.PurposeCSRF).
	CSRFKey []byte
	// CSRFKeys, when set, replaces CSRFKey: the first key makes form tokens, every key is accepted, so that a
	// form made on a node before a server key rotation is still taken by one after it.
	CSRFKeys func() [][]byte
}

// ManageDeps are the management API's dependencies beyond Admin and License.
type ManageDeps struct {
	Admin   *admin.Service
	Keyring *token.Keyring // nil leaves POST /admin/v1/token-keys (rotation) out
}

// Probe is what the health and metrics endpoints read from storage.
type Probe interface {
	Ping(ctx context.Context) error
	storage.Stats
}

// SignLimits bound the signed licenses answered: a signature costs an RSA private-key operation.
type (
	SignLimits = signlimit.Limits
	SignLimit  = signlimit.Limit
)

// The default signing limits: a busy app's whole user base behind one token, and one office behind one address.
var (
	DefaultSignLimitToken   = signlimit.DefaultToken
	DefaultSignLimitAddress = signlimit.DefaultAddress
)

// DefaultMaxBodyMemory is Config.MaxBodyMemory's default: 32 bodies of the largest default size at once.
const DefaultMaxBodyMemory = 32 << 20

// Server is the HTTP handler for every surface.
type Server struct {
	cfg      Config
	deps     Deps
	clients  clienthost.Resolver
	sessions *dbstore.Store
	metrics  *metrics
	bodies   bodyBudget
	mux      *http.ServeMux
	handler  http.Handler // mux behind CORS, behind gzip (compression.go)
	signIn   *signin.Guard
	env      *surface.Env // what the surfaces share with the server
	// soapUsers authenticates the SOAP services' callers.
	soapUsers soapwire.Users

	signLimits *signlimit.Limiter
	manage     *manage.API // the management API, whose authentication the admin routes here share
}

// New builds the handler. It panics on a configuration that cannot be served safely (a CORS origin that is
// not an exact origin); callers validate user input first with ParseOrigins.
func New(cfg Config, deps Deps) *Server {
	if cfg.Realm == "" {
		cfg.Realm = "tokenmanager"
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.MaxBodyMemory <= 0 {
		cfg.MaxBodyMemory = DefaultMaxBodyMemory
	}
	cfg.MaxBodyMemory = max(cfg.MaxBodyMemory, cfg.MaxBodyBytes)
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	deps.Log = slog.New(requestIDHandler{deps.Log.Handler()})
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if cfg.CookieSameSite == 0 || cfg.CookieSameSite == http.SameSiteDefaultMode {
		cfg.CookieSameSite = http.SameSiteLaxMode
	}
	s := &Server{cfg: cfg, deps: deps, clients: clienthost.Resolver{Trusted: cfg.TrustedProxies}, mux: http.NewServeMux(),
		bodies: newBodyBudget(cfg.MaxBodyMemory)}
	s.signIn = signin.New(deps.Throttle, deps.Audit, deps.Log, deps.Now, s.clients.Host)
	s.env = &surface.Env{Log: deps.Log, Now: deps.Now, Audit: deps.Audit, Clients: s.clients, SignIn: s.signIn,
		Realm: cfg.Realm, MaxBodyBytes: cfg.MaxBodyBytes, Issued: s.recordIssue,
		LicensingCall: func(method, result string) { s.metrics.licensing.WithLabelValues(method, result).Inc() }}
	s.soapUsers = soapwire.Users{Env: s.env, Auth: deps.Auth, Digest: deps.Digest}
	limits := SignLimits{Token: DefaultSignLimitToken, Address: DefaultSignLimitAddress}
	if cfg.SignLimits != nil {
		limits = *cfg.SignLimits
	}
	s.signLimits = signlimit.New(limits, deps.Log)
	s.sessions = dbstore.New(deps.Sessions, sessions.Options{
		Path:     "/",
		HttpOnly: true,
		SameSite: cfg.CookieSameSite,
		Secure:   cfg.SecureCookies || cfg.CookieSameSite == http.SameSiteNoneMode,
		// A cross-site cookie is a third-party cookie to the browser, which many block unless it is
		// partitioned by the top-level site (CHIPS): the app's page then keeps its own SESSION jar.
		Partitioned: cfg.CookieSameSite == http.SameSiteNoneMode,
	}, s.clients.Host)
	cors, err := newCORS(cfg.CORSOrigins)
	if err != nil {
		panic("server.New: " + err.Error())
	}
	s.handler = gzipAnswers(cors.wrap(s.mux, browserAPI))
	var live *liveCounter
	if deps.Probe != nil {
		live = &liveCounter{stats: deps.Probe, idle: deps.Sessions.Config().IdleTimeout, now: deps.Now, every: liveCountInterval}
		live.grants, _ = deps.Probe.(grantCounter)
	}
	s.metrics = newMetrics(live, deps.Audit)
	s.routeSpectrumSOAP()
	s.routeSpectrumREST()
	for _, sf := range s.licensingSurfaces() {
		sf.Mount(s.mux)
	}
	s.routePowerAuth()
	s.routeOAuth()
	s.routeForwardAuth()
	md := manage.Deps{Users: deps.Admin, Auth: deps.Auth, Admin: deps.Manage.Admin, License: deps.License,
		Keyring: deps.Manage.Keyring, Audit: deps.Admin, PowerAuth: deps.PowerAuth}
	md.Woo, md.Clients = deps.Woo, deps.OAuth.Clients
	if deps.Tokens != nil {
		md.VerifyToken = s.verifyAdminToken
	}
	// The web console: its session cookie is a credential of the management API too.
	var consoleCookie *pagesession.Cookie
	if deps.Admin != nil && deps.Sessions != nil && deps.Auth != nil {
		consoleCookie = console.NewCookie(s.env, deps.Sessions, deps.Tokens == nil || deps.Tokens.CheckHost(), cfg.SecureCookies)
		md.Console = consoleCookie
	}
	md.History = deps.History
	if deps.History != nil && deps.Usage != nil {
		md.History = currentHistory{deps.History, deps.Usage.Current(deps.History)} // this node's latest counts too
	}
	if live != nil {
		md.Live = live.counts
	}
	s.manage = manage.New(s.env, md)
	if deps.Admin != nil {
		s.manage.Mount(s.mux)
	}
	if consoleCookie != nil {
		console.New(s.env, console.Deps{Auth: deps.Auth, Users: deps.Admin, License: deps.License, Cookie: consoleCookie}).Mount(s.mux)
	}
	s.routeAdmin()
	s.routeAppAuthAdmin()
	s.routeAdminDialects()
	s.routeOperations()
	s.routeOpenAPI()
	return s
}

// AdminRoutes returns every route of the management API, as "METHOD /admin/v1/path/{param}": what its
// OpenAPI document must describe.
func (s *Server) AdminRoutes() []string { return s.manage.Routes() }

// licensingSurfaces are the wire dialects of the licensing core, each in a package of its own, that deps
// provide for.
func (s *Server) licensingSurfaces() []surface.Surface {
	var out []surface.Surface
	if s.deps.License != nil {
		out = append(out, cryptolens.New(s.env, cryptolens.Deps{License: s.deps.License, AppAuth: s.deps.AppAuth.Service,
			Auth: s.deps.Auth, SignLimits: s.signLimits}),
			licensesoap.New(s.env, s.soapUsers, s.deps.License, s.signLimits))
	}
	if s.deps.Woo != nil {
		out = append(out, woocommerce.New(s.env, s.deps.Woo))
	}
	if s.deps.AppAuth.Service != nil {
		out = append(out, consent.New(s.env, consent.Deps{AppAuth: s.deps.AppAuth.Service, CSRFKey: s.deps.AppAuth.CSRFKey,
			CSRFKeys: s.deps.AppAuth.CSRFKeys,
			Auth:     s.deps.Auth, Sessions: s.deps.Sessions, HostCheck: s.deps.Tokens == nil || s.deps.Tokens.CheckHost(),
			SecureCookies: s.cfg.SecureCookies,
			License:       s.deps.License}))
	}
	return out
}

// routeOperations serves what operators and orchestrators poll: liveness, readiness and metrics.
func (s *Server) routeOperations() {
	// Alive: the process answers. Never touches the database, so a database outage does not get us restarted.
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	// Ready: the database answers (and, since stores apply migrations when they open, its schema is current).
	s.mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if s.deps.Probe != nil {
			ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
			defer cancel()
			if err := s.deps.Probe.Ping(ctx); err != nil {
				s.deps.Log.WarnContext(r.Context(), "not ready", "err", err)
				w.WriteHeader(http.StatusServiceUnavailable)
				fmt.Fprintln(w, "database unavailable")
				return
			}
		}
		fmt.Fprintln(w, "ready")
	})
	if !s.cfg.MetricsElsewhere {
		s.mux.Handle("GET /metrics", s.metrics.handler())
	}
}

// MetricsHandler serves the Prometheus metrics, for a listener other than the service's (Config.MetricsElsewhere).
func (s *Server) MetricsHandler() http.Handler { return s.metrics.handler() }

// ServeHTTP adds a request id, panic recovery, metrics and access logging around the routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := requestID(r)
	w.Header().Set(HeaderRequestID, id)
	r = r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id))
	if rest, ok := strings.CutPrefix(r.URL.Path, "/api//"); ok {
		// Cryptolens' Python client builds some URLs as base + "/api/" + "/key/...". ServeMux would answer 301
		// to the cleaned path, which a POST does not survive; serve the intended method instead.
		r.URL.Path, r.URL.RawPath = "/api/"+strings.TrimLeft(rest, "/"), ""
	}
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			// The stack goes to the log for us; the client gets a bare 500.
			s.deps.Log.ErrorContext(r.Context(), "panic serving request", "path", loggedPath(r), "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			if !rec.wrote {
				http.Error(rec, "internal server error", http.StatusInternalServerError)
			}
		}
		s.metrics.observe(r, rec.status, time.Since(start))
		if s.deps.Log.Enabled(r.Context(), slog.LevelDebug) {
			// Never the query string or headers: they can carry credentials.
			s.deps.Log.DebugContext(r.Context(), "request", "method", r.Method, "path", loggedPath(r), "status", rec.status,
				"duration", time.Since(start), "client", s.clients.Host(r))
		}
	}()
	if r.Body != nil && r.Body != http.NoBody {
		if !s.decodeBody(rec, r) {
			return
		}
		// The budget counts what handlers read: decoded bytes.
		body, ok := s.limitBody(rec, r)
		defer body.release()
		if !ok {
			return
		}
	}
	s.handler.ServeHTTP(rec, r)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
	done   bool // the answer has been given (a 503 for a refused body); what the handler writes is dropped
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.done {
		return
	}
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.done {
		return len(b), nil
	}
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// loggedPath is the request's path for the log: the route's pattern instead where the path carries a license
// key, a customer's secret (the management API's /products/{id}/keys/{key}).
func loggedPath(r *http.Request) string {
	if strings.Contains(r.Pattern, "{key}") {
		return r.Pattern
	}
	return r.URL.Path
}
