// Package consent serves the user's pages of app authorization, server-rendered, usable without JavaScript:
//
//   - /User/AuthorizeApp/?AuthorizationToken=…&PublicKey=…&Scope=…&VendorAppName=…&Expires=…&TokenId=…&MachineCode=…
//     &DeviceName=…&Algorithm=RSA_2048, the consent page the vendor's app opens in the user's browser
//     (Cryptolens' path and parameters): sign in, see the app, what it may do, the device and for how long,
//     and allow or deny.
//   - /User/AuthorizedApps/: the signed-in user's authorized apps and registered devices, each revocable.
//   - /account/: the licenses of the customer records linked to the signed-in user, with their machines, which
//     the customer may free where the vendor allows it (account.go). It and /User/AuthorizedApps/ share a
//     navigation and the page sign-in.
//
// Signing in uses the session layer, with a page-session cookie of its own (pagesession.go). Every form is a
// POST to the page itself with a CSRF token (csrf.go); each POST is answered with a page or a 303 to the page
// (no resubmission). The app's side of the flow, auth/GetToken, is package cryptolens's.
package consent

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tokenmanager/tokenmanager/appauth"
	"github.com/tokenmanager/tokenmanager/auth"
	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/server/cryptolens"
	"github.com/tokenmanager/tokenmanager/server/internal/reply"
	"github.com/tokenmanager/tokenmanager/server/internal/surface"
	"github.com/tokenmanager/tokenmanager/session"
	"github.com/tokenmanager/tokenmanager/storage"
)

//go:embed pages/appauth.html pages/account.html pages/style.css
var pageFiles embed.FS

var appAuthPages = template.Must(template.New("").ParseFS(pageFiles, "pages/appauth.html", "pages/account.html"))

const (
	pathAuthorizeApp   = "/User/AuthorizeApp/"
	pathAuthorizedApps = "/User/AuthorizedApps/"
	// maxFormBytes bounds a page's POST body: a sign-in or a button.
	maxFormBytes = 8 << 10
)

// Deps are what the pages need.
type Deps struct {
	AppAuth *appauth.Service
	// CSRFKey keys the form tokens of the consent and list pages: keys.Derive(master, keys.PurposeCSRF).
	CSRFKey []byte
	// CSRFKeys, when set, replaces CSRFKey: the first key makes form tokens, every key is accepted, so that a
	// form made on a node before a server key rotation is still taken by one after it.
	CSRFKeys func() [][]byte
	Auth     *auth.Authenticator // the sign-in form's passwords
	Sessions *session.Manager    // page sessions
	// HostCheck binds a page session to the client host that signed in (--host-check).
	HostCheck bool
	// SecureCookies adds Secure to the pages' cookies even on plain HTTP (--secure-cookies).
	SecureCookies bool
	// License is the licensing core of the customer's own pages under /account/ (account.go); nil leaves
	// them out.
	License *license.Service
}

// Pages are the consent page, the authorized-apps page and the customer's account pages.
type Pages struct {
	Deps
	env *surface.Env
}

// New returns the pages over deps.
func New(env *surface.Env, deps Deps) *Pages { return &Pages{Deps: deps, env: env} }

// Mount adds the pages under /User/.
func (pg *Pages) Mount(mux *http.ServeMux) {
	for _, p := range []string{pathAuthorizeApp + "{$}", strings.TrimSuffix(pathAuthorizeApp, "/")} {
		mux.HandleFunc("GET "+p, pg.authorizeAppPage)
		mux.HandleFunc("POST "+p, pg.authorizeAppPage)
	}
	for _, p := range []string{pathAuthorizedApps + "{$}", strings.TrimSuffix(pathAuthorizedApps, "/")} {
		mux.HandleFunc("GET "+p, pg.authorizedAppsPage)
		mux.HandleFunc("POST "+p, pg.authorizedAppsPage)
	}
	// The customer's account pages (account.go) and the pages' stylesheet.
	mux.HandleFunc("GET "+pathStyle, pg.stylesheet)
	if pg.License != nil {
		for _, p := range []string{pathAccount + "{$}", strings.TrimSuffix(pathAccount, "/")} {
			mux.HandleFunc("GET "+p, pg.accountPage)
			mux.HandleFunc("POST "+p, pg.accountPage)
		}
	}
}

