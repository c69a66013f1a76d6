// Package manage is the management API under /admin/v1: JSON in and out, RFC 9457 problem details for every
// error, 201 with Location on create, ETag and If-Match on edits, cursor paging, and the OpenAPI document at
// /admin/v1/openapi.json. The operator (a user with the admin flag) reaches everything; a vendor account (a
// user who owns a vendor) reaches only its own vendor's objects, and is answered 404 for anyone else's, as if
// they did not exist. Every operation calls the same core method as the command line (packages admin and
// license).
package manage

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/tokenmanager/tokenmanager/admin"
	"github.com/tokenmanager/tokenmanager/apiclient"
	"github.com/tokenmanager/tokenmanager/auth"
	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/license/woo"
	"github.com/tokenmanager/tokenmanager/powerauth"
	"github.com/tokenmanager/tokenmanager/server/internal/credential"
	"github.com/tokenmanager/tokenmanager/server/internal/pagesession"
	"github.com/tokenmanager/tokenmanager/server/internal/reply"
	"github.com/tokenmanager/tokenmanager/server/internal/surface"
	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/token"
)

// Path is the API's root.
const Path = "/admin/v1"

// Deps are the cores the API calls.
type Deps struct {
	// Users reads accounts for authentication and roles.
	Users interface {
		GetUser(ctx context.Context, name string) (storage.User, error)
	}
	Auth *auth.Authenticator
	// VerifyToken checks a Spectrum token presented on the request and returns its user; token.ErrInvalid
	// (wrapped) when it is refused. Nil accepts no Spectrum tokens.
	VerifyToken func(r *http.Request) (string, error)
	// Admin is the core of users, admin API tokens and token keys; nil leaves their routes out and accepts no
	// admin API tokens.
	Admin *admin.Service
	// License is the licensing core (vendors, products); nil leaves those routes out.
	License *license.Service
	// Keyring is the token key ring rotated by POST /token-keys; nil leaves rotation out.
	Keyring *token.Keyring
	// PowerAuth is the core of the mobile SDK's applications and activation codes; nil leaves their routes out.
	PowerAuth *powerauth.Service
	// Audit lists the audit log; nil leaves GET /audit out.
	Audit interface {
		ListAudit(ctx context.Context, f storage.AuditFilter) ([]storage.AuditEvent, error)
	}

	// Woo is the core of WooCommerce License Keys stores and SKUs; nil (or a nil License) leaves their routes out.
	Woo *woo.Service
	// Clients is the core of API clients (OAuth 2.0 client credentials); nil leaves their routes out.
	Clients *apiclient.Service
	// Console is the web console's session cookie (package console), accepted as a credential: for GET as is,
	// for any other method only with the session's X-CSRF-Token. Nil accepts no console cookie.
	Console *pagesession.Cookie
	// History reads the usage history; nil leaves GET /stats and its charts out.
	History History
	// Live returns the live figures /metrics reports, counted at most once per interval however often it is
	// called; nil leaves them out of GET /stats.
	Live func() (LiveCounts, error)
}

// API is the management API surface.
type API struct {
	env    *surface.Env
	deps   Deps
	routes []string // every route mounted under Path, "METHOD /path", for the check against the document
}

// New builds the surface.
func New(env *surface.Env, deps Deps) *API { return &API{env: env, deps: deps} }

// principal is who calls, and what they reach.
type principal struct {
	user     string
	operator bool   // the admin flag: every object, unless vendor narrows it
	vendor   string // "" (operator only): every vendor; else only this vendor's objects
	readOnly bool
	tokenID  string // the admin API token used, if any
}

// actor names the principal in the audit log.
func (p principal) actor(r *http.Request, a *API) admin.Actor {
	act := admin.Actor{Name: p.user, Host: a.env.Clients.Host(r)}
	if p.tokenID != "" {
		act.Via = "admintoken=" + p.tokenID
	}
	return act
}

// access is the licensing authority of the principal.
func (p principal) access(ctx context.Context, l *license.Service) (*license.Access, error) {
	if p.vendor == "" {
		return license.Admin(), nil
	}
	return l.Vendor(ctx, p.vendor)
}

// sees reports whether the principal reaches vendor's objects.
func (p principal) sees(vendor string) bool { return p.vendor == "" || p.vendor == vendor }