// pageData is what the template renders.
type pageData struct {
	Title, View string
	User, CSRF  string
	Username    string // to refill the sign-in form
	Error       string
	Problems    []string
	Consent     *consentView
	Outcome     string // approved or denied
	Message     string
	Apps        []appView
	Devices     []deviceView
	// The account pages (account.go): Nav names the page of the account navigation shown ("" for none).
	Nav      string
	Licenses []licenseView
	More     bool
}

type consentView struct {
	AppName, Vendor, TokenName, Product string
	DeviceName, MachineCode             string
	Permissions, Withheld, Unsupported  []string
	UserLogin                           bool
	Days, AskedDays                     int
	ExpiresAt                           string
	Capped                              bool
	Customers                           []string
	Refusal                             string
}

type appView struct {
	ID                                       int64
	AppName, Vendor, DeviceName, MachineCode string
	Permissions                              []string
	Since, Until, State                      string
	Revocable                                bool
}

type deviceView struct {
	storage.AppDevice
	Since string
}

// permissionText says in words what a method lets an app do.
var permissionText = map[license.Method]string{
	license.MethodGetLicenseKeys: "see your license keys and the devices you authorized",
	license.MethodActivate:       "activate license keys on machines",
	license.MethodDeactivate:     "deactivate machines",
	license.MethodGetKey:         "read license keys",
	license.MethodCreateKey:      "create license keys",
	license.MethodCreateTrialKey: "create trial keys",
	license.MethodBlockKey:       "block license keys",
	license.MethodUnblockKey:     "unblock license keys",
	license.MethodExtendLicense:  "extend licenses",
	license.MethodAddCustomer:    "add customers",
	license.MethodGetToken:       "authorize other apps",
}

func day(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2 Jan 2006 15:04 UTC")
}

// pageCSP allows the pages nothing but their own stylesheet (pages/style.css) and forms posted to this
// origin: no script, no inline style, no frame.
const pageCSP = "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// render writes a page with the headers every page gets: no caching, no framing (a consent page in a
// hostile frame could be clicked through), no referrer (the URL carries the request), a strict CSP.
func (pg *Pages) render(w http.ResponseWriter, status int, d pageData) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", pageCSP)
	w.WriteHeader(status)
	if err := appAuthPages.ExecuteTemplate(w, "page", d); err != nil {
		pg.env.Log.Error("render page", "err", err)
	}
}

// pageUser is the signed-in user of a page request and the CSRF binding of their page session; empty without
// a live page session from this host (pagesession.go). The API's SESSION cookie does not sign in here.
func (pg *Pages) pageUser(r *http.Request) (user, binding string) {
	user, id := pg.pageSession(r)
	if user == "" {
		return "", ""
	}
	return user, sessionBinding(id)
}

// pageForm reads a page's POST body, bounded; false if it answered (413).
func (pg *Pages) pageForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		pg.render(w, http.StatusRequestEntityTooLarge, pageData{Title: "Request too large", Error: "The form was too large."})
		return false
	}
	return true
}

const msgStaleForm = "This form has expired or did not come from this page. Reload the page and try again."

// pagePost does what every POST to a signed-in page does before the page's own actions, in this order: it reads
// the form, signs in (action=signin), refuses a request without a session and a form whose CSRF token does not
// match the session (show renders the page's own view with the error), and signs out. ok is false when it has
// answered; otherwise action is the page's to handle, for the user d names.
func (pg *Pages) pagePost(w http.ResponseWriter, r *http.Request, d pageData, binding string, show func(pageData, int)) (action string, ok bool) {
	if !pg.pageForm(w, r) {
		return "", false
	}
	action = r.PostForm.Get("action")
	switch {
	case action == "signin":
		pg.pageSignIn(w, r, d)
	case d.User == "":
		d.View, d.Error, d.CSRF = "signin", "Sign in first.", pg.csrf().token(pg.preSession(w, r))
		pg.render(w, http.StatusUnauthorized, d)
	case !pg.csrf().valid(binding, r.PostForm.Get("csrf")):
		d.Error = msgStaleForm
		show(d, http.StatusForbidden)
	case action == "signout":
		pg.pageSignOut(w, r)
	default:
		return action, true
	}
	return "", false
}

// signInForm answers a signed-in page asked for without a session: the sign-in form, with a pre-session's token.
func (pg *Pages) signInForm(w http.ResponseWriter, r *http.Request, d pageData) {
	d.View, d.CSRF = "signin", pg.csrf().token(pg.preSession(w, r))
	pg.render(w, http.StatusOK, d)
}

// pageSignIn handles a sign-in form (action=signin) posted to page: on success the browser gets its session
// and is sent back to the page; otherwise the form is shown again with the reason.
func (pg *Pages) pageSignIn(w http.ResponseWriter, r *http.Request, d pageData) {
	csrf := pg.csrf()
	binding := presentedPreSession(r)
	name, pass := r.PostForm.Get("username"), r.PostForm.Get("password")
	d.View, d.Username = "signin", name
	if !csrf.valid(binding, r.PostForm.Get("csrf")) {
		d.Error, d.CSRF = msgStaleForm, csrf.token(pg.preSession(w, r))
		pg.render(w, http.StatusForbidden, d)
		return
	}
	d.CSRF = csrf.token(binding)
	if name == "" || pass == "" || len(name) > 256 || len(pass) > 1024 {
		d.Error = "Enter your user name and password."
		pg.render(w, http.StatusBadRequest, d)
		return
	}
	u, err := pg.env.SignIn.Authenticate(r, name, func() (storage.User, error) { return pg.Auth.Authenticate(r.Context(), name, pass) })
	var throttled *auth.ThrottledError
	switch {
	case errors.Is(err, auth.ErrBadCredentials):
		d.Error = "Wrong user name or password."
		pg.render(w, http.StatusUnauthorized, d)
		return
	case errors.As(err, &throttled):
		reply.RetryAfter(w.Header(), throttled.RetryAfter)
		d.Error = fmt.Sprintf("Too many failed sign-ins. Try again in %s.", throttled.RetryAfter.Round(time.Second))
		pg.render(w, http.StatusTooManyRequests, d)
		return
	case err != nil:
		pg.pageError(w, r, err)
		return
	}
	if err := pg.pageLogin(w, r, u.Name); err != nil {
		pg.pageError(w, r, err)
		return
	}
	http.Redirect(w, r, r.URL.RequestURI(), http.StatusSeeOther)
}

// pageSignOut ends the page session and sends the browser back.
func (pg *Pages) pageSignOut(w http.ResponseWriter, r *http.Request) {
	if err := pg.pageLogout(w, r); err != nil {
		pg.pageError(w, r, err)
		return
	}
	http.Redirect(w, r, r.URL.RequestURI(), http.StatusSeeOther)
}

func (pg *Pages) csrf() csrfGuard {
	if pg.CSRFKeys != nil {
		ks := pg.CSRFKeys()
		return csrfGuard{key: ks[0], others: ks[1:]}
	}
	return csrfGuard{key: pg.CSRFKey}
}

func (pg *Pages) pageError(w http.ResponseWriter, r *http.Request, err error) {
	if status := pg.env.Failure(r.Context(), w.Header(), err); status == http.StatusServiceUnavailable {
		pg.render(w, status, pageData{Title: "Temporarily unavailable", Error: "The service is temporarily unavailable. Try again in a moment."})
		return
	}
	pg.render(w, http.StatusInternalServerError, pageData{Title: "Something went wrong", Error: "Something went wrong on our side. Try again later."})
}