// authenticate finds the principal of r, or answers the refusal and returns false: 401 without valid
// credentials, 403 for an account that is neither an administrator nor a vendor.
func (a *API) authenticate(w http.ResponseWriter, r *http.Request) (principal, bool) {
	var p principal
	var tokVendor string
	switch bearer := credential.BearerToken(r); {
	case bearer != "" && admin.IsToken(bearer) && a.deps.Admin != nil:
		t, err := a.deps.Admin.Authenticate(r.Context(), bearer)
		if errors.Is(err, admin.ErrBadToken) {
			w.Header().Set("WWW-Authenticate", a.env.BearerChallenge("invalid_token"))
			Problem(w, http.StatusUnauthorized, "invalid, expired or revoked admin API token")
			return p, false
		}
		if err != nil {
			a.failure(w, r, err)
			return p, false
		}
		p.user, p.readOnly, p.tokenID, tokVendor = t.User, t.ReadOnly, t.ID, t.Vendor
	default:
		if user, pass, ok := credential.Basic(r); ok && a.deps.Auth != nil {
			u, err := a.env.SignIn.Authenticate(r, user, func() (storage.User, error) { return a.deps.Auth.Authenticate(r.Context(), user, pass) })
			var throttled *auth.ThrottledError
			switch {
			case errors.Is(err, auth.ErrBadCredentials):
				a.basicChallenge(w, r)
				Problem(w, http.StatusUnauthorized, "invalid user name or password")
				return p, false
			case errors.As(err, &throttled):
				reply.RetryAfter(w.Header(), throttled.RetryAfter)
				Problem(w, http.StatusTooManyRequests, "too many failed sign-ins; retry later")
				return p, false
			case err != nil:
				a.failure(w, r, err)
				return p, false
			}
			p.user = u.Name
			break
		}
		if a.deps.Console != nil && r.Header.Get("Authorization") == "" { // credentials in the header come first
			if _, presented := a.deps.Console.Presented(r); presented {
				user, ok := a.consoleUser(w, r)
				if !ok {
					return p, false
				}
				p.user = user
				break
			}
		}
		if a.deps.VerifyToken == nil {
			a.basicChallenge(w, r)
			Problem(w, http.StatusUnauthorized, "credentials required")
			return p, false
		}
		user, err := a.deps.VerifyToken(r)
		if errors.Is(err, token.ErrInvalid) {
			code := "invalid_token"
			if bearer == "" {
				code = ""
			}
			w.Header().Set("WWW-Authenticate", a.env.BearerChallenge(code))
			Problem(w, http.StatusUnauthorized, "invalid token")
			return p, false
		}
		if err != nil {
			a.failure(w, r, err)
			return p, false
		}
		p.user = user
	}
	u, err := a.deps.Users.GetUser(r.Context(), p.user)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		a.failure(w, r, err)
		return p, false
	}
	if err != nil || u.Disabled {
		Problem(w, http.StatusForbidden, "the account is disabled or gone")
		return p, false
	}
	p.operator = u.Admin
	if !p.operator {
		// Not an administrator: a vendor account reaches its own vendor, anyone else nothing.
		if a.deps.License == nil {
			Problem(w, http.StatusForbidden, "forbidden: not an administrator")
			return p, false
		}
		if _, err := a.deps.License.Vendor(r.Context(), p.user); err != nil {
			if errors.Is(err, license.ErrNotVendor) {
				Problem(w, http.StatusForbidden, "forbidden: neither an administrator nor a vendor")
			} else {
				a.failure(w, r, err)
			}
			return p, false
		}
		p.vendor = p.user
	}
	if tokVendor != "" {
		if p.vendor != "" && p.vendor != tokVendor {
			Problem(w, http.StatusForbidden, "the token's vendor is no longer the account's")
			return p, false
		}
		p.vendor = tokVendor
	}
	if p.readOnly && r.Method != http.MethodGet && r.Method != http.MethodHead {
		Problem(w, http.StatusForbidden, "the admin API token is read-only")
		return p, false
	}
	return p, true
}

// Operator wraps h for routes only the operator reaches, with every vendor in sight: 403 for a vendor account
// or a token narrowed to one vendor. h gets the audit actor's name. The routes of the server package that
// predate this one (tokens, sessions, clients, PowerAuth, app authorizations) use it.
func (a *API) Operator(h func(w http.ResponseWriter, r *http.Request, actor string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, ok := a.authenticate(w, r)
		if !ok {
			return
		}
		if !p.operator || p.vendor != "" {
			Problem(w, http.StatusForbidden, "forbidden: not an administrator")
			return
		}
		h(w, r, p.user)
	}
}

// operator is Operator for this package's handlers, which get the whole principal.
func (a *API) operator(h func(w http.ResponseWriter, r *http.Request, p principal)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, ok := a.authenticate(w, r)
		if !ok {
			return
		}
		if !p.operator || p.vendor != "" {
			Problem(w, http.StatusForbidden, "forbidden: not an administrator")
			return
		}
		h(w, r, p)
	}
}