// reason is the part of an error a user should read: the detail after the sentinel's own words.
func reason(err, sentinel error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, sentinel.Error()+": "); i >= 0 {
		msg = msg[i+len(sentinel.Error())+2:]
	}
	if msg == "" {
		return msg
	}
	return strings.ToUpper(msg[:1]) + msg[1:] + "."
}

func (pg *Pages) authorizeAppPage(w http.ResponseWriter, r *http.Request) {
	svc, ctx := pg.AppAuth, r.Context()
	d := pageData{Title: "Authorize an app"}
	if len(r.URL.RawQuery) > 6*appauth.MaxParamLen {
		d.Error = "The link the app opened is too long to be an authorization request."
		pg.render(w, http.StatusBadRequest, d)
		return
	}
	params, err := cryptolens.ParseParams(r.URL.RawQuery)
	if err != nil {
		d.Error = "The link the app opened is malformed; nothing was authorized."
		pg.render(w, http.StatusBadRequest, d)
		return
	}
	req, err := appauth.ParseRequest(params)
	if bad := (*appauth.BadRequestError)(nil); errors.As(err, &bad) {
		d.Problems = bad.Problems
		pg.render(w, http.StatusBadRequest, d)
		return
	}
	user, binding := pg.pageUser(r)
	d.User, d.CSRF = user, pg.csrf().token(binding)
	c, err := svc.Consent(ctx, req, user)
	switch {
	case errors.Is(err, appauth.ErrParent):
		d.Error = fmt.Sprintf("This app cannot ask for authorization: the token it names (TokenId %d) is unknown, revoked or expired, or may not authorize apps. Tell the app's vendor.", req.TokenID)
		pg.render(w, http.StatusBadRequest, d)
		return
	case errors.Is(err, license.ErrInvalidInput):
		d.Error = "This app's request cannot be granted: " + reason(err, license.ErrInvalidInput)
		pg.render(w, http.StatusBadRequest, d)
		return
	case errors.Is(err, license.ErrProductNotFound):
		d.Error = "This app's request names a product its vendor does not have."
		pg.render(w, http.StatusBadRequest, d)
		return
	case err != nil:
		pg.pageError(w, r, err)
		return
	}
	d.Consent = pg.consentView(c)

	if r.Method == http.MethodPost {
		if !pg.pageForm(w, r) {
			return
		}
		switch action := r.PostForm.Get("action"); {
		case action == "signin":
			pg.pageSignIn(w, r, d)
			return
		case user == "":
			d.View, d.Error, d.CSRF = "signin", "Sign in first.", pg.csrf().token(pg.preSession(w, r))
			pg.render(w, http.StatusUnauthorized, d)
			return
		case !pg.csrf().valid(binding, r.PostForm.Get("csrf")):
			d.View, d.Error = "consent", msgStaleForm
			pg.render(w, http.StatusForbidden, d)
			return
		case action == "signout":
			pg.pageSignOut(w, r)
			return
		case action == "approve" || action == "deny":
			pg.decide(w, r, d, req, user, action == "approve")
			return
		default:
			d.View, d.Error = "consent", "Choose Allow or Deny."
			pg.render(w, http.StatusBadRequest, d)
			return
		}
	}

	switch {
	case c.Decided != nil:
		d.View, d.Outcome = "outcome", string(c.Decided.State)
		d.Message = fmt.Sprintf("This request was already %s on %s; it cannot be decided again. If the app still needs access, let it ask again.",
			c.Decided.State, day(c.Decided.DecidedAt))
		pg.render(w, http.StatusConflict, d)
	case user == "":
		d.View, d.CSRF = "signin", pg.csrf().token(pg.preSession(w, r))
		pg.render(w, http.StatusOK, d)
	default:
		d.View = "consent"
		pg.render(w, http.StatusOK, d)
	}
}

// decide records the user's choice and shows the outcome.
func (pg *Pages) decide(w http.ResponseWriter, r *http.Request, d pageData, req appauth.Request, user string, approve bool) {
	svc := pg.AppAuth
	var a storage.AppAuthorization
	var err error
	action := "appauth.deny"
	if approve {
		action = "appauth.approve"
		a, err = svc.Approve(r.Context(), req, user)
	} else {
		a, err = svc.Deny(r.Context(), req, user)
	}
	outcome := "ok"
	if err != nil {
		outcome = "refused: " + err.Error()
	}
	pg.env.Audit.Record(storage.AuditEvent{Action: action, Outcome: outcome, Actor: user, Subject: user, ClientHost: pg.env.Clients.Host(r),
		Detail: fmt.Sprintf("authorization=%d vendor=%s parent_token=%d app=%q machine=%q", a.ID, d.Consent.Vendor, req.TokenID, req.AppName, req.MachineCode)})
	d.View = "consent"
	switch {
	case errors.Is(err, appauth.ErrDecided):
		d.View, d.Message = "outcome", "This request was already decided; it cannot be decided again."
		pg.render(w, http.StatusConflict, d)
	case errors.Is(err, appauth.ErrDeviceLimit):
		d.Consent.Refusal = "This device cannot be added: your customer account has reached its device limit. Remove a device you no longer use on your authorized apps page, then reload this page."
		pg.render(w, http.StatusConflict, d)
	case errors.Is(err, appauth.ErrNoCustomer):
		d.Consent.Refusal = "Your account is not linked to a customer account at " + d.Consent.Vendor + ", so this app cannot find your licenses. Ask " + d.Consent.Vendor + " to link it."
		pg.render(w, http.StatusForbidden, d)
	case errors.Is(err, appauth.ErrParent), errors.Is(err, license.ErrInvalidInput), errors.Is(err, license.ErrProductNotFound):
		d.Error = "This request cannot be granted any more; nothing was authorized."
		pg.render(w, http.StatusBadRequest, d)
	case err != nil:
		pg.pageError(w, r, err)
	case approve:
		d.View, d.Outcome = "outcome", "approved"
		d.Message = fmt.Sprintf("Allowed. %s receives its access within a minute; you can close this page.", req.AppName)
		pg.render(w, http.StatusOK, d)
	default:
		d.View, d.Outcome = "outcome", "denied"
		d.Message = fmt.Sprintf("Denied. %s gets no access.", req.AppName)
		pg.render(w, http.StatusOK, d)
	}
}

func (pg *Pages) consentView(c appauth.Consent) *consentView {
	v := &consentView{AppName: c.Request.AppName, Vendor: c.Parent.Vendor, TokenName: c.Parent.Name, DeviceName: c.Request.DeviceName,
		MachineCode: c.Request.MachineCode, UserLogin: c.Request.UserLogin(), Capped: c.Grant.Capped, AskedDays: c.Request.Days,
		Days: int(c.Grant.Lifetime.Round(time.Hour) / (24 * time.Hour)), ExpiresAt: day(c.ExpiresAt), Unsupported: c.Request.Scope.Unsupported}
	if c.Product != nil {
		v.Product = c.Product.Name
	}
	for _, m := range c.Grant.Methods {
		v.Permissions = append(v.Permissions, permissionText[m])
	}
	for _, m := range c.Grant.Withheld {
		v.Withheld = append(v.Withheld, permissionText[m])
	}
	for _, cu := range c.Customers {
		n := cu.Name
		switch {
		case cu.MaxNoOfDevices == 1:
			n += " (at most 1 device)"
		case cu.MaxNoOfDevices > 1:
			n += fmt.Sprintf(" (at most %d devices)", cu.MaxNoOfDevices)
		}
		v.Customers = append(v.Customers, n)
	}
	switch {
	case errors.Is(c.Refusal, appauth.ErrNoCustomer):
		v.Refusal = "Your account is not linked to a customer account at " + v.Vendor + ", so this app cannot find your licenses. Ask " + v.Vendor + " to link it."
	case errors.Is(c.Refusal, appauth.ErrDeviceLimit):
		v.Refusal = "This device cannot be added: " + reason(c.Refusal, appauth.ErrDeviceLimit) + " Remove a device you no longer use on your authorized apps page, then reload this page."
	case c.Refusal != nil:
		v.Refusal = "This request cannot be approved now."
	}
	return v
}