// anyone wraps h for routes both the operator and vendor accounts reach; h narrows to p's vendor.
func (a *API) anyone(h func(w http.ResponseWriter, r *http.Request, p principal)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if p, ok := a.authenticate(w, r); ok {
			h(w, r, p)
		}
	}
}

// failure answers an internal failure (500, or 503 while the database is unavailable) as a problem.
func (a *API) failure(w http.ResponseWriter, r *http.Request, err error) {
	status := a.env.Failure(r.Context(), w.Header(), err)
	Problem(w, status, "")
}

// Failure is failure for the server package's admin routes.
func (a *API) Failure(w http.ResponseWriter, r *http.Request, err error) { a.failure(w, r, err) }

// Mount adds the routes.
func (a *API) Mount(mux *http.ServeMux) {
	for _, rt := range a.table() {
		a.Handle(mux, rt.method+" "+rt.path, rt.h)
	}
}

// Handle mounts h on "METHOD /path" under Path, and remembers the route (Routes).
func (a *API) Handle(mux *http.ServeMux, pattern string, h http.HandlerFunc) {
	method, path, _ := strings.Cut(pattern, " ")
	mux.HandleFunc(method+" "+Path+path, h)
	a.routes = append(a.routes, method+" "+Path+path)
}

// Routes returns every route mounted under Path, as "METHOD /admin/v1/path/{param}".
func (a *API) Routes() []string { return slices.Clone(a.routes) }

type route struct {
	method, path string
	h            http.HandlerFunc
}