func (pg *Pages) authorizedAppsPage(w http.ResponseWriter, r *http.Request) {
	svc, ctx := pg.AppAuth, r.Context()
	d := pageData{Title: "Your authorized apps", Nav: "apps"}
	user, binding := pg.pageUser(r)
	d.User, d.CSRF = user, pg.csrf().token(binding)
	show := func(d pageData, status int) { pg.renderApps(w, r, d, status) }
	if r.Method == http.MethodPost {
		action, ok := pg.pagePost(w, r, d, binding, show)
		if !ok {
			return
		}
		switch action {
		case "revoke":
			id, _ := strconv.ParseInt(r.PostForm.Get("id"), 10, 64)
			a, err := svc.Revoke(ctx, id, user)
			if errors.Is(err, appauth.ErrNotFound) {
				d.Error = "No such authorization of yours."
				pg.renderApps(w, r, d, http.StatusNotFound)
				return
			}
			if err != nil {
				pg.pageError(w, r, err)
				return
			}
			pg.env.Audit.Record(storage.AuditEvent{Action: "appauth.revoke", Outcome: "ok", Actor: user, Subject: user, ClientHost: pg.env.Clients.Host(r),
				Detail: fmt.Sprintf("authorization=%d api_token=%d app=%q", a.ID, a.ChildTokenID, a.AppName)})
		case "remove-device":
			customer, _ := strconv.ParseInt(r.PostForm.Get("customer"), 10, 64)
			machine := r.PostForm.Get("machine")
			n, err := svc.RemoveDevice(ctx, customer, machine, user)
			if errors.Is(err, appauth.ErrNotFound) {
				d.Error = "No such device of yours."
				pg.renderApps(w, r, d, http.StatusNotFound)
				return
			}
			if err != nil {
				pg.pageError(w, r, err)
				return
			}
			pg.env.Audit.Record(storage.AuditEvent{Action: "appauth.device.remove", Outcome: "ok", Actor: user, Subject: user,
				ClientHost: pg.env.Clients.Host(r), Detail: fmt.Sprintf("customer=%d machine=%q authorizations_revoked=%d", customer, machine, n)})
		default:
			d.Error = "Unknown action."
			show(d, http.StatusBadRequest)
			return
		}
		http.Redirect(w, r, pathAuthorizedApps, http.StatusSeeOther)
		return
	}
	if user == "" {
		pg.signInForm(w, r, d)
		return
	}
	pg.renderApps(w, r, d, http.StatusOK)
}

func (pg *Pages) renderApps(w http.ResponseWriter, r *http.Request, d pageData, status int) {
	svc, ctx := pg.AppAuth, r.Context()
	list, err := svc.List(ctx, storage.AppAuthorizationFilter{User: d.User, Limit: 200})
	if err != nil {
		pg.pageError(w, r, err)
		return
	}
	devs, err := svc.Devices(ctx, d.User)
	if err != nil {
		pg.pageError(w, r, err)
		return
	}
	d.View = "apps"
	for _, a := range list {
		v := appView{ID: a.ID, AppName: a.AppName, Vendor: a.Vendor, DeviceName: a.DeviceName, MachineCode: a.MachineCode,
			Since: day(a.DecidedAt), State: svc.State(a)}
		for _, p := range a.Permissions {
			v.Permissions = append(v.Permissions, permissionText[license.Method(p)])
		}
		if a.ChildTokenID != 0 {
			v.Until = day(a.TokenExpiresAt)
		}
		v.Revocable = v.State == "active" || v.State == "waiting for the app"
		d.Apps = append(d.Apps, v)
	}
	for _, dev := range devs {
		d.Devices = append(d.Devices, deviceView{AppDevice: dev, Since: day(dev.RegisteredAt)})
	}
	pg.render(w, status, d)
}