// table is every route of this package that deps provide for.
func (a *API) table() []route {
	rs := []route{
		{"GET", "/openapi.json", a.openAPI},
		{"GET", "/me", a.anyone(a.me)},
	}
	if a.deps.Admin != nil {
		rs = append(rs,
			route{"GET", "/users", a.operator(a.listUsers)},
			route{"POST", "/users", a.operator(a.createUser)},
			route{"GET", "/users/{name}", a.operator(a.getUser)},
			route{"PATCH", "/users/{name}", a.operator(a.patchUser)},
			route{"DELETE", "/users/{name}", a.operator(a.deleteUser)},
			route{"PUT", "/users/{name}/password", a.operator(a.setPassword)},
			route{"GET", "/admin-tokens", a.anyone(a.listAdminTokens)},
			route{"POST", "/admin-tokens", a.anyone(a.createAdminToken)},
			route{"GET", "/admin-tokens/{id}", a.anyone(a.getAdminToken)},
			route{"DELETE", "/admin-tokens/{id}", a.anyone(a.revokeAdminToken)},
			route{"GET", "/token-keys", a.operator(a.listTokenKeys)},
			route{"POST", "/token-keys/{id}/retire", a.operator(a.retireTokenKey)},
		)
		if a.deps.Keyring != nil {
			rs = append(rs, route{"POST", "/token-keys", a.operator(a.rotateTokenKey)})
		}
	}
	if a.deps.License != nil {
		rs = append(rs,
			route{"GET", "/vendors", a.anyone(a.listVendors)},
			route{"POST", "/vendors", a.operator(a.createVendor)},
			route{"GET", "/vendors/{name}", a.anyone(a.getVendor)},
			route{"GET", "/products", a.anyone(a.listProducts)},
			route{"POST", "/products", a.anyone(a.createProduct)},
			route{"GET", "/products/{id}", a.anyone(a.getProduct)},
			route{"PATCH", "/products/{id}", a.anyone(a.patchProduct)},
			route{"DELETE", "/products/{id}", a.anyone(a.deleteProduct)},
			route{"POST", "/products/{id}/rotate-key", a.anyone(a.rotateProductKey)},
			route{"GET", "/products/{id}/public-key", a.anyone(a.productPublicKey)},
		)
		// License keys of a product, and their activations.
		rs = append(rs,
			route{"GET", "/products/{id}/keys", a.anyone(a.listKeys)},
			route{"POST", "/products/{id}/keys", a.anyone(a.createKeys)},
			route{"GET", "/products/{id}/keys/{key}", a.anyone(a.getKey)},
			route{"PATCH", "/products/{id}/keys/{key}", a.anyone(a.patchKey)},
			route{"DELETE", "/products/{id}/keys/{key}", a.anyone(a.deleteKey)},
			route{"POST", "/products/{id}/keys/{key}/extend", a.anyone(a.extendKey)},
			route{"GET", "/products/{id}/keys/{key}/activations", a.anyone(a.listActivations)},
			route{"DELETE", "/products/{id}/keys/{key}/activations/{machine}", a.anyone(a.removeActivation)},
		)
		// Customers, and the licensing API tokens of vendors' apps.
		rs = append(rs, a.customerRoutes()...)
	}
	if a.deps.Audit != nil {
		rs = append(rs, route{"GET", "/audit", a.anyone(a.listAudit)})
	}
	// WooCommerce License Keys stores and their SKUs (vendor-owned).
	if a.deps.Woo != nil && a.deps.License != nil {
		rs = append(rs,
			route{"GET", "/woocommerce/stores", a.anyone(a.listWooStores)},
			route{"POST", "/woocommerce/stores", a.anyone(a.createWooStore)},
			route{"GET", "/woocommerce/stores/{id}", a.anyone(a.getWooStore)},
			route{"PATCH", "/woocommerce/stores/{id}", a.anyone(a.patchWooStore)},
			route{"DELETE", "/woocommerce/stores/{id}", a.anyone(a.deleteWooStore)},
			route{"GET", "/woocommerce/stores/{id}/skus", a.anyone(a.listWooSKUs)},
			route{"POST", "/woocommerce/stores/{id}/skus", a.anyone(a.createWooSKU)},
			route{"GET", "/woocommerce/stores/{id}/skus/{sku}", a.anyone(a.getWooSKU)},
			route{"DELETE", "/woocommerce/stores/{id}/skus/{sku}", a.anyone(a.deleteWooSKU)},
			// A new store code, made by the server: vendors may not choose codes (woocommerce.go).
			route{"POST", "/woocommerce/stores/{id}/code", a.anyone(a.newWooStoreCode)},
		)
	}
	// API clients (operator only).
	if a.deps.Clients != nil {
		rs = append(rs,
			route{"GET", "/clients", a.operator(a.listClients)},
			route{"POST", "/clients", a.operator(a.createClient)},
			route{"GET", "/clients/{id}", a.operator(a.getClient)},
			route{"PATCH", "/clients/{id}", a.operator(a.patchClient)},
			route{"DELETE", "/clients/{id}", a.operator(a.deleteClient)},
			route{"POST", "/clients/{id}/secret", a.operator(a.regenerateClientSecret)},
			route{"POST", "/clients/{id}/disable", a.operator(a.setClientDisabled(true))},
			route{"POST", "/clients/{id}/enable", a.operator(a.setClientDisabled(false))},
		)
	}
	if a.deps.History != nil {
		rs = append(rs,
			route{"GET", "/stats", a.anyone(a.stats)},
			route{"GET", "/stats/charts/{chart}", a.anyone(a.statsChart)},
		)
	}
	if a.deps.PowerAuth != nil {
		rs = append(rs,
			route{"GET", "/powerauth/apps", a.operator(a.listPowerAuthApps)},
			route{"POST", "/powerauth/apps", a.operator(a.createPowerAuthApp)},
			route{"GET", "/powerauth/apps/{id}", a.operator(a.getPowerAuthApp)},
			route{"POST", "/powerauth/activations/init", a.operator(a.initPowerAuthActivation)},
		)
	}
	return rs
}

type meView struct {
	User     string `json:"user"`
	Role     string `json:"role"` // operator or vendor
	Vendor   string `json:"vendor,omitempty"`
	ReadOnly bool   `json:"read_only"`
	TokenID  string `json:"token_id,omitempty"`
}

// me tells the caller who the API takes them for: scripts check their token's scope with it.
func (a *API) me(w http.ResponseWriter, r *http.Request, p principal) {
	role := "vendor"
	if p.operator {
		role = "operator"
	}
	writeJSON(w, http.StatusOK, meView{User: p.user, Role: role, Vendor: p.vendor, ReadOnly: p.readOnly, TokenID: p.tokenID})
}

// coreContext is the request's context for a licensing core call, which audits its own changes: they name the
// acting account, the client's address and the admin API token used, as record does.
func (a *API) coreContext(r *http.Request, p principal) context.Context {
	ctx := license.WithActor(license.WithClient(r.Context(), a.env.Clients.Host(r)), p.user)
	if p.tokenID != "" {
		ctx = license.WithAdminToken(ctx, p.tokenID)
	}
	return ctx
}

// record audits a change made through the API.
func (a *API) record(r *http.Request, p principal, action, subject, detail string) {
	if a.env.Audit == nil {
		return
	}
	if p.tokenID != "" {
		detail += " admintoken=" + p.tokenID
	}
	a.env.Audit.Record(storage.AuditEvent{Action: action, Outcome: "ok", Actor: p.user, Subject: subject,
		ClientHost: a.env.Clients.Host(r), Detail: detail})
}
